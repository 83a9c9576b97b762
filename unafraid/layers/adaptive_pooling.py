"""Adaptive pooling with Keras 3's names: the output has ``output_size`` along each spatial axis,
whatever the input's size (AdaptiveAveragePooling1D/2D/3D, AdaptiveMaxPooling1D/2D/3D).

Output entry ``i`` of an axis of input length ``L`` pools the input entries ``start_i .. end_i - 1``
with ``start_i = floor(i L / out)`` and ``end_i = ceil((i + 1) L / out)`` (Keras's and PyTorch's
windows); the axes are pooled one after the other, which gives each window's mean (or max).
"""

from __future__ import annotations

from typing import Any

from ..engine import ops
from ..engine.tensor import Tensor
from .base import Layer
from .channels import channels_last_inside, check_data_format
from .conv import check_rank


def adaptive_windows(length: int, out: int) -> list[tuple[int, int]]:
    """``(start, end)`` of each of the ``out`` windows over ``length`` entries."""
    return [((i * length) // out, -((-(i + 1) * length) // out)) for i in range(out)]


class BaseAdaptivePooling(Layer):
    """Pools ``(batch, *spatial, channels)`` to ``(batch, *output_size, channels)``.

    Parameters
    ----------
    output_size : int or tuple of ``rank`` ints
        The spatial size of the output (an int: the same along each axis).
    data_format : None, 'channels_last' or 'channels_first'

    Shapes
    ------
    ``(batch, *spatial, channels)`` -> ``(batch, *output_size, channels)`` (channels last).
    """

    rank = 2
    reduce = staticmethod(ops.mean)

    def __init__(self, output_size: Any, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        layer = type(self).__name__
        sizes = (output_size,) * self.rank if isinstance(output_size, int) else output_size
        if not isinstance(sizes, tuple | list) or len(sizes) != self.rank or not all(
                isinstance(s, int) and s >= 1 for s in sizes):
            raise TypeError(f"{layer}: `output_size` must be a positive integer or a tuple of "
                            f"{self.rank} positive integers. Received: {output_size!r}")
        self.output_size = tuple(sizes)
        self.data_format = check_data_format(layer, data_format)

    @channels_last_inside
    def build(self, input_shape: tuple[int | None, ...]) -> None:
        check_rank(self, input_shape, self.rank)

    @channels_last_inside
    def call(self, inputs: Tensor) -> Tensor:
        y = inputs
        for axis, out in enumerate(self.output_size, start=1):
            parts = []
            for start, end in adaptive_windows(y.shape[axis], out):
                index = (slice(None),) * axis + (slice(start, end),)
                parts.append(type(self).reduce(ops.getitem(y, index), axis=axis, keepdims=True))
            y = ops.concatenate(parts, axis=axis)
        return y

    @channels_last_inside
    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        check_rank(self, input_shape, self.rank)
        return (input_shape[0], *self.output_size, input_shape[-1])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "output_size": self.output_size,
                "data_format": self.data_format}


def _adaptive(name: str, rank: int, mode: str) -> type:
    reduce = ops.mean if mode == "average" else ops.max
    axes = {1: "steps", 2: "height, width", 3: "depth, height, width"}[rank]
    doc = (f"Adaptive {mode} pooling of ``(batch, {axes}, channels)`` to ``output_size`` along "
           f"each of the {rank} spatial axes (see ``BaseAdaptivePooling`` for the windows).\n\n"
           f"    Examples\n    --------\n    >>> import numpy as np\n"
           f"    >>> {name}(2)(np.ones((1, {', '.join(['4'] * rank)}, 3))).shape\n"
           f"    (1, {', '.join(['2'] * rank)}, 3)\n    ")
    return type(name, (BaseAdaptivePooling,), {"rank": rank, "reduce": staticmethod(reduce),
                                               "__doc__": doc, "__module__": __name__})


AdaptiveAveragePooling1D = _adaptive("AdaptiveAveragePooling1D", 1, "average")
AdaptiveAveragePooling2D = _adaptive("AdaptiveAveragePooling2D", 2, "average")
AdaptiveAveragePooling3D = _adaptive("AdaptiveAveragePooling3D", 3, "average")
AdaptiveMaxPooling1D = _adaptive("AdaptiveMaxPooling1D", 1, "max")
AdaptiveMaxPooling2D = _adaptive("AdaptiveMaxPooling2D", 2, "max")
AdaptiveMaxPooling3D = _adaptive("AdaptiveMaxPooling3D", 3, "max")
