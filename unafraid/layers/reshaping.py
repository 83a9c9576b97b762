"""Spatial reshaping layers with Keras 3's names and defaults, channels last
(``data_format="channels_first"`` inputs are moved last inside):
UpSampling1D/2D/3D, ZeroPadding1D/2D/3D, Cropping1D/2D/3D."""

from __future__ import annotations

from typing import Any

import numpy as np

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


def _upsampling_size(layer: str, size: Any, rank: int) -> tuple[int, ...]:
    """UpSampling's ``size``: a positive int, or a tuple of ``rank`` of them (Keras's messages)."""
    sizes = (size,) * rank if isinstance(size, int | np.integer) else size
    if rank == 1 and (isinstance(size, bool) or not isinstance(size, int | np.integer)):
        raise TypeError(f"Expected an integer value for `size`, got {type(size)}. {layer}: size "
                        f"is how many times each step is repeated, e.g. size=2.")
    if (not isinstance(sizes, tuple | list) or len(sizes) != rank
            or not all(isinstance(s, int | np.integer) and not isinstance(s, bool) and s >= 1
                       for s in sizes)):
        raise ValueError(f"Argument `size` should be a positive integer (or a tuple of {rank}). "
                         f"Received: size={size!r}. {layer}: size is how many times each "
                         f"{'step' if rank == 1 else 'row and column'} is repeated, e.g. size=2.")
    return tuple(int(s) for s in sizes)


class _Spatial(Layer):
    """A layer over ``(batch, *spatial, channels)`` with ``rank`` spatial axes."""

    rank = 2

    @channels_last_inside
    def build(self, input_shape: tuple[int | None, ...]) -> None:
        check_rank(self, input_shape, self.rank)

    @channels_last_inside
    def _check_input(self, x: Tensor) -> None:
        check_rank(self, x.shape, self.rank)


# Interpolation kernels of Keras's resize on its default JAX backend (``jax.image.resize``,
# ``scale_and_translate``): each takes |distance| in input pixels, and returns the weight and the
# kernel's radius. Keys (1981) cubic with a = -0.5; Lanczos with radius 3 or 5.
def _triangle(x: np.ndarray) -> np.ndarray:
    return np.maximum(0.0, 1.0 - x)


def _keys_cubic(x: np.ndarray) -> np.ndarray:
    near = ((1.5 * x - 2.5) * x) * x + 1.0
    far = ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
    return np.where(x >= 2.0, 0.0, np.where(x >= 1.0, far, near))


def _lanczos(radius: int) -> Any:
    def kernel(x: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            y = radius * np.sin(np.pi * x) * np.sin(np.pi * x / radius) / (np.pi ** 2 * x ** 2)
        return np.where(x > radius, 0.0, np.where(x > 1e-3, y, 1.0))
    return kernel


RESIZE_KERNELS = {"bilinear": _triangle, "bicubic": _keys_cubic, "lanczos3": _lanczos(3),
                  "lanczos5": _lanczos(5)}


def resize_weights(n_in: int, n_out: int, interpolation: str) -> np.ndarray:
    """The ``(n_out, n_in)`` matrix that resizes one axis: ``out = W @ x``.

    Output pixel ``i`` samples the input at ``s_i = (i + 0.5) n_in / n_out - 0.5`` (pixel centres
    aligned, "half-pixel centres"); its weights are ``k(|s_i - j|)`` for the kernel ``k`` of
    ``interpolation``, divided by their sum over the input pixels ``j`` (so the edges use only
    pixels inside the image). Float64; the same weights as ``jax.image.resize`` (Keras's resize on
    JAX) when enlarging.
    """
    sample = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
    weights = RESIZE_KERNELS[interpolation](np.abs(sample[:, None] - np.arange(n_in)[None, :]))
    total = weights.sum(axis=1, keepdims=True)
    return np.where(np.abs(total) > 1000 * np.finfo(np.float32).eps,
                    weights / np.where(total != 0, total, 1), 0.0)


class _UpSampling(_Spatial):
    """Repeats each row/column ``size`` times (nearest neighbour), or, for ``UpSampling2D``,
    resizes by ``size`` with Keras's ``interpolation`` (``"bilinear"``, ``"bicubic"``,
    ``"lanczos3"``, ``"lanczos5"``; see :func:`resize_weights`).

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
        self.size = _upsampling_size(layer, size, self.rank)
        methods = ("nearest", *RESIZE_KERNELS) if self.rank == 2 else ("nearest",)
        self.interpolation = str(interpolation).lower()
        if self.interpolation not in methods:
            raise ValueError(f"{layer}: interpolation={interpolation!r} is not supported; use one "
                             f"of {list(methods)}.")
        self.data_format = check_data_format(layer, data_format)

    @channels_last_inside
    def call(self, inputs: Tensor) -> Tensor:
        if self.interpolation != "nearest":
            return self._resize(inputs)
        n, *spatial, c = inputs.shape
        spread = [d for n_i in spatial for d in (n_i, 1)]  # (N, h, 1, w, 1, C)
        y = ops.reshape(inputs, (n, *spread, c))
        rep = [d for n_i, s in zip(spatial, self.size, strict=True) for d in (n_i, s)]
        y = ops.broadcast_to(y, (n, *rep, c))
        return ops.reshape(y, (n, *(a * s for a, s in zip(spatial, self.size, strict=True)), c))

    def _resize(self, inputs: Tensor) -> Tensor:
        """Each spatial axis multiplied by its resize matrix (channels last)."""
        y = inputs
        for axis, factor in enumerate(self.size, start=1):
            n_in = y.shape[axis]
            weights = Tensor(resize_weights(n_in, n_in * factor, self.interpolation).T.astype(
                y.dtype))  # (n_in, n_out)
            y = ops.swapaxes(ops.matmul(ops.swapaxes(y, axis, -1), weights), axis, -1)
        return y

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
        self._check_cropping(x.shape)

    def _check_cropping(self, shape: tuple[int | None, ...]) -> None:
        """Refuse cropping that removes a whole spatial axis (``shape`` is channels last)."""
        for n, (lo, hi) in zip(shape[1:-1], self.cropping, strict=True):
            if n is not None and lo + hi >= n:
                keras = ("`cropping` parameter of `Cropping1D` layer must be smaller than the "
                         "input length." if self.rank == 1 else "Values in `cropping` argument "
                         "should be smaller than the corresponding spatial dimension of the input.")
                raise ValueError(f"{keras} {type(self).__name__} layer '{self.name}': cropping "
                                 f"{self.cropping} removes everything from an input of shape "
                                 f"{tuple(shape)}. Crop less.")

    @channels_last_inside
    def call(self, inputs: Tensor) -> Tensor:
        index = tuple(slice(lo, n - hi) for n, (lo, hi) in zip(
            inputs.shape[1:-1], self.cropping, strict=True))
        return ops.getitem(inputs, (slice(None), *index))

    @channels_last_inside
    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        check_rank(self, input_shape, self.rank)
        self._check_cropping(input_shape)
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
