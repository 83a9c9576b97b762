"""Learning-rate schedules (``tf.keras.optimizers.schedules``).

A schedule is a callable ``step -> learning rate``. Pass one as an optimizer's
``learning_rate``; the optimizer calls it with its ``iterations`` (0 for the
first update) before every step, as Keras 3 does::

    lr = unafraid.optimizers.schedules.ExponentialDecay(1e-2, decay_steps=1000, decay_rate=0.9)
    opt = unafraid.optimizers.SGD(learning_rate=lr)

Every schedule has Keras 3's name, arguments and defaults, returns a Python
``float``, and round-trips through ``get_config`` / ``from_config`` (or
``serialize`` / ``deserialize``, which wrap the config as
``{"class_name": ..., "config": ...}``).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from . import registry

__all__ = ["LearningRateSchedule", "ExponentialDecay", "InverseTimeDecay", "PiecewiseConstantDecay",
           "PolynomialDecay", "CosineDecay", "CosineDecayRestarts", "serialize", "deserialize"]


def _positive(value: Any, what: str) -> None:
    if not value > 0:
        raise ValueError(f"Argument `{what}` must be > 0. Received: {what}={value!r}.")


def _per_step(call: Any) -> Any:
    """``call`` for one step, also taking an array of steps (then it returns a float32 array)."""
    @functools.wraps(call)
    def wrapper(self: Any, step: Any) -> Any:
        steps = np.asarray(getattr(step, "data", step))
        if steps.ndim == 0:
            return call(self, step)
        return np.array([float(call(self, s.item())) for s in steps.ravel()],
                        np.float32).reshape(steps.shape)

    return wrapper


class LearningRateSchedule:
    """Base class: subclasses define ``__call__(step) -> float`` and ``get_config()``.

    Examples
    --------
    >>> class Halving(LearningRateSchedule):
    ...     def __init__(self, initial_learning_rate):
    ...         self.initial_learning_rate = initial_learning_rate
    ...     def __call__(self, step):
    ...         return self.initial_learning_rate / 2 ** (step // 100)
    ...     def get_config(self):
    ...         return {"initial_learning_rate": self.initial_learning_rate}
    >>> Halving(0.1)(250)
    0.025
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # schedule(np.arange(1000)) gives one rate per step, as a plot of the schedule needs
        super().__init_subclass__(**kwargs)
        if "__call__" in cls.__dict__:
            cls.__call__ = _per_step(cls.__dict__["__call__"])

    def __call__(self, step: int) -> float:
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `__call__(self, step)`.")

    def get_config(self) -> dict[str, Any]:
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `get_config()` in "
            f"order to be serializable.")

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LearningRateSchedule:
        """Re-create a schedule from ``get_config()``'s output."""
        return cls(**config)

    def __repr__(self) -> str:
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except NotImplementedError:
            args = ""
        return f"{type(self).__name__}({args})"


class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``.

    Parameters
    ----------
    initial_learning_rate : float
    decay_steps : int
        Positive. With ``staircase=True`` the exponent is ``floor(step / decay_steps)``.
    decay_rate : float
    staircase : bool, default False
    name : str, default 'ExponentialDecay'

    Examples
    --------
    >>> ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)(20)
    0.025
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, decay_rate: float,
                 staircase: bool = False, name: str = "ExponentialDecay") -> None:
        _positive(decay_steps, "decay_steps")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step: int) -> float:
        p = float(step) / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return float(self.initial_learning_rate) * float(self.decay_rate) ** p

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


class InverseTimeDecay(LearningRateSchedule):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``.

    Parameters
    ----------
    initial_learning_rate : float
    decay_steps : float
        Positive. With ``staircase=True``, ``step / decay_steps`` is floored.
    decay_rate : float
    staircase : bool, default False
    name : str, default 'InverseTimeDecay'

    Examples
    --------
    >>> InverseTimeDecay(0.1, decay_steps=1, decay_rate=0.5)(2)
    0.05
    """

    def __init__(self, initial_learning_rate: float, decay_steps: float, decay_rate: float,
                 staircase: bool = False, name: str = "InverseTimeDecay") -> None:
        _positive(decay_steps, "decay_steps")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step: int) -> float:
        p = float(step) / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return float(self.initial_learning_rate) / (1.0 + float(self.decay_rate) * p)

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


class PiecewiseConstantDecay(LearningRateSchedule):
    """Constant learning rates between step boundaries.

    ``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i-1] < step <= boundaries[i]``, and ``values[-1]`` once
    ``step > boundaries[-1]``.

    Parameters
    ----------
    boundaries : list of int
        Strictly increasing.
    values : list of float
        One more entry than ``boundaries``.
    name : str, default 'PiecewiseConstant'

    Examples
    --------
    >>> lr = PiecewiseConstantDecay([100, 200], [1.0, 0.5, 0.1])
    >>> lr(100), lr(101), lr(201)
    (1.0, 0.5, 0.1)
    """

    def __init__(self, boundaries: list[int], values: list[float],
                 name: str = "PiecewiseConstant") -> None:
        boundaries, values = list(boundaries), list(values)
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                f"The length of boundaries should be 1 less than the length of values. Received: "
                f"boundaries={boundaries} of length {len(boundaries)}, and values={values} of "
                f"length {len(values)}.")
        if any(b2 <= b1 for b1, b2 in zip(boundaries[:-1], boundaries[1:], strict=True)):
            raise ValueError(f"boundaries must be strictly increasing, got {boundaries}.")
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step: int) -> float:
        for boundary, value in zip(self.boundaries, self.values, strict=False):
            if step <= boundary:
                return float(value)
        return float(self.values[-1])

    def get_config(self) -> dict[str, Any]:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """``(initial - end) * (1 - step / decay_steps) ** power + end``, with ``step <= decay_steps``.

    With ``cycle=True``, ``decay_steps`` is multiplied by ``ceil(step / decay_steps)``
    (1 at step 0) instead of clamping the step.

    Parameters
    ----------
    initial_learning_rate : float
    decay_steps : int
    end_learning_rate : float, default 0.0001
    power : float, default 1.0
    cycle : bool, default False
    name : str, default 'PolynomialDecay'

    Examples
    --------
    >>> PolynomialDecay(0.1, decay_steps=10, end_learning_rate=0.0)(5)
    0.05
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int,
                 end_learning_rate: float = 0.0001, power: float = 1.0, cycle: bool = False,
                 name: str = "PolynomialDecay") -> None:
        _positive(decay_steps, "decay_steps")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step: int) -> float:
        step, decay_steps = float(step), float(self.decay_steps)
        if self.cycle:
            decay_steps *= 1.0 if step == 0 else math.ceil(step / decay_steps)
        else:
            step = min(step, decay_steps)
        p = step / decay_steps
        start, end = float(self.initial_learning_rate), float(self.end_learning_rate)
        return (start - end) * (1.0 - p) ** self.power + end

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "end_learning_rate": self.end_learning_rate, "power": self.power,
                "cycle": self.cycle, "name": self.name}


class CosineDecay(LearningRateSchedule):
    """Cosine decay (Loshchilov & Hutter, 2016, SGDR) with an optional linear warmup.

    Without warmup (``warmup_target=None``)::

        step    = min(step, decay_steps)
        decayed = (1 - alpha) * 0.5 * (1 + cos(pi * step / decay_steps)) + alpha
        lr      = initial_learning_rate * decayed

    With warmup, the rate first rises linearly from ``initial_learning_rate`` to
    ``warmup_target`` over ``warmup_steps`` steps, then decays from
    ``warmup_target`` as above over the next ``decay_steps`` steps.

    Parameters
    ----------
    initial_learning_rate : float
    decay_steps : int
        Positive: number of steps to decay over.
    alpha : float, default 0.0
        Final learning rate as a fraction of the starting one.
    name : str, default 'CosineDecay'
    warmup_target : float, optional
    warmup_steps : int, default 0

    Examples
    --------
    >>> CosineDecay(0.1, decay_steps=100)(50)
    0.05
    """

    def __init__(self, initial_learning_rate: float, decay_steps: int, alpha: float = 0.0,
                 name: str = "CosineDecay", warmup_target: float | None = None,
                 warmup_steps: int = 0) -> None:
        _positive(decay_steps, "decay_steps")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def _decay(self, step: float, start: float) -> float:
        cosine = 0.5 * (1.0 + math.cos(math.pi * step / self.decay_steps))
        return start * ((1.0 - self.alpha) * cosine + self.alpha)

    def __call__(self, step: int) -> float:
        step, initial = float(step), float(self.initial_learning_rate)
        if self.warmup_target is None:
            return self._decay(min(step, self.decay_steps), initial)
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            fraction = step / self.warmup_steps
            return (float(self.warmup_target) - initial) * fraction + initial
        return self._decay(step - self.warmup_steps, float(self.warmup_target))

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "alpha": self.alpha, "name": self.name, "warmup_target": self.warmup_target,
                "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR, Loshchilov & Hutter, 2016).

    The multiplier decays from 1 to ``alpha`` over ``first_decay_steps`` steps;
    then it restarts, each period ``t_mul`` times longer and starting
    ``m_mul`` times lower than the previous one.

    Parameters
    ----------
    initial_learning_rate : float
    first_decay_steps : int
    t_mul : float, default 2.0
    m_mul : float, default 1.0
    alpha : float, default 0.0
    name : str, default 'SGDRDecay'

    Examples
    --------
    >>> lr = CosineDecayRestarts(0.1, first_decay_steps=10)
    >>> lr(0), lr(10)
    (0.1, 0.1)
    """

    def __init__(self, initial_learning_rate: float, first_decay_steps: int, t_mul: float = 2.0,
                 m_mul: float = 1.0, alpha: float = 0.0, name: str = "SGDRDecay") -> None:
        _positive(first_decay_steps, "first_decay_steps")
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self.t_mul = t_mul
        self.m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def __call__(self, step: int) -> float:
        fraction = float(step) / self.first_decay_steps
        t_mul = float(self.t_mul)
        if t_mul != 1.0:  # period i lasts t_mul**i first periods: invert the geometric sum
            i_restart = math.floor(math.log(1.0 - fraction * (1.0 - t_mul)) / math.log(t_mul))
            sum_r = (1.0 - t_mul ** i_restart) / (1.0 - t_mul)
            fraction = (fraction - sum_r) / t_mul ** i_restart
        else:
            i_restart = math.floor(fraction)
            fraction -= i_restart
        cosine = 0.5 * float(self.m_mul) ** i_restart * (1.0 + math.cos(math.pi * fraction))
        return float(self.initial_learning_rate) * ((1.0 - self.alpha) * cosine + self.alpha)

    def get_config(self) -> dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self.t_mul,
                "m_mul": self.m_mul, "alpha": self.alpha, "name": self.name}


NAMES = registry.names("learning rate schedule", plural="schedules",
                       advice="For your own LearningRateSchedule subclass, pass "
                              "custom_objects={'ClassName': ClassName}.")
NAMES.register_each([ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay, PolynomialDecay,
                     CosineDecay, CosineDecayRestarts])


def serialize(schedule: LearningRateSchedule) -> dict[str, Any]:
    """``{"class_name": ..., "config": ...}`` for a schedule (JSON-serialisable).

    Examples
    --------
    >>> serialize(ExponentialDecay(0.1, 10, 0.5))["class_name"]
    'ExponentialDecay'
    """
    if not isinstance(schedule, LearningRateSchedule):
        raise TypeError(f"serialize expects a LearningRateSchedule, got {schedule!r}.")
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config: dict[str, Any],
                custom_objects: dict[str, Any] | None = None) -> LearningRateSchedule:
    """The schedule described by ``serialize``'s output.

    Parameters
    ----------
    config : dict
        ``{"class_name": "ExponentialDecay", "config": {...}}``.
    custom_objects : dict, optional
        Extra ``{name: class}`` for your own ``LearningRateSchedule`` subclasses.
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"A schedule config must be a dict with 'class_name' and 'config', got "
                         f"{config!r}.")
    cls = NAMES.lookup(config["class_name"], custom_objects)
    return cls.from_config(dict(config.get("config", {})))
