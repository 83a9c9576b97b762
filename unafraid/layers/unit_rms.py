"""Keras 3's UnitNormalization, RMSNormalization and Identity layers."""

from __future__ import annotations

from typing import Any

from ..engine import ops
from ..engine.tensor import Tensor
from .base import Layer


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
    >>> UnitNormalization()([[3.0, 4.0]]).numpy()
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
    >>> RMSNormalization(epsilon=0.0)([[3.0, 4.0]]).numpy().round(4)  # rms = sqrt(12.5)
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
    >>> Identity()([[1.0, 2.0]]).numpy()
    array([[1., 2.]], dtype=float32)
    """

    supports_masking = True

    def call(self, inputs: Tensor) -> Tensor:
        return inputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape
