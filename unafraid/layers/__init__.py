"""Keras-compatible layers (``tf.keras.layers``)."""

from __future__ import annotations

from .. import registry
from .base import Input, InputLayer, KerasTensor, Layer
from .core import Activation, Dense, Dropout, Flatten, Reshape, Softmax
from .normalization import BatchNormalization, LayerNormalization
from .preprocessing import Normalization

__all__ = ["Input", "InputLayer", "KerasTensor", "Layer", "Activation", "Dense", "Dropout",
           "Flatten", "Reshape", "Softmax", "BatchNormalization", "LayerNormalization",
           "Normalization"]

BUILTIN_LAYERS = {name: globals()[name] for name in __all__ if name not in ("Input", "KerasTensor")}

# The classes a saved model file may name (``Layer`` itself is abstract); unafraid.models adds
# Sequential and Functional. unafraid.io builds layers only from this table.
registry.names("layer", advice="unafraid loads only its built-in layers and models; for a custom "
               "layer, re-create the model in code and use load_weights.").register_each(
    cls for name, cls in BUILTIN_LAYERS.items() if name != "Layer")
