"""Layer features and checks that Keras 3's own layer tests expect (tests/keras_cases/), each with an
independent oracle: a hand-worked example, or Keras 3 on JAX where it is installed.

``InputLayer(shape=, batch_size=, input_tensor=)``, ``UpSampling2D(interpolation=...)``, and the
errors Keras raises for impossible configurations (cropping or convolving away a whole axis, an
invalid ``Reshape`` target, a Dense called on the wrong number of features)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import unafraid as uf
from tests.oracles.keras_jax import keras_jax
from unafraid import layers
from unafraid.layers import InputLayer, KerasTensor


# ---- InputLayer -----------------------------------------------------------------------------------
def test_input_layer_shape_and_batch_size():
    layer = InputLayer(shape=(2, 3), batch_size=4)
    assert layer.batch_shape == (4, 2, 3)
    assert layer.output.shape == (4, 2, 3) and layer.output.dtype == "float32"
    assert (layer.sparse, layer.ragged, layer.output.sparse, layer.output.ragged) == (False,) * 4
    assert InputLayer(shape=(np.int64(32),)).batch_shape == (None, 32)
    assert InputLayer(batch_shape=(None, 5)).batch_shape == (None, 5)
    assert layer.call() is None


def test_input_layer_refuses_conflicting_arguments():
    with pytest.raises(ValueError, match="cannot pass both `shape` and `batch_shape`"):
        InputLayer(shape=(2, 3), batch_shape=(2, 3))
    with pytest.raises(ValueError, match="cannot pass both `batch_size` and `batch_shape`"):
        InputLayer(batch_size=4, batch_shape=(2, 3))
    with pytest.raises(ValueError, match="You must pass a `shape` argument"):
        InputLayer()
    for flag in ("sparse", "ragged"):
        with pytest.raises(ValueError, match=f"`{flag}=True` is not supported"):
            InputLayer(shape=(3,), **{flag: True})


def test_input_layer_wraps_a_symbolic_tensor_and_checks_agreement():
    tensor = KerasTensor((2, 3), "float32")
    layer = InputLayer(input_tensor=tensor)
    assert layer.output is tensor and layer.batch_shape == (2, 3) and layer.dtype == "float32"
    InputLayer(shape=(3,), batch_size=2, sparse=False, dtype="float32", input_tensor=tensor)
    for kwargs, name in ((dict(shape=(2, 4)), "shape"), (dict(batch_shape=(2, 4)), "batch_shape"),
                         (dict(batch_size=5), "batch_size"), (dict(dtype="float16"), "dtype"),
                         (dict(sparse=True), "sparse")):
        with pytest.raises(ValueError, match=f"cannot provide an incompatible `{name}`"):
            InputLayer(input_tensor=tensor, **kwargs)
    with pytest.raises(ValueError, match="`input_tensor` must be a KerasTensor"):
        InputLayer(shape=(2, 3), input_tensor=np.zeros((2, 3)))


def test_input_layer_input_shape_is_deprecated_but_works():
    with pytest.warns(UserWarning, match="`input_shape` is deprecated. Use `shape` instead"):
        layer = InputLayer(input_shape=(2, 3), batch_size=4)
    assert layer.batch_shape == (4, 2, 3)


def test_input_with_tensor_builds_a_working_model():
    inputs = uf.keras.Input(tensor=KerasTensor((None, 3), "float32"))
    model = uf.keras.Model(inputs, layers.Dense(2, kernel_initializer="ones")(inputs))
    np.testing.assert_array_equal(model(np.ones((1, 3), np.float32)).numpy(), [[3.0, 3.0]])


def test_sequential_starting_with_input_layer_shape():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # shape= is not the deprecated input_shape=
        model = uf.keras.Sequential([InputLayer(shape=(3,)), layers.Dense(1)])
    assert model.output_shape == (None, 1)


# ---- errors Keras raises for impossible configurations -------------------------------------------
def test_dense_called_symbolically_on_other_features_is_refused():
    layer = layers.Dense(2)
    assert layer(KerasTensor((1, 2))).shape == (1, 2)
    with pytest.raises(ValueError, match="expected inputs with 2 features.*incompatible with the layer"):
        layer(KerasTensor((1, 3)))


def test_cropping_everything_is_refused_eagerly_and_symbolically():
    with pytest.raises(ValueError, match="`cropping` parameter of `Cropping1D` layer must be smaller"):
        layers.Cropping1D((2, 3))(layers.Input(batch_shape=(3, 5, 7)))
    with pytest.raises(ValueError, match="`cropping` parameter of `Cropping1D` layer must be smaller"):
        layers.Cropping1D((3, 3))(np.zeros((3, 5, 7)))
    with pytest.raises(ValueError, match="Values in `cropping` argument should be smaller"):
        layers.Cropping2D(((4, 5), (0, 0)))(layers.Input(batch_shape=(3, 9, 5, 8)))
    with pytest.raises(ValueError, match="Values in `cropping` argument should be smaller"):
        layers.Cropping3D(((1, 1), (1, 1), (6, 1)), data_format="channels_first")(
            layers.Input(batch_shape=(3, 5, 7, 9, 7)))  # the last axis holds 7: 6 + 1 leaves none
    out = layers.Cropping3D(((1, 1), (1, 1), (5, 1)), data_format="channels_first")(
        layers.Input(batch_shape=(3, 5, 7, 9, 7)))
    assert out.shape == (3, 5, 5, 7, 1)


def test_convolution_with_no_output_is_refused_symbolically():
    # kernel 2 with dilation 10 spans 11 > 10 inputs: Keras's "Computed output size would be zero"
    with pytest.raises(ValueError, match="Computed output size would be zero or negative"):
        layers.Conv2D(1, (2, 2), dilation_rate=(10, 10))(layers.Input(shape=(10, 10, 3)))
    with pytest.raises(ValueError, match="Computed output size would be zero or negative"):
        layers.MaxPooling1D(4)(layers.Input(shape=(3, 2)))
    assert layers.Conv2D(1, (2, 2), dilation_rate=(9, 9))(layers.Input(shape=(10, 10, 3))).shape == (
        None, 1, 1, 1)


def test_conv_arguments_refused_with_keras_messages():
    with pytest.raises(ValueError, match=r"`kernel_size` argument must be a tuple of 2 integers. "
                                         r"Received kernel_size=\(1, 0\), including values \{0\}"):
        layers.Conv2D(2, (1, 0))
    with pytest.raises(ValueError, match=r"Invalid value for argument `filters`. Expected a strictly "
                                         r"positive value. Received filters=0"):
        layers.Conv1D(0, 1)
    with pytest.raises(ValueError, match=r"`strides > 1` not supported in conjunction with "
                                         r"`dilation_rate > 1`"):
        layers.Conv2D(2, 2, strides=(2, 2), dilation_rate=(2, 1))
    with pytest.raises(ValueError, match="The number of groups must be a positive integer"):
        layers.Conv2D(5, 2, groups=0)
    with pytest.raises(ValueError, match="number of filters must be evenly divisible by the number "
                                         "of groups. Received: groups=2, filters=5"):
        layers.Conv2D(5, 2, groups=2)


def test_reshape_target_shape_is_checked():
    with pytest.raises(ValueError, match=r"non-negative integer.*-1.*target_shape=\(-2, 5\)"):
        layers.Reshape((-2, 5))
    with pytest.raises(ValueError, match=r"at most one unknown dimension.*target_shape=\(-1, -1, 5\)"):
        layers.Reshape((-1, -1, 5))
    layer = layers.Reshape((-1, 8))
    assert layer.compute_output_shape((None, 6, 4)) == (None, 3, 8)
    assert layer.compute_output_shape((None, None, 4)) == (None, None, 8)  # unknown, not -1
    assert layer(np.ones((1, 10, 4), np.float32)).shape == (1, 5, 8)


def test_layer_normalization_axis_of_the_wrong_type_is_a_type_error():
    with pytest.raises(TypeError, match="Expected an int or a list/tuple of ints for the argument 'axis'"):
        layers.LayerNormalization(axis={"axis": -1})
    with pytest.raises(ValueError, match="list of distinct integers"):
        layers.LayerNormalization(axis=[1, 1])


def test_dropout_and_upsampling_arguments_refused_with_keras_messages():
    with pytest.raises(ValueError, match="Invalid value received for argument `rate`. Expected a "
                                         "float value between 0 and 1"):
        layers.Dropout(1.5)
    for size in (0, -2):
        with pytest.raises(ValueError, match="should be a positive integer"):
            layers.UpSampling1D(size=size)
    for size in (2.5, "2", True):
        with pytest.raises(TypeError, match="Expected an integer value for `size`"):
            layers.UpSampling1D(size=size)
    with pytest.raises(ValueError, match="should be a positive integer"):
        layers.UpSampling2D(size=(2, 0))
    with pytest.raises(ValueError, match="interpolation='bilinear' is not supported"):
        layers.UpSampling3D(interpolation="bilinear")


# ---- UpSampling2D(interpolation=...) --------------------------------------------------------------
def test_bilinear_upsampling_by_hand():
    # one row [0, 1] doubled: output i samples the input at (i + 0.5) / 2 - 0.5 = -0.25, 0.25,
    # 0.75, 1.25; half-pixel centres, the edges held: 0, 0.25, 0.75, 1
    x = np.array([0.0, 1.0], np.float32).reshape(1, 1, 2, 1)
    out = layers.UpSampling2D((1, 2), interpolation="bilinear")(x).numpy()
    np.testing.assert_allclose(out.ravel(), [0.0, 0.25, 0.75, 1.0], atol=1e-7)
    # tripled: samples at -1/3, 0, 1/3, 2/3, 1, 4/3
    out = layers.UpSampling2D((1, 3), interpolation="BILINEAR")(x).numpy()
    np.testing.assert_allclose(out.ravel(), [0, 0, 1 / 3, 2 / 3, 1, 1], atol=1e-7)


def test_bicubic_upsampling_by_hand():
    # Keys' cubic (a = -0.5) at distance 1/4 and 3/4: w(1/4) = 1.5/64 - 2.5/16 + 1 = 0.8671875,
    # w(3/4) = 1.5*27/64 - 2.5*9/16 + 1 = 0.2265625; at 5/4 and 7/4 the far branch: -0.0703125,
    # -0.0234375. Input [0, 0, 1, 0, 0] doubled: output i samples s = (i + 0.5) / 2 - 0.5 and
    # reads x[2] = 1 at distance |s - 2|, divided by the sum of the weights of the pixels inside
    # the image (1 away from the edges; near them the taps that fall outside are left out).
    x = np.array([0.0, 0.0, 1.0, 0.0, 0.0], np.float32).reshape(1, 1, 5, 1)
    out = layers.UpSampling2D((1, 2), interpolation="bicubic")(x).numpy().ravel()
    np.testing.assert_allclose(out[4], 0.8671875, atol=1e-7)   # s = 1.75, |s - 2| = 0.25
    np.testing.assert_allclose(out[3], 0.2265625, atol=1e-7)   # s = 1.25, |s - 2| = 0.75
    # s = 0.75: taps j = 0..3 (j = -1, weight w(7/4), is outside): sum 1 + 0.0234375
    np.testing.assert_allclose(out[2], -0.0703125 / 1.0234375, atol=1e-7)
    # s = 0.25: j = -1 (weight w(5/4)) is outside: sum 1 + 0.0703125
    np.testing.assert_allclose(out[1], -0.0234375 / 1.0703125, atol=1e-7)


@pytest.mark.parametrize("interpolation", ["bilinear", "bicubic", "lanczos3", "lanczos5"])
def test_upsampling_interpolation_matches_keras_on_jax(interpolation):
    keras = keras_jax()
    x = np.random.default_rng(3).random((2, 5, 6, 3)).astype(np.float32)
    for size in ((2, 2), (2, 3), (3, 1)):
        want = np.asarray(keras.layers.UpSampling2D(size, interpolation=interpolation)(x))
        got = layers.UpSampling2D(size, interpolation=interpolation)(x).numpy()
        np.testing.assert_allclose(got, want, atol=2e-6)
    want = np.asarray(keras.layers.UpSampling2D((2, 3), data_format="channels_first",
                                                interpolation=interpolation)(x.transpose(0, 3, 1, 2)))
    got = layers.UpSampling2D((2, 3), data_format="channels_first",
                              interpolation=interpolation)(x.transpose(0, 3, 1, 2)).numpy()
    np.testing.assert_allclose(got, want, atol=2e-6)


def test_interpolated_upsampling_gradient_and_round_trip():
    layer = layers.UpSampling2D((2, 3), interpolation="bicubic", dtype="float64")
    x = np.random.default_rng(4).normal(size=(1, 3, 4, 2))
    assert all(r.error <= 1 for r in uf.check_grad(lambda t: uf.ops.sum(uf.ops.tanh(layer(t))), x))
    again = layers.UpSampling2D.from_config(layer.get_config())
    assert again.interpolation == "bicubic"
    np.testing.assert_array_equal(again(x).numpy(), layer(x).numpy())


def test_set_image_data_format_changes_what_none_means():
    from unafraid.keras import backend
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    assert backend.image_data_format() == "channels_last"
    try:
        backend.set_image_data_format("channels_first")
        layer = layers.MaxPooling2D(2)
        assert layer.data_format == "channels_first"
        # (n, c, h, w): 2x2 windows over h = 4 and w = 5 (the last column left out)
        np.testing.assert_array_equal(layer(x).numpy(),
                                      x[..., :4].reshape(2, 3, 2, 2, 2, 2).max(axis=(3, 5)))
        with pytest.raises(ValueError, match="must be one of"):
            backend.set_image_data_format("channels_middle")
    finally:
        backend.set_image_data_format("channels_last")
    assert layers.MaxPooling2D(2).data_format == "channels_last"


def test_name_scope_prefixes_variable_paths():
    from unafraid.keras import backend
    with backend.name_scope("dense"):
        kernel = uf.Variable(np.ones((1, 1)), name="kernel")
        with backend.name_scope("inner") as path:
            bias = uf.Variable(np.zeros(1), name="bias")
    other = uf.Variable(np.zeros(1), name="bias")
    assert (kernel.path, bias.path, other.path, path) == ("dense/kernel", "dense/inner/bias",
                                                          "bias", "dense/inner")
    with pytest.raises(ValueError, match="cannot contain character `/`"):
        with backend.name_scope("a/b"):
            pass


# ---- Wrapper and SpectralNormalization ------------------------------------------------------------
def test_wrapper_wraps_a_layer_and_refuses_anything_else():
    class Doubled(layers.Wrapper):
        def call(self, inputs):
            return 2 * self.layer(inputs)

    wrapped = Doubled(layers.Dense(2, kernel_initializer="ones"))
    np.testing.assert_array_equal(wrapped(np.ones((1, 3), np.float32)).numpy(), [[6.0, 6.0]])
    assert len(wrapped.trainable_weights) == 2 and wrapped.compute_output_shape((None, 3)) == (None, 2)
    again = Doubled.from_config(wrapped.get_config())
    assert again.layer.units == 2 and type(again.layer) is layers.Dense
    with pytest.raises(ValueError, match="supplied to Wrapper isn't a supported layer type"):
        layers.Wrapper("This is not a valid Keras layer.")


def power_method_by_hand(w: np.ndarray, u: np.ndarray, steps: int) -> tuple[np.ndarray, float]:
    """Miyato et al.'s power iteration in float64, written out: returns u and sigma."""
    for _ in range(steps):
        v = u @ w.T
        v = v / np.linalg.norm(v)
        u = v @ w
        u = u / np.linalg.norm(u)
    return u, float((v @ w @ u.T).item())


def test_spectral_normalization_of_all_ones_kernel_by_hand():
    # a 2x2 all-ones kernel seen as a (4, 1) matrix of ones has one singular value, 2
    sn = layers.SpectralNormalization(layers.Conv2D(1, (2, 2), kernel_initializer="ones"),
                                      power_iterations=8)
    images = np.ones((1, 2, 2, 1), np.float32)
    np.testing.assert_allclose(sn(images, training=False).numpy(), [[[[4.0]]]])
    np.testing.assert_allclose(sn(images, training=True).numpy(), [[[[2.0]]]], rtol=1e-6)
    np.testing.assert_allclose(sn.layer.kernel.numpy(), np.full((2, 2, 1, 1), 0.5), rtol=1e-6)


def test_spectral_normalization_follows_the_power_method_and_converges_to_the_top_singular_value():
    sn = layers.SpectralNormalization(layers.Dense(3), power_iterations=2)
    x = np.random.default_rng(5).normal(size=(4, 5)).astype(np.float32)
    sn(x)  # builds; inference leaves the kernel alone
    w0, u0 = sn.layer.kernel.numpy().astype(np.float64), sn.vector_u.numpy().astype(np.float64)
    sn(x, training=True)
    u1, sigma = power_method_by_hand(w0, u0, 2)
    np.testing.assert_allclose(sn.vector_u.numpy(), u1, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(sn.layer.kernel.numpy(), w0 / sigma, rtol=1e-4)
    for _ in range(60):  # repeated calls: the kernel's largest singular value goes to 1
        sn(x, training=True)
    assert abs(np.linalg.svd(sn.layer.kernel.numpy(), compute_uv=False)[0] - 1) < 1e-3
    assert len(sn.trainable_weights) == 2 and len(sn.non_trainable_weights) == 1


def test_spectral_normalization_of_an_embedding_and_of_no_kernel():
    sn = layers.SpectralNormalization(layers.Embedding(10, 4))
    assert sn(np.arange(10, dtype=np.float32), training=True).shape == (10, 4)
    assert sn.vector_u.shape == (1, 4)
    with pytest.raises(ValueError, match="object has no attribute 'kernel' nor 'embeddings'"):
        layers.SpectralNormalization(layers.ReLU())(np.ones((4, 2), np.float32))
    with pytest.raises(ValueError, match="`power_iterations` should be greater than zero"):
        layers.SpectralNormalization(layers.Dense(2), power_iterations=0)


def test_spectral_normalization_trains_saves_and_loads(tmp_path):
    uf.keras.utils.set_random_seed(0)
    model = uf.keras.Sequential([layers.Input((8, 8, 3)), layers.SpectralNormalization(
        layers.Conv2D(3, (2, 2), padding="same"), power_iterations=2)])
    model.compile("rmsprop", loss="mse")
    rng = np.random.default_rng(0)
    x, y = rng.random((4, 8, 8, 3)).astype(np.float32), rng.random((4, 8, 8, 3)).astype(np.float32)
    history = model.fit(x, y, epochs=2, batch_size=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    model.save(tmp_path / "sn.unafraid")
    loaded = uf.keras.models.load_model(tmp_path / "sn.unafraid")
    assert type(loaded.layers[0]) is layers.SpectralNormalization
    assert loaded.layers[0].power_iterations == 2
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    np.testing.assert_array_equal(loaded.layers[0].vector_u.numpy(), model.layers[0].vector_u.numpy())


# ---- EinsumDense ----------------------------------------------------------------------------------
def test_einsum_dense_as_dense_by_hand():
    layer = layers.EinsumDense("ab,bc->ac", output_shape=2, bias_axes="c")
    layer.build((None, 3))
    layer.set_weights([np.arange(6, dtype=np.float32).reshape(3, 2), np.array([1.0, -1.0], np.float32)])
    x = np.array([[1.0, 2.0, 3.0]], np.float32)  # [1, 2, 3] @ [[0, 1], [2, 3], [4, 5]] = [16, 22]
    np.testing.assert_array_equal(layer(x).numpy(), [[17.0, 21.0]])


@pytest.mark.parametrize("equation, output_shape, bias_axes, input_shape, kernel, bias, output", [
    ("ab,bc->ac", 64, None, (2, 32), (32, 64), None, (2, 64)),
    ("abc,cde->abde", (None, 3, 4), "de", (2, 1, 2), (2, 3, 4), (3, 4), (2, 1, 3, 4)),
    ("...b,bc->...c", 4, "c", (2, 3, 5, 6), (6, 4), (4,), (2, 3, 5, 4)),
    ("bc...,cde->bde...", (3, 4), "de", (2, 1, 2), (1, 3, 4), (3, 4, 1), (2, 3, 4, 2)),
    ("abc,cd->ad", 4, "d", (2, 3, 5), (5, 4), (4,), (2, 4)),  # b summed away
])
def test_einsum_dense_shapes_values_and_gradients(equation, output_shape, bias_axes, input_shape,
                                                  kernel, bias, output):
    layer = layers.EinsumDense(equation, output_shape=output_shape, bias_axes=bias_axes,
                               bias_initializer="random_normal", dtype="float64")
    x = np.random.default_rng(6).normal(size=input_shape)
    y = layer(x).numpy()
    assert layer.kernel.shape == kernel and (layer.bias is None if bias is None else
                                             layer.bias.shape == bias)
    assert y.shape == output
    inferred = layer.compute_output_shape(input_shape)  # None where output_shape says None
    assert all(a in (b, None) for a, b in zip(inferred, output, strict=True))
    want = np.einsum(equation, x, layer.kernel.numpy())  # NumPy's einsum is the oracle
    np.testing.assert_allclose(y, want + (0 if bias is None else layer.bias.numpy()), rtol=1e-12)
    reports = uf.check_grad(lambda t, k: uf.ops.sum(uf.ops.tanh(
        layers.einsum_dense.Einsum.apply(t, k, equation=layers.einsum_dense.explicit_equation(
            equation, len(input_shape))))), x, layer.kernel.numpy(), order=2)
    assert all(r.error <= 1 for r in reports)


@pytest.mark.parametrize("equation, output_shape, bias_axes, input_shape", [
    ("ab,bc->ac", 4, "c", (2, 3)), ("abc,cde->abde", (None, 3, 4), "de", (2, 5, 6)),
    ("...b,bc->...c", 4, "c", (2, 3, 6)), ("ab...,bc->ac...", (4,), "c", (2, 3, 5))])
def test_einsum_dense_matches_keras_on_jax(equation, output_shape, bias_axes, input_shape):
    keras = keras_jax()
    x = np.random.default_rng(7).normal(size=input_shape).astype(np.float32)
    theirs = keras.layers.EinsumDense(equation, output_shape=output_shape, bias_axes=bias_axes,
                                      bias_initializer="random_normal")
    want = np.asarray(theirs(x))
    ours = layers.EinsumDense(equation, output_shape=output_shape, bias_axes=bias_axes)
    ours.build(input_shape)
    ours.set_weights([np.asarray(w) for w in theirs.get_weights()])
    np.testing.assert_allclose(ours(x).numpy(), want, atol=1e-6)
    batchless = (None, *input_shape[1:])
    assert ours.compute_output_shape(batchless) == tuple(theirs.compute_output_shape(batchless))


def test_einsum_dense_kernel_variance_counts_keras_fans():
    # glorot_uniform: variance 2 / (fan_in + fan_out), fan_in = 64 (c), fan_out = 8 * 16 (d, e);
    # a (64, 8, 16) kernel read as Conv-style fans would give 2 / (8 * 64 + 16 * 64) instead
    layer = layers.EinsumDense("abc,cde->abde", output_shape=(None, 8, 16))
    layer.build((None, 5, 64))
    np.testing.assert_allclose(layer.kernel.numpy().var(), 2 / (64 + 128), rtol=0.05)


def test_einsum_dense_errors_save_and_load(tmp_path):
    with pytest.raises(ValueError, match="Invalid einsum equation"):
        layers.EinsumDense("ab,bc", output_shape=2).build((None, 3))
    with pytest.raises(ValueError, match="Bias dimension 'x' was requested"):
        layers.EinsumDense("ab,bc->ac", output_shape=2, bias_axes="x").build((None, 3))
    model = uf.keras.Sequential([layers.Input((5, 6)), layers.EinsumDense(
        "abc,cde->abde", output_shape=(None, 2, 3), bias_axes="de", activation="relu",
        kernel_constraint="non_neg")])
    model.compile("adam", "mse")
    x = np.random.default_rng(8).random((8, 5, 6)).astype(np.float32)
    model.fit(x, np.ones((8, 5, 2, 3), np.float32), epochs=1, verbose=0)
    assert np.all(model.layers[0].kernel.numpy() >= 0)
    model.save(tmp_path / "e.unafraid")
    loaded = uf.keras.models.load_model(tmp_path / "e.unafraid")
    assert loaded.layers[0].equation == "abc,cde->abde"
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_from_config_refusals_are_type_errors_holding_the_reason():
    with pytest.raises(ValueError, match="`input_dim` must be a positive integer"):
        layers.Embedding(input_dim=3.7, output_dim=8)
    with pytest.raises(TypeError, match="deserializing class 'Embedding'.*`output_dim` must be a "
                                        "positive integer") as info:
        layers.Embedding.from_config({"input_dim": 10, "output_dim": 3.7})
    assert isinstance(info.value.__cause__, ValueError)  # the constructor's error, chained


def test_embedding_given_weights_is_built_at_once():
    for weights in (np.ones((3, 4)), [np.ones((3, 4))]):
        layer = layers.Embedding(3, 4, weights=weights)
        assert layer.built
        np.testing.assert_array_equal(layer.embeddings.numpy(), np.ones((3, 4)))
    np.testing.assert_array_equal(layer(np.array([[2, 0]])).numpy(), np.ones((1, 2, 4)))


def test_keras_ops_rsqrt_and_its_gradient():
    from unafraid.keras import ops as kops
    np.testing.assert_allclose(kops.rsqrt(np.array([4.0, 0.25], np.float32)).numpy(), [0.5, 2.0])
    # d/dx x^(-1/2) = -x^(-3/2) / 2: at 4, -1/16
    x = uf.Variable(np.array([4.0]))
    with uf.GradientTape() as tape:
        y = kops.rsqrt(x)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [-1 / 16])


def test_unbuilt_model_fits_a_generator_without_losing_its_first_batch():
    seen = []

    def batches():
        for length in (12, 20):  # sequences of two lengths: Reshape((-1, 8)) gives 3 and 5 rows
            seen.append(length)
            yield np.ones((1, length, 2), np.float32), np.zeros((1, length // 4, 8), np.float32)

    model = uf.keras.Sequential([layers.Reshape((-1, 8)), layers.Dense(8, kernel_initializer="zeros")])
    model.compile(loss="mean_squared_error")
    history = model.fit(batches(), steps_per_epoch=2, epochs=1, verbose=0)
    assert seen == [12, 20] and model.optimizer.iterations == 2  # the first batch trained on too
    np.testing.assert_allclose(history.history["loss"][0], 0.0)  # zero kernel and bias at step 1
    for length, rows in ((12, 3), (20, 5), (24, 6)):
        assert model(np.ones((1, length, 2), np.float32)).shape == (1, rows, 8)


def test_einsum_dense_crosses_keras_files_both_ways(tmp_path):
    keras = keras_jax()
    from unafraid.io.saving import load_model
    x = np.random.default_rng(9).random((4, 5, 6)).astype(np.float32)
    theirs = keras.Sequential([keras.Input((5, 6)), keras.layers.EinsumDense(
        "abc,cde->abde", output_shape=(None, 2, 3), bias_axes="de", activation="relu",
        bias_initializer="random_normal")])
    theirs.save(tmp_path / "k.keras")
    ours = load_model(tmp_path / "k.keras")
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0), atol=1e-6)
    ours.save(tmp_path / "u.keras")
    back = keras.saving.load_model(tmp_path / "u.keras")
    assert back.layers[0].get_config()["equation"] == "abc,cde->abde"
    np.testing.assert_allclose(back.predict(x, verbose=0), theirs.predict(x, verbose=0), atol=1e-6)
