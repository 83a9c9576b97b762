"""Keras names over unafraid, so ``import unafraid as tf`` runs tf.keras code.

``tf.keras.layers``, ``models``, ``optimizers``, ``losses``, ``metrics``,
``callbacks``, ``activations``, ``initializers``, ``regularizers``, ``utils``,
``datasets`` and ``backend`` are importable modules here, and so is
``from unafraid.keras.layers import Dense``.
"""

from __future__ import annotations

import sys

from .. import (
    activations,
    callbacks,
    datasets,
    initializers,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    regularizers,
)
from ..layers import Input
from ..models import Model, Sequential
from . import backend, utils

for _name, _module in {"layers": layers, "models": models, "optimizers": optimizers,
                       "losses": losses, "metrics": metrics, "callbacks": callbacks,
                       "activations": activations, "initializers": initializers,
                       "regularizers": regularizers, "datasets": datasets}.items():
    sys.modules[f"{__name__}.{_name}"] = _module
sys.modules[f"{__name__}.optimizers.schedules"] = optimizers.schedules

__all__ = ["activations", "backend", "callbacks", "datasets", "initializers", "layers", "losses",
           "metrics", "models", "optimizers", "regularizers", "utils", "Input", "Model",
           "Sequential"]
