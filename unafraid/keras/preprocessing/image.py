"""``keras.preprocessing.image.array_to_img`` / ``img_to_array`` (tf.keras 2's names).

The functions are ``keras.utils.array_to_img`` and ``keras.utils.img_to_array``; the guide
"Writing a training loop from scratch" saves a generated digit with
``tf.keras.preprocessing.image.array_to_img(images[0] * 255.0, scale=False).save(path)``.
"""

from __future__ import annotations

from typing import Any

from ..utils import array_to_img, img_to_array

__all__ = ["array_to_img", "img_to_array"]


def __getattr__(name: str) -> Any:
    from ...unsupported import missing_name_error
    raise missing_name_error(__name__, name, __all__, {name: (
        "not supported: load and augment images as NumPy arrays (Pillow's Image.open, then "
        "keras.preprocessing.image.img_to_array)")})
