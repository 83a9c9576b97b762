"""Keras names over unafraid, so ``import unafraid as tf`` runs tf.keras code.

``tf.keras.layers``, ``models``, ``optimizers``, ``losses``, ``metrics``,
``callbacks``, ``activations``, ``initializers``, ``regularizers``, ``utils``,
``datasets`` and ``backend`` are importable modules here, and so is
``from unafraid.keras.layers import Dense``. ``datasets`` loads on first use:
its download code imports gzip, zipfile, tempfile and logging, which building
and training a model do not need.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

from .. import (
    activations,
    callbacks,
    constraints,
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
from . import backend, compat, ops, random, saving, utils
from .backend import Variable

for _name, _module in {"layers": layers, "models": models, "optimizers": optimizers,
                       "losses": losses, "metrics": metrics, "callbacks": callbacks,
                       "activations": activations, "initializers": initializers,
                       "regularizers": regularizers, "constraints": constraints}.items():
    sys.modules[f"{__name__}.{_name}"] = _module
sys.modules[f"{__name__}.optimizers.schedules"] = optimizers.schedules


def __getattr__(name: str) -> ModuleType:
    if name in ("datasets", "applications", "preprocessing"):  # loaded on first use:
        return importlib.import_module(f"{__name__}.{name}")  # keras/datasets.py, applications/...
    from ..unsupported import KERAS_NAMES, missing_name_error
    raise missing_name_error(__name__, name, __all__, KERAS_NAMES)


__all__ = ["activations", "applications", "backend", "callbacks", "compat", "constraints", "datasets",
           "initializers", "layers", "losses", "metrics", "models", "ops", "optimizers", "preprocessing",
           "random", "regularizers", "saving", "utils", "Input", "Model", "Sequential", "Variable"]
