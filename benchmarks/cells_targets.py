"""Measure issue 19's targets on pbmc68k_reduced (not a speed benchmark).

Classifier: mean test accuracy over 5 stratified 25% splits (random_state 0-4).
Autoencoder (NB): on the fixed split (random_state 0), held-out NB NLL per cell, kNN-15
accuracy of the test cells' latent (neighbours among training cells) and silhouette of the
test cells, for seeds 0, 1, 2, and their means.

    UNAFRAID_DATA=path/to/data python benchmarks/cells_targets.py [--part classifier|autoencoder]
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from sklearn.model_selection import train_test_split

import unafraid as uf
from unafraid import cells


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--part", choices=["classifier", "autoencoder", "both"], default="both")
    args = p.parse_args()
    adata = uf.datasets.pbmc68k_reduced()
    counts = adata.layers["counts"]
    y, _ = cells.labels_from_obs(adata, "bulk_labels")
    out = {}
    if args.part in ("classifier", "both"):
        accs = []
        for rs in range(5):
            tr, te = train_test_split(np.arange(adata.n_obs), stratify=y, test_size=0.25,
                                      random_state=rs)
            clf = cells.CellTypeClassifier(seed=0).fit(counts[tr], y[tr])
            accs.append(float(np.mean(clf.predict_proba(counts[te]).argmax(1) == y[te])))
            print(f"classifier split {rs}: test accuracy {accs[-1]:.4f}", flush=True)
        out["classifier"] = {"accuracies": accs, "mean": float(np.mean(accs))}
    if args.part in ("autoencoder", "both"):
        tr, te = train_test_split(np.arange(adata.n_obs), stratify=y, test_size=0.25,
                                  random_state=0)
        rows = []
        for seed in range(3):
            ae = cells.CountAutoencoder(seed=seed).fit(counts[tr])
            nll = float(ae.negative_log_likelihood(counts[te]).mean())
            z_tr, z_te = ae.get_latent(counts[tr]), ae.get_latent(counts[te])
            knn = cells.knn_accuracy(z_tr, y[tr], z_te, y[te], k=15)
            sil = cells.silhouette(z_te, y[te])
            rows.append({"seed": seed, "nll": nll, "knn15": knn, "silhouette": sil,
                         "epochs": len(ae.history["loss"])})
            print(f"autoencoder seed {seed}: NLL {nll:.2f}, kNN-15 {knn:.4f}, silhouette "
                  f"{sil:.4f}", flush=True)
        out["autoencoder"] = {"runs": rows, **{f"mean_{k}": float(np.mean([r[k] for r in rows]))
                                              for k in ("nll", "knn15", "silhouette")}}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
