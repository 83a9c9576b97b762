"""AnnData in and out: counts from ``.X``, a layer or ``.raw``; labels from ``obs``; results back.

A count matrix stays as it was stored (dense, or scipy CSR): :class:`CountMatrix` hands out
dense float32 rows one batch at a time, so a sparse matrix is never densified whole.

>>> import unafraid as uf
>>> from unafraid import cells
>>> adata = uf.datasets.pbmc68k_reduced()
>>> counts = cells.read_counts(adata, layer="counts")
>>> counts.shape, counts.library_size[:3]
((700, 765), array([...], dtype=float32))
>>> x = counts.rows([0, 1, 2])          # (3, 765) float32, dense

anndata is an optional dependency (``pip install unafraid[cells]``), imported only here,
when an AnnData is read or written.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..engine import special

__all__ = ["CountMatrix", "CountWarning", "read_counts", "check_counts", "library_size",
           "size_factors", "log_normalize", "labels_from_obs", "write_obsm", "write_layer",
           "write_obs", "require_anndata"]

#: Rows per block when scanning a dense matrix (checks, library sizes) without big temporaries.
BLOCK_ROWS = 4096
#: Stored values of a sparse matrix checked at a time (a few MB of temporaries).
CHUNK_VALUES = 1 << 20


class CountWarning(UserWarning):
    """The matrix given as counts holds negative or non-integer values."""


def require_anndata() -> Any:
    """Import anndata, or say how to install it."""
    try:
        import anndata
    except ImportError as e:
        raise ImportError("unafraid.cells reads and writes AnnData objects, which needs the "
                          "anndata package: pip install 'unafraid[cells]' (or pip install "
                          "anndata).") from e
    return anndata


def _is_sparse(x: Any) -> bool:
    return hasattr(x, "tocsr") and hasattr(x, "nnz")


def _as_matrix(x: Any, what: str) -> Any:
    """A 2-D dense array or a CSR matrix (other sparse formats are converted to CSR)."""
    if _is_sparse(x):
        x = x.tocsr() if getattr(x, "format", None) != "csr" else x
    else:
        x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"{what} must be a cells x genes matrix (2-D), got shape {x.shape}.")
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{what} must be numeric, got dtype {x.dtype}.")
    return x


@dataclass
class CountMatrix:
    """A cells x genes count matrix, read one batch of rows at a time.

    Attributes
    ----------
    X : numpy.ndarray or scipy.sparse.csr_matrix, shape (N, G)
        As stored (not copied, not densified).
    obs_names, var_names : list of str
        Cell and gene names (``0..N-1`` / ``0..G-1`` when read from an array).
    library_size : numpy.ndarray, float32, shape (N,)
        Total counts per cell.
    source : str
        Where the counts came from, e.g. ``"adata.layers['counts']"``.
    """

    X: Any
    obs_names: list[str]
    var_names: list[str]
    library_size: np.ndarray
    source: str = "array"

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.X.shape)

    def __len__(self) -> int:
        return self.X.shape[0]

    def rows(self, index: Any) -> np.ndarray:
        """Dense float32 counts of the cells ``index`` (a slice or integer array): (n, G)."""
        block = self.X[index]
        block = block.toarray() if _is_sparse(block) else np.asarray(block)
        return block.astype(np.float32, copy=False)

    def batches(self, index: Any = None, batch_size: int = 128) -> Iterator[tuple[np.ndarray,
                                                                                   np.ndarray]]:
        """Yield ``(rows, counts)`` for consecutive batches of ``index`` (default: all cells)."""
        index = np.arange(len(self)) if index is None else np.asarray(index)
        for start in range(0, len(index), batch_size):
            rows = index[start:start + batch_size]
            yield rows, self.rows(rows)

    @property
    def size_factors(self) -> np.ndarray:
        """``library_size / median(library_size)``, float32, shape (N,)."""
        return size_factors(self.library_size)


def library_size(X: Any) -> np.ndarray:
    """Total counts per cell (row sums), float32, shape (N,); dense blocks or CSR, no copy."""
    if _is_sparse(X):
        return np.asarray(X.sum(axis=1), np.float64).ravel().astype(np.float32)
    out = np.empty(X.shape[0], np.float32)
    for start in range(0, X.shape[0], BLOCK_ROWS):
        out[start:start + BLOCK_ROWS] = np.asarray(X[start:start + BLOCK_ROWS], np.float64).sum(1)
    return out


def size_factors(library: Any) -> np.ndarray:
    """Size factors ``s_i = l_i / median(l)`` (DCA's; 1 for a cell of median depth), float32."""
    library = np.asarray(library, np.float64)
    med = float(np.median(library))
    if not med > 0:
        raise ValueError(f"size_factors: the median library size is {med}; at least half the "
                         f"cells have no counts. Filter empty cells first, e.g. "
                         f"adata = adata[adata.X.sum(1) > 0].")
    return (library / med).astype(np.float32)


def log_normalize(counts: np.ndarray, library: np.ndarray, target_sum: float = 1e4) -> np.ndarray:
    """``log1p(counts / library * target_sum)``, float32: scanpy's normalize_total + log1p
    (``log1p`` by :func:`unafraid.engine.special.log1p`, to a few float32 units in the last place).

    Parameters
    ----------
    counts : (n, G) array
    library : (n,) array of total counts per cell (cells with 0 stay 0)
    target_sum : float, default 1e4
    """
    lib = np.asarray(library, np.float32)[:, None]
    scale = np.where(lib > 0, np.float32(target_sum) / np.maximum(lib, 1), 0).astype(np.float32)
    return special.log1p(np.asarray(counts, np.float32) * scale)


def _names(values: Sequence[Any], positions: np.ndarray, limit: int = 5) -> str:
    shown = ", ".join(str(values[i]) for i in positions[:limit])
    more = f" and {len(positions) - limit} more" if len(positions) > limit else ""
    return shown + more


def check_counts(X: Any, obs_names: Sequence[Any] | None = None,
                 var_names: Sequence[Any] | None = None, source: str = "the matrix",
                 tolerance: float = 1e-3, stacklevel: int = 2) -> dict[str, Any]:
    """Check that ``X`` holds counts; warn (never refuse) and say which cells and genes do not.

    Count likelihoods assume non-negative integers. Normalised or log-transformed data are
    a common mistake (scanpy's ``.X`` after ``normalize_total`` + ``log1p``); the warning names
    the offending cells and genes and how to fix it. Dense matrices are scanned in blocks
    of :data:`BLOCK_ROWS` rows, sparse ones read in place.

    Parameters
    ----------
    X : (N, G) array or scipy sparse matrix
    obs_names, var_names : sequences, optional
        Names used in the message (indices when omitted).
    source : str
        How to call the matrix in the message.
    tolerance : float, default 1e-3
        Distance from the nearest integer still counted as an integer.
    stacklevel : int, default 2
        Passed to :func:`warnings.warn` (which caller the warning points at).

    Returns
    -------
    dict
        ``{"negative": int, "non_integer": int, "cells": array, "genes": array}``: numbers of
        bad entries and the (sorted, unique) rows and columns that hold them.
    """
    X = _as_matrix(X, source)
    n, g = X.shape
    obs_names = list(range(n)) if obs_names is None else list(obs_names)
    var_names = list(range(g)) if var_names is None else list(var_names)
    neg = frac = 0
    bad_rows: list[np.ndarray] = []
    bad_cols: list[np.ndarray] = []
    if X.dtype.kind in "fc" or (X.dtype.kind == "i"):
        for vals, where in _value_chunks(X):
            is_neg = vals < 0
            is_frac = np.abs(vals - np.round(vals)) > tolerance
            bad = is_neg | is_frac | ~np.isfinite(vals)
            neg += int(is_neg.sum())
            frac += int(is_frac.sum())
            if bad.any():
                rows, cols = where(bad)
                bad_rows.append(rows)
                bad_cols.append(cols)
    cells = np.unique(np.concatenate(bad_rows)) if bad_rows else np.zeros(0, int)
    genes = np.unique(np.concatenate(bad_cols)) if bad_cols else np.zeros(0, int)
    if neg or frac:
        warnings.warn(
            f"{source} does not look like raw counts: {frac} non-integer and {neg} negative "
            f"value(s), in {len(cells)} of {n} cells (e.g. {_names(obs_names, cells)}) and "
            f"{len(genes)} of {g} genes (e.g. {_names(var_names, genes)}). Count likelihoods "
            f"(Poisson, NB, ZINB) expect unnormalised integer counts. Fix: read the counts "
            f"instead, e.g. read_counts(adata, layer='counts') or use_raw=True if adata.raw "
            f"holds them; if you only have log1p(normalised) values and the totals per cell, "
            f"recover counts as np.round(np.expm1(X) * total_counts[:, None] / 1e4). Going on "
            f"with the values as they are.", CountWarning, stacklevel=stacklevel)
    return {"negative": neg, "non_integer": frac, "cells": cells, "genes": genes}


def _value_chunks(X: Any) -> Iterator[tuple[np.ndarray, Any]]:
    """The stored values of ``X`` a chunk at a time, each with ``where(mask) -> (rows, cols)`` of
    the masked values: a CSR matrix's values are read in place, :data:`CHUNK_VALUES` at a time
    (no copy of the matrix, temporaries of a few MB); a dense one a block of rows at a time."""
    if _is_sparse(X):
        for a in range(0, X.nnz, CHUNK_VALUES):
            b = min(a + CHUNK_VALUES, X.nnz)

            def where(mask: np.ndarray, a: int = a, b: int = b) -> tuple[np.ndarray, np.ndarray]:
                positions = a + np.flatnonzero(mask)
                return np.searchsorted(X.indptr, positions, side="right") - 1, X.indices[a:b][mask]

            yield X.data[a:b], where
        return
    for start in range(0, X.shape[0], BLOCK_ROWS):
        block = np.asarray(X[start:start + BLOCK_ROWS])
        rows, cols = np.nonzero(block)

        def where_dense(mask: np.ndarray, rows: np.ndarray = rows, cols: np.ndarray = cols,
                        start: int = start) -> tuple[np.ndarray, np.ndarray]:
            return rows[mask] + start, cols[mask]

        yield block[rows, cols], where_dense


def read_counts(data: Any, layer: str | None = None, use_raw: bool = False,
                check: bool = True) -> CountMatrix:
    """Counts from an AnnData (``.X``, ``.layers[layer]`` or ``.raw.X``) or from a matrix.

    Parameters
    ----------
    data : AnnData, numpy.ndarray or scipy sparse matrix, shape (N, G)
    layer : str, optional
        Read ``adata.layers[layer]`` instead of ``adata.X``.
    use_raw : bool, default False
        Read ``adata.raw.X`` (its genes must be those of ``adata.var_names``).
    check : bool, default True
        Run :func:`check_counts` (warns on non-integers and negatives).

    Returns
    -------
    CountMatrix
        The matrix as stored (no copy; CSR stays sparse) and the library sizes.

    Examples
    --------
    >>> import numpy as np
    >>> m = read_counts(np.array([[0, 2], [3, 1]]))
    >>> m.library_size
    array([2., 4.], dtype=float32)
    """
    if layer is not None and use_raw:
        raise ValueError("read_counts: give layer=... or use_raw=True, not both.")
    if hasattr(data, "obs") and hasattr(data, "var"):
        X, source = _pick_matrix(data, layer, use_raw)
        obs_names = list(map(str, data.obs_names))
        var_names = list(map(str, (data.raw.var_names if use_raw else data.var_names)))
    else:
        if layer is not None or use_raw:
            raise TypeError(f"read_counts: layer/use_raw need an AnnData, got "
                            f"{type(data).__name__}.")
        X, source = data, "the count matrix"
        obs_names = var_names = None
    X = _as_matrix(X, source)
    obs_names = obs_names or [str(i) for i in range(X.shape[0])]
    var_names = var_names or [str(j) for j in range(X.shape[1])]
    if check:
        check_counts(X, obs_names, var_names, source, stacklevel=3)
    return CountMatrix(X, obs_names, var_names, library_size(X), source)


def _pick_matrix(adata: Any, layer: str | None, use_raw: bool) -> tuple[Any, str]:
    if use_raw:
        if adata.raw is None:
            raise ValueError("read_counts(use_raw=True): adata.raw is None. Read adata.X or a "
                             f"layer ({_available(adata.layers)}) instead.")
        return adata.raw.X, "adata.raw.X"
    if layer is not None:
        if layer not in adata.layers:
            raise KeyError(f"read_counts: adata.layers has no {layer!r}; it has "
                           f"{_available(adata.layers)}{_did_you_mean(layer, adata.layers)}.")
        return adata.layers[layer], f"adata.layers[{layer!r}]"
    return adata.X, "adata.X"


def _available(keys: Any) -> str:
    keys = list(keys)
    return ", ".join(repr(k) for k in keys) if keys else "none"


def _did_you_mean(name: str, keys: Any) -> str:
    close = difflib.get_close_matches(str(name), [str(k) for k in keys], n=1)
    return f". Did you mean {close[0]!r}?" if close else ""


def labels_from_obs(adata: Any, key: str) -> tuple[np.ndarray, list[str]]:
    """Integer codes and names of a categorical ``obs`` column (cell types).

    Returns
    -------
    codes : int64 array, shape (N,)
        0..K-1, in the order of ``names`` (the column's categories, or its sorted values).
    names : list of str

    Raises
    ------
    KeyError
        The column does not exist (the message lists the columns and the closest name).
    ValueError
        The column has missing values.
    """
    if key not in adata.obs.columns:
        raise KeyError(f"adata.obs has no column {key!r}; it has {_available(adata.obs.columns)}"
                       f"{_did_you_mean(key, adata.obs.columns)}. Pass the column that holds "
                       f"the cell types (--label-key on the command line).")
    column = adata.obs[key]
    if column.isna().any():
        n = int(column.isna().sum())
        raise ValueError(f"adata.obs[{key!r}] has {n} missing value(s). Drop those cells first: "
                         f"adata = adata[adata.obs[{key!r}].notna()].copy().")
    if hasattr(column, "cat"):
        names = [str(c) for c in column.cat.categories]
        codes = column.cat.codes.to_numpy().astype(np.int64)
        used = np.unique(codes)
        if len(used) < len(names):  # drop categories no cell has
            names = [names[i] for i in used]
            codes = np.searchsorted(used, codes).astype(np.int64)
        return codes, names
    names_arr, codes = np.unique(column.astype(str).to_numpy(), return_inverse=True)
    return codes.astype(np.int64), [str(n) for n in names_arr]


def write_obsm(adata: Any, values: np.ndarray, key: str = "X_unafraid") -> None:
    """``adata.obsm[key] = values`` (N, d), checking the number of cells."""
    _check_rows(adata, values, f"obsm[{key!r}]")
    adata.obsm[key] = np.asarray(values)


def write_layer(adata: Any, values: np.ndarray, key: str = "unafraid_denoised") -> None:
    """``adata.layers[key] = values`` (N, G), checking the shape."""
    if tuple(np.shape(values)) != tuple(adata.shape):
        raise ValueError(f"layers[{key!r}] must have adata's shape {adata.shape}, got "
                         f"{np.shape(values)}.")
    adata.layers[key] = np.asarray(values)


def write_obs(adata: Any, columns: dict[str, Any]) -> None:
    """Set ``adata.obs[name] = values`` for each of ``columns`` (one value per cell)."""
    for name, values in columns.items():
        _check_rows(adata, values, f"obs[{name!r}]")
        adata.obs[name] = values


def _check_rows(adata: Any, values: Any, where: str) -> None:
    if len(values) != adata.n_obs:
        raise ValueError(f"{where}: got {len(values)} rows for an AnnData of {adata.n_obs} cells.")
