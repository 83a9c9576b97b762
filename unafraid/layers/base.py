"""The layer contract (Keras's): ``__init__`` stores hyperparameters, ``build(input_shape)``
creates weights, ``call(x)`` is the math, ``get_config()`` makes it serialisable.

Calling a layer on a symbolic ``Input`` records a node instead of computing:
that is how functional models (``Model(inputs, outputs)``) are wired.
"""

from __future__ import annotations

import contextlib
import contextvars
import inspect
import math
import re
import threading
import warnings
import weakref
from collections.abc import Iterator
from typing import Any

import numpy as np

from .. import constraints, initializers, regularizers
from ..engine.tensor import Function, Tensor, Variable, as_array, keep_eager, no_grad

_name_counts: dict[str, int] = {}


class _CallDepth(threading.local):
    n = 0  # how many layer calls are running in this thread (0: the next call is the outermost)


_call_depth = _CallDepth()

# While a model file is loaded, the bytes its layers may still allocate for weights: a crafted
# architecture (Dense(10**12)) is refused before it allocates anything (see ``weight_budget``).
_weight_budget: contextvars.ContextVar[list[Any] | None] = contextvars.ContextVar(
    "_weight_budget", default=None)


# True while a layer's call runs on zeros only to find its output shape: add_metric ignores those
_inferring_shapes: contextvars.ContextVar[bool] = contextvars.ContextVar("_inferring_shapes",
                                                                        default=False)


@contextlib.contextmanager
def inferring_shapes() -> Iterator[None]:
    """Within the block, calls run on placeholder zeros (shape inference): no metric is updated."""
    token = _inferring_shapes.set(True)
    try:
        yield
    finally:
        _inferring_shapes.reset(token)


@contextlib.contextmanager
def weight_budget(nbytes: int, stored: str = "") -> Iterator[None]:
    """Within the block, layers may create at most ``nbytes`` bytes of weights in all.

    The block is a load: the weights are created as zeros (no random draws, no memory touched
    until the file's values are assigned), since loading overwrites them. ``stored`` describes
    the file's arrays for the message (e.g. ``"dtype float16"``).
    """
    token = _weight_budget.set([int(nbytes), stored])
    try:
        yield
    finally:
        _weight_budget.reset(token)


def _spend(budget: list[Any], layer: str, shape: tuple[int, ...], dtype: str) -> None:
    """Take one weight's bytes from a load's budget; refuse what the file cannot hold."""
    dims = [int(d) for d in shape]
    nbytes = math.prod(dims) * np.dtype(dtype).itemsize
    budget[0] -= nbytes
    if min(dims, default=0) < 0 or budget[0] < 0:
        stored = f" (its weight arrays are stored as {budget[1]})" if budget[1] else ""
        raise ValueError(f"layer '{layer}' would create a weight of shape {tuple(dims)} and "
                         f"dtype {dtype} ({nbytes:,} bytes), more than the file holds{stored}. "
                         f"Nothing was loaded.")


def unique_name(prefix: str) -> str:
    """``dense``, then ``dense_1``, ``dense_2``... as Keras names layers."""
    n = _name_counts.get(prefix, 0)
    _name_counts[prefix] = n + 1
    return prefix if n == 0 else f"{prefix}_{n}"


def reset_names() -> None:
    """Forget the names handed out (``unafraid.keras.backend.clear_session``)."""
    _name_counts.clear()


def snake_case(name: str) -> str:
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()  # Keras: Conv2D -> conv2d


class KerasTensor:
    """A symbolic tensor: a shape (``None`` for the batch), a dtype, and the node that made it.

    Returned by :func:`Input` and by layers called on symbolic tensors; used to
    define functional models. It holds no values.
    """

    def __init__(self, shape: tuple[int | None, ...], dtype: str = "float32",
                 node: Node | None = None, index: int = 0, name: str | None = None) -> None:
        self.shape = tuple(shape)
        self.dtype = dtype
        self.node = node
        self.index = index
        self.name = name
        self.sparse = False  # unafraid has no sparse or ragged tensors (Keras's flags, always False)
        self.ragged = False

    @property
    def ndim(self) -> int:
        return len(self.shape)

    # Keras 3's symbolic mask: a layer that would attach a mask to its output when run records how
    # many leading axes it has (``_mask_rank``); ``_keras_mask`` is then a symbolic tensor, made on
    # first use by a MaskOf node that reads the real output's mask when the model runs.
    _mask_rank: int | None = None

    @property
    def _keras_mask(self) -> KerasTensor | None:
        if self._mask_rank is None:
            return None
        cached = self.__dict__.get("_symbolic_mask")
        if cached is None:
            cached = self.__dict__["_symbolic_mask"] = MaskOf(rank=self._mask_rank)(self)
        return cached

    @_keras_mask.setter
    def _keras_mask(self, mask: KerasTensor | None) -> None:
        """``backend.set_keras_mask(x, mask)`` of a symbolic ``x``: a symbolic mask, or None."""
        if mask is not None and not isinstance(mask, KerasTensor):
            raise TypeError(f"The mask of a symbolic tensor {self} must be a symbolic tensor "
                            f"(from layers called on keras.Input) or None; got "
                            f"{type(mask).__name__}. Attach arrays to real Tensors only.")
        self._mask_rank = None if mask is None else mask.ndim
        self.__dict__["_symbolic_mask"] = mask

    def __repr__(self) -> str:
        return f"<KerasTensor shape={self.shape} dtype={self.dtype} name={self.name}>"

    def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
        raise TypeError(
            "This is a symbolic input (from unafraid.keras.Input), not data: it has no values. "
            "Build a model with Model(inputs, outputs) and call the model on arrays.")


class Node:
    """One call of a layer on symbolic inputs, remembered for functional models."""

    def __init__(self, layer: Layer, args: Any, kwargs: dict[str, Any]) -> None:
        self.layer, self.args, self.kwargs = layer, args, kwargs
        self.output_tensors: Any = None  # what the call returned (a KerasTensor or a list)
        layer.__dict__.setdefault("_inbound_nodes", []).append(self)  # Keras's layer._inbound_nodes


def Input(shape: tuple[int, ...] | None = None, batch_size: int | None = None,
          dtype: str | None = None, name: str | None = None,
          batch_shape: tuple[int | None, ...] | None = None, sparse: bool | None = None,
          ragged: bool | None = None, tensor: KerasTensor | None = None,
          optional: bool = False) -> KerasTensor:
    """A symbolic input for functional models: ``Input(shape=(784,))``.

    Parameters
    ----------
    shape : tuple of int
        Shape of one example, without the batch axis.
    batch_size : int, optional
        A fixed batch size (rarely needed).
    dtype : str, default 'float32'
    name : str, optional
    batch_shape : tuple, optional
        The shape including the batch axis (instead of ``shape`` and ``batch_size``).
    sparse, ragged : bool, optional
        Refused when True: unafraid has no sparse or ragged tensors.
    tensor : KerasTensor, optional
        An existing symbolic tensor to wrap (see :class:`InputLayer`).
    optional : bool, default False

    Examples
    --------
    >>> import unafraid as tf
    >>> inputs = tf.keras.Input(shape=(784,))
    >>> outputs = tf.keras.layers.Dense(10)(inputs)
    >>> model = tf.keras.Model(inputs, outputs)
    """
    if batch_shape is None and shape is None and tensor is None:
        raise ValueError("Input needs shape=, the shape of one example, e.g. shape=(784,).")
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse,
                       ragged=ragged, batch_shape=batch_shape, input_tensor=tensor,
                       optional=optional, name=name)
    return layer.output


class Layer:
    """Base class of all layers.

    Parameters
    ----------
    trainable : bool, default True
        Whether the layer's weights are updated by training.
    name : str, optional
        Unique by default (``dense``, ``dense_1``, ...).
    dtype : str, default 'float32'
        The dtype of weights and computations; inputs are cast to it.
    input_shape : tuple of int, optional
        For the first layer of a ``Sequential``: the shape of one example.
    activity_regularizer : optional
        Keras 3's, on any layer: each call adds ``regularizer(output) / batch_size`` for each
        output to ``losses`` (layers with their own ``activity_regularizer`` argument, such as
        Dense, do the same themselves).
    """

    def __init__(self, trainable: bool = True, name: str | None = None,
                 dtype: str | None = None, input_shape: tuple[int, ...] | None = None,
                 input_dim: int | None = None, activity_regularizer: Any = None,
                 **kwargs: Any) -> None:
        if activity_regularizer is not None:  # a layer without its own argument: __call__ applies it
            self._layer_activity_regularizer = self.activity_regularizer = regularizers.get(
                activity_regularizer)
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected keyword argument(s) "
                            f"{sorted(kwargs)}. Check the spelling against Keras's documentation.")
        self._layers: list[Layer] = []
        self._weights: list[Variable] = []
        self.built = False
        self.trainable = trainable
        self.name = name or unique_name(snake_case(type(self).__name__))
        self.dtype = _layer_dtype(type(self).__name__, dtype)
        if input_dim is not None:
            input_shape = (input_dim,)
        self._input_shape_arg = None if input_shape is None else tuple(
            (input_shape,) if isinstance(input_shape, int) else input_shape)
        self._build_shape: tuple[int | None, ...] | None = None
        self._activity_losses: list[Any] = []
        self._call_has_training = _call_takes_training(type(self), self.call)
        self._call_has_mask = _call_takes_mask(type(self), self.call)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # As in Keras, a layer built by hand (layer.build(shape)) counts as built: calling it
        # later must not build it again, which would silently replace the weights.
        super().__init_subclass__(**kwargs)
        if "build" in cls.__dict__:
            cls.build = _marks_built(cls.__dict__["build"])

    def __setattr__(self, key: str, value: Any) -> None:
        # a Variable assigned as an attribute (self.w = tf.Variable(5.0)) is one of the weights
        if isinstance(value, Variable) and "_weights" in self.__dict__ and all(
                value is not w for w in self._weights):
            self._weights.append(value)
        # track sub-layers assigned as attributes (subclassed models and composite layers)
        if key != "_layers" and hasattr(self, "_layers"):
            found = [value] if isinstance(value, Layer) else (
                [v for v in value if isinstance(v, Layer)] if isinstance(value, list | tuple) else [])
            for layer in found:
                if layer is not self and all(layer is not x for x in self._layers):
                    self._layers.append(layer)
        object.__setattr__(self, key, value)

    # ---- weights ------------------------------------------------------------------------------
    @property
    def compute_dtype(self) -> str:
        """Keras 3's ``compute_dtype``: the dtype the layer computes in, its ``dtype`` (unafraid
        has no mixed precision, so it is also the weights' dtype)."""
        return self.dtype

    def add_weight(self, shape: tuple[int, ...], initializer: Any = "glorot_uniform",
                   dtype: str | None = None, trainable: bool = True, name: str | None = None,
                   regularizer: Any = None, constraint: Any = None,
                   overwrite_with_gradient: bool = False) -> Variable:
        """Create a weight named ``'<layer>/<name>'``, initialised from the seeded stream.

        ``constraint`` (``unafraid.constraints``) is applied by the optimizer after each update;
        with ``overwrite_with_gradient=True`` the optimizer sets the weight to its gradient
        instead of updating it (Keras 3's option, e.g. for statistics computed in the backward pass).
        """
        init = initializers.get(initializer)
        budget = _weight_budget.get()
        if budget is not None:  # loading: the file's values replace these zeros
            _spend(budget, self.name, tuple(shape), str(np.dtype(dtype or self.dtype)))
            values = np.zeros(tuple(shape), dtype or self.dtype)
        else:
            values = init(tuple(shape), dtype or self.dtype)
        var = Variable(values,
                       name=f"{self.name}/{name or f'variable_{len(self._weights)}'}",
                       trainable=trainable and self.trainable)
        var._regularizer = regularizers.get(regularizer)
        var.constraint = constraints.get(constraint)
        var.overwrite_with_gradient = bool(overwrite_with_gradient)
        var._freezable = trainable  # moving statistics stay non-trainable whatever the layer says
        self._weights.append(var)
        return var

    def add_variable(self, *args: Any, **kwargs: Any) -> Variable:
        """``add_weight`` under its other name, in both of Keras's spellings.

        Keras 3: ``add_variable(shape, initializer, dtype=None, trainable=True, ...)``; tf.keras 2
        (a deprecated alias of ``add_weight``): ``add_variable(name, shape, ...)``, recognised by
        a string first. The initializer defaults to ``'glorot_uniform'``, as ``add_weight``'s.

        Examples
        --------
        >>> from unafraid import keras
        >>> layer = keras.layers.Layer(name="owner")
        >>> layer.add_variable("kernel", shape=(2, 3)).name
        'owner/kernel'
        """
        if args and isinstance(args[0], str):
            if "name" in kwargs:
                raise TypeError(f"add_variable on '{self.name}': the name was given twice, "
                                f"{args[0]!r} first and name={kwargs['name']!r}.")
            kwargs["name"], args = args[0], args[1:]
        return self.add_weight(*args, **kwargs)

    @property
    def weights(self) -> list[Variable]:
        """All weights: this layer's, then those of its sub-layers, in creation order."""
        seen, out = set(), []
        for w in [*self._weights, *(w for layer in self._layers for w in layer.weights)]:
            if id(w) not in seen:
                seen.add(id(w))
                out.append(w)
        return out

    @property
    def trainable(self) -> bool:
        """Whether training updates this layer's weights (and its sub-layers').

        Setting it (``layer.trainable = False`` freezes the layer, as in Keras) applies to
        every sub-layer and takes effect at once, also in a model compiled before: the next
        training step updates only ``model.trainable_weights``. A frozen BatchNormalization
        runs in inference mode (its moving statistics), as in Keras 3.
        """
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for w in self._weights:
            if getattr(w, "_freezable", True):
                w.trainable = self._trainable
                w.requires_grad = self._trainable and w.data.dtype.kind == "f"
        for layer in self._layers:
            layer.trainable = value

    @property
    def trainable_weights(self) -> list[Variable]:
        """The weights that training updates."""
        if not self.trainable:
            return []
        return [w for w in self.weights if w.trainable]

    @property
    def non_trainable_weights(self) -> list[Variable]:
        """The weights that training does not update (e.g. moving statistics)."""
        ids = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in ids]

    trainable_variables = trainable_weights
    variables = weights

    def count_params(self) -> int:
        """Number of scalars in all weights."""
        return int(sum(w.size for w in self.weights))

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the weights' values, in ``weights`` order."""
        return [w.data.copy() for w in self.weights]

    def set_weights(self, weights: list[Any]) -> None:
        """Set all weights from a list of arrays in ``weights`` order (shapes must match)."""
        mine = self.weights
        if len(weights) != len(mine):
            raise ValueError(
                f"{type(self).__name__} '{self.name}' has {len(mine)} weight arrays "
                f"({[w.name for w in mine]}) but set_weights got {len(weights)}. Pass the list "
                f"that get_weights() returns, in the same order.")
        arrays = [as_array(a) for a in weights]
        for var, a in zip(mine, arrays, strict=True):
            if a.shape != var.shape:
                raise ValueError(f"set_weights: '{var.name}' has shape {var.shape}, got an array "
                                 f"of shape {a.shape}. Nothing was changed.")
        for var, a in zip(mine, arrays, strict=True):
            var.assign(a.astype(var.dtype))

    def save_own_variables(self, store: dict[str, Any]) -> None:
        """Keras 3's ``save_own_variables``: this layer's own weights (not its sub-layers'), as
        copies under their index as a string (``store["0"]`` the first of ``_weights``: for a
        Dense, ``kernel`` then ``bias``), the layout of Keras's weight files."""
        for i, var in enumerate(self._weights):
            store[str(i)] = var.data.copy()

    def load_own_variables(self, store: Any) -> None:
        """Keras 3's ``load_own_variables``: set this layer's own weights from ``store``
        (``"0"``, ``"1"``... in ``_weights`` order, as ``save_own_variables`` writes), after
        checking the count and every shape."""
        keys = sorted((k for k in store.keys() if str(k).isdigit()), key=int)
        if len(keys) != len(self._weights):
            raise ValueError(f"Layer '{self.name}' expected {len(self._weights)} variables, but "
                             f"received {len(keys)} variables during loading. Expected: "
                             f"{[w.name.split('/')[-1] for w in self._weights]}. Build the layer "
                             f"as it was saved (same arguments and input shape).")
        arrays = [as_array(store[k]) for k in keys]
        for var, a in zip(self._weights, arrays, strict=True):
            if a.shape != var.shape:
                raise ValueError(f"Layer '{self.name}': '{var.name}' has shape {var.shape}, the "
                                 f"stored array shape {a.shape}. Nothing was changed.")
        for var, a in zip(self._weights, arrays, strict=True):
            var.assign(a.astype(var.dtype))

    @property
    def losses(self) -> list[Any]:
        """Penalties to add to the loss: weight regularisers, activity regularisers, and what
        ``add_loss`` added during the last call (scalar Tensors), this layer's then its sub-layers'."""
        out = [w._regularizer(w) for w in self._weights
               if getattr(w, "_regularizer", None) is not None]
        out += self._activity_losses
        out += [loss() if callable(loss) else loss for loss in self.__dict__.get("_added_losses", [])]
        for layer in self._layers:
            out += layer.losses
        return out

    def add_metric(self, value: Any, name: str | None = None, aggregation: str | None = None) -> None:
        """tf.keras 2's ``add_metric``, kept for compatibility (Keras 3 removed it): the running
        mean of ``value`` over the batches, as a metric named ``name`` (:class:`AddedMetric`).

        Parameters
        ----------
        value : scalar Tensor or array
            Computed in ``call`` from the batch (a non-scalar value is averaged).
        name : str
            The metric's name in the logs.
        aggregation : {'mean', None}
            How batches are combined: their mean, as in tf.keras 2.

        The metrics are listed by :func:`added_metrics` (``fit`` reports and resets them with
        the compiled ones once ``Model.metrics`` includes ``added_metrics(self)``). In new code,
        make a ``keras.metrics.Mean(name=...)`` in ``__init__`` and call its ``update_state()``,
        the Keras 3 way.

        Examples
        --------
        >>> import numpy as np, unafraid as tf
        >>> class Spread(tf.keras.layers.Layer):
        ...     def call(self, x):
        ...         self.add_metric(tf.math.reduce_std(x), name="std", aggregation="mean")
        ...         return x
        >>> layer = Spread()
        >>> _ = layer(np.array([[0.0, 2.0]])); _ = layer(np.array([[0.0, 4.0]]))
        >>> float(added_metrics(layer)[0].result())   # the mean of 1 and 2
        1.5
        """
        if not name:
            raise ValueError(f"Layer '{self.name}': add_metric needs name=, the metric's name in "
                             f"the logs, e.g. self.add_metric(value, name='std_of_activation').")
        if aggregation not in (None, "mean"):
            raise ValueError(f"Layer '{self.name}': add_metric(aggregation={aggregation!r}) is not "
                             f"supported; only 'mean' (the mean over batches), as in tf.keras 2.")
        if isinstance(value, KerasTensor):
            self.add_symbolic_metric(value, name)
            return
        if _inferring_shapes.get():
            return
        keep_eager(f"layer '{self.name}' calls add_metric, which a replay would not update")
        _METRICS_ADDED[0] = True
        table = self.__dict__.setdefault("_added_metrics", {})
        if name not in table:
            table[name] = AddedMetric(name)
        table[name].update_state(value.data if isinstance(value, Tensor) else value)

    @property
    def metrics(self) -> list[Any]:
        """The metrics this layer and the layers inside it track: those assigned as attributes
        (``self.acc = keras.metrics.BinaryAccuracy()``, as in Keras 3) and those made by
        ``add_metric`` (tf.keras 2). A compiled model lists its loss tracker and compiled
        metrics instead (``Model.metrics``)."""
        out = []
        for layer in layers_within(self):
            out += [v for v in layer.__dict__.values() if is_metric(v)]
            out += list(layer.__dict__.get("_added_metrics", {}).values())
        return out

    def add_loss(self, loss: Any) -> None:
        """Add a scalar penalty, computed in ``call``, to the training loss (Keras's ``add_loss``).

        The losses added during a call replace those of the previous call of the
        outermost layer or model, so each step's loss includes each penalty once;
        ``model.losses`` lists them.

        Examples
        --------
        >>> import unafraid as tf
        >>> class ActivityL2(tf.keras.layers.Layer):
        ...     def call(self, x):
        ...         self.add_loss(0.01 * tf.reduce_sum(tf.square(x)))
        ...         return x
        >>> layer = ActivityL2()
        >>> _ = layer(tf.constant([[1.0, 2.0]]))
        >>> [round(float(v), 4) for v in layer.losses]
        [0.05]
        """
        if isinstance(loss, KerasTensor):
            self.add_symbolic_loss(loss)
            return
        if not callable(loss):
            loss = loss if isinstance(loss, Tensor) else Tensor(as_array(loss))
            if loss.size != 1:
                loss = loss.sum()
        self.__dict__.setdefault("_added_losses", []).append(loss)

    def add_symbolic_loss(self, loss: KerasTensor) -> None:
        """``add_loss`` of a symbolic tensor: a functional model computes it on every forward
        pass (tf.keras 2); any other layer refuses it."""
        raise ValueError(
            f"Layer '{self.name}' ({type(self).__name__}): add_loss of a symbolic tensor (from "
            f"keras.Input) works only on a functional model, model = Model(inputs, outputs); "
            f"model.add_loss(f(x)). In a layer, call self.add_loss(value) inside call(), where "
            f"the values are real.")

    def add_symbolic_metric(self, value: KerasTensor, name: str) -> None:
        """``add_metric`` of a symbolic tensor: only on a functional model (see ``add_symbolic_loss``)."""
        raise ValueError(
            f"Layer '{self.name}' ({type(self).__name__}): add_metric of a symbolic tensor (from "
            f"keras.Input) works only on a functional model, model = Model(inputs, outputs); "
            f"model.add_metric(f(x), name=...). In a layer, call self.add_metric(value, "
            f"name=...) inside call(), where the values are real.")

    def _clear_added_losses(self) -> None:
        self.__dict__["_added_losses"] = []
        for layer in self._layers:
            layer._clear_added_losses()

    # ---- lifecycle ------------------------------------------------------------------------------
    def build(self, input_shape: Any) -> None:
        """Create the weights, knowing the input shape. Layers without weights need nothing."""

    def call(self, inputs: Any, training: bool = False) -> Any:
        """The layer's math on Tensors."""
        raise NotImplementedError(f"{type(self).__name__} must define call(self, inputs).")

    def _maybe_build(self, input_shape: Any) -> None:
        if not self.built:
            self.build(input_shape)
            self.built = True
            self._build_shape = input_shape

    def __call__(self, inputs: Any, *args: Any, training: bool | None = None, **kwargs: Any) -> Any:
        # layer(a, b): extra positional tensors go to call(a, b); a functional model records them
        # as one list with spread_inputs=True and replays them the same way
        if kwargs.pop("spread_inputs", False):
            inputs, args = inputs[0], (*inputs[1:], *args)
        if any_symbolic(inputs) or (args and any_symbolic(list(args))):
            if args:
                return self._call_symbolic([inputs, *args], training,
                                           {**kwargs, "spread_inputs": True})
            return self._call_symbolic(inputs, training, kwargs)
        previous_mask = keras_mask(inputs)  # read before the cast, which makes new Tensors
        x = _to_tensors(inputs, self.dtype)
        self._maybe_build(_shapes(x))
        self._check_input(x)
        if self._call_has_training and not _passed_by_position(self, "training", args):
            kwargs["training"] = bool(training)
        if self._call_has_mask:
            slot = _positional_slot(type(self), self.call, "mask")
            if slot is not None and len(args) > slot:  # call(x, mask) given by position
                previous_mask = args[slot]
            else:
                if kwargs.get("mask") is None:
                    kwargs["mask"] = previous_mask
                previous_mask = kwargs["mask"]
        args = tuple(_to_tensor(a, self.dtype) if isinstance(a, Tensor | np.ndarray) else a
                     for a in args)
        outermost = _call_depth.n == 0
        if outermost:  # a new forward pass: add_loss penalties of the last one are dropped
            self._clear_added_losses()
        _call_depth.n += 1
        try:
            out = self.call(x, *args, **kwargs)
        finally:
            _call_depth.n -= 1
        regularizer = self.__dict__.get("_layer_activity_regularizer")
        if regularizer is not None:
            self._activity_losses = [activity_loss(regularizer, o) for o in (
                out if isinstance(out, list | tuple) else [out]) if isinstance(o, Tensor)]
        self._set_mask_metadata(x, out, previous_mask)
        return out

    # ---- masking (Keras's ``_keras_mask``: the mask rides on the output tensor) ----------------
    supports_masking: bool = False

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        """The mask of the output, given the input's (Keras's rule: pass it on unchanged).

        A mask is a boolean Tensor shaped like the input without its last axis
        (``(batch, timesteps)``): True marks the steps that count. A layer whose
        ``supports_masking`` is True passes it on; override this to compute a new one.
        """
        return previous_mask

    def _supports_masking(self) -> bool:
        """Whether the layer passes masks on or makes them (an explicit setting wins)."""
        return bool(self.__dict__.get("supports_masking", self.supports_masking or (
            type(self).compute_mask is not Layer.compute_mask)))

    def _set_mask_metadata(self, inputs: Any, outputs: Any, previous_mask: Any) -> None:
        """Attach ``compute_mask``'s result to the outputs (as ``_keras_mask``), as Keras does."""
        if not self._supports_masking():
            if any(m is not None for m in _flat_masks(previous_mask)):
                warnings.warn(f"Layer '{self.name}' ({type(self).__name__}) was passed an input "
                              f"with a mask attached to it, but it does not support masking: "
                              f"the mask is dropped, and later layers will not see it.",
                              stacklevel=3)
            return
        outs = list(outputs) if isinstance(outputs, list | tuple) else [outputs]
        if all(getattr(o, "_keras_mask", None) is not None for o in outs):
            return  # the call set the masks itself (Masking does)
        masks = self.compute_mask(inputs, previous_mask)
        if masks is None:
            return
        masks = list(masks) if isinstance(outputs, list | tuple) and isinstance(
            masks, list | tuple) else [masks] * len(outs)
        for o, m in zip(outs, masks, strict=True):
            if isinstance(o, Tensor) and m is not None and getattr(o, "_keras_mask", None) is None:
                o._keras_mask = m

    def _check_input(self, x: Any) -> None:
        """Compare the input with the shape the layer was built for (override for a clearer message)."""

    def _call_symbolic(self, inputs: Any, training: Any, kwargs: dict[str, Any]) -> Any:
        shapes = _shapes(inputs)
        if kwargs.get("spread_inputs"):  # layer(a, b): built for a, its output shape from a run
            self._maybe_build(shapes[0])
            out_shape = self._spread_output_shape(shapes, kwargs)
        else:
            self._maybe_build(shapes)
            out_shape = self.compute_output_shape(shapes)
        node = Node(self, inputs, {**kwargs, "training": training})
        if isinstance(out_shape, list):
            node.output_tensors = [KerasTensor(s, self.dtype, node, i) for i, s in enumerate(out_shape)]
        else:
            node.output_tensors = KerasTensor(out_shape, self.dtype, node)
        if not kwargs.get("spread_inputs"):
            self._set_symbolic_mask_ranks(inputs, node.output_tensors)
        return node.output_tensors

    def _set_symbolic_mask_ranks(self, inputs: Any, outputs: Any) -> None:
        """Mark the symbolic outputs that will carry a mask when the model runs (Keras 3's
        symbolic masks): ``compute_mask`` is asked on zeros shaped like the inputs, with all-True
        masks for the inputs that carry one, as the eager call would ask it."""
        if not self._supports_masking():
            return
        tensors = list(inputs) if isinstance(inputs, list | tuple) else [inputs]
        if not all(isinstance(t, KerasTensor) for t in tensors):
            return
        if all(t._mask_rank is None for t in tensors) and (
                type(self).compute_mask is Layer.compute_mask):
            return  # nothing to pass on, and the layer makes no mask of its own

        def zeros(shape: tuple[int | None, ...], dtype: Any) -> Tensor:
            return Tensor(np.zeros(tuple(1 if d is None else d for d in shape), dtype))
        dummies = [zeros(t.shape, "float32") for t in tensors]
        masks = [None if t._mask_rank is None else Tensor(np.ones(
            tuple(1 if d is None else d for d in t.shape[:t._mask_rank]), bool)) for t in tensors]
        if isinstance(inputs, list | tuple):
            dummy_in: Any = dummies
            previous: Any = None if all(m is None for m in masks) else masks
        else:
            dummy_in, previous = dummies[0], masks[0]
        with no_grad(), inferring_shapes():
            found = self.compute_mask(dummy_in, previous)
        if found is None:
            return
        outs = list(outputs) if isinstance(outputs, list | tuple) else [outputs]
        found = list(found) if isinstance(outputs, list | tuple) and isinstance(
            found, list | tuple) else [found] * len(outs)
        for o, m in zip(outs, found, strict=True):
            if isinstance(m, Tensor | np.ndarray) and np.ndim(m) <= o.ndim:
                o._mask_rank = int(np.ndim(m))

    @property
    def input(self) -> Any:
        """The symbolic input of the layer's *first* call on symbolic tensors (as in Keras 3).

        ``Model(inputs=model.inputs, outputs=[layer.output for layer in model.layers])`` builds a
        feature extractor from a built model.
        """
        node = self._first_node("input")
        return node.output_tensors if node.args is None else node.args  # an InputLayer: its output

    @property
    def output(self) -> Any:
        """The symbolic output of the layer's *first* call on symbolic tensors (as in Keras 3)."""
        return self._first_node("output").output_tensors

    def _first_node(self, what: str) -> Node:
        nodes = self.__dict__.get("_inbound_nodes")
        if not nodes:
            raise AttributeError(
                f"The layer {self.name} has never been called and thus has no defined {what}. "
                f"Call it on a symbolic input (keras.Input(shape=...)), or give the model an Input "
                f"so that it is built.")
        return nodes[0]

    def _spread_output_shape(self, shapes: list[Any], kwargs: dict[str, Any]) -> Any:
        """The output shape of ``call(a, b, ...)``, found by running it on zeros."""
        dummies = [Tensor(np.zeros(tuple(1 if d is None else d for d in s), self.dtype))
                   for s in shapes]
        extra = {k: v for k, v in kwargs.items() if k != "spread_inputs"}
        if self._call_has_training:
            extra["training"] = False
        with no_grad(), inferring_shapes():
            out = self.call(*dummies, **extra)
        self._clear_added_losses()
        if isinstance(out, list | tuple):
            return [(shapes[0][0], *o.shape[1:]) for o in out]
        return (shapes[0][0], *out.shape[1:])

    def compute_output_shape(self, input_shape: Any) -> Any:
        """Output shape for an input shape (``None`` batch): by running ``call`` on zeros."""
        def zeros(shape: Any) -> Tensor:
            return Tensor(np.zeros(tuple(1 if d is None else d for d in shape), self.dtype))
        dummy = ([zeros(s) for s in input_shape] if _is_shape_list(input_shape)
                 else zeros(input_shape))
        with no_grad(), inferring_shapes():
            out = self.call(dummy, **({"training": False} if self._call_has_training else {}))
        if isinstance(out, list | tuple):
            return [(input_batch(input_shape), *o.shape[1:]) for o in out]
        return (input_batch(input_shape), *out.shape[1:])

    @property
    def output_shape(self) -> Any:
        """The output shape for the shape the layer was built with."""
        if self._build_shape is None:
            raise AttributeError(f"Layer '{self.name}' has not been built yet, so its output "
                                 f"shape is unknown. Call it on data or give input_shape=.")
        return self.compute_output_shape(self._build_shape)

    # ---- config ---------------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """Hyperparameters as JSON-serialisable data (never code)."""
        config: dict[str, Any] = {"name": self.name, "trainable": self.trainable,
                                  "dtype": self.dtype}
        if self._input_shape_arg is not None:
            config["input_shape"] = list(self._input_shape_arg)
        if self.__dict__.get("_layer_activity_regularizer") is not None:
            config["activity_regularizer"] = regularizers.serialize(
                self._layer_activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        """Re-create the layer from ``get_config()``'s output. A config the constructor refuses
        raises a TypeError (Keras's) that holds the constructor's message."""
        try:
            return cls(**config)
        except (TypeError, ValueError) as e:
            raise TypeError(f"Error when deserializing class '{cls.__name__}'. Exception "
                            f"encountered: {e} (config: {str(config)[:300]})") from e

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _marks_built(build: Any) -> Any:
    """``build`` that also records that the layer is built, and for which input shape."""
    import functools

    @functools.wraps(build)
    def wrapper(self: Layer, *args: Any, **kwargs: Any) -> None:
        build(self, *args, **kwargs)
        self.built = True
        if self._build_shape is None:
            self._build_shape = args[0] if args else kwargs.get("input_shape")

    return wrapper


_takes_training: weakref.WeakKeyDictionary[type, bool] = weakref.WeakKeyDictionary()


_takes_mask: weakref.WeakKeyDictionary[type, bool] = weakref.WeakKeyDictionary()


def _call_takes_mask(cls: type, call: Any) -> bool:
    """Whether ``call`` accepts ``mask=`` (then it gets the input's mask, as in Keras)."""
    if cls not in _takes_mask:
        _takes_mask[cls] = "mask" in inspect.signature(call).parameters
    return _takes_mask[cls]


def keras_mask(x: Any) -> Any:
    """The mask a tensor carries (``x._keras_mask``), or None; a list of them for a list."""
    if isinstance(x, list | tuple):
        masks = [getattr(v, "_keras_mask", None) for v in x]
        return None if all(m is None for m in masks) else masks
    return getattr(x, "_keras_mask", None)


def _flat_masks(mask: Any) -> list[Any]:
    return list(mask) if isinstance(mask, list | tuple) else [mask]


_slots: weakref.WeakKeyDictionary[type, dict[str, int | None]] = weakref.WeakKeyDictionary()


def _positional_slot(cls: type, call: Any, name: str) -> int | None:
    """Where ``name`` sits among ``call``'s positional arguments after the inputs (None if it
    can only be given by keyword): ``call(self, x, mask=None)`` gives 0 for ``mask``."""
    table = _slots.setdefault(cls, {})
    if name not in table:
        params = list(inspect.signature(call).parameters.values())[1:]
        positional = [p.name for p in params if p.kind == p.POSITIONAL_OR_KEYWORD]
        table[name] = positional.index(name) if name in positional else None
    return table[name]


def _passed_by_position(layer: Layer, name: str, args: tuple[Any, ...]) -> bool:
    """Whether ``layer(x, ...)``'s extra positional ``args`` already give ``call``'s ``name``."""
    slot = _positional_slot(type(layer), layer.call, name)
    return slot is not None and len(args) > slot


def _call_takes_training(cls: type, call: Any) -> bool:
    """Whether ``call`` accepts ``training=`` (inspected once per class: layers are made often)."""
    if cls not in _takes_training:
        _takes_training[cls] = "training" in inspect.signature(call).parameters
    return _takes_training[cls]


class MaskOf(Layer):
    """The mask a tensor carries, as a layer of a functional model (Keras 3's symbolic masks).

    ``backend.get_keras_mask(x)`` of a symbolic ``x`` made by a masking layer is this layer's
    output: when the model runs, ``call(x)`` returns ``x._keras_mask``, a bool Tensor of shape
    ``x.shape[:rank]`` (``(batch, timesteps)``), True where a step counts.

    Parameters
    ----------
    rank : int
        How many leading axes of its input the mask has.

    Examples
    --------
    >>> import numpy as np, unafraid as tf
    >>> x = tf.keras.Input((3, 2))
    >>> y = tf.keras.layers.Masking()(x)
    >>> model = tf.keras.Model(x, tf.keras.backend.get_keras_mask(y))
    >>> model(np.array([[[0., 0.], [1., 2.], [0., 0.]]], "float32")).numpy()
    array([[False,  True, False]])
    """

    supports_masking = True

    def __init__(self, rank: int, **kwargs: Any) -> None:
        kwargs.setdefault("dtype", "bool")
        super().__init__(**kwargs)
        self.rank = int(rank)
        self.built = True

    def __call__(self, inputs: Any, *args: Any, training: bool | None = None, **kwargs: Any) -> Any:
        if any_symbolic(inputs):
            return self._call_symbolic(inputs, training, {})
        return self.call(inputs)  # not Layer.__call__: its cast would make a Tensor without a mask

    def call(self, inputs: Any) -> Any:
        mask = getattr(inputs, "_keras_mask", None)
        if mask is None:
            raise ValueError(f"Layer '{self.name}' (MaskOf) returns the mask of its input, but the "
                             f"input of shape {tuple(np.shape(inputs))} carries none: the layer "
                             f"that made it attached no mask when run. Return that layer's output "
                             f"instead, or give it a mask (layers.Masking).")
        return mask

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> Any:
        return None  # the mask itself carries none

    def compute_output_shape(self, input_shape: Any) -> Any:
        return tuple(input_shape)[:self.rank]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rank": self.rank}


class InputLayer(Layer):
    """The layer behind :func:`Input`: it holds the model's symbolic input and passes data through.

    Parameters
    ----------
    shape : tuple of int or None, optional
        Shape of one example, without the batch axis (``None`` for an axis of any length).
    batch_size : int, optional
        A fixed batch size; with ``shape``, the batch shape is ``(batch_size, *shape)``.
    dtype : str, default 'float32'
    sparse, ragged : bool, default False
        Keras's sparse / ragged inputs; unafraid has neither, so ``True`` is refused.
    batch_shape : tuple, optional
        The shape including the batch axis (instead of ``shape`` and ``batch_size``).
    input_tensor : KerasTensor, optional
        An existing symbolic tensor to use as the layer's output; the other arguments, when
        given, must agree with it.
    optional : bool, default False
        Whether the input may be ``None`` (recorded for Keras's config).
    name : str, optional

    Examples
    --------
    >>> layer = InputLayer(shape=(2, 3), batch_size=4)
    >>> layer.batch_shape, layer.output.shape
    ((4, 2, 3), (4, 2, 3))
    """

    def __init__(self, shape: tuple[int | None, ...] | None = None, batch_size: int | None = None,
                 dtype: str | None = None, sparse: bool | None = None, ragged: bool | None = None,
                 batch_shape: tuple[int | None, ...] | None = None,
                 input_tensor: KerasTensor | None = None, optional: bool = False,
                 name: str | None = None, **kwargs: Any) -> None:
        if "input_shape" in kwargs:
            warnings.warn("Argument `input_shape` is deprecated. Use `shape` instead.", stacklevel=2)
            shape = kwargs.pop("input_shape")
        if "batch_input_shape" in kwargs:
            batch_shape = kwargs.pop("batch_input_shape")
        if input_tensor is not None:
            batch_shape, dtype, sparse = _input_tensor_spec(input_tensor, shape, batch_size,
                                                            batch_shape, dtype, sparse)
        else:
            batch_shape = _input_batch_shape(shape, batch_size, batch_shape)
        super().__init__(name=name or unique_name("input_layer"), dtype=dtype, **kwargs)
        self.sparse, self.ragged, self.optional = bool(sparse), bool(ragged), bool(optional)
        for flag in ("sparse", "ragged"):
            if getattr(self, flag):
                raise ValueError(f"InputLayer '{self.name}': `{flag}=True` is not supported with "
                                 f"the unafraid backend (it has no {flag} tensors). Pass dense "
                                 f"arrays and leave {flag}=False.")
        self.batch_shape = batch_shape
        self.built = True
        self._build_shape = self.batch_shape
        node = Node(self, None, {})
        if input_tensor is not None and input_tensor.node is None:  # a bare KerasTensor(shape)
            input_tensor.node, input_tensor.index = node, 0
        node.output_tensors = input_tensor if input_tensor is not None else KerasTensor(
            self.batch_shape, self.dtype, node, name=self.name)

    def call(self, inputs: Any = None) -> Any:
        return inputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        return self.batch_shape

    def get_config(self) -> dict[str, Any]:
        return {"batch_shape": list(self.batch_shape), "dtype": self.dtype, "name": self.name}


def _standard_shape(shape: Any, argument: str) -> tuple[int | None, ...]:
    """``shape`` as a tuple of Python ints and ``None`` (NumPy integers are accepted)."""
    shape = (shape,) if isinstance(shape, int | np.integer) else shape
    try:
        return tuple(None if d is None else int(d) for d in shape)
    except (TypeError, ValueError):
        raise ValueError(f"InputLayer: `{argument}` must be a tuple of integers or None, got "
                         f"{shape!r}. E.g. {argument}=(784,).") from None


def _input_batch_shape(shape: Any, batch_size: Any, batch_shape: Any) -> tuple[int | None, ...]:
    """The batch shape from Keras's ``shape`` + ``batch_size`` or ``batch_shape``, checked."""
    if shape is not None and batch_shape is not None:
        raise ValueError("You cannot pass both `shape` and `batch_shape` at the same time. "
                         "shape= is one example's shape, batch_shape= includes the batch axis.")
    if batch_size is not None and batch_shape is not None:
        raise ValueError("You cannot pass both `batch_size` and `batch_shape` at the same time. "
                         "Put the batch size first in batch_shape instead.")
    if shape is None and batch_shape is None:
        raise ValueError("You must pass a `shape` argument: the shape of one example, "
                         "e.g. InputLayer(shape=(784,)).")
    if batch_shape is not None:
        return _standard_shape(batch_shape, "batch_shape")
    return (None if batch_size is None else int(batch_size), *_standard_shape(shape, "shape"))


def _input_tensor_spec(tensor: Any, shape: Any, batch_size: Any, batch_shape: Any, dtype: Any,
                       sparse: Any) -> tuple[tuple[int | None, ...], str, bool]:
    """Batch shape, dtype and sparsity of ``InputLayer(input_tensor=...)``; the other arguments,
    when given, must agree with the tensor (Keras's rule)."""
    if not isinstance(tensor, KerasTensor):
        raise ValueError(f"Argument `input_tensor` must be a KerasTensor. Received invalid type: "
                         f"input_tensor={tensor!r} (of type {type(tensor)}). Pass "
                         f"unafraid.keras.Input(...) or a layer's symbolic output.")
    given = tuple(tensor.shape)

    def incompatible(argument: str, value: Any) -> ValueError:
        return ValueError(f"When providing the `input_tensor` argument, you cannot provide an "
                          f"incompatible `{argument}` argument: {argument}={value!r}, but the tensor "
                          f"has shape {given} and dtype {tensor.dtype}. Leave {argument} out.")

    if batch_size is not None and (not given or given[0] != batch_size):
        raise incompatible("batch_size", batch_size)
    if shape is not None and _standard_shape(shape, "shape") != given[1:]:
        raise incompatible("shape", shape)
    if batch_shape is not None and _standard_shape(batch_shape, "batch_shape") != given:
        raise incompatible("batch_shape", batch_shape)
    if dtype is not None and str(np.dtype(dtype)) != tensor.dtype:
        raise incompatible("dtype", dtype)
    if sparse is not None and bool(sparse) != tensor.sparse:
        raise incompatible("sparse", sparse)
    return given, tensor.dtype, tensor.sparse


# ---- helpers --------------------------------------------------------------------------------------
class AddedMetric:
    """What ``add_metric`` makes: the running mean of a value over the batches, by name.

    It has the interface ``fit`` uses of a metric (``name``, ``update_state``, ``result``,
    ``reset_state``), as ``keras.metrics.Mean`` has: ``result = sum of values / their count``
    (0 before any), accumulated in float64.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.total, self.count = 0.0, 0

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        v = np.asarray(values, np.float64).ravel()
        self.total += float(v.sum())
        self.count += v.size

    def result(self) -> np.float32:
        return np.float32(self.total / self.count if self.count else 0.0)

    def reset_state(self) -> None:
        self.total, self.count = 0.0, 0

    def __repr__(self) -> str:
        return f"<AddedMetric name={self.name!r} result={float(self.result()):.4g}>"


def is_metric(obj: Any) -> bool:
    """Whether ``obj`` is a metric (a ``keras.metrics.Metric`` or an :class:`AddedMetric`): an
    object, not a class or a layer, with ``update_state``, ``result`` and ``reset_state``."""
    return not isinstance(obj, type | Layer) and all(
        callable(getattr(obj, m, None)) for m in ("update_state", "result", "reset_state"))


_METRICS_ADDED = [False]  # whether any layer of this process has called add_metric


def layers_within(layer: Layer) -> Iterator[Layer]:
    """``layer`` and every layer inside it, each once, breadth first."""
    queue, seen = [layer], set()
    while queue:
        current = queue.pop(0)
        if id(current) not in seen:
            seen.add(id(current))
            yield current
            queue.extend(current._layers)


def added_metrics(layer: Layer) -> list[Any]:
    """The metrics made by ``add_metric`` in ``layer`` and every layer inside it, each once.

    None, without looking, while no layer of this process has called ``add_metric`` (the
    common case: ``fit`` asks at every step, through ``Model.metrics``)."""
    if not _METRICS_ADDED[0]:
        return []
    return [m for current in layers_within(layer)
            for m in current.__dict__.get("_added_metrics", {}).values()]


def input_batch(shape: Any) -> Any:
    return shape[0][0] if _is_shape_list(shape) else shape[0]


def _is_shape_list(shape: Any) -> bool:
    return isinstance(shape, list) and all(isinstance(s, tuple | list) for s in shape)


def any_symbolic(x: Any) -> bool:
    """Whether ``x`` (a tensor or a list of them) holds a symbolic ``KerasTensor``."""
    if isinstance(x, KerasTensor):
        return True
    if isinstance(x, list | tuple):
        return any(isinstance(v, KerasTensor) for v in x)
    return False


def _shapes(x: Any) -> Any:
    if isinstance(x, list | tuple) and not isinstance(x, KerasTensor):
        return [tuple(v.shape) for v in x]
    return tuple(x.shape)


def _to_tensors(x: Any, dtype: str) -> Any:
    if isinstance(x, list | tuple):
        return [_to_tensor(v, dtype) for v in x]
    return _to_tensor(x, dtype)


def _to_tensor(x: Any, dtype: str) -> Tensor:
    """Inputs become Tensors of the layer's dtype (Keras casts inputs the same way)."""
    if isinstance(x, Tensor):
        if x.dtype != dtype and x.dtype.kind in "fiub":
            return x.astype(dtype)
        return x
    a = np.asarray(getattr(x, "values", x))  # pandas DataFrames give their values
    if a.dtype.kind not in "fiub":
        raise TypeError(f"Layer inputs must be numeric; got an array of dtype {a.dtype}. Convert "
                        f"it first, e.g. np.asarray(x, dtype='float32').")
    return Tensor(a.astype(dtype, copy=False))


# Keras's weight-quantization dtype policies (``"int8_from_float32"``...): not in unafraid's scope
_QUANTIZED_DTYPE = re.compile(r"^(int8|int4|float8|gptq|awq)(_from_\w+)?$")


def _layer_dtype(layer: str, dtype: Any) -> str:
    """The layer's dtype as a NumPy name; a Keras quantization policy is refused with its name."""
    if isinstance(dtype, str) and _QUANTIZED_DTYPE.match(dtype) and "_from_" in dtype:
        raise ValueError(f"{layer}(dtype={dtype!r}) is a Keras weight-quantization dtype policy; "
                         f"unafraid computes in float32 and has no quantized layers. Leave dtype "
                         f"at 'float32' (or 'float64').")
    return str(np.dtype(dtype or "float32"))


class PerExample(Function):
    """``loss / n`` with ``n`` the batch size, the length of ``output``'s first axis, read when
    the step runs (so a replayed step with a smaller last batch divides by its own size)."""

    name = "per_example"

    @staticmethod
    def forward(ctx, loss, output):
        n = output.shape[0]
        ctx.save(n)
        return np.asarray(loss / n if n else np.zeros_like(loss))  # Keras's divide_no_nan

    @staticmethod
    def vjp(ctx, g, n):
        return (g / n if n else g * 0, None)


def activity_loss(regularizer: Any, output: Any) -> Any:
    """Keras 3's activity penalty of one layer output: ``regularizer(output) / batch_size``,
    the batch size being ``output.shape[0]`` (a 0-d output is not divided), so the penalty's
    strength does not grow with the batch (Keras 3.15.1, keras-team/keras#22021).

    Examples
    --------
    >>> import numpy as np
    >>> from unafraid import regularizers
    >>> from unafraid.engine import Tensor
    >>> from unafraid.layers.base import activity_loss
    >>> y = Tensor(np.ones((4, 2), np.float32))  # 0.5 * sum(y**2) = 4, over a batch of 4
    >>> float(activity_loss(regularizers.L2(0.5), y).data)
    1.0
    """
    loss = regularizer(output)
    return loss if np.ndim(getattr(output, "data", output)) == 0 else PerExample.apply(loss, output)


def weight_options_config(layer: Any, weights: tuple[str, ...] = ("kernel", "bias")) -> dict[str, Any]:
    """Keras's config entries for the initializer, regularizer and constraint of each named
    weight, and the layer's ``activity_regularizer``, serialized, in Keras's key order:
    ``kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
    activity_regularizer, kernel_constraint, bias_constraint``."""
    config = {f"{w}_initializer": initializers.serialize(getattr(layer, f"{w}_initializer"))
              for w in weights}
    config.update({f"{w}_regularizer": regularizers.serialize(getattr(layer, f"{w}_regularizer"))
                   for w in weights})
    config["activity_regularizer"] = regularizers.serialize(layer.activity_regularizer)
    config.update({f"{w}_constraint": constraints.serialize(getattr(layer, f"{w}_constraint"))
                   for w in weights})
    return config
