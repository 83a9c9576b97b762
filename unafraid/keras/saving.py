"""``keras.saving``: save and load models, and register your own classes (as in Keras 3).

A saved file never holds code: a layer or model of your own class is saved by name with its
``get_config()``, and loading finds the class through ``custom_objects=``, a
``custom_object_scope`` or ``register_keras_serializable`` (see ``unafraid.io.custom_objects``).
"""

from __future__ import annotations

from typing import Any

from ..io.custom_objects import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from ..models import load_model


def save_model(model: Any, filepath: Any, overwrite: bool = True) -> None:
    """``model.save(filepath)``: ``.keras`` gives Keras 3's format, other names unafraid's own."""
    model.save(filepath, overwrite=overwrite)


__all__ = ["CustomObjectScope", "custom_object_scope", "get_custom_objects", "get_registered_name",
           "get_registered_object", "load_model", "register_keras_serializable", "save_model"]
