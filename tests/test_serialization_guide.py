"""The pieces the keras-io guide "Serialization and saving" uses (issue 16, tutorial 18).

The oracle is Keras 3 (JAX backend) where it has the same API: its ``get_config`` of a layer with
an activation function of your own, ``to_json`` / ``model_from_json`` and ``clone_model``; the
numbers come from NumPy formulas written here.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import unafraid as tf
from unafraid import keras

os.environ.setdefault("KERAS_BACKEND", "jax")


def squared_tanh(x):
    return tf.nn.tanh(x) ** 2


# ---- activation functions of your own, saved by name ------------------------------------------

def test_an_own_activation_is_saved_by_name_as_keras_3_does():
    real_keras = pytest.importorskip("keras", reason="keras (JAX backend) is in the test extra")

    def squared_tanh(x):  # the same name in Keras's world
        return real_keras.ops.tanh(x) ** 2
    expected = real_keras.layers.Activation(squared_tanh).get_config()["activation"]
    ours = keras.layers.Activation(globals()["squared_tanh"]).get_config()["activation"]
    assert ours == expected == {"module": "builtins", "class_name": "function",
                                "config": "squared_tanh", "registered_name": "function"}


def test_a_model_with_an_own_activation_is_rebuilt_only_with_the_function_given():
    inputs = keras.Input((3,))
    outputs = keras.layers.Activation(squared_tanh)(keras.layers.Dense(2)(inputs))
    model = keras.Model(inputs, outputs)
    config = json.loads(json.dumps(model.get_config()))   # JSON only
    with pytest.raises(ValueError, match="your own activation function 'squared_tanh'.*custom_objects"):
        keras.Model.from_config(config)
    with keras.utils.custom_object_scope({"squared_tanh": squared_tanh}):
        again = keras.Model.from_config(config)
    again.set_weights(model.get_weights())
    x = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    kernel, bias = model.get_weights()
    np.testing.assert_allclose(again(x).numpy(), np.tanh(x @ kernel + bias) ** 2, rtol=1e-6)
    dense = keras.layers.Dense(2, activation=squared_tanh)
    with keras.utils.custom_object_scope({"squared_tanh": squared_tanh}):
        assert keras.layers.Dense.from_config(dense.get_config()).activation is squared_tanh


def test_a_registered_activation_is_found_by_its_registered_name():
    @keras.saving.register_keras_serializable(package="GuideTest")
    def cubed(x):
        return x ** 3
    spec = keras.layers.Activation(cubed).get_config()["activation"]
    assert spec["registered_name"] == "GuideTest>cubed"
    assert keras.layers.Activation.from_config({"activation": spec}).activation is cubed


def test_a_lambda_activation_is_still_refused_it_has_no_name():
    with pytest.raises(ValueError, match="lambda"):
        keras.layers.Dense(2, activation=lambda x: x).get_config()


# ---- to_json, model_from_json, clone_model -----------------------------------------------------

def test_to_json_and_model_from_json_rebuild_the_architecture():
    model = keras.Sequential([keras.Input((32,)), keras.layers.Dense(1, activation="relu")])
    text = model.to_json()
    spec = json.loads(text)
    assert spec["class_name"] == "Sequential"
    again = keras.models.model_from_json(text)
    assert isinstance(again, keras.Sequential)
    assert again.get_config()["layers"][-1]["config"]["units"] == 1
    assert again.output_shape == (None, 1) and again.count_params() == 33
    with pytest.raises(ValueError, match="model_from_json needs"):
        keras.models.model_from_json("not json")


def test_model_from_json_agrees_with_keras_3_on_the_layers():
    real_keras = pytest.importorskip("keras", reason="keras (JAX backend) is in the test extra")
    theirs = real_keras.models.model_from_json(real_keras.Sequential(
        [real_keras.Input((32,)), real_keras.layers.Dense(1)]).to_json())
    ours = keras.models.model_from_json(keras.Sequential(
        [keras.Input((32,)), keras.layers.Dense(1)]).to_json())
    assert [type(layer).__name__ for layer in ours.layers] == [
        type(layer).__name__ for layer in theirs.layers]
    assert ours.count_params() == theirs.count_params() == 33


def test_clone_model_gives_the_same_architecture_with_new_weights():
    inputs = keras.Input((5,))
    x = keras.layers.Dense(4, activation=squared_tanh)(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2)(x))
    with keras.utils.custom_object_scope({"squared_tanh": squared_tanh}):
        twin = keras.models.clone_model(model)
    assert [type(a) for a in twin.layers] == [type(b) for b in model.layers]
    assert all(a is not b for a, b in zip(twin.weights, model.weights, strict=True))
    assert [w.shape for w in twin.weights] == [w.shape for w in model.weights]
    twin.set_weights(model.get_weights())
    x = np.ones((3, 5), np.float32)
    np.testing.assert_array_equal(twin(x).numpy(), model(x).numpy())
    with pytest.raises(NotImplementedError, match="clone_function"):
        keras.models.clone_model(model, clone_function=lambda layer: layer)


# ---- add_variable, tf.saved_model.load of a model file ----------------------------------------

def test_add_variable_takes_the_name_first_as_tf_keras_2_or_the_shape_first_as_keras_3():
    layer = keras.layers.Layer(name="owner")
    kernel = layer.add_variable("kernel", shape=(64, 10))
    bias = layer.add_variable((10,), "zeros", name="bias")
    assert kernel.name == "owner/kernel" and kernel.shape == (64, 10)
    assert bias.name == "owner/bias" and not bias.numpy().any()
    limit = np.sqrt(6 / (64 + 10))  # glorot_uniform, add_weight's default
    assert np.abs(kernel.numpy()).max() <= limit and kernel.numpy().std() > limit / 4
    with pytest.raises(TypeError, match="name was given twice"):
        layer.add_variable("a", shape=(1,), name="b")


def test_saved_model_load_reads_a_model_file_written_by_save(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.save(tmp_path / "my_model")      # tf.keras 2 wrote a SavedModel folder here
    restored = tf.saved_model.load(str(tmp_path / "my_model"))
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(restored(x).numpy(), model(x).numpy())


# ---- load_weights: status, and tf.keras 2's partial load by name -------------------------------

def _mlp(n_out: int, with_head: bool = True):
    inputs = keras.Input(shape=(6,), name="digits")
    x = keras.layers.Dense(4, activation="relu", name="dense_1")(inputs)
    x = keras.layers.Dense(4, activation="relu", name="dense_2")(x)
    if with_head:
        x = keras.layers.Dense(n_out, name="predictions")(x)
    return keras.Model(inputs, x)


def test_load_weights_returns_a_status_whose_assert_consumed_passes_for_a_full_load(tmp_path):
    model = _mlp(3)
    model.save_weights(tmp_path / "ckpt")
    status = _mlp(3).load_weights(tmp_path / "ckpt")
    assert status.assert_consumed() is status


def test_a_file_of_the_first_layers_loads_by_name_into_a_model_that_adds_layers(tmp_path):
    pretrained = _mlp(0, with_head=False)
    for w in pretrained.weights:
        w.assign(np.random.default_rng(1).normal(size=w.shape).astype(np.float32))
    pretrained.save_weights(tmp_path / "pretrained_ckpt")
    model = _mlp(5)
    head = [w.numpy().copy() for w in model.weights[4:]]
    with pytest.warns(UserWarning, match=r"4 of the model's 6 weights.*predictions/kernel"):
        status = model.load_weights(tmp_path / "pretrained_ckpt")
    for a, b in zip(pretrained.weights, model.weights[:4], strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for before, w in zip(head, model.weights[4:], strict=True):
        np.testing.assert_array_equal(before, w.numpy())
    with pytest.raises(AssertionError, match="predictions/bias"):
        status.assert_consumed()
    renamed = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4, name="other"),
                                keras.layers.Dense(4), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="not weights of the model by name.*dense_1/kernel"):
        renamed.load_weights(tmp_path / "pretrained_ckpt")


# ---- tf.train.Checkpoint ------------------------------------------------------------------------

class VarHolder(keras.layers.Layer):
    def __init__(self, a):  # the guide's layer: no super().__init__()
        self.var = tf.Variable(a, name="var_a")


def test_checkpoint_keys_are_tensorflows_object_paths(tmp_path):
    layer = VarHolder(5.0)
    layer.var.assign(2.0)
    path = tf.train.Checkpoint(layer=layer).save(str(tmp_path / "custom_layer"))
    assert path == str(tmp_path / "custom_layer-1")
    reader = tf.train.load_checkpoint(path)
    assert reader.get_variable_to_dtype_map() == {"layer/var/.ATTRIBUTES/VARIABLE_VALUE": tf.float32}
    assert float(reader.get_tensor("layer/var/.ATTRIBUTES/VARIABLE_VALUE")) == 2.0


def test_checkpoint_restores_layers_and_variables_by_where_they_sit(tmp_path):
    source = _mlp(3)
    first, last = source.get_layer("dense_1"), source.get_layer("predictions")
    ckpt = tf.train.Checkpoint(dense=first, kernel=last.kernel, bias=last.bias)
    assert ckpt.save(str(tmp_path / "ckpt")).endswith("ckpt-1")
    path = ckpt.save(str(tmp_path / "ckpt"))
    assert path.endswith("ckpt-2")
    dense = keras.layers.Dense(4)
    dense.build((None, 6))
    kernel, bias = tf.Variable(np.zeros((4, 3), np.float32)), tf.Variable(np.zeros(3, np.float32))
    status = tf.train.Checkpoint(dense=dense, kernel=kernel, bias=bias).restore(path)
    assert status.assert_consumed() is status
    np.testing.assert_array_equal(dense.kernel.numpy(), first.kernel.numpy())
    np.testing.assert_array_equal(dense.bias.numpy(), first.bias.numpy())
    np.testing.assert_array_equal(kernel.numpy(), last.kernel.numpy())
    partial = tf.train.Checkpoint(kernel=tf.Variable(np.zeros((4, 3), np.float32))).restore(path)
    with pytest.raises(AssertionError, match="dense/kernel"):
        partial.assert_consumed()
    partial.assert_existing_objects_matched()
    with pytest.raises(ValueError, match=r"holds shape \(4, 3\).*Nothing was restored"):
        tf.train.Checkpoint(kernel=tf.Variable(np.zeros((3, 3), np.float32))).restore(path)


def test_a_model_checkpoint_keys_its_layers_as_tensorflow_does(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2), keras.layers.Dense(1)])
    reader = tf.train.load_checkpoint(tf.train.Checkpoint(model=model).save(str(tmp_path / "m")))
    assert sorted(reader.get_variable_to_shape_map()) == [
        f"model/layer_with_weights-{i}/{v}/.ATTRIBUTES/VARIABLE_VALUE"
        for i in (0, 1) for v in ("bias", "kernel")]
    with pytest.raises(ValueError, match="not a checkpoint"):
        model.save_weights(tmp_path / "w")
        tf.train.load_checkpoint(tmp_path / "w")


# ---- a subclassed model loaded without its class ("revived" from its traced layer graph) --------

class ChainModel(keras.Model):
    def __init__(self, hidden_units):
        super().__init__()
        self.hidden_units = hidden_units
        self.dense_layers = [keras.layers.Dense(u) for u in hidden_units]

    def call(self, inputs):
        x = inputs
        for layer in self.dense_layers:
            x = layer(x)
        return tf.nn.relu(x)

    def get_config(self):
        return {"hidden_units": self.hidden_units}


class ValueDependentModel(ChainModel):
    def call(self, inputs):
        x = self.dense_layers[0](inputs)
        if float(tf.reduce_sum(x)) > 0:   # needs real numbers: cannot be traced
            x = -x
        return x


def test_a_subclassed_model_loads_without_its_class_from_its_traced_graph(tmp_path):
    model = ChainModel([4, 3])
    x = np.random.default_rng(2).uniform(size=(2, 5)).astype(np.float32)
    expected = model(x).numpy()
    model.save(tmp_path / "my_model")
    with pytest.warns(UserWarning, match="class 'ChainModel'.*loaded as the functional model"):
        revived = keras.models.load_model(tmp_path / "my_model")   # no custom_objects
    assert not isinstance(revived, ChainModel)
    k1, b1, k2, b2 = model.get_weights()
    np.testing.assert_allclose(expected, np.maximum((x @ k1 + b1) @ k2 + b2, 0), rtol=1e-6)
    np.testing.assert_array_equal(revived(x).numpy(), expected)
    with_class = keras.models.load_model(tmp_path / "my_model", custom_objects={"ChainModel": ChainModel})
    assert isinstance(with_class, ChainModel)          # the class, when given, is used
    np.testing.assert_array_equal(with_class(x).numpy(), expected)


def test_a_model_whose_call_needs_values_still_needs_its_class(tmp_path):
    model = ValueDependentModel([3])
    model(np.ones((1, 5), np.float32))
    model.save(tmp_path / "m")
    with pytest.raises(ValueError, match="'ValueDependentModel'.*not known here"):
        keras.models.load_model(tmp_path / "m")


# ---- a functional model's layers start with its InputLayer, as in Keras --------------------------

def test_a_functional_models_layers_list_its_input_layer_first_as_keras_3():
    real_keras = pytest.importorskip("keras", reason="keras (JAX backend) is in the test extra")

    def names(k):
        inputs = k.Input(shape=(784,), name="digits")
        x = k.layers.Dense(64, activation="relu", name="dense_1")(inputs)
        outputs = k.layers.Dense(10, name="predictions")(x)
        model = k.Model(inputs, outputs)
        return [(type(layer).__name__, layer.name) for layer in model.layers], model
    theirs, _ = names(real_keras)
    ours, model = names(keras)
    assert ours == theirs == [("InputLayer", "digits"), ("Dense", "dense_1"), ("Dense", "predictions")]
    assert model.layers[1].kernel.shape == (784, 64)            # the guide's functional_model.layers[1]
    seq = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    assert [type(layer).__name__ for layer in seq.layers] == ["Dense"]   # Sequential: as Keras, none


def test_saving_a_traceable_model_leaves_the_automatic_layer_names_unchanged(tmp_path):
    model = ChainModel([2])
    model(np.ones((1, 3), np.float32))

    def counter(name):
        tail = name.rsplit("_", 1)[-1]
        return int(tail) if tail.isdigit() else 0
    before = counter(keras.Input((2,)).node.layer.name)
    model.save(tmp_path / "m")                     # traces call on a symbolic input
    after = counter(keras.Input((2,)).node.layer.name)
    assert after == before + 1


# ---- a layer's weights have assign_add / assign_sub (the subclassing guide's ComputeSum) ---------

def test_a_layer_weight_assign_add_accumulates_as_keras_3():
    real_keras = pytest.importorskip("keras", reason="keras (JAX backend) is in the test extra")
    x = np.ones((2, 2), np.float32)

    def run(k):
        layer = k.layers.Layer()
        total = layer.add_weight(initializer="zeros", shape=(2,), trainable=False)
        total.assign_add(np.sum(x, axis=0))
        total.assign_add(np.sum(x, axis=0))
        total.assign_sub(np.array([0.5, 1.0], np.float32))
        return np.asarray(total.numpy())
    np.testing.assert_array_equal(run(keras), run(real_keras))
    np.testing.assert_array_equal(run(keras), [3.5, 3.0])
