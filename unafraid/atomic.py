"""The one atomic file writer: a reader sees the old file or the new one, never half of either.

Every file unafraid writes (models, weights, reports, figures, AnnData files, downloaded
datasets) goes through :func:`atomic_open`, or :func:`atomic_path` for a writer that wants a
file name rather than a file object (``AnnData.write_h5ad``); figures through
:func:`atomic_savefig`. The bytes go to a temporary file in the target's own folder, are
flushed to disk (``fsync``), and the temporary is renamed over the target (``os.replace``,
atomic on POSIX and Windows); the rename itself is then flushed. The user's file system is
left as it was:

* a symlink is written *through*: its target gets the new bytes and the link stays;
* a replaced file keeps its permission bits; a new file gets the umask's default (0644
  under the usual umask 022), as ``open(path, "w")`` would give;
* the temporary name is short and fixed in length (``.unafraid-<pid>-<host>-<random>.tmp``,
  under 40 bytes), so a file name of 250 bytes still works;
* an empty path or a folder is refused with a message saying so.

A process killed mid-write leaves its temporary behind. :func:`clean_temporaries` removes
those whose writer is gone (its process id, stored in the name with a tag of the machine, is
no longer running on this machine) or that are over an hour old; it is called on the folder
of every write. Only names of unafraid's own pattern are ever removed.

Examples
--------
>>> with atomic_open("results.csv", "w") as f:           # doctest: +SKIP
...     f.write("a,b\\n1,2\\n")
>>> with atomic_path("cells.h5ad") as tmp:               # doctest: +SKIP
...     adata.write_h5ad(tmp)
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

#: Every temporary unafraid writes matches this: ``.unafraid-<pid>-<host>-<random>.<kind>``,
#: with ``<host>`` 4 hex digits naming the machine and ``<random>`` 8 hex digits.
TEMP_PATTERN = re.compile(r"^\.unafraid-(\d{1,10})-([0-9a-f]{4})-[0-9a-f]{8}\.(tmp|part|download)$")
#: The temporaries of older unafraid versions: ``.<file name>.<8 mkstemp characters><suffix>``.
LEGACY_TEMP_PATTERN = re.compile(r"^\.(.+)\.[a-z0-9_]{8}(\.tmp|\.part|(?:\.npz)?\.download)$")
#: A temporary older than this (seconds since its last write) is stale whoever wrote it.
MAX_TEMP_AGE: float = 3600.0


def check_target(path: str | os.PathLike[str]) -> Path:
    """The file that a write to ``path`` must replace: symlinks followed, misuse refused.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    pathlib.Path
        ``path`` itself, or the file its symlink (chain) points to.

    Raises
    ------
    ValueError
        ``path`` is empty.
    IsADirectoryError
        ``path`` is a folder (or a symlink to one).
    """
    text = os.fspath(path)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    if not text.strip():
        raise ValueError(f"The file path is empty ({text!r}); give a file name such as "
                         f"'model.keras'.")
    target = Path(text)
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    if target.is_dir():
        raise IsADirectoryError(
            f"{text} is a folder, not a file: cannot write over it. Give a file path inside "
            f"it, e.g. {Path(text) / 'model.keras'}.")
    return target


def host_tag() -> str:
    """4 hex digits naming this machine (from its host name): a process id in a temporary's
    name is only checked on the machine that wrote it (a shared folder may be written from
    several machines or containers)."""
    import hashlib
    import socket
    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:4]


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name == "nt":  # no cheap, safe check: rely on the age alone
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # exists (another user's) or cannot tell: keep the file
    return True


def is_stale_temporary(entry: os.DirEntry[str] | Path, now: float | None = None,
                       own_folder: bool = False) -> bool:
    """Whether ``entry`` is a temporary of unafraid's naming left behind by a dead writer.

    Parameters
    ----------
    entry : os.DirEntry or pathlib.Path
        A directory entry.
    now : float, optional
        The current time (``time.time()``).
    own_folder : bool, default False
        The folder is unafraid's own (the dataset cache), where any old-style ``.part`` or
        ``.download`` file is unafraid's.

    Returns
    -------
    bool
        True for a regular file (not a symlink) whose name matches :data:`TEMP_PATTERN` and
        whose process is gone (a process of this machine) or which is over
        :data:`MAX_TEMP_AGE` seconds old. A name of
        :data:`LEGACY_TEMP_PATTERN` (older unafraid versions) counts only when over that age
        and when the file it was written for exists beside it (or, in ``own_folder``, for
        ``.part`` and ``.download`` files).
    """
    name = entry.name
    new = TEMP_PATTERN.match(name)
    legacy = None if new else LEGACY_TEMP_PATTERN.match(name)
    if new is None and legacy is None:
        return False
    try:
        if entry.is_symlink() or not entry.is_file():
            return False
        age = (time.time() if now is None else now) - entry.stat().st_mtime
    except OSError:
        return False
    if new is not None:
        here = new.group(2) == host_tag()
        return age > MAX_TEMP_AGE or (here and not _pid_alive(int(new.group(1))))
    assert legacy is not None
    if age <= MAX_TEMP_AGE:
        return False
    if own_folder and legacy.group(2) != ".tmp":
        return True
    return (Path(entry.path if isinstance(entry, os.DirEntry) else entry).parent
            / legacy.group(1)).is_file()


def clean_temporaries(folder: str | os.PathLike[str], own_folder: bool = False) -> list[Path]:
    """Delete the stale temporaries (see :func:`is_stale_temporary`) in ``folder``.

    Nothing else is touched, and failures (a read-only folder, a file removed meanwhile) are
    ignored: cleaning is a courtesy, never a reason for a write to fail.

    Parameters
    ----------
    folder : str or os.PathLike
    own_folder : bool, default False
        See :func:`is_stale_temporary`.

    Returns
    -------
    list of pathlib.Path
        The files removed.
    """
    removed: list[Path] = []
    now = time.time()
    try:
        with os.scandir(folder) as entries:
            stale = [Path(e.path) for e in entries if is_stale_temporary(e, now, own_folder)]
    except OSError:
        return removed
    for path in stale:
        with contextlib.suppress(OSError):
            path.unlink()
            removed.append(path)
    return removed


def new_temporary(folder: str | os.PathLike[str], kind: str = "tmp",
                  mode: int = 0o666) -> tuple[int, Path]:
    """Create an empty temporary file of unafraid's naming in ``folder``.

    Parameters
    ----------
    folder : str or os.PathLike
    kind : {"tmp", "part", "download"}
        The name's suffix.
    mode : int, default 0o666
        Permission bits before the umask, as for ``os.open``.

    Returns
    -------
    (int, pathlib.Path)
        An open file descriptor (read-write) and the path.
    """
    if kind not in ("tmp", "part", "download"):
        raise ValueError(f"kind must be 'tmp', 'part' or 'download', not {kind!r}.")
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        path = Path(folder) / f".unafraid-{os.getpid()}-{host_tag()}-{secrets.token_hex(4)}.{kind}"
        try:
            return os.open(path, flags, mode), path
        except FileExistsError:
            continue


def _fsync_folder(folder: Path) -> None:
    if not hasattr(os, "O_DIRECTORY"):
        return
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a folder; the rename is still atomic
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "wb", *, encoding: str | None = None,
                make_folders: bool = True, clean: bool = True) -> Iterator[IO[Any]]:
    """Open a temporary next to ``path``; on a clean exit it replaces ``path`` atomically.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write. A symlink is written through; a folder or an empty path is refused.
    mode : {"wb", "w"}
        Binary or text.
    encoding : str, optional
        For text mode (default UTF-8).
    make_folders : bool, default True
        Create missing parent folders.
    clean : bool, default True
        Remove stale temporaries from the folder first (:func:`clean_temporaries`).

    Yields
    ------
    file object
        Write to it. If the block raises, the temporary is deleted and ``path`` is untouched.
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_open writes whole files: mode must be 'wb' or 'w', not {mode!r}.")
    with _replacing(path, make_folders, clean) as (fd, _tmp, _target):
        with os.fdopen(fd, mode, **({"encoding": encoding or "utf-8"} if mode == "w" else {})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, make_folders: bool = True,
                clean: bool = True) -> Iterator[Path]:
    """The path of an empty temporary next to ``path``; on a clean exit it replaces ``path``.

    For writers that take a file name, not a file object (``AnnData.write_h5ad``, h5py):
    they write the temporary (overwriting it is fine), which is then flushed to disk and
    renamed over ``path`` as in :func:`atomic_open`, with the same rules (symlinks written
    through, permission bits kept, stale temporaries cleaned).

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.
    make_folders, clean : bool, default True
        As in :func:`atomic_open`.

    Yields
    ------
    pathlib.Path
        The temporary's path (``.unafraid-<pid>-<host>-<random>.tmp`` in the target's folder).
        If the block raises, or leaves no file there, the temporary is deleted and ``path`` is
        untouched.

    Raises
    ------
    FileNotFoundError
        The writer removed the temporary instead of writing it.

    Examples
    --------
    >>> with atomic_path("cells.h5ad") as tmp:              # doctest: +SKIP
    ...     adata.write_h5ad(tmp)
    """
    with _replacing(path, make_folders, clean) as (fd, tmp, target):
        os.close(fd)
        yield tmp
        if not tmp.is_file():
            raise FileNotFoundError(f"The writer left no file at the temporary {tmp.name}, so "
                                    f"{target} was not replaced; it must write to the path given.")
        fd = os.open(tmp, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def _replacing(path: str | os.PathLike[str], make_folders: bool,
               clean: bool) -> Iterator[tuple[int, Path, Path]]:
    """A new temporary next to ``path`` (its open descriptor, its path, and the resolved
    target); on a clean exit it is renamed over the target, on an error it is deleted."""
    target, keep_mode = _prepare(path, make_folders, clean)
    fd, tmp = new_temporary(target.parent)
    try:
        yield fd, tmp, target
        _replace(tmp, target, keep_mode)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_folder(target.parent)


def atomic_savefig(fig: Any, path: str | os.PathLike[str], **kwargs: Any) -> Path:
    """``fig.savefig(path, **kwargs)``, atomically (see :func:`atomic_open`).

    The format comes from ``kwargs["format"]``, else from the file's extension, as matplotlib
    does; a name without an extension gets matplotlib's default format's (``savefig.format``,
    normally ``png``) appended, as ``fig.savefig`` would.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or os.PathLike
    **kwargs
        Passed to ``fig.savefig`` (``dpi``, ``bbox_inches``, ...).

    Returns
    -------
    pathlib.Path
        The file written.

    Examples
    --------
    >>> atomic_savefig(fig, "history.png", dpi=150)         # doctest: +SKIP
    """
    check_target(path)  # an empty path or a folder: refused before anything is drawn
    path = Path(os.fspath(path))
    fmt = kwargs.pop("format", None)
    if fmt is None:
        if path.suffix:
            fmt = path.suffix[1:].lower()
        else:
            from matplotlib import rcParams
            fmt = rcParams["savefig.format"]
            path = path.with_name(f"{path.name}.{fmt}")
    with atomic_open(path, "wb") as f:
        fig.savefig(f, format=fmt, **kwargs)
    return path


def _prepare(path: str | os.PathLike[str], make_folders: bool, clean: bool
             ) -> tuple[Path, int | None]:
    """The checked target and the permission bits to keep (None for a new file)."""
    target = check_target(path)
    if make_folders:
        target.parent.mkdir(parents=True, exist_ok=True)
    if clean:
        clean_temporaries(target.parent)
    try:
        return target, target.stat().st_mode & 0o7777
    except FileNotFoundError:
        return target, None  # a new file: the umask decides, as for open(path, "w")


def _replace(tmp: Path, target: Path, keep_mode: int | None) -> None:
    if keep_mode is not None:
        os.chmod(tmp, keep_mode)
    os.replace(tmp, target)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_open`).

    Examples
    --------
    >>> atomic_write_bytes("weights.bin", b"\\x00" * 16)     # doctest: +SKIP
    """
    with atomic_open(path, "wb") as f:
        f.write(data)


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_open`)."""
    with atomic_open(path, "w", encoding=encoding) as f:
        f.write(text)
