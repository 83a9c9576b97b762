"""Count likelihoods: values against scipy.stats, first and second derivatives against central
finite differences in float64, and finite values and gradients in float32 at extreme inputs."""

import numpy as np
import pytest
from scipy import stats

import unafraid as uf
from unafraid.cells import likelihoods as lik

rng = np.random.default_rng(0)
X = rng.negative_binomial(2, 0.3, size=(4, 5)).astype(np.float64)
X[0, :2] = 0
X[1, 0] = 250
MU = rng.gamma(2.0, 3.0, size=(4, 5))
THETA = rng.gamma(2.0, 1.0, size=(5,)) + 0.05
PI = rng.normal(size=(4, 5))


def value(t):
    return np.asarray(t.data if isinstance(t, uf.Tensor) else t)


def nb_logpmf(x, mu, theta):  # scipy's nbinom(n, p) with n = theta, p = theta / (theta + mu)
    return stats.nbinom.logpmf(x, theta, theta / (theta + mu))


# ---- values against scipy.stats ----------------------------------------------------------------------
def test_poisson_matches_scipy():
    got = value(lik.poisson_nll(X, np.log(MU)))
    np.testing.assert_allclose(got, -stats.poisson.logpmf(X, MU), rtol=1e-12, atol=1e-12)


def test_negative_binomial_matches_scipy_for_each_dispersion_shape():
    per_gene = value(lik.negative_binomial_nll(X, np.log(MU), np.log(THETA)))
    np.testing.assert_allclose(per_gene, -nb_logpmf(X, MU, THETA), rtol=1e-11, atol=1e-11)
    theta_cell = rng.gamma(2.0, 1.0, size=X.shape)  # per cell and gene (a network output)
    per_cell = value(lik.negative_binomial_nll(X, np.log(MU), np.log(theta_cell)))
    np.testing.assert_allclose(per_cell, -nb_logpmf(X, MU, theta_cell), rtol=1e-11, atol=1e-11)
    table = rng.gamma(2.0, 1.0, size=(3, 5))  # per cell type and gene
    labels = np.array([2, 0, 1, 2])
    per_label = value(lik.negative_binomial_nll(
        X, np.log(MU), lik.dispersion_for_labels(np.log(table), labels)))
    np.testing.assert_allclose(per_label, -nb_logpmf(X, MU, table[labels]), rtol=1e-11, atol=1e-11)


def test_zinb_matches_a_mixture_written_with_scipy():
    pi = 1 / (1 + np.exp(-PI))
    nb = stats.nbinom(THETA, THETA / (THETA + MU))
    want = np.where(X == 0, np.log(pi + (1 - pi) * nb.pmf(0)), np.log(1 - pi) + nb.logpmf(X))
    got = value(lik.zinb_nll(X, np.log(MU), np.log(THETA), PI))
    np.testing.assert_allclose(got, -want, rtol=1e-11, atol=1e-11)


def test_zinb_without_inflation_is_the_nb():
    got = value(lik.zinb_nll(X, np.log(MU), np.log(THETA), np.full(X.shape, -40.0)))
    np.testing.assert_allclose(got, -nb_logpmf(X, MU, THETA), rtol=1e-9, atol=1e-9)


def test_float32_values_match_scipy():
    got = value(lik.negative_binomial_nll(X.astype(np.float32), np.log(MU).astype(np.float32),
                                          np.log(THETA).astype(np.float32)))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, -nb_logpmf(X, MU, THETA), rtol=2e-5, atol=2e-5)


def test_loss_objects_sum_over_genes_and_average_over_cells():
    G = X.shape[1]
    want = (-nb_logpmf(X, MU, THETA)).sum(1).mean()
    pred = np.concatenate([np.log(MU), np.broadcast_to(np.log(THETA), MU.shape)], axis=1)
    assert float(lik.NegativeBinomialNLL()(X, pred)) == pytest.approx(want, rel=1e-10)
    assert float(lik.NegativeBinomialNLL(log_theta=np.log(THETA))(X, np.log(MU))) == \
        pytest.approx(want, rel=1e-10)
    assert float(lik.PoissonNLL()(X, np.log(MU))) == pytest.approx(
        -stats.poisson.logpmf(X, MU).sum(1).mean(), rel=1e-10)
    zpred = np.concatenate([pred, np.full((4, G), -40.0)], axis=1)
    assert float(lik.ZINBNLL()(X, zpred)) == pytest.approx(want, rel=1e-8)
    per_cell = lik.NegativeBinomialNLL(reduction=None)(X, pred)
    np.testing.assert_allclose(value(per_cell), (-nb_logpmf(X, MU, THETA)).sum(1), rtol=1e-10)


def test_loss_objects_say_what_width_they_need():
    with pytest.raises(ValueError, match="must have 5 or 10 columns"):
        lik.NegativeBinomialNLL()(X, np.zeros((4, 7)))
    with pytest.raises(ValueError, match="no log_theta was given"):
        lik.NegativeBinomialNLL()(X, np.zeros((4, 5)))


def test_dispersion_for_labels_refuses_bad_labels():
    with pytest.raises(ValueError, match=r"integers in \[0, 3\)"):
        lik.dispersion_for_labels(np.zeros((3, 5)), np.array([0, 3]))


# ---- first and second derivatives against finite differences (float64) ------------------------------
def test_poisson_first_and_second_derivatives():
    uf.check_grad(lambda lr: uf.sum(lik.poisson_nll(X, lr)), np.log(MU), order=2)


def test_negative_binomial_first_and_second_derivatives():
    uf.check_grad(lambda lm, lt: uf.sum(lik.negative_binomial_nll(X, lm, lt)),
                  np.log(MU), np.log(THETA), order=2)
    # per cell-and-gene dispersion, and small/large theta
    lt = rng.uniform(-4, 6, size=X.shape)
    uf.check_grad(lambda lm, t: uf.sum(lik.negative_binomial_nll(X, lm, t)), np.log(MU), lt,
                  order=2)


def test_negative_binomial_per_label_dispersion_derivatives():
    labels = np.array([1, 0, 1, 1])
    uf.check_grad(lambda table: uf.sum(lik.negative_binomial_nll(
        X, np.log(MU), lik.dispersion_for_labels(table, labels))), rng.normal(size=(2, 5)), order=2)


def test_zinb_first_and_second_derivatives():
    uf.check_grad(lambda lm, lt, p: uf.sum(lik.zinb_nll(X, lm, lt, p)),
                  np.log(MU), np.log(THETA), PI, order=2)


# ---- float32 at the extremes -------------------------------------------------------------------------
EXTREME_X = np.array([[0, 0, 1, 1e5, 1e5, 3]], np.float32)
EXTREME_MU = np.array([[1e-6, 1e5, 1e-3, 1e5, 1.0, 3.0]], np.float32)


@pytest.mark.parametrize("log_theta", [-18.0, -8.0, 0.0, 8.0, 18.0])  # theta 1.5e-8 ... 6.6e7
def test_float32_extremes_give_finite_losses_and_gradients(log_theta):
    lm = np.log(EXTREME_MU)
    lt = np.full((6,), log_theta, np.float32)
    pl = np.array([[-20, 20, 0, -20, 20, 0]], np.float32)
    cases = [
        (lambda a, b: uf.sum(lik.negative_binomial_nll(EXTREME_X, a, b)), (lm, lt)),
        (lambda a, b, c: uf.sum(lik.zinb_nll(EXTREME_X, a, b, c)), (lm, lt, pl)),
        (lambda a: uf.sum(lik.poisson_nll(EXTREME_X, a)), (lm,)),
    ]
    for f, args in cases:
        v, grads = uf.value_and_grad(f, argnums=tuple(range(len(args))))(*args)
        assert value(v).dtype == np.float32
        assert np.isfinite(value(v)), (f, log_theta)
        for g in grads:
            assert value(g).dtype == np.float32 and np.isfinite(value(g)).all(), (f, log_theta, g)


def test_float32_huge_theta_approaches_the_poisson():
    # theta = 1e8: the NB is the Poisson to about 1e-7 relative; lgamma differences in float64 keep
    # it (in float32 alone, lgamma(1e8) ~ 1.7e9 leaves no digit of the difference)
    x = np.array([0, 1, 5, 40], np.float32)
    mu = np.array([0.5, 2.0, 5.0, 30.0], np.float32)
    nb = value(lik.negative_binomial_nll(x, np.log(mu), np.full(4, np.log(1e8), np.float32)))
    np.testing.assert_allclose(nb, -stats.poisson.logpmf(x, mu), rtol=1e-4, atol=1e-4)


# ---- log Gamma(x + theta) - log Gamma(theta) at the nonzero counts only ------------------------------
def dense_log_gamma_ratio(x, theta):
    return uf.subtract(uf.lgamma(uf.add(x, theta)), uf.lgamma(theta))


@pytest.mark.parametrize("theta_shape", [(5,), (1, 5), (4, 5), (), (4, 1)])
def test_log_gamma_ratio_at_nonzero_counts_is_the_dense_formula(theta_shape):
    theta = rng.gamma(2.0, 1.0, size=theta_shape) + 0.05
    assert (X == 0).any() and (X != 0).any()
    sparse, dense = value(lik.log_gamma_ratio(X, theta)), value(dense_log_gamma_ratio(X, theta))
    np.testing.assert_array_equal(sparse, dense)  # the same bits
    assert (sparse[X == 0] == 0).all()
    g_sparse = uf.grad(lambda t: uf.sum(uf.multiply(lik.log_gamma_ratio(X, t), MU)))(theta)
    g_dense = uf.grad(lambda t: uf.sum(uf.multiply(dense_log_gamma_ratio(X, t), MU)))(theta)
    np.testing.assert_allclose(value(g_sparse), value(g_dense), rtol=1e-13)
    uf.check_grad(lambda t: uf.sum(uf.multiply(lik.log_gamma_ratio(X, t), MU)), theta, order=2)


def test_log_gamma_ratio_all_zero_or_no_zero_counts_and_counts_with_a_gradient():
    theta = THETA
    for x in (np.zeros((3, 5)), X + 1):
        np.testing.assert_array_equal(value(lik.log_gamma_ratio(x, theta)),
                                      value(dense_log_gamma_ratio(x, theta)))
    # counts that need a gradient take the dense formula: d/dx = digamma(x + theta)
    g = uf.grad(lambda x: uf.sum(lik.log_gamma_ratio(x, theta)))(uf.Tensor(X, requires_grad=True))
    np.testing.assert_allclose(value(g), value(uf.digamma(X + theta)), rtol=1e-13)


# ---- the fused NB primitive against its composed twin ---------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("theta_shape", [(5,), (4, 5), (1, 5)])
def test_fused_negative_binomial_is_its_composed_twin(dtype, theta_shape):
    lm = np.log(MU).astype(dtype)
    lt = rng.uniform(-3, 5, size=theta_shape).astype(dtype)
    x = X.astype(dtype)
    fused = lik.negative_binomial_nll(x, lm, lt)
    twin = lik.negative_binomial_nll_composed(x, lm, lt)
    np.testing.assert_array_equal(value(fused), value(twin))  # the same bits
    w = rng.uniform(0.5, 2.0, size=X.shape).astype(dtype)  # a non-uniform output gradient
    g_fused = uf.grad(lambda a, b: uf.sum(uf.multiply(lik.negative_binomial_nll(x, a, b), w)),
                      argnums=(0, 1))(lm, lt)
    g_twin = uf.grad(lambda a, b: uf.sum(uf.multiply(lik.negative_binomial_nll_composed(x, a, b), w)),
                     argnums=(0, 1))(lm, lt)
    tol = 2e-5 if dtype == np.float32 else 1e-12
    for a, b in zip(g_fused, g_twin, strict=True):
        assert value(a).dtype == dtype and value(a).shape == value(b).shape
        np.testing.assert_allclose(value(a), value(b), rtol=tol, atol=tol * np.abs(value(b)).max())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_negative_binomial_nonzero_count_shortcut_keeps_the_whole_array_bits(dtype):
    """The fused primitive computes its log-gamma and digamma differences at the nonzero counts
    only: value and log-theta gradient have the bits of the same arithmetic on the whole array
    (written out here in NumPy with the engine's special functions, 0 where x = 0)."""
    from unafraid.engine import special
    x = X.astype(dtype)
    lm, lt = np.log(MU).astype(dtype), rng.uniform(-3, 5, size=X.shape).astype(dtype)
    w = rng.uniform(0.5, 2.0, size=X.shape).astype(dtype)
    g = uf.grad(lambda b: uf.sum(uf.multiply(lik.negative_binomial_nll(x, lm, b), w)))(lt)
    # the whole-array arithmetic (no broadcasting: theta has the counts' shape)
    theta, d = np.exp(lt), lm - lt
    shared = special.log1p(np.exp(-np.abs(d)))
    sp = np.maximum(d, 0) + shared
    x64, t64 = x.astype(np.float64), theta.astype(np.float64)
    ratio = np.where(x != 0, special.lgamma(x64 + t64) - special.lgamma(t64), 0.0)
    want = (theta * sp + x * (np.maximum(-d, 0) + shared)
            - (ratio - special.log_factorial(x)).astype(dtype))
    np.testing.assert_array_equal(value(lik.negative_binomial_nll(x, lm, lt)), want)
    dpsi = np.where(x != 0, special.polygamma(0, x64 + t64) - special.polygamma(0, t64), 0.0)
    s_pos, s_neg = np.exp(d - sp), np.exp(-sp)
    want_g = w * (theta * ((sp - s_pos) - dpsi.astype(dtype)) + x * s_neg)
    assert value(g).dtype == dtype
    np.testing.assert_array_equal(value(g), want_g)


def test_fused_negative_binomial_second_derivatives_and_counts_with_a_gradient():
    uf.check_grad(lambda lm, lt: uf.sum(lik.negative_binomial_nll(X, lm, lt)),
                  np.log(MU), rng.uniform(-3, 5, size=(1, 5)), order=2)
    # counts that need a gradient go to the composed twin
    x = uf.Tensor(X, requires_grad=True)
    out = lik.negative_binomial_nll(x, np.log(MU), np.log(THETA))
    assert out._ctx.name != "negative_binomial_nll"
    np.testing.assert_allclose(value(out), -nb_logpmf(X, MU, THETA), rtol=1e-10)
