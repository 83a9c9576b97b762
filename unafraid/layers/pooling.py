"""Pooling layers with Keras 3's names and defaults, channels last
(``data_format="channels_first"`` inputs are moved last inside): MaxPooling1D/2D/3D,
AveragePooling1D/2D/3D, GlobalAveragePooling1D/2D/3D, GlobalMaxPooling1D/2D/3D.

Windowed pooling runs on strided views of the input (one pass per window offset);
max pooling's gradient goes to exactly one input per window, the first maximum.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import ops
from ..engine.convolution import as_tuple, avg_pool, conv_window, max_pool
from ..engine.tensor import Tensor
from .base import Layer
from .channels import channels_last_inside, check_data_format
from .conv import check_rank, spatial_out


class BasePooling(Layer):
    """Keras's ``BasePooling``.

    Parameters
    ----------
    pool_size : int or tuple of int, default 2 per axis
    strides : int or tuple of int, optional
        Defaults to ``pool_size``.
    padding : {'valid', 'same'}, default 'valid'
        'same' gives ``ceil(n / stride)`` outputs; padding never wins a max and is not
        counted in an average.
    data_format : None, 'channels_last' or 'channels_first' (moved last inside; see layers.channels)

    Shapes
    ------
    input ``(batch, *spatial, channels)``; output ``(batch, *out, channels)`` with
    ``out = floor((n - pool) / stride) + 1`` ('valid').
    """

    rank = 2
    pool = staticmethod(max_pool)

    def __init__(self, pool_size: Any = 2, strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        layer = type(self).__name__
        self.pool_size = as_tuple(pool_size, self.rank, f"{layer}: pool_size")
        self.strides = as_tuple(self.pool_size if strides is None else strides, self.rank,
                                f"{layer}: strides")
        self.padding = str(padding).lower()
        if self.padding not in ("valid", "same"):
            raise ValueError(f"{layer}: padding must be 'valid' or 'same', got {padding!r}.")
        self.data_format = check_data_format(layer, data_format)

    @channels_last_inside
    def build(self, input_shape: tuple[int | None, ...]) -> None:
        check_rank(self, input_shape, self.rank)

    @channels_last_inside
    def _check_input(self, x: Tensor) -> None:
        check_rank(self, x.shape, self.rank)

    @channels_last_inside
    def call(self, inputs: Tensor) -> Tensor:
        return type(self).pool(inputs, self.pool_size, self.strides, self.padding)

    def window(self, size: tuple[int, ...], axis: int) -> tuple[int, ...]:
        return conv_window(size, self.pool_size[axis:axis + 1], self.strides[axis:axis + 1],
                           self.padding, (1,)).out_size

    @channels_last_inside
    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        check_rank(self, input_shape, self.rank)
        return (input_shape[0], *spatial_out(input_shape[1:-1], self.window, self), input_shape[-1])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "pool_size": list(self.pool_size),
                "strides": list(self.strides), "padding": self.padding,
                "data_format": self.data_format}


class MaxPooling1D(BasePooling):
    """Max over windows of ``pool_size`` steps: ``(batch, steps, channels)``."""

    rank = 1


class MaxPooling2D(BasePooling):
    """Max over ``pool_size`` windows of images ``(batch, height, width, channels)``.

    Examples
    --------
    >>> import unafraid as tf
    >>> tf.keras.layers.MaxPooling2D(pool_size=(2, 2))(tf.ones((2, 26, 26, 32))).shape
    (2, 13, 13, 32)
    """

    rank = 2


class MaxPooling3D(BasePooling):
    """Max over ``pool_size`` windows of volumes ``(batch, depth, height, width, channels)``."""

    rank = 3


class AveragePooling1D(BasePooling):
    """Mean over windows of ``pool_size`` steps: ``(batch, steps, channels)``."""

    rank = 1
    pool = staticmethod(avg_pool)


class AveragePooling2D(BasePooling):
    """Mean over ``pool_size`` windows of images ``(batch, height, width, channels)``."""

    rank = 2
    pool = staticmethod(avg_pool)


class AveragePooling3D(BasePooling):
    """Mean over ``pool_size`` windows of volumes ``(batch, depth, height, width, channels)``."""

    rank = 3
    pool = staticmethod(avg_pool)


class BaseGlobalPooling(Layer):
    """Keras's ``BaseGlobalPooling``: reduce every spatial axis.

    Parameters
    ----------
    data_format : None, 'channels_last' or 'channels_first' (moved last inside; see layers.channels)
    keepdims : bool, default False
        Keep the spatial axes with size 1.

    Shapes
    ------
    input ``(batch, *spatial, channels)``; output ``(batch, channels)`` (or
    ``(batch, 1, ..., 1, channels)`` with ``keepdims``).
    """

    rank = 2
    reduce = staticmethod(ops.mean)

    def __init__(self, data_format: str | None = None, keepdims: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = check_data_format(type(self).__name__, data_format)
        self.keepdims = bool(keepdims)

    @channels_last_inside
    def build(self, input_shape: tuple[int | None, ...]) -> None:
        check_rank(self, input_shape, self.rank)

    @channels_last_inside
    def _check_input(self, x: Tensor) -> None:
        check_rank(self, x.shape, self.rank)

    @channels_last_inside
    def call(self, inputs: Tensor) -> Tensor:
        axes = tuple(range(1, self.rank + 1))
        return type(self).reduce(inputs, axis=axes, keepdims=self.keepdims)

    @channels_last_inside
    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        check_rank(self, input_shape, self.rank)
        middle = (1,) * self.rank if self.keepdims else ()
        return (input_shape[0], *middle, input_shape[-1])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format,
                "keepdims": self.keepdims}


class GlobalAveragePooling1D(BaseGlobalPooling):
    """Mean over the steps of ``(batch, steps, channels)``: ``(batch, channels)``.

    With a mask (``(batch, steps)``, from ``Masking`` or ``Embedding(mask_zero=True)``, or
    passed as ``layer(x, mask)``) the mean runs over the unmasked steps only,
    ``sum(m x) / sum(m)``, as in Keras; the output carries no mask.
    """

    rank = 1
    supports_masking = True

    @channels_last_inside
    def call(self, inputs: Tensor, *args: Any, mask: Any = None) -> Tensor:
        if mask is None and args:  # layer(x, mask): the mask given by position, as Keras allows
            mask = args[0]
        if mask is None:
            return super().call(inputs)
        m = np.asarray(mask.numpy() if hasattr(mask, "numpy") else mask).astype(inputs.dtype)[..., None]
        total = ops.sum(ops.multiply(inputs, m), axis=1, keepdims=self.keepdims)
        return ops.divide(total, np.sum(m, axis=1, keepdims=self.keepdims))

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        return None


class GlobalAveragePooling2D(BaseGlobalPooling):
    """Mean over height and width: ``(batch, height, width, channels)`` -> ``(batch, channels)``."""

    rank = 2


class GlobalAveragePooling3D(BaseGlobalPooling):
    """Mean over depth, height and width: ``(batch, channels)``."""

    rank = 3


class GlobalMaxPooling1D(BaseGlobalPooling):
    """Max over the steps of ``(batch, steps, channels)`` (tied maxima share the gradient)."""

    rank = 1
    reduce = staticmethod(ops.max)


class GlobalMaxPooling2D(BaseGlobalPooling):
    """Max over height and width (tied maxima share the gradient)."""

    rank = 2
    reduce = staticmethod(ops.max)


class GlobalMaxPooling3D(BaseGlobalPooling):
    """Max over depth, height and width (tied maxima share the gradient)."""

    rank = 3
    reduce = staticmethod(ops.max)
