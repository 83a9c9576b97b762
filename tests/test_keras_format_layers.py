"""The layers of issue 17 in Keras 3 '.keras' files, both ways, checked against real Keras 3 (JAX
backend): merge layers in models with two inputs, Embedding, Masking, constraints, the
activation, noise and reshaping layers, and the preprocessing layers.

Each model is built the same way in unafraid and in Keras (``K`` is ``unafraid.keras`` or
``keras``); a model saved by one side must predict the same values when the other side opens it.

Keras, JAX and h5py are in the `test` extra (pinned in pyproject.toml), so these tests run in CI.
"""

import json
import os
import zipfile

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")
h5py = pytest.importorskip("h5py", reason="h5py is in the test extra; pip install -e '.[test]'")
keras = pytest.importorskip("keras", reason="keras (JAX backend) is in the test extra; "
                                            "pip install -e '.[test]'")

from keras_crossing import predictions, same, same_weights  # noqa: E402

import unafraid as tf  # noqa: E402
from unafraid.io.keras_format import keras_layers  # noqa: E402
from unafraid.io.saving import ModelFileError, load_model  # noqa: E402

RNG = np.random.default_rng(7)
X4 = RNG.normal(size=(6, 4)).astype(np.float32)
X4B = RNG.normal(size=(6, 4)).astype(np.float32)
SEQ = RNG.normal(size=(6, 5, 3)).astype(np.float32)
SEQ[:, 3, :] = 0.0  # one masked step
SEQ[0, 1, :] = 0.0
TOKENS = RNG.integers(0, 10, size=(6, 5)).astype(np.int32)
TOKENS[:, -1] = 0  # padding, masked when mask_zero=True


def two_inputs(K, merge, width=3):
    """``a, b -> Dense(width) each -> merge -> Dense(2)``: a functional model with two inputs."""
    a, b = K.Input((4,), name="a"), K.Input((4,), name="b")
    h = merge(K.layers.Dense(width, name="da")(a), K.layers.Dense(width, name="db")(b))
    return K.Model([a, b], K.layers.Dense(2, name="out")(h))


def one_input(K, shape, *layers, dtype="float32"):
    x = inputs = K.Input(shape, dtype=dtype)
    for layer in layers:
        x = layer(K)(x)
    return K.Model(inputs, x)


# name -> (builder of the model from K, its inputs)
MODELS = {
    "Concatenate": (lambda K: two_inputs(K, lambda a, b: K.layers.Concatenate()([a, b])), [X4, X4B]),
    "Concatenate_axis": (lambda K: two_inputs(
        K, lambda a, b: K.layers.Concatenate(axis=1)([a, K.layers.Dense(2)(b)])), [X4, X4B]),
    "Add": (lambda K: two_inputs(K, lambda a, b: K.layers.Add()([a, b])), [X4, X4B]),
    "Multiply": (lambda K: two_inputs(K, lambda a, b: K.layers.Multiply()([a, b])), [X4, X4B]),
    "Average": (lambda K: two_inputs(K, lambda a, b: K.layers.Average()([a, b])), [X4, X4B]),
    "Maximum": (lambda K: two_inputs(K, lambda a, b: K.layers.Maximum()([a, b])), [X4, X4B]),
    "Minimum": (lambda K: two_inputs(K, lambda a, b: K.layers.Minimum()([a, b])), [X4, X4B]),
    "Subtract": (lambda K: two_inputs(K, lambda a, b: K.layers.Subtract()([a, b])), [X4, X4B]),
    "Dot": (lambda K: two_inputs(K, lambda a, b: K.layers.Dot(axes=1)([a, b])), [X4, X4B]),
    "Dot_normalize": (lambda K: two_inputs(
        K, lambda a, b: K.layers.Dot(axes=-1, normalize=True)([a, b])), [X4, X4B]),
    "Embedding": (lambda K: one_input(
        K, (5,), lambda K: K.layers.Embedding(10, 3), lambda K: K.layers.Flatten(),
        lambda K: K.layers.Dense(2), dtype="int32"), TOKENS),
    "Embedding_mask_zero": (lambda K: one_input(
        K, (5,), lambda K: K.layers.Embedding(10, 3, mask_zero=True), lambda K: K.layers.Dense(2),
        dtype="int32"), TOKENS),
    "Masking": (lambda K: one_input(
        K, (5, 3), lambda K: K.layers.Masking(0.0), lambda K: K.layers.Dense(4)), SEQ),
    "ReLU": (lambda K: one_input(K, (4,), lambda K: K.layers.ReLU(max_value=0.5, negative_slope=0.1,
                                                                  threshold=0.2)), X4),
    "LeakyReLU": (lambda K: one_input(K, (4,), lambda K: K.layers.LeakyReLU(0.2)), X4),
    "PReLU": (lambda K: one_input(
        K, (5, 3), lambda K: K.layers.PReLU(alpha_initializer=K.initializers.RandomUniform(0.1, 0.5),
                                            shared_axes=[1]), lambda K: K.layers.Dense(2)), SEQ),
    "ELU": (lambda K: one_input(K, (4,), lambda K: K.layers.ELU(alpha=0.7)), X4),
    "BatchNormalization_renorm": (lambda K: one_input(
        K, (4,), lambda K: K.layers.BatchNormalization(
            renorm=True, renorm_clipping={"rmax": 2.0, "rmin": 0.5, "dmax": 1.0},
            renorm_momentum=0.9, moving_mean_initializer=K.initializers.RandomUniform(-1, 1),
            moving_variance_initializer=K.initializers.RandomUniform(0.5, 2))), X4),
    "LayerNormalization_rms_scaling": (lambda K: one_input(
        K, (4,), lambda K: K.layers.LayerNormalization(
            rms_scaling=True, gamma_initializer=K.initializers.RandomUniform(0.5, 2))), X4),
    "noise": (lambda K: one_input(
        K, (4,), lambda K: K.layers.Dense(3), lambda K: K.layers.GaussianNoise(0.3, seed=2),
        lambda K: K.layers.GaussianDropout(0.2), lambda K: K.layers.AlphaDropout(0.1),
        lambda K: K.layers.ActivityRegularization(l1=0.01, l2=0.02), lambda K: K.layers.Dense(2)), X4),
    "RepeatVector_Permute": (lambda K: one_input(
        K, (4,), lambda K: K.layers.Dense(3), lambda K: K.layers.RepeatVector(5),
        lambda K: K.layers.Permute((2, 1)), lambda K: K.layers.Dense(2)), X4),
    "CategoryEncoding": (lambda K: one_input(
        K, (5,), lambda K: K.layers.CategoryEncoding(10, output_mode="count"),
        lambda K: K.layers.Dense(2), dtype="int32"), TOKENS),
    "Discretization": (lambda K: one_input(
        K, (4,), lambda K: K.layers.Discretization(bin_boundaries=[-1.0, 0.0, 0.5],
                                                   output_mode="one_hot"),
        lambda K: K.layers.Flatten(), lambda K: K.layers.Dense(2)), X4),
}


def classes(layers):
    return [type(layer).__name__ for layer in layers]


def plain(value):
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return np.float32(value) if isinstance(value, float) else value


def same_arguments(ours, theirs):
    """Every argument both sides name has the same value (nested objects and names aside)."""
    for a, b in zip(ours, theirs, strict=True):
        mine, other = a.get_config(), b.get_config()
        for key in (set(mine) & set(other)) - {"name", "dtype"}:
            if not isinstance(mine[key], dict) and (key, mine[key]) != ("data_format", None):
                x, y = plain(mine[key]), plain(other[key])
                if key == "axis":  # Keras's LayerNormalization writes -1 as [-1] once built
                    x, y = np.atleast_1d(x).tolist(), np.atleast_1d(y).tolist()
                assert x == y, (a.name, key, mine[key], other[key])


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_unafraid_model_opens_in_keras_with_the_same_predictions(tmp_path, kind):
    build, x = MODELS[kind]
    model = build(tf.keras)
    model.save(tmp_path / "m.keras")
    k = keras.saving.load_model(tmp_path / "m.keras")
    assert classes(k.layers) == classes(keras_layers(model))
    same_arguments(keras_layers(model), k.layers)
    same(predictions(model, x), predictions(k, x))
    same_weights(keras_layers(model), k.layers)


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_keras_model_opens_in_unafraid_with_the_same_predictions(tmp_path, kind):
    build, x = MODELS[kind]
    keras.utils.set_random_seed(1)
    k = build(keras)
    k.save(tmp_path / "k.keras")
    model = load_model(tmp_path / "k.keras")
    assert classes(keras_layers(model)) == classes(k.layers)
    same_arguments(keras_layers(model), k.layers)
    same(predictions(k, x), predictions(model, x))
    same_weights(keras_layers(model), k.layers)


# ---- constraints, regularizers and synchronized cross in both directions ---------------------------
def constrained(K):
    x = inputs = K.Input((5,), dtype="int32")
    x = K.layers.Embedding(10, 4, embeddings_constraint=K.constraints.UnitNorm(axis=1),
                          name="embedding")(x)
    x = K.layers.LayerNormalization(beta_constraint=K.constraints.MaxNorm(0.5),
                                    gamma_constraint="non_neg",
                                    gamma_regularizer=K.regularizers.L2(0.01),
                                    name="layer_normalization")(x)
    x = K.layers.Flatten()(x)
    x = K.layers.BatchNormalization(gamma_constraint=K.constraints.MinMaxNorm(0.5, 2.0, rate=0.5),
                                    beta_constraint="non_neg", beta_regularizer="l1",
                                    name="batch_normalization")(x)
    return K.Model(inputs, K.layers.Dense(2, kernel_constraint=K.constraints.MaxNorm(1.5, axis=0),
                                          bias_constraint="non_neg", name="dense")(x))


CONSTRAINED = {"embedding": ["embeddings_constraint"],
               "layer_normalization": ["beta_constraint", "gamma_constraint", "gamma_regularizer"],
               "batch_normalization": ["beta_constraint", "gamma_constraint", "beta_regularizer"],
               "dense": ["kernel_constraint", "bias_constraint"]}


def nested(config):
    """A nested object's class and arguments, whichever side wrote it (floats as float32)."""
    if config is None:
        return None
    return config["class_name"], {k: np.float32(v) if isinstance(v, float) else v
                                  for k, v in config["config"].items()}


def check_same_settings(ours, theirs):
    by_class = {type(layer).__name__: layer for layer in theirs.layers}
    for layer in ours.layers:
        keys = CONSTRAINED.get(layer.name)
        if keys is None:
            continue
        mine, other = layer.get_config(), by_class[type(layer).__name__].get_config()
        for key in keys:
            assert mine[key] is not None and nested(mine[key]) == nested(other[key]), (layer.name, key)


def test_constraints_and_regularizers_cross_from_unafraid_to_keras(tmp_path):
    model = constrained(tf.keras)
    model.save(tmp_path / "m.keras")
    k = keras.saving.load_model(tmp_path / "m.keras")
    check_same_settings(model, k)
    same(predictions(model, TOKENS), predictions(k, TOKENS))


def test_constraints_cross_from_keras_and_apply_when_training_in_unafraid(tmp_path):
    keras.utils.set_random_seed(2)
    k = constrained(keras)
    k.compile(keras.optimizers.SGD(0.5), "mse")
    k.save(tmp_path / "k.keras")
    model = load_model(tmp_path / "k.keras")
    check_same_settings(model, k)
    same(predictions(k, TOKENS), predictions(model, TOKENS))
    y = np.full((6, 2), 50.0, np.float32)  # large steps that break every constraint unless applied
    model.fit(TOKENS, y, batch_size=6, epochs=1, verbose=0)
    emb, dense = model.get_layer("embedding").get_weights()[0], model.get_layer("dense")
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, rtol=1e-5)  # UnitNorm(axis=1)
    kernel, bias = dense.get_weights()
    assert np.linalg.norm(kernel, axis=0).max() <= 1.5 * (1 + 1e-6)       # MaxNorm(1.5, axis=0)
    assert bias.min() >= 0.0                                               # NonNeg


def test_synchronized_batch_normalization_crosses(tmp_path):
    """Keras honours synchronized=True on the TensorFlow backend only, so the file is read back
    here and its config checked (the JAX backend refuses the setting in its constructor)."""
    model = tf.keras.Sequential([tf.keras.Input((3,)), tf.keras.layers.BatchNormalization(
        synchronized=True)])
    model.save(tmp_path / "s.keras")
    with zipfile.ZipFile(tmp_path / "s.keras") as zf:
        config = json.loads(zf.read("config.json"))
    assert config["config"]["layers"][1]["config"]["synchronized"] is True
    assert load_model(tmp_path / "s.keras").layers[0].synchronized is True


def test_adapted_discretization_boundaries_cross_both_ways(tmp_path):
    data = np.arange(40, dtype=np.float32).reshape(-1, 1)
    ours = tf.keras.layers.Discretization(num_bins=4)
    ours.adapt(data)
    # Keras's adapt needs TensorFlow (tf.data); an adapted layer's config holds both arguments
    theirs = keras.layers.Discretization.from_config(
        {"num_bins": 4, "bin_boundaries": [10.0, 20.0, 30.0], "name": "discretization"})
    for d, K, save, load in ((ours, tf.keras, "u.keras", keras.saving.load_model),
                             (theirs, keras, "k.keras", load_model)):
        model = K.Sequential([K.Input((1,)), d])
        model.save(tmp_path / save)
        again = load(tmp_path / save)
        x = np.linspace(-5, 45, 23, dtype=np.float32).reshape(-1, 1)
        np.testing.assert_array_equal(np.asarray(again.predict(x, verbose=0)),
                                      np.asarray(model.predict(x, verbose=0)))
        learned = d.get_config()["bin_boundaries"]  # the learned boundaries themselves, exactly
        assert len(learned) == 3 and again.layers[-1].get_config()["bin_boundaries"] == learned


@pytest.mark.parametrize("name, layer", [
    ("IntegerLookup", lambda: tf.keras.layers.IntegerLookup(vocabulary=[3, 5, 7])),
    ("StringLookup", lambda: tf.keras.layers.StringLookup(vocabulary=["a", "b"])),
])
def test_lookup_layers_are_refused_by_name_both_ways(tmp_path, name, layer):
    model = tf.keras.Sequential([tf.keras.Input((2,)), layer()])
    with pytest.raises(ValueError, match=f"{name}.*only with TensorFlow installed"):
        model.save(tmp_path / "m.keras")
    assert not (tmp_path / "m.keras").exists()
    # a file Keras (on TensorFlow) would write: the same archive with the lookup layer in it
    tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(1)]).save(tmp_path / "d.keras")
    with zipfile.ZipFile(tmp_path / "d.keras") as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    config = json.loads(members["config.json"])
    config["config"]["layers"][1] = {"module": "keras.layers", "class_name": name,
                                     "config": {"name": "lookup", "vocabulary": [3, 5, 7]},
                                     "registered_name": None}
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(tmp_path / "k.keras", "w") as zf:
        for n, data in members.items():
            zf.writestr(n, data)
    with pytest.raises(ModelFileError, match=f"'lookup' \\({name}\\).*assets/vocabulary.txt"):
        load_model(tmp_path / "k.keras")


@pytest.mark.parametrize("functional", [False, True])
def test_a_masked_average_crosses_with_keras_predictions(tmp_path, functional):
    """Keras's GlobalAveragePooling1D averages only the unmasked steps, and so does unafraid's."""
    L = tf.keras.layers
    layers = [L.Embedding(10, 3, mask_zero=True), L.Dense(4), L.GlobalAveragePooling1D()]
    if functional:
        x = inputs = tf.keras.Input((5,), dtype="int32")
        for layer in layers:
            x = layer(x)
        model = tf.keras.Model(inputs, x)
    else:
        model = tf.keras.Sequential([tf.keras.Input((5,), dtype="int32"), *layers])
    model.save(tmp_path / "m.keras")
    assert (TOKENS == 0).any()  # some steps are masked
    same(predictions(model, TOKENS), predictions(keras.saving.load_model(tmp_path / "m.keras"), TOKENS))


def test_a_keras_mask_operation_is_refused_with_the_reason(tmp_path):
    inputs = keras.Input((5,), dtype="int32")
    x = keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(10, 3, mask_zero=True)(inputs))
    keras.Model(inputs, x).save(tmp_path / "k.keras")
    with pytest.raises(ModelFileError, match="operation 'NotEqual' directly.*mask_zero=False"):
        load_model(tmp_path / "k.keras")
