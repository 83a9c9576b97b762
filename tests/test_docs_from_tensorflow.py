"""Every code block of docs/from_tensorflow.md runs."""

import contextlib
import io
import re
from pathlib import Path

import pytest

import unafraid as tf


@pytest.fixture(autouse=True)
def _default_seed_afterwards():
    """Tests here set seeds; later test files start from the library's default seed again."""
    yield
    tf.set_random_seed(tf.random.DEFAULT_SEED)


DOC = Path(__file__).parent.parent / "docs" / "from_tensorflow.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)


def test_the_page_has_code():
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_code_block_runs(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # blocks write files (numbers.csv, exported/)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(BLOCKS[index], f"{DOC.name}[{index}]", "exec"), {})
    assert out.getvalue()  # every block shows its results
