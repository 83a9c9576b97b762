"""Saving and loading models: JSON for the architecture, safetensors for the numbers.

One file holds everything. It is a safetensors file: a JSON header, then raw
little-endian arrays. The header's metadata holds the architecture and
training configuration as JSON, the weight names, the optimizer's and random
generators' states, the seed and the versions. Loading parses JSON and arrays
only: no pickle, no eval, and no import of names taken from the file; layer
classes come from a fixed table of unafraid's built-in layers.

Writes are atomic: the file is written under a temporary name in the same
folder, flushed to disk, then renamed over the target, so a crash mid-save
leaves the previous file intact.
"""

from __future__ import annotations

import json
import math
import os
import platform
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "unafraid.model"
FORMAT_VERSION = 1


class ModelFileError(ValueError):
    """A file that is not a readable unafraid model (or weights) file."""


# ---- layers <-> JSON ------------------------------------------------------------------------
def _layer_classes() -> dict[str, type]:
    from ..layers import BUILTIN_LAYERS
    from ..models import Functional, Sequential
    concrete = {k: v for k, v in BUILTIN_LAYERS.items() if k != "Layer"}  # the abstract base
    return {**concrete, "Sequential": Sequential, "Functional": Functional}


def serialize_layer(layer: Any) -> dict[str, Any]:
    """``{'class_name': ..., 'config': ...}`` for a built-in layer or model."""
    name = type(layer).__name__
    if _layer_classes().get(name) is not type(layer):
        raise ValueError(
            f"Cannot save the architecture of '{layer.name}' ({name}): only unafraid's built-in "
            f"layers and Sequential / functional models can be saved, because a saved file never "
            f"holds code. Save the weights with model.save_weights(path), re-create the model "
            f"in code, then call model.load_weights(path).")
    return {"class_name": name, "config": layer.get_config()}


def deserialize_layer(spec: Any) -> Any:
    """Re-create a layer from :func:`serialize_layer`'s output; only built-in classes."""
    if not isinstance(spec, dict) or not isinstance(spec.get("class_name"), str):
        raise ModelFileError(f"Malformed layer entry in the model file: {str(spec)[:200]}")
    classes = _layer_classes()
    cls = classes.get(spec["class_name"])
    if cls is None:
        raise ModelFileError(
            f"The model file names an unknown layer class '{spec['class_name'][:100]}'. unafraid "
            f"loads only its built-in layers ({', '.join(sorted(classes))}); for a custom layer, "
            f"re-create the model in code and use load_weights.")
    config = spec.get("config")
    if not isinstance(config, dict):
        raise ModelFileError(f"Layer '{spec['class_name']}' in the model file has no config.")
    try:
        return cls.from_config(config)
    except (TypeError, ValueError, KeyError) as e:
        raise ModelFileError(f"Could not re-create layer '{spec['class_name']}' from the model "
                             f"file: {e}") from e


# ---- writing ------------------------------------------------------------------------------
def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable
        dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _generators(model: Any) -> list[np.random.Generator]:
    """Every random generator a model draws from, in a fixed order."""
    gens = [model._shuffle_rng] if hasattr(model, "_shuffle_rng") else []
    stack, seen = list(model._layers), set()
    while stack:
        layer = stack.pop(0)
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        if isinstance(getattr(layer, "generator", None), np.random.Generator):
            gens.append(layer.generator)
        if hasattr(layer, "_shuffle_rng"):
            gens.append(layer._shuffle_rng)
        stack.extend(layer._layers)
    return gens


def _metadata(kind: str, model: Any) -> dict[str, str]:
    from .. import __version__
    from .. import random as _random
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
    """Write ``model`` (architecture, weights, compile config, optimizer and RNG state)."""
    from .. import random as _random
    _check_overwrite(filepath, overwrite)
    meta = _metadata("model", model)
    meta["model_config"] = json.dumps(serialize_layer(model))
    tensors = {f"weights/{i}": w.data for i, w in enumerate(model.weights)}
    if getattr(model, "compiled", False):
        meta["compile_config"] = json.dumps(model.get_compile_config())
        if model.optimizer is not None and getattr(model.optimizer, "built", False):
            tensors.update({f"optimizer/{k}": v for k, v in model.optimizer.state_dict().items()})
    meta["rng_states"] = json.dumps([_random.generator_state(g) for g in _generators(model)])
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
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{filepath} exists and overwrite=False; choose another path.")


# ---- reading --------------------------------------------------------------------------------
MAX_HEADER_BYTES = 100 * 1024 * 1024
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
    from safetensors import SafetensorError, safe_open
    try:
        handle = safe_open(str(path), framework="np")
        meta = handle.metadata() or {}
    except (SafetensorError, OSError, ValueError) as e:
        raise ModelFileError(f"{path} is not a readable unafraid model file: {e}") from e
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


def _version() -> str:
    from .. import __version__
    return __version__


def _json(meta: dict[str, str], key: str, path: Any) -> Any:
    try:
        return json.loads(meta[key])
    except (KeyError, ValueError, RecursionError) as e:  # ValueError: also over-long integers
        raise ModelFileError(f"{path}: the '{key}' entry is missing or not valid JSON "
                             f"({type(e).__name__}); the file is corrupt or was not written "
                             f"by unafraid.") from None


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


def load_model(filepath: str | os.PathLike, compile: bool = True) -> Any:  # noqa: A002
    """Load a model written by ``model.save``.

    Parameters
    ----------
    filepath : path
    compile : bool, default True
        Restore the compile configuration and the optimizer state, so that
        ``fit`` continues exactly where the saved run stopped.

    Raises
    ------
    ModelFileError
        For anything that is not a valid unafraid model file (truncated,
        corrupted, another format, a newer format version, unknown layers).
    """
    from ..layers.base import weight_budget
    meta, handle = _read(filepath)
    if meta.get("kind") != "model":
        raise ModelFileError(f"{filepath} holds weights only (saved with save_weights). Re-create "
                             f"the model in code and call model.load_weights(path).")
    config = _json(meta, "model_config", filepath)
    # The architecture may allocate no more weight bytes than the file's arrays would take as
    # float64 (so a crafted Dense(10**12) is refused before it allocates anything; a wrong dtype
    # still gets its own message from _assign_weights).
    stored = 8 * sum(_n_values(handle, k) for k in handle.keys() if k.startswith("weights/"))
    try:
        with weight_budget(stored):
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
            model.compile_from_config(_json(meta, "compile_config", filepath))
            state = {k[len("optimizer/"):]: handle.get_tensor(k) for k in handle.keys()
                     if k.startswith("optimizer/")}
            if state:
                model.optimizer.build(model.trainable_weights)
                model.optimizer.load_state_dict(state)
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


def _n_values(handle: Any, key: str) -> int:
    """Number of values in one stored tensor, from the header alone (nothing is read)."""
    return math.prod(handle.get_slice(key).get_shape())


def _restore_generators(model: Any, meta: dict[str, str], path: Any) -> None:
    """Set the random generators' saved states, all checked before any is changed."""
    from .. import random as _random
    states = _json(meta, "rng_states", path) if "rng_states" in meta else []
    gens = _generators(model)
    if not isinstance(states, list) or len(states) != len(gens):
        return
    try:
        for g, s in zip(gens, states, strict=True):  # rehearse on copies first
            _random.set_generator_state(np.random.Generator(type(g.bit_generator)()), s)
    except Exception as e:
        raise ModelFileError(f"{path}: the saved random-generator states are invalid "
                             f"({type(e).__name__}: {str(e)[:200]}); the file is corrupt.") from None
    for g, s in zip(gens, states, strict=True):
        _random.set_generator_state(g, s)


def load_weights(model: Any, filepath: str | os.PathLike) -> None:
    """Load weights into ``model`` from a file written by ``save_weights`` or ``save``."""
    meta, handle = _read(filepath)
    _assign_weights(model, handle, meta, filepath)
