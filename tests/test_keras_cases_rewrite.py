"""The Keras-cases harness (tests/keras_cases/) rewrites Keras's test imports onto unafraid.

Checked on a small made-up test file, so no Keras checkout is needed (CI has none).
"""

from __future__ import annotations

import numpy as np
import pytest

import unafraid
from tests.keras_cases import shim
from tests.keras_cases.rewrite import rewrite

SOURCE = '''"""A Keras-style test file."""
import numpy as np
from keras.src import losses
from keras.src import testing
from keras.src.losses.losses import mean_squared_error as mse, NoSuchLoss


class LossTest(testing.TestCase):
    def test_value(self):
        import keras
        self.assertAllClose(losses.MeanSquaredError()([[1.0]], [[3.0]]), 4.0)
        return keras
'''


def rewritten_namespace() -> dict:
    namespace: dict = {}
    exec(compile(rewrite(SOURCE), "made_up_test.py", "exec"), namespace)
    return namespace


def test_rewrite_keeps_line_numbers_and_other_imports():
    out = rewrite(SOURCE)
    assert len(out.splitlines()) == len(SOURCE.splitlines())
    assert "import numpy as np" in out.splitlines()[1]
    assert "from keras" not in out and "import keras\n" not in out
    inner = "        import tests.keras_cases.shim as _keras_cases_shim; keras = "
    assert out.splitlines()[9].startswith(inner)


def test_imports_resolve_to_unafraid_or_to_a_named_placeholder():
    namespace = rewritten_namespace()
    assert namespace["losses"].MeanSquaredError is unafraid.losses.MeanSquaredError
    assert namespace["mse"] is unafraid.losses.mean_squared_error
    assert namespace["testing"].TestCase is shim.TestCase
    with pytest.raises(shim.MissingFeature, match=r"^keras\.src\.losses\.losses\.NoSuchLoss$"):
        namespace["NoSuchLoss"]()
    with pytest.raises(shim.MissingFeature, match=r"^keras\.src\.losses\.NoSuchLossEither$"):
        namespace["losses"].NoSuchLossEither(reduction=None)


def test_the_rewritten_test_runs_and_numeric_failures_are_told_apart():
    case = rewritten_namespace()["LossTest"]("test_value")
    assert case.test_value().layers.Dense is unafraid.layers.Dense  # `import keras` in a function
    with pytest.raises(shim.NumberMismatch):
        case.assertAllClose(np.array([1.0, 2.0]), [1.0, 2.1])
    with pytest.raises(AssertionError) as error:  # a wrong shape is not a different number
        case.assertAllClose(np.array([1.0, 2.0]), [1.0, 2.0, 3.0])
    assert not isinstance(error.value, shim.NumberMismatch)
    with pytest.raises(AssertionError) as error:  # a count (Keras's len(m.variables)) is not either
        case.assertEqual(0, 2)
    assert not isinstance(error.value, shim.NumberMismatch)
    case.assertAlmostEqual(0.1234, 0.1231)  # Keras's decimal=3


def test_conv_transpose_shape_helpers_agree_with_keras():
    """The shim answers Keras's conv-transpose helpers from unafraid's window: checked against
    Keras's own functions (installed with the test extra) on every valid small configuration."""
    import itertools
    import os

    os.environ.setdefault("KERAS_BACKEND", "jax")
    keras_utils = pytest.importorskip("keras.src.backend.common.backend_utils")
    checked = 0
    for n, k, s, d, padding, out_pad in itertools.product(
            [1, 3, 4], [1, 3, 4], [1, 2, 3], [1, 2], ["valid", "same"], [None, 1, 2]):
        if (out_pad is not None and out_pad >= s) or (s > 1 and d > 1):
            continue
        shape, kernel = (2, n, n + 2, 3), (k, k, 4, 3)
        assert shim.compute_conv_transpose_output_shape(shape, kernel, 4, s, padding, out_pad,
                                                        "channels_last", d) == list(
            keras_utils.compute_conv_transpose_output_shape(shape, kernel, 4, s, padding, out_pad,
                                                            "channels_last", d))
        assert shim.compute_conv_transpose_padding_args_for_jax(shape, kernel, s, padding, out_pad,
                                                                d) == [tuple(p) for p in (
            keras_utils.compute_conv_transpose_padding_args_for_jax(shape, kernel, s, padding,
                                                                    out_pad, d))]
        checked += 1
    assert checked > 100


def test_named_product_names_every_combination_as_keras_does():
    # Keras's docstring example: three named dicts times two types give six cases, named
    # "<dict>_<type>"; a keyword value is named by its __name__ or str, lower-cased
    cases = shim.named_product([{"testcase_name": "negative", "x": -1},
                                {"testcase_name": "zero", "x": 0}], numeral_type=[float, int])
    assert sorted((c["testcase_name"], c["x"], c["numeral_type"]) for c in cases) == [
        ("negative_float", -1, float), ("negative_int", -1, int),
        ("zero_float", 0, float), ("zero_int", 0, int)]
    assert [c["testcase_name"] for c in shim.named_product(mode=("int4", None))] == ["int4", "none"]
