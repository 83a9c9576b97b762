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
    model.save(tmp_path / "m.safetensors")
    again = tf.keras.models.load_model(tmp_path / "m.safetensors")
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
    model.save(tmp_path / "m.safetensors")
    from safetensors import safe_open
    meta = safe_open(str(tmp_path / "m.safetensors"), "np").metadata()
    assert meta["format"] == "unafraid.model" and meta["seed"] and meta["numpy_version"]
    config = json.loads(meta["model_config"])
    assert config["class_name"] == "Sequential"
    raw = (tmp_path / "m.safetensors").read_bytes()
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
        net.save(tmp_path / "n.safetensors")
    assert not (tmp_path / "n.safetensors").exists()


@pytest.mark.parametrize("content, message", [
    (b"", "not an unafraid model file"),
    (b"hello world, not a model", "not an unafraid model file"),
    (b"PK\x03\x04" + b"\0" * 40, "zip archive"),
    (b"\x89HDF\r\n\x1a\n" + b"\0" * 40, "HDF5"),
    (struct.pack("<Q", 2**62) + b"{}", "not an unafraid model file"),
])
def test_not_a_model_file_is_refused_clearly(tmp_path, content, message):
    path = tmp_path / "bad.safetensors"
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
    path = tmp_path / "m.safetensors"
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
    path = tmp_path / "m.safetensors"
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
    path = folder / "m.safetensors"
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
    path = tmp_path / "ckpt.safetensors"
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


# ---- crafted files: hostile headers, configs and metadata ------------------------------------------
def _saved(tmp_path):
    """A small compiled and trained model's file, its metadata and its tensors."""
    from safetensors import safe_open
    from safetensors.numpy import load_file
    model = small_model()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(np.ones((8, 4, 4), np.float32), np.zeros(8, int), verbose=0)
    path = tmp_path / "m.safetensors"
    model.save(path)
    return path, dict(safe_open(str(path), "np").metadata()), load_file(str(path))


def _write(path, tensors, meta):
    from safetensors.numpy import save
    path.write_bytes(save(tensors, metadata=meta))
    return path


def _raw_file(path, header, data=b""):
    """A safetensors file written by hand, so that its header can lie."""
    h = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(h)) + h + data)
    return path


@pytest.mark.parametrize("entry", [
    {"dtype": "F32", "shape": [2**40], "data_offsets": [0, 16]},         # claims 4 TiB, holds 16 B
    {"dtype": "F32", "shape": [2**40], "data_offsets": [0, 4 * 2**40]},  # offsets agree, data absent
    {"dtype": "F32", "shape": [2**62, 2**62], "data_offsets": [0, 16]},  # overflowing size
    {"dtype": "F32", "shape": [-1], "data_offsets": [0, 16]},
    {"dtype": "PICKLE", "shape": [4], "data_offsets": [0, 16]},
])
def test_tensor_headers_that_lie_about_their_size_are_refused(tmp_path, entry):
    _, meta, _ = _saved(tmp_path)
    path = _raw_file(tmp_path / "lie.safetensors", {"__metadata__": meta, "weights/0": entry}, b"\0" * 16)
    with pytest.raises(ModelFileError):
        load_model(path)


@pytest.mark.parametrize("dtype", [np.float64, np.float16, np.int32, np.uint8])
def test_weight_of_the_wrong_dtype_is_refused(tmp_path, dtype):
    path, meta, tensors = _saved(tmp_path)
    tensors["weights/0"] = tensors["weights/0"].astype(dtype)
    with pytest.raises(ModelFileError, match=rf"dtype {np.dtype(dtype)}.*float32.*Nothing was"):
        load_model(_write(path, tensors, meta))


@pytest.mark.parametrize("length", [2**64 - 1, 2**63, MAX_HEADER := 100 * 1024 * 1024 + 1])
def test_huge_header_length_is_refused_before_reading(tmp_path, length):
    path = tmp_path / "huge.safetensors"
    with open(path, "wb") as f:  # a sparse file as large as the header claims: nothing is read
        f.write(struct.pack("<Q", length % 2**64))
        f.truncate(min(length, MAX_HEADER) + 64)
    with pytest.raises(ModelFileError, match="no valid header"):
        load_model(path)


def test_tensor_names_with_path_tricks_write_nothing(tmp_path, monkeypatch):
    path, meta, tensors = _saved(tmp_path)
    work = tmp_path / "work" / "deeper"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    tensors.update({"../../etc/passwd": np.zeros(3, np.float32),
                    "../evil.py": np.zeros(3, np.float32), "/tmp/abs": np.zeros(3, np.float32)})
    before = sorted(p.name for p in tmp_path.rglob("*"))
    model = load_model(_write(path, tensors, meta))  # extra names are ignored, never paths
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
    assert len(model.weights) == 8


@pytest.mark.parametrize("key", ["model_config", "weight_names", "compile_config", "rng_states"])
def test_deeply_nested_metadata_json_is_refused(tmp_path, key):
    path, meta, tensors = _saved(tmp_path)
    meta[key] = "[" * 100_000 + "]" * 100_000
    with pytest.raises(ModelFileError, match=f"'{key}' entry is missing or not valid JSON"):
        load_model(_write(path, tensors, meta))


def test_deeply_nested_architecture_is_refused(tmp_path):
    path, meta, tensors = _saved(tmp_path)
    for depth in (300, 2000):
        config = '{"class_name": "Dense", "config": {"units": 2}}'
        for _ in range(depth):
            config = '{"class_name": "Sequential", "config": {"layers": [' + config + ']}}'
        meta["model_config"] = config
        with pytest.raises(ModelFileError):
            load_model(_write(path, tensors, meta))


def test_huge_metadata_is_bounded(tmp_path):
    path, meta, tensors = _saved(tmp_path)
    meta["junk"] = "x" * 5_000_000  # under the 100 MB header limit: read, then ignored
    assert len(load_model(_write(path, tensors, meta)).weights) == 8
    meta["model_config"] = json.dumps({"class_name": "Sequential", "config": {
        "layers": [{"class_name": "Dense", "config": {"units": 1}}] * 20_000}})
    with pytest.raises(ModelFileError):  # 20,000 layers but 8 stored arrays
        load_model(_write(path, tensors, meta))


@pytest.mark.parametrize("class_name", ["__import__", "os.system", "builtins.eval", "subprocess.Popen",
                                        "Layer", "Model", "unafraid.io.saving.load_model"])
def test_model_config_naming_code_is_refused(tmp_path, class_name, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path, meta, tensors = _saved(tmp_path)
    meta["model_config"] = json.dumps({"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": class_name, "config": {"args": ["touch pwned"], "command": "touch pwned"}}]}})
    with pytest.raises(ModelFileError, match="unknown layer class"):
        load_model(_write(path, tensors, meta))
    meta["model_config"] = json.dumps({"class_name": class_name, "config": {}})
    with pytest.raises(ModelFileError, match="unknown layer class"):
        load_model(_write(path, tensors, meta))
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("field, value", [
    ("activation", "os.system"), ("activation", {"class_name": "eval", "config": {}}),
    ("kernel_initializer", {"class_name": "os.system", "config": {"command": "ls"}}),
    ("kernel_regularizer", {"class_name": "__import__", "config": {}}),
    ("dtype", "object"), ("units", "10"), ("units", 1e300), ("__class__", "os.system"),
])
def test_layer_config_values_naming_code_are_refused(tmp_path, field, value):
    path, meta, tensors = _saved(tmp_path)
    config = json.loads(meta["model_config"])
    config["config"]["layers"][1]["config"][field] = value
    meta["model_config"] = json.dumps(config)
    with pytest.raises(ModelFileError):
        load_model(_write(path, tensors, meta))


@pytest.mark.parametrize("units", [10**7, 10**12, 2**62])
def test_config_asking_for_huge_weights_is_refused_before_allocating(tmp_path, units):
    import tracemalloc
    path, meta, tensors = _saved(tmp_path)
    config = json.loads(meta["model_config"])
    config["config"]["layers"][1]["config"]["units"] = units
    meta["model_config"] = json.dumps(config)
    _write(path, tensors, meta)
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match="more than the file holds"):
            load_model(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20  # far less than one 16 x 10**7 float32 kernel (640 MB)


@pytest.mark.parametrize("key, value", [
    ("compile_config", json.dumps({"optimizer": {"class_name": "os.system", "config": {}},
                                   "loss": "mse"})),
    ("compile_config", json.dumps({"optimizer": "adam", "loss": "__import__"})),
    ("compile_config", "[1, 2]"),
    ("rng_states", json.dumps(["os.system"] * 4)),
    ("rng_states", json.dumps([{"bit_generator": "MT19937", "state": {}}] * 4)),
])
def test_crafted_training_state_is_refused(tmp_path, key, value):
    path, meta, tensors = _saved(tmp_path)
    n_gens = len(json.loads(meta["rng_states"]))
    if key == "rng_states":
        value = json.dumps(json.loads(value)[:1] * n_gens)
    meta[key] = value
    with pytest.raises(ModelFileError, match="corrupt|compile=False"):
        load_model(_write(path, tensors, meta))
    if key == "compile_config":  # the architecture and weights remain usable
        assert len(load_model(path, compile=False).weights) == 8


def test_crafted_optimizer_state_is_refused(tmp_path):
    path, meta, tensors = _saved(tmp_path)
    key = next(k for k in tensors if k.startswith("optimizer/") and k.endswith("/m"))
    tensors[key] = np.zeros(7, np.float32)
    with pytest.raises(ModelFileError, match=r"optimizer state.*compile=False"):
        load_model(_write(path, tensors, meta))
    tensors.pop(key)
    tensors["optimizer/../../evil"] = np.zeros(7, np.float32)
    with pytest.raises(ModelFileError, match="compile=False"):
        load_model(_write(path, tensors, meta))


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12)


def _paths(tree, prefix=()):
    """Every place in a JSON tree that a value could be replaced."""
    yield prefix
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            yield from _paths(v, (*prefix, i))


def _replace(tree, path, value):
    if not path:
        return value
    tree[path[0]] = _replace(tree[path[0]], path[1:], value)
    return tree


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_json_in_the_header_fails_cleanly(tmp_path_factory, data):
    """Random JSON values put anywhere in the stored architecture, compile settings, weight names
    or random states: load either works or raises ModelFileError (no other exception, no huge
    allocation: the weight budget bounds what an architecture may ask for)."""
    cache = test_fuzzed_json_in_the_header_fails_cleanly.__dict__
    if "saved" not in cache:
        cache["saved"] = _saved(tmp_path_factory.mktemp("fuzz-json"))
    path, meta, tensors = cache["saved"]
    key = data.draw(st.sampled_from(["model_config", "compile_config", "weight_names",
                                     "rng_states"]))
    tree = json.loads(meta[key])
    where = data.draw(st.sampled_from(list(_paths(tree))))
    tree = _replace(tree, where, data.draw(_json_values))
    target = path.with_name("fuzzed.safetensors")
    _write(target, tensors, {**meta, key: json.dumps(tree)})
    try:
        load_model(target)
    except ModelFileError:
        pass
