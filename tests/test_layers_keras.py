"""Issue 17 item 6: Keras 3's layers, ported with Keras's own test cases as the oracle.

Each test names the Keras 3 test it ports (keras/src/layers/...); expected values are
Keras's, or NumPy formulas independent of unafraid. Layers with weights or a gradient are
checked against float64 central differences.
"""

import numpy as np
import pytest

import unafraid as uf
from unafraid import keras
from unafraid.constraints import MaxNorm
from unafraid.io.saving import ModelFileError
from unafraid.layers.base import keras_mask

layers = keras.layers
rng = np.random.default_rng(17)


def np_dot(a, b, axes):  # merging_test.np_dot
    if isinstance(axes, int):
        axes = (axes, axes)
    axes = [axis if axis < 0 else axis - 1 for axis in axes]
    res = np.stack([np.tensordot(a[i], b[i], axes) for i in range(a.shape[0])])
    if len(res.shape) == 1:
        res = np.expand_dims(res, axis=1)
    return res


MERGE_CASES = [  # merging_test.TEST_PARAMETERS
    ("add", layers.Add, np.add, {}, (2, 4, 5), (2, 4, 5), False),
    ("subtract", layers.Subtract, np.subtract, {}, (2, 4, 5), (2, 4, 5), False),
    ("minimum", layers.Minimum, np.minimum, {}, (2, 4, 5), (2, 4, 5), False),
    ("maximum", layers.Maximum, np.maximum, {}, (2, 4, 5), (2, 4, 5), False),
    ("multiply", layers.Multiply, np.multiply, {}, (2, 4, 5), (2, 4, 5), False),
    ("average", layers.Average, lambda a, b: np.multiply(np.add(a, b), 0.5), {}, (2, 4, 5),
     (2, 4, 5), False),
    ("concat", layers.Concatenate, lambda a, b, **kw: np.concatenate((a, b), **kw),
     {"axis": -1}, (2, 4, 5), (2, 4, 10), False),
    ("dot_2d", layers.Dot, np_dot, {"axes": -1}, (2, 4), (2, 1), True),
    ("dot_3d", layers.Dot, np_dot, {"axes": -1}, (2, 4, 5), (2, 4, 4), True),
]


@pytest.mark.parametrize("name,cls,np_op,kwargs,shape,out_shape,skip_mask", MERGE_CASES,
                         ids=[c[0] for c in MERGE_CASES])
@pytest.mark.parametrize("static_batch", [True, False])
def test_merge_correctness(name, cls, np_op, kwargs, shape, out_shape, skip_mask, static_batch):
    """merging_test.test_correctness_static / test_correctness_dynamic."""
    x1, x2 = rng.random(shape), rng.random(shape)
    expected = np_op(x1, x2, **kwargs)
    batch = shape[0] if static_batch else None
    in1 = layers.Input(shape=shape[1:], batch_size=batch)
    in2 = layers.Input(shape=shape[1:], batch_size=batch)
    layer = cls(**kwargs)
    out = layer([in1, in2])
    assert out.shape == (batch, *out_shape[1:])
    model = keras.Model([in1, in2], out)
    res = model([x1, x2]).numpy()
    assert res.shape == out_shape
    np.testing.assert_allclose(res, expected, atol=1e-4)
    assert layer.compute_mask([in1, in2], [None, None]) is None
    assert layer.compute_mask([x1, x2], [None, None]) is None
    if not skip_mask:
        m = np.ones(shape[:-1], bool)
        assert np.all(np.asarray(getattr(layer.compute_mask([x1, x2], [m, m]), "data", None)))


@pytest.mark.parametrize("name,cls,kwargs", [(c[0], c[1], c[3]) for c in MERGE_CASES
                                             if not c[6]], ids=[c[0] for c in MERGE_CASES
                                                                if not c[6]])
def test_merge_mask_errors(name, cls, kwargs):
    """merging_test.test_errors."""
    in1, in2 = layers.Input(shape=(4, 5), batch_size=2), layers.Input(shape=(4, 5), batch_size=2)
    layer = cls(**kwargs)
    with pytest.raises(ValueError, match="`mask` should be a list."):
        layer.compute_mask([in1, in2], rng.random((2, 4, 5)))
    with pytest.raises(ValueError, match="`inputs` should be a list."):
        layer.compute_mask(in1, [None, None])
    with pytest.raises(ValueError, match=" should have the same length."):
        layer.compute_mask([in1, in2], [None])


def test_subtract_layer_inputs_length_errors():
    """merging_test.test_subtract_layer_inputs_length_errors."""
    a, b, c = (layers.Input(shape=(4, 5)) for _ in range(3))
    with pytest.raises(ValueError, match="layer should be called on exactly 2 inputs"):
        layers.Subtract()([a, b, c])
    with pytest.raises(ValueError, match="layer should be called on exactly 2 inputs"):
        layers.Subtract()([a])


def test_dot_higher_dim():
    """merging_test.test_dot_higher_dim."""
    a = layers.Input(batch_shape=(1, 3, 2))
    b = layers.Input(batch_shape=(1, 1, 2, 3))
    assert layers.Dot(axes=(-2, -1))([a, b]).shape == (1, 2, 1, 2)
    a, b = rng.random((1, 3, 2)), rng.random((1, 1, 2, 3))
    c = layers.Dot(axes=(-2, -1))([a, b]).numpy()
    assert c.shape == (1, 2, 1, 2)
    np.testing.assert_allclose(c, np.einsum("bkx,bijk->bxij", a, b), rtol=1e-5, atol=1e-6)


def test_dot_docstring_example_and_normalize():
    """dot.py docstring (axes=(1, 2)) and normalize=True (the cosine similarity)."""
    x = np.arange(10).reshape(1, 5, 2)
    y = np.arange(10, 20).reshape(1, 2, 5)
    np.testing.assert_allclose(layers.Dot(axes=(1, 2))([x, y]).numpy(),
                               [[[260, 360], [320, 445]]])
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    np.testing.assert_allclose(layers.dot([a, b], axes=1, normalize=True).numpy()[:, 0], cos,
                               rtol=1e-5, atol=1e-6)  # float32: a cosine near 0 has ~1e-7 error


MASKED_X1 = [[[0, 0], [1, 2], [0, 0], [3, 4]]]
MASKED_X2 = [[[0, 0], [0, 0], [1, 2], [3, 4]]]


@pytest.mark.parametrize("cls,x1,x2,plain,masked", [
    # merging_test.test_{add,subtract,average,multiply,maximum,minimum}_with_mask
    (layers.Add, MASKED_X1, MASKED_X2, [[[0, 0], [1, 2], [1, 2], [6, 8]]],
     [[[0, 0], [1, 2], [1, 2], [6, 8]]]),
    (layers.Subtract, MASKED_X1, MASKED_X2, [[[0, 0], [1, 2], [-1, -2], [0, 0]]],
     [[[0, 0], [1, 2], [-1, -2], [0, 0]]]),
    (layers.Average, MASKED_X1, MASKED_X2, [[[0, 0], [0.5, 1], [0.5, 1], [3, 4]]],
     [[[0, 0], [0.5, 1], [0.5, 1], [3, 4]]]),
    (layers.Multiply, MASKED_X1, MASKED_X2, [[[0, 0], [0, 0], [1, 2], [9, 16]]],
     [[[0, 0], [1, 2], [1, 2], [9, 16]]]),
    (layers.Maximum, [[[0, 0], [-1, -2], [0, 0], [-3, -4]]],
     [[[0, 0], [0, 0], [-1, -2], [-3, -4]]], [[[0, 0], [0, 0], [-1, -2], [-3, -4]]],
     [[[0, 0], [-1, -2], [-1, -2], [-3, -4]]]),
    (layers.Minimum, MASKED_X1, MASKED_X2, [[[0, 0], [0, 0], [1, 2], [3, 4]]],
     [[[0, 0], [1, 2], [1, 2], [3, 4]]]),
], ids=["add", "subtract", "average", "multiply", "maximum", "minimum"])
def test_merge_with_mask(cls, x1, x2, plain, masked):
    mask = layers.Masking()
    m1 = mask(uf.constant(np.array(x1, np.float32)))
    out = cls()([m1, uf.constant(np.array(x2, np.float32))])
    np.testing.assert_allclose(out.numpy(), plain)
    assert keras_mask(out) is None
    out = cls()([m1, mask(uf.constant(np.array(x2, np.float32)))])
    np.testing.assert_allclose(out.numpy(), masked)
    np.testing.assert_array_equal(np.asarray(keras_mask(out).data), [[0, 1, 1, 1]])


def test_concatenate_with_mask():
    """merging_test.test_concatenate_with_mask."""
    mask = layers.Masking()
    x1 = mask(uf.constant(np.array(MASKED_X1, np.float32)))
    x2 = uf.constant(np.array(MASKED_X2, np.float32))
    out = layers.Concatenate(axis=1)([x1, x2])
    np.testing.assert_allclose(out.numpy(), [[[0, 0], [1, 2], [0, 0], [3, 4], [0, 0], [0, 0],
                                              [1, 2], [3, 4]]])
    np.testing.assert_array_equal(keras_mask(out).data, [[0, 1, 0, 1, 1, 1, 1, 1]])
    out = layers.Concatenate(axis=2)([x1, x2])
    np.testing.assert_allclose(out.numpy(), [[[0, 0, 0, 0], [1, 2, 0, 0], [0, 0, 1, 2],
                                              [3, 4, 3, 4]]])
    np.testing.assert_array_equal(keras_mask(out).data, [[1, 1, 1, 1]])


def test_concatenate_errors():
    """merging_test.test_concatenate_errors."""
    out = layers.Concatenate(axis=-1)([np.ones((1, 1, 1, 1, 5)), np.ones((1, 1, 1, 1, 4))])
    assert out.shape == (1, 1, 1, 1, 9)
    msg = "requires inputs with matching shapes except for the concatenation axis"
    with pytest.raises(ValueError, match=msg):
        layers.Concatenate(axis=-1)([np.ones((1, 2, 1, 1, 5)), np.ones((1, 1, 1, 1, 4))])
    with pytest.raises(ValueError, match=msg):
        layers.Concatenate(axis=1)([np.ones((1, 2, 1, 2, 1)), np.ones((1, 1, 1, 3, 1))])


def test_merge_function_forms_in_a_trained_functional_model(tmp_path):
    """Several inputs joined by the function forms; fit, save, load, summary (unafraid's own)."""
    a, b = keras.Input(shape=(3,), name="a"), keras.Input(shape=(3,), name="b")
    ha, hb = layers.Dense(4, name="da")(a), layers.Dense(4, name="db")(b)
    joined = layers.concatenate([layers.add([ha, hb]), layers.subtract([ha, hb]),
                                 layers.multiply([ha, hb]), layers.average([ha, hb]),
                                 layers.maximum([ha, hb]), layers.minimum([ha, hb]),
                                 layers.dot([ha, hb], axes=1)])
    out = layers.Dense(1)(joined)
    model = keras.Model([a, b], out)
    xa, xb = rng.normal(size=(32, 3)).astype("float32"), rng.normal(size=(32, 3)).astype("float32")
    y = (xa.sum(1) - xb.sum(1))[:, None].astype("float32")
    model.compile("adam", "mse")
    model.fit([xa, xb], y, epochs=2, batch_size=8, verbose=0)
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    for name in ("Concatenate", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
                 "Dot"):
        assert name in text
    model.save(tmp_path / "m.safetensors")
    again = keras.models.load_model(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(again([xa, xb]).numpy(), model([xa, xb]).numpy())


@pytest.mark.parametrize("cls,kwargs,shapes", [
    (layers.Add, {}, [(2, 3), (2, 3)]), (layers.Subtract, {}, [(2, 3), (2, 3)]),
    (layers.Multiply, {}, [(2, 3), (2, 3), (2, 3)]), (layers.Average, {}, [(2, 3), (2, 3)]),
    (layers.Maximum, {}, [(2, 3), (2, 3)]), (layers.Minimum, {}, [(2, 3), (2, 3)]),
    (layers.Concatenate, {"axis": 1}, [(2, 3), (2, 2)]),
    (layers.Dot, {"axes": (1, 2)}, [(2, 3, 4), (2, 5, 3)]),
    (layers.Dot, {"axes": 1, "normalize": True}, [(2, 3), (2, 3)]),
], ids=["add", "subtract", "multiply", "average", "maximum", "minimum", "concat", "dot",
        "dot_normalize"])
def test_merge_gradients_match_finite_differences(cls, kwargs, shapes):
    layer = cls(dtype="float64", **kwargs)
    xs = [rng.normal(size=s) for s in shapes]
    uf.check_grad(lambda *xs: uf.sum(uf.tanh(layer(list(xs)))), *xs, order=2)


def test_merge_inputs_of_different_ranks_broadcast():
    """base_merge: a (batch, n) input is aligned with a (batch, m, n) one."""
    # float32 in, so the float32 sum is exact to compare (float64 inputs are cast to float32
    # first, and a float64 oracle then differs by rounding, relatively large where a + b ~ 0)
    r = np.random.default_rng(214)
    a, b = r.normal(size=(2, 5)).astype("float32"), r.normal(size=(2, 3, 5)).astype("float32")
    np.testing.assert_array_equal(layers.Add()([a, b]).numpy(), a[:, None, :] + b)
    assert layers.Add().compute_output_shape([(None, 5), (None, 3, 5)]) == (None, 3, 5)


def test_merge_layer_called_on_one_tensor_says_how():
    with pytest.raises(ValueError, match=r"list of inputs.*Add\(\)\(\[a, b\]\)"):
        layers.Add()(np.ones((2, 3)))


# ---- RepeatVector, Permute ----------------------------------------------------------------------
def test_repeat_vector():
    """repeat_vector_test: test_repeat_vector, dynamic batch / dimension, invalid n."""
    x = rng.random((2, 5)).astype("float32")
    np.testing.assert_array_equal(layers.RepeatVector(3)(x).numpy(),
                                  np.repeat(x.reshape(2, 1, 5), 3, axis=1))
    assert layers.RepeatVector(n=3)(layers.Input(batch_shape=(None, 5))).shape == (None, 3, 5)
    assert layers.RepeatVector(n=3)(layers.Input(batch_shape=(2, None))).shape == (2, 3, None)
    for bad in ("3", 3.5, [3]):
        with pytest.raises(TypeError, match="Expected an integer value for `n`"):
            layers.RepeatVector(n=bad)
    for bad in (0, -3):
        with pytest.raises(ValueError, match="should be a positive integer"):
            layers.RepeatVector(n=bad)
    layer = layers.RepeatVector(3, dtype="float64")
    uf.check_grad(lambda x: uf.sum(uf.tanh(layer(x)) * np.arange(12.0).reshape(1, 3, 4)),
                  rng.normal(size=(2, 4)), order=2)


def test_permute():
    """permute_test: test_permute (dense), dynamic batch, invalid dims."""
    x = rng.random((10, 3, 5, 5)).astype("float32")
    np.testing.assert_array_equal(layers.Permute((3, 1, 2))(x).numpy(),
                                  np.transpose(x, (0, 3, 1, 2)))
    assert layers.Permute((2, 1))(layers.Input(batch_shape=(None, 3, 5))).shape == (None, 5, 3)
    for dims in ((0, 1, 2), (1, 4, 2)):
        with pytest.raises(ValueError, match=r"Invalid permutation .*dims.*"):
            layers.Permute(dims)
    layer = layers.Permute((2, 1), dtype="float64")
    uf.check_grad(lambda x: uf.sum(uf.tanh(layer(x)) * np.arange(6.0).reshape(1, 3, 2)),
                  rng.normal(size=(2, 2, 3)), order=2)


# ---- noise and activity regularisation ----------------------------------------------------------
def test_gaussian_noise_correctness():
    """gaussian_noise_test.test_gaussian_noise_correctness."""
    out = layers.GaussianNoise(0.3, seed=1337)(np.ones((20, 500)), training=True).numpy()
    np.testing.assert_allclose(np.std(out), 0.3, atol=0.02)
    np.testing.assert_array_equal(layers.GaussianNoise(0.3)(np.ones((2, 3))).numpy(), 1.0)


def test_gaussian_dropout_correctness():
    """gaussian_dropout_test.test_gaussian_dropout_correctness."""
    out = layers.GaussianDropout(0.3, seed=1337)(np.ones((20, 500)), training=True).numpy()
    np.testing.assert_allclose(np.std(out), np.sqrt(0.3 / (1 - 0.3)), atol=0.02)
    np.testing.assert_array_equal(layers.GaussianDropout(0.3)(np.ones((2, 3))).numpy(), 1.0)


def test_alpha_dropout_correctness_and_noise_shape():
    """alpha_dropout_test: correctness, partial noise shape (dynamic, static), invalid rate."""
    out = layers.AlphaDropout(0.3, seed=1337)(np.ones((20, 500), "float32"), training=True)
    np.testing.assert_allclose(np.std(out.numpy()), 1.0, atol=1e-1)
    for noise_shape in ((None, 1, None), (20, 1, 10)):
        out = layers.AlphaDropout(0.5, noise_shape=noise_shape)(np.ones((20, 5, 10)),
                                                                training=True).numpy()
        np.testing.assert_array_equal(out[:, 0, :], out[:, 1, :])
    for rate in (-0.5, 1.5):
        with pytest.raises(ValueError, match="Invalid value received for argument `rate`. "
                                             "Expected a float value between 0 and 1."):
            layers.AlphaDropout(rate=rate)


def test_alpha_dropout_formula_by_hand():
    """The affine map of Klambauer et al. (2017): kept x -> a x + b, dropped -> a alpha' + b."""
    alpha_p = -1.6732632423543772 * 1.0507009873554805
    rate = 0.25
    a = ((1 - rate) * (1 + rate * alpha_p ** 2)) ** -0.5
    b = -a * alpha_p * rate
    x = rng.normal(size=(50, 40))
    y = layers.AlphaDropout(rate, seed=3, dtype="float64")(x, training=True).numpy()
    kept = np.isclose(y, a * x + b)
    assert np.all(kept | np.isclose(y, a * alpha_p + b))
    assert 0.2 < 1 - kept.mean() < 0.3


@pytest.mark.parametrize("make", [lambda: layers.GaussianNoise(0.2, seed=1, dtype="float64"),
                                  lambda: layers.GaussianDropout(0.2, seed=1, dtype="float64"),
                                  lambda: layers.AlphaDropout(0.2, seed=1, dtype="float64")],
                         ids=["gaussian_noise", "gaussian_dropout", "alpha_dropout"])
def test_noise_layers_gradient_with_a_fixed_draw(make):
    """The gradient for one draw: re-seeding the generator makes each evaluation the same draw."""
    layer = make()
    x = rng.normal(size=(3, 4))

    def f(x):
        layer.generator = uf.random.make_generator(5)
        return uf.sum(uf.tanh(layer(x, training=True)))

    uf.check_grad(f, x, order=2)


def test_activity_regularization_correctness():
    """activity_regularization_test.test_correctness."""
    layer = layers.ActivityRegularization(l1=0.2, l2=0.3)
    layer(2 * np.ones((1,)))
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(layer.losses[0]), 4 * 0.3 + 2 * 0.2, rtol=1e-6)


def test_noise_layers_train_reproducibly_compiled_and_eager():
    """Two identical runs give the same bits; the compiled step matches the eager one."""
    def run(jit):
        uf.random.set_seed(4)
        model = keras.Sequential([keras.Input(shape=(6,)), layers.Dense(8, activation="tanh"),
                                  layers.GaussianNoise(0.1), layers.GaussianDropout(0.2),
                                  layers.AlphaDropout(0.1), layers.ActivityRegularization(l2=1e-3),
                                  layers.Dense(1)])
        model.compile("sgd", "mse", jit_compile=jit)
        x = np.random.default_rng(0).normal(size=(64, 6)).astype("float32")
        model.fit(x, x[:, :1], epochs=3, batch_size=16, verbose=0, shuffle=False)
        return [w.copy() for w in model.get_weights()]

    eager, again, compiled = run(False), run(False), run(True)
    for a, b, c in zip(eager, again, compiled, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


# ---- Embedding ----------------------------------------------------------------------------------
def test_embedding_correctness_and_masking():
    """embedding_test: test_correctness, test_masking, test_compute_mask_no_masking,
    test_embedding_basics (shapes), test_weights_constructor_arg, invalid dims."""
    layer = layers.Embedding(input_dim=3, output_dim=2)
    layer.build()
    layer.embeddings.assign(np.array([[0.0, 0.0], [2.0, 2.0], [3.0, 3.0]], "float32"))
    np.testing.assert_allclose(layer(np.array([2, 1, 0])).numpy(), [[3, 3], [2, 2], [0, 0]])
    masked = layers.Embedding(input_dim=3, output_dim=2, mask_zero=True)
    masked.build()
    np.testing.assert_array_equal(masked.compute_mask(np.array([2, 1, 0])).data,
                                  [True, True, False])
    assert layers.Embedding(3, 2).compute_mask(np.array([2, 1, 0])) is None
    assert layers.Embedding(4, 3)(np.array([1, 2], "int32")).shape == (2, 3)
    assert layers.Embedding(5, 4, mask_zero=True)(np.array([[1, 2, 0], [0, 0, 4]])).shape == (
        2, 3, 4)
    for weights in (np.ones((3, 4)), [np.ones((3, 4))]):
        np.testing.assert_array_equal(layers.Embedding(3, 4, weights=weights)(
            np.array([0, 2])).numpy(), 1.0)
    for bad in (3.7, 4.0, "3", None, True, False, -1, 0):
        with pytest.raises(ValueError, match="`input_dim` must be a positive integer"):
            layers.Embedding(input_dim=bad, output_dim=8)
        with pytest.raises(ValueError, match="`output_dim` must be a positive integer"):
            layers.Embedding(input_dim=10, output_dim=bad)


def test_embedding_gradient_and_out_of_range_ids():
    layer = layers.Embedding(5, 3, dtype="float64")
    layer.build()
    ids = np.array([[1, 4, 1], [0, 2, 2]])

    def f(table):
        object.__setattr__(layer, "embeddings", table)
        return uf.sum(uf.tanh(layer.call(uf.constant(ids.astype("float64")))))

    uf.check_grad(f, rng.normal(size=(5, 3)), order=2)
    with pytest.raises(ValueError, match=r"input_dim=5.*\[0, 5\).*7"):
        layers.Embedding(5, 3)(np.array([[1, 7]]))


def test_embedding_mask_reaches_the_loss_in_fit(tmp_path):
    """mask_zero=True: padded steps change neither the loss nor the gradients."""
    uf.random.set_seed(1)
    model = keras.Sequential([keras.Input(shape=(4,)), layers.Embedding(6, 3, mask_zero=True),
                              layers.Dense(1)])
    model.compile("sgd", "mse")
    x = np.array([[1, 2, 0, 0], [3, 4, 5, 0]])
    y = np.zeros((2, 4, 1), "float32")
    pred = model(x).numpy()
    expected = np.mean(np.concatenate([pred[0, :2, 0], pred[1, :3, 0]]) ** 2)
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), expected, rtol=1e-6)
    model.save(tmp_path / "e.safetensors")
    again = keras.models.load_model(tmp_path / "e.safetensors")
    np.testing.assert_array_equal(again(x).numpy(), pred)


# ---- Lambda -------------------------------------------------------------------------------------
def test_lambda_correctness_and_shapes():
    """lambda_layer_test: test_correctness, test_correctness_lambda_shape, test_lambda_basics."""
    np.testing.assert_allclose(layers.Lambda(lambda x: x ** 2)(2 * np.ones((2, 3))).numpy(), 4.0)
    np.testing.assert_allclose(layers.Lambda(lambda x: x ** 2, output_shape=lambda s: s)(
        2 * np.ones((2, 3))).numpy(), 4.0)

    def stacker(x):
        return uf.concatenate([x, x], axis=1)

    inp = keras.Input(shape=(3,))
    assert layers.Lambda(stacker, output_shape=(6,))(inp).shape == (None, 6)
    assert layers.Lambda(stacker, output_shape=lambda s: (s[0], s[1] * 2))(inp).shape == (None, 6)
    assert layers.Lambda(stacker)(inp).shape == (None, 6)
    assert layers.Lambda(uf.square if hasattr(uf, "square") else stacker).supports_masking is False
    assert layers.Lambda(stacker, mask=np.ones((2, 3), bool)).supports_masking is True


def test_lambda_in_process_only(tmp_path):
    """A model with a Lambda trains and predicts, refuses to be saved (naming the layer), and
    no file can create one (Keras's test_from_config_fails_closed_without_safe_mode_scope)."""
    inp = keras.Input(shape=(3,))
    out = layers.Dense(1)(layers.Lambda(lambda x: x * 2.0, name="doubler")(inp))
    model = keras.Model(inp, out)
    model.compile("sgd", "mse")
    model.fit(np.ones((4, 3)), np.ones((4, 1)), verbose=0)
    lines = []
    model.summary(print_fn=lines.append)
    assert "doubler" in "\n".join(lines)
    with pytest.raises(ValueError, match="doubler"):
        model.save(tmp_path / "l.safetensors")
    assert not (tmp_path / "l.safetensors").exists()
    with pytest.raises(ValueError, match="Lambda"):
        layers.Lambda(lambda x: x).get_config()
    with pytest.raises(ValueError, match="Lambda"):
        layers.Lambda.from_config({"function": "x"})
    spec = {"class_name": "Lambda", "config": {"function": "lambda x: x"}}
    from unafraid.io.saving import deserialize_layer
    with pytest.raises(ModelFileError, match="unknown layer class 'Lambda'"):
        deserialize_layer(spec)


# ---- tabular preprocessing ----------------------------------------------------------------------
@pytest.mark.parametrize("output_mode,inputs,expected", [
    # discretization_test.test_correctness (dense)
    ("int", [[-1.0, 0.0, 0.1, 0.8, 1.2]], [[0, 1, 1, 2, 3]]),
    ("one_hot", [0.1, 0.8], [[0, 1, 0, 0], [0, 0, 1, 0]]),
    ("multi_hot", [[0.1, 0.8]], [[0, 1, 1, 0]]),
    ("one_hot", [[[0.15, 0.75], [0.85, 0.45]]],
     [[[[0, 1, 0, 0], [0, 0, 1, 0]], [[0, 0, 1, 0], [0, 1, 0, 0]]]]),
    ("multi_hot", [[[0.15, 0.75], [0.85, 0.45]]], [[[0, 1, 1, 0], [0, 1, 1, 0]]]),
    ("count", [[0.1, 0.8, 0.9]], [[0, 1, 2, 0]]),
], ids=["int", "one_hot_rank_1", "multi_hot_rank_2", "one_hot_rank_3", "multi_hot_rank_3",
        "count"])
def test_discretization_correctness(output_mode, inputs, expected):
    layer = layers.Discretization(bin_boundaries=[0.0, 0.5, 1.0], output_mode=output_mode)
    np.testing.assert_array_equal(layer(np.array(inputs)).numpy(), expected)


def test_discretization_fixed_bins_adapt_and_errors():
    """discretization_test: fixed bins, test_adapt_flow, adapt with a generator / list / steps,
    test_init_num_bins_and_bin_boundaries_raises, test_call_before_adapt_raises, shapes."""
    layer = layers.Discretization(bin_boundaries=[0.0, 0.35, 0.5, 1.0])
    x = np.array([[-1.0, 0.0, 0.1, 0.2, 0.4, 0.5, 1.0, 1.2, 0.98]])
    np.testing.assert_array_equal(layer(x).numpy(), [[0, 1, 1, 1, 2, 3, 4, 4, 3]])
    layer = layers.Discretization(num_bins=4)
    layer.adapt(rng.random((32, 3)))
    assert len(layer.bin_boundaries) == 3
    assert layer(np.array([[0.0, 0.1, 0.3]])).numpy().dtype.kind == "i"
    layer = layers.Discretization(num_bins=4)
    layer.adapt(rng.uniform(0, 10, size=(20,)) for _ in range(5))
    assert len(layer.bin_boundaries) == 3
    layer = layers.Discretization(num_bins=3)
    layer.adapt([np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])])
    assert len(layer.bin_boundaries) == 2
    # quantiles by hand: 4 bins of 0..99 split at the quartiles 24, 49, 74 (rank / 100 steps)
    layer = layers.Discretization(num_bins=4)
    layer.adapt(np.arange(100.0))
    np.testing.assert_allclose(layer.bin_boundaries, [24.0, 49.0, 74.0], rtol=1e-5)
    with pytest.raises(ValueError, match="Both `num_bins` and `bin_boundaries`"):
        layers.Discretization(num_bins=3, bin_boundaries=[0.0, 1.0])
    with pytest.raises(ValueError, match="either `num_bins` or `bin_boundaries`"):
        layers.Discretization()
    with pytest.raises(ValueError, match="You need .* call .*adapt"):
        layers.Discretization(num_bins=3)([[0.1, 0.8, 0.9]])
    for mode, shape in (("int", (None, 3, 4)), ("one_hot", (None, 3, 4, 5)),
                        ("multi_hot", (None, 4, 5)), ("count", (None, 4, 5))):
        # test_symbolic_tensor_output_shape
        layer = layers.Discretization(bin_boundaries=[0.0, 1.0, 2.0, 5.0], output_mode=mode)
        assert layer(layers.Input(shape=(3, 4))).shape == shape
        assert layer(rng.uniform(0, 3, size=(2, 3, 4))).shape[1:] == shape[1:]


def test_category_encoding():
    """category_encoding_test: count, weighted count, batched count, multi_hot, one_hot, errors."""
    count = layers.CategoryEncoding(num_tokens=6, output_mode="count")
    np.testing.assert_array_equal(count(np.array([1, 2, 3, 1])).numpy(), [0, 2, 1, 1, 0, 0])
    np.testing.assert_array_equal(count(np.array([[1, 2, 3, 1], [0, 3, 1, 0]])).numpy(),
                                  [[0, 2, 1, 1, 0, 0], [2, 1, 0, 1, 0, 0]])
    weights = np.array([[0.1, 0.2], [0.1, 0.1], [0.2, 0.3], [0.4, 0.2]])
    np.testing.assert_allclose(count(np.array([[0, 1], [0, 0], [1, 2], [3, 1]]),
                                     count_weights=weights).numpy(),
                               [[0.1, 0.2, 0, 0, 0, 0], [0.2, 0, 0, 0, 0, 0],
                                [0, 0.2, 0.3, 0, 0, 0], [0, 0.2, 0, 0.4, 0, 0]], rtol=1e-6)
    multi = layers.CategoryEncoding(num_tokens=6, output_mode="multi_hot")
    np.testing.assert_array_equal(multi(np.array([3, 2, 0, 1])).numpy(), [1, 1, 1, 1, 0, 0])
    np.testing.assert_array_equal(multi(np.array([[3, 2, 0, 1], [3, 2, 0, 1]])).numpy(),
                                  [[1, 1, 1, 1, 0, 0]] * 2)
    one = layers.CategoryEncoding(num_tokens=4, output_mode="one_hot")
    np.testing.assert_array_equal(one(np.array([3, 2, 0, 1])).numpy(), np.eye(4)[[3, 2, 0, 1]])
    assert one(np.array([[3], [2], [0], [1]])).shape == (4, 4)
    assert layers.CategoryEncoding(num_tokens=6, output_mode="one_hot")(
        np.array([[3, 2, 0, 1], [3, 2, 0, 1]])).shape == (2, 4, 6)
    with pytest.raises(ValueError, match="num_tokens must be set"):
        layers.CategoryEncoding(output_mode="multi_hot")
    for bad in (0, -1):
        with pytest.raises(ValueError, match="`num_tokens` must be >= 1"):
            layers.CategoryEncoding(num_tokens=bad)
    with pytest.raises(ValueError, match="`count_weights` is not used"):
        layers.CategoryEncoding(num_tokens=4)(np.array([0, 1, 2, 3]), count_weights=np.ones(4))
    with pytest.raises(ValueError, match="Unknown arg for output_mode"):
        layers.CategoryEncoding(num_tokens=4, output_mode="invalid_mode")
    with pytest.raises(ValueError, match=r"0 <= values < num_tokens.*num_tokens=4"):
        layers.CategoryEncoding(num_tokens=4)(np.array([0, 4]))


def test_integer_lookup():
    """integer_lookup_test: test_adapt_flow (int, one_hot, multi_hot, count), fixed and set
    vocabulary."""
    adapt_data = [1, 1, 1, 2, 2, 3]
    layer = layers.IntegerLookup(output_mode="int")
    layer.adapt(adapt_data)
    np.testing.assert_array_equal(layer([1, 2, 4]).numpy(), [1, 2, 0])
    np.testing.assert_array_equal(layer([[1, 2, 4], [2, 3, 5]]).numpy(), [[1, 2, 0], [2, 3, 0]])
    layer = layers.IntegerLookup(output_mode="one_hot")
    layer.adapt(adapt_data)
    np.testing.assert_array_equal(layer([1, 2, 4]).numpy(),
                                  [[0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 0]])
    layer = layers.IntegerLookup(output_mode="multi_hot")
    layer.adapt(adapt_data)
    np.testing.assert_array_equal(layer([1, 2, 4]).numpy(), [1, 1, 1, 0])
    layer = layers.IntegerLookup(output_mode="count")
    layer.adapt(adapt_data)
    np.testing.assert_array_equal(layer([1, 2, 3, 4, 1, 2, 1]).numpy(), [1, 3, 2, 1])
    layer = layers.IntegerLookup(output_mode="int", vocabulary=[1, 2, 3, 4])
    np.testing.assert_array_equal(layer([2, 3, 4, 5]).numpy(), [2, 3, 4, 0])
    layer = layers.IntegerLookup(output_mode="int")
    layer.set_vocabulary([1, 2, 3, 4])
    np.testing.assert_array_equal(layer([2, 3, 4, 5]).numpy(), [2, 3, 4, 0])


def test_integer_lookup_docstring_examples():
    """integer_lookup.py docstring: vocabulary, mask token, several OOV indices, invert."""
    vocab = [12, 36, 1138, 42]
    data = np.array([[12, 1138, 42], [42, 1000, 36]])
    np.testing.assert_array_equal(layers.IntegerLookup(vocabulary=vocab)(data).numpy(),
                                  [[1, 3, 4], [4, 0, 2]])
    layer = layers.IntegerLookup(vocabulary=vocab, num_oov_indices=2)
    np.testing.assert_array_equal(layer(data).numpy(), [[2, 4, 5], [5, 0, 3]])
    layer = layers.IntegerLookup(vocabulary=vocab, mask_token=0)
    np.testing.assert_array_equal(layer(np.array([[12, 1138, 42], [42, 0, 36]])).numpy(),
                                  [[2, 4, 5], [5, 0, 3]])
    layer = layers.IntegerLookup(vocabulary=vocab, invert=True)
    np.testing.assert_array_equal(layer(np.array([[1, 3, 4], [4, 0, 2]])).numpy(),
                                  [[12, 1138, 42], [42, -1, 36]])
    layer = layers.IntegerLookup(vocabulary=vocab, output_mode="one_hot")
    assert layer.vocabulary_size() == 5
    assert layer.get_vocabulary() == [-1, 12, 36, 1138, 42]
    assert layer.get_vocabulary(include_special_tokens=False) == vocab


def test_string_lookup():
    """string_lookup_test: test_adapt_flow, adapt with a generator / steps, fixed vocabulary;
    string_lookup.py docstring (vocabulary, multi_hot, invert)."""
    layer = layers.StringLookup(output_mode="int")
    layer.adapt(["a", "a", "a", "b", "b", "c"])
    np.testing.assert_array_equal(layer(["b", "c", "d"]).numpy(), [2, 3, 0])
    assert "a" in layer.get_vocabulary()

    def gen():
        yield ["cat", "dog"]
        yield ["bird", "cat"]

    layer = layers.StringLookup()
    layer.adapt(gen())
    assert {"cat", "dog", "bird"} <= set(layer.get_vocabulary())
    np.testing.assert_array_equal(
        layers.StringLookup(output_mode="int", vocabulary=["a", "b", "c"])(["b", "c", "d"]).numpy(),
        [2, 3, 0])
    vocab = ["a", "b", "c", "d"]
    data = np.array([["a", "c", "d"], ["d", "z", "b"]])
    np.testing.assert_array_equal(layers.StringLookup(vocabulary=vocab)(data).numpy(),
                                  [[1, 3, 4], [4, 0, 2]])
    np.testing.assert_array_equal(
        layers.StringLookup(vocabulary=vocab, output_mode="multi_hot")(data).numpy(),
        [[0, 1, 0, 1, 1], [1, 0, 1, 0, 1]])
    inverse = layers.StringLookup(vocabulary=vocab, invert=True)
    assert inverse(np.array([[1, 3, 4], [4, 0, 2]])).tolist() == [["a", "c", "d"],
                                                                  ["d", "[UNK]", "b"]]


def test_lookups_save_and_load_with_the_model(tmp_path):
    """The adapted state travels in the config (plain JSON), so the loaded model is the same."""
    disc = layers.Discretization(num_bins=4)
    disc.adapt(rng.random((32, 2)))
    look = layers.IntegerLookup(output_mode="multi_hot")
    look.adapt([1, 1, 1, 2, 2, 3])
    enc = layers.CategoryEncoding(num_tokens=4, output_mode="count")
    for layer, x in ((disc, rng.random((3, 2))), (look, np.array([[1, 2, 4]])),
                     (enc, np.array([[0, 3, 3]]))):
        inp = keras.Input(shape=x.shape[1:])
        model = keras.Model(inp, layer(inp))
        model.save(tmp_path / "p.safetensors")
        again = keras.models.load_model(tmp_path / "p.safetensors")
        np.testing.assert_array_equal(again(x).numpy(), model(x).numpy())


# ---- normalisation options and Dense ------------------------------------------------------------
def test_layer_normalization_keras_outputs():
    """layer_normalization_test: test_output, test_output_with_rms_scaling, test_unsorted_axis."""
    layer = layers.LayerNormalization(beta_initializer="ones", gamma_initializer="ones")
    np.testing.assert_allclose(layer(np.arange(5, dtype="float32")[None, :]).numpy(),
                               [[-0.41386, 0.29307, 1.0, 1.70693, 2.41386]], rtol=1e-5)
    with pytest.warns(DeprecationWarning, match="rms_scaling"):
        layer = layers.LayerNormalization(rms_scaling=True, gamma_initializer="ones")
    np.testing.assert_allclose(layer(np.arange(5, dtype="float32")[None, :]).numpy(),
                               [[0.0, 0.70693, 1.41386, 2.12079, 2.82772]], rtol=1e-5, atol=1e-6)
    assert [w.name.split("/")[1] for w in layer.weights] == ["gamma"]
    x = rng.normal(size=(2, 3, 4)).astype("float32")
    np.testing.assert_allclose(layers.LayerNormalization(axis=[-2, -1])(x).numpy(),
                               layers.LayerNormalization(axis=[-1, -2])(x).numpy(), rtol=1e-6)


def test_layer_normalization_rms_scaling_gradient():
    with pytest.warns(DeprecationWarning):
        layer = layers.LayerNormalization(rms_scaling=True, dtype="float64")
    layer.build((3, 5))

    def f(x, gamma):
        object.__setattr__(layer, "gamma", gamma)
        return uf.sum(uf.tanh(layer.call(x)))

    uf.check_grad(f, rng.normal(size=(3, 5)), rng.normal(size=5) + 1, order=2)


@pytest.mark.parametrize("cls", [layers.BatchNormalization, layers.LayerNormalization])
def test_normalization_regularizers_add_their_penalties(cls, tmp_path):
    """beta_regularizer / gamma_regularizer: l1 * sum|beta| + l2 * sum(gamma**2) in losses."""
    layer = cls(beta_regularizer=keras.regularizers.L1(0.1),
                gamma_regularizer=keras.regularizers.L2(0.01),
                beta_initializer="ones", gamma_initializer=keras.initializers.Constant(2.0))
    layer(np.ones((2, 3), "float32"))
    np.testing.assert_allclose(sorted(float(v) for v in layer.losses),
                               sorted([0.1 * 3 * 1.0, 0.01 * 3 * 4.0]), rtol=1e-6)
    model = keras.Sequential([keras.Input(shape=(3,)), layer])
    model.save(tmp_path / "n.safetensors")
    again = keras.models.load_model(tmp_path / "n.safetensors")
    np.testing.assert_allclose(sorted(float(v) for v in again.losses),
                               sorted(float(v) for v in layer.losses), rtol=1e-6)


@pytest.mark.parametrize("make", [
    lambda: layers.BatchNormalization(beta_constraint="non_neg", gamma_constraint=MaxNorm(0.5, axis=0)),
    lambda: layers.LayerNormalization(beta_constraint="non_neg", gamma_constraint=MaxNorm(0.5, axis=0)),
], ids=["BatchNormalization", "LayerNormalization"])
def test_normalization_constraints_are_applied_after_each_update_and_saved(make, tmp_path):
    # SGD(1): a gradient of +1 takes beta from 0 to -1, and non_neg puts it back to 0; then -0.5
    # takes it to 0.5, which stays. gamma starts at ones (norm 2 over its 4 entries), a zero
    # gradient leaves it there, and MaxNorm(0.5) rescales it to norm 0.5: 0.25 each.
    layer = make()
    layer.build((None, 4))
    opt = keras.optimizers.SGD(1.0)
    opt.apply([np.full(4, 0.0, np.float32), np.full(4, 1.0, np.float32)], [layer.gamma, layer.beta])
    np.testing.assert_array_equal(layer.beta.numpy(), np.zeros(4, np.float32))  # -1 -> 0
    np.testing.assert_allclose(layer.gamma.numpy(), np.full(4, 0.25), rtol=1e-6)  # norm 2 -> 0.5
    opt.apply([np.zeros(4, np.float32), np.full(4, -0.5, np.float32)], [layer.gamma, layer.beta])
    np.testing.assert_array_equal(layer.beta.numpy(), np.full(4, 0.5, np.float32))  # kept
    model = keras.Sequential([keras.Input(shape=(4,)), make()])
    model.save(tmp_path / "n.safetensors")
    again = keras.models.load_model(tmp_path / "n.safetensors").layers[0]
    assert again.beta.constraint.get_config() == {}
    assert again.gamma.constraint.get_config() == {"max_value": 0.5, "axis": 0}


def test_embeddings_constraint_and_synchronized_batch_normalization():
    layer = layers.Embedding(3, 2, embeddings_constraint="non_neg", embeddings_initializer="ones")
    layer.build((None, 1))
    keras.optimizers.SGD(1.0).apply([np.full((3, 2), 2.0, np.float32)], [layer.embeddings])
    np.testing.assert_array_equal(layer.embeddings.numpy(), np.zeros((3, 2), np.float32))  # 1-2 -> 0
    assert layer.get_config()["embeddings_constraint"]["class_name"] == "NonNeg"
    # synchronized: one process holds the whole batch, so the statistics are the batch's
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    a = layers.BatchNormalization(synchronized=True)
    b = layers.BatchNormalization()
    np.testing.assert_array_equal(a(x, training=True).numpy(), b(x, training=True).numpy())
    assert a.get_config()["synchronized"] is True


def test_dense_activation_set_after_construction(tmp_path):
    layer = layers.Dense(2, kernel_initializer="ones")
    layer.activation = "relu"
    np.testing.assert_array_equal(layer(np.array([[-1.0, -1.0], [1.0, 1.0]])).numpy(),
                                  [[0.0, 0.0], [2.0, 2.0]])
    layer.activation = uf.tanh
    np.testing.assert_allclose(layer(np.array([[1.0, 0.0]])).numpy(), np.tanh([[1.0, 1.0]]),
                               rtol=1e-6)
    layer.activation = "sigmoid"
    model = keras.Sequential([keras.Input(shape=(2,)), layer])
    model.save(tmp_path / "d.safetensors")
    again = keras.models.load_model(tmp_path / "d.safetensors")
    assert again.layers[0].get_config()["activation"] == "sigmoid"
    x = rng.normal(size=(3, 2)).astype("float32")
    np.testing.assert_array_equal(again(x).numpy(), model(x).numpy())


# ---- every new layer: saved and loaded, listed in summary ---------------------------------------
@pytest.mark.parametrize("make,shape", [
    (lambda: layers.RepeatVector(3), (4,)), (lambda: layers.Permute((2, 1)), (3, 4)),
    (lambda: layers.GaussianNoise(0.1, seed=2), (4,)),
    (lambda: layers.GaussianDropout(0.1, seed=2), (4,)),
    (lambda: layers.AlphaDropout(0.1, noise_shape=(None, 1), seed=2), (4,)),
    (lambda: layers.ActivityRegularization(l1=0.01, l2=0.02), (4,)),
    (lambda: layers.Embedding(10, 3, mask_zero=True), (5,)),
    (lambda: layers.Masking(mask_value=-1.0), (3, 2)),
    (lambda: layers.Softmax(axis=(1, 2)), (3, 2)),
], ids=["RepeatVector", "Permute", "GaussianNoise", "GaussianDropout", "AlphaDropout",
        "ActivityRegularization", "Embedding", "Masking", "Softmax"])
def test_new_layers_save_load_and_summary(make, shape, tmp_path):
    layer = make()
    model = keras.Sequential([keras.Input(shape=shape), layer])
    lines = []
    model.summary(print_fn=lines.append)
    assert type(layer).__name__ in "\n".join(lines)
    x = rng.integers(0, 10, size=(2, *shape)).astype("float32")
    model.save(tmp_path / "s.safetensors")
    again = keras.models.load_model(tmp_path / "s.safetensors")
    assert type(again.layers[0]) is type(layer)
    assert again.layers[0].get_config() == layer.get_config() | {"name": again.layers[0].name}
    np.testing.assert_array_equal(again(x).numpy(), model(x).numpy())


# ---- BatchNormalization(renorm=True) ------------------------------------------------------------
def test_batchnorm_renorm_invalid_clipping_keys():
    """batch_normalization_test.test_renorm_invalid_clipping_keys."""
    with pytest.raises(ValueError, match="Received invalid keys"):
        layers.BatchNormalization(renorm=True, renorm_clipping={"random_key": 1.0})
    with pytest.raises(ValueError, match="rmax should be"):
        layers.BatchNormalization(renorm=True, renorm_clipping={"rmax": 0.0, "rmin": 1.0})
    with pytest.raises(ValueError, match="dmax should be non-negative"):
        layers.BatchNormalization(renorm=True, renorm_clipping={"rmax": 1.0, "dmax": -1.0})


def test_batchnorm_renorm_stddev_initializer_and_inference():
    """batch_normalization_test: test_renorm_stddev_initializer, test_renorm_inference."""
    layer = layers.BatchNormalization(renorm=True,
                                      moving_variance_initializer=keras.initializers.Constant(4.0))
    layer.build((None, 5))
    np.testing.assert_allclose(layer.moving_stddev.numpy(), np.full(5, 2.0), atol=1e-6)
    np.testing.assert_allclose(layer.renorm_stddev.numpy(), np.full(5, 2.0), atol=1e-6)
    bn, bn_renorm = layers.BatchNormalization(), layers.BatchNormalization(renorm=True)
    bn.build((None, 10))
    bn_renorm.build((None, 10))
    for attr in ["gamma", "beta", "moving_mean", "moving_variance"]:
        value = np.abs(rng.normal(size=10)).astype("float32")
        getattr(bn, attr).assign(value)
        getattr(bn_renorm, attr).assign(value)
    x = rng.normal(size=(4, 10)).astype("float32")
    np.testing.assert_allclose(bn(x).numpy(), bn_renorm(x).numpy(), atol=1e-5, rtol=1e-5)


def test_batchnorm_renorm_correctness():
    """batch_normalization_test.test_renorm_correctness (its hand-computed expectations)."""
    epsilon, momentum, renorm_momentum = 1e-3, 0.9, 0.8
    layer = layers.BatchNormalization(axis=-1, epsilon=epsilon, momentum=momentum, renorm=True,
                                      renorm_momentum=renorm_momentum)
    layer.build((None, 3))
    init = {"moving_mean": rng.normal(0.0, 1.0, 3),
            "moving_variance": np.abs(rng.normal(1.0, 0.5, 3)),
            "renorm_mean": rng.normal(0.0, 1.0, 3),
            "renorm_stddev": np.abs(rng.normal(1.0, 0.5, 3)),
            "gamma": rng.normal(1.0, 0.1, 3), "beta": rng.normal(0.0, 0.1, 3)}
    init["moving_stddev"] = np.sqrt(init["moving_variance"])
    for name, value in init.items():
        getattr(layer, name).assign(value.astype("float32"))
    x = np.array([[4.0, 6.0, 2.0], [8.0, -2.0, 5.0], [6.0, 4.0, 3.0]], "float32")
    batch_mean, batch_stddev = x.mean(0), np.sqrt(x.var(0) + epsilon)
    # Keras 3 divides by max(renorm_stddev, sqrt(epsilon)) (batch_normalization.py, _renorm_...)
    renorm_stddev = np.maximum(init["renorm_stddev"], np.sqrt(epsilon))
    r = batch_stddev / renorm_stddev
    d = (batch_mean - init["renorm_mean"]) / renorm_stddev
    expected = (((x - batch_mean) / batch_stddev) * r + d) * init["gamma"] + init["beta"]
    # float32: relative error ~1e-7 of outputs that reach hundreds when a renorm stddev is small
    np.testing.assert_allclose(layer(x, training=True).numpy(), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layer.renorm_mean.numpy(), init["renorm_mean"] * renorm_momentum
                               + batch_mean * (1 - renorm_momentum), atol=1e-5)
    np.testing.assert_allclose(layer.renorm_stddev.numpy(), init["renorm_stddev"] *
                               renorm_momentum + batch_stddev * (1 - renorm_momentum), atol=1e-5)
    np.testing.assert_allclose(layer.moving_mean.numpy(), init["moving_mean"] * momentum
                               + batch_mean * (1 - momentum), atol=1e-5)
    moving_stddev = init["moving_stddev"] * momentum + batch_stddev * (1 - momentum)
    np.testing.assert_allclose(layer.moving_stddev.numpy(), moving_stddev, atol=1e-5)
    np.testing.assert_allclose(layer.moving_variance.numpy(), moving_stddev ** 2 - epsilon,
                               atol=1e-5)


def test_batchnorm_renorm_gradient_save_and_compiled_step(tmp_path):
    """r and d carry no gradient: the layer's gradient equals that of the same formula with r
    and d frozen at their values (itself checked against central differences); saving keeps the
    options; compiled training gives the eager step's bits."""
    layer = layers.BatchNormalization(renorm=True, renorm_clipping={"rmax": 3.0, "rmin": 0.3,
                                                                    "dmax": 5.0}, dtype="float64")
    layer.build((None, 3))
    layer.renorm_stddev.assign(np.array([0.5, 2.0, 1.0]))
    layer.renorm_mean.assign(np.array([1.0, -1.0, 0.0]))
    x = rng.normal(2.0, 3.0, size=(6, 3))
    eps = layer.epsilon
    sigma = np.sqrt(x.var(0) + eps)
    r0 = np.clip(sigma / np.array([0.5, 2.0, 1.0]), 0.3, 3.0)
    d0 = np.clip((x.mean(0) - np.array([1.0, -1.0, 0.0])) / np.array([0.5, 2.0, 1.0]), -5, 5)
    weights = np.arange(18.0).reshape(6, 3) / 10

    def frozen(x):
        mean = uf.mean(x, axis=0, keepdims=True)
        var = uf.mean((x - mean) ** 2, axis=0, keepdims=True)
        return uf.sum(uf.tanh((x - mean) / uf.sqrt(var + eps) * r0 + d0) * weights)

    uf.check_grad(frozen, x)
    state = [w.numpy().copy() for w in layer.non_trainable_weights]

    def renorm(x):
        for w, v in zip(layer.non_trainable_weights, state, strict=True):
            w.assign(v)
        return uf.sum(uf.tanh(layer(x, training=True)) * weights)

    np.testing.assert_allclose(float(renorm(x)), float(frozen(x)), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(uf.grad(renorm)(x)), np.asarray(uf.grad(frozen)(x)),
                               rtol=1e-10, atol=1e-12)
    config = layer.get_config()
    assert config["renorm"] is True and config["renorm_clipping"]["rmax"] == 3.0

    def run(jit):
        uf.random.set_seed(2)
        model = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(4),
                                  layers.BatchNormalization(renorm=True), layers.Dense(1)])
        model.compile("sgd", "mse", jit_compile=jit)
        data = np.random.default_rng(0).normal(size=(32, 3)).astype("float32")
        model.fit(data, data[:, :1], epochs=3, batch_size=8, verbose=0, shuffle=False)
        return model

    eager, compiled = run(False), run(True)
    for a, b in zip(eager.get_weights(), compiled.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    eager.save(tmp_path / "r.safetensors")
    again = keras.models.load_model(tmp_path / "r.safetensors")
    np.testing.assert_array_equal(again(x[:, :3].astype("float32")).numpy(),
                                  eager(x[:, :3].astype("float32")).numpy())
