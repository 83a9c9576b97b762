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
    with pytest.raises(ValueError, match=r"\(40, 2\) but y_pred has shape \(40, 1\).*must match"):
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


def test_compile_without_loss():
    """compile('adam') with no loss."""
    with pytest.raises(ValueError, match=r"compile needs a loss.*sparse_categorical_crossentropy"
                                         r".*mse"):
        classifier(loss=None).compile("adam")


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
    epoch, batch = divmod(len(done), steps_per_epoch)  # the completed steps before the bad one
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
