"""The command line (`unafraid --help`, `doctor`) and tf.keras code running with its import changed."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import unafraid as tf


def run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "unafraid", *args], capture_output=True,
                          text=True, env={**os.environ, **(env or {})})


@pytest.mark.parametrize("args", [["--help"], ["mnist", "--help"], ["doctor", "--help"]])
def test_every_command_has_help(args):
    out = run(*args)
    assert out.returncode == 0 and "usage: unafraid" in out.stdout


def test_no_command_prints_help_and_fails():
    out = run()
    assert out.returncode == 2 and "mnist" in out.stdout and "doctor" in out.stdout


def test_doctor_reports_environment(tmp_path):
    out = run("doctor", env={"HOME": str(tmp_path), "JUPYTER_PATH": "", "APPDATA": "",
                             "UNAFRAID_HOME": str(tmp_path / "cache")})
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert sys.executable in text and np.__version__ in text and "BLAS" in text
    assert "Jupyter" in text and "Load average" in text and "threads" in text
    assert "mnist" in text and "not cached" in text
    assert "Accelerator" in text and ("numba" in text or "not installed" in text)


def test_doctor_finds_a_kernel_for_this_python(tmp_path):
    spec = tmp_path / ".local/share/jupyter/kernels/myenv/kernel.json"
    spec.parent.mkdir(parents=True)
    spec.write_text(json.dumps({"argv": [sys.executable, "-m", "ipykernel_launcher", "-f",
                                         "{connection_file}"], "display_name": "My env"}))
    out = run("doctor", env={"HOME": str(tmp_path), "UNAFRAID_HOME": str(tmp_path / "cache")})
    jupyter = next(line for line in out.stdout.splitlines() if line.startswith("Jupyter"))
    assert "kernels that run this Python:" in jupyter and "'myenv'" in jupyter


def test_tensorflow_quickstart_with_logits_runs_unchanged():
    """The TensorFlow 2 quickstart for beginners, after `import unafraid as tf`."""
    rng = np.random.default_rng(0)
    x_train = rng.random((64, 28, 28)).astype(np.float32)
    y_train = rng.integers(0, 10, 64)
    model = tf.keras.models.Sequential([
        tf.keras.layers.Flatten(input_shape=(28, 28)),
        tf.keras.layers.Dense(128, activation="relu"),
        tf.keras.layers.Dropout(0.2),
        tf.keras.layers.Dense(10),
    ])
    predictions = model(x_train[:1]).numpy()
    probs = tf.nn.softmax(predictions).numpy()
    assert np.isclose(probs.sum(), 1, atol=1e-6)
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    expected = -np.log(np.exp(predictions[0, y_train[0]]) / np.exp(predictions[0]).sum())
    assert np.isclose(loss_fn(y_train[:1], predictions).numpy(), expected, rtol=1e-5)
    model.compile(optimizer="adam", loss=loss_fn, metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=2, verbose=0)
    model.evaluate(x_train, y_train, verbose=0)
    probability_model = tf.keras.Sequential([model, tf.keras.layers.Softmax()])
    assert probability_model(x_train[:5]).shape == (5, 10)


def test_keras_import_paths():
    from unafraid.keras.callbacks import EarlyStopping
    from unafraid.keras.layers import Dense
    from unafraid.keras.models import Sequential, load_model  # noqa: F401
    from unafraid.keras.optimizers.schedules import ExponentialDecay

    from unafraid.keras.utils import set_random_seed, to_categorical  # noqa: F401

    layer = tf.keras.layers.Dense(512, activation=tf.nn.relu)
    assert isinstance(layer, Dense) and layer.units == 512
    assert callable(tf.keras.datasets.mnist.load_data)
    assert EarlyStopping().monitor == "val_loss"
    opt = tf.keras.optimizers.Adam(learning_rate=ExponentialDecay(1e-3, 100, 0.5))
    assert opt.beta_1 == 0.9 and opt.epsilon == 1e-7
    np.testing.assert_array_equal(to_categorical([1, 0], 2), [[0, 1], [1, 0]])


def test_import_is_light():
    code = ("import sys, unafraid; heavy = [m for m in ('matplotlib', 'pandas', 'tqdm', "
            "'safetensors', 'scipy') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_keras_namespace_loads_datasets_on_first_use():
    # Building and training a model does not need the download code (gzip, zipfile, tempfile).
    code = ("import sys, unafraid.keras as k; print('unafraid.datasets' in sys.modules); "
            "from unafraid.keras.datasets import mnist; import unafraid.keras.datasets as d; "
            "print(d is sys.modules['unafraid.datasets'] is k.datasets, mnist is d.mnist)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True", "True"]
