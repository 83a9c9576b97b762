"""Optimizers (``tf.keras.optimizers``): SGD, Adam, AdamW, RMSprop, Adagrad, Nadam, Adamax,
Adadelta, Lion, Lamb, Ftrl, Adafactor, ScheduleFreeAdamW, Muon.

Each optimizer follows Keras 3's update rule exactly (same formula, same order of
operations, same placement of epsilon, same order of clipping and weight decay), with
Keras's class names, arguments and defaults. Each rule is one short method,
``update_step(g, w, state, lr)``, written in the notation of its paper with plain NumPy
expressions: read it beside the paper (cited in each class's docstring).

How a step runs (``apply(grads, variables)``), as in Keras 3 (``base_optimizer.py``):

1. ``None`` gradients are skipped;
2. variables marked ``overwrite_with_gradient = True`` are set to their gradient (with
   gradient accumulation: to the largest gradient of the cycle) and leave the step;
3. with ``loss_scale_factor``, gradients are divided by it (``scale_loss`` multiplied the loss);
4. with ``gradient_accumulation_steps = k``, gradients are summed over ``k`` calls; on the
   k-th, their mean goes on (and the sums restart at zero), otherwise the step stops here;
5. gradients are clipped (``clipnorm``, ``clipvalue`` or ``global_clipnorm``);
6. decoupled weight decay ``w <- w - w * weight_decay * lr`` (when ``weight_decay`` is set);
7. the optimizer's own ``update_step``, with ``lr`` the learning rate at the call count
   (a schedule is called with it, 0 for the first call);
8. with ``use_ema``, each variable's moving average ``a <- mu a + (1 - mu) w`` (``mu = 0``
   at the first update), and every ``ema_overwrite_frequency`` updates ``w <- a`` (on every
   call, even one that only accumulated gradients; never for ``overwrite_with_gradient``
   variables);
9. each variable's ``constraint`` (``unafraid.constraints``): ``w <- constraint(w)``;
10. the call count goes up by one (``iterations``, the count of updates, is it divided by
    ``gradient_accumulation_steps``).

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
from collections.abc import Callable, Iterable, MutableMapping, Sequence
from typing import Any

import numpy as np

from . import optimizers_fast as fast
from . import registry, schedules
from .engine.tensor import Tensor
from .layers.base import snake_case, unique_name
from .schedules import LearningRateSchedule

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Nadam", "Adamax",
           "Adadelta", "Lion", "Lamb", "Ftrl", "Adafactor", "ScheduleFreeAdamW", "Muon",
           "MultiOptimizer", "OptimizerMap", "variable_path", "get",
           "serialize", "deserialize", "schedules"]

State = dict[str, np.ndarray]   # one optimizer variable per slot name ("m", "v"...)

# ``from unafraid.optimizers.schedules import ExponentialDecay`` works like tf.keras's path
sys.modules.setdefault(f"{__name__}.schedules", schedules)


def usable_gradients(grads: Sequence[np.ndarray]) -> bool:
    """Whether every gradient ``g`` has a finite ``g . g`` (one dot product each).

    That is false for a NaN or an infinity anywhere, and for a finite gradient so large that
    its squared norm overflows (a norm above about 1.8e19 in float32): squared, such a value
    would make Adam's ``v`` infinite and freeze its weight for good, silently.
    """
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is the answer, not a fault
        for g in grads:
            if g.dtype.kind in "fc":
                flat = g.reshape(-1)
                if not math.isfinite(float(np.dot(flat, flat))):
                    return False
    return True


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
        Defaults to Keras 3's: the class name in snake case, made unique as layer names are
        (``'adam'``, then ``'adam_1'``...; ``'sgd'``, ``'adam_w'``); ``clear_session`` restarts them.
    use_ema : bool, default False
        Keep an exponential moving average of each variable (Polyak averaging); slot ``'average'``.
        ``finalize_variable_values(variables)`` copies the averages into the variables. As in
        Keras, variables marked ``overwrite_with_gradient`` have no average and are never
        overwritten by one. With gradient accumulation the average moves on every call.
    ema_momentum : float, default 0.99
        In [0, 1]: ``average <- ema_momentum * average + (1 - ema_momentum) * w``.
    ema_overwrite_frequency : int, optional
        Every this many updates, overwrite the variables with their averages.
    loss_scale_factor : float, optional
        ``scale_loss(loss)`` multiplies the loss by it and ``apply`` divides the gradients by it
        (Keras's static loss scaling). When ``scale_loss`` was not called since the last step,
        ``apply`` still divides, as Keras does, and warns once (unless the gradients were scaled
        by hand, the step is then too small by this factor).
    gradient_accumulation_steps : int >= 2, optional
        Update only every this many calls, with the mean of their gradients (slot
        ``'gradient_accumulator'``); ``iterations`` counts the updates.

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
        self._check_options(use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor,
                            gradient_accumulation_steps)
        self._check_clipping(clipnorm=clipnorm, clipvalue=clipvalue, global_clipnorm=global_clipnorm,
                             weight_decay=weight_decay)
        self.name = name if name is not None else unique_name(snake_case(type(self).__name__))
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
        self.skipped_updates = 0  # updates not applied: a gradient held NaN or infinity
        self._iterations = 0
        self._variables: list[Any] = []            # the model variables, in build order
        self._index: dict[int, int] = {}           # id(variable) -> position in _variables
        self._state: list[State] = []              # per variable: one array per slot
        self._fast = fast.FastPath()               # scratch buffers and the two-core step
        self._decays: list[bool] = []              # per variable: apply weight decay?
        self._exclude_ids: set[int] = set()
        self._exclude_pattern: re.Pattern[str] | None = None
        self._globals: dict[str, np.ndarray] = {}  # state not per variable (Nadam's u_product)
        self._loss_scaled = False                  # scale_loss called since the last step?

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

    @staticmethod
    def _check_options(use_ema: Any, ema_momentum: Any, ema_overwrite_frequency: Any,
                       loss_scale_factor: Any, gradient_accumulation_steps: Any) -> None:
        """Keras 3's checks of the EMA, loss-scaling and accumulation options (Keras's messages)."""
        if gradient_accumulation_steps and (
                isinstance(gradient_accumulation_steps, bool) or
                not isinstance(gradient_accumulation_steps, int | np.integer) or
                not gradient_accumulation_steps >= 2):
            raise ValueError(f"`gradient_accumulation_steps` must be an integer >= 2. Received: "
                             f"gradient_accumulation_steps={gradient_accumulation_steps}")
        if use_ema:
            if not _is_number(ema_momentum) or ema_momentum > 1 or ema_momentum < 0:
                raise ValueError(f"`ema_momentum` must be in the range [0, 1]. Received: "
                                 f"ema_momentum={ema_momentum}")
            if ema_overwrite_frequency and (
                    isinstance(ema_overwrite_frequency, bool) or
                    not isinstance(ema_overwrite_frequency, int | np.integer) or
                    ema_overwrite_frequency < 1):
                raise ValueError(f"`ema_overwrite_frequency` must be an integer >= 1 or None. "
                                 f"Received: ema_overwrite_frequency={ema_overwrite_frequency}")
        if loss_scale_factor is not None and (
                not _is_number(loss_scale_factor) or not math.isfinite(loss_scale_factor) or
                loss_scale_factor <= 0):
            raise ValueError(f"`loss_scale_factor` must be a finite number > 0 or None, got "
                             f"{loss_scale_factor!r}. It multiplies the loss (scale_loss) and "
                             f"divides the gradients; e.g. 1024.0.")

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
        """Number of updates applied so far (an ``int`` with TensorFlow's ``.numpy()``).

        With ``gradient_accumulation_steps = k`` it is the number of calls divided by ``k``
        (rounded down), as in Keras; setting it sets the number of calls.
        """
        return StepCount(self.update_count)

    @property
    def update_count(self) -> int:
        """``t - 1`` for the update about to run: the calls so far, divided by
        ``gradient_accumulation_steps`` when set. Bias corrections use ``t = update_count + 1``."""
        steps = self.gradient_accumulation_steps
        return self._iterations // steps if steps else self._iterations

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


    @property
    def lr(self) -> float:
        """tf.keras 2's name for ``learning_rate`` (Keras 3 removed it), kept for compatibility."""
        return self.learning_rate

    @lr.setter
    def lr(self, value: Any) -> None:
        self.learning_rate = value

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

    def uses_weight_decay(self, variable: Any) -> bool:
        """Whether ``variable`` decays: False if ``exclude_from_weight_decay`` named it or its name
        matches one of the names given there (what a saved file records, per weight).

        Examples
        --------
        >>> import numpy as np, unafraid as uf
        >>> opt = AdamW()
        >>> opt.exclude_from_weight_decay(var_names=["bias"])
        >>> opt.uses_weight_decay(uf.Variable(np.zeros(2, np.float32), name="dense/bias"))
        False
        """
        return self._uses_weight_decay(variable)

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
            self._state.append({slot: self._init_slot(slot, data) for slot in self.variable_slots(var)})
            self._decays.append(self._uses_weight_decay(var))
            added = True
        if added:
            self._fast.allocate([v.data for v in self._variables])
        if not self.built:
            self._globals = self.init_globals(variables)
        self.built = True

    def state_slots(self) -> tuple[str, ...]:
        """The rule's ``slots``, then the options': ``'average'`` (use_ema) and
        ``'gradient_accumulator'`` (gradient_accumulation_steps)."""
        return (*self.slots, *(("average",) if self.use_ema else ()),
                *(("gradient_accumulator",) if self.gradient_accumulation_steps else ()))

    def variable_slots(self, variable: Any) -> tuple[str, ...]:
        """The slots kept for ``variable``: ``state_slots()`` for every variable, except in
        optimizers whose rule depends on the variable (Muon keeps Adam's ``'velocity'`` only for
        the variables it updates with Adam)."""
        return self.state_slots()

    def init_globals(self, variables: Sequence[Any]) -> dict[str, np.ndarray]:
        """State shared by all variables (0-d arrays, saved in ``state_dict`` under their names);
        none by default (Nadam keeps its product of momentum coefficients here)."""
        return {}

    def _init_slot(self, slot: str, data: np.ndarray) -> np.ndarray:
        return np.zeros(data.shape, data.dtype)

    def initial_state(self, variables: Sequence[Any]) -> dict[str, np.ndarray]:
        """The ``state_dict()`` this optimizer's settings give right after ``build(variables)``
        on no earlier state, without building (the optimizer is left unchanged).

        Parameters
        ----------
        variables : list of Variable
            The variables the state would be built for, in order.

        Returns
        -------
        dict of str to ndarray
            ``'iterations'`` (0, or the current count), ``'<index>/<slot>'`` for every slot of
            ``state_slots()`` (zeros, or e.g. Adagrad's ``initial_accumulator_value``) and
            the shared state (Nadam's ``u_product = 1``).

        Examples
        --------
        >>> import numpy as np, unafraid as uf
        >>> w = uf.Variable(np.zeros(2, np.float32))
        >>> sorted(uf.optimizers.Adam().initial_state([w]))
        ['0/m', '0/v', 'iterations']
        """
        out = {"iterations": np.array(self._iterations, np.int64)}
        for i, var in enumerate(variables):
            out.update({f"{i}/{slot}": self._init_slot(slot, var.data)
                        for slot in self.variable_slots(var)})
        out.update(self.init_globals(variables))
        return out

    @property
    def built_variables(self) -> list[Any]:
        """The model variables this optimizer holds state for, in build order (the order of
        ``state_dict``'s ``'<index>/<slot>'`` keys)."""
        return list(self._variables)

    @property
    def variables(self) -> list[np.ndarray]:
        """Keras's ``optimizer.variables``: the step count (a 0-d int64 array), the learning rate
        (a 0-d float32 array, only when it is a number: a schedule is not a variable), then the
        state arrays themselves (all slots of each variable, in build order, then the shared ones
        such as Nadam's ``u_product``). ``set_weights`` takes such a list back.

        Examples
        --------
        >>> import numpy as np, unafraid as uf
        >>> opt = uf.optimizers.SGD(learning_rate=0.5)
        >>> [float(v) for v in opt.variables]  # iterations, learning rate
        [0.0, 0.5]
        """
        head = [np.array(self._iterations, np.int64)]
        if isinstance(self._learning_rate, float):
            head.append(np.array(self._learning_rate, np.float32))
        return [*head, *(a for state in self._state for a in state.values()),
                *self._globals.values()]

    def get_weights(self) -> list[np.ndarray]:
        """Copies of ``variables``, for ``set_weights``."""
        return [np.array(v) for v in self.variables]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Set the step count, the learning rate and the state from ``weights`` (``variables``'s
        order, e.g. another optimizer's ``variables`` built on the same variables); checked
        fully before anything changes.

        Raises
        ------
        ValueError
            When the optimizer is not built yet, or ``weights`` has the wrong length, shapes or
            dtypes.
        """
        if not self.built:
            raise ValueError("You are calling `set_weights()` on an optimizer that has not yet been "
                             "built. Please call `optimizer.build(trainable_variables)` to create "
                             "the optimizer weights before calling `set_weights()`.")
        current = self.variables
        weights = [np.asarray(w.numpy() if hasattr(w, "numpy") else w) for w in weights]
        if len(weights) != len(current):
            raise ValueError(f"{type(self).__name__}.set_weights: expected {len(current)} arrays "
                             f"(iterations, the learning rate when it is a number, then the "
                             f"state), got {len(weights)}. Pass another optimizer's `variables` "
                             f"built on the same variables.")
        for i, (w, ref) in enumerate(zip(weights, current, strict=True)):
            if w.shape != ref.shape:
                raise ValueError(f"{type(self).__name__}.set_weights: array {i} has shape "
                                 f"{w.shape}, expected {ref.shape}.")
        self._iterations = int(weights[0])
        rest = weights[1:]
        if isinstance(self._learning_rate, float):
            self.learning_rate = float(rest[0])
            rest = rest[1:]
        for w, ref in zip(rest, current[len(current) - len(rest):], strict=True):
            ref[...] = w

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
        out.update({name: arr.copy() for name, arr in self._globals.items()})
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
        expected.update(self._globals)
        missing = sorted(set(expected) - set(state))
        unexpected = sorted(set(state) - set(expected))
        if missing or unexpected:
            raise ValueError(
                f"{type(self).__name__} ('{self.name}') state does not match: missing keys "
                f"{missing}, unexpected keys {unexpected}. The state must come from the same "
                f"optimizer class and settings (slots: {list(self.state_slots())}) built on the same "
                f"{len(self._variables)} variables in the same order.")
        arrays = {}
        for key, ref in expected.items():
            arr = np.asarray(state[key])
            if key == "iterations":
                if arr.shape != () or arr.dtype.kind not in "iu" or arr < 0:
                    raise ValueError(f"state['iterations'] must be a 0-d non-negative integer "
                                     f"array, got shape {arr.shape} dtype {arr.dtype}.")
            elif arr.shape != ref.shape or arr.dtype != ref.dtype:
                if key in self._globals:
                    raise ValueError(f"state['{key}'] has shape {arr.shape} and dtype {arr.dtype}; "
                                     f"expected shape {ref.shape} and dtype {ref.dtype}.")
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
    def apply(self, grads: Sequence[Any], trainable_variables: Sequence[Any] | None = None,
              scratch_gradients: bool = False) -> None:
        """Apply one update: ``grads[i]`` is the gradient of the loss w.r.t. ``trainable_variables[i]``.

        Parameters
        ----------
        grads : list of ndarray or None
            Same shapes as the variables; ``None`` entries are skipped (with a warning).
        trainable_variables : list of Variable, optional
            Defaults to the variables the optimizer was built with.
        scratch_gradients : bool, default False
            True when the caller made ``grads`` for this update only and never reads them
            again (``fit``'s train step): the in-place update may then write into them (they
            hold garbage afterwards), which spares Adam one array's trip through the caches.
            The update's numbers are the same either way.

        If any gradient holds NaN or infinity, or its squared norm overflows (see
        ``usable_gradients``), nothing changes (no variable, no slot, not ``iterations``):
        the update is skipped with a ``RuntimeWarning`` and counted in ``skipped_updates``.
        (Keras would write the NaN into the weights; its ``LossScaleOptimizer`` skips such
        steps the same way.)
        """
        pairs = self._gradient_pairs(list(grads), trainable_variables)
        if not pairs:
            return
        if not usable_gradients([g for g, _ in pairs]):
            self._skip(pairs)
            return
        pairs = self._overwrite_with_gradients(pairs)
        if pairs:
            pairs = self._unscale(pairs)
            update = self._accumulate(pairs) if self.gradient_accumulation_steps else pairs
            if update:
                self._update(update, self._lr_at(self._iterations), scratch_gradients)
            if self.use_ema:
                self._update_moving_averages()
            for _, var in pairs:
                constraint = getattr(var, "constraint", None)
                if constraint is not None:
                    w = var.data
                    w[...] = np.asarray(constraint(w))
        for var in self._variables if self.use_ema else [v for _, v in pairs]:
            var._edited()
        self._iterations += 1

    def _skip(self, pairs: list[tuple[np.ndarray, Any]]) -> None:
        """Leave every variable, slot and ``iterations`` as it is, count the skip and say why."""
        self.skipped_updates += 1
        bad = [getattr(var, "name", "?") for g, var in pairs if not usable_gradients([g])]
        warnings.warn(
            f"{type(self).__name__} skipped update {self._iterations + 1}: the gradient of "
            f"{bad[:3]}{' and others' if len(bad) > 3 else ''} holds NaN or infinity (or its "
            f"squared norm overflows {pairs[0][0].dtype}), so the "
            f"weights and the optimizer's state were left as they were (writing NaN into them "
            f"would lose the model). Common causes: a learning rate too high, unscaled inputs, "
            f"or log(0) / 0-division in a custom loss. optimizer.skipped_updates counts these.",
            RuntimeWarning, stacklevel=3)

    def _update(self, pairs: list[tuple[np.ndarray, Any]], lr: float,
                scratch_gradients: bool = False) -> None:
        """Clip, decay and ``update_step`` (the plain rule, or its in-place twin)."""
        self.before_update()
        kernel = self.fast_update(lr) if self.use_fast_path else None
        if kernel is None:
            self._plain_step(pairs, lr)
        else:
            self._fast_step(pairs, lr, *kernel, scratch_gradients)

    def before_update(self) -> None:
        """Change the shared state once per update, before the variables' rules (Nadam's
        ``u_product``); nothing by default."""

    # ---- the options of a step (Keras 3's order) -----------------------------------------------
    def _overwrite_with_gradients(self, pairs: list[tuple[np.ndarray, Any]]
                                  ) -> list[tuple[np.ndarray, Any]]:
        """Set each variable marked ``overwrite_with_gradient`` to its gradient; the other pairs.

        With gradient accumulation, Keras keeps the running maximum of the cycle's gradients
        and writes it on the cycle's last call.
        """
        rest = []
        for g, var in pairs:
            if not getattr(var, "overwrite_with_gradient", False):
                rest.append((g, var))
                continue
            steps = self.gradient_accumulation_steps
            if steps:
                acc = self._state[self._index[id(var)]]["gradient_accumulator"]
                if (self._iterations + 1) % steps == 0:
                    var.data[...] = np.maximum(g, acc)
                    acc[...] = 0
                else:
                    np.maximum(g, acc, out=acc)
            else:
                var.data[...] = g
            var._edited()
        return rest

    def _unscale(self, pairs: list[tuple[np.ndarray, Any]]) -> list[tuple[np.ndarray, Any]]:
        scale = self.loss_scale_factor
        if scale is None:
            return pairs
        if not self._loss_scaled and not self.__dict__.get("_warned_unscaled"):
            self._warned_unscaled = True  # once: scaling by hand, as Keras's own test does, is valid
            warnings.warn(
                f"{type(self).__name__}(loss_scale_factor={scale}) divides the gradients by "
                f"{scale}, as Keras does, but scale_loss was not called since the last step: unless "
                f"you multiplied the loss (or the gradients) by {scale} yourself, this step is "
                f"{scale} times too small. Call loss = optimizer.scale_loss(loss) before taking "
                f"gradients (Keras's train_step does), or drop loss_scale_factor (unafraid trains "
                f"in float32 and needs none).", stacklevel=4)
        self._loss_scaled = False
        return [(g / np.asarray(scale, g.dtype), var) for g, var in pairs]

    def _accumulate(self, pairs: list[tuple[np.ndarray, Any]]) -> list[tuple[np.ndarray, Any]]:
        """Add the gradients to their sums; on every ``k``-th call return the means
        ``(g + sum) / k`` and restart all sums at zero, else return nothing."""
        steps = self.gradient_accumulation_steps
        if (self._iterations + 1) % steps:
            for g, var in pairs:
                self._state[self._index[id(var)]]["gradient_accumulator"] += g
            return []
        means = [((g + self._state[self._index[id(var)]]["gradient_accumulator"]) / steps, var)
                 for g, var in pairs]
        for state in self._state:
            state["gradient_accumulator"][...] = 0
        return means

    def _update_moving_averages(self) -> None:
        """``a <- mu a + (1 - mu) w`` for every variable (``mu = 0`` at the first update), and
        ``w <- a`` every ``ema_overwrite_frequency`` updates (Polyak & Juditsky, 1992)."""
        mu = self.ema_momentum if self.update_count != 0 else 0.0
        for var, state in zip(self._variables, self._state, strict=True):
            if getattr(var, "overwrite_with_gradient", False):
                continue  # Keras keeps no average for these (add_optimizer_variables skips them)
            a = state["average"]
            a[...] = mu * a + (1 - mu) * var.data
        freq = self.ema_overwrite_frequency
        if freq and (self.update_count + 1) % freq == 0:
            self._copy_averages(self._variables)

    def _copy_averages(self, variables: Sequence[Any]) -> None:
        if len(variables) != len(self._variables):
            raise ValueError(f"The length of model variables ({len(variables)}) to override does "
                             f"not match the length of model variables stored in the optimizer "
                             f"({len(self._variables)}). Please check if the optimizer was called "
                             f"on your model.")
        for var, state, own in zip(variables, self._state, self._variables, strict=True):
            if getattr(own, "overwrite_with_gradient", False):
                continue  # no average: Keras leaves these variables as they are
            var.data[...] = state["average"]
            var._edited()

    def _plain_step(self, pairs: list[tuple[np.ndarray, Any]], lr: float) -> None:
        """Clip, decay, ``update_step``: the reference the fast path is tested against."""
        grads = self.clip_gradients([g for g, _ in pairs])
        for g, (_, var) in zip(grads, pairs, strict=True):
            i, w = self._index[id(var)], var.data
            if self.weight_decay and self._decays[i]:
                w -= w * self.weight_decay * lr
            self.update_step(g, w, self._state[i], lr)

    def _fast_step(self, pairs: list[tuple[np.ndarray, Any]], lr: float, kernel: fast.Kernel,
                   scalars: dict[str, Any], scratch_gradients: bool = False) -> None:
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
            self._fast.run(kernel, scalars, jobs, scratch_gradients)

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

    def _clip_gradients(self, grads: list[Any]) -> list[np.ndarray]:
        """Keras 3's name for :meth:`clip_gradients` (Keras's own optimizer tests call it)."""
        return self.clip_gradients([np.asarray(g.numpy() if hasattr(g, "numpy") else g) for g in grads])

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
        """``loss * loss_scale_factor`` (the loss unchanged when it is None), as in Keras.

        ``apply`` then divides the gradients by the factor.
        """
        if self.loss_scale_factor is None:
            return loss
        self._loss_scaled = True
        return loss * self.loss_scale_factor

    def finalize_variable_values(self, var_list: Any) -> None:
        """With ``use_ema``, overwrite the variables with their moving averages (Keras's ``fit``
        calls it at the end of training); otherwise nothing."""
        if self.use_ema and self.built:
            self._copy_averages(list(var_list))

    def moving_averages(self) -> list[tuple[Any, np.ndarray]]:
        """With ``use_ema``, each variable that has a moving average, with the average itself:
        the optimizer's live state array (the variable's shape and dtype), so that writing to it
        changes the state (the ``SwapEMAWeights`` callback swaps the two). Empty without
        ``use_ema`` or before ``build``; variables marked ``overwrite_with_gradient`` have none.

        Examples
        --------
        >>> import numpy as np, unafraid as uf
        >>> w = uf.Variable(np.array([1.0, 2.0], np.float32))
        >>> opt = uf.optimizers.SGD(learning_rate=0.5, use_ema=True)
        >>> opt.apply([np.ones(2, np.float32)], [w])  # first step: the average is the new w
        >>> [(v is w, a.tolist()) for v, a in opt.moving_averages()]
        [(True, [0.5, 1.5])]
        """
        if not (self.use_ema and self.built):
            return []
        return [(var, state["average"]) for var, state in zip(self._variables, self._state,
                                                              strict=True)
                if "average" in state and not getattr(var, "overwrite_with_gradient", False)]

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




class TwoMoments(Optimizer):
    """The Adam family's shared settings (Adam, Nadam, Adamax, Lamb): the decay rates of the
    first and second moment estimates, ``beta_1`` and ``beta_2`` in [0, 1), and ``epsilon > 0``,
    checked once here. Subclasses write the update rule."""

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        owner = type(self).__name__
        self.beta_1 = check_decay_rate(owner, "beta_1", beta_1, 0.9)
        self.beta_2 = check_decay_rate(owner, "beta_2", beta_2, 0.999)
        self.epsilon = check_epsilon(owner, epsilon)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}


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


class Adam(TwoMoments):
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
        super().__init__(learning_rate, beta_1, beta_2, epsilon, **kwargs)
        self.amsgrad = bool(amsgrad)
        self.slots = ("m", "v", "v_hat") if self.amsgrad else ("m", "v")

    def step_size(self, lr: float) -> float:
        """``alpha_t = lr sqrt(1 - beta_2^t) / (1 - beta_1^t)``, ``t = iterations + 1``."""
        t = self.update_count + 1
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
        return {**super().get_config(), "amsgrad": self.amsgrad}


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
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None "
                             "(AdamW's decoupled weight decay; use Adam for no weight decay).")
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
        if slot == "accumulator":
            return np.full(data.shape, self.initial_accumulator_value, data.dtype)
        return super()._init_slot(slot, data)

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


class Nadam(TwoMoments):
    """Nadam: Adam with Nesterov momentum (Dozat, 2016, "Incorporating Nesterov Momentum into
    Adam", Algorithm 2), as in Keras 3 (``keras/src/optimizers/nadam.py``).

    With step ``t`` (1 for the first update), the momentum schedule
    ``mu_t = beta_1 (1 - 0.5 * 0.96^t)`` and its running product ``prod_t = mu_1 ... mu_t``::

        m_t = m_{t-1} + (g_t - m_{t-1}) (1 - beta_1)
        v_t = v_{t-1} + (g_t^2 - v_{t-1}) (1 - beta_2)
        m_hat = mu_{t+1} m_t / (1 - prod_t mu_{t+1}) + (1 - mu_t) g_t / (1 - prod_t)
        v_hat = v_t / (1 - beta_2^t)
        w_t = w_{t-1} - lr m_hat / (sqrt(v_hat) + epsilon)

    Parameters
    ----------
    learning_rate : float or schedule, default 0.001
    beta_1 : float, default 0.9
    beta_2 : float, default 0.999
    epsilon : float, default 1e-7
    **kwargs
        The options of ``Optimizer``.

    State: ``'m'``, ``'v'`` per variable, and ``'u_product'`` (``prod_t``, a 0-d array in the
    first variable's dtype, float32 without variables, as Keras keeps it).

    Examples
    --------
    >>> opt = Nadam(learning_rate=1e-3)
    """

    default_name = "nadam"
    slots = ("m", "v")

    def init_globals(self, variables):
        dtype = variables[0].data.dtype if len(variables) else np.dtype(np.float32)
        return {"u_product": np.array(1.0, dtype)}

    def mu(self, t: int) -> float:
        """The momentum schedule ``mu_t = beta_1 (1 - 0.5 * 0.96^t)``."""
        return self.beta_1 * (1.0 - 0.5 * 0.96 ** t)

    def before_update(self) -> None:
        prod = self._globals["u_product"]
        prod[...] = prod * self.mu(self.update_count + 1)

    def update_step(self, g, w, state, lr):
        t = self.update_count + 1
        mu_t, mu_next = self.mu(t), self.mu(t + 1)
        prod_t = float(self._globals["u_product"])
        m, v = state["m"], state["v"]
        m += (g - m) * (1 - self.beta_1)
        v += (np.square(g) - v) * (1 - self.beta_2)
        m_hat = m * (mu_next / (1 - prod_t * mu_next)) + g * ((1 - mu_t) / (1 - prod_t))
        v_hat = v / (1 - self.beta_2 ** t)
        w -= m_hat * lr / (np.sqrt(v_hat) + self.epsilon)


class Adamax(TwoMoments):
    """Adamax, Adam with the infinity norm (Kingma & Ba, 2015, Section 7.1, Algorithm 2), as in
    Keras 3 (``keras/src/optimizers/adamax.py``).

    With step ``t`` (1 for the first update)::

        m_t = m_{t-1} + (g_t - m_{t-1}) (1 - beta_1)
        u_t = max(beta_2 u_{t-1}, |g_t|)
        w_t = w_{t-1} - lr m_t / ((1 - beta_1^t) (u_t + epsilon))

    Parameters
    ----------
    learning_rate : float or schedule, default 0.001
    beta_1 : float, default 0.9
    beta_2 : float, default 0.999
    epsilon : float, default 1e-7
    **kwargs
        The options of ``Optimizer``.

    State: ``'m'`` and ``'u'`` (the exponentially weighted infinity norm).

    Examples
    --------
    >>> opt = Adamax(learning_rate=2e-3)
    """

    default_name = "adamax"
    slots = ("m", "u")

    def update_step(self, g, w, state, lr):
        t = self.update_count + 1
        m, u = state["m"], state["u"]
        m += (g - m) * (1 - self.beta_1)
        u[...] = np.maximum(u * self.beta_2, np.abs(g))
        w -= lr * m / ((1 - self.beta_1 ** t) * (u + self.epsilon))


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012, "ADADELTA: An Adaptive Learning Rate Method", Algorithm 1), as in
    Keras 3 (``keras/src/optimizers/adadelta.py``).

    With ``RMS[x] = sqrt(x + epsilon)``::

        E[g^2]_t = rho E[g^2]_{t-1} + (1 - rho) g_t^2
        dx_t = -RMS[E[dx^2]_{t-1}] g_t / RMS[E[g^2]_t]
        E[dx^2]_t = rho E[dx^2]_{t-1} + (1 - rho) dx_t^2
        w_t = w_{t-1} + lr dx_t

    (The paper has no learning rate, i.e. ``lr = 1``; Keras's default is 0.001.)

    Parameters
    ----------
    learning_rate : float or schedule, default 0.001
    rho : float, default 0.95
    epsilon : float, default 1e-7
    **kwargs
        The options of ``Optimizer``.

    State: ``'accumulated_grad'`` (``E[g^2]``) and ``'accumulated_delta_var'`` (``E[dx^2]``).

    Examples
    --------
    >>> opt = Adadelta(learning_rate=1.0)
    """

    default_name = "adadelta"
    slots = ("accumulated_grad", "accumulated_delta_var")

    def __init__(self, learning_rate: Any = 0.001, rho: float = 0.95, epsilon: float = 1e-7,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        owner = type(self).__name__
        self.rho = check_decay_rate(owner, "rho", rho, 0.95)
        self.epsilon = check_epsilon(owner, epsilon)

    def update_step(self, g, w, state, lr):
        rho, eps = self.rho, self.epsilon
        Eg2, Edx2 = state["accumulated_grad"], state["accumulated_delta_var"]
        Eg2[...] = rho * Eg2 + (1 - rho) * np.square(g)
        dx = -(np.sqrt(Edx2 + eps) * g / np.sqrt(Eg2 + eps))
        Edx2[...] = rho * Edx2 + (1 - rho) * np.square(dx)
        w += lr * dx

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


class Lion(Optimizer):
    """Lion, EvoLved Sign Momentum (Chen et al., 2023, "Symbolic Discovery of Optimization
    Algorithms", Program 1), as in Keras 3 (``keras/src/optimizers/lion.py``)::

        w_t = w_{t-1} - lr sign(beta_1 m_{t-1} + (1 - beta_1) g_t)
        m_t = beta_2 m_{t-1} + (1 - beta_2) g_t

    Every entry moves by exactly ``lr`` (or 0), so Lion wants a learning rate 3-10 times
    smaller than AdamW's.

    Parameters
    ----------
    learning_rate : float or schedule, default 0.001
    beta_1 : float, default 0.9
        In (0, 1] (0 would make it sign SGD).
    beta_2 : float, default 0.99
    **kwargs
        The options of ``Optimizer``.

    State: ``'m'``.

    Examples
    --------
    >>> opt = Lion(learning_rate=1e-4, weight_decay=0.01)
    """

    default_name = "lion"
    slots = ("m",)

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.99,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        if not _is_number(beta_1) or beta_1 <= 0 or beta_1 > 1:
            raise ValueError(f"Argument `beta_1` must be in the [0, 1] range. Otherwise, the "
                             f"optimizer degenerates to SignSGD. Received: beta_1={beta_1}.")
        if not _is_number(beta_2) or not 0 <= beta_2 <= 1:
            raise ValueError(f"Lion: `beta_2` must be in [0, 1], got {beta_2!r} (Keras's default "
                             f"is 0.99).")
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)

    def update_step(self, g, w, state, lr):
        m = state["m"]
        w -= lr * np.sign(m * self.beta_1 + g * (1.0 - self.beta_1))
        m[...] = m * self.beta_2 + g * (1.0 - self.beta_2)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}


class Adafactor(Optimizer):
    """Adafactor (Shazeer & Stern, 2018, "Adafactor: Adaptive Learning Rates with Sublinear Memory
    Cost", Algorithms 4 and 5), as in Keras 3 (``keras/src/optimizers/adafactor.py``).

    With step ``t`` (1 for the first update), ``RMS(x) = sqrt(mean(x^2))`` and
    ``G = g^2 + epsilon_1``::

        rho_t = min(lr, 1 / sqrt(t))          (lr itself is capped so when relative_step)
        alpha_t = max(epsilon_2, RMS(w)) rho_t
        beta_t = 1 - t^beta_2_decay
        2-D and more:  r = beta_t r + (1 - beta_t) mean(G, axis=-1)      (row factors)
                       c = beta_t c + (1 - beta_t) mean(G, axis=-2)      (column factors)
                       v = (r / mean(r)) outer c
        1-D:           v = beta_t v + (1 - beta_t) G
        u = g / sqrt(v);  w = w - alpha_t u / max(1, RMS(u) / clip_threshold)

    Parameters
    ----------
    learning_rate : float or schedule, default 0.001
    beta_2_decay : float, default -0.8
    epsilon_1 : float, default 1e-30
        Added to the squared gradient.
    epsilon_2 : float, default 1e-3
        Lower bound of the step's scale ``RMS(w)``.
    clip_threshold : float, default 1.0
    relative_step : bool, default True
        Cap a constant learning rate at ``1 / sqrt(t)`` (a schedule is used as it is).
    **kwargs
        The options of ``Optimizer``.

    State: ``'r'`` and ``'c'`` (row and column factors: shapes ``w.shape[:-1]`` and
    ``w.shape[:-2] + w.shape[-1:]``; 0-d for a 1-D variable) and ``'v'`` (shaped like ``w``).

    Examples
    --------
    >>> opt = Adafactor(learning_rate=0.01)
    """

    default_name = "adafactor"
    slots = ("r", "c", "v")

    def __init__(self, learning_rate: Any = 0.001, beta_2_decay: float = -0.8,
                 epsilon_1: float = 1e-30, epsilon_2: float = 1e-3, clip_threshold: float = 1.0,
                 relative_step: bool = True, **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_2_decay = beta_2_decay
        self.epsilon_1 = epsilon_1
        self.epsilon_2 = epsilon_2
        self.clip_threshold = clip_threshold
        self.relative_step = relative_step

    def _init_slot(self, slot, data):
        if data.ndim < 2 and slot in ("r", "c"):
            return np.zeros((), data.dtype)
        if slot == "r":
            return np.zeros(data.shape[:-1], data.dtype)
        if slot == "c":
            return np.zeros(data.shape[:-2] + data.shape[-1:], data.dtype)
        return super()._init_slot(slot, data)

    def update_step(self, g, w, state, lr):
        t = float(self.update_count + 1)
        if self.relative_step and not callable(self._learning_rate):
            lr = min(lr, 1.0 / np.sqrt(t))
        rho = min(lr, 1.0 / np.sqrt(t))
        alpha = max(self.epsilon_2, float(np.sqrt(np.mean(np.square(w))))) * rho
        squared = np.square(g) + self.epsilon_1
        beta = 1.0 - t ** self.beta_2_decay
        r, c, v = state["r"], state["c"], state["v"]
        if w.ndim >= 2:
            r[...] = beta * r + (1.0 - beta) * np.mean(squared, axis=-1)
            c[...] = beta * c + (1.0 - beta) * np.mean(squared, axis=-2)
            v[...] = (r / np.mean(r, axis=-1, keepdims=True))[..., None] * c[..., None, :]
        else:
            v[...] = beta * v + (1.0 - beta) * squared
        u = g / np.sqrt(v)
        w -= alpha * u / max(1.0, float(np.sqrt(np.mean(np.square(u)))) / self.clip_threshold)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta_2_decay": self.beta_2_decay,
                "epsilon_1": self.epsilon_1, "epsilon_2": self.epsilon_2,
                "clip_threshold": self.clip_threshold, "relative_step": self.relative_step}


class Lamb(TwoMoments):
    """LAMB, layer-wise adaptive moments (You et al., 2020, "Large Batch Optimization for Deep
    Learning: Training BERT in 76 minutes", Algorithm 2), as in Keras 3
    (``keras/src/optimizers/lamb.py``).

    With step ``t`` (1 for the first update), per variable (a "layer" of the paper)::

        m_t = m_{t-1} + (g_t - m_{t-1}) (1 - beta_1)
        v_t = v_{t-1} + (g_t^2 - v_{t-1}) (1 - beta_2)
        r_t = (m_t / (1 - beta_1^t)) / (sqrt(v_t / (1 - beta_2^t)) + epsilon)
        w_t = w_{t-1} - lr (||w_{t-1}|| / ||r_t||) r_t

    The trust ratio ``||w|| / ||r||`` (L2 norms over the whole variable) is 1 when either norm
    is 0. Keras's ``weight_decay`` is the decoupled decay of every optimizer, applied before.

    Parameters
    ----------
    learning_rate : float or schedule, default 0.001
    beta_1 : float, default 0.9
    beta_2 : float, default 0.999
    epsilon : float, default 1e-7
    **kwargs
        The options of ``Optimizer``.

    State: ``'m'``, ``'v'``.

    Examples
    --------
    >>> opt = Lamb(learning_rate=1e-3)
    """

    default_name = "lamb"
    slots = ("m", "v")

    def update_step(self, g, w, state, lr):
        t = self.update_count + 1
        m, v = state["m"], state["v"]
        m += (g - m) * (1 - self.beta_1)
        v += (np.square(g) - v) * (1 - self.beta_2)
        r = (m / (1.0 - self.beta_1 ** t)) / (np.sqrt(v / (1.0 - self.beta_2 ** t)) + self.epsilon)
        w_norm, r_norm = np.sqrt(np.sum(np.square(w))), np.sqrt(np.sum(np.square(r)))
        ratio = w_norm / r_norm if w_norm > 0 and r_norm > 0 else 1.0
        w -= ratio * lr * r


class Ftrl(Optimizer):
    """FTRL-Proximal (McMahan et al., 2013, "Ad Click Prediction: a View from the Trenches",
    Algorithm 1), with Keras 3's generalisations (``keras/src/optimizers/ftrl.py``).

    With ``p = -learning_rate_power`` (the paper's ``p = 1/2``), ``lambda_1``, ``lambda_2``,
    ``lambda_2' = l2_regularization_strength + beta / (2 lr)`` and the shrinkage
    ``lambda_s = l2_shrinkage_regularization_strength``::

        g~ = g + 2 lambda_s w
        n_t = n_{t-1} + g^2
        z_t = z_{t-1} + g~ - (n_t^p - n_{t-1}^p) / lr * w
        w_t = (clip(z_t, -lambda_1, lambda_1) - z_t) / (n_t^p / lr + 2 lambda_2')

    i.e. ``w = 0`` where ``|z| <= lambda_1``, else ``-(z - sign(z) lambda_1) / (...)``.

    Parameters
    ----------
    learning_rate : float or schedule, default 0.001
    learning_rate_power : float <= 0, default -0.5
    initial_accumulator_value : float >= 0, default 0.1
    l1_regularization_strength, l2_regularization_strength : float >= 0, default 0.0
    l2_shrinkage_regularization_strength : float >= 0, default 0.0
    beta : float, default 0.0
        The paper's ``beta`` (added to the L2 strength as ``beta / (2 lr)``).
    **kwargs
        The options of ``Optimizer``.

    State: ``'accumulator'`` (``n``, starting at ``initial_accumulator_value``) and
    ``'linear'`` (``z``).

    Examples
    --------
    >>> opt = Ftrl(learning_rate=0.1, l1_regularization_strength=0.01)
    """

    default_name = "ftrl"
    slots = ("accumulator", "linear")

    def __init__(self, learning_rate: Any = 0.001, learning_rate_power: float = -0.5,
                 initial_accumulator_value: float = 0.1, l1_regularization_strength: float = 0.0,
                 l2_regularization_strength: float = 0.0,
                 l2_shrinkage_regularization_strength: float = 0.0, beta: float = 0.0,
                 **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, **kwargs)
        checks = {"initial_accumulator_value": (initial_accumulator_value, "positive or zero"),
                  "learning_rate_power": (-learning_rate_power
                                          if _is_number(learning_rate_power) else None,
                                          "negative or zero"),
                  "l1_regularization_strength": (l1_regularization_strength, "positive or zero"),
                  "l2_regularization_strength": (l2_regularization_strength, "positive or zero"),
                  "l2_shrinkage_regularization_strength": (l2_shrinkage_regularization_strength,
                                                           "positive or zero")}
        given = {"initial_accumulator_value": initial_accumulator_value,
                 "learning_rate_power": learning_rate_power,
                 "l1_regularization_strength": l1_regularization_strength,
                 "l2_regularization_strength": l2_regularization_strength,
                 "l2_shrinkage_regularization_strength": l2_shrinkage_regularization_strength}
        for arg, (value, sign) in checks.items():
            if value is None or not _is_number(value) or value < 0:
                raise ValueError(f"`{arg}` needs to be {sign}. Received: {arg}={given[arg]}.")
        if not _is_number(beta):
            raise ValueError(f"Ftrl: `beta` must be a number, got {beta!r}.")
        self.learning_rate_power = float(learning_rate_power)
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.l1_regularization_strength = float(l1_regularization_strength)
        self.l2_regularization_strength = float(l2_regularization_strength)
        self.l2_shrinkage_regularization_strength = float(l2_shrinkage_regularization_strength)
        self.beta = float(beta)

    def _init_slot(self, slot, data):
        if slot == "accumulator":
            return np.full(data.shape, self.initial_accumulator_value, data.dtype)
        return super()._init_slot(slot, data)

    def update_step(self, g, w, state, lr):
        p = -self.learning_rate_power
        l1 = self.l1_regularization_strength
        l2 = self.l2_regularization_strength + self.beta / (2.0 * lr)
        n, z = state["accumulator"], state["linear"]
        g_shrunk = g + 2 * self.l2_shrinkage_regularization_strength * w
        n_new = n + np.square(g)
        z += g_shrunk - (np.power(n_new, p) - np.power(n, p)) / lr * w
        quadratic = np.power(n_new, p) / lr + 2 * l2
        w[...] = (np.clip(z, -l1, l1) - z) / quadratic
        n[...] = n_new

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "learning_rate_power": self.learning_rate_power,
                "initial_accumulator_value": self.initial_accumulator_value,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
                "beta": self.beta}


class ScheduleFreeAdamW(TwoMoments):
    """Schedule-Free AdamW (Defazio et al., 2024, "The Road Less Scheduled", Algorithm 1 with
    Adam's second moment), as in Keras 3 (``keras/src/optimizers/schedule_free_adamw.py``).

    No learning-rate schedule is needed: the base sequence ``z`` (slot ``'momentum'``, which
    starts at the variable's value) takes Adam-scaled gradient steps, ``x`` is the running
    (uniform) average of ``z``, and the variable ``y`` the model is evaluated at is the
    interpolation between them. With step ``t`` (1 for the first update) and
    ``lr_t = lr min(t / warmup_steps, 1)`` (``lr`` when ``warmup_steps = 0``)::

        v_t = v_{t-1} + (g_t^2 - v_{t-1}) (1 - beta_2)
        z_t = z_{t-1} - lr_t g_t / (sqrt(v_t / (1 - beta_2^t)) + epsilon)
        x_{t-1} = (y_{t-1} - (1 - beta_1) z_{t-1}) / beta_1
        x_t = (1 - 1/t) x_{t-1} + (1/t) z_t
        y_t = (1 - beta_1) z_t + beta_1 x_t

    ``x`` is not stored: it is recovered from ``y`` and ``z`` (Keras's form). Decoupled weight
    decay (``weight_decay``) acts on ``y`` before the step, as in every Keras optimizer.

    Parameters
    ----------
    learning_rate : float or schedule, default 0.0025
    beta_1 : float, default 0.9
        The interpolation between ``z`` and ``x``; in [0, 1).
    beta_2 : float, default 0.999
        The decay rate of the second-moment estimate; in [0, 1).
    epsilon : float, default 1e-8
    warmup_steps : int, default 0
        Linear warm-up of the learning rate over this many updates.
    **kwargs
        The options of ``Optimizer``.

    State: ``'momentum'`` (``z``) and ``'velocity'`` (``v``), each shaped like the variable.

    Examples
    --------
    >>> import numpy as np, unafraid as uf
    >>> w = uf.Variable(np.array([1.0, 2.0], np.float32))
    >>> opt = ScheduleFreeAdamW(learning_rate=0.5)
    >>> opt.apply([np.array([1.0, -1.0], np.float32)], [w])
    >>> w.data  # z moves by 0.5 (Adam's first step is lr * sign(g)); y = 0.1 z + 0.9 x, x = z
    array([0.5, 2.5], dtype=float32)
    """

    default_name = "schedule_free_adam_w"
    slots = ("momentum", "velocity")

    def __init__(self, learning_rate: Any = 0.0025, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-8, warmup_steps: int = 0, **kwargs: Any) -> None:
        super().__init__(learning_rate, beta_1, beta_2, epsilon, **kwargs)
        if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int | np.integer) or \
                warmup_steps < 0:
            raise ValueError(f"ScheduleFreeAdamW: `warmup_steps` must be an integer >= 0, got "
                             f"{warmup_steps!r}. It is the number of updates over which the "
                             f"learning rate rises linearly from 0 (0: no warm-up).")
        self.warmup_steps = int(warmup_steps)

    def _init_slot(self, slot: str, data: np.ndarray) -> np.ndarray:
        return data.copy() if slot == "momentum" else np.zeros(data.shape, data.dtype)

    def update_step(self, g, w, state, lr):
        dt = w.dtype.type
        t = dt(self.update_count + 1)
        lr = dt(lr)
        if self.warmup_steps > 0:
            lr = lr * min(t / dt(self.warmup_steps), dt(1.0))
        beta_1, beta_2 = dt(self.beta_1), dt(self.beta_2)
        z, v = state["momentum"], state["velocity"]
        z_old = z.copy()
        v += (np.square(g) - v) * (1 - beta_2)
        z -= lr * g / (np.sqrt(v / (1 - beta_2 ** t)) + dt(self.epsilon))
        weight = dt(1.0) / t
        x_old = (w - (1 - beta_1) * z_old) / beta_1
        x_new = (1 - weight) * x_old + weight * z
        w[...] = (1 - beta_1) * z + beta_1 * x_new

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "warmup_steps": self.warmup_steps}


class Muon(Optimizer):
    """Muon: momentum orthogonalized by Newton-Schulz (Jordan et al., 2024; with the update
    scaling of Liu et al., 2025, "Muon is Scalable for LLM Training"), as in Keras 3
    (``keras/src/optimizers/muon.py``), with AdamW for the variables Muon does not suit.

    A 2-D variable whose name matches none of ``exclude_layers`` (and, with
    ``exclude_embeddings``, does not contain "embedding") takes Muon's step, with momentum
    ``mu`` and learning rate ``lr``::

        m_t = mu m_{t-1} + g_t
        u_t = g_t + mu m_t            (nesterov; else u_t = m_t)
        O_t = NS5(u_t)                ~ U V^T of u_t = U S V^T
        w_t = w_{t-1} - lr O_t sqrt(max(rows, cols)) rms_rate   (rms_rate None: no scaling)

    ``NS5`` (``zeropower_via_newtonschulz5``) divides by the Frobenius norm (plus 1e-7), then
    repeats ``ns_steps`` times ``A = X X^T``, ``X <- a X + (b A + c A A) X`` with
    ``(a, b, c) = (muon_a, muon_b, muon_c)``, on the transpose when there are more rows than
    columns. Every other variable takes Adam's step (see ``Adam``) with learning rate
    ``lr * adam_lr_ratio``, betas ``adam_beta_1``, ``adam_beta_2`` and ``epsilon``. Weight decay
    ``w <- w - w lambda lr`` uses ``lambda = weight_decay`` for Muon's variables and
    ``adam_weight_decay`` for Adam's.

    Parameters
    ----------
    learning_rate : float or schedule, default 0.001
    adam_beta_1, adam_beta_2 : float, default 0.9, 0.999
    adam_weight_decay : float, default 0.004
    epsilon : float, default 1e-7
    weight_decay : float, default 0.004
    exclude_layers : list of str, optional
        Regular expressions searched in each variable's name (e.g. ``["output_dense"]`` for the
        last Dense layer); a match takes Adam's step.
    exclude_embeddings : bool, default True
    muon_a, muon_b, muon_c : float, default 3.4445, -4.7750, 2.0315
        The quintic Newton-Schulz coefficients.
    adam_lr_ratio : float, default 1
    momentum : float, default 0.95
    ns_steps : int, default 5
    nesterov : bool, default True
    rms_rate : float or None, default 0.2
    **kwargs
        The options of ``Optimizer``.

    State: ``'momentum'`` for every variable, ``'velocity'`` only for those taking Adam's step.

    Examples
    --------
    >>> import numpy as np, unafraid as uf
    >>> model = uf.keras.Sequential([uf.keras.Input((10,)), uf.keras.layers.Dense(5),
    ...                              uf.keras.layers.Dense(1, name="last")])
    >>> model.compile(optimizer=Muon(exclude_layers=["last"]), loss="mse")
    """

    default_name = "muon"
    slots = ("momentum", "velocity")

    def __init__(self, learning_rate: Any = 0.001, adam_beta_1: float = 0.9,
                 adam_beta_2: float = 0.999, adam_weight_decay: float | None = 0.004,
                 epsilon: float = 1e-7, weight_decay: float | None = 0.004,
                 exclude_layers: Sequence[str] | None = None, exclude_embeddings: bool = True,
                 muon_a: float = 3.4445, muon_b: float = -4.7750, muon_c: float = 2.0315,
                 adam_lr_ratio: float = 1, momentum: float = 0.95, ns_steps: int = 5,
                 nesterov: bool = True, rms_rate: float | None = 0.2, **kwargs: Any) -> None:
        super().__init__(learning_rate=learning_rate, weight_decay=weight_decay, **kwargs)
        self.adam_beta_1 = check_decay_rate("Muon", "adam_beta_1", adam_beta_1, 0.9)
        self.adam_beta_2 = check_decay_rate("Muon", "adam_beta_2", adam_beta_2, 0.999)
        self.epsilon = check_epsilon("Muon", epsilon)
        if adam_weight_decay is not None:
            adam_weight_decay = check_non_negative("Muon", "adam_weight_decay", adam_weight_decay,
                                                   "Keras's default is 0.004; None for none.")
        self.adam_weight_decay = adam_weight_decay
        if not _is_number(momentum) or not 0 <= momentum <= 1:
            raise ValueError(f"Muon: `momentum` must be a float between [0, 1], got {momentum!r}.")
        if isinstance(ns_steps, bool) or not isinstance(ns_steps, int | np.integer) or ns_steps < 0:
            raise ValueError(f"Muon: `ns_steps` must be an integer >= 0 (Newton-Schulz iterations; "
                             f"Keras's default is 5), got {ns_steps!r}.")
        self.muon_a, self.muon_b, self.muon_c = float(muon_a), float(muon_b), float(muon_c)
        self.adam_lr_ratio = adam_lr_ratio
        self.momentum = float(momentum)
        self.ns_steps = int(ns_steps)
        self.nesterov = bool(nesterov)
        self.exclude_embeddings = bool(exclude_embeddings)
        self.exclude_layers = list(exclude_layers or [])
        self.rms_rate = rms_rate

    def _should_use_adamw(self, variable: Any) -> bool:
        """Whether ``variable`` takes Adam's step: it is not 2-D, or it is an embedding (with
        ``exclude_embeddings``), or its name matches one of ``exclude_layers``."""
        if len(variable.shape) != 2:
            return True
        path = variable_path(variable)
        if self.exclude_embeddings and "embedding" in path.lower():
            return True
        return any(re.search(keyword, path) for keyword in self.exclude_layers)

    def variable_slots(self, variable: Any) -> tuple[str, ...]:
        slots = self.state_slots()
        return slots if self._should_use_adamw(variable) else tuple(s for s in slots if s != "velocity")

    def _apply_weight_decay(self, variables: Sequence[Any], lr: float | None = None) -> None:
        """``w <- w - w lambda lr`` for each variable not excluded from weight decay, with
        ``lambda = adam_weight_decay`` for Adam's variables and ``weight_decay`` for Muon's."""
        lr = self._lr_at(self._iterations) if lr is None else lr
        for var in variables:
            decay = self.adam_weight_decay if self._should_use_adamw(var) else self.weight_decay
            if decay is None or not self._uses_weight_decay(var):
                continue
            w = var.data
            w -= w * w.dtype.type(decay) * w.dtype.type(lr)
            var._edited()

    def _plain_step(self, pairs: list[tuple[np.ndarray, Any]], lr: float) -> None:
        grads = self.clip_gradients([g for g, _ in pairs])
        self._apply_weight_decay([var for _, var in pairs], lr)
        for g, (_, var) in zip(grads, pairs, strict=True):
            self.update_step(g, var, lr)

    def update_step(self, gradient: Any, variable: Any, learning_rate: float) -> None:  # type: ignore[override]
        """One variable's step, in Keras's signature ``(gradient, variable, learning_rate)``
        (Muon's rule depends on the variable, not only on its values): Adam's for variables
        with a ``'velocity'`` slot, Muon's for the others."""
        if id(variable) not in self._index:
            self.build([variable])
        w = variable.data
        g = np.asarray(gradient.data if isinstance(gradient, Tensor) else gradient, w.dtype)
        state = self._state[self._index[id(variable)]]
        if "velocity" in state:
            self._adamw_update_step(g, w, learning_rate * self.adam_lr_ratio, state)
        else:
            self._muon_update_step(g, w, learning_rate, state["momentum"])
        variable._edited()

    def _muon_update_step(self, g: np.ndarray, w: np.ndarray, lr: float, m: np.ndarray) -> None:
        m += g + m * w.dtype.type(self.momentum - 1)
        u = g + w.dtype.type(self.momentum) * m if self.nesterov else m
        update = self.zeropower_via_newtonschulz5(u, self.ns_steps)
        w -= self.lr_adjust(w.dtype.type(lr) * update)

    def _adamw_update_step(self, g: np.ndarray, w: np.ndarray, lr: float, state: State) -> None:
        t = self.update_count + 1
        dt = w.dtype.type
        alpha = dt(lr) * np.sqrt(1 - dt(self.adam_beta_2) ** dt(t)) / (1 - dt(self.adam_beta_1) ** dt(t))
        m, v = state["momentum"], state["velocity"]
        m += (g - m) * dt(1 - self.adam_beta_1)
        v += (np.square(g) - v) * dt(1 - self.adam_beta_2)
        w -= m * alpha / (np.sqrt(v) + dt(self.epsilon))

    def lr_adjust(self, x: Any) -> np.ndarray:
        """``x sqrt(max(rows, cols)) rms_rate`` (Liu et al., 2025: Muon's update then has the RMS
        of AdamW's, so both can share a learning rate and weight decay); ``x`` when
        ``rms_rate`` is None."""
        x = np.asarray(x.data if isinstance(x, Tensor) else x)
        if self.rms_rate is None:
            return x
        return x * np.sqrt(np.asarray(max(x.shape[0], x.shape[1]), x.dtype)) * x.dtype.type(self.rms_rate)

    def zeropower_via_newtonschulz5(self, x: Any, steps: int) -> np.ndarray:
        """Approximate orthogonalization ``U S' V^T`` of ``x = U S V^T`` (``S'`` near the identity)
        by ``steps`` quintic Newton-Schulz iterations on the last two axes (see the class).

        Parameters
        ----------
        x : array of shape (..., rows, cols), at least 2-D
        steps : int

        Returns
        -------
        ndarray of x's shape and dtype
        """
        x = np.asarray(x.data if isinstance(x, Tensor) else x)
        if x.ndim < 2:
            raise ValueError(f"Expected gradient or momentum to have at least 2 dimensions. "
                             f"Received: shape={x.shape}")
        dt = x.dtype.type
        a, b, c = dt(self.muon_a), dt(self.muon_b), dt(self.muon_c)
        tall = x.shape[-2] > x.shape[-1]
        if tall:
            x = np.swapaxes(x, -1, -2)
        x = x / (np.sqrt(np.sum(np.square(x), axis=(-2, -1), keepdims=True)) + dt(1e-7))
        for _ in range(steps):
            gram = x @ np.swapaxes(x, -1, -2)
            x = a * x + (b * gram + c * gram @ gram) @ x
        return np.swapaxes(x, -1, -2) if tall else x

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "adam_beta_1": self.adam_beta_1,
                "adam_beta_2": self.adam_beta_2, "epsilon": self.epsilon,
                "exclude_layers": self.exclude_layers, "muon_a": self.muon_a,
                "muon_b": self.muon_b, "muon_c": self.muon_c, "adam_lr_ratio": self.adam_lr_ratio,
                "momentum": self.momentum, "ns_steps": self.ns_steps, "nesterov": self.nesterov,
                "exclude_embeddings": self.exclude_embeddings,
                "adam_weight_decay": self.adam_weight_decay, "rms_rate": self.rms_rate}


def variable_path(variable: Any) -> str:
    """The name an ``OptimizerMap`` or Muon's ``exclude_layers`` matches: Keras's ``path`` when
    the variable has one, else its name (``'dense_1/kernel'`` for a layer's weight)."""
    return str(getattr(variable, "path", None) or getattr(variable, "name", ""))


class OptimizerMap(MutableMapping):
    """Which optimizer updates which variable, by the variable's path (Keras 3's
    ``keras.optimizers.OptimizerMap``), for ``MultiOptimizer``.

    A key is a variable path or a regular expression matched against the whole path
    (``re.fullmatch``): ``"dense_1/.*"`` takes every weight of the layer named ``dense_1``.
    An exact key wins; a path that fully matches two patterns is an error; a path that matches
    none goes to ``default_optimizer``.

    Parameters
    ----------
    default_optimizer : Optimizer
    optimizer_map : dict of str to Optimizer, optional

    Examples
    --------
    >>> from unafraid.optimizers import SGD, Adam, OptimizerMap
    >>> adam = Adam()
    >>> optimizer_map = OptimizerMap(default_optimizer=SGD())
    >>> optimizer_map["encoder/.*"] = adam
    >>> optimizer_map["encoder/dense/kernel"] is adam
    True
    """

    def __init__(self, default_optimizer: Optimizer,
                 optimizer_map: dict[str, Optimizer] | None = None) -> None:
        if not isinstance(default_optimizer, Optimizer):
            raise TypeError(f"default_optimizer must be a Keras Optimizer instance. Received: "
                            f"{default_optimizer}")
        if optimizer_map is not None and not isinstance(optimizer_map, dict):
            raise TypeError(f"optimizer_map must be a dictionary. Received: {optimizer_map}")
        self._default_optimizer = default_optimizer
        self._optimizer_map: dict[str, Optimizer] = {}
        for key, optimizer in (optimizer_map or {}).items():
            self[key] = optimizer

    @property
    def default_optimizer(self) -> Optimizer:
        return self._default_optimizer

    def __getitem__(self, key: str) -> Optimizer:
        if key in self._optimizer_map:
            return self._optimizer_map[key]
        matching = [pattern for pattern in self._optimizer_map if re.fullmatch(pattern, key)]
        if len(matching) > 1:
            raise ValueError(f"Multiple optimizers assigned to variable {key}. (It matches the "
                             f"patterns {matching}: make them exclusive.)")
        return self._optimizer_map[matching[0]] if matching else self._default_optimizer

    def __setitem__(self, key: str, optimizer: Optimizer) -> None:
        if key in self._optimizer_map:
            raise ValueError(f"'{key}' already exists in the OptimizerMap with value "
                             f"{self._optimizer_map[key]}. Please make sure to not use duplicated "
                             f"keys.")
        if not isinstance(key, str):
            raise ValueError(f"key must be a string. Received: {key}")
        if not isinstance(optimizer, Optimizer):
            raise ValueError(f"optimizer must be a Keras Optimizer instance. Received: {optimizer}")
        if isinstance(optimizer, MultiOptimizer):
            raise ValueError("optimizer cannot be MultiOptimizer.")
        self._optimizer_map[key] = optimizer

    def __delitem__(self, key: str) -> None:
        del self._optimizer_map[key]

    def __len__(self) -> int:
        return len(self._optimizer_map)

    def __iter__(self) -> Any:
        return iter(self._optimizer_map)

    def __call__(self, variable: Any) -> Optimizer:
        """The optimizer for ``variable`` (by ``variable_path``)."""
        return self[variable_path(variable)]

    def get_config(self) -> dict[str, Any]:
        return {"default_optimizer": serialize(self._default_optimizer),
                "optimizer_map": {k: serialize(v) for k, v in self._optimizer_map.items()}}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None
                    ) -> OptimizerMap:
        return cls(deserialize(config["default_optimizer"], custom_objects),
                   {k: deserialize(v, custom_objects) for k, v in config["optimizer_map"].items()})


class MultiOptimizer(Optimizer):
    """Different optimizers for different variables (Keras 3's ``keras.optimizers.MultiOptimizer``).

    Each variable goes to the optimizer ``optimizer_map(variable)`` gives (an ``OptimizerMap``,
    or a function of the variable returning an optimizer), which keeps its own state, learning
    rate and options; ``apply`` hands each its variables' gradients, so every sub-optimizer's
    ``iterations`` counts the steps that reached it and this one's counts all steps. A step
    whose gradients hold NaN or infinity is skipped whole (see ``Optimizer.apply``).

    Parameters
    ----------
    optimizer_map : OptimizerMap or callable
        ``optimizer_map(variable) -> Optimizer``; not a ``MultiOptimizer``.
    loss_scale_factor : float, optional
        Overrides the sub-optimizers' ``loss_scale_factor`` (``scale_loss`` multiplies by it,
        each sub-optimizer divides its gradients by it).
    name : str, optional

    Attributes
    ----------
    optimizers : list of Optimizer
        The sub-optimizers: the map's values, its default, then any a function returned.

    There is no ``learning_rate`` here (reading or setting it raises AttributeError): set it on
    each of ``optimizers``; ``LearningRateScheduler`` and ``ReduceLROnPlateau`` change all of
    them, as in Keras.

    Examples
    --------
    >>> import unafraid as uf
    >>> from unafraid.optimizers import SGD, Adam, OptimizerMap, MultiOptimizer
    >>> optimizer = MultiOptimizer(OptimizerMap(default_optimizer=SGD(0.1),
    ...                                         optimizer_map={"encoder_.*": Adam(1e-3)}))
    """

    def __init__(self, optimizer_map: Any, loss_scale_factor: float | None = None,
                 name: str | None = None) -> None:
        self._inner_optimizers: list[Optimizer] = []
        super().__init__(learning_rate=0.0, loss_scale_factor=loss_scale_factor, name=name)
        if not callable(optimizer_map):
            raise TypeError(f"MultiOptimizer: optimizer_map must be an OptimizerMap or a function "
                            f"of a variable returning an optimizer, got {optimizer_map!r}.")
        self._optimizer_map = optimizer_map
        candidates = list(optimizer_map.values()) if hasattr(optimizer_map, "values") else []
        default = getattr(optimizer_map, "default_optimizer", None)
        for opt in [*candidates, *([default] if default is not None else [])]:
            self._add_inner(opt)
        self._var_to_optimizer_idx: dict[int, int] = {}

    def _add_inner(self, opt: Optimizer) -> int:
        if all(opt is not o for o in self._inner_optimizers):
            opt.loss_scale_factor = self.loss_scale_factor
            self._inner_optimizers.append(opt)
        return next(i for i, o in enumerate(self._inner_optimizers) if o is opt)

    @staticmethod
    def _var_key(variable: Any) -> int:
        return id(variable)

    @property
    def optimizers(self) -> list[Optimizer]:
        return self._inner_optimizers

    @property
    def learning_rate(self) -> float:  # type: ignore[override]
        raise AttributeError("Learning rate cannot be accessed on a MultiOptimizer. Access the "
                             "learning rate on the individual sub-optimizers instead.")

    @learning_rate.setter
    def learning_rate(self, value: Any) -> None:
        if hasattr(self, "_learning_rate"):
            raise AttributeError("Learning rate cannot be set on a MultiOptimizer. Set the "
                                 "learning rate on the individual sub-optimizers instead.")
        self._learning_rate = 0.0  # Optimizer.__init__'s placeholder, never used

    @property
    def loss_scale_factor(self) -> float | None:  # type: ignore[override]
        return self.__dict__.get("_loss_scale_factor")

    @loss_scale_factor.setter
    def loss_scale_factor(self, value: float | None) -> None:
        self._loss_scale_factor = value
        for opt in self.__dict__.get("_inner_optimizers", []):
            opt.loss_scale_factor = value

    def scale_loss(self, loss: Any) -> Any:
        for opt in self._inner_optimizers:
            opt._loss_scaled = opt.loss_scale_factor is not None
        return loss if self.loss_scale_factor is None else loss * self.loss_scale_factor

    def build(self, variables: Sequence[Any]) -> None:
        """Assign each variable to its optimizer and build each sub-optimizer on its variables."""
        if self.built:
            return
        groups: dict[int, list[Any]] = {}
        for var in variables:
            opt = self._optimizer_map(var)
            if not isinstance(opt, Optimizer):
                raise ValueError(f"Optimizer for variable {var} is not an Optimizer instance.")
            if isinstance(opt, MultiOptimizer):
                raise ValueError("MultiOptimizer cannot be used inside an MultiOptimizer.")
            idx = self._add_inner(opt)
            self._var_to_optimizer_idx[self._var_key(var)] = idx
            groups.setdefault(idx, []).append(var)
        for idx, group in groups.items():
            self._inner_optimizers[idx].build(group)
        self._variables = list(variables)
        self._index = {id(v): i for i, v in enumerate(self._variables)}
        self.built = True

    def apply(self, grads: Sequence[Any], trainable_variables: Sequence[Any] | None = None) -> None:
        """Hand each sub-optimizer the gradients of its variables (see the class)."""
        grads = list(grads)
        if not grads:
            return
        variables = self._variables_for(trainable_variables)
        if not self.built:
            self.build(variables)
        if len(grads) != len(variables) or any(id(v) not in self._index for v in variables):
            raise ValueError(f"Gradients must match trainable variables one-to-one: got "
                             f"{len(grads)} gradients for {len(variables)} variables, and the "
                             f"MultiOptimizer was built on {len(self._variables)} (build it on "
                             f"all the variables it will update).")
        pairs = [(self._as_gradient(g, v), v) for g, v in zip(grads, variables, strict=True)
                 if g is not None]
        if pairs and not usable_gradients([g for g, _ in pairs]):
            self._skip(pairs)
            return
        groups: dict[int, tuple[list[Any], list[Any]]] = {}
        for g, var in zip(grads, variables, strict=True):
            sub_grads, sub_vars = groups.setdefault(self._var_to_optimizer_idx[id(var)], ([], []))
            sub_grads.append(g)
            sub_vars.append(var)
        for idx, (sub_grads, sub_vars) in sorted(groups.items()):
            if any(g is not None for g in sub_grads):
                self._inner_optimizers[idx].apply(sub_grads, sub_vars)
        self._iterations += 1

    def moving_averages(self) -> list[tuple[Any, np.ndarray]]:
        """The sub-optimizers' ``moving_averages()``, in their order (only those with use_ema)."""
        return [pair for opt in self._inner_optimizers for pair in opt.moving_averages()]

    def finalize_variable_values(self, var_list: Any) -> None:
        groups: dict[int, list[Any]] = {}
        for var in var_list:
            groups.setdefault(self._var_to_optimizer_idx[id(var)], []).append(var)
        for idx, group in groups.items():
            self._inner_optimizers[idx].finalize_variable_values(group)

    def warm_up(self) -> None:
        for opt in self._inner_optimizers:
            opt.warm_up()

    # ---- state: this optimizer's step count, then each sub-optimizer's under its index -------------
    @property
    def variables(self) -> list[np.ndarray]:
        return [np.array(self._iterations, np.int64),
                *(v for opt in self._inner_optimizers for v in opt.variables)]

    def set_weights(self, weights: Sequence[Any]) -> None:
        if not self.built:
            super().set_weights(weights)  # the error Keras gives
        weights = list(weights)
        self._iterations = int(np.asarray(weights[0]))
        start = 1
        for opt in self._inner_optimizers:
            n = len(opt.variables)
            opt.set_weights(weights[start:start + n])
            start += n

    def state_dict(self) -> dict[str, np.ndarray]:
        """``'iterations'``, then each sub-optimizer's ``state_dict`` under ``'<index>:'``."""
        out = {"iterations": np.array(self._iterations, np.int64)}
        for j, opt in enumerate(self._inner_optimizers):
            out.update({f"{j}:{k}": v for k, v in opt.state_dict().items()})
        return out

    def initial_state(self, variables: Sequence[Any]) -> dict[str, np.ndarray]:
        out = {"iterations": np.array(self._iterations, np.int64)}
        for j, opt in enumerate(self._inner_optimizers):
            mine = [v for v in variables if self._var_to_optimizer_idx.get(id(v)) == j]
            out.update({f"{j}:{k}": v for k, v in opt.initial_state(mine).items()})
        return out

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for j, opt in enumerate(self._inner_optimizers):
            prefix = f"{j}:"
            opt.load_state_dict({k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)})
        self._iterations = int(np.asarray(state["iterations"]))

    def get_config(self) -> dict[str, Any]:
        """``optimizer_map`` (an ``OptimizerMap``'s config; a function cannot be saved),
        ``loss_scale_factor`` and ``name``."""
        if not isinstance(self._optimizer_map, OptimizerMap):
            raise ValueError(f"MultiOptimizer '{self.name}' maps variables with a function, which "
                             f"cannot be saved (configs hold no code). Use an OptimizerMap of path "
                             f"patterns to save it.")
        return {"optimizer_map": {"class_name": "OptimizerMap",
                                  "config": self._optimizer_map.get_config()},
                "loss_scale_factor": self.loss_scale_factor, "name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None
                    ) -> MultiOptimizer:
        config = dict(config)
        spec = config.pop("optimizer_map")
        return cls(OptimizerMap.from_config(spec.get("config", spec), custom_objects), **config)

    def __repr__(self) -> str:
        return (f"<MultiOptimizer '{self.name}' optimizers="
                f"{[type(o).__name__ for o in self._inner_optimizers]} iterations={self._iterations}>")


# ---- lookup ---------------------------------------------------------------------------------------
NAMES = registry.names("optimizer", advice="Names are case-insensitive; or pass an optimizer such "
                       "as unafraid.optimizers.Adam(learning_rate=1e-3).")
NAMES.register(SGD, "sgd")
NAMES.register(Adam, "adam")
NAMES.register(AdamW, "adamw")
NAMES.register(RMSprop, "rmsprop")
NAMES.register(Adagrad, "adagrad")
for _cls in (Nadam, Adamax, Adadelta, Lion, Lamb, Ftrl, Adafactor, Muon):
    NAMES.register(_cls, _cls.default_name)
NAMES.register(ScheduleFreeAdamW, "schedulefreeadamw")  # Keras: the class name in lower case
NAMES.register(ScheduleFreeAdamW, "schedule_free_adam_w", listed=False)  # and its default name
NAMES.register(MultiOptimizer, "multioptimizer", listed=False)  # for configs: it needs a map


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


def get(identifier: Any) -> Optimizer | None:
    """An optimizer from a name (``'adam'``), a ``serialize`` dict, a class, or an instance.

    Parameters
    ----------
    identifier : str, dict, Optimizer, Optimizer subclass or None
        Names are case-insensitive: 'adam', 'adamw', 'sgd', 'rmsprop', 'adagrad', 'nadam',
        'adamax', 'adadelta', 'lion', 'lamb', 'ftrl', 'adafactor', 'muon',
        'schedulefreeadamw' (with Keras's default arguments). None gives None, as in Keras.

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
    if identifier is None or isinstance(identifier, Optimizer):
        return identifier  # None stays None, as in Keras 3
    if isinstance(identifier, str):
        return NAMES.lookup(identifier)()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    raise ValueError(f"Could not interpret optimizer identifier {identifier!r}: pass a name such "
                     f"as 'adam', a config dict, or an optimizer such as "
                     f"unafraid.optimizers.Adam(learning_rate=1e-3).")
