"""Single-cell RNA-seq with unafraid: count likelihoods, AnnData in and out, a cell-type
classifier and a count autoencoder. See ``docs/cells.md``.

anndata is an optional dependency (``pip install 'unafraid[cells]'``), imported only when an
AnnData is read or written; the likelihoods need nothing beyond NumPy.
"""

from __future__ import annotations

import importlib
from typing import Any

from .likelihoods import (
    ZINBNLL,
    NegativeBinomialNLL,
    PoissonNLL,
    dispersion_for_labels,
    negative_binomial_nll,
    poisson_nll,
    zinb_nll,
)

_LAZY = {
    "CountMatrix": "data", "CountWarning": "data", "read_counts": "data", "check_counts": "data",
    "library_size": "data", "size_factors": "data", "log_normalize": "data",
    "labels_from_obs": "data", "write_obsm": "data", "write_layer": "data", "write_obs": "data",
    "CellTypeClassifier": "classifier", "class_weights": "classifier",
    "CountAutoencoder": "autoencoder",
    "embedding_2d": "explore", "plot_embedding": "explore", "cell_table": "explore",
    "most_confusing_cells": "explore", "confusion_frame": "explore", "top_genes": "explore",
    "knn_accuracy": "explore", "silhouette": "explore",
    "WGANGP": "gan",
    "simulate_counts": "simulate",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"unafraid.cells.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'unafraid.cells' has no attribute '{name}'")


__all__ = ["poisson_nll", "negative_binomial_nll", "zinb_nll", "dispersion_for_labels",
           "PoissonNLL", "NegativeBinomialNLL", "ZINBNLL", *_LAZY]
