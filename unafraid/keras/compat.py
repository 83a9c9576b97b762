"""``keras.compat``: tf.keras 2 names kept for compatibility (see :mod:`unafraid.compat`)."""

from ..compat import CompiledLoss, CompiledMetrics, added_metrics

__all__ = ["CompiledLoss", "CompiledMetrics", "added_metrics"]
