"""Saving and loading models: JSON for the architecture, safetensors for the numbers.

One file holds everything. It is a safetensors file: a JSON header, then raw
little-endian arrays. The header's metadata holds the architecture and
training configuration as JSON, the weight names, the optimizer's and random
generators' states, the seed and the versions. Loading parses JSON and arrays
only: no pickle, no eval, and no import of names taken from the file; layer
classes come from a fixed table of unafraid's built-in layers.

Writes are atomic (:mod:`unafraid.atomic`): the file is written under a
temporary name in the same folder, flushed to disk, then renamed over the
target, so a crash mid-save leaves the previous file intact.
"""

from __future__ import annotations

import inspect
import json
import math
import os
import platform
from pathlib import Path
from typing import Any

import numpy as np

from .. import registry
from ..atomic import atomic_write_bytes, check_target
from ..optimizers import Adam
from ..registry import did_you_mean
from .common import (
    LoadStatus,
    ModelFileError,
    restore_generators,
    restore_weight_decay_exclusions,
    weight_decay_exclusions,
)
from .custom_objects import custom_object_scope, find_custom_object, get_registered_name

FORMAT = "unafraid.model"
FORMAT_VERSION = 2  # 2: Adam's state is the paper's m and v (1 stored m / (1 - beta_1), v / (1 - beta_2))


MODEL_CLASSES = ("Sequential", "Functional")


# ---- layers <-> JSON ------------------------------------------------------------------------
def layer_classes() -> dict[str, type]:
    """The classes a model file may build, by class name: the registry's layers.

    ``unafraid.layers`` registers its built-in layers and ``unafraid.models`` adds
    ``Sequential`` and ``Functional`` when they are imported (``unafraid.models.load_model``
    and ``keras.models.load_model`` import them). Nothing else can be built from a file.
    """
    return dict(registry.names("layer").items())


def serialize_layer(layer: Any) -> dict[str, Any]:
    """``{'class_name': ..., 'config': ...}`` for a layer or model.

    A class of your own (a subclassed ``Model`` or ``Layer``) is written as Keras 3 writes it:
    its class name (``'package>Name'`` when registered), its ``get_config()`` and the input
    shape it was built on; loading it needs the class (see :mod:`unafraid.io.custom_objects`).
    """
    name = type(layer).__name__
    if layer_classes().get(name) is type(layer):
        return {"class_name": name, "config": layer.get_config()}
    spec = {"class_name": name, "registered_name": get_registered_name(type(layer)),
            "config": custom_config(layer), "custom": True}
    if layer._build_shape is not None:
        spec["build_config"] = {"input_shape": _shape_list(layer._build_shape)}
    return spec


def custom_config(layer: Any) -> dict[str, Any]:
    """The config saved for a layer of the user's own class, checked to re-create it.

    Its own ``get_config()`` is used as it is; without one, the base config is kept to the
    arguments ``__init__`` accepts (Keras 3's rule for classes without ``get_config``). A class
    whose ``__init__`` needs arguments the config lacks is refused, naming them and the fix.
    """
    from ..layers.base import Layer
    params = inspect.signature(type(layer).__init__).parameters
    config = layer.get_config()
    own = type(layer).get_config is not Layer.get_config
    if not own and not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        config = {k: v for k, v in config.items() if k in params}
    required = [p for p, v in params.items() if p != "self" and v.default is inspect.Parameter.empty
                and v.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)]
    missing = [p for p in required if p not in config]
    if missing:
        raise ValueError(
            f"Cannot save the architecture of '{layer.name}' ({type(layer).__name__}): its "
            f"__init__ needs {missing}, which its get_config() does not return, and a saved file "
            f"holds no code. Define get_config() returning them (Keras 3 needs the same): "
            f"def get_config(self): return {{**super().get_config(), "
            f"{', '.join(repr(m) + ': self.' + m for m in missing)}}}; or save the weights "
            f"only: model.save_weights(path).")
    return config


def _shape_list(shape: Any) -> Any:
    if isinstance(shape, list):
        return [_shape_list(s) for s in shape]
    return [None if d is None else int(d) for d in shape]


def deserialize_layer(spec: Any, custom_objects: dict[str, Any] | None = None) -> Any:
    """Re-create a layer from :func:`serialize_layer`'s output: built-in classes, and classes of
    your own given by ``custom_objects``, a ``custom_object_scope`` or registration."""
    if not isinstance(spec, dict) or not isinstance(spec.get("class_name"), str):
        raise ModelFileError(f"Malformed layer entry in the model file: {str(spec)[:200]}")
    classes = layer_classes()
    name = spec["class_name"]
    cls = classes.get(name)
    if spec.get("custom"):
        return _custom_layer(spec, custom_objects)
    if cls is None:
        hint = did_you_mean(name[:100], classes) or (
            " Sequential and functional models are registered by unafraid.models: load with "
            "unafraid.models.load_model (or keras.models.load_model)." if name in MODEL_CLASSES else "")
        raise ModelFileError(
            f"The model file names an unknown layer class '{name[:100]}'.{hint} unafraid "
            f"loads only its built-in layers ({', '.join(sorted(classes))}) and the classes you "
            f"pass with custom_objects=.")
    config = spec.get("config")
    if not isinstance(config, dict):
        raise ModelFileError(f"Layer '{spec['class_name']}' in the model file has no config.")
    try:
        return cls.from_config(config)
    except (TypeError, ValueError, KeyError) as e:
        raise ModelFileError(f"Could not re-create layer '{spec['class_name']}' from the model "
                             f"file: {e}") from e


def _custom_layer(spec: dict[str, Any], custom_objects: dict[str, Any] | None) -> Any:
    """A layer of the user's own class: the class comes from the program, never from the file."""
    from ..layers.base import Layer
    name = str(spec["class_name"])[:100]
    registered = spec.get("registered_name")
    cls = find_custom_object(registered if isinstance(registered, str) else name, custom_objects)
    if cls is None and isinstance(spec.get("traced"), dict):
        # the class is not here, but the file holds the layer graph its call ran (built-in
        # layers only, see traced_architecture): revive the model as that functional model
        import warnings
        warnings.warn(
            f"The model file holds a model of your own class '{name}', which is not known here; "
            f"it was loaded as the functional model of the layers its call ran when saved (same "
            f"outputs and weights, but not a {name}: its own methods, such as train_step, are "
            f"absent). To get the class itself, pass it: load_model(path, custom_objects="
            f"{{'{name}': {name}}}), or decorate it with "
            f"@keras.saving.register_keras_serializable().", stacklevel=2)
        return deserialize_layer(spec["traced"])
    if cls is None:
        raise ModelFileError(
            f"The model file holds a layer of your own class '{name}' (registered as "
            f"'{str(registered)[:100]}'), which is not known here: a saved file holds no code, so "
            f"the class must come from your program. Pass it: load_model(path, "
            f"custom_objects={{'{name}': {name}}}), load inside keras.utils.custom_object_scope("
            f"{{'{name}': {name}}}), or decorate the class with "
            f"@keras.saving.register_keras_serializable().")
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise ModelFileError(f"custom_objects['{name}'] is {cls!r}, not a Layer or Model class.")
    config = spec.get("config")
    if not isinstance(config, dict):
        raise ModelFileError(f"Layer '{name}' in the model file has no config.")
    try:
        layer = cls.from_config(config)
    except (TypeError, ValueError, KeyError) as e:
        raise ModelFileError(f"Could not re-create '{name}' with {cls.__name__}.from_config from "
                             f"the model file's config {str(config)[:200]}: {e}") from e
    shape = (spec.get("build_config") or {}).get("input_shape")
    if shape is not None:
        build_from_shape(layer, shape)
    return layer


def traced_architecture(model: Any) -> dict[str, Any] | None:
    """The layer graph a subclassed model's ``call`` runs, as a functional model's config, or None.

    TensorFlow's SavedModel keeps a traced graph of ``call``, so a model whose class is gone can
    still be loaded ("revived"). The same, with no code: ``call`` is run once on a symbolic input
    of the shape the model was built for, and when every step of it is one of unafraid's built-in
    layers (or ops on symbolic tensors), the resulting functional model's config is kept beside
    the class's own config. It is data (layer class names and their configs), built at loading
    from the registry's layers like any functional model; nothing in it is code.

    None when the model cannot be traced so: not built, several inputs, a ``call`` that needs
    real values (Python control flow on data, custom layers inside), or whose graph does not use
    the model's weights exactly, in the model's order. Such a model loads only with its class.
    """
    from ..layers.base import Input, KerasTensor
    shape = getattr(model, "_build_shape", None)
    if not (isinstance(shape, tuple) and shape and all(d is None or isinstance(d, int)
                                                       for d in shape)):
        return None
    # named, so that tracing leaves the automatic layer names of the user's program unchanged
    inputs = Input(batch_shape=(None, *shape[1:]), dtype=model.dtype, name=f"{model.name}_input")
    try:  # a call that only runs on real values is simply not traceable: no trace is kept
        outputs = model.call(inputs)
        if not isinstance(outputs, KerasTensor):
            return None
        traced = registry.lookup("layer", "Functional")(inputs, outputs, name=model.name)
        spec = serialize_layer(traced)
    except Exception:  # noqa: BLE001 (any failure means: not traceable; the class is then needed)
        return None
    if json.dumps(spec).count('"custom": true') or [id(w) for w in traced.weights] != [
            id(w) for w in model.weights]:
        return None
    return spec


def build_from_shape(layer: Any, shape: Any) -> None:
    """Create a custom layer's weights as Keras's ``build_from_config`` does: ``build(shape)``, and
    a call on zeros of that shape (batch 1) for layers whose sub-layers make their weights on call."""
    from ..engine.tensor import Tensor, no_grad

    def zeros(s: Any) -> Any:
        return Tensor(np.zeros(tuple(1 if d is None else int(d) for d in s), layer.dtype))
    several = isinstance(shape, list) and all(isinstance(s, list) for s in shape)
    with no_grad():
        layer([zeros(s) for s in shape] if several else zeros(shape))


# ---- writing ------------------------------------------------------------------------------

def _metadata(kind: str, model: Any) -> dict[str, str]:
    from .. import random as _random
    from .._version import __version__
    return {"format": FORMAT, "format_version": str(FORMAT_VERSION), "kind": kind,
            "weight_names": json.dumps([w.name for w in model.weights]),
            "seed": str(_random.get_seed()), "unafraid_version": __version__,
            "numpy_version": np.__version__, "python_version": platform.python_version()}


def _serialize(tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> bytes:
    from safetensors.numpy import save
    # np.ascontiguousarray would turn 0-d arrays (the optimizer step count) into shape (1,)
    return sorted_header(save({k: v if v.flags.c_contiguous else v.copy(order="C")
                               for k, v in tensors.items()}, metadata=metadata))


def sorted_header(blob: bytes) -> bytes:
    """The same safetensors file with its JSON header's keys sorted, so equal models give equal bytes.

    safetensors writes the metadata in hash-map order, which changes from process to process.
    The layout is ``u64 n | n bytes of JSON, space-padded to a multiple of 8 | data``; the data
    offsets are relative to the data, so rewriting the header leaves them valid.
    """
    n = int.from_bytes(blob[:8], "little")
    header = json.dumps(json.loads(blob[8:8 + n]), sort_keys=True, separators=(",", ":")).encode()
    header += b" " * (-len(header) % 8)
    return len(header).to_bytes(8, "little") + header + blob[8 + n:]


def save_model(model: Any, filepath: str | os.PathLike, overwrite: bool = True) -> None:
    """Write ``model`` (architecture, weights, compile config, optimizer and RNG state).

    A path ending in ``.keras`` gets Keras 3's native format instead (see
    ``unafraid.io.keras_format``), which Keras opens and trains on.
    """
    from .. import random as _random
    if str(filepath).endswith(".keras"):
        from .keras_format import save
        return save(model, filepath, overwrite=overwrite)
    _check_overwrite(filepath, overwrite)
    meta = _metadata("model", model)
    config = serialize_layer(model)
    if config.get("custom"):
        traced = traced_architecture(model)
        if traced is not None:
            config["traced"] = traced
    meta["model_config"] = json.dumps(config)
    tensors = {f"weights/{i}": w.data for i, w in enumerate(model.weights)}
    if getattr(model, "compiled", False):
        meta["compile_config"] = json.dumps(model.get_compile_config())
        if model.optimizer is not None and getattr(model.optimizer, "built", False):
            tensors.update({f"optimizer/{k}": v for k, v in model.optimizer.state_dict().items()})
            position = {id(w): i for i, w in enumerate(model.weights)}
            meta["optimizer_variables"] = json.dumps(  # which weights the state belongs to
                [position[id(v)] for v in model.optimizer.built_variables])
        excluded = weight_decay_exclusions(model.optimizer, model.weights)
        if excluded is not None:
            meta["weight_decay_exclusions"] = json.dumps(excluded)
    meta["rng_states"] = json.dumps([_random.generator_state(g) for g in model.random_generators()])
    atomic_write_bytes(filepath, _serialize(tensors, meta))


def save_weights(model: Any, filepath: str | os.PathLike, overwrite: bool = True) -> None:
    """Write the model's weights only."""
    if not model.weights and not getattr(model, "built", True):
        raise ValueError(
            f"Model '{model.name}' has no weights to save yet: it has not been built (its input "
            f"shape is unknown until it sees data). Build it first: give its first layer "
            f"input_shape=..., call model.build((None, n_features)), or call it on a batch.")
    _check_overwrite(filepath, overwrite)
    tensors = {f"weights/{i}": w.data for i, w in enumerate(model.weights)}
    atomic_write_bytes(filepath, _serialize(tensors, _metadata("weights", model)))


def _check_overwrite(filepath: Any, overwrite: bool) -> None:
    check_target(filepath)  # an empty path or a folder: refused before anything is serialized
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{filepath} exists and overwrite=False; choose another path.")


# ---- reading --------------------------------------------------------------------------------
# Limits no real model reaches, so that loading a file of N bytes costs O(N) time and a small
# multiple of N in memory whatever the file says.
#: Largest header (JSON: tensor table and metadata) read, in bytes.
MAX_HEADER_BYTES = 100 * 1024 * 1024
#: Most tensors (weights and optimizer slots) in one file.
MAX_TENSORS = 100_000
#: Most layers in an architecture (all nested models together).
MAX_LAYERS = 20_000
#: Most layer calls (nodes) in the functional models of an architecture.
MAX_NODES = 50_000
#: Most JSON values in one metadata entry, counted (from above) as the commas, colons, braces and
#: brackets of its text before it is parsed; each value costs up to ~60 bytes once parsed. A
#: model at MAX_LAYERS has under 1,000,000 (about 40 per layer).
MAX_JSON_VALUES = 1_000_000
#: The tensor dtypes unafraid reads (safetensors name -> bytes per value). NumPy has no bfloat16,
#: float8 or float4, so files holding them are refused with a message, never half-read.
DTYPE_SIZES = {"BOOL": 1, "U8": 1, "I8": 1, "U16": 2, "I16": 2, "F16": 2, "U32": 4, "I32": 4,
               "F32": 4, "U64": 8, "I64": 8, "F64": 8}
_NUMPY_NAMES = {"BOOL": "bool", "U8": "uint8", "I8": "int8", "U16": "uint16", "I16": "int16",
                "F16": "float16", "U32": "uint32", "I32": "int32", "F32": "float32",
                "U64": "uint64", "I64": "int64", "F64": "float64"}
_SUFFIXES = (".keras", ".safetensors", ".h5", ".weights", ".unafraid")


def _read(filepath: str | os.PathLike) -> tuple[dict[str, str], Any]:
    """Open and validate the container; returns (metadata, an open safetensors handle)."""
    path = Path(filepath)
    if path.is_dir():
        found = sorted(p.name for p in path.iterdir() if p.suffix in _SUFFIXES)[:5]
        saved_model = (path / "saved_model.pb").exists()
        raise ModelFileError(
            f"{path} is a folder, not a model file."
            + (" It looks like a TensorFlow SavedModel, which unafraid cannot read."
               if saved_model else "")
            + (f" Pass the path of a file in it, e.g. {path / found[0]} (found: {', '.join(found)})."
               if found else " Pass the path of the file written by model.save(path)."))
    if path.exists() and not path.is_file():
        import stat
        mode = path.stat().st_mode
        kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
                else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a file")
        raise ModelFileError(
            f"{path} is {kind}, not a model file; reading it could block or never end. Pass the "
            f"path of the file written by model.save(path) (copy the data into a file first if "
            f"it comes through a pipe).")
    if not path.is_file():
        near = []
        if path.parent.is_dir():
            import difflib
            near = difflib.get_close_matches(path.name, [p.name for p in path.parent.iterdir()],
                                             n=3, cutoff=0.6)
        hint = (f" Similar names there: {', '.join(near)}." if near else "")
        raise FileNotFoundError(
            f"No model file at {path} (absolute: {path.absolute()}; the current folder is "
            f"{Path.cwd()}).{hint} Check the path, or save the model first with "
            f"model.save(path).")
    with open(path, "rb") as f:
        head = f.read(8)
    if head[:2] == b"PK":
        raise ModelFileError(
            f"{path} is a zip archive (a Keras 3 '.keras' file?). unafraid reads only files "
            f"written by its own model.save (safetensors, whatever the extension). To move a "
            f"Keras model over: build the same architecture with unafraid, then in Keras save "
            f"the weights as NumPy arrays (np.savez('w.npz', *model.get_weights())) and load "
            f"them with model.set_weights(list(np.load('w.npz').values())).")
    if head[:4] == b"\x89HDF":
        raise ModelFileError(
            f"{path} is an HDF5 file (a Keras '.h5' model or weights file); unafraid does not "
            f"read HDF5. Build the same architecture with unafraid, export the weights from "
            f"Keras as NumPy arrays (np.savez('w.npz', *model.get_weights())) and load them "
            f"with model.set_weights(list(np.load('w.npz').values())).")
    size = path.stat().st_size
    header_len = int.from_bytes(head, "little") if len(head) == 8 else -1
    if header_len <= 0 or header_len > min(MAX_HEADER_BYTES, size - 8):
        raise ModelFileError(f"{path} is not an unafraid model file (no valid header; truncated "
                             f"or another format).")
    _check_tensor_count(path, header_len)
    from safetensors import SafetensorError, safe_open
    try:
        handle = safe_open(str(path), framework="np")
        meta = handle.metadata() or {}
    except (SafetensorError, OSError, ValueError) as e:
        raise ModelFileError(f"{path} is not a readable unafraid model file: {e}") from e
    _check_dtypes(handle, path)
    if meta.get("format") != FORMAT:
        raise ModelFileError(f"{path} is a safetensors file but not one written by unafraid "
                             f"(format {meta.get('format')!r}).")
    try:
        version = int(meta.get("format_version", ""))
    except ValueError:
        raise ModelFileError(f"{path} has an invalid format_version.") from None
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} was written by a newer unafraid (file format version {version}; this "
            f"unafraid {_version()} reads up to {FORMAT_VERSION}). Upgrade: pip install -U "
            f"unafraid.")
    return meta, handle


def _check_tensor_count(path: Path, header_len: int) -> None:
    """Refuse a header listing more than MAX_TENSORS tensors, counted in the raw bytes (in
    chunks, before anything is parsed): a table of millions of empty tensors costs no time."""
    key, count, carry = b'"data_offsets"', 0, b""
    with open(path, "rb") as f:
        f.seek(8)
        left = header_len
        while left > 0:
            chunk = carry + f.read(min(left, 1 << 20))
            if len(chunk) == len(carry):
                break
            left -= len(chunk) - len(carry)
            count += chunk.count(key)
            carry = chunk[-(len(key) - 1):]
            if count > MAX_TENSORS:
                raise ModelFileError(
                    f"{path} lists more than {MAX_TENSORS:,} tensors; no model saved by unafraid "
                    f"has that many (the limit is unafraid.io.saving.MAX_TENSORS). The file is "
                    f"corrupt or crafted.")


def _check_dtypes(handle: Any, path: Any) -> None:
    """Refuse tensors of dtypes NumPy cannot hold (bfloat16, float8, float4...), by name."""
    from safetensors import SafetensorError
    try:
        for key in handle.keys():
            dtype = handle.get_slice(key).get_dtype()
            if dtype not in DTYPE_SIZES:
                raise ModelFileError(
                    f"{path}: tensor '{key[:100]}' is stored as {dtype}, which NumPy (and so "
                    f"unafraid) cannot hold; unafraid reads {', '.join(DTYPE_SIZES)}. If the file "
                    f"comes from another framework, convert its weights to float32 there (e.g. "
                    f"tensor.float() in PyTorch) and save them again.")
    except SafetensorError as e:
        raise ModelFileError(f"{path} is not a readable unafraid model file: {e}") from e


def _stored_weights(handle: Any) -> tuple[int, str]:
    """The bytes of the file's weight arrays at their real dtypes, and those dtypes in words."""
    nbytes, dtypes = 0, {}
    for key in handle.keys():
        if key.startswith("weights/"):
            view = handle.get_slice(key)
            size = DTYPE_SIZES[view.get_dtype()]
            nbytes += size * math.prod(view.get_shape())
            dtypes[_NUMPY_NAMES[view.get_dtype()]] = size
    names = sorted(dtypes, key=lambda d: (dtypes[d], d))  # the smallest (the suspect) first
    return nbytes, ("dtype " + ", ".join(names)) if names else ""


def _check_architecture_size(config: Any, path: Any) -> None:
    """Refuse an architecture of more than MAX_LAYERS layers or MAX_NODES nodes, before
    anything is built (a walk of the parsed JSON, linear in its size)."""
    layers = nodes = 0
    stack = [config]
    while stack:  # only layer entries and their configs: O(layers), not O(JSON values)
        item = stack.pop()
        if not isinstance(item, dict):
            continue
        inner = item.get("config")
        if isinstance(inner, dict):
            stack.append(inner)
        if isinstance(item.get("nodes"), list):
            nodes += len(item["nodes"])
        if isinstance(item.get("layers"), list):
            layers += len(item["layers"])
            stack.extend(item["layers"])
    for count, limit, what in ((layers, MAX_LAYERS, "layers"), (nodes, MAX_NODES, "layer calls")):
        if count > limit:
            raise ModelFileError(
                f"{path}: the architecture has {count:,} {what}, more than the {limit:,} that "
                f"unafraid loads (unafraid.io.saving.MAX_{'LAYERS' if what == 'layers' else 'NODES'}"
                f"); no real model comes near. The file is corrupt or crafted.")


def _version() -> str:
    from .._version import __version__
    return __version__


def _non_finite(tree: Any) -> tuple[str, float] | None:
    """Where parsed JSON holds NaN or an infinity (Python's json reads them), e.g.
    ``("config.layers[3].config.epsilon", inf)``, or None."""
    named: list[tuple[str, Any]] = [("", tree)]
    while named:
        where, item = named.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return where or "the value", item
        if isinstance(item, dict):
            named.extend((f"{where}.{k}" if where else str(k), v) for k, v in item.items())
        elif isinstance(item, list):
            named.extend((f"{where}[{i}]", v) for i, v in enumerate(item))
    return None


def _json(meta: dict[str, str], key: str, path: Any) -> Any:
    text = meta.get(key, "")
    values = sum(text.count(c) for c in ",:{[")  # an upper bound, found in O(len) time
    if values > MAX_JSON_VALUES:
        raise ModelFileError(f"{path}: the '{key}' entry holds about {values:,} JSON values, "
                             f"more than the {MAX_JSON_VALUES:,} unafraid parses "
                             f"(unafraid.io.saving.MAX_JSON_VALUES); no real model comes near. "
                             f"The file is corrupt or crafted.")
    odd: list[str] = []  # NaN, Infinity, or a number too large for a float (1e999 -> inf)

    def constant(token: str) -> float:
        odd.append(token)
        return float(token)

    def real(token: str) -> float:
        value = float(token)
        if not math.isfinite(value):
            odd.append(token)
        return value
    try:
        tree = json.loads(meta[key], parse_constant=constant, parse_float=real)
    except (KeyError, ValueError, RecursionError) as e:  # ValueError: also over-long integers
        raise ModelFileError(f"{path}: the '{key}' entry is missing or not valid JSON "
                             f"({type(e).__name__}); the file is corrupt or was not written "
                             f"by unafraid.") from None
    where = _non_finite(tree) if odd else None
    if where is not None:
        raise ModelFileError(f"{path}: the '{key}' entry sets {where[0]} to {where[1]}, which no "
                             f"saved model holds (every setting is a finite number). The file is "
                             f"corrupt or crafted.")
    return tree


def _assign_weights(model: Any, handle: Any, meta: dict[str, str], path: Any,
                    whole_model: bool = False) -> None:
    names = _json(meta, "weight_names", path)
    mine = model.weights
    if not isinstance(names, list) or len(names) != len(mine):
        hint = (" The architecture stored in the file does not match its weights: the file is "
                "corrupt." if whole_model else
                " The model has not been built yet, so it has no weights: give its first layer "
                "input_shape=..., or call it on a batch, before load_weights." if not mine and
                not getattr(model, "built", True) else
                " Build the same architecture as the one saved.")
        raise ModelFileError(
            f"{path} holds {len(names) if isinstance(names, list) else '?'} weight arrays but the "
            f"model has {len(mine)}.{hint}")
    keys = set(handle.keys())
    arrays = []
    for i, var in enumerate(mine):
        key = f"weights/{i}"
        if key not in keys:
            raise ModelFileError(f"{path} lacks the weight array {key} ({names[i]}).")
        a = handle.get_tensor(key)
        if a.shape != var.shape or a.dtype != var.dtype:
            raise ModelFileError(f"{path}: weight '{names[i]}' has shape {a.shape} and dtype "
                                 f"{a.dtype}, but the model's '{var.name}' has {var.shape}, "
                                 f"{var.dtype}. Nothing was loaded.")
        arrays.append(a)
    for var, a in zip(mine, arrays, strict=True):
        var.assign(a)


def load_model(filepath: str | os.PathLike, compile: bool = True,  # noqa: A002
               custom_objects: dict[str, Any] | None = None) -> Any:
    """Load a model written by ``model.save``.

    Parameters
    ----------
    filepath : path
    compile : bool, default True
        Restore the compile configuration and the optimizer state, so that
        ``fit`` continues exactly where the saved run stopped.
    custom_objects : dict, optional
        ``{"ClassName": ClassName}`` for the layers and models of your own
        classes in the file (see :mod:`unafraid.io.custom_objects`).

    Raises
    ------
    ModelFileError
        For anything that is not a valid unafraid model file (truncated,
        corrupted, another format, a newer format version, unknown layers).
    """
    from ..layers.base import weight_budget
    from .keras_format import is_keras_archive
    if is_keras_archive(filepath):  # a Keras 3 '.keras' zip
        from .keras_format import load
        return load(filepath, compile=compile)
    meta, handle = _read(filepath)
    if meta.get("kind") != "model":
        raise ModelFileError(f"{filepath} holds weights only (saved with save_weights). Re-create "
                             f"the model in code and call model.load_weights(path).")
    config = _json(meta, "model_config", filepath)
    _check_architecture_size(config, filepath)
    # The architecture may allocate no more weight bytes than the file's weight arrays hold (at
    # their real dtypes), so a crafted Dense(10**12) is refused before it allocates anything;
    # the weights are created as zeros, not drawn at random, since the file's values replace them.
    stored, dtypes = _stored_weights(handle)
    try:
        with weight_budget(stored, dtypes), custom_object_scope(custom_objects):
            model = deserialize_layer(config)
    except ModelFileError:
        raise
    except Exception as e:  # a crafted config (RecursionError, MemoryError...): never a crash
        raise ModelFileError(f"{filepath}: could not re-create the architecture from the file "
                             f"({type(e).__name__}: {str(e)[:300]}). The file is corrupt or was "
                             f"not written by unafraid.") from None
    _assign_weights(model, handle, meta, filepath, whole_model=True)
    if compile and "compile_config" in meta:
        try:
            model.compile_from_config(compile_objects(_json(meta, "compile_config", filepath)))
            state = {k[len("optimizer/"):]: handle.get_tensor(k) for k in handle.keys()
                     if k.startswith("optimizer/")}
            if state:
                model.optimizer.build(_optimizer_variables(model, meta, filepath))
                model.optimizer.load_state_dict(
                    adam_moments_from_format_1(model.optimizer, state, int(meta["format_version"])))
            if "weight_decay_exclusions" in meta:
                restore_weight_decay_exclusions(model.optimizer, model.weights,
                                                _json(meta, "weight_decay_exclusions", filepath),
                                                filepath)
        except ModelFileError:
            raise
        except Exception as e:
            raise ModelFileError(
                f"{filepath}: the saved training configuration (compile settings or optimizer "
                f"state) could not be restored ({type(e).__name__}: {str(e)[:300]}). To use the "
                f"architecture and weights anyway: load_model(path, compile=False), then "
                f"model.compile(...).") from None
    _restore_generators(model, meta, filepath)
    return model


def _optimizer_variables(model: Any, meta: dict[str, str], path: Any) -> list[Any]:
    """The weights the saved optimizer state belongs to, in its order: those trained when the
    file was saved (a layer frozen or unfrozen since then changes the trainable set). Files
    written before this was recorded: the trainable weights."""
    if "optimizer_variables" not in meta:
        return model.trainable_weights
    order = _json(meta, "optimizer_variables", path)
    weights = model.weights
    if not isinstance(order, list) or len(set(map(repr, order))) != len(order) or not all(
            isinstance(i, int) and not isinstance(i, bool) and 0 <= i < len(weights)
            for i in order):
        raise ModelFileError(f"{path}: 'optimizer_variables' must list distinct weight indices "
                             f"below {len(weights)}; the file is corrupt.")
    return [weights[i] for i in order]


def compile_objects(config: dict[str, Any]) -> dict[str, Any]:
    """A saved compile config with its losses and metrics rebuilt as objects.

    ``get_compile_config`` describes a Loss or Metric object as
    ``{"class_name": ..., "config": ...}``; given back to ``compile`` as it is,
    that dict would read as a mapping from output names to losses. Names
    (strings) and per-output dicts and lists are kept as they are.
    """
    from .. import losses, metrics

    return {**config, "loss": _objects(config.get("loss"), losses.deserialize),
            "metrics": _objects(config.get("metrics"), metrics.deserialize)}


def _objects(spec: Any, deserialize: Any) -> Any:
    if isinstance(spec, dict) and "class_name" in spec:
        return deserialize(spec)
    if isinstance(spec, dict):
        return {k: _objects(v, deserialize) for k, v in spec.items()}
    if isinstance(spec, list | tuple):
        return [_objects(v, deserialize) for v in spec]
    return spec


def adam_moments_from_format_1(optimizer: Any, state: dict[str, np.ndarray], version: int
                               ) -> dict[str, np.ndarray]:
    """Files of format 1 stored Adam's moments without their ``(1 - beta)`` factors.

    They held ``M = m / (1 - beta_1)``, ``V = v / (1 - beta_2)`` and ``V_hat = v_hat / (1 - beta_2)``;
    this returns the paper's ``m``, ``v`` and ``v_hat`` (as format 2 stores them), so that training
    continues with the same moments (to rounding). Other optimizers' states are unchanged.
    """
    if version >= 2 or not isinstance(optimizer, Adam):
        return state
    factors = {"m": 1 - optimizer.beta_1, "v": 1 - optimizer.beta_2, "v_hat": 1 - optimizer.beta_2}
    return {key: np.asarray(a) * factors[key.split("/")[-1]] if "/" in key else a
            for key, a in state.items()}


def _n_values(handle: Any, key: str) -> int:
    """Number of values in one stored tensor, from the header alone (nothing is read)."""
    return math.prod(handle.get_slice(key).get_shape())


def _restore_generators(model: Any, meta: dict[str, str], path: Any) -> None:
    states = _json(meta, "rng_states", path) if "rng_states" in meta else []
    restore_generators(model, states, path)


def load_weights(model: Any, filepath: str | os.PathLike) -> LoadStatus:
    """Load weights into ``model`` from a file written by ``save_weights`` or ``save``.

    The file must hold one array per weight of the model, in order, with the same shapes. One
    exception, for tf.keras 2's transfer-learning pattern (a checkpoint of a model's first layers
    loaded into a model that adds layers): a file holding fewer weights, each of which has the
    name and shape of a weight of the model, loads into those weights; the others are left as
    they are, with a warning naming them, and the returned status's ``assert_consumed()`` raises.
    """
    meta, handle = _read(filepath)
    names = _json(meta, "weight_names", filepath)
    mine = model.weights
    if isinstance(names, list) and 0 < len(names) < len(mine):
        return _load_by_name(model, handle, names, filepath)
    _assign_weights(model, handle, meta, filepath)
    return LoadStatus([], [], len(mine), str(filepath))


def _load_by_name(model: Any, handle: Any, names: list[Any], path: Any) -> LoadStatus:
    """The partial load :func:`load_weights` describes, or its usual error when a stored name is
    not a weight of the model (or names repeat)."""
    import warnings
    mine = model.weights
    by_name = {w.name: w for w in mine}
    if (len(by_name) != len(mine) or len(set(map(str, names))) != len(names)
            or not all(isinstance(n, str) and n in by_name for n in names)):
        missing = [n for n in names if n not in by_name][:5]
        raise ModelFileError(
            f"{path} holds {len(names)} weight arrays but the model has {len(mine)}, and the "
            f"file's weights are not weights of the model by name (not found: {missing}). Build "
            f"the same architecture as the one saved.")
    pairs = []
    for i, name in enumerate(names):
        a = handle.get_tensor(f"weights/{i}")
        var = by_name[name]
        if a.shape != var.shape or a.dtype != var.dtype:
            raise ModelFileError(f"{path}: weight '{name}' has shape {a.shape} and dtype {a.dtype}, "
                                 f"but the model's has {var.shape}, {var.dtype}. Nothing was loaded.")
        pairs.append((var, a))
    for var, a in pairs:
        var.assign(a)
    left = [w.name for w in mine if w.name not in set(names)]
    warnings.warn(f"load_weights({str(path)!r}): the file holds {len(names)} of the model's "
                  f"{len(mine)} weights, loaded by name; {left[:10]} were left as they were.",
                  stacklevel=4)
    return LoadStatus([], left, len(pairs), str(path))
