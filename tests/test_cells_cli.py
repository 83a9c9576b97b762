"""`unafraid cells` end to end on pbmc68k_reduced (small epochs): outputs, and two runs giving
identical metrics.json and latent coordinates."""

import json
from pathlib import Path

import anndata
import numpy as np
import pytest

from unafraid import cli
from unafraid.atomic import atomic_path, atomic_write_text
from unafraid.cells import run as cells_run

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


@pytest.mark.slow
def test_unafraid_cells_writes_outputs_and_is_deterministic(tmp_path, monkeypatch):
    monkeypatch.setenv("UNAFRAID_DATA", str(DATA))
    written = []  # metrics.json goes through the project's one atomic writer

    def spy(path, text, *args, **kwargs):
        written.append(Path(path).name)
        return atomic_write_text(path, text, *args, **kwargs)

    monkeypatch.setattr(cells_run, "atomic_write_text", spy)

    def path_spy(path, *args, **kwargs):  # and so does the annotated .h5ad
        written.append(Path(path).name)
        return atomic_path(path, *args, **kwargs)

    monkeypatch.setattr(cells_run, "atomic_path", path_spy)
    runs = []
    for name in ("a", "b"):
        out = tmp_path / name
        assert cli.main(["cells", "--epochs", "2", "--max-epochs", "3", "--quiet",
                         "--out", str(out)]) == 0
        runs.append(out)
    assert sorted(written) == ["cells.h5ad", "cells.h5ad", "metrics.json", "metrics.json"]
    for out in runs:
        assert not [p.name for p in out.iterdir() if p.name.startswith(".")]  # no temporaries
        for f in ("metrics.json", "cells.h5ad", "report.html", "latent_by_type.png",
                  "latent_by_margin.png", "autoencoder_history.png", "classifier_history.png"):
            assert (out / f).stat().st_size > 0, f
    m = json.loads((runs[0] / "metrics.json").read_text())
    assert m["train_cells"] == 525 and m["test_cells"] == 175 and len(m["cell_types"]) == 10
    assert 0 < m["classifier"]["test_accuracy"] <= 1 and np.isfinite(m["autoencoder"]["test_nll_per_cell"])
    assert (runs[0] / "metrics.json").read_bytes() == (runs[1] / "metrics.json").read_bytes()
    a, b = (anndata.read_h5ad(out / "cells.h5ad") for out in runs)
    assert a.obsm["X_unafraid"].shape == (700, 10)
    np.testing.assert_array_equal(a.obsm["X_unafraid"], b.obsm["X_unafraid"])
    np.testing.assert_array_equal(a.layers["unafraid_denoised"], b.layers["unafraid_denoised"])
    assert {"unafraid_prediction", "unafraid_margin", "unafraid_split"} <= set(a.obs.columns)
    html = (runs[0] / "report.html").read_text()
    assert "most confusing test cells" in html and "data:image/png;base64" in html
