"""MNIST-format datasets, loaded the Keras way, verified by SHA-256, cached, usable offline.

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

__all__ = [
    "CorruptFileError",
    "DatasetError",
    "DatasetUnavailableError",
    "IDXFormatError",
    "cache_dir",
    "cached",
    "fashion_mnist",
    "mnist",
    "parse_idx",
    "read_idx",
]
