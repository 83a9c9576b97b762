"""Recurrent layers: SimpleRNN, LSTM and GRU (Keras 3's names, arguments, defaults and weights).

Each layer reads a sequence ``x_1 ... x_T`` (``(batch, timesteps, features)``) one step at a
time, carrying a state from step to step. The math, per step, is in each class's ``step``;
the loop over time is :func:`scan`, a plain Python loop over the engine's differentiable ops
(backpropagation through time is the engine's ordinary backward pass over that loop).

The weights have Keras 3's layout, so ``.keras`` files cross both ways:

- ``kernel`` ``(features, gates * units)``: the input's weights, gates side by side;
- ``recurrent_kernel`` ``(units, gates * units)``: the previous output's weights;
- ``bias`` ``(gates * units,)``, or ``(2, 3 * units)`` for ``GRU(reset_after=True)``.

The gates, in Keras's order: SimpleRNN has one; LSTM has four, ``i, f, c, o`` (input, forget,
candidate cell, output); GRU has three, ``z, r, h`` (update, reset, candidate).

For speed the inputs' part ``x_t W + b`` of every step is computed at once, before the loop,
as one matrix product over all timesteps; the loop then adds ``h_{t-1} U`` step by step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .. import activations, constraints, initializers, regularizers
from .. import random as _random
from ..engine import ops
from ..engine.tensor import Tensor
from .base import Layer, activity_loss, input_batch, weight_options_config


def scan(step: Callable[[Any, list[Any]], tuple[Any, list[Any]]], inputs: Any, states: list[Any],
         mask: Any = None, go_backwards: bool = False, zero_output_for_mask: bool = False,
         return_sequences: bool = True) -> tuple[Any, list[Any]]:
    """Run ``step`` over the timesteps of ``inputs``: Keras's ``backend.rnn``.

    For ``t = 1 ... T`` (``T ... 1`` with ``go_backwards``)::

        output_t, new_states = step(inputs[:, t], states)
        where mask[:, t] is False: output_t = states[0] (or 0), new_states = states

    Parameters
    ----------
    step : callable
        ``step(x_t, states) -> (output_t, new_states)``; ``x_t`` is ``(batch, n)``.
    inputs : (batch, timesteps, n) Tensor
    states : list of (batch, k) Tensors or arrays
        The states before the first step.
    mask : (batch, timesteps) bool Tensor, optional
        False marks a step that is skipped: the states pass through it unchanged and its
        output is the previous output (the first state), or zeros with ``zero_output_for_mask``.
    go_backwards : bool
        Read the steps last to first; the outputs come in that (reversed) order.
    return_sequences : bool
        Whether to stack every step's output (else only the last one is kept).

    Returns
    -------
    outputs : (batch, timesteps, units) Tensor, or the last output (batch, units)
    states : list of Tensors, the states after the last step
    """
    n_steps = inputs.shape[1]
    order = range(n_steps - 1, -1, -1) if go_backwards else range(n_steps)
    steps = ops.transpose(inputs, (1, 0, 2))  # time first: steps[t] is one step's (batch, n)
    keep = None if mask is None else ops.transpose(ops.reshape(mask, (*mask.shape, 1)), (1, 0, 2))
    outputs = []
    for t in order:
        output, new_states = step(ops.getitem(steps, t), states)
        if keep is not None:  # a skipped step: the states pass through, the output repeats
            keep_t = ops.getitem(keep, t)
            output = ops.where(keep_t, output, 0.0 if zero_output_for_mask else states[0])
            new_states = [ops.where(keep_t, new, old) for new, old in zip(new_states, states,
                                                                           strict=True)]
        states = new_states
        if return_sequences or not outputs:
            outputs.append(output)
        else:
            outputs[0] = output
    if not outputs:
        raise ValueError("A recurrent layer needs at least one timestep; got a sequence of length 0.")
    return (ops.stack(outputs, axis=1) if return_sequences else outputs[0]), states


class UnitForgetBias(initializers.Initializer):
    """LSTM's bias with ``unit_forget_bias=True``: ``bias_initializer`` for the gates ``i, c, o``
    and ones for the forget gate ``f`` (Jozefowicz et al., 2015), in Keras's order ``i, f, c, o``."""

    def __init__(self, bias_initializer: initializers.Initializer) -> None:
        self.bias_initializer = bias_initializer

    def __call__(self, shape, dtype="float32"):
        units = shape[0] // 4
        return np.concatenate([self.bias_initializer((units,), dtype), np.ones(units, dtype),
                               self.bias_initializer((2 * units,), dtype)])


def _check_rate(layer: str, name: str, rate: Any) -> float:
    if isinstance(rate, bool) or not isinstance(rate, int | float | np.number) or not 0 <= rate < 1:
        raise ValueError(f"{layer}: {name} is the fraction of units to drop and must be in [0, 1), "
                         f"got {rate!r}. E.g. {name}=0.2.")
    return float(rate)


class RecurrentLayer(Layer):
    """What SimpleRNN, LSTM and GRU share: weights, dropout, masks, the loop and the config.

    A subclass sets ``gates`` and ``n_states`` and defines ``step(x_t, states)``, the math of one
    timestep given ``x_t = x_t W + b`` (the inputs' part, computed for all steps at once).
    """

    gates = 1  # how many blocks of ``units`` columns the kernels hold
    n_states = 1  # states carried from step to step (LSTM: h and c)
    supports_masking = True

    def __init__(self, units: int, activation: Any = "tanh", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, recurrent_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, recurrent_constraint: Any = None,
                 bias_constraint: Any = None, dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 seed: int | None = None, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 zero_output_for_mask: bool = False, use_cudnn: Any = "auto",
                 **kwargs: Any) -> None:
        kind = type(self).__name__
        kwargs.pop("implementation", None)  # Keras's choice of kernel split: the same numbers
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, int | np.integer) or units < 1:
            raise ValueError(f"{kind}: units must be a positive integer (the size of the output and "
                             f"of the state), got {units!r}. E.g. {kind}(32).")
        if stateful:
            raise ValueError(
                f"{kind}(stateful=True) is not supported: unafraid does not keep states between "
                f"batches inside the layer. Carry them yourself: call the layer with "
                f"return_state=True and pass the states it returns to the next call as "
                f"initial_state=[...].")
        if use_cudnn not in ("auto", True, False):
            raise ValueError(f"{kind}: use_cudnn must be 'auto', True or False, got {use_cudnn!r}.")
        if use_cudnn is True:
            raise ValueError(f"{kind}(use_cudnn=True): unafraid runs on the CPU, with no cuDNN. "
                             f"Leave use_cudnn='auto' (the same math, computed with NumPy).")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = _check_rate(kind, "dropout", dropout)
        self.recurrent_dropout = _check_rate(kind, "recurrent_dropout", recurrent_dropout)
        self.seed = seed
        self.generator = _random.make_generator(seed)
        self.return_sequences, self.return_state = bool(return_sequences), bool(return_state)
        self.go_backwards, self.unroll = bool(go_backwards), bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.stateful = False
        self.use_cudnn = use_cudnn

    # ---- weights ------------------------------------------------------------------------------
    def bias_shape(self) -> tuple[int, ...]:
        return (self.gates * self.units,)

    def initial_bias(self) -> initializers.Initializer:
        return self.bias_initializer

    def build(self, input_shape: Any) -> None:
        if len(input_shape) != 3 or input_shape[-1] is None:
            raise ValueError(f"{type(self).__name__} layer '{self.name}' needs inputs of shape "
                             f"(batch, timesteps, features) with a known number of features; got "
                             f"input shape {tuple(input_shape)}.{_sequence_hint(input_shape)}")
        width = self.gates * self.units
        self.kernel = self.add_weight((input_shape[-1], width), self.kernel_initializer,
                                      name="kernel", regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight((self.units, width), self.recurrent_initializer,
                                                name="recurrent_kernel",
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        self.bias = (self.add_weight(self.bias_shape(), self.initial_bias(), name="bias",
                                     regularizer=self.bias_regularizer,
                                     constraint=self.bias_constraint)
                     if self.use_bias else None)

    def _check_input(self, x: Any) -> None:
        if x.ndim != 3 or x.shape[-1] != self.kernel.shape[0]:
            raise ValueError(f"{type(self).__name__} layer '{self.name}' expected inputs of shape "
                             f"(batch, timesteps, {self.kernel.shape[0]}), got {x.shape}."
                             f"{_sequence_hint(x.shape)}")

    # ---- the pieces of a step -----------------------------------------------------------------
    def input_bias(self) -> Any:
        """The bias added to ``x_t W`` (GRU with ``reset_after`` has a second one, for ``h U``)."""
        return self.bias

    def block(self, weight: Any, k: int, count: int = 1) -> Any:
        """Columns ``k * units ... (k + count) * units`` of a kernel (or entries of a bias)."""
        cols = slice(k * self.units, (k + count) * self.units)
        return ops.getitem(weight, (..., cols))

    def project_inputs(self, x: Any, masks: list[Any] | None) -> Any:
        """``x_t W + b`` for every step at once: ``(batch, timesteps, gates * units)``.

        With dropout, ``masks`` holds one ``(batch, 1, features)`` mask, or one per gate (Keras's
        ``implementation=1``, used when ``recurrent_dropout`` is set): the same mask at every step.
        """
        bias = self.input_bias()
        if masks is None:
            return ops.linear(x, self.kernel, bias)
        if len(masks) == 1:
            return ops.linear(ops.multiply(x, masks[0]), self.kernel, bias)
        return ops.concatenate([
            ops.linear(ops.multiply(x, m), self.block(self.kernel, k),
                       None if bias is None else self.block(bias, k))
            for k, m in enumerate(masks)], axis=-1)

    def recurrent_product(self, h: Any, masks: list[Any] | None, first: int = 0,
                          count: int | None = None) -> Any:
        """``h U`` for the gates ``first ... first + count``, the dropout masks applied to ``h``."""
        count = self.gates - first if count is None else count
        weight = (self.recurrent_kernel if (first, count) == (0, self.gates)
                  else self.block(self.recurrent_kernel, first, count))
        if masks is None:
            return ops.matmul(h, weight)
        if len(masks) == 1:
            return ops.matmul(ops.multiply(h, masks[0]), weight)
        return ops.concatenate([ops.matmul(ops.multiply(h, masks[first + k]),
                                           self.block(self.recurrent_kernel, first + k))
                                for k in range(count)], axis=-1)

    def step(self, x_t: Any, states: list[Any], masks: list[Any] | None) -> tuple[Any, list[Any]]:
        raise NotImplementedError

    # ---- the call -----------------------------------------------------------------------------
    def __call__(self, inputs: Any, *args: Any, initial_state: Any = None, **kwargs: Any) -> Any:
        # initial_state travels as extra positional inputs, so that a functional model records
        # the symbolic states as inputs of this call (layer(x, initial_state=[h, c]))
        if initial_state is not None:
            states = list(initial_state) if isinstance(initial_state, list | tuple) else [
                initial_state]
            return super().__call__(inputs, *states, *args, **kwargs)
        return super().__call__(inputs, *args, **kwargs)

    def call(self, sequences: Tensor, *initial_state: Any, mask: Any = None,
             training: bool = False) -> Any:
        batch = sequences.shape[0]
        states = self._initial_states(batch, list(initial_state))
        dropping = training and self.dropout > 0
        recurrent_dropping = training and self.recurrent_dropout > 0
        n_masks = self.gates if self.recurrent_dropout > 0 else 1  # Keras's implementation=1
        in_masks = ([self._dropout_mask((batch, 1, sequences.shape[-1]), self.dropout)
                     for _ in range(n_masks)] if dropping else None)
        rec_masks = ([self._dropout_mask((batch, self.units), self.recurrent_dropout)
                      for _ in range(n_masks)] if recurrent_dropping else None)
        if mask is not None:
            mask = self._check_mask(mask, sequences)
        projected = self.project_inputs(sequences, in_masks)
        output, states = scan(lambda x_t, s: self.step(x_t, s, rec_masks), projected, states,
                              mask, self.go_backwards, self.zero_output_for_mask,
                              self.return_sequences)
        outputs = [output, *states] if self.return_state else output
        if self.activity_regularizer is not None:
            self._activity_losses = [activity_loss(self.activity_regularizer, o) for o in
                                     (outputs if self.return_state else [outputs])]
        return outputs

    def _dropout_mask(self, shape: tuple[int, ...], rate: float) -> Any:
        """``0`` or ``1 / (1 - rate)`` entries, drawn from the layer's seeded generator by an
        engine op (so a replayed training step draws the next batch's mask)."""
        return ops.dropout(np.ones(shape, self.dtype), rate, self.generator)

    def _initial_states(self, batch: int, given: list[Any]) -> list[Any]:
        if not given:
            return [np.zeros((batch, self.units), self.dtype) for _ in range(self.n_states)]
        if len(given) != self.n_states:
            raise ValueError(f"{type(self).__name__} layer '{self.name}' carries {self.n_states} "
                             f"state(s) {self.state_names()}, but initial_state has {len(given)}.")
        for name, s in zip(self.state_names(), given, strict=True):
            if tuple(s.shape) != (batch, self.units):
                raise ValueError(f"{type(self).__name__} layer '{self.name}': initial state {name} "
                                 f"must have shape (batch, units) = {(batch, self.units)}, got "
                                 f"{tuple(s.shape)}.")
        return given

    def state_names(self) -> list[str]:
        return ["h"]

    def _check_mask(self, mask: Any, sequences: Tensor) -> Any:
        m = mask if isinstance(mask, Tensor) else Tensor(np.asarray(mask))
        if tuple(m.shape) != tuple(sequences.shape[:2]):
            raise ValueError(f"{type(self).__name__} layer '{self.name}': the mask must have shape "
                             f"(batch, timesteps) = {tuple(sequences.shape[:2])}, got "
                             f"{tuple(m.shape)}.")
        return m if m.dtype == np.bool_ else ops.cast(m, np.bool_)

    # ---- shapes, masks, config ----------------------------------------------------------------
    def compute_output_shape(self, input_shape: Any) -> Any:
        batch = input_batch(input_shape)
        if isinstance(input_shape, list):
            input_shape = input_shape[0]
        out = (batch, input_shape[1], self.units) if self.return_sequences else (batch, self.units)
        if self.return_state:
            return [out, *[(batch, self.units)] * self.n_states]
        return out

    def _spread_output_shape(self, shapes: list[Any], kwargs: dict[str, Any]) -> Any:
        return self.compute_output_shape(shapes[0])  # called with initial_state: the same shapes

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        if isinstance(previous_mask, list):
            previous_mask = previous_mask[0]
        out = previous_mask if self.return_sequences else None
        return [out, *[None] * self.n_states] if self.return_state else out

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(),
                "return_sequences": self.return_sequences, "return_state": self.return_state,
                "go_backwards": self.go_backwards, "stateful": self.stateful, "unroll": self.unroll,
                "zero_output_for_mask": self.zero_output_for_mask, "units": self.units,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                **weight_options_config(self, ("kernel", "recurrent", "bias")),
                "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
                "seed": self.seed}


def _sequence_hint(shape: Any) -> str:
    if len(shape) == 2:
        return (" A recurrent layer reads sequences: add a features axis (x[..., None]) for one "
                "number per step, or an Embedding layer first for integer tokens.")
    return ""


class SimpleRNN(RecurrentLayer):
    """A fully-connected recurrent layer: the output is fed back as the next step's state.

    ``h_t = activation(x_t W + b + h_{t-1} U)``, ``h_0 = 0``; the output is ``h_T`` (or every
    ``h_t`` with ``return_sequences=True``).

    Parameters
    ----------
    units : int
        Size of the output and of the state.
    activation : default 'tanh'
    use_bias : bool, default True
    kernel_initializer : default 'glorot_uniform'
        ``W``, ``(features, units)``.
    recurrent_initializer : default 'orthogonal'
        ``U``, ``(units, units)``.
    bias_initializer : default 'zeros'
    kernel_regularizer, recurrent_regularizer, bias_regularizer, activity_regularizer : optional
    kernel_constraint, recurrent_constraint, bias_constraint : optional
    dropout : float, default 0
        Fraction of the input features dropped in training; one mask per sequence, the same at
        every step (variational dropout, as Keras).
    recurrent_dropout : float, default 0
        The same for the previous output ``h_{t-1}``.
    seed : int, optional
        Seeds the dropout masks (else derived from ``unafraid.random``'s seed).
    return_sequences : bool, default False
        Return every step's output ``(batch, timesteps, units)`` rather than the last.
    return_state : bool, default False
        Return ``[output, h_T]``.
    go_backwards : bool, default False
        Read the sequence last step first; the returned sequence is in that reversed order.
    stateful : False
        ``True`` is refused (carry states with ``return_state`` and ``initial_state``).
    unroll : bool, default False
        Accepted; the loop is a Python loop either way.
    zero_output_for_mask : bool, default False
        The output at a masked step: zeros, or (default) the previous output.

    Call arguments: ``layer(sequences, initial_state=None, mask=None, training=False)``;
    ``initial_state`` is ``[h_0]``; ``mask`` ``(batch, timesteps)`` bool (False: skip the step,
    carrying the state through), usually attached by ``Masking`` or ``Embedding(mask_zero=True)``.

    Shapes
    ------
    input ``(batch, timesteps, features)``; output ``(batch, units)``, or
    ``(batch, timesteps, units)`` with ``return_sequences``. Weights: ``kernel``
    ``(features, units)``, ``recurrent_kernel`` ``(units, units)``, ``bias`` ``(units,)``.

    Examples
    --------
    >>> import numpy as np, unafraid as tf
    >>> layer = tf.keras.layers.SimpleRNN(4)
    >>> layer(np.zeros((32, 10, 8), "float32")).shape
    (32, 4)
    """

    def step(self, x_t: Any, states: list[Any], masks: list[Any] | None) -> tuple[Any, list[Any]]:
        (h,) = states
        h = self.activation(ops.add(x_t, self.recurrent_product(h, masks)))
        return h, [h]


class LSTM(RecurrentLayer):
    """Long short-term memory (Hochreiter & Schmidhuber, 1997), Keras 3's ``LSTM``.

    Per step, with ``sigma = recurrent_activation`` (sigmoid) and ``tanh = activation``::

        [i, f, g, o] = x_t W + h_{t-1} U + b          (four blocks of `units` columns)
        c_t = sigma(f) * c_{t-1} + sigma(i) * tanh(g)
        h_t = sigma(o) * tanh(c_t)

    from ``h_0 = c_0 = 0``. The output is ``h_T`` (every ``h_t`` with ``return_sequences``).

    Parameters
    ----------
    units : int
    activation : default 'tanh'
    recurrent_activation : default 'sigmoid'
        For the gates ``i, f, o``.
    unit_forget_bias : bool, default True
        Start the forget gate's bias at 1 (the others from ``bias_initializer``).
    others
        As :class:`SimpleRNN`: initializers (``'glorot_uniform'``, ``'orthogonal'``, ``'zeros'``),
        regularizers, constraints, ``dropout``, ``recurrent_dropout`` (then one mask per gate,
        as Keras), ``seed``, ``return_sequences``, ``return_state`` (``[output, h_T, c_T]``),
        ``go_backwards``, ``unroll``, ``zero_output_for_mask``; ``stateful=True`` is refused.

    Shapes
    ------
    input ``(batch, timesteps, features)``; output ``(batch, units)`` or
    ``(batch, timesteps, units)``. Weights in Keras's layout and gate order ``i, f, c, o``:
    ``kernel`` ``(features, 4 units)``, ``recurrent_kernel`` ``(units, 4 units)``, ``bias``
    ``(4 units,)``.

    Examples
    --------
    >>> import numpy as np, unafraid as tf
    >>> lstm = tf.keras.layers.LSTM(4, return_sequences=True, return_state=True)
    >>> outputs, h, c = lstm(np.zeros((32, 10, 8), "float32"))
    >>> outputs.shape, h.shape, c.shape
    ((32, 10, 4), (32, 4), (32, 4))
    """

    gates, n_states = 4, 2

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 unit_forget_bias: bool = True, **kwargs: Any) -> None:
        super().__init__(units, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)

    def initial_bias(self) -> initializers.Initializer:
        return UnitForgetBias(self.bias_initializer) if self.unit_forget_bias else self.bias_initializer

    def state_names(self) -> list[str]:
        return ["h", "c"]

    def step(self, x_t: Any, states: list[Any], masks: list[Any] | None) -> tuple[Any, list[Any]]:
        h, c = states
        z = ops.add(x_t, self.recurrent_product(h, masks))
        i, f, g, o = ops.split(z, 4, axis=-1)
        sigma, tanh = self.recurrent_activation, self.activation
        c = ops.add(ops.multiply(sigma(f), c), ops.multiply(sigma(i), tanh(g)))
        h = ops.multiply(sigma(o), tanh(c))
        return h, [h, c]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(),
                "recurrent_activation": activations.serialize(self.recurrent_activation),
                "unit_forget_bias": self.unit_forget_bias}


class GRU(RecurrentLayer):
    """Gated recurrent unit (Cho et al., 2014), Keras 3's ``GRU``.

    Per step, with ``sigma = recurrent_activation`` (sigmoid), ``tanh = activation``, and the
    blocks ``z, r, h`` of ``W``, ``U`` and the biases::

        z = sigma(x_t W_z + b_z + h_{t-1} U_z + b'_z)        (update gate)
        r = sigma(x_t W_r + b_r + h_{t-1} U_r + b'_r)        (reset gate)
        reset_after=True:   n = tanh(x_t W_h + b_h + r * (h_{t-1} U_h + b'_h))
        reset_after=False:  n = tanh(x_t W_h + b_h + (r * h_{t-1}) U_h)
        h_t = z * h_{t-1} + (1 - z) * n

    from ``h_0 = 0``; ``b'`` (the recurrent bias) exists only with ``reset_after=True``.

    Parameters
    ----------
    units : int
    activation : default 'tanh'
    recurrent_activation : default 'sigmoid'
    reset_after : bool, default True
        Apply the reset gate after the product with ``U_h`` (Keras 3's and cuDNN's convention).
    others
        As :class:`SimpleRNN` (``return_state`` gives ``[output, h_T]``).

    Shapes
    ------
    input ``(batch, timesteps, features)``; output ``(batch, units)`` or
    ``(batch, timesteps, units)``. Weights in Keras's layout and gate order ``z, r, h``:
    ``kernel`` ``(features, 3 units)``, ``recurrent_kernel`` ``(units, 3 units)``, ``bias``
    ``(2, 3 units)`` (row 0 for the inputs, row 1 for the state) with ``reset_after``, else
    ``(3 units,)``.

    Examples
    --------
    >>> import numpy as np, unafraid as tf
    >>> tf.keras.layers.GRU(4)(np.zeros((32, 10, 8), "float32")).shape
    (32, 4)
    """

    gates = 3

    def __init__(self, units: int, activation: Any = "tanh", recurrent_activation: Any = "sigmoid",
                 use_bias: bool = True, kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 reset_after: bool = True, **kwargs: Any) -> None:
        super().__init__(units, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = bool(reset_after)

    def bias_shape(self) -> tuple[int, ...]:
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def input_bias(self) -> Any:
        if self.bias is None or not self.reset_after:
            return self.bias
        return ops.getitem(self.bias, 0)

    def step(self, x_t: Any, states: list[Any], masks: list[Any] | None) -> tuple[Any, list[Any]]:
        (h,) = states
        sigma, tanh = self.recurrent_activation, self.activation
        x_z, x_r, x_h = ops.split(x_t, 3, axis=-1)
        if self.reset_after:
            inner = self.recurrent_product(h, masks)
            if self.bias is not None:
                inner = ops.add(inner, ops.getitem(self.bias, 1))
            h_z, h_r, h_h = ops.split(inner, 3, axis=-1)
            z, r = sigma(ops.add(x_z, h_z)), sigma(ops.add(x_r, h_r))
            n = tanh(ops.add(x_h, ops.multiply(r, h_h)))
        else:
            h_z, h_r = ops.split(self.recurrent_product(h, masks, 0, 2), 2, axis=-1)
            z, r = sigma(ops.add(x_z, h_z)), sigma(ops.add(x_r, h_r))
            h_masked = h if masks is None else ops.multiply(h, masks[-1])
            n = tanh(ops.add(x_h, ops.matmul(ops.multiply(r, h_masked),
                                             self.block(self.recurrent_kernel, 2))))
        h = ops.add(ops.multiply(z, h), ops.multiply(ops.subtract(1.0, z), n))
        return h, [h]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(),
                "recurrent_activation": activations.serialize(self.recurrent_activation),
                "reset_after": self.reset_after}


RECURRENT_LAYERS: dict[str, type[RecurrentLayer]] = {"SimpleRNN": SimpleRNN, "LSTM": LSTM,
                                                     "GRU": GRU}
MERGE_MODES = ("concat", "sum", "ave", "mul", None)


class Bidirectional(Layer):
    """Runs a recurrent layer forwards and a copy of it backwards, and merges their outputs.

    The forward layer is a fresh copy of ``layer`` (its config, named ``forward_<name>``); the
    backward one a copy with ``go_backwards`` flipped (``backward_<name>``), unless given. With
    ``return_sequences`` the backward outputs are put back in time order before merging, so
    step ``t`` of the output sees the whole sequence. As in Keras, the two layers give zeros at
    masked steps when they return sequences.

    Parameters
    ----------
    layer : SimpleRNN, LSTM or GRU
    merge_mode : {'concat', 'sum', 'ave', 'mul', None}, default 'concat'
        How the two outputs are combined; ``None`` returns both, ``[forward, backward]``.
    backward_layer : SimpleRNN, LSTM or GRU, optional
        With the opposite ``go_backwards`` and the same ``return_sequences``/``return_state``.
    weights : list of arrays, optional
        The forward layer's weights, then the backward one's.

    Call arguments: ``layer(sequences, initial_state=None, mask=None, training=False)``;
    ``initial_state`` holds the forward states then the backward states.

    Shapes
    ------
    input ``(batch, timesteps, features)``; output ``(batch, 2 units)`` with ``'concat'``
    (``(batch, timesteps, 2 units)`` with ``return_sequences``), ``(batch, units)`` for the others;
    with ``return_state`` the forward then the backward final states follow the output.

    Examples
    --------
    >>> import numpy as np, unafraid as tf
    >>> layer = tf.keras.layers.Bidirectional(tf.keras.layers.LSTM(4, return_sequences=True))
    >>> layer(np.zeros((2, 5, 3), "float32")).shape
    (2, 5, 8)
    """

    supports_masking = True

    def __init__(self, layer: Any, merge_mode: str | None = "concat", weights: Any = None,
                 backward_layer: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        layer = _recurrent(layer, "layer")
        if merge_mode not in MERGE_MODES:
            raise ValueError(f"Bidirectional: merge_mode must be one of {list(MERGE_MODES)}, got "
                             f"{merge_mode!r}.")
        config = layer.get_config()
        forward_name = f"forward_{config['name'].removeprefix('forward_')}"
        self.forward_layer = type(layer).from_config({**config, "name": forward_name})
        if backward_layer is None:
            backward_name = f"backward_{config['name'].removeprefix('backward_')}"
            backward_layer = type(layer).from_config(
                {**config, "name": backward_name, "go_backwards": not layer.go_backwards})
        self.backward_layer = _recurrent(backward_layer, "backward_layer")
        self._check_pair()
        for part in (self.forward_layer, self.backward_layer):  # Keras: zeros at masked steps
            part.zero_output_for_mask = part.return_sequences
        self.merge_mode = merge_mode
        self.return_sequences = self.forward_layer.return_sequences
        self.return_state = self.forward_layer.return_state
        self._initial_weights = weights

    def _check_pair(self) -> None:
        f, b = self.forward_layer, self.backward_layer
        if f.go_backwards == b.go_backwards:
            raise ValueError(f"Bidirectional '{self.name}': the forward and backward layers must "
                             f"have different go_backwards; both have {f.go_backwards}.")
        for attr in ("return_sequences", "return_state"):
            if getattr(f, attr) != getattr(b, attr):
                raise ValueError(f"Bidirectional '{self.name}': the forward and backward layers "
                                 f"must have the same {attr}; got {getattr(f, attr)} and "
                                 f"{getattr(b, attr)}.")

    def build(self, input_shape: Any) -> None:
        for part in (self.forward_layer, self.backward_layer):
            if not part.built:
                part.build(input_shape)
                part.built = True
                part._build_shape = input_shape
        if self._initial_weights is not None:
            self.set_weights(list(self._initial_weights))
            self._initial_weights = None

    def __call__(self, inputs: Any, *args: Any, initial_state: Any = None, **kwargs: Any) -> Any:
        if initial_state is not None:  # as RecurrentLayer: symbolic states become inputs
            return super().__call__(inputs, *list(initial_state), *args, **kwargs)
        return super().__call__(inputs, *args, **kwargs)

    def call(self, sequences: Tensor, *initial_state: Any, mask: Any = None,
             training: bool = False) -> Any:
        half = len(initial_state) // 2
        forward_state, backward_state = (list(initial_state[:half]) or None,
                                         list(initial_state[half:]) or None)
        y = self.forward_layer(sequences, initial_state=forward_state, mask=mask,
                               training=training)
        y_rev = self.backward_layer(sequences, initial_state=backward_state, mask=mask,
                                    training=training)
        states = []
        if self.return_state:
            states = [*y[1:], *y_rev[1:]]
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:  # back in time order
            y_rev = ops.getitem(y_rev, (slice(None), slice(None, None, -1)))
        if self.merge_mode == "concat":
            output = [ops.concatenate([y, y_rev], axis=-1)]
        elif self.merge_mode == "sum":
            output = [ops.add(y, y_rev)]
        elif self.merge_mode == "ave":
            output = [ops.divide(ops.add(y, y_rev), 2.0)]
        elif self.merge_mode == "mul":
            output = [ops.multiply(y, y_rev)]
        else:
            output = [y, y_rev]
        output += states
        return output[0] if len(output) == 1 else output

    def compute_output_shape(self, input_shape: Any) -> Any:
        shape = self.forward_layer.compute_output_shape(
            input_shape[0] if isinstance(input_shape, list) else input_shape)
        states = shape[1:] if self.return_state else []
        out = shape[0] if self.return_state else shape
        outputs = ([(*out[:-1], 2 * out[-1])] if self.merge_mode == "concat" else
                   [out, out] if self.merge_mode is None else [out])
        outputs += [*states, *states]
        return outputs[0] if len(outputs) == 1 else outputs

    def _spread_output_shape(self, shapes: list[Any], kwargs: dict[str, Any]) -> Any:
        return self.compute_output_shape(shapes[0])

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        if isinstance(previous_mask, list):
            previous_mask = previous_mask[0]
        out = previous_mask if self.return_sequences else None
        masks = [out, out] if self.merge_mode is None else [out]
        if self.return_state:
            masks += [None] * (2 * self.forward_layer.n_states)
        return masks[0] if len(masks) == 1 else masks

    def get_config(self) -> dict[str, Any]:
        def spec(layer: RecurrentLayer) -> dict[str, Any]:
            return {"class_name": type(layer).__name__, "config": layer.get_config()}
        return {**super().get_config(), "merge_mode": self.merge_mode,
                "layer": spec(self.forward_layer), "backward_layer": spec(self.backward_layer)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Bidirectional:
        config = dict(config)
        for key in ("layer", "backward_layer"):
            if isinstance(config.get(key), dict):
                config[key] = _from_spec(config[key], key)
        return cls(**config)


def _recurrent(layer: Any, what: str) -> RecurrentLayer:
    if not isinstance(layer, RecurrentLayer):
        raise ValueError(f"Bidirectional: `{what}` must be a SimpleRNN, LSTM or GRU layer, got "
                         f"{type(layer).__name__}.")
    return layer


def _from_spec(spec: dict[str, Any], what: str) -> RecurrentLayer:
    """A wrapped layer from its saved ``{"class_name", "config"}`` (only the recurrent layers)."""
    cls = RECURRENT_LAYERS.get(spec.get("class_name"))
    if cls is None or not isinstance(spec.get("config"), dict):
        raise ValueError(f"Bidirectional: `{what}` must be a saved SimpleRNN, LSTM or GRU, got "
                         f"{str(spec)[:120]}.")
    return cls.from_config(spec["config"])
