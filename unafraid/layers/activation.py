"""Activation layers with their own arguments (Keras 3): LeakyReLU, used by TensorFlow's DCGAN tutorial."""

from __future__ import annotations

from typing import Any

from ..engine import ops
from ..engine.tensor import Tensor
from .base import Layer


class LeakyReLU(Layer):
    """``x`` where ``x > 0``, else ``negative_slope * x``.

    Parameters
    ----------
    negative_slope : float, default 0.3
        Keras 3's default (``activation="leaky_relu"`` uses 0.2). tf.keras 2's ``alpha=`` is
        accepted as the same argument.

    Examples
    --------
    >>> import unafraid as tf
    >>> tf.keras.layers.LeakyReLU()(tf.constant([[-1.0, 2.0]])).numpy()
    array([[-0.3,  2. ]], dtype=float32)
    """

    def __init__(self, negative_slope: float = 0.3, **kwargs: Any) -> None:
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
        super().__init__(**kwargs)
        if isinstance(negative_slope, bool) or not isinstance(negative_slope, int | float) or \
                negative_slope < 0:
            raise ValueError(f"LeakyReLU: negative_slope must be a number >= 0, got "
                             f"{negative_slope!r}.")
        self.negative_slope = float(negative_slope)

    def call(self, inputs: Tensor) -> Tensor:
        return ops.leaky_relu(inputs, negative_slope=self.negative_slope)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "negative_slope": self.negative_slope}
