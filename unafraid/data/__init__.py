"""``tf.data``: ``Dataset``, ``AUTOTUNE``, the cardinality constants and ``experimental``.

``import unafraid as tf; tf.data.Dataset.from_tensor_slices((x, y)).batch(32)``
builds a lazy, deterministic input pipeline; see :mod:`unafraid.data.dataset`.
"""

from __future__ import annotations

from . import experimental
from .dataset import (
    AUTOTUNE,
    INFINITE_CARDINALITY,
    UNKNOWN_CARDINALITY,
    Cardinality,
    Dataset,
    TensorSpec,
    TextLineDataset,
)

__all__ = ["AUTOTUNE", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY", "Cardinality", "Dataset",
           "TensorSpec", "TextLineDataset", "experimental"]
