"""Convolution, pooling, spatial reshaping and spatial dropout layers: Keras's names, defaults,
output shapes and parameter counts (the numbers Keras prints for the same layers), values against
SciPy / NumPy oracles, config round trips, and saving and loading."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.signal import correlate

import unafraid as uf
import unafraid.keras as keras
from unafraid.keras import layers

# layer, input shape (one example), output shape (one example), parameters (as Keras reports)
SHAPES = [
    (lambda: layers.Conv2D(32, kernel_size=(3, 3), activation="relu"), (28, 28, 1), (26, 26, 32), 320),
    (lambda: layers.Conv2D(64, 3, strides=2, padding="same"), (13, 13, 32), (7, 7, 64), 18496),
    (lambda: layers.Conv2D(8, 3, dilation_rate=2), (9, 9, 4), (5, 5, 8), 296),
    (lambda: layers.Conv2D(6, 3, groups=3, use_bias=False), (5, 5, 6), (3, 3, 6), 108),
    (lambda: layers.Conv1D(16, 5, padding="causal"), (20, 3), (20, 16), 256),
    (lambda: layers.Conv1D(4, 3, strides=2), (9, 2), (4, 4), 28),
    (lambda: layers.Conv3D(2, 2), (4, 4, 4, 1), (3, 3, 3, 2), 18),
    (lambda: layers.Conv2DTranspose(64, 5, strides=2, padding="same"), (7, 7, 128), (14, 14, 64),
     204864),
    (lambda: layers.Conv2DTranspose(3, 3, strides=2), (5, 5, 2), (11, 11, 3), 57),
    (lambda: layers.Conv2DTranspose(3, 3, strides=2, output_padding=1, padding="same"), (5, 5, 2),
     (10, 10, 3), 57),
    (lambda: layers.Conv1DTranspose(2, 4, strides=3), (5, 1), (16, 2), 10),
    (lambda: layers.DepthwiseConv2D(3, depth_multiplier=2), (8, 8, 8), (6, 6, 16), 160),
    (lambda: layers.SeparableConv2D(64, 3, padding="same"), (10, 10, 32), (10, 10, 64), 2400),
    (lambda: layers.MaxPooling2D(pool_size=(2, 2)), (26, 26, 32), (13, 13, 32), 0),
    (lambda: layers.MaxPooling2D(3, strides=2, padding="same"), (11, 11, 4), (6, 6, 4), 0),
    (lambda: layers.MaxPooling1D(), (9, 3), (4, 3), 0),
    (lambda: layers.AveragePooling2D(), (5, 7, 3), (2, 3, 3), 0),
    (lambda: layers.AveragePooling1D(3, strides=1, padding="same"), (6, 2), (6, 2), 0),
    (lambda: layers.GlobalAveragePooling2D(), (5, 5, 7), (7,), 0),
    (lambda: layers.GlobalAveragePooling1D(keepdims=True), (5, 7), (1, 7), 0),
    (lambda: layers.GlobalMaxPooling2D(), (5, 5, 7), (7,), 0),
    (lambda: layers.GlobalMaxPooling1D(), (5, 7), (7,), 0),
    (lambda: layers.UpSampling2D(), (7, 7, 3), (14, 14, 3), 0),
    (lambda: layers.UpSampling2D(size=(1, 3)), (2, 2, 1), (2, 6, 1), 0),
    (lambda: layers.UpSampling1D(size=3), (4, 2), (12, 2), 0),
    (lambda: layers.ZeroPadding2D(), (4, 4, 2), (6, 6, 2), 0),
    (lambda: layers.ZeroPadding2D(padding=((1, 0), (2, 3))), (4, 4, 2), (5, 9, 2), 0),
    (lambda: layers.ZeroPadding1D(padding=(0, 2)), (4, 2), (6, 2), 0),
    (lambda: layers.Cropping2D(cropping=((2, 2), (4, 4))), (28, 28, 3), (24, 20, 3), 0),
    (lambda: layers.Cropping2D(), (3, 3, 1), (3, 3, 1), 0),
    (lambda: layers.Cropping1D(), (5, 2), (3, 2), 0),
    (lambda: layers.SpatialDropout2D(0.5), (4, 4, 8), (4, 4, 8), 0),
    (lambda: layers.SpatialDropout1D(0.3), (6, 8), (6, 8), 0),
]


@pytest.mark.parametrize("make, in_shape, out_shape, params", SHAPES)
def test_output_shapes_and_parameter_counts_are_keras_s(make, in_shape, out_shape, params):
    layer = make()
    x = np.random.default_rng(0).uniform(-1, 1, (2, *in_shape)).astype(np.float32)
    y = layer(x, training=True)
    assert y.shape == (2, *out_shape)
    assert y.dtype == np.float32
    assert layer.compute_output_shape((None, *in_shape)) == (None, *out_shape)
    assert layer.count_params() == params
    again = type(layer).from_config(layer.get_config())  # config round trip
    assert again.get_config() == {**layer.get_config(), "name": again.name}


def test_summary_of_the_keras_mnist_convnet_matches_keras():
    keras.backend.clear_session()  # layer names count from zero again
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ])
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    for shape, count in [("(None, 26, 26, 32)", "320"), ("(None, 13, 13, 32)", "0"),
                         ("(None, 11, 11, 64)", "18,496"), ("(None, 5, 5, 64)", "0"),
                         ("(None, 1600)", "0"), ("(None, 10)", "16,010")]:
        assert any(shape in line and line.rstrip().endswith(count) for line in text.splitlines())
    assert "Total params: 34,826" in text
    assert [layer.name for layer in model.layers[:4]] == ["conv2d", "max_pooling2d", "conv2d_1",
                                                           "max_pooling2d_1"]  # Keras's names


def test_conv_layers_compute_what_scipy_computes():
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, (2, 6, 5, 3))
    layer = layers.Conv2D(4, (3, 2), activation="tanh", bias_initializer="ones", dtype="float64")
    y = layer(x).numpy()
    w, b = layer.kernel.numpy(), layer.bias.numpy()
    expected = np.stack([[sum(correlate(x[n, :, :, c], w[:, :, c, f], mode="valid")
                              for c in range(3)) + b[f] for f in range(4)] for n in range(2)])
    assert_allclose(y, np.tanh(np.moveaxis(expected, 1, -1)), rtol=1e-12)

    dw = layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same", dtype="float64")
    y = dw(x).numpy()
    k = dw.kernel.numpy()
    for c in range(3):
        for m in range(2):
            plane = correlate(x[0, :, :, c], k[:, :, c, m], mode="same")
            assert_allclose(y[0, :, :, c * 2 + m], plane, rtol=1e-12, atol=1e-14)

    sep = layers.SeparableConv2D(5, 3, use_bias=False, dtype="float64")
    y = sep(x).numpy()
    depth = np.stack([correlate(x[1, :, :, c], sep.depthwise_kernel.numpy()[:, :, c, 0],
                                mode="valid") for c in range(3)], axis=-1)
    assert_allclose(y[1], depth @ sep.pointwise_kernel.numpy()[0, 0], rtol=1e-12)

    up = layers.Conv2DTranspose(2, 3, strides=2, dtype="float64", use_bias=False)
    y = up(x).numpy()  # each input pixel stamps its kernel, 2 pixels apart
    kt = up.kernel.numpy()
    expected = np.zeros((2, 13, 11, 2))
    for i in range(6):
        for j in range(5):
            expected[:, 2 * i:2 * i + 3, 2 * j:2 * j + 3] += np.einsum("nc,hwfc->nhwf", x[:, i, j], kt)
    assert_allclose(y, expected, rtol=1e-12, atol=1e-14)


def test_pooling_and_reshaping_layers_compute_what_numpy_computes():
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, (2, 6, 4, 3)).astype(np.float32)
    blocks = x.reshape(2, 3, 2, 2, 2, 3)
    assert_array_equal(layers.MaxPooling2D()(x).numpy(), blocks.max(axis=(2, 4)))
    assert_allclose(layers.AveragePooling2D()(x).numpy(), blocks.mean(axis=(2, 4)), rtol=1e-6)
    assert_allclose(layers.GlobalAveragePooling2D()(x).numpy(), x.mean(axis=(1, 2)), rtol=1e-6)
    assert_array_equal(layers.GlobalMaxPooling2D(keepdims=True)(x).numpy(),
                       x.max(axis=(1, 2), keepdims=True))
    assert_array_equal(layers.UpSampling2D(size=(2, 3))(x).numpy(),
                       x.repeat(2, axis=1).repeat(3, axis=2))
    assert_array_equal(layers.UpSampling1D(2)(x[:, 0]).numpy(), x[:, 0].repeat(2, axis=1))
    assert_array_equal(layers.ZeroPadding2D(((1, 2), (0, 1)))(x).numpy(),
                       np.pad(x, ((0, 0), (1, 2), (0, 1), (0, 0))))
    assert_array_equal(layers.Cropping2D(((1, 2), (0, 1)))(x).numpy(), x[:, 1:4, 0:3])
    assert_array_equal(layers.Cropping1D((2, 1))(x[:, :, 0]).numpy(), x[:, 2:5, 0])


def test_spatial_dropout_drops_whole_channels_reproducibly():
    x = np.ones((4, 5, 5, 16), np.float32)
    uf.set_random_seed(7)
    y = layers.SpatialDropout2D(0.5)(x, training=True).numpy()
    per_channel = y.reshape(4, 25, 16)
    assert (per_channel == per_channel[:, :1]).all()  # one draw per (example, channel)
    assert set(np.unique(y)) == {0.0, 2.0}
    uf.set_random_seed(7)
    assert_array_equal(layers.SpatialDropout2D(0.5)(x, training=True).numpy(), y)
    assert_array_equal(layers.SpatialDropout2D(0.5)(x).numpy(), x)  # inference: identity
    z = layers.SpatialDropout1D(0.5, seed=3)(x[:, 0], training=True).numpy()
    assert (z == z[:, :1]).all()


def test_every_layer_saves_and_loads(tmp_path):
    uf.set_random_seed(3)
    model = keras.Sequential([
        keras.Input(shape=(12, 12, 2)),
        layers.ZeroPadding2D(1),
        layers.Conv2D(4, 3, activation="relu", padding="same"),
        layers.DepthwiseConv2D(3, depth_multiplier=2),
        layers.SeparableConv2D(4, 3, padding="same"),
        layers.MaxPooling2D(),
        layers.SpatialDropout2D(0.2),
        layers.Conv2DTranspose(3, 3, strides=2, padding="same"),
        layers.Cropping2D(((1, 1), (2, 0))),
        layers.UpSampling2D(),
        layers.AveragePooling2D(3, strides=2, padding="same"),
        layers.Reshape((-1, 3)),
        layers.Conv1D(4, 3, padding="causal"),
        layers.LeakyReLU(),
        layers.Conv1DTranspose(2, 2, strides=2),
        layers.MaxPooling1D(),
        layers.AveragePooling1D(),
        layers.UpSampling1D(),
        layers.ZeroPadding1D(),
        layers.Cropping1D(),
        layers.SpatialDropout1D(0.1),
        layers.GlobalMaxPooling1D(),
        layers.Dense(3),
    ])
    x = np.random.default_rng(4).uniform(size=(2, 12, 12, 2)).astype(np.float32)
    before = model.predict(x, verbose=0)
    model.save(tmp_path / "m.safetensors")
    again = keras.models.load_model(tmp_path / "m.safetensors")
    assert [type(a).__name__ for a in again.layers] == [type(a).__name__ for a in model.layers]
    assert_array_equal(again.predict(x, verbose=0), before)
    # every one of these layers (LeakyReLU included) is in Keras 3's .keras format too
    model.save(tmp_path / "m.keras")
    assert_allclose(keras.models.load_model(tmp_path / "m.keras").predict(x, verbose=0), before,
                    rtol=1e-6)


def test_leaky_relu_layer_has_keras_3_s_default_slope():
    x = np.array([[-2.0, -0.5, 0.0, 1.5]], np.float32)
    assert_allclose(layers.LeakyReLU()(x).numpy(), [[-0.6, -0.15, 0.0, 1.5]], rtol=1e-6)
    assert_allclose(layers.LeakyReLU(alpha=0.1)(x).numpy(), [[-0.2, -0.05, 0.0, 1.5]], rtol=1e-6)
    layer = layers.LeakyReLU(negative_slope=0.2)
    assert type(layer).from_config(layer.get_config()).negative_slope == 0.2


def test_layers_explain_misuse():
    with pytest.raises(ValueError, match=r"\(batch, height, width, channels\).*\(2, 28, 28\).*"
                                         r"np.expand_dims\(x, -1\)"):
        layers.Conv2D(8, 3)(np.zeros((2, 28, 28), np.float32))
    with pytest.raises(ValueError, match=r"data_format must be 'channels_last' .* or "
                                         r"'channels_first' .*got 'nchw'"):
        layers.Conv2D(8, 3, data_format="nchw")
    with pytest.raises(ValueError, match=r"filters \(6\) must be a multiple of groups \(4\)"):
        layers.Conv2D(6, 3, groups=4)
    with pytest.raises(ValueError, match=r"padding must be one of \('valid', 'same'\)"):
        layers.Conv2D(6, 3, padding="causal")
    with pytest.raises(ValueError, match=r"output_padding must be in \[0, stride\)"):
        layers.Conv2DTranspose(6, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match=r"removes everything"):
        layers.Cropping2D(2)(np.zeros((1, 4, 4, 1), np.float32))
    conv = layers.Conv2D(2, 3)
    conv(np.zeros((1, 5, 5, 3), np.float32))
    with pytest.raises(ValueError, match=r"built for inputs with 3 channels"):
        conv(np.zeros((1, 5, 5, 4), np.float32))


@pytest.mark.parametrize("layer, input_shape, fan_in, fan_out", [
    (lambda: layers.Conv2D(64, (3, 3)), (13, 13, 32), 3 * 3 * 32, 3 * 3 * 64),
    (lambda: layers.Conv2D(32, (3, 3)), (28, 28, 1), 3 * 3 * 1, 3 * 3 * 32),
    (lambda: layers.Conv1D(48, 5), (20, 7), 5 * 7, 5 * 48),
])
def test_conv_kernels_start_glorot_uniform_over_the_receptive_field(layer, input_shape, fan_in,
                                                                     fan_out):
    # Keras: glorot_uniform draws on [-l, l], l = sqrt(6 / (fan_in + fan_out)), where a conv
    # kernel's fans count the receptive field: kernel volume x input / output channels.
    conv = layer()
    conv(np.zeros((1, *input_shape), np.float32))
    w = conv.kernel.numpy()
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    assert w.dtype == np.float32 and np.abs(w).max() <= limit
    assert np.abs(w).max() >= 0.97 * limit                         # the draws fill [-l, l] ...
    assert np.var(w) == pytest.approx(limit ** 2 / 3, rel=0.15)    # ... uniformly
    assert_array_equal(conv.bias.numpy(), np.zeros(conv.bias.shape, np.float32))


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv_with_relu_fuses_it_and_gives_the_bits_of_a_separate_relu(data_format):
    """``Conv2D(activation="relu")`` takes the ReLU in the convolution's own output (one array
    fewer); values and the gradients of a loss match Conv2D followed by a ReLU layer, bit for bit."""
    fused = layers.Conv2D(5, 3, activation="relu", data_format=data_format)
    plain = layers.Conv2D(5, 3, data_format=data_format)
    shape = (2, 3, 7, 6) if data_format == "channels_first" else (2, 7, 6, 3)
    x = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    fused.build(x.shape)
    plain.build(x.shape)
    plain.set_weights([w + 0 for w in fused.get_weights()])
    relu = layers.ReLU()
    results = []
    for forward, layer in ((fused, fused), (lambda x: relu(plain(x)), plain)):
        with uf.GradientTape() as tape:
            y = forward(x)
            loss = uf.sum(y * y)
        results.append([np.asarray(y), *map(np.asarray, tape.gradient(loss, layer.weights))])
    for a, b in zip(*results, strict=True):
        assert a.dtype == np.float32 and a.tobytes() == b.tobytes()
    assert (results[0][0] == 0).any() and (results[0][0] > 0).any()
    if data_format == "channels_last":  # one recorded op: the convolution, ReLU inside
        ctx = fused(x)._ctx
        assert ctx.name == "conv" and ctx.params["relu"]
