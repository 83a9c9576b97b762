"""``Sequential``: a plain stack of layers, each feeding the next."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import ops
from ..io.saving import deserialize_layer, serialize_layer
from ..layers.base import InputLayer, KerasTensor, Layer
from .data import unbatched_hint
from .model import Model


class Sequential(Model):
    """A linear stack of layers: ``Sequential([Flatten(input_shape=(28, 28)), Dense(10)])``.

    Parameters
    ----------
    layers : list of Layer, optional
        May start with ``unafraid.keras.Input(shape=...)``; or give the first
        layer ``input_shape=``. Then the model is built at once (``summary``
        works); otherwise it is built on first use.
    name : str, optional

    Examples
    --------
    >>> import unafraid as tf
    >>> model = tf.keras.Sequential([
    ...     tf.keras.layers.Flatten(input_shape=(28, 28)),
    ...     tf.keras.layers.Dense(512, activation="relu"),
    ...     tf.keras.layers.Dense(10, activation="softmax")])
    >>> model.count_params()
    407050
    """

    def __init__(self, layers: list[Any] | None = None, trainable: bool = True,
                 name: str | None = None, **kwargs: Any) -> None:
        super().__init__(trainable=trainable, name=name, **kwargs)
        self._input_batch_shape: tuple[int | None, ...] | None = None
        for layer in _layer_list(layers):
            self._append(layer)
        self._try_build()  # once, at the end: building after each layer would cost O(n^2)

    def add(self, layer: Any) -> None:
        """Append a layer (or an ``Input``, which sets the input shape).

        On a built model only the new layer is built, on the previous output shape, so adding
        n layers one by one costs O(n), not O(n^2).
        """
        shape = getattr(self, "_output_shape", None) if self.built else None
        count = len(self._layers)
        self._append(layer)
        if shape is None or len(self._layers) != count + 1:
            self._try_build()
            return
        self._graph_out = self._layers[-1](self._graph_out)
        self._output_shape = symbolic_shape(self._graph_out)
        self.built = True

    def _append(self, layer: Any) -> None:
        """Check and append a layer (or take an ``Input``'s shape) without building."""
        if isinstance(layer, KerasTensor):
            layer = layer.node.layer
        if isinstance(layer, InputLayer):
            if self._layers:
                raise ValueError("An Input can only be the first element of a Sequential model.")
            self._input_batch_shape = layer.batch_shape
            return
        if isinstance(layer, type) and issubclass(layer, Layer):
            raise TypeError(f"Sequential got the class {layer.__name__} itself, not a "
                            f"{layer.__name__} layer. Create the layer by calling the class with "
                            f"its arguments, e.g. {layer.__name__}(...) such as Dense(10) "
                            f"instead of Dense.")
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add expects a layer, got {type(layer).__name__}: "
                            f"{layer!r}. Did you forget to call it, e.g. Dense(10) not Dense?")
        if not self._layers and layer._input_shape_arg is not None:
            self._input_batch_shape = (None, *layer._input_shape_arg)
        self._layers.append(layer)
        self.built = False

    def pop(self) -> Layer:
        """Remove and return the last layer."""
        if not self._layers:
            raise TypeError("There are no layers in the model to pop.")
        layer = self._layers.pop()
        self.built = False
        self._try_build()
        return layer

    def _try_build(self) -> None:
        if self._input_batch_shape is not None and self._layers:
            self._maybe_build(self._input_batch_shape)

    def build(self, input_shape: Any = None) -> None:
        """Build every layer in turn, passing each its input shape."""
        shape = tuple(input_shape) if input_shape is not None else self._input_batch_shape
        if shape is None:
            raise ValueError("Sequential.build needs an input shape, e.g. "
                             "model.build((None, 784)).")
        self._input_batch_shape = shape
        # as Keras 3: the layers are called on a symbolic Input, which builds them and gives
        # model.inputs / model.outputs and each layer's .input / .output (a functional graph)
        dtype = self._layers[0].dtype if self._layers else "float32"
        x = self._graph_in = InputLayer(batch_shape=shape, dtype=dtype).output
        for layer in self._layers:
            x = layer(x)
        self._graph_out = x
        self._output_shape = symbolic_shape(x)  # what the next added layer is built on
        self.built = True
        self._build_shape = self._input_batch_shape

    @property
    def inputs(self) -> list[KerasTensor]:
        """The symbolic input, ``[KerasTensor]``, once the input shape is known (as in Keras 3)."""
        return [self._graph("inputs")[0]]

    @property
    def outputs(self) -> list[KerasTensor]:
        """The symbolic output(s) of the last layer, as a list."""
        out = self._graph("outputs")[1]
        return list(out) if isinstance(out, list | tuple) else [out]

    @property
    def input(self) -> KerasTensor:
        return self._graph("input")[0]

    @property
    def output(self) -> Any:
        return self._graph("output")[1]

    def _graph(self, what: str) -> tuple[KerasTensor, Any]:
        if not self.built or self.__dict__.get("_graph_in") is None:
            raise AttributeError(
                f"Sequential model '{self.name}' has no defined {what} yet: its input shape is "
                f"unknown. Start it with keras.Input(shape=...) (or give its first layer "
                f"input_shape=), or call model.build((None, ...)).")
        return self._graph_in, self._graph_out

    def _check_data_shape(self, xs: list[Any]) -> None:
        """Refuse data whose examples do not have the shape the model was built for, naming both."""
        expected = self._input_batch_shape
        if expected is None or len(xs) != 1 or not self._layers:
            return
        got = tuple(xs[0].shape)
        want = tuple(expected[1:])
        if adds_last_axis(got, expected):  # Keras adds the axis (see call)
            return
        if len(got) - 1 == len(want) and all(w is None or w == g for w, g in zip(
                want, got[1:], strict=True)):
            return
        first = self._layers[0]
        hint = ""
        if len(got) > 2 and len(want) == 1 and want[0] == int(np.prod(got[1:])):
            hint = (f" Did you forget Flatten()? Start the model with "
                    f"layers.Flatten(input_shape={got[1:]}), or pass x.reshape(len(x), -1).")
        elif len(got) == 2 and len(want) > 1 and got[1] == int(np.prod(want)):
            hint = f" The examples look flattened: pass x.reshape(-1, *{want})."
        elif len(got) == 1 and want == (1,):
            hint = " x is 1-D: pass one column per example, x.reshape(-1, 1)."
        elif unbatched_hint(got, want):
            raise ValueError(
                f"Model '{self.name}' expects a batch of examples of shape {want} (shape "
                f"(n, {', '.join(map(str, want))})), but x has shape {got}."
                f"{unbatched_hint(got, want)}")
        raise ValueError(
            f"Model '{self.name}' expects examples of shape {want} (its first layer "
            f"'{first.name}' was built for input shape {tuple(expected)}), but x has shape "
            f"{got}, i.e. examples of shape {got[1:]}.{hint} If the model itself is wrong, "
            f"give its first layer input_shape={got[1:]}.")

    def call(self, inputs: Any, training: bool = False) -> Any:
        x = inputs
        if adds_last_axis(tuple(getattr(x, "shape", ())), self._input_batch_shape):
            x = ops.expand_dims(x, -1)  # 1-D x for a model built on (None, 1), as Keras 3 does
        for layer in self._layers:
            x = layer(x, training=training)
        return x

    def compute_output_shape(self, input_shape: Any) -> Any:
        shape = input_shape
        for layer in self._layers:
            shape = layer.compute_output_shape(shape)
        return shape

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "trainable": self.trainable,
                "build_input_shape": (None if self._input_batch_shape is None
                                      else list(self._input_batch_shape)),
                "layers": [serialize_layer(layer) for layer in self._layers]}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Sequential:
        model = cls([deserialize_layer(spec) for spec in config["layers"]],
                    name=config.get("name"), trainable=config.get("trainable", True))
        shape = config.get("build_input_shape")
        if shape is not None and not model.built:
            model.build(tuple(shape))
        return model


def _layer_list(layers: Any) -> list[Any]:
    """``Sequential``'s ``layers`` argument as a list; a single layer gets a message with the fix."""
    if layers is None:
        return []
    if isinstance(layers, list | tuple):
        return list(layers)
    if isinstance(layers, Layer | KerasTensor):
        name = type(layers).__name__ if isinstance(layers, Layer) else "Input"
        raise TypeError(f"Sequential expects a list of layers, got a single {name} layer. Put "
                        f"it in a list: Sequential([{name}(...)]), or call model.add(layer).")
    raise TypeError(f"Sequential expects a list of layers, got {type(layers).__name__}: "
                    f"{str(layers)[:100]}. Pass e.g. Sequential([Dense(64, activation='relu'), "
                    f"Dense(10)]).")


def symbolic_shape(x: Any) -> Any:
    """The shape of a symbolic tensor, or the list of shapes of a list of them."""
    return [t.shape for t in x] if isinstance(x, list | tuple) else x.shape


def adds_last_axis(got: tuple[int, ...], expected: Any) -> bool:
    """Whether data of shape ``got`` gets a last axis of 1 to match ``expected`` (Keras 3's rule:
    a 1-D ``x`` of ``n`` numbers for a model whose examples have shape ``(1,)``)."""
    return (expected is not None and len(expected) >= 2 and expected[-1] == 1
            and len(got) == len(expected) - 1)
