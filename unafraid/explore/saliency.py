"""Saliency maps: how much each input pixel moves a class score, by reverse-mode autodiff."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from ..engine import Tensor, enable_grad, grad
from ..engine import ops as _ops

__all__ = ["saliency"]


def _accepts_training(model: Callable[..., Any]) -> bool:
    """Whether ``model`` can be called as ``model(x, training=False)``."""
    try:
        params = inspect.signature(model).parameters.values()
    except (TypeError, ValueError):  # builtins and some C callables have no signature
        return False
    return any(p.name == "training" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
               or p.kind is p.VAR_KEYWORD for p in params)


def _model_name(model: Any) -> str:
    return getattr(model, "name", None) or getattr(model, "__name__", None) or type(model).__name__


def _class_indices(class_index: Any, scores: np.ndarray) -> np.ndarray:
    n, c = scores.shape
    if class_index is None:
        return scores.argmax(axis=1).astype(np.int64)
    idx = np.asarray(class_index)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"class_index must be None, an int or an (N,) integer array, got "
                        f"{class_index!r} (dtype {idx.dtype}).")
    if idx.ndim == 0:
        idx = np.full(n, int(idx), dtype=np.int64)
    if idx.shape != (n,):
        raise ValueError(f"class_index has shape {idx.shape} but x holds {n} examples: pass one "
                         f"class per example (shape ({n},)), a single int, or None for the "
                         f"predicted classes.")
    if idx.size and (idx.min() < 0 or idx.max() >= c):
        raise ValueError(f"class_index holds values from {idx.min()} to {idx.max()}, but the "
                         f"model has {c} outputs (scores shape {scores.shape}); classes are "
                         f"0-based, in [0, {c}).")
    return idx.astype(np.int64)


def saliency(model: Callable[..., Any], x: Any, class_index: Any = None) -> np.ndarray:
    """Gradient of a class score with respect to the input (a vanilla saliency map).

    For each example ``n`` with chosen class ``c_n``::

        saliency[n] = d model(x)[n, c_n] / d x[n]

    computed in one backward pass of ``grad(lambda x: sum_n model(x)[n, c_n])``:
    examples do not interact in the forward pass (no batch statistics in
    inference mode), so the gradient of the sum with respect to ``x[n]`` is
    the gradient of example ``n``'s own score. Positive values mark pixels
    that, made brighter, raise the score; negative ones lower it.

    Parameters
    ----------
    model : callable
        Maps a Tensor of shape ``(N, ...)`` to a Tensor of shape ``(N, C)``
        (scores, logits or probabilities) using unafraid operations; a
        Keras-style unafraid model is such a callable. It is called as
        ``model(x, training=False)`` when it accepts ``training`` (so dropout
        is off), else ``model(x)``.
    x : (N, ...) array_like of float
        A batch of inputs, e.g. images ``(N, 28, 28)``. Integer data (uint8
        pixels) is converted to float32; float data keeps its dtype.
    class_index : None, int or (N,) array_like of int, optional
        Whose score to differentiate: ``None`` uses each example's predicted
        class (its argmax), an int the same class for all, an array one class
        per example (e.g. the true labels).

    Returns
    -------
    ndarray, same shape as ``x``
        float32 (float64 when ``x`` is float64, to keep the precision you
        asked for).

    Raises
    ------
    TypeError
        If the model does not return a Tensor computed from its input.
    ValueError
        If the output is not ``(N, C)`` or ``class_index`` does not fit it.

    Examples
    --------
    >>> import numpy as np, unafraid as uf
    >>> W = np.ones((4, 3), np.float32); b = np.zeros(3, np.float32)
    >>> model = lambda x: uf.linear(uf.reshape(x, (len(x), -1)), W, b)
    >>> saliency(model, np.zeros((2, 2, 2), np.float32), class_index=1).shape
    (2, 2, 2)
    """
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    if data.dtype.kind in "iub":
        data = data.astype(np.float32)
    elif data.dtype.kind != "f":
        raise TypeError(f"x must hold numbers (e.g. float32 images), got dtype {data.dtype}.")
    if data.ndim < 1 or data.shape[0] == 0:
        raise ValueError(f"x must be a non-empty batch (N, ...), got shape {data.shape}. For one "
                         f"image use x[None] (shape (1, ...)).")
    n = data.shape[0]
    call_with_training = _accepts_training(model)

    def selected_scores(xt: Tensor) -> tuple[Any, np.ndarray]:
        out = model(xt, training=False) if call_with_training else model(xt)
        if not isinstance(out, Tensor):
            raise TypeError(
                f"saliency: model {_model_name(model)!r} returned {type(out).__name__}, not a "
                f"Tensor, so no gradient can flow back to the input. Build it from unafraid "
                f"operations (uf.linear, uf.softmax, layers...), and do not call .numpy() or "
                f"model.predict inside it.")
        if not out.requires_grad:
            raise TypeError(
                f"saliency: the output of model {_model_name(model)!r} does not depend on its "
                f"input as far as the engine recorded, so its gradient would be all zeros. "
                f"Check that the model does not convert to NumPy (.numpy(), np.asarray) or "
                f"re-wrap values in a new Tensor.")
        if out.ndim != 2 or out.shape[0] != n:
            raise ValueError(f"saliency: model {_model_name(model)!r} must map x of shape "
                             f"{data.shape} to scores of shape ({n}, C), but returned shape "
                             f"{out.shape}.")
        cls = _class_indices(class_index, out.data)
        return _ops.sum(out[np.arange(n), cls]), cls

    with enable_grad():  # works even when called inside unafraid.no_grad()
        g, _ = grad(selected_scores, has_aux=True)(data)
    g = np.asarray(g)
    return g.astype(np.float64 if data.dtype == np.float64 else np.float32, copy=False)
