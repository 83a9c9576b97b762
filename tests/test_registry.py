"""The one name registry: every kind of object is looked up, and misspelt, the same way."""

import subprocess
import sys

import pytest

import unafraid as uf
from unafraid import registry
from unafraid.io.saving import ModelFileError, deserialize_layer, layer_classes


@pytest.fixture(scope="module", autouse=True)
def every_kind_imported():
    for module in ("activations", "initializers", "regularizers", "losses", "metrics",
                   "optimizers", "layers", "models"):
        getattr(uf, module)


def test_did_you_mean_ignores_case_and_keeps_the_spelling():
    assert registry.did_you_mean("cosinedecai", ["CosineDecay", "ExponentialDecay"]) == \
        " Did you mean 'CosineDecay'?"
    assert registry.did_you_mean("zzz", ["relu", "tanh"]) == ""
    assert registry.did_you_mean("l3", ["l1", "xy"]) == ""              # 0.5 similar: below 0.6
    assert registry.did_you_mean("l3", ["l1", "xy"], cutoff=0.5) == " Did you mean 'l1'?"


def test_one_table_holds_every_kind():
    assert {"activation", "initializer", "regularizer", "loss", "metric", "optimizer",
            "learning rate schedule", "layer"} <= set(registry.KINDS)
    assert registry.lookup("optimizer", "ADAM") is uf.optimizers.Adam
    assert registry.lookup("loss", "mse") is uf.losses.mean_squared_error
    assert registry.lookup("loss", "MeanSquaredError") is uf.losses.MeanSquaredError
    assert registry.lookup("initializer", "GlorotUniform") is uf.initializers.GlorotUniform
    assert registry.lookup("layer", "Dense") is uf.layers.Dense
    assert registry.lookup("layer", "Sequential") is uf.models.Sequential
    assert "Layer" not in registry.names("layer")          # the abstract base is never built


@pytest.mark.parametrize("kind,name,suggestion,known", [
    ("optimizer", "adamm", "adam", "adagrad, adam, adamax, adamw, ftrl, lamb, lion, muon, nadam, "
                                   "rmsprop, schedulefreeadamw, sgd."),
    ("activation", "reul", "relu", "elu, exponential, gelu"),
    ("initializer", "he_normall", "he_normal", "constant, glorot_normal"),
    ("regularizer", "l22", "l2", "l1, l1_l2, l2."),
    ("loss", "mean_squared_eror", "mean_squared_error", "BinaryCrossentropy"),
    ("metric", "acuracy", "accuracy", "AUC, Accuracy"),
    ("learning rate schedule", "CosineDecy", "CosineDecay", "CosineDecay, CosineDecayRestarts"),
    ("layer", "Dens", "Dense", "Known layers: Activation, ActivityRegularization, AdaptiveAveragePooling1D"),
])
def test_unknown_names_get_the_same_help_in_every_kind(kind, name, suggestion, known):
    with pytest.raises(ValueError) as info:
        registry.lookup(kind, name)
    message = str(info.value)
    assert message.startswith(f"Unknown {kind} '{name}'. Did you mean '{suggestion}'? Known ")
    assert known in message


def test_aliases_are_accepted_but_not_listed():
    names = registry.names("initializer")
    assert names.get("GlorotUniform") is names.get("glorot_uniform")
    assert "GlorotUniform" not in names.listed() and "glorot_uniform" in names.listed()


def test_custom_objects_come_first_and_are_listed_when_missing():
    class Mine(uf.optimizers.schedules.LearningRateSchedule):
        pass
    assert registry.lookup("learning rate schedule", "Mine", {"Mine": Mine}) is Mine
    with pytest.raises(ValueError, match=r"Known schedules: .*Mine.*custom_objects"):
        registry.lookup("learning rate schedule", "Mien", {"Mine": Mine})


def test_unknown_kind():
    with pytest.raises(ValueError, match="Unknown kind of object 'optimiser'. Did you mean 'optimizer'"):
        registry.lookup("optimiser", "adam")


def test_the_model_loader_builds_only_registered_classes():
    assert layer_classes()["Dense"] is uf.layers.Dense
    with pytest.raises(ModelFileError, match="unknown layer class 'Dens'. Did you mean 'Dense'"):
        deserialize_layer({"class_name": "Dens", "config": {}})


def test_loading_without_unafraid_models_says_how(tmp_path):
    """unafraid.io never imports unafraid.models (no cycle): it says which loader registers them."""
    path = tmp_path / "m.safetensors"
    model = uf.models.Sequential([uf.layers.Dense(2, input_shape=(3,))])
    model.save(path)
    code = ("import sys; from unafraid.io.saving import load_model\n"
            f"try:\n    load_model({str(path)!r})\n"
            "except ValueError as e:\n    print(e)\n"
            "assert 'unafraid.models' not in sys.modules\n"
            "import unafraid.models\n"
            f"print(type(unafraid.models.load_model({str(path)!r})).__name__)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         check=True).stdout
    assert "unknown layer class 'Sequential'" in out
    assert "load with unafraid.models.load_model" in out
    assert out.strip().endswith("Sequential")


def test_suggestion_prefers_the_fewest_slips():
    # kitten -> sitting: k->s, e->i, +g (3); adma -> adam: one swap of neighbours
    assert registry.edit_distance("kitten", "sitting") == 3
    assert registry.edit_distance("adma", "adam") == 1
    assert registry.did_you_mean("adma", ["adamax", "adam", "adamw"]) == " Did you mean 'adam'?"
