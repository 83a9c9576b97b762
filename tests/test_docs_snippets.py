"""Every ```python block of README.md and docs/*.md runs, as written, from outside the repository.

The blocks of one file run in order in one namespace (a later block may use what an earlier
one defined, as a reader following the page would), in a fresh process whose working folder
is a temporary one, with ``UNAFRAID_DATA`` pointing at the shared data folder (MNIST in its
``mnist/``, pbmc68k_reduced in its ``pbmc68k_reduced/``). A block opts out only
with a first line ``# not run: <reason>``; files whose code trains a model are marked slow.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from snippets import DOCS, ROOT, python_blocks

MNIST = ROOT.parent / "shared" / "data" / "mnist"

RUNNER = textwrap.dedent("""
    import json, sys
    namespace = {"__name__": "__main__"}
    for block in json.load(open(sys.argv[1])):
        print("--- running", block["where"], flush=True)
        exec(compile(block["code"], block["where"], "exec"), namespace)
""")


def _param(path: Path):
    code = "".join(b.code for b in python_blocks(path))
    marks = [pytest.mark.slow] if ".fit(" in code else []
    return pytest.param(path, marks=marks, id=path.relative_to(ROOT).as_posix())


def test_the_docs_have_python_blocks():
    assert sum(len(python_blocks(p)) for p in DOCS) >= 15  # the extraction finds them


def test_opting_out_needs_a_reason():
    for path in DOCS:
        for block in python_blocks(path):
            first = block.code.lstrip().splitlines()[0].lower()
            if "not run" in first:
                assert block.skip_reason, f"{path.name}:{block.line}: '# not run: <reason>'"


# Pages whose blocks a test of their own runs (with more checks), so that they run only once:
# the page, the test, and how that test reads the page's blocks.
RUN_ELSEWHERE = {"README.md": ("tests/test_end_to_end.py", "python_blocks(README)"),
                 "docs/graduation.md": ("tests/test_graduation_doc.py", '"docs" / "graduation.md"'),
                 "docs/cells.md": ("tests/test_cells_docs.py", '"docs" / "cells.md"')}


def test_pages_run_elsewhere_have_their_test():
    for name, (test, reads) in RUN_ELSEWHERE.items():
        assert (ROOT / name).exists() and (ROOT / test).exists(), (name, test)
        assert reads in (ROOT / test).read_text(), test


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@pytest.mark.parametrize("path", [_param(p) for p in DOCS
                                  if python_blocks(p) and _rel(p) not in RUN_ELSEWHERE])
def test_every_python_block_runs(path, tmp_path):
    blocks = [{"where": f"{path.relative_to(ROOT).as_posix()}:{b.line}", "code": b.code}
              for b in python_blocks(path) if b.skip_reason is None]
    (tmp_path / "blocks.json").write_text(json.dumps(blocks))
    (tmp_path / "run.py").write_text(RUNNER)
    work = tmp_path / "work"  # outside the repository: no source tree on the path by accident
    work.mkdir()
    env = {**os.environ, "UNAFRAID_DATA": str(MNIST.parent),
           "UNAFRAID_HOME": str(tmp_path / "home"),
           "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT)}  # this checkout's unafraid
    out = subprocess.run([sys.executable, str(tmp_path / "run.py"), str(tmp_path / "blocks.json")],
                         cwd=work, env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, f"{out.stdout[-3000:]}\n{out.stderr[-5000:]}"
    assert out.stdout.count("--- running") == len(blocks)
