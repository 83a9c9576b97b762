"""``model.summary()``: layers, output shapes and parameter counts, laid out as Keras does."""

from __future__ import annotations

from typing import Any


def _fmt_bytes(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.2f} {unit}"
        n /= 1024
    return f"{n:.2f} GB"


def _shape(layer: Any) -> str:
    try:
        shape = layer.output_shape
    except (AttributeError, ValueError):
        return "?"
    return str(tuple(shape)) if not isinstance(shape, list) else str([tuple(s) for s in shape])


def summary_text(model: Any, line_length: int = 80) -> str:
    """The summary as text (``Model: "name"``, a table, then totals)."""
    widths = [int(line_length * f) for f in (0.45, 0.33)]
    widths.append(line_length - sum(widths))
    rule, double = "_" * line_length, "=" * line_length

    def row(a: str, b: str, c: str) -> str:
        return f"{a:<{widths[0]}}{b:<{widths[1]}}{c:>{widths[2]}}"

    lines = [f'Model: "{model.name}"', rule, row(" Layer (type)", "Output Shape", "Param #"),
             double]
    for layer in model.layers:
        lines.append(row(f" {layer.name} ({type(layer).__name__})", _shape(layer),
                         f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"))
    lines.append(double)
    total = model.count_params()
    trainable = sum(w.size for w in model.trainable_weights)
    nbytes = sum(w.data.nbytes for w in model.weights)
    tbytes = sum(w.data.nbytes for w in model.trainable_weights)
    lines += [f" Total params: {total:,} ({_fmt_bytes(nbytes)})",
              f" Trainable params: {trainable:,} ({_fmt_bytes(tbytes)})",
              f" Non-trainable params: {total - trainable:,} ({_fmt_bytes(nbytes - tbytes)})"]
    if not model.built:
        lines.append(" (The model is not built yet: give the first layer input_shape= or call "
                     "it on data to see shapes and counts.)")
    return "\n".join(lines)
