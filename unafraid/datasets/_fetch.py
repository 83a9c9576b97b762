"""Find, download, verify and cache the files of MNIST-format datasets.

A dataset module (:mod:`unafraid.datasets.mnist`, :mod:`unafraid.datasets.fashion_mnist`)
describes its four IDX files with a :class:`DatasetSpec`: their names, the SHA-256 of each
file's *decompressed* content, and a list of mirrors. :func:`load_dataset` then looks in
four places, in this order, and stops at the first that has the dataset:

1. ``path``, given by the caller: a folder holding the four IDX files (gzip-compressed or
   not), or a Keras-style ``.npz`` file with the arrays ``x_train, y_train, x_test, y_test``;
2. the folder named by the environment variable ``UNAFRAID_DATA`` (or its ``<name>/``
   sub-folder, or a ``<name>.npz`` file in it);
3. the user cache, ``cache_dir(<name>)``;
4. the mirrors, in order. A downloaded file is verified before it enters the cache,
   atomically; a corrupt or truncated one is thrown away and the next mirror is tried.

Whatever the source, a file's SHA-256 is checked every time it is read, so a corrupt
local copy raises :class:`CorruptFileError` instead of being used. The checksums are of
the decompressed IDX bytes, so they hold for every correct copy whichever mirror served it
and however it was compressed; an ``.npz`` array is checked by hashing the IDX file it
stands for (header + data), so the same checksums cover it.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import math
import os
import struct
import sys
import time
import zipfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np
import numpy.typing as npt

from ..atomic import atomic_open, clean_temporaries, new_temporary

logger = logging.getLogger("unafraid.datasets")

#: Seconds a connection or a single read may block before the attempt counts as failed.
TIMEOUT: float = 30.0
#: Attempts per file and mirror for failures that may pass (timeouts, resets, HTTP 5xx).
TRIES: int = 2
#: Seconds to wait before the second attempt; the wait doubles for each further one.
BACKOFF: float = 1.0
#: Show a tqdm progress bar while downloading.
PROGRESS: bool = True
#: Seconds a whole download of one file may take, however slowly the server trickles it.
DEADLINE: float = 600.0
#: Largest (decompressed) file read or downloaded when the dataset does not give its size.
MAX_FILE_BYTES: int = 1 << 30
#: Hosts that may be reached over plain HTTP. Empty: only ``https://`` mirrors are used. A
#: test hook, for a local test server (``{"127.0.0.1"}``); never needed in real use.
INSECURE_HOSTS: frozenset[str] = frozenset()

#: The four arrays of a dataset, in the order ``load_data`` returns them.
ROLES: tuple[str, ...] = ("x_train", "y_train", "x_test", "y_test")

_CHUNK = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"
_USER_AGENT = "unafraid-datasets (Python-urllib/{}.{})".format(*sys.version_info[:2])

Split = tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8]]
LoadResult = tuple[Split, Split]


# --------------------------------------------------------------------------- errors


class DatasetError(OSError):
    """Base class of the errors raised by :mod:`unafraid.datasets`."""


class DatasetUnavailableError(DatasetError):
    """No source had the dataset and every mirror failed.

    Attributes
    ----------
    failures : list of (str, str)
        Every URL tried, with the reason it failed.
    """

    def __init__(self, message: str, failures: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.failures = list(failures)


class CorruptFileError(DatasetError):
    """A file exists but its content is not the expected one.

    Attributes
    ----------
    file : str or None
        The file or URL that was read.
    expected, actual : str or None
        The expected and the actual SHA-256 (hex) when the failure was a checksum mismatch.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        expected: str | None = None,
        actual: str | None = None,
    ) -> None:
        super().__init__(message)
        self.file = file
        self.expected = expected
        self.actual = actual


class IDXFormatError(CorruptFileError, ValueError):
    """The bytes do not form a well-formed IDX file."""


class _TruncatedDownload(ConnectionError):
    """The server closed the connection before sending the announced Content-Length."""


class _TooLarge(Exception):
    """A download or a file is larger than the dataset's file can be."""


class _DeadlinePassed(Exception):
    """A download took longer than :data:`DEADLINE` in all."""


class _NotHttps(ValueError):
    """A mirror (or a redirect) that is not an ``https://`` URL."""


# --------------------------------------------------------------------------- specs


@dataclass(frozen=True)
class DatasetSpec:
    """Everything :func:`load_dataset` needs to know about one dataset.

    Parameters
    ----------
    name : str
        Short name: the cache sub-folder and the ``<name>.npz`` file looked for, e.g. ``"mnist"``.
    title : str
        Name shown in messages, e.g. ``"MNIST"``.
    module : str
        The public module, used in messages, e.g. ``"unafraid.datasets.mnist"``.
    files : Mapping[str, str]
        Role (one of :data:`ROLES`) to IDX file name, without ``.gz``.
    sha256 : Mapping[str, str]
        IDX file name to the SHA-256 (hex) of its decompressed content.
    mirrors : Sequence[str]
        Base URLs (the file name plus ``.gz`` is appended) or URLs of ``.npz`` files
        holding all four arrays. Tried in order.
    mirror_env : str
        Environment variable whose URLs (separated by commas or spaces) are tried first.
    sizes : Mapping[str, int], optional
        IDX file name to the size of its decompressed content, in bytes: no download or
        decompression goes past it. Files without one are capped at :data:`MAX_FILE_BYTES`.
    """

    name: str
    title: str
    module: str
    files: Mapping[str, str]
    sha256: Mapping[str, str]
    mirrors: Sequence[str]
    mirror_env: str
    sizes: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = [role for role in ROLES if role not in self.files]
        if missing:
            raise ValueError(f"DatasetSpec {self.name!r}: files lacks the roles {missing}")
        unhashed = [f for f in self.files.values() if f not in self.sha256]
        if unhashed:
            raise ValueError(f"DatasetSpec {self.name!r}: no SHA-256 given for {unhashed}")

    def limit(self, filename: str) -> int:
        """The most bytes the decompressed ``filename`` may hold."""
        return int(self.sizes.get(filename, MAX_FILE_BYTES))

    @property
    def filenames(self) -> list[str]:
        """The four IDX file names, in the order of :data:`ROLES`."""
        return [self.files[role] for role in ROLES]

    def resolved_mirrors(self) -> list[str]:
        """Mirrors from ``$<mirror_env>`` first, then :attr:`mirrors`, without duplicates."""
        from_env = os.environ.get(self.mirror_env, "").replace(",", " ").split()
        seen: dict[str, None] = {}
        for url in [*from_env, *self.mirrors]:
            if not _is_npz_url(url) and not url.endswith("/"):
                url += "/"
            seen.setdefault(url, None)
        return list(seen)


_REGISTRY: dict[str, Callable[[], DatasetSpec]] = {}


def register(name: str, spec_factory: Callable[[], DatasetSpec]) -> None:
    """Make a dataset known to :func:`cached` (the factory is called at each use)."""
    _REGISTRY[name] = spec_factory


def get_spec(name: str) -> DatasetSpec:
    """Return the current spec of a registered dataset, e.g. ``get_spec("mnist")``."""
    try:
        factory = _REGISTRY[name]
    except KeyError:
        known = ", ".join(repr(n) for n in sorted(_REGISTRY))
        raise ValueError(f"Unknown dataset {name!r}; the known datasets are {known}.") from None
    return factory()


def _owner_of(digest: str | None) -> str | None:
    """Name of the registered dataset that has a file with this SHA-256, if any."""
    if digest is None:
        return None
    for name in _REGISTRY:
        if digest in get_spec(name).sha256.values():
            return name
    return None


# --------------------------------------------------------------------------- cache folder


def _platform_cache_root(platform: str, environ: Mapping[str, str], home: Path) -> Path:
    """The per-user cache folder of unafraid on ``platform`` (a ``sys.platform`` value).

    Linux and other Unix: ``$XDG_CACHE_HOME/unafraid`` (when set to an absolute path, as the
    XDG spec asks) or ``~/.cache/unafraid``; macOS: ``~/Library/Caches/unafraid``;
    Windows: ``%LOCALAPPDATA%\\unafraid\\Cache``.
    """
    if platform == "win32":
        local = environ.get("LOCALAPPDATA") or str(home / "AppData" / "Local")
        return Path(local) / "unafraid" / "Cache"
    if platform == "darwin":
        return home / "Library" / "Caches" / "unafraid"
    xdg = environ.get("XDG_CACHE_HOME", "")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "unafraid"
    return home / ".cache" / "unafraid"


def cache_dir(name: str | None = None) -> Path:
    """The folder where downloaded datasets are kept.

    ``$UNAFRAID_HOME/datasets`` when ``UNAFRAID_HOME`` is set, else ``datasets`` inside the
    platform's per-user cache folder (``~/.cache/unafraid`` on Linux,
    ``~/Library/Caches/unafraid`` on macOS, ``%LOCALAPPDATA%\\unafraid\\Cache`` on Windows).
    Nothing is created.

    Parameters
    ----------
    name : str, optional
        A dataset name such as ``"mnist"``: return that dataset's sub-folder.

    Returns
    -------
    pathlib.Path
    """
    home = os.environ.get("UNAFRAID_HOME", "")
    if home:
        root = Path(home).expanduser()
    else:
        root = _platform_cache_root(sys.platform, os.environ, Path.home())
    folder = root / "datasets"
    return folder / name if name else folder


def cached(name: str) -> bool:
    """Whether the cache holds all files of dataset ``name``, each with the right SHA-256.

    Reads and hashes the files (about 0.2 s for MNIST); touches no network and changes nothing.

    Parameters
    ----------
    name : {"mnist", "fashion_mnist"}

    Returns
    -------
    bool
    """
    spec = get_spec(name)
    folder = cache_dir(spec.name)
    for filename in spec.filenames:
        path = _find(folder, filename)
        if path is None:
            return False
        try:
            data = _read_bytes(path, spec.limit(filename))
        except CorruptFileError:
            return False
        if hashlib.sha256(data).hexdigest() != spec.sha256[filename]:
            return False
    return True


# --------------------------------------------------------------------------- IDX format

# IDX type byte -> dtype (IDX data is big-endian).
_IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def parse_idx(data: bytes | bytearray | memoryview, source: str = "<bytes>") -> np.ndarray:
    """Decode the bytes of an (uncompressed) IDX file into a NumPy array.

    An IDX file is a 4-byte magic number ``00 00 <type> <ndim>``, then ``ndim`` big-endian
    uint32 sizes, then the data in C order, big-endian.

    Parameters
    ----------
    data : bytes-like
        The whole file.
    source : str
        Where the bytes came from, for error messages.

    Returns
    -------
    numpy.ndarray
        A writable array in native byte order, shape given by the header.

    Raises
    ------
    IDXFormatError
        If the magic number, type byte or number of dimensions is invalid, or the file
        length does not match the sizes in the header.
    """
    n = len(data)
    if n < 4:
        raise IDXFormatError(
            f"{source} is not an IDX file: it is {n} bytes long, shorter than the 4-byte "
            "magic number.",
            file=source,
        )
    zero0, zero1, code, ndim = data[0], data[1], data[2], data[3]
    if zero0 or zero1:
        hint = " It is still gzip-compressed." if bytes(data[:2]) == _GZIP_MAGIC else ""
        raise IDXFormatError(
            f"{source} is not an IDX file: it starts with bytes 0x{zero0:02x} 0x{zero1:02x}, "
            f"but an IDX file starts with 0x00 0x00 <type> <ndim>.{hint}",
            file=source,
        )
    if code not in _IDX_TYPES:
        known = ", ".join(f"0x{c:02x}" for c in _IDX_TYPES)
        raise IDXFormatError(
            f"{source} is not a valid IDX file: its type byte is 0x{code:02x}; valid type "
            f"bytes are {known} (0x08 is uint8).",
            file=source,
        )
    if ndim == 0:
        raise IDXFormatError(
            f"{source} is not a valid IDX file: its header declares 0 dimensions.", file=source
        )
    header = 4 + 4 * ndim
    if n < header:
        raise IDXFormatError(
            f"{source} is truncated: its header declares {ndim} dimensions, which needs "
            f"{header} header bytes, but the file is {n} bytes long.",
            file=source,
        )
    shape = struct.unpack_from(f">{ndim}I", data, 4)
    dtype = _IDX_TYPES[code]
    count = math.prod(shape)
    expected = count * dtype.itemsize
    actual = n - header
    if actual != expected:
        what = "is truncated" if actual < expected else "has extra bytes at its end"
        raise IDXFormatError(
            f"{source} {what}: its header declares shape {shape} of {dtype.name}, i.e. "
            f"{expected} data bytes, but the file holds {actual} bytes after its "
            f"{header}-byte header.",
            file=source,
        )
    array = np.frombuffer(data, dtype=dtype, count=count, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="))  # copy: writable, native byte order


def _idx_parts(array: np.ndarray, source: str) -> tuple[bytes, memoryview]:
    """The IDX header and the data bytes that encode ``array``."""
    matches = [
        (code, dtype)
        for code, dtype in _IDX_TYPES.items()
        if array.dtype.kind == dtype.kind and array.dtype.itemsize == dtype.itemsize
    ]
    if not matches:
        raise CorruptFileError(
            f"{source} has dtype {array.dtype}, which IDX cannot hold (expected uint8).",
            file=source,
        )
    if array.ndim == 0 or array.ndim > 255 or any(s >= 2**32 for s in array.shape):
        raise CorruptFileError(f"{source} has shape {array.shape}, which IDX cannot hold.")
    code, dtype = matches[0]
    header = struct.pack(f">BBBB{array.ndim}I", 0, 0, code, array.ndim, *array.shape)
    data = np.ascontiguousarray(array, dtype=dtype).reshape(-1).view(np.uint8)
    return header, memoryview(data)


def _idx_sha256(array: np.ndarray, source: str) -> str:
    """SHA-256 of the IDX file that holds ``array``."""
    header, data = _idx_parts(array, source)
    digest = hashlib.sha256(header)
    digest.update(data)
    return digest.hexdigest()


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file, gzip-compressed or not (detected from its first bytes).

    No checksum is verified; use the dataset loaders for that.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    numpy.ndarray
    """
    return parse_idx(_read_bytes(Path(path), MAX_FILE_BYTES), str(path))


# --------------------------------------------------------------------------- local files


def _compressed_limit(limit: int) -> int:
    """The most bytes a gzip file of at most ``limit`` decompressed bytes can take (gzip adds
    at most about 0.03% to incompressible data, plus a header)."""
    return limit + limit // 100 + 65536


def _read_bytes(path: Path, limit: int) -> bytes:
    """The content of ``path``, decompressed if it starts with the gzip magic bytes; a file
    (or its decompressed content) over ``limit`` bytes is refused before it is inflated, and
    decompression stops there."""
    with open(path, "rb") as f:
        magic = f.read(2)
        f.seek(0)
        size = os.fstat(f.fileno()).st_size
        if size > (limit if magic != _GZIP_MAGIC else _compressed_limit(limit)):
            raise CorruptFileError(
                f"{path} is {size:,} bytes, larger than the file it should hold can "
                f"be ({limit:,} bytes decompressed): it is another file.",
                file=str(path),
            )
        if magic != _GZIP_MAGIC:
            return f.read()
        out, size = [], 0
        try:
            with gzip.GzipFile(fileobj=f, mode="rb") as g:
                while size <= limit and (chunk := g.read(_CHUNK)):  # read(limit) would
                    out.append(chunk)  # allocate the limit at once
                    size += len(chunk)
        except (gzip.BadGzipFile, EOFError, zlib.error) as e:
            raise CorruptFileError(
                f"{path} is not a complete gzip file ({type(e).__name__}: {e}).", file=str(path)
            ) from e
        if size > limit:
            raise CorruptFileError(
                f"{path} decompresses to more than {limit:,} bytes, the size of the file it "
                "should hold; decompression stopped there (a gzip bomb, or another file).",
                file=str(path),
            )
        return b"".join(out)


def _candidates(filename: str) -> list[str]:
    """Names under which ``filename`` may be stored: plain or ``.gz``, and the dotted
    ``train-images.idx3-ubyte`` spelling some unpackers and Kaggle use."""
    dotted = filename.replace("-idx", ".idx", 1)
    return [filename, filename + ".gz", dotted, dotted + ".gz"]


def _find(folder: Path, filename: str) -> Path | None:
    for candidate in _candidates(filename):
        path = folder / candidate
        if path.is_file():
            return path
    return None


def _checksum_error(
    spec: DatasetSpec, source: str, filename: str, expected: str, actual: str, fix: str
) -> CorruptFileError:
    return CorruptFileError(
        f"{spec.title} file {source} is corrupt or is not {spec.title}'s {filename}: the "
        f"SHA-256 of its decompressed content is\n    {actual}\nbut it should be\n"
        f"    {expected}\n{fix}",
        file=source,
        expected=expected,
        actual=actual,
    )


def _read_verified(path: Path, spec: DatasetSpec, filename: str, fix: str) -> np.ndarray:
    """Read an IDX file, check its SHA-256 against the spec, and decode it."""
    try:
        data = _read_bytes(path, spec.limit(filename))
    except CorruptFileError as e:
        raise CorruptFileError(f"{e}\n{fix}", file=e.file) from e
    expected = spec.sha256[filename]
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise _checksum_error(spec, str(path), filename, expected, actual, fix)
    return parse_idx(data, str(path))


def _load_folder(folder: Path, spec: DatasetSpec, fix: str) -> dict[str, np.ndarray]:
    """Arrays by file name from a folder holding the four IDX files; all must be there."""
    paths = {filename: _find(folder, filename) for filename in spec.filenames}
    missing = [filename for filename, path in paths.items() if path is None]
    if missing:
        present = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
        raise FileNotFoundError(
            f"{folder} does not hold {spec.title}'s "
            + ", ".join(missing)
            + " (looked for each name as is, with .gz, and spelled "
            "'train-images.idx3-ubyte'). The folder holds: "
            + (", ".join(present) if present else "nothing")
            + f".\nPut the four files {', '.join(f + '.gz' for f in spec.filenames)} "
            "(compressed or not) there."
        )
    return {
        filename: _read_verified(path, spec, filename, fix)
        for filename, path in paths.items()
        if path is not None
    }


def _load_npz(
    npz_path: Path,
    spec: DatasetSpec,
    fix: str,
    source: str | None = None,
    filenames: Sequence[str] | None = None,
) -> dict[str, np.ndarray]:
    """Arrays by IDX file name from a Keras-style ``.npz``, each verified by the SHA-256
    of the IDX file it stands for. Never unpickles anything."""
    source = source or str(npz_path)
    wanted = set(filenames if filenames is not None else spec.filenames)
    read_errors = (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error)
    try:
        npz = np.load(npz_path, allow_pickle=False)
    except read_errors as e:
        raise CorruptFileError(
            f"{source} could not be read as an .npz file ({type(e).__name__}: {e}).\n{fix}",
            file=source,
        ) from e
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise CorruptFileError(
            f"{source} holds a single array, not an .npz archive with the arrays "
            f"{', '.join(ROLES)}.\n{fix}",
            file=source,
        )
    arrays: dict[str, np.ndarray] = {}
    with npz:
        missing = [role for role in ROLES if spec.files[role] in wanted and role not in npz.files]
        if missing:
            raise CorruptFileError(
                f"{source} lacks the arrays {missing}; it holds {sorted(npz.files)}, and a "
                f"{spec.title} .npz must hold {', '.join(ROLES)}.\n{fix}",
                file=source,
            )
        for role in ROLES:
            filename = spec.files[role]
            if filename not in wanted:
                continue
            where = f"{source}[{role!r}]"
            try:
                _check_npz_member(npz, role, spec.limit(filename), where)
                array = npz[role]
            except read_errors as e:
                raise CorruptFileError(
                    f"{where} could not be read ({type(e).__name__}: {e}).\n{fix}", file=where
                ) from e
            expected = spec.sha256[filename]
            actual = _idx_sha256(array, where)
            if actual != expected:
                raise _checksum_error(
                    spec,
                    f"{where} (hashed as the IDX file {filename})",
                    filename,
                    expected,
                    actual,
                    fix,
                )
            arrays[filename] = np.array(array)
    return arrays


def _check_npz_member(npz: np.lib.npyio.NpzFile, role: str, limit: int, where: str) -> None:
    """Refuse an ``.npz`` array larger than ``limit`` bytes, from the zip directory and the
    ``.npy`` header alone, before anything is inflated or allocated."""
    info = npz.zip.getinfo(f"{role}.npy") if f"{role}.npy" in npz.zip.namelist() else None
    if info is None:
        return  # np.load reports it
    if info.file_size > limit + 65536 + 128:  # the array, plus the .npy header's most
        raise CorruptFileError(
            f"{where} holds {info.file_size:,} bytes, more than the {limit:,} bytes its file "
            "has: it is not that array (nothing was inflated).",
            file=where,
        )
    with npz.zip.open(info) as member:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(member)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(member)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > info.file_size:
        raise CorruptFileError(
            f"{where} claims shape {shape} ({nbytes:,} bytes) but holds {info.file_size:,} "
            "bytes: the archive is corrupt.",
            file=where,
        )


def _load_explicit(path: Path, spec: DatasetSpec) -> dict[str, np.ndarray]:
    fix = (
        "Replace it with a correct copy (docs/datasets.md lists the mirrors), or call "
        f"{spec.module}.load_data() without `path` to download a verified copy into the cache."
    )
    if not path.exists():
        raise FileNotFoundError(
            f"path={str(path)!r} does not exist (resolved to {path.absolute()}). In unafraid, "
            f"`path` names a folder holding {spec.title}'s four IDX files or a Keras-style "
            ".npz file to read; unlike Keras, it is not the name of a cache file. Call "
            f"{spec.module}.load_data() without `path` to use the cache (downloading once "
            "if needed)."
        )
    if path.is_dir():
        if _find(path, spec.filenames[0]) is None and (path / f"{spec.name}.npz").is_file():
            return _load_npz(path / f"{spec.name}.npz", spec, fix)
        return _load_folder(path, spec, fix)
    return _load_npz(path, spec, fix)


def _load_from_data_env(spec: DatasetSpec) -> dict[str, np.ndarray] | None:
    """The dataset from ``$UNAFRAID_DATA``, or None when that folder does not hold it."""
    value = os.environ.get("UNAFRAID_DATA", "")
    if not value:
        return None
    root = Path(value).expanduser()
    fix = (
        f"Replace it with a correct copy, or unset UNAFRAID_DATA to download a verified "
        f"copy into {cache_dir(spec.name)}."
    )
    if not root.is_dir():
        raise FileNotFoundError(
            f"UNAFRAID_DATA={value!r} is not a folder. Set it to a folder that holds "
            f"{spec.title}'s four IDX files (or a sub-folder {spec.name}/ holding them, or "
            f"a {spec.name}.npz file), or unset it."
        )
    if (root / spec.name).is_dir():
        return _load_folder(root / spec.name, spec, fix)
    if (root / f"{spec.name}.npz").is_file():
        return _load_npz(root / f"{spec.name}.npz", spec, fix)
    if all(_find(root, filename) is None for filename in spec.filenames):
        logger.info("UNAFRAID_DATA=%s holds no %s files; using the cache.", root, spec.title)
        return None
    try:
        return _load_folder(root, spec, fix)
    except CorruptFileError as e:
        owner = _owner_of(e.actual)
        if owner is None or owner == spec.name:
            raise
        # MNIST and Fashion-MNIST share file names: a folder of one is not a corrupt
        # copy of the other. Fall through to the cache, and say so.
        logger.warning(
            "UNAFRAID_DATA=%s holds %s, not %s; using the cache. To keep several datasets "
            "there, put each in a sub-folder named after it (%s/%s/).",
            root,
            owner,
            spec.title,
            root,
            spec.name,
        )
        return None


def data_env_report(name: str) -> str | None:
    """What ``$UNAFRAID_DATA`` means for dataset ``name``, in one line for ``unafraid doctor``;
    None when the variable is not set. Reads and verifies the files found there.

    Parameters
    ----------
    name : {"mnist", "fashion_mnist"}

    Returns
    -------
    str or None
    """
    value = os.environ.get("UNAFRAID_DATA", "")
    if not value:
        return None
    spec = get_spec(name)
    where = f"UNAFRAID_DATA={value}"
    if not Path(value).expanduser().is_dir():
        return (f"{where} is not a folder, so loading {spec.title} fails: set it to the folder "
                f"holding the four files, or unset it")
    try:
        arrays = _load_from_data_env(spec)
    except (DatasetError, FileNotFoundError) as e:
        first = str(e).splitlines()[0]
        return f"{where} is used but does not give a correct {spec.title}: {first}"
    cache = "cached" if cached(name) else "not cached"
    if arrays is None:
        return (f"not in {where} (it does not hold {spec.title}), so the cache is used: "
                f"{cache} in {cache_dir(name)}")
    return f"found and verified in {where} (used before the cache; nothing is downloaded)"


# --------------------------------------------------------------------------- downloads


def _is_npz_url(url: str) -> bool:
    return url.split("?", 1)[0].lower().endswith(".npz")


def _check_https(url: str) -> None:
    """Refuse a URL that is not ``https://`` (plain HTTP only for :data:`INSECURE_HOSTS`)."""
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in INSECURE_HOSTS):
        return
    raise _NotHttps(
        f"not an https:// URL ({url[:200]}): unafraid downloads only over HTTPS, so that what "
        "arrives is what the mirror sent. Use the mirror's https:// address, or download the "
        "files yourself and pass `path=` or set UNAFRAID_DATA."
    )


def _open(url: str, timeout: float) -> IO[bytes]:
    """Open ``url`` for reading, following redirects only to https:// URLs."""
    import urllib.request

    class HttpsOnlyRedirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
            _check_https(newurl)
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    _check_https(url)
    opener = urllib.request.build_opener(HttpsOnlyRedirects)
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    return opener.open(request, timeout=timeout)


def _download(
    url: str,
    dest: IO[bytes],
    *,
    timeout: float,
    progress: bool,
    desc: str,
    max_bytes: int,
    deadline: float | None = None,
) -> None:
    """Stream ``url`` into ``dest``, with a progress bar; fail on a short body, on more than
    ``max_bytes``, or when the whole download takes over ``deadline`` seconds."""
    deadline = DEADLINE if deadline is None else deadline
    start = time.monotonic()
    with _open(url, timeout) as response:
        length = response.headers.get("Content-Length", "")
        total = int(length) if length.isdigit() else None
        if total is not None and total > max_bytes:
            raise _TooLarge(
                f"the server announces {total:,} bytes, more than the {max_bytes:,} this file "
                "can take; nothing was downloaded"
            )
        from tqdm.auto import tqdm

        received = 0
        with tqdm(
            total=total,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc=desc,
            disable=not progress,
        ) as bar:
            # read1: whatever has arrived, so that a server trickling bytes meets the deadline
            while chunk := response.read1(_CHUNK):
                received += len(chunk)
                if received > max_bytes:
                    raise _TooLarge(
                        f"the server sent more than the {max_bytes:,} bytes this file can take "
                        "(no Content-Length was announced); stopped there"
                    )
                if time.monotonic() - start > deadline:
                    raise _DeadlinePassed(
                        f"the download took over {deadline:g} s in all ({received:,} bytes "
                        "received); stopped there"
                    )
                dest.write(chunk)
                bar.update(len(chunk))
    if total is not None and received != total:
        raise _TruncatedDownload(
            f"the connection closed after {received} of the {total} bytes announced"
        )


def _decompress_hashing(src: IO[bytes], dst: IO[bytes], source: str, limit: int) -> str:
    """Copy ``src`` to ``dst``, gunzipping it if it is gzip; return the SHA-256 of the output.
    Stops with :class:`CorruptFileError` as soon as the output passes ``limit`` bytes."""
    magic = src.read(2)
    src.seek(0)
    reader: IO[bytes] = gzip.GzipFile(fileobj=src, mode="rb") if magic == _GZIP_MAGIC else src
    digest = hashlib.sha256()
    written = 0
    try:
        while chunk := reader.read(_CHUNK):
            written += len(chunk)
            if written > limit:
                raise CorruptFileError(
                    f"decompresses to more than {limit:,} bytes, the size of the file it should "
                    "be; stopped there (a gzip bomb, or another file)",
                    file=source,
                )
            digest.update(chunk)
            dst.write(chunk)
    except (gzip.BadGzipFile, EOFError, zlib.error) as e:
        raise CorruptFileError(
            f"not a complete gzip file ({type(e).__name__}: {e})", file=source
        ) from e
    return digest.hexdigest()


def _scratch(folder: Path) -> tuple[IO[bytes], Path]:
    """A temporary file of unafraid's naming in ``folder``, open for reading and writing."""
    fd, path = new_temporary(folder, "download")
    return os.fdopen(fd, "w+b"), path


def _fetch_idx(
    url: str, spec: DatasetSpec, filename: str, folder: Path, *, timeout: float, progress: bool
) -> None:
    """Download one IDX file (gzip or not) from ``url``, verify it, and add it to ``folder``."""
    raw, raw_path = _scratch(folder)
    try:
        with raw:
            limit = spec.limit(filename)
            _download(url, raw, timeout=timeout, progress=progress, desc=filename,
                      max_bytes=_compressed_limit(limit))
            raw.seek(0)
            with atomic_open(folder / filename, clean=False) as out:
                actual = _decompress_hashing(raw, out, url, limit)
                expected = spec.sha256[filename]
                if actual != expected:
                    raise CorruptFileError(
                        f"the SHA-256 of the decompressed content is {actual}, expected {expected}",
                        file=url,
                        expected=expected,
                        actual=actual,
                    )
    finally:
        raw_path.unlink(missing_ok=True)


def _write_idx(array: np.ndarray, dest: Path, source: str) -> None:
    """Write ``array`` as an IDX file at ``dest``, atomically."""
    header, data = _idx_parts(array, source)
    with atomic_open(dest, clean=False) as out:
        out.write(header)
        out.write(data)


def _fetch_npz(
    url: str,
    spec: DatasetSpec,
    filenames: Sequence[str],
    folder: Path,
    *,
    timeout: float,
    progress: bool,
) -> None:
    """Download a Keras-style ``.npz``; verify the wanted arrays; add them to ``folder`` as IDX."""
    raw, raw_path = _scratch(folder)
    try:
        with raw:
            total = sum(spec.limit(f) for f in spec.filenames)
            _download(url, raw, timeout=timeout, progress=progress, desc=f"{spec.name}.npz",
                      max_bytes=_compressed_limit(total))
        arrays = _load_npz(raw_path, spec, fix="", source=url, filenames=filenames)
        for filename, array in arrays.items():
            _write_idx(array, folder / filename, url)
    finally:
        raw_path.unlink(missing_ok=True)


def _describe(error: BaseException, timeout: float) -> str:
    """A short reason for a failed download."""
    import urllib.error

    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, urllib.error.URLError):
        inner = error.reason
        if isinstance(inner, TimeoutError):
            return f"timed out (no answer within {timeout:g} s)"
        return f"cannot connect ({inner})"
    if isinstance(error, TimeoutError):
        return f"timed out (no data for {timeout:g} s)"
    if isinstance(error, _TruncatedDownload):
        return f"truncated download: {error}"
    if isinstance(error, _TooLarge):
        return f"too large: {error}"
    if isinstance(error, _DeadlinePassed):
        return f"too slow: {error}"
    if isinstance(error, _NotHttps):
        return f"refused: {error}"
    if isinstance(error, CorruptFileError):
        return "corrupt download: " + " ".join(str(error).split())
    return f"{type(error).__name__}: {error}"


def _attempt(
    url: str, action: Callable[[], None], *, tries: int, backoff: float, timeout: float
) -> tuple[str | None, bool]:
    """Run ``action`` (a download from ``url``), retrying transient failures.

    Returns
    -------
    reason : str or None
        None on success, else why the last attempt failed.
    unreachable : bool
        True when the failures were transient (network, timeouts, HTTP 5xx) on every try,
        so the mirror is better skipped for the remaining files.
    """
    import http.client  # with urllib, only when downloading: they load ssl (megabytes)
    import urllib.error

    reason = "not tried"
    for attempt in range(1, tries + 1):
        try:
            action()
            return None, False
        except (CorruptFileError, _TooLarge, _NotHttps) as e:
            # The server sent wrong bytes; asking it again returns the same wrong bytes.
            return _describe(e, timeout), False
        except _DeadlinePassed as e:  # too slow to try again: skip this mirror
            return _describe(e, timeout), True
        except urllib.error.HTTPError as e:
            e.close()
            reason = _describe(e, timeout)
            if e.code < 500 and e.code != 429:
                return reason, False
        except (OSError, http.client.HTTPException) as e:
            reason = _describe(e, timeout)
        except ValueError as e:  # malformed URL, unknown scheme
            return f"invalid URL ({e})", False
        if attempt < tries:
            wait = backoff * 2 ** (attempt - 1)
            logger.warning(
                "Download of %s failed (try %d of %d): %s; retrying in %g s.",
                url,
                attempt,
                tries,
                reason,
                wait,
            )
            time.sleep(wait)
    return (f"{reason} ({tries} tries)" if tries > 1 else reason), True


def _download_missing(
    spec: DatasetSpec,
    folder: Path,
    missing: Sequence[str],
    *,
    timeout: float,
    tries: int,
    backoff: float,
    progress: bool,
) -> None:
    """Fetch the ``missing`` files into ``folder`` from the first mirror that has each."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DatasetError(
            f"Cannot create the dataset cache folder {folder} ({e}). Set UNAFRAID_HOME to a "
            "writable folder, or pass `path=` / set UNAFRAID_DATA to a folder holding the files."
        ) from e
    todo = list(missing)
    failures: list[tuple[str, str]] = []
    mirrors = spec.resolved_mirrors()
    for mirror in mirrors:
        if not todo:
            break
        if _is_npz_url(mirror):
            wanted = list(todo)

            def fetch_npz(url: str = mirror, wanted: list[str] = wanted) -> None:
                _fetch_npz(url, spec, wanted, folder, timeout=timeout, progress=progress)

            reason, _ = _attempt(mirror, fetch_npz, tries=tries, backoff=backoff, timeout=timeout)
            if reason is None:
                todo = []
            else:
                failures.append((mirror, reason))
                logger.warning("Mirror %s failed: %s; trying the next one.", mirror, reason)
            continue
        for filename in list(todo):
            url = f"{mirror}{filename}.gz"

            def fetch_idx(url: str = url, filename: str = filename) -> None:
                _fetch_idx(url, spec, filename, folder, timeout=timeout, progress=progress)

            reason, unreachable = _attempt(
                url, fetch_idx, tries=tries, backoff=backoff, timeout=timeout
            )
            if reason is None:
                todo.remove(filename)
                continue
            failures.append((url, reason))
            if unreachable:
                skipped = [f for f in todo if f != filename]
                for other in skipped:
                    failures.append((f"{mirror}{other}.gz", "not tried: this mirror failed above"))
                logger.warning("Mirror %s failed: %s; trying the next one.", mirror, reason)
                break
            logger.warning("%s failed: %s; will try the next mirror.", url, reason)
    if todo:
        raise DatasetUnavailableError(_unavailable_message(spec, todo, failures, mirrors), failures)


def _unavailable_message(
    spec: DatasetSpec,
    todo: Sequence[str],
    failures: Sequence[tuple[str, str]],
    mirrors: Sequence[str],
) -> str:
    tried = "\n".join(f"  - {url}: {reason}" for url, reason in failures) or "  (no mirrors)"
    # An example URL from the built-in list: the user's own mirror may be the broken one.
    example = next((m for m in [*spec.mirrors, *mirrors] if not _is_npz_url(m)), None)
    if example is not None and not example.endswith("/"):
        example += "/"
    example_line = f"  {example}{spec.filenames[0]}.gz\n" if example else ""
    folder = cache_dir(spec.name)
    gz_names = ", ".join(f"{f}.gz" for f in spec.filenames)
    return (
        f"Could not get {spec.title}: every mirror failed for {', '.join(todo)}.\n"
        f"URLs tried:\n{tried}\n"
        f"To use {spec.title} without this network access, download its four files\n"
        f"  {gz_names}\n"
        f"(gzip-compressed or not) on a machine that can reach a mirror, for example\n"
        f"{example_line}"
        "then do one of:\n"
        f"  1. put them in the cache folder {folder}{os.sep} "
        "(they are verified when read), or\n"
        "  2. put them in a folder and set the environment variable UNAFRAID_DATA to it\n"
        f"     (or to its parent, with the files in a sub-folder named {spec.name}), or\n"
        f'  3. pass the folder: {spec.module}.load_data(path="/that/folder").\n'
        f"A Keras-style {spec.name}.npz (arrays {', '.join(ROLES)}) works too, with `path=`.\n"
        f"To try another mirror first, set {spec.mirror_env} to its base URL."
    )


def _load_cache(spec: DatasetSpec, folder: Path) -> tuple[dict[str, np.ndarray], list[str]]:
    """Verified arrays found in the cache, and the file names still missing.

    A cached file that fails verification is deleted (with a warning) so it is fetched again.
    """
    arrays: dict[str, np.ndarray] = {}
    missing: list[str] = []
    for filename in spec.filenames:
        path = _find(folder, filename)
        if path is None:
            missing.append(filename)
            continue
        try:
            arrays[filename] = _read_verified(path, spec, filename, fix="")
        except CorruptFileError as e:
            logger.warning("%s\nDeleting %s from the cache; it will be fetched again.", e, path)
            path.unlink()
            missing.append(filename)
    return arrays, missing


def _assemble(arrays: Mapping[str, np.ndarray], spec: DatasetSpec) -> LoadResult:
    x_train, y_train, x_test, y_test = (arrays[spec.files[role]] for role in ROLES)
    for split, x, y in (("training", x_train, y_train), ("test", x_test, y_test)):
        if x.ndim != 3 or y.ndim != 1 or x.shape[0] != y.shape[0]:
            raise DatasetError(
                f"{spec.title}'s {split} files do not fit together: images have shape "
                f"{x.shape} and labels {y.shape}; expected (n, rows, cols) and (n,)."
            )
    return (x_train, y_train), (x_test, y_test)


def load_dataset(
    spec: DatasetSpec,
    path: str | os.PathLike[str] | None = None,
    *,
    timeout: float | None = None,
    tries: int | None = None,
    backoff: float | None = None,
    progress: bool | None = None,
) -> LoadResult:
    """Load a dataset from ``path``, ``$UNAFRAID_DATA``, the cache, or the mirrors.

    Parameters
    ----------
    spec : DatasetSpec
    path : str or os.PathLike, optional
        A folder holding the four IDX files, or a Keras-style ``.npz`` file. When given,
        no other source is used.
    timeout, tries, backoff, progress : optional
        Override :data:`TIMEOUT`, :data:`TRIES`, :data:`BACKOFF`, :data:`PROGRESS`.

    Returns
    -------
    ((x_train, y_train), (x_test, y_test))
        Verified arrays.

    Raises
    ------
    FileNotFoundError
        ``path`` or ``$UNAFRAID_DATA`` lacks files.
    CorruptFileError
        A file in ``path`` or ``$UNAFRAID_DATA`` has the wrong SHA-256 or cannot be decoded.
    DatasetUnavailableError
        The dataset had to be downloaded and every mirror failed.
    """
    if path is not None:
        return _assemble(_load_explicit(Path(path).expanduser(), spec), spec)
    arrays = _load_from_data_env(spec)
    if arrays is not None:
        return _assemble(arrays, spec)

    folder = cache_dir(spec.name)
    clean_temporaries(folder, own_folder=True)  # left by downloads that were killed
    arrays, missing = _load_cache(spec, folder)
    if missing:
        _download_missing(
            spec,
            folder,
            missing,
            timeout=TIMEOUT if timeout is None else timeout,
            tries=max(1, TRIES if tries is None else tries),
            backoff=BACKOFF if backoff is None else backoff,
            progress=PROGRESS if progress is None else progress,
        )
        fix = f"Delete {folder} and try again."
        for filename in missing:
            arrays[filename] = _read_verified(folder / filename, spec, filename, fix)
    return _assemble(arrays, spec)
