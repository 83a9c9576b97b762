"""Keras-compatible layers (``tf.keras.layers``)."""

from __future__ import annotations

from .base import Input, InputLayer, KerasTensor, Layer
from .core import Activation, Dense, Dropout, Flatten, Reshape, Softmax
from .normalization import BatchNormalization, LayerNormalization

__all__ = ["Input", "InputLayer", "KerasTensor", "Layer", "Activation", "Dense", "Dropout",
           "Flatten", "Reshape", "Softmax", "BatchNormalization", "LayerNormalization"]

BUILTIN_LAYERS = {name: globals()[name] for name in __all__ if name not in ("Input", "KerasTensor")}


def __getattr__(name: str) -> None:
    """Only for names that do not exist: say what unafraid has instead (see unsupported.py)."""
    from ..unsupported import KERAS_LAYERS, missing_name_error
    raise missing_name_error("unafraid.keras.layers", name, __all__, KERAS_LAYERS)
