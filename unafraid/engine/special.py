"""Special functions in plain NumPy (no SciPy needed): ``erf``, ``erfc``, ``ndtr``, ``lgamma``,
``polygamma``.

Accurate to about 1e-13 relative in float64, which finite-difference gradient
checks need. Each uses a textbook series after shifting the argument with a
recurrence into the range where the series converges.
"""

from __future__ import annotations

import math

import numpy as np

# Bernoulli numbers B_2, B_4, ..., B_14 for the asymptotic (Stirling) series.
_B2K = [1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6]


def erf(x: np.ndarray) -> np.ndarray:
    """Error function: Maclaurin series for |x| < 2, ``1 - erfc`` beyond."""
    x = np.asarray(x, np.float64)
    out = np.empty_like(x)
    small = np.abs(x) < 2
    xs = x[small]
    term, total = xs.copy(), xs.copy()  # sum_n (-1)^n x^(2n+1) / (n! (2n+1))
    for n in range(1, 40):  # at |x| < 2 the terms fall below 1e-17 by n = 33
        term = term * (-xs * xs) / n
        total = total + term / (2 * n + 1)
    out[small] = 2 / math.sqrt(math.pi) * total
    out[~small] = np.sign(x[~small]) * (1 - _erfc_fraction(np.abs(x[~small])))
    return out


def erfc(x: np.ndarray) -> np.ndarray:
    """``1 - erf(x)``, keeping its relative accuracy in the right tail (erfc(10) = 2e-45)."""
    x = np.asarray(x, np.float64)
    out = np.array(1 - erf(x))  # (an array even for 0-d x)
    far = x >= 2
    out[far] = _erfc_fraction(x[far])
    return out


def _erfc_fraction(x: np.ndarray) -> np.ndarray:
    """erfc(x) for x >= 2, by Laplace's continued fraction:
    ``exp(-x^2) / sqrt(pi) / (x + 1/2 / (x + 1 / (x + 3/2 / ...)))``."""
    frac = np.zeros_like(x)
    for k in range(60, 0, -1):
        frac = (k / 2) / (x + frac)
    return np.exp(-x * x) / math.sqrt(math.pi) / (x + frac)


def ndtr(x: np.ndarray) -> np.ndarray:
    """Standard normal CDF ``Phi(x) = erfc(-x / sqrt 2) / 2`` (accurate in the left tail)."""
    return 0.5 * erfc(-np.asarray(x, np.float64) / math.sqrt(2))


def _shift_up(x: np.ndarray, threshold: float, step) -> tuple[np.ndarray, np.ndarray]:
    """Add 1 to entries below ``threshold`` until none are, accumulating ``step(x)``."""
    x = np.array(x, np.float64)
    acc = np.zeros_like(x)
    low = (x < threshold) & (x > -np.inf)  # -inf never reaches the threshold (the result is NaN)
    while low.any():  # whole-array steps (no fancy indexing): several times faster on big arrays
        acc += np.where(low, step(np.where(low, x, threshold)), 0)
        x += low
        low &= x < threshold
    return x, acc


def _shift_up_log(x: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """``_shift_up(x, threshold, np.log)`` as one log of the product ``x (x + 1) ... (x + k - 1)``
    (at most ``threshold + 1`` factors below ``threshold + 1``: no overflow for x > 1e-290)."""
    x = np.array(x, np.float64)
    prod = np.ones_like(x)
    low = x < threshold
    while low.any():
        prod *= np.where(low, x, 1)
        x += low
        low = x < threshold
    return x, np.log(prod)


def _power_series(inv: np.ndarray, first: int, coefs: list[float]) -> np.ndarray:
    """``sum_k coefs[k] inv^(first + 2k)``, the powers by repeated products (``**`` is slow)."""
    inv2 = inv * inv
    term = inv2 if first == 2 else inv
    for _ in range(first - (2 if first == 2 else 1)):
        term = term * inv
    total = np.zeros_like(inv)
    for c in coefs:
        total += c * term
        term = term * inv2
    return total


def lgamma(x: np.ndarray) -> np.ndarray:
    """``log |Gamma(x)|``: Stirling's series after shifting ``x`` above 10; reflection below 0."""
    x = np.asarray(x, np.float64)
    out = np.empty_like(x)
    neg = x <= 0
    if neg.any():  # Gamma(x) Gamma(1 - x) = pi / sin(pi x)
        xn = x[neg]
        with np.errstate(divide="ignore", invalid="ignore"):  # poles and -inf: set below
            out[neg] = np.log(np.pi / np.abs(np.sin(np.pi * xn))) - lgamma(1 - xn)
        out[neg & (x == np.round(x))] = np.inf
    xp, logprod = _shift_up_log(x[~neg], 10.0)  # log Gamma(x) = log Gamma(x + k) - log prod
    series = _power_series(1 / xp, 1, [b / (2 * k * (2 * k - 1)) for k, b in enumerate(_B2K, 1)])
    with np.errstate(invalid="ignore"):  # x = inf: inf - inf, set below
        out[~neg] = (xp - 0.5) * np.log(xp) - xp + 0.5 * math.log(2 * math.pi) + series - logprod
    out[x == np.inf] = np.inf
    return out


def polygamma(n: int, x: np.ndarray) -> np.ndarray:
    """``psi^(n)(x)``, the n-th derivative of digamma (``n = 0`` is digamma itself).

    Uses ``psi^(n)(x) = psi^(n)(x + 1) - (-1)^n n! / x^(n+1)`` to shift ``x``
    upward, then the asymptotic series with Bernoulli numbers.
    """
    x = np.asarray(x, np.float64)
    sgn, nfact = (-1) ** n, math.factorial(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        xs, acc = _shift_up(x, 12.0 + n, lambda v: sgn * nfact / v ** (n + 1))
        if n == 0:
            series = np.log(xs) - 1 / (2 * xs)
            series -= _power_series(1 / xs, 2, [b / (2 * k) for k, b in enumerate(_B2K, 1)])
        else:
            inv = 1 / xs
            series = math.factorial(n - 1) * inv**n + nfact / 2 * inv ** (n + 1)
            series += _power_series(inv, n + 2, [b * math.factorial(2 * k + n - 1) / math.factorial(2 * k)
                                                 for k, b in enumerate(_B2K, 1)])
            series *= (-1) ** (n + 1)
        out = np.array(series - acc)  # (an array even for 0-d x)
    out[(x <= 0) & (x == np.round(x))] = np.nan  # poles
    return out
