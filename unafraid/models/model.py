"""``Model``: compile, fit, evaluate, predict, summary, save (Keras's API and behaviour)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import random as _random
from .. import registry
from ..callbacks import History
from ..engine import no_grad
from ..io.custom_objects import custom_object_scope
from ..layers.base import Layer
from . import data as _data
from .training import Trainer


class Model(Trainer, Layer):
    """A trainable stack of layers: subclass it, or call ``Model(inputs, outputs)``.

    Subclassing: create layers in ``__init__`` and write ``call(self, x, training=False)``.
    ``Model(inputs, outputs)`` with symbolic tensors from ``unafraid.keras.Input``
    builds a functional model (branches, several inputs or outputs).

    Examples
    --------
    >>> import unafraid as tf
    >>> class MLP(tf.keras.Model):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = tf.keras.layers.Dense(64, activation="relu")
    ...         self.out = tf.keras.layers.Dense(10)
    ...     def call(self, x, training=False):
    ...         return self.out(self.hidden(x))
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Model:
        if cls is Model and (args or "inputs" in kwargs):
            return super().__new__(registry.lookup("layer", "Functional"))
        return super().__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args or "inputs" in kwargs:
            # A subclass built functionally, CustomModel(inputs, outputs), as in Keras's guide
            # "customizing what happens in fit": it becomes a Functional subclass (Keras 3 does
            # the same), keeping its own train_step.
            functional = registry.lookup("layer", "Functional")
            if not isinstance(self, functional):
                cls = type(self)
                cls.__bases__ = tuple(functional if b is Model else b for b in cls.__bases__)
                if not isinstance(self, functional):
                    raise TypeError(f"{cls.__name__}(inputs, outputs): only a direct subclass of "
                                    f"Model can be built from inputs and outputs.")
            functional.__init__(self, *args, **kwargs)
            return
        super().__init__(**kwargs)
        self.optimizer: Any = None
        self.compiled = False
        self.stop_training = False
        self.update_skipped = False  # set by each train_step: its update was not applied
        self.history: History | None = None
        self._shuffle_rng = _random.make_generator()

    @classmethod
    def from_config(cls, config: dict[str, Any],
                    custom_objects: dict[str, Any] | None = None) -> Model:
        """Re-create a model from ``get_config()``'s output (Keras's ``Model.from_config``).

        ``Model.from_config`` of a functional model's config builds the functional model;
        ``custom_objects`` maps the names of your own layer classes in it to the classes.

        Examples
        --------
        >>> import unafraid as tf
        >>> inputs = tf.keras.Input((3,))
        >>> model = tf.keras.Model(inputs, tf.keras.layers.Dense(2)(inputs))
        >>> tf.keras.Model.from_config(model.get_config()).output_shape
        (None, 2)
        """
        with custom_object_scope(custom_objects):
            if cls is Model and "input_refs" in config:
                return registry.lookup("layer", "Functional").from_config(config)
            return super().from_config(config)

    @property
    def output_names(self) -> list[str]:
        """Names of the model's outputs (one for most models)."""
        return ["output"]

    def random_generators(self) -> list[np.random.Generator]:
        """Every random generator training draws from, in a fixed order: this model's shuffling
        order, then each layer's (dropout masks) and each nested model's, breadth first.
        What a saved file and fit's NaN guard keep."""
        gens = [self._shuffle_rng]
        for layer in self._flat_layers():
            if _draws_masks(layer):
                gens.append(layer.generator)
            if isinstance(layer, Model):
                gens.append(layer._shuffle_rng)
        return gens

    def step_generators(self) -> list[np.random.Generator]:
        """The generators a training step draws from: each layer's (dropout masks), breadth
        first (``random_generators`` without the shuffling orders, which ``fit`` draws from
        between steps). What fit's NaN guard keeps before every step."""
        return [layer.generator for layer in self._flat_layers() if _draws_masks(layer)]

    def _example_shape(self) -> tuple[int | None, ...] | None:
        """The shape of one example of the (single) input the model was built for, or None."""
        shape = getattr(self, "_input_batch_shape", None) or getattr(self, "_build_shape", None)
        if not isinstance(shape, tuple) or not shape or not all(
                d is None or isinstance(d, int) for d in shape):
            return None
        return tuple(shape[1:])

    def _flat_layers(self) -> list[Layer]:
        """Every layer inside this model, nested ones included, breadth first, each once."""
        out, queue, seen = [], list(self._layers), set()
        while queue:
            layer = queue.pop(0)
            if id(layer) not in seen:
                seen.add(id(layer))
                out.append(layer)
                queue.extend(layer._layers)
        return out

    # ---- data -----------------------------------------------------------------------------
    def _inputs_list(self, x: Any) -> list[np.ndarray]:
        if x is None:
            raise ValueError("x is None: pass the training inputs as a NumPy array.")
        if isinstance(x, dict):
            x = [x[n] for n in self.input_names]
        xs = list(x) if isinstance(x, list | tuple) and not _data.looks_numeric_list(x) else [x]
        return _data.check_inputs([_data.to_array(a, "x") for a in xs])

    @property
    def input_names(self) -> list[str]:
        return ["input"]

    def _targets_list(self, y: Any, xs: list[np.ndarray] = ()) -> list[np.ndarray]:
        """Targets as arrays, refused when not finite (unless one is an input, ``xs``, and so
        already checked: an autoencoder's ``fit(x, x)``)."""
        if y is None:
            raise ValueError("y is None: the compiled loss needs targets (labels), e.g. "
                             "model.fit(x, y). (A model whose loss comes only from add_loss is "
                             "compiled without one, model.compile(optimizer), and then fit(x) "
                             "needs no y.)")
        if isinstance(y, dict):
            y = [y[n] for n in self.output_names]
        ys = list(y) if (isinstance(y, list | tuple) and len(self.output_names) > 1) else [y]
        out = []
        for a in ys:
            a = _data.to_array(a, "y")
            if not any(a is x for x in xs):
                _data.check_finite(a, "y")
            out.append(a)
        return out

    def _model_inputs(self, xs: list[Any]) -> Any:
        return xs[0] if len(xs) == 1 else xs

    def _ensure_built(self, xs: list[np.ndarray]) -> None:
        if not self.built and self._defines_call():
            with no_grad():
                self(self._model_inputs([a[:1] for a in xs]), training=False)
        self._check_data_shape(xs)

    def _validation_arrays(self, validation_data: Any) -> tuple[Any, Any, Any]:
        """``validation_data`` converted and checked once, before training (not after an epoch)."""
        vx, vy, vsw = _unpack_validation(validation_data)
        if isinstance(vx, dict):
            vx = [vx[k] for k in self.input_names]
        xs = _data.check_inputs([_data.to_array(a, "validation x") for a in (
            list(vx) if isinstance(vx, list | tuple) and not _data.looks_numeric_list(vx) else [vx])],
            "validation x")
        ys = self._targets_list(vy)
        sw = None if vsw is None else _data.to_array(vsw, "validation sample_weight", np.float32)
        _data.same_length({"validation x": xs[0], "validation y": ys[0],
                           "validation sample_weight": sw})
        return xs, ys, sw

    def _check_data_shape(self, xs: list[np.ndarray]) -> None:
        """Compare the data with the input shape the model was built for (Sequential overrides):
        here, one example given without its batch axis is refused with the ``x[None]`` fix."""
        want = self._example_shape()
        hint = _data.unbatched_hint(tuple(xs[0].shape), want) if len(xs) == 1 and want else ""
        if hint:
            raise ValueError(f"Model '{self.name}' expects a batch of examples of shape {want}, "
                             f"but x has shape {tuple(xs[0].shape)}.{hint}")

    def _check_targets(self, xs: list[np.ndarray], ys: list[np.ndarray]) -> list[np.ndarray]:
        """Check targets against the model's outputs once, before training starts (``ys``
        come from ``_targets_list``, which has refused NaN and inf already)."""
        from .. import losses as _losses
        with no_grad():
            out = self(self._model_inputs([a[:2] for a in xs]), training=False)
        outs = list(out) if isinstance(out, list | tuple) else [out]
        if len(ys) != len(outs):
            raise ValueError(f"The model has {len(outs)} outputs ({self.output_names}) but y "
                             f"holds {len(ys)} target arrays.")
        checked = []
        for k, (loss_fn, y, o) in enumerate(zip(self._losses_per_output, ys, outs, strict=True)):
            check = getattr(_losses, "check_targets", None)
            y = check(loss_fn, y, o.shape, output_name=self.output_names[k],
                      finite_checked=True) if (check and loss_fn is not None) else y
            checked.append(y)
        return checked

    # ---- inspection -----------------------------------------------------------------------------
    @property
    def layers(self) -> list[Layer]:
        """The model's layers, in order."""
        return list(self._layers)

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by name or position."""
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No layer named '{name}'. Layers: {[lay.name for lay in self.layers]}.")

    def summary(self, print_fn: Any = None, line_length: int = 80) -> None:
        """Print the layers, their output shapes and parameter counts, as Keras does."""
        from .summary import summary_text
        (print_fn or print)(summary_text(self, line_length))

    # ---- saving --------------------------------------------------------------------------------
    def save(self, filepath: Any, overwrite: bool = True) -> None:
        """Save architecture, weights, optimizer and random state to one file (atomically).

        The file is a safetensors file whose JSON header holds the architecture
        and training configuration: no pickle, no code. Load it with
        ``unafraid.keras.models.load_model``.
        """
        from ..io.saving import save_model
        save_model(self, filepath, overwrite=overwrite)

    def to_json(self, **kwargs: Any) -> str:
        """The architecture as a JSON string (Keras's ``Model.to_json``; no weights, no code).

        ``keras.models.model_from_json`` re-creates the model from it, with fresh weights.
        ``kwargs`` go to ``json.dumps`` (``indent=2``, as in Keras).

        Examples
        --------
        >>> from unafraid import keras
        >>> model = keras.Sequential([keras.Input((32,)), keras.layers.Dense(1)])
        >>> keras.models.model_from_json(model.to_json()).output_shape
        (None, 1)
        """
        import json

        from ..io.saving import serialize_layer
        return json.dumps(serialize_layer(self), **kwargs)

    def export(self, filepath: Any, format: str = "onnx", **kwargs: Any) -> None:  # noqa: A002
        """Write the inference graph for serving: ``format='onnx'`` (see ``unafraid.io.onnx``).

        The batch dimension stays dynamic; ``onnxruntime`` then predicts what
        ``predict`` does. Needs the ``onnx`` package (``pip install unafraid[onnx]``).
        """
        if format != "onnx":
            raise ValueError(f"export: format={format!r} is not available in unafraid; use "
                             f"format='onnx' (TensorFlow SavedModel needs TensorFlow: save as "
                             f"'.keras' and export from Keras).")
        from ..io.onnx import export
        export(self, filepath, **kwargs)

    def save_weights(self, filepath: Any, overwrite: bool = True) -> None:
        """Save the weights only (safetensors, atomically)."""
        from ..io.saving import save_weights
        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath: Any) -> Any:
        """Load weights saved by ``save_weights`` or ``save`` (checked by name and shape).

        Returns a load status (as tf.keras 2's ``load_weights``): ``status.assert_consumed()``
        raises when some of the model's weights were not in the file (see
        ``unafraid.io.saving.load_weights``)."""
        from ..io.saving import load_weights
        return load_weights(self, filepath)

    def get_compile_config(self) -> dict[str, Any] | None:
        """The compile arguments as JSON-serialisable data."""
        if not self.compiled:
            return None
        from .. import losses as _losses
        from .. import metrics as _metrics
        from .. import optimizers as _optimizers
        metrics, weighted = self._metric_spec
        return {"optimizer": _optimizers.serialize(self.optimizer),
                "loss": _serialize_spec(self._loss_spec, _losses.serialize),
                "loss_weights": self._loss_weights,
                "metrics": _serialize_spec(metrics, _metrics.serialize)}

    def compile_from_config(self, config: dict[str, Any]) -> None:
        """Re-compile from ``get_compile_config()``'s output."""
        from .. import optimizers as _optimizers
        self.compile(optimizer=_optimizers.get(config["optimizer"]), loss=config["loss"],
                     loss_weights=config.get("loss_weights"), metrics=config.get("metrics"))


def _serialize_spec(spec: Any, serialize: Any) -> Any:
    if spec is None or isinstance(spec, str):
        return spec
    if isinstance(spec, dict):
        return {k: _serialize_spec(v, serialize) for k, v in spec.items()}
    if isinstance(spec, list | tuple):
        return [_serialize_spec(v, serialize) for v in spec]
    return serialize(spec)


def _unpack_validation(val: Any) -> tuple[Any, Any, Any]:
    if not isinstance(val, list | tuple) or len(val) not in (2, 3):
        got = (f"a {type(val).__name__} of length {len(val)}" if isinstance(val, list | tuple)
               else f"{type(val).__name__}" + (f" of shape {val.shape}" if hasattr(val, "shape")
                                               else ""))
        raise ValueError(f"validation_data must be a tuple (x_val, y_val) or (x_val, y_val, "
                         f"sample_weight_val), got {got}. E.g. model.fit(x, y, "
                         f"validation_data=(x_val, y_val)), or validation_split=0.2 to hold out "
                         f"part of x.")
    vx, vy = val[0], val[1]
    vsw = val[2] if len(val) == 3 else None
    if isinstance(vx, list) and len(vx) == 1:
        vx = vx[0]
    if isinstance(vy, list) and len(vy) == 1:
        vy = vy[0]
    return vx, vy, vsw


def _draws_masks(layer: Layer) -> bool:
    """Whether ``layer`` has a random generator of its own (Dropout's masks, noise layers)."""
    return isinstance(getattr(layer, "generator", None), np.random.Generator)
