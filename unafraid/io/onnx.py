"""ONNX export: a model's inference graph for ONNX Runtime (servers, browsers, other languages).

Each layer becomes a few ONNX operators with its weights as initializers; the
batch dimension is left dynamic (named ``batch``). The graph computes what
``model.predict`` computes: dropout is the identity and batch normalisation
uses the moving averages. Layers are translated by the table
:data:`CONVERTERS`; a layer not in it is named in the error. Convolutions and
pooling are channels last in unafraid and channels first in ONNX, so each sits
between two ``Transpose`` nodes, with its padding written out for the input's
(fixed) spatial sizes.

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
from ..engine.convolution import conv_transpose_window, conv_window
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
    if not isinstance(name, str):  # a function of your own, saved by name
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


# ---- convolution and pooling: ONNX's Conv, ConvTranspose, MaxPool and AveragePool are channels
# first, unafraid's layers channels last, so each is wrapped in two Transposes --------------------
def _to_channels_first(g: GraphBuilder, x: str, nd: int, hint: str) -> str:
    """``(N, *spatial, C)`` -> ``(N, C, *spatial)``."""
    return g.op("Transpose", [x], hint, perm=[0, nd + 1, *range(1, nd + 1)])


def _to_channels_last(g: GraphBuilder, x: str, nd: int, hint: str) -> str:
    """``(N, C, *spatial)`` -> ``(N, *spatial, C)``."""
    return g.op("Transpose", [x], hint, perm=[0, *range(2, nd + 2), 1])


def spatial_sizes(layer: Any) -> tuple[int, ...]:
    """The input's spatial sizes, which fix ONNX's explicit paddings (refused when unknown)."""
    sizes = tuple(layer._build_shape[1:-1])
    if any(n is None for n in sizes):
        raise ValueError(f"Cannot export layer '{layer.name}' ({type(layer).__name__}) to ONNX: "
                         f"its input's spatial sizes {sizes} are not all known, and the export "
                         f"writes its padding for fixed sizes. Give the model's Input the full "
                         f"example shape, e.g. Input((28, 28, 1)).")
    return sizes


def window_pads(win: Any, sizes: tuple[int, ...]) -> list[int]:
    """ONNX's ``pads`` (all begins, then all ends) for unafraid's window: the zeros before each
    axis, and after it as many as the last window reaches past the input (never negative:
    inputs no window reads need no padding)."""
    ends = [max(p - n - b, 0) for p, n, b in zip(win.padded, sizes, win.pad_before, strict=True)]
    return [*win.pad_before, *ends]


def _conv_weight(kernel: np.ndarray) -> np.ndarray:
    """``(*kernel_size, in / groups, out)`` -> ONNX's ``(out, in / groups, *kernel_size)``; for a
    transposed kernel ``(*kernel_size, out, in)`` the same permutation gives ONNX's
    ``(in, out, *kernel_size)``."""
    nd = kernel.ndim - 2
    return np.ascontiguousarray(np.transpose(kernel, (nd + 1, nd, *range(nd))))


def _depthwise_weight(kernel: np.ndarray) -> np.ndarray:
    """``(kh, kw, C, m)`` -> ``(C m, 1, kh, kw)``: output channel ``c m + j`` reads channel ``c``."""
    *k, c, m = kernel.shape
    flat = kernel.reshape(*k, c * m)
    return np.ascontiguousarray(np.moveaxis(flat, -1, 0)[:, None])


def _conv_nchw(g: GraphBuilder, layer: Any, x: str, weight: np.ndarray, bias: Any, groups: int,
               hint: str) -> str:
    """ONNX Conv with the layer's kernel size, strides, dilation and padding (channels first)."""
    sizes = spatial_sizes(layer)
    kernel = tuple(weight.shape[2:])
    win = conv_window(sizes, kernel, layer.strides, layer.padding, layer.dilation_rate)
    inputs = [x, g.const(weight, f"{hint}/kernel")]
    if bias is not None:
        inputs.append(g.const(bias.data, f"{layer.name}/bias"))
    return g.op("Conv", inputs, layer.name, kernel_shape=list(kernel), strides=list(layer.strides),
                dilations=list(layer.dilation_rate), pads=window_pads(win, sizes), group=groups)


def _conv(g: GraphBuilder, layer: Any, x: str) -> str:
    """``activation(conv(x, kernel) + bias)``: Conv between two Transposes."""
    nd = layer.rank
    y = _conv_nchw(g, layer, _to_channels_first(g, x, nd, layer.name),
                   _conv_weight(layer.kernel.data), layer.bias, layer.groups, layer.name)
    return _activation(g, layer, layer.activation, _to_channels_last(g, y, nd, layer.name))


def _depthwise_conv(g: GraphBuilder, layer: Any, x: str) -> str:
    """A grouped Conv with one group per input channel."""
    channels = layer.kernel.shape[-2]
    y = _conv_nchw(g, layer, _to_channels_first(g, x, 2, layer.name),
                   _depthwise_weight(layer.kernel.data), layer.bias, channels, layer.name)
    return _activation(g, layer, layer.activation, _to_channels_last(g, y, 2, layer.name))


def _separable_conv(g: GraphBuilder, layer: Any, x: str) -> str:
    """The depthwise Conv, then a 1x1 Conv (stride 1, no padding) with the bias."""
    kernel = layer.depthwise_kernel.data
    y = _conv_nchw(g, layer, _to_channels_first(g, x, 2, layer.name), _depthwise_weight(kernel),
                   None, kernel.shape[-2], f"{layer.name}/depthwise")
    inputs = [y, g.const(_conv_weight(layer.pointwise_kernel.data), f"{layer.name}/pointwise")]
    if layer.bias is not None:
        inputs.append(g.const(layer.bias.data, f"{layer.name}/bias"))
    y = g.op("Conv", inputs, layer.name, kernel_shape=[1, 1])
    return _activation(g, layer, layer.activation, _to_channels_last(g, y, 2, layer.name))


def _conv_transpose(g: GraphBuilder, layer: Any, x: str) -> str:
    """ONNX ConvTranspose: the full transposed convolution, ``(n - 1) s + span`` long, less
    ``pad_before`` at the start and whatever passes unafraid's output length at the end
    (``output_padding`` when that output is longer)."""
    nd = layer.rank
    sizes = spatial_sizes(layer)
    win = conv_transpose_window(sizes, layer.kernel_size, layer.strides, layer.padding,
                                layer.output_padding, layer.dilation_rate)
    full = [(n - 1) * s + sp for n, s, sp in zip(sizes, layer.strides, win.span, strict=True)]
    ends = [f - b - out for f, b, out in zip(full, win.pad_before, win.in_size, strict=True)]
    inputs = [_to_channels_first(g, x, nd, layer.name),
              g.const(_conv_weight(layer.kernel.data), f"{layer.name}/kernel")]
    if layer.bias is not None:
        inputs.append(g.const(layer.bias.data, f"{layer.name}/bias"))
    y = g.op("ConvTranspose", inputs, layer.name, kernel_shape=list(layer.kernel_size),
             strides=list(layer.strides), dilations=list(layer.dilation_rate),
             pads=[*win.pad_before, *(max(e, 0) for e in ends)],
             output_padding=[max(-e, 0) for e in ends])
    return _activation(g, layer, layer.activation, _to_channels_last(g, y, nd, layer.name))


def _pool(op_type: str) -> Callable[[GraphBuilder, Any, str], str]:
    """MaxPool (padding never wins) or AveragePool (padding not counted), channels first."""
    def convert(g: GraphBuilder, layer: Any, x: str) -> str:
        nd = layer.rank
        sizes = spatial_sizes(layer)
        win = conv_window(sizes, layer.pool_size, layer.strides, layer.padding, (1,) * nd)
        extra = {"count_include_pad": 0} if op_type == "AveragePool" else {}
        y = g.op(op_type, [_to_channels_first(g, x, nd, layer.name)], layer.name,
                 kernel_shape=list(layer.pool_size), strides=list(layer.strides),
                 pads=window_pads(win, sizes), **extra)
        return _to_channels_last(g, y, nd, layer.name)
    return convert


def _global_pool(op_type: str) -> Callable[[GraphBuilder, Any, str], str]:
    """ReduceMean or ReduceMax over the spatial axes, channels last as they are."""
    def convert(g: GraphBuilder, layer: Any, x: str) -> str:
        return g.op(op_type, [x], layer.name, axes=list(range(1, layer.rank + 1)),
                    keepdims=int(layer.keepdims))
    return convert


def _up_sampling(g: GraphBuilder, layer: Any, x: str) -> str:
    """Nearest neighbour: ``(N, h, w, C)`` -> Reshape ``(N, h, 1, w, 1, C)`` -> Expand
    ``(N, h, s0, w, s1, C)`` -> Reshape ``(N, h s0, w s1, C)``."""
    sizes = spatial_sizes(layer)
    channels = layer._build_shape[-1]
    spread = [d for n in sizes for d in (n, 1)]
    y = _reshape_to(g, layer, x, [*spread, channels])
    repeat = np.asarray([1, *(d for s in layer.size for d in (1, s)), 1], np.int64)
    y = g.op("Expand", [y, g.const(repeat, f"{layer.name}/repeat")], layer.name)
    return _reshape_to(g, layer, y, [*(n * s for n, s in zip(sizes, layer.size, strict=True)),
                                     channels])


def _reshape_to(g: GraphBuilder, layer: Any, x: str, example_shape: list[int]) -> str:
    shape = np.asarray([0, *example_shape], np.int64)  # 0: keep the (dynamic) batch size
    return g.op("Reshape", [x, g.const(shape, f"{layer.name}/shape")], layer.name)


def _zero_padding(g: GraphBuilder, layer: Any, x: str) -> str:
    """Pad with zeros: ONNX's ``pads`` are all begins (batch, spatial..., channels), then all ends."""
    begins, ends = zip(*layer.padding, strict=True)
    pads = np.asarray([0, *begins, 0, 0, *ends, 0], np.int64)
    return g.op("Pad", [x, g.const(pads, f"{layer.name}/pads")], layer.name, mode="constant")


def _cropping(g: GraphBuilder, layer: Any, x: str) -> str:
    """Slice each spatial axis from ``before`` to ``-after`` (to the end when ``after`` is 0)."""
    end = np.iinfo(np.int64).max
    starts = np.asarray([lo for lo, _ in layer.cropping], np.int64)
    ends = np.asarray([-hi if hi else end for _, hi in layer.cropping], np.int64)
    axes = np.asarray(range(1, layer.rank + 1), np.int64)
    return g.op("Slice", [x, g.const(starts, f"{layer.name}/starts"),
                          g.const(ends, f"{layer.name}/ends"), g.const(axes, f"{layer.name}/axes")],
                layer.name)


def _spatial_converters() -> dict[str, Callable[[GraphBuilder, Any, str], str]]:
    table: dict[str, Callable[[GraphBuilder, Any, str], str]] = {
        "DepthwiseConv2D": _depthwise_conv, "SeparableConv2D": _separable_conv}
    for rank in (1, 2, 3):
        table.update({
            f"Conv{rank}D": _conv, f"MaxPooling{rank}D": _pool("MaxPool"),
            f"AveragePooling{rank}D": _pool("AveragePool"),
            f"GlobalAveragePooling{rank}D": _global_pool("ReduceMean"),
            f"GlobalMaxPooling{rank}D": _global_pool("ReduceMax"),
            f"UpSampling{rank}D": _up_sampling, f"ZeroPadding{rank}D": _zero_padding,
            f"Cropping{rank}D": _cropping,
            f"SpatialDropout{rank}D": lambda g, layer, x: x})  # the identity at inference
    table.update({"Conv1DTranspose": _conv_transpose, "Conv2DTranspose": _conv_transpose})
    return table


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
    **_spatial_converters(),
}
"""Layer class name -> function ``(graph, layer, input name) -> output name``."""


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
    if getattr(layer, "data_format", None) == "channels_first":
        raise ValueError(f"Cannot export layer '{layer.name}' ({name}) to ONNX: it is "
                         f"data_format='channels_first', and the export translates channels_last "
                         f"layers. Build the model channels_last (np.moveaxis(x, 1, -1) on the data).")
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
