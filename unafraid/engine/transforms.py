"""Functional transforms in JAX's style: ``grad`` and ``value_and_grad``.

``grad(f)(params)`` differentiates ``f`` with respect to ``params``: an array,
a Tensor, or a nested dict / list / tuple of them (a model's weights). Arrays
become fresh leaf tensors; Tensors (model Variables) are differentiated as
they are, so a loss that closes over a model's weights works too.
"""

from __future__ import annotations

import functools
import operator
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .tensor import Tensor, as_array, backward_pass

_depth = threading.local()  # how many grad transforms are evaluating their function now


_NESTED = dict | list | tuple
_only = operator.itemgetter(0)  # rebuilds a single leaf: leaves[0]


def tree_flatten(tree: Any) -> tuple[list[Any], Callable[[list[Any]], Any]]:
    """Leaves of a nested dict/list/tuple, and a function that rebuilds the structure."""
    if isinstance(tree, dict):
        keys = list(tree)
        values = [tree[k] for k in keys]
    elif isinstance(tree, list | tuple):
        keys, values = None, tree
    else:
        return [tree], _only
    if keys is not None and not any(isinstance(v, _NESTED) for v in values):  # a flat dict
        return values, lambda leaves: dict(zip(keys, leaves, strict=True))
    parts = [tree_flatten(v) if isinstance(v, _NESTED) else ([v], _only) for v in values]
    sizes = [len(leaves) for leaves, _ in parts]

    def rebuild(leaves: list[Any]) -> Any:
        out, start = [], 0
        for (_, build), n in zip(parts, sizes, strict=True):
            out.append(build(leaves[start:start + n]))
            start += n
        if keys is not None:
            return dict(zip(keys, out, strict=True))
        return type(tree)(out) if not hasattr(tree, "_fields") else type(tree)(*out)

    return [leaf for leaves, _ in parts for leaf in leaves], rebuild


def as_leaf(x: Any, argnum: int, leaf: int | None = None) -> Tensor:
    """``x`` as a Tensor that requires grad (``leaf``: its place in a nested argument)."""
    a = x.data if isinstance(x, Tensor) else as_array(x)
    if a.dtype.kind not in "fc":
        where = f"argument {argnum}" + (f", leaf {leaf}" if leaf is not None else "")
        raise TypeError(f"Cannot differentiate with respect to {where}: it holds {a.dtype} "
                        f"data. Pass floating-point values (e.g. x.astype('float32')), or "
                        f"choose another argument with argnums=.")
    if isinstance(x, Tensor):
        return x if x.requires_grad else x.requires_grad_()
    t = Tensor.__new__(Tensor)  # made directly: a is an ndarray of floats already
    t.data, t.requires_grad = a, True
    return t


def value_and_grad(fun: Callable[..., Any], argnums: int | Sequence[int] = 0,
                   has_aux: bool = False) -> Callable[..., Any]:
    """Make a function that returns ``fun``'s value and its gradient.

    Parameters
    ----------
    fun : callable
        Returns a scalar (a one-element Tensor or array), or ``(scalar, aux)``
        when ``has_aux=True``.
    argnums : int or sequence of int, default 0
        Which positional arguments to differentiate with respect to.
    has_aux : bool, default False
        ``fun`` returns ``(value, aux)``; ``aux`` is passed through untouched.

    Returns
    -------
    callable
        ``(*args) -> (value, grads)``, or ``((value, aux), grads)`` with
        ``has_aux``. ``grads`` has the structure of the chosen argument(s)
        (a tuple of them when ``argnums`` is a sequence), as NumPy arrays.
        Inside another ``grad`` the gradients are Tensors instead, so that
        the outer transform can differentiate them (grad of grad).

    Examples
    --------
    >>> import numpy as np, unafraid as uf
    >>> f = lambda w: uf.sum(uf.tanh(w) ** 2)
    >>> value, g = uf.value_and_grad(f)(np.array([0.5, -1.0], np.float32))
    >>> g.shape
    (2,)
    """
    many = not isinstance(argnums, int)
    nums = tuple(argnums) if many else (argnums,)

    @functools.wraps(fun)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        outer = getattr(_depth, "n", 0) > 0  # an enclosing grad is tracing us
        args = list(args)
        leaves, builds = [], []
        for i in nums:
            if i >= len(args):
                raise TypeError(f"argnums={i} but the function got only {len(args)} positional "
                                f"arguments.")
            flat, build = tree_flatten(args[i])
            flat = [as_leaf(x, i, j if len(flat) > 1 else None) for j, x in enumerate(flat)]
            args[i] = build(flat)
            leaves.append(flat)
            builds.append(build)
        _depth.n = getattr(_depth, "n", 0) + 1
        try:
            result = fun(*args, **kwargs)
        finally:
            _depth.n -= 1
        value, aux = result if has_aux else (result, None)
        if not isinstance(value, Tensor):
            raise TypeError(
                f"{getattr(fun, '__name__', 'the function')} returned {type(value).__name__}, "
                f"not a Tensor computed from the arguments being differentiated, so it has "
                f"no gradient. Use unafraid functions (uf.sum, uf.tanh, ...) inside it.")
        if value.size != 1:
            raise ValueError(
                f"grad needs a function with a scalar output; got shape {value.shape}. "
                f"Reduce it (uf.sum or uf.mean), or use Tensor.backward(grad=...) to pass an "
                f"output gradient.")
        flat_wrt = [t for flat in leaves for t in flat]
        if value.requires_grad:
            grads = backward_pass([value], [None], flat_wrt, retain_graph=outer, create_graph=outer)
        else:
            grads = [None] * len(flat_wrt)
        grads = [_zeros_if_none(g, t, outer) for g, t in zip(grads, flat_wrt, strict=True)]
        out, start = [], 0
        for flat, build in zip(leaves, builds, strict=True):
            out.append(build(grads[start:start + len(flat)]))
            start += len(flat)
        grad_tree = tuple(out) if many else out[0]
        value = value if outer else value.data.reshape(()) if value.ndim else value.data
        return ((value, aux) if has_aux else value), grad_tree

    return wrapped


def _zeros_if_none(g: Any, t: Tensor, outer: bool) -> Any:
    if g is None:
        g = np.zeros_like(t.data)  # the output does not depend on this argument
    if outer:  # a constant gradient (of a linear f) is still a Tensor: its derivative is 0
        return g if isinstance(g, Tensor) else Tensor(g)
    return as_array(g)


def grad(fun: Callable[..., Any], argnums: int | Sequence[int] = 0,
         has_aux: bool = False) -> Callable[..., Any]:
    """Make a function that returns the gradient of scalar-valued ``fun``.

    Same arguments as :func:`value_and_grad`; returns ``grads`` (or
    ``(grads, aux)`` with ``has_aux``). Nest it for higher derivatives.

    Examples
    --------
    >>> import unafraid as uf
    >>> d2 = uf.grad(uf.grad(lambda x: uf.sum(uf.tanh(x))))
    >>> float(d2(0.5))  # -2 tanh(x) (1 - tanh(x)^2)
    -0.7349...
    """
    vg = value_and_grad(fun, argnums, has_aux)

    @functools.wraps(fun)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        value, g = vg(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return wrapped

