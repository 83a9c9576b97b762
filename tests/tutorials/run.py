"""Run the official TensorFlow / Keras tutorials of issue 16 on unafraid, imports changed only.

By hand, like a benchmark (the tutorials' code is not in this repository)::

    UNAFRAID_TUTORIAL_SOURCES=/path/to/checkouts python -m tests.tutorials.run [NAME ...]

Each tutorial is converted by ``tests/tutorials/convert.py`` and run in a fresh Python from a
temporary folder outside the repository, with a time limit (``UNAFRAID_TUTORIAL_LIMIT_S``, default
900 s). ``UNAFRAID_TUTORIAL_SHRINK=1`` applies the manifest's shrink edits (fewer epochs / steps).
Prints one line per tutorial and exits 1 when any result differs from what
docs/from_tensorflow.md records: a run that should finish and did not, a metric below its floor,
a metric outside the range TensorFlow gives on the same script (``reference`` in the manifest,
measured with ``tests/tutorials/tf_reference.py``; see :func:`reference_range` and
:func:`loss_range`) other than those in ``KNOWN_OUT_OF_RANGE``, or a tutorial in
``EXPECTED_TO_FAIL`` that stopped elsewhere or finished. Each tutorial runs in
the Python running this script, so ``/path/to/numpy1-venv/bin/python -m tests.tutorials.run``
checks the tutorials under NumPy 1.x (``own_callbacks`` finishes there, and stops at ``np.Inf``
under NumPy 2, as it does with Keras 3).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from tests.tutorials.convert import convert
from tests.tutorials.manifest import TUTORIALS

REPO = Path(__file__).resolve().parents[2]
STANDINS = REPO / "tests" / "tutorials"
# name -> the error each stops at today (docs/from_tensorflow.md says why). A fix makes the runner
# report it until the tutorial is moved out of this table, so the table stays the true status.
EXPECTED_TO_FAIL = {
    "custom_layers": "got multiple values for argument 'shape'",  # Keras 3 refuses it too
}
# The callbacks guide spells infinity `np.Inf`, which NumPy 2 removed: on NumPy 2 it stops there
# with any library (Keras 3 too); on NumPy 1.x (unafraid supports numpy>=1.24) it runs to the end.
# The tutorial runs in this same interpreter (sys.executable), so its NumPy decides.
NUMPY_2 = int(np.__version__.split(".")[0]) >= 2
if NUMPY_2:
    EXPECTED_TO_FAIL["own_callbacks"] = "np.Inf` was removed in the NumPy 2.0 release"
# name -> the figures known to fall outside TensorFlow's range (docs/from_tensorflow.md says why);
# as with EXPECTED_TO_FAIL, a change either way makes the runner report it.
KNOWN_OUT_OF_RANGE = {
    # unafraid's default seed ends at loss 4.41, below TensorFlow's 5.93-7.41 (8 runs); seeds 1-7
    # end at 5.58-7.84 and the accuracy is in range: the unscaled 0-255 inputs make this loss noisy.
    "load_numpy": {"loss"},
}
LIMIT_S = float(os.environ.get("UNAFRAID_TUTORIAL_LIMIT_S", "900"))


def _sources() -> Path | None:
    root = os.environ.get("UNAFRAID_TUTORIAL_SOURCES")
    return Path(root) if root else None


def run_one(entry: dict, tmp_path: Path) -> subprocess.CompletedProcess:
    shrink = bool(os.environ.get("UNAFRAID_TUTORIAL_SHRINK"))
    script = tmp_path / f"{entry['name']}.py"
    script.write_text(convert(entry, _sources(), shrink), encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), str(STANDINS)]), MPLBACKEND="Agg",
               TUTORIAL_DATA_DIR=str(tmp_path / "data"),
               UNAFRAID_DATA=os.environ.get("UNAFRAID_DATA", str(REPO.parent / "shared" / "data")))
    return subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=LIMIT_S)


def verdict(entry: dict, result: subprocess.CompletedProcess) -> str:
    """'as recorded' or what differs from docs/from_tensorflow.md."""
    out = (result.stdout + result.stderr).replace("\r", "\n")
    if entry["name"] in EXPECTED_TO_FAIL:
        expected = EXPECTED_TO_FAIL[entry["name"]]
        return "as recorded" if result.returncode != 0 and expected in out else (
            f"expected to stop at {expected!r}: {out[-500:]}")
    if result.returncode != 0:
        return f"stopped: {out[-1000:]}"
    if "metric" in entry:
        pattern, minimum = entry["metric"]
        values = re.findall(pattern, out)
        if not values or float(values[-1]) < minimum:
            return f"metric {values[-3:]} below {minimum}"
        where = reference_range(entry, float(values[-1])) + loss_range(entry, out)
        outside = {part.split()[0] if part.startswith("loss") else "metric"
                   for part in where.split("; ") if "OUT OF" in part}
        if "not found" in where or outside != KNOWN_OUT_OF_RANGE.get(entry["name"], set()):
            return f"metric {values[-1]}{where}"
        known = " (known: docs/from_tensorflow.md)" if outside else ""
        return f"as recorded (metric {values[-1]}{where}{known})"
    return "as recorded"


def loss_range(entry: dict, out: str) -> str:
    """The tutorial's final loss against TensorFlow's range, like :func:`reference_range`.

    ``entry["loss"]`` is ``(regex,)``, or ``(regex, low, high, runs)`` once TensorFlow's runs are
    recorded; the last number the regex finds in ``out`` is the loss. A loss is widened by half
    the range's width, and by at least ``LOSS_SLACK`` of its upper end. Returns ``""`` without a
    recorded range, ``"; loss ... in / OUT OF TensorFlow's range ..."``, or ``"; loss not found"``.
    """
    if len(entry.get("loss", ())) != 4:
        return ""
    pattern, low, high, runs = entry["loss"]
    values = re.findall(pattern, out)
    if not values:
        return f"; loss not found by {pattern!r}"
    value = float(values[-1])
    slack = max((high - low) / 2, LOSS_SLACK * high)
    inside = low - slack <= value <= high + slack
    return (f"; loss {value:g} {'in' if inside else 'OUT OF'} TensorFlow's range {low}-{high} "
            f"({runs} runs, +-{slack:.3g} allowed)")


def reference_range(entry: dict, value: float) -> str:
    """Where ``value`` stands against the range TensorFlow gives on the same script.

    ``entry["reference"]`` is ``(low, high, runs)``: the lowest and highest metric of ``runs``
    runs of the same converted script on TensorFlow 2.21 (Keras 3), from ``tf_reference.py``.
    The range is widened by half its width on each side, and by at least ``RANGE_SLACK`` of the
    metric's scale, since a few runs do not show TensorFlow's whole spread. Returns ``""`` when
    the tutorial has no reference (TensorFlow stops before the metric), ``"; in TensorFlow's range
    ..."`` or ``"; OUT OF TensorFlow's range ..."``, which :func:`verdict` reports as a difference
    (the run exits 1).
    """
    if "reference" not in entry:
        return ""
    low, high, runs = entry["reference"]
    scale = 100.0 if high > 1.0 else 1.0  # percentages or fractions
    slack = max((high - low) / 2, RANGE_SLACK * scale)
    inside = low - slack <= value <= high + slack
    return (f"; {'in' if inside else 'OUT OF'} TensorFlow's range {low}-{high} ({runs} runs, "
            f"+-{slack:.3g} allowed)")


RANGE_SLACK = 0.01  # one percentage point of accuracy beyond the runs' own spread
LOSS_SLACK = 0.05  # a loss may be 5% of TensorFlow's highest beyond the runs' own spread


def main(names: list[str]) -> int:
    if _sources() is None:
        print("Set UNAFRAID_TUTORIAL_SOURCES to the folder holding the checkouts (see "
              "docs/from_tensorflow.md).", file=sys.stderr)
        return 2
    chosen = [t for t in TUTORIALS if not names or t["name"] in names]
    bad = 0
    for entry in chosen:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                said = verdict(entry, run_one(entry, Path(tmp)))
            except subprocess.TimeoutExpired:
                said = f"over the {LIMIT_S:.0f} s limit"
            except (ValueError, OSError) as e:  # a source missing or changed upstream: say so,
                said = f"not converted: {e}"     # and go on with the other tutorials
        bad += not said.startswith("as recorded")
        print(f"{entry['name']}: {said}", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
