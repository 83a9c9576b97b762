"""``tf.data.experimental``: CsvDataset, cardinality and the older spellings of Dataset methods."""

from __future__ import annotations

from typing import Any

from .dataset import (
    AUTOTUNE,
    INFINITE_CARDINALITY,
    UNKNOWN_CARDINALITY,
    Cardinality,
    CsvDataset,
    Dataset,
)


def cardinality(dataset: Dataset) -> Cardinality:
    """``dataset.cardinality()``: -1 for infinite, -2 for unknown."""
    return dataset.cardinality()


def sample_from_datasets(datasets: list[Dataset], weights: Any = None, seed: int | None = None,
                         stop_on_empty_dataset: bool = False) -> Dataset:
    """``Dataset.sample_from_datasets`` (the older, experimental name)."""
    return Dataset.sample_from_datasets(datasets, weights, seed, stop_on_empty_dataset)


__all__ = ["AUTOTUNE", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY", "CsvDataset", "cardinality",
           "sample_from_datasets"]
