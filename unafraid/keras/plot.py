"""``keras.utils.plot_model``: a picture of a model's graph of layers, drawn with matplotlib.

Keras draws with pydot and the Graphviz program, and raises ``ImportError`` when either is
missing. unafraid draws the same boxes and arrows with matplotlib (an optional dependency,
imported only here), so a PNG, PDF or SVG is written wherever matplotlib is installed; a
``.dot`` file (Graphviz's text format) needs nothing at all. The layout is simpler than
Graphviz's: one row per depth (the longest path from an input), boxes in the order the graph
is walked.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from typing import Any

from ..atomic import atomic_write_bytes

__all__ = ["plot_model", "model_graph", "model_to_dot_text", "GraphBox"]


@dataclass
class GraphBox:
    """One box of the plot: a layer, its depth (longest path from an input) and its parents."""

    layer: Any
    depth: int = 0
    parents: list[int] = field(default_factory=list)  # indices of the boxes with arrows into it
    in_shape: Any = None
    out_shape: Any = None


def model_graph(model: Any) -> list[GraphBox]:
    """The boxes ``plot_model`` draws, inputs first, each after its parents.

    A Sequential or functional model gives one box per layer (an input layer included, a
    shared layer once); a subclassed model, whose graph is Python code, is one box (as in Keras).

    Examples
    --------
    >>> import unafraid as tf
    >>> inputs = tf.keras.Input((3,))
    >>> model = tf.keras.Model(inputs, tf.keras.layers.Dense(2)(inputs))
    >>> [(type(b.layer).__name__, b.depth, b.parents) for b in model_graph(model)]
    [('InputLayer', 0, []), ('Dense', 1, [0])]
    """
    if not model.built:
        raise ValueError(f"plot_model: model '{model.name}' has not yet been built. Build it "
                         f"first by calling build() or by calling the model on a batch of data "
                         f"(or start it with keras.Input(shape=...)).")
    try:
        inputs, outputs = model.inputs, model.outputs
    except AttributeError:  # a subclassed model: no graph of layers to draw
        return [GraphBox(model, out_shape=getattr(model, "_build_shape", None))]
    boxes: list[GraphBox] = []
    index: dict[int, int] = {}   # id(layer) -> its box
    done: set[int] = set()       # ids of the nodes visited
    input_ids = {id(t) for t in inputs}

    def visit(t: Any) -> int:
        node = t.node
        if id(node) not in done:
            done.add(id(node))
            args = [] if node.args is None or id(t) in input_ids else _tensors(node.args)
            parents = [visit(a) for a in args]
            if id(node.layer) not in index:
                index[id(node.layer)] = len(boxes)
                boxes.append(GraphBox(node.layer, in_shape=_shapes(args) if args else None,
                                      out_shape=_shapes(node.output_tensors)))
            box = boxes[index[id(node.layer)]]
            for p in parents:
                if p not in box.parents:
                    box.parents.append(p)
                box.depth = max(box.depth, boxes[p].depth + 1)
        return index[id(node.layer)]

    for t in inputs:
        visit(t)
    for t in outputs:
        visit(t)
    return boxes


def _tensors(args: Any) -> list[Any]:
    if isinstance(args, list | tuple):
        return [a for a in args if hasattr(a, "node")]
    return [args] if hasattr(args, "node") else []


def _shapes(x: Any) -> Any:
    if isinstance(x, list | tuple):
        shapes = [tuple(t.shape) for t in x]
        return shapes[0] if len(shapes) == 1 else shapes
    return None if x is None else tuple(x.shape)


def _label(box: GraphBox, show_shapes: bool, show_dtype: bool, show_layer_names: bool,
           show_layer_activations: bool, show_trainable: bool) -> str:
    layer = box.layer
    kind = type(layer).__name__
    lines = [f"{layer.name} ({kind})" if show_layer_names else kind]
    activation = getattr(layer, "activation", None)
    if show_layer_activations and activation is not None:
        lines.append(f"Activation: {getattr(activation, '__name__', activation)}")
    if show_dtype:
        lines.append(f"dtype: {layer.dtype}")
    if show_shapes:
        if box.in_shape is not None:
            lines.append(f"Input shape: {box.in_shape}")
        lines.append(f"Output shape: {box.out_shape if box.out_shape is not None else '?'}")
    if show_trainable:
        lines.append(f"Trainable: {'Y' if layer.trainable else 'N'}")
    return "\n".join(lines)


def model_to_dot_text(model: Any, show_shapes: bool = False, show_dtype: bool = False,
                      show_layer_names: bool = False, rankdir: str = "TB", dpi: int = 200,
                      show_layer_activations: bool = False, show_trainable: bool = False) -> str:
    """The graph in Graphviz's DOT language (what ``plot_model(model, 'm.dot')`` writes)."""
    boxes = model_graph(model)
    out = ["digraph G {", f"  rankdir={rankdir};", f"  dpi={int(dpi)};",
           "  node [shape=record, fontname=Helvetica];"]
    for i, box in enumerate(boxes):
        text = _label(box, show_shapes, show_dtype, show_layer_names, show_layer_activations,
                      show_trainable).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        out.append(f'  {i} [label="{text}"];')
    for i, box in enumerate(boxes):
        out.extend(f"  {p} -> {i};" for p in box.parents)
    return "\n".join([*out, "}"]) + "\n"


def plot_model(model: Any, to_file: str | os.PathLike = "model.png", show_shapes: bool = False,
               show_dtype: bool = False, show_layer_names: bool = False, rankdir: str = "TB",
               expand_nested: bool = False, dpi: int = 200, show_layer_activations: bool = False,
               show_trainable: bool = False, **kwargs: Any) -> Any:
    """Draw the model's layers and the arrows between them to ``to_file`` (Keras 3's arguments).

    Parameters
    ----------
    model : Model
        A built Sequential or functional model (a subclassed model is drawn as one box).
    to_file : path, default 'model.png'
        The extension picks the format: ``.png``, ``.pdf``, ``.svg``, ``.jpg`` (drawn with
        matplotlib) or ``.dot`` (Graphviz's text, no dependency). No extension: PNG.
    show_shapes, show_dtype, show_layer_names, show_layer_activations, show_trainable : bool
        What each box says besides the layer's class.
    rankdir : {'TB', 'LR'}
        Top to bottom, or left to right.
    expand_nested : bool
        Accepted; a nested model is drawn as one box.
    dpi : int, default 200

    Returns
    -------
    IPython.display.Image or None
        The picture, shown inline in a notebook (for PNG and JPEG, when IPython is installed).

    Examples
    --------
    >>> import unafraid as tf
    >>> inputs = tf.keras.Input((784,))
    >>> model = tf.keras.Model(inputs, tf.keras.layers.Dense(10)(inputs))
    >>> tf.keras.utils.plot_model(model, "model.png", show_shapes=True)  # doctest: +SKIP
    """
    kwargs.pop("splines", None)  # Graphviz's edge style: matplotlib draws straight arrows
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("plot_model: argument `layer_range` is no longer supported (Keras 3).")
    if kwargs:
        raise ValueError(f"plot_model: unrecognized keyword arguments: {sorted(kwargs)}.")
    if rankdir not in ("TB", "LR"):
        raise ValueError(f"plot_model: rankdir must be 'TB' or 'LR', got {rankdir!r}.")
    to_file = os.fspath(to_file)
    extension = os.path.splitext(to_file)[1][1:].lower() or "png"
    label_args = (show_shapes, show_dtype, show_layer_names, show_layer_activations, show_trainable)
    if extension == "dot":
        atomic_write_bytes(to_file, model_to_dot_text(
            model, *label_args[:3], rankdir=rankdir, dpi=dpi,
            show_layer_activations=show_layer_activations, show_trainable=show_trainable).encode())
        return None
    boxes = model_graph(model)
    try:
        from matplotlib.figure import Figure
    except ImportError as e:
        raise ImportError(
            "plot_model draws with matplotlib, which is not installed: pip install matplotlib. "
            "Or write Graphviz's text format, which needs nothing: plot_model(model, "
            "'model.dot'), then render it with Graphviz (dot -Tpng model.dot -o model.png).") from e
    image = io.BytesIO()
    _draw(Figure, boxes, [_label(b, *label_args) for b in boxes], rankdir).savefig(
        image, dpi=dpi, format=extension, bbox_inches="tight")
    atomic_write_bytes(to_file, image.getvalue())
    if extension in ("png", "jpg", "jpeg"):
        try:
            from IPython import display
        except ImportError:
            return None
        return display.Image(filename=to_file)
    return None


def _draw(figure_class: Any, boxes: list[GraphBox], labels: list[str], rankdir: str) -> Any:
    """A matplotlib Figure: one row (TB) or column (LR) per depth, arrows from parent to child."""
    ranks: dict[int, list[int]] = {}
    for i, box in enumerate(boxes):
        ranks.setdefault(box.depth, []).append(i)
    widest = max(len(r) for r in ranks.values())
    chars = max(len(line) for text in labels for line in text.split("\n"))
    lines = max(text.count("\n") + 1 for text in labels)
    box_w, box_h = 0.09 * chars + 0.6, 0.2 * lines + 0.45   # inches
    across, along = (box_w, box_h + 0.5) if rankdir == "TB" else (box_h + 0.3, box_w + 0.6)
    size = (widest * across, len(ranks) * along) if rankdir == "TB" else (
        len(ranks) * along, widest * across)
    fig = figure_class(figsize=(max(size[0], 2.0), max(size[1], 1.0)))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    texts: dict[int, Any] = {}
    for depth, members in ranks.items():
        for k, i in enumerate(members):
            offset = k - (len(members) - 1) / 2
            x, y = (offset, -depth) if rankdir == "TB" else (depth, -offset)
            texts[i] = ax.text(x, y, labels[i], ha="center", va="center", fontsize=9, zorder=2,
                               bbox={"boxstyle": "round,pad=0.4", "fc": "#eef3fb", "ec": "#3b5b92"})
    spread = (widest - 1) / 2 + 0.5
    deepest = max(ranks) + 0.5
    if rankdir == "TB":
        ax.set_xlim(-spread, spread)
        ax.set_ylim(-deepest, 0.5)
    else:
        ax.set_xlim(-0.5, deepest)
        ax.set_ylim(-spread, spread)
    head, tail = ((0.5, 1.0), (0.5, 0.0)) if rankdir == "TB" else ((0.0, 0.5), (1.0, 0.5))
    for i, box in enumerate(boxes):
        for p in box.parents:
            ax.annotate("", xy=head, xycoords=texts[i], xytext=tail, textcoords=texts[p], zorder=1,
                        arrowprops={"arrowstyle": "-|>", "color": "#3b5b92", "lw": 1.0})
    return fig
