"""Issue 17 item 1: masking (Keras's ``_keras_mask``), ported from Keras 3's own tests.

Each test names the Keras 3 test it ports; expected values are Keras's, or hand-worked.
"""

import numpy as np
import pytest

import unafraid as uf
from unafraid import keras
from unafraid.layers.base import keras_mask

layers = keras.layers
rng = np.random.default_rng(1)


def mask_of(t):
    return np.asarray(keras_mask(t).data)


# ---- layers.Masking and propagation -------------------------------------------------------------
def test_masking_correctness():
    """masking_test.test_masking_correctness: compute_mask, and the mask a later layer gets."""
    x = np.array([[[0.0, 0.0], [1.0, 2.0], [0.0, 0.0]], [[2.0, 2.0], [0.0, 0.0], [2.0, 1.0]]])
    expected_mask = [[False, True, False], [True, False, True]]
    layer = layers.Masking(mask_value=0.0)
    np.testing.assert_array_equal(layer.compute_mask(x).data, expected_mask)
    seen = []

    class TestLayer(layers.Layer):
        supports_masking = True

        def call(self, inputs, mask=None):
            seen.append(None if mask is None else np.asarray(mask.data))
            return inputs

    keras.Sequential([layers.Masking(mask_value=0.0), TestLayer()])(x)
    np.testing.assert_array_equal(seen[-1], expected_mask)


def test_masking_zeroes_masked_steps_and_other_mask_values():
    x = np.array([[[-1.0, -1.0], [1.0, -1.0]]])
    y = layers.Masking(mask_value=-1.0)(x)
    np.testing.assert_array_equal(y.numpy(), [[[0.0, 0.0], [1.0, -1.0]]])
    np.testing.assert_array_equal(mask_of(y), [[False, True]])


def test_mask_passes_through_supporting_layers_and_warns_when_dropped():
    x = np.array([[[0.0, 0.0], [1.0, 2.0]]], "float32")
    h = layers.Masking()(x)
    for layer in (layers.Dense(3), layers.Activation("tanh"), layers.Dropout(0.5),
                  layers.LayerNormalization(), layers.BatchNormalization(),
                  layers.GaussianNoise(0.1), layers.ActivityRegularization(l1=0.1)):
        h = layer(h)
        np.testing.assert_array_equal(mask_of(h), [[False, True]])
    with pytest.warns(UserWarning, match="does not support masking"):
        out = layers.Flatten()(h)
    assert keras_mask(out) is None


def test_a_layer_that_computes_its_own_mask():
    """Keras's compute_mask contract: a custom layer may return a new mask."""
    class FirstStepOnly(layers.Layer):
        def call(self, inputs):
            return inputs

        def compute_mask(self, inputs, previous_mask=None):
            m = np.zeros(inputs.shape[:-1], bool)
            m[:, 0] = True
            return uf.constant(m)

    out = FirstStepOnly()(np.ones((2, 3, 1)))
    np.testing.assert_array_equal(mask_of(out), [[True, False, False]] * 2)


def test_mask_propagates_through_a_functional_model():
    """The mask rides on the tensors a functional model passes between its layers."""
    inp = keras.Input(shape=(3, 2))
    h = layers.Dense(4)(layers.Masking()(inp))
    model = keras.Model(inp, layers.Dense(1)(h))
    x = np.array([[[0.0, 0.0], [1.0, 2.0], [3.0, 0.0]]], "float32")
    np.testing.assert_array_equal(mask_of(model(x)), [[False, True, True]])


# ---- Softmax(mask=) -----------------------------------------------------------------------------
def test_softmax_correctness_with_mask():
    """softmax_test.test_softmax_correctness_with_mask (axis=(1, 0))."""
    out = layers.Softmax(axis=(1, 0))(np.array([[1.0, 2.0, 1.0], [1.0, 2.0, 1.0]]),
                                      mask=np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]))
    np.testing.assert_allclose(out.numpy(), [[0.21194154, 0.0, 0.21194154],
                                             [0.0, 0.57611686, 0.0]], rtol=1e-6)


def test_softmax_correctness_with_axis():
    """softmax_test.test_softmax_correctness_with_axis."""
    out = layers.Softmax(axis=1)(np.array([[1.0, 2.0, 1.0], [1.0, 2.0, 1.0]]))
    np.testing.assert_allclose(out.numpy(), [[0.21194157, 0.5761169, 0.21194157]] * 2,
                               rtol=1e-6)


def test_softmax_masked_values_are_zero_including_fully_masked():
    """softmax_test.test_softmax_masked_values_are_zero_including_fully_masked."""
    x = np.array([[1.0, 2.0, 5.0, 1.0], [1.0, 1.0, 1.0, 1.0], [3.0, 1.0, 2.0, 4.0]], "float32")
    mask = np.array([[True, True, False, False], [False] * 4, [True] * 4])
    np.testing.assert_allclose(layers.Softmax()(x, mask=mask).numpy(),
                               [[0.268941, 0.731059, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0],
                                [0.236883, 0.032059, 0.087144, 0.643914]], atol=1e-6)


def test_softmax_mask_broadcasting_and_errors():
    """softmax_test: test_softmax_mask_broadcastable, ..._fewer_dims, ..._shape_mismatch."""
    x = np.array([[1.0, 2.0, 1.0], [3.0, 4.0, 5.0]])
    np.testing.assert_array_equal(layers.Softmax()(x, mask=np.array([[1.0, 0.0, 1.0]])).numpy()
                                  [:, 1], [0.0, 0.0])
    np.testing.assert_array_equal(layers.Softmax(axis=-1)(x, mask=np.array([1.0, 0.0, 1.0]))
                                  .numpy()[:, 1], [0.0, 0.0])
    with pytest.raises(ValueError, match="broadcastable"):
        layers.Softmax()(np.array([[1.0, 2.0, 1.0]]), mask=np.ones((2, 3)))
    with pytest.raises(ValueError, match="broadcastable"):
        layers.Softmax()(x, mask=np.ones((2, 2)))


def test_softmax_mask_gradient():
    mask = np.array([[True, False, True], [True, True, False]])
    layer = layers.Softmax(dtype="float64")
    uf.check_grad(lambda x: uf.sum(uf.tanh(layer(x, mask=mask)) * np.arange(6.0).reshape(2, 3)),
                  rng.normal(size=(2, 3)), order=2)


# ---- BatchNormalization(mask=) ------------------------------------------------------------------
def test_batchnorm_input_fully_masked():
    """batch_normalization_test.test_input_fully_masked."""
    norm = layers.BatchNormalization(scale=False, center=False)
    y = norm(np.zeros((4, 5)), mask=np.zeros((4,), "float32"), training=True)
    np.testing.assert_allclose(y.numpy(), np.zeros((4, 5)))


def test_batchnorm_masked_broadcast_normalization():
    """batch_normalization_test.test_masked_broadcast_normalization."""
    layer = layers.BatchNormalization(axis=-1, momentum=0.0, epsilon=1e-3)
    y = layer(np.ones((1, 2, 3, 4)), training=True, mask=np.ones((1, 2, 1))).numpy()
    np.testing.assert_allclose(y.mean(axis=(0, 1, 2)), np.zeros(4), atol=1e-6)
    np.testing.assert_allclose(y, np.zeros_like(y), atol=1e-6)
    np.testing.assert_allclose(layer.moving_mean.numpy(), np.ones(4), atol=1e-6)
    np.testing.assert_allclose(layer.moving_variance.numpy(), np.zeros(4), atol=1e-6)


def test_batchnorm_masked_statistics_by_hand_and_gradient():
    """Masked moments: mean and variance of the unmasked steps only (Keras 3's _moments)."""
    x = rng.normal(size=(3, 4, 2))
    mask = np.array([[1, 1, 0, 0], [1, 0, 1, 0], [1, 1, 1, 1]], bool)
    layer = layers.BatchNormalization(momentum=0.0, dtype="float64")
    y = layer(x, training=True, mask=mask).numpy()
    kept = x[mask]
    mean = kept.sum(0) / (mask.sum() + 1e-7)
    var = ((kept - mean) ** 2).sum(0) / (mask.sum() + 1e-7)
    np.testing.assert_allclose(layer.moving_mean.numpy(), mean, rtol=1e-10)
    np.testing.assert_allclose(layer.moving_variance.numpy(), var, rtol=1e-10)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-9)
    with pytest.raises(ValueError, match="one dimension less"):
        layer(x, training=True, mask=np.ones((3,)))

    def f(x):
        return uf.sum(uf.tanh(layer.call(x, training=True, mask=mask)))

    uf.check_grad(f, x, order=2)


def test_batchnorm_masked_inference_is_unchanged():
    """batch_normalization_test.test_masking_correctness, its masked part: a mask does not
    change inference, and changes the training statistics."""
    layer = layers.BatchNormalization(momentum=0.0)
    x = rng.normal(size=(8, 3, 2)).astype("float32")
    x[:, 1, :] = 0.0
    layer(x, training=True)
    unmasked = layer(x, training=False).numpy()
    masked = layer(layers.Masking()(x), training=False).numpy()
    np.testing.assert_allclose(masked, unmasked)
    trained_masked = layer(layers.Masking()(x), training=True).numpy()
    assert not np.allclose(trained_masked, unmasked)


@pytest.mark.parametrize("jit", [False, True])
@pytest.mark.parametrize("mask_value", [0.0, 0.1, 1])
def test_batchnorm_ignore_masked_values(mask_value, jit):
    """batch_normalization_test.test_bachnorm_ignore_masked_values (run_eagerly True/False)."""
    padded = np.array([[[1, 5], [2, 5], [mask_value, mask_value], [mask_value, mask_value]]
                       for _ in range(10)], "float32")
    inputs = layers.Input((None, 2))
    normed = layers.BatchNormalization(momentum=0.0)(layers.Masking(mask_value=mask_value)(inputs))
    model = keras.Model(inputs, normed)
    model.compile("rmsprop", loss=keras.losses.MeanSquaredError(), jit_compile=jit)
    model.fit(x=padded, y=padded, batch_size=10, epochs=5, verbose=0)
    np.testing.assert_allclose(model.layers[-1].moving_mean.numpy(), [1.5, 5.0], rtol=1e-5)
    np.testing.assert_allclose(model.layers[-1].moving_variance.numpy(), [0.25, 0.0], atol=1e-5)


# ---- losses and metrics -------------------------------------------------------------------------
class ExampleLoss(keras.losses.Loss):  # loss_test.ExampleLoss
    def call(self, y_true, y_pred):
        return (y_true - y_pred) ** 2


def _masked(y_pred, mask):
    t = uf.constant(np.asarray(y_pred, "float32"))
    t._keras_mask = uf.constant(np.asarray(mask))
    return t


def test_loss_mask():
    """loss_test.test_mask, with its all-masked edge case."""
    y_true = np.array([1.0, 0.0, 1.0, 0.0])
    y_pred = _masked([0.1, 0.2, 0.3, 0.4], [True, False, True, True])
    loss = ExampleLoss()(y_true, y_pred)
    assert loss.dtype == np.float32
    np.testing.assert_allclose(float(loss), np.sum((np.array([1.0, 1.0, 0.0])
                                                    - np.array([0.1, 0.3, 0.4])) ** 2) / 3,
                               rtol=1e-6)
    loss = ExampleLoss()(y_true, _masked([0.1, 0.2, 0.3, 0.4], [False] * 4))
    assert float(loss) == 0.0


def test_loss_mask_and_sample_weight():
    """loss_test.test_mask_and_sample_weight and test_mask_and_sample_weight_rank2."""
    sw = np.array([0.4, 0.3, 0.2, 0.1])
    y_true = np.array([1.0, 0.0, 1.0, 0.0])
    mask = np.array([True, False, True, True])
    loss = ExampleLoss()(y_true, _masked([0.1, 0.2, 0.3, 0.4], mask), sample_weight=sw)
    expected = np.sum(np.array([0.4, 0.2, 0.1]) * (np.array([1.0, 1.0, 0.0])
                                                   - np.array([0.1, 0.3, 0.4])) ** 2) / 3
    np.testing.assert_allclose(float(loss), expected, rtol=1e-6)
    rank2 = ExampleLoss()(np.tile(y_true, (2, 1)), _masked(np.tile([0.1, 0.2, 0.3, 0.4], (2, 1)),
                                                           np.tile(mask, (2, 1))),
                          sample_weight=np.tile(sw, (2, 1)))
    np.testing.assert_allclose(float(rank2), float(loss), rtol=1e-6)


@pytest.mark.parametrize("uprank", ["mask", "sample_weight", "ys"])
def test_loss_mask_rank_adjustment(uprank):
    """loss_test.test_rank_adjustment."""
    sw = np.array([0.4, 0.3, 0.2, 0.1])
    y_true = np.array([1.0, 0.0, 1.0, 0.0])
    y_pred = np.array([0.1, 0.2, 0.3, 0.4])
    mask = np.array([True, False, True, True])
    if uprank == "mask":
        mask = mask[:, None]
    elif uprank == "sample_weight":
        sw = sw[:, None]
    else:
        y_true, y_pred = y_true[:, None], y_pred[:, None]
    loss = ExampleLoss()(y_true, _masked(y_pred, mask), sample_weight=sw)
    expected = np.sum(np.array([0.4, 0.2, 0.1]) * (np.array([1.0, 1.0, 0.0])
                                                   - np.array([0.1, 0.3, 0.4])) ** 2) / 3
    np.testing.assert_allclose(float(loss), expected, rtol=1e-6)


def test_builtin_losses_respect_the_mask():
    """Per-step losses of a sequence: the mask drops the padded steps (hand-worked means)."""
    y_true = np.array([[[1.0], [2.0], [9.0]]])
    y_pred = _masked([[[0.0], [0.0], [0.0]]], [[True, True, False]])
    np.testing.assert_allclose(float(keras.losses.MeanSquaredError()(y_true, y_pred)), 2.5)
    np.testing.assert_allclose(float(keras.losses.MeanAbsoluteError()(y_true, y_pred)), 1.5)
    sum_loss = keras.losses.MeanSquaredError(reduction="sum")(y_true, y_pred)
    np.testing.assert_allclose(float(sum_loss), 5.0)


def test_metrics_respect_the_mask():
    """Keras's MeanMetricWrapper folds the mask into the sample weights (reduction 'sum')."""
    y_true = np.array([[[1.0], [2.0], [9.0]]])
    y_pred = _masked([[[0.0], [0.0], [0.0]]], [[True, True, False]])
    m = keras.metrics.MeanSquaredError()
    m.update_state(y_true, y_pred)
    np.testing.assert_allclose(float(m.result()), 2.5)
    m = keras.metrics.MeanAbsoluteError()
    m.update_state(y_true, y_pred, sample_weight=np.array([2.0]))
    np.testing.assert_allclose(float(m.result()), 1.5)


@pytest.mark.parametrize("jit", [False, True])
def test_fit_ignores_padded_steps(jit):
    """A padded sequence model: the loss fit reports and the metric are the unpadded means."""
    uf.random.set_seed(3)
    model = keras.Sequential([keras.Input(shape=(4, 1)), layers.Masking(), layers.Dense(1)])
    model.compile("sgd", "mse", metrics=["mae"], jit_compile=jit)
    x = np.array([[[1.0], [2.0], [0.0], [0.0]], [[3.0], [0.0], [0.0], [0.0]]], "float32")
    y = np.ones((2, 4, 1), "float32")
    pred = model(x).numpy()[..., 0]
    keep = np.array([[1, 1, 0, 0], [1, 0, 0, 0]], bool)
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["loss"], np.mean((pred[keep] - 1) ** 2), rtol=1e-5)
    np.testing.assert_allclose(logs["mae"], np.mean(np.abs(pred[keep] - 1)), rtol=1e-5)
    # changing a padded target changes nothing
    before = model.get_weights()
    y2 = y.copy()
    y2[~keep] = 100.0
    model.fit(x, y2, epochs=2, batch_size=2, verbose=0, shuffle=False)
    after_a = model.get_weights()
    model.set_weights(before)
    model.fit(x, y, epochs=2, batch_size=2, verbose=0, shuffle=False)
    for a, b in zip(after_a, model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)


@pytest.mark.parametrize("jit", [False, True, "auto"])
def test_training_metrics_are_masked_whatever_jit_compile_says(jit):
    """fit's own logs: with a learning rate of 0 every epoch reports the masked means."""
    uf.random.set_seed(3)
    model = keras.Sequential([keras.Input(shape=(4, 1)), layers.Masking(), layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.0), "mse", metrics=["mae"], jit_compile=jit)
    x = np.tile(np.array([[[1.0], [2.0], [0.0], [0.0]], [[3.0], [0.0], [0.0], [0.0]]], "float32"),
                (4, 1, 1))
    y = np.ones((8, 4, 1), "float32")
    pred = model(x).numpy()[..., 0]
    keep = np.any(x != 0, axis=-1)
    history = model.fit(x, y, epochs=4, batch_size=2, verbose=0, shuffle=False).history
    np.testing.assert_allclose(history["mae"], np.mean(np.abs(pred[keep] - 1)), rtol=1e-5)
    np.testing.assert_allclose(history["loss"], np.mean((pred[keep] - 1) ** 2), rtol=1e-5)
