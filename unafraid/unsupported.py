"""What to say when TensorFlow or Keras code asks for a name unafraid does not have.

``import unafraid as tf`` runs tf.keras tutorials; code that goes beyond them meets names
unafraid lacks. The modules' ``__getattr__`` (called by Python only for names that do not
exist) raise :func:`missing_name_error`, which says whether unafraid has the same thing under
another name, or that it is not supported and what to use instead. A name added to unafraid
later is found before ``__getattr__`` runs, so an entry here never hides a real name.

Each table maps a name to advice; advice starting with ``=`` names unafraid's equivalent.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["missing_name_error", "TF_NAMES", "KERAS_LAYERS", "KERAS_NAMES"]

_DTYPE = ("=a NumPy dtype: unafraid takes dtypes as NumPy does, e.g. dtype='{name}' or "
          "numpy.{name}")
_NUMPY = "not in unafraid's tf namespace: model outputs are NumPy arrays, so use numpy.{np}"

TF_NAMES: dict[str, str] = {
    **{d: _DTYPE for d in ("float16", "float32", "float64", "int8", "int16", "int32", "int64",
                           "uint8", "bool")},
    "reduce_sum": "=unafraid.sum", "reduce_mean": "=unafraid.mean", "reduce_max": "=unafraid.max",
    "reduce_min": "=unafraid.min", "reduce_logsumexp": "=unafraid.logsumexp",
    "reduce_std": "=unafraid.std", "reduce_variance": "=unafraid.var",
    "concat": "=unafraid.concatenate", "square": "=unafraid.power(x, 2) (or x * x)",
    "gather": "=unafraid.getitem(x, indices) (or x[indices])",
    "argmax": _NUMPY.replace("{np}", "argmax(x, axis=...)"),
    "argmin": _NUMPY.replace("{np}", "argmin(x, axis=...)"),
    "shape": _NUMPY.replace("{np}", "shape(x) (or x.shape)"),
    "range": _NUMPY.replace("{np}", "arange"), "fill": _NUMPY.replace("{np}", "full"),
    "eye": _NUMPY.replace("{np}", "eye"), "ones_like": _NUMPY.replace("{np}", "ones_like"),
    "zeros_like": _NUMPY.replace("{np}", "zeros_like"), "tile": _NUMPY.replace("{np}", "tile"),
    "linalg": _NUMPY.replace("{np}", "linalg"),
    "GradientTape": ("not supported in this version. Differentiate a function instead: "
                     "`loss, grads = unafraid.value_and_grad(loss_fn)(model.trainable_weights, x, y)`"
                     " then `optimizer.apply(grads, model.trainable_weights)` (docs/models.md, "
                     "'Custom training loops')"),
    "function": ("not needed: unafraid runs eagerly and compiles nothing; call the Python "
                 "function directly (remove the @tf.function decorator)"),
    "data": ("tf.data is not supported in this version: pass NumPy arrays to "
             "model.fit(x, y, batch_size=..., shuffle=True)"),
    "config": ("not needed: unafraid runs on the CPU with NumPy, there are no devices to "
               "configure; for BLAS threads use threadpoolctl (see README, 'On a shared or busy "
               "machine')"),
    "device": "not needed: unafraid runs on the CPU with NumPy; remove the `with tf.device(...)`",
    "distribute": "not supported: unafraid trains on one CPU",
    "saved_model": ("not supported: save with model.save('model.keras') and load with "
                    "unafraid.keras.models.load_model"),
    "summary": ("TensorBoard summaries are not supported: model.fit returns a History (with "
                ".plot()); tf.keras.callbacks.CSVLogger writes the metrics to a file"),
    "lite": "not supported: unafraid has no TensorFlow Lite converter",
    "print": "not needed: unafraid runs eagerly, so Python's print shows values",
}

_RNN = ("not supported: unafraid's recurrent layers are SimpleRNN, LSTM, GRU and Bidirectional "
        "(docs/recurrent.md); for other recurrent layers use Keras or PyTorch")
_IN_A_LATER_VERSION = "not in this version of unafraid"
_ACTIVATION_LAYER = ("=unafraid.keras.layers.Activation('{act}') (or Dense(..., "
                     "activation='{act}'))")

KERAS_LAYERS: dict[str, str] = {
    **{n: _RNN for n in ("RNN", "ConvLSTM2D",
                         "LSTMCell", "GRUCell", "SimpleRNNCell", "TimeDistributed")},
    **{n: f"{_IN_A_LATER_VERSION}: convolutional layers are being added" for n in (
        "Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose", "SeparableConv2D", "DepthwiseConv2D",
        "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D",
        "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling2D",
        "UpSampling2D", "ZeroPadding2D", "Cropping2D")},
    "LeakyReLU": _ACTIVATION_LAYER.replace("{act}", "leaky_relu"),
    "Attention": "not supported: unafraid has no attention layers",
    "MultiHeadAttention": "not supported: unafraid has no attention layers",
    "Rescaling": "not needed: scale the NumPy array before fit, e.g. x / 255.0",
    "Normalization": ("not supported: standardise the NumPy array before fit "
                      "(sklearn.preprocessing.StandardScaler, or (x - mean) / std)"),
    "SpatialDropout2D": "not supported: use Dropout",
}

KERAS_NAMES: dict[str, str] = {
    "mixed_precision": "not needed: unafraid computes in float32 on the CPU",
}


def _advice(table: dict[str, str], name: str) -> tuple[str | None, str | None]:
    """(unafraid's equivalent, or None; the advice, or None when the table has no entry)."""
    text = table.get(name)
    if text is None:
        return None, None
    text = text.replace("{name}", name)
    return (text[1:], None) if text.startswith("=") else (None, text)


def missing_name_error(module: str, name: str, available: Iterable[str] = (),
                       table: dict[str, str] | None = None) -> AttributeError:
    """The AttributeError for ``module.name``: the equivalent, or why not and what instead.

    Parameters
    ----------
    module : str
        The module asked, as the user wrote it (``"unafraid"``, ``"unafraid.keras.layers"``).
    name : str
        The missing attribute.
    available : iterable of str
        The module's public names, for "did you mean" suggestions.
    table : dict, optional
        Advice per name (:data:`TF_NAMES` or :data:`KERAS_LAYERS`).

    Examples
    --------
    >>> str(missing_name_error("unafraid", "reduce_sum", table=TF_NAMES))
    "module 'unafraid' has no attribute 'reduce_sum'; unafraid's equivalent is unafraid.sum."
    """
    head = f"module {module!r} has no attribute {name!r}"
    if name.startswith("_"):
        return AttributeError(head)
    equivalent, advice = _advice(table or {}, name)
    if equivalent is not None:
        return AttributeError(f"{head}; unafraid's equivalent is {equivalent}.")
    if advice is not None:
        return AttributeError(f"{head}: {advice}.")
    close = difflib.get_close_matches(name, sorted(set(available)), n=3, cutoff=0.75)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return AttributeError(f"{head}: unafraid does not provide it (it covers tf.keras and the "
                          f"names listed in {module}.__all__).{hint}")
