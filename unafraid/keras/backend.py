"""``tf.keras.backend``: the few functions tutorials call."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine.scopes import name_scope  # noqa: F401  (keras.backend.name_scope)
from ..layers import channels
from ..layers.base import reset_names


def clear_session() -> None:
    """Reset layer names (``dense``, ``dense_1``...) so a fresh model starts at ``dense`` again."""
    reset_names()


def floatx() -> str:
    """The default float type: ``'float32'``."""
    return "float32"


def set_floatx(value: str) -> None:
    """Keras's ``backend.set_floatx``: unafraid computes in float32 only, so ``'float32'`` is
    accepted (nothing changes) and any other type is refused."""
    if value != "float32":
        raise ValueError(f"set_floatx({value!r}): unafraid computes in float32 only (its one float "
                         f"type on the CPU); leave floatx at 'float32', or cast the inputs you "
                         f"need in another type yourself (np.asarray(x, 'float64')).")


def epsilon() -> float:
    """The fuzz factor used in losses and metrics: ``1e-7``."""
    return 1e-7


def get_value(x: Any) -> Any:
    """tf.keras 2's ``backend.get_value``: the value of a Variable, Tensor or number as NumPy."""
    return x.numpy() if hasattr(x, "numpy") else np.asarray(x)


def set_value(x: Any, value: Any) -> None:
    """tf.keras 2's ``backend.set_value``: ``x.assign(value)`` (a Variable, or an optimizer's
    ``learning_rate``)."""
    if not hasattr(x, "assign"):
        raise TypeError(f"set_value needs a Variable (or optimizer.learning_rate), got "
                        f"{type(x).__name__} {x!r}; assign to it directly instead.")
    x.assign(value)


def std(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """tf.keras 2's ``backend.std``: the standard deviation (``tf.math.reduce_std``), with its
    gradient."""
    from ..tf_ops import reduce_std
    return reduce_std(x, axis=axis, keepdims=keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """tf.keras 2's ``backend.mean`` (``tf.reduce_mean``)."""
    from ..tf_ops import reduce_mean
    return reduce_mean(x, axis=axis, keepdims=keepdims)


def random_normal(shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None,
                  seed: Any = None) -> Any:
    """tf.keras 2's ``backend.random_normal``: ``keras.random.normal`` (seeded from the library's
    seed unless ``seed`` is given). ``shape`` may hold scalar Tensors (``tf.shape(x)[0]``)."""
    from .random import normal
    return normal(tuple(int(d) for d in shape), mean=mean, stddev=stddev, dtype=dtype, seed=seed)


def image_data_format() -> str:
    """Where image layers expect the channels axis by default: ``'channels_last'`` (Keras's default),
    unless :func:`set_image_data_format` changed it."""
    return channels.image_data_format()


def set_image_data_format(data_format: str) -> None:
    """Set what ``data_format=None`` means for the image layers made afterwards:
    ``'channels_last'`` (Keras's default) or ``'channels_first'``.

    Examples
    --------
    >>> from unafraid.keras import backend
    >>> backend.set_image_data_format("channels_first")
    >>> backend.image_data_format()
    'channels_first'
    >>> backend.set_image_data_format("channels_last")
    """
    channels.set_image_data_format(data_format)


def Variable(initializer: Any, shape: Any = None, dtype: Any = None, trainable: bool = True,  # noqa: N802
             autocast: bool = True, aggregation: str = "none", synchronization: str = "auto",
             name: str | None = None) -> Any:
    """Keras 3's ``keras.Variable``: a value (array) or an initializer (a name or callable) with ``shape``.

    Parameters
    ----------
    initializer : array_like, str or callable
        The first value, or an initializer such as ``"zeros"`` / ``keras.initializers.Ones()``
        called with ``shape`` and ``dtype``.
    shape : tuple of int, optional
        Needed when ``initializer`` is not a value.
    dtype : dtype, optional (default float32 for Python floats)
    trainable : bool, default True
    autocast, aggregation, synchronization : accepted for Keras compatibility (one device, no
        mixed precision).
    name : str, optional
        Keras 3's default is ``'variable'`` (tf.Variable's is ``'Variable'``).

    Returns
    -------
    unafraid.Variable

    Examples
    --------
    >>> from unafraid.keras import backend
    >>> backend.Variable("ones", shape=(2,)).numpy()
    array([1., 1.], dtype=float32)
    """
    from .. import initializers
    from ..tf_ops import Variable as TfVariable

    if isinstance(initializer, str) or (callable(initializer) and shape is not None):
        if shape is None:
            raise ValueError(f"Variable: initializer={initializer!r} needs shape=, e.g. shape=(3,).")
        value = initializers.get(initializer)(tuple(shape), dtype or "float32")
    else:
        value = initializer
    return TfVariable(value, trainable=trainable, name=name or "variable", dtype=dtype)


def get_keras_mask(x: Any) -> Any:
    """Keras 3's ``backend.get_keras_mask``: the mask a tensor carries (``x._keras_mask``), or None.

    Examples
    --------
    >>> import numpy as np
    >>> from unafraid import layers
    >>> from unafraid.keras import backend
    >>> out = layers.Masking()(np.array([[[0.0], [1.0]]]))
    >>> backend.get_keras_mask(out).numpy()
    array([[False,  True]])
    """
    return getattr(x, "_keras_mask", None)


def set_keras_mask(x: Any, mask: Any) -> None:
    """Keras 3's ``backend.set_keras_mask``: attach ``mask`` (``(batch, steps)`` booleans) to ``x``."""
    x._keras_mask = mask
