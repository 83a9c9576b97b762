"""Optimizers (``tf.keras.optimizers``): SGD, Adam, AdamW, RMSprop, Adagrad.

Each optimizer follows Keras 3's update rule exactly (same formula, same order of
operations, same placement of epsilon, same order of clipping and weight decay), with
Keras's class names, arguments and defaults. Each rule is one short method,
``update_step(g, w, state, lr)``, written in the notation of its paper with plain NumPy
expressions: read it beside the paper (cited in each class's docstring).

How a step runs (``apply(grads, variables)``), as in Keras 3:

1. ``None`` gradients are skipped;
2. gradients are clipped (``clipnorm``, ``clipvalue`` or ``global_clipnorm``);
3. decoupled weight decay ``w <- w - w * weight_decay * lr`` (when ``weight_decay`` is set);
4. the optimizer's own ``update_step``, with ``lr`` the learning rate at step ``iterations``
   (a schedule is called with ``iterations``, which is 0 for the first step);
5. ``iterations += 1``.

Speed lives apart from the math, in ``unafraid.optimizers_fast``: the same rules written
in place into preallocated scratch buffers (no parameter-sized allocation per step),
large steps split over two cores, and Adam in one compiled pass when numba is installed.
The fast path gives the same bits as ``update_step`` (tested for every optimizer and
option); set ``optimizer.use_fast_path = False`` to run the plain rules themselves.

Example
-------
>>> import numpy as np, unafraid as uf
>>> w = uf.Variable(np.array([1.0, 2.0], np.float32), name="w")
>>> opt = uf.optimizers.SGD(learning_rate=0.1)
>>> opt.apply([np.array([1.0, -1.0], np.float32)], [w])
>>> w.data
array([0.9, 2.1], dtype=float32)
"""

from __future__ import annotations

import inspect
import math
import re
import sys
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from . import optimizers_fast as fast
from . import registry, schedules
from .engine.tensor import Tensor
from .schedules import LearningRateSchedule

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "get", "serialize",
           "deserialize", "schedules"]

State = dict[str, np.ndarray]   # one optimizer variable per slot name ("m", "v"...)

# ``from unafraid.optimizers.schedules import ExponentialDecay`` works like tf.keras's path
sys.modules.setdefault(f"{__name__}.schedules", schedules)


# ---- argument checks ------------------------------------------------------------------------------
def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float | np.floating | np.integer)


def check_non_negative(owner: str, arg: str, value: Any, fix: str) -> float:
    """``float(value)``, or a ValueError naming ``owner``'s ``arg`` and the fix when it is negative or NaN."""
    if not _is_number(value) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{owner}: `{arg}` must be a finite number >= 0, got {value!r}. {fix}")
    return float(value)


def check_decay_rate(owner: str, arg: str, value: Any, default: float) -> float:
    """``float(value)``, or a ValueError when it is outside [0, 1)."""
    if not _is_number(value) or not 0 <= value < 1:
        raise ValueError(
            f"{owner}: `{arg}` must be in [0, 1), got {value!r}. It is the decay rate of a moving "
            f"average (Keras's default is {default}); 1 or more would never forget the first "
            f"gradients (and, for Adam's betas, divide by zero in the bias correction).")
    return float(value)


def check_epsilon(owner: str, value: Any) -> float:
    return check_non_negative(owner, "epsilon", value,
                              "It only guards against division by zero: keep Keras's 1e-7.")


class _LearningRate(float):
    """The current learning rate: a ``float`` that also answers tf.keras's Variable idioms.

    ``opt.learning_rate.numpy()`` and ``opt.learning_rate.assign(1e-4)`` work, so
    ``tf.keras`` code that treats the learning rate as a variable keeps running.
    """

    _optimizer: Optimizer

    def __new__(cls, value: float, optimizer: Optimizer) -> _LearningRate:
        self = super().__new__(cls, value)
        self._optimizer = optimizer
        return self

    def numpy(self) -> np.float32:
        return np.float32(self)

    def assign(self, value: Any) -> None:
        self._optimizer.learning_rate = value




class Optimizer:
    """Base class: the shared step (clipping, weight decay, iterations) and state handling.

    Subclasses declare their per-variable ``slots`` and write their rule as
    ``update_step(g, w, state, lr)``: update the weights ``w`` and the ``state``
    arrays (a dict slot -> array, shaped like ``w``) in place, in plain NumPy.
    For speed they also name the in-place kernel of ``unafraid.optimizers_fast``
    that does the same operations (``fast_update(lr)``); a subclass that does not
    runs its ``update_step`` on every step.

    Parameters
    ----------
    learning_rate : float, LearningRateSchedule or callable
        A callable is called with the step count (``iterations``); a callable
        taking no arguments is called with none, as in Keras.
    weight_decay : float, optional
        Decoupled weight decay: before each update, ``w <- w - w * weight_decay * lr``.
    clipnorm : float, optional
        Rescale each gradient so that its L2 norm is at most ``clipnorm``.
    clipvalue : float, optional
        Clip each gradient entry to ``[-clipvalue, clipvalue]``.
    global_clipnorm : float, optional
        Rescale all gradients together so that their joint L2 norm is at most this.
        Only one of ``clipnorm``, ``clipvalue``, ``global_clipnorm`` may be set.
    name : str, optional
        Defaults to Keras's name for the class (``'adam'``, ``'SGD'``...).
    use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps
        Accepted so Keras configs load; only their default values are supported.

    Attributes
    ----------
    use_fast_path : bool
        True (default): run the in-place kernels of ``unafraid.optimizers_fast``;
        False: run ``update_step`` itself. Both give the same bits.
    """

    slots: tuple[str, ...] = ()
    default_name = "optimizer"
    use_fast_path = True

    def __init__(self, learning_rate: Any, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, use_ema: bool = False,
                 ema_momentum: float = 0.99, ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None,
                 gradient_accumulation_steps: int | None = None, name: str | None = None,
                 **kwargs: Any) -> None:
        learning_rate = self._legacy_arguments(learning_rate, kwargs)
        self._check_unsupported(use_ema=(use_ema, False), loss_scale_factor=(loss_scale_factor, None),
                                gradient_accumulation_steps=(gradient_accumulation_steps, None))
        self._check_clipping(clipnorm=clipnorm, clipvalue=clipvalue, global_clipnorm=global_clipnorm,
                             weight_decay=weight_decay)
        self.name = name if name is not None else self.default_name
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self.learning_rate = learning_rate
        self.built = False
        self._iterations = 0
        self._variables: list[Any] = []            # the model variables, in build order
        self._index: dict[int, int] = {}           # id(variable) -> position in _variables
        self._state: list[State] = []              # per variable: one array per slot
        self._fast = fast.FastPath()               # scratch buffers and the two-core step
        self._decays: list[bool] = []              # per variable: apply weight decay?
        self._exclude_ids: set[int] = set()
        self._exclude_pattern: re.Pattern[str] | None = None

    def _legacy_arguments(self, learning_rate: Any, kwargs: dict[str, Any]) -> Any:
        """tf.keras 2's ``lr`` (warned) and ``decay`` (ignored, as in Keras 3); refuse the rest."""
        if "lr" in kwargs:  # tf.keras 2 spelling: Keras 3 refuses it, tutorials still use it
            learning_rate = kwargs.pop("lr")
            warnings.warn(f"Argument `lr` is deprecated (removed in Keras 3); use "
                          f"learning_rate={learning_rate!r}.", DeprecationWarning, stacklevel=4)
        if kwargs.pop("decay", None) is not None:
            warnings.warn("Argument `decay` is no longer supported and will be ignored (as in "
                          "Keras 3). Use a learning-rate schedule, e.g. "
                          "unafraid.optimizers.schedules.InverseTimeDecay.", stacklevel=3)
        if kwargs:
            raise ValueError(f"{type(self).__name__}: argument(s) not recognized: {kwargs}. "
                             f"Accepted: {', '.join(_init_args(type(self)))}.")
        return learning_rate

    def _check_unsupported(self, **values: tuple[Any, Any]) -> None:
        for arg, (value, default) in values.items():
            if value != default:
                raise NotImplementedError(f"{type(self).__name__}({arg}={value!r}) is not "
                                          f"supported by unafraid yet; leave it at {default}.")

    @staticmethod
    def _check_clipping(clipnorm: Any, clipvalue: Any, global_clipnorm: Any, weight_decay: Any) -> None:
        clips = {"clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm}
        if sum(v is not None for v in clips.values()) > 1:
            raise ValueError(f"Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be "
                             f"set. Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                             f"global_clipnorm={global_clipnorm}.")
        for arg, value in {**clips, "weight_decay": weight_decay}.items():
            if value is not None and (not _is_number(value) or not math.isfinite(value) or value < 0):
                raise ValueError(f"`{arg}` must be a non-negative number or None, got {value!r}.")

    # ---- hyperparameters ------------------------------------------------------------------------
    @property
    def iterations(self) -> int:
        """Number of updates applied so far (an ``int`` with TensorFlow's ``.numpy()``)."""
        return StepCount(self._iterations)

    @iterations.setter
    def iterations(self, value: int) -> None:
        self._iterations = int(value)

    @property
    def learning_rate(self) -> float:
        """The learning rate for the next step (a schedule evaluated at ``iterations``).

        Set it to a float, a ``LearningRateSchedule`` or a callable of the step.
        """
        return _LearningRate(self._lr_at(self._iterations), self)

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        if isinstance(value, LearningRateSchedule) or callable(value):
            self._learning_rate = value
            self._lr_takes_step = isinstance(value, LearningRateSchedule) or _takes_argument(value)
            return
        if isinstance(value, Tensor | np.ndarray | np.generic) and np.size(value) == 1:
            value = float(np.asarray(value))
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"learning_rate must be a float, a LearningRateSchedule or a callable "
                            f"of the step, got {value!r} of type {type(value).__name__}.")
        self._learning_rate = check_non_negative(
            type(self).__name__, "learning_rate", value,
            "It is the size of each step down the gradient: use a small positive number such "
            "as 1e-3 (to maximise a quantity, minimise its negative).")

    def _lr_at(self, step: int) -> float:
        lr = self._learning_rate
        if isinstance(lr, float):
            return lr
        value = lr(step) if self._lr_takes_step else lr()
        return float(np.asarray(value.data if isinstance(value, Tensor) else value))

    def exclude_from_weight_decay(self, var_list: Iterable[Any] | None = None,
                                  var_names: Iterable[str] | None = None) -> None:
        """Exempt variables from weight decay: these objects, or names containing any of ``var_names``.

        Examples
        --------
        >>> opt = AdamW()
        >>> opt.exclude_from_weight_decay(var_names=["bias"])  # no decay on biases
        """
        self._exclude_ids = {id(v) for v in (var_list or [])}
        names = list(var_names or [])
        self._exclude_pattern = re.compile("|".join(names)) if names else None
        self._decays = [self._uses_weight_decay(v) for v in self._variables]

    def _uses_weight_decay(self, variable: Any) -> bool:
        if id(variable) in self._exclude_ids:
            return False
        pattern = self._exclude_pattern
        return pattern is None or pattern.search(str(getattr(variable, "name", ""))) is None

    # ---- state ----------------------------------------------------------------------------------
    def build(self, variables: Sequence[Any]) -> None:
        """Create the per-variable state (once per variable), preallocated in its dtype.

        Calling ``build`` again with the same variables does nothing; variables
        not seen before get fresh state, appended after the existing ones.
        """
        added = False
        for var in variables:
            if id(var) in self._index:
                continue
            data = getattr(var, "data", None)
            if not isinstance(data, np.ndarray) or data.dtype.kind != "f":
                raise TypeError(
                    f"{type(self).__name__} can only update floating-point unafraid.Variable "
                    f"objects; got {var!r}. Create weights with layer.add_weight or "
                    f"unafraid.Variable(np.zeros(shape, 'float32')).")
            self._index[id(var)] = len(self._variables)
            self._variables.append(var)
            self._state.append({slot: self._init_slot(slot, data) for slot in self.slots})
            self._decays.append(self._uses_weight_decay(var))
            added = True
        if added:
            self._fast.allocate([v.data for v in self._variables])
        self.built = True

    def _init_slot(self, slot: str, data: np.ndarray) -> np.ndarray:
        return np.zeros(data.shape, data.dtype)

    @property
    def built_variables(self) -> list[Any]:
        """The model variables this optimizer holds state for, in build order (the order of
        ``state_dict``'s ``'<index>/<slot>'`` keys)."""
        return list(self._variables)

    @property
    def variables(self) -> list[np.ndarray]:
        """The optimizer's state arrays (all slots of all variables, in build order)."""
        return [a for state in self._state for a in state.values()]

    def state_dict(self) -> dict[str, np.ndarray]:
        """All optimizer state, as copies: ``'iterations'`` and ``'<variable index>/<slot>'``.

        Returns
        -------
        dict of str to ndarray
            ``'iterations'`` is a 0-d int64 array; the slots (e.g. ``'0/m'``,
            ``'0/v'``) have their variable's shape and dtype. Save it with any
            array format and restore it with ``load_state_dict`` after
            ``build`` on the same variables to continue bit-identically.
        """
        out = {"iterations": np.array(self._iterations, np.int64)}
        for i, state in enumerate(self._state):
            for slot, arr in state.items():
                out[f"{i}/{slot}"] = arr.copy()
        return out

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore ``state_dict()``'s output (validated fully before anything is changed).

        Raises
        ------
        RuntimeError
            If the optimizer is not built yet (call ``build(variables)`` first).
        ValueError
            For missing or unexpected keys, or arrays of the wrong shape or dtype.
        """
        if not self.built and any(k != "iterations" for k in state):
            raise RuntimeError(
                f"{type(self).__name__}.load_state_dict needs the optimizer's variables first: "
                f"call optimizer.build(model.trainable_weights) before loading its state.")
        expected = {"iterations": np.array(0, np.int64)}
        expected.update({f"{i}/{slot}": arr for i, st in enumerate(self._state)
                         for slot, arr in st.items()})
        missing = sorted(set(expected) - set(state))
        unexpected = sorted(set(state) - set(expected))
        if missing or unexpected:
            raise ValueError(
                f"{type(self).__name__} ('{self.name}') state does not match: missing keys "
                f"{missing}, unexpected keys {unexpected}. The state must come from the same "
                f"optimizer class and settings (slots: {list(self.slots)}) built on the same "
                f"{len(self._variables)} variables in the same order.")
        arrays = {}
        for key, ref in expected.items():
            arr = np.asarray(state[key])
            if key == "iterations":
                if arr.shape != () or arr.dtype.kind not in "iu" or arr < 0:
                    raise ValueError(f"state['iterations'] must be a 0-d non-negative integer "
                                     f"array, got shape {arr.shape} dtype {arr.dtype}.")
            elif arr.shape != ref.shape or arr.dtype != ref.dtype:
                var = self._variables[int(key.split("/")[0])]
                raise ValueError(
                    f"state['{key}'] (for variable '{getattr(var, 'name', '?')}') has shape "
                    f"{arr.shape} and dtype {arr.dtype}; expected shape {ref.shape} and dtype "
                    f"{ref.dtype}. Was the state saved from a different model?")
            arrays[key] = arr
        for key, ref in expected.items():
            if key != "iterations":
                ref[...] = arrays[key]
        self._iterations = int(arrays["iterations"])

    # ---- the step -------------------------------------------------------------------------------
    def apply(self, grads: Sequence[Any], trainable_variables: Sequence[Any] | None = None) -> None:
        """Apply one update: ``grads[i]`` is the gradient of the loss w.r.t. ``trainable_variables[i]``.

        Parameters
        ----------
        grads : list of ndarray or None
            Same shapes as the variables; ``None`` entries are skipped (with a warning).
        trainable_variables : list of Variable, optional
            Defaults to the variables the optimizer was built with.
        """
        pairs = self._gradient_pairs(list(grads), trainable_variables)
        if not pairs:
            return
        lr = self._lr_at(self._iterations)
        kernel = self.fast_update(lr) if self.use_fast_path else None
        if kernel is None:
            self._plain_step(pairs, lr)
        else:
            self._fast_step(pairs, lr, *kernel)
        for _, var in pairs:
            constraint = getattr(var, "constraint", None)
            if constraint is not None:
                w = var.data
                w[...] = np.asarray(constraint(w))
            var._edited()
        self._iterations += 1

    def _plain_step(self, pairs: list[tuple[np.ndarray, Any]], lr: float) -> None:
        """Clip, decay, ``update_step``: the reference the fast path is tested against."""
        grads = self.clip_gradients([g for g, _ in pairs])
        for g, (_, var) in zip(grads, pairs, strict=True):
            i, w = self._index[id(var)], var.data
            if self.weight_decay and self._decays[i]:
                w -= w * self.weight_decay * lr
            self.update_step(g, w, self._state[i], lr)

    def _fast_step(self, pairs: list[tuple[np.ndarray, Any]], lr: float, kernel: fast.Kernel,
                   scalars: dict[str, Any]) -> None:
        """The same operations as ``_plain_step``, in place (see ``unafraid.optimizers_fast``)."""
        scale = self.global_clip_scale([g for g, _ in pairs]) if self.global_clipnorm else 1.0
        clipping = bool(self.clipnorm or self.global_clipnorm or self.clipvalue)
        jobs = []
        for g, var in pairs:
            i, w = self._index[id(var)], var.data
            s = self._fast.scratch(i)
            if self.weight_decay and self._decays[i]:
                fast.weight_decay(w, s[0], decay=self.weight_decay, lr=lr)
            if clipping:  # into scratch 2, which is shared: update this variable right away
                kernel(self.clip_gradient(g, scale, out=s[2]), w, self._state[i], s[0], s[1], **scalars)
            else:
                jobs.append((i, g, w, self._state[i]))
        if jobs:
            self._fast.run(kernel, scalars, jobs)

    def update_step(self, g: np.ndarray, w: np.ndarray, state: State, lr: float) -> None:
        """The update rule: change ``w`` and the ``state`` arrays in place (subclasses write it)."""
        raise NotImplementedError(f"{type(self).__name__} must define update_step(g, w, state, lr).")

    def fast_update(self, lr: float) -> tuple[fast.Kernel, dict[str, Any]] | None:
        """The in-place kernel doing ``update_step``'s operations, and its scalars for this step.

        The kernel must be elementwise (the fast path may cut a variable in halves) and give
        ``update_step``'s bits. None (the default): there is none, and ``update_step`` runs.
        """
        return None

    def _gradient_pairs(self, grads: list[Any], trainable_variables: Sequence[Any] | None
                        ) -> list[tuple[np.ndarray, Any]]:
        """``(gradient array, variable)`` for each gradient that is not None, checked; builds state."""
        if not grads:
            return []
        variables = self._variables_for(trainable_variables)
        if len(grads) != len(variables):
            raise ValueError(f"Got {len(grads)} gradients for {len(variables)} variables; pass one "
                             f"gradient (or None) per variable, in the same order.")
        if any(id(v) not in self._index for v in variables):
            self.build(variables)
        pairs = [(g, v) for g, v in zip(grads, variables, strict=True) if g is not None]
        if len(pairs) < len(grads):
            self._warn_missing(grads, variables, none_left=not pairs)
        return [(self._as_gradient(g, v), v) for g, v in pairs]

    def _variables_for(self, trainable_variables: Sequence[Any] | None) -> list[Any]:
        if trainable_variables is not None:
            return list(trainable_variables)
        if not self.built:
            raise ValueError("When passing `grads` without `trainable_variables`, the optimizer "
                             "must already be built: call optimizer.build(variables) first.")
        return self._variables

    @staticmethod
    def _warn_missing(grads: list[Any], variables: list[Any], none_left: bool) -> None:
        missing = [getattr(v, "name", "?") for g, v in zip(grads, variables, strict=True) if g is None]
        if none_left:
            raise ValueError(f"No gradients provided for any variable ({missing}). Does the "
                             f"loss depend on them? Check that it is computed from the model's "
                             f"output.")
        warnings.warn(f"Gradients do not exist for variables {missing} when minimizing the "
                      f"loss; they are not updated.", stacklevel=4)

    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, Any]]) -> int:
        """``apply`` for ``(gradient, variable)`` pairs (tf.keras's form). Returns ``iterations``."""
        pairs = list(grads_and_vars)
        if pairs:
            grads, variables = zip(*pairs, strict=True)
            self.apply(list(grads), list(variables))
        return self._iterations

    def _as_gradient(self, g: Any, var: Any) -> np.ndarray:
        g = g.data if isinstance(g, Tensor) else g
        w = var.data
        if not isinstance(g, np.ndarray) or g.dtype != w.dtype:
            g = np.asarray(g, dtype=w.dtype)
        if g.shape != w.shape:
            raise ValueError(f"The gradient for variable '{getattr(var, 'name', '?')}' has shape "
                             f"{g.shape}, but the variable has shape {w.shape}. Pass gradients in "
                             f"the same order as the variables.")
        return g

    # ---- clipping (Keras 3's) -------------------------------------------------------------------
    def clip_gradients(self, grads: list[np.ndarray]) -> list[np.ndarray]:
        """Each gradient clipped as ``clip_gradient`` does (new arrays; the inputs are untouched)."""
        scale = self.global_clip_scale(grads) if self.global_clipnorm else 1.0
        return [self.clip_gradient(g, scale) for g in grads]

    def global_clip_scale(self, grads: list[np.ndarray]) -> float:
        """``global_clipnorm``'s factor ``clip * min(1/N, 1/clip)``, ``N`` the joint L2 norm.

        NaN when ``N`` is not finite (so the step fails loudly), as in Keras.
        """
        clip = float(self.global_clipnorm)
        norm = math.sqrt(sum(float(np.vdot(g, g)) for g in grads))
        if not math.isfinite(norm):
            return math.nan
        return clip * min(1.0 / norm if norm else math.inf, 1.0 / clip)

    def clip_gradient(self, g: np.ndarray, global_scale: float = 1.0,
                      out: np.ndarray | None = None) -> np.ndarray:
        """Keras 3's clipping of one gradient (into ``out`` when given; ``g`` is untouched).

        ``clipnorm``: ``g * clipnorm / max(||g||, clipnorm)``; ``global_clipnorm``:
        ``g * global_scale``; ``clipvalue``: ``clip(g, -c, c)``. Where the factor
        is exactly 1 the gradient is used as it is.
        """
        if self.clipnorm:
            norm = math.sqrt(float(np.vdot(g, g)))
            if norm > self.clipnorm:
                out = np.multiply(g, self.clipnorm, out=out)
                out /= norm
                return out
            return g
        if self.global_clipnorm:
            return g if global_scale == 1.0 else np.multiply(g, global_scale, out=out)
        if self.clipvalue:
            return np.clip(g, -self.clipvalue, self.clipvalue, out=out)
        return g

    def warm_up(self) -> None:
        """Prepare anything slow to load before training starts (``Model.compile`` calls it)."""

    # ---- Keras API extras -----------------------------------------------------------------------
    def scale_loss(self, loss: Any) -> Any:
        """The loss unchanged (no loss scaling in unafraid)."""
        return loss

    def finalize_variable_values(self, var_list: Any) -> None:
        """Nothing to do (no EMA); present because Keras's ``fit`` calls it."""

    # ---- serialisation --------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """Hyperparameters as JSON-serialisable data (Keras 3's keys); state is in ``state_dict``."""
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            lr = schedules.serialize(lr)
        elif not isinstance(lr, float):
            value = self._lr_at(self._iterations)
            warnings.warn(f"The learning rate of '{self.name}' is a plain callable ({lr!r}), which "
                          f"cannot be saved; the config stores its current value {value}. Subclass "
                          f"unafraid.optimizers.schedules.LearningRateSchedule (with get_config) "
                          f"to save a schedule.", stacklevel=2)
            lr = value
        return {"name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
                "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm,
                "clipvalue": self.clipvalue, "use_ema": self.use_ema,
                "ema_momentum": self.ema_momentum,
                "ema_overwrite_frequency": self.ema_overwrite_frequency,
                "loss_scale_factor": self.loss_scale_factor,
                "gradient_accumulation_steps": self.gradient_accumulation_steps}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None
                    ) -> Optimizer:
        """Re-create an optimizer (without state) from ``get_config()``'s output."""
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"], custom_objects)
        return cls(**config)

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} '{self.name}' learning_rate={self.learning_rate:.4g} "
                f"iterations={self._iterations}>")




class SGD(Optimizer):
    """Stochastic gradient descent, with optional (Nesterov) momentum, as in Keras 3.

    With learning rate ``eta``, momentum ``mu`` and gradient ``g_t`` (Sutskever et
    al., 2013, "On the importance of initialization and momentum in deep
    learning", eq. 1-2 with Keras's sign convention; Keras 3 ``optimizers/sgd.py``)::

        mu == 0:        w_t = w_{t-1} - eta g_t
        mu > 0:         m_t = mu m_{t-1} - eta g_t
                        w_t = w_{t-1} + m_t
        nesterov=True:  w_t = w_{t-1} + mu m_t - eta g_t

    Parameters
    ----------
    learning_rate : float or schedule, default 0.01
    momentum : float, default 0.0
        In [0, 1].
    nesterov : bool, default False
    **kwargs
        ``weight_decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``name``
        (see ``Optimizer``).

    State: ``'m'`` (the velocity), only when ``momentum > 0``.

    Examples
    --------
    >>> opt = SGD(learning_rate=0.1, momentum=0.9, nesterov=True)
    """

    default_name = "SGD"

    def __init__(self, learning_rate: Any = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        if not _is_number(momentum) or not 0 <= momentum <= 1:
            raise ValueError(f"`momentum` must be a float between [0, 1], got {momentum!r}.")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self.slots = ("m",) if self.momentum != 0 else ()

    def update_step(self, g, w, state, lr):
        mu = self.momentum
        if not mu:
            w -= g * lr
            return
        m = state["m"]
        m[...] = m * mu - g * lr
        w += m * mu - g * lr if self.nesterov else m

    def fast_update(self, lr):
        return fast.sgd, {"lr": lr, "momentum": self.momentum, "nesterov": self.nesterov}

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015, "Adam: A Method for Stochastic Optimization"), as in Keras 3.

    With step ``t`` (1 for the first update) and learning rate ``lr``::

        alpha_t = lr sqrt(1 - beta_2^t) / (1 - beta_1^t)
        m_t = m_{t-1} + (g_t - m_{t-1}) (1 - beta_1)        # = beta_1 m + (1 - beta_1) g
        v_t = v_{t-1} + (g_t^2 - v_{t-1}) (1 - beta_2)      # = beta_2 v + (1 - beta_2) g^2
        w_t = w_{t-1} - m_t alpha_t / (sqrt(v_t) + epsilon_hat)

    The bias corrections are folded into ``alpha_t`` (the form "just before
    Section 2.1" of the paper), so ``epsilon`` is the paper's ``epsilon_hat``.
    With ``amsgrad=True`` (Reddi et al., 2018, "On the Convergence of Adam and
    Beyond"), ``v_hat_t = max(v_hat_{t-1}, v_t)`` replaces ``v_t`` in the last line.
    The operations are Keras 3's, in its order (``keras/src/optimizers/adam.py``);
    ``alpha_t`` is computed in double precision and rounded once to the weights' dtype.

    Parameters
    ----------
    learning_rate : float or schedule, default 0.001
    beta_1 : float, default 0.9
        In [0, 1).
    beta_2 : float, default 0.999
        In [0, 1).
    epsilon : float, default 1e-7
    amsgrad : bool, default False
    **kwargs
        ``weight_decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``name``.

    State: ``'m'``, ``'v'`` (the paper's moment estimates, as Keras and PyTorch store
    them) and, with amsgrad, ``'v_hat'``, each shaped like the variable.

    Examples
    --------
    >>> opt = Adam(learning_rate=1e-3)
    """

    default_name = "adam"

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, amsgrad: bool = False, **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        owner = type(self).__name__
        self.beta_1 = check_decay_rate(owner, "beta_1", beta_1, 0.9)
        self.beta_2 = check_decay_rate(owner, "beta_2", beta_2, 0.999)
        self.epsilon = check_epsilon(owner, epsilon)
        self.amsgrad = bool(amsgrad)
        self.slots = ("m", "v", "v_hat") if self.amsgrad else ("m", "v")

    def step_size(self, lr: float) -> float:
        """``alpha_t = lr sqrt(1 - beta_2^t) / (1 - beta_1^t)``, ``t = iterations + 1``."""
        t = self._iterations + 1
        return lr * math.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t)

    def update_step(self, g, w, state, lr):
        alpha = self.step_size(lr)
        m, v = state["m"], state["v"]
        m += (g - m) * (1 - self.beta_1)
        v += (np.square(g) - v) * (1 - self.beta_2)
        if self.amsgrad:
            v_hat = state["v_hat"]
            np.maximum(v_hat, v, out=v_hat)
            v = v_hat
        w -= m * alpha / (np.sqrt(v) + self.epsilon)

    def fast_update(self, lr):
        return fast.adam, {"one_minus_beta_1": 1 - self.beta_1, "one_minus_beta_2": 1 - self.beta_2,
                           "alpha": self.step_size(lr), "epsilon": self.epsilon}

    def warm_up(self) -> None:
        """Load the compiled update (with numba installed) now rather than in the first step."""
        fast.warm_up()

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019, "Decoupled Weight
    Decay Regularization"), as in Keras 3 (``keras/src/optimizers/adamw.py``).

    Before Adam's update (see ``Adam``), each variable decays::

        w_{t-1} <- w_{t-1} - w_{t-1} lambda lr

    with ``lambda = weight_decay`` and ``lr`` the (scheduled) learning rate,
    so the decay is not rescaled by Adam's ``1 / sqrt(v)``. Exempt variables
    (e.g. biases) with ``exclude_from_weight_decay(var_names=['bias'])``.

    Parameters
    ----------
    learning_rate : float or schedule, default 0.001
    weight_decay : float, default 0.004
    beta_1, beta_2, epsilon, amsgrad
        As for ``Adam``.

    Examples
    --------
    >>> opt = AdamW(learning_rate=1e-3, weight_decay=0.01)
    """

    default_name = "adamw"

    def __init__(self, learning_rate: Any = 0.001, weight_decay: float = 0.004,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-7,
                 amsgrad: bool = False, **kwargs: Any) -> None:
        if weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float for AdamW. Received: "
                             "weight_decay=None. (Use Adam for no weight decay.)")
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, amsgrad=amsgrad, weight_decay=weight_decay, **kwargs)


class RMSprop(Optimizer):
    """RMSprop (Hinton, 2012, Coursera "Neural Networks for Machine Learning", lecture 6e),
    as in Keras 3 (``keras/src/optimizers/rmsprop.py``).

    With decay ``rho``, learning rate ``eta``::

        v_t = rho v_{t-1} + (1 - rho) g_t^2
        centered=False:  d_t = v_t + epsilon
        centered=True:   mg_t = rho mg_{t-1} + (1 - rho) g_t     (Graves, 2013, eq. 38-40)
                         d_t = v_t - mg_t^2 + epsilon
        delta_t = eta g_t / sqrt(d_t)
        momentum == 0:   w_t = w_{t-1} - delta_t
        momentum > 0:    b_t = momentum b_{t-1} + delta_t;  w_t = w_{t-1} - b_t

    Note that epsilon sits inside the square root, as in Keras.

    Parameters
    ----------
    learning_rate : float or schedule, default 0.001
    rho : float, default 0.9
        In [0, 1).
    momentum : float, default 0.0
    epsilon : float, default 1e-7
    centered : bool, default False
    **kwargs
        ``weight_decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``name``.

    State: ``'v'``; ``'momentum'`` when momentum > 0; ``'mg'`` when centered.

    Examples
    --------
    >>> opt = RMSprop(learning_rate=1e-3, centered=True)
    """

    default_name = "rmsprop"

    def __init__(self, learning_rate: Any = 0.001, rho: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-7, centered: bool = False, **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        owner = type(self).__name__
        self.rho = check_decay_rate(owner, "rho", rho, 0.9)
        self.momentum = check_non_negative(owner, "momentum", momentum,
                                           "Use 0 for none, or e.g. 0.9.")
        self.epsilon = check_epsilon(owner, epsilon)
        self.centered = bool(centered)
        self.slots = ("v",) + (("momentum",) if self.momentum > 0 else ()) + (
            ("mg",) if self.centered else ())

    def update_step(self, g, w, state, lr):
        rho, v = self.rho, state["v"]
        v[...] = rho * v + (1 - rho) * np.square(g)
        if self.centered:
            mg = state["mg"]
            mg[...] = rho * mg + (1 - rho) * g
            d = v - np.square(mg) + self.epsilon
        else:
            d = v + self.epsilon
        delta = lr * g / np.sqrt(d)
        if self.momentum > 0:
            b = state["momentum"]
            b[...] = self.momentum * b + delta
            delta = b
        w -= delta

    def fast_update(self, lr):
        return fast.rmsprop, {"lr": lr, "rho": self.rho, "momentum": self.momentum,
                              "epsilon": self.epsilon}

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}


class Adagrad(Optimizer):
    """Adagrad (Duchi, Hazan & Singer, 2011, "Adaptive Subgradient Methods for Online
    Learning and Stochastic Optimization", JMLR 12), as in Keras 3
    (``keras/src/optimizers/adagrad.py``).

    With learning rate ``eta`` and ``G_0 = initial_accumulator_value``::

        G_t = G_{t-1} + g_t^2
        w_t = w_{t-1} - eta g_t / sqrt(G_t + epsilon)

    (epsilon inside the square root, as in Keras.)

    Parameters
    ----------
    learning_rate : float or schedule, default 0.001
    initial_accumulator_value : float, default 0.1
        Non-negative.
    epsilon : float, default 1e-7
    **kwargs
        ``weight_decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``name``.

    State: ``'accumulator'`` (``G``).

    Examples
    --------
    >>> opt = Adagrad(learning_rate=0.01)
    """

    default_name = "adagrad"
    slots = ("accumulator",)

    def __init__(self, learning_rate: Any = 0.001, initial_accumulator_value: float = 0.1,
                 epsilon: float = 1e-7, **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        if not _is_number(initial_accumulator_value) or not initial_accumulator_value >= 0:
            raise ValueError(f"`initial_accumulator_value` must be non-negative, got "
                             f"{initial_accumulator_value!r}.")
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = check_epsilon(type(self).__name__, epsilon)

    def _init_slot(self, slot, data):
        return np.full(data.shape, self.initial_accumulator_value, data.dtype)

    def update_step(self, g, w, state, lr):
        G = state["accumulator"]
        G += np.square(g)
        w -= lr * g / np.sqrt(G + self.epsilon)

    def fast_update(self, lr):
        return fast.adagrad, {"lr": lr, "epsilon": self.epsilon}

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(),
                "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


# ---- lookup ---------------------------------------------------------------------------------------
NAMES = registry.names("optimizer", advice="Names are case-insensitive; or pass an optimizer such "
                       "as unafraid.optimizers.Adam(learning_rate=1e-3).")
NAMES.register(SGD, "sgd")
NAMES.register(Adam, "adam")
NAMES.register(AdamW, "adamw")
NAMES.register(RMSprop, "rmsprop")
NAMES.register(Adagrad, "adagrad")


def _init_args(cls: type) -> list[str]:
    names: list[str] = []
    for klass in cls.__mro__:
        if klass is object:
            break
        for p in inspect.signature(klass.__init__).parameters.values():
            if p.kind is p.POSITIONAL_OR_KEYWORD and p.name != "self" and p.name not in names:
                names.append(p.name)
    return names


class StepCount(int):
    """``optimizer.iterations``: an ``int`` that also has ``.numpy()``, as a tf.Variable has."""

    def numpy(self) -> np.int64:
        """The count as a NumPy integer."""
        return np.int64(self)


def _takes_argument(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` can be called with one positional argument (the step)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return True
    try:
        sig.bind(0)
        return True
    except TypeError:
        return False


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    """``{"class_name": ..., "config": ...}`` (JSON-serialisable; state not included).

    Examples
    --------
    >>> serialize(SGD(0.1))["class_name"]
    'SGD'
    """
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Optimizer:
    """The optimizer described by ``serialize``'s output (a fresh one, without state)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"An optimizer config must be a dict with 'class_name' and 'config', got "
                         f"{config!r}.")
    name = config["class_name"]
    cls = NAMES.lookup(name, custom_objects)
    return cls.from_config(dict(config.get("config", {})), custom_objects)


def get(identifier: Any) -> Optimizer:
    """An optimizer from a name (``'adam'``), a ``serialize`` dict, a class, or an instance.

    Parameters
    ----------
    identifier : str, dict, Optimizer or Optimizer subclass
        Names are case-insensitive: 'adam', 'adamw', 'sgd', 'rmsprop', 'adagrad'
        (with Keras's default arguments).

    Raises
    ------
    ValueError
        For an unknown name (listing the valid ones and the closest match) or
        an identifier of another kind.

    Examples
    --------
    >>> get("Adam").learning_rate
    0.001
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        return NAMES.lookup(identifier)()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    raise ValueError(f"Could not interpret optimizer identifier {identifier!r}: pass a name such "
                     f"as 'adam', a config dict, or an optimizer such as "
                     f"unafraid.optimizers.Adam(learning_rate=1e-3).")
