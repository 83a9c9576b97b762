"""Models: ``Sequential``, functional ``Model(inputs, outputs)``, subclassed ``Model``."""

from __future__ import annotations

from typing import Any

from .functional import Functional
from .model import Model
from .sequential import Sequential


def load_model(filepath: Any, compile: bool = True) -> Model:  # noqa: A002
    """Load a model saved with ``model.save`` (no code is run; see ``unafraid.io``)."""
    from ..io.saving import load_model as _load
    return _load(filepath, compile=compile)


__all__ = ["Model", "Sequential", "Functional", "load_model"]
