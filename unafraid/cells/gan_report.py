"""``unafraid cells --gan``: train :class:`~unafraid.cells.WGANGP` on the training cells and
judge the generated cells against held-out ones, for the ``unafraid cells`` report.

On log1p-normalised expression (``log1p(counts / total * 1e4)``) of the same split as the
classifier: train the GAN for ``--gan-steps`` generator steps, generate as many cells as there
are test cells, and score them, a sample of the real training cells (the upper bound) and the
three baselines of :mod:`unafraid.cells.metrics` against the test cells. The report gains the
metrics table, a PCA of real and generated cells together, marker genes per cell type (real
test cells and generated cells as the real-cell classifier labels them) and the GAN's curves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["gan_results", "marker_genes"]


def marker_genes(expression: np.ndarray, codes: np.ndarray, var_names: list[str],
                 n_types: int, k: int = 5) -> list[list[str]]:
    """For each type 0..n_types-1, the ``k`` genes whose mean in that type's cells most exceeds
    their mean over all cells (``[]`` for a type with no cells)."""
    overall = expression.mean(0)
    out = []
    for c in range(n_types):
        rows = codes == c
        if not rows.any():
            out.append([])
            continue
        lift = expression[rows].mean(0) - overall
        out.append([var_names[j] for j in np.argsort(-lift, kind="stable")[:k]])
    return out


def gan_results(x: np.ndarray, codes: np.ndarray, classes: list[str], var_names: list[str],
                train: np.ndarray, test: np.ndarray, steps: int, seed: int, out: Path,
                verbose: bool = True, n_estimators: int = 100) -> tuple[dict[str, Any], list[Any]]:
    """Train, generate, score; returns ``(metrics, report sections)`` (figures saved in ``out``).

    Parameters
    ----------
    x : (N, G) float32
        log1p-normalised expression of all cells.
    codes : (N,) int
        Cell types (0..K-1) named by ``classes``.
    train, test : int arrays
        The split (the classifier's).
    steps : int
        Generator steps.
    n_estimators : int, default 100
        Trees of each two-sample random forest.
    """
    from ..explore import plot_history
    from . import explore as cx
    from . import metrics as M
    from .gan import WGANGP

    say = print if verbose else (lambda *a, **k: None)
    n = len(test)
    say(f"Training the WGAN-GP for {steps} generator steps (5 critic steps each)...")
    gan = WGANGP(seed=seed).fit(x[train], steps=steps, verbose=int(verbose))
    generated = gan.generate(n, seed=seed + 100)
    real_sample = x[train][np.random.default_rng(seed).permutation(len(train))[:n]]
    samples = {"real training cells": real_sample, "WGAN-GP": generated,
               **M.baselines(x[train], codes[train], n, seed=seed)}
    classifier = M.fit_type_classifier(x[train], codes[train], seed)
    say("Scoring the generated cells and the baselines against the test cells...")
    table = M.evaluate(x[train], codes[train], x[test], samples, seed=seed, classifier=classifier,
                       n_estimators=n_estimators, test_labels=codes[test])

    both = np.concatenate([x[test], generated])
    emb = cx.embedding_2d(both, method="pca", seed=seed)
    source = np.array(["real (test)"] * n + ["generated"] * n, dtype=object)
    cx.plot_embedding(emb, source, title="PCA of real test cells and generated cells",
                      save=out / "gan_pca.png")
    gen_types = classifier.predict(generated)
    cx.plot_embedding(emb, np.concatenate([np.asarray(classes, object)[codes[test]],
                                           np.asarray(classes, object)[gen_types]]),
                      title="The same, by cell type (generated: as the real-cell classifier "
                            "labels them)", save=out / "gan_pca_by_type.png")
    plot_history(gan.history.history, save=out / "gan_history.png")
    k = len(classes)
    real_markers = marker_genes(x[test], codes[test], var_names, k)
    gen_markers = marker_genes(generated, gen_types, var_names, k)
    markers = [{"cell type": classes[c], "real test cells": ", ".join(real_markers[c]),
                "generated cells": ", ".join(gen_markers[c]) or "(none generated)",
                "generated share": f"{np.mean(gen_types == c):.3f}"} for c in range(k)]
    shown = table.round(4).reset_index().rename(columns={"index": "sample"})
    metrics = {"steps": steps, "seed": seed, "cells_generated": n,
               "table": table.round(6).to_dict(orient="index"),
               "final_wasserstein": gan.history.history["wasserstein"][-1]}
    sections = [
        ("heading", f"Generated cells: WGAN-GP, {steps} generator steps"),
        ("text", "Each row is scored against the held-out test cells. rf_auc: random-forest "
                 "two-sample AUC (0.5 = indistinguishable); mmd2: unbiased MMD^2, RBF kernel "
                 "on all genes; gene_gene_corr: correlation of the gene-gene "
                 "correlation matrices of the 100 most variable genes; type_distance: total "
                 "variation between the test cells' annotated cell-type proportions and "
                 "those a classifier trained on real cells assigns to the sample; precision / recall: "
                 "k-NN (k = 5). Per-gene mean, variance and zero-fraction correlations do not "
                 "separate good generators from the baselines: judge by the others together."),
        ("table", shown),
        ("image", out / "gan_pca.png", "PCA of real test cells and generated cells together"),
        ("image", out / "gan_pca_by_type.png", "The same, coloured by cell type"),
        ("heading", "Marker genes per cell type"),
        ("text", "The 5 genes most above their overall mean in each type's cells."),
        ("table", markers),
        ("image", out / "gan_history.png", "WGAN-GP: critic and generator losses, Wasserstein "
                                           "estimate and gradient penalty per generator step"),
    ]
    return metrics, sections
