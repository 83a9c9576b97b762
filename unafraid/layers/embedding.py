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
