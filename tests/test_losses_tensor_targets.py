"""Losses differentiate through a Tensor ``y_true`` (a layer's output given as the targets), as
TensorFlow does; arrays given as ``y_true`` stay data, computed exactly as before."""

import numpy as np
import pytest

import unafraid as uf
from unafraid import losses as L

# The registry's losses whose targets are real numbers (the others take integer class labels).
INTEGER_TARGETS = {"SparseCategoricalCrossentropy", "Circle", "CategoricalGeneralizedCrossEntropy", "CTC"}
FLOAT_TARGET_CLASSES = sorted({obj for _, obj in L.NAMES.items()
                               if isinstance(obj, type) and issubclass(obj, L.Loss)
                               and obj.__name__ not in INTEGER_TARGETS}, key=lambda c: c.__name__)
EXTRA = [("BinaryCrossentropy(from_logits)", lambda: L.BinaryCrossentropy(from_logits=True)),
         ("BinaryCrossentropy(label_smoothing)", lambda: L.BinaryCrossentropy(label_smoothing=0.2)),
         ("CategoricalCrossentropy(from_logits)", lambda: L.CategoricalCrossentropy(from_logits=True)),
         ("BinaryFocalCrossentropy(from_logits, balanced)",
          lambda: L.BinaryFocalCrossentropy(from_logits=True, apply_class_balancing=True)),
         ("CategoricalFocalCrossentropy(from_logits)",
          lambda: L.CategoricalFocalCrossentropy(from_logits=True))]
CASES = [(cls.__name__, cls) for cls in FLOAT_TARGET_CLASSES] + EXTRA


def test_the_registry_has_the_float_target_losses():
    names = {cls.__name__ for cls in FLOAT_TARGET_CLASSES}
    assert {"BinaryCrossentropy", "CategoricalCrossentropy", "MeanSquaredError", "Huber",
            "KLDivergence", "Dice", "Tversky", "CosineSimilarity", "LogCosh"} <= names
    assert len(names) == 18


def points(seed=0):
    """Targets and predictions in (0.1, 0.9): away from every clip, kink and zero of the losses."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0.1, 0.9, (4, 3)), rng.uniform(0.1, 0.9, (4, 3))


@pytest.mark.parametrize("name,make", CASES, ids=[n for n, _ in CASES])
def test_gradient_with_respect_to_y_true_matches_finite_differences(name, make):
    loss = make()
    y_true, y_pred = points()
    # both arguments are differentiated (float64) and compared with central differences
    reports = uf.check_grad(lambda t, p: loss(t, p), y_true, y_pred, atol=1e-6, rtol=1e-5)
    assert reports[0].error <= 1  # check_grad raises first when an entry is off
    g_true, _ = uf.grad(lambda t, p: loss(t, p), argnums=(0, 1))(y_true, y_pred)
    assert np.abs(np.asarray(g_true)).max() > 0  # the targets really receive a gradient


@pytest.mark.parametrize("name,make", CASES, ids=[n for n, _ in CASES])
def test_array_targets_give_the_same_bits_as_a_tensor_without_gradient(name, make):
    loss = make()
    y_true, y_pred = (a.astype(np.float32) for a in points(1))
    as_array = loss(y_true, uf.Tensor(y_pred, requires_grad=True))
    as_tensor = loss(uf.Tensor(y_true, requires_grad=True), uf.Tensor(y_pred, requires_grad=True))
    np.testing.assert_array_equal(np.asarray(as_array.data), np.asarray(as_tensor.data))


def test_mse_gradient_with_respect_to_y_true_by_hand():
    # d/dt mean((t - p)^2) = 2 (t - p) / n
    t, p = np.array([[1.0, 3.0]]), np.array([[0.0, 1.0]])
    g = uf.grad(lambda t: L.MeanSquaredError()(t, p))(t)
    np.testing.assert_allclose(np.asarray(g), [[1.0, 2.0]])


def test_a_tensor_target_is_still_checked_for_nan():
    with pytest.raises(ValueError, match="NaN or infinite"):
        L.mean_squared_error(uf.Tensor(np.array([[np.nan]]), requires_grad=True), np.array([[1.0]]))


class LogisticEndpoint(uf.keras.layers.Layer):
    """The subclassing guide's layer, called as the guide calls it: ``endpoint(logits, targets)``
    reaches ``call(targets, logits)``, so the Dense output is the loss's ``y_true``."""

    def __init__(self, name=None):
        super().__init__(name=name)
        self.loss_fn = uf.keras.losses.BinaryCrossentropy(from_logits=True)

    def call(self, targets, logits):
        self.add_loss(self.loss_fn(targets, logits))
        return uf.nn.softmax(logits)


def test_a_layer_output_fed_as_y_true_trains():
    keras = uf.keras
    inputs = keras.Input(shape=(3,), name="inputs")
    targets = keras.Input(shape=(10,), name="targets")
    logits = keras.layers.Dense(10)(inputs)
    predictions = LogisticEndpoint(name="predictions")(logits, targets)
    model = keras.Model(inputs=[inputs, targets], outputs=predictions)
    model.compile(optimizer=keras.optimizers.Adam(0.05))
    rng = np.random.default_rng(0)
    data = {"inputs": rng.random((16, 3)).astype("float32"),
            "targets": rng.random((16, 10)).astype("float32")}
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(data, epochs=20, verbose=0)
    after = model.get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))
    losses = history.history["loss"]
    assert losses[-1] < losses[0]
