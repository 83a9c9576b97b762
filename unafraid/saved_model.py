"""``tf.saved_model.save`` / ``load``, onto unafraid's own format in a folder.

This is *not* TensorFlow's SavedModel (a protocol-buffer graph that TensorFlow
Serving and TFLite read): unafraid writes its usual model file,
``<export_dir>/model.safetensors`` (architecture as JSON, weights, compile
settings; never pickle, never code), so that TensorFlow code that saves and
reloads a model runs unchanged. ``load`` gives back the model, callable as before.
"""

from __future__ import annotations

import os
from typing import Any

MODEL_FILE = "model.safetensors"


def save(obj: Any, export_dir: str | os.PathLike, signatures: Any = None, options: Any = None,
         **kwargs: Any) -> None:
    """Save a model into the folder ``export_dir`` (created if needed) as ``model.safetensors``.

    Parameters
    ----------
    obj : Model
        A built unafraid model (Sequential, functional or subclassed).
    export_dir : str or path
    signatures, options
        Accepted for TensorFlow code and ignored (the model's own ``call`` is what loads).

    Examples
    --------
    >>> import unafraid as tf  # doctest: +SKIP
    >>> tf.saved_model.save(model, "exported")  # doctest: +SKIP
    >>> restored = tf.saved_model.load("exported")  # doctest: +SKIP
    >>> restored(x)  # doctest: +SKIP
    """
    if not hasattr(obj, "save") or not hasattr(obj, "get_config"):
        raise TypeError(f"tf.saved_model.save saves unafraid models, got {type(obj).__name__}. "
                        f"Functions and tf.Module objects cannot be saved (a saved file holds no "
                        f"code): save the model they use instead.")
    os.makedirs(export_dir, exist_ok=True)
    obj.save(os.path.join(os.fspath(export_dir), MODEL_FILE))


def load(export_dir: str | os.PathLike, tags: Any = None, options: Any = None) -> Any:
    """The model saved in ``export_dir`` by :func:`save` (callable like the original).

    ``export_dir`` may also be a model file written by ``model.save(path)``: tf.keras 2 wrote a
    SavedModel folder for a path without extension, unafraid writes its own model file there.
    """
    from .io.saving import load_model

    folder = os.fspath(export_dir)
    if os.path.isfile(folder):  # model.save("my_model"): a tf.keras 2 SavedModel path, here a file
        return load_model(folder)
    path = os.path.join(folder, MODEL_FILE)
    if not os.path.isfile(path):
        if os.path.isfile(os.path.join(folder, "saved_model.pb")):
            raise ValueError(f"{folder} holds a TensorFlow SavedModel (saved_model.pb), which "
                             f"unafraid cannot read: it stores a TensorFlow graph, not unafraid "
                             f"layers. Re-create the model in unafraid and load its weights, or "
                             f"save it from Keras as a .keras file.")
        raise FileNotFoundError(f"{folder} holds no {MODEL_FILE}; save a model there first with "
                                f"tf.saved_model.save(model, {folder!r}).")
    return load_model(path)


__all__ = ["save", "load"]
