"""Every Python code block of docs/cells.md runs, in order, as one script (a biologist copies them)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def code_blocks():
    return re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "cells.md").read_text(), re.S)


def test_cells_md_has_code_blocks():
    blocks = code_blocks()
    assert len(blocks) >= 6 and "CountAutoencoder" in "".join(blocks)


@pytest.mark.slow
def test_every_code_block_of_cells_md_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("UNAFRAID_DATA", str(ROOT / ".." / "shared" / "data"))
    monkeypatch.chdir(tmp_path)  # the tutorial saves figures in the working folder
    namespace: dict = {}
    for i, block in enumerate(code_blocks()):
        exec(compile(block, f"docs/cells.md block {i + 1}", "exec"), namespace)
    assert (tmp_path / "latent_by_type.png").stat().st_size > 0
    assert namespace["latent"].shape == (700, 10)
