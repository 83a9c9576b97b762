"""Keras 3 '.keras' files: unafraid -> Keras and Keras -> unafraid, checked against real Keras 3
(JAX backend), and the refusals of files that are malformed, crafted or hold code.

Keras, JAX and h5py are in the `test` extra (pinned in pyproject.toml), so these tests run in CI.
"""

import io
import json
import os
import zipfile

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")
h5py = pytest.importorskip("h5py", reason="h5py is in the test extra; pip install -e '.[test]'")
keras = pytest.importorskip("keras", reason="keras (JAX backend) is in the test extra; "
                                            "pip install -e '.[test]'")

import unafraid as tf  # noqa: E402
from unafraid.io import keras_format  # noqa: E402
from unafraid.io.saving import ModelFileError, load_model  # noqa: E402

L = tf.keras.layers
RNG = np.random.default_rng(0)
X = RNG.random((48, 4, 5), dtype=np.float32)
Y = np.arange(48) % 3


def unafraid_sequential():
    return tf.keras.Sequential([
        tf.keras.Input((4, 5)), L.Flatten(), L.Dense(8, activation="relu"), L.BatchNormalization(),
        L.LayerNormalization(), L.Dropout(0.25), L.Reshape((2, 4)), L.Flatten(),
        L.Activation("tanh"), L.Dense(3, kernel_regularizer="l2"), L.Softmax()])


def keras_sequential():
    K = keras.layers
    return keras.Sequential([
        keras.Input((4, 5)), K.Flatten(), K.Dense(8, activation="relu"), K.BatchNormalization(),
        K.LayerNormalization(), K.Dropout(0.25), K.Reshape((2, 4)), K.Flatten(),
        K.Activation("tanh"), K.Dense(3), K.Softmax()])


def keras_slots(model):
    """Keras's optimizer variables as arrays (iterations, learning rate, then the slots)."""
    return [np.asarray(v) for v in model.optimizer.variables]


# ---- unafraid -> Keras ----------------------------------------------------------------------------
@pytest.mark.parametrize("optimizer", [
    tf.keras.optimizers.Adam(learning_rate=0.01),
    tf.keras.optimizers.Adam(amsgrad=True),
    tf.keras.optimizers.SGD(0.05, momentum=0.9),
    tf.keras.optimizers.RMSprop(momentum=0.5, centered=True),
    tf.keras.optimizers.Adagrad(),
    tf.keras.optimizers.AdamW(learning_rate=0.01, weight_decay=0.01),
], ids=["adam", "adam-amsgrad", "sgd-momentum", "rmsprop-centered", "adagrad", "adamw"])
def test_unafraid_to_keras_same_predictions_state_and_trains_on(tmp_path, optimizer):
    model = unafraid_sequential()
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(X, Y, batch_size=16, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")

    k = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(k.predict(X, verbose=0), model.predict(X, verbose=0), atol=1e-6)
    assert type(k.optimizer).__name__ == type(optimizer).__name__
    # every optimizer array where Keras keeps it: the step, the learning rate, each slot
    ours = keras_format.optimizer_arrays(model.optimizer)
    theirs = keras_slots(k)
    assert len(theirs) == len(ours) and int(theirs[0]) == 3
    for a, b in zip(ours[1:], theirs[1:], strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-7)
    history = k.fit(X, Y, batch_size=16, epochs=1, verbose=0)
    assert int(k.optimizer.iterations) == 6 and np.isfinite(history.history["loss"][0])


def test_unafraid_functional_with_branches_to_keras(tmp_path):
    """Two outputs at different depths: Keras addresses weights by its own layer order."""
    inputs = tf.keras.Input((6,), name="features")
    h = L.Dense(5, activation="relu")(inputs)
    deep = L.Dense(3, activation="softmax", name="deep")(L.Dense(4)(h))
    shallow = L.Dense(2, name="shallow")(inputs)
    model = tf.keras.Model(inputs, [deep, shallow])
    x = RNG.random((7, 6), dtype=np.float32)
    model.save(tmp_path / "f.keras")
    k = keras.saving.load_model(tmp_path / "f.keras")
    for ours, theirs in zip(model.predict(x, verbose=0), k.predict(x, verbose=0), strict=True):
        np.testing.assert_allclose(theirs, ours, atol=1e-6)
    assert [layer.name for layer in k.layers] == [
        layer.name for layer in keras_format.keras_layers(model)]


def test_keras_layout_of_the_file(tmp_path):
    """The members and groups Keras 3 writes (checked by hand against keras 3.15's own files)."""
    model = unafraid_sequential()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(X, Y, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        assert {"metadata.json", "config.json", "model.weights.h5"} <= set(zf.namelist())
        config = json.loads(zf.read("config.json"))
        h5 = h5py.File(io.BytesIO(zf.read("model.weights.h5")))
    assert config["class_name"] == "Sequential" and config["module"] == "keras"
    dense = config["config"]["layers"][2]
    assert dense["module"] == "keras.layers" and dense["registered_name"] is None
    assert dense["config"]["kernel_initializer"]["module"] == "keras.initializers"
    assert config["compile_config"]["optimizer"]["class_name"] == "Adam"
    assert sorted(h5["layers"]) == ["activation", "batch_normalization", "dense", "dense_1",
                                    "dropout", "flatten", "flatten_1", "layer_normalization",
                                    "reshape", "softmax"]
    assert h5["layers/dense_1/vars"].attrs["name"] == model.layers[-2].name
    np.testing.assert_array_equal(h5["layers/batch_normalization/vars/3"],
                                  model.layers[2].moving_variance.data)
    assert len(h5["optimizer/vars"]) == 2 + 2 * len(model.trainable_weights)


def test_unafraid_round_trip_through_keras_format_is_exact(tmp_path):
    model = unafraid_sequential()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(X, Y, epochs=1, verbose=0)
    tf.keras_format.save(model, tmp_path / "m.keras")  # what model.save(".keras") calls
    again = tf.keras_format.load(tmp_path / "m.keras")
    np.testing.assert_array_equal(again.predict(X, verbose=0), model.predict(X, verbose=0))
    model.fit(X, Y, epochs=1, verbose=0)
    again.fit(X, Y, epochs=1, verbose=0)  # same optimizer state and random streams
    for a, b in zip(model.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_subclassed_and_unknown_layers_are_not_written(tmp_path):
    class Net(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.d = L.Dense(2)

        def call(self, x):
            return self.d(x)

    net = Net()
    net(np.ones((1, 3), np.float32))
    with pytest.raises(ValueError, match=r"subclassed model.*Sequential or functional"):
        net.save(tmp_path / "n.keras")
    assert not (tmp_path / "n.keras").exists()

    class Doubler(tf.keras.layers.Layer):
        def call(self, x):
            return x * 2

    model = tf.keras.Sequential([tf.keras.Input((3,)), L.Dense(2), Doubler(name="twice")])
    with pytest.raises(ValueError, match=r"Layer 'twice' \(Doubler\) cannot be written to a \.keras file.*"
                                         r"m\.safetensors"):
        model.save(tmp_path / "d.keras")
    assert not (tmp_path / "d.keras").exists()


# ---- Keras -> unafraid ----------------------------------------------------------------------------
def test_keras_to_unafraid_same_predictions_state_and_trains_on(tmp_path):
    k = keras_sequential()
    k.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
    k.fit(X, Y, batch_size=16, epochs=1, verbose=0)
    k.save(tmp_path / "k.keras")

    model = load_model(tmp_path / "k.keras")
    np.testing.assert_allclose(model.predict(X, verbose=0), k.predict(X, verbose=0), atol=1e-6)
    assert model.optimizer.iterations == 3
    for a, b in zip(keras_format.optimizer_arrays(model.optimizer)[1:], keras_slots(k)[1:],
                    strict=True):
        np.testing.assert_array_equal(a, b)
    history = model.fit(X, Y, batch_size=16, epochs=1, verbose=0)
    assert model.optimizer.iterations == 6 and np.isfinite(history.history["loss"][0])


def test_keras_functional_to_unafraid(tmp_path):
    inputs = keras.Input((6,), name="x")
    h = keras.layers.Dense(5, activation="gelu")(inputs)
    out = keras.layers.Dense(2, activation="sigmoid")(keras.layers.Dropout(0.1)(h))
    side = keras.layers.Dense(3)(inputs)
    k = keras.Model(inputs, [out, side])
    k.save(tmp_path / "k.keras")
    x = RNG.random((9, 6), dtype=np.float32)
    model = load_model(tmp_path / "k.keras")
    for ours, theirs in zip(model.predict(x, verbose=0), k.predict(x, verbose=0), strict=True):
        np.testing.assert_allclose(ours, theirs, atol=1e-6)


def test_objects_schedules_and_nested_models_cross_both_ways(tmp_path):
    """Loss and metric objects, a learning-rate schedule, a Sequential inside a Sequential."""
    x = RNG.random((32, 5), dtype=np.float32)
    y = np.arange(32) % 3
    k = keras.Sequential([keras.Input((5,)), keras.Sequential([keras.layers.Dense(4, "relu")]),
                          keras.layers.Dense(3)])
    k.compile(optimizer=keras.optimizers.SGD(keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9),
                                             momentum=0.9),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=[keras.metrics.SparseCategoricalAccuracy()])
    k.fit(x, y, batch_size=16, epochs=1, verbose=0)
    k.save(tmp_path / "k.keras")
    model = load_model(tmp_path / "k.keras")
    np.testing.assert_allclose(model.predict(x, verbose=0), k.predict(x, verbose=0), atol=1e-6)
    assert model.optimizer.iterations == 2
    assert model.optimizer.learning_rate == pytest.approx(0.1 * 0.9 ** (2 / 10))  # Keras's formula
    assert model.get_compile_config()["loss"]["config"]["from_logits"] is True
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    model.save(tmp_path / "u.keras")
    again = keras.saving.load_model(tmp_path / "u.keras")
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    assert int(again.optimizer.iterations) == 4
    again.fit(x, y, batch_size=16, epochs=1, verbose=0)


def test_compiled_but_untrained_models_cross_both_ways(tmp_path):
    """No optimizer state yet: Keras writes only the step count and learning rate, and expects
    slots of zeros (Adagrad: its initial accumulator value) from unafraid."""
    with pytest.warns() as caught:  # Keras warns if the optimizer state does not match
        model = tf.keras.Sequential([tf.keras.Input((5,)), L.Dense(3)])
        model.compile(tf.keras.optimizers.Adagrad(initial_accumulator_value=0.3), "mse")
        model.save(tmp_path / "u.keras")
        k = keras.saving.load_model(tmp_path / "u.keras")
        import warnings
        warnings.warn("sentinel")
    assert [str(w.message) for w in caught] == ["sentinel"]
    np.testing.assert_array_equal(keras_slots(k)[2], np.full((5, 3), 0.3, np.float32))
    k.fit(np.ones((4, 5)), np.ones((4, 3)), verbose=0)

    k = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3)])
    k.compile(keras.optimizers.Adam(0.02), "mse")
    k.save(tmp_path / "k.keras")
    model = load_model(tmp_path / "k.keras")
    assert model.optimizer.iterations == 0
    assert model.optimizer.learning_rate == pytest.approx(0.02, rel=1e-7)  # Keras stores float32
    model.fit(np.ones((4, 5)), np.ones((4, 3)), verbose=0)
    assert model.optimizer.iterations == 1


# ---- refusals -------------------------------------------------------------------------------------
def test_lambda_layer_is_refused_by_name(tmp_path):
    k = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(lambda t: t * 2, name="doubler")])
    k.save(tmp_path / "lam.keras")
    with pytest.raises(ModelFileError, match=r"Lambda layer \('doubler'\).*never runs code"):
        load_model(tmp_path / "lam.keras")


def test_custom_class_is_refused_by_name(tmp_path):
    @keras.saving.register_keras_serializable(package="lab")
    class Scale(keras.layers.Layer):
        def call(self, x):
            return x * 3

    k = keras.Sequential([keras.Input((3,)), Scale()])
    k.save(tmp_path / "custom.keras")
    with pytest.raises(ModelFileError, match=r"class 'lab>Scale'.*cannot load.*Dense"):
        load_model(tmp_path / "custom.keras")


def write_keras(path, config, weights=b"", extra=()):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("config.json", json.dumps(config) if not isinstance(config, bytes) else config)
        zf.writestr("model.weights.h5", weights)
        for name, data in extra:
            zf.writestr(name, data)
    return path


def h5_bytes(build):
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as h5:
        build(h5)
    return buffer.getvalue()


def one_dense(units, n_in=3):
    return {"module": "keras", "class_name": "Sequential", "config": {"name": "s", "layers": [
        {"module": "keras.layers", "class_name": "InputLayer",
         "config": {"batch_shape": [None, n_in], "dtype": "float32", "name": "in"}},
        {"module": "keras.layers", "class_name": "Dense", "config": {"name": "d", "units": units}}]}}


def test_an_architecture_larger_than_its_weights_is_refused(tmp_path):
    """Dense(10**9) with a tiny weights file: refused before anything is allocated."""
    weights = h5_bytes(lambda h5: h5.create_dataset("layers/dense/vars/0", data=np.zeros((3, 2))))
    path = write_keras(tmp_path / "big.keras", one_dense(10**9), weights)
    with pytest.raises(ModelFileError, match=r"could not re-create the architecture.*more than "
                                             r"the file holds"):
        load_model(path)


def test_a_dataset_header_bomb_is_refused(tmp_path):
    """An HDF5 dataset declaring 4 TB that stores nothing (chunked, never written)."""
    weights = h5_bytes(lambda h5: h5.create_dataset("layers/dense/vars/0", shape=(10**6, 10**6),
                                                    dtype="f4", chunks=(1, 1)))
    path = write_keras(tmp_path / "bomb.keras", one_dense(2), weights)
    with pytest.raises(ModelFileError, match=r"declares 4,000,000,000,000 bytes.*header bomb"):
        load_model(path)


def test_a_zip_bomb_member_is_refused(tmp_path):
    path = tmp_path / "zipbomb.keras"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("config.json", json.dumps(one_dense(2)))
        zf.writestr("model.weights.h5", b"\0" * 50_000_000)
    with pytest.raises(ModelFileError, match=r"'model.weights.h5' claims 50,000,000 bytes.*"
                                             r"decompression bomb"):
        load_model(path)


def test_soft_links_in_the_weights_are_refused(tmp_path):
    def build(h5):
        h5.create_dataset("layers/dense/vars/0", data=np.zeros((3, 2), "f4"))
        h5["layers/dense/vars/1"] = h5py.SoftLink("/elsewhere")
    path = write_keras(tmp_path / "link.keras", one_dense(2), h5_bytes(build))
    with pytest.raises(ModelFileError, match=r"'layers/dense/vars/1' is a SoftLink"):
        load_model(path)


@pytest.mark.parametrize("config, message", [
    (b"{not json", r"'config.json' is not valid JSON"),
    (b"[" * 100_000 + b"]" * 100_000, r"'config.json' is not valid JSON \(RecursionError\)"),
    ([1, 2], r"not a JSON object"),
    ({"class_name": "Sequential", "module": "os", "config": {}}, r"module 'os'.*cannot load"),
    ({"class_name": "Sequential", "config": {"layers": [
        {"class_name": "Conv7D", "module": "keras.layers", "config": {}}]}},
     r"class 'Conv7D' from module 'keras.layers'.*cannot load"),
    ({"class_name": "Sequential", "config": {"layers": [{"module": "keras.layers", "class_name": "Dense",
                                                         "config": {"units": 2, "lora_rank": 4}}]}},
     r"sets lora_rank=4, which unafraid does not support"),
    ({"class_name": "Dense", "module": "keras.layers", "config": {"units": 2}}, r"not a model"),
])
def test_crafted_configs_are_refused(tmp_path, config, message):
    path = write_keras(tmp_path / "c.keras", config, h5_bytes(lambda h5: None))
    with pytest.raises(ModelFileError, match=message):
        load_model(path)


def test_weights_of_the_wrong_shape_are_refused(tmp_path):
    weights = h5_bytes(lambda h5: (h5.create_dataset("layers/dense/vars/0", data=np.zeros((3, 5))),
                                   h5.create_dataset("layers/dense/vars/1", data=np.zeros(2))))
    path = write_keras(tmp_path / "w.keras", one_dense(2), weights)
    with pytest.raises(ModelFileError, match=r"has shape \(3, 2\) but the file holds \(3, 5\)"):
        load_model(path)


def test_not_a_zip_and_missing_members(tmp_path):
    with zipfile.ZipFile(tmp_path / "empty.keras", "w") as zf:
        zf.writestr("other.txt", "hi")
    with pytest.raises(ModelFileError, match=r"has no 'config.json'.*not a Keras 3"):
        load_model(tmp_path / "empty.keras")
    (tmp_path / "trunc.keras").write_bytes(b"PK\x03\x04" + b"\0" * 20)
    with pytest.raises(ModelFileError, match=r"not a readable zip archive"):
        load_model(tmp_path / "trunc.keras")


def test_layer_table_paths_follow_keras_snake_case():
    assert keras_format.snake_case("Conv2D") == "conv2d"
    assert keras_format.snake_case("BatchNormalization") == "batch_normalization"
    assert keras_format.weight_paths(["Dense", "Dropout", "Dense"], "layers") == [
        "layers/dense", "layers/dropout", "layers/dense_1"]


@pytest.mark.parametrize("member, trials", [("model.weights.h5", 150), ("config.json", 60),
                                            ("unafraid.json", 30)])
def test_corrupted_members_load_or_raise_model_file_error(tmp_path, member, trials):
    """Random bytes changed inside one member (the zip itself stays valid, CRCs recomputed):
    the file loads, or ModelFileError is raised; never another exception."""
    model = tf.keras.Sequential([tf.keras.Input((4,)), L.Dense(3), L.BatchNormalization(), L.Dense(2)])
    model.compile("adam", "mse")
    model.fit(np.ones((8, 4)), np.ones((8, 2)), verbose=0)
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    rng = np.random.default_rng(7)
    outcomes = {"loaded": 0, "refused": 0}
    for _ in range(trials):
        data = bytearray(members[member])
        for _ in range(rng.integers(1, 8)):
            data[rng.integers(len(data))] = rng.integers(256)
        path = write_keras(tmp_path / "fuzzed.keras", members["config.json"] if member != "config.json"
                           else bytes(data), members["model.weights.h5"] if member != "model.weights.h5"
                           else bytes(data), [(n, bytes(data) if n == member else d)
                                              for n, d in members.items() if n not in (
                                                  "config.json", "model.weights.h5")])
        try:
            load_model(path)
            outcomes["loaded"] += 1
        except ModelFileError:
            outcomes["refused"] += 1
    assert outcomes["refused"] > 0
