"""``tf.keras.datasets``: ``unafraid.datasets`` under its Keras name, loaded on first use."""

import sys

from .. import datasets

sys.modules[__name__] = datasets
