"""``check_grad``: analytic gradients against central finite differences in float64."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .tensor import Tensor, as_array, no_grad
from .transforms import grad, value_and_grad


class GradCheckError(AssertionError):
    """Raised by :func:`check_grad` when analytic and numeric derivatives disagree."""


@dataclass
class GradCheckReport:
    """Where analytic and numeric derivatives differ most.

    Attributes
    ----------
    order : int
        1 for gradients, 2 for second derivatives (Hessian-vector products).
    argument : int
        Index of the positional argument holding the worst entry.
    index : tuple of int
        Position of the worst entry within that argument.
    analytic, numeric : float
        The two values at that entry.
    error : float
        ``|analytic - numeric| / (atol + rtol * |numeric|)``; at most 1 passes.
    """

    order: int
    argument: int
    index: tuple[int, ...]
    analytic: float
    numeric: float
    error: float

    def __str__(self) -> str:
        what = "gradient" if self.order == 1 else "second derivative (Hessian-vector product)"
        return (f"worst {what} entry: argument {self.argument}, index {self.index}: "
                f"analytic {self.analytic:.10g}, numeric {self.numeric:.10g} "
                f"(error {self.error:.3g} of the tolerance)")


def check_grad(f: Callable[..., Any], *args: Any, order: int = 1, eps: float = 1e-6,
               atol: float = 1e-6, rtol: float = 1e-5, seed: int = 0) -> list[GradCheckReport]:
    """Compare ``f``'s analytic derivatives with central finite differences.

    Every floating-point argument is copied to float64 and differentiated;
    integer arguments (labels, say) are passed through unchanged. A
    non-scalar output ``y`` is reduced to ``sum(y * v)`` with a fixed random
    ``v``, which checks the full vector-Jacobian product.

    Numeric derivative of entry ``i``: ``(F(x + eps e_i) - F(x - eps e_i)) / (2 eps)``.
    With ``order=2`` the same is done for ``G(x) = <grad F(x), u>`` (random
    ``u``), whose analytic gradient needs grad of grad: that checks second
    derivatives.

    Parameters
    ----------
    f : callable
        Built from unafraid functions.
    *args : array_like
        Points at which to check.
    order : {1, 2}
        Check gradients (1) or first and second derivatives (2).
    eps, atol, rtol : float
        Step, and tolerance ``|analytic - numeric| <= atol + rtol * |numeric|``.
    seed : int
        Seed for the random projections.

    Returns
    -------
    list of GradCheckReport
        The worst entry for each order checked.

    Raises
    ------
    GradCheckError
        With the report, when any entry is outside the tolerance.

    Examples
    --------
    >>> import numpy as np, unafraid as uf
    >>> reports = uf.check_grad(lambda x: uf.sum(uf.tanh(x) ** 2), np.array([0.3, -1.2]),
    ...                         order=2)
    >>> reports[0].error < 1
    True
    """
    if order not in (1, 2):
        raise ValueError(f"check_grad: order must be 1 or 2, got {order}.")
    x64 = [as_array(a).astype(np.float64) if as_array(a).dtype.kind == "f" else as_array(a)
           for a in args]
    wrt = [i for i, a in enumerate(x64) if a.dtype.kind == "f"]
    if not wrt:
        raise TypeError("check_grad: no floating-point argument to differentiate.")
    rng = np.random.default_rng(seed)
    probe = {}

    def scalar_f(*xs: Any) -> Any:
        y = f(*xs)
        if not isinstance(y, Tensor):
            y = Tensor(as_array(y))
        if y.size == 1:
            return y.reshape(())
        if "v" not in probe:
            probe["v"] = rng.standard_normal(y.shape)
        return (y * probe["v"]).sum()

    reports = [_compare(scalar_f, x64, wrt, 1, eps, atol, rtol)]
    if order == 2:
        u = [rng.standard_normal(x64[i].shape) for i in wrt]

        def directional(*xs: Any) -> Any:  # G(x) = <grad F(x), u>
            gs = grad(scalar_f, argnums=tuple(wrt))(*xs)
            total = 0.0
            for g_i, u_i in zip(gs, u, strict=True):
                total = (g_i * u_i).sum() + total
            return total

        reports.append(_compare(directional, x64, wrt, 2, eps, atol, rtol))
    return reports


def _compare(F: Callable[..., Any], x64: list[np.ndarray], wrt: list[int], order: int,
             eps: float, atol: float, rtol: float) -> GradCheckReport:
    _, analytic = value_and_grad(F, argnums=tuple(wrt))(*x64)
    worst = GradCheckReport(order, wrt[0], (), 0.0, 0.0, -1.0)
    for i, a_i in zip(wrt, analytic, strict=True):
        a_i = np.asarray(a_i, np.float64)
        for idx in np.ndindex(x64[i].shape):
            numeric = _central_difference(F, x64, i, idx, eps, recording=order == 2)
            err = abs(a_i[idx] - numeric) / (atol + rtol * abs(numeric))
            if not err <= worst.error and not np.isnan(worst.error):  # NaN is the worst
                worst = GradCheckReport(order, i, idx, float(a_i[idx]), float(numeric), float(err))
    if not worst.error <= 1:
        raise GradCheckError(
            f"check_grad failed: {worst}. Either a VJP used by f is wrong, or f is not "
            f"differentiable there (relu/abs at 0, tied maxima, a clip bound): move the point.")
    return worst


def _central_difference(F: Callable[..., Any], x64: list[np.ndarray], i: int,
                        idx: tuple[int, ...], eps: float, recording: bool) -> float:
    """``(F(x + eps e_idx) - F(x - eps e_idx)) / (2 eps)`` for argument ``i``."""
    values = []
    for step in (eps, -eps):
        xs = [x.copy() for x in x64]
        xs[i][idx] += step
        if recording:  # G = <grad F, u> takes a gradient itself
            values.append(float(as_array(F(*xs))))
        else:
            with no_grad():
                values.append(float(as_array(F(*xs))))
    return (values[0] - values[1]) / (2 * eps)
