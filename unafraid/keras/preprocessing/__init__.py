"""``keras.preprocessing``: tf.keras 2's image helpers that keras-io guides call on arrays.

Only ``keras.preprocessing.image.array_to_img`` and ``img_to_array`` exist (the same functions as
``keras.utils.array_to_img`` / ``img_to_array``, Keras 3's names). The rest of tf.keras 2's
``preprocessing`` (``ImageDataGenerator``, ``text``, ``sequence``) is not provided: prepare the
NumPy arrays before ``fit``.
"""

from __future__ import annotations

from typing import Any

from . import image

__all__ = ["image"]

ADVICE = ("not supported: prepare the NumPy arrays before fit (scale, pad, one-hot with "
          "unafraid.keras.utils.to_categorical)")


def __getattr__(name: str) -> Any:
    from ...unsupported import missing_name_error
    raise missing_name_error(__name__, name, __all__, {name: ADVICE})
