"""Merge layers (Keras 3's ``keras.layers.merging``): Add, Subtract, Multiply, Average, Maximum,
Minimum, Concatenate, Dot, and their function forms (``layers.add([a, b])``...).

Each is called on a list of tensors, e.g. in a functional model with several inputs::

    a, b = Input(shape=(4,)), Input(shape=(4,))
    out = Dense(1)(layers.concatenate([a, b]))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import ops
from ..engine.tensor import Function, Tensor
from .base import Layer

EPSILON = 1e-7  # Keras's backend.epsilon(), the floor of Dot(normalize=True)'s norm


class MaskOp(Function):
    """Boolean mask arithmetic (no gradient): ``or`` of several masks, or ``any`` over the last
    axis. An engine op, so that a replayed training step recomputes it from the batch."""

    name = "mask_op"

    @staticmethod
    def forward(ctx, *masks, how):
        masks = [np.asarray(m, bool) for m in masks]
        if how == "or":
            out = masks[0]
            for m in masks[1:]:
                out = out | m
            return np.asarray(out)
        if how == "any_last":
            return np.any(masks[0], axis=-1)
        if how == "expand_like":  # mask (..., T) against an input (..., T, C): (..., T, C)
            return np.broadcast_to(masks[0][..., None], masks[1].shape).copy()
        raise ValueError(f"MaskOp: unknown operation {how!r}")

    @staticmethod
    def vjp(ctx, g):
        return None


def _check_list(layer: Layer, inputs: Any, n: int | None = None) -> None:
    if not isinstance(inputs, list | tuple):
        raise ValueError(f"A merge layer ({type(layer).__name__} '{layer.name}') should be called "
                         f"on a list of inputs, e.g. {type(layer).__name__}()([a, b]); got one "
                         f"tensor of shape {getattr(inputs, 'shape', '?')}.")
    if n is not None and len(inputs) != n:
        raise ValueError(f"A `{type(layer).__name__}` layer should be called on exactly {n} inputs. "
                         f"Received: {len(inputs)} inputs.")


def _elementwise_shape(layer: Layer, shape1: Any, shape2: Any) -> Any:
    """Keras's ``_compute_elemwise_op_output_shape``: broadcasting of shapes without the batch."""
    if shape1 is None or shape2 is None:
        return None
    if len(shape1) < len(shape2):
        return _elementwise_shape(layer, shape2, shape1)
    if not shape2:
        return tuple(shape1)
    out = list(shape1[: len(shape1) - len(shape2)])
    for i, j in zip(shape1[len(shape1) - len(shape2):], shape2, strict=True):
        if i is None or j is None:
            out.append(None)
        elif i == 1:
            out.append(j)
        elif j == 1 or i == j:
            out.append(i)
        else:
            raise ValueError(f"{type(layer).__name__} '{layer.name}': inputs have incompatible "
                             f"shapes. Received shapes {tuple(shape1)} and {tuple(shape2)}.")
    return tuple(out)


class Merge(Layer):
    """Base of the elementwise merge layers: called on a list of tensors, returns one tensor.

    Inputs of different ranks are aligned by inserting axes after the batch axis (as
    Keras does); the output mask is the ``or`` of the inputs' masks when all have one.
    """

    supports_masking = True

    def _merge_function(self, inputs: list[Any], masks: list[Any]) -> Any:
        raise NotImplementedError

    def build(self, input_shape: Any) -> None:
        if not isinstance(input_shape, list | tuple) or not input_shape or not isinstance(
                input_shape[0], tuple | list):
            raise ValueError(f"A merge layer ({type(self).__name__} '{self.name}') should be "
                             f"called on a list of inputs, e.g. {type(self).__name__}()([a, b]). "
                             f"Received: input_shape={input_shape} (not a list of shapes).")
        batch_sizes = {s[0] for s in input_shape if s} - {None}
        if len(batch_sizes) > 1:
            raise ValueError(f"{type(self).__name__} '{self.name}': cannot merge tensors with "
                             f"different batch sizes. Received tensors with shapes {input_shape}.")
        self.compute_output_shape(input_shape)  # checks that the shapes broadcast

    def call(self, inputs: list[Tensor], mask: Any = None) -> Tensor:
        _check_list(self, inputs)
        masks = list(mask) if isinstance(mask, list | tuple) else [None] * len(inputs)
        ndims = [x.ndim for x in inputs]
        if len(set(ndims)) > 1:  # align ranks: (batch, n) against (batch, m, n)
            top = max(ndims)
            inputs = [ops.reshape(x, (x.shape[0], *(1,) * (top - x.ndim), *x.shape[1:]))
                      for x in inputs]
        return self._merge_function(list(inputs), masks)

    def compute_output_shape(self, input_shape: Any) -> Any:
        out = tuple(input_shape[0][1:])
        for shape in input_shape[1:]:
            out = _elementwise_shape(self, out, tuple(shape[1:]))
        batch_sizes = {s[0] for s in input_shape} - {None}
        return (batch_sizes.pop() if len(batch_sizes) == 1 else None, *out)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The ``or`` of the inputs' masks (None unless every input has one)."""
        if mask is None:
            return None
        if not isinstance(mask, list | tuple):
            raise ValueError(f"`mask` should be a list. Received: mask={mask}")
        if not isinstance(inputs, list | tuple):
            raise ValueError(f"`inputs` should be a list. Received: inputs={inputs}")
        if len(mask) != len(inputs):
            raise ValueError(f"The lists `inputs` and `mask` should have the same length. "
                             f"Received: {len(inputs)} inputs and {len(mask)} masks.")
        if any(m is None for m in mask):
            return None
        return MaskOp.apply(*mask, how="or")


def _or_masked(layer: Merge, op: Any, inputs: list[Any], masks: list[Any]) -> Any:
    """Keras's ``_apply_merge_op_and_or_mask`` (Maximum, Minimum): a masked entry takes the
    other operand's value, so it never wins; the output mask is the ``or`` of the masks."""
    output, output_mask = None, None
    for x, mask in zip(inputs, masks, strict=True):
        if mask is not None:
            mask = MaskOp.apply(mask, x, how="expand_like")
        if output is None:
            output, output_mask = x, mask
            continue
        if mask is not None:
            x = ops.where(mask, x, output)
        if output_mask is not None:
            output = ops.where(output_mask, output, x)
        output_mask = (MaskOp.apply(output_mask, mask, how="or")
                       if mask is not None and output_mask is not None else None)
        output = op(output, x)
    if output_mask is not None:
        output._keras_mask = MaskOp.apply(output_mask, how="any_last")
    return output


class Add(Merge):
    """Adds a list of inputs: ``sum(inputs)``, all of the same shape (or broadcastable).

    Examples
    --------
    >>> import unafraid as tf
    >>> a, b = tf.keras.Input(shape=(4,)), tf.keras.Input(shape=(4,))
    >>> model = tf.keras.Model([a, b], tf.keras.layers.Add()([a, b]))
    >>> model([tf.ones((2, 4)), tf.ones((2, 4))]).numpy()[0]
    array([2., 2., 2., 2.], dtype=float32)
    """

    def _merge_function(self, inputs: list[Any], masks: list[Any]) -> Any:
        out = inputs[0]
        for x in inputs[1:]:
            out = ops.add(out, x)
        return out


class Subtract(Merge):
    """Subtracts two inputs: ``inputs[0] - inputs[1]``."""

    def build(self, input_shape: Any) -> None:
        super().build(input_shape)
        _check_list(self, input_shape, 2)

    def _merge_function(self, inputs: list[Any], masks: list[Any]) -> Any:
        _check_list(self, inputs, 2)
        return ops.subtract(inputs[0], inputs[1])


class Multiply(Merge):
    """Multiplies a list of inputs elementwise; masked entries count as 1, then the output is
    zero where every input is masked (Keras's rule)."""

    def _merge_function(self, inputs: list[Any], masks: list[Any]) -> Any:
        has_output_mask = all(m is not None for m in masks)
        output, output_mask = None, None
        for x, mask in zip(inputs, masks, strict=True):
            if mask is not None:
                mask = MaskOp.apply(mask, x, how="expand_like")
                x = ops.where(mask, x, 1.0)
                if has_output_mask:
                    output_mask = mask if output_mask is None else MaskOp.apply(
                        output_mask, mask, how="or")
            output = x if output is None else ops.multiply(output, x)
        if has_output_mask:
            output = ops.where(output_mask, output, 0.0)
            output._keras_mask = MaskOp.apply(output_mask, how="any_last")
        return output


class Average(Merge):
    """Averages a list of inputs: ``sum(inputs) / len(inputs)``."""

    def _merge_function(self, inputs: list[Any], masks: list[Any]) -> Any:
        out = inputs[0]
        for x in inputs[1:]:
            out = ops.add(out, x)
        return ops.divide(out, float(len(inputs)))


class Maximum(Merge):
    """Elementwise maximum of a list of inputs (tied entries share the gradient)."""

    def _merge_function(self, inputs: list[Any], masks: list[Any]) -> Any:
        return _or_masked(self, ops.maximum, inputs, masks)


class Minimum(Merge):
    """Elementwise minimum of a list of inputs (tied entries share the gradient)."""

    def _merge_function(self, inputs: list[Any], masks: list[Any]) -> Any:
        return _or_masked(self, ops.minimum, inputs, masks)


class Concatenate(Merge):
    """Concatenates a list of inputs along ``axis`` (default -1, the features).

    Parameters
    ----------
    axis : int, default -1
        All inputs have the same shape except along this axis.

    Examples
    --------
    >>> import unafraid as tf
    >>> a, b = tf.keras.Input(shape=(3,)), tf.keras.Input(shape=(2,))
    >>> tf.keras.layers.Concatenate()([a, b]).shape
    (None, 5)
    """

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = int(axis)

    def build(self, input_shape: Any) -> None:
        if not isinstance(input_shape, list | tuple) or len(input_shape) < 1 or not isinstance(
                input_shape[0], tuple | list):
            raise ValueError(f"A `Concatenate` layer ('{self.name}') should be called on a list "
                             f"of at least 1 input. Received: input_shape={input_shape}")
        ranks = {len(s) for s in input_shape}
        if len(ranks) > 1:
            raise ValueError(f"A `Concatenate` layer ('{self.name}') requires inputs of the same "
                             f"rank. Received: input_shape={input_shape}")
        axis = self.axis % len(input_shape[0])
        for k in range(len(input_shape[0])):
            sizes = {s[k] for s in input_shape} - {None}
            if k != axis and len(sizes) > 1:
                raise ValueError(
                    f"A `Concatenate` layer ('{self.name}') requires inputs with matching shapes "
                    f"except for the concatenation axis {self.axis}. Received: input_shape="
                    f"{input_shape}")

    def call(self, inputs: list[Tensor], mask: Any = None) -> Tensor:
        _check_list(self, inputs)
        return ops.concatenate(list(inputs), axis=self.axis)

    def compute_output_shape(self, input_shape: Any) -> Any:
        if not isinstance(input_shape, list | tuple) or not isinstance(input_shape[0], tuple | list):
            raise ValueError(f"A `Concatenate` layer should be called on a list of inputs. "
                             f"Received: input_shape={input_shape}")
        out = list(input_shape[0])
        for shape in input_shape[1:]:
            if out[self.axis] is None or shape[self.axis] is None:
                out[self.axis] = None
                break
            out[self.axis] += shape[self.axis]
        return tuple(out)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The masks concatenated along ``axis`` (an unmasked input counts as all True), then
        ``any`` over the last axis (Keras's rule)."""
        if mask is None:
            return None
        if not isinstance(mask, list | tuple):
            raise ValueError(f"`mask` should be a list. Received mask={mask}")
        if not isinstance(inputs, list | tuple):
            raise ValueError(f"`inputs` should be a list. Received: inputs={inputs}")
        if len(mask) != len(inputs):
            raise ValueError(f"The lists `inputs` and `mask` should have the same length. "
                             f"Received: {len(inputs)} inputs and {len(mask)} masks.")
        if all(m is None for m in mask):
            return None
        full = []
        for x, m in zip(inputs, mask, strict=True):
            shape = tuple(np.shape(getattr(x, "data", x)))
            if m is None:
                full.append(np.ones(shape, bool))
            elif np.ndim(getattr(m, "data", m)) < len(shape):
                full.append(MaskOp.apply(m, np.zeros(shape, bool), how="expand_like"))
            else:
                full.append(m)
        joined = ops.concatenate([f if isinstance(f, Tensor) else Tensor(np.asarray(f))
                                  for f in full], axis=self.axis)
        return MaskOp.apply(joined, how="any_last")

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis}


def _dot_axes(axes: int | list[int] | tuple[int, int], ndims: tuple[int, int]) -> list[int]:
    if isinstance(axes, int):
        return [axes % ndims[0], axes % ndims[1]] if axes < 0 else [axes, axes]
    return [a % n if a < 0 else a for a, n in zip(axes, ndims, strict=True)]


def batch_dot(x: Any, y: Any, axes: list[int]) -> Any:
    """Keras's ``batch_dot``: for each example ``b``, ``tensordot(x[b], y[b])`` over ``axes``.

    The output is ``(batch, *x's other axes, *y's other axes)``, and ``(batch, 1)`` when that
    leaves only the batch axis.
    """
    a0, a1 = axes
    if 0 in (a0, a1):
        raise ValueError("Dot: cannot take the dot product over axis 0 (the batch axis).")
    if x.shape[a0] != y.shape[a1]:
        raise ValueError(f"Dot: x.shape[{a0}] != y.shape[{a1}] ({x.shape[a0]} != {y.shape[a1]}) "
                         f"for inputs of shapes {x.shape} and {y.shape}.")
    x_rest = [d for i, d in enumerate(x.shape) if i not in (0, a0)]
    y_rest = [d for i, d in enumerate(y.shape) if i not in (0, a1)]
    xt = ops.transpose(x, [0, *(i for i in range(x.ndim) if i not in (0, a0)), a0])
    yt = ops.transpose(y, [0, a1, *(i for i in range(y.ndim) if i not in (0, a1))])
    batch, k = x.shape[0], x.shape[a0]
    xt = ops.reshape(xt, (batch, int(np.prod(x_rest, dtype=int)), k))
    yt = ops.reshape(yt, (batch, k, int(np.prod(y_rest, dtype=int))))
    out = ops.matmul(xt, yt)
    shape = (batch, *x_rest, *y_rest)
    return ops.reshape(out, shape if len(shape) > 1 else (batch, 1))


def l2_normalize(x: Any, axis: int) -> Any:
    """``x * rsqrt(max(sum(x**2, axis), epsilon**2))`` (Keras's ``ops.normalize``)."""
    square_sum = ops.sum(ops.multiply(x, x), axis=axis, keepdims=True)
    return ops.divide(x, ops.sqrt(ops.maximum(square_sum, EPSILON * EPSILON)))


class Dot(Merge):
    """Dot product of two inputs along ``axes``, example by example.

    Parameters
    ----------
    axes : int or (int, int)
        The axis of each input summed over (never 0, the batch axis); -1 is the last.
    normalize : bool, default False
        L2-normalise both inputs along ``axes`` first: the output is then the cosine
        similarity of the two.

    Shapes
    ------
    ``(batch, n)`` and ``(batch, n)`` give ``(batch, 1)``; ``(batch, m, n)`` and
    ``(batch, k, n)`` with ``axes=-1`` give ``(batch, m, k)``.

    Examples
    --------
    >>> import numpy as np, unafraid as tf
    >>> x = np.arange(10.0).reshape(1, 5, 2)
    >>> y = np.arange(10.0, 20.0).reshape(1, 2, 5)
    >>> tf.keras.layers.Dot(axes=(1, 2))([x, y]).numpy()
    array([[[260., 360.],
            [320., 445.]]], dtype=float32)
    """

    def __init__(self, axes: int | list[int] | tuple[int, int], normalize: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(axes, int):
            if not isinstance(axes, list | tuple):
                raise TypeError(f"Invalid type for argument `axes`: it should be a list or an "
                                f"int. Received: axes={axes}")
            if len(axes) != 2:
                raise ValueError(f"Invalid format for argument `axes`: it should contain two "
                                 f"elements. Received: axes={axes}")
            if not all(isinstance(a, int) for a in axes):
                raise ValueError(f"Invalid format for argument `axes`: list elements should be "
                                 f"integers. Received: axes={axes}")
        self.axes = axes if isinstance(axes, int) else list(axes)
        self.normalize = normalize

    def build(self, input_shape: Any) -> None:
        if not isinstance(input_shape, list | tuple) or len(input_shape) != 2 or not isinstance(
                input_shape[0], tuple | list):
            raise ValueError(f"A `Dot` layer should be called on a list of 2 inputs. "
                             f"Received: input_shape={input_shape}")
        s1, s2 = input_shape
        a0, a1 = _dot_axes(self.axes, (len(s1), len(s2)))
        if s1[a0] is not None and s2[a1] is not None and s1[a0] != s2[a1]:
            raise ValueError(f"Incompatible input shapes: axis values {s1[a0]} (at axis {a0}) != "
                             f"{s2[a1]} (at axis {a1}). Full input shapes: {s1}, {s2}")

    def call(self, inputs: list[Tensor], mask: Any = None) -> Tensor:
        _check_list(self, inputs, 2)
        x1, x2 = inputs
        axes = _dot_axes(self.axes, (x1.ndim, x2.ndim))
        if self.normalize:
            x1, x2 = l2_normalize(x1, axes[0]), l2_normalize(x2, axes[1])
        return batch_dot(x1, x2, axes)

    def compute_output_shape(self, input_shape: Any) -> Any:
        if not isinstance(input_shape, list | tuple) or len(input_shape) != 2:
            raise ValueError(f"A `Dot` layer should be called on a list of 2 inputs. "
                             f"Received: input_shape={input_shape}")
        s1, s2 = list(input_shape[0]), list(input_shape[1])
        a0, a1 = _dot_axes(self.axes, (len(s1), len(s2)))
        s1.pop(a0)
        s2.pop(a1)
        s2.pop(0)
        out = s1 + s2
        return tuple(out + [1] if len(out) == 1 else out)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return None

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


# ---- the function forms: layers.add([a, b]) is Add()([a, b]) ------------------------------------
def add(inputs: list[Any], **kwargs: Any) -> Any:
    """Functional interface to :class:`Add`: ``Add(**kwargs)(inputs)``."""
    return Add(**kwargs)(inputs)


def subtract(inputs: list[Any], **kwargs: Any) -> Any:
    """Functional interface to :class:`Subtract`."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs: list[Any], **kwargs: Any) -> Any:
    """Functional interface to :class:`Multiply`."""
    return Multiply(**kwargs)(inputs)


def average(inputs: list[Any], **kwargs: Any) -> Any:
    """Functional interface to :class:`Average`."""
    return Average(**kwargs)(inputs)


def maximum(inputs: list[Any], **kwargs: Any) -> Any:
    """Functional interface to :class:`Maximum`."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs: list[Any], **kwargs: Any) -> Any:
    """Functional interface to :class:`Minimum`."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs: list[Any], axis: int = -1, **kwargs: Any) -> Any:
    """Functional interface to :class:`Concatenate`."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs: list[Any], axes: int | list[int] = -1, normalize: bool = False,
        **kwargs: Any) -> Any:
    """Functional interface to :class:`Dot`."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
