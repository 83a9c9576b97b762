"""VGG16 and VGG19 (Simonyan & Zisserman, 2015) as Keras 3 builds them (``keras/src/applications/
vgg16.py``, ``vgg19.py``): the same layers, names, arguments and order, so a ``.keras`` file of
Keras's model (ImageNet's weights included) loads into unafraid's.

Each block is ``n`` 3x3 convolutions (``padding='same'``, ReLU) and a 2x2 max pooling; the widths
are 64, 128, 256, 512, 512. VGG16 has 2, 2, 3, 3, 3 convolutions per block, VGG19 2, 2, 4, 4, 4.
The top is ``Flatten``, ``fc1`` and ``fc2`` (4096 units, ReLU) and ``predictions`` (``classes``
units, ``classifier_activation``).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ... import layers
from ...layers.base import KerasTensor
from ...models import Model

WIDTHS = (64, 128, 256, 512, 512)
DEPTHS = {"vgg16": (2, 2, 3, 3, 3), "vgg19": (2, 2, 4, 4, 4)}
IMAGENET_MEAN_BGR = (103.939, 116.779, 123.68)  # Keras's "caffe" preprocessing


def VGG16(include_top: bool = True, weights: str | os.PathLike | None = "imagenet",
          input_tensor: KerasTensor | None = None, input_shape: tuple[int, ...] | None = None,
          pooling: str | None = None, classes: int = 1000,
          classifier_activation: Any = "softmax", name: str = "vgg16") -> Model:
    """The VGG16 network (13 convolutions, 3 dense layers), Keras's ``VGG16``.

    Arguments as :func:`VGG19`.

    Examples
    --------
    >>> from unafraid.keras.applications import VGG16
    >>> model = VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    >>> model.output.shape
    (None, 1, 1, 512)
    """
    return _vgg("vgg16", include_top, weights, input_tensor, input_shape, pooling, classes,
                classifier_activation, name)


def VGG19(include_top: bool = True, weights: str | os.PathLike | None = "imagenet",
          input_tensor: KerasTensor | None = None, input_shape: tuple[int, ...] | None = None,
          pooling: str | None = None, classes: int = 1000,
          classifier_activation: Any = "softmax", name: str = "vgg19") -> Model:
    """The VGG19 network (16 convolutions, 3 dense layers), Keras's ``VGG19``.

    Layers, in order: ``block1_conv1``, ``block1_conv2``, ``block1_pool``, ... ``block5_conv4``,
    ``block5_pool``, then with ``include_top`` ``flatten``, ``fc1``, ``fc2``, ``predictions``.

    Parameters
    ----------
    include_top : bool, default True
        Whether to include the three dense layers at the top.
    weights : None, 'imagenet' or a path, default 'imagenet'
        ``None``: fresh weights (Keras's initializers, from unafraid's seed). ``'imagenet'`` is
        refused: unafraid ships no weights and downloads nothing. To use ImageNet's, save
        Keras's model where Keras can download them (``keras.applications.VGG19().save(
        "vgg19.keras")``) and pass that file here (``weights="vgg19.keras"``) or open it with
        ``unafraid.keras.models.load_model``. A path may also be a file of unafraid's own
        format (``model.save_weights``).
    input_tensor : KerasTensor, optional
        A symbolic tensor (``keras.Input(...)`` or a layer's output) to build the model on.
    input_shape : tuple, optional
        ``(height, width, channels)``, each side at least 32; default ``(224, 224, 3)``.
        Without the top, ``(None, None, 3)`` unless given.
    pooling : {None, 'avg', 'max'}
        Without the top: the output is the last block's feature maps ``(batch, h, w, 512)``, or
        their global average or maximum ``(batch, 512)``.
    classes : int, default 1000
    classifier_activation : default 'softmax'
        The activation of ``predictions`` (``None`` for logits).
    name : str, default 'vgg19'

    Returns
    -------
    Model
        A functional model: input ``(batch, *input_shape)`` float32 images (see
        :func:`preprocess_input`), output ``(batch, classes)`` probabilities with the top.

    Examples
    --------
    >>> import numpy as np
    >>> from unafraid.keras.applications import VGG19
    >>> model = VGG19(weights=None, input_shape=(32, 32, 3), classes=10)
    >>> [layer.name for layer in model.layers][:3]
    ['block1_conv1', 'block1_conv2', 'block1_pool']
    >>> model(np.zeros((1, 32, 32, 3), "float32")).shape
    (1, 10)
    """
    return _vgg("vgg19", include_top, weights, input_tensor, input_shape, pooling, classes,
                classifier_activation, name)


def _vgg(kind: str, include_top: bool, weights: Any, input_tensor: Any, input_shape: Any,
         pooling: Any, classes: int, classifier_activation: Any, name: str) -> Model:
    title = kind.upper()
    _check_weights(title, weights, include_top, classes)
    shape = _input_shape(title, input_shape, include_top)
    inputs = input_tensor if input_tensor is not None else layers.Input(shape=shape)
    if not isinstance(inputs, KerasTensor):
        raise TypeError(f"{title}: input_tensor must be a symbolic tensor (keras.Input(...) or a "
                        f"layer's output), got {type(inputs).__name__}.")
    x = inputs
    for block, (width, depth) in enumerate(zip(WIDTHS, DEPTHS[kind], strict=True), start=1):
        for i in range(1, depth + 1):
            x = layers.Conv2D(width, (3, 3), activation="relu", padding="same",
                              name=f"block{block}_conv{i}")(x)
        x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)
    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dense(4096, activation="relu", name="fc2")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D()(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D()(x)
    elif pooling is not None:
        raise ValueError(f"{title}: pooling must be None, 'avg' or 'max', got {pooling!r}.")
    model = Model(_source_inputs(inputs), x, name=name)
    if weights is not None:
        _load(model, os.fspath(weights), title)
    return model


def _check_weights(title: str, weights: Any, include_top: bool, classes: int) -> None:
    if weights == "imagenet":
        raise ValueError(
            f"{title}(weights='imagenet'): unafraid ships no pretrained weights and downloads "
            f"nothing. Use weights=None for the architecture with fresh weights, or bring "
            f"ImageNet's weights in a file: on a machine with Keras and internet, run "
            f"keras.applications.{title}().save('{title.lower()}.keras'), copy the file here and "
            f"pass weights='{title.lower()}.keras' (or open it with "
            f"unafraid.keras.models.load_model).")
    if weights is not None and not (isinstance(weights, str | os.PathLike)
                                    and os.path.isfile(weights)):
        raise ValueError(f"{title}: weights must be None, 'imagenet' or the path of an existing "
                         f"weights file, got {weights!r}.")
    if isinstance(classes, bool) or not isinstance(classes, int | np.integer) or classes < 1:
        raise ValueError(f"{title}: classes must be a positive integer, got {classes!r}.")


def _input_shape(title: str, input_shape: Any, include_top: bool) -> tuple[int | None, ...]:
    """Keras's ``obtain_input_shape`` for channels-last images, minimum side 32."""
    if input_shape is None:
        return (224, 224, 3) if include_top else (None, None, 3)
    shape = tuple(input_shape)
    if len(shape) != 3:
        raise ValueError(f"{title}: input_shape must be (height, width, channels), got {shape}.")
    if any(side is not None and side < 32 for side in shape[:2]):
        raise ValueError(f"{title}: input size must be at least 32x32; got input_shape={shape}.")
    if include_top and None in shape:
        raise ValueError(f"{title}: with include_top=True the input shape must be fully known "
                         f"(the dense layers' size depends on it); got input_shape={shape}.")
    return shape


def _source_inputs(t: KerasTensor) -> Any:
    """The model inputs ``t`` is computed from (Keras's ``get_source_inputs``)."""
    found: list[KerasTensor] = []
    stack = [t]
    while stack:
        current = stack.pop()
        args = current.node.args if current.node is not None else None
        if args is None:
            if all(current is not f for f in found):
                found.append(current)
            continue
        stack.extend(a for a in (args if isinstance(args, list | tuple) else [args])
                     if isinstance(a, KerasTensor))
    return found[0] if len(found) == 1 else found


def _load(model: Model, path: str, title: str) -> None:
    """Weights from a ``.keras`` file of the same architecture, or from unafraid's own format."""
    if not path.endswith(".keras"):
        model.load_weights(path)
        return
    from ...io.saving import load_model
    saved = load_model(path, compile=False)
    mine = [(w.name.split("/")[0], w.shape) for w in model.weights]
    theirs = [(w.name.split("/")[0], w.shape) for w in saved.weights]
    if [s for _, s in mine] != [s for _, s in theirs]:
        raise ValueError(f"{title}: the model in {path!r} is not this architecture: its weights have "
                         f"shapes {[s for _, s in theirs][:6]}..., this {title}'s "
                         f"{[s for _, s in mine][:6]}... Check include_top, classes and "
                         f"input_shape.")
    model.set_weights(saved.get_weights())


def preprocess_input(x: Any, data_format: str | None = None) -> np.ndarray:
    """Keras's VGG preprocessing ("caffe" mode): RGB to BGR, then each channel minus ImageNet's
    mean pixel ``(103.939, 116.779, 123.68)`` (BGR); no scaling.

    Parameters
    ----------
    x : (..., height, width, 3) array of RGB values in [0, 255]
    data_format : None or 'channels_last'

    Returns
    -------
    float32 array of the same shape (a new array: unlike Keras, ``x`` is not changed in place).
    """
    if data_format not in (None, "channels_last"):
        raise ValueError(f"preprocess_input: unafraid's images are channels_last, got "
                         f"data_format={data_format!r}.")
    a = np.asarray(getattr(x, "data", x))
    a = a.astype(a.dtype if a.dtype.kind == "f" else np.float32)
    if a.shape[-1] != 3:
        raise ValueError(f"preprocess_input expects RGB images (last axis 3), got shape {a.shape}.")
    return a[..., ::-1] - np.asarray(IMAGENET_MEAN_BGR, a.dtype)


def decode_predictions(preds: Any, top: int = 5) -> None:
    """Refused: ImageNet's class names are a download (``imagenet_class_index.json``)."""
    raise ValueError("decode_predictions needs ImageNet's class names, a file Keras downloads "
                     "(imagenet_class_index.json) and unafraid does not ship. Take the top "
                     "indices with np.argsort(preds, axis=-1)[:, ::-1][:, :top] and name them "
                     "from that file if you have it.")
