"""Masking: ``layers.Masking`` and the helpers that carry a mask to the loss and the metrics.

Keras's rule: a mask is a boolean tensor shaped like the data without its last axis
(``(batch, timesteps)`` for ``(batch, timesteps, features)``), True where a step counts.
A layer that makes one (``Masking``, ``Embedding(mask_zero=True)``) attaches it to its
output as ``output._keras_mask``; each later layer whose ``supports_masking`` is True passes
it on (``Layer.compute_mask``), a layer whose ``call`` takes ``mask=`` receives it, and the
loss and the metrics weight each step by it (masked steps count for nothing).

The mask is computed by an engine op from the batch, so a compiled training step
(``compile(jit_compile=True)``) recomputes it for each batch when it replays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import ops
from ..engine.tensor import Function, Tensor, as_array
from .base import Layer, keras_mask


class NotEqualAny(Function):
    """``any(x != value, axis=-1)``: the steps that are not entirely ``value`` (no gradient)."""

    name = "not_equal_any"

    @staticmethod
    def forward(ctx, x, value):
        return np.any(x != value, axis=-1)

    @staticmethod
    def vjp(ctx, g):
        return (None,)


class Masking(Layer):
    """Masks the timesteps whose features all equal ``mask_value``.

    ``mask[b, t] = any(inputs[b, t, :] != mask_value)``; masked steps are set to
    zero in the output, and the mask rides on the output to the layers that use it
    (and to the loss, which then ignores those steps).

    Parameters
    ----------
    mask_value : float, default 0.0

    Shapes
    ------
    input ``(batch, timesteps, features)``; output the same; mask ``(batch, timesteps)`` bool.

    Examples
    --------
    >>> import numpy as np, unafraid as tf
    >>> x = np.array([[[0.0, 0.0], [1.0, 2.0]]])
    >>> y = tf.keras.layers.Masking()(x)
    >>> y._keras_mask.numpy()
    array([[False,  True]])
    """

    supports_masking = True

    def __init__(self, mask_value: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mask_value = mask_value

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        return NotEqualAny.apply(_tensor(inputs), value=self.mask_value)

    def call(self, inputs: Tensor) -> Tensor:
        mask = NotEqualAny.apply(inputs, value=self.mask_value)
        outputs = ops.where(ops.expand_dims(mask, -1), inputs, 0.0)
        outputs._keras_mask = mask
        return outputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "mask_value": self.mask_value}


def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))


def apply_keras_mask(values: Any, out_mask: Any, y_pred: Any, reduction: str | None
                     ) -> tuple[Any, Any]:
    """What ``Loss.__call__`` does with ``y_pred``'s Keras mask (Keras 3's ``apply_mask``).

    Masked entries of the per-example ``values`` get weight 0; with a mean reduction
    (``'sum_over_batch_size'``, ``'mean'``) the others get ``total / valid``, so the mean
    runs over the valid entries only: ``sum(values * mask) / sum(mask)``.

    Returns ``(values, out_mask)`` for ``losses._reduce``. With only ``y_pred``'s mask, it is
    folded into ``values`` with engine ops (a compiled training step recomputes it for each
    batch); with a loss's own mask too (``ignore_class``), the two are combined (``and``)
    and returned as ``out_mask``, as Keras does.
    """
    mask = keras_mask(y_pred)
    if mask is None or isinstance(mask, list):
        return values, out_mask
    if out_mask is not None:
        return values, combine_masks(y_pred, out_mask)
    values = values if isinstance(values, Tensor) else Tensor(np.asarray(values))
    m = mask if isinstance(mask, Tensor) else Tensor(np.asarray(mask))
    if m.ndim > values.ndim and m.shape[: values.ndim] == values.shape and m.size == values.size:
        m = ops.reshape(m, values.shape)  # (N, 1) against (N,): Keras squeezes
    if m.shape != values.shape:
        if m.shape[: values.ndim] == values.shape or values.shape[: m.ndim] != m.shape:
            raise ValueError(f"The loss values have shape {values.shape} but the predictions' "
                             f"mask has shape {m.shape}; the mask must be the values' shape or "
                             f"a prefix of it (e.g. (batch, timesteps)).")
        m = ops.reshape(m, (*m.shape, *(1,) * (values.ndim - m.ndim)))
    weights = ops.cast(m, values.dtype)
    if reduction in ("mean", "sum_over_batch_size"):
        valid = ops.maximum(ops.sum(weights), 1.0)  # all masked: the weights are all 0 anyway
        weights = ops.multiply(weights, ops.divide(float(m.size), valid))
    return ops.multiply(values, weights), None


def combine_masks(y_pred: Any, out_mask: Any = None) -> np.ndarray | None:
    """The mask a loss applies: ``y_pred``'s Keras mask and the loss's own (``ignore_class``).

    Keras 3's ``Loss.__call__``: ``in_mask & out_mask``, either, or None. Returns a
    boolean array (or None), as ``losses._reduce`` takes it.
    """
    in_mask = keras_mask(y_pred)
    if isinstance(in_mask, list):  # a list of predictions: the loss sees one tensor
        in_mask = None
    if in_mask is None:
        return out_mask
    in_mask = as_array(in_mask).astype(bool)
    return in_mask if out_mask is None else in_mask & np.asarray(out_mask, bool)


def apply_mask(sample_weight: Any, mask: Any, reduction: str = "sum") -> Any:
    """Keras 3's ``losses.loss.apply_mask``: fold a mask into the sample weights.

    With ``reduction`` ``"sum_over_batch_size"`` or ``"mean"`` the valid entries weigh
    ``total / valid`` (so a mean over all entries is the mean over the valid ones);
    otherwise (``"sum"``, as metrics use it) they weigh 1. Masked entries weigh 0.

    Parameters
    ----------
    sample_weight : array or None
    mask : bool array, e.g. ``(batch, timesteps)``, or None (then ``sample_weight`` is returned)
    reduction : str
    """
    if mask is None:
        return sample_weight
    mask = as_array(mask).astype(bool)
    if reduction in ("mean", "sum_over_batch_size"):
        valid = float(mask.sum())
        float_mask = np.where(mask, mask.size / valid if valid else 0.0, 0.0)
    else:
        float_mask = mask.astype(np.float64)
    if sample_weight is None:
        return float_mask.astype(np.float32)
    sw = as_array(sample_weight).astype(np.float64)
    while sw.ndim < float_mask.ndim:  # Keras's squeeze_or_expand_to_same_rank
        sw = sw[..., None]
    while float_mask.ndim < sw.ndim:
        float_mask = float_mask[..., None]
    return (sw * float_mask).astype(np.float32)


def metric_sample_weight(y_pred: Any, sample_weight: Any) -> Any:
    """The sample weights a metric uses for ``y_pred``: its Keras mask folded in (Keras 3's
    ``MeanMetricWrapper.update_state``: ``apply_mask(sample_weight, mask, reduction='sum')``)."""
    mask = keras_mask(y_pred)
    if mask is None or isinstance(mask, list):
        return sample_weight
    return apply_mask(sample_weight, mask, "sum")


def makes_masks(layers: Any) -> bool:
    """Whether any of ``layers`` creates a Keras mask (``Masking``, ``Embedding(mask_zero=True)``,
    a ``Lambda`` with ``mask=``, or a user layer with its own ``compute_mask``).

    A compiled (replayed) training step returns plain arrays, without the mask the metrics
    need, so a model that makes masks trains with the eager step (the same numbers).
    """
    for layer in layers:
        own = type(layer).compute_mask is not Layer.compute_mask
        if isinstance(layer, Masking) or getattr(layer, "mask_zero", False) or (
                getattr(layer, "mask", None) is not None and own) or (
                own and not type(layer).__module__.startswith("unafraid.")):
            return True
    return False
