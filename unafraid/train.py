"""``tf.train.Checkpoint`` and ``tf.train.load_checkpoint``, onto unafraid's own file format.

A checkpoint saves the variables reachable from the objects you name, each under the path of
attribute names that leads to it, as TensorFlow does::

    ckpt = tf.train.Checkpoint(dense=model.layers[1], kernel=last.kernel)
    path = ckpt.save("ckpt")           # 'ckpt-1' (then 'ckpt-2', ...)
    tf.train.Checkpoint(dense=other_dense, kernel=other_kernel).restore(path).assert_consumed()

The keys are TensorFlow's (``'dense/kernel/.ATTRIBUTES/VARIABLE_VALUE'``; a model's layers are
``'model/layer_with_weights-0/...'``), so variables match by where they sit, not by their names.
This is *not* TensorFlow's checkpoint format (an index file and data shards): ``save`` writes one
safetensors file at the returned path (JSON header, raw arrays; never pickle, never code),
atomically.

What differs from TensorFlow: restoring is immediate, not deferred, so the objects must have
their variables already (build the model, or call it once, before ``restore``); a variable of the
file whose object is absent, or an object variable absent from the file, is left as it is and
reported by ``assert_consumed``.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .atomic import atomic_write_bytes
from .engine.tensor import Variable
from .io.common import LoadStatus, ModelFileError

FORMAT = "unafraid.checkpoint"
SUFFIX = "/.ATTRIBUTES/VARIABLE_VALUE"

__all__ = ["Checkpoint", "CheckpointLoadStatus", "CheckpointReader", "load_checkpoint"]

CheckpointLoadStatus = LoadStatus


def _variables(obj: Any, prefix: str, out: dict[str, Variable], seen: set[int]) -> None:
    """Every variable reachable from ``obj`` through public attributes, lists and dicts, keyed by
    the path of attribute names (TensorFlow's object-graph keys); each variable once."""
    if isinstance(obj, Variable):
        if id(obj) not in seen:
            seen.add(id(obj))
            out[prefix + SUFFIX] = obj
        return
    if id(obj) in seen:
        return
    if isinstance(obj, list | tuple):
        seen.add(id(obj))
        for i, item in enumerate(obj):
            _variables(item, f"{prefix}/{i}", out, seen)
        return
    if isinstance(obj, dict):
        seen.add(id(obj))
        for key, item in obj.items():
            _variables(item, f"{prefix}/{key}", out, seen)
        return
    from .layers.base import Layer
    from .tf_ops import Module
    if isinstance(obj, Layer | Module | Checkpoint):
        seen.add(id(obj))
        for key, item in vars(obj).items():
            if not key.startswith("_"):
                _variables(item, f"{prefix}/{key}" if prefix else key, out, seen)
        # a model's layers, as TensorFlow's Keras keys them ('layer_with_weights-0/kernel/...')
        with_weights = [layer for layer in vars(obj).get("_layers", []) if layer.weights]
        for i, layer in enumerate(with_weights):
            _variables(layer, f"{prefix}/layer_with_weights-{i}", out, seen)


def _graph(objects: dict[str, Any]) -> dict[str, Variable]:
    out: dict[str, Variable] = {}
    seen: set[int] = set()
    for name, obj in objects.items():
        _variables(obj, name, out, seen)
    return out


class Checkpoint:
    """Save and restore the variables of named objects (layers, models, variables, lists of them).

    Parameters
    ----------
    **objects
        The objects to save, by the names that key them in the file.

    Examples
    --------
    >>> import numpy as np, unafraid as tf
    >>> layer = tf.keras.layers.Dense(2)
    >>> layer.build((None, 3))
    >>> path = tf.train.Checkpoint(dense=layer).save("doc_ckpt")   # doctest: +SKIP
    >>> other = tf.keras.layers.Dense(2)
    >>> other.build((None, 3))
    >>> tf.train.Checkpoint(dense=other).restore(path).assert_consumed()  # doctest: +SKIP
    """

    def __init__(self, root: Any = None, **objects: Any) -> None:
        if root is not None:
            objects = {**objects, "root": root}
        for name in objects:
            if name.startswith("_") or "/" in name:
                raise ValueError(f"tf.train.Checkpoint: object name {name!r} may not start with '_' "
                                 f"nor contain '/'.")
        self._objects = objects
        self._save_count = 0

    @property
    def save_counter(self) -> int:
        """How many times ``save`` has run on this checkpoint."""
        return self._save_count

    def write(self, file_prefix: str | os.PathLike) -> str:
        """Write the variables to exactly ``file_prefix``; returns it."""
        from safetensors.numpy import save

        from .io.saving import sorted_header
        path = os.fspath(file_prefix)
        tensors = {key: np.ascontiguousarray(var.data) if var.data.ndim else var.data.copy()
                   for key, var in _graph(self._objects).items()}
        atomic_write_bytes(path, sorted_header(save(tensors, metadata={"format": FORMAT})))
        return path

    def save(self, file_prefix: str | os.PathLike) -> str:
        """Write to ``'<file_prefix>-<n>'`` (n counts this checkpoint's saves from 1); returns
        that path, which ``restore`` and ``tf.train.load_checkpoint`` take."""
        self._save_count += 1
        return self.write(f"{os.fspath(file_prefix)}-{self._save_count}")

    def read(self, save_path: str | os.PathLike) -> LoadStatus:
        """Same as :meth:`restore`."""
        return self.restore(save_path)

    def restore(self, save_path: str | os.PathLike) -> LoadStatus:
        """Assign the file's values to the variables found at the same keys (shapes checked
        before anything is assigned); returns a status whose ``assert_consumed()`` checks that
        everything matched."""
        reader = load_checkpoint(save_path)
        graph = _graph(self._objects)
        stored = reader.get_variable_to_shape_map()
        pairs = []
        for key, var in graph.items():
            if key in stored:
                value = reader.get_tensor(key)
                if value.shape != tuple(var.shape):
                    raise ValueError(f"Checkpoint {save_path}: '{key}' holds shape {value.shape}, "
                                     f"but the variable there ('{var.name}') has {tuple(var.shape)}. "
                                     f"Nothing was restored.")
                pairs.append((var, value))
        for var, value in pairs:
            var.assign(value.astype(var.data.dtype, copy=False))
        return LoadStatus(sorted(set(stored) - set(graph)),
                                    sorted(set(graph) - set(stored)), len(pairs), str(save_path))


class CheckpointReader:
    """The arrays of a checkpoint file by key (``tf.train.load_checkpoint``'s reader)."""

    def __init__(self, path: str | os.PathLike) -> None:
        from safetensors import SafetensorError, safe_open
        self.path = os.fspath(path)
        if not os.path.isfile(self.path):
            raise FileNotFoundError(f"No checkpoint at {self.path}: pass the path that "
                                    f"tf.train.Checkpoint(...).save(prefix) returned.")
        try:
            with safe_open(self.path, framework="numpy") as handle:
                meta = handle.metadata() or {}
                self._arrays = {key: handle.get_tensor(key) for key in handle.keys()}
        except (SafetensorError, OSError, ValueError) as e:
            raise ModelFileError(f"{self.path} is not a checkpoint written by unafraid's "
                                 f"tf.train.Checkpoint ({e}).") from None
        if meta.get("format") != FORMAT:
            raise ModelFileError(f"{self.path} is not a checkpoint written by tf.train.Checkpoint "
                                 f"(format {meta.get('format')!r}); model and weight files load with "
                                 f"load_model / load_weights.")

    def get_variable_to_shape_map(self) -> dict[str, tuple[int, ...]]:
        """``{key: shape}`` for every array in the file."""
        return {key: tuple(a.shape) for key, a in self._arrays.items()}

    def get_variable_to_dtype_map(self) -> dict[str, np.dtype]:
        """``{key: dtype}`` for every array in the file (NumPy dtypes, which ``tf.float32`` is)."""
        return {key: a.dtype for key, a in self._arrays.items()}

    def has_tensor(self, key: str) -> bool:
        """Whether the file holds ``key``."""
        return key in self._arrays

    def get_tensor(self, key: str) -> np.ndarray:
        """A copy of the array stored under ``key``."""
        if key not in self._arrays:
            raise KeyError(f"Checkpoint {self.path} holds no '{key}'; it holds "
                           f"{sorted(self._arrays)[:10]}.")
        return self._arrays[key].copy()


def load_checkpoint(ckpt_dir_or_file: str | os.PathLike) -> CheckpointReader:
    """A reader of the checkpoint file at ``ckpt_dir_or_file`` (the path ``save`` returned)."""
    return CheckpointReader(ckpt_dir_or_file)
