"""The engine's core: ``Tensor``, ``Function`` and the backward loop.

A network is ``f_n(g_n(... f_1(g_1(x))))``. Running it forward *records* each
operation: every result remembers the ``Function`` that made it, its inputs, and
the forward values that function saved. Reverse-mode autodiff is then a loop
that applies the chain rule backwards over what was recorded, reusing the
values saved on the way forward. It has two phases (see ``backward_pass``):

1. order the recorded graph so every result comes after its inputs
   (an iterative topological sort: a 100,000-op chain needs no recursion);
2. walk that order in reverse; at each result, its Function's vector-Jacobian
   product (VJP) turns the gradient of the result into gradients of its
   inputs, which are *added* to what those inputs already have (a value used
   twice receives two contributions).

VJP rules are written with unafraid's own ops. When nothing is tracing the
backward pass, those ops receive plain NumPy arrays and run at NumPy speed;
with ``create_graph=True`` they receive Tensors and are recorded themselves,
which is how a gradient is differentiated again (grad of grad).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

from .scopes import scoped_name


class _State(threading.local):
    grad_enabled = True  # each thread starts recording
    recorder: Any = None  # a step recorder (engine/record.py) noting every Function run, or None


_state = _State()
_edit_lock = threading.Lock()  # in-place edits are counted one at a time


def is_grad_enabled() -> bool:
    """Whether operations on Tensors are being recorded for differentiation."""
    return _state.grad_enabled


def no_grad() -> contextlib.AbstractContextManager[None]:
    """Context manager that stops recording: results inside have no history.

    Examples
    --------
    >>> import unafraid as uf
    >>> w = uf.Tensor([1.0, 2.0], requires_grad=True)
    >>> with uf.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    """
    return _recording(False)


def enable_grad() -> contextlib.AbstractContextManager[None]:
    """Context manager that turns recording back on (inside ``no_grad``)."""
    return _recording(True)


@contextlib.contextmanager
def _recording(flag: bool) -> Iterator[None]:
    previous = _state.grad_enabled
    _state.grad_enabled = flag
    try:
        yield
    finally:
        _state.grad_enabled = previous


@contextlib.contextmanager
def recording_runs(recorder: Any) -> Iterator[None]:
    """Hand every Function run to ``recorder.record`` and every backward pass to
    ``recorder.note_backward`` (how a compiled step is recorded: engine/record.py)."""
    previous = _state.recorder
    _state.recorder = recorder
    try:
        yield
    finally:
        _state.recorder = previous


def keep_eager(reason: str) -> None:
    """Say that the step being recorded, if any, must not be replayed: something in it acts
    outside unafraid's ops (a replay runs only those), e.g. ``add_metric``'s running mean."""
    recorder = _state.recorder
    if recorder is not None and getattr(recorder, "refused", "") is None:
        recorder.refused = reason


def as_array(x: Any, dtype: Any = None) -> np.ndarray:
    """The ndarray behind ``x``: Python floats and float lists become float32."""
    if isinstance(x, Tensor):
        x = x.data
    if dtype is None and isinstance(x, np.ndarray):
        return x
    if dtype is None and not isinstance(x, np.generic):
        a = np.asarray(x)
        if a.dtype == np.float64:  # Python floats: float32 unless asked
            a = a.astype(np.float32)
        return a
    return np.asarray(x, dtype=dtype)


class Tensor:
    """An n-dimensional array that records the operations made with it.

    Parameters
    ----------
    data : array_like
        The values. NumPy arrays keep their dtype (pass float64 data for
        float64 work); Python numbers and lists of floats become float32.
    requires_grad : bool, default False
        Whether gradients with respect to this tensor are wanted.
        Only floating-point tensors can require gradients.
    dtype : dtype, optional
        Cast the data to this dtype.
    name : str, optional
        A label shown by ``unafraid.explain`` and in error messages.

    Examples
    --------
    >>> import unafraid as uf
    >>> x = uf.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    array([2., 4., 6.], dtype=float32)
    """

    __array_priority__ = 1000  # ndarray (op) Tensor calls the Tensor's reflected operator
    grad: np.ndarray | None = None
    name: str | None = None
    requires_grad = False
    _ctx: Function | None = None  # the Function that made this tensor
    _version = 0  # the edit count when this tensor was last changed in place (see _edited)
    _edits = 0  # in-place changes to any tensor so far: Function records it, backward compares

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None,
                 name: str | None = None) -> None:
        self.data = as_array(data, dtype)
        if name is not None:
            self.name = name
        if requires_grad:
            self.requires_grad_()

    def requires_grad_(self, flag: bool = True) -> Tensor:
        """Mark this tensor as a leaf whose gradient is wanted (in place)."""
        if flag and self.data.dtype.kind not in "fc":
            raise TypeError(
                f"Cannot differentiate with respect to {self._label()} of dtype "
                f"{self.data.dtype}: gradients need floating-point data. "
                f"Convert it first, e.g. Tensor(x, dtype='float32').")
        self.requires_grad = flag
        return self

    # ---- conversions --------------------------------------------------------------------
    shape = property(lambda self: self.data.shape)
    dtype = property(lambda self: self.data.dtype)
    ndim = property(lambda self: self.data.ndim)
    size = property(lambda self: self.data.size)

    def numpy(self) -> np.ndarray:
        """The values as a NumPy array (shares memory; no history)."""
        return self.data

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype, copy=False)

    def item(self) -> Any:
        """The single value of a one-element tensor as a Python number."""
        return self.data.item()

    def detach(self) -> Tensor:
        """A tensor with the same values and no history."""
        return Tensor(self.data)

    def _label(self) -> str:
        return f"tensor '{self.name}'" if self.name else f"a tensor of shape {self.shape}"

    def __repr__(self) -> str:
        extra = ", requires_grad=True" if self.requires_grad else ""
        op = f", made by {self._ctx.name}" if self._ctx is not None else ""
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        return f"Tensor({body}, dtype={self.dtype}{extra}{op})"

    # ---- in-place changes ---------------------------------------------------------------
    def __setitem__(self, index: Any, value: Any) -> None:
        """Write values in place; a backward pass that saved this tensor will refuse to run."""
        self.data[index] = as_array(value)
        self._edited()

    def assign(self, value: Any) -> Tensor:
        """Replace all values in place (shape and dtype are kept)."""
        value = as_array(value)
        if value.shape != self.shape and value.size != self.size:
            raise ValueError(f"Cannot assign values of shape {value.shape} to {self._label()}.")
        self.data[...] = value.reshape(self.shape)
        self._edited()
        return self

    def _edited(self) -> None:
        """Note an in-place change: a recorded operation that used this tensor may not run."""
        with _edit_lock:
            Tensor._edits += 1
            self._version = Tensor._edits

    # ---- backward -----------------------------------------------------------------------
    def backward(self, grad: Any = None, retain_graph: bool = False,
                 create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into ``.grad`` of every leaf that requires grad.

        Parameters
        ----------
        grad : array_like, optional
            The gradient of some scalar with respect to ``self`` (same shape).
            Needed unless ``self`` has a single element.
        retain_graph : bool, default False
            Keep the recorded graph so backward can run through it again.
        create_graph : bool, default False
            Record the backward pass itself, so ``.grad`` can be differentiated.
        """
        order = toposort([self])
        leaves = [t for t in order if t._ctx is None and t.requires_grad]
        grads = backward_pass([self], [grad], leaves, retain_graph, create_graph, order)
        for leaf, g in zip(leaves, grads, strict=True):
            if g is None:
                continue
            if not create_graph and not isinstance(g, np.ndarray):
                g = as_array(g)
            leaf.grad = g if leaf.grad is None else leaf.grad + g


class Variable(Tensor):
    """A model weight: a named leaf tensor that requires grad and is updated in place.

    Parameters
    ----------
    data : array_like
        Initial values (float32 unless a float64 array is given).
    name : str
        For example ``'dense/kernel'``; inside ``name_scope`` blocks (scopes.py), theirs come first.
    trainable : bool, default True
        Whether optimizers update it (BatchNormalization's moving statistics are not).
    """

    def __init__(self, data: Any, name: str = "variable", trainable: bool = True,
                 dtype: Any = None) -> None:
        super().__init__(np.array(as_array(data, dtype)), name=scoped_name(name))
        self.trainable = trainable
        self.requires_grad = trainable and self.data.dtype.kind == "f"

    def numpy(self) -> np.ndarray:
        """A copy of the values, as TensorFlow and Keras give: later updates leave it as it is."""
        return self.data.copy()

    @property
    def path(self) -> str:
        """Keras 3's ``variable.path``: the full name, scopes included (``'dense/kernel'``)."""
        return self.name

    def assign_add(self, delta: Any) -> Variable:
        """``self += delta`` in place, as Keras 3's and TensorFlow's ``assign_add`` (``delta`` is
        cast to the variable's dtype and broadcast to its shape); returns the variable."""
        return self.assign(self.data + as_array(delta, self.dtype))

    def assign_sub(self, delta: Any) -> Variable:
        """``self -= delta`` in place (see :meth:`assign_add`); returns the variable."""
        return self.assign(self.data - as_array(delta, self.dtype))

    def __repr__(self) -> str:
        return f"<Variable '{self.name}' shape={self.shape} dtype={self.dtype}>"


class Function:
    """One recorded operation. Subclasses define two static methods side by side:

    ``forward(ctx, *arrays, **params) -> ndarray``
        the math on NumPy arrays; ``ctx.save(...)`` keeps what backward needs.
    ``vjp(ctx, g, *saved) -> tuple``
        given ``g`` = d(loss)/d(output) and the saved values, returns
        d(loss)/d(input) for each input (``None`` where no gradient is needed).
        Written with unafraid ops so it can itself be differentiated.
        ``ctx.needs[i]`` says whether input ``i`` needs a gradient at all.
    """

    name = "function"
    saved: tuple[Any, ...] | None = ()  # what forward kept for the VJP (None once freed)
    inputs: tuple[Any, ...] = ()  # recorded inputs: Tensors, and constants
    needs: tuple[bool, ...] = ()  # whether each input needs a gradient
    edits = 0  # Tensor._edits when it was recorded: a tensor edited later has a higher version
    # True when forward only computes its output from its inputs (no random draw, no write
    # into an input or a state): a replayed step may then skip a run whose output nothing
    # reads (engine/record.py). False, the safe default, for any Function not marked so.
    pure = False

    def __init__(self, params: dict[str, Any]) -> None:
        self.params = params

    def save(self, *values: Any) -> None:
        """Keep forward values (inputs, output, or intermediates) for the VJP."""
        self.saved = values

    @classmethod
    def apply(cls, *inputs: Any, **params: Any) -> Any:
        """Run ``forward``; record it when an input is a Tensor that requires grad.

        Plain arrays in give a plain array out (this is what makes VJPs run at
        NumPy speed); any Tensor in gives a Tensor out.
        """
        tensors = [x for x in inputs if isinstance(x, Tensor)]
        arrays = [x.data if isinstance(x, Tensor) else x for x in inputs] if tensors else inputs
        for a in arrays:
            if not isinstance(a, np.ndarray):  # a Python number (or list) among the inputs
                arrays = _promote_scalars(arrays)
                break
        ctx = cls(params)
        out = ctx.run(arrays)
        if not tensors:
            result = out
        else:
            result = Tensor.__new__(Tensor)  # made directly: out is an ndarray already
            result.data = out
            if out.dtype.kind in "fc" and _state.grad_enabled:
                needs = tuple([isinstance(x, Tensor) and x.requires_grad for x in inputs])
                if True in needs:
                    ctx.inputs, ctx.needs = inputs, needs
                    ctx.edits = Tensor._edits
                    result._ctx = ctx
                    result.requires_grad = True
        if _state.recorder is not None:  # a compiled step is being recorded (engine/record.py)
            _state.recorder.record(ctx, inputs, arrays, out)
        return result

    def run(self, arrays: Any) -> np.ndarray:
        """``forward`` on plain arrays, recording nothing (a replayed step calls this)."""
        out = self.forward(self, *arrays, **self.params)
        if not isinstance(out, np.ndarray):  # ufuncs turn 0-d arrays into NumPy scalars
            scalar, out = out, np.asarray(out)
            self.saved = tuple(out if s is scalar else s for s in self.saved)
        return out

    forward: Any = None
    vjp: Any = None


def _promote_scalars(arrays: list[Any]) -> list[np.ndarray]:
    """Scalars take the dtype of the float arrays they meet, so ``x / 255.0`` stays float32.

    NumPy scalars count as scalars too: ``x * np.sqrt(2.0)`` (a float64) keeps x's float32.
    """
    floats = [a.dtype for a in arrays if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
    like = np.result_type(*floats) if floats else None
    out = []
    for a in arrays:
        if isinstance(a, bool | int | float | np.generic):
            a = np.asarray(a, dtype=like) if like is not None else as_array(a)
        elif not isinstance(a, np.ndarray | np.generic) and a is not None:
            a = as_array(a)
        out.append(a)
    return out


def toposort(roots: list[Tensor]) -> list[Tensor]:
    """Phase 1: every recorded tensor reachable from ``roots``, inputs before results.

    Iterative depth-first search with an explicit stack (no recursion limit): a
    tensor is placed once all the inputs it was computed from have been placed.
    """
    order, seen = [], set()
    stack = [(t, False) for t in roots if isinstance(t, Tensor)]
    while stack:
        t, inputs_done = stack.pop()
        if inputs_done:
            order.append(t)
        elif id(t) not in seen:
            seen.add(id(t))
            if t._ctx is None:  # a leaf: nothing comes before it
                order.append(t)
                continue
            stack.append((t, True))  # inputs that need no gradient have no history to visit
            stack += [(x, False) for x, need in zip(t._ctx.inputs, t._ctx.needs, strict=True)
                      if need]
    return order


def backward_pass(outputs: list[Tensor], out_grads: list[Any], wrt: list[Tensor],
              retain_graph: bool = False, create_graph: bool = False,
              order: list[Tensor] | None = None) -> list[Any]:
    """d(sum of outputs . out_grads)/d(wrt): the chain-rule loop.

    Returns one gradient per tensor in ``wrt`` (``None`` where it does not
    influence the outputs). With ``create_graph`` the gradients are Tensors
    whose own history can be differentiated; otherwise plain arrays.
    ``order`` is ``toposort(outputs)`` when the caller has it already.
    """
    grads: dict[int, Any] = {}  # id(tensor) -> d(outputs)/d(tensor) so far
    given = set()  # the caller's output gradients: never handed back as a result
    for out, g in zip(outputs, out_grads, strict=True):
        if g is None:
            if out.size != 1:
                raise ValueError(
                    f"backward needs an output gradient for a non-scalar output of shape "
                    f"{out.shape}. Reduce it to a scalar first (e.g. loss.mean()) or pass "
                    f"grad= an array of shape {out.shape}.")
            g = np.ones(out.shape, out.dtype)
        else:
            if isinstance(_raw(g), np.ndarray):
                given.add(_owner(_raw(g)))
            g = g if isinstance(g, Tensor) else as_array(g, out.dtype)
            if g.shape != out.shape:
                raise ValueError(f"Output gradient of shape {g.shape} does not match the "
                                 f"output's shape {out.shape}.")
            g = g if create_graph else _raw(g)
        grads[id(out)] = grads[id(out)] + g if id(out) in grads else g
    wanted = {id(t) for t in wrt}
    order = toposort(outputs) if order is None else order
    # Phase 2: in reverse order, each result hands its gradient to its inputs.
    recording, recorder = _state.grad_enabled, _state.recorder
    if recorder is not None:  # a compiled step notes which backward pass to replay
        recorder.note_backward(outputs, wrt, order, create_graph)
    _state.grad_enabled = create_graph  # record the backward pass only to differentiate it
    _state.recorder = None  # a step recorder records the forward pass only
    try:
        for t in reversed(order):
            ctx, key = t._ctx, id(t)
            if ctx is None or key not in grads:
                continue
            # free intermediate gradients as soon as they are used
            g = grads[key] if key in wanted else grads.pop(key)
            if ctx.saved is None:
                raise RuntimeError(
                    f"The graph through {ctx.name} was already freed by an earlier backward "
                    f"pass. Pass retain_graph=True to the first backward() to run it twice.")
            if ctx.edits != Tensor._edits:  # something was edited in place since recording
                _check_versions(ctx, t)
            saved = _as_recorded(ctx, t) if create_graph else ctx.saved
            in_grads = ctx.vjp(ctx, g, *saved)
            for x, need, gx in zip(ctx.inputs, ctx.needs, in_grads, strict=True):
                if need and gx is not None:
                    if gx.shape != x.data.shape:
                        raise RuntimeError(f"internal: {ctx.name} VJP gave {gx.shape} for {x.shape}")
                    accumulate(grads, id(x), gx, x.data.dtype)
            if not retain_graph:
                ctx.saved, ctx.inputs, ctx.needs = None, (), ()
    finally:
        _state.grad_enabled, _state.recorder = recording, recorder
    return hand_out([grads.get(id(t)) for t in wrt], given)


def accumulate(grads: dict[Any, Any], key: Any, gx: Any, dtype: np.dtype) -> None:
    """Add ``gx`` to ``grads[key]`` (a value used twice receives two contributions), in the
    input's dtype: a float32 input times a float64 array still gets a float32 gradient."""
    if gx.dtype != dtype:
        gx = gx.astype(dtype)
    grads[key] = grads[key] + gx if key in grads else gx


def hand_out(grads: list[Any], given: set[int] | None = None) -> list[Any]:
    """The gradients, each one the caller may change in place (see ``_own``); ``given`` holds
    the caller's own output gradients, never handed back."""
    handed = set() if given is None else given
    return [_own(g, handed) for g in grads]


def _own(g: Any, handed_out: set[int]) -> Any:
    """A gradient the caller may change in place: writable (sum's VJP gives a read-only
    broadcast), sharing memory with no other gradient handed out (add's VJP passes ``g``
    itself to both inputs) nor with the caller's output gradient."""
    if isinstance(g, np.ndarray):
        if _owner(g) in handed_out or not g.flags.writeable:
            g = g.copy()
        handed_out.add(_owner(g))
    return g


def _owner(a: np.ndarray) -> int:
    return id(a if a.base is None else a.base)  # NumPy points every view at the array it views


def _raw(value: Any) -> Any:
    return value.data if isinstance(value, Tensor) else value


def _as_recorded(ctx: Function, out: Tensor) -> list[Any]:
    """Saved arrays as the Tensors they came from, so a VJP can be differentiated."""
    by_id = {id(_raw(x)): x for x in ctx.inputs}
    by_id[id(out.data)] = out
    return [by_id.get(id(_raw(s)), s) for s in ctx.saved]


def _check_versions(ctx: Function, out: Tensor) -> None:
    """Refuse a VJP whose inputs, or whose result, were changed in place since recording."""
    for x in ctx.inputs:
        if isinstance(x, Tensor) and x._version > ctx.edits:
            _modified(ctx, x, "used")
    if out._version > ctx.edits:
        _modified(ctx, out, "made")


def _modified(ctx: Function, x: Tensor, how: str) -> None:
    raise RuntimeError(
        f"{x._label()} was modified in place after {ctx.name} {how} it, so the backward pass "
        f"would compute a wrong gradient. Compute the new value out of place (y = x + 1 "
        f"instead of x[...] += 1), or call backward first.")
