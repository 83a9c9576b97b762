"""Comparisons shared by the tests that cross models between unafraid and Keras 3 (.keras files)."""

import numpy as np


def predictions(model, x):
    """A model's predictions as a list (one array per output), from either library."""
    out = model.predict(x, verbose=0)
    return out if isinstance(out, list) else [out]


def same(ours, theirs):
    """Predictions agree to float32 round-off."""
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-5, atol=1e-6)


def same_weights(ours, theirs):
    """Every layer's weights cross unchanged, in Keras's order (e.g. renorm's statistics, which
    inference does not read, so that predictions alone would not check them)."""
    for layer, other in zip(ours, theirs, strict=True):
        for a, b in zip(layer.get_weights(), other.get_weights(), strict=True):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
