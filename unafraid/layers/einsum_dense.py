"""EinsumDense: a dense layer whose product is an einsum (Keras 3's names, defaults and shapes)."""

from __future__ import annotations

import math
import re
import string
from typing import Any

import numpy as np

from .. import activations, constraints, initializers, regularizers
from ..engine import ops
from ..engine.ops import Einsum
from ..engine.tensor import Tensor
from .base import Layer, activity_loss, weight_options_config


def explicit_equation(equation: str, rank: int) -> str:
    """``equation`` with its ``...`` replaced by letters it does not use, for an input of
    ``rank`` axes: ``'...b,bc->...c'`` with rank 3 becomes ``'deb,bc->dec'``."""
    if "..." not in equation:
        return equation
    input_spec = equation.split(",")[0].replace("...", "")
    free = [c for c in string.ascii_letters if c not in equation]
    elided = "".join(free[:max(rank - len(input_spec), 0)])
    return equation.replace("...", elided)


def analyze_einsum_string(equation: str, bias_axes: str | None, input_shape: tuple[Any, ...],
                          output_shape: Any) -> tuple[list, list | None, list, list, list]:
    """Keras's analysis of an EinsumDense equation: ``(kernel_shape, bias_shape,
    full_output_shape, input_axes, output_axes)``, the last two the kernel axes that belong to the
    input and to the output (for the initializer's fans).

    ``equation`` is ``'ab,bc->ac'``, ``'...ab,bc->...ac'`` or ``'ab...,bc->ac...'``; the kernel's
    axes take their lengths from the output (``output_shape``, without the batch axis) or, for a
    contracted letter, from the input.
    """
    dotless = re.sub(r"\.\.\.", "0", equation)
    for pattern, left in (("([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$", False),
                          ("0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)$", True),
                          ("([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0$", False)):
        match = re.match(pattern, dotless)
        if match:
            return _analyze_split(match.groups(), bias_axes, tuple(input_shape), output_shape, left)
    raise ValueError(f"Invalid einsum equation '{equation}'. Equations must be in the form "
                     f"[X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]..., e.g. 'ab,bc->ac' "
                     f"(a Dense layer) or 'abc,cde->abde'.")


def _analyze_split(specs: tuple[str, ...], bias_axes: str | None, input_shape: tuple[Any, ...],
                   output_shape: Any, left_elided: bool) -> tuple[list, list | None, list, list, list]:
    input_spec, weight_spec, output_spec = specs
    elided = len(input_shape) - len(input_spec)
    output_shape = [output_shape] if isinstance(output_shape, int) else list(output_shape)
    output_shape.insert(0, input_shape[0])
    if elided > 0 and left_elided:  # the axes passed through, after the batch axis, in order
        output_shape[1:1] = input_shape[1:elided]  # (Keras 3.15.1 inserts them in reverse)
    elif elided > 0:
        output_shape.extend(input_shape[len(input_shape) - elided:])
    if left_elided:
        input_dims = {dim: i + elided - len(input_shape) for i, dim in enumerate(input_spec)}
        output_dims = {dim: i + elided for i, dim in enumerate(output_spec)}
    else:
        input_dims = {dim: i for i, dim in enumerate(input_spec)}
        output_dims = {dim: i for i, dim in enumerate(output_spec)}
    for dim in input_spec:
        if dim in output_dims:
            want, got = output_shape[output_dims[dim]], input_shape[input_dims[dim]]
            if want is not None and want != got:
                raise ValueError(f"Input shape and output shape do not match at shared dimension "
                                 f"'{dim}'. Input shape is {got}, and output shape is {want}.")
    for dim in output_spec:
        if dim not in input_spec and dim not in weight_spec:
            raise ValueError(f"Dimension '{dim}' was specified in the output '{output_spec}' but has "
                             f"no corresponding dim in the input spec '{input_spec}' or weight "
                             f"spec '{weight_spec}'")
    kernel_shape, input_axes, output_axes = [], [], []
    for i, dim in enumerate(weight_spec):
        if dim in output_dims:
            kernel_shape.append(output_shape[output_dims[dim]])
            output_axes.append(i)
        elif dim in input_dims:
            kernel_shape.append(input_shape[input_dims[dim]])
            input_axes.append(i)
        else:
            raise ValueError(f"Weight dimension '{dim}' did not have a match in either the input "
                             f"spec '{input_spec}' or the output spec '{output_spec}'. For this "
                             f"layer, the weight must be fully specified.")
    bias_shape = None
    if bias_axes is not None:
        lengths = {c: output_shape[i + (elided if left_elided else 0)]
                   for i, c in enumerate(output_spec)}
        for c in bias_axes:
            if c not in output_spec:
                raise ValueError(f"Bias dimension '{c}' was requested, but is not part of the "
                                 f"output spec '{output_spec}'")
        first = min(output_spec.find(c) for c in bias_axes)
        bias_shape = [lengths[c] if c in bias_axes else 1 for c in output_spec[first:]]
        if not left_elided:
            bias_shape.extend([1] * max(elided, 0))
    return kernel_shape, bias_shape, output_shape, input_axes, output_axes


class _DrawnAsMatrix(initializers.Initializer):
    """``init`` drawn as a ``(fan_in, fan_out)`` matrix and reshaped to the weight's shape."""

    def __init__(self, init: Any, fans: tuple[int, int]) -> None:
        self.init, self.fans = init, fans

    def __call__(self, shape: tuple[int, ...], dtype: str = "float32") -> np.ndarray:
        return np.asarray(self.init(self.fans, dtype)).reshape(shape)


class EinsumDense(Layer):
    """A dense layer of any rank: ``activation(einsum(equation, inputs, kernel) + bias)``.

    ``EinsumDense("ab,bc->ac", output_shape=64)`` is ``Dense(64)``;
    ``EinsumDense("abc,cde->abde", output_shape=(None, 8, 16), bias_axes="de")`` projects the
    features of each step to 8 heads of 16 (attention's query projection).

    Parameters
    ----------
    equation : str
        ``'[X],[Y]->[Z]'``, ``'...[X],[Y]->...[Z]'`` or ``'[X]...,[Y]->[Z]...'``: input, kernel and
        output letters; ``...`` stands for axes passed through.
    output_shape : int or tuple of int or None
        The output shape without the batch axis (``None`` for an axis taken from the input).
    activation : default None (linear)
    bias_axes : str, optional
        The output letters the bias varies along (it broadcasts along the others); None: no bias.
    kernel_initializer : default 'glorot_uniform'
        Variance-scaling initializers count the fans over the kernel's input and output axes
        (as Keras does), not its last two axes.
    bias_initializer : default 'zeros'
    kernel_regularizer, bias_regularizer, activity_regularizer, kernel_constraint,
    bias_constraint : optional
        As in Dense.

    Shapes
    ------
    input ``(batch, ...)`` as the equation's first operand; kernel as its second; output
    ``(batch, *output_shape)``.

    Examples
    --------
    >>> import numpy as np
    >>> from unafraid import layers
    >>> layer = layers.EinsumDense("abc,cd->abd", output_shape=(None, 4), bias_axes="d")
    >>> layer(np.ones((2, 3, 5))).shape, layer.kernel.shape, layer.bias.shape
    ((2, 3, 4), (5, 4), (4,))
    """

    def __init__(self, equation: str, output_shape: Any, activation: Any = None,
                 bias_axes: str | None = None, kernel_initializer: Any = "glorot_uniform",
                 bias_initializer: Any = "zeros", kernel_regularizer: Any = None,
                 bias_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, activity_regularizer: Any = None,
                 lora_rank: int | None = None, lora_alpha: float | None = None,
                 quantization_config: Any = None, **kwargs: Any) -> None:
        for name, value in (("lora_rank", lora_rank), ("lora_alpha", lora_alpha),
                            ("quantization_config", quantization_config)):
            if value is not None:
                raise ValueError(f"EinsumDense: {name} (LoRA fine-tuning or quantization) is not "
                                 f"supported; leave it None.")
        super().__init__(**kwargs)
        if not isinstance(equation, str):
            raise ValueError(f"EinsumDense: equation must be a string such as 'ab,bc->ac', got "
                             f"{equation!r}.")
        self.equation = equation
        self.partial_output_shape = ((output_shape,) if isinstance(output_shape, int | np.integer)
                                     else tuple(output_shape))
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.bias = None

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        kernel_shape, bias_shape, _, input_axes, output_axes = analyze_einsum_string(
            self.equation, self.bias_axes, tuple(input_shape), self.partial_output_shape)
        if any(d is None for d in kernel_shape):
            raise ValueError(f"EinsumDense layer '{self.name}': the kernel's shape {kernel_shape} "
                             f"has an unknown length: give output_shape every axis the kernel "
                             f"shares with the output, and inputs of known length on the others.")
        self.kernel = self.add_weight(tuple(kernel_shape), self._fan_aware(kernel_shape, input_axes,
                                                                          output_axes),
                                      name="kernel", regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        if bias_shape is not None:
            self.bias = self.add_weight(tuple(bias_shape), self.bias_initializer, name="bias",
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)

    def _fan_aware(self, kernel_shape: list[int], input_axes: list[int],
                   output_axes: list[int]) -> Any:
        """A variance-scaling initializer drawn as a ``(fan_in, fan_out)`` matrix (Keras's fans:
        the products of the kernel's input and of its output axes), reshaped to the kernel: the
        draws are independent, so only the variance, set by the fans, matters."""
        init = self.kernel_initializer
        if not isinstance(init, initializers.VarianceScaling):
            return init
        return _DrawnAsMatrix(init, (math.prod(kernel_shape[a] for a in input_axes),
                                     math.prod(kernel_shape[a] for a in output_axes)))

    def call(self, inputs: Tensor) -> Tensor:
        x = Einsum.apply(inputs, self.kernel,
                         equation=explicit_equation(self.equation, inputs.ndim))
        if self.bias is not None:
            x = ops.add(x, self.bias)
        y = self.activation(x)
        if self.activity_regularizer is not None:
            self._activity_losses = [activity_loss(self.activity_regularizer, y)]
        return y

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return tuple(analyze_einsum_string(self.equation, self.bias_axes, tuple(input_shape),
                                           self.partial_output_shape)[2])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "output_shape": list(self.partial_output_shape),
                "equation": self.equation, "activation": activations.serialize(self.activation),
                "bias_axes": self.bias_axes,
                **weight_options_config(self)}
