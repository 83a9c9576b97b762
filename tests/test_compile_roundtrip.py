"""Every Loss and Metric object survives save + load_model (issue 16, item 6)."""

import inspect

import numpy as np
import pytest

import unafraid as tf
from unafraid import losses, metrics


@pytest.fixture(autouse=True)
def _default_seed_afterwards():
    """Tests here set seeds; later test files start from the library's default seed again."""
    yield
    tf.set_random_seed(tf.random.DEFAULT_SEED)


keras = tf.keras
LOSSES = sorted(n for n, c in vars(losses).items() if inspect.isclass(c) and issubclass(c, losses.Loss)
                and c not in (losses.Loss, losses.LossFunctionWrapper))
NEEDS_ARGUMENTS = {"Metric", "Mean", "Sum", "MeanMetricWrapper"}  # not (y_true, y_pred) metrics
METRICS = sorted(n for n, c in vars(metrics).items() if inspect.isclass(c)
                 and issubclass(c, metrics.Metric) and not n.startswith("_")
                 and n not in NEEDS_ARGUMENTS)

X = np.random.default_rng(0).normal(size=(12, 3)).astype(np.float32)
LABELS = np.arange(12) % 3
SOFT = (np.eye(3)[LABELS] * 0.8 + 0.1).astype(np.float32)  # in (0, 1): every loss is finite
INTEGER_LABELS = {"Circle", "CategoricalGeneralizedCrossEntropy"}  # losses of class indices


def _model():
    tf.set_random_seed(0)
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(3, activation="softmax")])


@pytest.mark.parametrize("name", LOSSES)
def test_loss_object_round_trips_through_load_model(name, tmp_path):
    loss = getattr(losses, name)()
    y = LABELS if name.startswith("Sparse") or name in INTEGER_LABELS else SOFT
    model, x = _model(), X
    if name == "CTC":  # label sequences (0 is the blank) and per-frame logits
        x, y = X.reshape(3, 4, 3), 1 + np.arange(6).reshape(3, 2) % 2
        tf.set_random_seed(0)
        model = keras.Sequential([keras.Input((4, 3)), keras.layers.Dense(3)])
    model.compile(optimizer="adam", loss=loss)
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "model.safetensors"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.get_compile_config() == model.get_compile_config()
    assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)


# metrics whose first argument has no default (as in Keras), and non-default options to round-trip;
# fit's logs hold one number per metric, so the per-class/per-threshold ones are made scalar
ARGUMENTS = {"F1Score": {"average": "weighted", "threshold": 0.4},
             "SensitivityAtSpecificity": {"specificity": 0.5, "num_thresholds": 7},
             "SpecificityAtSensitivity": {"sensitivity": 0.5, "class_id": 1},
             "PrecisionAtRecall": {"recall": 0.5}, "RecallAtPrecision": {"precision": 0.5},
             "TruePositives": {"thresholds": 0.2}, "FBetaScore": {"beta": 2.0, "average": "macro"},
             "AUC": {"multi_label": True, "label_weights": [1.0, 2.0, 0.5], "curve": "PRGAIN"},
             "SparseTopKCategoricalAccuracy": {"k": 2}, "R2Score": {"num_regressors": 1},
             "IoU": {"num_classes": 3, "target_class_ids": [0, 2], "sparse_y_true": False,
                     "sparse_y_pred": False},
             "MeanIoU": {"num_classes": 3, "sparse_y_true": False, "sparse_y_pred": False},
             "OneHotIoU": {"num_classes": 3, "target_class_ids": [1]},
             "OneHotMeanIoU": {"num_classes": 3, "ignore_class": 2}}


@pytest.mark.parametrize("name", METRICS)
def test_metric_object_round_trips_through_load_model(name, tmp_path):
    metric = getattr(metrics, name)(**ARGUMENTS.get(name, {}))
    sparse = "Sparse" in name
    y = LABELS if sparse else np.eye(3, dtype=np.float32)[LABELS]
    model = _model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy" if sparse else
                  "categorical_crossentropy", metrics=[metric])
    model.fit(X, y, epochs=1, verbose=0)
    path = tmp_path / "model.safetensors"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.get_compile_config() == model.get_compile_config()
    np.testing.assert_array_equal(loaded.evaluate(X, y, verbose=0), model.evaluate(X, y, verbose=0))


def half_error(y_true, y_pred):
    return tf.abs(y_true - y_pred) / 2


def test_mean_sum_and_wrapped_function_configs_round_trip():
    for metric in (metrics.Mean(name="m"), metrics.Sum(name="s"),
                   metrics.MeanMetricWrapper(half_error, name="half")):
        again = metrics.deserialize(metrics.serialize(metric), {"half_error": half_error})
        assert type(again) is type(metric) and again.get_config() == metric.get_config()
    wrapped = metrics.deserialize(metrics.serialize(metrics.MeanMetricWrapper(half_error)),
                                  {"half_error": half_error})
    wrapped.update_state(np.array([1.0, 3.0]), np.array([0.0, 0.0]))
    assert float(wrapped.result()) == 1.0  # mean of |y - 0| / 2 over [1, 3]


@pytest.mark.parametrize("loss", [
    losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.4, gamma=3.0, label_smoothing=0.1),
    losses.CategoricalFocalCrossentropy(alpha=[0.2, 0.3, 0.5], gamma=1.0, label_smoothing=0.1),
    losses.Tversky(alpha=0.3, beta=0.7, axis=1), losses.Dice(axis=(1,)), losses.CosineSimilarity(axis=1),
    losses.Circle(gamma=16.0, margin=0.25, remove_diagonal=False),
    losses.CategoricalGeneralizedCrossEntropy(q=0.2)], ids=lambda loss: type(loss).__name__)
def test_loss_arguments_round_trip_through_load_model(loss, tmp_path):
    y = LABELS if type(loss).__name__ in INTEGER_LABELS else SOFT
    model = _model()
    model.compile(optimizer="adam", loss=loss)
    model.fit(X, y, epochs=1, verbose=0)
    path = tmp_path / "model.safetensors"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.get_compile_config() == model.get_compile_config()
    assert loaded.get_compile_config()["loss"] == losses.serialize(loss)  # the arguments kept
    assert loaded.evaluate(X, y, verbose=0) == model.evaluate(X, y, verbose=0)


# Keras 3's metric strings for the metrics of issue 17 (the per-class F-scores are tested as objects
# above: fit's logs hold one number per metric)
METRIC_STRINGS = ["true_positives", "true_negatives", "false_positives", "false_negatives", "r2_score",
                  "mean_absolute_percentage_error", "mape", "mean_squared_logarithmic_error", "msle",
                  "log_cosh_error", "logcosh", "cosine_similarity", "poisson", "kl_divergence", "kld",
                  "hinge", "squared_hinge", "categorical_hinge", "auc", "precision", "recall"]


@pytest.mark.parametrize("name", METRIC_STRINGS)
def test_metric_string_compiles_fits_and_round_trips(name, tmp_path):
    y = np.eye(3, dtype=np.float32)[LABELS]
    model = _model()
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=[name])
    history = model.fit(X, y, epochs=1, verbose=0)
    assert name in history.history  # named by the string, as in Keras 3
    path = tmp_path / "model.safetensors"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.evaluate(X, y, verbose=0), model.evaluate(X, y, verbose=0))


def test_metric_strings_name_keras_classes():
    aliases = {"mape": "MeanAbsolutePercentageError", "msle": "MeanSquaredLogarithmicError",
               "logcosh": "LogCoshError", "kld": "KLDivergence", "auc": "AUC", "r2_score": "R2Score",
               "kl_divergence": "KLDivergence"}
    for name in METRIC_STRINGS:
        camel = aliases.get(name) or "".join(part.title() for part in name.split("_"))
        assert type(metrics.get(name)).__name__ == camel, name
