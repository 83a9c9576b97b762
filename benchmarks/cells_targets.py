"""Measure issue 19's targets on pbmc68k_reduced (not a speed benchmark).

Classifier: mean test accuracy over 5 stratified 25% splits (random_state 0-4).
Autoencoder (NB): on the fixed split (random_state 0), held-out NB NLL per cell, kNN-15
accuracy of the test cells' latent (neighbours among training cells) and silhouette of the
test cells, for seeds 0, 1, 2, and their means.

    UNAFRAID_DATA=path/to/data python benchmarks/cells_targets.py [--part classifier|autoencoder]

``--ae-splits 0 1 2 3 4`` measures the autoencoder on the 5 repeated splits too (the mean over
splits and seeds is reported per split and overall); ``--ae-kwargs '{"lr_patience": 10}'``
passes keyword arguments to ``CountAutoencoder`` (to try a default before changing it).
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
    p.add_argument("--ae-splits", type=int, nargs="+", default=[0],
                   help="random_state of the autoencoder's splits (default: the fixed split 0)")
    p.add_argument("--ae-kwargs", type=json.loads, default={},
                   help="CountAutoencoder keyword arguments, as JSON")
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
        rows = []
        for rs in args.ae_splits:
            tr, te = train_test_split(np.arange(adata.n_obs), stratify=y, test_size=0.25,
                                      random_state=rs)
            for seed in range(3):
                ae = cells.CountAutoencoder(seed=seed, **args.ae_kwargs).fit(counts[tr])
                nll = float(ae.negative_log_likelihood(counts[te]).mean())
                z_tr, z_te = ae.get_latent(counts[tr]), ae.get_latent(counts[te])
                knn = cells.knn_accuracy(z_tr, y[tr], z_te, y[te], k=15)
                sil = cells.silhouette(z_te, y[te])
                rows.append({"split": rs, "seed": seed, "nll": nll, "knn15": knn,
                             "silhouette": sil, "epochs": len(ae.history["loss"])})
                print(f"autoencoder split {rs} seed {seed}: NLL {nll:.2f}, kNN-15 {knn:.4f}, "
                      f"silhouette {sil:.4f}", flush=True)
        keys = ("nll", "knn15", "silhouette")
        per_split = {rs: {f"mean_{k}": float(np.mean([r[k] for r in rows if r["split"] == rs]))
                          for k in keys} for rs in args.ae_splits}
        out["autoencoder"] = {"kwargs": args.ae_kwargs, "runs": rows, "per_split": per_split,
                              **{f"mean_{k}": float(np.mean([r[k] for r in rows])) for k in keys}}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
