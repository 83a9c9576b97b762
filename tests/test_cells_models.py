"""Cell-type classifier, explore tools for cells, and the count autoencoder, on small simulated
negative-binomial counts (fast); the targets on pbmc68k_reduced are in the slow tests."""

import anndata
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.metrics import silhouette_score
from sklearn.neighbors import KNeighborsClassifier

from unafraid import atomic, cells
from unafraid.cells import explore as cells_explore


def simulated(n_per_type=(60, 40, 12), genes=40, seed=0, sparse=True):
    """NB counts: each type has its own mean profile; library sizes vary 4-fold."""
    rng = np.random.default_rng(seed)
    k = len(n_per_type)
    profiles = rng.gamma(0.6, 1.0, size=(k, genes))
    profiles[np.arange(k), np.arange(k)] += 8  # one marker gene per type
    profiles /= profiles.sum(1, keepdims=True)
    labels = np.repeat(np.arange(k), n_per_type)
    library = rng.uniform(300, 1200, size=len(labels))
    mu = profiles[labels] * library[:, None]
    theta = 3.0
    counts = rng.negative_binomial(theta, theta / (theta + mu)).astype(np.float32)
    names = np.array(["B", "T", "rare"])[labels]
    a = anndata.AnnData(X=sp.csr_matrix(counts) if sparse else counts,
                        obs=pd.DataFrame({"type": pd.Categorical(names)},
                                         index=[f"cell{i}" for i in range(len(labels))]),
                        var=pd.DataFrame(index=[f"gene{j}" for j in range(genes)]))
    return a, labels


# ---- classifier ------------------------------------------------------------------------------------
def test_class_weights():
    codes = np.array([0] * 8 + [1] * 2)
    w = cells.class_weights(codes, 2, "balanced")
    assert w[1] / w[0] == pytest.approx(4.0)  # n / (K n_k): 10/4 vs 10/16
    assert (w[codes]).mean() == pytest.approx(1.0)
    assert cells.class_weights(codes, 2, "sqrt")[1] / cells.class_weights(codes, 2, "sqrt")[0] \
        == pytest.approx(2.0)
    with pytest.raises(ValueError, match="no weight for classes"):
        cells.class_weights(codes, 2, {0: 1.0})


def test_classifier_learns_simulated_types_and_annotates_obs():
    a, labels = simulated()
    clf = cells.CellTypeClassifier(epochs=15, hidden=32, seed=0).fit(a, "type")
    assert clf.classes_ == ["B", "T", "rare"]
    probs = clf.annotate(a)
    assert probs.shape == (112, 3) and np.allclose(probs.sum(1), 1, atol=1e-5)
    assert np.mean(probs.argmax(1) == labels) > 0.9
    assert list(a.obs["unafraid_prediction"].cat.categories) == ["B", "T", "rare"]
    np.testing.assert_allclose(a.obs["unafraid_margin"],
                               np.sort(probs, 1)[:, -1] - np.sort(probs, 1)[:, -2], atol=1e-6)
    assert len(clf.history["loss"]) == 15 and clf.history["loss"][-1] < clf.history["loss"][0]


def test_classifier_scales_genes_with_the_training_cells_statistics():
    a, _ = simulated()
    clf = cells.CellTypeClassifier(epochs=1, hidden=8).fit(a, "type")
    x = a.X.toarray()
    f = np.log1p(x / x.sum(1, keepdims=True) * 1e4)
    np.testing.assert_allclose(clf.mean_, f.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(clf.std_, np.where(f.std(0) > 0, f.std(0), 1), rtol=1e-4)


def test_classifier_is_deterministic():
    a, _ = simulated()
    p1 = cells.CellTypeClassifier(epochs=3, hidden=16, seed=3).fit(a, "type").predict_proba(a)
    p2 = cells.CellTypeClassifier(epochs=3, hidden=16, seed=3).fit(a, "type").predict_proba(a)
    np.testing.assert_array_equal(p1, p2)


# ---- explore ---------------------------------------------------------------------------------------
def test_most_confusing_cells_and_confusion_frame():
    probs = np.array([[0.5, 0.45, 0.05], [0.9, 0.05, 0.05], [0.3, 0.3, 0.4]])
    y = np.array([1, 0, 2])
    worst = cells.most_confusing_cells(probs, y, ["B", "T", "NK"], ["c0", "c1", "c2"], k=2)
    assert worst["cell"].tolist() == ["c0", "c2"]  # margins 0.05 and 0.1
    assert worst["true_type"].tolist() == ["T", "NK"]
    assert worst["predicted_type"].tolist() == ["B", "NK"] and worst["second_type"][0] == "T"
    cm = cells.confusion_frame(y, probs.argmax(1), ["B", "T", "NK"])
    assert cm.loc["T", "B"] == 1 and cm.loc["NK", "NK"] == 1 and cm.to_numpy().sum() == 3


def test_top_genes_are_those_most_above_their_mean():
    expr = np.array([[0, 0, 5.0], [1, 0, 0], [1, 4, 0], [2, 0, 1]])
    assert cells.top_genes(expr, [0, 2], ["a", "b", "c"], k=1) == [["c"], ["b"]]


def test_embedding_2d_pca_matches_svd_and_plot(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 6)) * np.array([5, 3, 1, 0.5, 0.2, 0.1])
    emb = cells.embedding_2d(X)
    # the variance of each PCA axis is the top squared singular values / N
    s = np.linalg.svd(X - X.mean(0), compute_uv=False)
    np.testing.assert_allclose(emb.var(0), s[:2] ** 2 / 50, rtol=1e-5)
    saved = []  # figures are saved through the project's one atomic writer

    def spy(fig, path, **kwargs):
        saved.append(path)
        return atomic.atomic_savefig(fig, path, **kwargs)

    monkeypatch.setattr(cells_explore, "atomic_savefig", spy)
    fig = cells.plot_embedding(emb, np.linspace(0, 1, 50), title="margin", highlight=[0, 1],
                               save=tmp_path / "m.png")
    assert (tmp_path / "m.png").read_bytes()[:4] == b"\x89PNG" and fig.axes
    assert saved == [tmp_path / "m.png"]
    cells.plot_embedding(emb, np.array(["a", "b"] * 25), save=tmp_path / "t.png")
    with pytest.raises(ValueError, match="must be \\(N, 2\\)"):
        cells.plot_embedding(X, np.zeros(50))


def test_knn_accuracy_and_silhouette_match_scikit_learn():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 4, 120)
    X = rng.normal(size=(120, 5)) + y[:, None] * 0.8
    want = KNeighborsClassifier(15).fit(X[:80], y[:80]).score(X[80:], y[80:])
    assert cells.knn_accuracy(X[:80], y[:80], X[80:], y[80:], k=15) == pytest.approx(want)
    assert cells.silhouette(X, y) == pytest.approx(silhouette_score(X, y), rel=1e-7)


# ---- autoencoder -----------------------------------------------------------------------------------
def test_autoencoder_fits_writes_back_and_beats_a_per_gene_nb():
    a, labels = simulated(sparse=True)
    ae = cells.CountAutoencoder(latent_dim=4, hidden=(16,), max_epochs=60, patience=10,
                                batch_size=32, learning_rate=3e-3, seed=0).fit(a)
    assert ae.history["val_loss"][ae.best_epoch] == min(ae.history["val_loss"])
    latent = ae.get_latent(a)
    assert latent.shape == (112, 4) and latent.dtype == np.float32
    np.testing.assert_array_equal(a.obsm["X_unafraid"], latent)
    mu = ae.get_denoised(a)
    np.testing.assert_array_equal(a.layers["unafraid_denoised"], mu)
    lib = np.asarray(a.X.sum(1)).ravel()
    np.testing.assert_allclose(mu.sum(1), lib, rtol=1e-4)  # mean = library x softmax
    # the network beats the best model without one: a per-gene NB fitted by moments
    counts = a.X.toarray()
    from scipy import stats
    m, v = counts.mean(0), counts.var(0)
    theta = m**2 / np.maximum(v - m, 1e-3)
    baseline = -stats.nbinom.logpmf(counts, theta, theta / (theta + m)).sum(1).mean()
    assert ae.negative_log_likelihood(a).mean() < baseline
    # the cell types separate in the latent space
    assert silhouette_score(latent, labels) > 0.2


def test_autoencoder_is_deterministic_and_supports_zinb_and_label_dispersion():
    a, _ = simulated(n_per_type=(20, 20, 8), genes=12)
    z1 = cells.CountAutoencoder(latent_dim=2, hidden=(8,), max_epochs=3, seed=5).fit(a).get_latent(a)
    z2 = cells.CountAutoencoder(latent_dim=2, hidden=(8,), max_epochs=3, seed=5).fit(a).get_latent(a)
    np.testing.assert_array_equal(z1, z2)
    for kw in ({"likelihood": "zinb"}, {"likelihood": "poisson"}, {"dispersion": "cell"}):
        ae = cells.CountAutoencoder(latent_dim=2, hidden=(8,), max_epochs=2, **kw).fit(a)
        assert np.isfinite(ae.negative_log_likelihood(a)).all()
    ae = cells.CountAutoencoder(latent_dim=2, hidden=(8,), max_epochs=2, dispersion="gene-label")
    with pytest.raises(ValueError, match="needs the cell types"):
        ae.fit(a)
    ae.fit(a, labels="type")
    assert ae.log_theta.shape == (3, 12)
    assert np.isfinite(ae.negative_log_likelihood(a, labels="type")).all()


@pytest.mark.parametrize("kw", [{}, {"dropout": 0.2}, {"dispersion": "gene-label"},
                                {"dispersion": "cell", "scale": True},
                                {"likelihood": "poisson"}, {"likelihood": "zinb"}])
def test_autoencoder_replayed_step_gives_the_eager_bits(kw):
    """The recorded-and-replayed training step against the graph built anew every step: the same
    losses, weights and latents to the bit. NB steps are replayed (both batch shapes: 32 and the
    last, shorter batch); Poisson and ZINB compute arrays from the counts outside engine ops
    (log x!, the zero mask), so their steps stay eager, with a reason."""
    a, _ = simulated(n_per_type=(40, 30, 12), genes=20)
    labels = "type" if kw.get("dispersion") == "gene-label" else None
    fits = [cells.CountAutoencoder(latent_dim=3, hidden=(12,), max_epochs=4, batch_size=16,
                                   jit_compile=jit, seed=3, **kw).fit(a, labels=labels)
            for jit in (True, False)]
    replayed, eager = fits
    assert replayed.history == eager.history
    for w, v in zip(replayed.trainable_weights, eager.trainable_weights, strict=True):
        np.testing.assert_array_equal(w.numpy(), v.numpy())
    np.testing.assert_array_equal(replayed.get_latent(a, key=None), eager.get_latent(a, key=None))
    assert eager.replayed_signatures == 0 and eager.eager_reasons == []
    if kw.get("likelihood") in ("poisson", "zinb"):
        assert replayed.replayed_signatures == 0 and replayed.eager_reasons
    else:
        assert replayed.replayed_signatures == 2 and replayed.eager_reasons == []


def test_autoencoder_errors():
    with pytest.raises(ValueError, match="likelihood must be one of"):
        cells.CountAutoencoder(likelihood="gaussian")
    with pytest.raises(ValueError, match="jit_compile must be True or False"):
        cells.CountAutoencoder(jit_compile="auto")
    with pytest.raises(RuntimeError, match="call fit"):
        cells.CountAutoencoder().get_latent(np.zeros((2, 3)))


def test_autoencoder_learning_rate_halves_on_validation_plateaus():
    from unafraid.cells import CountAutoencoder, simulate_counts
    X, _ = simulate_counts(80, 30, n_types=2, seed=3)
    ae = CountAutoencoder(hidden=(8,), latent_dim=2, learning_rate=0.3, max_epochs=12,
                          patience=100, lr_patience=2, lr_factor=0.5, seed=0).fit(X)
    best, stale, expected = np.inf, 0, 0.3  # the rule, replayed on the recorded validation losses
    for v in ae.history["val_loss"]:
        best, stale = (v, 0) if v < best else (best, stale + 1)
        if stale and stale % 2 == 0:
            expected *= 0.5
    assert expected < 0.3  # the plateaus happened, so the test can fail
    assert ae.optimizer.learning_rate == pytest.approx(expected)
    assert ae.theta_optimizer.learning_rate == pytest.approx(expected / 0.3 * 1e-2)  # halved too
    plain = CountAutoencoder(hidden=(8,), latent_dim=2, learning_rate=0.3, max_epochs=4,
                             patience=100, seed=0).fit(X)
    assert plain.optimizer.learning_rate == pytest.approx(0.3)


def test_autoencoder_learns_per_gene_dispersions():
    """The free log_theta reaches the simulated per-gene dispersions within the few hundred steps
    before early stopping would come (at the network's step size, 1e-3, it stays near its start)."""
    rng = np.random.default_rng(5)
    profile = rng.uniform(0.5, 1.5, 20)  # one cell type: the mean is the library size's share
    mu = profile / profile.sum() * rng.uniform(500, 1500, (300, 1))
    log_theta = np.linspace(np.log(0.3), np.log(10.0), 20)  # the truth, spanning 3.5
    theta = np.exp(log_theta)
    X = rng.negative_binomial(theta, theta / (theta + mu)).astype(np.float32)
    kw = dict(hidden=(16,), latent_dim=2, max_epochs=20, patience=100, seed=0)
    fitted = cells.CountAutoencoder(**kw).fit(X).log_theta.data.ravel()
    slow = cells.CountAutoencoder(dispersion_learning_rate=None, **kw).fit(X).log_theta.data.ravel()
    assert np.corrcoef(fitted, log_theta)[0, 1] > 0.95
    assert np.ptp(fitted) > 2.0
    assert np.ptp(slow) < 0.5  # 180 steps of about 1e-3 each: what the separate step size fixes
