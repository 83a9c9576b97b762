"""``data_format='channels_first'`` for layers written channels last.

unafraid's convolution, pooling and spatial layers compute on ``(batch, *spatial, channels)``.
With ``channels_first`` (Keras's ``(batch, channels, *spatial)``), :func:`channels_last_inside`
moves the channels axis last on the way in and back to axis 1 on the way out (a transpose with
its gradient), for tensors and for shape tuples alike, so ``build``, ``call`` and
``compute_output_shape`` keep one channels-last implementation.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from ..engine import ops

FORMATS = ("channels_last", "channels_first")
_default_format = ["channels_last"]  # keras.backend.set_image_data_format changes it


def image_data_format() -> str:
    """What ``data_format=None`` means: ``'channels_last'`` (Keras's default) unless
    :func:`set_image_data_format` said otherwise."""
    return _default_format[0]


def set_image_data_format(data_format: str) -> None:
    """Keras's ``keras.backend.set_image_data_format``: the meaning of ``data_format=None`` for the
    layers made afterwards (``'channels_last'`` or ``'channels_first'``)."""
    fmt = str(data_format).lower()
    if fmt not in FORMATS:
        raise ValueError(f"The `data_format` argument must be one of {{'channels_first', "
                         f"'channels_last'}}. Received: data_format={data_format!r}")
    _default_format[0] = fmt


def check_data_format(layer: str, value: Any) -> str:
    """``None`` means :func:`image_data_format` (``'channels_last'``, Keras's default); anything else
    must name one of the two."""
    fmt = image_data_format() if value is None else str(value).lower()
    if fmt not in FORMATS:
        raise ValueError(f"{layer}: data_format must be 'channels_last' (batch, ..., channels) or "
                         f"'channels_first' (batch, channels, ...), got {value!r}.")
    return fmt


def _last_order(rank: int) -> tuple[int, ...]:
    return (0, *range(2, rank), 1)


def _first_order(rank: int) -> tuple[int, ...]:
    return (0, rank - 1, *range(1, rank - 1))


def _move(x: Any, order: Callable[[int], tuple[int, ...]]) -> Any:
    if x is None:
        return None
    if isinstance(x, tuple | list) and all(d is None or isinstance(d, int) for d in x):  # a shape
        return type(x)(x[i] for i in order(len(x))) if len(x) > 2 else x
    if x.ndim <= 2:
        return x
    return ops.transpose(x, order(x.ndim))


def channels_last_inside(method: Callable) -> Callable:
    """Run ``method(self, x, ...)`` on channels-last data when ``self.data_format`` is channels_first.

    A decorated method that calls another decorated method (``super()._check_input(x)``) moves the
    axes once: the inner call sees data already moved.
    """

    first = list(inspect.signature(method).parameters)[1]  # the tensor or shape (input_shape=...)

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(self, "data_format", "channels_last") != "channels_first" or \
                self.__dict__.get("channels_moved", False):
            return method(self, *args, **kwargs)
        if args:
            args = (_move(args[0], _last_order), *args[1:])
        else:
            kwargs = {**kwargs, first: _move(kwargs[first], _last_order)}
        self.__dict__["channels_moved"] = True
        try:
            return _move(method(self, *args, **kwargs), _first_order)
        finally:
            self.__dict__["channels_moved"] = False

    return wrapper
