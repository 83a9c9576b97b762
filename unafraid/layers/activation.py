"""Activation layers with their own arguments (Keras 3): ReLU, LeakyReLU, PReLU, ELU."""

from __future__ import annotations

from typing import Any

from .. import activations, constraints, initializers, regularizers
from ..engine import ops
from ..engine.tensor import Tensor
from .base import Layer


def _check_at_least_zero(layer: str, arg: str, value: Any, none_ok: bool = False) -> Any:
    """``value`` as a float (or None where allowed); Keras's ValueError when negative or None."""
    if value is None and none_ok:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"{arg} of a {layer} layer cannot be "
                         f"{'a' if none_ok else 'None or a'} negative value. Received: "
                         f"{arg}={value!r}. Use a number >= 0.")
    return float(value)


class ReLU(Layer):
    """Rectified linear unit with Keras 3's options (see ``unafraid.activations.relu``)::

        f(x) = min(x, max_value)            for x > threshold
        f(x) = negative_slope (x - threshold)  otherwise

    Parameters
    ----------
    max_value : float >= 0, optional
        Saturation value; None means unlimited.
    negative_slope : float >= 0, default 0.0
    threshold : float >= 0, default 0.0

    Examples
    --------
    >>> import numpy as np, unafraid as tf
    >>> tf.keras.layers.ReLU(max_value=10, negative_slope=0.5)(np.array([-10.0, 5.0])).numpy()
    array([-5.,  5.])
    """

    supports_masking = True

    def __init__(self, max_value: float | None = None, negative_slope: float = 0.0,
                 threshold: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_value = _check_at_least_zero("ReLU", "max_value", max_value, none_ok=True)
        self.negative_slope = _check_at_least_zero("ReLU", "negative_slope", negative_slope)
        self.threshold = _check_at_least_zero("ReLU", "threshold", threshold)

    def call(self, inputs: Tensor) -> Tensor:
        return activations.relu(inputs, negative_slope=self.negative_slope,
                                max_value=self.max_value, threshold=self.threshold)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "max_value": self.max_value,
                "negative_slope": self.negative_slope, "threshold": self.threshold}


class ELU(Layer):
    """Exponential linear unit: ``x`` for ``x > 0``, else ``alpha (exp(x) - 1)``.

    Parameters
    ----------
    alpha : float, default 1.0
    """

    supports_masking = True

    def __init__(self, alpha: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(alpha, bool) or not isinstance(alpha, int | float):
            raise ValueError(f"ELU: alpha must be a number, got {alpha!r}.")
        self.alpha = float(alpha)

    def call(self, inputs: Tensor) -> Tensor:
        return activations.elu(inputs, alpha=self.alpha)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "alpha": self.alpha}


class PReLU(Layer):
    """Parametric ReLU (He et al., 2015): ``x`` for ``x >= 0``, else ``alpha * x``, with ``alpha``
    a learned weight of the input's shape (less the batch axis), computed as Keras 3 does::

        f(x) = relu(x) - alpha * relu(-x)

    Parameters
    ----------
    alpha_initializer : default 'zeros'
    alpha_regularizer, alpha_constraint : optional
    shared_axes : int or list of int, optional
        Axes (1 = the first after the batch) along which one ``alpha`` is shared, e.g.
        ``[1, 2]`` for one slope per channel of ``(batch, height, width, channels)`` images.

    Examples
    --------
    >>> import unafraid as tf
    >>> layer = tf.keras.layers.PReLU(alpha_initializer=tf.keras.initializers.Constant(0.25))
    >>> layer(tf.constant([[-2.0, 3.0]])).numpy()
    array([[-0.5,  3. ]], dtype=float32)
    """

    supports_masking = True

    def __init__(self, alpha_initializer: Any = "zeros", alpha_regularizer: Any = None,
                 alpha_constraint: Any = None, shared_axes: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        else:
            axes = list(shared_axes) if isinstance(shared_axes, list | tuple) else [shared_axes]
            if any(isinstance(a, bool) or not isinstance(a, int) or a < 1 for a in axes):
                raise ValueError(f"PReLU: shared_axes must be axes >= 1 (axis 0 is the batch), got "
                                 f"{shared_axes!r}.")
            self.shared_axes = axes

    def build(self, input_shape: tuple[int, ...]) -> None:
        shape = list(input_shape[1:])
        for axis in self.shared_axes or ():
            if axis > len(shape):
                raise ValueError(f"PReLU '{self.name}': shared axis {axis} does not exist in "
                                 f"inputs of shape {tuple(input_shape)}.")
            shape[axis - 1] = 1
        if any(n is None for n in shape):
            raise ValueError(f"PReLU '{self.name}' needs known sizes for its non-shared axes; got "
                             f"input shape {tuple(input_shape)}. Share the unknown axes "
                             f"(shared_axes=...).")
        self.alpha = self.add_weight(tuple(shape), self.alpha_initializer, name="alpha",
                                     regularizer=self.alpha_regularizer,
                                     constraint=self.alpha_constraint)

    def call(self, inputs: Tensor) -> Tensor:
        return ops.subtract(ops.relu(inputs),
                            ops.multiply(self.alpha, ops.relu(ops.negative(inputs))))

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(),
                "alpha_initializer": initializers.serialize(self.alpha_initializer),
                "alpha_regularizer": regularizers.serialize(self.alpha_regularizer),
                "alpha_constraint": constraints.serialize(self.alpha_constraint),
                "shared_axes": self.shared_axes}


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

    supports_masking = True

    def __init__(self, negative_slope: float = 0.3, **kwargs: Any) -> None:
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
        super().__init__(**kwargs)
        if negative_slope is None:
            raise ValueError("The negative_slope value of a Leaky ReLU layer cannot be None. "
                             "Use a number >= 0 (Keras 3's default is 0.3).")
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
