"""A catalogue of the mistakes real users make, and the answer unafraid gives to each.

Every test is one misuse. Each checks the exception (or warning) type, and that the message
names the problem *and* the fix (the regexes match both parts). Where the right answer is to
just work (predict on an unbuilt model, 1-D regression targets), the test checks the result.

The sections follow a script's order: labels and the loss, shapes, data, fit's arguments,
names, building, compiling, warnings, weights, files, layers, gradients, weighting.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest

import unafraid as tf
from unafraid.io.saving import FORMAT_VERSION, ModelFileError, load_model
from unafraid.keras import layers

rng = np.random.default_rng(0)
N = 40
X = rng.normal(size=(N, 5)).astype(np.float32)
Y = rng.integers(0, 3, N)
ONE_HOT = np.eye(3, dtype=np.float32)[Y]
UNIFORM = np.full((N, 3), 1 / 3, np.float32)


def classifier(units=3, activation="softmax", loss="sparse_categorical_crossentropy"):
    model = tf.keras.Sequential([layers.Dense(8, activation="relu", input_shape=(5,)),
                                 layers.Dense(units, activation=activation)])
    if loss is not None:
        model.compile("adam", loss)
    return model


def regressor(units=1):
    model = tf.keras.Sequential([layers.Dense(units, input_shape=(5,))])
    model.compile("sgd", "mse")
    return model


# ---- labels that do not fit the loss ------------------------------------------------------------
def test_one_hot_labels_with_sparse_loss_in_fit():
    """One-hot labels given to sparse_categorical_crossentropy, through fit."""
    with pytest.raises(ValueError, match=r"look like one-hot labels.*Use CategoricalCrossentropy"
                                         r".*argmax"):
        classifier().fit(X, ONE_HOT, verbose=0)


def test_one_hot_labels_with_sparse_loss_called_directly():
    """One-hot labels given to SparseCategoricalCrossentropy called on arrays."""
    with pytest.raises(ValueError, match=r"one-hot labels.*CategoricalCrossentropy.*argmax"):
        tf.keras.losses.SparseCategoricalCrossentropy()(ONE_HOT, UNIFORM)


def test_integer_labels_with_categorical_loss_in_fit():
    """Integer labels given to categorical_crossentropy, through fit."""
    with pytest.raises(ValueError, match=r"integer class indices.*expects one-hot.*"
                                         r"SparseCategoricalCrossentropy.*one_hot"):
        classifier(loss="categorical_crossentropy").fit(X, Y, verbose=0)


def test_integer_labels_with_categorical_loss_called_directly():
    """Integer labels given to CategoricalCrossentropy called on arrays."""
    with pytest.raises(ValueError, match=r"integer class indices.*SparseCategoricalCrossentropy"):
        tf.keras.losses.CategoricalCrossentropy()(Y, UNIFORM)


def test_to_categorical_suggested_name_exists():
    """The one-hot helper the message above names is real (and so is Keras's)."""
    np.testing.assert_array_equal(np.asarray(tf.one_hot(Y, 3)), ONE_HOT)
    np.testing.assert_array_equal(tf.keras.utils.to_categorical(Y, 3), ONE_HOT)


def test_labels_beyond_the_output_units():
    """Labels 5..7 for a model with 3 output units."""
    with pytest.raises(ValueError, match=r"\[0, 3\).*3 output units.*from 5 to 7.*Dense\(8\)"):
        classifier().fit(X, Y + 5, verbose=0)


def test_one_based_labels():
    """Labels 1..10 for 10 output units (MATLAB / R habits)."""
    y = np.arange(1, 11).repeat(4)
    with pytest.raises(ValueError, match=r"from 1 to 10.*1-based; subtract 1"):
        classifier(units=10).fit(X, y, verbose=0)


def test_negative_labels():
    """-1 used as a placeholder for unknown labels."""
    with pytest.raises(ValueError, match=r"from -1 to 1.*Negative labels.*drop those rows.*"
                                         r"ignore_class"):
        classifier().fit(X, Y - 1, verbose=0)


def test_non_integer_float_labels_for_sparse_loss():
    """Float labels such as 1.5 with a sparse (class index) loss."""
    with pytest.raises(ValueError, match=r"integer class indices, got a non-integer value 1\.5"
                                         r".*np\.unique.*regression loss"):
        classifier().fit(X, Y + 0.5, verbose=0)


def test_one_output_unit_with_sparse_loss():
    """Dense(1, sigmoid) with sparse_categorical_crossentropy for a two-class problem."""
    with pytest.raises(ValueError, match=r"1 output units.*Dense\(2\).*binary_crossentropy"):
        classifier(units=1, activation="sigmoid").fit(X, Y % 2, verbose=0)


# ---- (N,) against (N, 1) and other shape mismatches ------------------------------------------------
def test_one_dimensional_targets_train_a_one_unit_regressor_correctly():
    """y of shape (N,) with Dense(1): must train on (N, 1), never broadcast to (N, N)."""
    y = (X @ np.arange(1, 6, dtype=np.float32) + 3).astype(np.float32)
    model = regressor()
    kernel, bias = model.get_weights()
    history = model.fit(X, y, batch_size=N, epochs=1, shuffle=False, verbose=0)
    pred = X @ kernel + bias                      # (N, 1), the weights the loss was computed with
    right = np.mean((y[:, None] - pred) ** 2)     # per example: what the user means
    broadcast = np.mean((y[None, :] - pred) ** 2)  # (N, N): the silent bug
    assert np.isclose(history.history["loss"][0], right, rtol=1e-5)
    assert not np.isclose(history.history["loss"][0], broadcast, rtol=1e-2)


def test_mse_called_on_n_and_n1_refuses():
    """MeanSquaredError()(y (N,), pred (N, 1)) called directly."""
    with pytest.raises(ValueError, match=r"shape \(40,\) but y_pred has shape \(40, 1\).*"
                                         r"\(N, N\).*reshape\(-1, 1\)"):
        tf.keras.losses.MeanSquaredError()(Y.astype(np.float32), Y[:, None].astype(np.float32))


def test_two_target_columns_for_one_output_unit():
    """y of shape (N, 2) for a model with one output unit."""
    with pytest.raises(ValueError,
                       match=r"\(40, 2\) but y_pred has shape \(40, 1\).*must have the same shape"):
        regressor().fit(X, np.ones((N, 2), np.float32), verbose=0)


def test_x_and_y_lengths_differ():
    """x and y with different numbers of rows (split separately, or a row dropped)."""
    with pytest.raises(ValueError, match=r"x has 40, y has 39 rows.*same examples"):
        classifier().fit(X, Y[:-1], verbose=0)


def test_wrong_number_of_features_for_the_first_layer():
    """x with 4 features for a model built for 5: names the layer and both shapes."""
    with pytest.raises(ValueError, match=r"expects examples of shape \(5,\).*first layer "
                                         r"'dense[_0-9]*'.*x has shape \(40, 4\).*input_shape="):
        classifier().fit(X[:, :4], Y, verbose=0)


def test_images_not_flattened_for_a_model_built_on_784_features():
    """(N, 28, 28) images given to a model whose first Dense expects 784 features."""
    model = tf.keras.Sequential([layers.Dense(4, input_shape=(784,))])
    with pytest.raises(ValueError, match=r"\(784,\).*\(2, 28, 28\).*forget Flatten\(\)"):
        model.predict(np.ones((2, 28, 28), np.float32))


def test_dense_layer_alone_on_images_suggests_flatten():
    """A Dense layer called directly on unflattened images: names the layer, suggests Flatten."""
    dense = layers.Dense(4)
    dense(np.ones((1, 784), np.float32))  # built for 784 features
    with pytest.raises(ValueError, match=r"Dense layer '.*' expected inputs with 784 features.*"
                                         r"\(2, 28, 28\).*Flatten\(\)"):
        dense(np.ones((2, 28, 28), np.float32))


def test_model_without_flatten_gives_one_prediction_per_image_row():
    """No Flatten: Dense on (28, 28) images outputs (N, 28, 10) against labels (N,)."""
    model = tf.keras.Sequential([layers.Dense(16, activation="relu", input_shape=(28, 28)),
                                 layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"\(8, 28, 10\).*acts on the last axis only.*"
                                         r"Add Flatten\(\)"):
        model.fit(np.ones((8, 28, 28), np.float32), np.arange(8), verbose=0)


# ---- data that is not a table of numbers ----------------------------------------------------------
def test_object_array():
    """An object array (mixed Python values) as x."""
    x = np.array([[1.0, "a", 2.0, 3.0, 4.0]] * N, dtype=object)
    with pytest.raises(TypeError, match=r"dtype object \(Python objects\), but must be numeric.*"
                                        r"np\.asarray\(x, dtype='float32'\)"):
        classifier().fit(x, Y, verbose=0)


def test_string_array():
    """Numbers read as strings (e.g. from a CSV without conversion)."""
    with pytest.raises(TypeError, match=r"\(strings\), but must be numeric.*encoding"):
        classifier().fit(X.astype(str), Y, verbose=0)


def test_string_class_names_as_labels():
    """Class names ('cat', 'dog') as y."""
    y = np.array(["cat", "dog", "owl"])[Y]
    with pytest.raises(TypeError, match=r"y has dtype <U3 \(strings\).*return_inverse=True"):
        classifier().fit(X, y, verbose=0)


def test_dataframe_with_non_numeric_columns_names_them():
    """A pandas DataFrame with text columns: the error names those columns."""
    frame = pd.DataFrame(X, columns=list("abcde"))
    frame["city"] = "Paris"
    frame["species"] = pd.Categorical(["setosa"] * N)
    with pytest.raises(TypeError, match=r"non-numeric columns: 'city'.*'species'.*get_dummies"):
        classifier().fit(frame, Y, verbose=0)


def test_list_of_ragged_lists():
    """Rows of different lengths, e.g. variable-length measurements."""
    with pytest.raises(ValueError, match=r"rows of different lengths \(lengths 3, 5\).*pad"):
        classifier().fit([[1, 2, 3, 4, 5], [1, 2, 3]], [0, 1], verbose=0)


def test_nan_in_x():
    """A NaN in x (a missing measurement): says how many and where."""
    x = X.copy()
    x[7, 2] = np.nan
    with pytest.raises(ValueError, match=r"1 non-finite.*\(7, 2\), is NaN.*impute.*drop"):
        classifier().fit(x, Y, verbose=0)


def test_inf_in_x():
    """An infinity in x (a division by zero upstream)."""
    x = X.copy()
    x[3, 0] = np.inf
    with pytest.raises(ValueError, match=r"\(3, 0\), is infinite.*Remove or impute"):
        classifier().fit(x, Y, verbose=0)


def test_nan_in_y():
    """A NaN among the regression targets."""
    y = X[:, 0].copy()
    y[5] = np.nan
    with pytest.raises(ValueError, match=r"y contains 1 non-finite.*\(5,\).*drop those rows"):
        regressor().fit(X, y, verbose=0)


def test_empty_arrays():
    """Empty x and y (a filter that selected nothing)."""
    with pytest.raises(ValueError, match=r"x is empty \(shape \(0, 5\)\).*filtering"):
        classifier().fit(X[:0], Y[:0], verbose=0)


# ---- fit's arguments ----------------------------------------------------------------------------
@pytest.mark.parametrize("batch_size", [0, -8, 2.5, "32"])
def test_bad_batch_size(batch_size):
    """batch_size <= 0, or not an integer."""
    with pytest.raises(ValueError, match=r"batch_size must be a positive integer.*got "
                                         r".*batch_size=32"):
        classifier().fit(X, Y, batch_size=batch_size, verbose=0)


@pytest.mark.parametrize("epochs", [0, -1, 2.0])
def test_bad_epochs(epochs):
    """epochs < 1 or not an integer."""
    with pytest.raises(ValueError, match=r"epochs must be an integer >= 1.*epochs=10"):
        classifier().fit(X, Y, epochs=epochs, verbose=0)


@pytest.mark.parametrize("split", [1.5, -0.1, 1, 20, "0.2"])
def test_validation_split_outside_zero_one(split):
    """validation_split outside (0, 1), as a percentage, or as a string."""
    with pytest.raises(ValueError, match=r"strictly between 0 and 1.*validation_split=0\.2"):
        classifier().fit(X, Y, validation_split=split, verbose=0)


@pytest.mark.parametrize("val, got", [(X, r"ndarray of shape \(40, 5\)"),
                                      ((X,), r"a tuple of length 1"),
                                      ([X, Y, None, None], r"a list of length 4")])
def test_validation_data_of_the_wrong_form(val, got):
    """validation_data given as x alone, a 1-tuple, or too many items."""
    with pytest.raises(ValueError, match=rf"\(x_val, y_val\).*got {got}.*"
                                         rf"validation_data=\(x_val, y_val\)"):
        classifier().fit(X, Y, validation_data=val, verbose=0)


def test_validation_data_checked_before_training():
    """Mismatched x_val / y_val are refused before the first epoch, not after it."""
    model = classifier()
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"validation x has 40, validation y has 10 rows"):
        model.fit(X, Y, validation_data=(X, Y[:10]), verbose=0)
    with pytest.raises(ValueError, match=r"from 5 to 7.*Dense\(8\)"):
        model.fit(X, Y, validation_data=(X, Y + 5), verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))


# ---- names with typos ---------------------------------------------------------------------------
def test_unknown_optimizer_name():
    """'adma' for 'adam'."""
    with pytest.raises(ValueError, match=r"Unknown optimizer 'adma'. Did you mean 'adam'"):
        classifier(loss=None).compile("adma", "mse")


def test_unknown_loss_name():
    """'sparse_categorical_crossentropyy'."""
    with pytest.raises(ValueError, match=r"Unknown loss 'sparse_categorical_crossentropyy'\. "
                                         r"Did you mean 'sparse_categorical_crossentropy'"):
        classifier(loss=None).compile("adam", "sparse_categorical_crossentropyy")


def test_unknown_metric_name_fails_at_compile():
    """metrics=['acuracy']: refused by compile, not after the first training step."""
    with pytest.raises(ValueError, match=r"Unknown metric 'acuracy'. Did you mean 'accuracy'"):
        classifier(loss=None).compile("adam", "sparse_categorical_crossentropy",
                                      metrics=["acuracy"])


def test_unknown_activation_name():
    """activation='reul'."""
    with pytest.raises(ValueError, match=r"Unknown activation 'reul'. Did you mean 'relu'"):
        layers.Dense(3, activation="reul")


def test_unknown_initializer_name():
    """kernel_initializer='glorot_unifrom'."""
    with pytest.raises(ValueError, match=r"Unknown initializer 'glorot_unifrom'. Did you mean "
                                         r"'glorot_uniform'"):
        layers.Dense(3, kernel_initializer="glorot_unifrom")


def test_unknown_regularizer_name():
    """kernel_regularizer='l22'."""
    with pytest.raises(ValueError, match=r"Unknown regularizer 'l22'. Did you mean 'l2'.*L2\("):
        layers.Dense(3, kernel_regularizer="l22")


# ---- optimizer hyperparameters ------------------------------------------------------------------
@pytest.mark.parametrize("name,kwargs,match", [
    ("Adam", {"learning_rate": -1e-3}, r"Adam: `learning_rate` must be a finite number >= 0, got -0\.001"),
    ("SGD", {"learning_rate": float("nan")}, r"SGD: `learning_rate`.*got nan.*1e-3"),
    ("Adam", {"epsilon": -1e-7}, r"Adam: `epsilon`.*got -1e-07.*keep Keras's 1e-7"),
    ("RMSprop", {"epsilon": float("nan")}, r"RMSprop: `epsilon`.*got nan"),
    ("Adagrad", {"epsilon": -1.0}, r"Adagrad: `epsilon`"),
    ("Adam", {"beta_1": 1.0}, r"Adam: `beta_1` must be in \[0, 1\), got 1\.0.*default is 0\.9"),
    ("AdamW", {"beta_2": 1.5}, r"AdamW: `beta_2` must be in \[0, 1\), got 1\.5.*0\.999"),
    ("Adam", {"beta_2": -0.1}, r"`beta_2` must be in \[0, 1\)"),
    ("Adam", {"beta_1": float("nan")}, r"`beta_1` must be in \[0, 1\), got nan"),
    ("RMSprop", {"rho": 1.0}, r"RMSprop: `rho` must be in \[0, 1\)"),
    ("RMSprop", {"momentum": -0.5}, r"RMSprop: `momentum`.*got -0\.5"),
])
def test_bad_optimizer_hyperparameters_are_refused_at_construction(name, kwargs, match):
    """Today's ZeroDivisionError at the first step, or silent divergence, becomes a clear error."""
    with pytest.raises(ValueError, match=match):
        getattr(tf.keras.optimizers, name)(**kwargs)


# ---- models that were never built -----------------------------------------------------------------
def test_unbuilt_model_has_no_weights_and_predict_builds_it():
    """Sequential without input_shape: no weights yet; predict builds from the data (as Keras)."""
    model = tf.keras.Sequential([layers.Dense(4, activation="relu"), layers.Dense(2)])
    assert model.weights == [] and not model.built
    assert model.predict(X).shape == (N, 2)
    assert model.built and [w.shape for w in model.weights] == [(5, 4), (4,), (4, 2), (2,)]


def test_summary_before_build_says_how_to_build(capsys):
    """summary() on a model whose input shape is still unknown."""
    tf.keras.Sequential([layers.Dense(4), layers.Dense(2)]).summary()
    out = capsys.readouterr().out
    assert "0 (unbuilt)" in out
    assert "not built yet" in out and "input_shape=" in out and "call it on data" in out


def test_save_weights_before_build(tmp_path):
    """save_weights on a model with no weights yet; save() of the architecture still works."""
    model = tf.keras.Sequential([layers.Dense(4), layers.Dense(2)])
    with pytest.raises(ValueError, match=r"no weights to save yet.*not been built.*"
                                         r"input_shape=.*model\.build"):
        model.save_weights(tmp_path / "w.safetensors")
    model.save(tmp_path / "m.keras")
    assert load_model(tmp_path / "m.keras").predict(X).shape == (N, 2)


def test_load_weights_into_an_unbuilt_model(tmp_path):
    """load_weights into a model that has not been built (so has no weights to fill)."""
    classifier().save_weights(tmp_path / "w.safetensors")
    model = tf.keras.Sequential([layers.Dense(8, activation="relu"), layers.Dense(3)])
    with pytest.raises(ModelFileError, match=r"holds 4 weight arrays but the model has 0.*not "
                                             r"been built.*input_shape="):
        model.load_weights(tmp_path / "w.safetensors")


# ---- compiling ----------------------------------------------------------------------------------
def test_fit_before_compile():
    """fit on a model that was never compiled."""
    with pytest.raises(RuntimeError, match=r"must call model\.compile.*before model\.fit\(\).*"
                                           r"model\.compile\('adam'"):
        classifier(loss=None).fit(X, Y)


def test_evaluate_before_compile():
    """evaluate on a model that was never compiled."""
    with pytest.raises(RuntimeError, match=r"before model\.evaluate\(\).*model\.compile\("):
        classifier(loss=None).evaluate(X, Y)


def test_compile_without_loss_then_fit():
    """compile('adam') with no loss is allowed (Keras 3: the loss may come from add_loss or
    train_step), but fit with no loss at all says what to pass."""
    model = classifier(loss=None)
    model.compile("adam")
    with pytest.raises(ValueError, match=r"No loss to minimise.*sparse_categorical_crossentropy"
                                         r".*mse"):
        model.fit(X, Y, verbose=0)


# ---- suspicious but legal: warnings -------------------------------------------------------------
def test_softmax_output_with_from_logits_true_warns():
    """A softmax output layer with from_logits=True (softmax applied twice)."""
    model = classifier(loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    with pytest.warns(UserWarning, match=r"from_logits=True, but y_pred looks like probabilities"
                                         r".*remove the softmax.*from_logits=False"):
        model.fit(X, Y, verbose=0)


def test_unscaled_uint8_images_warn():
    """uint8 pixels 0..255 passed without scaling."""
    x = rng.integers(0, 256, size=(16, 4, 4)).astype(np.uint8)
    model = tf.keras.Sequential([layers.Flatten(input_shape=(4, 4)),
                                 layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    with pytest.warns(UserWarning, match=r"uint8 values up to 25\d.*x / 255\.0"):
        model.fit(x, rng.integers(0, 2, 16), verbose=0)


# ---- set_weights ------------------------------------------------------------------------------
def test_set_weights_with_the_wrong_number_of_arrays():
    """set_weights with one array for a model that has four; nothing changes."""
    model = classifier()
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"has 4 weight arrays.*got 1.*get_weights\(\)"):
        model.set_weights([np.zeros((5, 8))])
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))


def test_set_weights_with_wrong_shapes_changes_nothing():
    """set_weights with a transposed kernel after a correct first array; nothing changes."""
    model = classifier()
    before = model.get_weights()
    bad = [np.ones((5, 8)), np.ones(8), np.ones((3, 8)), np.ones(3)]
    with pytest.raises(ValueError, match=r"has shape \(8, 3\), got an array of shape \(3, 8\)\. "
                                         r"Nothing was changed"):
        model.set_weights(bad)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))


# ---- files that are not unafraid models -------------------------------------------------------------
@pytest.mark.parametrize("content", [b"epoch,loss\n1,0.5\n", b""], ids=["text", "empty"])
def test_loading_a_file_that_is_not_a_model(tmp_path, content):
    """A text file (or an empty one) passed to load_model."""
    path = tmp_path / "results.csv"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=r"not an unafraid model file.*another format"):
        load_model(path)


def test_loading_a_directory(tmp_path):
    """A folder (e.g. a TensorFlow SavedModel) passed to load_model."""
    classifier().save(tmp_path / "model.keras")
    (tmp_path / "saved_model.pb").write_bytes(b"")
    with pytest.raises(ModelFileError, match=r"is a folder, not a model file.*SavedModel.*"
                                             r"model\.keras"):
        load_model(tmp_path)


def test_loading_a_missing_path(tmp_path):
    """A path with a typo: says where it looked and what is nearby."""
    classifier().save(tmp_path / "model.keras")
    with pytest.raises(FileNotFoundError, match=r"No model file at .*modle\.keras.*current "
                                                r"folder.*Similar names there: model\.keras"):
        load_model(tmp_path / "modle.keras")


def test_loading_a_keras_zip(tmp_path):
    """A .keras zip archive whose weights file is not HDF5 (Keras 3 files are read by keras_format)."""
    path = tmp_path / "keras_model.keras"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("config.json", json.dumps({"class_name": "Sequential"}))
        z.writestr("model.weights.h5", b"\x89HDF\r\n\x1a\n")
    with pytest.raises(ModelFileError, match=r"keras_model\.keras: model\.weights\.h5 is not a "
                                             r"readable HDF5 file"):
        load_model(path)


def test_loading_an_hdf5_file(tmp_path):
    """A Keras .h5 file."""
    path = tmp_path / "model.h5"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 64)
    with pytest.raises(ModelFileError, match=r"HDF5 file.*does not read HDF5.*set_weights"):
        load_model(path)


def test_loading_a_weights_only_file_as_a_model(tmp_path):
    """load_model on a file written by save_weights."""
    classifier().save_weights(tmp_path / "w.safetensors")
    with pytest.raises(ModelFileError, match=r"weights only.*load_weights"):
        load_model(tmp_path / "w.safetensors")


def test_loading_a_file_from_a_newer_unafraid(tmp_path):
    """A file whose format_version is newer than this unafraid understands."""
    from safetensors import safe_open
    from safetensors.numpy import load_file, save
    path = tmp_path / "m.safetensors"
    classifier().save(path)
    meta = dict(safe_open(str(path), "np").metadata())
    meta["format_version"] = str(FORMAT_VERSION + 1)
    path.write_bytes(save(load_file(str(path)), metadata=meta))
    with pytest.raises(ModelFileError, match=rf"newer unafraid \(file format version "
                                             rf"{FORMAT_VERSION + 1}.*pip install -U unafraid"):
        load_model(path)


def test_load_weights_into_a_different_architecture(tmp_path):
    """load_weights from a 5-8-3 model into a 5-16-3 model; nothing is loaded."""
    classifier().save_weights(tmp_path / "w.safetensors")
    other = tf.keras.Sequential([layers.Dense(16, input_shape=(5,)), layers.Dense(3)])
    before = other.get_weights()
    with pytest.raises(ModelFileError, match=r"has shape \(5, 8\).*has \(5, 16\).*Nothing was "
                                             r"loaded"):
        other.load_weights(tmp_path / "w.safetensors")
    assert all(np.array_equal(a, b) for a, b in zip(before, other.get_weights(), strict=True))


# ---- layers built wrongly -----------------------------------------------------------------------
@pytest.mark.parametrize("units, fix", [(0, r"number of outputs.*Dense\(10\)"),
                                        (-3, r"number of outputs"),
                                        (2.5, r"whole number, e\.g\. Dense\(2\)")])
def test_dense_with_invalid_units(units, fix):
    """Dense(0), Dense(-3), Dense(2.5)."""
    with pytest.raises(ValueError, match=rf"units must be a positive integer, got {units}.*{fix}"):
        layers.Dense(units)


@pytest.mark.parametrize("rate, fix", [(1.5, r"for 1\.5% use Dropout\(0\.015\)"),
                                       (50, r"not a percentage.*Dropout\(0\.5\)"),
                                       ("half", r"Dropout\(0\.5\)")])
def test_dropout_rate_outside_zero_one(rate, fix):
    """Dropout(rate=1.5), Dropout(50) meaning 50%, Dropout('half')."""
    with pytest.raises(ValueError, match=rf"must be in \[0, 1\), got .*{fix}"):
        layers.Dropout(rate)


def test_layer_built_by_hand_keeps_its_weights():
    """layer.build(shape), then set_weights, then a call: no silent rebuild with fresh weights;
    a call on the wrong features then names the layer and suggests Flatten."""
    dense = layers.Dense(4)
    dense.build((None, 784))
    dense.set_weights([np.ones((784, 4)), np.zeros(4)])
    np.testing.assert_array_equal(dense(np.ones((1, 784), np.float32)).numpy(), 784.0)
    assert len(dense.weights) == 2
    with pytest.raises(ValueError, match=r"Dense layer '.*' expected inputs with 784 features.*"
                                         r"\(2, 28, 28\).*Flatten\(\)"):
        dense(np.ones((2, 28, 28), np.float32))

def test_misspelt_layer_keyword():
    """Dense(3, activaton='relu'): a typo must not be silently ignored."""
    with pytest.raises(TypeError, match=r"unexpected keyword argument\(s\) \['activaton'\]\. "
                                        r"Check the spelling"):
        layers.Dense(3, activaton="relu")


def test_layer_class_instead_of_instance():
    """Sequential([Dense]): the class, not a layer."""
    with pytest.raises(TypeError, match=r"the class Dense itself, not a Dense layer.*Dense\(10\)"):
        tf.keras.Sequential([layers.Dense])


def test_functional_model_with_a_non_symbolic_input():
    """Model(inputs=array, outputs=...) instead of keras.Input."""
    out = layers.Dense(2)(tf.keras.Input(shape=(5,)))
    with pytest.raises(TypeError, match=r"needs symbolic tensors from unafraid\.keras\.Input.*got "
                                        r"ndarray"):
        tf.keras.Model(X, out)


# ---- gradients --------------------------------------------------------------------------------
def test_grad_of_a_non_scalar_function():
    """grad(f) where f returns a vector."""
    with pytest.raises(ValueError, match=r"scalar output; got shape \(3,\).*uf\.sum or uf\.mean"):
        tf.grad(lambda w: w * 2.0)(np.ones(3, np.float32))


def test_grad_with_respect_to_integer_data():
    """Differentiating with respect to an integer array: says which argument."""
    with pytest.raises(TypeError, match=r"argument 1: it holds int64 data.*astype\('float32'\)"
                                        r".*argnums="):
        tf.grad(lambda w, d: tf.sum(w * d), argnums=1)(np.ones(3, np.float32),
                                                        np.ones(3, np.int64))


def test_value_and_grad_of_a_function_returning_a_float():
    """A loss function returning a Python float (computed with NumPy) instead of a Tensor."""
    def loss(w):
        return float(np.sum(np.asarray(w) ** 2))

    with pytest.raises(TypeError, match=r"loss returned float, not a Tensor.*Use unafraid "
                                        r"functions"):
        tf.value_and_grad(loss)(np.ones(3, np.float32))


# ---- weighting and label helpers ---------------------------------------------------------------
def test_class_weight_missing_a_class():
    """class_weight without an entry for class 2."""
    with pytest.raises(ValueError, match=r"no weight for classes \[2\].*Give every class"):
        classifier().fit(X, Y, class_weight={0: 1.0, 1: 2.0}, verbose=0)


def test_sample_weight_of_the_wrong_length():
    """sample_weight with one entry too few."""
    with pytest.raises(ValueError, match=r"sample_weight has 39 rows.*Check that x, y, "
                                         r"sample_weight come from the same examples"):
        classifier().fit(X, Y, sample_weight=np.ones(N - 1), verbose=0)


@pytest.mark.parametrize("labels, error, message", [
    ([0.5, 1.0], ValueError, r"non-integer value 0\.5.*return_inverse=True"),
    (["cat", "dog"], TypeError, r"dtype <U3.*return_inverse=True"),
    ([-1, 1], ValueError, r"from -1 to 1.*re-number the negative labels"),
])
def test_to_categorical_with_non_integer_labels(labels, error, message):
    """to_categorical on floats, strings or negative numbers."""
    with pytest.raises(error, match=message):
        tf.keras.utils.to_categorical(labels)


# ---- faults during training ---------------------------------------------------------------------
def test_diverging_training_stops_at_the_nan_step_and_keeps_finite_weights():
    """A learning rate so high that the loss overflows: stop, warn where and why, stay finite."""
    x = rng.normal(size=(64, 4)).astype(np.float32) * 10
    y = x @ np.ones((4, 1), np.float32)
    model = tf.keras.Sequential([layers.Dense(1, input_shape=(4,))])
    model.compile(tf.keras.optimizers.SGD(0.5), "mse")
    done = []
    spy = tf.keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: done.append(batch))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(x, y, epochs=5, batch_size=8, shuffle=False, verbose=0,
                            callbacks=[spy])
    [message] = [str(w.message) for w in caught if "Training stopped" in str(w.message)]
    steps_per_epoch = 8
    epoch, batch = divmod(len(done) - 1, steps_per_epoch)  # callbacks see the bad step too, last
    assert f"at epoch {epoch + 1}, batch {batch + 1}." in message
    assert "learning rate too high" in message and "x / 255.0" in message
    assert history.epoch == list(range(epoch))  # only completed epochs are recorded
    assert all(np.isfinite(w).all() for w in model.get_weights())
    assert np.isfinite(model.predict(x)).all()



def test_a_nan_loss_step_changes_no_weight():
    """A NaN loss (with NaN gradients): its update is skipped, so the weights are the last good ones."""
    calls = []

    def poisoned_mse(y_true, y_pred):  # NaN loss (and NaN gradients) on the 11th step
        calls.append(1)
        factor = np.float32(np.nan if len(calls) == 11 else 1.0)
        return tf.mean((y_pred - y_true) ** 2, axis=-1) * factor

    model = regressor()
    model.compile("sgd", poisoned_mse)
    at_epoch_start = {}
    spy = tf.keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: at_epoch_start.update({epoch: model.get_weights()}))
    with pytest.warns(RuntimeWarning, match=r"epoch 2, batch 1\..*learning rate"):
        history = model.fit(X, X[:, :1], epochs=3, batch_size=4, shuffle=False, verbose=0,
                            callbacks=[spy])
    assert history.epoch == [0]
    for a, b in zip(model.get_weights(), at_epoch_start[1], strict=True):
        np.testing.assert_array_equal(a, b)


INTERRUPTED = textwrap.dedent("""
    import json, os, signal
    import numpy as np
    import unafraid as tf

    # As at a terminal: a child of a background job (e.g. CI run with '&') inherits SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)

    class Tripwire(tf.keras.layers.Layer):  # presses Ctrl-C in the middle of step 29 (forward pass)
        calls = 0
        def call(self, x, training=False):
            if training:
                Tripwire.calls += 1
                if Tripwire.calls == 3 * 8 + 5:  # epoch 4, batch 5 of 8
                    os.kill(os.getpid(), signal.SIGINT)
            return x

    class Recorder(tf.keras.callbacks.Callback):  # the weights after every completed step
        steps = 0
        def on_train_batch_end(self, batch, logs=None):
            Recorder.steps += 1
            self.last = self.model.get_weights()

    r = np.random.default_rng(0)
    x = r.normal(size=(256, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(int)
    model = tf.keras.Sequential([tf.keras.layers.Dense(8, activation="relu", input_shape=(4,)),
                                 Tripwire(), tf.keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    rec = Recorder()
    history = model.fit(x, y, epochs=10, batch_size=32, verbose=0, callbacks=[rec])
    after = model.get_weights()
    print(json.dumps({
        "steps": Recorder.steps, "epochs": history.epoch, "losses": len(history.history["loss"]),
        "finite": all(bool(np.isfinite(w).all()) for w in after),
        "kept_last_step": all(np.array_equal(a, b) for a, b in zip(rec.last, after)),
        "handler_restored": signal.getsignal(signal.SIGINT) is signal.default_int_handler}))
""")


def test_ctrl_c_during_fit_keeps_the_last_step_and_says_how_to_resume(tmp_path):
    """Ctrl-C (a real SIGINT) in the middle of a step: the step finishes, the model keeps its
    weights, History holds the completed epochs, a resume hint is printed, the process goes on."""
    script = tmp_path / "interrupted.py"
    script.write_text(INTERRUPTED)
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.returncode == 0, proc.stderr  # the process exits normally, no traceback
    assert "Traceback" not in proc.stderr
    lines = proc.stdout.strip().splitlines()
    result = json.loads(lines[-1])
    assert result == {"steps": 29, "epochs": [0, 1, 2], "losses": 3, "finite": True,
                      "kept_last_step": True, "handler_restored": True}  # step 29 was finished
    said = "\n".join(lines[:-1])
    assert "interrupted during epoch 4, after batch 5/8" in said
    assert "model.fit(x, y, epochs=10, initial_epoch=3)" in said


def test_fit_leaves_an_ignored_sigint_ignored():
    """A process that ignores SIGINT on purpose (a background job) keeps ignoring it during fit."""
    seen = []

    class Probe(tf.keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(signal.getsignal(signal.SIGINT))

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        model = tf.keras.Sequential([layers.Dense(2, activation="softmax", input_shape=(3,))])
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(np.ones((8, 3), np.float32), np.zeros(8, int), batch_size=4, verbose=0,
                  callbacks=[Probe()])
        assert seen == [signal.SIG_IGN, signal.SIG_IGN]
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_numpy_global_random_state_is_neither_used_nor_changed():
    """Seeding NumPy's global generator (a common habit) changes nothing, and training leaves it
    untouched: all randomness comes from unafraid's own seeded generators."""
    def train(global_seed):
        np.random.seed(global_seed)
        state = np.random.get_state()[1].copy()
        tf.set_random_seed(7)
        model = tf.keras.Sequential([layers.Dense(8, activation="relu", input_shape=(5,)),
                                     layers.Dropout(0.5), layers.Dense(3, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(X, Y, epochs=2, batch_size=8, validation_split=0.25, verbose=0)
        assert np.array_equal(np.random.get_state()[1], state)
        return model.get_weights()

    for a, b in zip(train(1), train(2), strict=True):
        np.testing.assert_array_equal(a, b)


# ---- saving keeps the file system as it was ------------------------------------------------------
def saved_small_model():
    model = tf.keras.Sequential([layers.Dense(2, input_shape=(3,))])
    return model


def test_saving_to_a_symlink_writes_through_to_its_target(tmp_path):
    """model.save on a symlink: the link stays a link, its target gets the new model."""
    (tmp_path / "runs").mkdir()
    target = tmp_path / "runs" / "model-v1.keras"
    target.write_bytes(b"old")
    link = tmp_path / "latest.keras"
    link.symlink_to(target)
    model = saved_small_model()
    model.save(link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    np.testing.assert_array_equal(load_model(target).get_weights()[0], model.get_weights()[0])
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["model-v1.keras"]


def test_saving_over_a_file_keeps_its_permission_bits(tmp_path):
    """A replaced file keeps its mode (0644 stays 0644, 0640 stays 0640), not mkstemp's 0600."""
    for mode in (0o644, 0o640, 0o664):
        path = tmp_path / f"m{mode:o}.keras"
        path.write_bytes(b"old")
        os.chmod(path, mode)
        saved_small_model().save(path)
        assert path.stat().st_mode & 0o7777 == mode


def test_a_new_file_gets_the_umask_default(tmp_path):
    """A new model file (and report) is created as open(path, 'w') would: 0666 minus the umask."""
    from unafraid.explore import write_report
    old = os.umask(0o027)
    try:
        saved_small_model().save(tmp_path / "new.keras")
        write_report(tmp_path / "r.html", "t", [("text", "hello")])
    finally:
        os.umask(old)
    assert (tmp_path / "new.keras").stat().st_mode & 0o7777 == 0o640
    assert (tmp_path / "r.html").stat().st_mode & 0o7777 == 0o640


def test_a_250_byte_file_name_saves(tmp_path):
    """The temporary's name is short and fixed, so the longest usual file names still work."""
    path = tmp_path / ("m" * 244 + ".keras")
    assert len(path.name.encode()) == 250
    model = saved_small_model()
    model.save(path)
    model.save_weights(tmp_path / ("w" * 242 + ".weights"))
    np.testing.assert_array_equal(load_model(path).get_weights()[0], model.get_weights()[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([path.name, "w" * 242 + ".weights"])


@pytest.mark.parametrize("how", ["save", "save_weights", "report"])
def test_saving_to_a_directory_or_an_empty_path(tmp_path, how):
    """A folder or '' as the path: refused before writing, with the problem and a file name."""
    from unafraid.explore import write_report
    model = saved_small_model()
    write = {"save": model.save, "save_weights": model.save_weights,
             "report": lambda p: write_report(p, "t", [])}[how]
    with pytest.raises(IsADirectoryError, match=r"is a folder, not a file.*e\.g\. .*model\.keras"):
        write(tmp_path)
    with pytest.raises(ValueError, match=r"file path is empty.*such as 'model\.keras'"):
        write("")
    assert list(tmp_path.iterdir()) == []


KILLED_SAVER = textwrap.dedent("""
    import os, sys
    from unafraid.atomic import atomic_open
    with atomic_open(sys.argv[1]) as f:
        f.write(b"x" * 1000)
        os.kill(os.getpid(), 9)
""")


def test_temporaries_of_a_killed_save_are_removed_by_the_next_save(tmp_path):
    """A save killed mid-write leaves a temporary; the next save in that folder removes it,
    and removes nothing else (users' hidden files, fresh temporaries of live processes)."""
    from unafraid.atomic import new_temporary
    target = tmp_path / "m.keras"
    repo = str(__import__("pathlib").Path(__file__).resolve().parents[1])
    proc = subprocess.run([sys.executable, "-c", KILLED_SAVER, str(target)],
                          env={**os.environ, "PYTHONPATH": repo})  # the unafraid under test
    assert proc.returncode == -9
    left = [p.name for p in tmp_path.iterdir()]
    assert len(left) == 1 and left[0].startswith(".unafraid-") and left[0].endswith(".tmp")
    fd, live = new_temporary(tmp_path)  # this process is alive: its temporary stays
    os.close(fd)
    users = [".m.keras.swp", ".unafraid-notes.tmp", ".model.keras.backup.tmp", "m.keras.part"]
    for name in users:
        (tmp_path / name).write_bytes(b"mine")
        os.utime(tmp_path / name, (0, 0))  # even very old
    saved_small_model().save(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*users, live.name, "m.keras"])


def test_old_style_temporaries_are_removed_only_when_old_and_beside_their_file(tmp_path):
    """Temporaries of older versions ('.m.keras.abcd1234.tmp') carry no process id: they go
    when over an hour old and the file they were written for is there; nothing else goes."""
    (tmp_path / "m.keras").write_bytes(b"")
    old, fresh, orphan = ".m.keras.ab12cd_3.tmp", ".m.keras.zz99yy88.tmp", ".x.keras.ab12cd34.tmp"
    for name in (old, fresh, orphan):
        (tmp_path / name).write_bytes(b"part")
    os.utime(tmp_path / old, (0, 0))
    os.utime(tmp_path / orphan, (0, 0))
    saved_small_model().save(tmp_path / "m.keras")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([fresh, orphan, "m.keras"])


# ---- layer settings that make no sense ---------------------------------------------------------
@pytest.mark.parametrize("make, message", [
    (lambda: layers.BatchNormalization(epsilon=-1), r"BatchNormalization: epsilon must be a finite "
                                                    r"number > 0, got -1\. .*such as 1e-3"),
    (lambda: layers.BatchNormalization(momentum=float("nan")), r"momentum must be a finite number "
                                                               r"in \[0, 1\], got nan.*0\.99"),
    (lambda: layers.BatchNormalization(momentum=99), r"momentum .* in \[0, 1\], got 99"),
    (lambda: layers.LayerNormalization(epsilon=float("inf")), r"LayerNormalization: epsilon .*inf"),
    (lambda: layers.BatchNormalization(axis="channels"), r"axis must be an integer.*-1.*'channels'"),
    (lambda: tf.keras.regularizers.L2(float("nan")), r"L2: l2 must be a finite number >= 0.*0\.01"),
    (lambda: tf.keras.regularizers.L1(-1), r"L1: l1 must be .* >= 0, got -1"),
])
def test_nonsensical_layer_settings_are_refused_at_construction(make, message):
    """epsilon=-1 or momentum=NaN would give NaN outputs at the first step; refused at once."""
    with pytest.raises(ValueError, match=message):
        make()


# ---- arguments that cannot work: the fix is in the message ----------------------------------------
def test_sequential_given_a_single_layer_not_a_list():
    """Sequential(Dense(3)): Keras wants a list; the message shows the list and model.add."""
    with pytest.raises(TypeError, match=r"list of layers, got a single Dense layer.*"
                                        r"Sequential\(\[Dense\(\.\.\.\)\]\).*model\.add"):
        tf.keras.Sequential(layers.Dense(3))
    with pytest.raises(TypeError, match=r"list of layers, got str.*Sequential\(\[Dense"):
        tf.keras.Sequential("dense")


@pytest.mark.parametrize("n, split", [(1, 0.5), (1, 0.2), (3, 0.9)])
def test_validation_split_that_leaves_no_training_rows(n, split):
    """Through fit (n=1, split=0.5 trained on nothing before) and the helper fit calls."""
    from unafraid.models.data import check_validation_split
    with pytest.raises(ValueError, match=rf"validation_split={split} of {n} examples? holds out "
                                         r"\d+, which leaves no examples to train on.*smaller "
                                         r"validation_split.*validation_data="):
        check_validation_split(n, split)
    with pytest.raises(ValueError, match=r"leaves no examples to train on"):
        regressor().fit(X[:n], X[:n, 0], validation_split=split, verbose=0)
    assert check_validation_split(10, 0.2) == 2 and check_validation_split(2, 0.5) == 1


def test_validation_split_that_leaves_no_training_rows_with_class_labels():
    """The stratified split (class labels): a class per example still keeps a training row."""
    with pytest.raises(ValueError, match=r"leaves no examples to train on"):
        classifier().fit(X[:2], np.array([0, 1]), validation_split=0.9, verbose=0)


@pytest.mark.parametrize("loss", ["mse", "mean_absolute_error", tf.keras.losses.MeanSquaredError(),
                                  "huber"])
def test_class_weight_with_a_regression_loss(loss):
    """class_weight has no classes to weight under a regression loss (the helper fit calls)."""
    from unafraid.models.data import check_class_weight
    with pytest.raises(ValueError, match=r"class_weight weights examples by their class.*regression "
                                         r"loss.*sample_weight=.*sparse_categorical_crossentropy"):
        check_class_weight({0: 1.0, 1: 3.0}, loss)
    check_class_weight(None, loss)
    check_class_weight({0: 1.0, 1: 3.0}, "sparse_categorical_crossentropy")
    check_class_weight({0: 1.0, 1: 3.0}, tf.keras.losses.BinaryCrossentropy())


@pytest.mark.parametrize("where", ["x", "y"])
def test_float64_values_that_overflow_float32(where):
    """1e300 is finite in float64 and passed the finiteness check, then became inf in float32."""
    x, y = X.astype(np.float64), X[:, 0].astype(np.float64)
    (x if where == "x" else y)[3, ...] = 1e300
    with pytest.raises(ValueError, match=rf"{where} holds \d+ values too large for float32.*index "
                                         r"\(3.*1e\+300.*Rescale"):
        regressor().fit(x, y, verbose=0)


def test_dataframe_with_bool_and_nullable_integer_columns():
    """bool and nullable Int64 columns: bool trains as 0 / 1, an Int64 column without missing
    values as integers; with pd.NA the column is named, with the count and the fix."""
    df = pd.DataFrame({"dose": X[:, 0], "treated": X[:, 1] > 0,
                       "age": pd.array(np.arange(N) % 7, dtype="Int64"),
                       "flag": pd.array(X[:, 2] > 0, dtype="boolean"), "z": X[:, 3]})
    model = tf.keras.Sequential([layers.Dense(1, input_shape=(5,))])
    model.compile("sgd", "mse")
    model.fit(df, X[:, 4], verbose=0)
    expected = np.column_stack([X[:, 0], X[:, 1] > 0, np.arange(N) % 7, X[:, 2] > 0, X[:, 3]])
    np.testing.assert_allclose(model.predict(df, verbose=0),
                               model.predict(expected.astype(np.float32), verbose=0),
                               rtol=1e-5)  # the same values; the memory layouts may differ
    df.loc[[2, 5], "age"] = pd.NA
    with pytest.raises(ValueError, match=r"column 'age' \(Int64\) has 2 missing values \(pd\.NA\).*"
                                         r"fillna.*dropna"):
        model.fit(df, X[:, 4], verbose=0)
    with pytest.raises(ValueError, match=r"y \(a Series\) \(Int64\) has 2 missing values"):
        model.fit(X, df["age"], verbose=0)


@pytest.mark.parametrize("name", ["crossentropy", "cross_entropy", "CrossEntropy"])
def test_ambiguous_loss_name_crossentropy(name):
    """loss='crossentropy': both categorical losses, and how to choose between them."""
    from unafraid.models.data import check_loss_name
    with pytest.raises(ValueError, match=r"ambiguous.*'sparse_categorical_crossentropy' when y holds "
                                         r"class numbers.*'categorical_crossentropy' when y is "
                                         r"one-hot.*binary_crossentropy"):
        check_loss_name(name)
    check_loss_name("categorical_crossentropy")
    check_loss_name(tf.keras.losses.CategoricalCrossentropy())


def test_x_and_y_swapped():
    """fit(y, x): x lacks the model's example shape and y has it (the helper fit calls)."""
    from unafraid.models.data import check_swapped
    with pytest.raises(ValueError, match=r"x and y look swapped.*expects examples of shape \(5,\).*"
                                         r"model\.fit\(x_features, y_labels\)"):
        check_swapped(Y, X, (5,))
    check_swapped(X, Y, (5,))
    check_swapped(X, ONE_HOT, (None,))  # x fits: not swapped
    check_swapped(Y, X, None)  # an unbuilt model: nothing to compare with


def test_one_unbatched_example_passed_to_predict():
    """predict(x[0]) instead of predict(x[:1]): the message says x[None] and its shape."""
    from unafraid.models.data import unbatched_hint
    model = tf.keras.Sequential([layers.Flatten(input_shape=(4, 4)), layers.Dense(2)])
    with pytest.raises(ValueError, match=r"but x has shape \(4, 4\)\. x looks like one example "
                                         r"without the batch axis: pass x\[None\] \(shape "
                                         r"\(1, 4, 4\)\)"):
        model.predict(np.ones((4, 4), np.float32), verbose=0)
    assert unbatched_hint((5,), (5,)).startswith(" x looks like one example")
    assert unbatched_hint((3, 5), (5,)) == ""


@pytest.mark.parametrize("args, message", [
    (["--epochs", "-1"], r"argument --epochs: -1 is not positive"),
    (["--epochs", "two"], r"argument --epochs: 'two' is not a whole number"),
    (["--batch-size", "0"], r"argument --batch-size: 0 is not positive"),
    (["--hidden", "1.5"], r"argument --hidden: '1.5' is not a whole number"),
    (["--seed", "-3"], r"argument --seed: -3 is negative"),
    (["--dataset", "cifar"], r"argument --dataset: invalid choice: 'cifar'"),
    (["--data-dir", "no/such/folder"], r"argument --data-dir: no/such/folder is not a folder"),
    (["--out", "FILE/sub"], r"argument --out: .*FILE is a file, so .*cannot be created"),
])
def test_bad_cli_flags_fail_before_any_data_loads(tmp_path, monkeypatch, capsys, args, message):
    """An argparse error (exit code 2, no traceback) before anything is loaded or trained."""
    from unafraid import cli
    from unafraid.datasets import mnist
    monkeypatch.chdir(tmp_path)
    (tmp_path / "FILE").write_text("")

    def no_load(*a, **k):
        raise AssertionError("data was loaded")
    monkeypatch.setattr(mnist, "load_data", no_load)
    with pytest.raises(SystemExit) as info:
        cli.main(["mnist", *args])
    err = capsys.readouterr().err
    assert info.value.code == 2 and "Traceback" not in err
    assert __import__("re").search(message, err), err


def test_bad_cli_flag_in_a_real_process_prints_no_traceback():
    out = subprocess.run([sys.executable, "-m", "unafraid", "mnist", "--epochs", "0"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "argument --epochs: 0 is not positive; give a number >= 1" in out.stderr


def test_doctor_with_unafraid_data_set(tmp_path, monkeypatch, capsys):
    """With UNAFRAID_DATA set, doctor says what it holds instead of advising to set it."""
    from unafraid import cli
    from unafraid.datasets import mnist
    monkeypatch.setenv("UNAFRAID_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("UNAFRAID_DATA", str(tmp_path / "missing"))
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert f"UNAFRAID_DATA={tmp_path / 'missing'} is not a folder, so loading MNIST fails" in out
    assert "offline: set UNAFRAID_DATA" not in out
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setenv("UNAFRAID_DATA", str(folder))
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert f"not in UNAFRAID_DATA={folder} (it does not hold MNIST), so the cache is used" in out
    rng_ = np.random.default_rng(1)
    images, labels = rng_.integers(0, 256, (3, 28, 28), np.uint8), np.arange(3, dtype=np.uint8)
    idx = {"t10k-labels-idx1-ubyte": bytes([0, 0, 8, 1]) + (3).to_bytes(4, "big") + labels.tobytes(),
           "t10k-images-idx3-ubyte": bytes([0, 0, 8, 3]) + b"".join(
               d.to_bytes(4, "big") for d in (3, 28, 28)) + images.tobytes()}
    for name in mnist.SHA256:
        (folder / name).write_bytes(idx[name.replace("train", "t10k")])
    hashes = {name: __import__("hashlib").sha256((folder / name).read_bytes()).hexdigest()
              for name in mnist.SHA256}
    monkeypatch.setattr(mnist, "SHA256", hashes)
    assert cli.main(["doctor"]) == 0
    assert f"Data: mnist          found and verified in UNAFRAID_DATA={folder}" in \
        capsys.readouterr().out


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_loading_a_fifo_or_a_directory(tmp_path, kind):
    """A FIFO would block a reader forever; a folder is not a file: both refused at once."""
    path = tmp_path / "model.keras"
    if kind == "fifo":
        os.mkfifo(path)
        match = r"is a FIFO \(named pipe\), not a model file.*model\.save\(path\)"
    else:
        path.mkdir()
        match = r"is a folder, not a model file.*model\.save\(path\)"
    with pytest.raises(ModelFileError, match=match):
        load_model(path)
    with pytest.raises(ModelFileError, match=match):
        classifier().load_weights(path)


def test_a_write_that_fails_midway_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    """An exception inside the atomic writer (a full disk, a bug while serializing): the target
    keeps its old bytes and mode, and the temporary is gone."""
    from unafraid.atomic import atomic_open
    path = tmp_path / "results.csv"
    path.write_text("old\n")
    os.chmod(path, 0o640)
    with pytest.raises(OSError, match="disk full"):
        with atomic_open(path, "w") as f:
            f.write("new, half")
            raise OSError("disk full")
    assert path.read_text() == "old\n" and path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["results.csv"]


def test_atomic_path_replaces_the_file_only_when_the_writer_finishes(tmp_path):
    """The file-name form of the atomic writer (for AnnData.write_h5ad, h5py): the writer gets a
    temporary's path in the same folder; a clean exit renames it over the target (mode kept), an
    exception midway or a writer that leaves no file keeps the old bytes, and nothing is left."""
    from unafraid.atomic import TEMP_PATTERN, atomic_path
    path = tmp_path / "cells.h5ad"
    path.write_bytes(b"old")
    os.chmod(path, 0o640)
    with pytest.raises(OSError, match="disk full"):
        with atomic_path(path) as tmp:
            assert tmp.parent == tmp_path and TEMP_PATTERN.match(tmp.name)
            tmp.write_bytes(b"new, hal")
            raise OSError("disk full")
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["cells.h5ad"]
    with pytest.raises(FileNotFoundError, match="left no file at the temporary"):
        with atomic_path(path) as tmp:
            tmp.unlink()
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["cells.h5ad"]
    with atomic_path(path) as tmp:
        tmp.write_bytes(b"new")  # (a writer may also replace the file: h5py's mode "w")
    assert path.read_bytes() == b"new" and path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["cells.h5ad"]


def test_atomic_path_takes_an_anndata_file(tmp_path):
    anndata = pytest.importorskip("anndata")
    from unafraid.atomic import atomic_path
    a = anndata.AnnData(X=np.arange(6, dtype=np.float32).reshape(2, 3))
    with atomic_path(tmp_path / "a.h5ad") as tmp:
        a.write_h5ad(tmp)
    np.testing.assert_array_equal(anndata.read_h5ad(tmp_path / "a.h5ad").X, a.X)
    assert [p.name for p in tmp_path.iterdir()] == ["a.h5ad"]


#: Lines of unafraid that write a file without the atomic writer, and why that is right.
DIRECT_WRITES = {
    # a CSV log grows line by line during training (append mode): no whole file to replace
    ("callbacks.py", 'self.file = open(self.filename, "a" if self.append else "w", newline="")'
                     '  # noqa: SIM115'),
    # pickling an estimator: the model's bytes pass through a private temporary folder
    ("sklearn.py", 'with open(path, "wb") as f:'),
}


def test_every_file_unafraid_writes_goes_through_the_atomic_writer():
    """The project's rule "writes are atomic; one atomic writer": no module writes a file with
    write_text / write_bytes, savefig to a path, open(..., "w"), mkstemp or os.replace, except
    unafraid/atomic.py itself and the listed exceptions (figures saved into an in-memory buffer
    are fine)."""
    import re
    from pathlib import Path

    import unafraid
    root = Path(unafraid.__file__).parent
    pattern = re.compile(r"\.write_text\(|\.write_bytes\(|\.savefig\(|\bopen\([^)]*[\"'][wax]b?\+?[\"']"
                         r"|mkstemp\(|os\.replace\(")
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel == "atomic.py":
            continue
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            code = line.split("#", 1)[0] if "noqa" not in line else line
            if not pattern.search(code) or (rel, line.strip()) in DIRECT_WRITES:
                continue
            call = " ".join(s.strip() for s in lines[i:i + 2])
            if re.search(r"savefig\(\s*(buf|image)\b", call):  # into an in-memory buffer
                continue
            found.append(f"{rel}:{i + 1}: {line.strip()}")
    assert not found, ("write these through unafraid.atomic (atomic_open, atomic_path, "
                       "atomic_savefig, atomic_write_text/bytes):\n" + "\n".join(found))


def test_atomic_savefig_writes_the_format_of_the_name_and_keeps_the_old_file_on_failure(tmp_path):
    """Figures go through the atomic writer: the extension picks the format as in savefig (a name
    without one gets '.png'), and a failed save (an unknown format) leaves the old file."""
    matplotlib = pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    from unafraid.atomic import atomic_savefig
    fig = Figure(figsize=(1, 1))
    fig.add_subplot().plot([0, 1])
    assert atomic_savefig(fig, tmp_path / "a.png", dpi=20) == tmp_path / "a.png"
    assert (tmp_path / "a.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    atomic_savefig(fig, tmp_path / "b.svg")
    assert b"<svg" in (tmp_path / "b.svg").read_bytes()[:400]
    assert matplotlib.rcParams["savefig.format"] == "png"
    assert atomic_savefig(fig, tmp_path / "c", dpi=20) == tmp_path / "c.png"
    (tmp_path / "d.nope").write_bytes(b"old")
    with pytest.raises(ValueError, match="nope"):
        atomic_savefig(fig, tmp_path / "d.nope")
    assert (tmp_path / "d.nope").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "b.svg", "c.png", "d.nope"]


# ---- the argument checks fit and compile call (helpers in models/data.py) ---------------------
def test_compile_refuses_the_ambiguous_crossentropy():
    with pytest.raises(ValueError, match="ambiguous.*sparse_categorical_crossentropy.*"
                                         "categorical_crossentropy"):
        classifier(loss=None).compile("adam", "crossentropy")


def test_fit_refuses_class_weight_with_a_regression_loss():
    model = regressor()
    model.compile("adam", "mse")
    with pytest.raises(ValueError, match="class_weight.*regression loss.*sample_weight"):
        model.fit(X, X[:, :1], class_weight={0: 1.0, 1: 2.0}, verbose=0)


def test_fit_refuses_swapped_x_and_y():
    model = classifier()
    with pytest.raises(ValueError, match="x and y look swapped"):
        model.fit(Y.astype(np.float32), X, verbose=0)


def test_one_unbatched_example_to_a_functional_model_suggests_x_none():
    inputs = tf.keras.Input((5,))
    model = tf.keras.Model(inputs, layers.Dense(2)(inputs))
    with pytest.raises(ValueError, match=r"x\[None\]"):
        model.predict(X[0])


@pytest.mark.parametrize("make, setting", [
    (lambda: tf.initializers.RandomNormal(stddev=-1), "stddev"),
    (lambda: tf.initializers.TruncatedNormal(stddev=float("nan")), "stddev"),
    (lambda: tf.initializers.RandomNormal(mean=float("inf")), "mean"),
    (lambda: tf.initializers.RandomUniform(minval=0.1, maxval=-0.1), "minval"),
    (lambda: tf.initializers.VarianceScaling(scale=-2.0), "scale"),
    (lambda: tf.initializers.Constant(float("nan")), "value"),
    (lambda: tf.initializers.GlorotUniform(seed=-1), "seed"),
])
def test_nonsensical_initializer_settings_are_refused_at_construction(make, setting):
    """stddev=-1 drew weights silently (a negative scale of the same draws)."""
    with pytest.raises(ValueError, match=rf"initializers\.\w+: .*{setting}.* must be"):
        make()
