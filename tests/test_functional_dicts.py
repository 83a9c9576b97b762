"""Functional models take inputs keyed by input name, and batch_in_model_order puts a tf.data batch
of dicts (``({"img_input": ..., "ts_input": ...}, {"score_output": ...})``) in the model's order."""

import numpy as np
import pytest

from unafraid import keras
from unafraid.models.batches import batch_in_model_order


def two_in_two_out():
    a, b = keras.Input((1,), name="a"), keras.Input((2,), name="b")
    joined = keras.layers.Concatenate()([a, b])
    return keras.Model([a, b], [keras.layers.Dense(1, name="score")(joined),
                                keras.layers.Dense(3, name="klass")(joined)])


def test_a_dict_of_inputs_gives_what_the_list_gives():
    model = two_in_two_out()
    a, b = np.ones((2, 1), "float32"), np.arange(4, dtype="float32").reshape(2, 2)
    by_list = model([a, b])
    by_dict = model({"b": b, "a": a})
    for u, v in zip(by_list, by_dict, strict=True):
        assert np.array_equal(u.numpy(), v.numpy())


def test_batch_in_model_order_orders_inputs_and_targets():
    model = two_in_two_out()
    a, b, s, k, w = (np.full((2, 1), v, "float32") for v in range(5))
    x, y, sw = batch_in_model_order(model, ({"b": b, "a": a}, {"klass": k, "score": s}, w))
    assert x[0] is a and x[1] is b and y[0] is s and y[1] is k and sw is w
    x, y = batch_in_model_order(model, ({"a": a, "b": b}, {"klass": k}))
    assert y[0] is None and y[1] is k            # an output without targets (trained without a loss)
    plain = ([a, b], [s, k])
    assert batch_in_model_order(model, plain) is plain


def test_unknown_or_missing_names_are_refused_with_the_names():
    model = two_in_two_out()
    with pytest.raises(ValueError, match=r"inputs of model .* are named \['a', 'b'\].*unknown: \['c'\]"):
        batch_in_model_order(model, ({"a": 1, "b": 2, "c": 3}, None))
    with pytest.raises(ValueError, match=r"missing: \['b'\]"):
        model({"a": np.ones((1, 1), "float32")})


def test_fit_evaluate_and_predict_take_a_dataset_of_dicts_keyed_by_name():
    # the built-in-methods guide: tf.data batches ({"a": ..., "b": ...}, {"score": ..., "klass": ...})
    from unafraid import data
    model = two_in_two_out()
    model.compile(optimizer="sgd", loss={"score": "mse", "klass": "mse"})
    rng = np.random.default_rng(0)
    a, b = rng.random((8, 1), dtype=np.float32), rng.random((8, 2), dtype=np.float32)
    s, k = rng.random((8, 1), dtype=np.float32), rng.random((8, 3), dtype=np.float32)
    dataset = data.Dataset.from_tensor_slices(({"b": b, "a": a}, {"klass": k, "score": s})).batch(4)
    by_list = two_in_two_out()
    by_list.set_weights(model.get_weights())
    by_list.compile(optimizer="sgd", loss=["mse", "mse"])
    history = model.fit(dataset, epochs=2, verbose=0, shuffle=False)
    expected = by_list.fit([a, b], [s, k], batch_size=4, epochs=2, verbose=0, shuffle=False)
    assert history.history["loss"] == expected.history["loss"]
    assert model.evaluate(dataset, verbose=0) == by_list.evaluate([a, b], [s, k], batch_size=4, verbose=0)
    only_x = data.Dataset.from_tensor_slices({"b": b, "a": a}).batch(4)
    # batches of 4 both ways: BLAS may round a product of 8 rows differently from two of 4 rows
    for u, v in zip(model.predict(only_x, verbose=0), by_list.predict([a, b], batch_size=4, verbose=0),
                    strict=True):
        np.testing.assert_array_equal(u, v)
