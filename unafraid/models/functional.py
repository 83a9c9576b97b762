"""Functional models: ``Model(inputs, outputs)`` over a graph of layer calls."""

from __future__ import annotations

from typing import Any

from ..io.custom_objects import custom_object_scope
from ..io.saving import deserialize_layer, serialize_layer
from ..layers.base import InputLayer, KerasTensor, Layer, Node
from .batches import by_names
from .model import Model


class Functional(Model):
    """A model defined by symbolic inputs and outputs (made by ``Model(inputs, outputs)``).

    Supports branches, shared layers, and several inputs or outputs.
    """

    def __init__(self, inputs: Any, outputs: Any, name: str | None = None,
                 trainable: bool = True, **kwargs: Any) -> None:
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._in = _as_list(inputs, "inputs")
        self._out = _as_list(outputs, "outputs")
        self._single_input = not isinstance(inputs, list | tuple | dict)
        self._single_output = not isinstance(outputs, list | tuple | dict)
        self._symbolic_losses: list[KerasTensor] = []  # model.add_loss(f(x)), tf.keras 2
        self._symbolic_metrics: list[tuple[KerasTensor, str]] = []  # model.add_metric(f(x), name)
        self._wire()
        self.built = True
        self._build_shape = [t.shape for t in self._in] if len(self._in) > 1 else self._in[0].shape

    def _wire(self) -> None:
        """The nodes to run: those the outputs and the symbolic losses and metrics need."""
        extra = self._symbolic_losses + [t for t, _ in self._symbolic_metrics]
        self._nodes = _topological_nodes(self._in, self._out + extra)
        for node in self._nodes:
            if node.layer not in self._layers and not isinstance(node.layer, InputLayer):
                self._layers.append(node.layer)

    def add_symbolic_loss(self, loss: KerasTensor) -> None:
        """``model.add_loss(f(x))`` with ``f(x)`` computed from the model's symbolic tensors
        (tf.keras 2): every forward pass computes it and adds it with ``add_loss`` (its sum when
        it is not a scalar), so ``model.losses`` lists it and ``fit`` minimises it.

        Examples
        --------
        >>> import numpy as np, unafraid as tf
        >>> x = tf.keras.Input((2,))
        >>> model = tf.keras.Model(x, tf.keras.layers.Dense(1)(x))
        >>> model.add_loss(0.5 * tf.reduce_sum(x))
        >>> _ = model(np.ones((3, 2), "float32"))
        >>> [float(v) for v in model.losses]
        [3.0]
        """
        self._symbolic_losses.append(loss)
        self._rewire_or_undo(self._symbolic_losses, "add_loss")

    def add_symbolic_metric(self, value: KerasTensor, name: str) -> None:
        """``model.add_metric(f(x), name=...)`` (tf.keras 2): every forward pass computes ``f(x)``
        and passes it to ``add_metric``, so ``fit`` logs its mean over the batches as ``name``."""
        self._symbolic_metrics.append((value, name))
        self._rewire_or_undo(self._symbolic_metrics, "add_metric")

    def _rewire_or_undo(self, added: list[Any], what: str) -> None:
        try:
            self._wire()
        except ValueError as e:  # the graph is left as it was (_wire failed before changing it)
            added.pop()
            raise ValueError(f"Model '{self.name}': {what} of a symbolic tensor that is not "
                             f"computed from this model's inputs {self.input_names}: {e}") from e

    @property
    def layers(self) -> list[Layer]:
        """The model's layers as Keras (3 and tf.keras 2) lists a functional model's: its
        ``InputLayer``s first, then the other layers in the order they run."""
        inputs = [t.node.layer for t in self._in]
        return [*dict.fromkeys(inputs), *self._layers]

    @property
    def inputs(self) -> list[KerasTensor]:
        return list(self._in)

    @property
    def outputs(self) -> list[KerasTensor]:
        return list(self._out)

    @property
    def input(self) -> Any:
        """The symbolic input (a list of them for several), as in Keras: with the outputs of
        ``model.layers`` it builds a feature extractor, ``Model(model.input, [...])``."""
        return self._in[0] if self._single_input else list(self._in)

    @property
    def output(self) -> Any:
        """The symbolic output (a list of them for several)."""
        return self._out[0] if self._single_output else list(self._out)

    @property
    def input_names(self) -> list[str]:
        return [t.node.layer.name for t in self._in]

    @property
    def output_names(self) -> list[str]:
        return [t.node.layer.name for t in self._out]

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(inputs, dict):  # keyed by input name, as Keras accepts
            inputs = by_names(inputs, self.input_names, f"model '{self.name}'", "input")
            inputs = inputs[0] if len(inputs) == 1 else inputs
        return super().__call__(inputs, *args, **kwargs)

    def call(self, inputs: Any, training: bool = False) -> Any:
        xs = inputs if isinstance(inputs, list | tuple) else [inputs]
        if len(xs) != len(self._in):
            raise ValueError(f"Model '{self.name}' expects {len(self._in)} inputs "
                             f"{self.input_names}, got {len(xs)}.")
        values: dict[int, Any] = {}
        for t, x in zip(self._in, xs, strict=True):
            expected = t.shape[1:]
            if tuple(x.shape[1:]) != tuple(expected) and None not in expected:
                raise ValueError(f"Input '{t.node.layer.name}' of model '{self.name}' expects "
                                 f"examples of shape {expected}, got data of shape {x.shape}.")
            values[id(t)] = x
        for node in self._nodes:
            args = _map(node.args, values)
            kwargs = {k: v for k, v in node.kwargs.items() if k != "training"}
            out = node.layer(args, training=training, **kwargs)
            for t in node.outputs:
                values[id(t)] = out[t.index] if isinstance(out, list | tuple) else out
        for t in self._symbolic_losses:
            self.add_loss(values[id(t)])
        for t, name in self._symbolic_metrics:
            self.add_metric(values[id(t)], name=name)
        outs = [values[id(t)] for t in self._out]
        return outs[0] if self._single_output else outs

    def compute_output_shape(self, input_shape: Any) -> Any:
        shapes = [t.shape for t in self._out]
        return shapes[0] if self._single_output else shapes

    def get_config(self) -> dict[str, Any]:
        ids = {id(node): k for k, node in enumerate(self._nodes)}
        layers, node_specs = [], []
        for node in self._nodes:
            node_specs.append({"layer": node.layer.name,
                               "args": _ref(node.args, ids), "kwargs": {
                                   k: v for k, v in node.kwargs.items() if k != "training"}})
        seen = set()
        for node in self._nodes:
            if id(node.layer) not in seen and not isinstance(node.layer, InputLayer):
                seen.add(id(node.layer))
                # the name the nodes use, even if the layer's own get_config leaves it out
                layers.append({**serialize_layer(node.layer), "name": node.layer.name})
        return {"name": self.name, "trainable": self.trainable,
                "inputs": [t.node.layer.get_config() for t in self._in],
                "layers": layers, "nodes": node_specs,
                "input_refs": [_ref(t, ids) for t in self._in],
                "output_refs": [_ref(t, ids) for t in self._out],
                "single_input": self._single_input, "single_output": self._single_output,
                "symbolic_losses": [_ref(t, ids) for t in self._symbolic_losses],
                "symbolic_metrics": [[_ref(t, ids), name] for t, name in self._symbolic_metrics]}

    @classmethod
    def from_config(cls, config: dict[str, Any],
                    custom_objects: dict[str, Any] | None = None) -> Functional:
        with custom_object_scope(custom_objects):
            return cls._from_config(config)

    @classmethod
    def _from_config(cls, config: dict[str, Any]) -> Functional:
        by_name: dict[str, Layer] = {}
        ins: dict[str, KerasTensor] = {}
        for spec in config["inputs"]:
            layer = InputLayer(**{k: spec[k] for k in ("batch_shape", "dtype", "name")})
            ins[layer.name] = layer.output
        for spec in config["layers"]:
            layer = deserialize_layer(spec)
            by_name[spec.get("name", layer.name)] = layer
        produced: list[Any] = []
        for spec in config["nodes"]:
            layer = by_name.get(spec["layer"])
            if layer is None:
                raise ValueError(f"Saved model refers to an unknown layer '{spec['layer']}'.")
            out = layer(_deref(spec["args"], produced, ins), **spec["kwargs"])
            produced.append(out)
        inputs = [_deref(r, produced, ins) for r in config["input_refs"]]
        outputs = [_deref(r, produced, ins) for r in config["output_refs"]]
        model = cls(inputs[0] if config["single_input"] else inputs,
                    outputs[0] if config["single_output"] else outputs,
                    name=config.get("name"), trainable=config.get("trainable", True))
        for ref in config.get("symbolic_losses", []):
            model.add_loss(_symbolic(_deref(ref, produced, ins)))
        for ref, name in config.get("symbolic_metrics", []):
            model.add_metric(_symbolic(_deref(ref, produced, ins)), name=str(name))
        return model


def _symbolic(t: Any) -> KerasTensor:
    if not isinstance(t, KerasTensor):
        raise ValueError("Malformed model file: an add_loss / add_metric entry is not one tensor.")
    return t


def _as_list(x: Any, what: str) -> list[KerasTensor]:
    items = list(x.values()) if isinstance(x, dict) else list(x) if isinstance(x, list | tuple) else [x]
    for t in items:
        if not isinstance(t, KerasTensor):
            raise TypeError(f"Model({what}=...) needs symbolic tensors from "
                            f"unafraid.keras.Input(...) and layers called on them; got "
                            f"{type(t).__name__}.")
    return items


def _topological_nodes(inputs: list[KerasTensor], outputs: list[KerasTensor]) -> list[Node]:
    """Nodes between the inputs and the outputs, each after the nodes it reads from."""
    order: list[Node] = []
    seen: set[int] = set()
    input_ids = {id(t) for t in inputs}
    stack: list[tuple[KerasTensor, bool]] = [(t, False) for t in reversed(outputs)]
    while stack:
        t, done = stack.pop()
        node = t.node
        if done:
            if id(node) not in seen:
                seen.add(id(node))
                order.append(node)
            continue
        if id(t) in input_ids or id(node) in seen:
            continue
        if node.args is None:
            raise ValueError(f"Output depends on an input ({t.node.layer.name}) that is not in "
                             f"Model(inputs=...). Add it to the inputs list.")
        stack.append((t, True))
        stack.extend((a, False) for a in _flat(node.args))
    in_order = {id(node) for node in order}  # a set: a chain of n nodes takes O(n), not O(n^2)
    for node in order:
        node.outputs = []
    for t in _all_tensors(outputs, order):
        if id(t.node) in in_order and all(t is not o for o in t.node.outputs):
            t.node.outputs.append(t)
    return [n for n in order if n.args is not None]


def _all_tensors(outputs: list[KerasTensor], nodes: list[Node]) -> list[KerasTensor]:
    found = list(outputs)
    for node in nodes:
        found.extend(_flat(node.args))
    return found


def _flat(args: Any) -> list[KerasTensor]:
    if isinstance(args, KerasTensor):
        return [args]
    if isinstance(args, list | tuple):
        return [a for a in args if isinstance(a, KerasTensor)]
    return []


def _map(args: Any, values: dict[int, Any]) -> Any:
    if isinstance(args, KerasTensor):
        return values[id(args)]
    return [values[id(a)] for a in args]


def _ref(args: Any, ids: dict[int, int]) -> Any:
    if isinstance(args, KerasTensor):
        return [ids.get(id(args.node), -1), args.index, args.node.layer.name]
    return [_ref(a, ids) for a in args]


def _deref(ref: Any, produced: list[Any], inputs: dict[str, KerasTensor]) -> Any:
    """The symbolic tensor a saved reference ``[node, output index, layer name]`` points to."""
    if not isinstance(ref, list):
        raise ValueError(f"Malformed tensor reference in the saved model: {ref!r}")
    if len(ref) == 3 and isinstance(ref[0], int) and isinstance(ref[2], str):
        if ref[0] == -1:  # a model input
            if ref[2] not in inputs:
                raise ValueError(f"Saved model refers to an unknown input '{ref[2]}'.")
            return inputs[ref[2]]
        if not 0 <= ref[0] < len(produced):
            raise ValueError(f"Saved model refers to node {ref[0]} before it exists.")
        out = produced[ref[0]]
        return out[ref[1]] if isinstance(out, list) else out
    return [_deref(r, produced, inputs) for r in ref]
