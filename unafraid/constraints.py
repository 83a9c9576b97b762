"""Weight constraints (``tf.keras.constraints``): MaxNorm, NonNeg, UnitNorm, MinMaxNorm.

A constraint is applied by the optimizer after each update: ``w <- constraint(w)``
(``Dense(kernel_constraint=MaxNorm(3))``, or ``layer.add_weight(..., constraint=...)``).
The formulas are Keras 3's (``keras/src/constraints/constraints.py``), with norms taken
along ``axis`` (``0``: each column of a Dense kernel, the weights into one unit) and
``epsilon = 1e-7`` (Keras's ``backend.epsilon()``) in the denominators.

Examples
--------
>>> import numpy as np, unafraid as uf
>>> uf.constraints.MaxNorm(max_value=1.0)(np.array([[3.0], [4.0]]))
array([[0.6],
       [0.8]])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import registry

__all__ = ["Constraint", "MaxNorm", "NonNeg", "UnitNorm", "MinMaxNorm", "get", "serialize",
           "deserialize"]

EPSILON = 1e-7   # Keras's backend.epsilon()


class Constraint:
    """Base class: ``new_w = constraint(w)``, an array like ``w``; subclasses write ``__call__``."""

    def __call__(self, w: Any) -> np.ndarray:
        return np.asarray(w)

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Constraint:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _norms(w: np.ndarray, axis: Any) -> np.ndarray:
    """``sqrt(sum(w^2, axis))``, kept broadcastable to ``w``."""
    return np.sqrt(np.sum(np.square(w), axis=_axis(axis), keepdims=True))


def _axis(axis: Any) -> int | tuple[int, ...]:
    return tuple(axis) if isinstance(axis, list | tuple) else int(axis)


def _weights(w: Any) -> np.ndarray:
    return np.asarray(getattr(w, "data", w))


def _check_number(owner: str, arg: str, value: Any, low: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number) or \
            not np.isfinite(value) or value < low:
        raise ValueError(f"{owner}: `{arg}` must be a finite number >= {low}, got {value!r}.")
    return float(value)


class MaxNorm(Constraint):
    """Rescale weights whose norm along ``axis`` exceeds ``max_value``::

        w <- w * clip(||w||, 0, max_value) / (epsilon + ||w||)

    Parameters
    ----------
    max_value : float, default 2
        The largest norm allowed.
    axis : int or list of int, default 0
        ``0`` for a Dense kernel ``(in, out)``: each unit's incoming weights;
        ``[0, 1, 2]`` for a Conv2D kernel.
    """

    def __init__(self, max_value: float = 2, axis: Any = 0) -> None:
        self.max_value = _check_number("MaxNorm", "max_value", max_value)
        self.axis = axis

    def __call__(self, w: Any) -> np.ndarray:
        w = _weights(w)
        norms = _norms(w, self.axis)
        return w * (np.clip(norms, 0, self.max_value) / (EPSILON + norms))

    def get_config(self) -> dict[str, Any]:
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """``w <- max(w, 0)``: weights stay non-negative."""

    def __call__(self, w: Any) -> np.ndarray:
        w = _weights(w)
        return np.maximum(w, np.zeros((), w.dtype))


class UnitNorm(Constraint):
    """``w <- w / (epsilon + ||w||)``, the norm taken along ``axis`` (default 0)."""

    def __init__(self, axis: Any = 0) -> None:
        self.axis = axis

    def __call__(self, w: Any) -> np.ndarray:
        w = _weights(w)
        return w / (EPSILON + _norms(w, self.axis))

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Keep the norm along ``axis`` in ``[min_value, max_value]``, moving a fraction ``rate``::

        desired = rate * clip(||w||, min_value, max_value) + (1 - rate) * ||w||
        w <- w * desired / (epsilon + ||w||)

    Parameters
    ----------
    min_value : float, default 0.0
    max_value : float, default 1.0
    rate : float, default 1.0
        1 enforces the bounds at once; less moves the norm part of the way each step.
    axis : int or list of int, default 0
    """

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0,
                 axis: Any = 0) -> None:
        self.min_value = _check_number("MinMaxNorm", "min_value", min_value)
        self.max_value = _check_number("MinMaxNorm", "max_value", max_value)
        if self.max_value < self.min_value:
            raise ValueError(f"MinMaxNorm: max_value ({max_value}) must be >= min_value "
                             f"({min_value}).")
        self.rate = _check_number("MinMaxNorm", "rate", rate)
        self.axis = axis

    def __call__(self, w: Any) -> np.ndarray:
        w = _weights(w)
        norms = _norms(w, self.axis)
        desired = self.rate * np.clip(norms, self.min_value, self.max_value) + (1 - self.rate) * norms
        return w * (desired / (EPSILON + norms))

    def get_config(self) -> dict[str, Any]:
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


NAMES = registry.names("constraint", advice="Pass a constraint such as "
                       "unafraid.constraints.MaxNorm(3), or a function of the weights (not saved).")
NAMES.register_table({"max_norm": MaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm,
                      "min_max_norm": MinMaxNorm}, class_names=True)


def get(identifier: Any) -> Any:
    """A constraint from ``None``, a name (``'max_norm'``, ``'NonNeg'``...), a saved config,
    a class, an instance, or any function of the weights."""
    if identifier is None or isinstance(identifier, Constraint):
        return identifier
    if isinstance(identifier, str):
        return NAMES.lookup(identifier)()
    if isinstance(identifier, dict) and isinstance(identifier.get("class_name"), str):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Constraint):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret constraint identifier {identifier!r}. Known "
                     f"constraints: {', '.join(NAMES.listed())}.")


def serialize(constraint: Any) -> dict[str, Any] | None:
    """``{"class_name": ..., "config": ...}`` for a built-in constraint, ``None`` for none."""
    if constraint is None:
        return None
    if not isinstance(constraint, Constraint) or NAMES.get(type(constraint).__name__) is None:
        raise ValueError(f"Cannot save the custom constraint {constraint!r}: saved models hold no "
                         f"code. Use one of {', '.join(NAMES.listed())}, or re-create it in code "
                         f"after loading.")
    return {"class_name": type(constraint).__name__, "config": constraint.get_config()}


def deserialize(config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Constraint:
    """The constraint described by ``serialize``'s output."""
    cls = NAMES.lookup(config["class_name"], custom_objects)
    return cls.from_config(dict(config.get("config", {})))
