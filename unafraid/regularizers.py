"""Weight penalties added to the training loss (Keras's ``L1``, ``L2``, ``L1L2``)."""

from __future__ import annotations

from typing import Any

from . import registry
from .checks import check_number
from .engine import ops


class Regularizer:
    """Base class: ``penalty = regularizer(weight)``, a scalar added to the loss."""

    def __call__(self, x: Any) -> Any:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Regularizer:
        return cls(**config)


class L1L2(Regularizer):
    """``l1 * sum(|w|) + l2 * sum(w^2)``."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        owner = type(self).__name__
        self.l1 = check_number(owner, "l1", l1, low=0, hint="Use e.g. 0.01, or 0 for none.")
        self.l2 = check_number(owner, "l2", l2, low=0, hint="Use e.g. 0.01, or 0 for none.")

    def __call__(self, x: Any) -> Any:
        total = 0.0
        if self.l1:
            total = ops.add(total, ops.multiply(self.l1, ops.sum(ops.abs(x))))
        if self.l2:
            total = ops.add(total, ops.multiply(self.l2, ops.sum(ops.multiply(x, x))))
        return total

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """``l1 * sum(|w|)`` (Keras default ``l1=0.01``)."""

    def __init__(self, l1: float = 0.01) -> None:
        super().__init__(l1=l1)

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1}


class L2(L1L2):
    """``l2 * sum(w^2)`` (Keras default ``l2=0.01``)."""

    def __init__(self, l2: float = 0.01) -> None:
        super().__init__(l2=l2)

    def get_config(self) -> dict[str, Any]:
        return {"l2": self.l2}


l1, l2, l1_l2 = L1, L2, L1L2
NAMES = registry.names(
    "regularizer", cutoff=0.5,
    advice="Use one of these names or unafraid.regularizers.L1/L2/L1L2(...), e.g. "
           "kernel_regularizer=unafraid.regularizers.L2(1e-4).")
NAMES.register_table({"l1": L1, "l2": L2, "l1_l2": L1L2}, class_names=True)
NAMES.register(L1L2, "l1l2", listed=False)


def get(identifier: Any) -> Regularizer | None:
    """A regularizer from ``None``, a name ('l1', 'l2', 'l1_l2'), a saved config, or an instance."""
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str):
        return NAMES.lookup(identifier)()
    if isinstance(identifier, dict) and isinstance(identifier.get("class_name"), str):
        return NAMES.lookup(identifier["class_name"]).from_config(identifier.get("config", {}))
    raise ValueError(f"Unknown regularizer {identifier!r}. Known regularizers: "
                     f"{', '.join(NAMES.listed())}. {NAMES.advice}")


def serialize(reg: Regularizer | None) -> dict[str, Any] | None:
    if reg is None:
        return None
    return {"class_name": type(reg).__name__, "config": reg.get_config()}
