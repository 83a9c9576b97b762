"""Every primitive in ``unafraid.engine.PRIMITIVES``: forward values against NumPy, and first
AND second derivatives against central finite differences in float64 (``check_grad(order=2)``).

Shapes are drawn by hypothesis, including broadcasting, size-1 and size-0 dimensions. Points are
chosen away from kinks (relu/abs at 0, ties of max/min, clip bounds), where derivatives are
undefined. The examples are derandomized and few, so the file stays fast and deterministic.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes
from numpy.testing import assert_allclose

import unafraid as uf
from unafraid import engine
from unafraid.engine import PRIMITIVES

FAST = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
seeds = st.integers(0, 2**32 - 1)
shapes = array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)
pairs = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=0, max_side=3)

# Filled in by each test below; the last test checks that nothing in PRIMITIVES is left out.
COVERED: set[str] = set()


def covers(*names: str):
    COVERED.update(names)
    return lambda test: test


def check(f, *args, order=2, **tolerances):
    """First and second derivatives of ``f`` at ``args`` against finite differences."""
    reports = uf.check_grad(f, *args, order=order, **tolerances)
    assert [r.order for r in reports] == list(range(1, order + 1))
    assert all(r.error <= 1 for r in reports)


def same(engine_out, expected, rtol=1e-12, atol=1e-12):
    out = engine_out.numpy() if isinstance(engine_out, uf.Tensor) else np.asarray(engine_out)
    expected = np.asarray(expected)
    assert out.shape == expected.shape
    assert out.dtype == np.float64
    assert_allclose(out, expected, rtol=rtol, atol=atol)


# ---- points away from kinks -------------------------------------------------------------------
def real(rng, shape):
    return rng.uniform(-2, 2, shape)


def positive(rng, shape, low=0.5, high=2.5):
    return rng.uniform(low, high, shape)


def away_from_zero(rng, shape, low=0.2):
    return rng.uniform(low, 2, shape) * rng.choice([-1.0, 1.0], shape)


def distinct(rng, shape):
    """Values at least 0.15 apart: max/min have no ties, even after a 1e-6 nudge."""
    n = math.prod(shape)
    return (rng.permutation(n) * 0.25 - n * 0.1 + rng.uniform(-0.05, 0.05, n)).reshape(shape)


def _erf(x):
    return np.vectorize(math.erf, otypes=[float])(x)


# ---- elementwise, one input ---------------------------------------------------------------------
UNARY = {
    "negative": (uf.negative, np.negative, real),
    "exp": (uf.exp, np.exp, real),
    "log": (uf.log, np.log, positive),
    "log1p": (uf.log1p, np.log1p, lambda rng, s: rng.uniform(-0.5, 2, s)),
    "expm1": (uf.expm1, np.expm1, real),
    "sqrt": (uf.sqrt, np.sqrt, positive),
    "abs": (uf.abs, np.abs, away_from_zero),
    "sign": (uf.sign, np.sign, away_from_zero),
    "tanh": (uf.tanh, np.tanh, real),
    "sigmoid": (uf.sigmoid, lambda x: 1 / (1 + np.exp(-x)), real),
    "relu": (uf.relu, lambda x: np.maximum(x, 0), away_from_zero),
    "leaky_relu": (lambda x: uf.leaky_relu(x, 0.1), lambda x: np.where(x > 0, x, 0.1 * x),
                   away_from_zero),
    "elu": (lambda x: uf.elu(x, alpha=0.7), lambda x: np.where(x > 0, x, 0.7 * np.expm1(x)),
            away_from_zero),
    "softplus": (uf.softplus, lambda x: np.log1p(np.exp(x)), real),
    "gelu": (uf.gelu, lambda x: x * 0.5 * (1 + _erf(x / math.sqrt(2))), real),
    "gelu_approximate": (
        lambda x: uf.gelu(x, approximate=True),
        lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))), real),
    "lgamma": (uf.lgamma, np.vectorize(math.lgamma, otypes=[float]), positive),
    "cast": (lambda x: uf.cast(x, np.float64), lambda x: x, real),
}
COVERED.update(n for n in UNARY if n != "gelu_approximate")


@pytest.mark.parametrize("name", list(UNARY))
@FAST
@given(shape=shapes, seed=seeds)
def test_unary(name, shape, seed):
    f, reference, domain = UNARY[name]
    x = domain(np.random.default_rng(seed), shape)
    same(f(x), reference(x))
    check(f, x)


@covers("lgamma", "digamma", "polygamma")
@pytest.mark.parametrize("f", [uf.lgamma, uf.digamma, lambda x: uf.polygamma(1, x),
                               lambda x: uf.polygamma(2, x)],
                         ids=["lgamma", "digamma", "trigamma", "tetragamma"])
@pytest.mark.parametrize("x", [np.array([0.3, 1.0, 2.5, 7.9, 14.2]),  # both sides of the shift
                               np.array([-0.5, -1.3, -2.7])],  # reflection, between the poles
                         ids=["positive", "negative"])
def test_gamma_family_derivatives(f, x):
    check(f, x, rtol=1e-4)


@covers("digamma", "polygamma")
def test_digamma_is_the_derivative_of_lgamma():
    # an independent oracle for digamma's forward value: the slope of math.lgamma
    x = np.array([0.7, 1.0, 3.3, 11.0])
    h = 1e-5
    slope = [(math.lgamma(v + h) - math.lgamma(v - h)) / (2 * h) for v in x]
    assert_allclose(uf.digamma(x).numpy(), slope, rtol=1e-8)
    d = [(uf.digamma(np.array([v + h])).item() - uf.digamma(np.array([v - h])).item()) / (2 * h)
         for v in x]
    assert_allclose(uf.polygamma(1, x).numpy(), d, rtol=1e-7)


# ---- elementwise, two inputs, with broadcasting -----------------------------------------------
def _shifted_grid(rng, shape, offset):
    """Multiples of 0.5 (+ offset) with noise below 0.1: a and b never come closer than 0.05."""
    return 0.5 * rng.integers(-4, 5, shape) + offset + rng.uniform(-0.1, 0.1, shape)


BINARY = {
    "add": (uf.add, np.add, real, real),
    "subtract": (uf.subtract, np.subtract, real, real),
    "multiply": (uf.multiply, np.multiply, real, real),
    "divide": (uf.divide, np.divide, real, lambda rng, s: away_from_zero(rng, s, low=0.5)),
    "power": (uf.power, np.power, positive, real),
    "maximum": (uf.maximum, np.maximum, lambda rng, s: _shifted_grid(rng, s, 0.0),
                lambda rng, s: _shifted_grid(rng, s, 0.25)),
    "minimum": (uf.minimum, np.minimum, lambda rng, s: _shifted_grid(rng, s, 0.0),
                lambda rng, s: _shifted_grid(rng, s, 0.25)),
}
COVERED.update(BINARY)


@pytest.mark.parametrize("name", list(BINARY))
@FAST
@given(shapes=pairs, seed=seeds)
def test_binary_broadcasting(name, shapes, seed):
    f, reference, domain_a, domain_b = BINARY[name]
    rng = np.random.default_rng(seed)
    a, b = domain_a(rng, shapes.input_shapes[0]), domain_b(rng, shapes.input_shapes[1])
    same(f(a, b), reference(a, b))
    assert f(a, b).shape == shapes.result_shape
    check(f, a, b)


@covers("power")
@pytest.mark.parametrize("f", [lambda x: x**3, lambda x: 2.0**x, lambda x: uf.power(x, 2),
                               lambda x: uf.power(uf.abs(x), -0.5)],
                         ids=["x**3", "2**x", "x**2", "|x|**-0.5"])
def test_power_with_a_constant_base_or_exponent(f):
    x = np.array([[-1.5, 0.3], [0.7, 2.0]])  # negative bases with integer exponents
    check(f, x)


@covers("where")
@FAST
@given(shapes=mutually_broadcastable_shapes(num_shapes=3, max_dims=3, min_side=0, max_side=3),
       seed=seeds)
def test_where(shapes, seed):
    rng = np.random.default_rng(seed)
    cond = rng.random(shapes.input_shapes[0]) < 0.5
    a, b = real(rng, shapes.input_shapes[1]), real(rng, shapes.input_shapes[2])
    same(uf.where(cond, a, b), np.where(cond, a, b))
    check(lambda a, b: uf.where(cond, a, b), a, b)


@covers("clip")
@pytest.mark.parametrize("bounds", [(-0.5, 0.5), (-0.5, None), (None, 0.5)])
@FAST
@given(shape=shapes, seed=seeds)
def test_clip_away_from_the_bounds(bounds, shape, seed):
    rng = np.random.default_rng(seed)
    inside = rng.uniform(-0.4, 0.4, shape)
    outside = rng.uniform(0.6, 2, shape) * rng.choice([-1.0, 1.0], shape)
    x = np.where(rng.random(shape) < 0.5, inside, outside)
    same(uf.clip(x, *bounds), np.clip(x, *bounds))
    check(lambda x: uf.clip(x, *bounds), x)


# ---- linear algebra ---------------------------------------------------------------------------
@covers("matmul")
@pytest.mark.parametrize("shape_a, shape_b", [
    ((3, 4), (4, 2)), ((1, 4), (4, 1)), ((0, 4), (4, 2)), ((3, 0), (0, 2)),  # 2-D, sizes 1 and 0
    ((2, 3, 4), (4, 2)), ((2, 1, 3, 4), (3, 4, 2)), ((3, 4), (2, 4, 3)),  # batched, broadcast
    ((4,), (4, 2)), ((4,), (2, 4, 3)), ((3, 4), (4,)), ((2, 3, 4), (4,)), ((4,), (4,)),  # 1-D
])
def test_matmul(shape_a, shape_b):
    rng = np.random.default_rng(0)
    a, b = real(rng, shape_a), real(rng, shape_b)
    same(uf.matmul(a, b), np.matmul(a, b))
    check(uf.matmul, a, b)


@covers("linear")
@pytest.mark.parametrize("shape_x, bias", [
    ((3, 4), (2,)), ((3, 4), None), ((1, 4), (1, 2)), ((0, 4), (2,)), ((2, 3, 4), (2,)),
    ((4,), (2,)),
])
def test_linear(shape_x, bias):
    rng = np.random.default_rng(1)
    x, w = real(rng, shape_x), real(rng, (4, 2))
    if bias is None:
        same(uf.linear(x, w), x @ w)
        check(uf.linear, x, w)
    else:
        b = real(rng, bias)
        same(uf.linear(x, w, b), x @ w + b)
        check(uf.linear, x, w, b)
        # the fused primitive and its composed twin agree, value and gradient
        fused = uf.grad(lambda x, w, b: uf.sum(uf.tanh(uf.linear(x, w, b))), argnums=(0, 1, 2))
        composed = uf.grad(lambda x, w, b: uf.sum(uf.tanh(x @ w + b)), argnums=(0, 1, 2))
        for g1, g2 in zip(fused(x, w, b), composed(x, w, b), strict=True):
            assert_allclose(g1, g2, rtol=1e-12, atol=1e-12)


# ---- reductions -------------------------------------------------------------------------------
@st.composite
def reduction_cases(draw, min_side=0):
    shape = draw(array_shapes(min_dims=1, max_dims=3, min_side=min_side, max_side=3))
    ndim = len(shape)
    axis = draw(st.one_of(
        st.none(),
        st.integers(-ndim, ndim - 1),
        st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple)))
    return shape, axis, draw(st.booleans()), draw(seeds)


REDUCTIONS = {
    "sum": (uf.sum, np.sum, real, 0),
    "mean": (uf.mean, np.mean, real, 1),
    "var": (uf.var, np.var, real, 1),
    "std": (uf.std, np.std, distinct, 2),  # sqrt is not differentiable at var = 0
    "max": (uf.max, np.max, distinct, 1),  # no ties; empty arrays have no max
    "min": (uf.min, np.min, distinct, 1),
    "logsumexp": (uf.logsumexp, lambda x, axis, keepdims: np.log(
        np.sum(np.exp(x), axis=axis, keepdims=keepdims)), real, 0),
}
COVERED.update(REDUCTIONS)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # mean of an empty axis is NaN, as in NumPy
@pytest.mark.parametrize("name", list(REDUCTIONS))
@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_reductions(name, data):
    f, reference, domain, min_side = REDUCTIONS[name]
    shape, axis, keepdims, seed = data.draw(reduction_cases(min_side=min_side))
    x = domain(np.random.default_rng(seed), shape)
    out = f(x, axis=axis, keepdims=keepdims)
    expected = reference(x, axis=axis, keepdims=keepdims)
    assert out.shape == np.shape(expected)
    assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)
    check(lambda x: f(x, axis=axis, keepdims=keepdims), x)


@covers("var", "std")
def test_var_and_std_with_ddof():
    x = distinct(np.random.default_rng(2), (3, 4))
    same(uf.var(x, axis=0, ddof=1), np.var(x, axis=0, ddof=1))
    same(uf.std(x, axis=1, ddof=1, keepdims=True), np.std(x, axis=1, ddof=1, keepdims=True))
    check(lambda x: uf.std(x, axis=0, ddof=1), x)


@covers("max", "min")
def test_tied_maxima_share_the_gradient():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    assert_allclose(uf.grad(lambda x: uf.sum(uf.max(x, axis=1)))(x),
                    [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    assert_allclose(uf.grad(lambda x: uf.min(x))(x), [[1, 0, 0], [0, 0, 0]])


@covers("logsumexp")
def test_logsumexp_huge_values_stay_finite():
    x = np.array([1000.0, 1000.0, -np.inf])
    assert uf.logsumexp(x).item() == pytest.approx(1000 + math.log(2))
    assert_allclose(uf.grad(lambda x: uf.logsumexp(x))(x), [0.5, 0.5, 0.0])


# ---- shapes -----------------------------------------------------------------------------------
@covers("reshape")
@FAST
@given(shape=shapes, seed=seeds, kind=st.sampled_from(["flat", "reversed", "column", "same"]))
def test_reshape(shape, seed, kind):
    x = real(np.random.default_rng(seed), shape)
    target = {"flat": (-1,), "reversed": shape[::-1], "column": (x.size, 1), "same": shape}[kind]
    same(uf.reshape(x, target), np.reshape(x, target))
    check(lambda x: uf.reshape(x, target), x)


@covers("transpose")
@FAST
@given(data=st.data())
def test_transpose(data):
    shape = data.draw(shapes)
    axes = data.draw(st.one_of(st.none(), st.permutations(range(len(shape))).map(tuple)))
    x = real(np.random.default_rng(data.draw(seeds)), shape)
    same(uf.transpose(x, axes), np.transpose(x, axes))
    check(lambda x: uf.transpose(x, axes), x)


@covers("swapaxes")
@FAST
@given(data=st.data())
def test_swapaxes(data):
    shape = data.draw(array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3))
    a, b = (data.draw(st.integers(-len(shape), len(shape) - 1)) for _ in range(2))
    x = real(np.random.default_rng(data.draw(seeds)), shape)
    same(uf.swapaxes(x, a, b), np.swapaxes(x, a, b))
    check(lambda x: uf.swapaxes(x, a, b), x)


@covers("expand_dims")
@FAST
@given(data=st.data())
def test_expand_dims(data):
    shape = data.draw(shapes)
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    x = real(np.random.default_rng(data.draw(seeds)), shape)
    same(uf.expand_dims(x, axis), np.expand_dims(x, axis))
    check(lambda x: uf.expand_dims(x, axis), x)


@covers("squeeze")
@pytest.mark.parametrize("shape, axis", [((1, 3, 1), None), ((1, 3, 1), 0), ((1, 3, 1), -1),
                                         ((1, 3, 1), (0, 2)), ((0, 1), 1), ((1,), None)])
def test_squeeze(shape, axis):
    x = real(np.random.default_rng(3), shape)
    same(uf.squeeze(x, axis), np.squeeze(x, axis))
    check(lambda x: uf.squeeze(x, axis), x)


@covers("broadcast_to")
@FAST
@given(shapes=mutually_broadcastable_shapes(num_shapes=1, min_dims=0, max_dims=3, min_side=0,
                                            max_side=3), seed=seeds)
def test_broadcast_to(shapes, seed):
    x = real(np.random.default_rng(seed), shapes.input_shapes[0])
    same(uf.broadcast_to(x, shapes.result_shape), np.broadcast_to(x, shapes.result_shape))
    check(lambda x: uf.broadcast_to(x, shapes.result_shape), x)


@covers("concatenate", "stack")
@FAST
@given(data=st.data())
def test_concatenate_and_stack(data):
    shape = list(data.draw(array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3)))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    rng = np.random.default_rng(data.draw(seeds))
    pieces = []
    for _ in range(data.draw(st.integers(1, 3))):
        shape[axis] = data.draw(st.integers(0, 3))  # sizes along `axis` differ, 0 included
        pieces.append(real(rng, tuple(shape)))
    same(uf.concatenate(pieces, axis=axis), np.concatenate(pieces, axis=axis))
    check(lambda *xs: uf.concatenate(list(xs), axis=axis), *pieces)
    twins = [real(rng, tuple(shape)) for _ in range(2)]
    same(uf.stack(twins, axis=axis), np.stack(twins, axis=axis))
    check(lambda a, b: uf.stack([a, b], axis=axis), *twins)


@covers("split")
@pytest.mark.parametrize("shape, sections, axis", [((4, 3), 2, 0), ((2, 6), 3, -1),
                                                   ((2, 5), [1, 3], 1), ((3, 2), [0, 3], 0)])
def test_split(shape, sections, axis):
    x = real(np.random.default_rng(4), shape)
    parts, expected = engine.split(x, sections, axis=axis), np.split(x, sections, axis=axis)
    assert len(parts) == len(expected)
    for p, e in zip(parts, expected, strict=True):
        same(p, e)
    # every piece, weighted differently, reaches back to x
    check(lambda x: uf.sum(uf.stack([uf.sum(p * p) * (k + 1) for k, p in
                                     enumerate(engine.split(x, sections, axis=axis))])), x)


GETITEM = {
    "slices": (slice(1, None), slice(None, None, -2)),
    "int and slice": (-1, slice(0, 2)),
    "ellipsis and None": (Ellipsis, None, 1),
    "gather with repeats": np.array([0, 2, 2, 0, 1, 2]),
    "gather 2-D index": (np.array([[0, 0], [2, 1]]), slice(None)),
    "pairs of indices": (np.array([0, 1, 1]), np.array([3, 3, 0])),
    "boolean mask": "mask",
    "empty gather": np.array([], dtype=int),
}
COVERED.add("getitem")


@pytest.mark.parametrize("name", list(GETITEM))
def test_getitem(name):
    rng = np.random.default_rng(5)
    x = real(rng, (3, 4))
    index = x > 0.3 if isinstance(GETITEM[name], str) else GETITEM[name]
    same(uf.getitem(x, index), x[index])
    check(lambda x: uf.getitem(x, index), x)
    check(lambda x: x[index] * x[index], x)  # Tensor.__getitem__ is the same primitive


@covers("getitem")
def test_gather_with_repeated_indices_accumulates():
    x = np.array([1.0, 2.0, 3.0])
    g = uf.grad(lambda x: uf.sum(uf.getitem(x, np.array([0, 0, 2, 0]))))(x)
    assert_allclose(g, [3.0, 0.0, 1.0])


@covers("pad")
@pytest.mark.parametrize("width", [1, (1, 2), ((1, 0), (0, 2)), ((0, 0), (0, 0))])
def test_pad(width):
    x = real(np.random.default_rng(6), (2, 3))
    same(uf.pad(x, width), np.pad(x, width))
    same(uf.pad(x, width, constant_values=-1.5), np.pad(x, width, constant_values=-1.5))
    check(lambda x: uf.pad(x, width), x)


# ---- softmax family ---------------------------------------------------------------------------
def _np_log_softmax(x, axis):
    z = x - x.max(axis=axis, keepdims=True, initial=-np.inf)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # log(0) over an empty axis, as NumPy
@covers("softmax", "log_softmax")
@FAST
@given(data=st.data())
def test_softmax_and_log_softmax(data):
    shape = data.draw(array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = real(np.random.default_rng(data.draw(seeds)), shape)
    same(uf.log_softmax(x, axis=axis), _np_log_softmax(x, axis))
    same(uf.softmax(x, axis=axis), np.exp(_np_log_softmax(x, axis)))
    check(lambda x: uf.softmax(x, axis=axis), x)
    check(lambda x: uf.log_softmax(x, axis=axis), x)


@covers("softmax_cross_entropy")
@pytest.mark.parametrize("rows, classes", [(3, 4), (1, 1), (0, 3), (2, 1)])
def test_softmax_cross_entropy_integer_labels(rows, classes):
    rng = np.random.default_rng(7)
    z, labels = real(rng, (rows, classes)), rng.integers(0, classes, rows)
    expected = -_np_log_softmax(z, -1)[np.arange(rows), labels]
    same(uf.softmax_cross_entropy(z, labels), expected)
    check(lambda z: uf.softmax_cross_entropy(z, labels), z)
    # the fused primitive and its composed twin agree
    composed = uf.grad(lambda z: uf.sum(-uf.log_softmax(z)[np.arange(rows), labels]))
    fused = uf.grad(lambda z: uf.sum(uf.softmax_cross_entropy(z, labels)))
    assert_allclose(fused(z), composed(z), rtol=1e-12, atol=1e-12)


@covers("softmax_cross_entropy")
def test_softmax_cross_entropy_one_hot_and_probability_labels():
    rng = np.random.default_rng(8)
    z = real(rng, (3, 4))
    one_hot = np.eye(4)[[1, 3, 0]]
    same(uf.softmax_cross_entropy(z, one_hot), uf.softmax_cross_entropy(z, [1, 3, 0]).numpy())
    check(lambda z: uf.softmax_cross_entropy(z, one_hot), z)
    probs = rng.dirichlet(np.ones(4), size=3)
    same(uf.softmax_cross_entropy(z, probs), -(probs * _np_log_softmax(z, -1)).sum(-1))
    check(uf.softmax_cross_entropy, z, probs)  # differentiable in both logits and targets
    unnormalised = probs * 2.5  # targets need not sum to one
    check(uf.softmax_cross_entropy, z, unnormalised)


@covers("softmax_cross_entropy")
def test_softmax_cross_entropy_other_axes():
    rng = np.random.default_rng(9)
    z = real(rng, (4, 3))
    labels = np.array([0, 3, 1])
    same(uf.softmax_cross_entropy(z, labels, axis=0),
         -_np_log_softmax(z, 0)[labels, np.arange(3)])
    check(lambda z: uf.softmax_cross_entropy(z, labels, axis=0), z)
    z3, labels3 = real(rng, (2, 3, 4)), rng.integers(0, 4, (2, 3))
    check(lambda z: uf.softmax_cross_entropy(z, labels3), z3)


@covers("softmax_cross_entropy")
def test_softmax_cross_entropy_is_stable_and_checks_labels():
    z = np.array([[1e30, 0.0], [0.0, -np.inf]], np.float32)
    loss = uf.softmax_cross_entropy(z, [1, 0]).numpy()
    assert loss.dtype == np.float32
    assert_allclose(loss, [1e30, 0.0])
    g = uf.grad(lambda z: uf.sum(uf.softmax_cross_entropy(z, [1, 0])))(z)
    assert np.isfinite(g).all()
    one_hot = np.array([[0.0, 1.0], [1.0, 0.0]])  # 0 log 0 = 0 where a logit is -inf
    assert_allclose(uf.softmax_cross_entropy(z, one_hot).numpy(), [1e30, 0.0])
    with pytest.raises(ValueError, match=r"class indices in \[0, 2\).*from -1 to 1"):
        uf.softmax_cross_entropy(z, [-1, 1])
    with pytest.raises(ValueError, match=r"from 0 to 2"):
        uf.softmax_cross_entropy(z, [0, 2])
    with pytest.raises(ValueError, match=r"shape \(3,\).*logits of shape \(2, 2\)"):
        uf.softmax_cross_entropy(z, [0, 1, 1])


@covers("cast")
def test_cast_keeps_the_gradient_in_the_input_dtype():
    x = np.array([0.5, -1.5], np.float32)
    g = uf.grad(lambda x: uf.sum(uf.cast(x, np.float64) ** 2))(x)
    assert g.dtype == np.float32
    assert_allclose(g, 2 * x)
    assert uf.cast(x, np.float64).dtype == np.float64
    assert uf.cast(x, np.int32).numpy().tolist() == [0, -1]


def test_every_primitive_is_covered():
    assert set(PRIMITIVES) <= COVERED, sorted(set(PRIMITIVES) - COVERED)
