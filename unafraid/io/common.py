"""What unafraid's own files and Keras's ``.keras`` files share when loading: the error every
refusal raises, and restoring the random generators' saved states."""

from __future__ import annotations

from typing import Any

import numpy as np


def model_classes() -> tuple[type, type]:
    """``(Functional, Sequential)`` from the registry (io never imports the models package at
    import time: ``unafraid.models`` registers them when it is imported, which is done here, so
    that ``unafraid.io.load_model`` works before anything else touched ``unafraid.models``)."""
    import importlib

    from .. import registry
    importlib.import_module(f"{__package__.rpartition('.')[0]}.models")
    return registry.lookup("layer", "Functional"), registry.lookup("layer", "Sequential")


class ModelFileError(ValueError):
    """A file that is not a readable unafraid model (or weights) file."""


def restore_generators(model: Any, states: Any, path: Any) -> None:
    """Set the random generators' saved states, all checked before any is changed."""
    from .. import random as _random
    gens = model.random_generators()
    if not isinstance(states, list) or len(states) != len(gens):
        return
    try:
        for g, s in zip(gens, states, strict=True):  # rehearse on copies first
            _random.set_generator_state(np.random.Generator(type(g.bit_generator)()), s)
    except Exception as e:
        raise ModelFileError(f"{path}: the saved random-generator states are invalid "
                             f"({type(e).__name__}: {str(e)[:200]}); the file is corrupt.") from None
    for g, s in zip(gens, states, strict=True):
        _random.set_generator_state(g, s)
