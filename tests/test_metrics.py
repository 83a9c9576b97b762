"""Metrics: hand-worked values, sample weights, top-k ties, AUC, names and resolution."""

import json

import numpy as np
import pytest

from unafraid import losses as L
from unafraid import metrics as M


def test_mean_weighted_and_reset():
    m = M.Mean()
    m.update_state([1.0, 3.0], sample_weight=[1.0, 3.0])
    m.update_state([10.0])
    assert m.result() == pytest.approx((1 + 9 + 10) / 5)
    m.reset_state()
    assert m.result() == 0.0
    m.update_state(np.array([[1.0, 3.0], [5.0, 7.0]]), sample_weight=[1.0, 0.0])  # per-sample mean
    assert m.result() == 2.0


def test_accuracies_hand_worked():
    m = M.Accuracy()
    m.update_state([1, 2, 3, 4], [0, 2, 3, 4])
    assert m.result() == 0.75

    b = M.BinaryAccuracy()
    b.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]])
    assert b.result() == 0.75
    b.reset_state()
    b.update_state([1, 0], [[0.5], [0.5]])  # 0.5 is not > 0.5: predicts 0; (N,) vs (N, 1) matched
    assert b.result() == 0.5
    t = M.BinaryAccuracy(threshold=0.0)
    t.update_state([[1], [0]], [[0.1], [-0.1]])
    assert t.result() == 1.0

    c = M.CategoricalAccuracy()
    c.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    assert c.result() == 0.5

    s = M.SparseCategoricalAccuracy()
    s.update_state([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]])
    assert s.result() == 0.5
    s.update_state([0, 0], [[0.9, 0.1, 0.0], [0.1, 0.9, 0.0]], sample_weight=[3.0, 1.0])
    assert s.result() == pytest.approx((1 + 3) / (2 + 4))


def test_argmax_ties_pick_the_first_class():
    s = M.SparseCategoricalAccuracy()
    s.update_state([0, 1], [[0.5, 0.5], [0.5, 0.5]])
    assert s.result() == 0.5


def test_top_k_with_ties_counts_tied_classes_as_in():
    scores = np.array([[0.5, 0.5, 0.1], [0.3, 0.5, 0.5], [0.3, 0.5, 0.5], [0.1, 0.2, 0.7]])
    labels = np.array([1, 0, 0, 2])
    hits = [M.sparse_top_k_categorical_accuracy(labels, scores, k=k) for k in (1, 2, 3)]
    np.testing.assert_array_equal(hits[0], [1, 0, 0, 1])  # label 1 ties with the top score
    np.testing.assert_array_equal(hits[1], [1, 0, 0, 1])  # two classes strictly above class 0
    np.testing.assert_array_equal(hits[2], [1, 1, 1, 1])
    m = M.SparseTopKCategoricalAccuracy(k=1)
    m.update_state(labels, scores, sample_weight=[1, 1, 1, 2])
    assert m.result() == pytest.approx(3 / 5)
    t = M.TopKCategoricalAccuracy(k=2)
    t.update_state(np.eye(3)[labels], scores)
    assert t.result() == 0.5
    assert M.SparseTopKCategoricalAccuracy().k == 5 and M.TopKCategoricalAccuracy().k == 5


def test_regression_metrics():
    m = M.MeanSquaredError()
    m.update_state([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]])
    assert m.result() == 0.25
    a = M.MeanAbsoluteError()
    a.update_state(np.array([1.0, 2.0]), np.array([[2.0], [4.0]]), sample_weight=[1.0, 3.0])
    assert a.result() == pytest.approx((1 + 6) / 4)
    r = M.RootMeanSquaredError()
    r.update_state([[2.0], [0.0]], [[0.0], [0.0]])
    assert r.result() == pytest.approx(np.sqrt(2.0))


def test_crossentropy_metrics_use_the_loss_functions():
    m = M.SparseCategoricalCrossentropy()
    m.update_state([1], [[0.25, 0.75]])
    assert m.result() == pytest.approx(-np.log(0.75), rel=1e-6)


def test_precision_and_recall_hand_worked():
    p = M.Precision()
    p.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    assert p.result() == pytest.approx(2 / 3)
    p.reset_state()
    p.update_state([0, 1, 1, 1], [1, 0, 1, 1], sample_weight=[0, 0, 1, 0])
    assert p.result() == 1.0
    r = M.Recall()
    r.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    assert r.result() == pytest.approx(2 / 3)
    assert M.Precision().result() == 0.0  # nothing seen: 0, not NaN
    k = M.Precision(top_k=1, class_id=None)
    k.update_state([[0, 0, 1, 1]], [[1, 1, 1, 1]])  # only the first of four tied scores is kept
    assert k.result() == 0.0
    several = M.Recall(thresholds=[0.2, 0.7])
    several.update_state([1, 1], [0.5, 0.9])
    np.testing.assert_allclose(several.result(), [1.0, 0.5])


def test_auc_keras_example_and_exact_value():
    m = M.AUC(num_thresholds=3)
    m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    assert m.result() == pytest.approx(0.75)
    r = np.random.default_rng(0)
    y = r.integers(0, 2, 2000)
    s = np.clip(0.3 * y + r.normal(0.35, 0.2, 2000), 0, 1)
    pos, neg = s[y == 1], s[y == 0]  # exact AUC: P(score_pos > score_neg), ties half
    exact = (np.mean(pos[:, None] > neg[None, :]) + 0.5 * np.mean(pos[:, None] == neg[None, :]))
    a = M.AUC(num_thresholds=1000)
    a.update_state(y[:1000], s[:1000])
    a.update_state(y[1000:], s[1000:])
    assert a.result() == pytest.approx(exact, abs=2e-3)


def test_auc_pr_and_weights():
    perfect = M.AUC(curve="PR")
    perfect.update_state([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])
    assert perfect.result() == pytest.approx(1.0, abs=1e-6)
    weighted = M.AUC()  # the 0.5-scored negative weighs nothing: separable
    weighted.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9], sample_weight=[1, 0, 1, 1])
    assert weighted.result() == pytest.approx(1.0)
    logits = M.AUC(from_logits=True)
    logits.update_state([0, 1], [-3.0, 3.0])
    assert logits.result() == pytest.approx(1.0)


# ---- resolution and names -----------------------------------------------------------------------------
@pytest.mark.parametrize("loss,shape,cls", [
    ("sparse_categorical_crossentropy", (None, 10), M.SparseCategoricalAccuracy),
    (L.SparseCategoricalCrossentropy(from_logits=True), (None, 10), M.SparseCategoricalAccuracy),
    ("categorical_crossentropy", (None, 10), M.CategoricalAccuracy),
    ("binary_crossentropy", (None, 1), M.BinaryAccuracy),
    ("binary_crossentropy", (None, 5), M.BinaryAccuracy),
    ("mse", (None, 1), M.BinaryAccuracy),
    ("mse", (None, 4), M.CategoricalAccuracy),
])
def test_accuracy_resolves_from_loss_and_output(loss, shape, cls):
    for spelling in ("accuracy", "acc", "Accuracy"):
        m = M.get(spelling, loss=L.get(loss) if isinstance(loss, str) else loss,
                  output_shape=shape)
        assert type(m) is cls and m.name == spelling


def test_accuracy_for_binary_logits_thresholds_at_zero():
    m = M.get("accuracy", loss=L.BinaryCrossentropy(from_logits=True), output_shape=(None, 1))
    assert isinstance(m, M.BinaryAccuracy) and m.threshold == 0.0
    assert M.get("accuracy", loss="mse", output_shape=(None, 3), y_true_shape=(None,)).__class__ \
        is M.SparseCategoricalAccuracy


def test_string_metrics_are_named_by_the_string():
    assert [M.get(s).name for s in ("mse", "mae", "mean_squared_error", "auc", "AUC")] == [
        "mse", "mae", "mean_squared_error", "auc", "AUC"]
    assert isinstance(M.get("mse"), M.MeanSquaredError)
    assert M.MeanSquaredError().name == "mean_squared_error"
    assert M.SparseCategoricalAccuracy().name == "sparse_categorical_accuracy"
    inst = M.AUC(name="roc")
    assert M.get(inst) is inst
    with pytest.raises(ValueError, match="Did you mean 'sparse_categorical_accuracy'"):
        M.get("sparse_categorical_acuracy")


def test_functions_become_mean_metrics():
    def off_by_one(y_true, y_pred):
        return np.abs(np.asarray(y_true) - np.asarray(y_pred)) == 1

    m = M.get(off_by_one)
    m.update_state(np.array([1, 2, 3]), np.array([2, 2, 5]))
    assert m.name == "off_by_one" and m.result() == pytest.approx(1 / 3)
    assert isinstance(M.get(M.sparse_categorical_accuracy), M.SparseCategoricalAccuracy)


def test_serialize_round_trip():
    for metric in (M.SparseCategoricalAccuracy(), M.BinaryAccuracy(threshold=0.3),
                   M.SparseTopKCategoricalAccuracy(k=3), M.AUC(num_thresholds=50, curve="PR"),
                   M.Precision(thresholds=0.7), M.MeanSquaredError(name="mse")):
        config = json.loads(json.dumps(M.serialize(metric)))
        again = M.deserialize(config)
        assert type(again) is type(metric) and again.get_config() == metric.get_config()
    assert M.serialize("accuracy") == "accuracy"


def test_repr_shows_one_value_per_class():
    m = M.Precision(thresholds=[0.3, 0.7])
    m.update_state([1, 0, 1, 0], [0.8, 0.5, 0.2, 0.1])  # above 0.3: 0.8 (tp), 0.5 (fp); above 0.7: 0.8
    assert repr(m) == "<Precision name='precision' result=[0.5 1. ]>"


def test_confusion_counts_by_hand():
    # thresholds 0.25 and 0.75; positives at 0.9 (w 2) and 0.5 (w 1), negatives at 0.6 (w 3) and 0.1 (w 1)
    counts = M.confusion_counts([1, 1, 0, 0], [0.9, 0.5, 0.6, 0.1], [0.25, 0.75],
                                sample_weight=[2.0, 1.0, 3.0, 1.0])
    np.testing.assert_array_equal(counts["tp"], [3.0, 2.0])
    np.testing.assert_array_equal(counts["fp"], [3.0, 0.0])
    np.testing.assert_array_equal(counts["fn"], [0.0, 1.0])
    np.testing.assert_array_equal(counts["tn"], [1.0, 4.0])
    # evenly spaced thresholds [0, 0.5, 1] count by buckets: the same numbers as comparing
    even = M.confusion_counts([1, 1, 0, 0], [0.9, 0.5, 0.6, 0.1], [0.0, 0.5, 1.0],
                              thresholds_distributed_evenly=True)
    np.testing.assert_array_equal(even["tp"], [2.0, 1.0, 0.0])  # 0.5 is not above 0.5
    np.testing.assert_array_equal(even["fp"], [2.0, 1.0, 0.0])


def test_mean_of_one_number_at_a_time_has_the_bits_of_arrays():
    """fit's loss tracker passes one float and one batch size per step (the path without arrays);
    it must keep the same float64 total and count as one-element arrays, NaN included."""
    rng = np.random.default_rng(3)
    values = [float(v) for v in rng.standard_normal(50).astype(np.float32)] + [np.float32(0.1)]
    weights = [int(w) for w in rng.integers(1, 64, len(values))]
    for weighted in (False, True):
        fast, arrays = M.Mean(), M.Mean()
        for v, w in zip(values, weights, strict=True):
            fast.update_state(v, sample_weight=w if weighted else None)
            arrays.update_state([v], sample_weight=[w] if weighted else None)
        assert (fast.total, fast.count) == (arrays.total, arrays.count)
        assert fast.result() == arrays.result()
    nan = M.Mean()
    nan.update_state(float("nan"), sample_weight=3)
    assert np.isnan(nan.result()) and nan.count == 3.0
