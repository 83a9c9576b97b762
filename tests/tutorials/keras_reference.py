"""Run one tutorial on Keras 3 (``KERAS_BACKEND=jax``): the reference where TensorFlow is absent.

The ranges the runner checks come from TensorFlow itself (``tf_reference.py``); this module is
the earlier, lighter reference for a machine without TensorFlow.

``python -m tests.tutorials.keras_reference NAME OUT.py`` writes the Keras version of tutorial
NAME: the same conversion as for unafraid (data stand-ins, shrink edits when
``$UNAFRAID_TUTORIAL_SHRINK`` is set) but with the imports pointing at Keras 3 and
:mod:`tf_on_keras`. Run OUT.py with ``KERAS_BACKEND=jax`` and ``PYTHONPATH`` holding
tests/tutorials (for the stand-ins). Not part of the test suite.
"""

from __future__ import annotations

import sys

from tests.tutorials import convert
from tests.tutorials.manifest import TUTORIALS

convert.IMPORTS[:] = [
    (convert.re.compile(r"^(\s*)import tensorflow as tf\s*$"), r"\1import tf_on_keras as tf"),
    (convert.re.compile(r"^(\s*)from tensorflow import keras\s*$"), r"\1import keras"),
    (convert.re.compile(r"^(\s*)from tensorflow\.keras(\.\w+)? import (.+)$"), r"\1from keras\2 import \3"),
]


def main(name: str, out: str) -> None:
    entry = next(t for t in TUTORIALS if t["name"] == name)
    code = convert.convert(entry, convert.sources_root(), bool(convert.os.environ.get(
        "UNAFRAID_TUTORIAL_SHRINK")))
    code = code.replace("# unafraid: import changed", "# Keras reference: import changed")
    with open(out, "w", encoding="utf-8") as f:
        f.write("import keras\n" + code)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
