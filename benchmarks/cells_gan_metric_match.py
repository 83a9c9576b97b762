"""How well unafraid.cells.metrics reproduces issue 22's baseline rows (which need no generator).

The issue's table was measured with its author's own implementations of the metrics. Its four
baseline rows (real training cells, independent marginals, clipped Gaussian, mode dropping)
depend only on the data and the metric definitions, so they tell which definitions the issue
used. This script scores ``--draws`` random draws of each baseline (175 cells each, seeds
0..draws-1; "real training cells" = 175 training cells drawn without replacement) against the
175 held-out cells of the fixed split, with the definitions before 2026-12-03 (MMD^2 on 50 PCs
of the training cells; type proportions of the held-out cells as predicted) and the current
defaults (MMD^2 on all genes; the held-out cells' annotated types), and prints mean and standard
deviation over the draws next to the issue's values.

    UNAFRAID_DATA=path/to/data python benchmarks/cells_gan_metric_match.py --draws 5
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from cells_gan import load  # benchmarks/ is this script's folder

from unafraid.cells import metrics as M

ISSUE = pd.DataFrame.from_dict({
    "real training cells": [0.51, -0.001, 0.96, 0.063, 0.81],
    "independent marginals": [0.88, 0.005, 0.01, 0.47, 0.56],
    "Gaussian clipped at 0": [1.00, 0.040, 0.95, 0.17, 0.01],
    "3 largest types only (mode dropping)": [0.70, 0.031, 0.73, 0.34, 0.44]},
    orient="index", columns=["rf_auc", "mmd2", "gene_gene_corr", "type_distance", "recall"])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--draws", type=int, default=5)
    args = p.parse_args()
    x, codes, train, test, _ = load()
    n, cols = len(test), list(ISSUE.columns)
    classifier = M.fit_type_classifier(x[train], codes[train])
    tables = {"before 2026-12-03": [], "now": []}
    for seed in range(args.draws):
        samples = {"real training cells":
                   x[train][np.random.default_rng(seed).permutation(len(train))[:n]],
                   **M.baselines(x[train], codes[train], n, seed=seed)}
        common = dict(seed=0, classifier=classifier)
        tables["before 2026-12-03"].append(M.evaluate(x[train], codes[train], x[test], samples,
                                                      mmd_space="pca", **common)[cols])
        tables["now"].append(M.evaluate(x[train], codes[train], x[test], samples,
                                        test_labels=codes[test], **common)[cols])
    pd.set_option("display.width", 200)
    print("issue 22's values:\n" + ISSUE.to_string())
    for name, runs in tables.items():
        stacked = pd.concat(runs)
        mean, sd = stacked.groupby(level=0).mean(), stacked.groupby(level=0).std(ddof=0)
        print(f"\n{name}: mean over {args.draws} draws (sd)")
        print((mean.round(3).astype(str) + " (" + sd.round(3).astype(str) + ")")
              .loc[ISSUE.index].to_string())
        print(f"largest |difference| from the issue, by column:\n"
              f"{(mean.loc[ISSUE.index] - ISSUE).abs().max().round(3).to_string()}")


if __name__ == "__main__":
    main()
