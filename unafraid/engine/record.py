"""Record a training step once, then replay it: what ``compile(jit_compile=True)`` does.

A step's forward pass is a sequence of Function runs (``Function.apply``). The
:class:`Recorder` notes each one: its Function class, its parameters, where each
input array came from, and its output; and it notes the backward pass that the
step asks for, in the order the chain-rule loop visits it. A :class:`Replay` then
runs the same Functions' ``forward`` on the next batch's arrays, and the same VJPs
in the same order, accumulating gradients the same way: the same bits as the eager
step, without building Tensors, sorting the graph again or running layer Python.

Where an input array comes from (its *source*):

- ``("slot", i)``: the i-th batch array, or the output of an earlier run;
- ``("view", i, shape)``: a reshape of slot i (``labels.reshape(-1)`` in a loss);
- ``("variable", v)``: a Variable's values, read when the step runs (so an optimizer
  or a callback that changes the weights in place is seen);
- ``("constant", value)``: anything else, kept as recorded.

A recording is only replayed once it is *proven*: two recordings made on batches
whose arrays all differ agree in every Function, parameter, source and constant
(:class:`Compiled`). An array computed from the batch outside unafraid's ops, a
random draw outside the engine, or Python control flow that depends on the data
makes them differ, and that step stays eager.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from .gradients import gradients
from .tensor import Function, Tensor, Variable, accumulate, hand_out, recording_runs


class Run(NamedTuple):
    """One recorded Function run: what to call and where its inputs come from."""

    function: type[Function]
    params: dict[str, Any]  # a parameter holding arrays is a tuple ("sources", (...))
    sources: tuple[tuple[Any, ...], ...]
    needs: tuple[bool, ...]  # which inputs the VJP must return a gradient for


class BackwardStep(NamedTuple):
    """Run ``run``'s VJP with the gradient of tensor ``out``; add its results into ``targets``.

    Tensors are numbered by their place in the sorted graph, as the backward pass saw it.
    """

    run: int
    out: int
    targets: tuple[tuple[int, int, np.dtype], ...]  # (input position, tensor number, dtype)


class Replay:
    """A recorded step: forward runs, backward steps, and which slots to return.

    ``Replay(...)(batch)`` returns ``(values, grads)``: the arrays of the recorded
    results (the loss, the predictions) and one gradient per recorded ``wrt``.
    """

    def __init__(self, n_inputs: int, runs: list[Run], backward: list[BackwardStep],
                 loss: tuple[int, tuple[int, ...], np.dtype], wrt: list[int | None],
                 results: list[tuple[Any, ...]]) -> None:
        self.n_inputs, self.runs, self.backward = n_inputs, runs, backward
        self.loss, self.wrt, self.results = loss, wrt, results
        # What each replay looks up, worked out once (a replayed step runs only Python this
        # loop needs): a slot source as its bare index, and whether any parameter holds arrays.
        self.plan = [(j, run.function, run.params, _has_sources(run.params), run.needs,
                      tuple(_quick(s) for s in run.sources)) for j, run in enumerate(runs)]
        # The same without the runs that only the other results need (``loss_only``).
        live = self._live_runs(results[:1])
        self.loss_plan = [step for step in self.plan if step[0] in live]

    def _live_runs(self, wanted: list[tuple[Any, ...]]) -> set[int]:
        """The runs a step needs to give the ``wanted`` results and the gradients: those that
        compute them, that the backward pass needs, that are not pure (a draw, a write) and
        those that their inputs come from."""
        read = {i for source in wanted for i in _slots_read(source)}
        needed_by_backward = {step.run for step in self.backward}
        live = set()
        for j in reversed(range(len(self.runs))):
            run = self.runs[j]
            if (self.n_inputs + j in read or j in needed_by_backward
                    or not getattr(run.function, "pure", False)):
                live.add(j)
                read.update(i for source in _all_sources(run) for i in _slots_read(source))
        return live

    def __call__(self, batch: Sequence[np.ndarray],
                 loss_only: bool = False) -> tuple[list[Any], list[Any]]:
        """``(values, grads)``; ``loss_only=True`` returns only the loss among the values and
        skips the pure runs that nothing else needs (the same loss and gradients, bit for bit)."""
        # Forward: each Function on the arrays its inputs come from.
        slots: list[Any] = [*batch, *[None] * len(self.runs)]
        ctxs: list[Any] = [None] * len(self.runs)
        first = self.n_inputs
        for j, function, params, dynamic, needs, sources in (self.loss_plan if loss_only
                                                             else self.plan):
            ctx = function(_params(params, slots) if dynamic else params)
            ctx.needs = needs
            slots[first + j] = ctx.run([slots[s] if type(s) is int else _value(s, slots)
                                        for s in sources])
            ctxs[j] = ctx
        values = [_value(s, slots) for s in (self.results[:1] if loss_only else self.results)]
        del slots  # from here on, each forward value lives as long as a VJP still needs it
        # Backward: the recorded chain-rule loop, in the recorded order. As in backward_pass,
        # a gradient is dropped once used, and a VJP's saved values once it has run.
        loss, shape, dtype = self.loss
        grads: dict[int, Any] = {loss: np.ones(shape, dtype)}
        wanted = set(self.wrt)
        for run, out, targets in self.backward:
            g = grads.get(out) if out in wanted else grads.pop(out, None)
            if g is None:
                continue
            ctx = ctxs[run]
            in_grads = ctx.vjp(ctx, g, *ctx.saved)
            ctx.saved = None
            for position, tensor, dt in targets:
                if in_grads[position] is not None:
                    accumulate(grads, tensor, in_grads[position], dt)
            del g, in_grads
        return values, hand_out([None if i is None else grads.get(i) for i in self.wrt])

    def same_as(self, other: Replay) -> bool:
        """Whether two recordings describe the same computation (constants compared bitwise)."""
        return (self.n_inputs == other.n_inputs and len(self.runs) == len(other.runs)
                and all(a.function is b.function and a.needs == b.needs
                        and _same(a.sources, b.sources) and _same_params(a.params, b.params)
                        for a, b in zip(self.runs, other.runs, strict=True))
                and _same(self.backward, other.backward) and _same(self.loss, other.loss)
                and self.wrt == other.wrt and _same(self.results, other.results))


class Recorder:
    """Notes Function runs and the backward pass of one step (see the module docstring).

    ``inputs`` are the batch arrays: an input array that *is* one of them (or a
    reshape of one) is recorded as coming from it.
    """

    def __init__(self, inputs: Sequence[np.ndarray]) -> None:
        self.inputs = list(inputs)
        self.runs: list[tuple[Function, tuple[Any, ...], list[Any], np.ndarray, Any]] = []
        self.run_of: dict[int, int] = {}  # id(ctx) -> its position in runs
        self.backward: tuple[list[BackwardStep], Any, list[int | None]] | None = None
        self.refused: str | None = None  # why this step cannot be replayed

    def record(self, ctx: Function, inputs: tuple[Any, ...], arrays: list[Any],
               out: np.ndarray) -> None:
        self.run_of[id(ctx)] = len(self.runs)
        needs = ctx.needs or (False,) * len(arrays)  # now: the backward pass clears ctx.needs
        self.runs.append((ctx, inputs, arrays, out, needs))

    def note_backward(self, outputs: list[Tensor], wrt: list[Tensor], order: list[Tensor],
                      create_graph: bool) -> None:
        """Write down the backward pass now, before it frees the graph it walks."""
        if self.backward is not None or create_graph or len(outputs) != 1:
            self.refused = "the step runs more than one first-order backward pass"
            return
        position = {id(t): i for i, t in enumerate(order)}
        steps = []
        for t in reversed(order):
            ctx = t._ctx
            if ctx is None:
                continue
            if id(ctx) not in self.run_of:
                self.refused = f"the graph holds {ctx.name}, computed before the step began"
                return
            targets = tuple((k, position[id(x)], x.data.dtype) for k, (x, need)
                            in enumerate(zip(ctx.inputs, ctx.needs, strict=True)) if need)
            steps.append(BackwardStep(self.run_of[id(ctx)], position[id(t)], targets))
        loss = outputs[0]
        self.backward = (steps, (position[id(loss)], loss.shape, loss.dtype),
                         [position.get(id(w)) for w in wrt])

    def replay(self, results: Sequence[Any]) -> Replay | None:
        """The recorded step as a Replay returning ``results``; None if it cannot be replayed."""
        if self.refused is not None or self.backward is None:
            return None
        names = _Names(self.inputs)
        runs = []
        for j, (ctx, inputs, arrays, out, needs) in enumerate(self.runs):
            sources = tuple(names.source(a, x) for a, x in zip(arrays, inputs, strict=True))
            params = {k: names.param(v) for k, v in ctx.params.items()}
            runs.append(Run(type(ctx), params, sources, needs))
            names.add(out, len(self.inputs) + j)
        steps, loss, wrt = self.backward
        results = [names.source(r.data if isinstance(r, Tensor) else r, r) for r in results]
        return Replay(len(self.inputs), runs, steps, loss, wrt, results)


class _Names:
    """Where each array seen so far came from: by identity, and by memory for reshapes."""

    def __init__(self, inputs: list[np.ndarray]) -> None:
        self.by_id: dict[int, tuple[Any, ...]] = {}
        self.by_address: dict[tuple[int, int, str], int] = {}
        for i, a in enumerate(inputs):
            self.add(a, i)

    def add(self, a: Any, slot: int) -> None:
        if isinstance(a, np.ndarray):
            self.by_id.setdefault(id(a), ("slot", slot))
            if a.flags.c_contiguous:
                self.by_address.setdefault((a.ctypes.data, a.size, a.dtype.str), slot)

    def source(self, a: Any, given: Any) -> tuple[Any, ...]:
        if isinstance(given, Variable):
            self.by_id[id(a)] = ("variable", given)
            return ("variable", given)
        if isinstance(a, np.ndarray):
            if id(a) in self.by_id:
                return self.by_id[id(a)]
            if a.flags.c_contiguous:
                slot = self.by_address.get((a.ctypes.data, a.size, a.dtype.str))
                if slot is not None:
                    return ("view", slot, a.shape)
        return ("constant", a)

    def param(self, v: Any) -> Any:
        """A parameter as recorded: arrays in it (a gather's indices) become sources."""
        if isinstance(v, np.ndarray):
            return _Sources(False, (self.source(v, None),))
        if isinstance(v, tuple) and any(isinstance(e, np.ndarray) for e in v):
            return _Sources(True, tuple(self.source(e, None) for e in v))
        return v


class _Sources(NamedTuple):
    """A parameter made of arrays: one (``many=False``) or a tuple of them."""

    many: bool
    sources: tuple[tuple[Any, ...], ...]


def _value(source: tuple[Any, ...], slots: list[Any]) -> Any:
    kind = source[0]
    if kind == "slot":
        return slots[source[1]]
    if kind == "view":
        return slots[source[1]].reshape(source[2])
    if kind == "variable":
        return source[1].data
    return source[1]


def _slots_read(source: tuple[Any, ...]) -> tuple[int, ...]:
    """The slot a source reads (a slot or a view of one), if any."""
    return (source[1],) if source[0] in ("slot", "view") else ()


def _all_sources(run: Run) -> list[tuple[Any, ...]]:
    """A run's input sources and those of its array parameters (a gather's indices)."""
    found = list(run.sources)
    for v in run.params.values():
        if isinstance(v, _Sources):
            found.extend(v.sources)
    return found


def _quick(source: tuple[Any, ...]) -> Any:
    """A slot source as its bare index (the common case, looked up inline); others as they are."""
    return source[1] if source[0] == "slot" else source


def _has_sources(params: dict[str, Any]) -> bool:
    return any(isinstance(v, _Sources) for v in params.values())


def _params(params: dict[str, Any], slots: list[Any]) -> dict[str, Any]:
    if not _has_sources(params):
        return params
    out = dict(params)
    for k, v in params.items():
        if isinstance(v, _Sources):
            values = tuple(_value(s, slots) for s in v.sources)
            out[k] = values if v.many else values[0]
    return out


def _same(a: Any, b: Any) -> bool:
    """Structural equality where arrays compare by dtype, shape and bits, Variables by identity."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype
                and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if isinstance(a, tuple | list):
        return (type(a) is type(b) and len(a) == len(b)
                and all(_same(x, y) for x, y in zip(a, b, strict=True)))
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return a is b
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    try:
        return bool(a == b) if type(a) is type(b) else False
    except (TypeError, ValueError):
        return a is b


def _same_params(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return _same(a, b)


class Compiled:
    """``forward(batch) -> [loss, *outputs]`` and the loss's gradients, replayed once proven.

    Calling ``compiled(batch, wrt)`` returns ``(values, grads)``: the arrays of
    ``forward``'s results and the gradients of the first one (the loss) with respect to
    ``wrt``. Each signature (the batch's shapes and dtypes, and which ``wrt``) has its own
    recording. The first calls run eagerly while recording; once two recordings made on
    batches whose arrays all differ agree, later calls replay. ``eager_reasons`` says,
    per signature, why a step was not replayed.
    """

    def __init__(self, forward: Callable[[list[np.ndarray]], list[Tensor]]) -> None:
        self.forward = forward
        self.proven: dict[Any, Replay] = {}
        self.candidates: dict[Any, tuple[Replay, list[np.ndarray]]] = {}
        self.eager_reasons: dict[Any, str] = {}

    def __call__(self, batch: list[np.ndarray], wrt: list[Tensor],
                 loss_only: bool = False) -> tuple[list[Any], list[Any]]:
        """``loss_only=True``: the caller reads only the loss among the values, so a replay
        may skip what only the others need (an eager step still returns them all)."""
        key = (tuple([(a.shape, a.dtype) for a in batch]), tuple([id(w) for w in wrt]))
        replay = self.proven.get(key)
        if replay is not None:
            return replay(batch, loss_only)
        if key in self.eager_reasons:
            results = self.forward(batch)
            return [_array(r) for r in results], gradients(results[0], wrt)
        recorder = Recorder(batch)
        with recording_runs(recorder):
            results = self.forward(batch)
            grads = gradients(results[0], wrt)
        self._consider(key, recorder.replay(results), recorder.refused, batch)
        return [_array(r) for r in results], grads

    def _consider(self, key: Any, replay: Replay | None, refused: str | None,
                  batch: list[np.ndarray]) -> None:
        """Keep a first recording; prove it with a second on a different batch."""
        if replay is None:
            self.eager_reasons[key] = refused or "the step computed no gradient"
            return
        previous = self.candidates.get(key)
        if previous is None or any(_same(a, b) for a, b in zip(batch, previous[1], strict=True)):
            self.candidates[key] = (replay, batch)  # nothing to compare with yet
            return
        del self.candidates[key]
        if replay.same_as(previous[0]):
            self.proven[key] = replay
        else:
            self.eager_reasons[key] = ("two recordings on different batches differ (data-dependent "
                                       "Python, or arrays computed outside unafraid ops)")


def _array(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x
