"""What the Keras-cases harness (tests/keras_cases/) found missing, added with independent oracles:
``data_format='channels_first'`` in convolution, pooling and spatial layers, ``layers.serialize``,
Keras 3's metric state lists (``variables``), ``Optimizer._clip_gradients`` and ``keras.Variable``."""

from __future__ import annotations

import json

import numpy as np
import pytest

import unafraid as uf
from unafraid import layers, metrics, optimizers
from unafraid.keras import backend

X = np.arange(2 * 2 * 4 * 4, dtype=np.float32).reshape(2, 2, 4, 4) % 7  # (batch, channels, h, w)


def test_channels_first_pooling_cropping_padding_upsampling_by_hand():
    blocks = X.reshape(2, 2, 2, 2, 2, 2)  # (n, c, h/2, 2, w/2, 2)
    np.testing.assert_array_equal(layers.MaxPooling2D(2, data_format="channels_first")(X).numpy(),
                                  blocks.max(axis=(3, 5)))
    np.testing.assert_allclose(layers.AveragePooling2D(2, data_format="channels_first")(X).numpy(),
                               blocks.mean(axis=(3, 5)), rtol=1e-6)
    np.testing.assert_allclose(layers.GlobalAveragePooling2D(data_format="channels_first")(X).numpy(),
                               X.mean(axis=(2, 3)), rtol=1e-6)
    np.testing.assert_array_equal(layers.Cropping2D(((1, 0), (0, 2)), data_format="channels_first")(
        X).numpy(), X[:, :, 1:, :2])
    np.testing.assert_array_equal(layers.ZeroPadding2D((1, 2), data_format="channels_first")(X).numpy(),
                                  np.pad(X, ((0, 0), (0, 0), (1, 1), (2, 2))))
    np.testing.assert_array_equal(layers.UpSampling2D(2, data_format="channels_first")(X).numpy(),
                                  X.repeat(2, axis=2).repeat(2, axis=3))
    assert layers.MaxPooling2D(2, data_format="channels_first").compute_output_shape(
        (None, 2, 4, 4)) == (None, 2, 2, 2)


def test_channels_first_conv_by_hand_and_its_gradient():
    conv = layers.Conv2D(1, 2, use_bias=False, data_format="channels_first",
                         kernel_initializer="ones")
    out = conv(X).numpy()  # a 2x2 all-ones kernel over both channels: the sum of each window
    windows = X[:, :, :-1, :-1] + X[:, :, 1:, :-1] + X[:, :, :-1, 1:] + X[:, :, 1:, 1:]
    np.testing.assert_allclose(out, windows.sum(axis=1, keepdims=True), rtol=1e-6)
    kernel = conv.kernel.numpy().astype(np.float64)
    reports = uf.check_grad(lambda x, k: uf.ops.sum(uf.ops.tanh(uf.conv(
        uf.ops.transpose(x, (0, 2, 3, 1)), k, (1, 1), "valid", (1, 1), 1))), X[:1].astype(np.float64),
        kernel)
    assert all(r.error <= 1 for r in reports)
    layer = layers.Conv2D(1, 2, data_format="channels_first", dtype="float64")
    reports = uf.check_grad(lambda x: uf.ops.sum(uf.ops.tanh(layer(x))), X[:1].astype(np.float64))
    assert all(r.error <= 1 for r in reports)


def test_data_format_is_checked():
    with pytest.raises(ValueError, match=r"MaxPooling2D: data_format must be .*got 'NCHW'"):
        layers.MaxPooling2D(data_format="NCHW")


def test_layers_serialize_round_trip_is_json():
    spec = json.loads(json.dumps(layers.serialize(layers.Dense(3, activation="relu", name="d"))))
    assert spec["class_name"] == "Dense"
    revived = layers.deserialize(spec)
    assert isinstance(revived, layers.Dense) and revived.get_config() == spec["config"]


def test_metric_state_variables_hold_the_state_by_keras_names():
    m = metrics.Mean()
    m.update_state([1.0, 3.0], sample_weight=[1.0, 3.0])
    assert [v.name for v in m.variables] == ["total", "count"]
    np.testing.assert_allclose([v.numpy() for v in m.variables], [10.0, 4.0])  # 1*1 + 3*3, 1 + 3
    precision = metrics.Precision()
    precision.update_state([1, 0, 1], [0.9, 0.8, 0.1])  # one TP (0.9), one FP (0.8)
    np.testing.assert_allclose([v.numpy() for v in precision.variables], [[1.0], [1.0]])
    assert len(metrics.TruePositives().variables) == 1 and len(metrics.AUC().variables) == 4
    assert metrics.Accuracy()._dtype == "float32"
    assert metrics.Accuracy(dtype="float64")._dtype == "float64"


def test_clip_gradients_under_keras_name():
    clipped = optimizers.SGD(clipnorm=1)._clip_gradients([np.array([100.0, 100.0])])
    np.testing.assert_allclose(clipped[0], [2 ** -0.5, 2 ** -0.5])  # norm 1, same direction
    np.testing.assert_allclose(optimizers.SGD(clipvalue=1)._clip_gradients([np.array([100.0, -3.0])])[0],
                               [1.0, -1.0])


def test_keras_variable_from_value_or_initializer():
    v = backend.Variable([1.0, 2.0], name="v")
    assert v.trainable and v.dtype == np.float32
    np.testing.assert_array_equal(uf.keras.Variable("ones", shape=(2, 3)).numpy(), np.ones((2, 3)))
    with pytest.raises(ValueError, match="needs shape="):
        backend.Variable("zeros")


def test_iou_metrics_by_hand():
    y_true, y_pred, w = [0, 0, 1, 1], [0, 1, 0, 1], [0.2, 0.3, 0.4, 0.1]
    # weighted confusion matrix (rows true, columns predicted): [[0.2, 0.3], [0.4, 0.1]]
    class0, class1 = 0.2 / (0.2 + 0.3 + 0.4), 0.1 / (0.1 + 0.4 + 0.3)  # TP / (TP + FP + FN)
    m = metrics.MeanIoU(num_classes=2, dtype="float32")
    m.update_state(y_true, y_pred, sample_weight=w)
    np.testing.assert_allclose(m.result(), (class0 + class1) / 2, rtol=1e-5)
    one = metrics.IoU(num_classes=2, target_class_ids=[1], dtype="float32")
    one.update_state(y_true, y_pred, sample_weight=w)
    np.testing.assert_allclose(one.result(), class1, rtol=1e-5)
    binary = metrics.BinaryIoU(target_class_ids=[0, 1], threshold=0.3, dtype="float32")
    binary.update_state(y_true, [0.1, 0.35, 0.2, 0.9], sample_weight=w)  # predicted 0, 1, 0, 1
    np.testing.assert_allclose(binary.result(), (class0 + class1) / 2, rtol=1e-5)
    hot = metrics.OneHotMeanIoU(num_classes=2, dtype="float32")
    hot.update_state(np.eye(2)[y_true], np.eye(2)[y_pred] * 0.8 + 0.1, sample_weight=w)
    np.testing.assert_allclose(hot.result(), (class0 + class1) / 2, rtol=1e-5)


def test_iou_leaves_out_ignored_and_out_of_range_labels_and_absent_classes():
    m = metrics.MeanIoU(num_classes=3, ignore_class=255)
    m.update_state([0, 1, 255, 7, -1], [0, 0, 1, 1, 1])  # only (0, 0) and (1, 0) count
    # class 0: TP 1, FP 1 -> 1/2; class 1: TP 0, FN 1 -> 0; class 2 never occurs: left out
    np.testing.assert_allclose(m.result(), (0.5 + 0.0) / 2, rtol=1e-6)
    assert len(m.variables) == 1 and m.variables[0].shape == (3, 3)


def test_iou_default_int_dtype_truncates_float_weights_as_keras():
    m = metrics.MeanIoU(num_classes=2)
    with pytest.warns(UserWarning, match="weight as `float`"):
        m.update_state([0, 1], [0, 1], sample_weight=np.array([1.7, 0.4]))  # weights 1 and 0
    np.testing.assert_allclose(m.result(), 1.0, rtol=1e-6)  # class 1 is absent: left out


def test_adaptive_pooling_windows_by_hand():
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0], np.float32).reshape(1, 5, 1)
    # L=5, out=3: windows [0, 2), [1, 4), [3, 5)
    np.testing.assert_allclose(layers.AdaptiveAveragePooling1D(3)(x).numpy().ravel(), [1.5, 3.0, 4.5])
    np.testing.assert_allclose(layers.AdaptiveMaxPooling1D(3)(x).numpy().ravel(), [2.0, 4.0, 5.0])
    img = np.arange(1, 17, dtype=np.float32).reshape(1, 1, 4, 4)  # channels first
    np.testing.assert_allclose(
        layers.AdaptiveAveragePooling2D(2, data_format="channels_first")(img).numpy(),
        [[[[3.5, 5.5], [11.5, 13.5]]]])
    assert layers.AdaptiveMaxPooling3D((1, 2, 3)).compute_output_shape((None, 5, 6, 7, 2)) == (
        None, 1, 2, 3, 2)
    with pytest.raises(TypeError, match="output_size"):
        layers.AdaptiveMaxPooling2D((2, 2, 2))


def test_adaptive_pooling_gradients():
    x = np.random.default_rng(0).normal(size=(1, 5, 4, 2))
    for layer in (layers.AdaptiveAveragePooling2D((3, 2), dtype="float64"),
                  layers.AdaptiveMaxPooling2D((3, 2), dtype="float64")):
        assert all(r.error <= 1 for r in uf.check_grad(lambda t, layer=layer: uf.ops.sum(
            uf.ops.tanh(layer(t))), x))


def test_unit_rms_normalization_and_identity_by_hand():
    np.testing.assert_allclose(layers.UnitNormalization()(np.array([[3.0, 4.0]])).numpy(), [[0.6, 0.8]],
                               rtol=1e-6)
    x = np.array([[[1.0, 2.0], [2.0, 4.0]]])  # one slice over axes (1, 2): norm 5
    np.testing.assert_allclose(layers.UnitNormalization(axis=[1, 2])(x).numpy(), x / 5.0, rtol=1e-6)
    rms = layers.RMSNormalization(epsilon=0.0)
    np.testing.assert_allclose(rms(np.array([[3.0, 4.0]])).numpy(), [[3.0, 4.0]] / np.sqrt(12.5),
                               rtol=1e-6)
    assert [w.name.split("/")[-1] for w in rms.trainable_weights] == ["scale"]
    np.testing.assert_array_equal(layers.Identity()(np.array([[1.0, -2.0]])).numpy(), [[1.0, -2.0]])
    with pytest.raises(TypeError, match="axis"):
        layers.UnitNormalization(axis="last")


def test_rms_normalization_gradient():
    layer = layers.RMSNormalization(dtype="float64")
    x = np.random.default_rng(1).normal(size=(3, 4))
    assert all(r.error <= 1 for r in uf.check_grad(lambda t: uf.ops.sum(uf.ops.tanh(layer(t))), x))


def test_adafactor_first_step_by_hand():
    # t = 1: beta_t = 1 - 1**-0.8 = 0, so v = g^2 (+1e-30) and u = g / |g| = sign(g), RMS(u) = 1;
    # the step is alpha = max(1e-3, RMS(w)) * min(lr, 1 / sqrt(1)) = sqrt(7.5) * 0.5 along -sign(g)
    w = uf.Variable(np.array([1.0, 2.0, 3.0, 4.0], np.float32))
    opt = optimizers.Adafactor(learning_rate=0.5)
    opt.apply_gradients([(np.array([0.5, -2.0, 0.1, 3.0], np.float32), w)])
    np.testing.assert_allclose(w.numpy(), np.array([1.0, 2.0, 3.0, 4.0]) - np.sqrt(7.5) * 0.5 * np.array(
        [1, -1, 1, 1]), rtol=1e-6)
    assert optimizers.get("adafactor").get_config()["beta_2_decay"] == -0.8


def test_adafactor_factored_second_moment_by_hand():
    # 2-D, t = 1: r = row means of G = g^2, c = column means, v = (r / mean(r)) outer c
    g = np.array([[1.0, 2.0], [3.0, 4.0]])
    G = g ** 2  # [[1, 4], [9, 16]]: r = [2.5, 12.5], c = [5, 10], mean(r) = 7.5
    v = np.outer(np.array([2.5, 12.5]) / 7.5, [5.0, 10.0])
    u = g / np.sqrt(v)
    rms_u = np.sqrt(np.mean(u ** 2))
    w0 = np.array([[0.5, -0.5], [1.0, 2.0]])
    alpha = np.sqrt(np.mean(w0 ** 2)) * 0.01  # lr = 0.01 < 1 / sqrt(1)
    w = uf.Variable(w0.astype(np.float32))
    opt = optimizers.Adafactor(learning_rate=0.01)
    opt.apply_gradients([(g.astype(np.float32), w)])
    np.testing.assert_allclose(w.numpy(), w0 - alpha * u / max(1.0, rms_u), rtol=1e-5)
    assert G.shape == v.shape


def test_group_normalization_by_hand_and_gradient():
    x = np.array([[1.0, 3.0, 10.0, 30.0]])  # groups of two channels: mean 2 and 20, sd 1 and 10
    np.testing.assert_allclose(layers.GroupNormalization(groups=2, epsilon=0.0)(x).numpy(),
                               [[-1.0, 1.0, -1.0, 1.0]], rtol=1e-6)
    img = np.random.default_rng(2).normal(size=(2, 3, 3, 4))  # channels last, 2 groups of 2
    out = layers.GroupNormalization(groups=2, epsilon=1e-3)(img).numpy()
    g = img.reshape(2, 3, 3, 2, 2)
    expected = (g - g.mean(axis=(1, 2, 4), keepdims=True)) / np.sqrt(
        g.var(axis=(1, 2, 4), keepdims=True) + 1e-3)
    np.testing.assert_allclose(out, expected.reshape(img.shape), rtol=1e-4, atol=1e-5)
    first = np.moveaxis(img, -1, 1)  # the same with channels on axis 1
    np.testing.assert_allclose(layers.GroupNormalization(groups=2, axis=1)(first).numpy(),
                               np.moveaxis(out, -1, 1), rtol=1e-4, atol=1e-5)
    layer = layers.GroupNormalization(groups=-1, dtype="float64")  # instance normalization
    assert all(r.error <= 1 for r in uf.check_grad(lambda t: uf.ops.sum(uf.ops.tanh(layer(t))),
                                                    img[:1, :2, :2]))
    assert layer.groups == 4
    with pytest.raises(ValueError, match="must be a multiple"):
        layers.GroupNormalization(groups=3)(img)


def test_correlation_metrics_against_scipy_and_lin():
    from scipy.stats import pearsonr

    rng = np.random.default_rng(4)
    t, p = rng.normal(size=(3, 6)), rng.normal(size=(3, 6))
    expected = [pearsonr(a, b).statistic for a, b in zip(t, p, strict=True)]
    np.testing.assert_allclose(metrics.pearson_correlation(t, p), expected, rtol=1e-6)
    m = metrics.PearsonCorrelation()
    m.update_state(t, p)
    np.testing.assert_allclose(m.result(), np.mean(expected), rtol=1e-6)
    # Lin (1989): 2 s_tp / (s_t^2 + s_p^2 + (mean_t - mean_p)^2), population moments
    lin = [2 * np.mean((a - a.mean()) * (b - b.mean())) / (a.var() + b.var() + (a.mean() - b.mean()) ** 2)
           for a, b in zip(t, p, strict=True)]
    np.testing.assert_allclose(metrics.concordance_correlation(t, p), lin, rtol=1e-5)
    assert metrics.get("concordance_correlation").get_config()["axis"] == -1


def test_depthwise_separable_1d_and_conv3d_transpose_by_hand():
    x = np.random.default_rng(5).normal(size=(2, 7, 3)).astype(np.float32)
    d = layers.DepthwiseConv1D(3, depth_multiplier=2, use_bias=False)
    k = d(x).numpy(), d.kernel.numpy()
    # output channel c * 2 + m at step i: sum_j x[i + j, c] kernel[j, c, m]
    ref = np.einsum("nijc,jcm->nicm", np.stack([x[:, j:j + 5] for j in range(3)], axis=2), k[1])
    np.testing.assert_allclose(k[0], ref.reshape(2, 5, 6), rtol=1e-5, atol=1e-6)
    s = layers.SeparableConv1D(4, 3, use_bias=False)
    out = s(x).numpy()
    depthwise = np.einsum("nijc,jcm->nicm", np.stack([x[:, j:j + 5] for j in range(3)], axis=2),
                          s.depthwise_kernel.numpy()).reshape(2, 5, 3)
    np.testing.assert_allclose(out, depthwise @ s.pointwise_kernel.numpy()[0], rtol=1e-5, atol=1e-6)
    up = layers.Conv3DTranspose(1, 2, strides=2, use_bias=False, kernel_initializer="ones")
    y = up(np.ones((1, 2, 2, 2, 1), np.float32)).numpy()  # each input spreads over its own 2x2x2
    np.testing.assert_array_equal(y, np.ones((1, 4, 4, 4, 1)))


def test_conv_constraint_is_applied_after_each_update():
    conv = layers.Conv2D(2, 3, kernel_constraint="non_neg", bias_constraint="non_neg")
    model = uf.keras.Sequential([uf.keras.Input((5, 5, 1)), conv, layers.Flatten()])
    model.compile(optimizer=optimizers.SGD(1.0), loss="mse")
    model.fit(np.ones((4, 5, 5, 1), np.float32), np.full((4, 18), 50.0, np.float32) * -1,
              epochs=1, verbose=0)
    assert conv.kernel.numpy().min() >= 0 and conv.bias.numpy().min() >= 0  # pushed down, clipped
    assert layers.Conv2D.from_config(conv.get_config()).kernel_constraint.get_config() == {}


def test_keras_ops_arange_counts_as_numpy():
    assert uf.keras.ops.arange(0.1, 1.1, 0.1).shape == np.arange(0.1, 1.1, 0.1).shape == (10,)
    np.testing.assert_array_equal(uf.keras.ops.arange(5).numpy(), np.arange(5))
    assert uf.keras.ops.arange(1, 7, 2).numpy().dtype == np.int32
    assert uf.keras.ops.arange(0.0, 1.0, 0.25).numpy().dtype == np.float32


def test_masked_global_average_pooling_1d_by_hand():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    mask = np.array([[1, 1, 0], [0, 1, 0]])
    out = layers.GlobalAveragePooling1D()(x, mask).numpy()
    np.testing.assert_allclose(out, [(x[0, 0] + x[0, 1]) / 2, x[1, 1]])
    masked = uf.keras.Sequential([layers.Masking(0.0), layers.GlobalAveragePooling1D()])
    seq = np.array([[[1.0, 2.0], [3.0, 4.0], [0.0, 0.0]]], np.float32)  # the last step is masked
    np.testing.assert_allclose(masked(seq).numpy(), [[2.0, 3.0]])
    assert layers.ReLU().supports_masking and layers.PReLU().supports_masking


def test_conv_build_takes_input_shape_by_keyword():
    conv = layers.Conv2D(2, 3, data_format="channels_first")
    conv.build(input_shape=(None, 4, 6, 6))
    assert conv.kernel.shape == (3, 3, 4, 2)


def test_dropout_noise_shape_is_checked_as_keras_does():
    assert layers.Dropout(0.5, noise_shape=[20, 1, 10]).noise_shape == (20, 1, 10)
    assert layers.Dropout(0.5, noise_shape=(None, 1, None)).noise_shape == (None, 1, None)
    for bad, match in [("Invalid", "tuple or list of integers"), ((20, 1.5, 10), "integers or None"),
                       ((20, -1, 10), "positive integers or None"), ((20, 0, 10), "positive")]:
        with pytest.raises(ValueError, match=match):
            layers.Dropout(0.5, noise_shape=bad)


def test_one_dimensional_cropping_and_padding_take_an_int_or_a_pair():
    assert layers.Cropping1D((1, 2)).cropping == ((1, 2),) and layers.ZeroPadding1D(2).padding == ((2, 2),)
    for bad in [(1,), (1, 2, 3), "1"]:  # Keras refuses these too
        with pytest.raises(ValueError, match=r"Cropping1D: cropping must be a non-negative int or a"):
            layers.Cropping1D(cropping=bad)
