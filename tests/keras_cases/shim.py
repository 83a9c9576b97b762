"""What a rewritten Keras test file imports instead of ``keras.src``: unafraid's objects, by Keras name.

``resolve("keras.src.losses", "Tversky")`` is ``unafraid.losses.Tversky`` when unafraid has it, and
otherwise a placeholder that raises :class:`MissingFeature` ("keras.src.losses.Tversky") as soon
as a test uses it, so only the cases that need the name fail, each naming what is missing.

``keras.src.testing.TestCase`` is :class:`TestCase` below: Keras's assertions (the same
tolerances), ``run_class_serialization_test`` and the eager part of ``run_layer_test``. Numeric
assertions that fail on arrays of the same shape raise :class:`NumberMismatch`, so the runner can
tell a different number (a defect) from a missing feature or an error.

``backend.backend()`` answers ``KERAS_BACKEND`` (default ``"jax"``, Keras's default), so the
backend-specific branches and skips of Keras's tests take the JAX path.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import tempfile
from enum import Enum
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from absl.testing import parameterized

KERAS_ROOT = Path(os.environ.get("UNAFRAID_KERAS_SOURCE", "."))  # a Keras checkout (holds keras/src)
BACKEND = os.environ.get("KERAS_BACKEND", "jax")


class MissingFeature(Exception):
    """A test used a Keras name (module, class, function or attribute) that unafraid lacks."""


class NumberMismatch(AssertionError):
    """A numeric assertion failed on arrays of the expected shape: a different number from Keras's."""


# keras.src.<package> -> the unafraid module that holds its names
PACKAGES = {
    "losses": "unafraid.losses", "metrics": "unafraid.metrics", "optimizers": "unafraid.optimizers",
    "activations": "unafraid.activations", "layers": "unafraid.layers", "models": "unafraid.models",
    "initializers": "unafraid.initializers", "constraints": "unafraid.constraints",
    "regularizers": "unafraid.regularizers", "callbacks": "unafraid.callbacks",
    "ops": "unafraid.keras.ops", "saving": "unafraid.keras.saving", "utils": "unafraid.keras.utils",
    "random": "unafraid.keras.random",
}
SUBPACKAGES = {"optimizers.schedules": "unafraid.schedules"}


def _keras_path_exists(dotted: str) -> bool:
    """Whether ``dotted`` (``keras.src.metrics.regression_metrics``) is a module or package."""
    path = KERAS_ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


class Missing:
    """Stands for a Keras name unafraid lacks; any use raises MissingFeature naming it."""

    def __init__(self, name: str):
        object.__setattr__(self, "_name", name)

    def _fail(self, *args: Any, **kwargs: Any) -> Any:
        raise MissingFeature(object.__getattribute__(self, "_name"))

    __call__ = __iter__ = __len__ = __getitem__ = __bool__ = __mro_entries__ = _fail

    def __getattr__(self, attr: str) -> Any:
        return self._fail()

    def __repr__(self) -> str:
        return f"<missing {object.__getattribute__(self, '_name')}>"


class Namespace:
    """A Keras module path served by an unafraid module; unknown names become ``Missing``."""

    def __init__(self, keras_name: str, target: Any, extra: dict[str, Any] | None = None):
        self._keras_name, self._target, self._extra = keras_name, target, extra or {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return resolve(self._keras_name, name, self)

    def __repr__(self) -> str:
        return f"<{self._keras_name} served by {getattr(self._target, '__name__', self._target)}>"


def _test_module(keras_module: str) -> ModuleType:
    """Another Keras test file (a test may import helpers from one), rewritten and imported."""
    from tests.keras_cases.rewrite import rewrite

    if keras_module not in TEST_MODULES:
        path = KERAS_ROOT.joinpath(*keras_module.split(".")).with_suffix(".py")
        module = ModuleType(keras_module)
        module.__file__ = str(path)
        TEST_MODULES[keras_module] = module
        exec(compile(rewrite(path.read_text(encoding="utf-8")), str(path), "exec"), module.__dict__)
    return TEST_MODULES[keras_module]


TEST_MODULES: dict[str, ModuleType] = {}


def _einsum_dense_module() -> Namespace:
    """Keras's einsum_dense module: unafraid.layers, and its equation analysis by Keras's name."""
    einsum_dense = importlib.import_module("unafraid.layers.einsum_dense")
    return Namespace("keras.src.layers.core.einsum_dense", importlib.import_module("unafraid.layers"),
                     {"_analyze_einsum_string": einsum_dense.analyze_einsum_string})


# Keras modules whose private helpers a test imports, each answered by unafraid's own helper
MODULE_EXTRAS = {"keras.src.layers.core.einsum_dense": _einsum_dense_module}


def _target_for(keras_module: str) -> Any:
    """The object serving ``keras_module`` (``keras``, ``keras.src.losses.losses``, ...), or None."""
    if keras_module == "conftest":
        return CONFTEST
    if keras_module.endswith("_test") and _keras_path_exists(keras_module):
        return _test_module(keras_module)
    if keras_module in ("keras", "keras.src"):
        return importlib.import_module("unafraid.keras")
    names = keras_module.split(".")
    parts = names[2:] if keras_module.startswith("keras.src.") else names[1:]
    if not parts:
        return None
    if parts[0] == "testing":
        return TESTING
    if parts[0] == "backend":
        return BACKEND_NAMESPACE
    if parts[0] == "dtype_policies":
        return DTYPE_POLICIES
    if parts[:2] == ["metrics", "metrics_utils"]:
        return METRICS_UTILS
    if keras_module in MODULE_EXTRAS:
        return MODULE_EXTRAS[keras_module]()
    for depth in (2, 1):
        key = ".".join(parts[:depth])
        if key in SUBPACKAGES:
            return importlib.import_module(SUBPACKAGES[key])
        if depth == 1 and key in PACKAGES:
            return importlib.import_module(PACKAGES[key])
    return None


def resolve_module(keras_module: str) -> Any:
    """What ``import keras...`` binds."""
    target = _target_for(keras_module)
    if isinstance(target, Namespace):
        return target
    return Namespace(keras_module, target) if target is not None else Missing(keras_module)


def resolve(keras_module: str, name: str, namespace: Namespace | None = None) -> Any:
    """What ``from keras_module import name`` binds."""
    full = f"{keras_module}.{name}"
    namespace = namespace or resolve_module(keras_module)
    if isinstance(namespace, Missing):
        return Missing(full)
    if name in namespace._extra:
        return namespace._extra[name]
    top = keras_module in ("keras", "keras.src")
    if top or _keras_path_exists(full):  # a Keras package or module
        sub = _target_for(full)
        if isinstance(sub, Namespace):
            return sub
        if sub is not None:
            return Namespace(full, sub)
        if _keras_path_exists(full):  # a Keras package unafraid has no counterpart for, or a
            return Missing(full) if top else Namespace(full, namespace._target)  # submodule
    try:
        found = getattr(namespace._target, name)
    except AttributeError:
        return Missing(full)
    return Namespace(full, found) if isinstance(found, ModuleType) else found


# ---- keras.src.backend: unafraid.keras.backend plus the test-infrastructure helpers -----------------

def convert_to_numpy(x: Any) -> np.ndarray:
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "numpy") and callable(x.numpy):
        return np.asarray(x.numpy())
    if isinstance(x, list | tuple) and any(hasattr(v, "numpy") for v in x):
        return np.asarray([convert_to_numpy(v) for v in x])
    return np.asarray(x)


def standardize_dtype(dtype: Any) -> str:
    if dtype is None:
        return "float32"
    if dtype is int:
        return "int32"
    if dtype is float:
        return "float32"
    if dtype is bool:
        return "bool"
    return np.dtype(getattr(dtype, "name", dtype) if not isinstance(dtype, str) else dtype).name


def is_tensor(x: Any) -> bool:
    from unafraid.engine import Tensor
    return isinstance(x, Tensor)


def _transpose_window(input_shape: Any, kernel_size: Any, strides: Any, padding: str,
                      output_padding: Any, dilation_rate: Any, data_format: str = "channels_last"):
    """unafraid's window of a transposed convolution (``conv_transpose_window``), from Keras's
    arguments (ints or per-axis tuples)."""
    from unafraid.engine.convolution import conv_transpose_window

    nd = len(input_shape) - 2
    per_axis = lambda v: None if v is None else (tuple(v) if isinstance(v, list | tuple)  # noqa: E731
                                                 else (int(v),) * nd)
    spatial = tuple(input_shape[1:-1] if data_format == "channels_last" else input_shape[2:])
    return conv_transpose_window(spatial, tuple(kernel_size[:nd]), per_axis(strides),
                                 padding.lower(), per_axis(output_padding), per_axis(dilation_rate))


def compute_conv_transpose_output_shape(input_shape, kernel_size, filters, strides, padding,
                                        output_padding=None, data_format="channels_last",
                                        dilation_rate=1):
    """Keras's helper, answered by unafraid's ``conv_transpose_window`` (the output length is the
    length of the input of the convolution the transposed one transposes)."""
    spatial = list(_transpose_window(input_shape, kernel_size, strides, padding, output_padding,
                                     dilation_rate, data_format).in_size)
    if data_format == "channels_last":
        return [input_shape[0], *spatial, filters]
    return [input_shape[0], filters, *spatial]


def compute_conv_transpose_padding_args_for_jax(input_shape, kernel_shape, strides, padding,
                                                output_padding, dilation_rate):
    """Keras's helper, answered by unafraid's ``conv_transpose_window``: a transposed convolution
    is a stride-1 convolution (window ``span``) of the input dilated by the stride, padded by
    ``(left, right)``; ``left = span - 1 - pad_before`` of the forward convolution, and ``right``
    makes the length come out: ``out = (n - 1) s + 1 + left + right - span + 1``."""
    win = _transpose_window(input_shape, kernel_shape, strides, padding, output_padding,
                            dilation_rate)
    pads = []
    for n, out, s, span, before in zip(win.out_size, win.in_size, win.strides, win.span,
                                       win.pad_before, strict=True):
        left = span - 1 - before
        pads.append((left, out - (n - 1) * s - 2 - left + span))
    return pads


BACKEND_NAMESPACE = Namespace(
    "keras.src.backend", importlib.import_module("unafraid.keras.backend"),
    {"backend": lambda: BACKEND, "convert_to_numpy": convert_to_numpy, "is_tensor": is_tensor,
     "standardize_dtype": standardize_dtype,
     # the same objects as keras.ops.convert_to_tensor and keras.KerasTensor
     "convert_to_tensor": importlib.import_module("unafraid.keras.ops").convert_to_tensor,
     "KerasTensor": importlib.import_module("unafraid.layers").KerasTensor,
     # the active backend's NumPy-like ops (``backend.numpy.zeros``): keras.ops's
     "numpy": Namespace("keras.src.backend.numpy", importlib.import_module("unafraid.keras.ops")),
     "standardize_shape": lambda shape: tuple(None if d is None else int(d) for d in shape),
     # unafraid has no sparse or ragged tensors: Keras skips those cases, as on its NumPy backend
     "SUPPORTS_SPARSE_TENSORS": False, "SUPPORTS_RAGGED_TENSORS": False,
     # unafraid's symbolic call: a layer (or op) called on KerasTensors returns the output's spec
     "compute_output_spec": lambda fn, *args, **kwargs: fn(*args, **kwargs),
     # keras.src.backend.common.backend_utils: conv-transpose shape helpers from unafraid's window
     "compute_conv_transpose_output_shape": compute_conv_transpose_output_shape,
     "compute_conv_transpose_padding_args_for_jax": compute_conv_transpose_padding_args_for_jax})


# ---- keras.src.testing.TestCase -------------------------------------------------------------------

def _numbers(actual: Any, desired: Any) -> tuple[np.ndarray, np.ndarray]:
    return convert_to_numpy(actual), convert_to_numpy(desired)


def _numeric_failure(check, actual: np.ndarray, desired: np.ndarray, **kwargs: Any) -> None:
    """Run ``check``; a failure on same-shaped numeric arrays is a NumberMismatch."""
    try:
        check(actual, desired, **kwargs)
    except AssertionError as error:
        same_shape = np.shape(actual) == np.shape(desired)
        numeric = all(np.asarray(v).dtype.kind in "biufc" for v in (actual, desired))
        if same_shape and numeric:
            raise NumberMismatch(str(error)) from None
        raise


def _is_float(value: Any) -> bool:
    return isinstance(value, float | np.floating) or (
        isinstance(value, np.ndarray) and value.dtype.kind == "f")


def _to_json(value: Any) -> str:
    def encode(obj: Any) -> Any:
        if isinstance(obj, tuple):
            return {"__tuple__": True, "items": [encode(v) for v in obj]}
        if isinstance(obj, list):
            return [encode(v) for v in obj]
        if isinstance(obj, dict):
            return {k: encode(v) for k, v in obj.items()}
        if isinstance(obj, np.generic):
            return obj.item()
        return obj
    return json.dumps(encode(value), sort_keys=True, default=repr)


class TestCase(parameterized.TestCase):
    """Keras's ``testing.TestCase``: the same assertions and tolerances, on unafraid's objects."""

    maxDiff = None

    def setUp(self) -> None:
        """Keras's: clear the global state (the layer and optimizer name counters) before each case."""
        super().setUp()
        importlib.import_module("unafraid.keras.backend").clear_session()

    def get_temp_dir(self) -> str:
        temp_dir = tempfile.mkdtemp()
        self.addCleanup(lambda: shutil.rmtree(temp_dir))
        return temp_dir

    def convert_to_numpy(self, x: Any) -> np.ndarray:
        return convert_to_numpy(x)

    def assertAllClose(self, actual, desired, atol=1e-6, rtol=1e-6, tpu_atol=None, tpu_rtol=None,
                       msg=None):
        _numeric_failure(np.testing.assert_allclose, *_numbers(actual, desired), atol=atol, rtol=rtol,
                         err_msg=msg or "")

    def assertNotAllClose(self, x1, x2, atol=1e-6, rtol=1e-6, msg=None):
        try:
            self.assertAllClose(x1, x2, atol=atol, rtol=rtol)
        except AssertionError:
            return
        raise AssertionError(f"The two values are close at all elements. {msg or ''} Values: {x1}")

    def assertAlmostEqual(self, actual, desired, decimal=3, tpu_decimal=None, msg=None, **kwargs):
        if "places" in kwargs or "delta" in kwargs:  # unittest's own signature
            return super().assertAlmostEqual(actual, desired, msg=msg, **kwargs)
        _numeric_failure(np.testing.assert_almost_equal, *_numbers(actual, desired), decimal=decimal,
                         err_msg=msg or "")

    def assertAllEqual(self, actual, desired, msg=None):
        _numeric_failure(np.testing.assert_array_equal, *_numbers(actual, desired), err_msg=msg or "")

    def assertEqual(self, first, second, msg=None):
        if _is_float(first) and _is_float(second):  # a computed value; a count is a plain assertion
            _numeric_failure(np.testing.assert_array_equal, np.asarray(first), np.asarray(second),
                             err_msg=msg or "")
            return
        super().assertEqual(first, second, msg=msg)

    def assertLen(self, iterable, expected_len, msg=None):
        self.assertEqual(len(iterable), expected_len, msg=msg)

    def assertDType(self, x, dtype, msg=None):
        x_dtype = standardize_dtype(x.dtype if hasattr(x, "dtype") else type(x))
        self.assertEqual(x_dtype, standardize_dtype(dtype), msg=msg)

    def assertSparse(self, x, sparse=True):
        raise MissingFeature("sparse tensors")

    def assertRagged(self, x, ragged=True):
        raise MissingFeature("ragged tensors")

    def run_class_serialization_test(self, instance, custom_objects=None):
        """Keras's check: get_config / from_config, then serialize / deserialize, give the same config.

        The second round trip uses ``keras.saving.serialize_keras_object`` when unafraid has it, and
        otherwise the family's own ``serialize`` / ``deserialize`` (``keras.losses.serialize``, ...).
        """
        cls = instance.__class__
        config = instance.get_config()
        revived = cls.from_config(config)
        self.assertEqual(_to_json(config), _to_json(revived.get_config()))
        serialize, deserialize = _serializers(instance)
        serialized = json.loads(json.dumps(serialize(instance), default=repr))
        revived = deserialize(serialized, custom_objects) if custom_objects else deserialize(serialized)
        self.assertEqual(_to_json(config), _to_json(revived.get_config()))
        return revived

    def run_layer_test(self, layer_cls, init_kwargs, input_shape=None, input_dtype=None,
                       input_sparse=False, input_ragged=False, input_data=None, call_kwargs=None,
                       expected_output_shape=None, expected_output_dtype=None,
                       expected_output_sparse=False, expected_output_ragged=False, expected_output=None,
                       expected_num_trainable_weights=None, expected_num_non_trainable_weights=None,
                       expected_num_non_trainable_variables=None, expected_num_seed_generators=None,
                       expected_num_losses=None, supports_masking=None, expected_mask_shape=None,
                       custom_objects=None, run_training_check=True, run_mixed_precision_check=True,
                       assert_built_after_instantiation=False, tpu_atol=None, tpu_rtol=None):
        """The eager part of Keras's ``run_layer_test``: serialization, ``supports_masking``, one call
        on the given data (or seeded uniform data of ``input_shape``), the weight and loss counts, the
        output's shape, dtype and values, and the mask's shape. Not run: the symbolic call, the
        training step and the mixed-precision call (they check Keras's tracing machinery)."""
        if input_sparse or input_ragged or expected_output_sparse or expected_output_ragged:
            raise MissingFeature("sparse or ragged tensors")
        init_kwargs, call_kwargs = init_kwargs or {}, call_kwargs or {}
        self.run_class_serialization_test(layer_cls(**init_kwargs), custom_objects)
        layer = layer_cls(**init_kwargs)
        if supports_masking is not None:
            self.assertEqual(layer.supports_masking, supports_masking)
        if input_data is None and input_shape is None:
            return
        if input_data is None:
            input_data = _eager_inputs(input_shape, input_dtype)
        output = layer(**input_data, **call_kwargs) if isinstance(input_data, dict) else layer(
            input_data, **call_kwargs)
        self.assertTrue(layer.built)
        for expected, weights in ((expected_num_trainable_weights, "trainable_weights"),
                                  (expected_num_non_trainable_weights, "non_trainable_weights"),
                                  (expected_num_non_trainable_variables, "non_trainable_variables")):
            if expected is not None:
                self.assertLen(getattr(layer, weights), expected, msg=f"number of {weights}")
        if expected_num_losses is not None:
            self.assertLen(layer.losses, expected_num_losses, msg="number of losses")
        if expected_output_shape is not None:
            _check_shapes(self, expected_output_shape, output)
        if expected_output_dtype is not None:
            outputs = output if isinstance(output, list | tuple) else [output]
            for out in outputs:
                self.assertDType(out, expected_output_dtype)
        if expected_output is not None:
            self.assertAllClose(output, expected_output, atol=1e-6 if tpu_atol is None else 1e-6)
        if expected_mask_shape is not None:
            mask = layer.compute_mask(input_data, None)
            self.assertEqual(tuple(np.shape(convert_to_numpy(mask))), tuple(expected_mask_shape))


def _serializers(instance: Any):
    saving = importlib.import_module("unafraid.keras.saving")
    if hasattr(saving, "serialize_keras_object") and hasattr(saving, "deserialize_keras_object"):
        return saving.serialize_keras_object, saving.deserialize_keras_object
    for family in ("losses", "metrics", "optimizers", "layers", "initializers", "regularizers",
                   "constraints", "activations", "schedules"):
        module = importlib.import_module(f"unafraid.{family}")
        base = {"losses": "Loss", "metrics": "Metric", "optimizers": "Optimizer", "layers": "Layer",
                "initializers": "Initializer", "regularizers": "Regularizer", "constraints": "Constraint",
                "schedules": "LearningRateSchedule"}.get(family)
        cls = getattr(module, base, None) if base else None
        if cls is not None and isinstance(instance, cls):
            if not (hasattr(module, "serialize") and hasattr(module, "deserialize")):
                raise MissingFeature(f"keras.{family}.serialize / deserialize")
            return module.serialize, module.deserialize
    raise MissingFeature(f"keras.saving.serialize_keras_object for {type(instance).__name__}")


def _eager_inputs(shape: Any, dtype: Any) -> Any:
    rng = np.random.default_rng(1337)
    if isinstance(shape, dict):
        return {k: _eager_inputs(v, (dtype or {}).get(k)) for k, v in shape.items()}
    if isinstance(shape, list) or (isinstance(shape, tuple) and shape and isinstance(shape[0], tuple)):
        dtypes = dtype or [None] * len(shape)
        return type(shape)(_eager_inputs(s, d) for s, d in zip(shape, dtypes, strict=True))
    dt = standardize_dtype(dtype or "float32")
    if np.dtype(dt).kind in "iu":
        return rng.integers(0, 2, size=shape).astype(dt)
    return rng.uniform(size=shape).astype(dt)


def _check_shapes(case: TestCase, expected: Any, output: Any) -> None:
    if isinstance(expected, dict):
        for key, shape in expected.items():
            _check_shapes(case, shape, output[key])
        return
    if isinstance(expected, list) or (isinstance(expected, tuple) and expected
                                      and isinstance(expected[0], tuple)):
        case.assertLen(output, len(expected))
        for shape, out in zip(expected, output, strict=True):
            _check_shapes(case, shape, out)
        return
    shape = tuple(np.shape(convert_to_numpy(output)))
    case.assertEqual(len(shape), len(expected), msg=f"rank of output shape {shape}, expected {expected}")
    for got, want in zip(shape, expected, strict=True):
        if want is not None:
            case.assertEqual(got, want, msg=f"output shape {shape}, expected {expected}")


def _false() -> bool:
    return False


def named_product(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
    """Keras's ``testing.test_utils.named_product``: every combination of the given parameter
    sets (dicts with a ``testcase_name``) and keyword values, named by joining the parts' names."""
    def name(value: Any) -> str:
        return (value.__name__ if hasattr(value, "__name__") else str(value)).lower()

    groups = [*args, *([{"testcase_name": name(v), key: v} for v in values]
                       for key, values in kwargs.items())]
    tests: list[dict[str, Any]] = [{}]
    for group in groups:
        tests = [{**test, **part, "testcase_name": "_".join(
            n for n in (test.get("testcase_name", ""), part["testcase_name"]) if n)}
            for part in group for test in tests]
    return tests


TESTING = Namespace("keras.src.testing", ModuleType("keras_cases_testing"), {
    "TestCase": TestCase, "named_product": named_product, "uses_gpu": _false, "uses_tpu": _false,
    "jax_uses_gpu": _false, "jax_uses_tpu": _false, "tensorflow_uses_gpu": _false,
    "tensorflow_uses_tpu": _false, "torch_uses_gpu": _false})


def skip_if_backend(given_backend: str, reason: str) -> Any:
    """Keras's ``conftest.skip_if_backend``."""
    import pytest

    return pytest.mark.skipif(BACKEND == given_backend, reason=reason)


CONFTEST = Namespace("conftest", ModuleType("keras_cases_conftest"), {"skip_if_backend": skip_if_backend})


# ---- Keras-internal attributes Keras's tests read, mapped onto unafraid's public ones -------------
# The optimizers' from state_dict() under Keras's private names (copies: reading only).

class _StateArray(np.ndarray):
    """One optimizer state array (a copy, or for the EMA averages the live array), with Keras's
    ``.numpy()`` and ``.assign()``."""

    def numpy(self) -> np.ndarray:
        return np.array(self)

    def assign(self, value: Any) -> None:
        self[...] = np.asarray(value)


def _moving_averages(optimizer: Any) -> list[Any]:
    """Keras's ``_model_variables_moving_average``: per built variable, its live EMA average
    (``optimizer.moving_averages()``), None where it has none."""
    averages = {id(var): average for var, average in optimizer.moving_averages()}
    return [averages[id(v)].view(_StateArray) if id(v) in averages else None
            for v in optimizer.built_variables]


def _per_variable(slot: str) -> property:
    """Keras's per-variable list of a slot, as copies (``_accumulated_gradients``:
    ``'gradient_accumulator'``); None where unafraid keeps none for a variable, as Keras does."""
    def get(optimizer: Any) -> list[Any]:
        state = optimizer.state_dict()
        return [state[f"{i}/{slot}"].view(_StateArray) if f"{i}/{slot}" in state else None
                for i in range(len(optimizer.built_variables))]
    return property(get)


def _install_private_attributes() -> None:
    optimizers = importlib.import_module("unafraid.optimizers")
    names = {"_model_variables_moving_average": (optimizers.Optimizer, property(_moving_averages)),
             "_accumulated_gradients": (optimizers.Optimizer, _per_variable("gradient_accumulator")),
             "_u_product": (optimizers.Nadam,  # Nadam's product of momentum coefficients
                            property(lambda opt: opt.state_dict()["u_product"].view(_StateArray)))}
    layers = importlib.import_module("unafraid.layers")  # where Keras keeps the weight itself
    names["_embeddings"] = (layers.Embedding, property(lambda layer: layer.embeddings))
    metrics = importlib.import_module("unafraid.metrics")
    names["_from_logits"] = (metrics.AUC, property(lambda auc: auc.from_logits))
    names["_build"] = (metrics.FBetaScore, metrics.FBetaScore.build)
    callbacks = importlib.import_module("unafraid.callbacks")  # what TensorBoard writes each epoch
    names["_collect_learning_rate"] = (
        callbacks.TensorBoard, lambda tb, logs: callbacks.log_learning_rates(tb.model.optimizer, logs))
    for name, (cls, prop) in names.items():
        if not hasattr(cls, name):
            setattr(cls, name, prop)
    for cls in (layers.Dense, layers.EinsumDense):  # Keras's `_kernel`: the kernel itself
        if not hasattr(cls, "_kernel"):
            cls._kernel = property(lambda layer: layer.kernel)


_install_private_attributes()


# ---- keras.src.metrics.metrics_utils: Keras's AUC enums, as the strings unafraid's AUC keeps ------

class AUCCurve(str, Enum):
    """Keras's curve names; equal to the strings ``AUC.curve`` holds (``'ROC'``, ``'PR'``...)."""

    ROC = "ROC"
    PR = "PR"
    PRGAIN = "PRGAIN"


class AUCSummationMethod(str, Enum):
    """Keras's summation methods; equal to the strings ``AUC.summation_method`` holds."""

    INTERPOLATION = "interpolation"
    MAJORING = "majoring"
    MINORING = "minoring"


METRICS_UTILS = Namespace("keras.src.metrics.metrics_utils", importlib.import_module("unafraid.metrics"),
                          {"AUCCurve": AUCCurve, "AUCSummationMethod": AUCSummationMethod})


# ---- keras.src.dtype_policies: unafraid's one global policy, floatx (float32) ---------------------

def _set_dtype_policy(policy: Any) -> None:
    """Keras's ``set_dtype_policy``: unafraid's policy is float32 (``floatx``) and stays so."""
    if policy != "float32":
        raise MissingFeature(f"keras.src.dtype_policies.set_dtype_policy({policy!r}): "
                             f"mixed-precision dtype policies")


_FLOATX = importlib.import_module("unafraid.keras.backend").floatx
DTYPE_POLICIES = Namespace("keras.src.dtype_policies", ModuleType("keras_cases_dtype_policies"), {
    "dtype_policy": Namespace("keras.src.dtype_policies.dtype_policy",
                              ModuleType("keras_cases_dtype_policy"),
                              {"dtype_policy": _FLOATX, "set_dtype_policy": _set_dtype_policy})})
