"""``tf.keras.utils``: seeding and label helpers, and ``PyDataset`` (batches by index)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import numpy as np

from .. import random as _library_random
from ..io.custom_objects import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from .plot import plot_model


def set_random_seed(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and unafraid, as Keras's does.

    ``keras.utils.set_random_seed`` "sets all random seeds (Python, NumPy, and backend
    framework)": a Keras script that calls it and then draws its data with ``np.random``
    gets the same data on every run. unafraid's own draws never use NumPy's global generator
    (they come from :func:`unafraid.set_random_seed`'s seed), so this function seeds the
    user's generators too; ``unafraid.set_random_seed`` and ``tf.random.set_seed`` seed only
    unafraid's.

    Parameters
    ----------
    seed : int
        A non-negative integer.

    Examples
    --------
    >>> import numpy as np
    >>> set_random_seed(7)
    >>> a = np.random.rand()
    >>> set_random_seed(7)
    >>> bool(np.random.rand() == a)
    True
    """
    _library_random.set_random_seed(seed)
    random.seed(seed)
    np.random.seed(seed)


def to_categorical(y: Any, num_classes: int | None = None, dtype: str = "float32") -> np.ndarray:
    """Integer labels ``(N,)`` to one-hot rows ``(N, num_classes)``.

    Examples
    --------
    >>> to_categorical([0, 2], num_classes=3)
    array([[1., 0., 0.],
           [0., 0., 1.]], dtype=float32)
    """
    y = np.asarray(y)
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y.reshape(y.shape[:-1])
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            bad = y.ravel()[np.flatnonzero(~np.isfinite(y.ravel()) | (y.ravel() != np.round(
                y.ravel())))[0]]
            raise ValueError(f"to_categorical needs integer class labels 0, 1, 2...; got the "
                             f"non-integer value {bad}. If these are class codes, number them "
                             f"first: classes, y = np.unique(y, return_inverse=True); if they are "
                             f"already probabilities or real values, they need no one-hot "
                             f"encoding.")
        y = y.astype(np.int64)
    if y.dtype.kind not in "iu":
        raise TypeError(f"to_categorical needs integer class labels, got dtype {y.dtype}. For "
                        f"class names, number them first: classes, y = np.unique(y, "
                        f"return_inverse=True).")
    if num_classes is None and y.size == 0:
        raise ValueError("to_categorical got no labels (an empty array) and no num_classes: pass "
                         "num_classes= to get an array of shape (0, num_classes).")
    n = int(y.max()) + 1 if num_classes is None else int(num_classes)
    if y.size and (y.min() < 0 or y.max() >= n):
        fix = (f"pass num_classes={int(y.max()) + 1}" if y.min() >= 0 else
               "drop or re-number the negative labels (classes are numbered from 0)")
        raise ValueError(f"to_categorical: labels must lie in [0, {n}) for num_classes={n}; got "
                         f"values from {y.min()} to {y.max()}. Check the labels, or {fix}.")
    return np.eye(n, dtype=dtype)[y]


def normalize(x: Any, axis: int = -1, order: int = 2) -> np.ndarray:
    """Scale ``x`` to unit ``order``-norm along ``axis``."""
    x = np.asarray(x, dtype=np.float32)
    norm = np.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    return x / np.where(norm == 0, 1, norm)


def array_to_img(x: Any, data_format: str | None = None, scale: bool = True,
                 dtype: Any = None) -> Any:
    """A PIL image from an array of shape ``(height, width, channels)`` (channels 1, 3 or 4).

    As Keras: with ``scale=True`` the values are shifted and scaled to 0..255
    (``(x - min) / (max - min) * 255``); otherwise they are used as they are. Needs Pillow
    (``pip install pillow``), imported only here.

    >>> img = array_to_img(np.zeros((4, 4, 1)))  # doctest: +SKIP
    >>> img.size  # doctest: +SKIP
    (4, 4)
    """
    try:
        from PIL import Image
    except ImportError as e:
        raise ImportError("keras.utils.array_to_img needs Pillow: pip install pillow") from e
    a = np.asarray(x, dtype=np.float64)
    if data_format == "channels_first":
        a = np.moveaxis(a, 0, -1)
    if a.ndim != 3 or a.shape[-1] not in (1, 3, 4):
        raise ValueError(f"array_to_img expects shape (height, width, channels) with 1, 3 or 4 "
                         f"channels, got {a.shape}.")
    if scale:
        a = a - a.min()
        top = a.max()
        a = a / top * 255 if top > 0 else a
    a = np.clip(a, 0, 255).astype(np.uint8)
    if a.shape[-1] == 1:
        return Image.fromarray(a[:, :, 0], "L")
    return Image.fromarray(a, "RGB" if a.shape[-1] == 3 else "RGBA")


def img_to_array(img: Any, data_format: str | None = None, dtype: Any = None) -> np.ndarray:
    """The array of a PIL image (or array): shape ``(height, width, channels)``, float32.

    As Keras: a grayscale image gets a channel axis of 1; ``data_format='channels_first'``
    gives ``(channels, height, width)``.

    Examples
    --------
    >>> import numpy as np
    >>> img_to_array(np.zeros((4, 5))).shape
    (4, 5, 1)
    """
    a = np.asarray(img, dtype=np.dtype(dtype or "float32"))
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3:
        raise ValueError(f"img_to_array expects an image of shape (height, width) or (height, "
                         f"width, channels), got {a.shape}.")
    return np.moveaxis(a, -1, 0) if data_format == "channels_first" else a


class PyDataset:
    """Batches by index, Keras 3's way: subclass it and define ``__len__`` and ``__getitem__``.

    ``__len__`` is the number of batches per epoch; ``__getitem__(i)`` returns
    batch ``i`` as ``x``, ``(x, y)`` or ``(x, y, sample_weight)`` arrays.
    ``model.fit(py_dataset)`` iterates it once per epoch. Iterating it (as fit
    does) calls ``on_epoch_begin()``, yields ``self[0] ... self[len - 1]``, then
    calls ``on_epoch_end()`` (override it to reshuffle). Batches are made in
    this process, in order: ``workers``, ``use_multiprocessing`` and
    ``max_queue_size`` are accepted and ignored.

    Examples
    --------
    >>> import numpy as np
    >>> class Squares(PyDataset):
    ...     def __init__(self, n, batch_size, **kwargs):
    ...         super().__init__(**kwargs)
    ...         self.x = np.arange(n, dtype="float32")[:, None]
    ...         self.batch_size = batch_size
    ...     def __len__(self):
    ...         return -(-len(self.x) // self.batch_size)
    ...     def __getitem__(self, i):
    ...         x = self.x[i * self.batch_size:(i + 1) * self.batch_size]
    ...         return x, x ** 2
    >>> [x.shape[0] for x, y in Squares(10, 4)]
    [4, 4, 2]
    """

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False,
                 max_queue_size: int = 10) -> None:
        self.workers, self.use_multiprocessing = workers, use_multiprocessing
        self.max_queue_size = max_queue_size

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__ (the number of "
                                  f"batches per epoch) to be used as a PyDataset.")

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index), "
                                  f"returning batch number index as (x, y) arrays.")

    @property
    def num_batches(self) -> int:
        """The number of batches per epoch (``len(self)``)."""
        return len(self)

    def cardinality(self) -> int:
        """``len(self)``, so fit treats a PyDataset like a ``tf.data.Dataset``."""
        return len(self)

    def on_epoch_begin(self) -> None:
        """Called before the first batch of each epoch."""

    def on_epoch_end(self) -> None:
        """Called after the last batch of each epoch (e.g. to reshuffle)."""

    def __iter__(self) -> Iterator[Any]:
        self.on_epoch_begin()
        for i in range(len(self)):
            yield self[i]
        self.on_epoch_end()


Sequence = PyDataset  # the Keras 2 name

__all__ = ["PyDataset", "array_to_img", "img_to_array",
           "Sequence", "set_random_seed", "to_categorical", "normalize",
           "plot_model", "CustomObjectScope", "custom_object_scope", "get_custom_objects",
           "get_registered_name", "get_registered_object", "register_keras_serializable"]
