"""Defects the TensorFlow / Keras tutorials exposed (issue 16), each with its oracle."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import unafraid as tf
from unafraid import check_grad

X = np.random.default_rng(1).normal(size=(3, 4))


# ---- tf.math.sin / cos / tan (autodiff guide) ------------------------------------------------
def test_sin_cos_tan_values_are_numpys():
    np.testing.assert_allclose(tf.math.sin(X).numpy(), np.sin(X))
    np.testing.assert_allclose(tf.cos(X).numpy(), np.cos(X))
    np.testing.assert_allclose(tf.math.tan(X).numpy(), np.tan(X), rtol=1e-12)


@pytest.mark.parametrize("order", [1, 2])
def test_sin_cos_tan_gradients_match_finite_differences(order):
    check_grad(lambda x: tf.sin(x) * tf.cos(2 * x) + tf.tan(x / 4), X, order=order)


def test_second_derivative_of_sin_through_nested_tapes():
    x = tf.Variable(0.7, dtype=tf.float64)
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            y = tf.math.sin(x)
        dy = inner.gradient(y, x)
    d2y = outer.gradient(dy, x)
    assert float(dy) == pytest.approx(np.cos(0.7), abs=1e-12)
    assert float(d2y) == pytest.approx(-np.sin(0.7), abs=1e-12)


# ---- tape.gradient of a dict of targets (autodiff guide) -------------------------------------
def test_gradient_of_a_dict_of_targets_is_that_of_their_sum():
    x = tf.Variable(2.0)
    with tf.GradientTape() as tape:
        y0 = x ** 2
        y1 = 1 / x
    g = tape.gradient({"y0": y0, "y1": y1}, x)
    assert float(g) == pytest.approx(2 * 2.0 - 1 / 2.0 ** 2)  # d(x^2 + 1/x)/dx by hand


def test_output_gradients_may_be_nested_like_the_targets():
    x = tf.Variable(3.0)
    with tf.GradientTape() as tape:
        targets = {"a": 2 * x, "b": x * x}
    g = tape.gradient(targets, x, output_gradients={"a": 10.0, "b": 1.0})
    assert float(g) == pytest.approx(10 * 2 + 2 * 3.0)


# ---- watching an integer tensor warns, as TensorFlow does, and its gradient is None ----------
def test_watching_an_integer_tensor_warns_and_gives_none():
    x = tf.constant(10)
    with pytest.warns(UserWarning, match="only floating-point tensors have gradients"):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = x * x
    assert tape.gradient(y, x) is None


def test_unconnected_gradients_zero_by_name():
    x, z = tf.Variable([1.0, 2.0]), tf.Variable(3.0)
    with tf.GradientTape() as tape:
        y = z * 2
    g = tape.gradient(y, x, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    np.testing.assert_array_equal(g.numpy(), [0.0, 0.0])
    assert tf.UnconnectedGradients.NONE == "none"


# ---- np.mean(tensor) leaves the engine (autodiff guide); tensor.mean() records ---------------
def test_numpy_reductions_of_a_tensor_give_plain_arrays_without_gradient():
    x = tf.Variable([[1.0, 2.0], [3.0, 4.0]])
    with tf.GradientTape() as tape:
        y = np.mean(x ** 2, axis=0)
        assert isinstance(y, np.ndarray)
        np.testing.assert_allclose(y, [5.0, 10.0])  # by hand: (1+9)/2, (4+16)/2
        y = tf.reduce_mean(y, axis=0)
    assert tape.gradient(y, x) is None
    assert float(np.sum(x)) == 10.0 and float(np.max(x)) == 4.0
    assert float(np.var(x, ddof=1)) == pytest.approx(np.var([1, 2, 3, 4], ddof=1))


def test_tensor_reduction_methods_still_record_gradients():
    x = tf.Variable([[1.0, 2.0], [3.0, 4.0]])
    with tf.GradientTape() as tape:
        y = x.mean(axis=0).sum() + x.sum(0, True).max()
    g = tape.gradient(y, x).numpy()
    np.testing.assert_allclose(g, [[0.5, 1.5], [0.5, 1.5]])  # by hand: 1/2 each, +1 on column 1


# ---- tf.image.adjust_contrast: TensorFlow's formula, and no gradient as in TensorFlow ---------
def test_adjust_contrast_value_by_hand():
    img = np.array([[[0.0, 1.0], [2.0, 3.0]], [[4.0, 5.0], [6.0, 7.0]]], np.float32)  # (2, 2, 2)
    out = tf.image.adjust_contrast(img, 2.0).numpy()
    mean = np.array([3.0, 4.0], np.float32)  # per channel: (0+2+4+6)/4, (1+3+5+7)/4
    np.testing.assert_allclose(out, (img - mean) * 2 + mean)


def test_adjust_contrast_has_no_gradient():
    image, delta = tf.Variable([[[0.5, 0.0, 0.0]]]), tf.Variable(0.1)
    with tf.GradientTape() as tape:
        new_image = tf.image.adjust_contrast(image, delta)
    with pytest.raises(LookupError, match="AdjustContrast"):
        tape.gradient(new_image, [image, delta])


# ---- tf.data.TextLineDataset (customization basics tutorial) ----------------------------------
def test_text_line_dataset_streams_lines_as_bytes(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"Line 1\nLine 2\r\nLine 3")
    (tmp_path / "b.txt").write_text("next file\n")
    ds = tf.data.TextLineDataset([tmp_path / "a.txt", str(tmp_path / "b.txt")])
    assert list(ds.as_numpy_iterator()) == [b"Line 1", b"Line 2", b"Line 3", b"next file"]
    batches = [b.tolist() for b in ds.batch(3)]
    assert batches == [[b"Line 1", b"Line 2", b"Line 3"], [b"next file"]]


def test_text_line_dataset_refuses_compression(tmp_path):
    with pytest.raises(ValueError, match="decompress the file first"):
        tf.data.TextLineDataset(tmp_path / "a.txt.gz", compression_type="GZIP")


def test_no_warning_for_a_float_watch():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with tf.GradientTape() as tape:
            x = tf.constant(1.0)
            tape.watch(x)


# ---- 1-D x for a model whose examples have shape (1,): Keras 3 adds the axis (regression) ------
def test_one_dimensional_x_gets_its_last_axis_like_keras():
    model = tf.keras.Sequential([tf.keras.layers.Dense(1, input_shape=(1,))])
    model.layers[0].set_weights([np.array([[2.0]], np.float32), np.array([1.0], np.float32)])
    x = np.array([1.0, 2.0, 3.0], np.float32)
    np.testing.assert_allclose(model.predict(x, verbose=0), [[3.0], [5.0], [7.0]])  # 2x + 1 by hand
    np.testing.assert_allclose(model(x).numpy(), [[3.0], [5.0], [7.0]])
    model.compile(optimizer="sgd", loss="mae")
    y = np.array([3.5, 4.5, 7.5], np.float32)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(0.5)  # |3-3.5|, |5-4.5|, |7-7.5|
    model.fit(x, y + 0.25, epochs=1, verbose=0, validation_split=0.34)


def test_one_dimensional_x_for_a_wider_input_is_still_refused():
    model = tf.keras.Sequential([tf.keras.layers.Dense(1, input_shape=(3,))])
    with pytest.raises(ValueError, match="expects examples of shape"):
        model.predict(np.zeros(5, np.float32), verbose=0)


# ---- tf.*_initializer names and keras.utils.array_to_img (subclassing, training-loop guides) -----
def test_tensorflow_initializer_names_give_keras_initializers():
    w = tf.random_normal_initializer()(shape=(400, 50), dtype="float32")
    assert w.shape == (400, 50) and w.dtype == np.float32
    assert abs(float(w.std()) - 0.05) < 0.003 and abs(float(w.mean())) < 0.003  # TF's stddev 0.05
    u = tf.random_uniform_initializer(-1.0, 1.0)(shape=(1000,))
    assert u.min() >= -1.0 and u.max() < 1.0 and u.min() < -0.9
    np.testing.assert_array_equal(tf.zeros_initializer()(shape=(2,)), [0.0, 0.0])
    np.testing.assert_array_equal(tf.ones_initializer()(shape=(2,)), [1.0, 1.0])
    np.testing.assert_array_equal(tf.constant_initializer(3.0)(shape=(2,)), [3.0, 3.0])


def test_array_to_img_scales_like_keras():
    img = tf.keras.utils.array_to_img(np.array([[[0.0], [0.5]], [[1.0], [2.0]]]))
    assert img.mode == "L" and img.size == (2, 2)
    assert np.asarray(img).tolist() == [[0, 63], [127, 255]]  # (x - 0) / 2 * 255, truncated
    raw = tf.keras.utils.array_to_img(np.full((2, 2, 3), 300.0), scale=False)
    assert raw.mode == "RGB" and np.asarray(raw).max() == 255
    with pytest.raises(ValueError, match="channels"):
        tf.keras.utils.array_to_img(np.zeros((2, 2)))


def test_a_dtype_given_as_tensorflows_enum_number():
    z = tf.zeros(1, 1)  # the subclassing guide's call: TensorFlow reads dtype 1 as float32
    assert z.shape == (1,) and z.dtype == np.float32
    assert tf.ones((2,), 9).dtype == np.int64  # DT_INT64 = 9 in TensorFlow's types.proto
    with pytest.raises(TypeError, match="DataType number"):
        tf.zeros(1, 7)  # 7 is DT_STRING


def test_one_hot_of_whole_number_floats_reads_them_as_integers():
    out = tf.one_hot(np.array([2.0, 0.0], np.float32), depth=3).numpy()
    np.testing.assert_array_equal(out, [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(TypeError, match="whole numbers"):
        tf.one_hot(np.array([0.5]), depth=3)


def test_a_metric_whose_reset_state_reads_its_own_variables_can_be_built():
    class TruePositives(tf.keras.metrics.Metric):  # the training-with-built-in-methods guide's shape
        def __init__(self, name="tp", **kwargs):
            super().__init__(name=name, **kwargs)
            self.true_positives = self.add_weight(name="ctp", initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            hits = np.argmax(np.asarray(y_pred), axis=1) == np.asarray(y_true)
            self.true_positives.assign_add(float(hits.sum()))

        def result(self):
            return self.true_positives

        def reset_state(self):
            self.true_positives.assign(0.0)

    m = TruePositives()
    m.update_state(np.array([1, 0, 1]), np.array([[0.1, 0.9], [0.2, 0.8], [0.3, 0.7]]))
    assert float(m.result()) == 2.0  # rows 0 and 2 hit, by hand
    m.reset_state()
    assert float(m.result()) == 0.0
    mean = tf.keras.metrics.Mean()  # built-in metrics still start from their reset state
    mean.update_state([2.0, 4.0])
    assert float(mean.result()) == 3.0


def test_add_metric_is_kept_as_tf_keras_2s_running_mean():
    layer = tf.keras.layers.Dense(2, name="endpoint")   # Keras 3 removed it; a compatibility shim
    layer.add_metric(1.0, name="accuracy")
    layer.add_metric(np.array([3.0, 5.0]), name="accuracy")   # a non-scalar value: its elements
    (metric,) = layer.metrics
    assert metric.name == "accuracy" and float(metric.result()) == 3.0   # (1 + 3 + 5) / 3
