"""Issue 17 item 6: Keras 3's layers, ported with Keras's own test cases as the oracle.

Each test names the Keras 3 test it ports (keras/src/layers/...); expected values are
Keras's, or NumPy formulas independent of unafraid. Layers with weights or a gradient are
checked against float64 central differences.
"""

import numpy as np
import pytest

import unafraid as uf
from unafraid import keras
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
    np.testing.assert_allclose(c, np.einsum("bkx,bijk->bxij", a, b), rtol=1e-5)


def test_dot_docstring_example_and_normalize():
    """dot.py docstring (axes=(1, 2)) and normalize=True (the cosine similarity)."""
    x = np.arange(10).reshape(1, 5, 2)
    y = np.arange(10, 20).reshape(1, 2, 5)
    np.testing.assert_allclose(layers.Dot(axes=(1, 2))([x, y]).numpy(),
                               [[[260, 360], [320, 445]]])
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    np.testing.assert_allclose(layers.dot([a, b], axes=1, normalize=True).numpy()[:, 0], cos,
                               rtol=1e-5)


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
    a, b = rng.normal(size=(2, 5)), rng.normal(size=(2, 3, 5))
    np.testing.assert_allclose(layers.Add()([a, b]).numpy(), a[:, None, :] + b, rtol=1e-6)
    assert layers.Add().compute_output_shape([(None, 5), (None, 3, 5)]) == (None, 3, 5)


def test_merge_layer_called_on_one_tensor_says_how():
    with pytest.raises(ValueError, match=r"list of inputs.*Add\(\)\(\[a, b\]\)"):
        layers.Add()(np.ones((2, 3)))
