"""``explain``: print the backward pass as the chain-rule loop it is. For learners."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TextIO

import numpy as np

from .tensor import Tensor, _backward, _toposort
from .transforms import _as_leaf, tree_flatten


def explain(f: Callable[..., Any], *args: Any, file: TextIO | None = None) -> Any:
    """Run ``f(*args)``, then print its backward pass step by step.

    Each recorded operation is listed in the order backward visits it (the
    reverse of the forward order): its input and output shapes, which forward
    values it saved and now reuses, and the shape of the gradient it passes to
    each input. Then the real backward pass runs and the gradient norm of each
    differentiated leaf (the arguments and any model weights) is printed.

    Parameters
    ----------
    f : callable
        Returns a scalar Tensor (a loss).
    *args : array_like or Tensor
        Positional arguments; floating-point ones are differentiated.
    file : text stream, optional
        Where to print (standard output by default).

    Returns
    -------
    dict
        ``{leaf name: gradient array}``.

    Examples
    --------
    >>> import numpy as np, unafraid as uf
    >>> grads = uf.explain(lambda w: uf.sum(uf.tanh(w * 2.0)), np.ones(3, np.float32))
    ... # doctest: +SKIP
    """
    out = file or sys.stdout
    call_args = list(args)
    for i, a in enumerate(args):
        flat, build = tree_flatten(a)
        named = []
        for j, x in enumerate(flat):
            if isinstance(x, Tensor) or np.asarray(x).dtype.kind == "f":
                x = _as_leaf(x, f"argument {i}")
                if x.name is None:
                    x.name = f"arg{i}" + (f"[{j}]" if len(flat) > 1 else "")
            named.append(x)
        call_args[i] = build(named)
    y = f(*call_args)
    if not isinstance(y, Tensor) or not y.requires_grad:
        raise TypeError("explain: f must return a Tensor computed from differentiable inputs.")
    order = _toposort([y])
    ops = [t for t in order if t._ctx is not None]
    number = {id(t): k for k, t in enumerate(ops, 1)}
    leaves = [t for t in order if t._ctx is None and t.requires_grad]  # args and weights
    for k, t in enumerate(leaves):
        t.name = t.name or f"leaf{k}"

    def label(x: Any) -> str:
        if isinstance(x, Tensor) and x._ctx is not None:
            return f"#{number[id(x)]} {x._ctx.name}"
        if isinstance(x, Tensor) and x.requires_grad:
            return f"'{x.name}'"
        return "a constant"

    print(f"Forward pass recorded {len(ops)} operations. Backward applies the chain rule "
          f"in reverse,", file=out)
    print(f"starting from d(out)/d(out) = 1 for the output #{len(ops)} (shape {y.shape}):",
          file=out)
    for t in reversed(ops):
        ctx = t._ctx
        ins = ", ".join(_shape_of(x) for x in ctx.inputs)
        print(f"  #{number[id(t)]:<3} {ctx.name:<22} ({ins}) -> {t.shape}", file=out)
        reuse = _describe_saved(ctx, t)
        print(f"       reuses {reuse}", file=out)
        targets = [f"{x.shape} to {label(x)}" for x, need in zip(ctx.inputs, ctx.needs,
                                                                  strict=True) if need]
        print(f"       passes grad {'; '.join(targets)}", file=out)
    grads = _backward([y], [None], leaves)
    print("Gradients accumulated at the leaves:", file=out)
    result = {}
    for leaf, g in zip(leaves, grads, strict=True):
        norm = 0.0 if g is None else float(np.linalg.norm(g))
        print(f"  {leaf.name:<24} shape {leaf.shape}  |grad| = {norm:.4g}", file=out)
        result[leaf.name] = g
    return result


def _shape_of(x: Any) -> str:
    return str(np.shape(x.data if isinstance(x, Tensor) else x))


def _describe_saved(ctx: Any, out: Tensor) -> str:
    parts = []
    raw_inputs = [x.data if isinstance(x, Tensor) else x for x in ctx.inputs]
    for s in ctx.saved:
        s = s.data if isinstance(s, Tensor) else s
        if not isinstance(s, np.ndarray):
            continue  # shapes and flags, not values
        if s is out.data:
            parts.append(f"its output {s.shape}")
        elif any(s is r for r in raw_inputs):
            k = next(k for k, r in enumerate(raw_inputs) if s is r)
            parts.append(f"input {k} {s.shape}")
        else:
            parts.append(f"a forward intermediate {s.shape}")
    return ", ".join(parts) if parts else "no forward values (only shapes)"
