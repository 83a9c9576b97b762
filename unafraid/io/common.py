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


class LoadStatus:
    """What a load matched, as TensorFlow's load status (``tf.train.Checkpoint.restore`` and
    ``model.load_weights`` return one): the ``assert_*`` methods raise ``AssertionError`` naming
    what did not match."""

    def __init__(self, unused_in_file: list[str], unmatched_objects: list[str], matched: int,
                 path: str) -> None:
        self.unused_in_file = unused_in_file
        self.unmatched_objects = unmatched_objects
        self.matched = matched
        self.path = path

    def assert_consumed(self) -> LoadStatus:
        """Every value of the file was restored and every variable of the objects got one."""
        if self.unused_in_file or self.unmatched_objects:
            raise AssertionError(
                f"{self.path}: values of the file matched by no object: "
                f"{self.unused_in_file[:10]}; variables of the objects with no value in the file "
                f"(left as they were): {self.unmatched_objects[:10]}.")
        return self

    def assert_existing_objects_matched(self) -> LoadStatus:
        """Every variable of the objects got a value (the file may hold more)."""
        if self.unmatched_objects:
            raise AssertionError(f"{self.path}: variables with no value in the file "
                                 f"(left as they were): {self.unmatched_objects[:10]}.")
        return self

    def assert_nontrivial_match(self) -> LoadStatus:
        """At least one variable was restored."""
        if not self.matched:
            raise AssertionError(f"{self.path}: no variable of the objects matched "
                                 f"a value of the file.")
        return self

    def expect_partial(self) -> LoadStatus:
        """Accepted (nothing is reported when a restore is partial)."""
        return self


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


def weight_decay_exclusions(optimizer: Any, weights: list[Any]) -> list[int] | None:
    """The positions in ``weights`` of those ``exclude_from_weight_decay`` exempts, when the
    optimizer decays weights and exempts any (None otherwise): what a file records, since
    neither unafraid's nor Keras's optimizer config holds the exclusions."""
    if optimizer is None or not getattr(optimizer, "weight_decay", None):
        return None
    excluded = [i for i, w in enumerate(weights) if not optimizer.uses_weight_decay(w)]
    return excluded or None


def restore_weight_decay_exclusions(optimizer: Any, weights: list[Any], excluded: Any,
                                    path: Any) -> None:
    """``optimizer.exclude_from_weight_decay(var_list=...)`` with the weights at the saved
    positions (checked: distinct indices below ``len(weights)``)."""
    if not isinstance(excluded, list) or len(set(map(repr, excluded))) != len(excluded) or not all(
            isinstance(i, int) and not isinstance(i, bool) and 0 <= i < len(weights)
            for i in excluded):
        raise ModelFileError(f"{path}: the weights exempt from weight decay must be distinct "
                             f"indices below {len(weights)}; the file is corrupt.")
    optimizer.exclude_from_weight_decay(var_list=[weights[i] for i in excluded])
