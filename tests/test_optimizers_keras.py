"""Keras 3's other optimizers and optimizer options (issue 17 item 5), against Keras's own numbers.

Each test names the Keras test it ports (``keras/src/optimizers/<name>_test.py`` and
``optimizer_test.py``, ``keras/src/constraints/constraints_test.py``); the expected numbers are
Keras's literal values (its "golden" trajectories and single steps), never unafraid's output.
Where a number is worked out here instead, the comment shows the arithmetic.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

import unafraid as uf
from unafraid import constraints
from unafraid.optimizers import (
    SGD,
    Adadelta,
    Adagrad,
    Adam,
    Adamax,
    AdamW,
    Ftrl,
    Lamb,
    Lion,
    Nadam,
    RMSprop,
)

NEW = [Nadam, Adamax, Adadelta, Lion, Lamb, Ftrl]


def var(values, dtype="float32", name=None):
    return uf.Variable(np.array(values, dtype), name=name)


def close(v, expected, rtol=1e-6, atol=1e-6):
    assert_allclose(np.asarray(getattr(v, "data", v)), expected, rtol=rtol, atol=atol)


# ---- <Name>Test.test_single_step ------------------------------------------------------------------
@pytest.mark.parametrize("cls, expected", [
    (Nadam, [0.4686, 1.4686, 2.4686, 3.4686]),
    (Adamax, [0.5, 1.5, 2.5, 3.5]),
    (Adadelta, [0.9993, 1.9993, 2.9993, 3.9993]),
    (Lion, [0.5, 1.5, 2.5, 3.5]),
    (Lamb, [-0.3693, 0.6306, 1.6306, 2.6306]),
    (Ftrl, [0.2218, 1.3954, 2.3651, 2.8814]),
])
def test_single_step(cls, expected):
    optimizer = cls(learning_rate=0.5)
    v = var([1.0, 2.0, 3.0, 4.0])
    optimizer.apply_gradients(zip([np.array([1.0, 6.0, 7.0, 2.0], np.float32)], [v], strict=False))
    close(v, expected, rtol=1e-4, atol=1e-4)


# ---- <Name>Test.test_weight_decay -----------------------------------------------------------------
@pytest.mark.parametrize("cls", [Nadam, Adamax, Adadelta, Lion, Lamb])
def test_weight_decay(cls):
    grads = np.zeros((), np.float32)
    var1, var2, var3 = var(2.0), var(2.0, name="exclude"), var(2.0)
    cls(learning_rate=1.0, weight_decay=0.004).apply_gradients(zip([grads], [var1], strict=False))
    optimizer_2 = cls(learning_rate=1.0, weight_decay=0.004)
    optimizer_2.exclude_from_weight_decay(var_names=["exclude"])
    optimizer_2.apply_gradients(zip([grads, grads], [var1, var2], strict=False))
    optimizer_3 = cls(learning_rate=1.0, weight_decay=0.004)
    optimizer_3.exclude_from_weight_decay(var_list=[var3])
    optimizer_3.apply_gradients(zip([grads, grads], [var1, var3], strict=False))
    assert round(float(var1.numpy()) - 1.9760959, 6) == 0
    assert round(float(var2.numpy()) - 2.0, 6) == 0
    assert round(float(var3.numpy()) - 2.0, 6) == 0


# ---- <Name>Test.test_correctness_with_golden ------------------------------------------------------
GOLDEN = {
    "Nadam": (lambda: Nadam(learning_rate=0.5, beta_1=0.5, beta_2=0.67, epsilon=1e-5), "float32", [
        [0.4281] * 10,
        [-0.1738, -0.1731, -0.1726, -0.1723, -0.1721, -0.172, -0.1719, -0.1718, -0.1718, -0.1717],
        [-0.7115, -0.7103, -0.7096, -0.7092, -0.709, -0.7088, -0.7086, -0.7085, -0.7085, -0.7084],
        [-1.2335, -1.2322, -1.2313, -1.2309, -1.2306, -1.2304, -1.2302, -1.2301, -1.23, -1.2299],
        [-1.7492, -1.7478, -1.7469, -1.7464, -1.7461, -1.7459, -1.7457, -1.7456, -1.7455, -1.7454]]),
    "Adamax": (lambda: Adamax(learning_rate=0.2, beta_1=0.85, beta_2=0.95, epsilon=1e-6), "float32", [
        [0.8] * 10,
        [0.6827, 0.6873, 0.6888, 0.6896, 0.6901, 0.6904, 0.6906, 0.6908, 0.6909, 0.691],
        [0.5333, 0.5407, 0.5431, 0.5444, 0.5451, 0.5456, 0.546, 0.5462, 0.5464, 0.5466],
        [0.368, 0.3773, 0.3804, 0.382, 0.3829, 0.3835, 0.384, 0.3843, 0.3846, 0.3848],
        [0.1933, 0.204, 0.2076, 0.2094, 0.2105, 0.2112, 0.2117, 0.2121, 0.2124, 0.2126]]),
    "Adadelta": (lambda: Adadelta(learning_rate=1.0, rho=0.8, epsilon=1e-6), "float64",
                 np.tile([[0.9978], [0.9947], [0.9915], [0.9882], [0.9849]], (1, 10))),
    "Lion": (Lion, "float64", np.tile([[0.999], [0.998], [0.997], [0.996], [0.995]], (1, 10))),
    "Lamb": (Lamb, "float32", np.tile([[0.999], [0.9982], [0.9974], [0.9965], [0.9955]], (1, 10))),
    "Ftrl": (lambda: Ftrl(learning_rate=0.05, learning_rate_power=-0.2, initial_accumulator_value=0.4,
                          l1_regularization_strength=0.05, l2_regularization_strength=0.15,
                          l2_shrinkage_regularization_strength=0.01, beta=0.3), "float64", [
        [0.0] * 10,
        [-0.0034, -0.0077, -0.0118, -0.0157, -0.0194, -0.023, -0.0263, -0.0294, -0.0325, -0.0354],
        [-0.0078, -0.0162, -0.0242, -0.0317, -0.0387, -0.0454, -0.0516, -0.0575, -0.0631, -0.0685],
        [-0.0121, -0.0246, -0.0363, -0.0472, -0.0573, -0.0668, -0.0757, -0.0842, -0.0922, -0.0999],
        [-0.0164, -0.0328, -0.0481, -0.0623, -0.0753, -0.0875, -0.099, -0.1098, -0.1201, -0.1299]]),
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_correctness_with_golden(name):
    make, dtype, golden = GOLDEN[name]
    optimizer = make()
    x = var(np.ones([10]), dtype)
    grads = np.arange(0.1, 1.1, 0.1).astype(dtype)
    optimizer.apply_gradients(zip([np.full((10,), 0.01, dtype)], [x], strict=False))
    for i in range(5):
        close(x, golden[i], rtol=5e-4, atol=5e-4)
        optimizer.apply_gradients(zip([grads], [x], strict=False))


# ---- <Name>Test.test_clip_norm / test_clip_value, test_config ---------------------------------------
@pytest.mark.parametrize("cls", NEW)
def test_clip_norm_and_value(cls):
    close(cls(clipnorm=1).clip_gradients([np.array([100.0, 100.0])])[0], [2**0.5 / 2, 2**0.5 / 2])
    close(cls(clipvalue=1).clip_gradients([np.array([100.0, 100.0])])[0], [1.0, 1.0])


@pytest.mark.parametrize("make", [
    lambda: Nadam(learning_rate=0.5, beta_1=0.5, beta_2=0.67, epsilon=1e-5),
    lambda: Adamax(learning_rate=0.5, beta_1=0.8, beta_2=0.95, epsilon=1e-5),
    lambda: Adadelta(learning_rate=0.5, rho=0.9, epsilon=1e-5),
    lambda: Lion(learning_rate=0.5, beta_1=0.5, beta_2=0.67),
    lambda: Lamb(learning_rate=0.5, beta_1=0.5, beta_2=0.67, epsilon=1e-5),
    lambda: Ftrl(learning_rate=0.05, learning_rate_power=-0.2, initial_accumulator_value=0.4,
                 l1_regularization_strength=0.05, l2_regularization_strength=0.15,
                 l2_shrinkage_regularization_strength=0.01, beta=0.3),
])
def test_config(make):  # <Name>Test.test_config (run_class_serialization_test)
    optimizer = make()
    config = optimizer.get_config()
    again = uf.optimizers.deserialize(uf.optimizers.serialize(optimizer))
    assert type(again) is type(optimizer) and again.get_config() == config
    assert uf.optimizers.get(optimizer.default_name).__class__ is type(optimizer)


def test_nadam_build_with_empty_var_list():  # NadamTest.test_build_with_empty_var_list
    optimizer = Nadam()
    optimizer.build([])
    assert optimizer.state_dict()["u_product"].dtype == np.float32


@pytest.mark.parametrize("beta_1", [-0.1, 0.0, 1.1])
def test_lion_invalid_beta_1(beta_1):  # LionTest.test_invalid_beta_1
    with pytest.raises(ValueError, match=r"Argument `beta_1` must be in the \[0, 1\] range. "
                       rf"Otherwise, the optimizer degenerates to SignSGD. Received: beta_1={beta_1}."):
        Lion(beta_1=beta_1)


@pytest.mark.parametrize("arg, value", [("initial_accumulator_value", -0.1),
                                        ("learning_rate_power", 0.1),
                                        ("l1_regularization_strength", -0.1),
                                        ("l2_regularization_strength", -0.1),
                                        ("l2_shrinkage_regularization_strength", -0.1)])
def test_ftrl_invalid_arguments(arg, value):  # FtrlTest.test_invalid_<arg>
    sign = "negative" if arg == "learning_rate_power" else "positive"
    with pytest.raises(ValueError, match=rf"^`{arg}` needs to be {sign} or zero. "
                       rf"Received: {arg}={value}.$"):
        Ftrl(**{arg: value})


# ---- OptimizerTest (optimizer_test.py): the options --------------------------------------------------
def test_ema():  # OptimizerTest.test_ema
    v = var([[3.0, 4.0], [5.0, 6.0]])
    grads = np.ones((2, 2), np.float32)
    optimizer = SGD(learning_rate=1.0, use_ema=True, ema_momentum=0.9, ema_overwrite_frequency=3)
    optimizer.apply_gradients([(grads, v)])
    close(v, [[2.0, 3.0], [4.0, 5.0]])
    close(optimizer.state_dict()["0/average"], [[2.0, 3.0], [4.0, 5.0]])  # initialised at step 1
    optimizer.apply_gradients([(grads, v)])
    close(v, [[1.0, 2.0], [3.0, 4.0]])
    close(optimizer.state_dict()["0/average"], [[1.9, 2.9], [3.9, 4.9]])
    optimizer.apply_gradients([(grads, v)])
    close(v, [[1.71, 2.71], [3.71, 4.71]])  # overwritten with the average
    close(optimizer.state_dict()["0/average"], [[1.71, 2.71], [3.71, 4.71]])


def test_ema_finalize_and_fit():
    # OptimizerTest.test_ema_with_model_fit: SGD(0.1), Dense(2) with kernel ones, x = 1, y = 0,
    # mse over the two outputs: the gradient of each weight is w, so w: 1 -> 0.9 -> 0.81 and the
    # average: 0.9 (first update) -> 0.9 * 0.9 + 0.1 * 0.81 = 0.891, Keras's number. fit then
    # copies the averages into the weights (finalize_variable_values), as Keras's fit does.
    optimizer = SGD(learning_rate=0.1, use_ema=True, ema_momentum=0.9)
    model = uf.keras.Sequential([uf.keras.Input((1,)),
                                 uf.keras.layers.Dense(2, kernel_initializer="ones", use_bias=False)])
    model.compile(loss="mse", optimizer=optimizer)
    model.fit(np.ones((1, 1), np.float32), np.zeros((1, 2), np.float32), batch_size=1, epochs=2,
              verbose=0)
    close(optimizer.state_dict()["0/average"], [[0.891, 0.891]], atol=1e-5)
    close(model.trainable_weights[0], [[0.891, 0.891]], atol=1e-5)


def test_fit_scales_the_loss_and_unscales_the_gradients():
    # A power of two scales and unscales exactly: the same bits as training without scaling.
    x = np.random.default_rng(0).random((64, 3)).astype(np.float32)
    y = x @ np.array([[1.0], [-2.0], [0.5]], np.float32)
    trained = []
    for factor in (None, 1024.0):
        uf.set_random_seed(0)
        model = uf.keras.Sequential([uf.keras.Input((3,)), uf.keras.layers.Dense(1)])
        model.compile(loss="mse", optimizer=SGD(learning_rate=0.1, loss_scale_factor=factor))
        history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
        trained.append((model.get_weights(), history.history["loss"]))
    (w1, h1), (w2, h2) = trained
    assert h1 == h2 and all(np.array_equal(a, b) for a, b in zip(w1, w2, strict=True))


def test_constraints_are_applied():  # OptimizerTest.test_constraints_are_applied
    v = var(np.random.default_rng(0).random((2, 2)) - 1.0)
    v.constraint = constraints.NonNeg()
    SGD(learning_rate=0.0001).apply_gradients([(np.zeros((2, 2), np.float32), v)])
    assert np.min(v.numpy()) == 0.0


def test_static_loss_scaling():  # OptimizerTest.test_static_loss_scaling
    v = var([[1.0, 2.0], [3.0, 4.0]])
    grads = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32) * 1024.0
    optimizer = SGD(learning_rate=1.0, loss_scale_factor=1024.0)
    assert optimizer.scale_loss(1.0) == 1024.0   # Keras asserts this after the step
    optimizer.apply_gradients([(grads, v)])
    close(v, [[0.0, 0.0], [0.0, 0.0]])


def test_loss_scaling_divides_gradients_scaled_by_hand_and_warns_once():
    # Keras divides whatever it is given (MultiOptimizerTest.test_gradient_unscaling: gradient 10,
    # factor 5, lr 0.1: 2 - 0.1 * 10 / 5 = 1.8); without scale_loss unafraid warns, once
    w = var([[2.0, 2.0]])
    optimizer = SGD(learning_rate=0.1, loss_scale_factor=5.0)
    with pytest.warns(UserWarning, match="scale_loss was not called since the last step"):
        optimizer.apply_gradients([(np.full((1, 2), 10.0, np.float32), w)])
    close(w, [[1.8, 1.8]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optimizer.apply_gradients([(np.full((1, 2), 5.0, np.float32), w)])  # 1.8 - 0.1 * 1
    close(w, [[1.7, 1.7]])


def test_loss_scaling_in_a_training_loop_gives_the_unscaled_step():
    w = var([1.0, -2.0])
    optimizer = SGD(learning_rate=0.5, loss_scale_factor=256.0)
    with uf.GradientTape() as tape:
        loss = optimizer.scale_loss(uf.sum(w * w))
    optimizer.apply(tape.gradient(loss, [w]), [w])
    close(w, [1.0 - 0.5 * 2.0, -2.0 + 0.5 * 4.0])  # w - lr * 2w


def test_gradient_accumulation():  # OptimizerTest.test_gradient_accumulation
    v = var([[1.0, 2.0], [3.0, 4.0]])
    grads = np.ones((2, 2), np.float32)
    optimizer = SGD(learning_rate=1.0, gradient_accumulation_steps=3)
    assert optimizer.gradient_accumulation_steps == 3
    for calls, values, acc, iterations in [
            (1, [[1.0, 2.0], [3.0, 4.0]], 1.0, 0), (2, [[1.0, 2.0], [3.0, 4.0]], 2.0, 0),
            (3, [[0.0, 1.0], [2.0, 3.0]], 0.0, 1), (4, [[0.0, 1.0], [2.0, 3.0]], 1.0, 1)]:
        optimizer.apply_gradients([(grads, v)])
        close(v, values)
        close(optimizer.state_dict()["0/gradient_accumulator"], np.full((2, 2), acc))
        assert optimizer.state_dict()["iterations"] == calls   # Keras's _iterations
        assert optimizer.iterations == iterations


def test_overwrite_with_gradient():  # OptimizerTest.test_overwrite_with_gradient
    v, v2 = var([[1.0, 2.0], [3.0, 4.0]]), var([[1.0, 2.0], [3.0, 4.0]])
    v.overwrite_with_gradient = True
    grads = np.ones((2, 2), np.float32)
    SGD(learning_rate=1.0).apply_gradients([(grads, v), (grads.copy(), v2)])
    close(v, [[1.0, 1.0], [1.0, 1.0]])
    close(v2, [[0.0, 1.0], [2.0, 3.0]])


def test_overwrite_with_gradient_with_gradient_accumulation():
    # OptimizerTest.test_overwrite_with_gradient_with_gradient_accumulation
    v, v2 = var([[1.0, 2.0], [3.0, 4.0]]), var([[1.0, 2.0], [3.0, 4.0]])
    v.overwrite_with_gradient = True
    ones, twos = np.ones((2, 2), np.float32), np.full((2, 2), 2.0, np.float32)
    optimizer = SGD(learning_rate=1.0, gradient_accumulation_steps=2)
    for grads, calls, iterations, values, values2, acc in [
            (ones, 1, 0, [[1.0, 2.0], [3.0, 4.0]], [[1.0, 2.0], [3.0, 4.0]], 1.0),
            (twos, 2, 1, [[2.0, 2.0], [2.0, 2.0]], [[-0.5, 0.5], [1.5, 2.5]], 0.0),
            (ones, 3, 1, [[2.0, 2.0], [2.0, 2.0]], [[-0.5, 0.5], [1.5, 2.5]], 1.0)]:
        optimizer.apply_gradients([(grads, v), (grads.copy(), v2)])
        state = optimizer.state_dict()
        assert state["iterations"] == calls and optimizer.iterations == iterations
        close(v, values)
        close(v2, values2)
        close(state["0/gradient_accumulator"], np.full((2, 2), acc))
        close(state["1/gradient_accumulator"], np.full((2, 2), acc))


@pytest.mark.parametrize("cls", [Adam, SGD, AdamW, Adagrad, RMSprop, Adadelta, Adamax, Lion, Nadam,
                                 Ftrl, Lamb])
def test_gradient_accumulation_with_weight_decay(cls):
    # OptimizerTest.test_gradient_accumulation_with_weigth_decay (Lamb added; Adafactor absent)
    optimizer1 = uf.optimizers.get({"class_name": cls.__name__, "config": {"weight_decay": 0.05}})
    optimizer3 = uf.optimizers.get({"class_name": cls.__name__,
                                    "config": {"weight_decay": 0.05, "gradient_accumulation_steps": 3}})
    variable1, variable3 = var([[0.9], [0.5]]), var([[0.9], [0.5]])
    rng = np.random.default_rng(7)
    for _ in range(8):
        grads3 = rng.random([3, 2, 1]).astype("float32")
        optimizer1.apply_gradients([(grads3.mean(axis=0), variable1)])
        for batch in range(3):
            optimizer3.apply_gradients([(grads3[batch], variable3)])
    close(variable1, variable3.numpy(), rtol=1e-6, atol=1e-6)


def test_option_arguments_are_checked():
    with pytest.raises(ValueError, match="`gradient_accumulation_steps` must be an integer >= 2"):
        SGD(gradient_accumulation_steps=1)
    with pytest.raises(ValueError, match=r"`ema_momentum` must be in the range \[0, 1\]"):
        Adam(use_ema=True, ema_momentum=1.5)
    with pytest.raises(ValueError, match="`ema_overwrite_frequency` must be an integer >= 1"):
        Adam(use_ema=True, ema_overwrite_frequency=0.5)
    with pytest.raises(ValueError, match="loss_scale_factor"):
        Adam(loss_scale_factor=-2.0)


def test_global_clipnorm():  # OptimizerTest.test_global_clip_norm
    grad = np.array([50.0, 100.0], dtype="float32")
    close(SGD(global_clipnorm=1).clip_gradients([grad])[0], grad / np.linalg.norm(grad))


# ---- each new optimizer minimises a quadratic --------------------------------------------------------
# Adadelta's first steps are about sqrt(epsilon) long (its E[dx^2] starts at 0): a larger epsilon
@pytest.mark.parametrize("make", [lambda: Nadam(0.05), lambda: Adamax(0.05),
                                  lambda: Adadelta(1.0, epsilon=1e-3), lambda: Lion(0.02),
                                  lambda: Lamb(0.02), lambda: Ftrl(0.5)],
                         ids=["Nadam", "Adamax", "Adadelta", "Lion", "Lamb", "Ftrl"])
def test_reduces_a_quadratic(make):
    # f(w) = 0.5 (w - c)^T A (w - c), minimum 0 at w = c
    A = np.array([[3.0, 0.5], [0.5, 1.0]])
    c = np.array([1.0, -2.0])
    w = var([3.0, 1.0], "float64")
    optimizer = make()

    def f(x):
        d = x - c
        return 0.5 * d @ A @ d

    start = f(w.numpy())
    for _ in range(300):
        optimizer.apply([A @ (w.numpy() - c)], [w])
    assert f(w.numpy()) < 0.05 * start


# ---- the state saves and loads ------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda: Nadam(1e-2, use_ema=True, ema_momentum=0.9),
    lambda: Ftrl(0.1, l1_regularization_strength=0.01, gradient_accumulation_steps=2),
    lambda: Adamax(1e-2), lambda: Adadelta(1.0), lambda: Lion(1e-3), lambda: Lamb(1e-2)],
    ids=["Nadam+ema", "Ftrl+accumulation", "Adamax", "Adadelta", "Lion", "Lamb"])
def test_model_file_resumes_training_bit_identically(tmp_path, make):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 3)).astype("float32"), rng.normal(size=(8, 1)).astype("float32")
    model = uf.keras.Sequential([uf.keras.Input((3,)), uf.keras.layers.Dense(4, activation="tanh"),
                                 uf.keras.layers.Dense(1)])
    model.compile(optimizer=make(), loss="mse")
    for _ in range(3):
        model.train_on_batch(x, y)
    model.save(tmp_path / "m.safetensors")
    again = uf.keras.models.load_model(tmp_path / "m.safetensors")
    saved, loaded = model.optimizer.state_dict(), again.optimizer.state_dict()
    assert sorted(saved) == sorted(loaded)
    for key in saved:
        assert np.array_equal(saved[key], loaded[key]), key
    for _ in range(3):
        model.train_on_batch(x, y)
        again.train_on_batch(x, y)
    for a, b in zip(model.weights, again.weights, strict=True):
        assert np.array_equal(a.numpy(), b.numpy())


# ---- constraints (constraints_test.py) --------------------------------------------------------------
def get_example_array():
    # Keras's helper (it seeds NumPy's global generator with 3537; a local one here)
    example_array = np.random.default_rng(3537).random((100, 100)) * 100.0 - 50.0
    example_array[0, 0] = 0.0  # 0 could possibly cause trouble
    return example_array


def test_max_norm():  # ConstraintsTest.test_max_norm
    constraint_fn = constraints.MaxNorm(2.0)
    x = np.array([[0, 0, 0], [1.0, 0, 0], [3, 0, 0], [3, 3, 3]]).T
    target = np.array([[0, 0, 0], [1.0, 0, 0], [2.0, 0, 0],
                       [2.0 / np.sqrt(3), 2.0 / np.sqrt(3), 2.0 / np.sqrt(3)]]).T
    close(constraint_fn(x), target, rtol=1e-5, atol=1e-5)


def test_non_neg():  # ConstraintsTest.test_non_neg
    output = constraints.NonNeg()(get_example_array())
    assert np.min(output, axis=1).tolist() == [0.0] * 100


def test_unit_norm():  # ConstraintsTest.test_unit_norm
    output = constraints.UnitNorm()(get_example_array())
    l2 = np.sqrt(np.sum(np.square(output), axis=0))
    close(l2, np.ones(100), rtol=1e-5, atol=1e-5)


def test_min_max_norm():  # ConstraintsTest.test_min_max_norm
    output = constraints.MinMaxNorm(min_value=0.2, max_value=0.5)(get_example_array())
    l2 = np.sqrt(np.sum(np.square(output), axis=0))
    assert not l2[l2 < 0.2].size
    assert not l2[l2 > 0.5 + 1e-6].size


def test_get_method():  # ConstraintsTest.test_get_method
    assert isinstance(constraints.get("unit_norm"), constraints.UnitNorm)
    assert isinstance(constraints.get("non_neg"), constraints.NonNeg)
    assert constraints.get(None) is None
    with pytest.raises(ValueError):
        constraints.get("typo")


def test_constraint_configs():  # ConstraintsTest.test_{max_norm,min_max_norm,unit_norm}_get_config
    assert constraints.MaxNorm(max_value=3.0, axis=1).get_config() == {"max_value": 3.0, "axis": 1}
    assert constraints.MinMaxNorm(min_value=0.5, max_value=2.0, rate=0.7, axis=1).get_config() == {
        "min_value": 0.5, "max_value": 2.0, "rate": 0.7, "axis": 1}
    assert constraints.UnitNorm(axis=1).get_config() == {"axis": 1}
    again = constraints.deserialize(constraints.serialize(constraints.MaxNorm(3.0, axis=[0, 1])))
    assert again.get_config() == {"max_value": 3.0, "axis": [0, 1]}


def test_dense_kernel_constraint_holds_during_training(tmp_path):
    model = uf.keras.Sequential([uf.keras.Input((5,)),
                                 uf.keras.layers.Dense(3, kernel_constraint=constraints.MaxNorm(0.5),
                                                       bias_constraint="non_neg")])
    model.compile(optimizer=SGD(1.0), loss="mse")
    rng = np.random.default_rng(1)
    model.fit(rng.normal(size=(16, 5)).astype("float32"),
              (10 * rng.normal(size=(16, 3))).astype("float32"), epochs=3, verbose=0)
    kernel, bias = (w.numpy() for w in model.layers[0].weights)
    assert np.all(np.linalg.norm(kernel, axis=0) <= 0.5 + 1e-6)
    assert np.all(bias >= 0)
    model.save(tmp_path / "c.safetensors")
    again = uf.keras.models.load_model(tmp_path / "c.safetensors")
    assert again.layers[0].kernel_constraint.get_config() == {"max_value": 0.5, "axis": 0}
    assert isinstance(again.layers[0].bias_constraint, constraints.NonNeg)


def test_base_constraint():  # ConstraintsTest.test_default_constraint_call, test_constraint_*_config
    x = np.array([1.0, 2.0, 3.0])
    close(constraints.Constraint()(x), x)
    assert constraints.Constraint().get_config() == {}
    assert isinstance(constraints.Constraint.from_config({}), constraints.Constraint)
    assert constraints.NonNeg().get_config() == {}  # ConstraintsTest.test_non_neg_get_config


@pytest.mark.parametrize("make", [lambda: constraints.MaxNorm(max_value=3.0, axis=1),
                                  lambda: constraints.UnitNorm(axis=1),
                                  lambda: constraints.MinMaxNorm(0.5, 2.0, rate=0.7, axis=1),
                                  constraints.NonNeg])
def test_from_config_gives_the_same_constraint(make):
    # ConstraintsTest.test_{max_norm,unit_norm,min_max_norm}_get_config (restored part),
    # test_non_neg_from_config, test_non_neg_serialization_roundtrip
    fn = make()
    restored = type(fn).from_config(fn.get_config())
    assert restored.get_config() == fn.get_config()
    x = get_example_array()
    close(restored(x), fn(x), rtol=0, atol=0)


def test_non_neg_cases():
    # ConstraintsTest.test_non_neg_zeroes_negatives, ..._preserves_positives, ..._all_zeros_input
    close(constraints.NonNeg()(np.full((5, 5), -3.0)), np.zeros((5, 5)))
    close(constraints.NonNeg()(np.full((5, 5), 3.0)), np.full((5, 5), 3.0))
    close(constraints.NonNeg()(np.zeros((5, 5))), np.zeros((5, 5)))


def test_lion_with_ema_in_fit():  # LionTest.test_ema (Keras checks only that fit runs)
    model = uf.keras.Sequential([uf.keras.Input((5,)), uf.keras.layers.Dense(10)])
    model.compile(optimizer=Lion(use_ema=True), loss="mse")
    history = model.fit(np.zeros((1, 5), np.float32), np.zeros((1, 10), np.float32), verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert model.optimizer.state_dict()["0/average"].shape == (5, 10)


def test_iterations_counter():  # OptimizerTest.test_iterations_counter
    v, grads = var([[1.0, 2.0], [3.0, 4.0]]), np.ones((2, 2), np.float32)
    optimizer = Adam(learning_rate=1.0)
    assert optimizer.iterations == 0
    optimizer.apply_gradients([(grads, v)])
    assert optimizer.iterations == 1
    optimizer.apply_gradients([(grads, v)])
    assert optimizer.iterations == 2


def test_empty_gradients():  # OptimizerTest.test_empty_gradients
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        SGD(learning_rate=1.0).apply_gradients([(None, var([[3.0, 4.0], [5.0, 6.0]]))])
    v, v2 = var([[3.0, 4.0], [5.0, 6.0]]), var([[3.0, 4.0], [5.0, 6.0]])
    with pytest.warns(UserWarning):
        SGD(learning_rate=1.0).apply_gradients([(None, v), (np.ones((2, 2), np.float32), v2)])
    close(v, [[3.0, 4.0], [5.0, 6.0]])
    close(v2, [[2.0, 3.0], [4.0, 5.0]])


def test_callable_learning_rate():  # OptimizerTest.test_callable_learning_rate
    v = var([[1.0, 2.0], [3.0, 4.0]])
    optimizer = SGD(learning_rate=lambda: 0.1)
    optimizer.apply_gradients([(np.ones((2, 2), np.float32), v)])
    close(v, [[0.9, 1.9], [2.9, 3.9]])
    assert optimizer.iterations == 1


# ---- optimizer.variables and set_weights (SGDTest.test_single_step, OptimizerTest.test_set_weights,
# test_setting_lr_to_callable_untracks_lr_var) ------------------------------------------------------
def test_variables_are_iterations_learning_rate_then_state():
    optimizer = SGD(learning_rate=0.5)
    assert len(optimizer.variables) == 2
    v = var([1.0, 2.0, 3.0, 4.0])
    optimizer.apply_gradients(zip([np.array([1.0, 6.0, 7.0, 2.0], np.float32)], [v], strict=True))
    close(v, [0.5, -1.0, -0.5, 3.0])
    assert [float(a) for a in optimizer.variables] == [1.0, 0.5]  # no momentum: no slot
    adam = Adam(learning_rate=0.001)
    assert len(adam.variables) == 2
    adam.learning_rate = uf.optimizers.schedules.PolynomialDecay(0.001, 4)
    assert len(adam.variables) == 1  # a schedule is not a variable


def test_set_weights_copies_another_optimizers_state():
    x = var([[1.0, 2.0], [3.0, 4.0]])
    grads = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    optimizer_1 = Adam()
    optimizer_1.apply_gradients(zip([grads], [x], strict=True))
    optimizer_2 = Adam()
    with pytest.raises(ValueError, match="You are calling `set_weights\\(\\)` on an optimizer that "
                                         "has not yet been built"):
        optimizer_2.set_weights(optimizer_1.variables)
    optimizer_2.build([x])
    optimizer_2.set_weights(optimizer_1.variables)
    for a, b in zip(optimizer_1.variables, optimizer_2.variables, strict=True):
        np.testing.assert_array_equal(a, b)
    # m after one step is (1 - 0.9) g, v is (1 - 0.999) g^2 (Adam's moments from zero)
    close(optimizer_2.variables[2], 0.1 * grads)
    close(optimizer_2.variables[3], 0.001 * grads ** 2)
    with pytest.raises(ValueError, match="expected 4 arrays"):
        optimizer_2.set_weights(optimizer_1.variables[:3])


def test_get_none_is_none():  # OptimizerTest.test_get_method
    assert uf.optimizers.get(None) is None
    with pytest.raises(ValueError, match="Unknown optimizer 'typo'"):
        uf.optimizers.get("typo")
