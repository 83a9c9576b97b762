"""Saving and loading: exact round trips, atomic writes, and refusing bad files safely."""

import json
import os
import signal
import struct
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import unafraid as tf
from unafraid.io.saving import ModelFileError, load_model
from unafraid.keras import layers


def small_model():
    model = tf.keras.Sequential([layers.Flatten(input_shape=(4, 4)),
                                 layers.Dense(8, activation="relu"), layers.Dropout(0.2),
                                 layers.BatchNormalization(),
                                 layers.Dense(3, activation="softmax")])
    return model


def test_save_load_predict_is_exact(tmp_path):
    model = small_model()
    x = np.random.default_rng(0).random((10, 4, 4)).astype(np.float32)
    before = model.predict(x)
    model.save(tmp_path / "m.keras")
    again = tf.keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(again.predict(x), before)
    assert [type(lay).__name__ for lay in again.layers] == [type(lay).__name__ for lay in model.layers]


def test_functional_model_round_trip(tmp_path):
    a = tf.keras.Input(shape=(3,))
    h = layers.Dense(4, activation="tanh")(a)
    out = [layers.Dense(2)(h), layers.Dense(1, activation="sigmoid")(h)]
    model = tf.keras.Model(a, out)
    x = np.random.default_rng(1).random((5, 3)).astype(np.float32)
    model.save(tmp_path / "f.safetensors")
    again = load_model(tmp_path / "f.safetensors")
    for p, q in zip(model.predict(x), again.predict(x), strict=True):
        np.testing.assert_array_equal(p, q)


def test_file_records_seed_versions_and_no_code(tmp_path):
    model = small_model()
    model.save(tmp_path / "m.keras")
    from safetensors import safe_open
    meta = safe_open(str(tmp_path / "m.keras"), "np").metadata()
    assert meta["format"] == "unafraid.model" and meta["seed"] and meta["numpy_version"]
    config = json.loads(meta["model_config"])
    assert config["class_name"] == "Sequential"
    raw = (tmp_path / "m.keras").read_bytes()
    assert b"pickle" not in raw and b"lambda" not in raw


def test_weights_only_round_trip_and_mismatch(tmp_path):
    model = small_model()
    model.save_weights(tmp_path / "w.weights.h5")
    other = small_model()
    other.load_weights(tmp_path / "w.weights.h5")
    for a, b in zip(model.get_weights(), other.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    wrong = tf.keras.Sequential([layers.Dense(2, input_shape=(3,))])
    with pytest.raises(ModelFileError, match="weight arrays"):
        wrong.load_weights(tmp_path / "w.weights.h5")
    with pytest.raises(ModelFileError, match="weights only"):
        load_model(tmp_path / "w.weights.h5")


def test_subclassed_model_cannot_save_architecture(tmp_path):
    class Net(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.d = layers.Dense(2)

        def call(self, x):
            return self.d(x)

    net = Net()
    net(np.ones((1, 3), np.float32))
    with pytest.raises(ValueError, match="save_weights"):
        net.save(tmp_path / "n.keras")
    assert not (tmp_path / "n.keras").exists()


@pytest.mark.parametrize("content, message", [
    (b"", "not an unafraid model file"),
    (b"hello world, not a model", "not an unafraid model file"),
    (b"PK\x03\x04" + b"\0" * 40, "zip archive"),
    (b"\x89HDF\r\n\x1a\n" + b"\0" * 40, "HDF5"),
    (struct.pack("<Q", 2**62) + b"{}", "not an unafraid model file"),
])
def test_not_a_model_file_is_refused_clearly(tmp_path, content, message):
    path = tmp_path / "bad.keras"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=message):
        load_model(path)


def _rewrite_metadata(path, **changes):
    from safetensors import safe_open
    from safetensors.numpy import load_file, save
    meta = dict(safe_open(str(path), "np").metadata())
    meta.update(changes)
    path.write_bytes(save(load_file(str(path)), metadata=meta))


def test_newer_format_and_unknown_layer_are_refused(tmp_path):
    path = tmp_path / "m.keras"
    small_model().save(path)
    _rewrite_metadata(path, format_version="99")
    with pytest.raises(ModelFileError, match="newer unafraid.*pip install -U"):
        load_model(path)
    small_model().save(path)
    config = json.dumps({"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "os.system", "config": {"command": "touch pwned"}}]}})
    _rewrite_metadata(path, model_config=config)
    with pytest.raises(ModelFileError, match="unknown layer class 'os.system'"):
        load_model(path)
    assert not os.path.exists("pwned")


def test_truncated_and_bit_flipped_files_are_refused(tmp_path):
    path = tmp_path / "m.keras"
    small_model().save(path)
    raw = path.read_bytes()
    for cut in (9, len(raw) // 3, len(raw) - 5):
        path.write_bytes(raw[:cut])
        with pytest.raises(ModelFileError):
            load_model(path)
    header_len = struct.unpack("<Q", raw[:8])[0]
    flipped = bytearray(raw)
    flipped[8 + header_len // 2] ^= 0xFF  # inside the JSON header
    path.write_bytes(bytes(flipped))
    with pytest.raises(ModelFileError):
        load_model(path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_model_files_fail_cleanly(tmp_path_factory, data):
    """Random corruptions of a valid file: load either succeeds or raises ModelFileError."""
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "m.keras"
    if not hasattr(test_fuzzed_model_files_fail_cleanly, "raw"):
        small_model().save(path)
        test_fuzzed_model_files_fail_cleanly.raw = path.read_bytes()
    raw = bytearray(test_fuzzed_model_files_fail_cleanly.raw)
    for _ in range(data.draw(st.integers(1, 8))):
        kind = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        pos = data.draw(st.integers(0, max(0, len(raw) - 1)))
        if kind == "flip" and raw:
            raw[pos] = data.draw(st.integers(0, 255))
        elif kind == "cut":
            del raw[pos:pos + data.draw(st.integers(1, 64))]
        else:
            raw[pos:pos] = data.draw(st.binary(min_size=1, max_size=16))
    path.write_bytes(bytes(raw))
    try:
        load_model(path)
    except ModelFileError:
        pass


SAVER = textwrap.dedent("""
    import sys
    import numpy as np
    import unafraid as tf
    model = tf.keras.Sequential([tf.keras.layers.Dense(1500, input_shape=(1500,)),
                                 tf.keras.layers.Dense(1500)])
    path = sys.argv[1]
    version = 0
    while True:
        model.set_weights([np.full(w.shape, version, np.float32) for w in model.get_weights()])
        model.save(path)
        version += 1
        if version == 1:
            print("ready", flush=True)
""")


def test_sigkill_during_save_leaves_a_loadable_file(tmp_path):
    path = tmp_path / "ckpt.keras"
    script = tmp_path / "saver.py"
    script.write_text(SAVER)
    for delay in (0.05, 0.13, 0.31):
        proc = subprocess.Popen([sys.executable, str(script), str(path)], stdout=subprocess.PIPE,
                                text=True)
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        model = load_model(path)
        values = np.unique(np.concatenate([w.ravel() for w in model.get_weights()]))
        assert len(values) == 1  # every array from the same complete save
    leftovers = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert all(p.stat().st_size >= 0 for p in leftovers)  # temp files never replace the target
