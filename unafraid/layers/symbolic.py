"""Operations on symbolic tensors: ``tf.reduce_mean(z - tf.square(m))`` in a functional model.

tf.keras 2 and Keras 3 let a functional model apply ``tf.*`` / ``keras.ops`` functions and
Python operators to the symbolic tensors of ``keras.Input``::

    inputs = keras.Input(shape=(3,))
    z = keras.layers.Dense(2)(inputs)
    penalty = -0.5 * tf.reduce_mean(z - tf.square(z) - tf.exp(z) + 1)

Each such call becomes one :class:`OpLayer` (tf.keras 2's ``TFOpLambda``): a layer without
weights that remembers the function and its other arguments, and runs the same function on
real Tensors when the model runs. Its output shape is found by running the function on zeros
(batch sizes 2 and 3: an axis whose length follows the batch is the batch axis, ``None``).

A model holding ``OpLayer`` s saves as data, never code: each layer is written as its op's name
and its constant arguments (numbers, strings, lists, tuples, slices, dtypes, numeric arrays), and
loading looks the name up in a fixed table of unafraid's ops (:func:`resolve_op`). An argument
that is not such data (a Python function, an object) makes saving refuse, naming the layer.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from ..engine import ops
from ..engine.tensor import Tensor, Variable, no_grad
from .base import KerasTensor, Layer, Node, inferring_shapes, snake_case, unique_name


class Slot:
    """Where the ``i``-th symbolic input goes in an op's arguments."""

    def __init__(self, index: int) -> None:
        self.index = index

    def __repr__(self) -> str:
        return f"<input {self.index}>"


def has_symbolic(args: Any, kwargs: dict[str, Any] | None = None) -> bool:
    """Whether a KerasTensor is among ``args`` / ``kwargs`` (or inside a list, tuple or dict of them)."""
    values = list(args) + list((kwargs or {}).values())
    while values:
        v = values.pop()
        if isinstance(v, KerasTensor):
            return True
        if isinstance(v, list | tuple):
            values.extend(v)
        elif isinstance(v, dict):
            values.extend(v.values())
    return False


def _template(value: Any, found: list[KerasTensor]) -> Any:
    """``value`` with each KerasTensor replaced by a :class:`Slot` (appended to ``found``)."""
    if isinstance(value, KerasTensor):
        found.append(value)
        return Slot(len(found) - 1)
    if isinstance(value, list | tuple):
        items = [_template(v, found) for v in value]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, dict):
        return {k: _template(v, found) for k, v in value.items()}
    return value


def _fill(template: Any, inputs: list[Any]) -> Any:
    """The arguments with each Slot replaced by its real input."""
    if isinstance(template, Slot):
        return inputs[template.index]
    if isinstance(template, list | tuple):
        items = [_fill(v, inputs) for v in template]
        return items if isinstance(template, list) else tuple(items)
    if isinstance(template, dict):
        return {k: _fill(v, inputs) for k, v in template.items()}
    return template


class OpLayer(Layer):
    """A function applied to symbolic tensors, as a layer of a functional model (``TFOpLambda``).

    Made by :func:`symbolic_call`, not by hand. ``call(inputs)`` runs
    ``function(*args, **kwargs)`` with the symbolic tensors of the arguments replaced by the real
    ``inputs`` (a list, in the order they appear in the arguments).

    Parameters
    ----------
    op : str
        The function's public name (``"tf.reduce_mean"``, ``"keras.ops.mean"``,
        ``"tf.math.multiply"`` for ``*``), which is also the start of the layer's name.
    function : callable
        Run on real Tensors.
    args, kwargs
        The call's arguments, with :class:`Slot` placeholders for the symbolic inputs.
    """

    def __init__(self, op: str, function: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                 name: str | None = None) -> None:
        super().__init__(name=name or unique_name(snake_case(op.replace("__", "").replace(".", "_"))))
        self.op, self.function = op, function
        self.op_args, self.op_kwargs = args, kwargs
        self.found_shape: Any = None
        self.built = True

    def __call__(self, inputs: Any, *args: Any, training: bool | None = None, **kwargs: Any) -> Any:
        if has_symbolic([inputs]):
            return self._call_symbolic(inputs, training, {})
        return self.call(inputs)

    def call(self, inputs: Any) -> Any:
        inputs = list(inputs)
        out = self.function(*_fill(self.op_args, inputs), **_fill(self.op_kwargs, inputs))
        if isinstance(out, list | tuple):
            return [o if isinstance(o, Tensor) else Tensor(np.asarray(o)) for o in out]
        return out if isinstance(out, Tensor) else Tensor(np.asarray(out))

    def _call_symbolic(self, inputs: Any, training: Any, kwargs: dict[str, Any]) -> Any:
        shapes, dtypes = self._infer(inputs)
        self.found_shape, self._build_shape = shapes, [t.shape for t in inputs]
        node = Node(self, list(inputs), {"training": training})
        if isinstance(shapes, list):
            node.output_tensors = [KerasTensor(s, d, node, i)
                                   for i, (s, d) in enumerate(zip(shapes, dtypes, strict=True))]
        else:
            node.output_tensors = KerasTensor(shapes, dtypes, node)
        return node.output_tensors

    def _infer(self, inputs: list[KerasTensor]) -> tuple[Any, Any]:
        """Output shape(s) and dtype(s): the op run on zeros with batch sizes 2 and 3."""
        runs = [self._run_on_zeros(inputs, batch) for batch in (2, 3)]
        many = isinstance(runs[0], list)
        outs = list(zip(*runs, strict=True)) if many else [tuple(runs)]
        shapes, dtypes = [], []
        for a, b in outs:
            if a.ndim != b.ndim:
                raise ValueError(f"{self.op} on symbolic tensors: its output has {a.ndim} axes for "
                                 f"a batch of 2 and {b.ndim} for a batch of 3, so the model cannot "
                                 f"know its shape. Write a Layer subclass whose call() does this.")
            shapes.append(tuple(None if m != n else m for m, n in zip(a.shape, b.shape, strict=True)))
            dtypes.append(str(a.dtype))
        return (shapes, dtypes) if many else (shapes[0], dtypes[0])

    def _run_on_zeros(self, inputs: list[KerasTensor], batch: int) -> Any:
        zeros = [Tensor(np.zeros(tuple(batch if d is None else d for d in t.shape), t.dtype))
                 for t in inputs]
        try:
            with no_grad(), inferring_shapes(), np.errstate(all="ignore"):
                return self.call(zeros)
        except Exception as e:
            shapes = [t.shape for t in inputs]
            said = _with_context(e, f"{self.op} on symbolic tensors of shapes {shapes} (run on "
                                    f"zeros to find its output shape) failed: {e}")
            if said is e:
                raise
            raise said from e

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The output shape found when the layer was called on symbolic tensors."""
        if self.found_shape is None:
            raise AttributeError(f"Layer '{self.name}' ({self.op}) has not been called on symbolic "
                                 f"tensors, so its output shape is unknown.")
        return self.found_shape

    def get_config(self) -> dict[str, Any]:
        """The op's name and its constant arguments, as data (never code)."""
        def encode(value: Any) -> Any:
            return encode_argument(value, f"layer '{self.name}' ({self.op})")
        return {"name": self.name, "op": self.op, "args": encode(list(self.op_args)),
                "kwargs": encode(self.op_kwargs)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> OpLayer:
        """Re-create the layer: its function is looked up by name in a fixed table of unafraid's
        ops (``resolve_op``); its arguments are data."""
        op = config["op"]
        args, kwargs = decode_argument(config["args"]), decode_argument(config["kwargs"])
        if not isinstance(args, list) or not isinstance(kwargs, dict):
            raise ValueError(f"op layer '{config.get('name')}': malformed arguments in the file.")
        return cls(op, resolve_op(op), tuple(args), kwargs, name=config.get("name"))


def resolve_op(op: Any) -> Any:
    """The function an op layer named ``op`` runs, from the fixed table of unafraid's ops that
    accept symbolic tensors (``tf.*``, ``keras.ops.*``, the operators); nothing else."""
    if op in OPERATOR_OPS:
        return OPERATOR_OPS[op]
    import importlib
    for module in ("unafraid", "unafraid.keras.ops"):  # importing them fills the table
        importlib.import_module(module)
    table = sys.modules["unafraid.tf_ops"].SYMBOLIC_OPS
    if not isinstance(op, str) or op not in table:
        raise ValueError(f"The model file names an op {str(op)[:100]!r} that is not one of "
                         f"unafraid's ops on symbolic tensors ({len(table) + len(OPERATOR_OPS)} "
                         f"of them, e.g. 'tf.reduce_mean', 'keras.ops.mean').")
    return table[op]


_MARKERS = ("input", "tuple", "dict", "slice", "ellipsis", "dtype", "array", "float")


def encode_argument(value: Any, who: str) -> Any:
    """A constant argument of an op as JSON data: numbers, strings, None, lists, and marked
    dicts for tuples, dicts, slices, ``...``, dtypes, arrays and the symbolic inputs."""
    def enc(v: Any) -> Any:
        if isinstance(v, Slot):
            return {"input": v.index}
        if v is None or isinstance(v, bool | int | str):
            return v
        if isinstance(v, float | np.floating):
            return float(v) if np.isfinite(v) else {"float": str(float(v))}  # JSON has no inf
        if isinstance(v, np.bool_ | np.integer):
            return v.item()
        if isinstance(v, list):
            return [enc(a) for a in v]
        if isinstance(v, tuple):
            return {"tuple": [enc(a) for a in v]}
        if isinstance(v, dict) and all(isinstance(k, str) for k in v):
            return {"dict": {k: enc(a) for k, a in v.items()}}
        if isinstance(v, slice):
            return {"slice": [enc(v.start), enc(v.stop), enc(v.step)]}
        if v is Ellipsis:
            return {"ellipsis": True}
        if isinstance(v, np.dtype) or (isinstance(v, type) and issubclass(v, np.generic)):
            return {"dtype": np.dtype(v).name}
        if isinstance(v, Tensor | np.ndarray) and not isinstance(v, Variable) and \
                np.asarray(v).dtype.kind in "biuf":
            a = np.asarray(v)
            return {"array": a.tolist(), "dtype": a.dtype.name}
        raise ValueError(
            f"Cannot save {who}: one of its constant arguments is a {type(v).__name__}, which a "
            f"model file cannot hold as data (numbers, strings, lists, tuples, slices, dtypes and "
            f"numeric arrays can be saved). Move the computation into a small Layer subclass "
            f"(class MyOp(keras.layers.Layer): def call(self, x): return ...), or save the weights "
            f"only with model.save_weights(path).")
    return enc(value)


def decode_argument(value: Any) -> Any:
    """The inverse of :func:`encode_argument` (a malformed entry raises ValueError)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [decode_argument(a) for a in value]
    if not (isinstance(value, dict) and len(value) in (1, 2) and next(iter(value)) in _MARKERS):
        raise ValueError(f"Malformed op argument in the model file: {str(value)[:200]}")
    kind, body = next(iter(value.items()))
    if kind == "input" and isinstance(body, int) and body >= 0:
        return Slot(body)
    if kind == "tuple" and isinstance(body, list):
        return tuple(decode_argument(a) for a in body)
    if kind == "dict" and isinstance(body, dict):
        return {str(k): decode_argument(a) for k, a in body.items()}
    if kind == "slice" and isinstance(body, list) and len(body) == 3:
        return slice(*(decode_argument(a) for a in body))
    if kind == "ellipsis":
        return Ellipsis
    if kind == "float" and body in ("inf", "-inf", "nan"):
        return float(body)
    if kind == "dtype" and isinstance(body, str):
        return _numeric_dtype(body)
    if kind == "array":
        dtype = _numeric_dtype(value.get("dtype"))
        return np.asarray(body, dtype)
    raise ValueError(f"Malformed op argument in the model file: {str(value)[:200]}")


def _numeric_dtype(name: Any) -> np.dtype:
    dtype = np.dtype(name) if isinstance(name, str) and name.isidentifier() else None
    if dtype is None or dtype.kind not in "biuf":
        raise ValueError(f"The model file names a dtype {str(name)[:50]!r}; expected a numeric one.")
    return dtype


def _with_context(error: Exception, message: str) -> Exception:
    """The same kind of error with ``message`` (the error itself when its class needs more)."""
    try:
        return type(error)(message)
    except TypeError:
        return error


def symbolic_call(op: str, function: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``function(*args, **kwargs)`` where some arguments are symbolic: a new :class:`OpLayer`
    called on them, giving symbolic output(s) of the shape(s) the function gives.

    Examples
    --------
    >>> import unafraid as tf
    >>> x = tf.keras.Input((3,))
    >>> y = tf.reduce_sum(tf.square(x), axis=1)     # symbolic_call("tf.reduce_sum", ...) inside
    >>> y.shape
    (None,)
    """
    found: list[KerasTensor] = []
    template_args = _template(tuple(args), found)
    template_kwargs = _template(dict(kwargs), found)
    return OpLayer(op, function, template_args, template_kwargs)(found)


# ---- Python operators on KerasTensor --------------------------------------------------------------
# method name -> the op's name (as tf.keras 2 names these layers) and the engine op it runs
_OPERATORS = {"add": ("tf.math.add", ops.add), "sub": ("tf.math.subtract", ops.subtract),
              "mul": ("tf.math.multiply", ops.multiply), "truediv": ("tf.math.truediv", ops.divide),
              "pow": ("tf.math.pow", ops.power), "matmul": ("tf.linalg.matmul", ops.matmul)}


def _comparison(np_op: Any) -> Any:
    """``np_op`` on the values (a boolean array: comparisons have no gradient, as Tensor's)."""
    def compare(x: Any, y: Any) -> np.ndarray:
        return np_op(x.data if isinstance(x, Tensor) else x, y.data if isinstance(y, Tensor) else y)
    compare.__name__ = np_op.__name__
    return compare


# comparisons (boolean outputs): a > b needs no reflected form (Python tries b < a itself)
_COMPARISONS = {"gt": ("tf.math.greater", _comparison(np.greater)),
                "ge": ("tf.math.greater_equal", _comparison(np.greater_equal)),
                "lt": ("tf.math.less", _comparison(np.less)),
                "le": ("tf.math.less_equal", _comparison(np.less_equal))}
OPERATOR_OPS = {op: f for op, f in [*_OPERATORS.values(), *_COMPARISONS.values()]} | {
    "tf.math.negative": ops.negative, "tf.math.abs": ops.abs, "tf.__operators__.getitem": ops.getitem}


def _operator(op: str, reflected: bool = False) -> Any:
    function = OPERATOR_OPS[op]

    def method(*args: Any) -> Any:  # x - 1 runs subtract(x, 1); 1 - x (reflected) subtract(1, x)
        return symbolic_call(op, function, args[::-1] if reflected else args, {})
    method.__name__ = op
    return method


def install_operators() -> None:
    """Give :class:`KerasTensor` ``+ - * / ** @``, their reflected forms, ``> >= < <=``, unary
    ``-``, ``abs`` and ``[]``: each makes an :class:`OpLayer` running the engine op."""
    for name, (op, _) in _OPERATORS.items():
        setattr(KerasTensor, f"__{name}__", _operator(op))
        setattr(KerasTensor, f"__r{name}__", _operator(op, reflected=True))
    for name, (op, _) in _COMPARISONS.items():
        setattr(KerasTensor, f"__{name}__", _operator(op))
    KerasTensor.__neg__ = _operator("tf.math.negative")
    KerasTensor.__pos__ = lambda self: self
    KerasTensor.__abs__ = _operator("tf.math.abs")
    KerasTensor.__getitem__ = _operator("tf.__operators__.getitem")
    KerasTensor.__iter__ = _iterate


def _iterate(t: KerasTensor) -> Any:
    """``a, b = t`` along a first axis of known length (as TensorFlow); refused along the batch."""
    if not t.shape or t.shape[0] is None:
        raise TypeError(f"Cannot iterate over a symbolic tensor of shape {t.shape}: its first axis "
                        f"is the batch, of unknown length. Index it instead (x[:, 0]) or use "
                        f"tf.unstack(x, axis=1).")
    return iter([t[i] for i in range(t.shape[0])])


install_operators()
