"""Convolution and pooling primitives, channels last (``(batch, *spatial, channels)``).

A convolution is a matrix product once every output position's input window is laid
out as a row ("im2col"): ``y[n, p, :] = patch(x)[n, p, :] @ W`` with the kernel
flattened to a ``(kernel volume x in channels, filters)`` matrix. Each call builds at
most ONE patch buffer, ``(batch x output positions, kernel volume x channels)``, as a
copy of a strided view of the (padded) input, in the row-major layout the GEMM wants.

Three primitives close under differentiation, so grad of grad needs nothing else:

- ``Conv``:           ``y = conv(x, w)``
- ``ConvInputGrad``:  ``d<conv(x, w), g>/dx`` = the transposed convolution of ``g``
- ``ConvFilterGrad``: ``d<conv(x, w), g>/dw`` = patches of ``x`` (transposed) @ ``g``

All three are linear in each argument, and ``<conv(x, w), g>`` is the one bilinear
form behind them, so each VJP is one of the other two. Pooling likewise: max pooling's
VJP sends each gradient to one input per window (the FIRST maximum, as TensorFlow and
PyTorch do), and the adjoint of that scatter picks again; average pooling sums windows,
whose adjoint adds each gradient back over its window. Loops run over the few kernel
offsets, never over output positions.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .blas import blas_threads, narrow_threads
from .ops import matmul, multiply, reshape
from .tensor import Function, Tensor


# ---- geometry -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Window:
    """Where each output position reads its input, per spatial axis.

    Output position ``o`` reads padded inputs ``o * stride + i * dilation`` for kernel
    offsets ``i = 0 .. kernel - 1``; input ``j`` sits at padded position ``j + pad_before``.
    The padded length is exactly what the windows touch, ``(out - 1) * stride + span``:
    inputs beyond it (possible with ``padding='valid'``) are never read.
    """

    in_size: tuple[int, ...]
    out_size: tuple[int, ...]
    kernel: tuple[int, ...]
    strides: tuple[int, ...]
    dilation: tuple[int, ...]
    pad_before: tuple[int, ...]

    @property
    def span(self) -> tuple[int, ...]:
        return tuple((k - 1) * d + 1 for k, d in zip(self.kernel, self.dilation, strict=True))

    @property
    def padded(self) -> tuple[int, ...]:
        return tuple((o - 1) * s + sp for o, s, sp in zip(self.out_size, self.strides, self.span,
                                                           strict=True))

    def offsets(self) -> Iterator[tuple[tuple[int, ...], tuple[slice, ...]]]:
        """Each kernel offset, with the padded-input slices its outputs read."""
        for offset in itertools.product(*(range(k) for k in self.kernel)):
            yield offset, tuple(slice(i * d, i * d + (o - 1) * s + 1, s) for i, d, o, s in zip(
                offset, self.dilation, self.out_size, self.strides, strict=True))


def as_tuple(value: Any, n: int, name: str) -> tuple[int, ...]:
    """``3`` -> ``(3, 3)``; a sequence must have ``n`` positive integers. ``name`` is the argument,
    optionally after its owner (``"Conv2D: kernel_size"``); the message starts with Keras's."""
    arg = name.rsplit(": ", 1)[-1]
    try:
        values = (value,) * n if isinstance(value, int | np.integer) else tuple(value)
    except TypeError:
        values = ()
    ints = len(values) == n and all(isinstance(v, int | np.integer) and not isinstance(v, bool)
                                    for v in values)
    if not ints or any(v < 1 for v in values):
        bad = (f", including values {set(int(v) for v in values if v < 1)} that do not satisfy "
               f"`value > 0`" if ints else "")
        raise ValueError(f"The `{arg}` argument must be a tuple of {n} integers. Received "
                         f"{arg}={value}{bad}. {name} must be a positive integer or a tuple of {n} "
                         f"positive integers, got {value!r}.")
    return tuple(int(v) for v in values)


def conv_window(in_size: tuple[int, ...], kernel: tuple[int, ...], strides: tuple[int, ...],
                padding: str, dilation: tuple[int, ...]) -> Window:
    """The geometry of a convolution or pooling, with Keras/TensorFlow's padding rules.

    ``valid``: ``out = floor((n - span) / s) + 1``, no padding.
    ``same``: ``out = ceil(n / s)``, ``pad = max((out - 1) s + span - n, 0)`` split with the
    smaller half before. ``causal`` (1-D): ``span - 1`` zeros before, ``out = ceil(n / s)``.
    """
    padding = _padding(padding, ("valid", "same", "causal"))
    span = [(k - 1) * d + 1 for k, d in zip(kernel, dilation, strict=True)]
    out, before = [], []
    for n, s, sp in zip(in_size, strides, span, strict=True):
        if padding == "valid":
            out.append((n - sp) // s + 1 if n >= sp else 0)
            before.append(0)
        else:
            out.append(-(-n // s))
            total = (sp - 1) if padding == "causal" else max((out[-1] - 1) * s + sp - n, 0)
            before.append(total if padding == "causal" else total // 2)
    return Window(tuple(in_size), tuple(out), tuple(kernel), tuple(strides), tuple(dilation),
                  tuple(before))


def conv_transpose_window(in_size: tuple[int, ...], kernel: tuple[int, ...],
                          strides: tuple[int, ...], padding: str,
                          output_padding: tuple[int, ...] | None,
                          dilation: tuple[int, ...]) -> Window:
    """The convolution that a transposed convolution of an ``in_size`` input transposes.

    Output length (Keras's ``compute_conv_transpose_output_length``): without
    ``output_padding``, ``n s + max(span - s, 0)`` (valid) or ``n s`` (same); with it,
    ``(n - 1) s + span - 2 pad + output_padding``, ``pad = span // 2`` (same) or 0.
    """
    padding = _padding(padding, ("valid", "same"))
    lengths = []
    for i, (n, s, k, d) in enumerate(zip(in_size, strides, kernel, dilation, strict=True)):
        span = (k - 1) * d + 1
        if output_padding is None:
            lengths.append(n * s + max(span - s, 0) if padding == "valid" else n * s)
        else:
            pad = span // 2 if padding == "same" else 0
            lengths.append((n - 1) * s + span - 2 * pad + output_padding[i])
    win = conv_window(tuple(lengths), kernel, strides, padding, dilation)
    if win.out_size != tuple(in_size):
        raise ValueError(f"conv_transpose: output_padding={output_padding} gives an output of "
                         f"size {tuple(lengths)}, which a stride-{strides} '{padding}' "
                         f"convolution maps to {win.out_size}, not back to {tuple(in_size)}. "
                         f"Each output_padding must be smaller than its stride.")
    return win


def _padding(padding: Any, allowed: tuple[str, ...]) -> str:
    p = str(padding).lower()
    if p not in allowed:
        raise ValueError(f"padding must be one of {allowed}, got {padding!r}.")
    return p


# ---- padding and patches --------------------------------------------------------------------
def _inner(win: Window, size: tuple[int, ...]) -> tuple[tuple[slice, ...], tuple[slice, ...]]:
    """Matching slices: where the input sits in the padded array, and which part of it."""
    dst, src = [], []
    for n, lo, p in zip(size, win.pad_before, win.padded, strict=True):
        m = max(min(n, p - lo), 0)
        dst.append(slice(lo, lo + m))
        src.append(slice(0, m))
    return tuple(dst), tuple(src)


def _crops_only(win: Window) -> bool:
    """Whether the padded input is the input's first ``padded`` entries per axis (no padding)."""
    return not any(win.pad_before) and all(p <= n for p, n in zip(win.padded, win.in_size,
                                                                  strict=True))


def to_padded(x: np.ndarray, win: Window, fill: float = 0.0) -> np.ndarray:
    """``(N, *in, C)`` -> ``(N, *padded, C)``: a view when only cropping is needed."""
    if _crops_only(win):
        return x[(slice(None), *(slice(0, p) for p in win.padded))]
    xp = np.full((x.shape[0], *win.padded, *x.shape[1 + len(win.kernel):]), fill, x.dtype)
    dst, src = _inner(win, win.in_size)
    xp[(slice(None), *dst)] = x[(slice(None), *src)]
    return xp


def from_padded(xp: np.ndarray, win: Window) -> np.ndarray:
    """The adjoint of ``to_padded``: crop away the padding; inputs never read get zeros."""
    if xp.shape[1:1 + len(win.kernel)] == win.in_size and not any(win.pad_before):
        return xp
    x = np.zeros((xp.shape[0], *win.in_size, *xp.shape[1 + len(win.kernel):]), xp.dtype)
    dst, src = _inner(win, win.in_size)
    x[(slice(None), *src)] = xp[(slice(None), *dst)]
    return x


def patches(xp: np.ndarray, win: Window) -> np.ndarray:
    """Read-only strided view ``(N, *out, *kernel, ...)`` of a padded input: no copy."""
    nd, st = len(win.kernel), xp.strides
    shape = (xp.shape[0], *win.out_size, *win.kernel, *xp.shape[1 + nd:])
    strides = (st[0], *(st[1 + i] * win.strides[i] for i in range(nd)),
               *(st[1 + i] * win.dilation[i] for i in range(nd)), *st[1 + nd:])
    return as_strided(xp, shape, strides, writeable=False)


def _views(xp: np.ndarray, win: Window) -> Iterator[np.ndarray]:
    """Each kernel offset's strided view ``(N, *out, C)`` of a padded input."""
    for _, where in win.offsets():
        yield xp[(slice(None), *where)]


def im2col(x: np.ndarray, win: Window, groups: int, ones: bool = False) -> np.ndarray:
    """The patch matrix ``(groups, N * positions, kernel volume * C / groups)``, C-ordered.

    ``ones=True`` appends a column of ones (``kernel volume * C / groups + 1`` columns): with the
    bias as the kernel matrix's last row, the GEMM adds the bias itself (``Conv``), which spares
    a pass over the output, the size of the patch buffer over again for a first layer.

    The one copy this makes is the patch buffer (none when the view is contiguous, as
    for a 1x1 kernel with stride 1, and no column of ones is asked for). With one channel per
    group (a grayscale image's first layer, a depthwise convolution) it is filled one kernel
    offset at a time, each copy reading whole rows of the input: copying the strided view as a
    whole would move a kernel row (3 values) at a time, about 3x slower for MNIST's first layer.
    """
    xp = to_padded(x, win)
    m = x.shape[0] * math.prod(win.out_size)
    volume = math.prod(win.kernel)
    if x.shape[-1] == groups and volume > 1:
        cols = np.empty((groups, x.shape[0], *win.out_size, volume + ones), x.dtype)
        for k, v in enumerate(_views(xp, win)):  # (N, *out, G) -> (G, N, *out)
            cols[..., k] = np.moveaxis(v, -1, 0)
    else:
        v = patches(xp.reshape(*xp.shape[:-1], groups, -1), win)  # (N, *out, *k, G, Cg)
        v = np.moveaxis(v, -2, 0)  # (G, N, *out, *k, Cg)
        if not ones:
            return np.ascontiguousarray(v).reshape(groups, m, -1)
        cols = np.empty((*v.shape[:-1 - len(win.kernel)], volume * v.shape[-1] + 1), x.dtype)
        inner = cols[..., :-1]
        inner.shape = v.shape  # splits the last axis: a view (assigning .shape never copies)
        inner[...] = v
    if ones:
        cols[..., -1] = 1
    return cols.reshape(groups, m, -1)


def col2im(blocks: Iterable[np.ndarray], win: Window, batch: int) -> np.ndarray:
    """The adjoint of ``im2col``, from the patch gradients of one kernel offset at a time (in
    ``Window.offsets`` order), each ``(groups, N * positions, C / groups)``: add each block back
    onto the inputs it was read from (one strided add per offset). Only one offset's block,
    ``1 / kernel volume`` of a patch buffer, need exist at a time."""
    xp = None
    for block, (_, where) in zip(blocks, win.offsets(), strict=True):
        groups, _, cg = block.shape
        if xp is None:
            xp = np.zeros((batch, *win.padded, groups, cg), block.dtype)
        xp[(slice(None), *where)] += np.moveaxis(block, 0, 1).reshape(batch, *win.out_size,
                                                                       groups, cg)
    return from_padded(xp.reshape(*xp.shape[:-2], -1), win)


def _kernel_matrix(w: np.ndarray, groups: int) -> np.ndarray:
    """``(*k, C/G, F)`` -> ``(G, K * C/G, F/G)``: group ``g`` owns filters ``g F/G ..``."""
    k = math.prod(w.shape[:-2])
    cg, f = w.shape[-2:]
    return w.reshape(k, cg, groups, f // groups).transpose(2, 0, 1, 3).reshape(groups, k * cg, -1)


def _from_kernel_matrix(m: np.ndarray, kernel: tuple[int, ...]) -> np.ndarray:
    """The inverse of ``_kernel_matrix``."""
    groups, _, fg = m.shape
    m = m.reshape(groups, math.prod(kernel), -1, fg).transpose(1, 2, 0, 3)
    return m.reshape(*kernel, m.shape[1], groups * fg)


def _offset_matrices(w: np.ndarray, groups: int) -> np.ndarray:
    """``(*k, C/G, F)`` -> ``(G, K, F/G, C/G)``: each group's transposed kernel, per offset."""
    cg, f = w.shape[-2:]
    return w.reshape(-1, cg, groups, f // groups).transpose(2, 0, 3, 1)


def _by_group(y: np.ndarray, groups: int) -> np.ndarray:
    """``(N, *out, F)`` -> ``(G, N * positions, F / G)`` (a view)."""
    return y.reshape(-1, groups, y.shape[-1] // groups).transpose(1, 0, 2)


def _gemm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One matrix product per group (one plain 2-D GEMM when there is one group).

    A product with a side of 16 or less (the first layer's, with 9 = 3 x 3 x 1 inputs per
    row) runs on one BLAS thread (see ``blas.narrow_threads``).
    """
    with blas_threads(narrow_threads(a.shape[1], a.shape[2], b.shape[2])):
        return (a[0] @ b[0])[None] if a.shape[0] == 1 else np.matmul(a, b)


def _pointwise(win: Window, groups: int) -> bool:
    """Whether the input is its own patch matrix (a 1x1 kernel, stride 1, one group): then
    ``Conv`` adds a bias to the output rather than copying the input to append a column of
    ones (a copy that the GEMM's own bias would cost, where there was none)."""
    return groups == 1 and math.prod(win.kernel) == 1 and all(s == 1 for s in win.strides)


def _ungroup(y: np.ndarray, batch: int, win: Window) -> np.ndarray:
    """``(G, N * positions, F / G)`` -> ``(N, *out, F)``."""
    y = y[0] if y.shape[0] == 1 else y.transpose(1, 0, 2)
    return y.reshape(batch, *win.out_size, -1)


# ---- the convolution primitives ---------------------------------------------------------------
class Conv(Function):
    """``y[n, o, f] = sum_{i, c} xpad[n, o s + i d, c] w[i, c, f] (+ b[f])`` (cross-correlation,
    as Keras). The bias is optional: it is the kernel matrix's last row, against a column of
    ones in the patch matrix, so the GEMM adds it (no pass of its own over the output).

    ``patches``: the patch matrix of ``x`` when the caller has it already (a filter gradient
    hands on the one it was given), so that it is not built again. The forward keeps its patch
    matrix with what it saves, and the filter gradient reads it: one im2col buffer per call.

    ``relu``: ``max(y, 0)`` taken in place in the product's own output (the same bits as the
    ``relu`` op after it, without a second output array); the VJP then starts from
    ``g * (y > 0)``, the ReLU's own VJP, and saves the output for it.
    """

    name = "conv"

    @staticmethod
    def forward(ctx, x, w, b=None, win=None, groups=1, patches=None, relu=False):
        kernel = _kernel_matrix(w, groups)
        fold = b is not None and patches is None and not _pointwise(win, groups)
        if fold:
            bias_row = np.reshape(b, (groups, 1, -1)).astype(kernel.dtype, copy=False)
            kernel = np.concatenate([kernel, bias_row], axis=1)
        cols = im2col(x, win, groups, ones=fold) if patches is None else patches  # one buffer
        y = _ungroup(_gemm(cols, kernel), x.shape[0], win)
        if b is not None and not fold:  # a pointwise convolution, or patches given
            y += b  # y is the product's own fresh array
        if relu:
            np.maximum(y, 0, out=y)
        # cols, without its ones: for the filter gradient; y: for the ReLU's VJP (the output)
        ctx.save(x, w, None if b is None else np.shape(b), cols[..., :-1] if fold else cols,
                 y if relu else None)
        return y

    @staticmethod
    def vjp(ctx, g, x, w, b_shape, cols, y):
        win, groups = ctx.params["win"], ctx.params["groups"]
        if y is not None:  # the fused ReLU: d relu(z) = [relu(z) > 0] dz, as Relu's VJP
            g = g * (_raw(y) > 0)
        gx = ConvInputGrad.apply(g, w, win=win, groups=groups) if ctx.needs[0] else None
        gw = (ConvFilterGrad.apply(x, g, win=win, groups=groups, patches=cols)
              if ctx.needs[1] else None)
        gb = _sum_positions(g) if len(ctx.needs) > 2 and ctx.needs[2] else None
        return (gx, gw, gb)[:len(ctx.needs)]


def _offset_products(g2: np.ndarray, wt: np.ndarray) -> Iterator[np.ndarray]:
    """``g W_k^T`` for each kernel offset ``k`` in turn, ``(G, M, C/G)``, in one buffer that is
    overwritten by the next offset's product: read each before asking for the next."""
    groups, offsets = wt.shape[:2]
    out = np.empty((groups, g2.shape[1], wt.shape[3]), np.result_type(g2, wt))
    for k in range(offsets):
        if groups == 1:  # one plain 2-D GEMM
            np.matmul(g2[0], wt[0, k], out=out[0])
        else:
            np.matmul(g2, wt[:, k], out=out)
        yield out


def _sum_positions(g: Any) -> Any:
    """``g`` summed over every axis but the last (the bias gradient), as ``ones @ g``: one
    matrix-vector product, which reads ``g`` once. For 32 channels it is about 7x faster than
    NumPy's sum over the leading axes (its additions run in another order)."""
    g2 = reshape(g, (-1, g.shape[-1]))
    with blas_threads(1):
        return matmul(np.ones(g2.shape[0], g2.dtype), g2)


class ConvInputGrad(Function):
    """``d<conv(x, w), g>/dx``: the transposed convolution of ``g`` (col2im of ``g W^T``), one
    kernel offset's product ``g W_k^T`` at a time."""

    name = "conv_transpose"

    @staticmethod
    def forward(ctx, g, w, win, groups):
        ctx.save(g, w)
        g2, wt = _by_group(g, groups), _offset_matrices(w, groups)  # (G, M, F/G), (G, K, F/G, C/G)
        with blas_threads(narrow_threads(g2.shape[1], wt.shape[2], wt.shape[3])):
            return col2im(_offset_products(g2, wt), win, g.shape[0])

    @staticmethod
    def vjp(ctx, h, g, w):  # <input_grad(g, w), h> = <conv(h, w), g>
        win, groups = ctx.params["win"], ctx.params["groups"]
        gg = Conv.apply(h, w, win=win, groups=groups) if ctx.needs[0] else None
        gw = ConvFilterGrad.apply(h, g, win=win, groups=groups) if ctx.needs[1] else None
        return gg, gw


class ConvFilterGrad(Function):
    """``d<conv(x, w), g>/dw = patches(x)^T g``, shaped like the kernel.

    ``patches``: the patch matrix of ``x`` if the caller has it (``Conv``'s VJP passes the one
    its forward built); otherwise it is built here.
    """

    name = "conv_filter_grad"

    @staticmethod
    def forward(ctx, x, g, win, groups, patches=None):
        cols = im2col(x, win, groups) if patches is None else patches  # the one patch buffer
        ctx.save(x, g, cols)
        return _from_kernel_matrix(_gemm(cols.transpose(0, 2, 1), _by_group(g, groups)),
                                   win.kernel)

    @staticmethod
    def vjp(ctx, h, x, g, cols):  # <filter_grad(x, g), h> = <conv(x, h), g>
        win, groups = ctx.params["win"], ctx.params["groups"]
        gx = ConvInputGrad.apply(g, h, win=win, groups=groups) if ctx.needs[0] else None
        gg = Conv.apply(x, h, win=win, groups=groups, patches=cols) if ctx.needs[1] else None
        return gx, gg


# ---- the pooling primitives -------------------------------------------------------------------
class MaxPool(Function):
    """``y[n, o, c] = max_i xpad[n, o s + i, c]``; the VJP finds which offset won (the first)."""

    name = "max_pool"

    @staticmethod
    def forward(ctx, x, win):
        views = _views(to_padded(x, win, fill=-np.inf), win)
        first = next(views)  # y starts as the first two offsets' maximum: no copy of the first
        y = np.array(first) if math.prod(win.kernel) == 1 else np.maximum(first, next(views))
        for v in views:
            np.maximum(y, v, out=y)
        ctx.save(x, y)  # the winners are found only if a gradient is asked for (not in predict)
        return y

    @staticmethod
    def vjp(ctx, g, x, y):  # each gradient goes to exactly one input: the first maximum
        win = ctx.params["win"]
        return (PickScatter.apply(g, winner=first_winners(_raw(x), _raw(y), win), win=win),)


def first_winners(x: np.ndarray, y: np.ndarray, win: Window) -> np.ndarray:
    """Which input of each max-pooling window won: ``won[k, n, o, c]`` is true where kernel offset
    ``k`` (in ``Window.offsets`` order) holds the first input equal to the maximum ``y[n, o, c]``;
    offset 0 takes a window whose maximum is NaN (no input equals it).

    Shape ``(kernel volume, N, *out, C)``, bool (one byte per output and offset; for a 2x2 pool,
    one per input): each offset's comparison is written to its own contiguous block, so the
    passes that keep only the first maximum run over contiguous booleans.
    """
    won = np.empty((math.prod(win.kernel), *y.shape), np.bool_)
    for k, v in enumerate(_views(to_padded(x, win, fill=-np.inf), win)):
        np.equal(v, y, out=won[k])
    if len(won) > 1:
        taken = won[0] | won[1] if len(won) > 2 else None
        np.greater(won[1], won[0], out=won[1])  # a maximum here, and none at an earlier offset
        for k in range(2, len(won)):
            np.greater(won[k], taken, out=won[k])
            if k < len(won) - 1:
                taken |= won[k]
    nan = np.isnan(y)
    if nan.any():
        won[0] |= nan
    return won


class Pick(Function):
    """``y[n, o, c] = xpad[n, o s + i, c]`` at the offset ``i`` that won (``first_winners``):
    max pooling with the winners fixed."""

    name = "pick"

    @staticmethod
    def forward(ctx, x, winner, win):
        y = np.zeros(winner.shape[1:], x.dtype)
        for k, v in enumerate(_views(to_padded(x, win), win)):
            y += v * winner[k]
        return y

    @staticmethod
    def vjp(ctx, g):
        return (PickScatter.apply(g, winner=ctx.params["winner"], win=ctx.params["win"]),)


class PickScatter(Function):
    """The adjoint of ``Pick``: each ``g[n, o, c]`` is added to the input it picked."""

    name = "pick_scatter"

    @staticmethod
    def forward(ctx, g, winner, win):
        channels = g.shape[1 + len(win.kernel):]
        disjoint = all(s >= k for s, k in zip(win.strides, win.kernel, strict=True))
        if disjoint and _crops_only(win):  # written straight into the input-shaped gradient
            covered = win.strides == win.kernel and win.padded == win.in_size  # every input read
            gx = (np.empty if covered else np.zeros)((g.shape[0], *win.in_size, *channels),
                                                     g.dtype)
            gp = gx[(slice(None), *(slice(0, p) for p in win.padded))]
        else:
            gx, gp = None, np.zeros((g.shape[0], *win.padded, *channels), g.dtype)
        for k, (_, where) in enumerate(win.offsets()):
            target = gp[(slice(None), *where)]
            if disjoint:  # windows do not overlap: each input is written once
                np.multiply(g, winner[k], out=target)
            else:
                target += g * winner[k]
        return from_padded(gp, win) if gx is None else gx

    @staticmethod
    def vjp(ctx, h):
        return (Pick.apply(h, winner=ctx.params["winner"], win=ctx.params["win"]),)


class WindowSum(Function):
    """``y[n, o, c] = sum_i xpad[n, o s + i, c]`` (zero padding)."""

    name = "window_sum"

    @staticmethod
    def forward(ctx, x, win):
        views = _views(to_padded(x, win), win)
        y = np.array(next(views))
        for v in views:
            y += v
        return y

    @staticmethod
    def vjp(ctx, g):
        return (WindowSpread.apply(g, win=ctx.params["win"]),)


class WindowSpread(Function):
    """The adjoint of ``WindowSum``: each ``g[n, o, c]`` is added to every input of its window."""

    name = "window_spread"

    @staticmethod
    def forward(ctx, g, win):
        gp = np.zeros((g.shape[0], *win.padded, *g.shape[1 + len(win.kernel):]), g.dtype)
        for _, where in win.offsets():
            gp[(slice(None), *where)] += g
        return from_padded(gp, win)

    @staticmethod
    def vjp(ctx, h):
        return (WindowSum.apply(h, win=ctx.params["win"]),)


# ---- the functions users call -----------------------------------------------------------------
def _raw(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def _spatial(x: Any, nd: int, op: str, what: str) -> tuple[int, ...]:
    shape = np.shape(_raw(x))
    if len(shape) != nd + 2:
        raise ValueError(f"{op}: {what} has shape {shape} but a {nd}-D operation needs "
                         f"{nd + 2} axes, (batch, {', '.join(['size'] * nd)}, channels) "
                         f"(channels last). Add a channels axis with x[..., None] for "
                         f"one-channel data.")
    return tuple(shape[1:-1])


def _check_output(op: str, win: Window, x_shape: tuple[int, ...], padding: str) -> None:
    if 0 in win.out_size or 0 in win.in_size:
        raise ValueError(f"Computed output size would be zero or negative. {op}: an input of "
                         f"spatial size {win.in_size} (shape {x_shape}) is "
                         f"smaller than the window (kernel {win.kernel}, dilation "
                         f"{win.dilation}), so padding='{padding}' leaves no output. Use "
                         f"padding='same', a smaller kernel, or larger inputs.")


def conv(x: Any, kernel: Any, strides: Any = 1, padding: str = "valid", dilation_rate: Any = 1,
         groups: int = 1, bias: Any = None, relu: bool = False) -> Any:
    """N-D convolution (cross-correlation, as in Keras), channels last.

    Parameters
    ----------
    x : (N, *spatial, C) float array
    kernel : (*kernel_size, C / groups, F) float array
        Keras's kernel layout; ``len(kernel_size)`` is the number of spatial axes.
    strides, dilation_rate : int or tuple of int, default 1
    padding : {'valid', 'same', 'causal'}
        Keras/TensorFlow's rules (see :func:`conv_window`); 'causal' for 1-D only.
    groups : int, default 1
        Input channels and filters split into ``groups`` independent convolutions.
    bias : (F,) float array, optional
        Added to every output position (fused: no separate pass).
    relu : bool, default False
        Return ``max(y, 0)``, taken in place in the product's output: the same values and
        gradients (to any order) as ``uf.relu(conv(...))``, with one array fewer.

    Returns
    -------
    (N, *out, F) array
        ``y[n, o, f] = sum_{i, c} xpad[n, o * s + i * d, c] * kernel[i, c, f] (+ bias[f])``; one
        patch buffer of ``N * prod(out) * prod(kernel_size) * C`` values per call.

    Examples
    --------
    >>> import numpy as np, unafraid as uf
    >>> uf.conv(np.ones((1, 5, 5, 1)), np.ones((3, 3, 1, 2)), padding="same").shape
    (1, 5, 5, 2)
    """
    k_shape = np.shape(_raw(kernel))
    nd = len(k_shape) - 2
    if nd < 1:
        raise ValueError(f"conv: kernel of shape {k_shape} needs (*kernel_size, in_channels, "
                         f"filters), at least 3 axes.")
    size = _spatial(x, nd, "conv", "the input")
    c = np.shape(_raw(x))[-1]
    if groups < 1 or c % groups or k_shape[-1] % groups or k_shape[-2] * groups != c:
        raise ValueError(f"conv: an input with {c} channels (shape {np.shape(_raw(x))}) does not "
                         f"fit a kernel of shape {k_shape} with groups={groups}: the kernel's "
                         f"second-to-last axis must be channels / groups = {c / groups:g}, and "
                         f"the filters ({k_shape[-1]}) a multiple of groups.")
    if str(padding).lower() == "causal" and nd != 1:
        raise ValueError("conv: padding='causal' is for 1-D convolutions only.")
    win = conv_window(size, tuple(k_shape[:-2]), as_tuple(strides, nd, "strides"), padding,
                      as_tuple(dilation_rate, nd, "dilation_rate"))
    _check_output("conv", win, np.shape(_raw(x)), padding)
    if bias is None:
        return Conv.apply(x, kernel, win=win, groups=int(groups), relu=bool(relu))
    if np.shape(_raw(bias)) != (k_shape[-1],):
        raise ValueError(f"conv: bias of shape {np.shape(_raw(bias))} does not fit {k_shape[-1]} "
                         f"filters; it needs shape ({k_shape[-1]},).")
    return Conv.apply(x, kernel, bias, win=win, groups=int(groups), relu=bool(relu))


def conv_transpose(x: Any, kernel: Any, strides: Any = 1, padding: str = "valid",
                   output_padding: Any = None, dilation_rate: Any = 1) -> Any:
    """N-D transposed convolution, channels last (Keras's ``Conv*DTranspose``).

    The gradient of :func:`conv` with respect to its input, used as a layer: each input
    position scatters ``x[n, j, :] @ kernel[i].T`` to output ``j * s + i * d - pad``.

    Parameters
    ----------
    x : (N, *spatial, C) float array
    kernel : (*kernel_size, F, C) float array
        Keras's layout for transposed convolutions: filters before input channels.
    strides, dilation_rate : int or tuple of int, default 1
    padding : {'valid', 'same'}
    output_padding : int or tuple of int, optional
        Extra size along each axis (must be smaller than the stride).

    Returns
    -------
    (N, *out, F) array
        ``out = n * s + max(span - s, 0)`` (valid) or ``n * s`` (same) by default.

    Examples
    --------
    >>> import numpy as np, unafraid as uf
    >>> uf.conv_transpose(np.ones((1, 7, 7, 4)), np.ones((5, 5, 2, 4)), strides=2,
    ...                   padding="same").shape
    (1, 14, 14, 2)
    """
    k_shape = np.shape(_raw(kernel))
    nd = len(k_shape) - 2
    size = _spatial(x, nd, "conv_transpose", "the input")
    if np.shape(_raw(x))[-1] != k_shape[-1]:
        raise ValueError(f"conv_transpose: an input with {np.shape(_raw(x))[-1]} channels does "
                         f"not fit a kernel of shape {k_shape} (*kernel_size, filters, "
                         f"in_channels): its last axis must equal the input's channels.")
    pads = None if output_padding is None else (
        (output_padding,) * nd if isinstance(output_padding, int) else tuple(output_padding))
    win = conv_transpose_window(size, tuple(k_shape[:-2]), as_tuple(strides, nd, "strides"),
                                padding, pads, as_tuple(dilation_rate, nd, "dilation_rate"))
    return ConvInputGrad.apply(x, kernel, win=win, groups=1)


def depthwise_conv(x: Any, kernel: Any, strides: Any = 1, padding: str = "valid",
                   dilation_rate: Any = 1, bias: Any = None) -> Any:
    """Depthwise convolution: each input channel convolved with its own filters.

    Parameters
    ----------
    x : (N, *spatial, C) float array
    kernel : (*kernel_size, C, depth_multiplier) float array (Keras's layout)

    Returns
    -------
    (N, *out, C * depth_multiplier) array
        Output channel ``c * depth_multiplier + m`` is input channel ``c`` convolved with
        ``kernel[..., c, m]``: a grouped :func:`conv` with ``groups = C``.
    """
    k_shape = np.shape(_raw(kernel))
    c, m = k_shape[-2:]
    return conv(x, reshape(kernel, (*k_shape[:-2], 1, c * m)), strides, padding, dilation_rate,
                groups=c, bias=bias)


def _pool_window(op: str, x: Any, pool_size: Any, strides: Any, padding: str) -> Window:
    nd = len(pool_size) if isinstance(pool_size, tuple | list) else np.ndim(_raw(x)) - 2
    pool = as_tuple(pool_size, nd, "pool_size")
    size = _spatial(x, nd, op, "the input")
    padding = _padding(padding, ("valid", "same"))
    win = conv_window(size, pool, as_tuple(pool if strides is None else strides, nd, "strides"),
                      padding, (1,) * nd)
    _check_output(op, win, np.shape(_raw(x)), padding)
    return win


def max_pool(x: Any, pool_size: Any, strides: Any = None, padding: str = "valid") -> Any:
    """Max pooling, channels last: the largest value of each window.

    Parameters
    ----------
    x : (N, *spatial, C) float array
    pool_size : int or tuple of int
        An int pools over every spatial axis of ``x``.
    strides : int or tuple of int, optional
        Defaults to ``pool_size``.
    padding : {'valid', 'same'}
        'same' pads with -inf, so padding never wins.

    Returns
    -------
    (N, *out, C) array
        The gradient of each output goes to exactly one input, the first maximum of its
        window in row-major order (as TensorFlow and PyTorch), also at ties.

    Examples
    --------
    >>> import numpy as np, unafraid as uf
    >>> uf.max_pool(np.arange(16.0).reshape(1, 4, 4, 1), 2).numpy()[0, :, :, 0]
    array([[ 5.,  7.],
           [13., 15.]])
    """
    return MaxPool.apply(x, win=_pool_window("max_pool", x, pool_size, strides, padding))


def avg_pool(x: Any, pool_size: Any, strides: Any = None, padding: str = "valid") -> Any:
    """Average pooling, channels last: the mean of each window.

    With ``padding='same'`` the mean is over the window's inputs only (padding is not
    counted), as in TensorFlow. Same arguments as :func:`max_pool`.

    Returns
    -------
    (N, *out, C) array
        ``y[n, o, c] = sum_{i in window} x[n, o s + i, c] / count(o)``.
    """
    win = _pool_window("avg_pool", x, pool_size, strides, padding)
    dtype = np.result_type(_raw(x).dtype, np.float32)
    ones = np.ones((1, *win.in_size, 1), dtype)
    count = WindowSum.forward(None, ones, win)  # inputs per window, padding not counted
    return multiply(WindowSum.apply(x, win=win), (1 / count).astype(dtype))
