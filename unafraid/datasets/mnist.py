"""MNIST handwritten digits: 60,000 training and 10,000 test images, 28x28, labels 0-9.

By Yann LeCun, Corinna Cortes and Christopher J.C. Burges; licence CC BY-SA 3.0.

``load_data()`` looks for the files in ``path``, then ``$UNAFRAID_DATA``, then the cache
(:func:`unafraid.datasets.cache_dir`), and only then downloads them from :data:`MIRRORS`.
Every file is checked against :data:`SHA256` before it is used.
"""

from __future__ import annotations

import os

from . import _fetch

NAME = "mnist"

#: Role -> IDX file name (mirrors serve ``<name>.gz``).
FILES: dict[str, str] = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}

#: SHA-256 of each file's DECOMPRESSED content: the same for every correct copy of MNIST,
#: whichever mirror served it and however it was compressed.
SHA256: dict[str, str] = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

#: Size in bytes of each file's decompressed content: no download or decompression goes
#: past it (a gzip bomb stops there).
SIZES: dict[str, int] = {
    "train-images-idx3-ubyte": 47_040_016,
    "train-labels-idx1-ubyte": 60_008,
    "t10k-images-idx3-ubyte": 7_840_016,
    "t10k-labels-idx1-ubyte": 10_008,
}

#: Tried in order. A base URL gets ``<file name>.gz`` appended; a URL ending in ``.npz``
#: is a Keras-style archive of all four arrays. URLs in ``$UNAFRAID_MNIST_MIRROR``
#: (comma- or space-separated) are tried before these.
MIRRORS: list[str] = [
    # torchvision's primary mirror.
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    # Google Cloud Storage copy of the IDX files (used by TensorFlow's MNIST tutorials).
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    # tf.keras.datasets.mnist: one .npz of all four arrays.
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
]

MIRROR_ENV = "UNAFRAID_MNIST_MIRROR"


def _spec() -> _fetch.DatasetSpec:
    # Built at each call so that changes to the module constants (tests, users) take effect.
    return _fetch.DatasetSpec(
        name=NAME,
        title="MNIST",
        module=__name__,
        files=dict(FILES),
        sha256=dict(SHA256),
        mirrors=list(MIRRORS),
        mirror_env=MIRROR_ENV,
        sizes=dict(SIZES),
    )


_fetch.register(NAME, _spec)


def load_data(path: str | os.PathLike[str] | None = None) -> _fetch.LoadResult:
    """Load the MNIST dataset, as ``tf.keras.datasets.mnist.load_data`` does.

    Parameters
    ----------
    path : str or os.PathLike, optional
        Where to read MNIST from: a folder holding ``train-images-idx3-ubyte``,
        ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``
        (each gzip-compressed with ``.gz`` or not), or a Keras-style ``mnist.npz`` with the
        arrays ``x_train, y_train, x_test, y_test``. When omitted, the folder in
        ``$UNAFRAID_DATA`` is used if it holds MNIST, else the cache
        (:func:`unafraid.datasets.cache_dir`), downloading into it once if needed.
        Unlike Keras, ``path`` is not a cache file name.

    Returns
    -------
    (x_train, y_train) : tuple of numpy.ndarray
        ``x_train``: uint8, shape (60000, 28, 28), grey levels 0 (background) to 255.
        ``y_train``: uint8, shape (60000,), digits 0-9.
    (x_test, y_test) : tuple of numpy.ndarray
        uint8, shapes (10000, 28, 28) and (10000,).

    Raises
    ------
    FileNotFoundError
        ``path`` (or ``$UNAFRAID_DATA``) does not hold the four files.
    unafraid.datasets.CorruptFileError
        A file's SHA-256 is not MNIST's (the message names the file and both hashes).
    unafraid.datasets.DatasetUnavailableError
        MNIST had to be downloaded and every mirror failed; the message lists each URL
        with its error and how to place the files by hand.

    Examples
    --------
    >>> from unafraid.datasets import mnist
    >>> (x_train, y_train), (x_test, y_test) = mnist.load_data()
    >>> x_train.shape, x_train.dtype, y_train[:5]
    ((60000, 28, 28), dtype('uint8'), array([5, 0, 4, 1, 9], dtype=uint8))
    >>> x_train = x_train.reshape(-1, 784).astype("float32") / 255  # stays float32
    """
    return _fetch.load_dataset(_spec(), path)
