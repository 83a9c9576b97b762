"""Keras's "Simple MNIST convnet" on real MNIST: the example file (only its imports changed) on
a subset, and `unafraid mnist --model convnet`. The full two-epoch check (>= 0.985) is
benchmarks/mnist_convnet.py: too slow for CI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import unafraid.keras.datasets.mnist as keras_mnist

from unafraid import cli
from unafraid.datasets import mnist

ROOT = Path(__file__).resolve().parents[1]
MNIST = ROOT.parent / "shared" / "data" / "mnist"
needs_mnist = pytest.mark.skipif(not (MNIST / "train-images-idx3-ubyte.gz").exists(),
                                 reason=f"real MNIST not found at {MNIST}")


def subset(n_train: int, n_test: int):
    (x, y), (xt, yt) = mnist.load_data(path=MNIST)
    return lambda *args, **kwargs: ((x[:n_train], y[:n_train]), (xt[:n_test], yt[:n_test]))


@pytest.mark.slow
@needs_mnist
def test_the_keras_example_runs_unchanged_and_learns(monkeypatch, capsys):
    source = (ROOT / "examples" / "mnist_convnet.py").read_text()
    assert "epochs = 15" in source and "validation_split=0.1" in source
    monkeypatch.setattr(keras_mnist, "load_data", subset(12000, 2000))  # one epoch of 12,000
    namespace: dict = {}
    exec(compile(source.replace("epochs = 15", "epochs = 1"), "mnist_convnet.py", "exec"),
         namespace)
    printed = capsys.readouterr().out
    assert "Total params: 34,826" in printed
    loss, accuracy = namespace["score"]
    assert accuracy >= 0.85, (loss, accuracy)  # 85 steps of Adam; the full epoch gives ~0.975
    assert f"Test accuracy: {accuracy}" in printed


@pytest.mark.slow
@needs_mnist
def test_unafraid_mnist_convnet_writes_the_report(monkeypatch, tmp_path):
    monkeypatch.setattr(mnist, "load_data", subset(3000, 500))
    out = tmp_path / "out"
    assert cli.main(["mnist", "--model", "convnet", "--batch-size", "128", "--out", str(out),
                     "--quiet"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["model"] == "convnet"
    assert metrics["test_accuracy"] > 0.5  # 24 steps: well above chance (0.1)
    for name in ("report.html", "model.safetensors", "saliency.png", "confusion_matrix.png"):
        assert (out / name).exists(), name


def test_the_command_keeps_the_dense_model_by_default():
    args = cli.build_parser().parse_args(["mnist"])
    assert args.model == "dense"
    assert cli.build_parser().parse_args(["mnist", "--model", "convnet"]).model == "convnet"
    model = cli.mnist_convnet()
    assert model.count_params() == 34826  # as Keras's model.summary() reports
    assert model(np.zeros((2, 28, 28, 1), np.float32)).shape == (2, 10)
