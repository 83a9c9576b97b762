"""Fashion-MNIST: Zalando's 28x28 grey images of 10 kinds of clothing, in MNIST's format.

60,000 training and 10,000 test images, labels 0-9 (see :data:`CLASS_NAMES`).
By Han Xiao, Kashif Rasul and Roland Vollgraf; copyright Zalando SE; MIT licence.
https://github.com/zalandoresearch/fashion-mnist

``load_data()`` looks for the files in ``path``, then ``$UNAFRAID_DATA``, then the cache
(:func:`unafraid.datasets.cache_dir`), and only then downloads them from :data:`MIRRORS`.
Every file is checked against :data:`SHA256` before it is used.
"""

from __future__ import annotations

import os

from . import _fetch

NAME = "fashion_mnist"

#: Label -> name of the article, as in the Fashion-MNIST README.
CLASS_NAMES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

#: Role -> IDX file name (mirrors serve ``<name>.gz``). Same names as MNIST's.
FILES: dict[str, str] = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}

#: SHA-256 of each file's DECOMPRESSED content.
#:
#: Zalando publishes only MD5s of the .gz files (torchvision checks those:
#: train-images 8d4fb7e6c68d591d4c3dfef9ec88bf0d, train-labels 25c81989df183df01b3e8a0aad5dffbe,
#: t10k-images bef4ecab320f06d8554ea6380940ec79, t10k-labels bb300cfdad3c16e7a12a480ee83cd310).
#: The sums below were not computed here (this code was written without network access);
#: they are the values pinned, identically, by several independent public projects that
#: decompress archives matching those MD5s and check the result, among them a Rust dataset
#: crate and C and Python research code. Being of the decompressed bytes, they hold for every
#: mirror, including the Keras one, and for any recompression.
SHA256: dict[str, str] = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}

#: Size in bytes of each file's decompressed content: no download or decompression goes
#: past it (a gzip bomb stops there).
SIZES: dict[str, int] = {
    "train-images-idx3-ubyte": 47_040_016,
    "train-labels-idx1-ubyte": 60_008,
    "t10k-images-idx3-ubyte": 7_840_016,
    "t10k-labels-idx1-ubyte": 10_008,
}

#: Tried in order; ``<file name>.gz`` is appended to each. URLs in
#: ``$UNAFRAID_FASHION_MNIST_MIRROR`` (comma- or space-separated) are tried before these.
MIRRORS: list[str] = [
    # tf.keras.datasets.fashion_mnist's source.
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
    # The upstream repository, which holds the four .gz files.
    "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/",
]

MIRROR_ENV = "UNAFRAID_FASHION_MNIST_MIRROR"


def _spec() -> _fetch.DatasetSpec:
    # Built at each call so that changes to the module constants (tests, users) take effect.
    return _fetch.DatasetSpec(
        name=NAME,
        title="Fashion-MNIST",
        module=__name__,
        files=dict(FILES),
        sha256=dict(SHA256),
        mirrors=list(MIRRORS),
        mirror_env=MIRROR_ENV,
        sizes=dict(SIZES),
    )


_fetch.register(NAME, _spec)


def load_data(path: str | os.PathLike[str] | None = None) -> _fetch.LoadResult:
    """Load Fashion-MNIST, as ``tf.keras.datasets.fashion_mnist.load_data`` does.

    Parameters
    ----------
    path : str or os.PathLike, optional
        Where to read Fashion-MNIST from: a folder holding ``train-images-idx3-ubyte``,
        ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``
        (each gzip-compressed with ``.gz`` or not), or a Keras-style ``.npz`` with the arrays
        ``x_train, y_train, x_test, y_test``. When omitted, ``$UNAFRAID_DATA/fashion_mnist/``
        (or ``$UNAFRAID_DATA`` itself if it holds Fashion-MNIST) is used, else the cache
        (:func:`unafraid.datasets.cache_dir`), downloading into it once if needed.
        Unlike Keras, ``path`` is not a cache file name.

    Returns
    -------
    (x_train, y_train) : tuple of numpy.ndarray
        ``x_train``: uint8, shape (60000, 28, 28), grey levels 0 (background) to 255.
        ``y_train``: uint8, shape (60000,), classes 0-9 named in :data:`CLASS_NAMES`.
    (x_test, y_test) : tuple of numpy.ndarray
        uint8, shapes (10000, 28, 28) and (10000,).

    Raises
    ------
    FileNotFoundError
        ``path`` (or ``$UNAFRAID_DATA/fashion_mnist``) does not hold the four files.
    unafraid.datasets.CorruptFileError
        A file's SHA-256 is not Fashion-MNIST's (the message names the file and both hashes).
    unafraid.datasets.DatasetUnavailableError
        The data had to be downloaded and every mirror failed; the message lists each URL
        with its error and how to place the files by hand.

    Examples
    --------
    >>> from unafraid.datasets import fashion_mnist
    >>> (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    >>> x_train.shape, x_train.dtype
    ((60000, 28, 28), dtype('uint8'))
    >>> fashion_mnist.CLASS_NAMES[y_train[0]]
    'Ankle boot'
    """
    return _fetch.load_dataset(_spec(), path)
