"""End to end on real MNIST: the seed tutorial, `unafraid mnist` twice, resuming, the GAN example.

Marked slow (each trains for seconds); CI runs them.
"""

import base64
import hashlib
import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from html_outline import check_mnist_report
from snippets import README, block_under, python_blocks

ROOT = Path(__file__).resolve().parents[1]
MNIST = ROOT.parent / "shared" / "data" / "mnist"
needs_mnist = pytest.mark.skipif(not (MNIST / "train-images-idx3-ubyte.gz").exists(),
                                 reason=f"real MNIST not found at {MNIST}")
pytestmark = [pytest.mark.slow, needs_mnist]

# README's blocks (the tutorial, "Looking inside", autodiff), exactly as written and in order,
# then what to compare. (tests/test_docs_snippets.py leaves README to this test.)
REPORT = textwrap.dedent("""
    import hashlib, json
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    digest = hashlib.sha256(b"".join(w.tobytes() for w in model.get_weights())).hexdigest()
    print(json.dumps({"acc": acc, "loss": loss, "weights": digest,
                      "most_confusing": [int(i) for i in worst]}))
""")


def readme_tutorial() -> str:
    blocks = python_blocks(README)
    assert blocks[0] == block_under(README, "The tutorial in unafraid code")
    return "".join(b.code for b in blocks) + REPORT


def run_tutorial(folder: Path) -> dict:
    folder.mkdir()
    script = folder / "tutorial.py"
    script.write_text(readme_tutorial())
    env = {**os.environ, "UNAFRAID_DATA": str(MNIST), "UNAFRAID_HOME": str(folder / "home"),
           "PYTHONPATH": str(ROOT)}  # this checkout's unafraid, as `python -m unafraid` below
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env,
                         check=True, cwd=folder)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_cli(out: Path) -> dict:
    subprocess.run([sys.executable, "-m", "unafraid", "mnist", "--data-dir", str(MNIST), "--out",
                    str(out), "--quiet"], check=True, capture_output=True, cwd=ROOT)
    return json.loads((out / "metrics.json").read_text())


@pytest.fixture(scope="module")
def tutorial_run(tmp_path_factory):
    return run_tutorial(tmp_path_factory.mktemp("tutorial") / "a")


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    return (run_cli(tmp / "a"), tmp / "a"), (run_cli(tmp / "b"), tmp / "b")


def test_readme_tutorial_accuracy(tutorial_run):
    assert tutorial_run["acc"] >= 0.96  # TensorFlow, PyTorch and Keras-JAX land at 0.966-0.971


def test_unafraid_mnist_writes_everything_and_repeats_to_the_byte(cli_runs):
    (a, out_a), (b, out_b) = cli_runs
    assert a["test_accuracy"] >= 0.96
    shots = sorted(out_a.glob("confusing_digit_*.png"))
    assert len(shots) == 5
    assert sorted(int(re.findall(r"\d+", p.name)[0]) for p in shots) == sorted(a["most_confusing"])
    html = (out_a / "report.html").read_text()
    for png in out_a.glob("*.png"):
        assert base64.b64encode(png.read_bytes()).decode() in html, png.name
    assert "src=\"http" not in html
    check_mnist_report(out_a / "report.html")  # sections in order, the five digits in one row
    # Every file but timing.json (how long training took) is the same, byte for byte.
    names = sorted(p.name for p in out_a.iterdir())
    assert names == sorted(p.name for p in out_b.iterdir())
    assert "model.safetensors" in names and "timing.json" in names
    for name in names:
        if name != "timing.json":
            assert (out_a / name).read_bytes() == (out_b / name).read_bytes(), name


def test_unafraid_mnist_trains_what_the_readme_tutorial_shows(tutorial_run, cli_runs):
    """Bitwise reproducibility too: three processes (the tutorial, with no seeding code, and
    the CLI twice) give the same weights to the bit."""
    tutorial, (cli, out) = tutorial_run, cli_runs[0]
    assert cli["seed"] == 1337  # the library's default, which the tutorial uses without saying so
    assert cli["test_accuracy"] == tutorial["acc"] and cli["test_loss"] == tutorial["loss"]
    assert cli["most_confusing"] == tutorial["most_confusing"]
    from safetensors.numpy import load_file  # the CLI's saved weights against the tutorial's
    tensors = load_file(out / "model.safetensors")
    weights = [tensors[f"weights/{i}"] for i in range(len([k for k in tensors if k.startswith("w")]))]
    assert hashlib.sha256(b"".join(w.tobytes() for w in weights)).hexdigest() == tutorial["weights"]


def test_checkpoint_resume_equals_uninterrupted_run(tmp_path):
    import unafraid as tf
    from unafraid.datasets import mnist

    (x, y), _ = mnist.load_data(path=MNIST)
    x, y = x[:3000] / np.float32(255), y[:3000]

    def make():
        tf.set_random_seed(3)
        model = tf.keras.Sequential([tf.keras.layers.Flatten(input_shape=(28, 28)),
                                     tf.keras.layers.Dense(64, activation="relu"),
                                     tf.keras.layers.Dropout(0.2),
                                     tf.keras.layers.Dense(10, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    straight = make()
    straight.fit(x, y, epochs=3, verbose=0)

    ckpt = tmp_path / "epoch{epoch}.keras"
    first = make()
    first.fit(x, y, epochs=1, verbose=0,
              callbacks=[tf.keras.callbacks.ModelCheckpoint(str(ckpt), save_best_only=False)])
    resumed = tf.keras.models.load_model(tmp_path / "epoch1.keras")
    resumed.fit(x, y, epochs=3, initial_epoch=1, verbose=0)
    for a, b in zip(straight.get_weights(), resumed.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_gan_example_moves_samples_toward_the_modes(capsys):
    from threadpoolctl import threadpool_limits

    spec = importlib.util.spec_from_file_location("gan_2d", ROOT / "examples" / "gan_2d.py")
    gan = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gan)
    # One GAN run is chaotic: its generator oscillates around the modes, and where a seed is at
    # a given step depends on the last bits of every product, so on the BLAS kernel. The claim
    # is about training, not one seed or one step: each seed's distance to the modes, as a
    # fraction of the untrained one (1), averaged over steps 150 and 200, is below 0.8, and the
    # median of five seeds below 0.6. Measured with one OpenBLAS thread (Haswell kernel), seeds
    # 0-7: 0.55 0.51 0.36 0.42 0.57 0.53 0.60 0.50; single steps from 150 to 400 exceeded 0.8
    # once in 48 (0.85), and at step 100 two seeds of eight were above 1, so one step alone is
    # too noisy to judge by. 5 seeds x 200 steps cost a third of the 5 x 600 judged before.
    # One BLAS thread: the matrices are small (batch 128, 128 hidden units), two threads only
    # wait for each other (on a busy machine they made this test take 58 minutes).
    ratios = []
    with threadpool_limits(1, user_api="blas"):
        for seed in range(5):
            result = gan.train(steps=200, batch_size=128, n_critic=5, seed=seed, log_every=50)
            ratios.append(np.mean(result["distances"][-2:]) / result["distance_before"])
    capsys.readouterr()  # the example's log lines
    assert max(ratios) < 0.8 and sorted(ratios)[2] < 0.6, ratios
