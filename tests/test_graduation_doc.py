"""docs/graduation.md: every Python block runs, in order, each in a fresh process, in one folder.

Keras, JAX and onnxruntime come from the test extra; a missing one fails the block that needs it.
Slow (it trains the seed model for an epoch in unafraid and one more in Keras 3 on JAX, then the
Simple MNIST convnet on a slice of MNIST in unafraid, Keras and unafraid again); CI runs it.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "graduation.md"
MNIST = ROOT.parent / "shared" / "data" / "mnist"
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not (MNIST / "train-images-idx3-ubyte.gz").exists(),
                                 reason=f"real MNIST not found at {MNIST}")]


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


def test_every_python_block_runs(tmp_path):
    blocks = python_blocks()
    assert len(blocks) == 9
    env = {**os.environ, "UNAFRAID_DATA": str(MNIST), "UNAFRAID_HOME": str(tmp_path / "home"),
           "PYTHONPATH": str(ROOT)}
    outputs = []
    for i, code in enumerate(blocks):
        result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                                capture_output=True, text=True)
        assert result.returncode == 0, f"block {i + 1} failed:\n{code}\n{result.stderr[-3000:]}"
        outputs.append(result.stdout)
    text = "".join(outputs)
    print(text)
    differences = [float(v) for v in re.findall(r"largest difference .*: (\S+)", text)]
    assert len(differences) == 5 and max(differences) <= 1e-5
    assert "Adam's step count: 1875" in outputs[1] and "Adam's step count: 3750" in outputs[2]
    assert "Adam's step count: 47" in outputs[6] and "Adam's step count: 94" in outputs[7]
    # the convnet's epochs: unafraid's, Keras's continuing from it, unafraid's again
    losses = [float(v) for v in re.findall(r"epoch: loss (\S+)", text)]
    assert len(losses) == 3 and losses[0] > losses[1] > losses[2]
    accuracies = [float(v) for v in re.findall(r"test accuracy (\S+)", text)]
    assert len(accuracies) == 4 and min(accuracies) > 0.95
