"""Turn an official TensorFlow / Keras tutorial into a script that runs on unafraid.

The tutorials themselves are not in this repository (their code is not ours to copy in); this
module reads them from a checkout named by ``$UNAFRAID_TUTORIAL_SOURCES``: a folder holding
``tensorflow/docs/`` (github.com/tensorflow/docs) and ``keras-team/keras-io/``
(github.com/keras-team/keras-io) at the commits named in :mod:`tests.tutorials.manifest`.

Conversion does exactly three things, and nothing else:

1. a notebook's code cells are joined in order; its shell lines (``!pip ...``) and IPython magics
   (``%matplotlib``, ``%load_ext``) are dropped, since plain Python cannot run them;
2. the imports are changed: ``import tensorflow as tf`` -> ``import unafraid as tf``,
   ``from tensorflow import keras`` / ``import keras`` -> ``from unafraid import keras``,
   ``from tensorflow.keras import X`` -> ``from unafraid.keras import X``;
3. the tutorial's own edits from the manifest: data stand-ins where the tutorial downloads, each
   an exact replacement that must match once (so a changed tutorial fails loudly), and, only when
   ``$UNAFRAID_TUTORIAL_SHRINK`` is set, the epochs/steps shrink edits.

Every changed line carries a trailing ``# unafraid: <why>`` comment in the script written.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

IMPORTS = [
    (re.compile(r"^(\s*)import tensorflow as tf\s*$"), r"\1import unafraid as tf"),
    (re.compile(r"^(\s*)from tensorflow import keras\s*$"), r"\1from unafraid import keras"),
    (re.compile(r"^(\s*)import keras\s*$"), r"\1from unafraid import keras"),
    (re.compile(r"^(\s*)from tensorflow\.keras(\.\w+)? import (.+)$"), r"\1from unafraid.keras\2 import \3"),
    (re.compile(r"^(\s*)from keras(\.\w+)? import (.+)$"), r"\1from unafraid.keras\2 import \3"),
]


def sources_root() -> Path:
    """The folder named by ``$UNAFRAID_TUTORIAL_SOURCES``; a clear error when it is unset."""
    root = os.environ.get("UNAFRAID_TUTORIAL_SOURCES", "")
    if not root or not Path(root).is_dir():
        raise FileNotFoundError(
            "UNAFRAID_TUTORIAL_SOURCES must name a folder holding tensorflow/docs/ and "
            f"keras-team/keras-io/ checkouts (got {root!r}); see docs/from_tensorflow.md")
    return Path(root)


def notebook_code(text: str) -> str:
    """The code cells of a notebook, in order, without shell lines and magics."""
    cells = json.loads(text)["cells"]
    out = []
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"])
        lines = [ln for ln in src.splitlines() if not ln.lstrip().startswith(("!", "%"))]
        out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"


def change_imports(code: str) -> str:
    """Apply the import changes line by line, marking each changed line."""
    out = []
    for line in code.splitlines():
        new = line
        for pattern, repl in IMPORTS:
            if pattern.match(line):
                new = pattern.sub(repl, line) + "  # unafraid: import changed"
                break
        out.append(new)
    return "\n".join(out) + "\n"


EVERY = "every"  # a 4th element of an edit: replace every occurrence (at least one)


def apply_edits(code: str, edits: list[tuple], name: str) -> str:
    """Replace each ``old`` by ``new``, marking the line with ``why``.

    An edit is ``(old, new, why)``, which must match exactly once, or ``(old, new, why, EVERY)``,
    which replaces every occurrence and must match at least once (for a line that some versions of
    a tutorial hold twice, as the stored copy of keras-io's training-loop guide does).
    """
    for old, new, why, *how in edits:
        count = code.count(old)
        every = how == [EVERY]
        if count == 0 or (count != 1 and not every):
            expected = "at least once" if every else "once"
            raise ValueError(f"tutorial {name}: edit {old!r} matched {count} times, expected {expected} "
                             "(the tutorial changed upstream? update tests/tutorials/manifest.py)")
        marked = "\n".join(ln + f"  # unafraid: {why}" if ln.strip() else ln for ln in new.split("\n"))
        code = code.replace(old, marked)
    return code


def convert(entry: dict, root: Path, shrink: bool) -> str:
    """The runnable script for one manifest entry."""
    path = root / entry["repo"] / entry["path"]
    text = path.read_text(encoding="utf-8")
    code = notebook_code(text) if path.suffix == ".ipynb" else text
    code = change_imports(code)
    code = apply_edits(code, entry.get("edits", []), entry["name"])
    if shrink:
        code = apply_edits(code, entry.get("shrink", []), entry["name"])
    header = (f"# Converted from {entry['repo']}/{entry['path']} at {entry['commit']}\n"
              "# (Apache-2.0; attribution and license as in the original). Changed lines end with\n"
              "# '# unafraid: <why>'.\n")
    return header + code
