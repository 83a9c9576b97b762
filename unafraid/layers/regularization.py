"""SpatialDropout1D/2D/3D: dropout of whole feature maps (Keras 3's names and defaults)."""

from __future__ import annotations

from typing import Any

from ..engine.tensor import Tensor
from .channels import channels_last_inside, check_data_format
from .conv import check_rank
from .core import Dropout


class _SpatialDropout(Dropout):
    """Drops entire channels: one keep/drop draw per (example, channel), shared by all positions.

    Parameters
    ----------
    rate : float
        Fraction of channels to drop during training (kept ones scaled by ``1 / (1 - rate)``).
    seed : int, optional
        The mask comes from the layer's seeded generator (derived from the global seed
        when None), so training is reproducible.

    Shapes
    ------
    input ``(batch, *spatial, channels)``; the mask is ``(batch, 1, ..., 1, channels)``.
    """

    rank = 2

    def __init__(self, rate: float, data_format: str | None = None, seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = check_data_format(type(self).__name__, data_format)

    @channels_last_inside
    def build(self, input_shape: tuple[int | None, ...]) -> None:
        check_rank(self, input_shape, self.rank)

    @channels_last_inside
    def call(self, inputs: Tensor, training: bool = False) -> Tensor:
        check_rank(self, inputs.shape, self.rank)
        self.noise_shape = (inputs.shape[0], *(1,) * self.rank, inputs.shape[-1])
        return super().call(inputs, training=training)

    def get_config(self) -> dict[str, Any]:
        config = {**super().get_config(), "data_format": self.data_format}
        del config["noise_shape"]
        if self.rank == 1:
            del config["data_format"]
        return config


class SpatialDropout1D(_SpatialDropout):
    """Drops whole channels of ``(batch, steps, channels)``."""

    rank = 1

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(rate, seed=seed, **kwargs)


class SpatialDropout2D(_SpatialDropout):
    """Drops whole feature maps of ``(batch, height, width, channels)``.

    Examples
    --------
    >>> import unafraid as tf
    >>> layer = tf.keras.layers.SpatialDropout2D(0.5, seed=1)
    >>> layer(tf.ones((2, 4, 4, 8)), training=True).shape
    (2, 4, 4, 8)
    """

    rank = 2


class SpatialDropout3D(_SpatialDropout):
    """Drops whole feature maps of volumes."""

    rank = 3
