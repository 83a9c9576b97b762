"""Convolution and pooling primitives: forward values against direct loop-based NumPy references
(written here from the definitions, one output position at a time), first AND second derivatives
against central finite differences in float64 (``check_grad(order=2)``), and max pooling's rule
that each gradient goes to exactly one input, the first maximum.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

import unafraid as uf
from unafraid.engine import CONV_PRIMITIVES

COVERED: set[str] = set()


def covers(*names: str):
    COVERED.update(names)
    return lambda test: test


def check(f, *args):
    reports = uf.check_grad(f, *args, order=2)
    assert [r.order for r in reports] == [1, 2]
    assert all(r.error <= 1 for r in reports)


# ---- references: one output position at a time ------------------------------------------------
def same_pads(n, k, s, d):
    """TensorFlow's 'same' rule, per axis: (before, after)."""
    span = (k - 1) * d + 1
    out = -(-n // s)
    total = max((out - 1) * s + span - n, 0)
    return total // 2, total - total // 2


def ref_conv(x, w, strides, padding, dilation, groups=1):
    nd = w.ndim - 2
    ks, (cg, f) = w.shape[:nd], w.shape[nd:]
    if padding == "same":
        pads = [same_pads(x.shape[1 + a], ks[a], strides[a], dilation[a]) for a in range(nd)]
    elif padding == "causal":
        pads = [((ks[0] - 1) * dilation[0], 0)]
    else:
        pads = [(0, 0)] * nd
    xp = np.pad(x, [(0, 0), *pads, (0, 0)])
    span = [(k - 1) * d + 1 for k, d in zip(ks, dilation, strict=True)]
    out = [(xp.shape[1 + a] - span[a]) // strides[a] + 1 for a in range(nd)]
    y = np.zeros((x.shape[0], *out, f))
    fg = f // groups
    for o in np.ndindex(*out):
        for i in np.ndindex(*ks):
            pos = tuple(o[a] * strides[a] + i[a] * dilation[a] for a in range(nd))
            for g in range(groups):
                xs = xp[(slice(None), *pos, slice(g * cg, (g + 1) * cg))]
                y[(slice(None), *o, slice(g * fg, (g + 1) * fg))] += xs @ w[i][:, g * fg:(g + 1) * fg]
    return y


def ref_conv_transpose(x, w, strides, padding, output_padding, dilation):
    """Each input position j scatters x[j] @ w[i].T to output j*s + i*d - pad (Keras's sizes)."""
    nd = w.ndim - 2
    ks = w.shape[:nd]
    size, before = [], []
    for a in range(nd):
        n, k, s, d = x.shape[1 + a], ks[a], strides[a], dilation[a]
        span = (k - 1) * d + 1
        if output_padding is None:
            length = n * s + max(span - s, 0) if padding == "valid" else n * s
        else:
            length = (n - 1) * s + span - 2 * (span // 2 if padding == "same" else 0) + \
                output_padding[a]
        size.append(length)
        before.append(same_pads(length, k, s, d)[0] if padding == "same" else 0)
    full = [size[a] + before[a] + (ks[a] - 1) * dilation[a] + strides[a] for a in range(nd)]
    y = np.zeros((x.shape[0], *full, w.shape[-2]))
    for j in np.ndindex(*x.shape[1:-1]):
        for i in np.ndindex(*ks):
            pos = tuple(j[a] * strides[a] + i[a] * dilation[a] for a in range(nd))
            y[(slice(None), *pos)] += x[(slice(None), *j)] @ w[i].T
    return y[(slice(None), *(slice(b, b + n) for b, n in zip(before, size, strict=True)))]


def ref_pool(x, pool, strides, padding, reduce):
    nd = len(pool)
    if padding == "same":
        pads = [same_pads(x.shape[1 + a], pool[a], strides[a], 1) for a in range(nd)]
    else:
        pads = [(0, 0)] * nd
    xp = np.pad(x, [(0, 0), *pads, (0, 0)], constant_values=np.nan)  # NaN marks padding
    out = [(xp.shape[1 + a] - pool[a]) // strides[a] + 1 for a in range(nd)]
    y = np.zeros((x.shape[0], *out, x.shape[-1]))
    for o in np.ndindex(*out):
        window = xp[(slice(None), *(slice(o[a] * strides[a], o[a] * strides[a] + pool[a])
                                    for a in range(nd)))]
        y[(slice(None), *o)] = reduce(window.reshape(x.shape[0], -1, x.shape[-1]), axis=1)
    return y


def rand(shape, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, shape)


# ---- convolution ------------------------------------------------------------------------------
CONV_CASES = [  # x shape, kernel shape, strides, padding, dilation, groups
    ((2, 5, 4, 3), (3, 3, 3, 2), (1, 1), "valid", (1, 1), 1),
    ((1, 5, 7, 2), (3, 3, 2, 3), (2, 2), "same", (1, 1), 1),  # odd sizes, stride 2
    ((1, 7, 5, 1), (2, 2, 1, 2), (3, 3), "valid", (1, 1), 1),  # stride > kernel, 1 channel
    ((1, 7, 6, 2), (2, 3, 2, 2), (3, 2), "same", (1, 1), 1),  # stride > kernel, same
    ((1, 6, 6, 2), (3, 3, 2, 2), (1, 1), "same", (2, 2), 1),  # dilation
    ((2, 4, 5, 4), (3, 2, 2, 6), (1, 2), "same", (1, 1), 2),  # groups
    ((2, 1, 1, 3), (3, 3, 3, 2), (1, 1), "same", (1, 1), 1),  # size-1 input
    ((1, 1, 1, 1), (1, 1, 1, 1), (1, 1), "valid", (1, 1), 1),  # size 1 everywhere
    ((2, 9, 2), (3, 2, 3), (2,), "same", (1,), 1),  # 1-D
    ((2, 7, 2), (3, 2, 2), (1,), "causal", (2,), 1),  # 1-D causal, dilated
    ((2, 8, 4), (2, 1, 4), (3,), "valid", (1,), 4),  # 1-D depthwise-like, stride > kernel
    ((1, 3, 4, 3, 2), (2, 2, 2, 2, 2), (1, 2, 1), "same", (1, 1, 1), 1),  # 3-D
]


@covers("conv")
@pytest.mark.parametrize("xs, ks, strides, padding, dilation, groups", CONV_CASES)
def test_conv_matches_the_loop_reference_and_finite_differences(xs, ks, strides, padding,
                                                                 dilation, groups):
    x, w = rand(xs, 1), rand(ks, 2)
    y = uf.conv(x, w, strides, padding, dilation, groups)
    assert_allclose(y.numpy(), ref_conv(x, w, strides, padding, dilation, groups), atol=1e-12)
    check(lambda x, w: uf.tanh(uf.conv(x, w, strides, padding, dilation, groups)), x, w)


@pytest.mark.parametrize("groups", [1, 2])
def test_conv_with_a_fused_bias_equals_conv_plus_bias(groups):
    x, w, b = rand((2, 5, 4, 4), 20), rand((3, 3, 4 // groups, 6), 21), rand((6,), 22)
    fused = uf.conv(x, w, 2, "same", groups=groups, bias=b).numpy()
    assert_allclose(fused, ref_conv(x, w, (2, 2), "same", (1, 1), groups) + b, atol=1e-12)
    check(lambda x, w, b: uf.tanh(uf.conv(x, w, 2, "same", groups=groups, bias=b)), x, w, b)
    with pytest.raises(ValueError, match=r"bias of shape \(5,\) does not fit 6 filters"):
        uf.conv(x, w, groups=groups, bias=np.ones(5))


@pytest.mark.parametrize("strides, copies", [(1, False), (2, True)])
def test_a_pointwise_convolution_with_a_bias_reads_its_input_in_place(monkeypatch, strides,
                                                                      copies):
    """A 1x1 kernel at stride 1 needs no patch buffer, with or without a bias (the bias is then
    added to the output); at stride 2 the patches are a copy, with the bias's column of ones."""
    from unafraid.engine import convolution

    x = rand((2, 5, 4, 3), 27).astype(np.float32)
    w, b = rand((1, 1, 3, 4), 28).astype(np.float32), rand((4,), 29).astype(np.float32)
    built = []
    original = convolution.im2col
    monkeypatch.setattr(convolution, "im2col",
                        lambda *a, **k: built.append(original(*a, **k)) or built[-1])
    y = uf.conv(x, w, strides, bias=b).numpy()
    assert np.shares_memory(built[0], x) is not copies
    assert built[0].shape[-1] == 3 + copies  # the ones only where the patches are copied
    assert_allclose(y, ref_conv(x.astype(np.float64), w.astype(np.float64), (strides,) * 2,
                                "valid", (1, 1), 1) + b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("groups, bias", [(1, True), (2, False)])
def test_conv_with_a_fused_relu_gives_the_bits_of_relu_after_conv(groups, bias):
    """``conv(..., relu=True)`` takes the ReLU in the product's own output: the same bits as
    ``relu(conv(...))`` for the value, the first-order gradients and the gradient of an input
    gradient (a WGAN-GP penalty's), float32, with exact zeros among the pre-activations."""
    x = rand((2, 6, 5, 4), 23).astype(np.float32)
    w = rand((3, 3, 4 // groups, 6), 24).astype(np.float32)
    b = rand((6,), 25).astype(np.float32) if bias else None
    x[0, :3] = 0  # pre-activations of exactly 0 (the bias's) sit at the ReLU's kink
    h = rand((2, 6, 5, 4), 26).astype(np.float32)

    def run(fused):
        xt, wt = uf.Variable(x), uf.Variable(w)
        bt = None if b is None else uf.Variable(b)
        weights = [wt] if bt is None else [wt, bt]
        with uf.GradientTape(persistent=True) as outer:
            with uf.GradientTape(persistent=True) as inner:
                if fused:
                    y = uf.conv(xt, wt, 1, "same", groups=groups, bias=bt, relu=True)
                else:
                    y = uf.relu(uf.conv(xt, wt, 1, "same", groups=groups, bias=bt))
                loss = uf.sum(uf.tanh(y) * y)
            gx = inner.gradient(loss, xt)
            penalty = uf.sum(gx * h)
        return [y, gx, *inner.gradient(loss, weights), *outer.gradient(penalty, [xt, *weights])]

    fused, plain = run(True), run(False)
    for a, c in zip(fused, plain, strict=True):
        a, c = np.asarray(a), np.asarray(c)
        assert a.dtype == np.float32 and a.tobytes() == c.tobytes()
    assert (fused[0] == 0).mean() > 0.3
    check(lambda x, w: uf.tanh(uf.conv(x, w, 2, "same", relu=True)) ** 2,
          rand((1, 5, 4, 2), 27), rand((3, 3, 2, 3), 28))


def test_conv_keeps_float32_and_builds_one_patch_buffer(monkeypatch):
    from unafraid.engine import convolution

    x = rand((2, 6, 6, 3)).astype(np.float32)
    w = rand((3, 3, 3, 4)).astype(np.float32)
    y = uf.conv(x, w, padding="same")
    assert y.dtype == np.float32
    copies = []
    original = np.ascontiguousarray

    def counting(a, *args, **kwargs):
        out = original(a, *args, **kwargs)
        copies.append(out.size if out is not a and not np.shares_memory(out, a) else 0)
        return out

    monkeypatch.setattr(convolution.np, "ascontiguousarray", counting)
    uf.conv(x, w, padding="same")
    assert copies == [2 * 36 * 9 * 3]  # batch x positions x kernel volume x channels
    copies.clear()
    uf.conv(x, rand((1, 1, 3, 5)), padding="valid")  # 1x1 kernel: the input is the patch matrix
    assert copies == [0]


@pytest.mark.parametrize("x_needs_grad, bias", [(False, False), (True, False), (True, True)])
def test_a_backward_pass_reuses_the_forward_patch_matrix(monkeypatch, x_needs_grad, bias):
    """The filter gradient reads the patch matrix the forward built (one im2col per call; with
    a bias, the patches without their column of ones), and gives the same bits as a filter
    gradient that builds its own."""
    from unafraid.engine import convolution

    x = uf.Tensor(rand((2, 7, 6, 3), 30).astype(np.float32), requires_grad=x_needs_grad)
    w = uf.Tensor(rand((3, 3, 3, 4), 31).astype(np.float32), requires_grad=True)
    b = uf.Tensor(rand((4,), 33).astype(np.float32), requires_grad=True) if bias else None
    g = rand((2, 4, 3, 4), 32).astype(np.float32)  # stride 2, 'same': (2, 4, 3, 4) outputs
    built = []
    original = convolution.im2col
    monkeypatch.setattr(convolution, "im2col",
                        lambda *a, **k: built.append(k.get("ones", False)) or original(*a, **k))
    y = uf.conv(x, w, strides=2, padding="same", bias=b)
    y.backward(g)
    assert built == [bias]  # a column of ones only for a bias
    assert len(built) == 1  # the forward's; neither the filter nor the input gradient builds one
    win = convolution.conv_window((7, 6), (3, 3), (2, 2), "same", (1, 1))
    plain = convolution.ConvFilterGrad.apply(x.numpy(), g, win=win, groups=1)  # builds its own
    assert len(built) == 2
    assert np.array_equal(w.grad, plain)
    if bias:
        assert_allclose(b.grad, g.astype(np.float64).sum(axis=(0, 1, 2)), rtol=1e-5)
    if x_needs_grad:
        assert np.array_equal(x.grad, convolution.ConvInputGrad.apply(g, w.numpy(), win=win,
                                                                      groups=1))


def test_grad_of_grad_through_the_kept_patch_matrix():
    """d/dx and d/dw of <dL/dw, v>, L = sum(tanh(conv(x, w))): the filter gradient reads the
    forward's patches, and its own VJP runs Conv on x with them; against central differences."""
    x, w, v = rand((2, 6, 5, 2), 33), rand((3, 2, 2, 3), 34), rand((3, 2, 2, 3), 35)

    def gw_dot_v(x, w, create_graph=False):
        xt, wt = uf.Tensor(x, requires_grad=True), uf.Tensor(w, requires_grad=True)
        (gw,) = uf.gradients(uf.sum(uf.tanh(uf.conv(xt, wt, (1, 2), "same"))), [wt],
                             create_graph=create_graph)
        return uf.sum(gw * v), xt, wt

    out, xt, wt = gw_dot_v(x, w, create_graph=True)
    dx, dw = uf.gradients(out, [xt, wt])
    eps = 1e-6
    for analytic, arg in ((dx, 0), (dw, 1)):
        for index in [(1, 1, 0, 1), (0, 5, 4, 0), (0, 2, 3, 1)] if arg == 0 else [(2, 1, 0, 2),
                                                                                  (0, 0, 1, 0)]:
            plus, minus = [x.copy(), w.copy()], [x.copy(), w.copy()]
            plus[arg][index] += eps
            minus[arg][index] -= eps
            numeric = (gw_dot_v(*plus)[0].item() - gw_dot_v(*minus)[0].item()) / (2 * eps)
            assert_allclose(np.asarray(analytic)[index], numeric, rtol=1e-6, atol=1e-8)


@covers("conv_transpose")
@pytest.mark.parametrize("xs, ks, strides, padding, output_padding, dilation", [
    ((2, 3, 4, 3), (3, 3, 2, 3), (1, 1), "valid", None, (1, 1)),
    ((1, 3, 3, 2), (5, 5, 2, 2), (2, 2), "same", None, (1, 1)),  # DCGAN's up-sampling
    ((1, 3, 2, 2), (4, 3, 1, 2), (2, 3), "same", None, (1, 1)),
    ((1, 2, 3, 1), (2, 2, 2, 1), (3, 3), "valid", None, (1, 1)),  # stride > kernel, 1 channel
    ((1, 3, 3, 2), (3, 3, 2, 2), (2, 2), "same", (1, 0), (1, 1)),  # output_padding
    ((1, 3, 3, 2), (3, 3, 2, 2), (2, 2), "valid", (1, 1), (1, 1)),
    ((1, 3, 3, 1), (2, 2, 1, 1), (1, 1), "valid", None, (2, 2)),  # dilation
    ((2, 1, 1, 2), (3, 3, 2, 2), (2, 2), "same", None, (1, 1)),  # size-1 input
    ((2, 4, 2), (3, 3, 2), (2,), "same", None, (1,)),  # 1-D
])
def test_conv_transpose_matches_the_scatter_reference_and_finite_differences(
        xs, ks, strides, padding, output_padding, dilation):
    x, w = rand(xs, 3), rand(ks, 4)
    y = uf.conv_transpose(x, w, strides, padding, output_padding, dilation)
    assert_allclose(y.numpy(), ref_conv_transpose(x, w, strides, padding, output_padding,
                                                  dilation), atol=1e-12)
    check(lambda x, w: uf.tanh(uf.conv_transpose(x, w, strides, padding, output_padding,
                                                 dilation)), x, w)


def test_conv_transpose_is_the_adjoint_of_conv():
    x, w = rand((2, 4, 5, 3), 5), rand((3, 3, 2, 3), 6)  # kernel (k, k, filters=2, channels=3)
    y = uf.conv_transpose(x, w, strides=2, padding="same").numpy()
    z = rand(y.shape, 7)
    lhs = np.sum(y * z)  # <conv_transpose(x), z> = <x, conv(z)> with the same kernel
    rhs = np.sum(x * uf.conv(z, w, strides=2, padding="same").numpy())
    assert_allclose(lhs, rhs, rtol=1e-12)


@covers("depthwise_conv")
@pytest.mark.parametrize("xs, ks, strides, padding", [
    ((2, 5, 4, 3), (3, 3, 3, 2), (1, 1), "same"),
    ((1, 6, 5, 2), (2, 2, 2, 1), (3, 2), "valid"),
])
def test_depthwise_conv(xs, ks, strides, padding):
    x, w = rand(xs, 8), rand(ks, 9)
    c, m = ks[-2:]
    expected = np.concatenate([ref_conv(x[..., ci:ci + 1], w[..., ci:ci + 1, :], strides,
                                        padding, (1, 1)) for ci in range(c)], axis=-1)
    y = uf.depthwise_conv(x, w, strides, padding)
    assert y.shape == (*expected.shape[:-1], c * m)
    assert_allclose(y.numpy(), expected, atol=1e-12)  # channel c * m + j
    check(lambda x, w: uf.tanh(uf.depthwise_conv(x, w, strides, padding)), x, w)


def test_conv_errors_name_the_shapes_and_the_fix():
    with pytest.raises(ValueError, match=r"shape \(2, 5, 5\).*4 axes.*x\[\.\.\., None\]"):
        uf.conv(np.ones((2, 5, 5)), np.ones((3, 3, 1, 2)))
    with pytest.raises(ValueError, match=r"3 channels.*\(3, 3, 2, 4\).*groups=1"):
        uf.conv(np.ones((1, 5, 5, 3)), np.ones((3, 3, 2, 4)))
    with pytest.raises(ValueError, match=r"spatial size \(2, 2\).*padding='same'"):
        uf.conv(np.ones((1, 2, 2, 1)), np.ones((3, 3, 1, 1)))
    with pytest.raises(ValueError, match=r"padding must be one of"):
        uf.conv(np.ones((1, 5, 5, 1)), np.ones((3, 3, 1, 1)), padding="full")
    with pytest.raises(ValueError, match=r"output_padding.*smaller than its stride"):
        uf.conv_transpose(np.ones((1, 3, 3, 1)), np.ones((3, 3, 1, 1)), 2, "same", 2)


# ---- pooling ----------------------------------------------------------------------------------
POOL_CASES = [  # x shape, pool, strides, padding
    ((2, 4, 6, 3), (2, 2), (2, 2), "valid"),
    ((1, 5, 7, 2), (3, 3), (2, 2), "same"),  # odd sizes, overlapping windows
    ((1, 7, 8, 1), (2, 2), (3, 3), "valid"),  # stride > pool, 1 channel
    ((1, 5, 5, 2), (3, 3), (1, 1), "same"),  # every input in nine windows
    ((2, 1, 1, 2), (2, 2), (2, 2), "same"),  # size-1 input
    ((2, 9, 3), (3,), (2,), "valid"),  # 1-D
    ((1, 4, 3, 2, 1), (2, 2, 2), (1, 1, 2), "same"),  # 3-D
]


def distinct(shape, seed):
    """Values whose window maxima are unique (max pooling is smooth there)."""
    x = np.random.default_rng(seed).permutation(math.prod(shape)).reshape(shape)
    return x / x.size - 0.5


@covers("max_pool")
@pytest.mark.parametrize("xs, pool, strides, padding", POOL_CASES)
def test_max_pool_matches_the_loop_reference_and_finite_differences(xs, pool, strides, padding):
    x = distinct(xs, 10)
    y = uf.max_pool(x, pool, strides, padding)
    assert_allclose(y.numpy(), ref_pool(x, pool, strides, padding, np.nanmax), atol=0)
    check(lambda x: uf.tanh(uf.max_pool(x, pool, strides, padding)) ** 2, x)


@covers("avg_pool")
@pytest.mark.parametrize("xs, pool, strides, padding", POOL_CASES)
def test_avg_pool_matches_the_loop_reference_and_finite_differences(xs, pool, strides, padding):
    x = rand(xs, 11)
    y = uf.avg_pool(x, pool, strides, padding)  # 'same' averages over real inputs only
    assert_allclose(y.numpy(), ref_pool(x, pool, strides, padding, np.nanmean), atol=1e-12)
    check(lambda x: uf.tanh(uf.avg_pool(x, pool, strides, padding)) ** 2, x)


@pytest.mark.parametrize("pool, strides", [((2, 2), (2, 2)), ((3, 3), (1, 1)), ((3, 2), (2, 1))])
def test_max_pool_sends_each_gradient_to_the_first_maximum_only(pool, strides):
    rng = np.random.default_rng(12)
    x = rng.integers(0, 2, (2, 7, 6, 2)).astype(np.float64)  # ties everywhere, as MNIST's borders
    g = rng.uniform(1, 2, uf.max_pool(x, pool, strides).shape)
    gx = uf.grad(lambda x: uf.sum(uf.max_pool(x, pool, strides) * g))(x)
    expected = np.zeros_like(x)
    for n, c in itertools.product(range(x.shape[0]), range(x.shape[-1])):
        for o in np.ndindex(*g.shape[1:-1]):
            rows = slice(o[0] * strides[0], o[0] * strides[0] + pool[0])
            cols = slice(o[1] * strides[1], o[1] * strides[1] + pool[1])
            i, j = np.unravel_index(np.argmax(x[n, rows, cols, c]), pool)  # the first maximum
            expected[n, rows.start + i, cols.start + j, c] += g[(n, *o, c)]
    assert_allclose(gx, expected, rtol=1e-12)
    assert_allclose(gx.sum(), g.sum(), rtol=1e-12)  # nothing counted twice


def test_pool_keeps_float32_and_explains_misuse():
    x = rand((2, 6, 6, 3)).astype(np.float32)
    assert uf.max_pool(x, 2).dtype == np.float32
    assert uf.avg_pool(x, 2, padding="same").dtype == np.float32
    with pytest.raises(ValueError, match=r"spatial size \(1, 1\).*padding='same'"):
        uf.max_pool(np.ones((1, 1, 1, 1)), 2)
    with pytest.raises(ValueError, match=r"padding must be one of \('valid', 'same'\)"):
        uf.avg_pool(np.ones((1, 4, 1)), 2, padding="causal")


def test_every_conv_primitive_is_covered():
    assert set(CONV_PRIMITIVES) <= COVERED, sorted(set(CONV_PRIMITIVES) - COVERED)



WINNER_CASES = [  # x shape, pool, strides, padding
    ((3, 26, 26, 4), (2, 2), (2, 2), "valid"),  # the MNIST convnet's first pooling
    ((3, 11, 11, 5), (2, 2), (2, 2), "valid"),  # its second: the last row and column unread
    ((2, 5, 7, 3), (2, 2), (2, 2), "same"),  # padding after only
    ((2, 9, 7, 3), (3, 2), (3, 2), "same"),
    ((2, 7, 6, 2), (3, 3), (1, 1), "same"),  # overlapping windows
    ((2, 8, 7, 2), (2, 2), (3, 3), "valid"),  # gaps between windows
    ((2, 9, 2), (3,), (3,), "valid"),  # 1-D
    ((1, 4, 5, 6, 2), (2, 2, 3), (2, 2, 3), "valid"),  # 3-D
]


def first_maximum_reference(x, g, h, pool, strides, padding):
    """One window at a time: the input gradient (``g`` sent to the first maximum of each window,
    or to its first input when the maximum is NaN) and ``Pick(h)``, ``h`` at each winner."""
    nd = len(pool)
    pads = ([same_pads(x.shape[1 + a], pool[a], strides[a], 1) for a in range(nd)]
            if padding == "same" else [(0, 0)] * nd)
    xp = np.pad(x, [(0, 0), *pads, (0, 0)], constant_values=-np.inf)
    hp = np.pad(h, [(0, 0), *pads, (0, 0)])
    gx = np.zeros(xp.shape, x.dtype)
    picked = np.zeros(g.shape, x.dtype)
    for n, c in itertools.product(range(x.shape[0]), range(x.shape[-1])):
        for o in np.ndindex(*g.shape[1:-1]):
            where = tuple(slice(o[a] * strides[a], o[a] * strides[a] + pool[a]) for a in range(nd))
            window = xp[(n, *where, c)].ravel()
            hits = np.flatnonzero(window == np.max(window))  # np.max: NaN if any is NaN
            i = np.unravel_index(hits[0] if len(hits) else 0, pool)
            pos = (n, *(o[a] * strides[a] + i[a] for a in range(nd)), c)
            gx[pos] += g[(n, *o, c)]
            picked[(n, *o, c)] = hp[pos]
    inner = tuple(slice(b, b + m) for (b, _), m in zip(pads, x.shape[1:-1], strict=True))
    return gx[(slice(None), *inner)], picked


@pytest.mark.parametrize("xs, pool, strides, padding", WINNER_CASES)
def test_max_pool_winners_with_ties_infinities_and_nans(xs, pool, strides, padding):
    """The first-maximum rule on ReLU-like inputs (ties of 0, 1 and 2 everywhere) with signed zeros,
    infinities and NaNs, to first order (the input gradient) and second order (``Pick``, the
    gradient of that gradient with respect to the output gradient), float32 kept."""
    rng = np.random.default_rng(13)
    x = np.maximum(rng.integers(-2, 3, xs), 0).astype(np.float32)
    x.flat[rng.choice(x.size, 6, replace=False)] = [-0.0, np.inf, -np.inf, np.nan, 0.5, np.nan]
    g = rng.uniform(1, 2, uf.max_pool(x, pool, strides, padding).shape).astype(np.float32)
    h = rng.standard_normal(xs).astype(np.float32)
    xt, gt = uf.Variable(x), uf.Variable(g)
    with uf.GradientTape() as outer:
        with uf.GradientTape() as inner:
            y = uf.max_pool(xt, pool, strides, padding)
        gx = inner.gradient(y, xt, output_gradients=gt)
        second = uf.sum(gx * h)
    picked = outer.gradient(second, gt)
    want_gx, want_picked = first_maximum_reference(x, g, h, pool, strides, padding)
    assert gx.dtype == np.float32 and picked.dtype == np.float32
    assert_allclose(np.asarray(gx), want_gx, rtol=1e-6, atol=0)  # overlaps: sums in another order
    np.testing.assert_array_equal(np.asarray(picked), want_picked)
    assert np.isnan(np.asarray(y)).any()  # a NaN reached a window


def test_max_pool_winners_are_one_boolean_block_per_offset():
    from unafraid.engine.convolution import conv_window, first_winners

    x = np.array([[1, 1, 0, 2], [1, 0, 2, 2], [np.nan, 3, 0, 0], [3, 3, 0, 0]], np.float32)
    x = x[None, :, :, None]
    win = conv_window((4, 4), (2, 2), (2, 2), "valid", (1, 1))
    won = first_winners(x, uf.max_pool(x, 2).numpy(), win)
    assert won.dtype == np.bool_ and won.shape == (4, 1, 2, 2, 1)
    # window (0, 0): ties of 1, the first (row-major) wins; (0, 1): the first 2, offset 1;
    # (1, 0): a NaN maximum, so offset 0; (1, 1): all zeros, offset 0
    expected = np.zeros((4, 2, 2), bool)
    expected[0, 0, 0] = expected[1, 0, 1] = expected[0, 1, 0] = expected[0, 1, 1] = True
    assert np.array_equal(won[:, 0, :, :, 0], expected)


@pytest.mark.parametrize("xs, ks, strides, padding, dilation, groups", [
    ((3, 28, 28, 1), (3, 3), (1, 1), "valid", (1, 1), 1),  # MNIST's first layer
    ((2, 7, 6, 3), (3, 2), (2, 1), "same", (1, 2), 3),  # depthwise: one channel per group
    ((2, 9, 1), (4,), (3,), "causal", (1,), 1),  # 1-D
])
def test_patch_matrix_of_one_channel_per_group_is_the_strided_view_copied(xs, ks, strides, padding,
                                                                          dilation, groups):
    """With one channel per group the patch matrix is filled one kernel offset at a time; it
    holds the same bits as the strided view of the padded input, copied whole."""
    from unafraid.engine.convolution import conv_window, im2col, patches, to_padded

    x = rand(xs, 40).astype(np.float32)
    win = conv_window(xs[1:-1], ks, strides, padding, dilation)
    xp = to_padded(x, win)
    view = np.moveaxis(patches(xp.reshape(*xp.shape[:-1], groups, -1), win), -2, 0)
    expected = np.ascontiguousarray(view).reshape(groups, -1, math.prod(ks))
    cols = im2col(x, win, groups)
    assert cols.dtype == np.float32 and cols.shape == expected.shape
    assert cols.tobytes() == expected.tobytes()


def test_conv_input_gradient_holds_one_kernel_offsets_block_at_a_time():
    """The input gradient computes and adds back one kernel offset's product at a time: its
    largest moment holds the result and one offset's block, far less than a patch buffer."""
    import tracemalloc

    from unafraid.engine.convolution import ConvInputGrad, conv_window

    g = rand((8, 11, 11, 64), 41).astype(np.float32)
    w = rand((3, 3, 32, 64), 42).astype(np.float32)
    win = conv_window((13, 13), (3, 3), (1, 1), "valid", (1, 1))
    patch_buffer = 8 * 121 * 9 * 32 * 4  # batch x positions x kernel volume x channels, bytes
    ConvInputGrad.apply(g, w, win=win, groups=1)  # once before: the BLAS thread controls load
    tracemalloc.start()
    try:
        gx = ConvInputGrad.apply(g, w, win=win, groups=1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert gx.shape == (8, 13, 13, 32) and gx.dtype == np.float32
    assert peak < gx.nbytes + 2 * patch_buffer / 9 < patch_buffer / 2
    assert_allclose(gx, ref_conv_transpose(g.astype(np.float64), w.astype(np.float64), (1, 1),
                                           "valid", None, (1, 1)), rtol=1e-4, atol=1e-4)


