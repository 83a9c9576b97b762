"""Seeded randomness: explicit generators derived from one seed; no module-level RNG.

Every random draw in unafraid (weight initialisation, dropout masks, shuffling,
validation splits) comes from a ``numpy.random.Generator`` spawned from one
root ``SeedSequence``. Without any call, the root seed is ``DEFAULT_SEED``, so
running the same script twice gives bit-identical results.
``set_random_seed(s)`` starts a new root: everything created after it draws
from streams derived from ``s``, in creation order.

NumPy's global RNG (``np.random.rand`` and friends) is never used.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

from .engine.tensor import Tensor

DEFAULT_SEED = 1337

_lock = threading.Lock()
_root = {"seed": DEFAULT_SEED, "sequence": np.random.SeedSequence(DEFAULT_SEED)}
_scope = threading.local()  # a seed_scope's sequence, per thread


def set_random_seed(seed: int) -> None:
    """Seed everything unafraid draws at random.

    Parameters
    ----------
    seed : int
        A non-negative integer. Layers, initializers, dropout and shuffling
        created after this call derive their generators from it.

    Examples
    --------
    >>> import unafraid
    >>> unafraid.set_random_seed(42)
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"set_random_seed needs a non-negative integer, got {seed!r}.")
    with _lock:
        _root["seed"] = int(seed)
        _root["sequence"] = np.random.SeedSequence(int(seed))


set_seed = set_random_seed  # tf.random.set_seed


def get_seed() -> int:
    """The seed in force (``DEFAULT_SEED`` unless ``set_random_seed`` was called)."""
    return _root["seed"]


def spawn_seed() -> int:
    """A fresh 63-bit seed, the next in the stream derived from the root seed (or from the
    innermost ``seed_scope`` of this thread)."""
    scoped = getattr(_scope, "sequence", None)
    if scoped is not None:
        child = scoped.spawn(1)[0]
    else:
        with _lock:
            child = _root["sequence"].spawn(1)[0]
    return int(child.generate_state(2, np.uint64)[0] >> np.uint64(1))


@contextlib.contextmanager
def seed_scope(seed: int) -> Iterator[None]:
    """Inside the block, everything this thread creates draws from streams derived from ``seed``;
    after it, the outer stream continues where it was (unlike ``set_random_seed``).

    Code that builds a model in the block (a scikit-learn estimator's model-building function)
    gets the same weights whatever ran before it, in any process or thread.

    Examples
    --------
    >>> import unafraid
    >>> with unafraid.random.seed_scope(7):
    ...     a = unafraid.keras.layers.Dense(3)(unafraid.ones((1, 2)))
    >>> with unafraid.random.seed_scope(7):
    ...     b = unafraid.keras.layers.Dense(3)(unafraid.ones((1, 2)))
    >>> bool((a.numpy() == b.numpy()).all())
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed_scope needs a non-negative integer, got {seed!r}.")
    previous = getattr(_scope, "sequence", None)
    _scope.sequence = np.random.SeedSequence(int(seed))
    try:
        yield
    finally:
        _scope.sequence = previous


def make_generator(seed: int | None = None) -> np.random.Generator:
    """A PCG64 generator: from ``seed`` if given, else the next derived stream."""
    return np.random.Generator(np.random.PCG64(spawn_seed() if seed is None else seed))


def generator_state(gen: np.random.Generator) -> dict:
    """The generator's state as JSON-serialisable data (for checkpoints)."""
    state = gen.bit_generator.state
    return {"bit_generator": state["bit_generator"],
            "state": {k: int(v) for k, v in state["state"].items()},
            "has_uint32": int(state["has_uint32"]), "uinteger": int(state["uinteger"])}


def set_generator_state(gen: np.random.Generator, state: dict) -> None:
    """Restore a state saved with :func:`generator_state`."""
    if state.get("bit_generator") != gen.bit_generator.state["bit_generator"]:
        raise ValueError(f"Saved random state is for {state.get('bit_generator')!r}, not "
                         f"{gen.bit_generator.state['bit_generator']!r}.")
    gen.bit_generator.state = state


# ---- tf.random: draws as Tensors, each call from the next stream of the library's seed --------
def draw_generator(seed: Any) -> np.random.Generator:
    """``seed`` (an int, a ``keras.random.SeedGenerator``, or None: the next stream derived from
    the library's seed) as a generator, for one draw."""
    if seed is None:
        return make_generator()
    if hasattr(seed, "next_generator"):
        return seed.next_generator()
    return make_generator(int(seed))


def normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = "float32",
           seed: Any = None, name: str | None = None) -> Tensor:
    """Normal draws ``mean + stddev * z`` as a Tensor (``tf.random.normal``).

    Without ``seed`` each call draws from the next stream derived from the
    library's seed (the same script gives the same numbers every run); with an
    integer ``seed`` the call gives the same numbers every time.
    """
    z = draw_generator(seed).standard_normal(_shape(shape))
    return Tensor((mean + stddev * z).astype(dtype))


def uniform(shape: Any, minval: Any = 0, maxval: Any = None, dtype: Any = "float32",
            seed: Any = None, name: str | None = None) -> Tensor:
    """Uniform draws on ``[minval, maxval)`` as a Tensor (``tf.random.uniform``).

    ``maxval`` defaults to 1 for floats; integer dtypes need it.
    """
    gen, kind = draw_generator(seed), np.dtype(dtype).kind
    if kind in "iu":
        if maxval is None:
            raise ValueError("tf.random.uniform with an integer dtype needs maxval= (exclusive).")
        return Tensor(gen.integers(int(minval), int(maxval), _shape(shape)).astype(dtype))
    high = 1.0 if maxval is None else float(np.asarray(maxval))
    return Tensor(gen.uniform(float(np.asarray(minval)), high, _shape(shape)).astype(dtype))


def truncated_normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = "float32",
                     seed: Any = None, name: str | None = None) -> Tensor:
    """Normal draws, those beyond two standard deviations redrawn (``tf.random.truncated_normal``)."""
    gen, size = draw_generator(seed), _shape(shape)
    z = gen.standard_normal(size)
    bad = np.abs(z) > 2
    while bad.any():
        z[bad] = gen.standard_normal(int(bad.sum()))
        bad = np.abs(z) > 2
    return Tensor((mean + stddev * z).astype(dtype))


def categorical(logits: Any, num_samples: int, dtype: Any = None, seed: Any = None,
                name: str | None = None) -> Tensor:
    """Class indices drawn from the softmax of each row of ``logits`` (``tf.random.categorical``).

    ``logits`` has shape ``(batch, num_classes)`` (unnormalised log-probabilities; ``-inf`` marks
    a class that is never drawn); the result has shape ``(batch, num_samples)`` and dtype
    ``dtype`` (int64 unless given, as in TensorFlow). Row ``i`` draws class ``k`` with probability
    ``exp(logits[i, k]) / sum_j exp(logits[i, j])``, each draw independent. ``seed`` is as for
    :func:`normal` (None: the next stream of the library's seed). No gradient (indices).
    The numbers drawn are not TensorFlow's (another generator).

    Examples
    --------
    >>> import numpy as np, unafraid as tf
    >>> tf.random.categorical([[0.0, 0.0, -np.inf]], 4, seed=1).shape
    (1, 4)
    """
    a = np.asarray(logits.data if isinstance(logits, Tensor) else logits, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] == 0:
        raise ValueError(f"tf.random.categorical: logits must have shape (batch, num_classes) with "
                         f"num_classes >= 1, got shape {a.shape}; add a batch axis with "
                         f"tf.expand_dims(logits, 0).")
    top = a.max(axis=1, keepdims=True)
    if not np.all(np.isfinite(top)) or np.isnan(a).any():
        raise ValueError("tf.random.categorical: each row of logits needs a finite largest value "
                         "and no NaN (a row of only -inf has no class to draw).")
    cdf = np.cumsum(np.exp(a - top), axis=1)
    cdf /= cdf[:, -1:]
    u = draw_generator(seed).random((a.shape[0], int(num_samples)))
    draws = np.stack([np.searchsorted(row, us, side="right") for row, us in zip(cdf, u, strict=True)])
    return Tensor(np.minimum(draws, a.shape[1] - 1).astype("int64" if dtype is None else dtype))


def _shape(shape: Any) -> tuple[int, ...]:
    shape = np.asarray(shape.data if hasattr(shape, "data") else shape)
    return (int(shape),) if shape.ndim == 0 else tuple(int(d) for d in shape)
