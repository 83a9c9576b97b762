"""Datasets: MNIST-format images (loaded the Keras way, verified by SHA-256, cached, usable
offline) and pbmc68k_reduced, single cells (:func:`pbmc68k_reduced`, see ``docs/cells.md``).

>>> from unafraid.datasets import mnist
>>> (x_train, y_train), (x_test, y_test) = mnist.load_data()

Sources, in order: ``load_data(path=...)``; the folder in ``$UNAFRAID_DATA``; the cache
(:func:`cache_dir`); the public mirrors. See ``docs/datasets.md``.
"""

from . import fashion_mnist, mnist
from ._fetch import (
    CorruptFileError,
    DatasetError,
    DatasetUnavailableError,
    IDXFormatError,
    cache_dir,
    cached,
    parse_idx,
    read_idx,
)
from .pbmc import pbmc68k_reduced

__all__ = [
    "CorruptFileError",
    "DatasetError",
    "DatasetUnavailableError",
    "IDXFormatError",
    "cache_dir",
    "cached",
    "fashion_mnist",
    "mnist",
    "pbmc68k_reduced",
    "parse_idx",
    "read_idx",
]
