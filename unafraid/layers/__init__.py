"""Keras-compatible layers (``tf.keras.layers``)."""

from __future__ import annotations

from .base import Input, InputLayer, KerasTensor, Layer
from .core import Activation, Dense, Dropout, Flatten, Reshape, Softmax
from .normalization import BatchNormalization, LayerNormalization
from .preprocessing import Normalization

__all__ = ["Input", "InputLayer", "KerasTensor", "Layer", "Activation", "Dense", "Dropout",
           "Flatten", "Reshape", "Softmax", "BatchNormalization", "LayerNormalization",
           "Normalization"]

BUILTIN_LAYERS = {name: globals()[name] for name in __all__ if name not in ("Input", "KerasTensor")}
