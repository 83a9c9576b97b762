"""End to end on real MNIST: the seed tutorial, `unafraid mnist` twice, resuming, the GAN example.

Marked slow (each trains for seconds); CI runs them.
"""

import base64
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

ROOT = Path(__file__).resolve().parents[1]
MNIST = ROOT.parent / "shared" / "data" / "mnist"
needs_mnist = pytest.mark.skipif(not (MNIST / "train-images-idx3-ubyte.gz").exists(),
                                 reason=f"real MNIST not found at {MNIST}")
pytestmark = [pytest.mark.slow, needs_mnist]

TUTORIAL = textwrap.dedent("""
    import hashlib, json, sys
    import unafraid as tf

    (x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data()
    x_train, x_test = x_train / 255.0, x_test / 255.0
    model = tf.keras.models.Sequential([
        tf.keras.layers.Flatten(input_shape=(28, 28)),
        tf.keras.layers.Dense(512, activation=tf.nn.relu),
        tf.keras.layers.Dense(10, activation=tf.nn.softmax),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=1, verbose=0)
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    digest = hashlib.sha256(b"".join(w.tobytes() for w in model.get_weights())).hexdigest()
    print(json.dumps({"acc": acc, "loss": loss, "weights": digest, "history": history.history}))
""")


def run_tutorial(tmp_path: Path) -> dict:
    script = tmp_path / "tutorial.py"
    script.write_text(TUTORIAL)
    env = {**os.environ, "UNAFRAID_DATA": str(MNIST), "UNAFRAID_HOME": str(tmp_path / "home")}
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_seed_tutorial_accuracy_and_bitwise_reproducibility(tmp_path):
    first, second = run_tutorial(tmp_path), run_tutorial(tmp_path)
    assert first["acc"] >= 0.96  # TensorFlow, PyTorch and Keras-JAX land at 0.966-0.971
    assert first == second  # same weights to the bit, same History, no seeding code


def run_cli(out: Path) -> dict:
    subprocess.run([sys.executable, "-m", "unafraid", "mnist", "--epochs", "1", "--data-dir",
                    str(MNIST), "--out", str(out), "--quiet"], check=True, capture_output=True)
    return json.loads((out / "metrics.json").read_text())


def test_unafraid_mnist_writes_everything_and_repeats(tmp_path):
    a, b = run_cli(tmp_path / "a"), run_cli(tmp_path / "b")
    assert a["test_accuracy"] >= 0.96
    shots = sorted((tmp_path / "a").glob("confusing_digit_*.png"))
    assert len(shots) == 5
    assert sorted(int(re.findall(r"\d+", p.name)[0]) for p in shots) == sorted(a["most_confusing"])
    html = (tmp_path / "a" / "report.html").read_text()
    for png in (tmp_path / "a").glob("*.png"):
        assert base64.b64encode(png.read_bytes()).decode() in html, png.name
    assert "src=\"http" not in html
    for key in ("train_seconds", "versions", "blas"):
        a.pop(key), b.pop(key)
    assert a == b  # same numbers and the same five digits


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


def test_gan_example_moves_samples_toward_the_modes():
    spec = importlib.util.spec_from_file_location("gan_2d", ROOT / "examples" / "gan_2d.py")
    gan = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gan)
    # One GAN run is chaotic: after 600 steps a single seed's generator can be mid-oscillation,
    # and which seed is depends on the last bits of every product, so on the BLAS kernel.
    # Measured fractions of the starting distance for seeds 0-4: 0.69 0.55 0.39 0.14 0.46 with
    # OpenBLAS's Haswell kernel, 0.63 0.26 0.24 0.14 0.18 with SkylakeX. The claim is about
    # training, not one seed: every seed gets closer, and the median of five by a good margin.
    # (Untrained, the fraction is 1.)
    ratios = []
    for seed in range(5):
        result = gan.train(steps=600, batch_size=128, n_critic=5, seed=seed)
        ratios.append(result["distance_after"] / result["distance_before"])
    assert max(ratios) < 0.8 and sorted(ratios)[2] < 0.6, ratios
