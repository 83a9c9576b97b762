"""SimpleRNN, LSTM, GRU and Bidirectional in Keras 3 '.keras' files, both ways, against real Keras 3 (JAX
backend): the same arguments, the same weights in Keras's layout (gates i, f, c, o and z, r, h;
GRU's (2, 3 units) bias; the weights in the layer's ``cell`` group), the same predictions.

A file written by one side and opened by the other predicts the same values on the same
weights: that checks unafraid's forward pass against Keras's on random weights, masks included
(Keras writes a mask as operations, NotEqual and Any, which unafraid reads when its own mask
passing gives the layer the same mask).
Slow (Keras and JAX are imported); Keras, JAX and h5py are in the `test` extra.
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

pytestmark = pytest.mark.slow

RNG = np.random.default_rng(16)
SEQ = RNG.normal(size=(4, 6, 3)).astype(np.float32)
SEQ[0, 4:] = 0.0  # masked by Masking(0.0)
SEQ[2, 1] = 0.0
TOKENS = RNG.integers(1, 10, size=(4, 6)).astype(np.int32)
TOKENS[0, 3:] = 0  # padding, masked by Embedding(mask_zero=True)
TOKENS[1, 5] = 0


def one_input(K, shape, *layers, dtype="float32"):
    x = inputs = K.Input(shape, dtype=dtype)
    for layer in layers:
        x = layer(K)(x)
    return K.Model(inputs, x)


def seq2seq(K):
    enc, dec = K.Input((6, 3), name="enc"), K.Input((6, 3), name="dec")
    _, h, c = K.layers.LSTM(4, return_state=True, name="encoder")(enc)
    seq = K.layers.LSTM(4, return_sequences=True, name="decoder")(dec, initial_state=[h, c])
    _, g = K.layers.GRU(3, return_state=True, name="gru")(seq)
    return K.Model([enc, dec], K.layers.Dense(2, name="out")(g))


MODELS = {
    "LSTM_GRU": (lambda K: one_input(
        K, (6, 3), lambda K: K.layers.LSTM(4, return_sequences=True),
        lambda K: K.layers.GRU(3), lambda K: K.layers.Dense(2)), SEQ),
    "GRU_reset_before_backwards": (lambda K: one_input(
        K, (6, 3), lambda K: K.layers.GRU(3, reset_after=False, go_backwards=True,
                                          return_sequences=True),
        lambda K: K.layers.Flatten(), lambda K: K.layers.Dense(2)), SEQ),
    "SimpleRNN": (lambda K: one_input(
        K, (6, 3), lambda K: K.layers.SimpleRNN(5, activation="relu", use_bias=False,
                                                return_sequences=True),
        lambda K: K.layers.SimpleRNN(2)), SEQ),
    "options": (lambda K: one_input(
        K, (6, 3), lambda K: K.layers.LSTM(
            3, unit_forget_bias=False, dropout=0.2, recurrent_dropout=0.1, seed=3,
            recurrent_activation="hard_sigmoid", kernel_regularizer="l2",
            recurrent_initializer=K.initializers.Orthogonal(gain=0.5),
            bias_initializer=K.initializers.RandomUniform(-1.0, 1.0),
            recurrent_constraint=K.constraints.MaxNorm(2.0)), lambda K: K.layers.Dense(2)), SEQ),
    "Embedding_mask_zero": (lambda K: one_input(
        K, (6,), lambda K: K.layers.Embedding(10, 3, mask_zero=True),
        lambda K: K.layers.LSTM(4, return_sequences=True), lambda K: K.layers.GRU(2),
        dtype="int32"), TOKENS),
    "Masking_zero_output": (lambda K: one_input(
        K, (6, 3), lambda K: K.layers.Masking(0.0),
        lambda K: K.layers.GRU(3, return_sequences=True, zero_output_for_mask=True),
        lambda K: K.layers.SimpleRNN(2, go_backwards=True)), SEQ),
    "seq2seq_initial_state": (seq2seq, [SEQ, SEQ[::-1].copy()]),
    "Bidirectional": (lambda K: one_input(
        K, (6, 3), lambda K: K.layers.Masking(0.0),
        lambda K: K.layers.Bidirectional(K.layers.LSTM(3, return_sequences=True)),
        lambda K: K.layers.Bidirectional(K.layers.GRU(2), merge_mode="sum")), SEQ),
    "Bidirectional_backward_layer": (lambda K: one_input(
        K, (6, 3), lambda K: K.layers.Bidirectional(
            K.layers.SimpleRNN(2, return_sequences=True), merge_mode="mul",
            backward_layer=K.layers.SimpleRNN(2, return_sequences=True, go_backwards=True,
                                              activation="relu")),
        lambda K: K.layers.Flatten()), SEQ),
}


def classes(layers):
    return [type(layer).__name__ for layer in layers]


def same_arguments(ours, theirs):
    """Every argument both sides name has the same value (nested objects compared by class)."""
    for a, b in zip(ours, theirs, strict=True):
        mine, other = a.get_config(), b.get_config()
        for key in (set(mine) & set(other)) - {"name", "dtype"}:
            if (key, mine[key]) == ("data_format", None):  # unafraid's Flatten: the default
                continue
            if isinstance(mine[key], dict):
                assert mine[key]["class_name"] == other[key]["class_name"], (a.name, key)
            else:
                assert plain(mine[key]) == plain(other[key]), (a.name, key, mine[key], other[key])


def plain(value):
    """Lists for tuples, float32 for floats: how the two sides' configs may differ in form."""
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return np.float32(value) if isinstance(value, float) else value


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_unafraid_model_opens_in_keras_with_the_same_predictions(tmp_path, kind):
    build, x = MODELS[kind]
    tf.random.set_seed(11)
    model = build(tf.keras)
    model.save(tmp_path / "m.keras")
    k = keras.saving.load_model(tmp_path / "m.keras")
    assert classes(k.layers) == classes(keras_layers(model))
    same_arguments(keras_layers(model), k.layers)
    same_weights(keras_layers(model), k.layers)
    same(predictions(model, x), predictions(k, x))


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_keras_model_opens_in_unafraid_with_the_same_predictions(tmp_path, kind):
    build, x = MODELS[kind]
    keras.utils.set_random_seed(1)
    k = build(keras)
    k.save(tmp_path / "k.keras")
    model = load_model(tmp_path / "k.keras")
    assert classes(keras_layers(model)) == classes(k.layers)
    same_arguments(keras_layers(model), k.layers)
    same_weights(keras_layers(model), k.layers)
    same(predictions(k, x), predictions(model, x))


def rewrite_config(path, edit):
    """The same '.keras' archive with config.json passed through ``edit``."""
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    config = json.loads(members["config.json"])
    edit(config)
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def test_keras_masks_are_read_only_when_unafraid_passes_the_same_mask(tmp_path):
    """Keras writes the mask of Masking / Embedding(mask_zero=True) as operations (NotEqual, then
    Any for Masking) feeding the recurrent layers' mask=; unafraid reads them when its own mask
    passing gives the layer that very mask, and refuses a file where it would not."""
    MODELS["Embedding_mask_zero"][0](keras).save(tmp_path / "k.keras")

    def other_value(config):  # the mask NotEqual(ids, 1): not what Embedding(mask_zero) makes
        for layer in config["config"]["layers"]:
            if layer["class_name"] == "NotEqual":
                layer["inbound_nodes"][0]["args"][1] = 1

    rewrite_config(tmp_path / "k.keras", other_value)
    with pytest.raises(ModelFileError, match="given a mask that unafraid's mask passing would not"):
        load_model(tmp_path / "k.keras")


def test_keras_initializers_match_in_distribution():
    """Keras's and unafraid's defaults for the recurrent weights: glorot_uniform, orthogonal,
    zeros with the forget gate's bias at 1 (the draws themselves differ: other generators)."""
    ours, theirs = tf.keras.layers.LSTM(8), keras.layers.LSTM(8)
    ours.build((None, 2, 5))
    theirs.build((None, 2, 5))
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        a, b = np.asarray(a), np.asarray(b)
        assert a.shape == b.shape
        np.testing.assert_allclose(np.abs(a).max(), np.abs(b).max(), rtol=0.35)
    recurrent = ours.get_weights()[1]
    np.testing.assert_allclose(recurrent @ recurrent.T, np.eye(8), atol=1e-5)
    np.testing.assert_array_equal(ours.get_weights()[2], np.asarray(theirs.get_weights()[2]))


def test_trained_keras_lstm_predicts_the_same_after_crossing(tmp_path):
    """A Keras model trained a little (weights far from their initial values) crosses exactly."""
    keras.utils.set_random_seed(3)
    k = MODELS["Embedding_mask_zero"][0](keras)
    k.compile("adam", "mse")
    k.fit(TOKENS, np.ones((4, 2), np.float32), epochs=3, verbose=0)
    k.save(tmp_path / "k.keras")
    model = load_model(tmp_path / "k.keras")
    same(predictions(k, TOKENS), predictions(model, TOKENS))
