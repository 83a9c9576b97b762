"""tf.keras 2 names that Keras 3 removed, kept as thin shims so that older guides run.

- ``model.compiled_loss(y, y_pred, sample_weight=None, regularization_losses=None)``: the
  compiled loss(es) of the model (times ``loss_weights``) plus the given regularization
  losses; it also updates the ``loss`` entry of ``model.metrics``, as tf.keras 2 did.
- ``model.compiled_metrics.update_state(y, y_pred, sample_weight=None)``: update the
  compiled metrics; ``.metrics`` lists them, ``.reset_state()`` clears them.
- ``layer.add_metric(value, name=...)`` (in ``unafraid.layers.base``) and
  :func:`added_metrics`, the metrics it made.

``unafraid.keras.compat`` re-exports these names (``keras.compat.CompiledLoss``...).
Keras 3 code calls ``self.compute_loss(x, y, y_pred, sample_weight)`` and
``self.compute_metrics(x, y, y_pred, sample_weight)`` instead; both exist too.
"""

from __future__ import annotations

from typing import Any

from .engine import ops
from .engine.tensor import Tensor
from .layers.base import added_metrics

__all__ = ["CompiledLoss", "CompiledMetrics", "added_metrics"]


def _check_compiled(model: Any, what: str) -> None:
    if not getattr(model, "compiled", False):
        raise RuntimeError(f"Model '{model.name}' has no {what} yet: call model.compile(...) "
                           f"first (tf.keras 2's {what} wraps what compile was given).")


class CompiledLoss:
    """tf.keras 2's ``model.compiled_loss``: a callable over the compiled loss(es).

    ``compiled_loss(y, y_pred, sample_weight=None, regularization_losses=None)`` returns a
    scalar Tensor (differentiable): the sum over outputs of ``loss_weight * loss(y, y_pred,
    sample_weight)``, plus ``sum(regularization_losses)`` when given (tf.keras 2 adds the
    model's ``losses`` only when they are passed there). Each call also adds the total to the
    ``loss`` entry of ``model.metrics``.
    """

    def __init__(self, model: Any) -> None:
        _check_compiled(model, "compiled_loss")
        self.model = model

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None,
                 regularization_losses: list[Any] | None = None) -> Tensor:
        model = self.model
        # compute_loss is Keras 3's total: compiled losses plus model.losses; tf.keras 2's total
        # has only the regularization losses it is given, so model.losses are taken back out
        total = model.compute_loss(None, y_true, y_pred, sample_weight)
        for penalty in model.losses:
            total = ops.subtract(total, penalty)
        for penalty in regularization_losses or []:
            total = ops.add(total, penalty)
        tracker = model.metrics[0]  # Keras's loss tracker, named 'loss', first in model.metrics
        tracker.update_state([float(total.data)])
        return total


class CompiledMetrics:
    """tf.keras 2's ``model.compiled_metrics``: the metrics given to ``compile``."""

    def __init__(self, model: Any) -> None:
        _check_compiled(model, "compiled_metrics")
        self.model = model

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Update every compiled metric with one batch."""
        self.model.compute_metrics(None, y_true, y_pred, sample_weight)

    @property
    def metrics(self) -> list[Any]:
        """The compiled metrics (``model.metrics`` without the loss tracker and the metrics of
        ``add_metric``)."""
        added = {id(m) for m in added_metrics(self.model)}
        return [m for m in self.model.metrics[1:] if id(m) not in added]

    def result(self) -> dict[str, float]:
        return {m.name: float(m.result()) for m in self.metrics}

    def reset_state(self) -> None:
        for m in self.metrics:
            m.reset_state()
