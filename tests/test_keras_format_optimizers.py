"""Every optimizer's state in Keras 3 '.keras' files (issue 21): Nadam, Adamax, Adadelta, Lion, Lamb
and Ftrl, and the options that add state (use_ema, gradient_accumulation_steps), both ways,
checked against real Keras 3.15.1 (JAX backend).

The order of the optimizer's variables is Keras's own: the expected names below were read from
``[v.path for v in optimizer.variables]`` of keras 3.15.1 (JAX) after one step on a
``Dense(2)`` model, never from unafraid's writer.

Keras, JAX and h5py are in the `test` extra (pinned in pyproject.toml), so these tests run in CI.
"""

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")
h5py = pytest.importorskip("h5py", reason="h5py is in the test extra; pip install -e '.[test]'")
keras = pytest.importorskip("keras", reason="keras (JAX backend) is in the test extra; "
                                            "pip install -e '.[test]'")

import unafraid as tf  # noqa: E402
from unafraid.io import keras_format  # noqa: E402
from unafraid.io.saving import ModelFileError, load_model  # noqa: E402

L = tf.keras.layers
ROOT = Path(__file__).resolve().parents[1]
RNG = np.random.default_rng(21)
X = RNG.normal(size=(16, 3)).astype(np.float32)
Y = RNG.normal(size=(16, 2)).astype(np.float32)

# (class, arguments) for each optimizer: learning rates large enough that a few steps move the
# weights, Ftrl with an L1 strength so that its clipping acts
OPTIMIZERS = {
    "Nadam": {"learning_rate": 0.01}, "Adamax": {"learning_rate": 0.01},
    "Adadelta": {"learning_rate": 1.0}, "Lion": {"learning_rate": 0.001},
    "Lamb": {"learning_rate": 0.01},
    "Ftrl": {"learning_rate": 0.1, "l1_regularization_strength": 0.01},
    "ScheduleFreeAdamW": {"learning_rate": 0.01, "warmup_steps": 2},
}
OPTIONS = {"ema": {"use_ema": True, "ema_momentum": 0.9, "ema_overwrite_frequency": 3},
           "accumulation": {"gradient_accumulation_steps": 2},
           "ema+accumulation": {"use_ema": True, "ema_momentum": 0.9, "gradient_accumulation_steps": 3}}

# Keras 3.15.1's optimizer.variables on Dense(2) (kernel then bias), after iteration and
# learning_rate, with Keras's slot names; KERAS_NAME maps unafraid's slot names to them.
KERAS_ORDER = {
    "Nadam": ["kernel_momentum", "kernel_velocity", "bias_momentum", "bias_velocity", "variable"],
    "Adamax": ["kernel_momentum", "kernel_norm", "bias_momentum", "bias_norm"],
    "Adadelta": ["kernel_accumulated_grad", "kernel_accumulated_delta_var",
                 "bias_accumulated_grad", "bias_accumulated_delta_var"],
    "Lion": ["kernel_momentum", "bias_momentum"],
    "Lamb": ["kernel_momentum", "kernel_velocity", "bias_momentum", "bias_velocity"],
    "Ftrl": ["kernel_accumulator", "kernel_linear", "bias_accumulator", "bias_linear"],
    "ScheduleFreeAdamW": ["kernel_momentum", "kernel_velocity", "bias_momentum", "bias_velocity"],
}
KERAS_ORDER_WITH_OPTIONS = {  # Adam(use_ema=True, gradient_accumulation_steps=2), Nadam(use_ema=True)
    "Adam": ["kernel_average", "bias_average", "kernel_gradient_accumulator",
             "bias_gradient_accumulator", "kernel_momentum", "kernel_velocity", "bias_momentum",
             "bias_velocity"],
    "Nadam": ["kernel_average", "bias_average", "kernel_momentum", "kernel_velocity",
              "bias_momentum", "bias_velocity", "variable"],
}
KERAS_NAME = {"m": "momentum", "v": "velocity", "u": "norm", "u_product": "variable"}


def keras_names(keys):
    """``['0/m', '1/v', 'u_product']`` -> Keras's ``['kernel_momentum', 'bias_velocity', 'variable']``."""
    out = []
    for key in keys:
        index, _, slot = key.rpartition("/")
        prefix = {"0": "kernel_", "1": "bias_", "": ""}[index]
        out.append(prefix + KERAS_NAME.get(slot, slot))
    return out


def dense2():
    return tf.keras.Sequential([tf.keras.Input((3,)), L.Dense(2)])


def unafraid_model(name, **options):
    model = tf.keras.Sequential([tf.keras.Input((3,)), L.Dense(4, activation="tanh"), L.Dense(2)])
    model.compile(getattr(tf.keras.optimizers, name)(**OPTIMIZERS.get(name, {}), **options), "mse")
    return model


def keras_model(name, **options):
    k = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="tanh"),
                          keras.layers.Dense(2)])
    k.compile(getattr(keras.optimizers, name)(**OPTIMIZERS.get(name, {}), **options), "mse")
    return k


def keras_state(k):
    return [np.asarray(v) for v in k.optimizer.variables]


def assert_same_state(ours, theirs, rtol=0.0, atol=0.0):
    """The step count exactly; every other array (learning rate, slots, u_product) to tolerance."""
    assert len(ours) == len(theirs)
    assert int(ours[0]) == int(theirs[0])
    for a, b in zip(ours[1:], theirs[1:], strict=True):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


# ---- the layout: Keras's order of variables, checked without running Keras ---------------------
@pytest.mark.parametrize("name", sorted(KERAS_ORDER))
def test_slot_order_is_keras_order(name):
    model = dense2()
    optimizer = getattr(tf.keras.optimizers, name)()
    assert keras_names(keras_format.keras_state_keys(optimizer, model.trainable_weights)) == \
        KERAS_ORDER[name]


@pytest.mark.parametrize("name, options", [("Adam", {"use_ema": True, "gradient_accumulation_steps": 2}),
                                           ("Nadam", {"use_ema": True})])
def test_option_slots_come_first_in_keras_order(name, options):
    model = dense2()
    optimizer = getattr(tf.keras.optimizers, name)(**options)
    assert keras_names(keras_format.keras_state_keys(optimizer, model.trainable_weights)) == \
        KERAS_ORDER_WITH_OPTIONS[name]


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_written_arrays_hold_the_state(tmp_path, name):
    """optimizer/vars in the file: the step count, the learning rate, then each array of
    state_dict() under the key Keras's order gives (Nadam's u_product last, a float32 scalar)."""
    model = unafraid_model(name)
    for _ in range(3):
        model.train_on_batch(X, Y)
    model.save(tmp_path / "m.keras")
    with weights_h5(tmp_path / "m.keras") as h5:
        stored = [np.asarray(h5[f"optimizer/vars/{i}"]) for i in range(len(h5["optimizer/vars"]))]
    state = model.optimizer.state_dict()
    keys = keras_format.keras_state_keys(model.optimizer, model.trainable_weights)
    assert len(stored) == 2 + len(keys)
    assert int(stored[0]) == 3
    assert stored[1] == np.float32(OPTIMIZERS[name]["learning_rate"])
    for key, a in zip(keys, stored[2:], strict=True):
        np.testing.assert_array_equal(a, state[key])
        assert a.dtype == np.float32
    if name == "Nadam":  # prod of mu_t = 0.9 (1 - 0.5 * 0.96^t), t = 1, 2, 3 (Dozat's schedule)
        expected = np.prod([0.9 * (1 - 0.5 * 0.96 ** t) for t in (1, 2, 3)])
        assert stored[-1].shape == () and stored[-1] == pytest.approx(expected, rel=1e-6)


def weights_h5(path):
    with zipfile.ZipFile(path) as zf:
        return h5py.File(io.BytesIO(zf.read("model.weights.h5")), "r")


# ---- unafraid -> .keras -> unafraid: bit-identical continuation ---------------------------------
@pytest.mark.parametrize("name, options", [*((n, {}) for n in OPTIMIZERS),
                                           ("Nadam", OPTIONS["ema"]), ("Adam", OPTIONS["accumulation"]),
                                           ("Lamb", OPTIONS["ema+accumulation"])],
                         ids=[*OPTIMIZERS, "Nadam-ema", "Adam-accumulation", "Lamb-ema+accumulation"])
def test_unafraid_round_trip_continues_bit_identically(tmp_path, name, options):
    model = unafraid_model(name, **options)
    for _ in range(5):  # an odd count: the gradient sums are mid-cycle when saved
        model.train_on_batch(X, Y)
    model.save(tmp_path / "m.keras")
    again = load_model(tmp_path / "m.keras")
    saved, loaded = model.optimizer.state_dict(), again.optimizer.state_dict()
    assert sorted(saved) == sorted(loaded)
    for key in saved:
        np.testing.assert_array_equal(loaded[key], saved[key], err_msg=key)
    for _ in range(4):
        model.train_on_batch(X, Y)
        again.train_on_batch(X, Y)
    for a, b in zip(model.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


# ---- refusals -----------------------------------------------------------------------------------
def test_an_optimizer_without_keras_counterpart_is_refused(tmp_path):
    class Halving(tf.keras.optimizers.SGD):
        pass

    model = dense2()
    model.compile(Halving(0.1), "mse")
    model.train_on_batch(X, Y)
    with pytest.raises(keras_format.OptimizerStateError, match=r"Halving \('halving'\) has no Keras 3 "
                                                                r"counterpart.*\.safetensors"):
        model.save(tmp_path / "h.keras")
    assert not (tmp_path / "h.keras").exists()


def test_state_for_other_variables_than_the_trainable_ones_is_refused(tmp_path):
    """A layer frozen after training: Keras keeps state only for the trainable weights, so the
    frozen layer's moments would be lost; refused, and .safetensors keeps them."""
    model = unafraid_model("Adamax")
    model.train_on_batch(X, Y)
    model.layers[0].trainable = False
    with pytest.raises(keras_format.OptimizerStateError,
                       match=r"holds state for 4 variables .* not the model's 2 trainable weights"):
        model.save(tmp_path / "f.keras")
    assert not (tmp_path / "f.keras").exists()
    model.save(tmp_path / "f.safetensors")


def test_io_load_model_works_in_a_fresh_process(tmp_path):
    """unafraid.io.load_model on a '.keras' file before anything imported unafraid.models."""
    model = unafraid_model("Lion")
    model.train_on_batch(X, Y)
    model.save(tmp_path / "m.keras")
    code = ("import sys, unafraid.io as io; m = io.load_model(sys.argv[1]); "
            "print(type(m).__name__, int(m.optimizer.iterations))")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "m.keras")], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["Sequential", "1"]


# ---- against real Keras 3 (JAX) -----------------------------------------------------------------
def both_ways(name, options, steps=5):
    """unafraid trains ``steps`` steps -> '.keras' -> Keras: same predictions and state, one more
    step in each gives the same weights and state; then Keras -> '.keras' -> unafraid likewise."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp)
        model = unafraid_model(name, **options)
        for _ in range(steps):
            model.train_on_batch(X, Y)
        model.save(path / "u.keras")
        k = keras.saving.load_model(path / "u.keras")
        assert type(k.optimizer).__name__ == name
        np.testing.assert_allclose(k.predict(X, verbose=0), model.predict(X, verbose=0), atol=1e-6)
        assert_same_state(keras_format.optimizer_arrays(model.optimizer), keras_state(k))  # exact
        model.train_on_batch(X, Y)
        k.train_on_batch(X, Y)
        for a, b in zip(model.get_weights(), k.get_weights(), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        assert_same_state(keras_format.optimizer_arrays(model.optimizer), keras_state(k),
                          rtol=1e-4, atol=1e-6)

        k = keras_model(name, **options)
        for _ in range(steps):
            k.train_on_batch(X, Y)
        k.save(path / "k.keras")
        model = load_model(path / "k.keras")
        np.testing.assert_allclose(model.predict(X, verbose=0), k.predict(X, verbose=0), atol=1e-6)
        assert_same_state(keras_format.optimizer_arrays(model.optimizer), keras_state(k))  # exact
        assert model.optimizer.iterations == int(k.optimizer.iterations)
        model.train_on_batch(X, Y)
        k.train_on_batch(X, Y)
        for a, b in zip(model.get_weights(), k.get_weights(), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        assert_same_state(keras_format.optimizer_arrays(model.optimizer), keras_state(k),
                          rtol=1e-4, atol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_state_crosses_to_keras_and_back(name):
    both_ways(name, {})


# ---- use_ema and gradient_accumulation_steps (issue 21 item 2) ----------------------------------
def test_overwrite_with_gradient_variables_have_no_average_and_keep_their_gradient():
    """Keras keeps no EMA for a variable marked overwrite_with_gradient (add_optimizer_variables
    gives None) and never overwrites it with one. SGD(1.0), ema_momentum 0.5, overwrite every 2:
    v2 = [1, 2] - 1 = [0, 1] (average [0, 1]), then [-1, 0] (average 0.5 [0, 1] + 0.5 [-1, 0]
    = [-0.5, 0.5], written into v2); v is its last gradient, 3."""
    v, v2 = tf.Variable(np.zeros(2, np.float32)), tf.Variable(np.array([1.0, 2.0], np.float32))
    v.overwrite_with_gradient = True
    optimizer = tf.keras.optimizers.SGD(1.0, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=2)
    for g in (1.0, 3.0):
        optimizer.apply([np.full(2, g, np.float32), np.ones(2, np.float32)], [v, v2])
    np.testing.assert_array_equal(v2.numpy(), [-0.5, 0.5])
    np.testing.assert_array_equal(v.numpy(), [3.0, 3.0])
    optimizer.finalize_variable_values([v, v2])
    np.testing.assert_array_equal(v.numpy(), [3.0, 3.0])
    # and in the file, as Keras's build lays it out: no average (nor Adam's moments) for v,
    # a gradient sum for every variable
    optimizer = tf.keras.optimizers.Adam(use_ema=True, gradient_accumulation_steps=2)
    assert keras_format.keras_state_keys(optimizer, [v2, v]) == [
        "0/average", "0/gradient_accumulator", "1/gradient_accumulator", "0/m", "0/v"]


def dropout_model(optimizer):
    tf.set_random_seed(21)
    model = tf.keras.Sequential([tf.keras.Input((3,)), L.Dense(8, activation="relu"), L.Dropout(0.3),
                                 L.Dense(2)])
    model.compile(optimizer, "mse")
    return model


@pytest.mark.parametrize("suffix", ["safetensors", "keras"])
@pytest.mark.parametrize("make", [
    lambda: tf.keras.optimizers.Adam(0.01, use_ema=True, ema_momentum=0.9, ema_overwrite_frequency=2,
                                     gradient_accumulation_steps=2),
    lambda: tf.keras.optimizers.Nadam(0.01, use_ema=True, ema_momentum=0.8, gradient_accumulation_steps=2),
], ids=["Adam", "Nadam"])
def test_fit_resumed_from_a_checkpoint_is_bit_identical(tmp_path, suffix, make):
    """fit saves after each epoch (3 batches, so the gradient sums are mid-cycle after epoch 1);
    loading epoch 1's file and fitting on gives the uninterrupted run's bits (dropout and
    shuffling included), the averages written into the weights at the end in both."""
    x, y = RNG.normal(size=(48, 3)).astype(np.float32), RNG.normal(size=(48, 2)).astype(np.float32)
    model = dropout_model(make())
    path = str(tmp_path / f"epoch_{{epoch}}.{suffix}")
    model.fit(x, y, batch_size=16, epochs=3, verbose=0,
              callbacks=[tf.keras.callbacks.ModelCheckpoint(path, save_freq="epoch")])
    again = load_model(path.format(epoch=1))
    state = again.optimizer.state_dict()
    assert int(state["iterations"]) == 3 and again.optimizer.iterations == 1
    assert np.any(state["0/gradient_accumulator"] != 0) and np.any(state["0/average"] != 0)
    again.fit(x, y, batch_size=16, epochs=3, initial_epoch=1, verbose=0)
    for a, b in zip(model.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    final, resumed = model.optimizer.state_dict(), again.optimizer.state_dict()
    for key in final:
        np.testing.assert_array_equal(resumed[key], final[key], err_msg=key)


@pytest.mark.slow
@pytest.mark.parametrize("name, options", [
    ("Adam", {**OPTIONS["ema"], **OPTIONS["accumulation"]}),
    ("Nadam", OPTIONS["ema+accumulation"]),
], ids=["Adam-ema+accumulation", "Nadam-ema+accumulation"])
def test_ema_and_accumulation_state_cross_to_keras_and_back(name, options):
    both_ways(name, options)


@pytest.mark.parametrize("suffix", ["safetensors", "keras"])
def test_weights_exempt_from_weight_decay_stay_exempt_after_loading(tmp_path, suffix):
    """exclude_from_weight_decay is in no optimizer config (Keras's neither): the file records
    which weights are exempt, so training on after loading gives the uninterrupted run's bits."""
    model = dropout_model(tf.keras.optimizers.AdamW(0.05, weight_decay=0.5, gradient_accumulation_steps=2))
    model.optimizer.exclude_from_weight_decay(var_names=["bias"])
    for _ in range(3):
        model.train_on_batch(X, Y)
    if suffix == "keras":
        with pytest.warns(UserWarning, match=r"Keras 3 keeps no record of exclude_from_weight_decay.*"
                                             r"2 exempt weights"):
            model.save(tmp_path / f"m.{suffix}")
    else:
        model.save(tmp_path / f"m.{suffix}")
    again = load_model(tmp_path / f"m.{suffix}")
    assert [again.optimizer.uses_weight_decay(w) for w in again.trainable_weights] == \
        [True, False, True, False]
    for _ in range(3):
        model.train_on_batch(X, Y)
        again.train_on_batch(X, Y)
    for a, b in zip(model.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_crafted_weight_decay_exclusions_are_refused(tmp_path):
    model = dropout_model(tf.keras.optimizers.AdamW(weight_decay=0.1))
    model.optimizer.exclude_from_weight_decay(var_names=["bias"])
    with pytest.warns(UserWarning, match="exclude_from_weight_decay"):
        model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    extra = json.loads(members["unafraid.json"])
    extra["weight_decay_exclusions"] = [1, 99]
    members["unafraid.json"] = json.dumps(extra).encode()
    with zipfile.ZipFile(tmp_path / "crafted.keras", "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    with pytest.raises(ModelFileError, match=r"exempt from weight decay must be distinct indices "
                                             r"below 4"):
        load_model(tmp_path / "crafted.keras")
