"""ONNX export: a model's inference graph for ONNX Runtime (servers, browsers, other languages).

Each layer becomes a few ONNX operators with its weights as initializers; the
batch dimension is left dynamic (named ``batch``). The graph computes what
``model.predict`` computes: dropout is the identity and batch normalisation
uses the moving averages. Layers are translated by the table
:data:`CONVERTERS`; a layer not in it is named in the error.

The ``onnx`` package is an optional dependency (``pip install unafraid[onnx]``),
imported only here; running the file needs ``onnxruntime``, which unafraid
never imports.

Examples
--------
>>> import unafraid as tf
>>> model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(2)])
>>> model.export("m.onnx")                                            # doctest: +SKIP
>>> import onnxruntime as ort                                          # doctest: +SKIP
>>> ort.InferenceSession("m.onnx").run(None, {"input": x})[0]         # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from ..atomic import atomic_write_bytes
from .common import model_classes

OPSET = 17  # LayerNormalization-era ops; ReduceMean still takes its axes as an attribute


class GraphBuilder:
    """Collects ONNX nodes and initializers with unique names."""

    def __init__(self, onnx: Any) -> None:
        self.onnx, self.helper = onnx, onnx.helper
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.count = 0

    def name(self, hint: str) -> str:
        self.count += 1
        return f"{hint}_{self.count}"

    def const(self, array: np.ndarray, hint: str) -> str:
        name = self.name(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(self, op_type: str, inputs: list[str], hint: str, **attrs: Any) -> str:
        out = self.name(hint)
        self.nodes.append(self.helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out


# ---- activations --------------------------------------------------------------------------------
def _gelu(g: GraphBuilder, x: str, hint: str, dtype: np.dtype) -> str:
    """``0.5 x (1 + erf(x / sqrt 2))`` (Keras's exact gelu)."""
    scaled = g.op("Div", [x, g.const(np.asarray(np.sqrt(2.0), dtype), "sqrt2")], hint)
    one_plus = g.op("Add", [g.op("Erf", [scaled], hint), g.const(np.asarray(1, dtype), "one")], hint)
    return g.op("Mul", [g.op("Mul", [x, one_plus], hint), g.const(np.asarray(0.5, dtype), "half")],
                hint)


ACTIVATIONS: dict[str, Callable[[GraphBuilder, str, str, np.dtype], str]] = {
    "linear": lambda g, x, hint, dt: x,
    "relu": lambda g, x, hint, dt: g.op("Relu", [x], hint),
    "sigmoid": lambda g, x, hint, dt: g.op("Sigmoid", [x], hint),
    "tanh": lambda g, x, hint, dt: g.op("Tanh", [x], hint),
    "softmax": lambda g, x, hint, dt: g.op("Softmax", [x], hint, axis=-1),
    "log_softmax": lambda g, x, hint, dt: g.op("LogSoftmax", [x], hint, axis=-1),
    "leaky_relu": lambda g, x, hint, dt: g.op("LeakyRelu", [x], hint, alpha=0.2),
    "elu": lambda g, x, hint, dt: g.op("Elu", [x], hint, alpha=1.0),
    "softplus": lambda g, x, hint, dt: g.op("Softplus", [x], hint),
    "gelu": _gelu,
}
"""unafraid's activations (by their saved names) as ONNX operators, with unafraid's defaults."""


def _activation(g: GraphBuilder, layer: Any, fn: Any, x: str) -> str:
    from .. import activations
    try:
        name = activations.serialize(fn)
    except ValueError:
        name = getattr(fn, "__name__", repr(fn))
    if name not in ACTIVATIONS:
        raise ValueError(f"Layer '{layer.name}' uses the activation {name!r}, which the ONNX export "
                         f"does not translate; supported: {', '.join(sorted(ACTIVATIONS))}.")
    return ACTIVATIONS[name](g, x, layer.name, np.dtype(layer.dtype))


# ---- layers -------------------------------------------------------------------------------------
def _dense(g: GraphBuilder, layer: Any, x: str) -> str:
    """``activation(x @ kernel + bias)``: MatMul (any rank) then Add."""
    y = g.op("MatMul", [x, g.const(layer.kernel.data, f"{layer.name}/kernel")], layer.name)
    if layer.bias is not None:
        y = g.op("Add", [y, g.const(layer.bias.data, f"{layer.name}/bias")], layer.name)
    return _activation(g, layer, layer.activation, y)


def _feature_shape(layer: Any, axes: tuple[int, ...]) -> tuple[int, ...]:
    """Shape that broadcasts per-feature constants from the first normalised axis on."""
    shape = layer._build_shape
    first = min(axes)
    return tuple(shape[i] if i in axes else 1 for i in range(first, len(shape)))


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    axes = [axis] if isinstance(axis, int) else list(axis)
    return tuple(sorted(a % ndim for a in axes))


def _scale_shift(g: GraphBuilder, layer: Any, y: str, axes: tuple[int, ...]) -> str:
    pshape = _feature_shape(layer, axes)
    if layer.gamma is not None:
        y = g.op("Mul", [y, g.const(layer.gamma.data.reshape(pshape), f"{layer.name}/gamma")],
                 layer.name)
    if layer.beta is not None:
        y = g.op("Add", [y, g.const(layer.beta.data.reshape(pshape), f"{layer.name}/beta")],
                 layer.name)
    return y


def _batch_norm(g: GraphBuilder, layer: Any, x: str) -> str:
    """Inference: ``gamma (x - moving_mean) / sqrt(moving_variance + epsilon) + beta``."""
    axes = _axes(layer.axis, len(layer._build_shape))
    pshape = _feature_shape(layer, axes)
    dt = layer.moving_variance.data.dtype
    mean = layer.moving_mean.data.reshape(pshape)
    std = np.sqrt(layer.moving_variance.data + np.asarray(layer.epsilon, dt)).reshape(pshape)
    y = g.op("Sub", [x, g.const(mean, f"{layer.name}/moving_mean")], layer.name)
    y = g.op("Div", [y, g.const(std.astype(dt), f"{layer.name}/std")], layer.name)
    return _scale_shift(g, layer, y, axes)


def _layer_norm(g: GraphBuilder, layer: Any, x: str) -> str:
    """``gamma (x - mean) / sqrt(var + epsilon) + beta`` over each example's ``axis``."""
    ndim = len(layer._build_shape)
    axes = _axes(layer.axis, ndim)
    dt = np.dtype(layer.dtype)
    mean = g.op("ReduceMean", [x], layer.name, axes=list(axes), keepdims=1)
    centred = g.op("Sub", [x, mean], layer.name)
    var = g.op("ReduceMean", [g.op("Mul", [centred, centred], layer.name)], layer.name,
               axes=list(axes), keepdims=1)
    std = g.op("Sqrt", [g.op("Add", [var, g.const(np.asarray(layer.epsilon, dt), "epsilon")],
                             layer.name)], layer.name)
    return _scale_shift(g, layer, g.op("Div", [centred, std], layer.name), axes)


def _reshape(g: GraphBuilder, layer: Any, x: str) -> str:
    shape = np.asarray([0, *layer.target_shape], np.int64)  # 0: keep the (dynamic) batch size
    return g.op("Reshape", [x, g.const(shape, f"{layer.name}/shape")], layer.name)


CONVERTERS: dict[str, Callable[[GraphBuilder, Any, str], str]] = {
    "Dense": _dense,
    "Activation": lambda g, layer, x: _activation(g, layer, layer.activation, x),
    "Softmax": lambda g, layer, x: g.op("Softmax", [x], layer.name, axis=layer.axis),
    "Flatten": lambda g, layer, x: g.op("Flatten", [x], layer.name, axis=1),
    "Reshape": _reshape,
    "Dropout": lambda g, layer, x: x,  # the identity at inference
    "BatchNormalization": _batch_norm,
    "LayerNormalization": _layer_norm,
    "InputLayer": lambda g, layer, x: x,
}
"""Layer class name -> function ``(graph, layer, input name) -> output name``. Convolution and
pooling layers slot in here (ONNX's Conv and MaxPool/AveragePool take NCHW: transpose around them)."""


def _convert(g: GraphBuilder, layer: Any, x: Any) -> Any:
    Functional, Sequential = model_classes()
    if isinstance(layer, Sequential):
        for inner in layer._layers:
            x = _convert(g, inner, x)
        return x
    if isinstance(layer, Functional):
        return _functional(g, layer, x if isinstance(x, list) else [x])
    name = type(layer).__name__
    converter = CONVERTERS.get(name)
    if converter is None:
        raise ValueError(
            f"Cannot export layer '{layer.name}' ({name}) to ONNX: the export translates "
            f"{', '.join(sorted(CONVERTERS))} and Sequential / functional models. Replace the "
            f"layer, or serve the model with unafraid (model.predict).")
    if isinstance(x, list):
        raise ValueError(f"Cannot export layer '{layer.name}' ({name}) to ONNX: it takes "
                         f"{len(x)} inputs; the export translates one-input layers.")
    return converter(g, layer, x)


def _functional(g: GraphBuilder, model: Any, inputs: list[str]) -> Any:
    values = {id(t): name for t, name in zip(model._in, inputs, strict=True)}
    for node in model._nodes:
        args = node.args
        x = ([values[id(a)] for a in args] if isinstance(args, list | tuple)
             else values[id(args)])
        out = _convert(g, node.layer, x)
        for t in node.outputs:
            values[id(t)] = out[t.index] if isinstance(out, list) else out
    outs = [values[id(t)] for t in model._out]
    return outs[0] if model._single_output else outs


def _io_shapes(model: Any) -> tuple[list[tuple[str, Any]], Any]:
    """``[(input name, shape)]`` for the graph's inputs (batch left dynamic)."""
    Functional, Sequential = model_classes()
    if isinstance(model, Functional):
        return [(t.node.layer.name, t.shape) for t in model._in], model._out
    if isinstance(model, Sequential):
        if model._input_batch_shape is None:
            raise ValueError(f"Model '{model.name}' has not been built, so its input shape is "
                             f"unknown: give its first layer input_shape=... or call "
                             f"model.build((None, n_features)) before export.")
        return [("input", model._input_batch_shape)], None
    raise ValueError(f"Model '{model.name}' is a subclassed model ({type(model).__name__}): its "
                     f"call() is Python code that the ONNX export cannot read. Rewrite it as a "
                     f"Sequential or functional model to export it.")


def to_onnx(model: Any, opset: int = OPSET) -> Any:
    """The model's inference graph as an ``onnx.ModelProto`` (checked with onnx.checker).

    Parameters
    ----------
    model : Sequential or functional Model
        Built (its input shape known), with layers in :data:`CONVERTERS`.
    opset : int, default 17

    Returns
    -------
    onnx.ModelProto
        Inputs named ``input`` (Sequential) or after the ``Input`` layers,
        float32 of shape ``(batch, *example_shape)`` with ``batch`` dynamic;
        outputs ``output`` (or ``output_0``, ``output_1``...).
    """
    onnx = require_onnx()
    helper = onnx.helper
    inputs, _ = _io_shapes(model)
    g = GraphBuilder(onnx)
    names = [name for name, _ in inputs]
    out = _convert(g, model, names[0] if len(names) == 1 else names)
    outs = out if isinstance(out, list) else [out]
    out_names = ["output"] if len(outs) == 1 else [f"output_{i}" for i in range(len(outs))]
    for src, dst in zip(outs, out_names, strict=True):
        g.nodes.append(helper.make_node("Identity", [src], [dst], name=dst))
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(model.dtype))
    shapes = _output_shapes(model, len(outs))
    graph = helper.make_graph(
        g.nodes, model.name,
        [helper.make_tensor_value_info(n, elem, ["batch", *s[1:]]) for n, s in inputs],
        [helper.make_tensor_value_info(n, elem, ["batch", *s[1:]])
         for n, s in zip(out_names, shapes, strict=True)],
        initializer=g.initializers)
    from .. import __version__
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="unafraid", producer_version=__version__)
    onnx.checker.check_model(proto)
    return proto


def _output_shapes(model: Any, n: int) -> list[tuple[Any, ...]]:
    shape = model.compute_output_shape(model._build_shape)
    shapes = shape if isinstance(shape, list) else [shape]
    if len(shapes) != n:
        raise ValueError(f"Model '{model.name}': {n} outputs but {len(shapes)} output shapes.")
    return [tuple(s) for s in shapes]


def export(model: Any, filepath: str | os.PathLike, opset: int = OPSET) -> None:
    """Write the model's inference graph to ``filepath`` (an ``.onnx`` file, atomically).

    Raises
    ------
    ValueError
        Naming the first layer the export cannot translate (and the ones it can).
    ImportError
        If the ``onnx`` package is missing.
    """
    atomic_write_bytes(filepath, to_onnx(model, opset=opset).SerializeToString())


def require_onnx() -> Any:
    """Import onnx, or say how to install it."""
    try:
        import onnx
    except ImportError as e:
        raise ImportError("Exporting to ONNX needs the onnx package: pip install "
                          "'unafraid[onnx]' (and onnxruntime to run the file).") from e
    return onnx
