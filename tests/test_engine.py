"""The autodiff engine as a whole: graph shapes (diamonds, deep chains), higher derivatives
against closed forms and finite differences, the engineering promises (freed graphs, dtypes,
in-place checks, error messages, transforms), ``check_grad`` itself, and ``explain``."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

import unafraid as uf
from unafraid.engine import PRIMITIVES, Function, GradCheckError, ops

rng = np.random.default_rng(20240601)


# ---- graph shapes -------------------------------------------------------------------------------
def test_diamond_accumulates_both_paths():
    # a = tanh(x) feeds two branches that meet again: y = a * a + 3 a
    x = np.array([0.3, -1.2, 2.0])
    g = uf.grad(lambda x: uf.sum((lambda a: a * a + 3 * a)(uf.tanh(x))))(x)
    a = np.tanh(x)
    assert_allclose(g, (2 * a + 3) * (1 - a**2), rtol=1e-14)


def test_value_used_twice_in_one_op_and_across_backward():
    x = uf.Tensor(np.array([1.5, -2.0]), requires_grad=True)
    y = x * x + x  # x reaches the output three times
    y.backward(np.ones(2))
    assert_allclose(x.grad, 2 * x.numpy() + 1)


def test_hundred_thousand_deep_chain():
    x0 = uf.Tensor(np.array(1.0), requires_grad=True)
    x = x0
    for _ in range(100_000):
        x = x * 1.0000001
    x.backward()  # iterative: no RecursionError
    expected = 1.0000001**100_000  # = exp(0.01) to 7 digits
    assert x.item() == pytest.approx(expected, rel=1e-9)
    assert x.item() == pytest.approx(math.exp(100_000 * math.log1p(1e-7)), rel=1e-9)
    assert x0.grad == pytest.approx(expected, rel=1e-9)


# ---- higher derivatives -----------------------------------------------------------------------
def second_derivative(f, x):
    """d2/dx2 of an elementwise f, by grad of grad."""
    return uf.grad(lambda x: uf.sum(uf.grad(lambda x: uf.sum(f(x)))(x)))(x)


def test_grad_of_grad_closed_forms():
    x = np.array([-2.5, -0.4, 0.0, 0.9, 3.0])
    t = np.tanh(x)
    s = 1 / (1 + np.exp(-x))
    assert_allclose(second_derivative(uf.tanh, x), -2 * t * (1 - t**2), rtol=1e-12, atol=1e-15)
    assert_allclose(second_derivative(uf.sigmoid, x), s * (1 - s) * (1 - 2 * s), rtol=1e-12,
                    atol=1e-15)
    assert_allclose(uf.grad(lambda x: uf.sum(uf.softplus(x)))(x), s, rtol=1e-14)
    assert_allclose(second_derivative(uf.softplus, x), s * (1 - s), rtol=1e-12)


def test_grad_of_grad_of_log_softmax():
    # f(x) = <w, log_softmax(x)>:  grad = w - p sum(w),  Hessian = -sum(w) (diag(p) - p p^T)
    x, w, u = rng.standard_normal(5), rng.standard_normal(5), rng.standard_normal(5)
    p = np.exp(x) / np.exp(x).sum()
    f = lambda x: uf.sum(uf.log_softmax(x) * w)  # noqa: E731
    assert_allclose(uf.grad(f)(x), w - p * w.sum(), rtol=1e-13)
    hvp = uf.grad(lambda x: uf.sum(uf.grad(f)(x) * u))(x)
    assert_allclose(hvp, -w.sum() * (p * u - p * (p @ u)), rtol=1e-12)


def test_gradient_of_a_linear_function_has_zero_derivative():
    x = np.array([1.0, 2.0])
    assert_allclose(second_derivative(lambda x: 3 * x + 1, x), [0.0, 0.0])


def _mlp_params(n_in=3, n_hidden=4, n_out=3):
    return {"w1": rng.standard_normal((n_in, n_hidden)), "b1": rng.standard_normal(n_hidden),
            "w2": rng.standard_normal((n_hidden, n_out)), "b2": rng.standard_normal(n_out)}


def test_hessian_vector_product_of_a_small_mlp():
    x, labels = rng.standard_normal((5, 3)), np.array([0, 2, 1, 1, 0])
    params, v = _mlp_params(), _mlp_params()

    def loss(p):
        h = uf.tanh(uf.linear(x, p["w1"], p["b1"]))
        return uf.mean(uf.softmax_cross_entropy(uf.linear(h, p["w2"], p["b2"]), labels))

    hvp = uf.grad(lambda p: sum(uf.sum(g * v[k]) for k, g in uf.grad(loss)(p).items()))(params)
    eps = 1e-5  # central differences of the gradient along v
    plus = uf.grad(loss)({k: params[k] + eps * v[k] for k in params})
    minus = uf.grad(loss)({k: params[k] - eps * v[k] for k in params})
    for k in params:
        assert_allclose(hvp[k], (plus[k] - minus[k]) / (2 * eps), rtol=1e-6, atol=1e-9)


def test_wgan_gp_penalty_gradient_with_respect_to_critic_weights():
    x_hat = rng.standard_normal((6, 3))
    params = _mlp_params(n_out=1)

    def critic(x, p):
        return uf.linear(uf.tanh(uf.linear(x, p["w1"], p["b1"])), p["w2"], p["b2"])

    def penalty(p):  # mean over rows of (||d critic / d x_hat||_2 - 1)^2
        g = uf.grad(lambda xh: uf.sum(critic(xh, p)))(x_hat)  # rows are independent
        return uf.mean((uf.sqrt(uf.sum(g * g, axis=1)) - 1) ** 2)

    value, grads = uf.value_and_grad(penalty)(params)
    assert value.shape == () and float(value) > 0
    assert set(grads) == set(params) and all(type(g) is np.ndarray for g in grads.values())
    assert_allclose(grads["b2"], 0.0)  # the critic's slope does not depend on its output bias
    eps = 1e-6
    for k in params:
        for idx in np.ndindex(params[k].shape):
            up = {n: a.copy() for n, a in params.items()}
            down = {n: a.copy() for n, a in params.items()}
            up[k][idx] += eps
            down[k][idx] -= eps
            numeric = (penalty(up).item() - penalty(down).item()) / (2 * eps)
            assert grads[k][idx] == pytest.approx(numeric, rel=1e-6, abs=1e-9), (k, idx)


# ---- engineering properties -------------------------------------------------------------------
def test_graph_is_freed_after_backward_unless_retained():
    x = uf.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = uf.sum(uf.exp(x))
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()
    z = uf.sum(uf.exp(x))
    x.grad = None
    z.backward(retain_graph=True)
    z.backward()
    assert_allclose(x.grad, 2 * np.exp([1.0, 2.0]))


def test_grad_accumulates_across_two_backward_calls():
    w = uf.Variable(np.array([0.5, -1.0]), name="w")
    for _ in range(2):
        uf.sum(w * w * 3).backward()
    assert_allclose(w.grad, 2 * 6 * w.numpy())


FLOAT32_CALLS = {  # every primitive, called on float32 data
    "add": lambda a, b, p, i: uf.add(a, b), "subtract": lambda a, b, p, i: uf.subtract(a, b),
    "multiply": lambda a, b, p, i: uf.multiply(a, b), "divide": lambda a, b, p, i: uf.divide(a, p),
    "negative": lambda a, b, p, i: uf.negative(a), "power": lambda a, b, p, i: uf.power(p, b),
    "exp": lambda a, b, p, i: uf.exp(a), "log": lambda a, b, p, i: uf.log(p),
    "log1p": lambda a, b, p, i: uf.log1p(p), "expm1": lambda a, b, p, i: uf.expm1(a),
    "sqrt": lambda a, b, p, i: uf.sqrt(p), "abs": lambda a, b, p, i: uf.abs(a),
    "sign": lambda a, b, p, i: uf.sign(a), "tanh": lambda a, b, p, i: uf.tanh(a),
    "sigmoid": lambda a, b, p, i: uf.sigmoid(a), "relu": lambda a, b, p, i: uf.relu(a),
    "leaky_relu": lambda a, b, p, i: uf.leaky_relu(a), "elu": lambda a, b, p, i: uf.elu(a),
    "softplus": lambda a, b, p, i: uf.softplus(a),
    "gelu": lambda a, b, p, i: uf.gelu(a) + uf.gelu(a, approximate=True),
    "maximum": lambda a, b, p, i: uf.maximum(a, b), "minimum": lambda a, b, p, i: uf.minimum(a, b),
    "where": lambda a, b, p, i: uf.where(a > 0, a, b), "clip": lambda a, b, p, i: uf.clip(a, -1, 1),
    "matmul": lambda a, b, p, i: uf.matmul(a, b.T),
    "linear": lambda a, b, p, i: uf.linear(a, b.T, b[0]),
    "sum": lambda a, b, p, i: uf.sum(a, axis=0), "mean": lambda a, b, p, i: uf.mean(a),
    "max": lambda a, b, p, i: uf.max(a, axis=1), "min": lambda a, b, p, i: uf.min(a),
    "var": lambda a, b, p, i: uf.var(a, axis=0), "std": lambda a, b, p, i: uf.std(a),
    "logsumexp": lambda a, b, p, i: uf.logsumexp(a, axis=1),
    "reshape": lambda a, b, p, i: uf.reshape(a, (-1,)),
    "transpose": lambda a, b, p, i: uf.transpose(a),
    "swapaxes": lambda a, b, p, i: uf.swapaxes(a, 0, 1),
    "expand_dims": lambda a, b, p, i: uf.expand_dims(a, 0),
    "squeeze": lambda a, b, p, i: uf.squeeze(a[:1]),
    "broadcast_to": lambda a, b, p, i: uf.broadcast_to(a, (2, 3, 3)),
    "concatenate": lambda a, b, p, i: uf.concatenate([a, b]),
    "stack": lambda a, b, p, i: uf.stack([a, b]), "split": lambda a, b, p, i: uf.split(a, 3)[1],
    "getitem": lambda a, b, p, i: a[i] + a[a > 0].sum() + a[1:, ::2].sum(),
    "pad": lambda a, b, p, i: uf.pad(a, 1), "softmax": lambda a, b, p, i: uf.softmax(a),
    "log_softmax": lambda a, b, p, i: uf.log_softmax(a), "lgamma": lambda a, b, p, i: uf.lgamma(p),
    "digamma": lambda a, b, p, i: uf.digamma(p), "polygamma": lambda a, b, p, i: uf.polygamma(2, p),
    "softmax_cross_entropy": lambda a, b, p, i: uf.softmax_cross_entropy(a, i)
    + uf.softmax_cross_entropy(a, np.eye(3)[i]),
    "cast": lambda a, b, p, i: uf.cast(uf.cast(a, np.float64), np.float32),
}


@pytest.mark.parametrize("name", PRIMITIVES)
def test_float32_stays_float32(name):
    a = uf.Tensor(rng.standard_normal((3, 3)).astype(np.float32), requires_grad=True)
    b = uf.Tensor(rng.standard_normal((3, 3)).astype(np.float32), requires_grad=True)
    p = uf.Tensor(rng.uniform(0.5, 2, (3, 3)).astype(np.float32), requires_grad=True)
    out = FLOAT32_CALLS[name](a, b, p, np.array([0, 2, 1]))
    assert out.dtype == np.float32
    uf.sum(out * out).backward()
    for t in (a, b, p):
        assert t.grad is None or t.grad.dtype == np.float32


def test_python_and_numpy_scalars_do_not_upcast():
    t = uf.Tensor(np.ones(3, np.float32))
    for out in (t / 255.0, t * 2, 2 ** t, t**2, 1 - t, 0.5 + t, t * np.float64(2.0),
                np.sqrt(2.0) * t, t / np.float64(3.0), uf.exp(t) * 1e-3):
        assert out.dtype == np.float32
    assert (uf.Tensor(np.arange(4, dtype=np.uint8)) / 255.0).dtype == np.float32
    assert uf.divide(np.arange(4, dtype=np.uint8), 255.0).dtype == np.float32
    assert (uf.Tensor(np.arange(4)) / 2).dtype == np.float32  # int / int: float32 too
    assert (uf.Tensor(np.ones(2)) * 2.0).dtype == np.float64  # float64 data stays float64
    for out in (uf.softmax([1, 2, 3]), uf.log_softmax([1, 2]), uf.logsumexp([1, 2]),
                uf.softmax_cross_entropy([[1, 2, 3]], [2])):  # integer data
        assert out.dtype == np.float32


def test_gradient_keeps_the_leaf_dtype_when_an_array_upcasts():
    x = np.array([1.0, 2.0], np.float32)
    g = uf.grad(lambda x: uf.sum(x * np.array([0.5, 4.0])))(x)  # float64 constant
    assert g.dtype == np.float32
    assert_allclose(g, [0.5, 4.0])


def test_in_place_change_after_use_is_caught_before_backward():
    t = uf.Tensor(np.array([1.0, 2.0]), requires_grad=True, name="t")
    loss = uf.sum(t * t)
    t[0] = 5
    with pytest.raises(RuntimeError, match="tensor 't' was modified in place after multiply"):
        loss.backward()
    x = uf.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * 3
    z = uf.sum(y * y)
    y[0] = 5.0
    with pytest.raises(RuntimeError, match="modified in place after multiply used it"):
        z.backward()
    w = uf.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    e = uf.exp(w)
    e[1] = 0.0  # exp saved its output for backward
    with pytest.raises(RuntimeError, match="modified in place after exp made it"):
        uf.sum(e).backward()


def test_edits_before_recording_or_to_other_tensors_do_not_stop_backward():
    t = uf.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    t[0] = 3.0  # edited before it is used: the recorded product sees the new value
    loss = uf.sum(t * t)
    other = uf.Tensor(np.zeros(2))
    other[1] = 7.0  # an edit after recording, but to a tensor the graph does not hold
    loss.backward()
    assert_allclose(t.grad, [6.0, 4.0])  # d/dt sum(t^2) = 2t at t = (3, 2)
    w = uf.Variable(np.array([1.0, -1.0]), name="w")
    w.assign([2.0, 2.0])  # replaced before recording: fine
    g = uf.grad(lambda v: uf.sum(v * w))(np.array([1.0, 1.0]))
    assert_allclose(g, [2.0, 2.0])
    step = uf.sum(w * w)
    w.assign([0.0, 0.0])  # replaced after recording: refused, naming the variable
    with pytest.raises(RuntimeError, match="tensor 'w' was modified in place after multiply"):
        step.backward()


def test_shape_mismatch_errors_name_the_op_and_both_shapes():
    a, b = np.ones((3, 4)), np.ones((5,))
    with pytest.raises(ValueError, match=r"add: shapes \(3, 4\) and \(5,\)"):
        uf.add(a, b)
    with pytest.raises(ValueError, match=r"multiply: shapes \(3, 4\) and \(5,\)"):
        uf.Tensor(a) * b
    with pytest.raises(ValueError, match=r"matmul: shapes \(3, 4\) and \(5, 2\)"):
        uf.matmul(a, np.ones((5, 2)))
    with pytest.raises(ValueError, match=r"linear: inputs have 4 features.*\(5, 2\)"):
        uf.linear(a, np.ones((5, 2)))
    with pytest.raises(ValueError, match=r"where: shapes \(3,\) and \(2,\) and \(4,\)"):
        uf.where(np.ones(3, bool), np.ones(2), np.ones(4))
    with pytest.raises(ValueError, match=r"reshape: cannot reshape .* \(3, 4\) .* \(5,\)"):
        uf.reshape(a, (5,))


def test_grad_of_a_non_scalar_output_says_so():
    with pytest.raises(ValueError, match=r"scalar output; got shape \(3,\)"):
        uf.grad(lambda x: x * 2)(np.ones(3))
    with pytest.raises(ValueError, match=r"non-scalar output of shape \(3,\)"):
        (uf.Tensor(np.ones(3), requires_grad=True) * 2).backward()


def test_differentiating_integer_data_names_the_argument():
    f = uf.grad(lambda x, n: uf.sum(x * n), argnums=1)
    with pytest.raises(TypeError, match="argument 1: it holds int64"):
        f(np.ones(3), np.arange(3))
    with pytest.raises(TypeError, match="argument 1: it holds int64"):
        f(np.ones(3), uf.Tensor(np.arange(3)))
    with pytest.raises(TypeError, match="argument 0, leaf 1: it holds int"):
        uf.grad(lambda p: uf.sum(p[0]))([np.ones(2), np.arange(2)])


def test_comparisons_give_plain_boolean_arrays():
    t, u = uf.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True), uf.Tensor([2.0, 2.0, 2.0])
    for out, expected in [(t < 2, [1, 0, 0]), (t <= 2, [1, 1, 0]), (t > u, [0, 0, 1]),
                          (t >= u, [0, 1, 1]), (t == u, [0, 1, 0]), (t != 2.0, [1, 0, 1])]:
        assert type(out) is np.ndarray and out.dtype == bool
        assert out.tolist() == [bool(e) for e in expected]


def test_no_grad_records_nothing():
    w = uf.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    with uf.no_grad():
        y = w * 2
        assert not uf.is_grad_enabled()
        with uf.enable_grad():
            z = w * 2
    assert uf.is_grad_enabled()
    assert not y.requires_grad and y._ctx is None
    assert z.requires_grad
    assert_allclose(uf.grad(lambda w: uf.sum(w * w))(w.numpy()), [2.0, 4.0])


def test_nested_params_give_grads_in_the_same_structure():
    params = {"dense": {"kernel": np.ones((2, 2)), "bias": np.zeros(2)},
              "extra": [np.full(2, 3.0), (np.array(0.5),)]}

    def loss(p):
        h = uf.linear(np.array([[1.0, 2.0]]), p["dense"]["kernel"], p["dense"]["bias"])
        return uf.sum(h * p["extra"][0]) + p["extra"][1][0] * 4

    g = uf.grad(loss)(params)
    assert set(g) == {"dense", "extra"} and set(g["dense"]) == {"kernel", "bias"}
    assert isinstance(g["extra"], list) and isinstance(g["extra"][1], tuple)
    for leaf in (g["dense"]["kernel"], g["dense"]["bias"], g["extra"][0], g["extra"][1][0]):
        assert type(leaf) is np.ndarray
    assert_allclose(g["dense"]["kernel"], [[3.0, 3.0], [6.0, 6.0]])
    assert_allclose(g["dense"]["bias"], [3.0, 3.0])
    assert_allclose(g["extra"][0], [3.0, 3.0])
    assert g["extra"][1][0] == 4.0


def test_has_aux_and_argnums_tuple():
    def f(x, y, scale):
        loss = uf.sum(x * y) * scale
        return loss, {"note": "aux passes through", "scale": scale}

    (value, aux), (gx, gy) = uf.value_and_grad(f, argnums=(0, 1), has_aux=True)(
        np.array([1.0, 2.0]), np.array([3.0, 4.0]), 2.0)
    assert value == pytest.approx(22.0)
    assert aux == {"note": "aux passes through", "scale": 2.0}
    assert_allclose(gx, [6.0, 8.0])
    assert_allclose(gy, [2.0, 4.0])
    g, aux = uf.grad(f, argnums=1, has_aux=True)(np.array([1.0, 2.0]), np.array([3.0, 4.0]), 1.0)
    assert_allclose(g, [1.0, 2.0])
    assert_allclose(uf.grad(lambda x, y: uf.sum(y), argnums=0)(np.ones(2), np.ones(2)), [0, 0])


def test_handed_out_gradients_are_not_shared():
    a = uf.Tensor(np.ones(3), requires_grad=True)
    b = uf.Tensor(np.ones(3), requires_grad=True)
    upstream = np.full(3, 2.0)
    (a + b).backward(upstream)  # add's VJP hands g itself to both inputs
    a.grad *= 10
    assert_allclose(b.grad, [2.0, 2.0, 2.0])
    assert_allclose(upstream, [2.0, 2.0, 2.0])


def test_operators_with_numpy_arrays_on_the_left_return_tensors():
    t = uf.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    for out in (np.ones(2) * t, np.ones(2) + t, np.ones(2) - t, np.ones(2) / t,
                np.ones((2, 2)) @ t):
        assert isinstance(out, uf.Tensor) and out.requires_grad


# ---- check_grad can fail ----------------------------------------------------------------------
class WrongSquare(Function):
    """x^2 whose VJP forgets the factor 2."""

    name = "wrong_square"

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return x * x

    @staticmethod
    def vjp(ctx, g, x):
        return (ops.multiply(g, x),)


class FlatSquare(Function):
    """x^2 whose VJP is right but written in raw NumPy: its second derivative comes out 0."""

    name = "flat_square"

    @staticmethod
    def forward(ctx, x):
        ctx.save(x)
        return x * x

    @staticmethod
    def vjp(ctx, g, x):
        return (ops.multiply(g, 2 * np.asarray(x)),)


def test_check_grad_catches_a_wrong_first_derivative():
    x = np.array([1.5, -0.5])
    with pytest.raises(GradCheckError) as info:
        uf.check_grad(lambda x: uf.sum(WrongSquare.apply(x)), x)
    message = str(info.value)
    assert "gradient entry: argument 0, index (0,)" in message
    assert "analytic 1.5," in message and "numeric 3 " in message
    with pytest.raises(GradCheckError, match="argument 1, index"):
        uf.check_grad(lambda a, b: uf.sum(a * WrongSquare.apply(b)), np.ones(2), x)


def test_check_grad_catches_a_wrong_second_derivative():
    x = np.array([1.5, -0.5])
    reports = uf.check_grad(lambda x: uf.sum(FlatSquare.apply(x)), x, order=1)
    assert reports[0].error <= 1  # first derivatives are right...
    with pytest.raises(GradCheckError, match=r"second derivative .*argument 0, index \(\d,\)"):
        uf.check_grad(lambda x: uf.sum(FlatSquare.apply(x)), x, order=2)  # ...second are not
    reports = uf.check_grad(lambda x: uf.sum(x * x * x), x, order=2)
    assert [r.order for r in reports] == [1, 2] and max(r.error for r in reports) <= 1


def test_check_grad_report_holds_the_worst_entry():
    report = uf.check_grad(lambda x: uf.sum(uf.exp(x)), np.array([0.0, 1.0]))[0]
    assert report.order == 1 and report.argument == 0 and report.index in {(0,), (1,)}
    assert report.analytic == pytest.approx(math.exp(report.index[0]), rel=1e-9)
    assert report.numeric == pytest.approx(report.analytic, rel=1e-8)


# ---- explain ----------------------------------------------------------------------------------
def test_explain_on_the_seed_mlp():
    r = np.random.default_rng(0)
    x = r.standard_normal((32, 784)).astype(np.float32)
    labels = r.integers(0, 10, 32)
    weights = {
        "dense/kernel": uf.Variable(r.standard_normal((784, 512)).astype(np.float32) * 0.05,
                                    name="dense/kernel"),
        "dense/bias": uf.Variable(np.zeros(512, np.float32), name="dense/bias"),
        "dense_1/kernel": uf.Variable(r.standard_normal((512, 10)).astype(np.float32) * 0.05,
                                      name="dense_1/kernel"),
        "dense_1/bias": uf.Variable(np.zeros(10, np.float32), name="dense_1/bias"),
    }

    def loss(x):
        h = uf.relu(uf.linear(x, weights["dense/kernel"], weights["dense/bias"]))
        logits = uf.linear(h, weights["dense_1/kernel"], weights["dense_1/bias"])
        return uf.mean(uf.softmax_cross_entropy(logits, labels))

    out = io.StringIO()
    grads = uf.explain(loss, x, file=out)
    text = out.getvalue()
    lines = text.splitlines()
    assert 10 <= len(lines) <= 48  # a few dozen plain lines
    assert all(len(line) < 120 and line.isascii() for line in lines)
    backward = text[text.index("Backward"):]
    # the ops, in reverse order, with their shapes
    order = ["mean", "softmax_cross_entropy", "linear", "relu", "linear"]
    positions = [backward.index(f" {name} ", backward.index(f"#{5 - k} ")) for k, name in
                 enumerate(order)]
    assert positions == sorted(positions)
    for shape in ["(32, 784)", "(784, 512)", "(512,)", "(32, 512)", "(512, 10)", "(32, 10)"]:
        assert shape in text
    # which saved values are reused
    assert "relu" in text and "reuses its output (32, 512)" in text
    assert "reuses input 'arg0' (32, 784), input 'dense/kernel' (784, 512)" in text
    assert "no forward values" in text  # mean needs only a shape and a count
    # the same gradients as value_and_grad
    _, expected = uf.value_and_grad(lambda w: loss(x))(weights)
    for name in weights:
        assert_allclose(grads[name], expected[name], rtol=1e-6, atol=1e-7)
    assert grads["arg0"].shape == (32, 784)


def test_explain_rejects_a_non_scalar_result():
    with pytest.raises(ValueError, match="scalar"):
        uf.explain(lambda x: x * 2, np.ones(3), file=io.StringIO())


def _code_lines(path) -> int:
    """Lines holding code: not blank, not comments, not docstrings."""
    import ast
    import tokenize

    source = path.read_text()
    docstrings = set()
    for node in ast.walk(ast.parse(source)):
        body = getattr(node, "body", None)
        if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
            docstrings.update(range(body[0].lineno, body[0].end_lineno + 1))
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENDMARKER}
    lines = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type not in skip:
            lines.update(n for n in range(tok.start[0], tok.end[0] + 1) if n not in docstrings)
    return len(lines)


def test_engine_core_is_readable_in_one_sitting():
    """Tensor, the backward loop and the transforms (not the catalogue of primitives) stay
    within 450 lines of code: the engine that runs is the one a reader can follow. (400 until
    the compiled step added its two hooks, ``Function.run`` and ``recording_runs``, and the
    public ``gradients``; the recorder itself lives apart, in record.py.)"""
    from pathlib import Path

    core = Path(uf.engine.__file__).parent
    counts = {name: _code_lines(core / name) for name in ("tensor.py", "transforms.py",
                                                          "methods.py")}
    assert sum(counts.values()) <= 450, counts
    assert _code_lines(Path(__file__).parent / "test_engine.py") > 100  # the counter counts


@pytest.mark.parametrize("g, shape", [
    (np.asarray(np.float32(0.25)), ()), (np.asarray(np.float32(0.25)), (0,)),
    (np.asarray(np.float32(0.25)), (5,)), (np.asarray(np.float32(0.25)), (3, 2)),
    (np.float64(-3.5), (4,)), (np.asarray([[1.5, -2.0]], np.float32), (3, 2))])
def test_mean_vjp_spread_is_np_broadcast_to(g, shape):
    """Mean's VJP spreads a full mean's 0-d gradient without np.broadcast_to's nditer: the same
    values, dtype and shape, read-only as np.broadcast_to's view."""
    from unafraid.engine.ops import _spread
    expected = np.broadcast_to(g, shape)
    got = _spread(g, shape)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    assert np.array_equal(got, expected) and not got.flags.writeable
