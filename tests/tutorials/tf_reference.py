"""Run one tutorial on TensorFlow itself (Keras 3 on TensorFlow) for the reference ranges.

``/path/to/tf-venv/bin/python -m tests.tutorials.tf_reference NAME [RUNS]`` converts tutorial
NAME as :mod:`tests.tutorials.run` does (the manifest's data stand-ins, and its shrink edits when
``$UNAFRAID_TUTORIAL_SHRINK`` is set) but leaves the imports on TensorFlow, runs it ``RUNS`` times
(default 3) in a fresh Python each, from a temporary folder, and prints the manifest metric of
each run and their range. The Python running this module must have TensorFlow (2.16 or later, so
that ``tf.keras`` is Keras 3) and the tutorials' other imports (pandas, matplotlib, seaborn,
scikit-learn for the iris stand-in). TensorFlow seeds nothing by default, so the runs differ in
initial weights and shuffling: their spread is the range ``reference`` records in the manifest.

The stand-ins download nothing: ``keras.datasets.mnist.load_data`` is replaced by unafraid's
loader of the same MNIST files (the header below), and ``tutorial_data`` builds its tf.data
stand-ins with TensorFlow (``TUTORIAL_DATA_TF=tensorflow``). The header also makes
``keras.utils.plot_model`` a no-op (it needs pydot and graphviz, and changes no number). Not part
of the test suite.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.tutorials import convert
from tests.tutorials.manifest import TUTORIALS

REPO = Path(__file__).resolve().parents[2]
HEADER = '''\
import keras as _keras  # TensorFlow reference: MNIST from local files (no download)
import tensorflow as _tf


def _mnist(path="mnist.npz"):
    import unafraid
    return unafraid.datasets.mnist.load_data()


_keras.datasets.mnist.load_data = _mnist
_tf.keras.datasets.mnist.load_data = _mnist
# plot_model needs pydot and the graphviz program, not installed here; it draws a picture and
# changes no number, so the reference runs skip it.
_keras.utils.plot_model = _tf.keras.utils.plot_model = lambda *args, **kwargs: None
'''


def script(name: str) -> str:
    """The TensorFlow version of tutorial NAME: imports unchanged, edits (and shrink) applied."""
    entry = next(t for t in TUTORIALS if t["name"] == name)
    saved = convert.IMPORTS[:]
    convert.IMPORTS[:] = []  # the imports stay on TensorFlow
    try:
        code = convert.convert(entry, convert.sources_root(),
                               bool(os.environ.get("UNAFRAID_TUTORIAL_SHRINK")))
    finally:
        convert.IMPORTS[:] = saved
    return HEADER + code


def run_once(name: str) -> tuple[int, str]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{name}.py"
        path.write_text(script(name), encoding="utf-8")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "tests" / "tutorials")]),
                   MPLBACKEND="Agg", TUTORIAL_DATA_DIR=str(Path(tmp) / "data"),
                   TUTORIAL_DATA_TF="tensorflow", TF_CPP_MIN_LOG_LEVEL="2",
                   UNAFRAID_DATA=os.environ.get("UNAFRAID_DATA", str(REPO.parent / "shared" / "data")))
        done = subprocess.run([sys.executable, str(path)], cwd=tmp, env=env, capture_output=True,
                              text=True, timeout=1800)
    out = (done.stdout + done.stderr).replace("\r", "\n")
    return done.returncode, re.sub(r"\x1b\[[0-9;]*m", "", out)  # without the progress bar's colours


def tf_pattern(pattern: str) -> str:
    """The manifest's metric pattern for Keras 3's own log lines, which end ``- loss: ...``.

    unafraid prints a result line as ``loss: L - accuracy: A``; Keras 3 prints
    ``accuracy: A - loss: L``, so a pattern anchored at the end of the line is unanchored here
    (the last match is still the last result line)."""
    return pattern[:-2] if pattern.endswith("\\n") else pattern


def main(name: str, runs: int) -> None:
    entry = next(t for t in TUTORIALS if t["name"] == name)
    values = []
    for i in range(runs):
        rc, out = run_once(name)
        found = re.findall(tf_pattern(entry["metric"][0]), out) if "metric" in entry else []
        losses = re.findall(entry["loss"][0], out) if "loss" in entry else []
        print(f"{name} run {i + 1}: exit {rc}, metric {found[-1] if found else None}, "
              f"loss {losses[-1] if losses else None}", flush=True)
        if rc != 0:
            print(out[-1500:], flush=True)
        if found:
            values.append(float(found[-1]))
    if values:
        print(f"{name}: TensorFlow range [{min(values)}, {max(values)}] over {len(values)} runs")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3)
