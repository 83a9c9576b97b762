"""Special functions (``unafraid.engine.special`` and the ``lgamma``/``digamma``/``polygamma``
ops) against independent oracles: Python's ``math.lgamma``/``math.erf``/``math.erfc`` and
values worked out by hand from known identities."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

import unafraid as uf
from unafraid.engine import special

EULER_GAMMA = 0.5772156649015329
ZETA3 = 1.2020569031595942  # Apery's constant, zeta(3)


def relative_error(got, expected):
    got, expected = np.asarray(got, float), np.asarray(expected, float)
    return np.max(np.abs(got - expected) / np.maximum(np.abs(expected), 1e-300))


# ---- erf, erfc, ndtr ----------------------------------------------------------------------------
def test_erf_matches_math_erf():
    x = np.concatenate([np.linspace(-7, 7, 1401), [0.0, 1e-12, -1e-8, 1.9999, 2.0, 2.0001, 30]])
    assert relative_error(special.erf(x), [math.erf(v) for v in x]) < 1e-13


def test_erfc_matches_math_erfc_deep_in_the_tail():
    x = np.concatenate([np.linspace(-6, 25, 1551), [1.99999, 2.0, 26.0]])
    expected = [math.erfc(v) for v in x]
    assert relative_error(special.erfc(x), expected) < 1e-12
    assert special.erfc(np.array(10.0)) == pytest.approx(2.088487583762545e-45, rel=1e-12)


def test_ndtr_is_the_normal_cdf_and_accurate_in_the_left_tail():
    x = np.array([-30.0, -10.0, -3.0, -0.5, 0.0, 0.7, 5.0])
    expected = [0.5 * math.erfc(-v / math.sqrt(2)) for v in x]
    assert relative_error(special.ndtr(x), expected) < 1e-12
    assert special.ndtr(np.array(0.0)) == 0.5


# ---- lgamma -----------------------------------------------------------------------------------
def test_lgamma_matches_math_lgamma_on_both_sides_of_zero():
    positive = np.concatenate([np.geomspace(1e-8, 1e8, 801), [0.5, 1.5, 2.5, 9.999, 10.0, 10.001]])
    negative = -np.linspace(0.013, 19.9, 700)
    negative = negative[np.abs(negative - np.round(negative)) > 1e-3]  # away from the poles
    for x in (positive, negative):
        expected = np.array([math.lgamma(v) for v in x])
        err = np.abs(special.lgamma(x) - expected) / np.maximum(np.abs(expected), 1.0)
        assert err.max() < 1e-12  # relative, or absolute where lgamma is near its zeros 1 and 2


def test_lgamma_hand_worked_values():
    assert special.lgamma(np.array(0.5)) == pytest.approx(0.5 * math.log(math.pi), rel=1e-14)
    assert special.lgamma(np.array([1.0, 2.0])) == pytest.approx([0.0, 0.0], abs=1e-14)
    assert special.lgamma(np.array(5.0)) == pytest.approx(math.log(24), rel=1e-14)
    # Gamma(-1/2) = -2 sqrt(pi)
    assert special.lgamma(np.array(-0.5)) == pytest.approx(math.log(2 * math.sqrt(math.pi)),
                                                           rel=1e-14)
    assert np.isinf(special.lgamma(np.array([0.0, -1.0, -7.0]))).all()


# ---- digamma and polygamma --------------------------------------------------------------------
@pytest.mark.parametrize("x, expected", [
    (1.0, -EULER_GAMMA),
    (0.5, -EULER_GAMMA - 2 * math.log(2)),
    (0.25, -EULER_GAMMA - math.pi / 2 - 3 * math.log(2)),
    (2.0, 1 - EULER_GAMMA),  # psi(x + 1) = psi(x) + 1/x
    (5.0, 1 + 1 / 2 + 1 / 3 + 1 / 4 - EULER_GAMMA),
    (-0.5, -EULER_GAMMA - 2 * math.log(2) + 2),  # the recurrence, run backwards
    (1e6, math.log(1e6) - 1 / 2e6 - 1 / (12 * 1e12)),  # asymptotic series
])
def test_digamma_hand_worked_values(x, expected):
    assert special.polygamma(0, np.array([x]))[0] == pytest.approx(expected, rel=1e-13, abs=1e-15)
    assert uf.digamma(np.array([x])).item() == pytest.approx(expected, rel=1e-13, abs=1e-15)


def test_digamma_of_1_exactly():
    assert uf.digamma(np.array(1.0)).item() == pytest.approx(-0.5772156649015329, rel=1e-14)


@pytest.mark.parametrize("n, x, expected", [
    (1, 1.0, math.pi**2 / 6),
    (1, 0.5, math.pi**2 / 2),
    (1, 2.0, math.pi**2 / 6 - 1),
    (2, 1.0, -2 * ZETA3),
    (2, 0.5, -14 * ZETA3),
    (3, 1.0, math.pi**4 / 15),
    (3, 0.5, math.pi**4),
    (1, 1e4, 1 / 1e4 + 1 / (2 * 1e8) + 1 / (6 * 1e12)),
])
def test_polygamma_hand_worked_values(n, x, expected):
    assert uf.polygamma(n, np.array([x])).item() == pytest.approx(expected, rel=1e-12)


def test_reflection_formula():
    # psi(1 - x) - psi(x) = pi cot(pi x)
    x = np.array([0.1, 0.3, 0.77, 1.4, -2.2])
    lhs = special.polygamma(0, 1 - x) - special.polygamma(0, x)
    assert_allclose(lhs, math.pi / np.tan(math.pi * x), rtol=1e-12)


def test_poles_are_nan():
    assert np.isnan(special.polygamma(0, np.array([0.0, -1.0, -3.0]))).all()
    assert np.isnan(special.polygamma(2, np.array([-2.0]))).all()


def test_minus_infinity_gives_nan_instead_of_shifting_forever():
    # the recurrence adds 1 until the argument passes a threshold, which -inf never does
    out = special.polygamma(0, np.array([-np.inf, 1.0]))
    assert np.isnan(out[0]) and out[1] == pytest.approx(-0.5772156649015329, rel=1e-12)
    assert np.isnan(special.polygamma(1, np.array([-np.inf]))).all()
    assert special.lgamma(np.array([-np.inf, np.inf])).tolist() == [np.inf, np.inf]


def test_float32_in_float32_out_and_scalars():
    x = np.array([0.5, 1.0, 3.0], np.float32)
    for op in (uf.lgamma, uf.digamma, lambda v: uf.polygamma(1, v), uf.gelu):
        out = op(x)
        assert out.dtype == np.float32
    assert uf.lgamma(np.array(3.0)).shape == ()
    assert uf.polygamma(1, np.array(1.0)).item() == pytest.approx(math.pi**2 / 6, rel=1e-13)
    assert uf.digamma(np.zeros((0, 2))).shape == (0, 2)


# ---- the fixed-shift lgamma and digamma, log_factorial, softplus ------------------------------
def harmonic(n: int) -> float:
    return math.fsum(1 / k for k in range(1, n + 1))


def test_digamma_at_integers_and_half_integers_is_the_harmonic_sums():
    # psi(n) = H_(n-1) - gamma;  psi(n + 1/2) = -gamma - 2 log 2 + sum_(k<=n) 2 / (2k - 1)
    n = np.arange(1, 120)
    expected = np.array([harmonic(int(k) - 1) - EULER_GAMMA for k in n])
    assert relative_error(special.polygamma(0, n.astype(float)), expected) < 1e-13
    half = np.array([-EULER_GAMMA - 2 * math.log(2) + math.fsum(2 / (2 * k - 1) for k in range(1, m + 1))
                     for m in n])
    assert relative_error(special.polygamma(0, n + 0.5), half) < 1e-13


def test_digamma_matches_the_per_entry_recurrence_over_the_whole_range():
    # the previous algorithm (shift each entry until it passes 12) as the second opinion
    x = np.concatenate([np.geomspace(1e-10, 1e30, 2001), [11.999, 12.0, 1e20, 1.4616321449683622]])
    old = special._polygamma_recurrence(0, x)
    assert (np.abs(special.polygamma(0, x) - old) / np.maximum(np.abs(old), 1.0)).max() < 1e-14


def test_lgamma_beyond_the_fixed_shift_and_mixed_arrays():
    big = np.array([1e19, 9.99e19, 1e20, 3e25, 1e300])
    expected = np.array([math.lgamma(v) for v in big])
    assert relative_error(special.lgamma(big), expected) < 1e-13
    # an entry's value does not depend on what else is in the array
    x = np.array([0.3, -2.5, 0.0, np.nan, 7.0, 1e25, np.inf, 1e-300])
    together = special.lgamma(x)
    alone = np.array([special.lgamma(np.array([v]))[0] for v in x])
    np.testing.assert_array_equal(together, alone)
    np.testing.assert_array_equal(special.polygamma(0, x),
                                  [special.polygamma(0, np.array([v]))[0] for v in x])
    assert np.isnan(together[3]) and together[2] == np.inf and together[6] == np.inf


def test_log_factorial_looks_up_the_bits_of_lgamma():
    counts = np.random.default_rng(0).negative_binomial(0.5, 0.05, (40, 30)).astype(np.float32)
    table = special.log_factorial(counts)
    direct = special.lgamma(counts.astype(np.float64) + 1)
    nonzero = counts > 1
    np.testing.assert_array_equal(table[nonzero], direct[nonzero])  # the same bits
    assert (table[~nonzero] == 0).all()  # log 0! = log 1! = 0 exactly
    expected = np.array([math.lgamma(v + 1) for v in counts.ravel()]).reshape(counts.shape)
    assert np.abs(table - expected).max() < 1e-12 * np.abs(expected).max()
    # not counts: lgamma(n + 1) itself
    for other in (np.array([0.5, 2.0]), np.array([-0.5, 3.0]), np.array([0.0, 1e6])):
        got, ref = special.log_factorial(other), special.lgamma(other + 1)
        np.testing.assert_array_equal(got[other > 1], ref[other > 1])
    assert special.log_factorial(np.zeros((0, 3))).shape == (0, 3)
    ints = special.log_factorial(np.array([0, 5, 3]))  # integer dtypes too
    assert ints.dtype == np.float64 and ints == pytest.approx([0, math.log(120), math.log(6)], rel=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softplus_matches_logaddexp_in_float64_with_extreme_inputs(dtype):
    x = np.concatenate([np.linspace(-40, 40, 8001), [-1e4, -100, -17.5, -1e-8, 0.0, 1e-8, 17.5,
                                                      100, 1e4]]).astype(dtype)
    got = special.softplus(x)
    assert got.dtype == dtype
    expected = np.logaddexp(0, x.astype(np.float64))
    tol = 5e-7 if dtype == np.float32 else 5e-16
    normal = expected >= np.finfo(dtype).tiny  # below it float32 keeps few digits (e^-100)
    assert relative_error(got[normal], expected[normal]) < tol  # also in the left tail (e^-40)
    assert np.abs(got[~normal] - expected[~normal]).max(initial=0) <= np.finfo(dtype).tiny
    edges = special.softplus(np.array([-1e4, 0.0, 1e4, np.inf, -np.inf, np.nan], dtype))
    assert edges[:5].tolist() == [0.0, np.float32(math.log(2)) if dtype == np.float32 else
                                  math.log(2), 1e4, np.inf, 0.0]
    assert np.isnan(edges[5])
    np.testing.assert_array_equal(uf.softplus(x), got)  # the engine op uses it


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log1p_matches_math_log1p(dtype):
    x = np.concatenate([-np.geomspace(1e-30, 0.999, 400), np.geomspace(1e-30, 1e30, 800),
                        [0.0, 1.0, 7e4]]).astype(dtype)
    got = special.log1p(x)
    assert got.dtype == dtype
    expected = np.array([math.log1p(float(v)) for v in x])
    tiny = np.abs(expected) < np.finfo(dtype).tiny
    assert relative_error(got[~tiny], expected[~tiny]) < (5e-7 if dtype == np.float32 else 5e-16)
    edges = special.log1p(np.array([-1.0, -2.0, np.nan, np.inf], dtype))
    assert edges[0] == -np.inf and np.isnan(edges[1:3]).all() and edges[3] == np.inf
