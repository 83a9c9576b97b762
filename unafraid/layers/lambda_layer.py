"""Lambda: wrap a Python function as a layer, for use within one Python process only.

A saved model file never holds code, so a model with a Lambda layer cannot be saved (saving
says so and names the layer) and a file can never make one: write a small Layer subclass
instead, or save the weights only (``model.save_weights``).
"""

from __future__ import annotations

import inspect
from typing import Any

from .base import Layer, input_batch


class Lambda(Layer):
    """Wraps ``function(inputs, **arguments)`` as a layer (Keras 3's ``Lambda``).

    Parameters
    ----------
    function : callable
        Called on the input Tensor (or list of Tensors); use unafraid's ops so that
        gradients flow, e.g. ``lambda x: x * 2`` or ``lambda x: unafraid.sum(x, axis=1)``.
        If it accepts ``mask=`` or ``training=``, they are passed.
    output_shape : tuple, callable or None
        The output shape without the batch axis, a function of the input shape, or None
        (found by running ``function`` on zeros).
    mask : callable, bool array or None
        The output mask: ``mask(inputs, previous_mask)``, or a fixed mask.
    arguments : dict, optional
        Extra keyword arguments for ``function``.

    Notes
    -----
    In-process only: ``model.save`` refuses a model holding a Lambda (a file never holds
    code), and no file can create one.

    Examples
    --------
    >>> import unafraid as tf
    >>> double = tf.keras.layers.Lambda(lambda x: x * 2)
    >>> double(tf.ones((1, 2))).numpy()
    array([[2., 2.]], dtype=float32)
    """

    def __init__(self, function: Any, output_shape: Any = None, mask: Any = None,
                 arguments: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda: function must be callable, got {type(function).__name__}.")
        self.function = function
        self.arguments = dict(arguments or {})
        self.mask = mask
        self.supports_masking = mask is not None
        self._output_shape = output_shape
        try:
            params = inspect.signature(function).parameters
        except (TypeError, ValueError):  # a builtin without a signature
            params = {}
        self._fn_expects_training_arg = "training" in params
        self._fn_expects_mask_arg = "mask" in params

    def call(self, inputs: Any, mask: Any = None, training: bool = False) -> Any:
        kwargs = dict(self.arguments)
        if self._fn_expects_mask_arg:
            kwargs["mask"] = mask
        if self._fn_expects_training_arg:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        if callable(self.mask):
            return self.mask(inputs, previous_mask)
        return self.mask

    def compute_output_shape(self, input_shape: Any) -> Any:
        if self._output_shape is None:
            return super().compute_output_shape(input_shape)
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        return (input_batch(input_shape), *self._output_shape)

    def get_config(self) -> dict[str, Any]:
        raise ValueError(
            f"Cannot save Lambda layer '{self.name}': a Lambda holds Python code, and unafraid's "
            f"model files never hold code (loading a file never runs any). Replace it with a "
            f"small Layer subclass whose call() does the same, or save the weights only with "
            f"model.save_weights(path) and re-create the model in code.")

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Lambda:
        raise ValueError("A Lambda layer cannot be created from a config: that would run code "
                         "from a file, which unafraid never does. Re-create it in code.")
