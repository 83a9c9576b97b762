"""Small checks of numeric arguments, shared by layers, regularizers and config loading.

Each returns the value in canonical form or raises a ``ValueError`` that names the owner, the
argument, the accepted range, the value given and the fix.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def check_number(owner: str, name: str, value: Any, *, low: float | None = None,
                 high: float | None = None, low_open: bool = False, high_open: bool = False,
                 hint: str = "") -> float:
    """``value`` as a float if it is a finite real number in the range, else a ValueError.

    Parameters
    ----------
    owner : str
        Who takes the argument, for the message, e.g. ``"BatchNormalization"``.
    name : str
        The argument's name, e.g. ``"epsilon"``.
    value : Any
        What was given (a bool, a string, NaN or inf are refused).
    low, high : float, optional
        Bounds of the accepted range; ``low_open`` / ``high_open`` exclude them.
    hint : str
        The fix, appended to the message, e.g. ``"Use a small positive number such as 1e-3."``.

    Returns
    -------
    float

    Examples
    --------
    >>> check_number("BatchNormalization", "momentum", 0.9, low=0, high=1)
    0.9
    """
    ok = not isinstance(value, bool) and isinstance(value, int | float | np.integer | np.floating)
    x = float(value) if ok else math.nan
    if ok and math.isfinite(x):
        ok = ((low is None or (x > low if low_open else x >= low))
              and (high is None or (x < high if high_open else x <= high)))
    else:
        ok = False
    if not ok:
        lo = "" if low is None else ("(" if low_open else "[") + f"{low:g}"
        hi = "" if high is None else f"{high:g}" + (")" if high_open else "]")
        where = (f" in {lo}, {hi}" if low is not None and high is not None else
                 f" {'>' if low_open else '>='} {low:g}" if low is not None else
                 f" {'<' if high_open else '<='} {high:g}" if high is not None else "")
        raise ValueError(f"{owner}: {name} must be a finite number{where}, got {value!r}."
                         + (f" {hint}" if hint else ""))
    return x


def check_axis(owner: str, axis: Any, type_error: bool = False) -> int | list[int]:
    """``axis`` if it is an int or a non-empty list of distinct ints (NumPy allows at most 64
    dimensions), else a ValueError naming ``owner`` (a TypeError, as Keras's LayerNormalization
    raises, when ``type_error`` and ``axis`` is neither an int nor a list or tuple of ints).

    Examples
    --------
    >>> check_axis("BatchNormalization", -1)
    -1
    """
    def is_int(a: Any) -> bool:
        return not isinstance(a, bool) and isinstance(a, int | np.integer) and -64 <= a < 64
    if is_int(axis):
        return int(axis)
    if (isinstance(axis, list | tuple) and 0 < len(axis) <= 64 and all(is_int(a) for a in axis)
            and len(set(axis)) == len(axis)):
        return [int(a) for a in axis]
    if type_error and not (isinstance(axis, list | tuple) and all(
            isinstance(a, int | np.integer) and not isinstance(a, bool) for a in axis)):
        raise TypeError(f"Expected an int or a list/tuple of ints for the argument 'axis', but "
                        f"received: {str(axis)[:100]!r}. {owner}: axis is the axis (or axes) to "
                        f"normalize, e.g. -1, the last axis: the features.")
    raise ValueError(f"{owner}: axis must be an integer (e.g. -1, the last axis: the features) "
                     f"or a list of distinct integers, got {str(axis)[:100]!r}.")
