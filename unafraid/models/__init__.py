"""Models: ``Sequential``, functional ``Model(inputs, outputs)``, subclassed ``Model``."""

from __future__ import annotations

from typing import Any

from .. import registry
from ..io.saving import load_model as load_model_file
from .functional import Functional
from .model import Model
from .sequential import Sequential

registry.names("layer").register_each([Sequential, Functional])   # what a saved file may build


def load_model(filepath: Any, compile: bool = True,  # noqa: A002
               custom_objects: dict[str, Any] | None = None, safe_mode: bool = True) -> Model:
    """Load a model saved with ``model.save`` (no code is run; see ``unafraid.io``).

    ``custom_objects={"MyModel": MyModel}`` gives the classes of your own layers and models
    (as in Keras 3). ``safe_mode`` is accepted for Keras's signature: unafraid is always safe
    (a file's code, such as a ``Lambda``, is never run, whatever its value).
    """
    return load_model_file(filepath, compile=compile, custom_objects=custom_objects)


__all__ = ["Model", "Sequential", "Functional", "load_model"]
