"""Regularisation layers (Keras 3's names and defaults): GaussianNoise, GaussianDropout,
AlphaDropout, ActivityRegularization.

The random layers draw from the layer's own seeded generator inside an engine op (as
``Dropout`` does with ``ops.dropout``), so training is reproducible and a compiled training
step (``compile(jit_compile=True)``) replays the same draws, bit for bit, as the eager step.
All of them do nothing at inference (``training=False``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import random as _random
from .. import regularizers
from ..engine.ops import multiply, unbroadcast
from ..engine.tensor import Function, Tensor
from .base import Layer, activity_loss

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _normal(generator: np.random.Generator, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    dtype = np.dtype(dtype) if np.dtype(dtype) in (np.float32, np.float64) else np.float32
    return generator.standard_normal(shape, dtype=dtype)


class AddGaussianNoise(Function):
    """``x + stddev * z``, ``z ~ N(0, 1)`` from ``generator``; the gradient passes unchanged."""

    name = "add_gaussian_noise"

    @staticmethod
    def forward(ctx, x, stddev, generator):
        return (x + stddev * _normal(generator, x.shape, x.dtype)).astype(x.dtype, copy=False)

    @staticmethod
    def vjp(ctx, g):
        return (g,)


class MultiplyGaussianNoise(Function):
    """``x * (1 + stddev * z)``, ``z ~ N(0, 1)`` from ``generator``: the gradient is ``g * noise``."""

    name = "multiply_gaussian_noise"

    @staticmethod
    def forward(ctx, x, stddev, generator):
        noise = (1 + stddev * _normal(generator, x.shape, x.dtype)).astype(x.dtype, copy=False)
        ctx.save(noise)
        return x * noise

    @staticmethod
    def vjp(ctx, g, noise):
        return (multiply(g, noise),)


class AlphaDropoutOp(Function):
    """AlphaDropout: ``a * (x * keep + alpha_p * (1 - keep)) + b``, ``keep = (u >= rate)``.

    ``alpha_p = -alpha * scale`` (SELU's saturation value), ``a = ((1 - rate) * (1 + rate *
    alpha_p**2)) ** -0.5``, ``b = -a * alpha_p * rate``: the mean and variance of the
    inputs are kept. The gradient is ``g * a * keep``.
    """

    name = "alpha_dropout"

    @staticmethod
    def forward(ctx, x, rate, generator, noise_shape=None):
        keep = (generator.random(noise_shape or x.shape, dtype=np.float32) >= rate).astype(x.dtype)
        alpha_p = -SELU_ALPHA * SELU_SCALE
        a = ((1 - rate) * (1 + rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * rate
        ctx.save(np.asarray(a, x.dtype) * keep, x.shape)
        return (a * (x * keep + alpha_p * (1 - keep)) + b).astype(x.dtype, copy=False)

    @staticmethod
    def vjp(ctx, g, scale, shape):
        return (unbroadcast(multiply(g, scale), shape),)


def _check_fraction(layer: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number) or not (
            0 <= value <= 1):
        raise ValueError(f"{layer}: Invalid value received for argument `{name}`. Expected a "
                         f"float value between 0 and 1. Received: {name}={value!r}")
    return float(value)


class GaussianNoise(Layer):
    """Adds zero-centred Gaussian noise during training: ``x + N(0, stddev**2)``.

    Parameters
    ----------
    stddev : float in [0, 1]
        Standard deviation of the noise.
    seed : int, optional
        The noise comes from the layer's seeded generator (derived from the global seed
        when None).

    Examples
    --------
    >>> import unafraid as tf
    >>> layer = tf.keras.layers.GaussianNoise(0.1, seed=1)
    >>> layer(tf.ones((2, 3))).numpy()  # inference: unchanged
    array([[1., 1., 1.],
           [1., 1., 1.]], dtype=float32)
    """

    supports_masking = True

    def __init__(self, stddev: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stddev = _check_fraction("GaussianNoise", "stddev", stddev)
        self.seed = seed
        self.generator = _random.make_generator(seed)

    def call(self, inputs: Tensor, training: bool = False) -> Tensor:
        if training and self.stddev > 0:
            return AddGaussianNoise.apply(inputs, stddev=self.stddev, generator=self.generator)
        return inputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(Layer):
    """Multiplies the inputs by Gaussian noise of mean 1 during training:
    ``x * N(1, rate / (1 - rate))``.

    Parameters
    ----------
    rate : float in [0, 1]
        As in Dropout; the noise's standard deviation is ``sqrt(rate / (1 - rate))``.
    seed : int, optional
    """

    supports_masking = True

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rate = _check_fraction("GaussianDropout", "rate", rate)
        self.seed = seed
        self.generator = _random.make_generator(seed)

    def call(self, inputs: Tensor, training: bool = False) -> Tensor:
        if training and self.rate > 0:
            stddev = math.sqrt(self.rate / (1.0 - self.rate))
            return MultiplyGaussianNoise.apply(inputs, stddev=stddev, generator=self.generator)
        return inputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class AlphaDropout(Layer):
    """Dropout that keeps the inputs' mean and variance (for SELU networks).

    Dropped entries are set to SELU's negative saturation ``-alpha * scale``, then an affine
    map restores the mean and variance (see :class:`AlphaDropoutOp` for the formula).

    Parameters
    ----------
    rate : float in [0, 1]
    noise_shape : tuple, optional
        Shape of the keep/drop draw, broadcast to the input (``None`` entries: the input's).
    seed : int, optional
    """

    supports_masking = True

    def __init__(self, rate: float, noise_shape: tuple[int | None, ...] | None = None,
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rate = _check_fraction("AlphaDropout", "rate", rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self.generator = _random.make_generator(seed)

    def call(self, inputs: Tensor, training: bool = False) -> Tensor:
        if training and self.rate > 0:
            shape = None if self.noise_shape is None else tuple(
                n if d is None else d for d, n in zip(self.noise_shape, inputs.shape, strict=True))
            return AlphaDropoutOp.apply(inputs, rate=self.rate, generator=self.generator,
                                        noise_shape=shape)
        return inputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": None if self.noise_shape is None else list(self.noise_shape)}


class ActivityRegularization(Layer):
    """Passes its input through and adds ``l1 * sum(|x|) + l2 * sum(x**2)`` to the loss.

    Parameters
    ----------
    l1, l2 : float, default 0.0

    Examples
    --------
    >>> import unafraid as tf
    >>> layer = tf.keras.layers.ActivityRegularization(l1=0.1)
    >>> _ = layer(tf.constant([[1.0, -2.0]]))
    >>> [round(float(v), 4) for v in layer.losses]
    [0.3]
    """

    supports_masking = True

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.l1, self.l2 = float(l1), float(l2)
        self.activity_regularizer = regularizers.L1L2(l1=self.l1, l2=self.l2)

    def call(self, inputs: Tensor) -> Tensor:
        self._activity_losses = [activity_loss(self.activity_regularizer, inputs)]
        return inputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "l1": self.l1, "l2": self.l2}
