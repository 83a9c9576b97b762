"""Embedding: integer ids to dense vectors (Keras 3's names and defaults)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import constraints, initializers, regularizers
from ..engine import ops
from ..engine.tensor import Function, Tensor
from .base import Layer
from .masking import NotEqualAny


class Take(Function):
    """``table[ids]``: rows of ``table`` (gradient: the rows' gradients added back in place)."""

    name = "take_rows"

    @staticmethod
    def forward(ctx, table, ids):
        ctx.save(ids, table.shape)
        return table[ids]

    @staticmethod
    def vjp(ctx, g, ids, shape):
        return (TakeGrad.apply(g, ids, shape=shape), None)


class TakeGrad(Function):
    """The VJP of :class:`Take`: ``zeros(shape)`` with ``g``'s rows added at ``ids``."""

    name = "take_rows_grad"

    @staticmethod
    def forward(ctx, g, ids, shape):
        ctx.save(ids)
        out = np.zeros(shape, g.dtype)
        np.add.at(out, ids, g)
        return out

    @staticmethod
    def vjp(ctx, gg, ids):
        return (Take.apply(gg, ids), None)


class NotEqualZero(NotEqualAny):
    """``ids != 0`` (Embedding's mask with ``mask_zero=True``; no gradient)."""

    name = "not_equal_zero"

    @staticmethod
    def forward(ctx, x, value):
        return np.asarray(x != value)


class Embedding(Layer):
    """Maps integer ids in ``[0, input_dim)`` to rows of a trainable ``(input_dim, output_dim)``
    table: ``output[..., :] = embeddings[ids[...]]``.

    Parameters
    ----------
    input_dim : int
        Size of the vocabulary (largest id + 1).
    output_dim : int
        Size of each vector.
    embeddings_initializer : default 'uniform' (uniform on [-0.05, 0.05], as in Keras)
    embeddings_regularizer : optional
    embeddings_constraint : optional
        Applied to the whole table by the optimizer after each update (e.g. ``'unit_norm'``).
    mask_zero : bool, default False
        Id 0 is padding: the output carries a mask (``ids != 0``) that later layers and
        the loss use. Then ``input_dim`` must count the padding id too.
    weights : list of one array, optional
        Initial table, ``[array of shape (input_dim, output_dim)]``.

    Shapes
    ------
    input ``(batch, ...)`` integers (floats holding whole numbers are accepted);
    output ``(batch, ..., output_dim)`` float32.

    Examples
    --------
    >>> import numpy as np, unafraid as tf
    >>> layer = tf.keras.layers.Embedding(10, 3)
    >>> layer(np.array([[1, 2, 0]])).shape
    (1, 3, 3)
    """

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer: Any = "uniform",
                 embeddings_regularizer: Any = None, embeddings_constraint: Any = None,
                 mask_zero: bool = False, weights: Any = None, lora_rank: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for name, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
                raise ValueError(f"Embedding: `{name}` must be a positive integer, got {value!r}. "
                                 f"E.g. Embedding(input_dim=vocabulary_size, output_dim=16).")
        if lora_rank is not None:
            raise ValueError("Embedding: lora_rank (LoRA fine-tuning) is not supported; leave it "
                             "None.")
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings_initializer = initializers.get(
            initializers.RandomUniform() if embeddings_initializer == "uniform"
            else embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        self._initial_weights = weights
        if weights is not None:  # as Keras: the table exists at once (its shape needs no input)
            self.build()

    def build(self, input_shape: Any = None) -> None:
        self.embeddings = self.add_weight((self.input_dim, self.output_dim),
                                          self.embeddings_initializer, name="embeddings",
                                          regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint)
        if self._initial_weights is not None:
            weights = self._initial_weights
            self.set_weights([weights] if np.ndim(weights) == 2 else list(weights))
            self._initial_weights = None

    def _ids(self, inputs: Tensor) -> Tensor:
        data = inputs.data
        if data.dtype.kind == "f" and data.size and not np.all(data == np.round(data)):
            raise ValueError(f"Embedding '{self.name}' needs integer ids; got non-integer values "
                             f"such as {data[data != np.round(data)].flat[0]!r}.")
        if data.size and (data.min() < 0 or data.max() >= self.input_dim):
            raise ValueError(f"Embedding '{self.name}' has input_dim={self.input_dim}, so ids must "
                             f"lie in [0, {self.input_dim}); got ids from {data.min():g} to "
                             f"{data.max():g}. Raise input_dim to the vocabulary size.")
        return ops.cast(inputs, np.int64)

    def call(self, inputs: Tensor) -> Tensor:
        return Take.apply(self.embeddings, self._ids(inputs))

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        if not self.mask_zero:
            return None
        x = inputs if isinstance(inputs, Tensor) else Tensor(np.asarray(inputs))
        return NotEqualZero.apply(x, value=0)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (*input_shape, self.output_dim)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
                "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
                "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
                "mask_zero": self.mask_zero}


class ReversibleEmbedding(Embedding):
    """An :class:`Embedding` that can also project back from vectors to the vocabulary (Keras 3's
    ``keras.layers.ReversibleEmbedding``, for language models whose output layer shares the input
    table: Press and Wolf, 2016, arXiv:1608.05859).

    ``layer(ids)`` is Embedding's lookup, ``embeddings[ids]``. ``layer(h, reverse=True)`` maps
    ``(..., output_dim)`` float vectors to ``(..., input_dim)`` logits:

        logits = h @ embeddings.T                   (tie_weights=True, the default)
        logits = h @ reverse_embeddings             (tie_weights=False: its own trainable
                                                     (output_dim, input_dim) table)
        logits = c * tanh(logits / c)               (when logit_soft_cap=c is set)

    Parameters
    ----------
    input_dim, output_dim, embeddings_initializer, embeddings_regularizer, embeddings_constraint,
    mask_zero
        As in :class:`Embedding`. ``reverse_embeddings`` uses ``embeddings_initializer`` too.
    tie_weights : bool, default True
        Reverse with the transposed ``embeddings`` (one table) or a separate table.
    reverse_dtype : str, optional
        The dtype of the reverse projection (inputs and table are cast to it); by default the
        table's float32.
    logit_soft_cap : float, optional
        Squash the reverse logits smoothly into ``(-c, c)``.

    Shapes
    ------
    forward: ``(batch, ...)`` integer ids -> ``(batch, ..., output_dim)`` float32, with the mask
    ``ids != 0`` when ``mask_zero``; reverse: ``(batch, ..., output_dim)`` ->
    ``(batch, ..., input_dim)``, never masked.

    Examples
    --------
    >>> import numpy as np, unafraid as tf
    >>> layer = tf.keras.layers.ReversibleEmbedding(100, 8)
    >>> hidden = layer(np.array([[1, 2, 3]]))
    >>> layer(hidden, reverse=True).shape
    (1, 3, 100)
    """

    def __init__(self, input_dim: int, output_dim: int, tie_weights: bool = True,
                 embeddings_initializer: Any = "uniform", embeddings_regularizer: Any = None,
                 embeddings_constraint: Any = None, mask_zero: bool = False,
                 reverse_dtype: Any = None, logit_soft_cap: float | None = None,
                 **kwargs: Any) -> None:
        super().__init__(input_dim, output_dim, embeddings_initializer=embeddings_initializer,
                         embeddings_regularizer=embeddings_regularizer,
                         embeddings_constraint=embeddings_constraint, mask_zero=mask_zero, **kwargs)
        if logit_soft_cap is not None and not float(logit_soft_cap) > 0:
            raise ValueError(f"ReversibleEmbedding '{self.name}': logit_soft_cap must be a positive "
                             f"number (the logits are squashed into (-cap, cap)), got "
                             f"{logit_soft_cap!r}; leave it None for no cap.")
        self.tie_weights = bool(tie_weights)
        self.reverse_dtype = None if reverse_dtype is None else np.dtype(reverse_dtype).name
        self.logit_soft_cap = logit_soft_cap

    def build(self, input_shape: Any = None) -> None:
        super().build(input_shape)
        if not self.tie_weights:
            self.reverse_embeddings = self.add_weight((self.output_dim, self.input_dim),
                                                      self.embeddings_initializer,
                                                      name="reverse_embeddings")

    def call(self, inputs: Tensor, reverse: bool = False) -> Tensor:
        if not reverse:
            out = super().call(inputs)
            mask = super().compute_mask(inputs)  # the mask belongs to the lookup only (as Keras)
            if mask is not None:
                out._keras_mask = mask
            return out
        if inputs.shape[-1] != self.output_dim:
            raise ValueError(f"ReversibleEmbedding '{self.name}' called with reverse=True needs "
                             f"vectors of output_dim={self.output_dim} on the last axis; got inputs "
                             f"of shape {tuple(inputs.shape)}. Pass the hidden states, not ids.")
        kernel = ops.transpose(self.embeddings) if self.tie_weights else self.reverse_embeddings
        if self.reverse_dtype is not None:
            inputs, kernel = ops.cast(inputs, self.reverse_dtype), ops.cast(kernel, self.reverse_dtype)
        logits = ops.matmul(inputs, kernel)
        if self.logit_soft_cap is not None:
            cap = self.logit_soft_cap
            logits = ops.multiply(ops.tanh(ops.divide(logits, cap)), cap)
        return logits

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        return None  # call sets the lookup's mask; the reverse projection has none

    def compute_output_shape(self, input_shape: Any, reverse: bool = False) -> Any:
        if reverse:
            return (*tuple(input_shape)[:-1], self.input_dim)
        return super().compute_output_shape(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "tie_weights": self.tie_weights,
                "reverse_dtype": self.reverse_dtype, "logit_soft_cap": self.logit_soft_cap}
