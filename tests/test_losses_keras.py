"""Keras 3's own loss test cases, ported (keras/src/losses/losses_test.py), plus gradient checks.

Each ``test_keras_*`` names the Keras test it ports (``Class.test_method``); the expected numbers
are Keras's, compared with Keras's own tolerances: ``assertAlmostEqual`` (default ``decimal=3``:
``|actual - desired| < 1.5e-3``) and ``assertAllClose`` (``atol = rtol = 1e-6``). Keras's
``test_config`` cases (``run_class_serialization_test``) become a config + serialize round trip.
Left out: the ``test_dtype_arg`` cases (bfloat16 computations; unafraid computes in y_pred's dtype).
CTC is also checked against its definition, the sum over every alignment, enumerated.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import unafraid as uf
from unafraid import losses

KERAS_CASES: list[str] = []  # every ported Keras test, for the count in the module's last test


def keras_case(name: str):
    """Mark a test as the port of Keras's ``name`` (``Class.test_method``)."""
    KERAS_CASES.append(name)
    return lambda test: test


def value(t) -> np.ndarray:
    return np.asarray(t.data if isinstance(t, uf.Tensor) else t)


def almost_equal(actual, desired, decimal=3):
    """Keras's ``assertAlmostEqual`` (``np.testing.assert_almost_equal``, default decimal 3)."""
    np.testing.assert_almost_equal(value(actual), desired, decimal=decimal)


def all_close(actual, desired, atol=1e-6, rtol=1e-6):
    """Keras's ``assertAllClose``."""
    np.testing.assert_allclose(value(actual), desired, atol=atol, rtol=rtol)


def serialization_round_trip(loss):
    """Keras's ``run_class_serialization_test``: config and serialize/deserialize round trips."""
    config = loss.get_config()
    again = type(loss).from_config(config)
    assert again.get_config() == config
    saved = json.loads(json.dumps(losses.serialize(loss)))
    revived = losses.deserialize(saved)
    assert type(revived) is type(loss) and revived.get_config() == config
    return revived


# ---- Hinge, SquaredHinge, CategoricalHinge ---------------------------------------------------------
HINGE_TRUE = np.array([[0.0, 1.0], [0.0, 0.0]])
HINGE_PRED = np.array([[0.6, 0.4], [0.4, 0.6]])
HINGE_NUMBERS = {  # Keras's test_unweighted / test_weighted numbers: (mean, sum, per example)
    losses.Hinge: ((1.3, 2.6, [1.1, 1.5]), (0.55, 1.1, [1.1, 0.0])),
    losses.SquaredHinge: ((1.86, 3.72, [1.46, 2.26]), (0.73, 1.46, [1.46, 0.0])),
    losses.CategoricalHinge: ((1.4, 2.8, [1.2, 1.6]), (0.6, 1.2, [1.2, 0.0])),
}
HINGES = list(HINGE_NUMBERS)


@keras_case("HingeTest.test_unweighted")
@keras_case("SquaredHingeTest.test_unweighted")
@keras_case("CategoricalHingeTest.test_unweighted")
@pytest.mark.parametrize("cls", HINGES, ids=lambda c: c.__name__)
def test_keras_hinge_family_unweighted(cls):
    mean, total, per_example = HINGE_NUMBERS[cls][0]
    almost_equal(cls(reduction="sum_over_batch_size")(HINGE_TRUE, HINGE_PRED), mean)
    almost_equal(cls(reduction="sum")(HINGE_TRUE, HINGE_PRED), total)
    all_close(cls(reduction=None)(HINGE_TRUE, HINGE_PRED), per_example)
    with pytest.raises(ValueError, match="Invalid value for argument"):
        cls(reduction="abc")


@keras_case("HingeTest.test_weighted")
@keras_case("SquaredHingeTest.test_weighted")
@keras_case("CategoricalHingeTest.test_weighted")
@pytest.mark.parametrize("cls", HINGES, ids=lambda c: c.__name__)
def test_keras_hinge_family_weighted(cls):
    mean, total, per_example = HINGE_NUMBERS[cls][1]
    sample_weight = [1, 0]
    almost_equal(cls(reduction="sum_over_batch_size")(HINGE_TRUE, HINGE_PRED, sample_weight), mean)
    almost_equal(cls(reduction="sum")(HINGE_TRUE, HINGE_PRED, sample_weight), total)
    almost_equal(cls(reduction=None)(HINGE_TRUE, HINGE_PRED, sample_weight), per_example)


@keras_case("HingeTest.test_zero_weighted")
@keras_case("SquaredHingeTest.test_zero_weighted")
@keras_case("CategoricalHingeTest.test_zero_weighted")
@pytest.mark.parametrize("cls", HINGES, ids=lambda c: c.__name__)
def test_keras_hinge_family_zero_weighted(cls):
    assert float(cls()(HINGE_TRUE, HINGE_PRED, sample_weight=0.0)) == 0.0


def test_hinge_keeps_labels_that_are_already_signed():
    # -1/1 labels are used as they are; 0/1 labels become -1/1 (hand-worked: max(1 - y p, 0))
    signed = losses.hinge([[-1.0, 1.0]], [[0.5, 0.25]])
    binary = losses.hinge([[0.0, 1.0]], [[0.5, 0.25]])
    all_close(signed, [(1.5 + 0.75) / 2])
    all_close(binary, value(signed))


# ---- CosineSimilarity ------------------------------------------------------------------------------
COS_TRUE = np.asarray([[1, 9, 2], [-5, -2, 6]], dtype=np.float32)
COS_PRED = np.asarray([[4, 8, 12], [8, 1, 3]], dtype=np.float32)


def l2_norm(x, axis):  # Keras's CosineSimilarityTest.l2_norm
    square_sum = np.sum(np.square(x), axis=axis, keepdims=True)
    return x / np.sqrt(np.maximum(square_sum, 1e-12))


def cosine_expected(y_true, y_pred, axis):
    return np.sum(l2_norm(y_true, axis) * l2_norm(y_pred, axis), axis=(axis,))


@keras_case("CosineSimilarityTest.test_config")
def test_keras_cosine_similarity_config():
    cosine_obj = losses.CosineSimilarity(axis=2, reduction="sum", name="cosine_loss")
    assert cosine_obj.name == "cosine_loss" and cosine_obj.reduction == "sum"
    assert cosine_obj.get_config() == {"name": "cosine_loss", "reduction": "sum", "axis": 2}
    serialization_round_trip(cosine_obj)


@keras_case("CosineSimilarityTest.test_unweighted")
@keras_case("CosineSimilarityTest.test_axis")
@pytest.mark.parametrize("axis", [-1, 1])
def test_keras_cosine_similarity_unweighted_and_axis(axis):
    loss = losses.CosineSimilarity(axis=axis)(COS_TRUE, COS_PRED)
    almost_equal(loss, -np.mean(cosine_expected(COS_TRUE, COS_PRED, 1)))


@keras_case("CosineSimilarityTest.test_scalar_weighted")
@keras_case("CosineSimilarityTest.test_sample_weighted")
@pytest.mark.parametrize("sample_weight", [2.3, np.asarray([1.2, 3.4])])
def test_keras_cosine_similarity_weighted(sample_weight):
    loss = losses.CosineSimilarity()(COS_TRUE, COS_PRED, sample_weight=sample_weight)
    almost_equal(loss, -np.mean(cosine_expected(COS_TRUE, COS_PRED, 1) * sample_weight))


@keras_case("CosineSimilarityTest.test_timestep_weighted")
def test_keras_cosine_similarity_timestep_weighted():
    y_true, y_pred = COS_TRUE.reshape((2, 3, 1)), COS_PRED.reshape((2, 3, 1))
    sample_weight = np.asarray([3, 6, 5, 0, 4, 2]).reshape((2, 3))
    loss = losses.CosineSimilarity()(y_true, y_pred, sample_weight=sample_weight)
    almost_equal(loss, -np.mean(cosine_expected(y_true, y_pred, 2) * sample_weight))


@keras_case("CosineSimilarityTest.test_zero_weighted")
def test_keras_cosine_similarity_zero_weighted():
    almost_equal(losses.CosineSimilarity()(COS_TRUE, COS_PRED, sample_weight=0), 0.0)


def test_cosine_similarity_docstring_example_and_zero_vector():
    # Keras's docstring: [-0., -0.99999994, 0.99999994]; a zero vector gives 0, not NaN
    all_close(losses.cosine_similarity([[0., 1.], [1., 1.], [1., 1.]], [[1., 0.], [1., 1.], [-1., -1.]]),
              [0.0, -1.0, 1.0], atol=1e-6)
    all_close(losses.cosine_similarity([[0.0, 0.0]], [[1.0, 2.0]]), [0.0])


# ---- LogCosh ---------------------------------------------------------------------------------------
def logcosh_expected(y_true, y_pred):  # Keras's LogCoshTest.setup
    error = y_pred - y_true
    return np.log((np.exp(error) + np.exp(-error)) / 2)


@keras_case("LogCoshTest.test_config")
def test_keras_log_cosh_config():
    logcosh_obj = losses.LogCosh(reduction="sum", name="logcosh_loss")
    assert logcosh_obj.name == "logcosh_loss" and logcosh_obj.reduction == "sum"
    assert logcosh_obj.get_config() == {"name": "logcosh_loss", "reduction": "sum"}
    serialization_round_trip(logcosh_obj)


@keras_case("LogCoshTest.test_unweighted")
@keras_case("LogCoshTest.test_scalar_weighted")
@keras_case("LogCoshTest.test_sample_weighted")
@keras_case("LogCoshTest.test_zero_weighted")
@pytest.mark.parametrize("sample_weight", [None, 2.3, np.asarray([1.2, 3.4]), 0])
def test_keras_log_cosh_weighted(sample_weight):
    expected = logcosh_expected(COS_TRUE, COS_PRED)
    if sample_weight is not None:
        expected = expected * np.reshape(sample_weight, (-1, 1))
    loss = losses.LogCosh()(COS_TRUE, COS_PRED, sample_weight=sample_weight)
    almost_equal(loss, np.sum(expected) / 6)


@keras_case("LogCoshTest.test_timestep_weighted")
def test_keras_log_cosh_timestep_weighted():
    y_true = np.asarray([1, 9, 2, -5, -2, 6]).reshape(2, 3, 1)
    y_pred = np.asarray([4, 8, 12, 8, 1, 3]).reshape(2, 3, 1)
    sample_weight = np.array([3, 6, 5, 0, 4, 2]).reshape((2, 3, 1))
    loss = losses.LogCosh()(y_true, y_pred, sample_weight=sample_weight)
    almost_equal(loss, np.sum(logcosh_expected(y_true, y_pred) * sample_weight) / 6)


def test_log_cosh_is_finite_for_huge_errors():
    # log cosh(e) = |e| - log 2 for large |e|; a naive cosh overflows at e = 100 in float32
    all_close(losses.log_cosh([[0.0]], np.array([[1000.0]], np.float32)), [1000.0 - np.log(2.0)],
              rtol=1e-6)


# ---- MeanAbsolutePercentageError, MeanSquaredLogarithmicError --------------------------------------
REG_TRUE = np.array([[1, 9, 2], [-5, -2, 6]])
REG_PRED = np.array([[4, 8, 12], [8, 1, 3]], dtype="float32")
TIMESTEP = (np.asarray([1, 9, 2, -5, -2, 6]).reshape(2, 3, 1),
            np.asarray([4, 8, 12, 8, 1, 3]).reshape(2, 3, 1),
            np.array([3, 6, 5, 0, 4, 2]).reshape((2, 3)))


@keras_case("MeanAbsolutePercentageErrorTest.test_config")
@keras_case("MeanSquaredLogarithmicErrorTest.test_config")
@pytest.mark.parametrize("loss", [losses.MeanAbsolutePercentageError(name="mymape"),
                                  losses.MeanSquaredLogarithmicError(name="mysloge")])
def test_keras_mape_msle_config(loss):
    serialization_round_trip(loss)


@keras_case("MeanAbsolutePercentageErrorTest.test_all_correct_unweighted")
def test_keras_mape_all_correct_unweighted():
    y_true = np.array([[4, 8, 12], [8, 1, 3]])
    almost_equal(losses.MeanAbsolutePercentageError()(y_true, y_true), 0.0, decimal=7)


@keras_case("MeanAbsolutePercentageErrorTest.test_unweighted")
@keras_case("MeanAbsolutePercentageErrorTest.test_scalar_weighted")
@keras_case("MeanAbsolutePercentageErrorTest.test_sample_weighted")
@keras_case("MeanAbsolutePercentageErrorTest.test_zero_weighted")
@keras_case("MeanSquaredLogarithmicErrorTest.test_unweighted")
@keras_case("MeanSquaredLogarithmicErrorTest.test_scalar_weighted")
@keras_case("MeanSquaredLogarithmicErrorTest.test_sample_weighted")
@keras_case("MeanSquaredLogarithmicErrorTest.test_zero_weighted")
@pytest.mark.parametrize("cls,sample_weight,expected", [
    (losses.MeanAbsolutePercentageError, None, 211.8518),
    (losses.MeanAbsolutePercentageError, 2.3, 487.259),
    (losses.MeanAbsolutePercentageError, np.array([[1.2], [3.4]]), 422.8888),
    (losses.MeanAbsolutePercentageError, 0, 0.0),
    (losses.MeanSquaredLogarithmicError, None, 1.4370),
    (losses.MeanSquaredLogarithmicError, 2.3, 3.3051),
    (losses.MeanSquaredLogarithmicError, np.array([[1.2], [3.4]]), 3.7856),
    (losses.MeanSquaredLogarithmicError, 0, 0.0),
])
def test_keras_mape_msle_weighted(cls, sample_weight, expected):
    almost_equal(cls()(REG_TRUE, REG_PRED, sample_weight=sample_weight), expected)


@keras_case("MeanAbsolutePercentageErrorTest.test_timestep_weighted")
@keras_case("MeanSquaredLogarithmicErrorTest.test_timestep_weighted")
@pytest.mark.parametrize("cls,expected", [(losses.MeanAbsolutePercentageError, 694.4444),
                                          (losses.MeanSquaredLogarithmicError, 2.647374)])
def test_keras_mape_msle_timestep_weighted(cls, expected):
    y_true, y_pred, sample_weight = TIMESTEP
    almost_equal(cls()(y_true, y_pred, sample_weight=sample_weight), expected)


@keras_case("MeanAbsolutePercentageErrorTest.test_no_reduction")
def test_keras_mape_no_reduction():
    loss = losses.MeanAbsolutePercentageError(reduction=None)(REG_TRUE, REG_PRED, sample_weight=2.3)
    almost_equal(loss, [621.8518, 352.6666])


@keras_case("MeanAbsolutePercentageErrorTest.test_mean_with_sample_weight_reduction")
@keras_case("MeanSquaredLogarithmicErrorTest.test_mean_with_sample_weight_reduction")
@pytest.mark.parametrize("cls,expected", [(losses.MeanAbsolutePercentageError, 183.865),
                                          (losses.MeanSquaredLogarithmicError, 1.646)])
def test_keras_mape_msle_mean_with_sample_weight(cls, expected):
    loss = cls(reduction="mean_with_sample_weight")(REG_TRUE, REG_PRED, np.array([[1.2], [3.4]]))
    almost_equal(loss, expected)


# ---- CategoricalCrossentropy: label smoothing (with axis) and the one-class warning ----------------
CCE_TRUE = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]])
CCE_PRED = np.array([[0.9, 0.05, 0.05], [0.5, 0.89, 0.6], [0.05, 0.01, 0.94]], dtype="float32")
CCE_LOGITS = np.array([[8.0, 1.0, 1.0], [0.0, 9.0, 1.0], [2.0, 3.0, 5.0]])
SPATIAL_TRUE = np.array([[[1, 0], [0, 1], [0, 0]], [[0, 1], [1, 0], [0, 0]]], dtype="float32")
SPATIAL_PRED = np.array([[[0.8, 0.1], [0.1, 0.8], [0.1, 0.1]], [[0.1, 0.8], [0.8, 0.1], [0.1, 0.1]]],
                        dtype="float32")


@keras_case("CategoricalCrossentropyTest.test_config")
def test_keras_categorical_crossentropy_config():
    serialization_round_trip(losses.CategoricalCrossentropy(name="cce", axis=-1))


@keras_case("CategoricalCrossentropyTest.test_all_correct_unweighted")
def test_keras_categorical_crossentropy_all_correct_unweighted():
    y_true = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype="int64")
    almost_equal(losses.CategoricalCrossentropy()(y_true, np.eye(3, dtype="float32")), 0.0)
    logits = np.array([[10.0, 0.0, 0.0], [0.0, 10.0, 0.0], [0.0, 0.0, 10.0]])
    almost_equal(losses.CategoricalCrossentropy(from_logits=True)(y_true, logits), 0.0)


@keras_case("CategoricalCrossentropyTest.test_unweighted")
@keras_case("CategoricalCrossentropyTest.test_scalar_weighted")
@keras_case("CategoricalCrossentropyTest.test_sample_weighted")
@pytest.mark.parametrize("sample_weight,probabilities,logits", [
    (None, 0.3239, 0.0573), (2.3, 0.7449, 0.1317), (np.array([[1.2], [3.4], [5.6]]), 1.0696, 0.31829)])
def test_keras_categorical_crossentropy_weighted(sample_weight, probabilities, logits):
    almost_equal(losses.CategoricalCrossentropy()(CCE_TRUE, CCE_PRED, sample_weight), probabilities)
    almost_equal(losses.CategoricalCrossentropy(from_logits=True)(CCE_TRUE, CCE_LOGITS, sample_weight),
                 logits)


@keras_case("CategoricalCrossentropyTest.test_no_reduction")
def test_keras_categorical_crossentropy_no_reduction():
    loss = losses.CategoricalCrossentropy(from_logits=True, reduction=None)(CCE_TRUE, CCE_LOGITS)
    all_close(loss, (0.001822, 0.000459, 0.169846), atol=1e-6, rtol=1e-3)  # Keras rounds to 4 digits


@keras_case("CategoricalCrossentropyTest.test_label_smoothing")
@keras_case("CategoricalCrossentropyTest.test_label_smoothing_ndarray")
def test_keras_categorical_crossentropy_label_smoothing():
    loss = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)
    almost_equal(loss(np.asarray([[1, 0, 0]]), np.asarray([[100.0, -100.0, -100.0]])), 400.0 * 0.1 / 3.0)


@keras_case("CategoricalCrossentropyTest.test_label_smoothing_with_axis")
def test_keras_categorical_crossentropy_label_smoothing_with_axis():
    loss = losses.CategoricalCrossentropy(label_smoothing=0.1, axis=1)(SPATIAL_TRUE, SPATIAL_PRED)
    smoothed = SPATIAL_TRUE * 0.9 + 0.1 / 3
    almost_equal(loss, np.mean(-np.sum(smoothed * np.log(SPATIAL_PRED), axis=1)), decimal=5)


@keras_case("CategoricalCrossentropyTest.test_shape_mismatch")
def test_keras_categorical_crossentropy_shape_mismatch():
    # Keras's message, and unafraid's advice: these look like integer labels
    with pytest.raises(ValueError, match="must have the same shape.*SparseCategoricalCrossentropy"):
        losses.CategoricalCrossentropy()(np.array([[0], [1], [2]]), CCE_PRED)


@keras_case("CategoricalCrossentropyTest.test_warning_for_invalid_shape")
@keras_case("CategoricalFocalCrossentropyTest.test_warning_for_invalid_shape")
@pytest.mark.parametrize("fn", [losses.categorical_crossentropy, losses.categorical_focal_crossentropy])
def test_keras_categorical_warning_for_invalid_shape(fn):
    pattern = r"expected y_pred.shape to be \(batch_size, num_classes\)"
    with pytest.warns(SyntaxWarning, match=pattern):
        fn(np.array([[1], [1]], dtype="float32"), np.array([[0.5], [0.5]], dtype="float32"))
    with pytest.warns(SyntaxWarning, match=pattern):
        fn(np.ones((2, 1, 4), dtype="float32"), np.ones((2, 1, 4), dtype="float32"), axis=1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn(np.ones((2, 4, 1), dtype="float32"), np.ones((2, 4, 1), dtype="float32"), axis=1)
    assert not [w for w in caught if issubclass(w.category, SyntaxWarning)]


# ---- BinaryFocalCrossentropy -----------------------------------------------------------------------
BF_TRUE = np.asarray([1, 0, 1, 0]).reshape([2, 2])
BF_PRED = np.asarray([0.9, 0.8, 0.7, 0.2], dtype=np.float32).reshape([2, 2])
BF_TRUE_2 = np.array([[1, 1, 0], [0, 1, 0]], dtype="float32")
BF_LOGITS = np.array([[1.5, -2.7, 2.9], [-3.8, 1.2, -4.5]])


@keras_case("BinaryFocalCrossentropyTest.test_config")
@keras_case("CategoricalFocalCrossentropyTest.test_config")
@pytest.mark.parametrize("loss", [losses.BinaryFocalCrossentropy(name="bfce"),
                                  losses.CategoricalFocalCrossentropy(name="cfce")])
def test_keras_focal_config(loss):
    revived = serialization_round_trip(loss)
    assert revived.gamma == 2.0 and revived.alpha == 0.25 and revived.from_logits is False


@keras_case("BinaryFocalCrossentropyTest.test_all_correct_unweighted")
def test_keras_binary_focal_all_correct_unweighted():
    y_true = np.eye(3, dtype="float32")
    almost_equal(losses.BinaryFocalCrossentropy(gamma=1.5)(y_true, y_true), 0.0)
    logits = np.where(y_true == 1, 100.0, -100.0)
    almost_equal(losses.BinaryFocalCrossentropy(gamma=2.0, from_logits=True)(y_true, logits), 0.0)


@keras_case("BinaryFocalCrossentropyTest.test_unweighted")
@keras_case("BinaryFocalCrossentropyTest.test_scalar_weighted")
@keras_case("BinaryFocalCrossentropyTest.test_sample_weighted")
@pytest.mark.parametrize("sample_weight,probabilities,logits", [
    (None, 0.268, 0.799), (1.23, 0.3296, None), (3.21, None, 2.565),
    (np.array([1.2, 3.4]).reshape((2, 1)), 0.34415, 0.95977)])
def test_keras_binary_focal_weighted(sample_weight, probabilities, logits):
    if probabilities is not None:
        almost_equal(losses.BinaryFocalCrossentropy(gamma=2.0)(BF_TRUE, BF_PRED, sample_weight),
                     probabilities)
    if logits is not None:
        loss = losses.BinaryFocalCrossentropy(gamma=3.0, from_logits=True)
        almost_equal(loss(BF_TRUE_2, BF_LOGITS, sample_weight), logits)


@keras_case("BinaryFocalCrossentropyTest.test_no_reduction")
def test_keras_binary_focal_no_reduction():
    loss = losses.BinaryFocalCrossentropy(gamma=2.0, reduction=None)(BF_TRUE, BF_PRED)
    all_close(loss, (0.515547, 0.020513), atol=1e-6, rtol=1e-4)  # Keras prints 6 digits


# Keras's BinaryFocalCrossentropy docstring: (gamma, apply_class_balancing, reduction, sample_weight)
# and the value it prints, for y_true = [[0, 1], [0, 0]], logits [[-18.6, 0.51], [2.94, -12.8]].
BF_DOC = [(3, False, "sum_over_batch_size", None, 0.647), (3, True, "sum_over_batch_size", None, 0.482),
          (3, False, "sum_over_batch_size", [0.8, 0.2], 0.133),
          (3, True, "sum_over_batch_size", [0.8, 0.2], 0.097), (4, False, "sum", None, 1.222),
          (4, True, "sum", None, 0.914), (5, False, None, None, [0.0017, 1.1561]),
          (5, True, None, None, [0.0004, 0.8670])]


@pytest.mark.parametrize("gamma,balance,reduction,sample_weight,expected", BF_DOC)
def test_binary_focal_keras_docstring_examples(gamma, balance, reduction, sample_weight, expected):
    loss = losses.BinaryFocalCrossentropy(apply_class_balancing=balance, gamma=gamma, from_logits=True,
                                          reduction=reduction)
    out = loss(np.array([[0, 1], [0, 0]]), np.array([[-18.6, 0.51], [2.94, -12.8]]), sample_weight)
    np.testing.assert_allclose(value(out), expected, atol=6e-4)  # the docstring rounds
    one_row = losses.BinaryFocalCrossentropy(gamma=2, from_logits=True)
    almost_equal(one_row(np.array([0, 1, 0, 0]), np.array([-18.6, 0.51, 2.94, -12.8])), 0.691)
    balanced = losses.BinaryFocalCrossentropy(apply_class_balancing=True, gamma=2, from_logits=True)
    almost_equal(balanced(np.array([0, 1, 0, 0]), np.array([-18.6, 0.51, 2.94, -12.8])), 0.51, decimal=2)


def test_binary_focal_hand_worked_and_gamma_zero_is_bce():
    # y = 1, p = 0.8: (1 - 0.8)^2 * -log 0.8;  with balancing: * alpha
    want = 0.04 * -np.log(0.8)
    all_close(losses.binary_focal_crossentropy([[1.0]], [[0.8]]), [want], rtol=1e-6)
    all_close(losses.binary_focal_crossentropy([[1.0]], [[0.8]], apply_class_balancing=True, alpha=0.3),
              [0.3 * want], rtol=1e-6)
    y, p = BF_TRUE.astype(np.float32), BF_PRED
    all_close(losses.binary_focal_crossentropy(y, p, gamma=0.0), value(losses.binary_crossentropy(y, p)),
              rtol=1e-6)
    # label smoothing squeezes towards 0.5, as in binary_crossentropy
    smooth = losses.binary_focal_crossentropy(y, p, gamma=0.0, label_smoothing=0.2)
    all_close(smooth, value(losses.binary_crossentropy(y, p, label_smoothing=0.2)), rtol=1e-6)


# ---- CategoricalFocalCrossentropy ------------------------------------------------------------------
@keras_case("CategoricalFocalCrossentropyTest.test_all_correct_unweighted")
def test_keras_categorical_focal_all_correct_unweighted():
    y_true = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype="int64")
    almost_equal(losses.CategoricalFocalCrossentropy(alpha=0.25, gamma=2.0)(y_true, np.eye(3)), 0.0)
    logits = np.array([[10.0, 0.0, 0.0], [0.0, 10.0, 0.0], [0.0, 0.0, 10.0]])
    almost_equal(losses.CategoricalFocalCrossentropy(from_logits=True)(y_true, logits), 0.0)


@keras_case("CategoricalFocalCrossentropyTest.test_unweighted")
@keras_case("CategoricalFocalCrossentropyTest.test_scalar_weighted")
@keras_case("CategoricalFocalCrossentropyTest.test_sample_weighted")
@pytest.mark.parametrize("sample_weight,probabilities,logits,decimal", [
    (None, 0.02059, 0.000345, 3), (2.3, 0.047368, 0.000794, 4),
    (np.array([[1.2], [3.4], [5.6]]).reshape((3, 1)), 0.06987, 0.001933, 3)])
def test_keras_categorical_focal_weighted(sample_weight, probabilities, logits, decimal):
    almost_equal(losses.CategoricalFocalCrossentropy()(CCE_TRUE, CCE_PRED, sample_weight), probabilities)
    loss = losses.CategoricalFocalCrossentropy(from_logits=True)
    almost_equal(loss(CCE_TRUE, CCE_LOGITS, sample_weight), logits, decimal=decimal)


@keras_case("CategoricalFocalCrossentropyTest.test_no_reduction")
def test_keras_categorical_focal_no_reduction():
    loss = losses.CategoricalFocalCrossentropy(from_logits=True, reduction=None)(CCE_TRUE, CCE_LOGITS)
    all_close(loss, (1.5096224e-09, 2.4136547e-11, 1.0360638e-03))


@keras_case("CategoricalFocalCrossentropyTest.test_label_smoothing")
def test_keras_categorical_focal_label_smoothing():
    loss = losses.CategoricalFocalCrossentropy(from_logits=True, label_smoothing=0.1)
    almost_equal(loss(np.array([[1, 0, 0]]), np.array([[4.9, -0.5, 2.05]])), 0.06685)


@keras_case("CategoricalFocalCrossentropyTest.test_label_smoothing_with_axis")
def test_keras_categorical_focal_label_smoothing_with_axis():
    loss = losses.CategoricalFocalCrossentropy(label_smoothing=0.1, axis=1)(SPATIAL_TRUE, SPATIAL_PRED)
    smoothed = SPATIAL_TRUE * 0.9 + 0.1 / 3
    focal = 0.25 * (1 - SPATIAL_PRED) ** 2 * -smoothed * np.log(SPATIAL_PRED)
    almost_equal(loss, np.mean(np.sum(focal, axis=1)), decimal=5)


def test_categorical_focal_docstring_examples_and_alpha_per_class():
    # Keras's docstring: [3.2058331e-05, 4.6627346e-01] and [2.63401289e-04, 6.75912094e-01]
    y_true = [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    all_close(losses.CategoricalFocalCrossentropy(reduction=None)(y_true, [[0.05, 0.95, 0], [0.1, 0.8, 0.1]]),
              [3.2058331e-05, 4.6627346e-01], rtol=1e-5)
    all_close(losses.categorical_focal_crossentropy([[0, 1, 0], [0, 0, 1]],
                                                    [[0.05, 0.9, 0.05], [0.1, 0.85, 0.05]]),
              [2.63401289e-04, 6.75912094e-01], rtol=1e-5)
    # a per-class alpha weighs each class's term (hand-worked: 0.5 (1 - 0.9)^2 -log 0.9)
    all_close(losses.categorical_focal_crossentropy([[0, 1, 0]], [[0.05, 0.9, 0.05]], alpha=[1.0, 0.5, 1.0]),
              [0.5 * 0.01 * -np.log(0.9)], rtol=1e-5)


# ---- Dice, Tversky ---------------------------------------------------------------------------------
SEG_TRUE = np.array([[1, 0, 1, 0], [0, 1, 0, 1], [1, 0, 1, 0], [0, 1, 0, 1]])
SEG_PRED = np.array([[0, 1, 0, 1], [1, 0, 1, 1], [0, 1, 0, 1], [1, 0, 1, 1]])
IMG_TRUE = np.array([[[[1.0], [1.0]], [[0.0], [0.0]]], [[[1.0], [1.0]], [[0.0], [0.0]]]])
IMG_PRED = np.array([[[[0.0], [1.0]], [[0.0], [1.0]]], [[[0.4], [0.0]], [[0.0], [0.9]]]])
SMALL_TRUE, SMALL_PRED = np.array([[1, 2], [1, 2]]), np.array([[4, 1], [6, 1]])


@keras_case("DiceTest.test_config")
@keras_case("TverskyTest.test_config")
@pytest.mark.parametrize("loss", [losses.Dice(name="mydice"), losses.Tversky(name="mytversky"),
                                  losses.Dice(axis=(1, 2, 3)), losses.Tversky(alpha=0.2, beta=0.8, axis=1)])
def test_keras_dice_tversky_config(loss):
    revived = serialization_round_trip(loss)
    if loss.axis is not None:  # a saved tuple comes back as a list and still works
        np.testing.assert_array_equal(value(revived(IMG_TRUE, IMG_PRED)), value(loss(IMG_TRUE, IMG_PRED)))


@keras_case("DiceTest.test_correctness")
@keras_case("DiceTest.test_binary_segmentation")
@keras_case("TverskyTest.test_correctness")
@keras_case("TverskyTest.test_correctness_custom_coefficients")
@keras_case("TverskyTest.test_binary_segmentation")
@keras_case("TverskyTest.test_binary_segmentation_custom_coefficients")
@pytest.mark.parametrize("loss,y_true,y_pred,expected", [
    (losses.Dice(), SMALL_TRUE, SMALL_PRED, -0.55555546),
    (losses.Dice(), SEG_TRUE, SEG_PRED, 0.77777773),
    (losses.Tversky(), SMALL_TRUE, SMALL_PRED, -0.55555558),
    (losses.Tversky(alpha=0.2, beta=0.8), SMALL_TRUE, SMALL_PRED, -0.94444442),
    (losses.Tversky(), SEG_TRUE, SEG_PRED, 0.77777779),
    (losses.Tversky(alpha=0.2, beta=0.8), SEG_TRUE, SEG_PRED, 0.76190472)])
def test_keras_dice_tversky_correctness(loss, y_true, y_pred, expected):
    out = loss(y_true, y_pred)
    assert out.shape == ()
    all_close(out, expected)


@keras_case("DiceTest.test_binary_segmentation_with_axis")
@keras_case("TverskyTest.test_binary_segmentation_with_axis")
@keras_case("TverskyTest.test_binary_segmentation_custom_coefficients_with_axis")
@pytest.mark.parametrize("loss,expected", [
    (losses.Dice(axis=(1, 2, 3), reduction=None), [0.5, 0.75757575]),
    (losses.Tversky(axis=(1, 2, 3), reduction=None), [0.5, 0.75757575]),
    (losses.Tversky(alpha=0.2, beta=0.8, axis=(1, 2, 3), reduction=None), [0.5, 0.78494626])])
def test_keras_dice_tversky_with_axis(loss, expected):
    all_close(loss(IMG_TRUE, IMG_PRED), expected)


def test_tversky_alpha_weighs_false_positives_and_beta_false_negatives():
    # one true positive; a false negative (beta) or a false positive (alpha): 1 - 1 / (1 + weight)
    fn_only = losses.tversky([[1.0, 1.0, 0.0]], [[1.0, 0.0, 0.0]], alpha=0.2, beta=0.8)
    fp_only = losses.tversky([[1.0, 0.0, 0.0]], [[1.0, 1.0, 0.0]], alpha=0.2, beta=0.8)
    all_close(fn_only, 1 - 1 / 1.8)
    all_close(fp_only, 1 - 1 / 1.2)


def test_dice_keras_docstring_mean_over_images():
    # Keras's Dice docstring: Dice()(y_true, y_pred) over the whole batch is 0.6164384
    all_close(losses.Dice()(IMG_TRUE, IMG_PRED), 0.6164384)
    all_close(losses.Dice(axis=(1, 2, 3))(IMG_TRUE, IMG_PRED), (0.5 + 0.75757575) / 2)


# ---- Circle ----------------------------------------------------------------------------------------
CIRCLE_LABELS = np.array([1, 1, 2, 2, 3])
CIRCLE_EMBEDDINGS = np.array([
    [0.70014004, -0.42008403, 0.14002801, 0.56011203], [0.17609018, 0.70436073, -0.52827054, 0.44022545],
    [-0.34050261, 0.25537696, -0.68100522, 0.59587957], [0.32163376, -0.75047877, 0.53605627, -0.21442251],
    [0.51261459, -0.34174306, 0.17087153, 0.76892189]])
REF_LABELS = np.array([1, 1, 2, 2, 3, 4])
REF_EMBEDDINGS = np.array([
    [0.40824829, -0.54433105, 0.27216553, 0.68041382], [0.76376261, 0.10910895, -0.54554473, 0.32732684],
    [-0.74420841, 0.24806947, 0.49613894, -0.3721042], [0.52981294, -0.13245324, 0.79471941, -0.26490647],
    [0.54554473, -0.32732684, 0.10910895, 0.76376261], [-0.27216553, 0.68041382, 0.40824829, -0.54433105]])
CIRCLE_WEIGHTS = np.array([2.0, 2.0, 1.0, 1.0, 0.5])


@keras_case("CircleTest.test_config")
def test_keras_circle_config():
    revived = serialization_round_trip(losses.Circle(name="mycircle", gamma=80.0, margin=0.4))
    assert (revived.gamma, revived.margin, revived.remove_diagonal) == (80.0, 0.4, True)


@keras_case("CircleTest.test_correctness")
def test_keras_circle_correctness():
    almost_equal(losses.Circle(gamma=80.0, margin=0.4)(CIRCLE_LABELS, CIRCLE_EMBEDDINGS), 188.3883)
    almost_equal(losses.Circle(gamma=256, margin=0.25)(CIRCLE_LABELS, CIRCLE_EMBEDDINGS), 652.7617)
    loss = losses.circle(CIRCLE_LABELS, CIRCLE_EMBEDDINGS, ref_labels=REF_LABELS,
                         ref_embeddings=REF_EMBEDDINGS, gamma=80.0, margin=0.4, remove_diagonal=False)
    all_close(loss, (61.5844, 94.3465, 276.9344, 90.9873, 48.8963), atol=1e-6, rtol=2e-6)


@keras_case("CircleTest.test_correctness_weighted")
@keras_case("CircleTest.test_mean_with_sample_weight_reduction")
@pytest.mark.parametrize("reduction,expected", [("sum_over_batch_size", 244.91918),
                                                ("mean_with_sample_weight", 163.27948)])
def test_keras_circle_weighted(reduction, expected):
    loss = losses.Circle(gamma=80.0, margin=0.4, reduction=reduction)
    almost_equal(loss(CIRCLE_LABELS, CIRCLE_EMBEDDINGS, sample_weight=CIRCLE_WEIGHTS), expected)


@keras_case("CircleTest.test_no_reduction")
@keras_case("CircleTest.test_sum_reduction")
def test_keras_circle_no_and_sum_reduction():
    # labels 3 and 4 have no other example: their loss is 0 (and masked out of a mean)
    per_example = losses.Circle(gamma=80.0, margin=0.4, reduction=None)(REF_LABELS, REF_EMBEDDINGS)
    all_close(per_example, [82.9116, 36.7942, 92.4590, 52.6798, 0.0, 0.0], atol=1e-6, rtol=2e-6)
    almost_equal(losses.Circle(gamma=80.0, margin=0.4, reduction="sum")(REF_LABELS, REF_EMBEDDINGS), 264.845)
    mean = losses.Circle()(REF_LABELS, REF_EMBEDDINGS)
    almost_equal(mean, 264.845 / 4)  # divided by the 4 examples that have a positive


def test_circle_hand_worked_with_gamma_one():
    # e0 = (1, 0), e1 = (0.8, 0.6) share a label, e2 = (0, 1) another: d01 = 0.2, d02 = 1, d12 = 0.4
    e = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]])
    m = 0.4

    def one(d_pos, d_neg):
        s_p = -max(m + d_pos, 0) * (m - d_pos)
        s_n = max(1 + m - d_neg, 0) * (1 - m - d_neg)
        return np.log1p(np.exp(s_p + s_n))

    all_close(losses.circle([0, 0, 1], e, gamma=1.0), [one(0.2, 1.0), one(0.2, 0.4), 0.0], rtol=1e-12)


# ---- CategoricalGeneralizedCrossEntropy ------------------------------------------------------------
def gce(p, q):
    return (1 - np.power(p, q)) / q


@keras_case("CategoricalGeneralizedCrossEntropyTest.test_config")
def test_keras_gce_config():
    serialization_round_trip(losses.CategoricalGeneralizedCrossEntropy(name="gce"))
    revived = serialization_round_trip(losses.CategoricalGeneralizedCrossEntropy(q=0.1, name="gce"))
    assert revived.q == 0.1


@keras_case("CategoricalGeneralizedCrossEntropyTest.test_basic_correctness_for_binary")
@keras_case("CategoricalGeneralizedCrossEntropyTest.test_basic_correctness_for_multi_class")
@pytest.mark.parametrize("y_pred,p_true", [
    (np.array([[0.7, 0.3], [0.2, 0.8], [0.6, 0.4], [0.4, 0.6]]), [0.7, 0.8, 0.6, 0.6]),
    (np.array([[0.7, 0.3, 0.0], [0.2, 0.2, 0.6], [0.6, 0.4, 0.0], [0.2, 0.2, 0.6]]), [0.7, 0.2, 0.6, 0.2])])
def test_keras_gce_basic_correctness(y_pred, p_true):
    y_true = np.array([0, 1, 0, 1])
    for q in (0.5, 0.8):
        loss = losses.CategoricalGeneralizedCrossEntropy() if q == 0.5 else \
            losses.CategoricalGeneralizedCrossEntropy(q=q)
        all_close(loss(y_true, y_pred), gce(np.array(p_true), q).mean())


SEG_LABELS = np.array([[0, 1, 1, 0], [1, 0, 1, 0], [0, 0, 1, 1], [1, 1, 0, 1]])
SEG_LABELS_3 = np.array([[0, 1, 2, 0], [1, 0, 1, 0], [0, 0, 1, 1], [1, 1, 0, 1]])


@keras_case("CategoricalGeneralizedCrossEntropyTest.test_binary_segmentation")
def test_keras_gce_binary_segmentation():
    perfect = np.eye(2)[SEG_LABELS]
    all_close(losses.CategoricalGeneralizedCrossEntropy(q=0.5)(SEG_LABELS, perfect), 0.0)
    y_pred = perfect.copy()
    y_pred[0, 3] = [0.2, 0.8]  # label 0: p = 0.2
    y_pred[3, 3] = [0.6, 0.4]  # label 1: p = 0.4
    expected = (gce(0.2, 0.5) + gce(0.4, 0.5)) / 16.0
    all_close(losses.CategoricalGeneralizedCrossEntropy(q=0.5)(SEG_LABELS, y_pred), expected)


@keras_case("CategoricalGeneralizedCrossEntropyTest.test_multi_class_segmentation")
def test_keras_gce_multi_class_segmentation():
    perfect = np.eye(3)[SEG_LABELS_3]
    all_close(losses.CategoricalGeneralizedCrossEntropy(q=0.5)(SEG_LABELS_3, perfect), 0.0)
    y_pred = perfect.copy()
    y_pred[0, 3] = [0.2, 0.0, 0.8]  # label 0: p = 0.2
    y_pred[1, 0] = [1.0, 0.0, 0.0]  # label 1: p = 0
    y_pred[3, 2] = [0.5, 0.5, 0.0]  # label 0: p = 0.5
    expected = (gce(0.2, 0.5) + gce(0.0, 0.5) + gce(0.5, 0.5)) / 16.0
    all_close(losses.CategoricalGeneralizedCrossEntropy(q=0.5)(SEG_LABELS_3, y_pred), expected)


@pytest.mark.parametrize("q", [0.0, 1.0, -0.5, 2.0])
def test_gce_refuses_q_outside_the_open_interval(q):
    with pytest.raises(ValueError, match=r"q must be in the interval \(0, 1\)"):
        losses.CategoricalGeneralizedCrossEntropy(q=q)


# ---- CTC -------------------------------------------------------------------------------------------
CTC_LOGITS = (np.arange(24).reshape((2, 4, 3)).astype("float32") - 12) / 100
CTC_LABELS = np.array([[1, 2, 1, 0], [1, 2, 0, 2]])


@keras_case("CTCTest.test_config")
def test_keras_ctc_config():
    revived = serialization_round_trip(losses.CTC(name="myctc"))
    assert revived.name == "myctc"


@keras_case("CTCTest.test_correctness")
def test_keras_ctc_correctness():
    all_close(losses.CTC()(CTC_LABELS, CTC_LOGITS), 2.448645)


def ctc_by_enumeration(labels, logits):
    """-log of the summed probability of every frame-by-frame path that collapses to ``labels``.

    The definition of CTC (Graves et al., 2006): merge repeated classes, then drop blanks (0).
    """
    z = logits - logits.max(-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    frames, classes = logp.shape
    total = 0.0
    for path in np.ndindex(*(classes,) * frames):
        merged = [c for i, c in enumerate(path) if i == 0 or c != path[i - 1]]
        if [c for c in merged if c != 0] == list(labels):
            total += np.exp(sum(logp[t, c] for t, c in enumerate(path)))
    return -np.log(total)


@pytest.mark.parametrize("labels", [[1], [2, 1], [1, 1], [1, 2, 1], [2, 2, 1]])
def test_ctc_matches_the_sum_over_all_alignments(labels):
    logits = np.random.default_rng(len(labels) + labels[0]).normal(size=(1, 5, 3))
    padded = np.array([labels + [0] * (3 - len(labels))])
    all_close(losses.ctc(padded, logits), [ctc_by_enumeration(labels, logits[0])], rtol=1e-9)


def test_ctc_loss_leaves_frames_past_the_output_length_out():
    logits = np.random.default_rng(5).normal(size=(2, 5, 3))
    target = np.array([[1, 2, 0], [2, 0, 0]])
    out = losses.ctc_loss(target, logits, target_length=[2, 1], output_length=[5, 3])
    all_close(out, [ctc_by_enumeration([1, 2], logits[0]), ctc_by_enumeration([2], logits[1, :3])],
              rtol=1e-9)


def test_ctc_refuses_wrong_shapes_and_labels():
    with pytest.raises(ValueError, match=r"\(batch_size, max_length\)"):
        losses.ctc(np.array([1, 2]), CTC_LOGITS)
    with pytest.raises(ValueError, match="num_classes"):
        losses.ctc(CTC_LABELS, CTC_LOGITS[0])
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\)"):
        losses.ctc(np.array([[1, 3], [1, 1]]), CTC_LOGITS)


# ---- gradients: float64 central finite differences, first and second order -----------------------
grng = np.random.default_rng(17)
ONE_HOT = np.eye(3)[[0, 2, 1, 1]]
SIGNS = np.where(grng.random((4, 3)) < 0.5, -1.0, 1.0)
BINARY = (grng.random((4, 3)) < 0.5).astype(np.float64)


def probabilities(shape, seed):
    z = np.random.default_rng(seed).normal(size=shape)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


def unit_rows(n, d, seed):
    x = np.random.default_rng(seed).normal(size=(n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


# (name, loss of the prediction, a point away from kinks, derivative orders checked)
GRADIENT_CASES = [
    ("hinge", lambda p: losses.Hinge()(SIGNS, p), SIGNS * np.array([0.3, 0.6, 1.7]) + 0.05, 2),
    ("squared_hinge", lambda p: losses.SquaredHinge()(SIGNS, p), SIGNS * np.array([0.3, 0.6, 0.2]), 2),
    ("categorical_hinge", lambda p: losses.CategoricalHinge()(ONE_HOT, p),
     np.array([[0.5, 0.1, 0.3], [0.2, 0.9, 0.0], [0.1, 0.7, -0.4], [0.9, 0.5, 0.2]]), 2),
    ("cosine_similarity", lambda p: losses.CosineSimilarity()(SIGNS, p), grng.normal(size=(4, 3)), 2),
    ("log_cosh", lambda p: losses.LogCosh()(SIGNS, p), grng.normal(size=(4, 3)), 2),
    ("binary_focal", lambda p: losses.BinaryFocalCrossentropy(gamma=2.0)(BINARY, p),
     grng.uniform(0.1, 0.9, (4, 3)), 2),
    ("binary_focal_logits_balanced", lambda z: losses.BinaryFocalCrossentropy(
        apply_class_balancing=True, gamma=1.5, from_logits=True, label_smoothing=0.1)(BINARY, z),
     grng.normal(size=(4, 3)), 2),
    ("categorical_focal", lambda p: losses.CategoricalFocalCrossentropy(label_smoothing=0.1)(ONE_HOT, p),
     probabilities((4, 3), 1), 2),
    ("categorical_focal_logits", lambda z: losses.CategoricalFocalCrossentropy(
        alpha=[0.2, 0.5, 0.3], gamma=3.0, from_logits=True)(ONE_HOT, z), grng.normal(size=(4, 3)), 2),
    ("categorical_crossentropy_axis", lambda p: losses.CategoricalCrossentropy(
        label_smoothing=0.1, axis=1)(SPATIAL_TRUE, p), probabilities((2, 2, 3), 2).transpose(0, 2, 1), 2),
    ("dice", lambda p: losses.Dice(axis=(1, 2))(IMG_TRUE[..., 0], p), grng.uniform(0.1, 0.9, (2, 2, 2)), 2),
    ("tversky", lambda p: losses.Tversky(alpha=0.3, beta=0.7)(IMG_TRUE, p),
     grng.uniform(0.1, 0.9, IMG_TRUE.shape), 2),
    ("circle", lambda e: losses.Circle(gamma=4.0)(CIRCLE_LABELS, e), unit_rows(5, 4, 3), 2),
    ("circle_reference", lambda e: losses.Circle(gamma=4.0, remove_diagonal=False)(REF_LABELS, e),
     unit_rows(6, 4, 4), 1),
    ("ctc", lambda z: losses.CTC()(np.array([[1, 2, 2], [2, 0, 0]]), z), grng.normal(size=(2, 5, 3)), 2),
    ("categorical_generalized_cross_entropy", lambda p: losses.CategoricalGeneralizedCrossEntropy(q=0.7)(
        np.array([0, 2, 1, 1]), p), probabilities((4, 3), 5), 2),
]


@pytest.mark.parametrize("name,f,point,order", GRADIENT_CASES, ids=[c[0] for c in GRADIENT_CASES])
def test_gradients_match_finite_differences(name, f, point, order):
    reports = uf.check_grad(f, point, order=order)
    assert [r.order for r in reports] == list(range(1, order + 1))
    assert all(r.error <= 1 for r in reports)


def test_circle_gradient_is_finite_when_an_example_has_no_positive():
    e = uf.Tensor(unit_rows(6, 4, 6), requires_grad=True)
    loss_value, grads = uf.value_and_grad(lambda x: losses.Circle()(REF_LABELS, x))(e)
    assert np.isfinite(float(loss_value)) and np.isfinite(value(grads)).all()


# ---- names: compile strings, get, save/load ---------------------------------------------------------
NEW_LOSSES = {  # Keras's function name -> class
    "hinge": losses.Hinge, "squared_hinge": losses.SquaredHinge,
    "categorical_hinge": losses.CategoricalHinge, "cosine_similarity": losses.CosineSimilarity,
    "log_cosh": losses.LogCosh, "logcosh": losses.LogCosh,
    "binary_focal_crossentropy": losses.BinaryFocalCrossentropy,
    "categorical_focal_crossentropy": losses.CategoricalFocalCrossentropy,
    "dice": losses.Dice, "tversky": losses.Tversky, "circle": losses.Circle,
    "categorical_generalized_cross_entropy": losses.CategoricalGeneralizedCrossEntropy,
    "ctc": losses.CTC,
}


@pytest.mark.parametrize("name", sorted(NEW_LOSSES))
def test_names_resolve_to_the_keras_class(name):
    cls = NEW_LOSSES[name]
    assert type(losses.get(name)) is cls
    assert type(losses.get(cls.__name__)) is cls
    assert type(losses.get(getattr(losses, name))) is cls  # the function form
    assert type(losses.deserialize(losses.serialize(cls()))) is cls


@pytest.mark.parametrize("name", sorted(NEW_LOSSES))
def test_compile_with_the_loss_name_trains(name):
    uf.set_random_seed(0)
    x = np.random.default_rng(1).normal(size=(12, 3)).astype(np.float32)
    labels = np.arange(12) % 3
    y = labels if name in ("circle", "categorical_generalized_cross_entropy") else np.eye(3)[labels]
    model = uf.keras.Sequential([uf.keras.Input((3,)), uf.keras.layers.Dense(3, activation="softmax")])
    if name == "ctc":  # 4 frames of 3 features -> logits over blank + 2 classes; 2 labels each
        x, y = x.reshape(3, 4, 3), 1 + np.arange(6).reshape(3, 2) % 2
        model = uf.keras.Sequential([uf.keras.Input((4, 3)), uf.keras.layers.Dense(3)])
    model.compile(optimizer="sgd", loss=name)
    history = model.fit(x, y, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    uf.set_random_seed(uf.random.DEFAULT_SEED)


def test_check_targets_explains_label_mistakes_for_the_new_losses():
    with pytest.raises(ValueError, match="class indices"):
        losses.check_targets(losses.CategoricalGeneralizedCrossEntropy(), np.eye(3)[[0, 1]], (None, 3))
    with pytest.raises(ValueError, match="integer label per example"):
        losses.check_targets(losses.Circle(), np.eye(3)[[0, 1]], (None, 3))
    with pytest.raises(ValueError, match="labels in \\[0, 1\\]"):
        losses.check_targets(losses.BinaryFocalCrossentropy(), np.array([0.0, 2.0]), (None, 1))
    with pytest.raises(ValueError, match="SparseCategoricalCrossentropy"):
        losses.check_targets(losses.CategoricalFocalCrossentropy(), np.array([0, 2]), (None, 3))


def test_keras_case_count():
    """The number of Keras test cases this file ports (reported to the lead)."""
    assert len(set(KERAS_CASES)) == len(KERAS_CASES) == 88
