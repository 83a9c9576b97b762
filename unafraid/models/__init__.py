"""Models: ``Sequential``, functional ``Model(inputs, outputs)``, subclassed ``Model``."""

from __future__ import annotations

from typing import Any

from .. import registry
from ..io.saving import load_model as load_model_file
from .functional import Functional
from .model import Model
from .sequential import Sequential

registry.names("layer").register_each([Sequential, Functional])   # what a saved file may build


def load_model(filepath: Any, compile: bool = True) -> Model:  # noqa: A002
    """Load a model saved with ``model.save`` (no code is run; see ``unafraid.io``)."""
    return load_model_file(filepath, compile=compile)


__all__ = ["Model", "Sequential", "Functional", "load_model"]
