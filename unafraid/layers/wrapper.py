"""Layers that wrap another layer (Keras's ``Wrapper``), and ``SpectralNormalization``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import initializers
from ..engine.tensor import Tensor, keep_eager
from .base import Layer
from .serialization import deserialize, serialize


class Wrapper(Layer):
    """Keras's abstract base of layers that wrap another layer (``layer``) and change what it does.

    A subclass writes ``call``; the wrapped layer is built with the wrapper, its weights are the
    wrapper's too, and the config holds it as ``layers.serialize`` gives it.

    Parameters
    ----------
    layer : Layer
        The layer to wrap.

    Examples
    --------
    >>> import numpy as np
    >>> from unafraid import layers
    >>> class Doubled(layers.Wrapper):
    ...     def call(self, inputs):
    ...         return 2 * self.layer(inputs)
    >>> Doubled(layers.Dense(2, kernel_initializer="ones"))(np.ones((1, 3))).numpy()
    array([[6., 6.]], dtype=float32)
    """

    def __init__(self, layer: Layer, **kwargs: Any) -> None:
        if not isinstance(layer, Layer):
            raise ValueError(f"Layer {layer!r} supplied to Wrapper isn't a supported layer type. "
                             f"Please ensure wrapped layer is a valid Keras layer. "
                             f"{type(self).__name__} needs a layer object, such as Dense(2).")
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape: Any = None) -> None:
        if not self.layer.built:
            self.layer.build(input_shape)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return self.layer.compute_output_shape(input_shape)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "layer": serialize(self.layer)}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Layer:
        config = dict(config)
        return cls(deserialize(config.pop("layer"), custom_objects), **config)


class SpectralNormalization(Wrapper):
    """Keeps the spectral norm (largest singular value) of a layer's kernel at 1 (Miyato et al.,
    2018, "Spectral Normalization for Generative Adversarial Networks"), as Keras 3 does.

    The kernel (``kernel``, or ``embeddings`` for Embedding) is seen as a matrix
    ``W`` of shape ``(m, n)``, its last axis the columns. In each training call, ``power_iterations``
    steps of the power method refine ``u`` (a non-trainable ``(1, n)`` weight, kept between calls)::

        v = normalize(u W^T),   u = normalize(v W),   sigma = v W u^T

    (``normalize(x) = x min(1 / ||x||, 1e7)``), then ``u`` is stored and the kernel is replaced in
    place by ``W / sigma`` before the wrapped layer runs. Outside training the layer runs with the
    kernel as it is. As in Keras, an all-zero kernel is left alone.

    Parameters
    ----------
    layer : Layer
        A layer with a ``kernel`` (Dense, Conv*) or ``embeddings`` (Embedding) weight.
    power_iterations : int, default 1
        Power-method steps per training call.

    Shapes
    ------
    Those of the wrapped layer; weights: the wrapped layer's plus ``vector_u`` ``(1, n)``.

    Examples
    --------
    >>> import numpy as np
    >>> from unafraid import layers
    >>> sn = layers.SpectralNormalization(layers.Dense(1, kernel_initializer="ones", use_bias=False),
    ...                                   power_iterations=8)
    >>> sn(np.ones((1, 4)), training=True).numpy()  # W = ones(4, 1): sigma = 2
    array([[2.]], dtype=float32)
    """

    def __init__(self, layer: Layer, power_iterations: int = 1, **kwargs: Any) -> None:
        super().__init__(layer, **kwargs)
        if isinstance(power_iterations, bool) or not isinstance(power_iterations, int | np.integer) \
                or power_iterations <= 0:
            raise ValueError(f"`power_iterations` should be greater than zero. Received: "
                             f"`power_iterations={power_iterations}`. SpectralNormalization "
                             f"'{self.name}': give a positive integer, e.g. 1.")
        self.power_iterations = int(power_iterations)

    @property
    def kernel(self) -> Any:
        """The wrapped layer's kernel (or embeddings), which training rescales in place."""
        for name in ("kernel", "embeddings"):
            weight = getattr(self.layer, name, None)
            if weight is not None:
                return weight
        raise ValueError(f"{type(self.layer).__name__} object has no attribute 'kernel' nor "
                         f"'embeddings': SpectralNormalization '{self.name}' wraps a layer with a "
                         f"kernel (Dense, Conv2D, ...) or an Embedding.")

    def build(self, input_shape: Any = None) -> None:
        super().build(input_shape)
        kernel = self.kernel
        self.vector_u = self.add_weight((1, kernel.shape[-1]),
                                        initializers.TruncatedNormal(stddev=0.02),
                                        dtype=str(kernel.dtype), trainable=False, name="vector_u")

    def call(self, inputs: Tensor, training: bool = False) -> Any:
        if training and np.any(self.kernel.data != 0):
            keep_eager(f"SpectralNormalization '{self.name}' rescales its kernel in place, "
                       f"outside the recorded ops")
            vector_u, kernel = self.normalized_weights()
            self.vector_u.assign(vector_u)
            self.kernel.assign(kernel)
        return self.layer(inputs)

    def normalized_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """The next ``u`` and the kernel divided by its estimated spectral norm (NumPy arrays)."""
        kernel = self.kernel.data
        weights = kernel.reshape(-1, kernel.shape[-1])
        vector_u = self.vector_u.data
        for _ in range(self.power_iterations):
            vector_v = _l2_normalize(vector_u @ weights.T)
            vector_u = _l2_normalize(vector_v @ weights)
        sigma = (vector_v @ weights) @ vector_u.T
        return vector_u.astype(self.vector_u.dtype), (kernel / sigma).astype(kernel.dtype)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "power_iterations": self.power_iterations}


def _l2_normalize(x: np.ndarray, epsilon: float = 1e-7) -> np.ndarray:
    """``x / ||x||`` over all entries, the inverse norm capped at ``1 / epsilon`` (Keras's
    ``ops.normalize(x, axis=None)``)."""
    with np.errstate(divide="ignore"):
        return x * np.minimum(1.0 / np.sqrt(np.sum(np.square(x))), 1.0 / epsilon).astype(x.dtype)
