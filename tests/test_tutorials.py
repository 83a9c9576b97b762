"""The converter of the official TensorFlow / Keras tutorials of issue 16 (imports changed only).

The tutorials themselves are not in this repository (their code is read from checkouts named by
``$UNAFRAID_TUTORIAL_SOURCES``), so running them is a script run by hand, like a benchmark:
``python -m tests.tutorials.run`` (docs/from_tensorflow.md records its results). The tests here
check the converter on a small notebook written for the purpose, and the runner's metric patterns.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.tutorials.convert import apply_edits, change_imports, notebook_code
from tests.tutorials.manifest import TUTORIALS
from tests.tutorials.run import EXPECTED_TO_FAIL


def test_imports_are_changed_and_marked():
    code = change_imports("import tensorflow as tf\nfrom tensorflow import keras\n"
                          "from tensorflow.keras import layers\nimport keras\nx = 1\n")
    lines = code.splitlines()
    assert lines[0] == "import unafraid as tf  # unafraid: import changed"
    assert lines[1] == "from unafraid import keras  # unafraid: import changed"
    assert lines[2] == "from unafraid.keras import layers  # unafraid: import changed"
    assert lines[3] == "from unafraid import keras  # unafraid: import changed"
    assert lines[4] == "x = 1"


def test_notebook_code_drops_shell_lines_and_markdown():
    nb = {"cells": [{"cell_type": "markdown", "source": ["# Title"]},
                    {"cell_type": "code", "source": ["!pip install tf-nightly\n", "%matplotlib inline\n",
                                                     "x = 2\n"]},
                    {"cell_type": "code", "source": ["print(x)"]}]}
    assert notebook_code(json.dumps(nb)) == "x = 2\n\nprint(x)\n"


def test_an_edit_must_match_exactly_once():
    assert apply_edits("a = 1\n", [("a = 1", "a = 2", "why")], "t") == "a = 2  # unafraid: why\n"
    with pytest.raises(ValueError, match="matched 0 times"):
        apply_edits("a = 1\n", [("b = 1", "b = 2", "why")], "t")
    with pytest.raises(ValueError, match="matched 2 times"):
        apply_edits("a = 1\na = 1\n", [("a = 1", "a = 2", "why")], "t")


def test_an_every_edit_replaces_each_occurrence_and_must_match():
    from tests.tutorials.convert import EVERY
    edit = [("a = 1", "a = 2", "why", EVERY)]
    assert apply_edits("a = 1\nb\na = 1\n", edit, "t") == (
        "a = 2  # unafraid: why\nb\na = 2  # unafraid: why\n")
    assert apply_edits("a = 1\n", edit, "t") == "a = 2  # unafraid: why\n"
    with pytest.raises(ValueError, match="matched 0 times, expected at least once"):
        apply_edits("b = 1\n", edit, "t")


def test_the_training_loop_guide_converts_with_its_shrink_line_once_or_twice(tmp_path):
    """The stored keras-io copy of the guide holds the dataset line twice; its commit, once."""
    from tests.tutorials.convert import convert
    entry = next(t for t in TUTORIALS if t["name"] == "training_loop_from_scratch")
    line = "train_dataset = train_dataset.shuffle(buffer_size=1024).batch(batch_size)\n"
    loop = "    for step in range(3):\n        if step > 10:\n            break\n"
    for copies in (1, 2):
        root = tmp_path / str(copies)
        path = root / entry["repo"] / entry["path"]
        path.parent.mkdir(parents=True)
        path.write_text("import tensorflow as tf\n" + line * copies + loop, encoding="utf-8")
        code = convert(entry, root, shrink=True)
        assert code.count(".batch(batch_size).take(30)") == copies
        assert "if step > 1:" in code


def test_the_manifest_names_twenty_tutorials():
    assert len(TUTORIALS) == 20
    assert len({t["name"] for t in TUTORIALS}) == 20
    assert set(EXPECTED_TO_FAIL) <= {t["name"] for t in TUTORIALS}


def test_the_metric_checks_read_the_tutorials_output():
    found = {t["name"]: re.findall(t["metric"][0], SAMPLE_OUTPUT[t["name"]])
             for t in TUTORIALS if "metric" in t}
    assert {name: values[-1] for name, values in found.items()} == {
        "quickstart_beginner": "0.8979", "quickstart_advanced": "83.80",
        "custom_training_walkthrough": "56.667", "basic_classification": "0.8956",
        "load_numpy": "0.8475", "antirectifier": "0.9559", "training_loop_from_scratch": "0.6706",
        "training_with_built_in_methods": "0.747", "functional_api": "0.8235"}


def test_the_loss_checks_read_the_tutorials_output():
    found = {t["name"]: re.findall(t["loss"][0], SAMPLE_OUTPUT[t["name"]]) for t in TUTORIALS if "loss" in t}
    assert {name: values[-1] for name, values in found.items()} == {
        "quickstart_beginner": "0.3761", "quickstart_advanced": "0.50",
        "custom_training_walkthrough": "0.954",
        "basic_classification": "0.3647", "load_numpy": "4.4136", "functional_api": "0.7371614576339721",
        "antirectifier": "0.1514"}


SAMPLE_OUTPUT = {  # the closing lines of the shrunk runs recorded in docs/from_tensorflow.md
    "quickstart_beginner": "loss: 0.3761 - accuracy: 0.8979\n",
    "quickstart_advanced": "Epoch 1, Loss: 0.90, Accuracy: 72.30, Test Loss: 0.50, Test Accuracy: 83.80\n",
    "custom_training_walkthrough": "Epoch 050: Loss: 0.954, Accuracy: 69.167%\nTest set accuracy: 56.667%\n",
    "basic_classification": "loss: 0.3647 - accuracy: 0.8956\nTest accuracy: 0.8956\n",
    "load_numpy": "[loss=12.1, sparse_categorical_accuracy=0.756]\nloss: 4.4136 - "
                  "sparse_categorical_accuracy: 0.8475\n",
    "training_loop_from_scratch": "Validation acc: 0.6410\nTraining acc over epoch: 0.7448\n"
                                  "Validation acc: 0.6706\n",
    "functional_api": "Test loss: 0.7371614576339721\nTest accuracy: 0.8235\n",
    "antirectifier": "val_sparse_categorical_accuracy=0.958]\nloss: 0.1514 - "
                     "sparse_categorical_accuracy: 0.9559\n",
    "training_with_built_in_methods": "sparse_categorical_accuracy=0.863, val_loss=0.447, "
                                      "val_sparse_categorical_accuracy=0.885]\nCreating a new model\n"
                                      "Epoch 1/1: 100%|##########| 94/94 [loss=0.982, "
                                      "sparse_categorical_accuracy=0.747]\n",
}


def test_the_callbacks_guide_is_expected_to_stop_only_on_numpy_2():
    """`np.Inf` (in the callbacks guide) exists in NumPy 1.x and was removed in NumPy 2.0."""
    import subprocess

    import numpy as np

    from tests.tutorials.run import verdict
    entry = next(t for t in TUTORIALS if t["name"] == "own_callbacks")
    finished = subprocess.CompletedProcess([], 0, stdout="Epoch 00014: Learning rate is 0.0010.\n",
                                           stderr="")
    stopped = subprocess.CompletedProcess([], 1, stdout="", stderr=(
        "AttributeError: `np.Inf` was removed in the NumPy 2.0 release. Use `np.inf` instead."))
    has_inf = hasattr(np, "Inf")
    assert ("own_callbacks" in EXPECTED_TO_FAIL) is not has_inf
    assert verdict(entry, finished).startswith("as recorded") is has_inf
    assert verdict(entry, stopped).startswith("as recorded") is not has_inf


def test_a_missing_or_changed_source_is_reported_and_the_run_goes_on(tmp_path, monkeypatch, capsys):
    from tests.tutorials import run
    monkeypatch.setenv("UNAFRAID_TUTORIAL_SOURCES", str(tmp_path))   # holds no checkouts
    assert run.main(["autodiff_guide", "variable_guide"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["autodiff_guide", "variable_guide"]
    assert all("not converted" in line for line in lines)


def test_a_metric_is_reported_in_or_out_of_tensorflows_range():
    """The range check: the runs' spread, widened by half of it (at least one point) each side."""
    import subprocess

    from tests.tutorials.run import reference_range, verdict
    entry = {"name": "t", "metric": (r"acc: ([0-9.]+)", 0.5), "reference": (0.90, 0.92, 3)}
    # spread 0.02, so +-0.01 (= the one-point minimum): [0.89, 0.93] is in range
    assert reference_range(entry, 0.89).startswith("; in TensorFlow's range 0.9-0.92")
    assert reference_range(entry, 0.93).startswith("; in ")
    assert reference_range(entry, 0.885).startswith("; OUT OF ")
    wide = dict(entry, reference=(0.80, 0.90, 3))   # spread 0.1: +-0.05
    assert reference_range(wide, 0.751).startswith("; in ")
    assert reference_range(wide, 0.749).startswith("; OUT")
    percent = dict(entry, reference=(83.0, 83.4, 3))  # percentages: the minimum is 1 point, not 0.01
    assert reference_range(percent, 82.1).startswith("; in ")
    assert reference_range(percent, 81.9).startswith("; OUT")
    assert reference_range({"name": "u"}, 0.1) == ""
    done = subprocess.CompletedProcess([], 0, stdout="acc: 0.70\n", stderr="")
    said = verdict(entry, done)
    assert "OUT OF TensorFlow's range" in said and not said.startswith("as recorded")
    assert verdict(entry, subprocess.CompletedProcess([], 0, stdout="acc: 0.91\n", stderr="")).startswith(
        "as recorded (metric 0.91; in TensorFlow's range")


def test_every_reference_range_is_ordered_and_has_a_metric():
    for t in TUTORIALS:
        if "reference" in t:
            low, high, runs = t["reference"]
            assert "metric" in t and low <= high and runs >= 2, t["name"]
            assert t["metric"][1] < high, f"{t['name']}: a floor above all of TensorFlow's runs"
        if len(t.get("loss", ())) == 4:
            _, low, high, runs = t["loss"]
            assert "reference" in t and 0 <= low <= high and runs >= 2, t["name"]


def test_the_tensorflow_reference_keeps_the_imports_and_reads_keras_3_log_lines(tmp_path, monkeypatch):
    from tests.tutorials.tf_reference import script, tf_pattern
    entry = next(t for t in TUTORIALS if t["name"] == "antirectifier")
    path = tmp_path / entry["repo"] / entry["path"]
    path.parent.mkdir(parents=True)
    path.write_text("import tensorflow as tf\nepochs = 20\n", encoding="utf-8")
    monkeypatch.setenv("UNAFRAID_TUTORIAL_SOURCES", str(tmp_path))
    monkeypatch.setenv("UNAFRAID_TUTORIAL_SHRINK", "1")
    code = script("antirectifier")
    assert "\nimport tensorflow as tf\n" in code and "unafraid as tf" not in code
    assert "epochs = 1" in code and "_keras.datasets.mnist.load_data = _mnist" in code
    keras3 = "313/313 - 0s - sparse_categorical_accuracy: 0.9372 - loss: 0.2100\n"
    assert re.findall(entry["metric"][0], keras3) == []          # unafraid's pattern: 'loss' last
    assert re.findall(tf_pattern(entry["metric"][0]), keras3) == ["0.9372"]


def test_a_final_loss_is_reported_in_or_out_of_tensorflows_range():
    import subprocess

    from tests.tutorials.run import loss_range, verdict
    entry = {"name": "t", "metric": (r"acc: ([0-9.]+)", 0.5), "reference": (0.90, 0.92, 3),
             "loss": (r"\bloss: ([0-9.]+)", 0.30, 0.40, 3)}
    # spread 0.1, so +-0.05 (above 5% of 0.40 = 0.02): [0.25, 0.45]; val_loss is not the loss
    assert loss_range(entry, "val_loss: 0.9 - loss: 0.44").startswith("; loss 0.44 in ")
    assert loss_range(entry, "loss: 0.46 - val_loss: 0.3").startswith("; loss 0.46 OUT OF ")
    assert loss_range(entry, "no number") == "; loss not found by '\\\\bloss: ([0-9.]+)'"
    assert loss_range(dict(entry, loss=(r"loss: ([0-9.]+)",)), "loss: 9") == ""
    ok = subprocess.CompletedProcess([], 0, stdout="loss: 0.35 - acc: 0.91\n", stderr="")
    assert verdict(entry, ok).startswith("as recorded (metric 0.91; in ")
    high = subprocess.CompletedProcess([], 0, stdout="loss: 0.9 - acc: 0.91\n", stderr="")
    assert verdict(entry, high).startswith("metric 0.91; in ") and "loss 0.9 OUT OF" in verdict(entry, high)


def test_a_known_out_of_range_figure_is_as_recorded_and_a_change_is_reported(monkeypatch):
    import subprocess

    from tests.tutorials import run
    assert set(run.KNOWN_OUT_OF_RANGE) <= {t["name"] for t in TUTORIALS if len(t.get("loss", ())) == 4}
    entry = {"name": "t", "metric": (r"acc: ([0-9.]+)", 0.5), "reference": (0.90, 0.92, 3),
             "loss": (r"\bloss: ([0-9.]+)", 0.30, 0.40, 3)}
    low_loss = subprocess.CompletedProcess([], 0, stdout="loss: 0.1 - acc: 0.91\n", stderr="")
    in_range = subprocess.CompletedProcess([], 0, stdout="loss: 0.35 - acc: 0.91\n", stderr="")
    assert not run.verdict(entry, low_loss).startswith("as recorded")
    monkeypatch.setitem(run.KNOWN_OUT_OF_RANGE, "t", {"loss"})
    assert run.verdict(entry, low_loss).startswith("as recorded (metric 0.91; in ")
    assert "(known: docs/from_tensorflow.md)" in run.verdict(entry, low_loss)
    assert not run.verdict(entry, in_range).startswith("as recorded")   # back in range: say so
