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

import numpy as _np

from .engine import *  # noqa: F403
from .engine import __all__ as _engine_all

__version__ = "0.1.0"


def constant(value: Any, dtype: Any = None) -> Tensor:  # noqa: F405
    """A Tensor holding ``value`` (float data becomes float32 unless ``dtype`` says otherwise)."""
    return Tensor(value, dtype=dtype)  # noqa: F405


def ones(shape: Any, dtype: Any = "float32") -> Tensor:  # noqa: F405
    """A Tensor of ones."""
    return Tensor(_np.ones(shape, dtype))  # noqa: F405


def zeros(shape: Any, dtype: Any = "float32") -> Tensor:  # noqa: F405
    """A Tensor of zeros."""
    return Tensor(_np.zeros(shape, dtype))  # noqa: F405


convert_to_tensor = constant

_LAZY_SUBMODULES = {"nn", "models", "optimizers", "losses", "metrics", "layers", "callbacks",
                    "initializers", "activations", "datasets", "explore", "keras", "io", "random",
                    "regularizers", "utils", "cli"}
_LAZY_NAMES = {"set_random_seed": "unafraid.random"}


def __getattr__(name: str) -> Any:
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"unafraid.{name}")
    if name in _LAZY_NAMES:
        return getattr(importlib.import_module(_LAZY_NAMES[name]), name)
    from .unsupported import TF_NAMES, missing_name_error  # only on this error path
    raise missing_name_error("unafraid", name, __all__, TF_NAMES)


__all__ = [*_engine_all, "__version__", "constant", "ones", "zeros", "convert_to_tensor",
           "set_random_seed"]  # noqa: F405
