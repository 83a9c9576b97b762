"""``unafraid cells``: a classifier and a count autoencoder on an .h5ad, with a report.

On pbmc68k_reduced by default (or any ``.h5ad`` with ``--label-key``): split the cells
(stratified, ``--test-size``, ``--seed``), train :class:`CellTypeClassifier` and
:class:`CountAutoencoder` on the training cells, and write to ``--out``:

- ``metrics.json``: test accuracy and macro-F1 of the classifier; held-out NB negative
  log-likelihood per cell, kNN-15 accuracy and silhouette of the test cells' latent
  coordinates; the training curves. No timings, so that two runs give identical files.
- ``cells.h5ad``: the data with ``obsm["X_unafraid"]``, ``layers["unafraid_denoised"]``,
  ``obs["unafraid_prediction" / "_probability" / "_margin" / "_second" / "_split"]``.
- ``report.html`` and its figures.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_path, atomic_write_text
from .data import labels_from_obs, log_normalize, read_counts, require_anndata

__all__ = ["add_parser", "run_cells", "stratified_test_split"]


def stratified_test_split(codes: np.ndarray, test_size: float, seed: int) -> tuple[np.ndarray,
                                                                                   np.ndarray]:
    """Train and test indices, each cell type split in proportion.

    scikit-learn's ``train_test_split(stratify=codes, test_size=..., random_state=seed)``
    when scikit-learn is installed (the split the published reference figures use), else a
    seeded per-type split of unafraid's own.
    """
    idx = np.arange(len(codes))
    try:
        from sklearn.model_selection import train_test_split
    except ImportError:
        rng = np.random.default_rng(seed)
        test = np.sort(np.concatenate([
            rng.permutation(idx[codes == c])[:int(round(test_size * np.sum(codes == c)))]
            for c in np.unique(codes)]))
        return np.setdiff1d(idx, test), test
    train, test = train_test_split(idx, stratify=codes, test_size=test_size, random_state=seed)
    return np.sort(train), np.sort(test)


def macro_f1(y: np.ndarray, pred: np.ndarray, k: int) -> float:
    """Unweighted mean over the cell types present in ``y`` of ``2 TP / (2 TP + FP + FN)``."""
    scores = []
    for c in range(k):
        tp = np.sum((pred == c) & (y == c))
        fp, fn = np.sum((pred == c) & (y != c)), np.sum((pred != c) & (y == c))
        if tp + fn:
            scores.append(2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores))


def _write_h5ad(adata: Any, path: Path) -> None:
    """Write atomically, through the project's one atomic writer (a temporary, then a rename)."""
    with atomic_path(path) as tmp:
        adata.write_h5ad(tmp)


def _load(args: argparse.Namespace) -> tuple[Any, str]:
    if args.data is None:
        from ..datasets import pbmc68k_reduced
        return pbmc68k_reduced(), "pbmc68k_reduced"
    anndata = require_anndata()
    return anndata.read_h5ad(args.data), Path(args.data).name


def run_cells(args: argparse.Namespace) -> int:
    """The ``unafraid cells`` command (see the module docstring)."""
    from ..explore import plot_confusion_matrix, plot_history, tables
    from ..explore.report import write_report
    from . import explore as cx
    from .autoencoder import CountAutoencoder
    from .classifier import CellTypeClassifier

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, flush=True))
    adata, name = _load(args)
    layer = args.layer if args.layer != "X" else None
    if args.layer == "auto":
        layer = "counts" if "counts" in adata.layers else None
    say(f"Loaded {name}: {adata.n_obs} cells x {adata.n_vars} genes; counts from "
        f"{'adata.raw.X' if args.use_raw else f'adata.layers[{layer!r}]' if layer else 'adata.X'}.")
    counts = read_counts(adata, layer=layer, use_raw=args.use_raw)
    codes, classes = labels_from_obs(adata, args.label_key)
    train, test = stratified_test_split(codes, args.test_size, args.seed)
    sub = counts.X[train], counts.X[test]

    say(f"Training the cell-type classifier on {len(train)} cells ({len(classes)} types)...")
    clf = CellTypeClassifier(epochs=args.epochs, seed=args.seed).fit(
        sub[0], codes[train], class_names=classes)
    probs_all = clf.annotate(adata, layer=layer, use_raw=args.use_raw)
    probs = probs_all[test]
    pred = probs.argmax(1)
    accuracy = float(np.mean(pred == codes[test]))
    say(f"Classifier test accuracy: {accuracy:.4f}")

    say(f"Training the count autoencoder ({args.likelihood.upper()}, latent "
        f"{args.latent_dim})...")
    ae = CountAutoencoder(latent_dim=args.latent_dim, likelihood=args.likelihood,
                          max_epochs=args.max_epochs, seed=args.seed).fit(sub[0])
    test_nll = float(ae.negative_log_likelihood(sub[1]).mean())
    latent = ae.get_latent(adata, layer=layer, use_raw=args.use_raw)
    ae.get_denoised(adata, layer=layer, use_raw=args.use_raw)
    knn = cx.knn_accuracy(latent[train], codes[train], latent[test], codes[test], k=15)
    sil = cx.silhouette(latent[test], codes[test])
    say(f"Autoencoder held-out NLL per cell {test_nll:.2f}, kNN-15 accuracy {knn:.4f}, "
        f"silhouette {sil:.4f}")
    split = np.array(["train"] * adata.n_obs, dtype=object)
    split[test] = "test"
    adata.obs["unafraid_split"] = split

    # ---- figures and tables ----
    cell_names = [counts.obs_names[i] for i in test]
    worst = cx.most_confusing_cells(probs, codes[test], classes, cell_names, k=10)
    expression = np.concatenate([log_normalize(x, counts.library_size[r]) for r, x in
                                 counts.batches(None, 512)])
    worst_rows = test[tables.most_confusing(probs, codes[test], k=10)]
    worst["top_genes"] = [", ".join(g) for g in
                          cx.top_genes(expression, worst_rows, counts.var_names, k=5)]
    emb = cx.embedding_2d(latent, method=args.embedding, seed=args.seed)
    cx.plot_embedding(emb, adata.obs[args.label_key].astype(str).to_numpy(),
                      title="Latent space (2-D) by cell type", save=out / "latent_by_type.png")
    margin = adata.obs["unafraid_margin"].to_numpy()
    cx.plot_embedding(emb, margin, title="Latent space coloured by classifier margin (circled: "
                      "most confusing test cells)", highlight=worst_rows, save=out / "latent_by_margin.png")
    cm = cx.confusion_frame(codes[test], pred, classes)
    plot_confusion_matrix(cm.to_numpy(), labels=classes, save=out / "confusion_matrix.png")
    plot_history(clf.history, save=out / "classifier_history.png")
    plot_history(ae.history, save=out / "autoencoder_history.png")

    metrics = {
        "data": name, "cells": int(adata.n_obs), "genes": int(adata.n_vars),
        "label_key": args.label_key, "cell_types": classes, "seed": args.seed,
        "train_cells": int(len(train)), "test_cells": int(len(test)),
        "classifier": {"test_accuracy": accuracy,
                       "test_macro_f1": macro_f1(codes[test], pred, len(classes)),
                       "epochs": args.epochs, "history": clf.history},
        "autoencoder": {"likelihood": args.likelihood, "latent_dim": args.latent_dim,
                        "test_nll_per_cell": test_nll, "knn15_accuracy": knn,
                        "silhouette_test": sil, "best_epoch": ae.best_epoch + 1,
                        "history": ae.history},
        "most_confusing_test_cells": worst["cell"].tolist(),
    }
    gan_sections: list[Any] = []
    if getattr(args, "gan", False):  # unafraid cells --gan: see unafraid/cells/gan_report.py
        from .gan_report import gan_results
        metrics["gan"], gan_sections = gan_results(expression, codes, classes, counts.var_names,
                                                   train, test, args.gan_steps, args.seed, out,
                                                   verbose=not args.quiet)
    atomic_write_text(out / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    _write_h5ad(adata, out / "cells.h5ad")
    shown = worst[["cell", "true_type", "predicted_type", "second_type", "margin", "top_genes"]]
    write_report(out / "report.html", f"unafraid cells: {name}", [
        ("metrics", {"classifier test accuracy": f"{accuracy:.4f}",
                     "autoencoder held-out NB NLL per cell": f"{test_nll:.2f}",
                     "latent kNN-15 accuracy": f"{knn:.4f}", "latent silhouette": f"{sil:.4f}",
                     "train / test cells": f"{len(train)} / {len(test)}", "seed": args.seed}),
        ("heading", "The latent space"),
        ("image", out / "latent_by_type.png", "The autoencoder's latent coordinates, in 2-D, by "
                                              "cell type"),
        ("image", out / "latent_by_margin.png", "The same, coloured by the classifier's margin"),
        ("heading", "The most confusing test cells"),
        ("text", "Margin = probability of the top cell type minus that of the runner-up; top "
                 "genes = the genes most above their mean expression in that cell."),
        ("table", shown),
        ("heading", "Confusion matrix (test cells)"),
        ("image", out / "confusion_matrix.png", "Rows: true type; columns: predicted"),
        ("heading", "Training curves"),
        ("image", out / "classifier_history.png", "Classifier: loss and training accuracy"),
        ("image", out / "autoencoder_history.png", "Autoencoder: NB negative log-likelihood per "
                                                   "cell, training and validation cells"),
        *gan_sections,
    ])
    say(f"Wrote {out}/: metrics.json, cells.h5ad, report.html and figures.")
    return 0


def add_parser(sub: Any) -> None:
    """Add the ``cells`` sub-command to ``unafraid``'s argument parser."""
    c = sub.add_parser("cells", help="single-cell RNA-seq: a cell-type classifier and a count "
                                     "autoencoder on an .h5ad, with a report",
                       description="Train a cell-type classifier and an NB count autoencoder "
                                   "(pbmc68k_reduced by default), and write metrics.json, the "
                                   "annotated .h5ad and report.html to --out.")
    c.add_argument("--data", default=None, help=".h5ad file (default: pbmc68k_reduced, from "
                                                "$UNAFRAID_DATA, the cache or scanpy)")
    c.add_argument("--label-key", default="bulk_labels", help="obs column with the cell types "
                                                              "(default bulk_labels)")
    c.add_argument("--layer", default="auto", help="layer with the counts; 'X' for adata.X "
                                                   "(default: 'counts' if present, else X)")
    c.add_argument("--use-raw", action="store_true", help="read the counts from adata.raw.X")
    c.add_argument("--test-size", type=float, default=0.25, help="fraction of test cells (0.25)")
    c.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    c.add_argument("--epochs", type=int, default=30, help="classifier epochs (default 30)")
    c.add_argument("--max-epochs", type=int, default=400,
                   help="autoencoder epochs at most; early stopping usually ends sooner")
    c.add_argument("--latent-dim", type=int, default=10, help="latent dimensions (default 10)")
    c.add_argument("--likelihood", choices=["nb", "zinb", "poisson"], default="nb")
    c.add_argument("--embedding", choices=["pca", "umap", "auto"], default="pca",
                   help="2-D embedding of the latent space (default pca)")
    c.add_argument("--gan", action="store_true", help="also train a WGAN-GP on the training "
                   "cells and add generated-cell metrics, baselines and a PCA to the report")
    c.add_argument("--gan-steps", type=int, default=3000, help="WGAN-GP generator steps (3000)")
    c.add_argument("--out", default="unafraid-cells", help="output folder (./unafraid-cells)")
    c.add_argument("--quiet", action="store_true", help="print nothing")
    c.set_defaults(func=run_cells)
