"""Metric and loss features Keras 3's own test cases use (issue 17): ``MeanMetricWrapper`` saved by
its function's name, comparisons on symbolic tensors, ``Metric.add_variable`` with initial values,
and ``SparseCategoricalCrossentropy(axis=)``.

Expected numbers are worked by hand in the comments, or are Keras's test values (named).
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

import unafraid as uf
from unafraid import losses, metrics
from unafraid.io.custom_objects import REGISTERED, register_keras_serializable


# ---- MeanMetricWrapper: get_config / from_config (MetricWrapperTest.test_config) ----------------
def test_mean_metric_wrapper_config_names_a_registered_function():
    def squared(y_true, y_pred):
        return np.mean(np.square(np.asarray(y_true, np.float32) - np.asarray(y_pred)), axis=-1)

    register_keras_serializable(package="h17o_test", name="squared")(squared)
    try:
        m = metrics.MeanMetricWrapper(fn=squared, name="sq", dtype="float32")
        config = m.get_config()
        assert config["fn"] == "h17o_test>squared" and config["name"] == "sq"
        again = metrics.MeanMetricWrapper.from_config(config)
        assert again.get_config() == config and len(again.variables) == 2
        # rows: (1 + 0) / 2 = 0.5 and (0 + 4) / 2 = 2; mean 1.25
        again.update_state([[1, 0], [0, 2]], [[0, 0], [0, 0]])
        assert_allclose(float(again.result()), 1.25)
    finally:
        del REGISTERED["h17o_test>squared"]


def test_mean_metric_wrapper_finds_unafraid_functions_and_refuses_unknown_names():
    m = metrics.MeanMetricWrapper(fn=losses.mean_absolute_error, name="mae")
    assert m.get_config()["fn"] == "mean_absolute_error"
    again = metrics.MeanMetricWrapper.from_config(m.get_config())
    again.update_state([[1.0, 3.0]], [[0.0, 0.0]])  # (1 + 3) / 2
    assert_allclose(float(again.result()), 2.0)
    with pytest.raises(ValueError, match="'nowhere' is not saved with the metric.*custom_objects"):
        metrics.MeanMetricWrapper.from_config({"fn": "nowhere", "name": "x", "dtype": "float32"})
    own = metrics.MeanMetricWrapper.from_config(m.get_config() | {"fn": "mine"},
                                                custom_objects={"mine": lambda t, p: np.full(len(p), 7.0)})
    own.update_state([[0.0]], [[1.0]])
    assert float(own.result()) == 7.0
    # subclasses that fix their function keep Keras's config (no fn)
    assert "fn" not in metrics.BinaryAccuracy().get_config()
    assert metrics.BinaryAccuracy.from_config(metrics.BinaryAccuracy().get_config()).threshold == 0.5


# ---- comparisons on symbolic tensors (MetricWrapperTest.test_binary_accuracy_with_boolean_inputs) --
def test_keras_tensor_comparisons_make_boolean_outputs():
    k = uf.keras
    inp = k.Input(shape=(1,))
    model = k.Model(inputs=inp, outputs=[inp > 0.5, inp >= 0.5, inp < 0.5, inp <= 0.5, 0.5 < inp])
    x = np.array([[0.2], [0.5], [0.9]], np.float32)
    gt, ge, lt, le, gt2 = model.predict(x, verbose=0)
    assert gt.dtype == np.bool_
    assert gt.ravel().tolist() == [False, False, True] == gt2.ravel().tolist()
    assert ge.ravel().tolist() == [False, True, True]
    assert lt.ravel().tolist() == [True, False, False]
    assert le.ravel().tolist() == [True, True, False]
    metric = metrics.BinaryAccuracy()
    metric.update_state(x > 0.5, gt)
    assert float(metric.result()) == 1.0


# ---- Metric.add_variable with the initial values (MeanIoUTest.test_big_chunk) ---------------------
def test_add_variable_takes_initial_values_and_mean_iou_updates_a_variable_matrix():
    m = metrics.MeanIoU(num_classes=2)
    start = np.array([[3, 1], [0, 2]], np.int64)
    m.total_cm = m.add_variable(shape=(2, 2), initializer=uf.convert_to_tensor(start), dtype="int",
                                name="total_confusion_matrix")
    assert m.total_cm.dtype == np.int64
    m.update_state([0, 1, 1], [0, 0, 1])  # adds (0,0), (1,0), (1,1)
    assert np.asarray(m.total_cm).tolist() == [[4, 1], [1, 3]]
    # IoU_0 = 4 / (5 + 5 - 4) = 2/3, IoU_1 = 3 / (4 + 4 - 3) = 3/5
    assert_allclose(float(m.result()), (2 / 3 + 3 / 5) / 2, rtol=1e-6)
    with pytest.raises(ValueError, match=r"initial values have shape \(2, 2\), but shape=\(3,\)"):
        m.add_variable(shape=(3,), initializer=start, name="wrong")


# ---- SparseCategoricalCrossentropy(axis=) (the values of Keras's Torch branch) --------------------
def test_sparse_categorical_crossentropy_class_axis():
    y_true = np.array([[0, 1, 1, 0], [1, 0, 1, 0], [0, 0, 1, 1], [1, 1, 0, 1]])
    y_pred = np.array([
        [[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [0.2, 0.8]],
        [[0.0, 1.0], [1.0, 0.0], [0.0, 1.0], [1.0, 0.0]],
        [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]],
        [[0.0, 1.0], [0.0, 1.0], [1.0, 0.0], [0.6, 0.4]]], np.float32)
    channels_first = np.moveaxis(y_pred, 2, 0)  # (2, 4, 4): classes first
    # BinarySegmentation's expected value: two pixels are wrong-ish, -log 0.2 and -log 0.4, over 16
    # (the other 14 give -log(1 - 1e-7), about 1e-7 each)
    expected = (-np.log(0.2) - np.log(0.4)) / 16
    loss = losses.SparseCategoricalCrossentropy(axis=0)
    assert_allclose(float(loss(y_true, channels_first)), expected, rtol=1e-5, atol=1e-6)
    batched = losses.SparseCategoricalCrossentropy(axis=1)(np.stack([y_true] * 3),
                                                           np.stack([channels_first] * 3))
    assert_allclose(float(batched), expected, rtol=1e-5, atol=1e-6)
    assert losses.SparseCategoricalCrossentropy(axis=1).get_config()["axis"] == 1
    with pytest.raises(ValueError, match=r"one integer class index per row, i.e. y_true of shape"):
        losses.SparseCategoricalCrossentropy(axis=0)(y_true, y_pred)  # classes are not on axis 0


# ---- FBetaScore.build (FBetaScoreTest.test_non_2d_input_shapes_raises_value_error, ...) ----------
def test_fbeta_build_checks_shapes_and_starts_the_counts_at_zero():
    fbeta = metrics.FBetaScore(beta=1.0, dtype="float32")
    with pytest.raises(ValueError, match=r"expects 2D inputs with shape \(batch_size, output_dim\)\. "
                                         r"Received input shapes: y_pred\.shape=\(2, 3, 4\)"):
        fbeta.build((2, 3, 4), (2, 3, 4))
    with pytest.raises(ValueError, match=r"output_dim fully defined \(not None\)"):
        fbeta.build((2, None), (2, None))
    fbeta.build((None, 3), (None, 3))
    assert fbeta.true_positives.shape == (3,) and not fbeta.true_positives.any()
    micro = metrics.FBetaScore(average="micro")
    micro.build((None, 3), (None, 3))
    assert micro.true_positives.shape == ()
    # one update after build: TP 1 (class 0), FP 1 (class 1), FN 1 (class 2) -> F1 = [1, 0, 0]
    fbeta.update_state([[1, 0, 0], [0, 0, 1]], [[0.9, 0.1, 0.0], [0.1, 0.8, 0.1]])
    assert_allclose(fbeta.result(), [1.0, 0.0, 0.0], atol=1e-6)
