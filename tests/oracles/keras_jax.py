"""Keras 3 on its JAX backend, the oracle for Keras-compatibility tests, or a skip."""

from __future__ import annotations

import importlib.util
import os
from types import ModuleType

import pytest

HAS_KERAS = importlib.util.find_spec("keras") is not None and importlib.util.find_spec("jax") is not None


def keras_jax() -> ModuleType:
    """Keras 3 on JAX (the oracle), or skip the calling test."""
    if not HAS_KERAS:
        pytest.skip("Keras 3 with JAX is not installed")
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras
    if keras.backend.backend() != "jax":
        pytest.skip("Keras is not on its JAX backend in this process")
    return keras
