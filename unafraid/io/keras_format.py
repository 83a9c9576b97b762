"""Keras 3's native ``.keras`` format: the way out to Keras (GPUs, clusters) and the way in.

A ``.keras`` file is a zip archive of three members (Keras 3's ``saving_lib``):

- ``metadata.json``: ``{"keras_version": ..., "date_saved": ...}``;
- ``config.json``: the model as nested ``{"module", "class_name", "config",
  "registered_name"}`` objects, with Keras's class and argument names, plus
  ``build_config`` and ``compile_config``;
- ``model.weights.h5``: an HDF5 file with one group per object, addressed by
  the position of each layer in ``model.layers`` (``layers/dense``,
  ``layers/dense_1``... from the *class* name, numbered in order), each holding
  ``vars/0``, ``vars/1``... in the layer's weight order; the optimizer's state
  is in ``optimizer/vars`` (``0`` the step count, ``1`` the learning rate when
  it is a float, then the slots in Keras's order: :data:`OPTION_SLOTS`,
  :data:`OPTIMIZER_SLOTS`, :data:`OPTIMIZER_GLOBALS`).

Loading follows unafraid's safety rules: no code runs (classes come from the
fixed table :data:`LAYERS`; a ``Lambda`` or any other class is refused by
name), every size is bounded by the file's size before anything is read or
allocated (zip and HDF5 "bombs" are refused), and anything malformed raises
:class:`~unafraid.io.saving.ModelFileError`.

h5py is an optional dependency (``pip install unafraid[keras]``), imported
only here and only when a ``.keras`` file is written or read.

Examples
--------
>>> import unafraid as tf
>>> model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(2)])
>>> model.save("m.keras")                       # doctest: +SKIP
>>> again = tf.keras.models.load_model("m.keras")  # doctest: +SKIP
"""

from __future__ import annotations

import datetime
import io
import json
import math
import os
import re
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..atomic import atomic_write_bytes
from .common import (
    ModelFileError,
    model_classes,
    restore_generators,
    restore_weight_decay_exclusions,
    weight_decay_exclusions,
)

KERAS_VERSION = "3.15.1"  # written to metadata.json: the Keras version this writer was checked against
CONFIG_FILE, METADATA_FILE, WEIGHTS_FILE = "config.json", "metadata.json", "model.weights.h5"
UNAFRAID_FILE = "unafraid.json"  # unafraid's extra member (Keras ignores it): random-generator states
MAX_UNAFRAID_BYTES = 1024 * 1024
MAX_CONFIG_BYTES = 64 * 1024 * 1024
MAX_EXPANSION = 100  # a member may unpack to at most this many times the bytes it stores


# ---- the layer table ------------------------------------------------------------------------
def _same(config: dict[str, Any]) -> dict[str, Any]:
    return config


def _flatten_to_keras(config: dict[str, Any]) -> dict[str, Any]:
    return {**config, "data_format": config.get("data_format") or "channels_last"}


def _flatten_from_keras(config: dict[str, Any]) -> dict[str, Any]:
    if config.get("data_format") not in (None, "channels_last"):
        raise ValueError(f"Flatten '{config.get('name')}' has data_format="
                         f"{config['data_format']!r}; unafraid supports only 'channels_last'.")
    return config


def _one_pair(key: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """unafraid writes a 1-D layer's ``padding``/``cropping`` as ``[[before, after]]``; Keras's
    ``ZeroPadding1D``/``Cropping1D`` take ``[before, after]`` (and unafraid reads both)."""
    def to_keras(config: dict[str, Any]) -> dict[str, Any]:
        (pair,) = config[key]
        return {**config, key: list(pair)}
    return to_keras


def _no_trainable(config: dict[str, Any]) -> dict[str, Any]:
    """Keras's ``SpatialDropout*`` and ``Discretization`` take no ``trainable`` argument."""
    return {k: v for k, v in config.items() if k != "trainable"}


def _arrays_as_is(layer: Any, arrays: list[np.ndarray]) -> list[np.ndarray]:
    return list(arrays)


def _normalization_to_keras(layer: Any, arrays: list[np.ndarray]) -> list[np.ndarray]:
    """An adapted ``Normalization``'s ``mean`` and ``variance`` in the kept axes' shape, as Keras
    keeps them (``(9,)``, where unafraid keeps ``(1, 9)``), and ``count``; with given statistics
    the layer has no weights (in both libraries)."""
    if not arrays:
        return []
    mean, variance, count = arrays
    kept = tuple(n for a, n in enumerate(mean.shape) if a in layer.kept_axes(mean.ndim))
    return [mean.reshape(kept), variance.reshape(kept), count.astype(np.int32)]


def _normalization_from_keras(layer: Any, arrays: list[np.ndarray]) -> list[np.ndarray]:
    if len(arrays) != 3 or len(layer._weights) != 3:
        return arrays  # the caller names the mismatch
    mean, variance, count = arrays
    shape = layer.mean.shape
    if mean.size != math.prod(shape) or variance.size != math.prod(shape):
        return arrays  # the caller reports the shapes
    return [mean.reshape(shape), variance.reshape(shape), np.asarray(count, np.int64)]


@dataclass(frozen=True)
class KerasLayer:
    """How one layer class maps between unafraid and Keras 3 (both use the same class name).

    Attributes
    ----------
    class_name : str
        Keras's ``class_name`` (``module`` is ``keras.layers``).
    keras_only : dict
        Keras arguments unafraid's layer does not have, each with the only
        value unafraid can honour (its Keras default). A file that sets
        another value is refused with the argument's name.
    to_keras, from_keras : callable
        Adjust a config on the way out or in (e.g. ``Flatten``'s ``data_format``).
    weights_to_keras, weights_from_keras : callable
        ``f(layer, arrays) -> arrays``: convert the list of weight arrays when
        the two layouts differ (``Normalization`` keeps its statistics in the
        input's rank in unafraid, in the kept axes' shape in Keras).
    weight_groups : callable
        ``f(layer) -> [(sub-group, variables), ...]``: where in the layer's h5 group Keras keeps
        which of its weights; by default all of ``layer._weights`` in ``vars``. The recurrent
        layers keep theirs in their cell (``layers/lstm/cell/vars``), ``Bidirectional`` in its
        two layers' cells (``forward_layer/cell/vars``, ``backward_layer/cell/vars``).
    nested : dict
        Config keys whose values are whole layers (Keras objects in the file), with the
        attribute of unafraid's layer that holds each (``Bidirectional``'s ``layer``).
    """

    class_name: str
    keras_only: dict[str, Any] = field(default_factory=dict)
    to_keras: Callable[[dict[str, Any]], dict[str, Any]] = _same
    from_keras: Callable[[dict[str, Any]], dict[str, Any]] = _same
    weights_to_keras: Callable[[Any, list[np.ndarray]], list[np.ndarray]] = _arrays_as_is
    weights_from_keras: Callable[[Any, list[np.ndarray]], list[np.ndarray]] = _arrays_as_is
    weight_groups: Callable[[Any], list[tuple[str, list[Any]]]] = lambda layer: [("", layer._weights)]
    nested: dict[str, str] = field(default_factory=dict)


LAYERS: dict[str, KerasLayer] = {spec.class_name: spec for spec in [
    KerasLayer("InputLayer", {"sparse": False, "ragged": False, "optional": False}),
    KerasLayer("Dense", {"quantization_config": None, "lora_rank": None, "lora_alpha": None}),
    KerasLayer("Activation"),
    KerasLayer("Softmax"),
    KerasLayer("Flatten", to_keras=_flatten_to_keras, from_keras=_flatten_from_keras),
    KerasLayer("Reshape"),
    KerasLayer("Dropout"),
    KerasLayer("BatchNormalization"),  # renorm's three extra weights: Keras's names and order
    KerasLayer("LayerNormalization"),
    KerasLayer("Normalization", weights_to_keras=_normalization_to_keras,
               weights_from_keras=_normalization_from_keras),
    KerasLayer("Embedding", {"activity_regularizer": None, "quantization_config": None,
                             "lora_rank": None, "lora_alpha": None}),
    KerasLayer("ReversibleEmbedding", {"activity_regularizer": None, "quantization_config": None,
                                       "lora_rank": None, "lora_alpha": None}),
    KerasLayer("Masking"),
    KerasLayer("EinsumDense", {"quantization_config": None, "lora_rank": None, "lora_alpha": None,
                               "gptq_unpacked_column_size": None}),
    # merge layers: one list of tensors in, the same arguments in both
    *(KerasLayer(name) for name in ("Concatenate", "Add", "Multiply", "Average", "Maximum",
                                    "Minimum", "Subtract", "Dot")),
    # activation layers (PReLU's alpha has the same shape), noise and activity regularization
    # (no weights; identity at inference), RepeatVector and Permute: the same arguments in both
    *(KerasLayer(name) for name in ("ReLU", "LeakyReLU", "PReLU", "ELU", "GaussianNoise",
                                    "GaussianDropout", "AlphaDropout", "ActivityRegularization",
                                    "RepeatVector", "Permute")),
    # preprocessing whose state is all in the config: Discretization's boundaries (learned by
    # adapt or given) are written as bin_boundaries, which Keras's from_config restores
    KerasLayer("CategoryEncoding"),
    KerasLayer("Discretization", to_keras=_no_trainable),  # Keras's __init__ takes no trainable
    # convolutions: same class names, arguments and kernel layouts ((*kernel_size, in, out),
    # transposed (*kernel_size, out, in), depthwise (*kernel_size, in, depth_multiplier))
    *(KerasLayer(name) for name in ("Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose",
                                    "Conv2DTranspose", "DepthwiseConv2D", "SeparableConv2D")),
    # pooling, spatial reshaping and spatial dropout (no weights)
    *(KerasLayer(f"{kind}{rank}D") for rank in (1, 2, 3) for kind in (
        "MaxPooling", "AveragePooling", "GlobalAveragePooling", "GlobalMaxPooling", "UpSampling")),
    *(KerasLayer(f"{kind}{rank}D") for rank in (2, 3) for kind in ("ZeroPadding", "Cropping")),
    KerasLayer("ZeroPadding1D", {"data_format": "channels_last"}, to_keras=_one_pair("padding")),
    KerasLayer("Cropping1D", to_keras=_one_pair("cropping")),
    *(KerasLayer(f"SpatialDropout{rank}D", to_keras=_no_trainable) for rank in (1, 2, 3)),
    # recurrent layers: the same arguments and weight layouts (gates i, f, c, o and z, r, h), the
    # weights in the layer's cell; stateful=True is refused by unafraid's constructors
    *(KerasLayer(name, {"stateful": False}, weight_groups=lambda layer: [("cell", layer._weights)])
      for name in ("SimpleRNN", "LSTM", "GRU")),
    KerasLayer("Bidirectional", nested={"layer": "forward_layer", "backward_layer": "backward_layer"},
               weight_groups=lambda layer: [("forward_layer/cell", layer.forward_layer._weights),
                                            ("backward_layer/cell", layer.backward_layer._weights)]),
]}
"""Every layer class that crosses between unafraid and Keras. Add a row to add a layer, with
the Keras arguments unafraid lacks in ``keras_only`` and any change of config or weight layout."""

REFUSED: dict[str, str] = {
    name: f"Keras 3 runs {name} only with TensorFlow installed (not on the JAX or PyTorch backend), "
          f"and keeps a vocabulary learned by adapt in the archive's assets/vocabulary.txt (a "
          f"vocabulary given as a list, in the config): unafraid cannot check that its lookup "
          f"crosses exactly, so it does not write or read {name}. Keep the lookup outside the model "
          f"(apply it to the data before fit/predict, e.g. with the layer itself or pandas "
          f"Categorical codes), or save in unafraid's own format (model.save('m.safetensors'))"
    for name in ("IntegerLookup", "StringLookup")}
"""Layer classes both sides have that deliberately do not cross, with the reason and the fix."""

RECURRENT = frozenset({"SimpleRNN", "LSTM", "GRU", "Bidirectional"})  # take initial_state=[...]
# Layers in LAYERS whose Keras ``call`` reads the mask it is passed (Keras's masked average...)
KERAS_MASK_READERS = frozenset({"GlobalAveragePooling1D", "Softmax", "BatchNormalization",
                                "SimpleRNN", "LSTM", "GRU", "Bidirectional"})

MODELS = ("Sequential", "Functional")
# Arguments of Keras's initializers and regularizers that unafraid's lack, at their only value
NESTED_KERAS_ONLY = {"input_axes": None, "output_axes": None}
# Keras's nested objects: the module each kind of argument is written under
_MODULES = {"_initializer": "keras.initializers", "_regularizer": "keras.regularizers",
            "_constraint": "keras.constraints"}
# Keras 3's order of an optimizer's variables (``optimizer.variables``, written as
# ``optimizer/vars/0, 1, ...``): the step count, the learning rate (when it is a float), then
# OPTION_SLOTS (the base class's build), then the rule's OPTIMIZER_SLOTS, then the state shared
# by all variables (OPTIMIZER_GLOBALS). Each tuple is one ``add_optimizer_variables`` call,
# interleaved per variable (kernel_momentum, kernel_velocity, bias_momentum...); the tuples follow
# one another. Names are unafraid's slot names (``state_dict`` keys); Keras's are in comments.
OPTION_SLOTS: list[tuple[str, ...]] = [
    ("average",),               # use_ema: <var>_average
    ("gradient_accumulator",),  # gradient_accumulation_steps: <var>_gradient_accumulator
]
OPTIMIZER_SLOTS: dict[str, list[tuple[str, ...]]] = {
    "SGD": [("m",)],                                      # momentum
    "Adam": [("m", "v"), ("v_hat",)],                     # momentum, velocity; velocity_hat
    "AdamW": [("m", "v"), ("v_hat",)],
    "RMSprop": [("v",), ("momentum",), ("mg",)],          # velocity; momentum; average_gradient
    "Adagrad": [("accumulator",)],                        # accumulator
    "Nadam": [("m", "v")],                                # momentum, velocity
    "Adamax": [("m", "u")],                               # momentum, norm
    "Adadelta": [("accumulated_grad", "accumulated_delta_var")],
    "Lion": [("m",)],                                     # momentum
    "Lamb": [("m", "v")],                                 # momentum, velocity
    "Ftrl": [("accumulator", "linear")],                  # accumulator, linear
    "ScheduleFreeAdamW": [("momentum", "velocity")],      # momentum (z), velocity
}
# One 0-d variable each, after all the slots, in the first trainable weight's dtype
OPTIMIZER_GLOBALS: dict[str, tuple[str, ...]] = {"Nadam": ("u_product",)}
# Slots Keras creates with add_variable_from_reference, for every variable; the others
# (add_optimizer_variables) skip the variables marked ``overwrite_with_gradient``.
EVERY_VARIABLE_SLOTS = frozenset({"gradient_accumulator"})


def keras_object(class_name: str, config: Any, module: str,
                 registered_name: str | None = None) -> dict[str, Any]:
    """``{"module", "class_name", "config", "registered_name"}``: how Keras 3 names an object."""
    return {"module": module, "class_name": class_name, "config": config,
            "registered_name": registered_name}


def snake_case(name: str) -> str:
    """Keras's ``to_snake_case``: ``BatchNormalization`` -> ``batch_normalization``,
    ``Conv2D`` -> ``conv2d`` (digits do not start a new word, unlike unafraid's layer names)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def weight_paths(layers: list[Any], prefix: str) -> list[str]:
    """Keras's h5 group of each layer: ``<prefix>/<class in snake case>[_n]``, numbered in order."""
    used: dict[str, int] = {}
    paths = []
    for layer in layers:
        name = snake_case(_class_name(layer))
        used[name] = used.get(name, -1) + 1
        paths.append(f"{prefix}/{name}" + (f"_{used[name]}" if used[name] else ""))
    return paths


def _class_name(layer: Any) -> str:
    return layer if isinstance(layer, str) else type(layer).__name__


def require_h5py() -> Any:
    """Import h5py, or say how to install it."""
    try:
        import h5py
    except ImportError as e:
        raise ImportError("Reading and writing Keras 3 '.keras' files needs h5py: pip install "
                          "'unafraid[keras]' (or pip install h5py).") from e
    return h5py


# ---- writing: unafraid -> Keras ---------------------------------------------------------------
def _dtype_policy(dtype: str) -> dict[str, Any]:
    return keras_object("DTypePolicy", {"name": dtype}, "keras")


def _nested_to_keras(key: str, value: Any) -> Any:
    module = next((m for suffix, m in _MODULES.items() if key.endswith(suffix)), None)
    if module and isinstance(value, dict) and "class_name" in value:
        return keras_object(value["class_name"], value.get("config", {}), module)
    return value


def layer_to_keras(layer: Any) -> dict[str, Any]:
    """One layer (or nested model) as Keras 3's config object, with its ``build_config``."""
    Functional, Sequential = model_classes()
    if isinstance(layer, Sequential):
        return sequential_to_keras(layer)
    if isinstance(layer, Functional):
        return functional_to_keras(layer)
    spec = LAYERS.get(type(layer).__name__)
    if type(layer).__name__ in REFUSED and type(layer) is _unafraid_class(type(layer).__name__):
        raise ValueError(f"Layer '{layer.name}': {REFUSED[type(layer).__name__]}.")
    if spec is None or type(layer) is not _unafraid_class(spec.class_name):
        raise ValueError(
            f"Layer '{layer.name}' ({type(layer).__name__}) cannot be written to a .keras file: "
            f"unafraid's .keras writer knows only these layers: {', '.join(sorted(LAYERS))}. Save "
            f"with unafraid's own format instead (model.save('m.safetensors')).")
    config = dict(layer.get_config())
    config.pop("input_shape", None)
    _check_keras_only(layer, spec, config)
    config = {k: layer_to_keras(getattr(layer, spec.nested[k])) if k in spec.nested
              else _nested_to_keras(k, v) for k, v in spec.to_keras(config).items()}
    if "dtype" in config and spec.class_name != "InputLayer":
        config["dtype"] = _dtype_policy(config["dtype"])
    out = keras_object(spec.class_name, {**config, **spec.keras_only}, "keras.layers")
    if layer._build_shape is not None and _has_build(layer):
        out["build_config"] = {"input_shape": _shape_list(layer._build_shape)}
    return out


def _check_keras_only(layer: Any, spec: KerasLayer, config: dict[str, Any]) -> None:
    """Refuse to write a layer whose setting Keras's file would overwrite with its only value."""
    for key, only in spec.keras_only.items():
        if key in config and config[key] != only:
            raise ValueError(
                f"Layer '{layer.name}' ({spec.class_name}) sets {key}={config[key]!r}, which unafraid "
                f"cannot write to a Keras 3 file yet (only {only!r}). Save with unafraid's own "
                f"format instead (model.save('m.safetensors')).")


def _has_build(layer: Any) -> bool:
    from ..layers.base import Layer
    return type(layer).build is not Layer.build


def _shape_list(shape: Any) -> Any:
    if isinstance(shape, list):
        return [_shape_list(s) for s in shape]
    return [None if d is None else int(d) for d in shape]


def _unafraid_class(name: str) -> type | None:
    from ..layers import BUILTIN_LAYERS
    return BUILTIN_LAYERS.get(name)


def _input_layer(batch_shape: Any, name: str, dtype: str = "float32") -> dict[str, Any]:
    config = {"batch_shape": _shape_list(batch_shape), "dtype": dtype, "name": name,
              **LAYERS["InputLayer"].keras_only}
    return keras_object("InputLayer", config, "keras.layers")


def _makes_mask(layer: Any) -> bool:
    return type(layer).__name__ == "Masking" or bool(getattr(layer, "mask_zero", False))


def _passes_mask(layer: Any) -> bool:
    """unafraid's rule (``Layer._set_mask_metadata``): the layer hands a mask on to the next."""
    from ..layers.base import Layer
    return bool(layer.__dict__.get("supports_masking", layer.supports_masking or (
        type(layer).compute_mask is not Layer.compute_mask)))


def check_mask_readers(layer: Any, masked: bool) -> None:
    """Refuse a layer that ignores the mask it is passed here but whose Keras twin reads it:
    Keras would compute something else from the same file (e.g. a masked average)."""
    if masked and type(layer).__name__ in KERAS_MASK_READERS and not layer._call_has_mask:
        raise ValueError(
            f"Layer '{layer.name}' ({type(layer).__name__}) is passed a mask (from Masking or "
            f"Embedding(mask_zero=True)) that unafraid's {type(layer).__name__} ignores but Keras's "
            f"reads, so Keras would predict other values from this file. Remove the mask "
            f"(mask_zero=False, no Masking) or save in unafraid's own format "
            f"(model.save('m.safetensors')).")


def _masked_after(layer: Any, masked: bool) -> bool:
    check_mask_readers(layer, masked)
    return _makes_mask(layer) or (masked and _passes_mask(layer))


def sequential_to_keras(model: Any) -> dict[str, Any]:
    """A ``Sequential`` as Keras 3 writes it (an ``InputLayer`` first when the input is known)."""
    shape = model._input_batch_shape
    layers = [_input_layer(shape, "input_layer")] if shape is not None else []
    layers += [layer_to_keras(layer) for layer in model._layers]
    masked = False
    for layer in model._layers:
        masked = _masked_after(layer, masked)
    config = {"name": model.name, "trainable": model.trainable, "dtype": _dtype_policy(model.dtype),
              "layers": layers, "build_input_shape": None if shape is None else _shape_list(shape)}
    out = keras_object("Sequential", config, "keras")
    if shape is not None:
        out["build_config"] = {"input_shape": _shape_list(shape)}
    return out


def keras_layer_order(inputs: list[Any], outputs: list[Any]) -> tuple[list[Any], dict[int, list[Any]]]:
    """``model.layers`` in Keras 3's order (``keras.src.ops.function.map_graph``), and each
    layer's nodes in call order.

    Keras orders layers by depth (distance to the outputs, deepest first), ties by the order
    in which a depth-first walk from the outputs first meets them. Weights are addressed by
    this order, so the writer must follow it exactly.
    """
    input_ids = {id(t) for t in inputs}
    finished: list[Any] = []   # nodes, inputs -> outputs
    seen: set[int] = set()
    first_seen: dict[int, int] = {}

    def visit(t: Any) -> None:
        node = t.node
        if id(node) in seen:
            return
        if id(t) in input_ids and node.args is not None:
            seen.add(id(node))
            return
        first_seen.setdefault(id(node.layer), len(first_seen))
        seen.add(id(node))
        if node.args is not None:
            for parent in _flat_tensors(node.args):
                visit(parent)
        finished.append(node)

    for t in outputs:
        visit(t)
    node_depth: dict[int, int] = {}
    layer_depth: dict[int, int] = {}
    layers: dict[int, Any] = {}
    in_graph = {id(n) for n in finished}
    for node in reversed(finished):
        depth = max(node_depth.setdefault(id(node), 0), layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = node_depth[id(node)] = depth
        layers[id(node.layer)] = node.layer
        for parent in _flat_tensors(node.args) if node.args is not None else []:
            if id(parent.node) in in_graph:
                node_depth[id(parent.node)] = max(depth + 1, node_depth.get(id(parent.node), 0))
    for t in inputs:  # inputs the outputs do not use
        if id(t.node.layer) not in layer_depth:
            layer_depth[id(t.node.layer)], first_seen[id(t.node.layer)] = 0, -1
            layers[id(t.node.layer)] = t.node.layer
    order = sorted(layers, key=lambda k: (-layer_depth[k], first_seen[k]))
    nodes: dict[int, list[Any]] = {}
    for node in finished:
        nodes.setdefault(id(node.layer), []).append(node)
    return [layers[k] for k in order], nodes


def _flat_tensors(args: Any) -> list[Any]:
    from ..layers.base import KerasTensor
    if isinstance(args, KerasTensor):
        return [args]
    out = []
    for a in args if isinstance(args, list | tuple) else []:
        out.extend(_flat_tensors(a))
    return out


def functional_to_keras(model: Any) -> dict[str, Any]:
    """A functional model as Keras 3 writes it: layers with their ``inbound_nodes``."""
    from ..layers.base import InputLayer, KerasTensor
    layers, nodes = keras_layer_order(model._in, model._out)

    def history(t: KerasTensor) -> list[Any]:
        calls = nodes.get(id(t.node.layer), [t.node])
        index = next((i for i, n in enumerate(calls) if n is t.node), 0)
        return [t.node.layer.name, index, t.index]

    def ref(args: Any) -> Any:
        if isinstance(args, KerasTensor):
            return {"class_name": "__keras_tensor__", "config": {
                "shape": _shape_list(args.shape), "dtype": args.dtype,
                "keras_history": history(args)}}
        return [ref(a) for a in args]

    masked: set[int] = set()  # ids of the calls (nodes) whose outputs carry a mask
    for layer in layers:  # inputs first
        for node in nodes.get(id(layer), []) if not isinstance(layer, InputLayer) else []:
            if _masked_after(layer, any(id(t.node) in masked for t in _flat_tensors(node.args))):
                masked.add(id(node))
    specs = []
    for layer in layers:
        if isinstance(layer, InputLayer):
            spec = _input_layer(layer.batch_shape, layer.name, layer.dtype)
            spec["inbound_nodes"] = []
        else:
            spec = layer_to_keras(layer)
            spec["inbound_nodes"] = [call_to_keras(layer, n, ref) for n in nodes.get(id(layer), [])]
        spec["name"] = layer.name
        specs.append(spec)
    ins = [history(t) for t in model._in]
    outs = [history(t) for t in model._out]
    config = {"name": model.name, "trainable": model.trainable, "layers": specs,
              "input_layers": ins[0] if model._single_input else ins,
              "output_layers": outs[0] if model._single_output else outs}
    out = keras_object("Functional", config, "keras.src.models.functional", "Functional")
    out["build_config"] = {"input_shape": None}
    return out


def call_to_keras(layer: Any, node: Any, ref: Callable[[Any], Any]) -> dict[str, Any]:
    """One call of a layer as Keras writes it: ``{"args": [...], "kwargs": {...}}``. A recurrent
    layer called with ``initial_state`` (recorded here as extra inputs) gets it as Keras's kwarg."""
    if node.kwargs.get("spread_inputs") and type(layer).__name__ in RECURRENT:
        first, *states = node.args
        return {"args": [ref(first)], "kwargs": {"initial_state": [ref(s) for s in states]}}
    return {"args": [ref(node.args)], "kwargs": {}}


def keras_layers(model: Any) -> list[Any]:
    """``model.layers`` as Keras 3 lists them (a functional model's inputs included)."""
    Functional, _ = model_classes()
    if isinstance(model, Functional):
        return keras_layer_order(model._in, model._out)[0]
    return list(model._layers)


def _compile_to_keras(model: Any) -> dict[str, Any] | None:
    config = model.get_compile_config() if getattr(model, "compiled", False) else None
    if not config:
        return None
    optimizer = config["optimizer"]
    opt_config = dict(optimizer["config"])
    lr = opt_config.get("learning_rate")
    if isinstance(lr, dict) and "class_name" in lr:
        opt_config["learning_rate"] = keras_object(lr["class_name"], lr.get("config", {}),
                                                   "keras.optimizers.schedules")
    return {"optimizer": keras_object(optimizer["class_name"], opt_config, "keras.optimizers"),
            "loss": _spec_to_keras(config["loss"], "keras.losses"),
            "loss_weights": config.get("loss_weights"),
            "metrics": _spec_to_keras(config.get("metrics"), "keras.metrics"),
            "weighted_metrics": None, "run_eagerly": False, "steps_per_execution": 1,
            "jit_compile": True}


def _spec_to_keras(spec: Any, module: str) -> Any:
    if isinstance(spec, dict) and "class_name" in spec:
        return keras_object(spec["class_name"], spec.get("config", {}), module)
    if isinstance(spec, dict):
        return {k: _spec_to_keras(v, module) for k, v in spec.items()}
    if isinstance(spec, list):
        return [_spec_to_keras(v, module) for v in spec]
    return spec


def model_config(model: Any) -> dict[str, Any]:
    """The whole ``config.json`` object for ``model``."""
    Functional, Sequential = model_classes()
    if not isinstance(model, Sequential | Functional):
        raise ValueError(
            f"Model '{model.name}' is a subclassed model ({type(model).__name__}); Keras's "
            f"'.keras' format stores its architecture as code Keras would have to import. "
            f"Rewrite it as a Sequential or functional model, or save it in unafraid's own "
            f"format (model.save('m.safetensors')).")
    config = layer_to_keras(model)
    compile_config = _compile_to_keras(model)
    if compile_config is not None:
        config["compile_config"] = compile_config
    return config


def _write_layer_weights(h5: Any, model: Any, prefix: str) -> None:
    Functional, Sequential = model_classes()
    layers = keras_layers(model)
    for layer, path in zip(layers, weight_paths(layers, f"{prefix}layers"), strict=True):
        group = h5.create_group(path).create_group("vars")
        group.attrs["name"] = layer.name
        if isinstance(layer, Sequential | Functional):
            _write_layer_weights(h5, layer, f"{path}/")
            continue
        spec = LAYERS.get(type(layer).__name__, KerasLayer(type(layer).__name__))
        for under, variables in spec.weight_groups(layer):
            if under:
                group = h5.create_group(f"{path}/{under}").create_group("vars")
            for i, a in enumerate(spec.weights_to_keras(layer, [w.data for w in variables])):
                group.create_dataset(str(i), data=a)


class OptimizerStateError(ValueError):
    """An optimizer whose state a ``.keras`` file cannot hold exactly: it is refused rather than
    written without part of its state (save as ``.safetensors`` to keep all of it)."""


def keras_state_keys(optimizer: Any, variables: list[Any]) -> list[str]:
    """The ``state_dict`` keys of ``optimizer`` in the order of Keras 3's ``optimizer.variables``,
    for ``variables`` (the model's trainable weights), after the step count and learning rate.

    Raises
    ------
    OptimizerStateError
        For an optimizer class with no Keras 3 counterpart in :data:`OPTIMIZER_SLOTS`.

    Examples
    --------
    >>> import numpy as np, unafraid as uf
    >>> w = uf.Variable(np.zeros(2, np.float32))
    >>> keras_state_keys(uf.optimizers.Nadam(use_ema=True), [w])
    ['0/average', '0/m', '0/v', 'u_product']
    """
    name = type(optimizer).__name__
    if name not in OPTIMIZER_SLOTS:
        raise OptimizerStateError(
            f"{name} ('{optimizer.name}') has no Keras 3 counterpart whose state unafraid can write "
            f"(those that cross: {', '.join(OPTIMIZER_SLOTS)}). Save as '.safetensors' to keep its "
            f"state, or compile with one of those before saving as '.keras'.")
    slots = optimizer.state_slots()
    keys = []
    for group in [*OPTION_SLOTS, *OPTIMIZER_SLOTS[name]]:
        present = [s for s in group if s in slots]
        for i, var in enumerate(variables):
            keys += [f"{i}/{s}" for s in present if s in EVERY_VARIABLE_SLOTS
                     or not getattr(var, "overwrite_with_gradient", False)]
    return keys + list(OPTIMIZER_GLOBALS.get(name, ()))


def _check_built_on(optimizer: Any, variables: list[Any]) -> None:
    """Keras builds the optimizer on the model's trainable weights: refuse state kept for others."""
    built = optimizer.built_variables
    if [id(v) for v in built] != [id(v) for v in variables]:
        raise OptimizerStateError(
            f"{type(optimizer).__name__} ('{optimizer.name}') holds state for {len(built)} "
            f"variables ({', '.join(str(getattr(v, 'name', '?')) for v in built[:6])}...), which are "
            f"not the model's {len(variables)} trainable weights in order; Keras 3 keeps optimizer "
            f"state for exactly those, so part of it would be lost. Save as '.safetensors' (which "
            f"keeps it), or set the layers' `trainable` back as they were when training.")


def optimizer_arrays(optimizer: Any, variables: list[Any] | None = None) -> list[np.ndarray]:
    """The optimizer's state in Keras 3's order: step count, learning rate (a float), the
    options' slots (EMA averages, gradient sums), the rule's slots, shared state (Nadam's
    ``u_product``).

    The step count is the number of calls (``state_dict()['iterations']``), which Keras stores
    even under gradient accumulation (its ``optimizer.iterations`` is that divided by the
    accumulation steps). An optimizer not built yet (compiled, never trained) gives its
    initial state for ``variables`` (the model's trainable weights), which is what Keras builds
    on loading.

    Raises
    ------
    OptimizerStateError
        For an optimizer with no Keras counterpart, or built on other variables than
        ``variables`` (when given).
    """
    if optimizer.built:
        built = optimizer.built_variables
        if variables is not None:
            _check_built_on(optimizer, list(variables))
        state = optimizer.state_dict()
    else:
        built = list(variables or [])
        state = optimizer.initial_state(built)
    keys = keras_state_keys(optimizer, built)
    arrays = [np.asarray(state["iterations"], np.int64)]
    if isinstance(optimizer._learning_rate, float):
        arrays.append(np.asarray(optimizer._learning_rate, np.float32))
    return arrays + [state[k] for k in keys]


def weights_bytes(model: Any) -> bytes:
    """``model.weights.h5``'s bytes, in Keras 3's layout."""
    h5py = require_h5py()
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as h5:
        _write_layer_weights(h5, model, "")
        h5.create_group("vars").attrs["name"] = model.name
        optimizer = getattr(model, "optimizer", None)
        if getattr(model, "compiled", False) and optimizer is not None and (
                optimizer.built or model.built):
            group = h5.create_group("optimizer").create_group("vars")
            group.attrs["name"] = optimizer.name
            for i, a in enumerate(optimizer_arrays(optimizer, model.trainable_weights)):
                group.create_dataset(str(i), data=a)
    return buffer.getvalue()


def unafraid_state(model: Any) -> dict[str, Any]:
    """What Keras has no place for: the random generators' states, the seed, the versions, and
    the weights ``exclude_from_weight_decay`` exempts (positions in ``model.weights``)."""
    from .. import __version__
    from .. import random as _random
    out = {"rng_states": [_random.generator_state(g) for g in model.random_generators()],
           "seed": _random.get_seed(), "unafraid_version": __version__}
    if getattr(model, "compiled", False):
        excluded = weight_decay_exclusions(getattr(model, "optimizer", None), model.weights)
        if excluded is not None:
            out["weight_decay_exclusions"] = excluded
            warnings.warn(
                f"{model.name}: Keras 3 keeps no record of exclude_from_weight_decay (its "
                f"optimizer config has none), so Keras will decay the {len(excluded)} exempt "
                f"weights ({', '.join(str(model.weights[i].name) for i in excluded)}) unless you call "
                f"model.optimizer.exclude_from_weight_decay(...) again after "
                f"keras.saving.load_model. unafraid restores it from the file.", stacklevel=4)
    return out


def save(model: Any, filepath: str | os.PathLike, overwrite: bool = True) -> None:
    """Write ``model`` as a Keras 3 ``.keras`` file (atomically), which ``keras.saving.load_model``
    opens and trains on.

    Parameters
    ----------
    model : Sequential or functional Model
        Its layers must be in :data:`LAYERS`. A compiled model's optimizer
        (every one of :data:`OPTIMIZER_SLOTS`: SGD, Adam, AdamW, RMSprop, Adagrad,
        Nadam, Adamax, Adadelta, Lion, Lamb, Ftrl, ScheduleFreeAdamW) and all its state are included,
        with ``use_ema``'s averages and ``gradient_accumulation_steps``'s sums, so
        ``fit`` in Keras continues rather than restarts.
    filepath : path
        Usually ends in ``.keras``.
    overwrite : bool, default True

    Raises
    ------
    OptimizerStateError
        For an optimizer whose state a ``.keras`` file cannot hold exactly (a
        class of your own; state kept for other weights than the trainable
        ones). Nothing is written.

    Notes
    -----
    The archive also holds ``unafraid.json`` (the random generators' states,
    the seed, versions, and the weights ``exclude_from_weight_decay`` exempts),
    which Keras ignores and unafraid reads back, so
    ``fit`` continued in unafraid from a ``.keras`` file is bit-identical to
    an uninterrupted run.
    """
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{filepath} exists and overwrite=False; choose another path.")
    config = json.dumps(model_config(model))
    metadata = json.dumps({"keras_version": KERAS_VERSION,
                           "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")})
    weights = weights_bytes(model)
    extra = json.dumps(unafraid_state(model))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:  # stored, not compressed, as Keras writes it
        zf.writestr(METADATA_FILE, metadata)
        zf.writestr(CONFIG_FILE, config)
        zf.writestr(WEIGHTS_FILE, weights)
        zf.writestr(UNAFRAID_FILE, extra)
    atomic_write_bytes(filepath, buffer.getvalue())


# ---- reading: Keras -> unafraid ---------------------------------------------------------------
def _refuse(path: Any, message: str) -> ModelFileError:
    return ModelFileError(f"{path}: {message}")


def _read_member(zf: zipfile.ZipFile, name: str, file_size: int, path: Any, limit: int) -> bytes:
    """A zip member's bytes, refused if it claims more than the archive could honestly hold."""
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise _refuse(path, f"the archive has no '{name}' (members: "
                            f"{', '.join(zf.namelist()[:10])}); it is not a Keras 3 '.keras' "
                            f"file.") from None
    cap = min(limit, MAX_EXPANSION * max(info.compress_size, 1), MAX_EXPANSION * file_size)
    if info.file_size > cap:
        raise _refuse(path, f"the member '{name}' claims {info.file_size:,} bytes unpacked from "
                            f"{info.compress_size:,} stored (the whole file is {file_size:,} "
                            f"bytes): refused as a decompression bomb.")
    try:
        with zf.open(info) as f:
            data = f.read(info.file_size + 1)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError) as e:
        raise _refuse(path, f"the member '{name}' cannot be read ({type(e).__name__}: {e}).") from None
    if len(data) != info.file_size:
        raise _refuse(path, f"the member '{name}' is not the size its header says.")
    return data


def _json_member(data: bytes, name: str, path: Any) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as e:
        raise _refuse(path, f"'{name}' is not valid JSON ({type(e).__name__}).") from None


def read_archive(filepath: str | os.PathLike) -> tuple[dict[str, Any], bytes, Any]:
    """``(config, weights h5 bytes, unafraid.json or None)`` of a ``.keras`` file, every size
    checked first."""
    file_size = os.path.getsize(filepath)
    try:
        zf = zipfile.ZipFile(filepath)
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise _refuse(filepath, f"not a readable zip archive ({type(e).__name__}: {e}); a Keras 3 "
                                f"'.keras' file is a zip of config.json and model.weights.h5.") from None
    with zf:
        config = _json_member(_read_member(zf, CONFIG_FILE, file_size, filepath, MAX_CONFIG_BYTES),
                              CONFIG_FILE, filepath)
        weights = _read_member(zf, WEIGHTS_FILE, file_size, filepath, MAX_EXPANSION * file_size)
        extra = (_json_member(_read_member(zf, UNAFRAID_FILE, file_size, filepath, MAX_UNAFRAID_BYTES),
                              UNAFRAID_FILE, filepath) if UNAFRAID_FILE in zf.namelist() else None)
    if not isinstance(config, dict):
        raise _refuse(filepath, "config.json does not describe a model (not a JSON object).")
    return config, weights, extra


def _check_keras_object(spec: Any, path: Any, allowed: Any) -> tuple[str, dict[str, Any]]:
    """``(class_name, config)`` of a Keras object, refused unless it is a known built-in."""
    if not isinstance(spec, dict) or not isinstance(spec.get("class_name"), str):
        raise _refuse(path, f"malformed object in config.json: {str(spec)[:200]}")
    name = spec["class_name"]
    module = spec.get("module")
    if name == "Lambda":
        raise _refuse(path, "the model has a Lambda layer "
                            f"('{spec.get('config', {}).get('name', '?')}'). A Lambda layer is "
                            "Python code stored in the file, and unafraid never runs code from a "
                            "file. Replace it by built-in layers in Keras and save again.")
    if isinstance(module, str) and module.startswith("keras.src.ops"):
        raise _refuse(path, _operation_refused(name))
    if name in REFUSED and module in (None, "keras.layers"):
        config = spec.get("config")
        label = str(config.get("name", "?"))[:100] if isinstance(config, dict) else "?"
        raise _refuse(path, f"layer '{label}' ({name}): {REFUSED[name]}.")
    registered = spec.get("registered_name")
    custom = (module is not None and not (isinstance(module, str) and module.split(".")[0] == "keras")
              ) or (registered not in (None, name) and name in allowed)
    if custom or name not in allowed:
        label = f"'{registered}'" if isinstance(registered, str) and registered != name else f"'{name}'"
        raise _refuse(path, f"the model uses the class {label[:100]}"
                            + (f" from module '{str(module)[:100]}'" if module else "")
                            + f", which unafraid cannot load (no code from a file is run). "
                            f"unafraid loads these Keras classes: {', '.join(sorted(allowed))}.")
    config = spec.get("config")
    if not isinstance(config, dict):
        raise _refuse(path, f"'{name}' has no config.")
    return name, config


def _operation_refused(name: str) -> str:
    return (f"the model applies the Keras operation '{name[:100]}' directly (Keras writes one, e.g. "
            f"NotEqual, when a mask from Masking or Embedding(mask_zero=True) reaches a layer that "
            f"reads it, such as GlobalAveragePooling1D); unafraid loads layers only (and the "
            f"masks of its recurrent layers). Remove the mask in Keras (mask_zero=False) or "
            f"replace the operation by layers.")


@dataclass(frozen=True)
class KerasMask:
    """A mask Keras writes as operations: ``NotEqual(source, value)``, then ``Any(axis=-1)`` for
    ``Masking`` (``reduced``); ``Embedding(mask_zero=True)``'s is ``NotEqual(ids, 0)``."""

    source: Any
    value: Any
    reduced: bool = False


MASK_OPERATIONS = ("NotEqual", "Any")


def _is_mask_operation(spec: Any) -> bool:
    return (isinstance(spec, dict) and spec.get("module") == "keras.src.ops.numpy"
            and spec.get("class_name") in MASK_OPERATIONS)


def _mask_operation(spec: dict[str, Any], outputs: dict[str, list[Any]], path: Any) -> KerasMask:
    """The mask one of Keras's mask operations computes; anything else is refused."""
    name, calls, config = spec["class_name"], spec.get("inbound_nodes"), spec.get("config") or {}
    call = calls[0] if isinstance(calls, list) and len(calls) == 1 else None
    args = call.get("args") if isinstance(call, dict) else None
    if not isinstance(args, list) or call.get("kwargs"):
        raise _refuse(path, _operation_refused(name))
    if name == "NotEqual" and len(args) == 2 and isinstance(args[1], int | float):
        source = _tensors(args[0], outputs, path)
        if not isinstance(source, KerasMask):
            return KerasMask(source, args[1])
    if name == "Any" and len(args) == 1 and config.get("axis") == -1 and not config.get("keepdims"):
        inner = _tensors(args[0], outputs, path)
        if isinstance(inner, KerasMask) and not inner.reduced:
            return KerasMask(inner.source, inner.value, reduced=True)
    raise _refuse(path, _operation_refused(name))


def _mask_reaches(x: Any, mask: KerasMask) -> bool:
    """Whether unafraid's own mask passing gives the layer called on ``x`` the mask Keras wrote:
    back from ``x``, through layers that pass a mask on, to the Masking or Embedding that makes
    it from ``mask.source``."""
    t = x
    while getattr(t, "node", None) is not None and t.node.args is not None:
        layer, args = t.node.layer, t.node.args
        kind = type(layer).__name__
        if args is mask.source and (
                (kind == "Embedding" and layer.mask_zero and mask.value == 0 and not mask.reduced)
                or (kind == "Masking" and mask.reduced and layer.mask_value == mask.value)):
            return True
        if (_makes_mask(layer) or not _passes_mask(layer) or t.index != 0
                or getattr(layer, "return_sequences", True) is False or isinstance(args, list)):
            return False
        t = args
    return False


def _plain(value: Any, path: Any) -> Any:
    """A nested Keras object (initializer, regularizer, dtype policy) as unafraid's form."""
    if isinstance(value, dict) and "class_name" in value:
        module = value.get("module")
        if module is not None and not (isinstance(module, str) and module.startswith("keras")):
            raise _refuse(path, f"the class '{str(value['class_name'])[:100]}' comes from module "
                                f"'{str(module)[:100]}', which unafraid cannot load.")
        if value["class_name"] in ("DTypePolicy", "FloatDTypePolicy"):
            return _dtype_name(value.get("config"), path)
        config = value.get("config", {})
        if isinstance(config, dict):  # Keras-only arguments left at their defaults
            config = {k: v for k, v in config.items()
                      if not (k in NESTED_KERAS_ONLY and v == NESTED_KERAS_ONLY[k])}
        return {"class_name": value["class_name"], "config": config}
    return value


def _dtype_name(config: Any, path: Any) -> str:
    name = config.get("name") if isinstance(config, dict) else None
    if not isinstance(name, str) or name.startswith("mixed"):
        raise _refuse(path, f"unsupported dtype policy {str(config)[:100]}: unafraid computes in "
                            f"float32 or float64.")
    return name


def layer_from_keras(spec: Any, path: Any) -> Any:
    """An unafraid layer (or model) from one Keras 3 config object; only table classes."""
    name, config = _check_keras_object(spec, path, set(LAYERS) | set(MODELS))
    if name == "Sequential":
        return sequential_from_keras(config, path)
    if name == "Functional":
        return functional_from_keras(config, path)
    table = LAYERS[name]
    config = {k: layer_from_keras(v, path) if k in table.nested else _plain(v, path)
              for k, v in config.items()}
    for key, default in table.keras_only.items():
        value = config.pop(key, default)
        if value != default:
            raise _refuse(path, f"layer '{config.get('name')}' ({name}) sets {key}={value!r}, "
                                f"which unafraid does not support (only {default!r}).")
    try:
        return _unafraid_class(name).from_config(table.from_keras(config))
    except (TypeError, ValueError) as e:
        raise _refuse(path, f"layer '{config.get('name')}' ({name}) cannot be re-created: "
                            f"{str(e)[:300]}") from None


def sequential_from_keras(config: dict[str, Any], path: Any) -> Any:
    _, Sequential = model_classes()
    layers = config.get("layers")
    if not isinstance(layers, list):
        raise _refuse(path, "the Sequential model has no list of layers.")
    model = Sequential(name=config.get("name"), trainable=config.get("trainable", True))
    for spec in layers:
        model.add(layer_from_keras(spec, path))
    shape = config.get("build_input_shape")
    if shape is not None and not model.built:
        model.build(tuple(shape))
    return model


def functional_from_keras(config: dict[str, Any], path: Any) -> Any:
    """Rebuild the graph by calling each layer on its ``inbound_nodes``' tensors."""
    Functional, _ = model_classes()
    specs = config.get("layers")
    if not isinstance(specs, list):
        raise _refuse(path, "the functional model has no list of layers.")
    made: dict[str, Any] = {}      # layer name -> layer
    outputs: dict[str, list[Any]] = {}  # layer name -> the output of each call
    for spec in specs:
        if _is_mask_operation(spec):
            outputs[str(spec.get("name"))] = [_mask_operation(spec, outputs, path)]
            continue
        layer = layer_from_keras(spec, path)
        name = spec.get("name", layer.name)
        made[name] = layer
        calls = spec.get("inbound_nodes", [])
        if _class_name_of(spec) == "InputLayer":
            outputs[name] = [layer.output]
            continue
        outputs[name] = []
        for call in calls if isinstance(calls, list) else []:
            args = call.get("args") if isinstance(call, dict) else None
            kwargs = call.get("kwargs", {}) if isinstance(call, dict) else None
            if isinstance(kwargs, dict) and kwargs.get("mask", 0) is None:
                kwargs = {k: v for k, v in kwargs.items() if k != "mask"}  # no mask: the default
            known = {"training", "initial_state", "mask"} if _class_name_of(spec) in RECURRENT else {
                "training"}
            if isinstance(kwargs, dict) and "mask" in kwargs and "mask" not in known:
                mask = _tensors(kwargs["mask"], outputs, path)
                raise _refuse(path, _operation_refused("NotEqual" if isinstance(mask, KerasMask)
                                                       else "mask"))
            if not isinstance(args, list) or len(args) != 1 or not isinstance(kwargs, dict) or (
                    set(kwargs) - known):
                raise _refuse(path, f"layer '{name}' has a call with arguments unafraid cannot "
                                    f"follow: {str(call)[:200]}")
            x, states = _tensors(args[0], outputs, path), kwargs.get("initial_state")
            if "mask" in kwargs:  # a recurrent layer: the mask must be the one unafraid passes on
                mask = _tensors(kwargs["mask"], outputs, path)
                if not (isinstance(mask, KerasMask) and _mask_reaches(x, mask)):
                    raise _refuse(path, f"layer '{name}' is given a mask that unafraid's mask "
                                        f"passing would not give it; {_operation_refused('NotEqual')}")
            outputs[name].append(layer(x) if states is None else
                                 layer(x, initial_state=_tensors(states, outputs, path)))

    def pick(refs: Any) -> Any:
        if isinstance(refs, list) and len(refs) == 3 and isinstance(refs[0], str):
            return _history(refs, outputs, path)
        if isinstance(refs, list):
            return [pick(r) for r in refs]
        raise _refuse(path, f"malformed input_layers/output_layers: {str(refs)[:200]}")

    return Functional(pick(config.get("input_layers")), pick(config.get("output_layers")),
                      name=config.get("name"), trainable=config.get("trainable", True))


def _class_name_of(spec: Any) -> str | None:
    return spec.get("class_name") if isinstance(spec, dict) else None


def _tensors(arg: Any, outputs: dict[str, list[Any]], path: Any) -> Any:
    if isinstance(arg, dict) and arg.get("class_name") == "__keras_tensor__":
        return _history(arg.get("config", {}).get("keras_history"), outputs, path)
    if isinstance(arg, list):
        return [_tensors(a, outputs, path) for a in arg]
    raise _refuse(path, f"unexpected call argument {str(arg)[:200]}")


def _history(ref: Any, outputs: dict[str, list[Any]], path: Any) -> Any:
    if not (isinstance(ref, list) and len(ref) == 3 and isinstance(ref[0], str)
            and all(isinstance(i, int) for i in ref[1:])):
        raise _refuse(path, f"malformed tensor reference {str(ref)[:200]}")
    calls = outputs.get(ref[0], [])
    if not 0 <= ref[1] < len(calls):
        raise _refuse(path, f"a tensor refers to call {ref[1]} of layer '{ref[0][:100]}', which "
                            f"does not come before it.")
    out = calls[ref[1]]
    if isinstance(out, list):
        if not 0 <= ref[2] < len(out):
            raise _refuse(path, f"a tensor refers to output {ref[2]} of '{ref[0][:100]}'.")
        return out[ref[2]]
    return out


# ---- reading the weights -----------------------------------------------------------------------
def open_weights(data: bytes, path: Any) -> tuple[Any, int]:
    """The weights h5 file, opened from memory, with every dataset checked before any is read,
    and the number of values stored for layers (which bounds what the architecture may allocate)."""
    h5py = require_h5py()
    try:
        h5 = h5py.File(io.BytesIO(data), "r")
    except Exception as e:  # OSError for most corrupt files, others from HDF5's parser
        raise _refuse(path, f"model.weights.h5 is not a readable HDF5 file ({e}).") from None
    problems: list[str] = []
    layer_values = [0]

    def check(name: str, obj: Any) -> None:
        if isinstance(obj, h5py.Dataset):
            if name.startswith("layers/"):
                layer_values[0] += math.prod(obj.shape or ())
            declared = math.prod(obj.shape or ()) * obj.dtype.itemsize
            if obj.external or obj.is_virtual:
                problems.append(f"dataset '{name}' points outside the file")
            elif declared > MAX_EXPANSION * obj.id.get_storage_size() + 4096:
                problems.append(f"dataset '{name}' declares {declared:,} bytes but stores "
                                f"{obj.id.get_storage_size():,} (a header bomb)")
            elif obj.dtype.kind not in "fiu":
                problems.append(f"dataset '{name}' has dtype {obj.dtype}")

    try:
        for name in _walk_links(h5, problems):
            check(name, h5[name])
    except Exception as e:  # HDF5's parser reports a corrupt file as RuntimeError, OSError, ...
        h5.close()
        raise _refuse(path, f"model.weights.h5 is malformed ({type(e).__name__}: {e}).") from None
    if problems:
        h5.close()
        raise _refuse(path, f"model.weights.h5 is refused: {'; '.join(problems[:3])}.")
    return h5, layer_values[0]


def _walk_links(h5: Any, problems: list[str]) -> list[str]:
    """Names of all objects, refusing soft and external links (which may point anywhere)."""
    import h5py
    names, stack = [], [""]
    while stack:
        group = stack.pop()
        node = h5[group] if group else h5
        for key in node:
            full = f"{group}/{key}" if group else key
            link = node.get(key, getlink=True)
            if isinstance(link, h5py.SoftLink | h5py.ExternalLink):
                problems.append(f"'{full}' is a {type(link).__name__}")
                continue
            names.append(full)
            if isinstance(node[key], h5py.Group):
                stack.append(full)
    return names


def _vars(h5: Any, path: str) -> list[np.ndarray]:
    if path not in h5 or "vars" not in h5[path]:
        return []
    group = h5[path]["vars"]
    keys = sorted(group, key=lambda k: int(k) if k.isdigit() else -1)
    if keys != [str(i) for i in range(len(keys))]:
        raise ValueError(f"'{path}/vars' holds {keys[:5]}, not 0, 1, 2...")
    return [np.asarray(group[k]) for k in keys]


def assign_layer_weights(model: Any, h5: Any, prefix: str, path: Any) -> None:
    """Set every layer's weights from its Keras group (all checked before anything is set)."""
    pending: list[tuple[Any, np.ndarray]] = []
    _collect(model, h5, prefix, path, pending)
    for var, a in pending:
        var.assign(a)


def _collect(model: Any, h5: Any, prefix: str, path: Any, pending: list[Any]) -> None:
    Functional, Sequential = model_classes()
    layers = keras_layers(model)
    for layer, group in zip(layers, weight_paths(layers, f"{prefix}layers"), strict=True):
        if isinstance(layer, Sequential | Functional):
            _collect(layer, h5, f"{group}/", path, pending)
            continue
        spec = LAYERS.get(type(layer).__name__, KerasLayer(type(layer).__name__))
        for under, mine in spec.weight_groups(layer):
            where = f"{group}/{under}" if under else group
            arrays = spec.weights_from_keras(layer, _vars(h5, where))
            if len(arrays) != len(mine):
                raise _refuse(path, f"layer '{layer.name}' has {len(mine)} weight arrays but the "
                                    f"file holds {len(arrays)} under '{where}'.")
            for var, a in zip(mine, arrays, strict=True):
                if a.shape != var.shape:
                    raise _refuse(path, f"weight '{var.name}' has shape {var.shape} but the file "
                                        f"holds {a.shape} under '{where}'. Nothing was loaded.")
                pending.append((var, a.astype(var.dtype, copy=False)))


def _restore_step_and_rate(optimizer: Any, stored: list[np.ndarray], has_lr: bool) -> None:
    """The step count, and the learning rate when Keras's differs from the config's (set after
    compile); the config's exact float is kept otherwise."""
    if has_lr and np.float32(optimizer._learning_rate) != np.float32(stored[1]):
        optimizer.learning_rate = float(stored[1])
    optimizer.iterations = int(np.asarray(stored[0]))


def _restore_optimizer(model: Any, h5: Any, path: Any) -> None:
    """Build the optimizer on the model's trainable weights and load Keras's state into it."""
    optimizer = model.optimizer
    stored = _vars(h5, "optimizer")
    if not stored:
        return
    has_lr = isinstance(optimizer._learning_rate, float)
    if len(stored) == 1 + has_lr:  # Keras's optimizer was never built: a step count, no slots
        _restore_step_and_rate(optimizer, stored, has_lr)
        return
    variables = list(model.trainable_weights)
    try:
        keys = keras_state_keys(optimizer, variables)
    except OptimizerStateError as e:
        raise _refuse(path, str(e)) from None
    expected = 1 + has_lr + len(keys)
    if len(stored) != expected:
        raise _refuse(path, f"the optimizer state holds {len(stored)} arrays; {type(optimizer).__name__}"
                            f"{_options(optimizer)} on this model's {len(variables)} trainable weights "
                            f"needs {expected}. Load with compile=False and compile again.")
    optimizer.build(variables)
    state = optimizer.initial_state(variables)  # the slots Keras keeps none for stay as built
    state["iterations"] = np.asarray(stored[0]).astype(np.int64)
    for key, a in zip(keys, stored[1 + has_lr:], strict=True):
        state[key] = a.astype(state[key].dtype, copy=False)
    optimizer.load_state_dict(state)
    _restore_step_and_rate(optimizer, stored, has_lr)


def _options(optimizer: Any) -> str:
    """`` (use_ema=True, gradient_accumulation_steps=2)``: the options that add state, if set."""
    on = [f"{k}={getattr(optimizer, k)!r}" for k in ("use_ema", "gradient_accumulation_steps")
          if getattr(optimizer, k)]
    return f" ({', '.join(on)})" if on else ""


def _compile_from_keras(model: Any, config: dict[str, Any], path: Any) -> None:
    """``model.compile`` with Keras's optimizer, loss(es) and metrics as unafraid objects."""
    from .. import losses, metrics, optimizers
    compile_config = config.get("compile_config")
    if not compile_config:
        return
    clean = {k: _strip(compile_config.get(k), path) for k in ("optimizer", "loss", "loss_weights",
                                                              "metrics")}
    model.compile(optimizer=optimizers.get(clean["optimizer"]),
                  loss=_objects(clean["loss"], losses.deserialize),
                  loss_weights=clean["loss_weights"],
                  metrics=_objects(clean["metrics"], metrics.deserialize))


def _objects(spec: Any, deserialize: Callable[[Any], Any]) -> Any:
    """Names stay names; ``{"class_name", "config"}`` become objects, in lists and per-output dicts."""
    if isinstance(spec, dict) and "class_name" in spec:
        return deserialize(spec)
    if isinstance(spec, dict):
        return {k: _objects(v, deserialize) for k, v in spec.items()}
    if isinstance(spec, list):
        return [_objects(v, deserialize) for v in spec]
    return spec


def _strip(value: Any, path: Any) -> Any:
    """Keras's nested objects as unafraid's ``{"class_name", "config"}`` (no module names)."""
    if isinstance(value, dict) and "class_name" in value:
        module = value.get("module")
        if module is not None and not (isinstance(module, str) and module.startswith("keras")):
            raise _refuse(path, f"the training configuration uses '{str(value['class_name'])[:100]}' "
                                f"from module '{str(module)[:100]}'; load with compile=False.")
        return {"class_name": value["class_name"], "config": _strip(value.get("config", {}), path)}
    if isinstance(value, dict):
        return {k: _strip(v, path) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip(v, path) for v in value]
    return value


def load(filepath: str | os.PathLike, compile: bool = True) -> Any:  # noqa: A002
    """Open a Keras 3 ``.keras`` file as an unafraid model; no code from the file runs.

    Parameters
    ----------
    filepath : path
        Written by Keras 3 (``model.save('m.keras')``) or by unafraid.
    compile : bool, default True
        Restore the optimizer, loss and metrics, and the optimizer's state.

    Returns
    -------
    Sequential or functional Model
        With Keras's weights (float32), ready for ``predict`` and ``fit``.

    Raises
    ------
    ModelFileError
        For a layer class not in :data:`LAYERS` (a ``Lambda`` or custom layer
        is named), sizes the file cannot hold, or a malformed archive.
    """
    from ..layers.base import weight_budget
    config, weights, extra = read_archive(filepath)
    h5, layer_values = open_weights(weights, filepath)
    try:
        try:
            with weight_budget(8 * layer_values):
                model = layer_from_keras(config, filepath)
        except ModelFileError:
            raise
        except Exception as e:  # a crafted config (RecursionError, MemoryError...): never a crash
            raise _refuse(filepath, f"could not re-create the architecture ({type(e).__name__}: "
                                    f"{str(e)[:300]}).") from None
        Functional, Sequential = model_classes()
        if not isinstance(model, Sequential | Functional):
            raise _refuse(filepath, f"config.json holds a single {type(model).__name__} layer, "
                                    f"not a model.")
        try:
            assign_layer_weights(model, h5, "", filepath)
            if compile:
                _compile_from_keras(model, config, filepath)
                if getattr(model, "compiled", False) and model.optimizer is not None:
                    _restore_optimizer(model, h5, filepath)
        except ModelFileError:
            raise
        except Exception as e:
            raise _refuse(filepath, f"the weights or training configuration could not be restored "
                                    f"({type(e).__name__}: {str(e)[:300]}). To use the "
                                    f"architecture anyway: load_model(path, compile=False).") from None
    finally:
        h5.close()
    if isinstance(extra, dict) and isinstance(extra.get("rng_states"), list):
        restore_generators(model, extra["rng_states"], filepath)
    if compile and getattr(model, "compiled", False) and isinstance(extra, dict) and \
            "weight_decay_exclusions" in extra:
        restore_weight_decay_exclusions(model.optimizer, model.weights,
                                        extra["weight_decay_exclusions"], filepath)
    return model


def is_keras_archive(filepath: str | os.PathLike) -> bool:
    """Whether ``filepath`` is a regular file holding a zip archive (how every ``.keras`` file
    starts). Anything else (a FIFO, a folder) is left to the loader's own checks: opening a FIFO
    would wait forever for a writer."""
    if not os.path.isfile(filepath):
        return False
    try:
        with open(filepath, "rb") as f:
            return f.read(4) == b"PK\x03\x04"
    except OSError:
        return False
