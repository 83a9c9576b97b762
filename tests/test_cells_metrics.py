"""unafraid.cells.metrics against hand-worked examples and scikit-learn / SciPy computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import cdist

from unafraid.cells import metrics as M


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# ---------------------------------------------------------------- MMD
def test_rbf_mmd2_hand_worked():
    # x = {0, 1}, y = {0, 2}, k = exp(-d^2):  xx: e^-1;  yy: e^-4;  xy: (1 + e^-4 + 2 e^-1) / 4
    expected = math.exp(-1) + math.exp(-4) - 2 * (1 + math.exp(-4) + 2 * math.exp(-1)) / 4
    assert M.rbf_mmd2([[0.0], [1.0]], [[0.0], [2.0]], bandwidth=1.0) == pytest.approx(expected, abs=1e-12)


def test_rbf_mmd2_matches_sklearn_kernel():
    from sklearn.metrics.pairwise import rbf_kernel

    x, y = rng(1).normal(size=(30, 4)), rng(2).normal(size=(20, 4)) + 0.5
    h = 3.0
    kxx, kyy, kxy = (rbf_kernel(a, b, gamma=1 / h) for a, b in ((x, x), (y, y), (x, y)))
    oracle = ((kxx.sum() - 30) / (30 * 29) + (kyy.sum() - 20) / (20 * 19) - 2 * kxy.mean())
    assert M.rbf_mmd2(x, y, h) == pytest.approx(oracle, rel=1e-10)


def test_mmd2_unbiased_near_zero_for_one_distribution_and_positive_for_a_shift():
    x, y = rng(3).normal(size=(200, 3)), rng(4).normal(size=(200, 3))
    assert abs(M.rbf_mmd2(x, y, 6.0)) < 0.01
    assert M.rbf_mmd2(x, y + 1.0, 6.0) > 0.05


def test_median_bandwidth_hand_worked():
    # points 0, 1, 3: squared distances 1, 9, 4 -> median 4
    assert M.median_bandwidth([[0.0], [1.0], [3.0]]) == 4.0


def test_pca_matches_sklearn_up_to_sign():
    from sklearn.decomposition import PCA as SkPCA

    x, y = rng(5).normal(size=(60, 8)) @ rng(6).normal(size=(8, 8)), rng(7).normal(size=(10, 8))
    ours = M.PCA(3).fit(x).transform(y)
    theirs = SkPCA(3, svd_solver="full").fit(x).transform(y)
    signs = np.sign((ours * theirs).sum(0))
    np.testing.assert_allclose(ours, theirs * signs, atol=1e-9)


# ---------------------------------------------------------------- gene-level structure
def test_gene_gene_corr_against_numpy_oracle():
    a, b = rng(8).normal(size=(50, 6)), rng(9).normal(size=(40, 6))
    b[:, 1] += b[:, 0]
    ca, cb = np.corrcoef(a, rowvar=False), np.corrcoef(b, rowvar=False)
    iu = np.triu_indices(6, 1)
    assert M.gene_gene_corr(a, b) == pytest.approx(stats.pearsonr(ca[iu], cb[iu])[0], rel=1e-10)


def test_gene_gene_corr_hand_worked_and_constant_genes_dropped():
    x = np.array([[0.0, 0, 1], [1, 1, 0], [2, 2, 2], [3, 3, 0]])
    # genes 0 and 1 identical: C_x has r01 = 1; flipping gene 1 makes it -1, r02 and r12 swap signs
    y = x.copy()
    y[:, 1] = -x[:, 1]
    r02 = np.corrcoef(x[:, 0], x[:, 2])[0, 1]
    oracle = np.corrcoef([1.0, r02, r02], [-1.0, r02, -r02])[0, 1]
    assert M.gene_gene_corr(x, y) == pytest.approx(oracle, rel=1e-10)
    with_constant = np.c_[x, np.zeros(4)]
    assert M.gene_gene_corr(with_constant, np.c_[y, np.ones(4)]) == pytest.approx(oracle, rel=1e-10)


def test_gene_gene_corr_compares_the_most_variable_genes_of_the_real_cells():
    r = rng(12)
    real = r.normal(size=(80, 10)) * np.arange(1, 11)  # gene g has standard deviation g + 1
    sample = r.normal(size=(70, 10)) * np.arange(10, 0, -1)
    sample[:, 9] += sample[:, 8]
    top = [6, 7, 8, 9]  # the four largest variances of `real`, whatever the sample's
    ca, cb = np.corrcoef(real[:, top], rowvar=False), np.corrcoef(sample[:, top], rowvar=False)
    iu = np.triu_indices(4, 1)
    oracle = stats.pearsonr(ca[iu], cb[iu])[0]
    assert M.gene_gene_corr(real, sample, n_genes=4) == pytest.approx(oracle, rel=1e-10)
    assert M.gene_gene_corr(real, sample, n_genes=None) == M.gene_gene_corr(real, sample, n_genes=10)
    assert M.gene_gene_corr(real, sample, n_genes=4) != pytest.approx(
        M.gene_gene_corr(real, sample, n_genes=None))


def test_marginal_corrs_against_scipy():
    a = np.maximum(rng(10).normal(size=(40, 7)), 0)
    b = np.maximum(rng(11).normal(size=(30, 7)) + np.arange(7) * 0.1, 0)
    got = M.marginal_corrs(a, b)
    assert got["mean_corr"] == pytest.approx(stats.pearsonr(a.mean(0), b.mean(0))[0], rel=1e-10)
    assert got["variance_corr"] == pytest.approx(stats.pearsonr(a.var(0), b.var(0))[0], rel=1e-10)
    assert got["zeros_corr"] == pytest.approx(
        stats.pearsonr((a == 0).mean(0), (b == 0).mean(0))[0], rel=1e-10)


# ---------------------------------------------------------------- cell types
def test_total_variation_hand_worked():
    assert M.total_variation([0.5, 0.5, 0.0], [0.25, 0.25, 0.5]) == pytest.approx(0.5)
    assert M.total_variation([1, 0], [0, 1]) == 1.0
    with pytest.raises(ValueError, match="one entry per cell type"):
        M.total_variation([1, 0], [1, 0, 0])


class Thresholds:
    """A stand-in classifier: type = index of the largest gene."""

    def predict(self, x):
        return np.asarray(x).argmax(1)


def test_type_distance_hand_worked():
    real = np.eye(3)[[0, 0, 1, 2]]          # proportions 1/2, 1/4, 1/4
    sample = np.eye(3)[[0, 0, 0, 0]]        # one type: distance 1 - 1/2
    assert M.type_distance(Thresholds(), real, sample, 3) == pytest.approx(0.5)
    assert M.type_proportions([0, 2, 2, 2], 4).tolist() == [0.25, 0, 0.75, 0]


# ---------------------------------------------------------------- precision and recall
def test_knn_precision_recall_hand_worked():
    # real radii (k=1): 1, 1, 1, 8; generated 0.5 (in), 5 (in: |5-10| <= 8), 20 (out) -> 2/3
    # generated radii: 4.5, 4.5, 15; real 0, 1, 2 near 0.5, 10 within 15 of 20 -> recall 1
    p, r = M.knn_precision_recall([[0.0], [1.0], [2.0], [10.0]], [[0.5], [5.0], [20.0]], k=1)
    assert p == pytest.approx(2 / 3) and r == 1.0


def test_knn_precision_recall_against_scipy_distances():
    a, b = rng(12).normal(size=(30, 3)), rng(13).normal(size=(25, 3)) + 0.7
    k = 3

    def coverage(points, centres):
        d = cdist(centres, centres)
        radii = np.sort(d, axis=1)[:, k]                  # column 0 is the point itself
        return np.mean((cdist(points, centres) <= radii).any(1))

    assert M.knn_precision_recall(a, b, k) == pytest.approx((coverage(b, a), coverage(a, b)))


# ---------------------------------------------------------------- two-sample test
def test_two_sample_auc_separated_and_indistinguishable():
    a = rng(14).random((40, 5))
    assert M.two_sample_auc(a, a + 2.0, n_estimators=10) == 1.0
    auc = M.two_sample_auc(a, rng(15).random((40, 5)), n_estimators=10)
    assert 0.2 < auc < 0.8


def test_two_sample_auc_matches_a_direct_sklearn_computation():
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    a, b = rng(16).normal(size=(30, 4)), rng(17).normal(size=(30, 4)) + 0.4
    x, y = np.r_[a, b], np.r_[np.zeros(30), np.ones(30)]
    oracle = cross_val_score(RandomForestClassifier(10, random_state=0), x, y, scoring="roc_auc",
                             cv=StratifiedKFold(5, shuffle=True, random_state=0)).mean()
    assert M.two_sample_auc(a, b, n_estimators=10, seed=0) == pytest.approx(oracle)


# ---------------------------------------------------------------- baselines
def test_independent_marginals_keep_marginals_and_break_correlation():
    base = rng(18).normal(size=(300, 1))
    train = np.maximum(np.c_[base, base + 0.01 * rng(19).normal(size=(300, 1))], 0)
    out = M.independent_marginals(train, 2000, seed=0)
    assert out.shape == (2000, 2) and out.dtype == np.float32
    assert set(out[:, 0].tolist()) <= set(train[:, 0].astype(np.float32).tolist())
    assert np.corrcoef(train, rowvar=False)[0, 1] > 0.99
    assert abs(np.corrcoef(out, rowvar=False)[0, 1]) < 0.1


def test_clipped_gaussian_is_non_negative_with_the_training_correlation():
    base = rng(20).normal(size=(500, 1)) + 3
    train = np.c_[base, 2 * base + 0.1 * rng(21).normal(size=(500, 1))]
    out = M.clipped_gaussian(train, 3000, seed=0)
    assert out.min() >= 0
    np.testing.assert_allclose(out.mean(0), train.mean(0), rtol=0.05)
    assert np.corrcoef(out, rowvar=False)[0, 1] > 0.98


def test_mode_dropping_keeps_only_the_largest_types():
    labels = np.array([0] * 5 + [1] * 4 + [2] * 3 + [3] * 2 + [4])
    train = np.arange(len(labels), dtype=float)[:, None]
    out = M.mode_dropping(train, labels, 12, n_types=3, seed=0)
    assert sorted(out[:, 0].astype(int)) == list(range(12))  # all of types 0-2, no repeats


def test_same_seed_same_baselines():
    train = np.abs(rng(22).normal(size=(50, 6)))
    labels = np.arange(50) % 4
    a, b = M.baselines(train, labels, 20, seed=3), M.baselines(train, labels, 20, seed=3)
    assert all(np.array_equal(a[k], b[k]) for k in a)


# ---------------------------------------------------------------- the table
def test_evaluate_separates_the_baselines_on_synthetic_cells():
    # two cell types, each with its own correlated genes
    r = rng(23)
    labels = np.arange(300) % 2
    centre = np.where(labels[:, None] == 0, [3, 3, 0, 0, 1, 1], [0, 0, 3, 3, 1, 1])
    cells = np.maximum(centre + 0.5 * r.normal(size=(300, 1)) + 0.3 * r.normal(size=(300, 6)), 0)
    train, test = cells[:200], cells[200:]
    samples = {"real": train[:100], "independent": M.independent_marginals(train, 100, seed=0)}
    table = M.evaluate(train, labels[:200], test, samples, n_components=3, k=3,
                         n_estimators=10)
    assert list(table.columns) == ["rf_auc", "mmd2", "gene_gene_corr", "type_distance", "precision",
                                   "recall", "mean_corr", "variance_corr", "zeros_corr"]
    assert table.loc["real", "rf_auc"] < table.loc["independent", "rf_auc"]
    assert table.loc["real", "gene_gene_corr"] > 0.9 > 0.5 > table.loc["independent", "gene_gene_corr"]
    assert table.loc["real", "mmd2"] < table.loc["independent", "mmd2"]


def test_errors_say_what_is_wrong():
    with pytest.raises(ValueError, match="same genes"):
        M.gene_gene_corr(np.ones((3, 4)), np.ones((3, 5)))
    with pytest.raises(ValueError, match="NaN"):
        M.marginal_corrs(np.full((3, 3), np.nan), np.ones((3, 3)))
    with pytest.raises(ValueError, match="k = 5 needs more than 5"):
        M.knn_precision_recall(np.ones((4, 2)), np.ones((9, 2)))


# ---------------------------------------------------------------- the definitions matched to issue 22
def test_mmd2_on_all_genes_hand_worked():
    # pca=None: the kernel on the rows as given; x = {0, 1}, y = {0, 2}, h = 1 -> (e^-4 - 1) / 2
    assert M.mmd2([[0.0], [1.0]], [[0.0], [2.0]], None, 1.0) == pytest.approx(
        (math.exp(-4) - 1) / 2, abs=1e-12)


def test_type_distance_against_annotated_labels_hand_worked():
    real = np.eye(3)[[0, 0, 0, 0]]          # the classifier would call them all type 0 ...
    sample = np.eye(3)[[0, 0, 0, 1]]        # predicted 3/4, 1/4, 0
    # ... but annotated 1/2, 1/4, 1/4: distance (1/4 + 0 + 1/4) / 2
    assert M.type_distance(Thresholds(), real, sample, 3, real_labels=[0, 0, 1, 2]) == \
        pytest.approx(0.25)
    assert M.type_distance(Thresholds(), real, sample, 3) == pytest.approx(0.25)  # 1 vs 3/4
    with pytest.raises(ValueError, match="3 real_labels for 4 real"):
        M.type_distance(Thresholds(), real, sample, 3, real_labels=[0, 1, 2])


def _two_type_cells():
    r = rng(24)
    labels = np.arange(90) % 2
    centre = np.where(labels[:, None] == 0, [3, 3, 0, 0, 1], [0, 0, 3, 3, 1])
    return np.maximum(centre + 0.6 * r.normal(size=(90, 5)), 0), labels


def test_evaluate_default_mmd_is_on_all_genes_sklearn_and_scipy_oracle():
    from scipy.spatial.distance import pdist
    from sklearn.metrics.pairwise import rbf_kernel

    cells, labels = _two_type_cells()
    train, test, sample = cells[:50], cells[50:70], cells[70:] + 0.5
    table = M.evaluate(train, labels[:50], test, {"s": sample}, k=3, n_estimators=5,
                       classifier=Thresholds())
    h = np.median(pdist(train, "sqeuclidean"))
    kxx, kyy, kxy = (rbf_kernel(a, b, gamma=1 / h) for a, b in ((test, test), (sample, sample),
                                                                (test, sample)))
    oracle = (kxx.sum() - 20) / (20 * 19) + (kyy.sum() - 20) / (20 * 19) - 2 * kxy.mean()
    assert table.loc["s", "mmd2"] == pytest.approx(oracle, rel=1e-9)
    old = M.evaluate(train, labels[:50], test, {"s": sample}, k=3, n_estimators=5,
                     classifier=Thresholds(), mmd_space="pca", n_components=2)
    assert old.loc["s", "mmd2"] != pytest.approx(oracle, rel=1e-3)
    with pytest.raises(ValueError, match="mmd_space='pcs'; use 'genes'"):
        M.evaluate(train, labels[:50], test, {"s": sample}, mmd_space="pcs")


class TwoTypes:
    """A stand-in classifier for ``_two_type_cells``: type 1 when genes 2-3 outweigh genes 0-1."""

    def predict(self, x):
        x = np.asarray(x)
        return (x[:, 2] + x[:, 3] > x[:, 0] + x[:, 1]).astype(int)


def test_evaluate_type_distance_uses_the_annotated_test_labels():
    cells, labels = _two_type_cells()
    train, test, sample = cells[:50], cells[50:70], cells[70:]
    test_labels = np.r_[np.zeros(15, int), np.ones(5, int)]      # annotated 3/4, 1/4
    table = M.evaluate(train, labels[:50], test, {"s": sample}, k=3, n_estimators=5,
                       classifier=TwoTypes(), test_labels=test_labels)
    q1 = np.mean(sample[:, 2] + sample[:, 3] > sample[:, 0] + sample[:, 1])   # predicted type 1
    oracle = 0.5 * (abs(0.75 - (1 - q1)) + abs(0.25 - q1))
    assert table.loc["s", "type_distance"] == pytest.approx(oracle)


@pytest.mark.slow
def test_default_definitions_reproduce_issue_22s_baseline_rows_on_pbmc(monkeypatch):
    # The oracle: issue 22's table (its author's own implementations, PyTorch-era): MMD^2 real
    # training cells -0.001, independent marginals 0.005; type distance of mode dropping 0.34.
    # The 50-PC kernel gave 0.006 and 0.058, the predicted held-out proportions 0.320.
    from pathlib import Path

    import unafraid as uf
    from unafraid.cells import labels_from_obs
    from unafraid.cells.run import stratified_test_split

    monkeypatch.setenv("UNAFRAID_DATA", str(Path(__file__).resolve().parents[1] / ".." / "shared"
                                            / "data"))
    adata = uf.datasets.pbmc68k_reduced()
    x = adata.raw.X.toarray().astype(np.float64)
    codes, _ = labels_from_obs(adata, "bulk_labels")
    train, test = stratified_test_split(codes, 0.25, 0)
    n = len(test)
    h = M.median_bandwidth(x[train])
    real = x[train][rng(0).permutation(len(train))[:n]]
    base = M.baselines(x[train], codes[train], n, seed=0)
    assert M.mmd2(x[test], real, None, h) == pytest.approx(-0.001, abs=0.0015)
    assert M.mmd2(x[test], base["independent marginals"], None, h) == pytest.approx(0.005,
                                                                                     abs=0.0015)
    clf = M.fit_type_classifier(x[train], codes[train])
    mode = base["3 largest types only (mode dropping)"]
    assert M.type_distance(clf, x[test], mode, 10, real_labels=codes[test]) == pytest.approx(
        0.34, abs=0.005)
