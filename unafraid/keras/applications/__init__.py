"""``keras.applications``: the VGG16 and VGG19 architectures, layer for layer as Keras builds them.

unafraid ships no pretrained weights and downloads nothing: ``weights=None`` gives the
architecture with fresh (seeded) weights; ImageNet's weights come in from a ``.keras`` file saved
by Keras on a machine that has them (see :func:`VGG19`). Loaded on first use
(``unafraid.keras.applications``), so ``import unafraid`` stays light.
"""

from __future__ import annotations

from . import vgg16, vgg19
from .vgg import VGG16, VGG19

__all__ = ["VGG16", "VGG19", "vgg16", "vgg19"]


def __getattr__(name: str) -> None:
    """Only for names that do not exist: say which applications unafraid has."""
    from ...unsupported import missing_name_error
    advice = ("not supported: unafraid.keras.applications has VGG16 and VGG19 only (their "
              "architectures, with weights=None or weights from a .keras file); build other "
              "networks from layers, or use Keras")
    raise missing_name_error(__name__, name, __all__, {} if name.startswith("_") else {name: advice})
