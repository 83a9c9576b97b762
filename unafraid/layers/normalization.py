"""BatchNormalization and LayerNormalization, with Keras's defaults."""

from __future__ import annotations

from typing import Any

from .. import initializers
from ..checks import check_axis, check_number
from ..engine import ops
from ..engine.tensor import Tensor
from .base import Layer


def _axes(axis: int | list[int], ndim: int) -> tuple[int, ...]:
    axes = [axis] if isinstance(axis, int) else list(axis)
    return tuple(sorted(a % ndim for a in axes))


def _param_shape(shape: tuple[int, ...], keep: tuple[int, ...]) -> tuple[int, ...]:
    """Shape that broadcasts a per-feature vector over the other axes."""
    return tuple(shape[i] if i in keep else 1 for i in range(len(shape)))


def _normalize(x: Any, mean: Any, var: Any, epsilon: float, gamma: Any, beta: Any,
               pshape: tuple[int, ...]) -> Any:
    """``gamma * (x - mean) / sqrt(var + epsilon) + beta`` (either may be absent)."""
    y = ops.divide(ops.subtract(x, mean), ops.sqrt(ops.add(var, epsilon)))
    if gamma is not None:
        y = ops.multiply(y, ops.reshape(gamma, pshape))
    if beta is not None:
        y = ops.add(y, ops.reshape(beta, pshape))
    return y


class BatchNormalization(Layer):
    """Normalises each feature with batch statistics in training, moving averages otherwise.

    ``y = gamma * (x - mean) / sqrt(var + epsilon) + beta``. In training,
    ``mean``/``var`` are the batch's (biased variance) and the moving averages
    are updated: ``moving = momentum * moving + (1 - momentum) * batch``.

    Parameters
    ----------
    axis : int, default -1
        The feature axis.
    momentum : float, default 0.99
    epsilon : float, default 1e-3
    center, scale : bool, default True
        Learn ``beta`` / ``gamma``.
    """

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True,
                 beta_initializer: Any = "zeros", gamma_initializer: Any = "ones",
                 moving_mean_initializer: Any = "zeros",
                 moving_variance_initializer: Any = "ones", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = check_axis("BatchNormalization", axis)
        self.momentum = check_number(
            "BatchNormalization", "momentum", momentum, low=0, high=1,
            hint="It is the weight of the old moving average: use e.g. 0.99 (the default).")
        self.epsilon = check_number("BatchNormalization", "epsilon", epsilon, low=0, low_open=True,
                                    hint="Use a small positive number such as 1e-3 (the default).")
        self.center, self.scale = center, scale
        self.inits = {k: initializers.get(v) for k, v in [
            ("beta", beta_initializer), ("gamma", gamma_initializer),
            ("moving_mean", moving_mean_initializer),
            ("moving_variance", moving_variance_initializer)]}

    def build(self, input_shape: tuple[int, ...]) -> None:
        keep = _axes(self.axis, len(input_shape))
        shape = tuple(input_shape[a] for a in keep)
        self.gamma = self.add_weight(shape, self.inits["gamma"], name="gamma") if self.scale else None
        self.beta = self.add_weight(shape, self.inits["beta"], name="beta") if self.center else None
        self.moving_mean = self.add_weight(shape, self.inits["moving_mean"], name="moving_mean",
                                           trainable=False)
        self.moving_variance = self.add_weight(shape, self.inits["moving_variance"],
                                               name="moving_variance", trainable=False)

    def call(self, inputs: Tensor, training: bool = False) -> Tensor:
        keep = _axes(self.axis, inputs.ndim)
        reduce = tuple(i for i in range(inputs.ndim) if i not in keep)
        pshape = _param_shape(inputs.shape, keep)
        if training and self.trainable:  # frozen: inference mode, as in Keras 3
            mean = ops.mean(inputs, axis=reduce, keepdims=True)
            var = ops.var(inputs, axis=reduce, keepdims=True)
            m = self.momentum
            ops.assign_moving_average(self.moving_mean, mean, m)
            ops.assign_moving_average(self.moving_variance, var, m)
        else:
            mean = ops.reshape(self.moving_mean, pshape)
            var = ops.reshape(self.moving_variance, pshape)
        return _normalize(inputs, mean, var, self.epsilon, self.gamma, self.beta, pshape)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                **{f"{k}_initializer": initializers.serialize(v) for k, v in self.inits.items()}}


class LayerNormalization(Layer):
    """Normalises each example over ``axis``: ``gamma * (x - mean) / sqrt(var + eps) + beta``.

    Parameters
    ----------
    axis : int or list of int, default -1
    epsilon : float, default 1e-3
    center, scale : bool, default True
    """

    def __init__(self, axis: int | list[int] = -1, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = check_axis("LayerNormalization", axis)
        self.epsilon = check_number("LayerNormalization", "epsilon", epsilon, low=0, low_open=True,
                                    hint="Use a small positive number such as 1e-3 (the default).")
        self.center, self.scale = center, scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)

    def build(self, input_shape: tuple[int, ...]) -> None:
        keep = _axes(self.axis, len(input_shape))
        shape = tuple(input_shape[a] for a in keep)
        self.gamma = self.add_weight(shape, self.gamma_initializer, name="gamma") if self.scale else None
        self.beta = self.add_weight(shape, self.beta_initializer, name="beta") if self.center else None

    def call(self, inputs: Tensor) -> Tensor:
        axes = _axes(self.axis, inputs.ndim)
        mean = ops.mean(inputs, axis=axes, keepdims=True)
        var = ops.var(inputs, axis=axes, keepdims=True)
        pshape = _param_shape(inputs.shape, axes)
        return _normalize(inputs, mean, var, self.epsilon, self.gamma, self.beta, pshape)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer)}
