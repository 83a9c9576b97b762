"""Keras 3's UnitNormalization, RMSNormalization, GroupNormalization and Identity layers."""

from __future__ import annotations

from typing import Any

from .. import constraints, initializers, regularizers
from ..engine import ops
from ..engine.tensor import Tensor
from .base import Layer
from .normalization import beta_gamma_config


def _axes(layer: str, axis: Any) -> int | list[int]:
    if isinstance(axis, list | tuple) and all(isinstance(a, int) for a in axis):
        return list(axis)
    if isinstance(axis, int):
        return axis
    raise TypeError(f"{layer}: Invalid value for `axis` argument: expected an int or a list/tuple of "
                    f"ints. Received: axis={axis!r}")


def _check_axes(layer: Layer, input_shape: tuple[int | None, ...]) -> None:
    for axis in ([layer.axis] if isinstance(layer.axis, int) else layer.axis):
        if axis >= len(input_shape) or axis < -len(input_shape):
            raise ValueError(f"{type(layer).__name__}: Axis {axis} is out of bounds for input shape "
                             f"{tuple(input_shape)}. Received: axis={layer.axis}")


class UnitNormalization(Layer):
    """Scale each slice along ``axis`` to unit L2 norm: ``x * min(1 / ||x||, 1e12)``.

    Parameters
    ----------
    axis : int or list of int, default -1

    Examples
    --------
    >>> import numpy as np
    >>> UnitNormalization()(np.array([[3.0, 4.0]])).numpy()
    array([[0.6, 0.8]], dtype=float32)
    """

    supports_masking = True

    def __init__(self, axis: Any = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = _axes(type(self).__name__, axis)

    def call(self, inputs: Tensor) -> Tensor:
        axis = tuple(self.axis) if isinstance(self.axis, list) else self.axis
        square_sum = ops.sum(ops.multiply(inputs, inputs), axis=axis, keepdims=True)
        inv_norm = ops.minimum(ops.divide(1.0, ops.sqrt(square_sum)), 1e12)  # Keras's epsilon 1e-12
        return ops.multiply(inputs, inv_norm)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        _check_axes(self, input_shape)
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}


class RMSNormalization(Layer):
    """Root-mean-square normalization: ``x / sqrt(mean(x^2 over axis) + epsilon) * scale``.

    Parameters
    ----------
    axis : int or list of int, default -1
    epsilon : float, default 1e-6

    Weights
    -------
    scale : shaped like the input along ``axis``, initialised to ones (trainable).

    Examples
    --------
    >>> import numpy as np
    >>> RMSNormalization(epsilon=0.0)(np.array([[3.0, 4.0]])).numpy().round(4)  # rms = sqrt(12.5)
    array([[0.8485, 1.1314]], dtype=float32)
    """

    def __init__(self, axis: Any = -1, epsilon: float = 1e-6, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = _axes(type(self).__name__, axis)
        self.epsilon = epsilon

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        _check_axes(self, input_shape)
        axes = sorted(self.axis) if isinstance(self.axis, list) else [self.axis]
        self.scale = self.add_weight(tuple(input_shape[a] for a in axes), "ones", name="scale")

    def call(self, inputs: Tensor) -> Tensor:
        axes = sorted(self.axis) if isinstance(self.axis, list) else [self.axis]
        rank = len(inputs.shape)
        mean_square = ops.mean(ops.multiply(inputs, inputs), axis=tuple(axes), keepdims=True)
        outputs = ops.divide(inputs, ops.sqrt(ops.add(mean_square, self.epsilon)))
        shape = [1] * rank
        for a in axes:
            shape[a] = inputs.shape[a]
        return ops.multiply(outputs, ops.reshape(self.scale, tuple(shape)))

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        _check_axes(self, input_shape)
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}


class Identity(Layer):
    """Returns its input unchanged (a placeholder layer).

    Examples
    --------
    >>> import numpy as np
    >>> Identity()(np.array([[1.0, 2.0]])).numpy()
    array([[1., 2.]], dtype=float32)
    """

    supports_masking = True

    def call(self, inputs: Tensor) -> Tensor:
        return inputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape


class GroupNormalization(Layer):
    """Group normalization (Wu & He, 2018): the channels along ``axis`` are split into ``groups``;
    each example's group is normalised over its channels and all other axes, then scaled and
    shifted per channel: ``(x - mean_g) / sqrt(var_g + epsilon) * gamma + beta``.

    ``groups=-1`` is instance normalization (one group per channel); ``groups=1`` normalises
    each example over everything, like LayerNormalization over all axes.

    Parameters
    ----------
    groups : int, default 32
        Must divide the number of channels.
    axis : int, default -1
        The channels axis.
    epsilon : float, default 1e-3
    center, scale : bool, default True
        Learn ``beta`` (zeros) and ``gamma`` (ones), one per channel.
    beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer, beta_constraint,
    gamma_constraint
        As in Keras.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1.0, 3.0, 10.0, 30.0]])
    >>> GroupNormalization(groups=2, epsilon=0.0)(x).numpy()  # each pair: -1, +1
    array([[-1.,  1., -1.,  1.]], dtype=float32)
    """

    supports_masking = True

    def __init__(self, groups: int = 32, axis: int = -1, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer: Any = "zeros", gamma_initializer: Any = "ones",
                 beta_regularizer: Any = None, gamma_regularizer: Any = None,
                 beta_constraint: Any = None, gamma_constraint: Any = None, **kwargs: Any) -> None:
        if not isinstance(groups, int) or (groups <= 0 and groups != -1):
            raise ValueError(f"Received an invalid value for argument `groups`, expected a positive "
                             f"integer (or `-1` for instance normalization). Received: groups={groups}")
        super().__init__(**kwargs)
        self.groups, self.axis, self.epsilon = groups, axis, epsilon
        self.center, self.scale = center, scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        dim = input_shape[self.axis]
        if dim is None:
            raise ValueError(f"Axis {self.axis} of input tensor should have a defined dimension but "
                             f"the layer received an input with shape {tuple(input_shape)}.")
        if self.groups == -1:
            self.groups = dim
        if dim < self.groups:
            raise ValueError(f"Number of groups ({self.groups}) cannot be more than the number of "
                             f"channels ({dim}).")
        if dim % self.groups != 0:
            raise ValueError(f"Number of groups ({self.groups}) must be a multiple of the number of "
                             f"channels ({dim}).")
        self.gamma = self.add_weight((dim,), self.gamma_initializer, name="gamma",
                                     regularizer=self.gamma_regularizer,
                                     constraint=self.gamma_constraint) if self.scale else None
        self.beta = self.add_weight((dim,), self.beta_initializer, name="beta",
                                    regularizer=self.beta_regularizer,
                                    constraint=self.beta_constraint) if self.center else None

    def call(self, inputs: Tensor) -> Tensor:
        shape = tuple(inputs.shape)
        rank = len(shape)
        axis = self.axis % rank
        channels = shape[axis]
        grouped = (*shape[:axis], self.groups, channels // self.groups, *shape[axis + 1:])
        x = ops.reshape(inputs, grouped)
        reduce = tuple(a for a in range(1, rank + 1) if a != axis)  # all but batch and group
        mean = ops.mean(x, axis=reduce, keepdims=True)
        centred = ops.subtract(x, mean)
        var = ops.mean(ops.multiply(centred, centred), axis=reduce, keepdims=True)
        y = ops.reshape(ops.divide(centred, ops.sqrt(ops.add(var, self.epsilon))), shape)
        per_channel = [1] * rank
        per_channel[axis] = channels
        if self.scale:
            y = ops.multiply(y, ops.reshape(self.gamma, tuple(per_channel)))
        if self.center:
            y = ops.add(y, ops.reshape(self.beta, tuple(per_channel)))
        return y

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        if self.axis >= len(input_shape) or self.axis < -len(input_shape):
            raise ValueError(f"Axis {self.axis} is out of bounds for input shape "
                             f"{tuple(input_shape)}. Received: axis={self.axis}")
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "groups": self.groups, "axis": self.axis,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                **beta_gamma_config(self)}
