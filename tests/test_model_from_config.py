"""keras.Model.from_config(config, custom_objects=...) of a functional model (the functional API guide)."""

import numpy as np

import unafraid as tf


class CustomDense(tf.keras.layers.Layer):  # the guide's: get_config without the layer's name
    def __init__(self, units=32):
        super().__init__()
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal")

    def call(self, inputs):
        return tf.matmul(inputs, self.w)

    def get_config(self):
        return {"units": self.units}


def test_model_from_config_rebuilds_a_functional_model_with_custom_layers():
    inputs = tf.keras.Input((4,))
    outputs = tf.keras.layers.Dense(3)(CustomDense(5)(inputs))
    model = tf.keras.Model(inputs, outputs)
    new = tf.keras.Model.from_config(model.get_config(), custom_objects={"CustomDense": CustomDense})
    assert type(new).__name__ == "Functional"
    assert [type(layer).__name__ for layer in new.layers] == ["InputLayer", "CustomDense", "Dense"]
    assert new.predict(np.ones((2, 4), np.float32), verbose=0).shape == (2, 3)


def test_from_config_without_the_custom_class_says_how_to_pass_it():
    inputs = tf.keras.Input((4,))
    model = tf.keras.Model(inputs, CustomDense(5)(inputs))
    try:
        tf.keras.Model.from_config(model.get_config())
    except Exception as error:  # noqa: BLE001 - the message is what is checked
        assert "CustomDense" in str(error) and "custom_objects" in str(error)
    else:
        raise AssertionError("from_config without the class should have been refused")
