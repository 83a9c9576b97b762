"""Convolution layers with Keras 3's names, arguments and defaults, channels last
(``data_format="channels_first"`` inputs are moved last inside):
Conv1D, Conv2D, Conv3D, Conv1DTranspose, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D.

Each is one engine primitive (``unafraid.conv``, ``conv_transpose``, ``depthwise_conv``)
plus a bias and an activation. A call builds one im2col patch buffer of
``batch x output positions x kernel volume x in channels`` values.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import activations, constraints, initializers, regularizers
from ..engine import ops
from ..engine.convolution import (
    as_tuple,
    conv,
    conv_transpose,
    conv_transpose_window,
    conv_window,
    depthwise_conv,
)
from ..engine.tensor import Tensor
from .base import Layer, activity_loss, weight_options_config
from .channels import channels_last_inside, check_data_format

_AXES = {1: "steps", 2: "height, width", 3: "depth, height, width"}



def check_rank(layer: Layer, shape: tuple[int | None, ...], rank: int) -> None:
    """Inputs must be ``(batch, *spatial, channels)`` with ``rank`` spatial axes."""
    if len(shape) != rank + 2:
        hint = (f" For one-channel data of shape {tuple(shape)}, add a channels axis: "
                f"np.expand_dims(x, -1)." if len(shape) == rank + 1 else "")
        raise ValueError(f"{type(layer).__name__} layer '{layer.name}' expects inputs of shape "
                         f"(batch, {_AXES.get(rank, 'spatial...')}, channels), {rank + 2} axes; "
                         f"got shape {tuple(shape)}.{hint}")


def check_positive_int(layer: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"Invalid value for argument `{name}`. Expected a strictly positive value. "
                         f"Received {name}={value!r}. {layer}: {name} must be a positive integer.")
    return int(value)


def spatial_out(shape: tuple[int | None, ...], window: Any, layer: Any = None) -> tuple[int | None, ...]:
    """Output spatial sizes for input spatial sizes (``None`` stays unknown); an input smaller than
    the window (no output) is refused, naming ``layer``."""
    out = tuple(None if n is None else window((n,), i)[0] for i, n in enumerate(shape))
    if any(o is not None and o <= 0 for o in out):
        name = f"{type(layer).__name__} layer '{layer.name}'" if layer is not None else "The layer"
        raise ValueError(f"Computed output size would be zero or negative. {name}: inputs of "
                         f"spatial size {tuple(shape)} are smaller than its window, so the output "
                         f"would have spatial size {out}. Use padding='same', a smaller kernel, "
                         f"stride or dilation_rate, or larger inputs.")
    return out


class BaseConv(Layer):
    """Keras's ``BaseConv``: ``activation(conv(inputs, kernel) + bias)``.

    Parameters
    ----------
    filters : int
        Number of output channels.
    kernel_size : int or tuple of int
    strides : int or tuple of int, default 1
    padding : {'valid', 'same'} ('causal' too for Conv1D), default 'valid'
        Keras/TensorFlow's rules: 'same' gives ``ceil(n / stride)`` outputs.
    data_format : None, 'channels_last' or 'channels_first' (moved last inside; see layers.channels)
    dilation_rate : int or tuple of int, default 1
    groups : int, default 1
        Split channels and filters into independent groups.
    activation, use_bias, kernel_initializer ('glorot_uniform'), bias_initializer ('zeros'),
    kernel_regularizer, bias_regularizer, activity_regularizer
        As in Dense.

    Shapes
    ------
    input ``(batch, *spatial, channels)`` float32; kernel
    ``(*kernel_size, channels / groups, filters)``; bias ``(filters,)``; output
    ``(batch, *out, filters)``.
    """

    rank = 2

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1, groups: int = 1,
                 activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        layer = type(self).__name__
        self.filters = check_positive_int(layer, "filters", filters)
        self.kernel_size = as_tuple(kernel_size, self.rank, f"{layer}: kernel_size")
        self.strides = as_tuple(strides, self.rank, f"{layer}: strides")
        self.dilation_rate = as_tuple(dilation_rate, self.rank, f"{layer}: dilation_rate")
        self.padding = str(padding).lower()
        allowed = ("valid", "same", "causal") if self.rank == 1 else ("valid", "same")
        if self.padding not in allowed:
            raise ValueError(f"{layer}: padding must be one of {allowed}, got {padding!r}.")
        self.data_format = check_data_format(layer, data_format)
        if isinstance(groups, int | np.integer) and not isinstance(groups, bool) and groups < 1:
            raise ValueError(f"The number of groups must be a positive integer. Received: "
                             f"groups={groups}. {layer}: groups splits the channels into "
                             f"independent groups; 1 is an ordinary convolution.")
        self.groups = check_positive_int(layer, "groups", groups)
        if self.filters % self.groups:
            raise ValueError(f"The number of filters must be evenly divisible by the number of "
                             f"groups. Received: groups={self.groups}, filters={self.filters}. "
                             f"{layer}: filters ({self.filters}) must be a multiple of groups "
                             f"({self.groups}).")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                             f"Received: strides={self.strides} and dilation_rate="
                             f"{self.dilation_rate}. {layer}: Keras refuses the combination (its "
                             f"backends do not all compute it); use one or the other.")
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def _channels(self, input_shape: tuple[int | None, ...]) -> int:
        check_rank(self, input_shape, self.rank)
        channels = input_shape[-1]
        if channels is None or channels % self.groups:
            raise ValueError(f"{type(self).__name__} layer '{self.name}' needs a known number of "
                             f"input channels divisible by groups={self.groups}; got input shape "
                             f"{tuple(input_shape)}.")
        return int(channels)

    def kernel_shape(self, channels: int) -> tuple[int, ...]:
        return (*self.kernel_size, channels // self.groups, self.filters)

    @channels_last_inside
    def build(self, input_shape: tuple[int | None, ...]) -> None:
        self.kernel = self.add_weight(self.kernel_shape(self._channels(input_shape)),
                                      self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = (self.add_weight((self.filters,), self.bias_initializer, name="bias",
                                     regularizer=self.bias_regularizer,
                                     constraint=self.bias_constraint)
                     if self.use_bias else None)

    @channels_last_inside
    def _check_input(self, x: Tensor) -> None:
        channels = self._channels(x.shape)
        channel_axis = 1 if self.data_format == "channels_first" else -1
        built_for = self._build_shape[channel_axis] if self._build_shape else channels
        if channels != built_for:
            raise ValueError(f"{type(self).__name__} layer '{self.name}' was built for inputs "
                             f"with {built_for} channels, got shape {x.shape} ({self.data_format}).")

    def convolve(self, x: Tensor, relu: bool = False) -> Tensor:
        """The convolution plus the bias (fused into the product where the primitive can), and
        with ``relu`` the ReLU, taken in place in the product's output (the same bits)."""
        return conv(x, self.kernel, self.strides, self.padding, self.dilation_rate, self.groups,
                    bias=self.bias, relu=relu)

    @channels_last_inside
    def call(self, inputs: Tensor) -> Tensor:
        if self.activation is activations.relu and type(self).convolve is BaseConv.convolve:
            y = self.convolve(inputs, relu=True)  # activation="relu": no second output array
        else:
            y = self.activation(self.convolve(inputs))
        if self.activity_regularizer is not None:
            self._activity_losses = [activity_loss(self.activity_regularizer, y)]
        return y

    def window(self, size: tuple[int, ...], axis: int) -> tuple[int, ...]:
        return conv_window(size, self.kernel_size[axis:axis + 1], self.strides[axis:axis + 1],
                           self.padding, self.dilation_rate[axis:axis + 1]).out_size

    @channels_last_inside
    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        check_rank(self, input_shape, self.rank)
        return (input_shape[0], *spatial_out(input_shape[1:-1], self.window, self), self.filters)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": list(self.kernel_size), "strides": list(self.strides),
                "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": list(self.dilation_rate), "groups": self.groups,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                **weight_options_config(self)}


class Conv1D(BaseConv):
    """1-D convolution over ``(batch, steps, channels)``; ``padding='causal'`` pads only the past.

    Examples
    --------
    >>> import unafraid as tf
    >>> tf.keras.layers.Conv1D(8, 3, padding="causal")(tf.ones((2, 10, 4))).shape
    (2, 10, 8)
    """

    rank = 1


class Conv2D(BaseConv):
    """2-D convolution over ``(batch, height, width, channels)`` images.

    Examples
    --------
    >>> import unafraid as tf
    >>> layer = tf.keras.layers.Conv2D(32, kernel_size=(3, 3), activation="relu")
    >>> layer(tf.ones((2, 28, 28, 1))).shape
    (2, 26, 26, 32)
    """

    rank = 2


class Conv3D(BaseConv):
    """3-D convolution over ``(batch, depth, height, width, channels)`` volumes."""

    rank = 3


class BaseConvTranspose(BaseConv):
    """Transposed convolution (the gradient of a convolution, as a layer), Keras's arguments.

    ``output_padding`` (int or tuple, default None) adds to the output size; it must be
    smaller than the stride. The kernel is ``(*kernel_size, filters, channels)`` (Keras's
    layout) and the output size ``n * stride + max(span - stride, 0)`` ('valid') or
    ``n * stride`` ('same').
    """

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 output_padding: Any = None, data_format: str | None = None,
                 dilation_rate: Any = 1, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        if str(padding).lower() == "causal":
            raise ValueError(f"{type(self).__name__}: padding must be 'valid' or 'same', got "
                             f"{padding!r}.")
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, 1,
                         activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, **kwargs)
        self.output_padding = None if output_padding is None else tuple(
            (output_padding,) * self.rank if isinstance(output_padding, int) else output_padding)
        if self.output_padding is not None and any(
                not 0 <= p < s for p, s in zip(self.output_padding, self.strides, strict=True)):
            raise ValueError(f"`output_padding` must be strictly less than `strides` for all "
                             f"dimensions. {type(self).__name__}: each output_padding must be in "
                             f"[0, stride); "
                             f"got output_padding={output_padding!r} with strides "
                             f"{self.strides}.")

    def kernel_shape(self, channels: int) -> tuple[int, ...]:
        return (*self.kernel_size, self.filters, channels)

    def convolve(self, x: Tensor) -> Tensor:
        y = conv_transpose(x, self.kernel, self.strides, self.padding, self.output_padding,
                           self.dilation_rate)
        return y if self.bias is None else ops.add(y, self.bias)

    def window(self, size: tuple[int, ...], axis: int) -> tuple[int, ...]:
        pad = None if self.output_padding is None else self.output_padding[axis:axis + 1]
        return conv_transpose_window(size, self.kernel_size[axis:axis + 1],
                                     self.strides[axis:axis + 1], self.padding, pad,
                                     self.dilation_rate[axis:axis + 1]).in_size

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["groups"]
        config["output_padding"] = (None if self.output_padding is None
                                    else list(self.output_padding))
        return config


class Conv1DTranspose(BaseConvTranspose):
    """1-D transposed convolution over ``(batch, steps, channels)``."""

    rank = 1


class Conv2DTranspose(BaseConvTranspose):
    """2-D transposed convolution: learned up-sampling of ``(batch, height, width, channels)``.

    Examples
    --------
    >>> import unafraid as tf
    >>> up = tf.keras.layers.Conv2DTranspose(64, 5, strides=2, padding="same")
    >>> up(tf.ones((2, 7, 7, 128))).shape
    (2, 14, 14, 64)
    """

    rank = 2


class DepthwiseConv2D(Conv2D):
    """Depthwise 2-D convolution: each input channel convolved with ``depth_multiplier`` filters.

    Parameters
    ----------
    kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias
        As in Conv2D.
    depth_multiplier : int, default 1
        Output channels per input channel.
    depthwise_initializer : default 'glorot_uniform'
    depthwise_regularizer : optional

    Shapes
    ------
    kernel ``(*kernel_size, channels, depth_multiplier)``; output channel
    ``c * depth_multiplier + m`` is channel ``c`` convolved with ``kernel[..., c, m]``.
    """

    def __init__(self, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 depth_multiplier: int = 1, data_format: str | None = None,
                 dilation_rate: Any = 1, activation: Any = None, use_bias: bool = True,
                 depthwise_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 depthwise_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, depthwise_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        self.depth_multiplier = check_positive_int(type(self).__name__, "depth_multiplier",
                                                   depth_multiplier)
        super().__init__(1, kernel_size, strides, padding, data_format, dilation_rate, 1,
                         activation, use_bias, depthwise_initializer, bias_initializer,
                         depthwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, bias_constraint, **kwargs)

    @channels_last_inside
    def build(self, input_shape: tuple[int | None, ...]) -> None:
        channels = self._channels(input_shape)
        self.filters = channels * self.depth_multiplier
        self.kernel = self.add_weight((*self.kernel_size, channels, self.depth_multiplier),
                                      self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = (self.add_weight((self.filters,), self.bias_initializer, name="bias",
                                     regularizer=self.bias_regularizer,
                                     constraint=self.bias_constraint)
                     if self.use_bias else None)

    def convolve(self, x: Tensor) -> Tensor:
        return depthwise_conv(x, self.kernel, self.strides, self.padding, self.dilation_rate,
                              bias=self.bias)

    @channels_last_inside
    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        shape = super().compute_output_shape(input_shape)
        c = input_shape[-1]
        return (*shape[:-1], None if c is None else c * self.depth_multiplier)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        for key in ("filters", "groups"):
            del config[key]
        for key in ("initializer", "regularizer", "constraint"):
            config[f"depthwise_{key}"] = config.pop(f"kernel_{key}")
        return {**config, "depth_multiplier": self.depth_multiplier}


class SeparableConv2D(Conv2D):
    """Depthwise convolution, then a pointwise (1x1) convolution mixing the channels.

    Parameters
    ----------
    filters, kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias
        As in Conv2D.
    depth_multiplier : int, default 1
    depthwise_initializer, pointwise_initializer : default 'glorot_uniform'
    depthwise_regularizer, pointwise_regularizer : optional

    Shapes
    ------
    depthwise_kernel ``(*kernel_size, channels, depth_multiplier)``, pointwise_kernel
    ``(1, 1, channels * depth_multiplier, filters)``, bias ``(filters,)``.
    """

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1,
                 depth_multiplier: int = 1, activation: Any = None, use_bias: bool = True,
                 depthwise_initializer: Any = "glorot_uniform",
                 pointwise_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 depthwise_regularizer: Any = None, pointwise_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None,
                 depthwise_constraint: Any = None, pointwise_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        self.depth_multiplier = check_positive_int(type(self).__name__, "depth_multiplier",
                                                   depth_multiplier)
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, 1,
                         activation, use_bias, depthwise_initializer, bias_initializer,
                         depthwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, bias_constraint, **kwargs)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.pointwise_constraint = constraints.get(pointwise_constraint)

    @channels_last_inside
    def build(self, input_shape: tuple[int | None, ...]) -> None:
        channels = self._channels(input_shape)
        self.depthwise_kernel = self.add_weight(
            (*self.kernel_size, channels, self.depth_multiplier), self.kernel_initializer,
            name="depthwise_kernel", regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint)
        self.pointwise_kernel = self.add_weight(
            (*(1,) * self.rank, channels * self.depth_multiplier, self.filters),
            self.pointwise_initializer, name="pointwise_kernel",
            regularizer=self.pointwise_regularizer, constraint=self.pointwise_constraint)
        self.bias = (self.add_weight((self.filters,), self.bias_initializer, name="bias",
                                     regularizer=self.bias_regularizer,
                                     constraint=self.bias_constraint)
                     if self.use_bias else None)

    def convolve(self, x: Tensor) -> Tensor:
        y = depthwise_conv(x, self.depthwise_kernel, self.strides, self.padding,
                           self.dilation_rate)
        return conv(y, self.pointwise_kernel, bias=self.bias)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        del config["groups"]
        for key in ("initializer", "regularizer", "constraint"):
            config[f"depthwise_{key}"] = config.pop(f"kernel_{key}")
        return {**config, "depth_multiplier": self.depth_multiplier,
                "pointwise_initializer": initializers.serialize(self.pointwise_initializer),
                "pointwise_regularizer": regularizers.serialize(self.pointwise_regularizer),
                "pointwise_constraint": constraints.serialize(self.pointwise_constraint)}


class Conv3DTranspose(BaseConvTranspose):
    """3-D transposed convolution: learned up-sampling of ``(batch, depth, height, width, channels)``."""

    rank = 3


class DepthwiseConv1D(DepthwiseConv2D):
    """Depthwise 1-D convolution of ``(batch, steps, channels)`` (see ``DepthwiseConv2D``)."""

    rank = 1


class SeparableConv1D(SeparableConv2D):
    """Depthwise 1-D convolution, then a pointwise (size 1) one mixing the channels (see
    ``SeparableConv2D``)."""

    rank = 1
