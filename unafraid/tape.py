"""``tf.GradientTape`` and ``tf.function`` on unafraid's engine.

The engine records every operation on a Tensor that requires a gradient (a
trainable Variable, or a Tensor a tape watches), whether or not a tape is open.
A tape is therefore a thin object: ``watch`` marks tensors, and ``gradient``
runs the engine's backward loop (``unafraid.engine.gradients``) from the target
to the sources. While an outer tape is recording, an inner tape's gradient is
recorded too (``create_graph``), so nested tapes give gradients of gradients.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .engine import Tensor, Variable, enable_grad, gradients, no_grad, tree_flatten


class _Active(threading.local):
    tapes: list[GradientTape]

    def __init__(self) -> None:
        self.tapes = []


_active = _Active()


class GradientTape:
    """Record operations to differentiate them (``tf.GradientTape``).

    Parameters
    ----------
    persistent : bool, default False
        Allow ``gradient`` to be called more than once.
    watch_accessed_variables : bool, default True
        Differentiate with respect to trainable Variables without ``watch``.
        With False, only watched tensors get gradients (others get ``None``).

    Examples
    --------
    >>> import unafraid as tf
    >>> x = tf.constant(3.0)
    >>> with tf.GradientTape() as outer:
    ...     outer.watch(x)
    ...     with tf.GradientTape() as inner:
    ...         inner.watch(x)
    ...         y = x * x * x
    ...     dy_dx = inner.gradient(y, x)         # 3x^2 = 27
    >>> float(dy_dx), float(outer.gradient(dy_dx, x))  # 6x = 18
    (27.0, 18.0)
    """

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True) -> None:
        self.persistent = persistent
        self.watch_accessed_variables = watch_accessed_variables
        self._watched: dict[int, Tensor] = {}
        self._made_watchable: list[Tensor] = []  # tensors whose requires_grad this tape set
        self._used = False
        self._recording = False
        self._grad_mode: contextlib.AbstractContextManager[None] | None = None

    def __enter__(self) -> GradientTape:
        self._recording = True
        self._grad_mode = enable_grad()
        self._grad_mode.__enter__()
        _active.tapes.append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._recording = False
        _active.tapes.remove(self)
        self._grad_mode.__exit__(*exc)
        still_watched = {key for tape in _active.tapes for key in tape._watched}
        for t in self._made_watchable:  # a watched constant stops recording once no tape needs it
            if id(t) not in still_watched:
                t.requires_grad = False

    def watch(self, tensor: Any) -> None:
        """Differentiate with respect to ``tensor`` (a Tensor, or a nested list / dict of them)."""
        for t in tree_flatten(tensor)[0]:
            if not isinstance(t, Tensor):
                raise TypeError(f"GradientTape.watch takes Tensors, got {type(t).__name__}. "
                                f"Make one first: x = tf.constant(x), then watch(x) and compute "
                                f"with x.")
            if t.dtype.kind != "f":  # TensorFlow warns and leaves it unwatched (its gradient: None)
                warnings.warn(f"GradientTape.watch: {t._label()} has dtype {t.dtype}; only "
                              f"floating-point tensors have gradients, so its gradient will be "
                              f"None. Cast it first: tf.cast(x, tf.float32).", stacklevel=2)
                continue
            if not t.requires_grad:
                t.requires_grad = True
                self._made_watchable.append(t)
            self._watched[id(t)] = t

    def watched_variables(self) -> list[Tensor]:
        """The tensors watched explicitly with ``watch``."""
        return list(self._watched.values())

    @contextlib.contextmanager
    def stop_recording(self) -> Iterator[None]:
        """Compute without recording inside this block (all recording stops, not only this tape's)."""
        with no_grad():
            yield

    def reset(self) -> None:
        """Forget what was watched (operations already recorded stay recorded)."""
        self._watched.clear()

    def gradient(self, target: Any, sources: Any, output_gradients: Any = None,
                 unconnected_gradients: str = "none") -> Any:
        """d(target)/d(sources), with the structure of ``sources``.

        Parameters
        ----------
        target : Tensor, or a nested list / tuple / dict of Tensors
            A non-scalar target is summed (its gradient is that of ``sum(target)``),
            and so are several targets, as in TensorFlow.
        sources : Tensor, or a nested list / tuple / dict of Tensors
            Variables, watched tensors, or intermediate results.
        output_gradients : Tensor or list, optional
            The gradient of each target (default ones).
        unconnected_gradients : {'none', 'zero'}, default 'none'
            What to return for a source the target does not depend on.

        Returns
        -------
        Tensor, or the structure of ``sources`` with one Tensor (or ``None``) per source.
        """
        if self._used and not self.persistent:
            raise RuntimeError("A non-persistent GradientTape can only be used to compute one set "
                               "of gradients. Create it with tf.GradientTape(persistent=True) to "
                               "call gradient() more than once.")
        self._used = True
        flat, rebuild = tree_flatten(sources)
        for s in flat:
            if not isinstance(s, Tensor):
                raise TypeError(f"GradientTape.gradient: sources must be Tensors or Variables, "
                                f"got {type(s).__name__}. Watch a tf.constant instead of a NumPy "
                                f"array: x = tf.constant(x); tape.watch(x).")
        targets, _ = tree_flatten(target)  # a list, tuple or dict of targets is summed, as in TF
        if output_gradients is None:
            out_grads = [None if not isinstance(t, Tensor) or t.size == 1 else np.ones(t.shape,
                         t.dtype) for t in targets]
        else:
            out_grads, _ = tree_flatten(output_gradients)
        # while another tape records (or this one, still open), record the gradient to
        # differentiate it again
        higher = any(t._recording for t in _active.tapes)
        grads = gradients(targets, flat, out_grads, create_graph=higher,
                          retain_graph=self.persistent or higher)
        grads = [self._result(g, s, unconnected_gradients) for g, s in zip(grads, flat, strict=True)]
        return rebuild(grads)

    def _result(self, g: Any, source: Tensor, unconnected: str) -> Tensor | None:
        if (not self.watch_accessed_variables and isinstance(source, Variable)
                and id(source) not in self._watched):
            g = None
        if g is None:
            if str(unconnected).lower().endswith("zero"):
                return Tensor(np.zeros_like(source.data))
            return None
        return g if isinstance(g, Tensor) else Tensor(g)

    def jacobian(self, target: Tensor, sources: Any, unconnected_gradients: str = "none",
                 **kwargs: Any) -> Any:
        """d(target[i...])/d(source): for each source, an array of shape ``target.shape + source.shape``.

        One backward pass per element of ``target``; needs ``persistent=True``
        if the tape is used again afterwards.
        """
        flat, rebuild = tree_flatten(sources)
        out = [np.zeros(target.shape + s.shape, s.dtype) for s in flat]
        for i in np.ndindex(*target.shape):
            seed = np.zeros(target.shape, target.dtype)
            seed[i] = 1
            rows = gradients([target], flat, [seed], retain_graph=True)
            for o, g in zip(out, rows, strict=True):
                if g is not None:
                    o[i] = g
        self._used = True
        return rebuild([Tensor(o) for o in out])


def function(func: Callable[..., Any] | None = None, input_signature: Any = None,
             autograph: bool = True, jit_compile: bool | None = None,
             reduce_retracing: bool = False, experimental_relax_shapes: Any = None,
             **kwargs: Any) -> Any:
    """``tf.function``: accepted as a decorator; the function runs eagerly, as written.

    unafraid has no graph compiler for arbitrary Python: a decorated function
    runs exactly as the undecorated one (same numbers, Python side effects
    every call). ``input_signature``, ``jit_compile``, ``reduce_retracing`` and
    ``autograph`` are accepted for TensorFlow code and ignored. Keras's
    ``model.fit`` has its own compiled training step.

    Examples
    --------
    >>> import unafraid as tf
    >>> @tf.function(reduce_retracing=True)
    ... def double(x):
    ...     return x * 2
    >>> float(double(tf.constant(2.0)))
    4.0
    """
    if func is None:
        return functools.partial(function, input_signature=input_signature, autograph=autograph,
                                 jit_compile=jit_compile, reduce_retracing=reduce_retracing)

    @functools.wraps(func)
    def eager(*args: Any, **kw: Any) -> Any:
        return func(*args, **kw)

    eager.python_function = func
    return eager
