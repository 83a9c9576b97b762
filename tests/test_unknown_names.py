"""A TensorFlow/Keras name unafraid lacks says what to use instead, never a bare AttributeError."""

import re

import pytest

import unafraid as tf
from unafraid.unsupported import KERAS_LAYERS, KERAS_NAMES, TF_NAMES


def message(expr: str) -> str:
    with pytest.raises(AttributeError) as err:
        eval(expr, {"tf": tf})
    return str(err.value)


@pytest.mark.parametrize("expr, says", [
    ("tf.keras.layers.ConvLSTM2D", "not supported: unafraid's recurrent layers are SimpleRNN, LSTM, "
                                   "GRU and Bidirectional"),
    ("tf.keras.layers.MultiHeadAttention", "not supported: unafraid has no attention layers"),
    ("tf.keras.applications.ResNet50", "has VGG16 and VGG19 only"),
])
def test_a_known_tensorflow_name_gets_its_equivalent_or_advice(expr, says):
    name = expr.rsplit(".", 1)[1]
    text = message(expr)
    assert f"has no attribute '{name}'" in text and says in text, text


def test_an_unknown_name_gets_did_you_mean():
    text = message("tf.keras.layers.Dens")
    assert "module 'unafraid.keras.layers' has no attribute 'Dens'" in text
    assert "Did you mean 'Dense'?" in text
    assert "unafraid does not provide it" in message("tf.no_such_thing")


def test_every_named_equivalent_exists():
    for table in (TF_NAMES, KERAS_LAYERS):
        for advice in table.values():
            if advice.startswith("=unafraid."):
                path = re.match(r"=unafraid\.([\w.]+)", advice)[1].split(".")
                obj = tf
                for part in path:
                    obj = getattr(obj, part)  # raises if the equivalent is not there


def test_existing_names_are_never_answered_by_the_table():
    # __getattr__ runs only for missing names: real ones come back as they are.
    # (tf.sum is the engine's sum, made to accept symbolic tensors: layers/symbolic.py)
    assert tf.sum is vars(tf)["sum"] and tf.sum.__wrapped__ is tf.engine.sum
    assert tf.keras.layers.Dense.__name__ == "Dense"
    for name in TF_NAMES:
        if name in vars(tf):
            assert getattr(tf, name) is vars(tf)[name]
    for name in KERAS_LAYERS:
        if name in vars(tf.keras.layers):
            assert getattr(tf.keras.layers, name) is vars(tf.keras.layers)[name]
    assert set(KERAS_NAMES).isdisjoint(vars(tf.keras))


def test_hasattr_and_private_names_stay_quiet():
    assert not hasattr(tf, "argmax") or callable(tf.argmax)  # False today; True once tfapi adds it
    assert not hasattr(tf, "_ipython_display_") and not hasattr(tf.keras.layers, "__wrapped__")
    assert message("tf._private") == "module 'unafraid' has no attribute '_private'"
