"""unafraid.sklearn: scikit-learn's own estimator checks, and the conventions a statistician relies on
(clone, Pipeline, ColumnTransformer on a DataFrame, GridSearchCV with n_jobs=2, sparse input, labels,
seeds, sample weights, partial_fit, warm_start). Oracles: scikit-learn's checks and estimators,
repeated rows for weights, a single run for warm starts, the dense fit for the sparse one."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import unafraid as uf
from unafraid.keras import layers
from unafraid.sklearn import (
    NeuralNetClassifier,
    NeuralNetRegressor,
    NeuralNetTransformer,
    expected_failed_checks,
)

FAST = dict(hidden_layer_sizes=(16,), epochs=30, learning_rate=0.03)  # small, so the checks run fast


def iris(scaled=True):
    X, y = load_iris(return_X_y=True)
    return (StandardScaler().fit_transform(X) if scaled else X), y


# ---- scikit-learn's own checks ---------------------------------------------------------------
@parametrize_with_checks([NeuralNetClassifier(**FAST), NeuralNetRegressor(**FAST),
                          NeuralNetTransformer(**FAST)],
                         expected_failed_checks=expected_failed_checks)
def test_sklearn_estimator_checks(estimator, check, monkeypatch):
    # check_array_api_input (NumPy namespace only: array_api_support is False) runs, rather than
    # skips, when SciPy's array API flag is set; scikit-learn reads it when the check runs
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        check(estimator)


@pytest.mark.slow
@parametrize_with_checks([NeuralNetClassifier(**FAST, early_stopping=True),
                          NeuralNetRegressor(**FAST, early_stopping=True),
                          NeuralNetTransformer(**FAST, early_stopping=True)],
                         expected_failed_checks=expected_failed_checks)
def test_sklearn_estimator_checks_with_early_stopping(estimator, check, monkeypatch):
    # the hold-out must cope with the checks' tiny data sets (15 rows in 3 classes, 1 row)
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        check(estimator)


def test_expected_failures_are_only_the_float64_sample_weight_checks_with_reasons():
    for est in (NeuralNetClassifier(), NeuralNetRegressor(), NeuralNetTransformer()):
        failures = expected_failed_checks(est)
        assert set(failures) == {"check_sample_weight_equivalence_on_dense_data",
                                 "check_sample_weight_equivalence_on_sparse_data"}
        assert all("float32" in reason for reason in failures.values())


def test_sample_weights_act_as_repeated_rows_to_float32_precision():
    # the check above at a float32 tolerance: integer weights (zeros included) == repeated rows
    rng = np.random.default_rng(42)
    X, y = rng.random((15, 30)), rng.integers(0, 3, 15)
    sw = rng.integers(0, 5, 15)
    sw[:3] = [0, 2, 3]
    est = NeuralNetClassifier(**FAST)
    weighted = clone(est).fit(X, y, sample_weight=sw)
    repeated = clone(est).fit(X.repeat(sw, axis=0), y.repeat(sw))
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-4,
                               atol=1e-6)
    plain = clone(est).fit(X, y)
    assert not np.allclose(weighted.predict_proba(X), plain.predict_proba(X), atol=1e-3)


# ---- the checks ------------------------------------------------------------------------
def grid_search(X, y):
    grid = GridSearchCV(NeuralNetClassifier(epochs=10, batch_size=32),
                        {"hidden_layer_sizes": [(4,), (16,)], "learning_rate": [0.003, 0.03]},
                        cv=2, n_jobs=2)
    return grid.fit(X, y)


def test_grid_search_n_jobs_2_twice_gives_identical_best_params_and_scores():
    X, y = iris()
    first, second = grid_search(X, y), grid_search(X, y)
    assert first.best_params_ == second.best_params_
    assert first.best_score_ == second.best_score_
    np.testing.assert_array_equal(first.cv_results_["mean_test_score"],
                                  second.cv_results_["mean_test_score"])
    assert len(set(first.cv_results_["mean_test_score"])) > 1  # the grid points differ
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))


def test_clone_copies_every_parameter_and_no_fitted_state():
    est = NeuralNetClassifier(hidden_layer_sizes=(7, 5), dropout=0.2, epochs=3, batch_size=16,
                              optimizer="sgd", learning_rate=0.05, validation_split=0.2,
                              callbacks=[uf.keras.callbacks.EarlyStopping(monitor="loss")],
                              verbose=0, random_state=3)
    params = est.get_params()
    assert {"model", "hidden_layer_sizes", "epochs", "batch_size", "optimizer", "learning_rate",
            "loss", "validation_split", "callbacks", "verbose", "random_state", "activation",
            "dropout", "warm_start"} <= set(params)
    X, y = iris()
    est.fit(X, y)
    copy = clone(est)
    assert not hasattr(copy, "model_") and not hasattr(copy, "classes_")
    for name, value in copy.get_params().items():
        if name != "callbacks":
            assert value == params[name], name
    assert est.callbacks[0].model is None  # fit used a copy: the parameter is unchanged
    copy.set_params(epochs=4, hidden_layer_sizes=(3,))
    assert copy.fit(X, y).model_.layers[0].units == 3


def test_pipeline_with_column_transformer_on_a_dataframe_and_string_labels():
    rng = np.random.default_rng(0)
    n = 240
    df = pd.DataFrame({"age": rng.normal(50, 10, n), "dose": rng.normal(5, 2, n),
                       "site": rng.choice(["oslo", "lyon", "kyoto"], n)})
    risk = (df["age"] - 50) / 10 + (df["site"] == "kyoto") * 2.0
    y = np.where(risk > 0.5, "high", "low")
    pre = ColumnTransformer([("num", StandardScaler(), ["age", "dose"]),
                             ("cat", OneHotEncoder(), ["site"])])
    pipe = make_pipeline(pre, NeuralNetClassifier(hidden_layer_sizes=(16,), learning_rate=0.01))
    scores = cross_val_score(pipe, df, y, cv=5)
    assert scores.mean() > 0.9
    pipe.fit(df, y)
    assert set(pipe.predict(df)) <= {"high", "low"}
    assert list(pipe.classes_) == ["high", "low"]
    clf = NeuralNetClassifier(epochs=2).fit(df[["age", "dose"]], y)
    assert list(clf.feature_names_in_) == ["age", "dose"] and clf.n_features_in_ == 2


def test_integer_labels_that_are_not_0_to_k_come_back_as_given():
    X, y = iris()
    labels = np.array([3, 7, 10])[y]
    clf = NeuralNetClassifier(**FAST).fit(X, labels)
    assert list(clf.classes_) == [3, 7, 10]
    assert set(clf.predict(X)) <= {3, 7, 10}
    assert clf.score(X, labels) > 0.9
    assert clf.predict_proba(X).shape == (150, 3)


def test_sparse_input_gives_the_dense_fit_and_is_densified_one_batch_at_a_time(monkeypatch):
    X, y = iris()
    X[X < 0] = 0  # make it sparse-ish
    dense = NeuralNetClassifier(**FAST, batch_size=32).fit(X, y)
    shapes = []
    original = sp.csr_matrix.toarray

    def spy(self, *args, **kwargs):
        shapes.append(self.shape)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(sp.csr_matrix, "toarray", spy)
    sparse = NeuralNetClassifier(**FAST, batch_size=32).fit(sp.csr_matrix(X), y)
    assert shapes and max(s[0] for s in shapes) <= 32
    np.testing.assert_array_equal(dense.predict_proba(X), sparse.predict_proba(sp.csr_matrix(X)))
    reg = NeuralNetRegressor(**FAST).fit(sp.csr_matrix(X[:, :3]), X[:, 3])
    assert reg.predict(sp.csr_matrix(X[:, :3])).shape == (150,)


def test_random_state_none_is_a_fixed_seed_int_and_generator_are_honoured():
    X, y = iris()
    state = np.random.get_state()
    runs = [NeuralNetClassifier(epochs=3).fit(X, y).predict_proba(X) for _ in range(2)]
    np.testing.assert_array_equal(*runs)  # None: the library's fixed seed, same bits
    assert np.random.get_state()[1].tolist() == state[1].tolist()  # global RNG untouched
    seeded = [NeuralNetClassifier(epochs=3, random_state=5).fit(X, y).predict_proba(X)
              for _ in range(2)]
    np.testing.assert_array_equal(*seeded)
    assert not np.array_equal(runs[0], seeded[0])
    gen = [NeuralNetClassifier(epochs=3, random_state=np.random.default_rng(9)).fit(X, y)
           .predict_proba(X) for _ in range(2)]
    np.testing.assert_array_equal(*gen)
    one = NeuralNetClassifier(epochs=3, random_state=np.random.default_rng(9))
    assert not np.array_equal(one.fit(X, y).predict_proba(X), one.fit(X, y).predict_proba(X))
    with pytest.raises(ValueError, match="random_state"):
        NeuralNetClassifier(random_state="seed").fit(X, y)


def test_warm_start_continues_exactly_as_one_longer_run():
    X, y = iris()
    kw = dict(hidden_layer_sizes=(8,), batch_size=16, n_iter_no_change=None)
    once = NeuralNetClassifier(epochs=6, **kw).fit(X, y)
    warm = NeuralNetClassifier(epochs=3, warm_start=True, **kw).fit(X, y).fit(X, y)
    np.testing.assert_array_equal(once.predict_proba(X), warm.predict_proba(X))
    assert warm.history_["loss"] == once.history_["loss"] and warm.n_iter_ == 6
    cold = NeuralNetClassifier(epochs=3, **kw).fit(X, y).fit(X, y)  # refits from scratch
    assert cold.n_iter_ == 3


def test_partial_fit_needs_classes_first_then_learns_epoch_by_epoch():
    X, y = iris()
    clf = NeuralNetClassifier(hidden_layer_sizes=(16,), learning_rate=0.01)
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[y < 2], y[y < 2], classes=[0, 1, 2])  # one batch need not show every class
    for _ in range(60):
        clf.partial_fit(X, y)
    assert clf.n_iter_ == 61 and len(clf.history_["loss"]) == 61
    assert clf.score(X, y) > 0.9
    with pytest.raises(ValueError, match="not among the classes"):
        clf.partial_fit(X[:3], [0, 1, 5])
    reg = NeuralNetRegressor(hidden_layer_sizes=(8,))
    reg.partial_fit(X[:, :3], X[:, 3]).partial_fit(X[:, :3], X[:, 3])
    assert reg.n_iter_ == 2


def test_multi_output_regression_and_history():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 4))
    Y = np.stack([X @ [1.0, -2.0, 0.5, 0.0], np.tanh(X[:, 0]) + X[:, 1] ** 2 / 3], axis=1)
    reg = NeuralNetRegressor(hidden_layer_sizes=(32,), learning_rate=0.01,
                             validation_split=0.2).fit(X, Y)
    pred = reg.predict(X)
    assert pred.shape == (300, 2) and pred.dtype == np.float64
    assert reg.score(X, Y) > 0.9
    assert set(reg.history_) == {"loss", "val_loss"}
    assert len(reg.history_["loss"]) == len(reg.history_["val_loss"]) == reg.n_iter_
    assert reg.history_["loss"][-1] < reg.history_["loss"][0]


def test_a_rows_prediction_does_not_depend_on_the_rows_predicted_with_it():
    # float32 products round a row differently with the batch's size (about 1e-7); predictions
    # run in float64 from the float32 weights, so they agree to about 1e-16
    X, y = iris()
    clf = NeuralNetClassifier(**FAST).fit(X, y)
    full = clf.predict_proba(X)
    for i in range(0, 150, 17):
        np.testing.assert_allclose(clf.predict_proba(X[i:i + 1]), full[i:i + 1], rtol=1e-12)
        np.testing.assert_allclose(clf.predict_proba(X[i:i + 5]), full[i:i + 5], rtol=1e-12)
    float32_net = clf.model_.predict(X.astype(np.float32), verbose=0)
    np.testing.assert_allclose(full, float32_net, atol=1e-5)  # the same network


def test_calibrated_classifier_and_predict_proba():
    X, y = iris()
    cal = CalibratedClassifierCV(NeuralNetClassifier(**FAST), cv=3).fit(X, y)
    proba = cal.predict_proba(X)
    assert proba.shape == (150, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert cal.score(X, y) > 0.9


def test_transformer_reduces_dimension_inside_a_pipeline():
    X, y = iris()
    ae = NeuralNetTransformer(n_components=2, **FAST)
    codes = ae.fit_transform(X)
    assert codes.shape == (150, 2) and codes.dtype == np.float64  # as X's
    assert ae.transform(X.astype(np.float32)).dtype == np.float32
    assert ae.inverse_transform(codes).shape == (150, 4)
    assert ae.history_["loss"][-1] < 0.5 * ae.history_["loss"][0]
    pipe = make_pipeline(NeuralNetTransformer(n_components=2, **FAST), LogisticRegression())
    assert cross_val_score(pipe, X, y, cv=3).mean() > 0.8
    assert list(ae.get_feature_names_out()) == ["neuralnettransformer0", "neuralnettransformer1"]


def test_model_building_function_gets_the_seed_and_its_output_is_checked():
    X, y = iris()
    seen = {}

    def build(n_features_in, n_classes, seed):  # no seeding code: the estimator's scope seeds it
        seen.update(n_features_in=n_features_in, n_classes=n_classes, seed=seed)
        return uf.keras.Sequential([layers.Input(shape=(n_features_in,)),
                                    layers.Dense(16, activation="tanh"), layers.Dropout(0.1),
                                    layers.Dense(n_classes, activation="softmax")])

    a = NeuralNetClassifier(model=build, **{k: v for k, v in FAST.items()
                                             if k != "hidden_layer_sizes"}).fit(X, y)
    assert seen["n_features_in"] == 4 and seen["n_classes"] == 3
    assert a.score(X, y) > 0.9
    uf.keras.layers.Dense(4)(uf.ones((1, 2)))  # draws from the global stream in between
    b = clone(a).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    c = clone(a).set_params(random_state=1).fit(X, y)
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))

    def wrong(n_features_in):
        return uf.keras.Sequential([layers.Input(shape=(n_features_in,)), layers.Dense(2)])

    with pytest.raises(ValueError, match=r"3 output units.*Dense\(3"):
        NeuralNetClassifier(model=wrong).fit(X, y)


def test_pickled_estimator_predicts_the_same_and_can_keep_training():
    X, y = iris()
    clf = NeuralNetClassifier(**FAST, warm_start=True).fit(X, y)
    back = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(clf.predict_proba(X), back.predict_proba(X))
    np.testing.assert_array_equal(clf.fit(X, y).predict_proba(X), back.fit(X, y).predict_proba(X))


def test_misuse_is_named_with_the_fix():
    X, y = iris()
    with pytest.raises(ValueError, match=r"hidden_layer_sizes.*\(100,\)"):
        NeuralNetClassifier(hidden_layer_sizes=(10, -1)).fit(X, y)
    with pytest.raises(ValueError, match="validation_split"):
        NeuralNetClassifier(validation_split=20).fit(X, y)
    with pytest.raises(ValueError, match="epochs"):
        NeuralNetRegressor(epochs=0).fit(X, y)
    with pytest.raises(TypeError, match="model must be a function"):
        NeuralNetRegressor(model="mlp").fit(X, y)


def test_seed_scope_derives_from_its_seed_and_leaves_the_outer_stream_alone():
    from unafraid import random as ur
    oracle = [int(s.generate_state(1, np.uint64)[0] >> np.uint64(1))
              for s in np.random.SeedSequence(3).spawn(2)]
    try:
        ur.set_random_seed(11)
        plain = [ur.spawn_seed(), ur.spawn_seed()]
        ur.set_random_seed(11)
        first = ur.spawn_seed()
        with ur.seed_scope(3):
            inner = [ur.spawn_seed(), ur.spawn_seed()]
        assert [first, ur.spawn_seed()] == plain  # the outer stream continues where it was
        assert inner == oracle
        with pytest.raises(ValueError, match="non-negative integer"):
            with ur.seed_scope(-1):
                pass
    finally:
        ur.set_random_seed(ur.DEFAULT_SEED)


def test_a_subclassed_model_trains_and_predicts_in_float32_with_a_warning():
    X, y = iris()

    class Net(uf.keras.Model):  # no config: the estimator cannot rebuild it in float64
        def __init__(self, k):
            super().__init__()
            self.hidden = layers.Dense(8, activation="relu")
            self.out = layers.Dense(k, activation="softmax")

        def call(self, x, training=False):
            return self.out(self.hidden(x))

    clf = NeuralNetClassifier(model=lambda n_classes: Net(n_classes), epochs=5).fit(X, y)
    with pytest.warns(RuntimeWarning, match="predicts with its float32 network"):
        proba = clf.predict_proba(X)
    assert proba.shape == (150, 3) and proba.dtype == np.float64
    np.testing.assert_allclose(proba, clf.model_.predict(X.astype(np.float32), verbose=0),
                               atol=1e-6)


def test_fit_trains_through_model_fit_with_the_replayed_step():
    from unafraid.models.training import CompiledTrainStep
    X, y = iris()
    clf = NeuralNetClassifier(**FAST).fit(X, y)
    step = clf.model_.make_train_function()
    assert isinstance(step, CompiledTrainStep)  # Model.fit's compiled step, not train_on_batch
    assert any(c.proven for c in step.compiled.values())  # later steps were replayed


def test_partial_fit_epochs_are_the_epochs_of_one_fit():
    # epoch k takes the k-th order drawn from the estimator's seed, however the epochs are run
    X, y = iris()
    kw = dict(hidden_layer_sizes=(8,), batch_size=32, n_iter_no_change=None)
    once = NeuralNetClassifier(epochs=4, **kw).fit(X, y)
    steps = NeuralNetClassifier(**kw)
    for _ in range(4):
        steps.partial_fit(X, y, classes=[0, 1, 2])
    np.testing.assert_array_equal(once.predict_proba(X), steps.predict_proba(X))
    assert once.history_["loss"] == steps.history_["loss"]


def test_alpha_adds_mlps_l2_penalty_to_each_batch_loss():
    """alpha/2 * sum(W^2) / b over every kernel (no biases), as MLPClassifier's _backprop adds;
    learning_rate=0 keeps the initial weights, so the logged loss is at known weights."""
    X, y = load_iris(return_X_y=True)
    kw = dict(hidden_layer_sizes=(8, 4), epochs=1, batch_size=50, learning_rate=0.0,
              n_iter_no_change=None, shuffle=False)
    plain = NeuralNetClassifier(**kw).fit(X, y)
    penalised = NeuralNetClassifier(alpha=0.3, **kw).fit(X, y)
    kernels = [w for w in plain.model_.get_weights() if w.ndim == 2]
    assert len(kernels) == 3
    penalty = 0.3 / 2 * sum(float(np.sum(w.astype(np.float64) ** 2)) for w in kernels) / 50
    assert penalty > 1e-3  # large enough to see
    got = penalised.history_["loss"][0] - plain.history_["loss"][0]
    assert got == pytest.approx(penalty, rel=1e-4)
    with pytest.raises(ValueError, match="alpha must be a non-negative"):
        NeuralNetClassifier(alpha=-1.0).fit(X, y)


def test_stops_after_as_many_stale_epochs_as_mlpclassifier():
    """With a tol no epoch can beat, both stop at the same epoch: scikit-learn stops when its
    no-improvement count exceeds n_iter_no_change (n_iter_no_change + 1 stale epochs)."""
    from sklearn.neural_network import MLPClassifier
    X, y = load_iris(return_X_y=True)
    for patience in (1, 3):
        mlp = MLPClassifier(hidden_layer_sizes=(8,), tol=1e3, n_iter_no_change=patience,
                            random_state=0).fit(X, y)
        ours = NeuralNetClassifier(hidden_layer_sizes=(8,), tol=1e3,
                                   n_iter_no_change=patience).fit(X, y)
        assert ours.n_iter_ == mlp.n_iter_ == patience + 2


def test_early_stopping_stops_after_as_many_stale_validation_epochs_as_mlpclassifier():
    """MLPClassifier(early_stopping=True) counts stale epochs of the held-out score the same way:
    with a tol no epoch can beat, both stop after n_iter_no_change + 1 stale epochs."""
    from sklearn.neural_network import MLPClassifier
    X, y = load_iris(return_X_y=True)
    for patience in (1, 3):
        mlp = MLPClassifier(hidden_layer_sizes=(8,), tol=1e3, n_iter_no_change=patience,
                            early_stopping=True, random_state=0).fit(X, y)
        ours = NeuralNetClassifier(hidden_layer_sizes=(8,), tol=1e3, n_iter_no_change=patience,
                                   early_stopping=True).fit(X, y)
        assert ours.n_iter_ == mlp.n_iter_ == patience + 2
        assert len(ours.history_["val_loss"]) == ours.n_iter_  # 10% held out, as MLP's default


def test_early_stopping_ends_with_the_weights_of_the_best_validation_epoch():
    """Oracle: the same run (same split, same epoch orders) stopped by hand at the epoch with the
    lowest validation loss, without early stopping, gives the same predictions."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 5))
    y = X[:, 0] + rng.normal(scale=1.0, size=120)  # noisy: a wide network soon overfits
    kw = dict(hidden_layer_sizes=(64,), learning_rate=0.03, batch_size=16, epochs=60)
    stopped = NeuralNetRegressor(early_stopping=True, n_iter_no_change=5, **kw).fit(X, y)
    val = stopped.history_["val_loss"]
    best = int(np.argmin(val))
    assert best + 1 < stopped.n_iter_ < 60  # it ran past the best epoch, then stopped
    by_hand = NeuralNetRegressor(validation_split=0.1, n_iter_no_change=None,
                                 **{**kw, "epochs": best + 1}).fit(X, y)
    assert by_hand.history_["val_loss"] == val[:best + 1]
    np.testing.assert_array_equal(stopped.predict(X), by_hand.predict(X))
    last = NeuralNetRegressor(validation_split=0.1, n_iter_no_change=5, **kw).fit(X, y)
    assert last.n_iter_ == stopped.n_iter_  # the same stop, but it keeps the last weights
    assert not np.array_equal(last.predict(X), stopped.predict(X))


def test_early_stopping_is_a_checked_parameter():
    assert NeuralNetClassifier().get_params()["early_stopping"] is False  # as MLPClassifier
    assert "early_stopping" in NeuralNetTransformer().get_params()
    X, y = iris()
    with pytest.raises(ValueError, match="early_stopping must be True or False"):
        NeuralNetClassifier(early_stopping="yes", epochs=1).fit(X, y)


def test_early_stopping_on_tiny_data_holds_out_a_row_or_says_why_not():
    X, y = iris()
    few = np.r_[0:5, 50:55, 100:105]  # 15 rows, 5 per class: no class gives a row at 10%
    clf = NeuralNetClassifier(hidden_layer_sizes=(4,), epochs=3, early_stopping=True)
    clf.fit(X[few], y[few])
    assert len(clf.history_["val_loss"]) == clf.n_iter_ == 3
    with pytest.raises(ValueError, match="n_samples=1"):  # what scikit-learn's checks look for
        NeuralNetRegressor(early_stopping=True, epochs=2).fit(X[:1], y[:1])


def test_partial_fit_holds_nothing_out_with_early_stopping():
    # as MLPClassifier: early stopping applies to fit only; partial_fit trains on every row given
    X, y = iris()
    kw = dict(hidden_layer_sizes=(8,), batch_size=32)
    with_es = NeuralNetClassifier(early_stopping=True, **kw).partial_fit(X, y, classes=[0, 1, 2])
    plain = NeuralNetClassifier(**kw).partial_fit(X, y, classes=[0, 1, 2])
    assert "val_loss" not in with_es.history_
    np.testing.assert_array_equal(with_es.predict_proba(X), plain.predict_proba(X))
