"""``explain``: print the backward pass as the chain-rule loop it is. For learners."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TextIO

import numpy as np

from .tensor import Tensor, backward_pass, toposort
from .transforms import as_leaf, tree_flatten


def explain(f: Callable[..., Any], *args: Any, file: TextIO | None = None) -> dict[str, np.ndarray]:
    """Run ``f(*args)``, then print its forward and backward passes step by step.

    First the recorded operations are listed in the order they ran, each with
    its inputs and output shape. Then they are listed again in the order
    backward visits them (the reverse): which forward values each one saved
    and now reuses, and the gradients it sends to its inputs. Finally the real
    backward pass runs and the gradient of every differentiated leaf (the
    floating-point arguments and any model weights, such as ``Variable``) is
    summarised by its norm.

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
        ``{leaf name: gradient array}``; the same gradients ``value_and_grad`` gives.
        Leaves are named by their ``name`` (``'dense/kernel'``), or ``'arg0'``,
        ``'arg1[2]'``, ... for unnamed arguments.

    Examples
    --------
    >>> import numpy as np, unafraid as uf
    >>> grads = uf.explain(lambda w: uf.sum(uf.tanh(w * 2.0)), np.ones(3, np.float32))
    ... # doctest: +SKIP
    """
    out = file or sys.stdout
    names: dict[int, str] = {}  # id(tensor) -> how it is called in the printout
    call_args = list(args)
    for i, a in enumerate(args):
        flat, build = tree_flatten(a)
        leaves_i = []
        for j, x in enumerate(flat):
            if isinstance(x, Tensor) or np.asarray(x).dtype.kind == "f":
                x = as_leaf(x, i, j if len(flat) > 1 else None)
                names[id(x)] = x.name or f"arg{i}" + (f"[{j}]" if len(flat) > 1 else "")
            leaves_i.append(x)
        call_args[i] = build(leaves_i)
    y = f(*call_args)
    if not isinstance(y, Tensor) or not y.requires_grad:
        raise TypeError("explain: f must return a Tensor computed, with unafraid functions, from "
                        "its floating-point arguments or from Variables.")
    if y.size != 1:
        raise ValueError(f"explain: f must return a scalar (a loss); got shape {y.shape}. "
                         f"Reduce it with uf.sum or uf.mean.")
    ops = [t for t in toposort([y]) if t._ctx is not None]
    leaves = []  # differentiated leaves, in the order the forward pass first used them
    for t in ops:
        leaves += [x for x in t._ctx.inputs if isinstance(x, Tensor) and x._ctx is None
                   and x.requires_grad and all(x is not seen for seen in leaves)]
    for k, t in enumerate(ops, 1):
        names[id(t)] = f"#{k}"
    taken: set[str] = set()
    for t in leaves:  # weights by their own names; keep every name unique
        name = names.get(id(t)) or t.name or f"leaf{len(taken)}"
        while name in taken:
            name += "'"
        taken.add(name)
        names[id(t)] = name

    def show(x: Any) -> str:
        if isinstance(x, Tensor) and id(x) in names:
            label = names[id(x)]
            label = label if label.startswith("#") else f"'{label}'"
            return f"{label} {x.shape}"
        if np.ndim(_raw(x)) == 0:
            return f"the constant {_number(_raw(x))}"
        return f"a constant {np.shape(_raw(x))}"

    print(f"loss = {_number(y.data)}, computed by {len(ops)} recorded operations.", file=out)
    print("Forward pass (in the order the operations ran):", file=out)
    width = max(len(t._ctx.name) for t in ops)
    for t in ops:
        ins = ", ".join(show(x) for x in t._ctx.inputs)
        print(f"  {names[id(t)]:<4} {t._ctx.name:<{width}}  {ins} -> {t.shape}", file=out)
    print(f"Backward pass: the chain rule in reverse. It starts from d(loss)/d({names[id(y)]}) = 1;",
          file=out)
    print("each step turns the gradient of its output into gradients of its inputs (its", file=out)
    print("vector-Jacobian product), using values saved on the way forward, and adds them", file=out)
    print("to what those inputs have already received.", file=out)
    indent = " " * (width + 9)
    for t in reversed(ops):
        ctx = t._ctx
        print(f"  {names[id(t)]:<4} {ctx.name:<{width}}  reuses {_describe_saved(ctx, t, show)}",
              file=out)
        sent = [show(x) for x, need in zip(ctx.inputs, ctx.needs, strict=True) if need]
        print(f"{indent}sends gradients to {', '.join(sent)}", file=out)
    grads = backward_pass([y], [None], leaves)
    print("Gradients at the leaves (each the sum over every path from the loss to it):",
          file=out)
    result = {}
    name_width = max(len(names[id(t)]) for t in leaves) + 2
    for leaf, g in zip(leaves, grads, strict=True):
        g = np.zeros_like(leaf.data) if g is None else np.asarray(g)
        label = f"'{names[id(leaf)]}'"
        print(f"  {label:<{name_width}} shape {str(leaf.shape):<12} |grad| = "
              f"{float(np.linalg.norm(g)):.4g}", file=out)
        result[names[id(leaf)]] = g
    return result


def _raw(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def _number(x: Any) -> str:
    return f"{np.asarray(x).item():.6g}"


def _describe_saved(ctx: Any, out: Tensor, show: Callable[[Any], str]) -> str:
    """Name each saved array: an input, the op's own output, or a value computed in forward."""
    parts: list[str] = []
    computed: list[str] = []  # shapes of intermediate values
    for s in ctx.saved:
        s = _raw(s)
        if not isinstance(s, np.ndarray):
            continue  # shapes and flags, not values
        source = next((x for x in ctx.inputs if _raw(x) is s), None)
        if s is out.data:
            part = f"its output {s.shape}"
        elif source is not None:
            part = f"input {show(source)}"
        elif s.ndim == 0:
            part = f"the constant {_number(s)}"
        else:
            computed.append(str(s.shape))
            continue
        if part not in parts:
            parts.append(part)
    if computed:
        parts.append(f"{'a value' if len(computed) == 1 else 'values'} it computed "
                     f"{', '.join(computed)}")
    return ", ".join(parts) if parts else "no forward values (it needs only shapes)"
