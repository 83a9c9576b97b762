"""unafraid: neural networks for scientists.

Keras-compatible (``import unafraid as tf`` runs tf.keras tutorials),
deterministic by default, readable, and fast on a CPU.

The engine (``Tensor``, ``grad``, the primitives) is imported eagerly; the
Keras-style API, datasets and plotting load on first use, so that
``import unafraid`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

from . import engine as _engine

# TensorFlow's names (tf.reduce_sum, tf.GradientTape, tf.math, ...): those the engine lacks,
# and TensorFlow-signature versions of a few it has (constant, Variable, matmul, where, ...).
from . import tf_ops as _tf  # noqa: E402
from ._version import __version__
from .engine import *  # noqa: F403
from .engine import __all__ as _engine_all

_TF_SUPERSETS = {"constant", "convert_to_tensor", "ones", "zeros", "Variable", "one_hot", "where", "split",
                 "transpose", "matmul", "cast", "reshape", "squeeze", "expand_dims", "stack"}
globals().update({name: getattr(_tf, name) for name in _tf.__all__
                  if name in _TF_SUPERSETS or name not in globals()})
# the engine's ops accept the symbolic tensors of keras.Input too (tf.exp(z) in a functional model)
_tf.symbolic_versions(globals(), "unafraid.", [*_engine.PRIMITIVES, "one_hot"])

_LAZY_SUBMODULES = {"nn", "models", "optimizers", "losses", "metrics", "layers", "callbacks",
                    "initializers", "activations", "datasets", "explore", "keras", "io", "random",
                    "regularizers", "utils", "cli", "data", "saved_model", "sklearn", "cells",
                    "constraints", "train"}
_LAZY_NAMES = {"set_random_seed": "unafraid.random"}
_LAZY_ALIASES = {"keras_format": "unafraid.io.keras_format", "onnx": "unafraid.io.onnx"}


def __getattr__(name: str) -> Any:
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"unafraid.{name}")
    if name in _LAZY_ALIASES:
        return importlib.import_module(_LAZY_ALIASES[name])
    if name in _LAZY_NAMES:
        return getattr(importlib.import_module(_LAZY_NAMES[name]), name)
    from .unsupported import TF_NAMES, missing_name_error  # only on this error path
    raise missing_name_error("unafraid", name, __all__, TF_NAMES)


__all__ = [*_engine_all, "__version__", "constant", "ones", "zeros",  # noqa: F405
           "convert_to_tensor", "set_random_seed", "GradientTape", "function"]
