"""Count likelihoods for single-cell RNA-seq, written once in log space with engine ops.

Each function returns the negative log-likelihood of every entry of a count matrix ``x``
(cells x genes); a loss class sums it over genes (one value per cell) and averages over
the batch. Every parameter enters on an unconstrained scale, so nothing needs clipping:

- Poisson: ``log_rate`` = log of the mean;
- negative binomial (NB): ``log_mean`` = log mu and ``log_theta`` = log of the inverse
  dispersion theta (variance ``mu + mu^2 / theta``);
- zero-inflated NB (ZINB): the NB's two, plus ``pi_logit``, the logit of the probability
  that an entry is an extra ("dropout") zero.

Stability (float32 and float64): ``log(theta + mu)`` is never formed directly; it appears
only as ``log theta + softplus(log mu - log theta)`` and ``log mu + softplus(log theta - log
mu)``, which are exact for any magnitudes. ``log Gamma(x + theta) - log Gamma(theta)`` is a
difference of two large numbers when theta is large, so it is formed in float64 and rounded
once. Counts of 0 or 10^5, theta from 1e-8 to 1e8, give finite values and gradients.

The formulas follow scvi-tools' ``log_nb_positive`` / ``log_zinb_positive`` and DCA's
``NB`` / ``ZINB`` losses.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..engine import ops, special
from ..engine.tensor import Function, Tensor
from ..losses import Loss

__all__ = ["poisson_nll", "negative_binomial_nll", "zinb_nll", "dispersion_for_labels",
           "PoissonNLL", "NegativeBinomialNLL", "ZINBNLL"]


def _raw(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def _float_dtype(*xs: Any) -> np.dtype:
    """The float dtype of the parameters (float32 unless one of them is float64)."""
    kinds = [np.asarray(_raw(x)).dtype for x in xs if x is not None]
    return np.dtype(np.float64) if any(k == np.float64 for k in kinds) else np.dtype(np.float32)


def _counts(x: Any, dtype: np.dtype) -> Any:
    """Counts as a Tensor (kept, when given one) or an array of ``dtype``."""
    if isinstance(x, Tensor):
        return x if x.dtype == dtype else ops.cast(x, dtype)
    return np.asarray(x, dtype)


def _as_param(p: Any, dtype: np.dtype) -> Any:
    if isinstance(p, Tensor):
        return p if p.dtype == dtype else ops.cast(p, dtype)
    return np.asarray(p, dtype)


def log_factorial(x: Any) -> Any:
    """``log Gamma(x + 1)`` of the counts, float64: a constant array (looked up by
    :func:`unafraid.engine.special.log_factorial`) unless ``x`` is a Tensor that needs a gradient."""
    if isinstance(x, Tensor) and x.requires_grad:
        return ops.lgamma(ops.add(ops.cast(x, np.float64), 1.0))
    return special.log_factorial(_raw(x))


def log_gamma_ratio(x: Any, theta: Any) -> Any:
    """``log Gamma(x + theta) - log Gamma(theta)``, float64; 0 where ``x = 0``.

    A count matrix is mostly zeros (67% of pbmc68k_reduced's entries), so for constant counts
    the difference is computed at the nonzero entries only, with ``log Gamma(theta)`` taken on
    theta's own shape (one value per gene) and gathered; the result is put back in place with
    :func:`unafraid.engine.ops.scatter_add`. Its values have the bits of the dense formula
    (which serves counts that need a gradient, and shapes that do not fit); a per-gene
    theta's gradient is summed over the nonzero entries only, so it may differ from the dense
    formula's in the last bits.

    Parameters
    ----------
    x : array or Tensor, shape (N, G)
    theta : array or Tensor, float64, broadcastable to (N, G)

    Returns
    -------
    Tensor (or array), shape (N, G), float64.
    """
    return _difference_at_counts(ops.lgamma, x, theta)


def _difference_at_counts(f: Any, x: Any, theta: Any) -> Any:
    """``f(x + theta) - f(theta)`` (an engine op ``f``), computed where ``x != 0`` only."""
    raw = _raw(x)
    shape = np.broadcast_shapes(np.shape(raw), np.shape(_raw(theta)))
    if (isinstance(x, Tensor) and x.requires_grad) or np.shape(raw) != shape or not shape:
        return ops.subtract(f(ops.add(ops.cast(x, np.float64), theta)), f(theta))
    flat = np.flatnonzero(raw != 0)  # (faster than np.flatnonzero(raw) on floats)
    genes, tshape = shape[-1], np.shape(_raw(theta))
    if tshape[-1:] == (genes,) and math.prod(tshape) == genes:  # one theta per gene
        theta, at = ops.reshape(theta, (genes,)), flat % genes
    else:
        theta, at = ops.reshape(ops.broadcast_to(theta, shape), (-1,)), flat
    x_nz = np.asarray(raw).reshape(-1)[flat].astype(np.float64)
    diff = ops.subtract(f(ops.add(x_nz, ops.getitem(theta, at))), ops.getitem(f(theta), at))
    return ops.reshape(ops.scatter_add(diff, (math.prod(shape),), flat), shape)


def log_binomial_coefficient(x: Any, theta: Any, dtype: np.dtype) -> Any:
    """``log Gamma(x + theta) - log Gamma(theta) - log Gamma(x + 1)``, formed in float64.

    At theta = 1e8 each log-gamma is about 1.7e9, where float32 keeps no digit of the
    difference; float64 keeps it, and the result is rounded to ``dtype`` once. With a
    per-gene theta of shape (G,), ``log Gamma(theta)`` (and its derivative) is computed on
    the (G,) array, and ``log Gamma(x + theta)`` only where ``x > 0``
    (:func:`log_gamma_ratio`).
    """
    value = ops.subtract(log_gamma_ratio(x, ops.cast(theta, np.float64)), log_factorial(x))
    return ops.cast(value, dtype)


def poisson_nll(x: Any, log_rate: Any) -> Any:
    """Negative log-likelihood of counts under a Poisson with log-mean ``log_rate``.

    ``-log p(x) = exp(log_rate) - x log_rate + log Gamma(x + 1)``

    Parameters
    ----------
    x : array or Tensor, shape (N, G)
        Counts (non-negative; need not be integers for the formula to be defined).
    log_rate : array or Tensor, broadcastable to (N, G)
        log of the mean, e.g. ``log(library size) + log_softmax(network output)``.

    Returns
    -------
    Tensor (or array), shape (N, G), the dtype of ``log_rate`` (float32 by default).

    Examples
    --------
    >>> import numpy as np
    >>> float(poisson_nll(np.array([2.0]), np.log(np.array([3.0])))[0])  # -log(9 e^-3 / 2)
    1.4959...
    """
    dtype = _float_dtype(log_rate)
    x, log_rate = _counts(x, dtype), _as_param(log_rate, dtype)
    log_fact = ops.cast(log_factorial(x), dtype)
    return ops.add(ops.subtract(ops.exp(log_rate), ops.multiply(x, log_rate)), log_fact)


def negative_binomial_nll(x: Any, log_mean: Any, log_theta: Any) -> Any:
    """Negative log-likelihood of counts under a negative binomial (NB2) distribution.

    With mean ``mu = exp(log_mean)`` and inverse dispersion ``theta = exp(log_theta)``
    (variance ``mu + mu^2 / theta``; theta -> infinity is the Poisson),

    ``log p(x) = log Gamma(x + theta) - log Gamma(theta) - log Gamma(x + 1)
    + theta log(theta / (theta + mu)) + x log(mu / (theta + mu))``,

    computed as ``... - theta softplus(log mu - log theta) - x softplus(log theta - log mu)``.
    This is ``scipy.stats.nbinom(n=theta, p=theta / (theta + mu))``.

    Parameters
    ----------
    x : array or Tensor, shape (N, G)
        Counts.
    log_mean : array or Tensor, broadcastable to (N, G)
        log mu.
    log_theta : array or Tensor, broadcastable to (N, G)
        log theta: shape (G,) for one dispersion per gene, (N, G) for one per cell and gene
        (a network output), or ``dispersion_for_labels(table, labels)`` for one per gene and
        cell type.

    Returns
    -------
    Tensor (or array), shape (N, G), float32 unless a parameter is float64.

    Examples
    --------
    >>> import numpy as np
    >>> float(negative_binomial_nll(np.array([0.0]), np.log([2.0]), np.log([1.0]))[0])
    1.0986...
    """
    dtype = _float_dtype(log_mean, log_theta)
    x = _counts(x, dtype)
    log_mean, log_theta = _as_param(log_mean, dtype), _as_param(log_theta, dtype)
    if not (isinstance(x, Tensor) and x.requires_grad):  # counts are data: one fused step
        return NegativeBinomialNLLFunction.apply(log_mean, log_theta, x=np.asarray(_raw(x)))
    return negative_binomial_nll_composed(x, log_mean, log_theta)


def negative_binomial_nll_composed(x: Any, log_mean: Any, log_theta: Any) -> Any:
    """:func:`negative_binomial_nll` written with engine ops: the twin the fused
    :class:`NegativeBinomialNLLFunction` is tested against, and the path for counts that need
    a gradient. Parameters as there, already of one float dtype."""
    dtype = _float_dtype(log_mean, log_theta)
    theta = ops.exp(log_theta)
    log_coef = log_binomial_coefficient(x, theta, dtype)
    theta_term = ops.multiply(theta, ops.softplus(ops.subtract(log_mean, log_theta)))
    x_term = ops.multiply(x, ops.softplus(ops.subtract(log_theta, log_mean)))
    return ops.subtract(ops.add(theta_term, x_term), log_coef)


class NegativeBinomialNLLFunction(Function):
    """The NB negative log-likelihood per entry as one engine primitive (counts ``x`` constant).

    The same arithmetic, in the same order, as :func:`negative_binomial_nll_composed` (so the
    same bits), without its 20-odd recorded operations: measured on a shared machine, on a
    batch of 32 x 765 counts, the composed formula's forward and backward took 2.1 ms, the same
    arithmetic in plain NumPy 1.3 ms. The VJP is written with engine ops from the inputs, so it
    can be differentiated again; with ``d = log mu - log theta`` and ``theta = exp(log theta)``:

    ``dL/d log mu = theta sigmoid(d) - x sigmoid(-d)``

    ``dL/d log theta = theta (softplus(d) - sigmoid(d) - (digamma(x + theta) - digamma(theta)))
    + x sigmoid(-d)``

    with ``sigmoid(-d) = exp(-softplus(d))`` and ``sigmoid(d) = exp(d - softplus(d))``: two
    exponentials instead of two sigmoids, since ``softplus(d)`` is needed anyway.
    """

    name = "negative_binomial_nll"

    @staticmethod
    def forward(ctx, log_mean, log_theta, x):
        theta = np.exp(log_theta)
        d = log_mean - log_theta
        # softplus(+-d) = max(+-d, 0) + log1p(exp(-|d|)): the second term once (special.softplus's
        # own formula, so the bits of two softplus calls)
        shared = special.log1p(np.exp(-np.abs(d)))
        softplus_d = np.maximum(d, 0) + shared
        out = theta * softplus_d
        out = out + x * (np.maximum(-d, 0) + shared)
        nz = _nonzero_counts(x, theta.shape) if out.shape == x.shape else None
        ctx.save(log_mean, log_theta, softplus_d, nz)
        if nz is None:
            ratio = _numpy_difference_at_counts(special.lgamma, x, theta.astype(np.float64))
            return out - (ratio - special.log_factorial(x)).astype(out.dtype)
        # log Gamma(x + theta) - log Gamma(theta) - log x! is 0 where x = 0 (and out - 0 = out):
        # computed and subtracted at the nonzero counts only, the same bits as on the whole array
        flat, at, x_nz = nz
        ratio = _difference_at(special.lgamma, x_nz, theta.astype(np.float64), at)
        out.reshape(-1)[flat] -= (ratio - special.log_factorial(x_nz)).astype(out.dtype)
        return out

    @staticmethod
    def vjp(ctx, g, log_mean, log_theta, softplus_d, nz):
        x = ctx.params["x"]
        theta = ops.exp(log_theta)
        d = ops.subtract(log_mean, log_theta)
        # the forward's softplus(d) is a constant: recomputed when the VJP is being differentiated
        sp = ops.softplus(d) if isinstance(d, Tensor) else softplus_d
        # sigmoid(-d) = exp(-softplus(d)), sigmoid(d) = exp(d - softplus(d))
        s_pos, s_neg = ops.exp(ops.subtract(d, sp)), ops.exp(ops.negative(sp))
        g_mean = g_theta = None
        if ctx.needs[0]:
            g_mean = ops.unbroadcast(ops.multiply(g, ops.subtract(ops.multiply(theta, s_pos),
                                                                  ops.multiply(x, s_neg))),
                                     np.shape(_raw(log_mean)))
        if ctx.needs[1]:
            dtype = np.asarray(_raw(log_theta)).dtype
            if isinstance(theta, Tensor):  # being differentiated: engine ops
                dpsi = ops.cast(_difference_at_counts(ops.digamma, x, ops.cast(theta, np.float64)),
                                dtype)
                inner = ops.subtract(ops.subtract(sp, s_pos), dpsi)
            elif nz is None:  # the same values on plain arrays, without the ops' bookkeeping
                dpsi = _numpy_difference_at_counts(_digamma, x, theta.astype(np.float64)).astype(dtype)
                inner = ops.subtract(ops.subtract(sp, s_pos), dpsi)
            else:  # digamma(x + theta) - digamma(theta) is 0 where x = 0: subtracted elsewhere only
                flat, at, x_nz = nz
                inner = ops.subtract(sp, s_pos)
                inner.reshape(-1)[flat] -= _difference_at(_digamma, x_nz, theta.astype(np.float64),
                                                          at).astype(dtype)
            g_theta = ops.unbroadcast(ops.multiply(g, ops.add(ops.multiply(theta, inner),
                                                              ops.multiply(x, s_neg))),
                                      np.shape(_raw(log_theta)))
        return g_mean, g_theta


def _digamma(x: np.ndarray) -> np.ndarray:
    return special.polygamma(0, x)


def _nonzero_counts(x: np.ndarray, theta_shape: tuple[int, ...]
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Where the counts ``x`` (n, G) are nonzero: flat positions, the matching positions in
    ``theta`` (of shape ``theta_shape``: (G,), (1, G) or (n, G)), and the counts there (float64);
    None where ``theta`` does not broadcast to ``x`` that way (the whole-array formula is used)."""
    shape = np.broadcast_shapes(x.shape, theta_shape)
    if x.shape != shape or not shape:
        return None
    flat = np.flatnonzero(x != 0)
    genes = shape[-1]
    if theta_shape[-1:] == (genes,) and math.prod(theta_shape) == genes:
        at = flat % genes
    elif tuple(theta_shape) == shape:
        at = flat
    else:
        return None
    return flat, at, x.reshape(-1)[flat].astype(np.float64)


def _difference_at(f: Any, x_nz: np.ndarray, theta: np.ndarray, at: np.ndarray) -> np.ndarray:
    """``f(x + theta) - f(theta)`` at the nonzero counts found by :func:`_nonzero_counts`."""
    theta = theta.reshape(-1)
    return f(x_nz + theta[at]) - f(theta)[at]


def _numpy_difference_at_counts(f: Any, x: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """``f(x + theta) - f(theta)`` on plain arrays, where ``x != 0`` only (as
    :func:`_difference_at_counts`, with the same bits)."""
    shape = np.broadcast_shapes(x.shape, theta.shape)
    if x.shape != shape or not shape:
        return f(x.astype(np.float64) + theta) - f(theta)
    flat = np.flatnonzero(x != 0)
    genes = shape[-1]
    if theta.shape[-1:] == (genes,) and theta.size == genes:
        theta, at = theta.reshape(genes), flat % genes
    else:
        theta, at = np.broadcast_to(theta, shape).reshape(-1), flat
    out = np.zeros(x.size)
    out[flat] = f(x.reshape(-1)[flat].astype(np.float64) + theta[at]) - f(theta)[at]
    return out.reshape(shape)


def zinb_nll(x: Any, log_mean: Any, log_theta: Any, pi_logit: Any) -> Any:
    """Negative log-likelihood under a zero-inflated negative binomial.

    With ``pi = sigmoid(pi_logit)`` the probability of an extra zero,

    ``p(0) = pi + (1 - pi) NB(0)`` and ``p(x) = (1 - pi) NB(x)`` for ``x > 0``.

    In log space: ``log pi = -softplus(-pi_logit)``, ``log(1 - pi) = -softplus(pi_logit)``,
    and ``log(e^a + e^b) = a + softplus(b - a)``.

    Parameters
    ----------
    x : array or Tensor, shape (N, G)
    log_mean, log_theta : as in :func:`negative_binomial_nll`
    pi_logit : array or Tensor, broadcastable to (N, G)

    Returns
    -------
    Tensor (or array), shape (N, G).

    Examples
    --------
    >>> import numpy as np
    >>> float(zinb_nll(np.array([0.0]), np.log([2.0]), np.log([1.0]), np.array([0.0]))[0])
    0.4054...
    """
    dtype = _float_dtype(log_mean, log_theta, pi_logit)
    x = _counts(x, dtype)
    pi_logit = _as_param(pi_logit, dtype)
    nb = negative_binomial_nll(x, log_mean, log_theta)  # -log NB(x)
    log_pi = ops.negative(ops.softplus(ops.negative(pi_logit)))
    log_not_pi = ops.negative(ops.softplus(pi_logit))
    nonzero = ops.subtract(nb, log_not_pi)  # -log[(1 - pi) NB(x)]
    a, b = log_pi, ops.negative(nonzero)  # log pi, log[(1 - pi) NB(0)] (used where x = 0)
    zero = ops.negative(ops.add(a, ops.softplus(ops.subtract(b, a))))
    return ops.where(_raw(x) == 0, zero, nonzero)


def dispersion_for_labels(log_theta_table: Any, labels: Any) -> Any:
    """Pick each cell's row of a per-(cell type, gene) dispersion table.

    Parameters
    ----------
    log_theta_table : Tensor or array, shape (K, G)
        One log theta per cell type and gene (a trainable Variable, say).
    labels : int array, shape (N,)
        Each cell's type, 0..K-1.

    Returns
    -------
    Tensor (or array), shape (N, G): ``log_theta_table[labels]``, differentiable.
    """
    labels = np.asarray(labels)
    k = np.shape(_raw(log_theta_table))[0]
    if labels.dtype.kind not in "iu" or (labels.size and (labels.min() < 0 or labels.max() >= k)):
        raise ValueError(f"dispersion_for_labels: labels must be integers in [0, {k}) (one row of "
                         f"the {np.shape(_raw(log_theta_table))} table per cell type); got dtype "
                         f"{labels.dtype}, range [{labels.min() if labels.size else '-'}, "
                         f"{labels.max() if labels.size else '-'}]. Encode cell types with "
                         f"unafraid.cells.labels_from_obs(adata, key).")
    return ops.getitem(log_theta_table, labels)


# ---- loss objects for model.compile ------------------------------------------------------------
class _CountLoss(Loss):
    """Sums a per-entry NLL over genes: one value per cell, then Keras's reduction."""

    n_params = 1

    def split(self, y_true: Any, y_pred: Any) -> list[Any]:
        genes = np.shape(_raw(y_true))[-1]
        width = np.shape(_raw(y_pred))[-1]
        widths = [genes * k for k in range(1, self.n_params + 1)]
        if width not in widths:
            raise ValueError(
                f"{self.name}: y_true has {genes} genes, so y_pred must have "
                f"{' or '.join(str(w) for w in widths)} columns (the parameters side by side: "
                f"{self.layout}), got {width}. Make the last Dense layer's units match.")
        parts = [ops.getitem(y_pred, (slice(None), slice(i * genes, (i + 1) * genes)))
                 for i in range(width // genes)]
        return parts

    def call(self, y_true: Any, y_pred: Any) -> Any:
        return ops.sum(self.nll(y_true, self.split(y_true, y_pred)), axis=-1)

    def nll(self, y_true: Any, parts: list[Any]) -> Any:
        raise NotImplementedError


class PoissonNLL(_CountLoss):
    """Poisson negative log-likelihood per cell, for ``model.compile(loss=...)``.

    ``y_true``: counts (N, G); ``y_pred``: log rates (N, G). The value per cell is
    ``sum_g poisson_nll(x, log_rate)``; the reduction averages over cells.

    Examples
    --------
    >>> import numpy as np
    >>> float(PoissonNLL()(np.array([[2.0]]), np.log(np.array([[3.0]], np.float32))))
    1.4959...
    """

    default_name = "poisson_nll"
    layout = "[log rate]"

    def nll(self, y_true, parts):
        return poisson_nll(y_true, parts[0])


class NegativeBinomialNLL(_CountLoss):
    """Negative-binomial negative log-likelihood per cell, for ``model.compile(loss=...)``.

    ``y_pred`` is ``[log mu | log theta]`` side by side, shape (N, 2G), when the network
    predicts each cell's dispersion; or ``log mu`` alone, shape (N, G), with ``log_theta``
    given here (an array or a trainable Variable of shape (G,) for one dispersion per gene).

    Parameters
    ----------
    log_theta : array or Tensor of shape (G,) or (N, G), optional
    name, reduction : as in :class:`unafraid.losses.Loss`
    """

    default_name = "negative_binomial_nll"
    n_params = 2
    layout = "[log mu | log theta], or log mu with log_theta given to the loss"

    def __init__(self, log_theta: Any = None, name: str | None = None,
                 reduction: str | None = "sum_over_batch_size") -> None:
        super().__init__(name=name, reduction=reduction)
        self.log_theta = log_theta

    def nll(self, y_true, parts):
        if len(parts) == 1:
            if self.log_theta is None:
                raise ValueError(f"{self.name}: y_pred has {np.shape(y_true)[-1]} columns (log mu "
                                 f"only) and no log_theta was given. Pass "
                                 f"NegativeBinomialNLL(log_theta=...) or predict [log mu | log "
                                 f"theta] with twice as many output units.")
            return negative_binomial_nll(y_true, parts[0], self.log_theta)
        return negative_binomial_nll(y_true, parts[0], parts[1])

    def get_config(self) -> dict[str, Any]:
        return super().get_config()


class ZINBNLL(_CountLoss):
    """Zero-inflated NB negative log-likelihood per cell: ``y_pred = [log mu | log theta | pi
    logit]``, shape (N, 3G)."""

    default_name = "zinb_nll"
    n_params = 3
    layout = "[log mu | log theta | pi logit]"

    def nll(self, y_true, parts):
        if len(parts) != 3:
            raise ValueError(f"{self.name}: y_pred must have 3 x {np.shape(y_true)[-1]} columns "
                             f"({self.layout}), got {len(parts)} x.")
        return zinb_nll(y_true, *parts)
