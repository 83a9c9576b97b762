"""Preprocessing layers for tabular data (Keras 3's names, arguments and defaults):
Discretization, CategoryEncoding, IntegerLookup, StringLookup.

They turn raw columns (numbers to bin, integer or string categories) into indices or one-hot /
multi-hot / count vectors. They have no gradient and run in NumPy; ``adapt(data)`` learns the
bin boundaries or the vocabulary. What they learned is part of their config (plain JSON
numbers and strings), so a model that holds them saves and loads with it.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from ..engine.tensor import Tensor
from .base import Layer, any_symbolic

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count")


def _values(x: Any) -> np.ndarray:
    """The raw values of an input: a Tensor's data, a pandas column's values, or an array."""
    if isinstance(x, Tensor):
        return x.data
    return np.asarray(getattr(x, "values", x))


def encode_categorical(indices: np.ndarray, output_mode: str, depth: int,
                       count_weights: np.ndarray | None = None,
                       dtype: Any = np.float32) -> np.ndarray:
    """Keras's ``encode_categorical_inputs``: integer indices to one-hot, multi-hot or counts.

    ``one_hot``: ``(..., 1)`` or ``(...)`` to ``(..., depth)``. ``multi_hot`` / ``count``:
    each example's (last axis) indices to one vector ``(batch, depth)``; a 1-D input is one
    example. Indices outside ``[0, depth)`` (e.g. -1) contribute nothing.
    """
    idx = np.asarray(indices)
    if output_mode == "int":
        return idx
    if idx.ndim == 0:
        idx = idx[None]
    if output_mode == "one_hot" and idx.ndim > 1 and idx.shape[-1] == 1:
        idx = idx.reshape(idx.shape[:-1])
    onehot = (idx[..., None] == np.arange(depth)).astype(
        dtype if count_weights is None else np.asarray(count_weights).dtype)
    if output_mode == "one_hot":
        return onehot
    axis = 1 if idx.ndim > 1 else 0
    if output_mode == "multi_hot":
        return onehot.max(axis=axis)
    if count_weights is not None:
        onehot = onehot * np.asarray(count_weights)[..., None]
    return onehot.sum(axis=axis)


def _check_mode(layer: str, output_mode: str, allowed: tuple[str, ...] = OUTPUT_MODES) -> str:
    if output_mode not in allowed:
        raise ValueError(f"{layer}: unknown output_mode {output_mode!r}; use one of {allowed}.")
    return output_mode


def _no_sparse(layer: str, sparse: bool) -> None:
    if sparse:
        raise ValueError(f"{layer}: sparse=True is not supported (unafraid has dense arrays "
                         f"only); leave sparse=False.")


def _batches(data: Any) -> list[np.ndarray]:
    """``adapt``'s data: one array, or an iterable of batches."""
    if isinstance(data, np.ndarray | Tensor | list | tuple) or hasattr(data, "values"):
        return [_values(data)]
    return [_values(b) for b in data]


class _NumpyLayer(Layer):
    """A layer computed in NumPy on raw values (no gradient, any input dtype)."""

    def __call__(self, inputs: Any, *args: Any, training: bool | None = None, **kwargs: Any) -> Any:
        if any_symbolic(inputs):
            return super().__call__(inputs, *args, training=training, **kwargs)
        out = self.transform(_values(inputs), *args, **kwargs)
        return Tensor(out) if out.dtype.kind in "fiub" else out

    def transform(self, values: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def call(self, inputs: Any) -> Any:  # symbolic shape inference only
        return Tensor(np.asarray(self.transform(_values(inputs))).astype(np.float32))


# ---- Discretization -----------------------------------------------------------------------------
def summarize(values: np.ndarray, epsilon: float) -> np.ndarray:
    """Keras's quantile summary of a batch: ``[[values], [weights]]`` at about ``1/epsilon``
    evenly spaced ranks."""
    values = np.sort(np.reshape(values, [-1]))
    step = max(values.size / (1.0 / epsilon), 1)
    boundaries = values[int(step - 1)::int(step)]
    return np.stack([boundaries, np.ones_like(boundaries) * step])


def compress_summary(summary: np.ndarray, epsilon: float) -> np.ndarray:
    """Keras's ``compress_summary``: resample a summary to ``1/epsilon`` points."""
    if summary.shape[1] * epsilon < 1:
        return summary
    percents = epsilon + np.arange(0.0, 1.0, epsilon)
    cum_weights = summary[1].cumsum()
    cum_weight_percents = cum_weights / cum_weights[-1]
    new_bins = np.interp(percents, cum_weight_percents, summary[0])
    cum_weights = np.interp(percents, cum_weight_percents, cum_weights)
    new_weights = cum_weights - np.concatenate((np.array([0]), cum_weights[:-1]))
    return np.stack((new_bins, new_weights)).astype("float32")


def merge_summaries(prev: np.ndarray, new: np.ndarray, epsilon: float) -> np.ndarray:
    merged = np.concatenate((prev, new), axis=1)
    merged = np.take(merged, np.argsort(merged[0]), axis=1)
    return compress_summary(merged, epsilon)


class Discretization(_NumpyLayer):
    """Buckets numbers into ranges: ``index = number of boundaries <= x`` (``np.digitize``).

    Parameters
    ----------
    bin_boundaries : list of float, optional
        Sorted boundaries; ``[0., 1., 2.]`` gives the bins ``(-inf, 0)``, ``[0, 1)``,
        ``[1, 2)``, ``[2, inf)``.
    num_bins : int, optional
        Instead of ``bin_boundaries``: the number of bins, learned by ``adapt(data)`` as
        approximate quantiles (Keras's algorithm).
    epsilon : float, default 0.01
        The error tolerance of the quantiles.
    output_mode : {'int', 'one_hot', 'multi_hot', 'count'}, default 'int'

    Examples
    --------
    >>> import numpy as np, unafraid as tf
    >>> layer = tf.keras.layers.Discretization(bin_boundaries=[0.0, 1.0, 2.0])
    >>> layer(np.array([[-1.5, 1.0, 3.4, 0.5], [0.0, 3.0, 1.3, 0.0]])).numpy()
    array([[0, 2, 3, 1],
           [1, 3, 2, 1]], dtype=int32)
    """

    def __init__(self, bin_boundaries: list[float] | None = None, num_bins: int | None = None,
                 epsilon: float = 0.01, output_mode: str = "int", sparse: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _no_sparse("Discretization", sparse)
        self.output_mode = _check_mode("Discretization", output_mode)
        if num_bins is not None and num_bins < 0:
            raise ValueError(f"`num_bins` must be greater than or equal to 0. Received: "
                             f"`num_bins={num_bins}`")
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError(f"Both `num_bins` and `bin_boundaries` should not be set. Received: "
                             f"`num_bins={num_bins}` and `bin_boundaries={bin_boundaries}`")
        if num_bins is None and bin_boundaries is None:
            raise ValueError("You need to set either `num_bins` or `bin_boundaries`.")
        self.bin_boundaries = None if bin_boundaries is None else [float(b) for b in bin_boundaries]
        self.num_bins, self.epsilon, self.sparse = num_bins, epsilon, sparse
        self.summary = np.array([[], []], dtype="float32")

    def adapt(self, data: Any, steps: int | None = None) -> None:
        """Learn ``num_bins - 1`` boundaries as approximate quantiles of ``data``."""
        if self.num_bins is None:
            raise ValueError("Cannot adapt a Discretization layer that has been initialized with "
                             "`bin_boundaries`, use `num_bins` instead.")
        self.summary = np.array([[], []], dtype="float32")
        for k, batch in enumerate(_batches(data)):
            if steps is not None and k >= steps:
                break
            new = summarize(np.asarray(batch, np.float32), self.epsilon)
            self.summary = merge_summaries(new, self.summary, self.epsilon)
        self.bin_boundaries = [float(b) for b in
                               compress_summary(self.summary, 1.0 / self.num_bins)[0, :-1]]

    def transform(self, values: np.ndarray) -> np.ndarray:
        if self.bin_boundaries is None:
            raise ValueError("You need to either pass the `bin_boundaries` argument at "
                             "construction time or call `adapt(dataset)` before you can start "
                             "using the `Discretization` layer.")
        indices = np.digitize(np.asarray(values, np.float32), np.asarray(self.bin_boundaries,
                                                                         np.float32))
        if self.output_mode == "int":
            return indices.astype(np.int32)
        return encode_categorical(indices, self.output_mode, len(self.bin_boundaries) + 1)

    def compute_output_shape(self, input_shape: Any) -> Any:
        if self.output_mode == "int":
            return input_shape
        depth = len(self.bin_boundaries) + 1 if self.bin_boundaries is not None else self.num_bins
        if self.output_mode == "one_hot":
            if input_shape and input_shape[-1] == 1 and len(input_shape) > 1:
                return (*input_shape[:-1], depth)
            return (*input_shape, depth)
        if input_shape and len(input_shape) >= 2:
            return (input_shape[0], *input_shape[2:], depth)
        return (depth,)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "bin_boundaries": self.bin_boundaries,
                "num_bins": self.num_bins, "epsilon": self.epsilon,
                "output_mode": self.output_mode, "sparse": self.sparse}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Discretization:
        config = dict(config)
        boundaries = config.pop("bin_boundaries", None)
        if config.get("num_bins") is None:  # given boundaries
            return cls(bin_boundaries=boundaries, **config)
        layer = cls(**config)  # adapted: both are set, as in Keras
        layer.bin_boundaries = boundaries
        return layer


# ---- CategoryEncoding ---------------------------------------------------------------------------
class CategoryEncoding(_NumpyLayer):
    """Integer categories in ``[0, num_tokens)`` to one-hot, multi-hot or count vectors.

    Parameters
    ----------
    num_tokens : int
        The number of categories.
    output_mode : {'multi_hot', 'one_hot', 'count'}, default 'multi_hot'

    Examples
    --------
    >>> import numpy as np, unafraid as tf
    >>> layer = tf.keras.layers.CategoryEncoding(num_tokens=4, output_mode="one_hot")
    >>> layer(np.array([3, 2, 0, 1])).numpy()
    array([[0., 0., 0., 1.],
           [0., 0., 1., 0.],
           [1., 0., 0., 0.],
           [0., 1., 0., 0.]], dtype=float32)
    """

    def __init__(self, num_tokens: int | None = None, output_mode: str = "multi_hot",
                 sparse: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _no_sparse("CategoryEncoding", sparse)
        if output_mode == "binary":  # Keras's deprecated name
            output_mode = "multi_hot"
        if output_mode not in ("count", "one_hot", "multi_hot"):
            raise ValueError(f"Unknown arg for output_mode: {output_mode}")
        if num_tokens is None:
            raise ValueError("num_tokens must be set to use this layer. If the number of tokens "
                             "is not known beforehand, use the IntegerLookup layer instead.")
        if num_tokens < 1:
            raise ValueError(f"`num_tokens` must be >= 1. Received: num_tokens={num_tokens}.")
        self.num_tokens, self.output_mode, self.sparse = int(num_tokens), output_mode, sparse

    def transform(self, values: np.ndarray, count_weights: Any = None) -> np.ndarray:
        if count_weights is not None:
            if self.output_mode != "count":
                raise ValueError(f"`count_weights` is not used when `output_mode` is not "
                                 f"`'count'`. Received `count_weights={count_weights}`.")
            count_weights = np.asarray(_values(count_weights), self.dtype)
        idx = np.asarray(values)
        if idx.size and (idx.min() < 0 or idx.max() >= self.num_tokens):
            raise ValueError(f"CategoryEncoding '{self.name}': input values must be in the range "
                             f"0 <= values < num_tokens with num_tokens={self.num_tokens}; got "
                             f"values from {idx.min()} to {idx.max()}.")
        return encode_categorical(idx.astype(np.int64), self.output_mode, self.num_tokens,
                                  count_weights, self.dtype).astype(self.dtype, copy=False)

    def compute_output_shape(self, input_shape: Any) -> Any:
        if len(input_shape) == 0:
            return (self.num_tokens,)
        if self.output_mode == "one_hot" and (input_shape[-1] != 1 or len(input_shape) == 1):
            return (*input_shape, self.num_tokens)
        return (*input_shape[:-1], self.num_tokens)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "num_tokens": self.num_tokens,
                "output_mode": self.output_mode, "sparse": self.sparse}


# ---- IntegerLookup and StringLookup -------------------------------------------------------------
class _IndexLookup(_NumpyLayer):
    """Keras's ``IndexLookup``: a vocabulary of tokens to indices.

    Index layout (``output_mode='int'``): ``[mask token (if any)] [OOV indices] [vocabulary]``;
    in the other modes the mask token has no index (and encodes to nothing).
    """

    string = False

    def __init__(self, max_tokens: int | None, num_oov_indices: int, mask_token: Any,
                 oov_token: Any, vocabulary: Any, idf_weights: Any, invert: bool,
                 output_mode: str, sparse: bool, pad_to_max_tokens: bool,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        layer = type(self).__name__
        _no_sparse(layer, sparse)
        if output_mode == "tf_idf" or idf_weights is not None:
            raise ValueError(f"{layer}: output_mode='tf_idf' (and idf_weights) is not supported; "
                             f"use 'int', 'one_hot', 'multi_hot' or 'count'.")
        self.output_mode = _check_mode(layer, output_mode)
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError(f"If `max_tokens` is set for `{layer}`, it must be greater than 1. "
                             f"Received: max_tokens={max_tokens}")
        if num_oov_indices < 0:
            raise ValueError(f"The value of `num_oov_indices` argument for `{layer}` must >= 0. "
                             f"Received: num_oov_indices={num_oov_indices}")
        if invert and output_mode != "int":
            raise ValueError(f"`output_mode` must be `'int'` when `invert` is true. Received: "
                             f"output_mode={output_mode}")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"{layer}: pad_to_max_tokens=True needs max_tokens.")
        self.max_tokens, self.num_oov_indices = max_tokens, int(num_oov_indices)
        self.mask_token, self.oov_token = mask_token, oov_token
        self.invert, self.sparse, self.pad_to_max_tokens = invert, sparse, pad_to_max_tokens
        self.vocabulary: list[Any] | None = None
        if vocabulary is not None:
            self.set_vocabulary(vocabulary)

    # -- vocabulary --
    def _token(self, t: Any) -> Any:
        return str(t) if self.string else int(t)

    def set_vocabulary(self, vocabulary: Any, idf_weights: Any = None) -> None:
        """Use ``vocabulary`` (a list of distinct tokens, without the special tokens)."""
        if idf_weights is not None:
            raise ValueError("idf_weights (tf_idf mode) is not supported.")
        vocab = [self._token(t) for t in _values(vocabulary).reshape(-1).tolist()]
        if len(set(vocab)) != len(vocab):
            repeated = sorted({t for t in vocab if vocab.count(t) > 1}, key=str)
            raise ValueError(f"The passed vocabulary has at least one repeated term. Please "
                             f"uniquify your dataset. The repeated terms are: {repeated}")
        if self.mask_token is not None and self.mask_token in vocab:
            raise ValueError(f"Found reserved mask token {self.mask_token!r} in the vocabulary; "
                             f"leave it out (it gets index 0 by itself).")
        if self.max_tokens is not None and len(vocab) + self._token_start_index() > self.max_tokens:
            raise ValueError(f"Attempted to set a vocabulary larger than the maximum vocab size. "
                             f"Received vocabulary size is {len(vocab) + self._token_start_index()}"
                             f"; `max_tokens` is {self.max_tokens}.")
        self.vocabulary = vocab

    def adapt(self, data: Any, steps: int | None = None) -> None:
        """Learn the vocabulary: the tokens by decreasing frequency (ties: larger token first,
        Keras's order), at most ``max_tokens`` with the special indices."""
        counts: Counter[Any] = Counter()
        for k, batch in enumerate(_batches(data)):
            if steps is not None and k >= steps:
                break
            counts.update(self._token(t) for t in np.asarray(batch).reshape(-1).tolist())
        for special in (self.mask_token, self.oov_token):
            if special is not None:
                counts.pop(self._token(special), None)
        tokens = sorted(counts, key=lambda t: (counts[t], t), reverse=True)
        if self.max_tokens:
            tokens = tokens[: self.max_tokens - self._token_start_index()]
        self.vocabulary = tokens

    def _oov_start_index(self) -> int:
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self) -> int:
        return self._oov_start_index() + self.num_oov_indices

    def vocabulary_size(self) -> int:
        """The number of indices, the mask and OOV indices included."""
        return len(self._vocab()) + self._token_start_index()

    def get_vocabulary(self, include_special_tokens: bool = True) -> list[Any]:
        """The token of each index (with the mask and OOV tokens first, unless told not to)."""
        vocab = [self.oov_token] * self._token_start_index() + list(self._vocab())
        if self.mask_token is not None and self.output_mode == "int":
            vocab[0] = self.mask_token
        return vocab if include_special_tokens else vocab[self._token_start_index():]

    def _vocab(self) -> list[Any]:
        if self.vocabulary is None:
            raise ValueError(f"{type(self).__name__} '{self.name}' has no vocabulary: pass "
                             f"vocabulary= or call adapt(data) first.")
        return self.vocabulary

    # -- lookup --
    def transform(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values)
        if self.invert:
            return self._invert(values)
        table = {t: i + self._token_start_index() for i, t in enumerate(self._vocab())}
        default = -1 if self.num_oov_indices != 1 else self._oov_start_index()
        flat = values.reshape(-1).tolist()
        tokens = [self._token(t) for t in flat]
        ids = np.array([table.get(t, default) for t in tokens], np.int64).reshape(values.shape)
        if self.mask_token is not None:
            mask = np.array([t == self.mask_token for t in tokens], bool).reshape(values.shape)
            ids = np.where(mask, 0 if self.output_mode == "int" else -1, ids)
        oov = ids == -1
        if self.mask_token is not None:
            oov &= ~mask
        if self.num_oov_indices == 0 and oov.any():
            raise ValueError(f"When `num_oov_indices=0` all inputs should be in vocabulary, found "
                             f"OOV values {sorted(set(np.asarray(values)[oov].tolist()))[:10]}, "
                             f"consider setting `num_oov_indices=1`.")
        if self.num_oov_indices > 1:
            if self.string:
                raise ValueError(f"{type(self).__name__}: num_oov_indices > 1 hashes strings with "
                                 f"TensorFlow's FarmHash, which unafraid does not have; use "
                                 f"num_oov_indices=1.")
            ids = np.where(oov, np.mod(values.astype(np.int64), self.num_oov_indices)
                           + self._oov_start_index(), ids)
        if self.output_mode == "int":
            return ids
        depth = self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()
        return encode_categorical(ids, self.output_mode, depth, dtype=self.dtype).astype(
            self.dtype, copy=False)

    def _invert(self, ids: np.ndarray) -> np.ndarray:
        vocab = self.get_vocabulary()
        out = [vocab[i] if 0 <= i < len(vocab) else self.oov_token
               for i in ids.astype(np.int64).reshape(-1).tolist()]
        return np.array(out, dtype=object if self.string else np.int64).reshape(ids.shape)

    def compute_output_shape(self, input_shape: Any) -> Any:
        if self.output_mode == "int":
            return input_shape
        depth = self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()
        if self.output_mode == "one_hot" and input_shape[-1] != 1:
            return (*input_shape, depth)
        return (*input_shape[:-1], depth)

    def call(self, inputs: Any) -> Any:  # symbolic shape inference only
        shape = self.compute_output_shape(tuple(inputs.shape))
        return Tensor(np.zeros(shape, np.float32))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "invert": self.invert, "max_tokens": self.max_tokens,
                "num_oov_indices": self.num_oov_indices, "oov_token": self.oov_token,
                "mask_token": self.mask_token, "output_mode": self.output_mode,
                "sparse": self.sparse, "pad_to_max_tokens": self.pad_to_max_tokens,
                "vocabulary": None if self.vocabulary is None else list(self.vocabulary)}


class IntegerLookup(_IndexLookup):
    """Integer categories (any values, e.g. codes 12, 36, 1899) to contiguous indices.

    Parameters
    ----------
    max_tokens : int, optional
        Largest vocabulary (mask and OOV indices included).
    num_oov_indices : int, default 1
        Indices for out-of-vocabulary values (several: ``value % num_oov_indices``).
    mask_token : int, optional
        A padding value mapped to index 0 (``output_mode='int'``).
    oov_token : int, default -1
        Returned for unknown indices when ``invert=True``.
    vocabulary : list of int, optional
        Or learn it with ``adapt(data)`` (most frequent first).
    invert : bool, default False
        Map indices back to values.
    output_mode : {'int', 'one_hot', 'multi_hot', 'count'}, default 'int'
    pad_to_max_tokens : bool, default False

    Examples
    --------
    >>> import numpy as np, unafraid as tf
    >>> layer = tf.keras.layers.IntegerLookup(vocabulary=[12, 36, 1138, 42])
    >>> layer(np.array([[12, 1138, 42], [42, 1000, 36]])).numpy()
    array([[1, 3, 4],
           [4, 0, 2]])
    """

    def __init__(self, max_tokens: int | None = None, num_oov_indices: int = 1,
                 mask_token: int | None = None, oov_token: int = -1, vocabulary: Any = None,
                 vocabulary_dtype: str = "int64", idf_weights: Any = None, invert: bool = False,
                 output_mode: str = "int", sparse: bool = False, pad_to_max_tokens: bool = False,
                 **kwargs: Any) -> None:
        if vocabulary_dtype != "int64":
            raise ValueError(f"Only `vocabulary_dtype='int64'` is supported at this time. "
                             f"Received: vocabulary_dtype={vocabulary_dtype}")
        self.vocabulary_dtype = vocabulary_dtype
        super().__init__(max_tokens, num_oov_indices, mask_token, oov_token, vocabulary,
                         idf_weights, invert, output_mode, sparse, pad_to_max_tokens, **kwargs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "vocabulary_dtype": self.vocabulary_dtype}


class StringLookup(_IndexLookup):
    """String categories (e.g. ``'cat'``, ``'dog'``) to contiguous indices.

    Parameters are those of :class:`IntegerLookup`, with string tokens: ``mask_token``
    (default None) and ``oov_token`` (default ``'[UNK]'``).

    Examples
    --------
    >>> import numpy as np, unafraid as tf
    >>> layer = tf.keras.layers.StringLookup(vocabulary=["a", "b", "c", "d"])
    >>> layer(np.array([["a", "c", "d"], ["d", "z", "b"]])).numpy()
    array([[1, 3, 4],
           [4, 0, 2]])
    """

    string = True

    def __init__(self, max_tokens: int | None = None, num_oov_indices: int = 1,
                 mask_token: str | None = None, oov_token: str = "[UNK]", vocabulary: Any = None,
                 idf_weights: Any = None, invert: bool = False, output_mode: str = "int",
                 pad_to_max_tokens: bool = False, sparse: bool = False, encoding: str = "utf-8",
                 **kwargs: Any) -> None:
        self.encoding = encoding
        super().__init__(max_tokens, num_oov_indices, mask_token, oov_token, vocabulary,
                         idf_weights, invert, output_mode, sparse, pad_to_max_tokens, **kwargs)

    def _token(self, t: Any) -> Any:
        return t.decode(self.encoding) if isinstance(t, bytes) else str(t)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "encoding": self.encoding}
