"""``keras.random``: normal, uniform, categorical, randint, shuffle, dropout and ``SeedGenerator``,
from the library's seed.

``seed`` may be None (the next stream derived from the library's seed, so a
script gives the same numbers every run), an int (the same numbers at every
call with that int, as in Keras 3), or a ``SeedGenerator`` (a new draw at
every call, the sequence fixed by the generator's seed).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import random as _random
from ..engine import Tensor, ops
from ..nn import dropout as _dropout


class SeedGenerator:
    """A stream of seeds (``keras.random.SeedGenerator``): each draw that uses it advances it.

    Parameters
    ----------
    seed : int, optional
        Defaults to one drawn from the library's seed.

    Examples
    --------
    >>> import unafraid as tf
    >>> gen = tf.keras.random.SeedGenerator(42)
    >>> a = tf.keras.random.normal((2,), seed=gen)
    >>> b = tf.keras.random.normal((2,), seed=gen)
    >>> bool((a.numpy() != b.numpy()).all())
    True
    """

    def __init__(self, seed: int | None = None, name: str | None = None, **kwargs: Any) -> None:
        self.seed = _random.spawn_seed() if seed is None else int(seed)
        self._sequence = np.random.SeedSequence(self.seed)

    def next_generator(self) -> np.random.Generator:
        """The generator for the next draw."""
        return np.random.Generator(np.random.PCG64(self._sequence.spawn(1)[0]))


def normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None,
           seed: Any = None) -> Tensor:
    """Normal draws ``mean + stddev * z``."""
    return _random.normal(shape, mean, stddev, dtype or "float32", seed)


def uniform(shape: Any, minval: float = 0.0, maxval: float = 1.0, dtype: Any = None,
            seed: Any = None) -> Tensor:
    """Uniform draws on ``[minval, maxval)``."""
    return _random.uniform(shape, minval, maxval, dtype or "float32", seed)


def truncated_normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None,
                     seed: Any = None) -> Tensor:
    """Normal draws, those beyond two standard deviations redrawn."""
    return _random.truncated_normal(shape, mean, stddev, dtype or "float32", seed)


def dropout(inputs: Any, rate: float, noise_shape: Any = None, seed: Any = None) -> Tensor:
    """Zero each entry with probability ``rate``, scale the rest by ``1 / (1 - rate)``."""
    return _dropout(inputs, rate, noise_shape, seed)


def categorical(logits: Any, num_samples: int, dtype: Any = "int32", seed: Any = None) -> Tensor:
    """Class indices drawn from the softmax of each row of ``logits`` ``(batch, num_classes)``:
    shape ``(batch, num_samples)``, int32 by default (``tf.random.categorical``'s rule)."""
    return _random.categorical(logits, num_samples, dtype, seed)


def randint(shape: Any, minval: int, maxval: int, dtype: Any = "int32", seed: Any = None) -> Tensor:
    """Integers drawn uniformly from ``[minval, maxval)``, of shape ``shape``."""
    if np.dtype(dtype).kind not in "iu":
        raise ValueError(f"keras.random.randint: dtype must be an integer dtype, got {dtype!r}.")
    return _random.uniform(shape, minval, maxval, dtype, seed)


def shuffle(x: Any, axis: int = 0, seed: Any = None) -> Tensor:
    """``x`` with its entries along ``axis`` in a random order (one permutation of that axis).
    Differentiable in ``x``: the gradient goes back to each entry's old place."""
    x = x if isinstance(x, Tensor) else Tensor(np.asarray(x))
    axis = int(axis) % max(x.ndim, 1)
    order = _random.draw_generator(seed).permutation(x.shape[axis])
    return ops.getitem(x, (slice(None),) * axis + (order,))


__all__ = ["SeedGenerator", "normal", "uniform", "truncated_normal", "dropout", "categorical", "randint",
           "shuffle"]
