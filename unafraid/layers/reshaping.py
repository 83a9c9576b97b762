"""Spatial reshaping layers with Keras 3's names and defaults, channels last
(``data_format="channels_first"`` inputs are moved last inside):
UpSampling1D/2D/3D, ZeroPadding1D/2D/3D, Cropping1D/2D/3D."""

from __future__ import annotations

from typing import Any

from ..engine import ops
from ..engine.tensor import Tensor
from .base import Layer
from .channels import channels_last_inside, check_data_format
from .conv import check_rank


def _pairs(value: Any, rank: int, layer: str, name: str) -> tuple[tuple[int, int], ...]:
    """Keras's forms: ``1``, ``(1, 2)`` (symmetric per axis), ``((1, 0), (2, 2))``; 1-D:
    ``1`` or ``(before, after)``."""
    try:
        if isinstance(value, int):
            pairs = ((value, value),) * rank
        elif rank == 1 and len(value) == 2 and all(isinstance(v, int) for v in value):
            pairs = (tuple(value),)
        elif len(value) == rank > 1 and all(isinstance(v, int) for v in value):
            pairs = tuple((v, v) for v in value)
        else:
            pairs = tuple(tuple(int(a) for a in v) for v in value)
        ok = len(pairs) == rank and all(len(p) == 2 and min(p) >= 0 for p in pairs)
    except TypeError:
        ok = False
    if not ok:
        forms = ("a non-negative int or a (before, after) pair of them" if rank == 1 else
                 f"a non-negative int, a tuple of {rank} ints, or a tuple of {rank} (before, after) "
                 f"pairs")
        raise ValueError(f"{layer}: {name} must be {forms}; got {value!r}.")
    return tuple((int(a), int(b)) for a, b in pairs)


class _Spatial(Layer):
    """A layer over ``(batch, *spatial, channels)`` with ``rank`` spatial axes."""

    rank = 2

    @channels_last_inside
    def build(self, input_shape: tuple[int | None, ...]) -> None:
        check_rank(self, input_shape, self.rank)

    @channels_last_inside
    def _check_input(self, x: Tensor) -> None:
        check_rank(self, x.shape, self.rank)


class _UpSampling(_Spatial):
    """Repeats each row/column ``size`` times (nearest neighbour).

    Parameters
    ----------
    size : int or tuple of int
        Repeats per spatial axis.

    Shapes
    ------
    ``(batch, *spatial, channels)`` -> ``(batch, *(n * size), channels)``.
    """

    def __init__(self, size: Any = 2, data_format: str | None = None,
                 interpolation: str = "nearest", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        layer = type(self).__name__
        sizes = (size,) * self.rank if isinstance(size, int) else tuple(size)
        if len(sizes) != self.rank or not all(isinstance(s, int) and s >= 1 for s in sizes):
            raise ValueError(f"{layer}: size must be a positive int or a tuple of {self.rank}, "
                             f"got {size!r}.")
        if interpolation != "nearest":
            raise ValueError(f"{layer}: interpolation={interpolation!r} is not supported; only "
                             f"'nearest' is.")
        self.size, self.interpolation = sizes, interpolation
        self.data_format = check_data_format(layer, data_format)

    @channels_last_inside
    def call(self, inputs: Tensor) -> Tensor:
        n, *spatial, c = inputs.shape
        spread = [d for n_i in spatial for d in (n_i, 1)]  # (N, h, 1, w, 1, C)
        y = ops.reshape(inputs, (n, *spread, c))
        rep = [d for n_i, s in zip(spatial, self.size, strict=True) for d in (n_i, s)]
        y = ops.broadcast_to(y, (n, *rep, c))
        return ops.reshape(y, (n, *(a * s for a, s in zip(spatial, self.size, strict=True)), c))

    @channels_last_inside
    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        check_rank(self, input_shape, self.rank)
        return (input_shape[0], *(None if a is None else a * s for a, s in zip(
            input_shape[1:-1], self.size, strict=True)), input_shape[-1])

    def get_config(self) -> dict[str, Any]:
        config = {**super().get_config(), "size": list(self.size) if self.rank > 1 else self.size[0]}
        if self.rank == 2:
            config.update(data_format=self.data_format, interpolation=self.interpolation)
        elif self.rank == 3:
            config.update(data_format=self.data_format)
        return config


class UpSampling1D(_UpSampling):
    """Repeats each step ``size`` times: ``(batch, steps, channels)``."""

    rank = 1

    def __init__(self, size: int = 2, **kwargs: Any) -> None:
        super().__init__(size, **kwargs)


class UpSampling2D(_UpSampling):
    """Repeats rows and columns: ``(batch, h, w, c)`` -> ``(batch, h * s0, w * s1, c)``.

    Examples
    --------
    >>> import unafraid as tf
    >>> tf.keras.layers.UpSampling2D(size=(2, 2))(tf.ones((1, 7, 7, 3))).shape
    (1, 14, 14, 3)
    """

    rank = 2


class UpSampling3D(_UpSampling):
    """Repeats along depth, height and width."""

    rank = 3


class _ZeroPadding(_Spatial):
    """Zeros added before and after each spatial axis.

    Parameters
    ----------
    padding : int, tuple of int, or tuple of (before, after) pairs

    Shapes
    ------
    ``(batch, *spatial, channels)`` -> ``(batch, *(n + before + after), channels)``.
    """

    def __init__(self, padding: Any = 1, data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.padding = _pairs(padding, self.rank, type(self).__name__, "padding")
        self.data_format = check_data_format(type(self).__name__, data_format)

    @channels_last_inside
    def call(self, inputs: Tensor) -> Tensor:
        return ops.pad(inputs, ((0, 0), *self.padding, (0, 0)))

    @channels_last_inside
    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        check_rank(self, input_shape, self.rank)
        return (input_shape[0], *(None if a is None else a + lo + hi for a, (lo, hi) in zip(
            input_shape[1:-1], self.padding, strict=True)), input_shape[-1])

    def get_config(self) -> dict[str, Any]:
        config = {**super().get_config(), "padding": [list(p) for p in self.padding]}
        if self.rank > 1:
            config["data_format"] = self.data_format
        return config


class ZeroPadding1D(_ZeroPadding):
    """Zeros before and after the steps of ``(batch, steps, channels)``."""

    rank = 1

    def __init__(self, padding: Any = 1, **kwargs: Any) -> None:
        super().__init__(padding, **kwargs)


class ZeroPadding2D(_ZeroPadding):
    """Zero rows and columns around images.

    Examples
    --------
    >>> import unafraid as tf
    >>> tf.keras.layers.ZeroPadding2D(padding=((1, 0), (2, 2)))(tf.ones((1, 4, 4, 3))).shape
    (1, 5, 8, 3)
    """

    rank = 2


class ZeroPadding3D(_ZeroPadding):
    """Zeros around volumes."""

    rank = 3


class _Cropping(_Spatial):
    """Removes ``(before, after)`` entries from each spatial axis.

    Parameters
    ----------
    cropping : int, tuple of int, or tuple of (before, after) pairs
    """

    def __init__(self, cropping: Any = 0, data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cropping = _pairs(cropping, self.rank, type(self).__name__, "cropping")
        self.data_format = check_data_format(type(self).__name__, data_format)

    @channels_last_inside
    def _check_input(self, x: Tensor) -> None:
        super()._check_input(x)
        for n, (lo, hi) in zip(x.shape[1:-1], self.cropping, strict=True):
            if lo + hi >= n:
                raise ValueError(f"{type(self).__name__} layer '{self.name}': cropping "
                                 f"{self.cropping} removes everything from an input of shape "
                                 f"{x.shape}. Crop less.")

    @channels_last_inside
    def call(self, inputs: Tensor) -> Tensor:
        index = tuple(slice(lo, n - hi) for n, (lo, hi) in zip(
            inputs.shape[1:-1], self.cropping, strict=True))
        return ops.getitem(inputs, (slice(None), *index))

    @channels_last_inside
    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        check_rank(self, input_shape, self.rank)
        return (input_shape[0], *(None if a is None else a - lo - hi for a, (lo, hi) in zip(
            input_shape[1:-1], self.cropping, strict=True)), input_shape[-1])

    def get_config(self) -> dict[str, Any]:
        config = {**super().get_config(), "cropping": [list(p) for p in self.cropping]}
        if self.rank > 1:
            config["data_format"] = self.data_format
        return config


class Cropping1D(_Cropping):
    """Removes steps from the start and end of ``(batch, steps, channels)``."""

    rank = 1

    def __init__(self, cropping: Any = (1, 1), **kwargs: Any) -> None:
        super().__init__(cropping, **kwargs)


class Cropping2D(_Cropping):
    """Removes rows and columns from the edges of images.

    Examples
    --------
    >>> import unafraid as tf
    >>> tf.keras.layers.Cropping2D(cropping=((2, 2), (4, 4)))(tf.ones((1, 28, 28, 3))).shape
    (1, 24, 20, 3)
    """

    rank = 2

    def __init__(self, cropping: Any = ((0, 0), (0, 0)), **kwargs: Any) -> None:
        super().__init__(cropping, **kwargs)


class Cropping3D(_Cropping):
    """Removes slices from the edges of volumes."""

    rank = 3

    def __init__(self, cropping: Any = ((1, 1), (1, 1), (1, 1)), **kwargs: Any) -> None:
        super().__init__(cropping, **kwargs)


class RepeatVector(Layer):
    """Repeats each example ``n`` times: ``(batch, features)`` to ``(batch, n, features)``.

    Examples
    --------
    >>> import unafraid as tf
    >>> tf.keras.layers.RepeatVector(3)(tf.ones((2, 4))).shape
    (2, 3, 4)
    """

    def __init__(self, n: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError(f"RepeatVector: Expected an integer value for `n`, got {type(n)}.")
        if n <= 0:
            raise ValueError(f"RepeatVector: argument `n` should be a positive integer. "
                             f"Received: n={n}")
        self.n = n

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        if len(input_shape) != 2:
            raise ValueError(f"RepeatVector '{self.name}' expects inputs of shape (batch, "
                             f"features); got shape {tuple(input_shape)}. Flatten them first.")

    def call(self, inputs: Tensor) -> Tensor:
        x = ops.reshape(inputs, (inputs.shape[0], 1, inputs.shape[1]))
        return ops.broadcast_to(x, (inputs.shape[0], self.n, inputs.shape[1]))

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "n": self.n}


class Permute(Layer):
    """Permutes the axes of each example: ``dims`` (1-based, the batch axis stays first).

    Examples
    --------
    >>> import unafraid as tf
    >>> tf.keras.layers.Permute((2, 1))(tf.ones((5, 10, 64))).shape
    (5, 64, 10)
    """

    def __init__(self, dims: tuple[int, ...], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dims = tuple(int(d) for d in dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(f"Invalid permutation argument `dims` for Permute Layer. The set of "
                             f"indices in `dims` must be consecutive and start from 1. Received "
                             f"dims={tuple(dims)}")

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        if len(input_shape) != len(self.dims) + 1:
            raise ValueError(f"Permute '{self.name}' with dims={self.dims} expects inputs of rank "
                             f"{len(self.dims) + 1}; got shape {tuple(input_shape)}.")

    def call(self, inputs: Tensor) -> Tensor:
        return ops.transpose(inputs, (0, *self.dims))

    def compute_output_shape(self, input_shape: Any) -> Any:
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "dims": list(self.dims)}
