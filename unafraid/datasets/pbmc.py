"""pbmc68k_reduced: 700 human blood cells x 765 genes from 10x Genomics, with cell types.

The file scanpy ships as ``scanpy.datasets.pbmc68k_reduced()`` (``10x_pbmc68k_reduced.h5ad``,
BSD-3-Clause), subsampled from the "Fresh 68k PBMCs (Donor A)" data of Zheng et al., Nature
Communications 8, 14049 (2017). ``obs["bulk_labels"]`` holds 10 cell types.

:func:`pbmc68k_reduced` looks for the file in ``path``, then ``$UNAFRAID_DATA`` (the folder, or
its ``pbmc68k_reduced/`` sub-folder), then the cache (:func:`unafraid.datasets.cache_dir`),
then scanpy's installed copy (found without importing scanpy). The file's SHA-256 is checked
before it is read. Nothing is downloaded: place the file in one of those folders.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ._fetch import CorruptFileError, DatasetUnavailableError, cache_dir

NAME = "pbmc68k_reduced"
FILENAME = "10x_pbmc68k_reduced.h5ad"
#: SHA-256 of the file in the scanpy 1.11.5 wheel.
SHA256 = "e71d41e737c941559b7c57c9243bdb3d2c889c2adfdf00e3422ac6b46783676f"
#: Label column with the 10 cell types.
LABEL_KEY = "bulk_labels"


def sha256_of(path: Path) -> str:
    """SHA-256 (hex) of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def scanpy_copy() -> Path | None:
    """Where an installed scanpy keeps the file (scanpy itself is not imported)."""
    spec = importlib.util.find_spec("scanpy")
    if spec is None or not spec.origin:
        return None
    path = Path(spec.origin).parent / "datasets" / FILENAME
    return path if path.is_file() else None


def _candidates(path: str | os.PathLike[str] | None) -> list[Path]:
    if path is not None:
        p = Path(path).expanduser()
        return [p / FILENAME if p.is_dir() else p]
    found = []
    data = os.environ.get("UNAFRAID_DATA", "")
    if data:
        root = Path(data).expanduser()
        found += [root / NAME / FILENAME, root / FILENAME]
    found.append(cache_dir(NAME) / FILENAME)
    copy = scanpy_copy()
    if copy is not None:
        found.append(copy)
    return found


def find_file(path: str | os.PathLike[str] | None = None) -> Path:
    """The first verified copy of the file, in the order described in the module docstring."""
    candidates = _candidates(path)
    for candidate in candidates:
        if not candidate.is_file():
            continue
        actual = sha256_of(candidate)
        if actual != SHA256:
            raise CorruptFileError(
                f"{candidate} is not scanpy's {FILENAME}: its SHA-256 is\n    {actual}\nbut it "
                f"should be\n    {SHA256}\nReplace it with the file from the scanpy wheel "
                f"(scanpy/datasets/{FILENAME}), or remove it.",
                file=str(candidate), expected=SHA256, actual=actual)
        return candidate
    if path is not None:
        raise FileNotFoundError(f"pbmc68k_reduced: {candidates[0]} does not exist. Pass the "
                                f"path of {FILENAME} or a folder holding it.")
    looked = "\n    ".join(str(c) for c in candidates)
    raise DatasetUnavailableError(
        f"pbmc68k_reduced: {FILENAME} was not found. Looked in:\n    {looked}\nEither "
        f"pip install scanpy (which ships the file), or copy {FILENAME} into "
        f"{cache_dir(NAME)} or into the folder named by UNAFRAID_DATA.")


def recover_counts(adata: Any) -> Any:
    """Integer UMI counts from ``raw.X`` = log1p(counts / n_counts * 1e4): a CSR float32 matrix.

    ``counts = round(expm1(raw.X) * n_counts / 1e4)``; every entry is within 0.08 of an
    integer before rounding. Row by row on the sparse values: nothing is densified.
    """
    raw = adata.raw.X.tocsr().copy()
    n_counts = adata.obs["n_counts"].to_numpy(np.float64)
    rows = np.repeat(np.arange(raw.shape[0]), np.diff(raw.indptr))
    raw.data = np.round(np.expm1(raw.data.astype(np.float64)) * n_counts[rows] / 1e4).astype(
        np.float32)
    raw.eliminate_zeros()
    return raw


def pbmc68k_reduced(path: str | os.PathLike[str] | None = None, counts: bool = True) -> Any:
    """Load pbmc68k_reduced as an AnnData, with the integer counts in ``layers["counts"]``.

    Parameters
    ----------
    path : str or os.PathLike, optional
        The ``.h5ad`` file or a folder holding it. Default: ``$UNAFRAID_DATA``, the cache,
        then scanpy's installed copy.
    counts : bool, default True
        Add ``layers["counts"]``: the UMI counts (CSR, float32) recovered from ``raw.X``
        and ``obs["n_counts"]`` (see :func:`recover_counts`).

    Returns
    -------
    anndata.AnnData
        700 cells x 765 genes. ``X``: scaled log-expression (float32, dense);
        ``raw.X``: log1p of counts per 10,000; ``obs["bulk_labels"]``: 10 cell types.

    Raises
    ------
    unafraid.datasets.CorruptFileError
        A copy was found but its SHA-256 is wrong.
    unafraid.datasets.DatasetUnavailableError
        No copy was found (the message lists where it looked).

    Examples
    --------
    >>> import unafraid as uf
    >>> adata = uf.datasets.pbmc68k_reduced()
    >>> adata.shape, adata.layers["counts"].sum(1).min()
    ((700, 765), 342.0)
    """
    from ..cells.data import require_anndata

    anndata = require_anndata()
    with warnings.catch_warnings():  # the file predates obsp: anndata says it moves two graphs
        warnings.filterwarnings("ignore", message="Moving element", category=FutureWarning)
        adata = anndata.read_h5ad(find_file(path))
    if counts:
        adata.layers["counts"] = recover_counts(adata)
    return adata
