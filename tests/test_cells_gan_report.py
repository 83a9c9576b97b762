"""`unafraid cells --gan`: the options, marker genes, and the GAN section on a small slice of
pbmc68k_reduced."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from unafraid.cells.gan_report import gan_results, marker_genes
from unafraid.cells.run import add_parser

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def test_cells_parser_has_the_gan_options():
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    args = parser.parse_args(["cells", "--gan", "--gan-steps", "7"])
    assert args.gan and args.gan_steps == 7
    default = parser.parse_args(["cells"])
    assert not default.gan and default.gan_steps == 3000


def test_marker_genes_hand_worked():
    x = np.array([[5.0, 0, 1], [4, 0, 1], [0, 3, 1], [0, 0, 9]])
    # overall means 2.25, 0.75, 3; type 0 lifts: 2.25, -0.75, -2; type 1: -2.25, 0.75, 1.5
    assert marker_genes(x, np.array([0, 0, 1, 1]), ["a", "b", "c"], 3, k=2) == \
        [["a", "b"], ["c", "b"], []]


@pytest.mark.slow
def test_gan_section_on_a_slice_of_pbmc(tmp_path, monkeypatch):
    monkeypatch.setenv("UNAFRAID_DATA", str(DATA))
    import unafraid as uf
    from unafraid.cells import labels_from_obs

    adata = uf.datasets.pbmc68k_reduced()
    x = adata.raw.X.toarray()[:240, :60].astype(np.float32)
    codes, classes = labels_from_obs(adata, "bulk_labels")
    codes = codes[:240]
    train, test = np.arange(180), np.arange(180, 240)
    metrics, sections = gan_results(x, codes, classes, list(adata.var_names[:60]), train, test,
                                    steps=2, seed=0, out=tmp_path, verbose=False, n_estimators=10)
    rows = metrics["table"]
    assert set(rows) == {"real training cells", "WGAN-GP", "independent marginals",
                         "Gaussian clipped at 0", "3 largest types only (mode dropping)"}
    assert all(0 <= r["rf_auc"] <= 1 and 0 <= r["recall"] <= 1 for r in rows.values())
    json.dumps(metrics)  # goes into metrics.json as it is
    for f in ("gan_pca.png", "gan_pca_by_type.png", "gan_history.png"):
        assert (tmp_path / f).stat().st_size > 0
    assert [s[0] for s in sections].count("table") == 2
