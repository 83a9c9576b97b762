"""AnnData in and out: counts from X / a layer / raw, dense or CSR batch by batch, labels,
library sizes, the count check's warning, writing results back, and the pbmc68k_reduced loader."""

import hashlib
import shutil
import warnings
from pathlib import Path

import anndata
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import unafraid as uf
from unafraid import cells
from unafraid.datasets import CorruptFileError, DatasetUnavailableError
from unafraid.datasets import pbmc as pbmc_module

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "pbmc68k_reduced"
FILE = DATA / "10x_pbmc68k_reduced.h5ad"


def small_adata():
    counts = np.array([[0, 2, 1], [3, 0, 0], [1, 1, 5], [0, 0, 4]], np.float32)
    a = anndata.AnnData(X=np.log1p(counts), obs=pd.DataFrame(
        {"type": pd.Categorical(["B", "T", "B", "NK"])}, index=[f"c{i}" for i in range(4)]),
        var=pd.DataFrame(index=["g0", "g1", "g2"]))
    a.layers["counts"] = sp.csr_matrix(counts)
    a.raw = anndata.AnnData(X=counts, obs=a.obs, var=a.var)
    return a, counts


def test_read_counts_from_layer_raw_and_array():
    a, counts = small_adata()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # integer counts: no warning
        from_layer = cells.read_counts(a, layer="counts")
        from_raw = cells.read_counts(a, use_raw=True)
        from_array = cells.read_counts(counts)
    for m in (from_layer, from_raw, from_array):
        np.testing.assert_array_equal(m.rows(np.arange(4)), counts)
        np.testing.assert_array_equal(m.library_size, counts.sum(1))
    assert sp.issparse(from_layer.X)  # kept sparse
    assert from_layer.obs_names == ["c0", "c1", "c2", "c3"] and from_layer.var_names[2] == "g2"
    assert from_layer.source == "adata.layers['counts']"


def test_csr_is_densified_one_batch_at_a_time(monkeypatch):
    X = sp.random(50, 20, density=0.2, format="csr", random_state=0, dtype=np.float32)
    X.data = np.ceil(X.data * 10)
    m, dense = cells.read_counts(X), X.toarray()
    shapes, toarray = [], sp.csr_matrix.toarray

    def no_whole_toarray(self, *a, **k):  # records the size of every densified block
        shapes.append(self.shape)
        return toarray(self, *a, **k)

    monkeypatch.setattr(sp.csr_matrix, "toarray", no_whole_toarray)
    got = np.concatenate([x for _, x in m.batches(None, batch_size=16)])
    np.testing.assert_array_equal(got, dense)
    assert shapes and max(s[0] for s in shapes) <= 16


def test_library_size_and_size_factors():
    X = np.array([[1, 1], [2, 2], [5, 3]])
    np.testing.assert_array_equal(cells.library_size(X), [2, 4, 8])
    np.testing.assert_array_equal(cells.library_size(sp.csr_matrix(X)), [2, 4, 8])
    np.testing.assert_allclose(cells.size_factors([2, 4, 8]), [0.5, 1, 2])
    with pytest.raises(ValueError, match="median library size is 0"):
        cells.size_factors([0, 0, 3])


def test_log_normalize_is_scanpys_normalize_total_log1p():
    counts = np.array([[1.0, 3.0], [0.0, 0.0]], np.float32)
    got = cells.log_normalize(counts, counts.sum(1), 1e4)
    np.testing.assert_allclose(got, [[np.log1p(2500), np.log1p(7500)], [0, 0]], rtol=1e-6)


def test_count_check_warns_with_the_fix_and_names_cells_and_genes():
    a, _ = small_adata()
    with pytest.warns(cells.CountWarning) as record:
        report = cells.check_counts(a.X, a.obs_names, a.var_names, "adata.X")
    msg = str(record[0].message)
    assert "adata.X does not look like raw counts" in msg
    assert "c0" in msg and "g1" in msg and "layer='counts'" in msg and "expm1" in msg
    np.testing.assert_array_equal(report["cells"], [0, 1, 2, 3])
    np.testing.assert_array_equal(report["genes"], [0, 1, 2])
    # negatives are counted, and the data are still read (a warning, not a refusal)
    with pytest.warns(cells.CountWarning, match="1 negative"):
        m = cells.read_counts(np.array([[1.0, -1.0], [2.0, 0.5]]))
    assert m.shape == (2, 2)
    # sparse: only the offending entries are reported
    X = sp.csr_matrix(np.array([[0, 1, 0], [0, 0, 2.5], [3, 0, 0]]))
    with pytest.warns(cells.CountWarning, match="1 non-integer"):
        report = cells.check_counts(X)
    assert report["cells"].tolist() == [1] and report["genes"].tolist() == [2]


def test_read_counts_errors_name_what_exists():
    a, _ = small_adata()
    with pytest.raises(KeyError, match="Did you mean 'counts'"):
        cells.read_counts(a, layer="count")
    with pytest.raises(ValueError, match="not both"):
        cells.read_counts(a, layer="counts", use_raw=True)


def test_labels_from_obs():
    a, _ = small_adata()
    codes, names = cells.labels_from_obs(a, "type")
    assert names == ["B", "NK", "T"] and codes.tolist() == [0, 2, 0, 1]
    with pytest.raises(KeyError, match="Did you mean 'type'"):
        cells.labels_from_obs(a, "typ")


def test_results_go_back_where_scverse_users_look():
    a, _ = small_adata()
    cells.write_obsm(a, np.ones((4, 2), np.float32))
    cells.write_layer(a, np.zeros((4, 3), np.float32), "denoised")
    cells.write_obs(a, {"margin": np.arange(4.0)})
    assert a.obsm["X_unafraid"].shape == (4, 2) and "denoised" in a.layers
    assert a.obs["margin"].tolist() == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="3 rows for an AnnData of 4 cells"):
        cells.write_obsm(a, np.ones((3, 2)))


# ---- the pbmc68k_reduced loader ---------------------------------------------------------------------
def test_pbmc68k_reduced_from_unafraid_data_with_counts_recovered(monkeypatch):
    monkeypatch.setenv("UNAFRAID_DATA", str(DATA.parent))  # its pbmc68k_reduced/ sub-folder
    adata = uf.datasets.pbmc68k_reduced()
    assert adata.shape == (700, 765)
    counts = adata.layers["counts"]
    assert sp.issparse(counts)
    totals = np.asarray(counts.sum(1)).ravel()
    assert totals.min() == 342 and totals.max() == 1654 and np.median(totals) == 653  # data README
    # exact recovery: every entry of expm1(raw.X) * n_counts / 1e4 is near an integer (0.08 as
    # the data README measured, 0.0815 from the float32 raw.X here)
    raw = adata.raw.X.toarray().astype(np.float64)
    scaled = np.expm1(raw) * adata.obs["n_counts"].to_numpy()[:, None] / 1e4
    assert np.abs(scaled - np.round(scaled)).max() < 0.1
    np.testing.assert_array_equal(counts.toarray(), np.round(scaled))
    assert adata.obs["bulk_labels"].nunique() == 10


def test_pbmc68k_reduced_search_order_and_checksum(tmp_path, monkeypatch):
    monkeypatch.delenv("UNAFRAID_DATA", raising=False)
    monkeypatch.setenv("UNAFRAID_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(pbmc_module, "scanpy_copy", lambda: None)
    with pytest.raises(DatasetUnavailableError, match="pip install scanpy"):
        pbmc_module.find_file()
    cache = uf.datasets.cache_dir("pbmc68k_reduced")
    cache.mkdir(parents=True)
    shutil.copy(FILE, cache / pbmc_module.FILENAME)
    assert pbmc_module.find_file() == cache / pbmc_module.FILENAME
    # a corrupt copy in UNAFRAID_DATA is refused, naming both hashes
    bad = tmp_path / "data"
    bad.mkdir()
    (bad / pbmc_module.FILENAME).write_bytes(b"not an h5ad file")
    monkeypatch.setenv("UNAFRAID_DATA", str(bad))
    with pytest.raises(CorruptFileError) as info:
        pbmc_module.find_file()
    assert info.value.actual == hashlib.sha256(b"not an h5ad file").hexdigest()
    assert pbmc_module.SHA256 in str(info.value)
    # scanpy's installed copy is the last place looked
    monkeypatch.delenv("UNAFRAID_DATA")
    (cache / pbmc_module.FILENAME).unlink()
    monkeypatch.setattr(pbmc_module, "scanpy_copy", lambda: FILE)
    assert pbmc_module.find_file() == FILE
