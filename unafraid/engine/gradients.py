"""``gradients``: the backward loop as a public function, for tapes and custom training code.

``grad`` / ``value_and_grad`` differentiate a function; ``gradients`` differentiates
outputs that were already computed (recorded) with respect to chosen tensors,
which is what ``tf.GradientTape.gradient`` and ``torch.autograd.grad`` do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .tensor import Tensor, backward_pass


def gradients(outputs: Tensor | Sequence[Tensor], wrt: Sequence[Tensor],
              output_grads: Sequence[Any] | None = None, create_graph: bool = False,
              retain_graph: bool = False) -> list[Any]:
    """d(sum_i <outputs[i], output_grads[i]>)/d(wrt[j]) for each ``j``.

    Parameters
    ----------
    outputs : Tensor or sequence of Tensor
        Recorded results. Each without an output gradient must have one element.
    wrt : sequence of Tensor
        Tensors the outputs were computed from (leaves or intermediate results).
    output_grads : sequence, optional
        One gradient (same shape as its output) or ``None`` per output.
    create_graph : bool, default False
        Record the backward pass, so the gradients (then Tensors) can be
        differentiated again; implies ``retain_graph``.
    retain_graph : bool, default False
        Keep the recorded graph for another backward pass.

    Returns
    -------
    list
        One gradient per ``wrt`` tensor, of its shape: NumPy arrays (Tensors
        with ``create_graph``), or ``None`` where the outputs do not depend on it.

    Examples
    --------
    >>> import unafraid as uf
    >>> x = uf.Tensor([1.0, 2.0], requires_grad=True)
    >>> y = (x * x).sum()
    >>> uf.engine.gradients(y, [x])[0]
    array([2., 4.], dtype=float32)
    """
    outputs = list(outputs) if isinstance(outputs, list | tuple) else [outputs]
    output_grads = [None] * len(outputs) if output_grads is None else list(output_grads)
    recorded = [(o, g) for o, g in zip(outputs, output_grads, strict=True)
                if isinstance(o, Tensor) and o.requires_grad]
    if not recorded:
        return [None] * len(wrt)
    outs, grads = zip(*recorded, strict=True)
    return backward_pass(list(outs), list(grads), list(wrt), retain_graph or create_graph,
                     create_graph)
