"""Weight initializers with Keras's names and defaults.

Each draws from a generator derived from the global seed (see
``unafraid.random``), or from its own ``seed=`` when given.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import random as _random
from . import registry


class Initializer:
    """Base class: ``init(shape, dtype='float32') -> ndarray``."""

    def __call__(self, shape: tuple[int, ...], dtype: Any = "float32") -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Initializer:
        return cls(**config)


class Zeros(Initializer):
    """All zeros."""

    def __call__(self, shape, dtype="float32"):
        return np.zeros(shape, dtype)


class Ones(Initializer):
    """All ones."""

    def __call__(self, shape, dtype="float32"):
        return np.ones(shape, dtype)


class Constant(Initializer):
    """All equal to ``value``: a number, or an array broadcast to the weight's shape."""

    def __init__(self, value: Any = 0.0) -> None:
        a = np.asarray(getattr(value, "data", value), np.float64)
        if not np.isfinite(a).all():
            raise ValueError(f"initializers.Constant: value must be finite, got "
                             f"{value if a.ndim == 0 else 'an array holding NaN or inf'}.")
        self.value = float(a) if a.ndim == 0 else a

    def __call__(self, shape, dtype="float32"):
        if isinstance(self.value, float):
            return np.full(shape, self.value, dtype)
        try:
            return np.broadcast_to(self.value, tuple(shape)).astype(dtype)
        except ValueError as e:
            raise ValueError(f"initializers.Constant: the value of shape {self.value.shape} "
                             f"cannot fill a weight of shape {tuple(shape)}.") from e

    def get_config(self):
        return {"value": self.value if isinstance(self.value, float) else self.value.tolist()}


def _check_number(cls: str, name: str, value: Any, low: float = -math.inf,
                  low_ok: bool = True) -> None:
    """Refuse a setting that is not a finite real number at least (or above) ``low``."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"initializers.{cls}: {name} must be a number, got {value!r}.")
    if not math.isfinite(value) or value < low or (value == low and not low_ok):
        bound = "" if low == -math.inf else f" {'>=' if low_ok else '>'} {low:g}"
        raise ValueError(f"initializers.{cls}: {name} must be a finite number{bound}, got "
                         f"{value!r}.")


def _check_seed(cls: str, seed: Any) -> None:
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)
                             or seed < 0):
        raise ValueError(f"initializers.{cls}: seed must be None or a non-negative integer, got "
                         f"{seed!r}.")


class _Seeded(Initializer):
    def __init__(self, seed: int | None = None) -> None:
        _check_seed(type(self).__name__, seed)
        self.seed = seed

    def _rng(self) -> np.random.Generator:
        return _random.make_generator(self.seed)

    def get_config(self):
        return {"seed": self.seed}


class RandomNormal(_Seeded):
    """Normal draws, ``N(mean, stddev^2)`` (Keras defaults 0 and 0.05)."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        _check_number(type(self).__name__, "mean", mean)
        _check_number(type(self).__name__, "stddev", stddev, low=0.0)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype="float32"):
        return (self.mean + self.stddev * self._rng().standard_normal(shape)).astype(dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(_Seeded):
    """Uniform draws on ``[minval, maxval)`` (Keras defaults -0.05 and 0.05)."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        _check_number("RandomUniform", "minval", minval)
        _check_number("RandomUniform", "maxval", maxval)
        if minval > maxval:
            raise ValueError(f"initializers.RandomUniform: minval must be <= maxval, got "
                             f"minval={minval!r} > maxval={maxval!r}; swap them.")
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape, dtype="float32"):
        return self._rng().uniform(self.minval, self.maxval, shape).astype(dtype)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


def _truncated_normal(rng: np.random.Generator, shape: Any, stddev: float) -> np.ndarray:
    """``N(0, stddev^2)`` draws, redrawing any beyond two standard deviations."""
    x = rng.standard_normal(shape)
    bad = np.abs(x) > 2
    while bad.any():
        x[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(x) > 2
    return x * stddev


class TruncatedNormal(RandomNormal):
    """Normal draws, redrawn beyond two standard deviations (Keras defaults 0 and 0.05)."""

    def __call__(self, shape, dtype="float32"):
        return (self.mean + _truncated_normal(self._rng(), shape, self.stddev)).astype(dtype)


def _fans(shape: tuple[int, ...]) -> tuple[float, float]:
    if len(shape) == 0:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    receptive = float(np.prod(shape[:-2])) if len(shape) > 2 else 1.0
    return shape[-2] * receptive, shape[-1] * receptive


class VarianceScaling(_Seeded):
    """Draws with variance ``scale / n``, ``n`` = fan_in, fan_out or their mean.

    ``distribution='truncated_normal'``: stddev ``sqrt(scale / n) / 0.8796...``
    (the std of a unit normal truncated at 2); ``'untruncated_normal'``:
    ``sqrt(scale / n)``; ``'uniform'``: on ``[-limit, limit]``, ``limit = sqrt(3 scale / n)``.
    """

    def __init__(self, scale: float = 1.0, mode: str = "fan_in",
                 distribution: str = "truncated_normal", seed: int | None = None) -> None:
        super().__init__(seed)
        _check_number("VarianceScaling", "scale", scale, low=0.0, low_ok=False)
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"VarianceScaling: mode must be fan_in, fan_out or fan_avg, "
                             f"got {mode!r}.")
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise ValueError(f"VarianceScaling: distribution must be truncated_normal, "
                             f"untruncated_normal or uniform, got {distribution!r}.")
        self.scale, self.mode, self.distribution = scale, mode, distribution

    def __call__(self, shape, dtype="float32"):
        fan_in, fan_out = _fans(tuple(shape))
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        var = self.scale / max(1.0, n)
        rng = self._rng()
        if self.distribution == "truncated_normal":
            x = _truncated_normal(rng, shape, math.sqrt(var) / 0.87962566103423978)
        elif self.distribution == "untruncated_normal":
            x = rng.standard_normal(shape) * math.sqrt(var)
        else:
            limit = math.sqrt(3.0 * var)
            x = rng.uniform(-limit, limit, shape)
        return x.astype(dtype)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed}


class Orthogonal(_Seeded):
    """An orthogonal matrix times ``gain`` (Saxe et al., 2014), Keras's recurrent default.

    A ``(max(r, c), min(r, c))`` matrix of standard normal draws is factored ``A = QR``; the
    columns of ``Q`` are made unique by ``Q <- Q diag(sign(diag(R)))``, and ``Q`` (transposed when
    ``r < c``) is the weight: orthonormal columns when ``r >= c``, orthonormal rows otherwise.
    A weight of more than two axes is the ``(prod(shape[:-1]), shape[-1])`` matrix reshaped.

    Parameters
    ----------
    gain : float, default 1.0
    seed : int, optional

    Examples
    --------
    >>> import numpy as np, unafraid as uf
    >>> w = uf.initializers.Orthogonal(seed=0)((3, 3), "float64")
    >>> bool(np.allclose(w.T @ w, np.eye(3)))
    True
    """

    def __init__(self, gain: float = 1.0, seed: int | None = None) -> None:
        super().__init__(seed)
        _check_number("Orthogonal", "gain", gain)
        self.gain = gain

    def __call__(self, shape, dtype="float32"):
        shape = tuple(shape)
        if len(shape) < 2:
            raise ValueError(f"initializers.Orthogonal needs a weight of at least two axes, got "
                             f"shape {shape}; use e.g. 'glorot_uniform' for a vector.")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = self._rng().standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q.reshape(shape)).astype(dtype)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


def _variant(name: str, scale: float, mode: str, distribution: str, doc: str) -> type:
    def __init__(self, seed: int | None = None) -> None:
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self):
        return {"seed": self.seed}

    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config,
                                           "__doc__": doc})


GlorotUniform = _variant("GlorotUniform", 1.0, "fan_avg", "uniform",
                         "Uniform on ``[-l, l]``, ``l = sqrt(6 / (fan_in + fan_out))``.")
GlorotNormal = _variant("GlorotNormal", 1.0, "fan_avg", "truncated_normal",
                        "Truncated normal, stddev ``sqrt(2 / (fan_in + fan_out))``.")
HeNormal = _variant("HeNormal", 2.0, "fan_in", "truncated_normal",
                    "Truncated normal, stddev ``sqrt(2 / fan_in)``.")
HeUniform = _variant("HeUniform", 2.0, "fan_in", "uniform",
                     "Uniform on ``[-l, l]``, ``l = sqrt(6 / fan_in)``.")
LecunNormal = _variant("LecunNormal", 1.0, "fan_in", "truncated_normal",
                       "Truncated normal, stddev ``sqrt(1 / fan_in)``.")
LecunUniform = _variant("LecunUniform", 1.0, "fan_in", "uniform",
                        "Uniform on ``[-l, l]``, ``l = sqrt(3 / fan_in)``.")

NAMES = registry.names("initializer")
NAMES.register_table({
    "zeros": Zeros, "ones": Ones, "constant": Constant, "random_normal": RandomNormal,
    "random_uniform": RandomUniform, "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling, "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal, "he_normal": HeNormal, "he_uniform": HeUniform,
    "lecun_normal": LecunNormal, "lecun_uniform": LecunUniform, "orthogonal": Orthogonal},
    class_names=True)

zeros, ones = Zeros, Ones
glorot_uniform, glorot_normal = GlorotUniform, GlorotNormal
he_normal, he_uniform, lecun_normal = HeNormal, HeUniform, LecunNormal
random_normal, random_uniform = RandomNormal, RandomUniform
orthogonal = Orthogonal


def get(identifier: Any) -> Initializer:
    """An initializer from a name (``'glorot_uniform'``), a saved config, or an instance."""
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str):
        return NAMES.lookup(identifier)()
    if isinstance(identifier, dict) and identifier.get("class_name") in NAMES:
        return NAMES.get(identifier["class_name"]).from_config(identifier.get("config", {}))
    raise ValueError(f"Cannot interpret {identifier!r} as an initializer: pass a name such as "
                     f"'glorot_uniform' or an unafraid.initializers object.")


def serialize(init: Initializer) -> dict[str, Any]:
    """``{'class_name': ..., 'config': ...}`` for saving."""
    name = type(init).__name__
    if NAMES.get(name) is not type(init):
        raise ValueError(f"Cannot save the custom initializer {name}: saved models hold no code.")
    return {"class_name": name, "config": init.get_config()}
