"""Saving and loading: exact round trips, atomic writes, and refusing bad files safely."""

import json
import os
import signal
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import unafraid as tf
from unafraid.io.saving import ModelFileError, load_model
from unafraid.keras import layers

REPO = str(Path(__file__).resolve().parents[1])  # subprocesses import the unafraid under test


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


def test_subclassed_model_saves_by_class_name_and_loads_with_its_class(tmp_path):
    class Net(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.d = layers.Dense(2)

        def call(self, x):
            return self.d(x)

    net = Net()
    x = np.ones((1, 3), np.float32)
    net(x)
    net.save(tmp_path / "n.safetensors")  # Keras 3's way: the class name and its config, no code
    again = tf.keras.models.load_model(tmp_path / "n.safetensors", custom_objects={"Net": Net})
    assert isinstance(again, Net)
    w, b = net.d.get_weights()
    np.testing.assert_allclose(np.asarray(again(x)), x @ w + b, rtol=1e-6)
    # without the class: the layer graph its call ran (kept in the file) is loaded, with a warning
    with pytest.warns(UserWarning, match="your own class 'Net'.*custom_objects"):
        revived = tf.keras.models.load_model(tmp_path / "n.safetensors")
    assert not isinstance(revived, Net)
    np.testing.assert_allclose(np.asarray(revived(x)), x @ w + b, rtol=1e-6)


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


def test_format_1_files_have_their_adam_moments_converted(tmp_path):
    """Format 1 stored M = m / (1 - beta_1) and V = v / (1 - beta_2); loading gives m and v back."""
    from safetensors.numpy import load_file, save
    model = small_model()
    model.compile(optimizer=tf.keras.optimizers.Adam(beta_1=0.8, beta_2=0.99, amsgrad=True),
                  loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(1).random((16, 4, 4)).astype(np.float32)
    model.fit(x, np.arange(16) % 3, epochs=1, verbose=0)
    path = tmp_path / "m.safetensors"
    model.save(path)
    tensors = load_file(str(path))
    want = {k: v.astype(np.float64) for k, v in tensors.items() if k.startswith("optimizer/0/")}
    tensors["optimizer/0/m"] = (want["optimizer/0/m"] / 0.2).astype(np.float32)   # as format 1 did
    for key in ("optimizer/0/v", "optimizer/0/v_hat"):
        tensors[key] = (want[key] / 0.01).astype(np.float32)
    from safetensors import safe_open
    meta = dict(safe_open(str(path), "np").metadata())
    path.write_bytes(save(tensors, metadata={**meta, "format_version": "1"}))
    state = load_model(path).optimizer.state_dict()
    for key in ("m", "v", "v_hat"):
        np.testing.assert_allclose(state[f"0/{key}"], want[f"optimizer/0/{key}"], rtol=1e-6)


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
                                env={**os.environ, "PYTHONPATH": REPO},  # this unafraid, not one installed
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


# ---- loading is bounded by the file's size -------------------------------------------------------
def _empty_meta(tmp_path):
    """Metadata of a weightless saved model, to put a crafted architecture in."""
    from safetensors import safe_open
    tf.keras.Sequential([layers.Activation("relu", input_shape=(3,))]).save(tmp_path / "e.safetensors")
    return dict(safe_open(str(tmp_path / "e.safetensors"), "np").metadata())


def _activation_stack(n):
    return {"class_name": "Sequential", "config": {"name": "s", "build_input_shape": [None, 3],
            "layers": [{"class_name": "Activation", "config": {
                "activation": "relu", "name": f"a{i}", **({"input_shape": [3]} if i == 0 else {})}}
                for i in range(n)]}}


def _shared_chain(n):
    """A functional model calling one Activation layer n times in a chain."""
    nodes = [{"layer": "a", "args": [-1, 0, "in"] if i == 0 else [i - 1, 0, "a"], "kwargs": {}}
             for i in range(n)]
    return {"class_name": "Functional", "config": {
        "name": "f", "inputs": [{"batch_shape": [None, 3], "dtype": "float32", "name": "in"}],
        "layers": [{"class_name": "Activation", "config": {"activation": "relu", "name": "a"}}],
        "nodes": nodes, "input_refs": [[-1, 0, "in"]], "output_refs": [[n - 1, 0, "a"]],
        "single_input": True, "single_output": True}}


def _shape_calls(monkeypatch):
    """Count every compute_output_shape call of Activation layers (the per-layer build work)."""
    calls = []
    original = layers.Activation.compute_output_shape

    def counted(self, shape):
        calls.append(1)
        return original(self, shape)
    monkeypatch.setattr(layers.Activation, "compute_output_shape", counted)
    return calls


@pytest.mark.parametrize("build", [_activation_stack, _shared_chain])
def test_loading_many_layers_takes_linear_time(tmp_path, monkeypatch, build):
    """10,000 layers in a Sequential (46 s before: it rebuilt itself after every add) and a chain
    of 10,000 calls of one shared layer (49 s before): each layer's shape is worked out a
    bounded number of times (not n times), and the load ends well within a generous limit."""
    meta = _empty_meta(tmp_path)
    n = 10_000
    meta["weight_names"] = "[]"
    meta["model_config"] = json.dumps(build(n))
    path = _write(tmp_path / "many.safetensors", {}, meta)
    calls = _shape_calls(monkeypatch)
    start = time.perf_counter()
    model = load_model(path)
    elapsed = time.perf_counter() - start
    assert len(calls) <= 3 * n  # O(n^2) would be ~n**2 / 2 = 5 * 10**7
    assert elapsed < 30, elapsed  # a few seconds on a loaded machine
    np.testing.assert_array_equal(model.predict(np.array([[-1.0, 0.0, 2.0]], np.float32)),
                                  [[0.0, 0.0, 2.0]])


def test_sequential_built_from_a_list_builds_once(monkeypatch):
    """Sequential([...n layers...]) with an input shape, or n calls of add, works each layer's
    shape out a bounded number of times (the model does not rebuild itself after every add)."""
    calls = _shape_calls(monkeypatch)
    model = tf.keras.Sequential([layers.Activation("relu", input_shape=(3,))]
                                + [layers.Activation("relu") for _ in range(499)])
    assert model.built and len(calls) <= 2 * 500
    calls.clear()
    model = tf.keras.Sequential([layers.Dense(4, input_shape=(3,))])
    for _ in range(499):
        model.add(layers.Activation("relu"))
    model.add(layers.Dense(2))
    assert model.built and len(calls) <= 2 * 500
    assert [w.shape for w in model.weights] == [(3, 4), (4,), (4, 2), (2,)]
    x = np.array([[1.0, -2.0, 3.0]], np.float32)
    kernel, bias, kernel2, bias2 = model.get_weights()
    np.testing.assert_allclose(model.predict(x, verbose=0),
                               np.maximum(x @ kernel + bias, 0) @ kernel2 + bias2, rtol=1e-6)


@pytest.mark.parametrize("what, limit", [("layers", "MAX_LAYERS"), ("nodes", "MAX_NODES")])
def test_more_layers_or_calls_than_any_real_model_are_refused_fast(tmp_path, monkeypatch, what,
                                                                   limit):
    """Past MAX_LAYERS layers or MAX_NODES layer calls, the architecture is refused before
    anything is built, in well under a second of work (MAX_NODES is lowered to 20,000 here
    to keep the crafted file small; the check is the same)."""
    from unafraid.io import saving
    if limit == "MAX_NODES":
        monkeypatch.setattr(saving, "MAX_NODES", 20_000)
    meta = _empty_meta(tmp_path)
    n = getattr(saving, limit) + 1
    meta["model_config"] = json.dumps(_activation_stack(n) if what == "layers" else _shared_chain(n))
    path = _write(tmp_path / "big.safetensors", {}, meta)
    start = time.perf_counter()
    with pytest.raises(ModelFileError, match=rf"{n:,} (layers|layer calls), more than .*{limit}"):
        load_model(path)
    assert time.perf_counter() - start < 10


def test_a_header_of_a_million_empty_tensors_is_refused_fast(tmp_path):
    """1.4 million empty tensors in the header (55 s and 1.2 GB before): counted in the raw
    header, in chunks, and refused before anything is parsed."""
    import tracemalloc
    entries = b",".join(b'"t%d":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}' % i
                        for i in range(1_400_000))
    path = tmp_path / "tensors.safetensors"
    path.write_bytes(struct.pack("<Q", len(entries) + 2) + b"{" + entries + b"}")
    assert path.stat().st_size > 75 * 2**20
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(ModelFileError, match=r"more than 100,000 tensors.*MAX_TENSORS"):
            load_model(path)
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert elapsed < 10 and peak < 8 * 2**20, (elapsed, peak)


@pytest.mark.parametrize("item", ["[]", '"ab"', "1.5", '{"a":1}'])
def test_json_of_a_million_values_is_refused_before_parsing(tmp_path, item):
    """A metadata entry of 1.5 million tiny values (each ~25-60 bytes once parsed, from 3 to 8
    bytes of text): refused unparsed."""
    import tracemalloc
    path, meta, tensors = _saved(tmp_path)
    meta["model_config"] = "[" + ",".join([item] * 1_500_000) + "]"
    _write(path, tensors, meta)
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match=r"model_config.*about [\d,]+ JSON values.*"
                                                 r"MAX_JSON_VALUES"):
            load_model(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 60 * 2**20, peak  # the metadata string itself (up to 12 MB), a few times


def test_weight_budget_counts_the_real_itemsize(tmp_path):
    """10 MiB of uint8 zeros stored as the weights of a float32 Dense: the budget counts 1 byte
    per stored value (not 8), so the 4-byte kernel is refused before allocation; memory stays
    within a small multiple of the file (it reached 1.5 GB before)."""
    import tracemalloc

    from safetensors import safe_open
    model = tf.keras.Sequential([layers.Dense(1024, input_shape=(2560,))])
    model.save(tmp_path / "m.safetensors")
    meta = dict(safe_open(str(tmp_path / "m.safetensors"), "np").metadata())
    tensors = {"weights/0": np.zeros((2560, 1024), np.uint8), "weights/1": np.zeros(1024, np.uint8)}
    path = _write(tmp_path / "zeros.safetensors", tensors, meta)
    size = path.stat().st_size
    assert size > 2.5 * 2**20
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match=r"more than the file holds.*dtype uint8.*Nothing"):
            load_model(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * size, (peak, size)


def test_loading_draws_no_random_weights(tmp_path, monkeypatch):
    """Loading creates the weights as zeros and assigns the file's values: no initializer draws
    (random draws in float64 that the load would overwrite), and peak memory is about the
    weights twice (the model's, and the array being read), not more."""
    import tracemalloc

    from unafraid import initializers
    model = tf.keras.Sequential([layers.Dense(1000, input_shape=(1000,)), layers.Dense(1000)])
    model.save(tmp_path / "m.safetensors")

    def no_draw(self):
        raise AssertionError("an initializer drew random numbers during load_model")
    monkeypatch.setattr(initializers._Seeded, "_rng", no_draw)  # every random initializer's source
    tracemalloc.start()
    try:
        again = load_model(tmp_path / "m.safetensors")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    for a, b in zip(again.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    weights = sum(w.nbytes for w in model.get_weights())  # 8 MB
    assert peak < 2.5 * weights, (peak, weights)


# ---- every refusal is a ModelFileError ----------------------------------------------------------
@pytest.mark.parametrize("dtype, nbytes", [("BF16", 2), ("F8_E4M3", 1), ("F8_E5M2", 1), ("F4", 0.5)])
def test_weights_of_dtypes_numpy_cannot_hold_are_refused(tmp_path, dtype, nbytes):
    """bfloat16, float8 and float4 weights (AttributeError / TypeError from safetensors before):
    a ModelFileError naming the tensor, its dtype, what unafraid reads, and the fix."""
    path, meta, tensors = _saved(tmp_path)
    header, data, offset = {"__metadata__": meta}, b"", 0
    for key, array in tensors.items():
        size = array.nbytes if key != "weights/0" else int(array.size * nbytes)
        raw = array.tobytes() if key != "weights/0" else b"\0" * size
        header[key] = {"dtype": dtype if key == "weights/0" else
                       {"float32": "F32", "int64": "I64"}[str(array.dtype)],
                       "shape": list(array.shape), "data_offsets": [offset, offset + size]}
        data, offset = data + raw, offset + size
    _raw_file(path, header, data)
    for load in (load_model, lambda p: small_model().load_weights(p)):
        with pytest.raises(ModelFileError, match=rf"'weights/0' is stored as {dtype}.*NumPy.*"
                                                 r"convert its weights to float32"):
            load(path)


@pytest.mark.parametrize("layer, field, value", [
    (3, "epsilon", -1), (3, "epsilon", 0), (3, "epsilon", float("inf")), (3, "momentum", float("nan")),
    (3, "momentum", 2.5), (3, "momentum", "0.9"), (3, "axis", "x"), (3, "axis", [1, 1]),
    (1, "kernel_regularizer", {"class_name": "L2", "config": {"l2": float("nan")}}),
    (1, "kernel_regularizer", {"class_name": "L1", "config": {"l1": -0.01}}),
    (1, "units", float("nan")), (2, "rate", float("inf")),
    (1, "kernel_initializer", {"class_name": "RandomNormal", "config": {"stddev": -1}}),
    (1, "kernel_initializer", {"class_name": "RandomUniform", "config": {"minval": 1, "maxval": -1}}),
    (1, "kernel_initializer", {"class_name": "VarianceScaling", "config": {"scale": 0}}),
    (1, "bias_initializer", {"class_name": "Constant", "config": {"value": float("nan")}}),
    (1, "kernel_initializer", {"class_name": "TruncatedNormal", "config": {"seed": -3}}),
])
def test_nonsensical_config_values_are_refused_on_load(tmp_path, layer, field, value):
    """Settings no layer can have (epsilon=-1, momentum=NaN...) loaded silently before: each is
    a ModelFileError that names the layer and the setting, and nothing is built."""
    path, meta, tensors = _saved(tmp_path)
    config = json.loads(meta["model_config"])
    config["config"]["layers"][layer]["config"][field] = value
    meta["model_config"] = json.dumps(config)  # writes NaN / Infinity as Python's json does
    with pytest.raises(ModelFileError) as info:
        load_model(_write(path, tensors, meta))
    message = str(info.value)
    setting = field if not isinstance(value, dict) else next(iter(value["config"]))
    assert setting in message and ("must be" in message or "no saved model holds" in message)


@pytest.mark.parametrize("key", ["compile_config", "rng_states", "weight_names", "model_config"])
@pytest.mark.parametrize("token", ["NaN", "-Infinity", "1e999"])
def test_non_finite_numbers_anywhere_in_the_metadata_are_refused(tmp_path, key, token):
    """NaN, infinities and numbers too large for a float (1e999 reads as inf) are refused."""
    path, meta, tensors = _saved(tmp_path)
    text = meta[key]
    meta[key] = (text[:-1] + f', "extra": {token}}}' if text.endswith("}")
                 else text.replace("]", f", {token}]", 1))
    with pytest.raises(ModelFileError, match=rf"'{key}' entry sets .* to (nan|-?inf).*no saved model"):
        load_model(_write(path, tensors, meta))
