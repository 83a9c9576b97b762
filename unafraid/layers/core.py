"""Core layers: Dense, Activation, Softmax, Flatten, Reshape, Dropout."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import activations, constraints, initializers, regularizers
from .. import random as _random
from ..engine import ops
from ..engine.tensor import Function, Tensor
from .base import Layer, activity_loss, weight_options_config


class MaskGreater(Function):
    """``x > value`` as a boolean mask (no gradient)."""

    name = "mask_greater"

    @staticmethod
    def forward(ctx, x, value):
        return np.asarray(x > value)

    @staticmethod
    def vjp(ctx, g):
        return (None,)


class Dense(Layer):
    """Densely connected layer: ``output = activation(inputs @ kernel + bias)``.

    Parameters
    ----------
    units : int
        Number of outputs.
    activation : str or callable, optional
        ``'relu'``, ``'softmax'``, ``unafraid.nn.relu``... ``None`` means linear.
    use_bias : bool, default True
    kernel_initializer : default 'glorot_uniform'
    bias_initializer : default 'zeros'
    kernel_regularizer, bias_regularizer : optional
        ``'l2'``, ``unafraid.keras.regularizers.L2(1e-4)``...
    activity_regularizer : optional
        A penalty on the layer's outputs.
    kernel_constraint, bias_constraint : optional
        Applied by the optimizer after each update (``unafraid.constraints.MaxNorm(3)``,
        ``'non_neg'``...).

    Shapes
    ------
    input ``(batch, ..., n_in)`` float32; output ``(batch, ..., units)``; kernel
    ``(n_in, units)``, bias ``(units,)``. The product runs as one fused
    primitive (``unafraid.linear``).

    Examples
    --------
    >>> import unafraid as tf
    >>> layer = tf.keras.layers.Dense(512, activation="relu")
    >>> layer(tf.ones((2, 784))).shape
    (2, 512)

    The activation may be set after construction (``layer.activation = 'relu'``, or a
    function); it is looked up as in the constructor and saved with the layer.
    """

    supports_masking = True

    def __init__(self, units: int, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, int | np.integer) or units < 1:
            hint = (f" Use a whole number, e.g. Dense({max(1, int(units))})."
                    if isinstance(units, float | np.floating) and units >= 1 else
                    " It is the number of outputs, e.g. Dense(10) for 10 classes or Dense(1) "
                    "for one regression target.")
            raise ValueError(f"Dense: units must be a positive integer, got {units!r}.{hint}")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        # None means the default, as Keras's Dense(bias_initializer=None) does
        self.kernel_initializer = initializers.get(kernel_initializer or "glorot_uniform")
        self.bias_initializer = initializers.get(bias_initializer or "zeros")
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    @property
    def activation(self) -> Any:
        """The activation function (setting a name or a function looks it up, as ``__init__``)."""
        return self._activation

    @activation.setter
    def activation(self, value: Any) -> None:
        self._activation = activations.get(value)

    def build(self, input_shape: tuple[int, ...]) -> None:
        n_in = input_shape[-1]
        if n_in is None:
            raise ValueError(f"Dense layer '{self.name}' needs a known number of input features; "
                             f"got input shape {input_shape}.")
        self.kernel = self.add_weight((n_in, self.units), self.kernel_initializer,
                                      name="kernel", regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = (self.add_weight((self.units,), self.bias_initializer, name="bias",
                                     regularizer=self.bias_regularizer,
                                     constraint=self.bias_constraint)
                     if self.use_bias else None)

    def _check_input(self, x: Tensor) -> None:
        self._check_features(tuple(x.shape))

    def _check_features(self, shape: tuple[int | None, ...]) -> None:
        """Inputs (or symbolic inputs) must have the number of features the kernel was built for."""
        n_in = self.kernel.shape[0]
        if shape[-1] is not None and shape[-1] != n_in:
            hint = (" Did you forget Flatten()? Images of shape (28, 28) must be flattened to "
                    "784 features first." if len(shape) > 2 else "")
            raise ValueError(f"Dense layer '{self.name}' expected inputs with {n_in} features "
                             f"(last axis), got inputs of shape {shape}: they are incompatible "
                             f"with the layer.{hint}")

    def call(self, inputs: Tensor) -> Tensor:
        y = ops.linear(inputs, self.kernel, self.bias)
        y = self.activation(y)
        if self.activity_regularizer is not None:
            self._activity_losses = [activity_loss(self.activity_regularizer, y)]
        return y

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        if self.built:
            self._check_features(tuple(input_shape))
        return (*input_shape[:-1], self.units)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                **weight_options_config(self)}


class Activation(Layer):
    """Applies an activation function: ``Activation('relu')``."""

    supports_masking = True

    def __init__(self, activation: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs: Tensor) -> Tensor:
        return self.activation(inputs)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


def _large_negative(dtype: Any) -> float:
    """Keras's ``_large_negative_number``: what masked logits become before the softmax."""
    return -3e4 if np.dtype(dtype) == np.float16 else -1e9


class Softmax(Layer):
    """Softmax along ``axis``: ``exp(x) / sum(exp(x), axis)``.

    Parameters
    ----------
    axis : int or tuple of int, default -1

    ``call(inputs, mask=None)``: ``mask`` (bool, or numbers where > 0.5 counts as True;
    broadcastable to ``inputs``, not of higher rank) marks the entries that take part;
    masked entries get probability 0, and an entirely masked row is all zeros (Keras 3).

    Examples
    --------
    >>> import numpy as np, unafraid as tf
    >>> tf.keras.layers.Softmax()(np.array([[1.0, 1.0, 5.0]]),
    ...                           mask=np.array([[True, True, False]])).numpy()
    array([[0.5, 0.5, 0. ]], dtype=float32)
    """

    supports_masking = True

    def __init__(self, axis: int | tuple[int, ...] = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = list(axis) if isinstance(axis, list | tuple) else axis

    def call(self, inputs: Tensor, mask: Any = None) -> Tensor:
        if mask is not None:
            mask = self._bool_mask(inputs, mask)
            inputs = ops.where(mask, inputs, _large_negative(inputs.dtype))
        axis = self.axis
        if isinstance(axis, list) and len(axis) > 1:
            ax = tuple(a % inputs.ndim for a in axis)
            outputs = ops.exp(ops.subtract(inputs, ops.logsumexp(inputs, axis=ax, keepdims=True)))
        else:
            outputs = activations.softmax(inputs, axis=axis[0] if isinstance(axis, list) else axis)
        if mask is not None:
            outputs = ops.where(mask, outputs, 0.0)
        return outputs

    def _bool_mask(self, inputs: Tensor, mask: Any) -> Any:
        shape = np.shape(getattr(mask, "data", mask))
        ok = len(shape) <= inputs.ndim and all(
            m in (1, i) for m, i in zip(shape[::-1], inputs.shape[::-1], strict=False))
        if not ok:
            raise ValueError(f"Softmax '{self.name}': the `mask` must be broadcastable to `inputs` "
                             f"and must not have more dimensions. Received: inputs.shape="
                             f"{inputs.shape}, mask.shape={shape}")
        m = mask if isinstance(mask, Tensor) else Tensor(np.asarray(mask))
        return m if m.dtype == np.bool_ else MaskGreater.apply(m, value=0.5)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}


class Flatten(Layer):
    """Flattens each example: ``(batch, 28, 28)`` becomes ``(batch, 784)``.

    Examples
    --------
    >>> import unafraid as tf
    >>> tf.keras.layers.Flatten(input_shape=(28, 28))(tf.ones((5, 28, 28))).shape
    (5, 784)
    """

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = data_format

    def call(self, inputs: Tensor) -> Tensor:
        return ops.reshape(inputs, (inputs.shape[0], -1))

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int | None, ...]:
        rest = input_shape[1:]
        return (input_shape[0], None if None in rest else int(np.prod(rest)))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """Reshapes each example to ``target_shape`` (one entry may be -1: whatever length makes the
    sizes agree).

    Parameters
    ----------
    target_shape : tuple of int
        The shape of one example after the layer, without the batch axis; non-negative
        integers and at most one -1.

    Examples
    --------
    >>> import unafraid as tf
    >>> tf.keras.layers.Reshape((-1, 8))(tf.ones((2, 6, 4))).shape
    (2, 3, 8)
    """

    def __init__(self, target_shape: tuple[int, ...], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target_shape = check_target_shape(tuple(target_shape))

    def call(self, inputs: Tensor) -> Tensor:
        return ops.reshape(inputs, (inputs.shape[0], *self.target_shape))

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int | None, ...]:
        if -1 in self.target_shape and None not in input_shape[1:]:
            known = int(np.prod([d for d in self.target_shape if d != -1]))
            total = int(np.prod(input_shape[1:]))
            return (input_shape[0], *(total // known if d == -1 else d for d in self.target_shape))
        return (input_shape[0], *(None if d == -1 else d for d in self.target_shape))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "target_shape": list(self.target_shape)}


def check_target_shape(target_shape: tuple[Any, ...]) -> tuple[int, ...]:
    """Keras's check of ``Reshape(target_shape=)``: non-negative ints, at most one -1."""
    if not all(isinstance(d, int | np.integer) and not isinstance(d, bool) for d in target_shape):
        raise ValueError(f"Reshape: each dimension of `target_shape` must be an integer. Received: "
                         f"target_shape={target_shape}. E.g. Reshape((28, 28, 1)).")
    if any(d < -1 for d in target_shape):
        raise ValueError(f"Each dimension in `target_shape` must be a non-negative integer, or `-1` "
                         f"for a single unknown dimension. Received: target_shape={target_shape}.")
    if sum(d == -1 for d in target_shape) > 1:
        raise ValueError(f"There must be at most one unknown dimension (-1) in `target_shape`. "
                         f"Received: target_shape={target_shape}. Give all lengths but one.")
    return tuple(int(d) for d in target_shape)


def check_noise_shape(noise_shape: Any) -> tuple[int | None, ...] | None:
    """Keras's checks of ``Dropout(noise_shape=)``: a tuple (or list) of positive ints or None."""
    if noise_shape is None:
        return None
    if not isinstance(noise_shape, tuple | list):
        raise ValueError(f"Invalid value received for argument `noise_shape`. Expected a tuple or "
                         f"list of integers. Received: noise_shape={noise_shape!r}")
    if not all(d is None or (isinstance(d, int) and not isinstance(d, bool)) for d in noise_shape):
        raise ValueError(f"Invalid value received for argument `noise_shape`. Expected all elements "
                         f"to be integers or None. Received: noise_shape={noise_shape!r}")
    if not all(d is None or d > 0 for d in noise_shape):
        raise ValueError(f"Invalid value received for argument `noise_shape`. Expected all "
                         f"dimensions to be positive integers or None. Received: "
                         f"noise_shape={noise_shape!r}")
    return tuple(noise_shape)


class Dropout(Layer):
    """Randomly zeroes a fraction ``rate`` of inputs during training, scaling the rest by
    ``1 / (1 - rate)``; does nothing at inference.

    The mask is drawn from a generator derived from the global seed (or ``seed=``),
    so training is reproducible.
    """

    supports_masking = True

    def __init__(self, rate: float, noise_shape: tuple[int, ...] | None = None,
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, int | float | np.number) or not (
                0 <= rate < 1):
            hint = (f" It is a fraction, not a percentage (Dropout(0.5) drops half the inputs); "
                    f"for {rate:g}% use Dropout({rate / 100:g})."
                    if isinstance(rate, int | float) and 1 < rate < 100 else
                    " E.g. Dropout(0.5) zeroes half of the inputs during training.")
            raise ValueError(f"Invalid value received for argument `rate`. Expected a float value "
                             f"between 0 and 1. Dropout: rate is the fraction of inputs to drop "
                             f"and must be in [0, 1), got {rate!r}.{hint}")
        self.rate, self.noise_shape, self.seed = float(rate), check_noise_shape(noise_shape), seed
        self.generator = _random.make_generator(seed)

    def call(self, inputs: Tensor, training: bool = False) -> Tensor:
        if not training or self.rate == 0:
            return inputs
        shape = inputs.shape if self.noise_shape is None else tuple(
            n if d is None else d for d, n in zip(self.noise_shape, inputs.shape, strict=True))
        return ops.dropout(inputs, self.rate, self.generator, shape)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": None if self.noise_shape is None else list(self.noise_shape)}
