"""Tests of unafraid.datasets: local sources, verification, the cache, and downloads.

No test touches the internet: mirrors point at a local HTTP server or at a closed port,
and the cache lives in tmp_path (UNAFRAID_HOME). Real MNIST is read from the shared data
folder (``<repo>/../shared/data/mnist``); the download tests serve small synthetic IDX files
and patch the expected SHA-256 sums to theirs.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import io
import os
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from unafraid.datasets import (
    CorruptFileError,
    DatasetUnavailableError,
    IDXFormatError,
    _fetch,
    cache_dir,
    cached,
    fashion_mnist,
    mnist,
    parse_idx,
    read_idx,
)

#: The mirror lists as shipped (the fixture below replaces them in every test).
SHIPPED_MIRRORS = [*mnist.MIRRORS, *fashion_mnist.MIRRORS]

FILENAMES = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
]


# --------------------------------------------------------------------------- helpers


def _find_shared_mnist() -> Path | None:
    """The real MNIST folder: $UNAFRAID_TEST_MNIST, else ``shared/data/mnist`` next to
    (or inside) any folder above this file -- ``/work/shared`` for ``/work/main``, and
    ``<clone>/../shared`` for a CI clone."""
    candidates = []
    if os.environ.get("UNAFRAID_TEST_MNIST"):
        candidates.append(Path(os.environ["UNAFRAID_TEST_MNIST"]))
    here = Path(__file__).resolve()
    candidates += [parent / "shared" / "data" / "mnist" for parent in here.parents]
    for folder in candidates:
        if (folder / "train-images-idx3-ubyte.gz").is_file():
            return folder
    return None


SHARED_MNIST = _find_shared_mnist()
needs_real_mnist = pytest.mark.skipif(
    SHARED_MNIST is None,
    reason="real MNIST not found: expected <repo>/../shared/data/mnist or $UNAFRAID_TEST_MNIST",
)


def _idx_bytes(array: np.ndarray) -> bytes:
    """IDX encoding of a uint8 array, written out by hand (independent of unafraid)."""
    assert array.dtype == np.uint8
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _closed_port() -> int:
    """A local port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Synthetic:
    """A tiny MNIST-format dataset: 5 training and 3 test images of 28x28."""

    arrays: dict[str, np.ndarray]  # file name -> array
    raw: dict[str, bytes]  # file name -> IDX bytes
    gz: dict[str, bytes]  # file name -> gzip of the IDX bytes
    sha256: dict[str, str]  # file name -> SHA-256 of the IDX bytes

    def write(self, folder: Path, *, compressed: bool = True) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for name in FILENAMES:
            if compressed:
                (folder / f"{name}.gz").write_bytes(self.gz[name])
            else:
                (folder / name).write_bytes(self.raw[name])
        return folder

    @property
    def served(self) -> dict[str, bytes]:
        """URL file name (``<name>.gz``) -> body, as a mirror serves them."""
        return {f"{name}.gz": body for name, body in self.gz.items()}

    def check(self, result) -> None:
        (x_train, y_train), (x_test, y_test) = result
        for name, got in zip(FILENAMES, (x_train, y_train, x_test, y_test), strict=True):
            assert got.dtype == np.uint8
            np.testing.assert_array_equal(got, self.arrays[name])


def _make_synthetic(seed: int) -> Synthetic:
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, 5, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, 3, dtype=np.uint8),
    }
    raw = {name: _idx_bytes(a) for name, a in arrays.items()}
    gz = {name: gzip.compress(b, mtime=0) for name, b in raw.items()}
    return Synthetic(arrays, raw, gz, {name: _sha256(b) for name, b in raw.items()})


@pytest.fixture
def synth(monkeypatch) -> Synthetic:
    """Synthetic data whose hashes MNIST now expects."""
    data = _make_synthetic(0)
    monkeypatch.setattr(mnist, "SHA256", dict(data.sha256))
    return data


@pytest.fixture
def fashion_synth(monkeypatch) -> Synthetic:
    """Other synthetic data whose hashes Fashion-MNIST now expects."""
    data = _make_synthetic(1)
    monkeypatch.setattr(fashion_mnist, "SHA256", dict(data.sha256))
    return data


@pytest.fixture(autouse=True)
def _isolate(tmp_path, monkeypatch) -> None:
    """Every test: cache in tmp_path, no UNAFRAID_DATA, and mirrors that refuse at once,
    so nothing can reach the real cache or the internet."""
    monkeypatch.setenv("UNAFRAID_HOME", str(tmp_path / "unafraid-home"))
    for var in ("UNAFRAID_DATA", mnist.MIRROR_ENV, fashion_mnist.MIRROR_ENV):
        monkeypatch.delenv(var, raising=False)
    refused = f"http://127.0.0.1:{_closed_port()}/refused/"
    monkeypatch.setattr(mnist, "MIRRORS", [refused])
    monkeypatch.setattr(fashion_mnist, "MIRRORS", [refused])
    monkeypatch.setattr(_fetch, "PROGRESS", False)
    monkeypatch.setattr(_fetch, "BACKOFF", 0.01)
    monkeypatch.setattr(_fetch, "TIMEOUT", 5.0)
    monkeypatch.setattr(_fetch, "TRIES", 2)
    # The test hook for plain HTTP: the local test server only (real mirrors must be https://).
    monkeypatch.setattr(_fetch, "INSECURE_HOSTS", frozenset({"127.0.0.1"}))


# --------------------------------------------------------------------------- local server

HANG_LIMIT_S = 5.0  # a hanging handler gives up after this even if the test forgets it


@functools.cache
def _bomb() -> bytes:
    """A 64 KB gzip file that inflates to 64 MiB of zeros."""
    return gzip.compress(bytes(64 * 2**20), compresslevel=9, mtime=0)


class _Handler(BaseHTTPRequestHandler):
    """Routes ``/<behaviour>/<file name>``; ``server.files`` maps names to bodies."""

    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        server = self.server
        server.requests.append(self.path)
        behaviour, _, name = self.path.lstrip("/").partition("/")
        body = server.files.get(name)
        if behaviour == "hang":
            server.release.wait(HANG_LIMIT_S)  # send nothing: the client must time out
            return
        if behaviour in {"endless", "drip"}:
            self._stream(endless=behaviour == "endless")
            return
        if behaviour == "huge":  # announces 5 GB; the client must not start reading
            self.send_response(200)
            self.send_header("Content-Length", str(5 * 10**9))
            self.end_headers()
            return
        if behaviour == "redirect":  # to plain HTTP on a host that is not the test hook's
            self.send_response(302)
            self.send_header("Location", f"http://localhost:{server.server_address[1]}/good/{name}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if behaviour == "bomb":  # a valid gzip that inflates to 64 MiB of zeros
            body = _bomb()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if body is None or behaviour not in {"good", "corrupt", "truncgz", "short"}:
            self.send_error(404)
            return
        if behaviour == "corrupt":
            body = server.corrupt[name]
        elif behaviour == "truncgz":
            body = body[: len(body) // 2]
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if behaviour == "short":  # announce the full length, send half, close
            body = body[: len(body) // 2]
        self.wfile.write(body)

    def _stream(self, endless: bool) -> None:
        """No Content-Length, then bytes until the client hangs up: 1 MiB blocks as fast as
        possible (``endless``), or one byte every 20 ms (``drip``)."""
        self.send_response(200)
        self.end_headers()
        block = bytes(2**20) if endless else b"\0"
        sent, deadline = 0, time.monotonic() + HANG_LIMIT_S
        try:
            while time.monotonic() < deadline and not self.server.release.is_set():
                self.wfile.write(block)
                self.wfile.flush()
                sent += len(block)
                if not endless:
                    time.sleep(0.02)
        except OSError:  # the client closed the connection: what the test expects
            pass
        self.server.streamed.append(sent)

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files: dict[str, bytes] = {}
        self.corrupt: dict[str, bytes] = {}
        self.requests: list[str] = []
        self.streamed: list[int] = []  # bytes sent by each endless or drip response
        self.release = threading.Event()

    def url(self, behaviour: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/{behaviour}/"

    def serve(self, files: dict[str, bytes], corrupt: dict[str, bytes] | None = None) -> None:
        self.files.update(files)
        self.corrupt.update(corrupt or {})

    def count(self, behaviour: str) -> int:
        return sum(p.startswith(f"/{behaviour}/") for p in self.requests)


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield srv
    finally:
        srv.release.set()
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=HANG_LIMIT_S + 1)


def _corrupted_gz(data: Synthetic) -> dict[str, bytes]:
    """Valid gzip files whose content has one byte flipped: only the SHA-256 can tell.

    Keyed by URL file name (``<name>.gz``)."""
    out = {}
    for name, raw in data.raw.items():
        flipped = bytearray(raw)
        flipped[-1] ^= 0xFF
        out[f"{name}.gz"] = gzip.compress(bytes(flipped), mtime=0)
    return out


def _cache_listing(name: str = "mnist") -> list[str]:
    folder = cache_dir(name)
    return sorted(os.listdir(folder)) if folder.is_dir() else []


# --------------------------------------------------------------------------- real MNIST


@pytest.fixture(scope="module")
def real_mnist():
    if SHARED_MNIST is None:
        pytest.skip("real MNIST not found")
    return mnist.load_data(path=SHARED_MNIST)


@needs_real_mnist
def test_hard_coded_mnist_sums_match_shared_sha256sums():
    sums = {}
    for line in (SHARED_MNIST / "SHA256SUMS.idx").read_text().splitlines():
        if line.strip():
            digest, name = line.split()
            sums[name] = digest
    assert mnist.SHA256 == sums


@needs_real_mnist
def test_real_mnist_from_path(real_mnist):
    (x_train, y_train), (x_test, y_test) = real_mnist
    assert x_train.shape == (60000, 28, 28) and y_train.shape == (60000,)
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    # Known facts about MNIST, independent of the loader.
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    train_counts = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(y_train).tolist() == train_counts
    assert x_train.max() == 255 and x_train.min() == 0
    assert x_train.flags.writeable
    # Reading from `path` neither writes the cache nor needs the network.
    assert not cache_dir().exists()


@needs_real_mnist
def test_real_mnist_via_unafraid_data(monkeypatch, real_mnist):
    monkeypatch.setenv("UNAFRAID_DATA", str(SHARED_MNIST))
    (x_train, y_train), (x_test, y_test) = mnist.load_data()  # mirrors refuse: no network
    np.testing.assert_array_equal(x_test, real_mnist[1][0])
    np.testing.assert_array_equal(y_train, real_mnist[0][1])
    assert not cached("mnist")  # nothing was copied into the cache


@needs_real_mnist
def test_real_mnist_from_keras_style_npz(tmp_path, real_mnist):
    (x_train, y_train), (x_test, y_test) = real_mnist
    npz = tmp_path / "mnist.npz"
    np.savez(npz, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    (a, b), (c, d) = mnist.load_data(path=npz)
    for got, want in zip((a, b, c, d), (x_train, y_train, x_test, y_test), strict=True):
        np.testing.assert_array_equal(got, want)


@needs_real_mnist
def test_npz_with_one_wrong_pixel_is_rejected(tmp_path, real_mnist):
    (x_train, y_train), (x_test, y_test) = real_mnist
    x_test = x_test.copy()
    x_test[0, 0, 0] ^= 1
    npz = tmp_path / "mnist.npz"
    np.savez(npz, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    with pytest.raises(CorruptFileError) as info:
        mnist.load_data(path=npz)
    assert "x_test" in str(info.value)
    assert info.value.expected == mnist.SHA256["t10k-images-idx3-ubyte"]


@needs_real_mnist
def test_fashion_mnist_skips_an_unafraid_data_folder_holding_mnist(
    monkeypatch, server, fashion_synth
):
    # MNIST and Fashion-MNIST share file names: MNIST files are not corrupt Fashion-MNIST.
    monkeypatch.setenv("UNAFRAID_DATA", str(SHARED_MNIST))
    server.serve(fashion_synth.served)
    monkeypatch.setattr(fashion_mnist, "MIRRORS", [server.url("good")])
    fashion_synth.check(fashion_mnist.load_data())
    assert server.count("good") == 4


# --------------------------------------------------------------------------- local files


def test_cache_dir_is_under_unafraid_home(tmp_path):
    assert cache_dir() == tmp_path / "unafraid-home" / "datasets"
    assert cache_dir("mnist") == tmp_path / "unafraid-home" / "datasets" / "mnist"


@pytest.mark.parametrize(
    ("platform", "environ", "expected"),
    [
        ("linux", {}, "/home/u/.cache/unafraid"),
        ("linux", {"XDG_CACHE_HOME": "/xdg"}, "/xdg/unafraid"),
        ("linux", {"XDG_CACHE_HOME": "relative/ignored"}, "/home/u/.cache/unafraid"),
        ("darwin", {}, "/home/u/Library/Caches/unafraid"),
        ("win32", {"LOCALAPPDATA": "/appdata"}, "/appdata/unafraid/Cache"),
        ("win32", {}, "/home/u/AppData/Local/unafraid/Cache"),
    ],
)
def test_platform_cache_root(platform, environ, expected):
    got = _fetch._platform_cache_root(platform, environ, Path("/home/u"))
    assert got == Path(expected)


def test_cache_dir_without_unafraid_home_uses_platform_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("UNAFRAID_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    if sys.platform in ("win32", "darwin"):
        pytest.skip("XDG_CACHE_HOME applies to Linux and other Unix only")
    assert cache_dir("mnist") == tmp_path / "xdg" / "unafraid" / "datasets" / "mnist"


def test_uncompressed_folder_and_dotted_names(tmp_path, synth):
    folder = synth.write(tmp_path / "raw", compressed=False)
    # The spelling some unpackers and Kaggle use: train-images.idx3-ubyte
    (folder / "train-images-idx3-ubyte").rename(folder / "train-images.idx3-ubyte")
    synth.check(mnist.load_data(path=folder))
    synth.check(mnist.load_data(path=str(folder)))


def test_npz_file_and_npz_in_folder(tmp_path, synth):
    a = synth.arrays
    npz = tmp_path / "folder" / "mnist.npz"
    npz.parent.mkdir()
    np.savez_compressed(
        npz,
        x_train=a["train-images-idx3-ubyte"],
        y_train=a["train-labels-idx1-ubyte"],
        x_test=a["t10k-images-idx3-ubyte"],
        y_test=a["t10k-labels-idx1-ubyte"],
    )
    synth.check(mnist.load_data(path=npz))
    synth.check(mnist.load_data(path=npz.parent))  # a folder holding only mnist.npz


def test_npz_never_unpickles(tmp_path, synth):
    npz = tmp_path / "evil.npz"
    objects = np.empty(2, dtype=object)
    np.savez(npz, x_train=objects, y_train=objects, x_test=objects, y_test=objects)
    with pytest.raises(CorruptFileError, match="could not be read"):
        mnist.load_data(path=npz)


def test_npz_missing_arrays(tmp_path, synth):
    npz = tmp_path / "partial.npz"
    np.savez(npz, x_train=synth.arrays["train-images-idx3-ubyte"])
    with pytest.raises(CorruptFileError, match="lacks the arrays"):
        mnist.load_data(path=npz)


def test_not_an_npz(tmp_path, synth):
    bogus = tmp_path / "mnist.npz"
    bogus.write_bytes(b"<html>404 Not Found</html>")
    with pytest.raises(CorruptFileError, match="could not be read as an .npz"):
        mnist.load_data(path=bogus)


def test_corrupt_file_in_path_is_refused(tmp_path, synth):
    folder = synth.write(tmp_path / "data")
    bad = folder / "t10k-images-idx3-ubyte.gz"
    bad.write_bytes(_corrupted_gz(synth)["t10k-images-idx3-ubyte.gz"])
    with pytest.raises(CorruptFileError) as info:
        mnist.load_data(path=folder)
    message = str(info.value)
    actual = _sha256(gzip.decompress(bad.read_bytes()))
    assert str(bad) in message
    assert synth.sha256["t10k-images-idx3-ubyte"] in message and actual in message
    assert "without `path`" in message  # says what to do
    assert info.value.actual == actual


def test_corrupt_file_in_unafraid_data_is_refused(tmp_path, monkeypatch, synth):
    folder = synth.write(tmp_path / "data")
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(
        _corrupted_gz(synth)["train-labels-idx1-ubyte.gz"]
    )
    monkeypatch.setenv("UNAFRAID_DATA", str(folder))
    with pytest.raises(CorruptFileError, match="unset UNAFRAID_DATA"):
        mnist.load_data()


def test_truncated_gzip_in_path_is_refused(tmp_path, synth):
    folder = synth.write(tmp_path / "data")
    gz = synth.gz["train-images-idx3-ubyte"]
    (folder / "train-images-idx3-ubyte.gz").write_bytes(gz[: len(gz) // 2])
    with pytest.raises(CorruptFileError, match="not a complete gzip file"):
        mnist.load_data(path=folder)


def test_missing_file_in_path(tmp_path, synth):
    folder = synth.write(tmp_path / "data")
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        mnist.load_data(path=folder)


def test_path_that_does_not_exist_explains_the_keras_difference(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="not the name of a cache file"):
        mnist.load_data("mnist.npz")  # Keras's default argument, passed explicitly


def test_unafraid_data_sub_folder_per_dataset(tmp_path, monkeypatch, synth, fashion_synth):
    root = tmp_path / "data"
    synth.write(root / "mnist")
    fashion_synth.write(root / "fashion_mnist")
    monkeypatch.setenv("UNAFRAID_DATA", str(root))
    synth.check(mnist.load_data())
    fashion_synth.check(fashion_mnist.load_data())
    assert not cache_dir().exists()


def test_unafraid_data_without_the_dataset_falls_back_to_cache(tmp_path, monkeypatch, synth):
    empty = tmp_path / "empty"
    empty.mkdir()
    synth.write(cache_dir("mnist"))  # files placed by hand in the cache
    monkeypatch.setenv("UNAFRAID_DATA", str(empty))
    synth.check(mnist.load_data())


def test_unafraid_data_that_is_not_a_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("UNAFRAID_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match="UNAFRAID_DATA"):
        mnist.load_data()


def test_cached(synth):
    with pytest.raises(ValueError, match="Unknown dataset 'cifar10'"):
        cached("cifar10")
    assert not cached("mnist")
    assert not cached("fashion_mnist")
    folder = synth.write(cache_dir("mnist"))
    assert cached("mnist")
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(
        _corrupted_gz(synth)["train-labels-idx1-ubyte.gz"]
    )
    assert not cached("mnist")


def test_fashion_mnist_sums_are_its_own():
    for sums in (mnist.SHA256, fashion_mnist.SHA256):
        assert sorted(sums) == sorted(FILENAMES)
        assert all(len(s) == 64 and int(s, 16) >= 0 for s in sums.values())
    assert not set(mnist.SHA256.values()) & set(fashion_mnist.SHA256.values())
    assert len(fashion_mnist.CLASS_NAMES) == 10


# --------------------------------------------------------------------------- IDX parsing


def test_parse_idx_round_trip_and_read_idx(tmp_path):
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    np.testing.assert_array_equal(parse_idx(_idx_bytes(a)), a)
    ints = np.array([[1, -2], [300000, 4]], dtype=">i4")
    raw = bytes([0, 0, 0x0C, 2]) + struct.pack(">2I", 2, 2) + ints.tobytes()
    got = parse_idx(raw)
    assert got.dtype == np.dtype(np.int32) and got.dtype.isnative
    np.testing.assert_array_equal(got, ints)
    (tmp_path / "a.gz").write_bytes(gzip.compress(_idx_bytes(a)))
    np.testing.assert_array_equal(read_idx(tmp_path / "a.gz"), a)


_GOOD = _idx_bytes(np.zeros((2, 3), dtype=np.uint8))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x00\x00", "shorter than the 4-byte magic"),
        (b"\x01" + _GOOD[1:], "starts with bytes 0x01 0x00"),
        (gzip.compress(_GOOD, mtime=0), "still gzip-compressed"),
        (_GOOD[:2] + b"\x07" + _GOOD[3:], "type byte is 0x07"),
        (b"\x00\x00\x08\x00", "0 dimensions"),
        (_GOOD[:6], "truncated: its header declares 2 dimensions"),
        (_GOOD[:-1], r"is truncated: its header declares shape \(2, 3\)"),
        (_GOOD + b"\x00", "has extra bytes at its end"),
    ],
)
def test_parse_idx_errors(data, message):
    with pytest.raises(IDXFormatError, match=message) as info:
        parse_idx(data, "some-file")
    assert "some-file" in str(info.value)
    assert isinstance(info.value, ValueError) and isinstance(info.value, OSError)


# --------------------------------------------------------------------------- downloads


def test_download_falls_back_through_bad_mirrors(monkeypatch, server, synth):
    server.serve(synth.served, corrupt=_corrupted_gz(synth))
    monkeypatch.setattr(_fetch, "TIMEOUT", 0.5)
    monkeypatch.setattr(
        mnist,
        "MIRRORS",
        [server.url(b) for b in ("hang", "missing", "corrupt", "truncgz", "short", "good")],
    )
    synth.check(mnist.load_data())
    # Only verified files entered the cache: no bad copy, no temporary file.
    assert _cache_listing() == sorted(FILENAMES)
    for name in FILENAMES:
        assert _sha256((cache_dir("mnist") / name).read_bytes()) == synth.sha256[name]
    assert server.count("hang") == 2  # two tries timed out, then the mirror was skipped
    assert server.count("missing") == 4  # a 404 is not retried
    assert server.count("corrupt") == 4  # wrong bytes are not retried
    assert server.count("truncgz") == 4
    assert server.count("short") == 2  # a short body may be transient: retried, then skipped
    assert server.count("good") == 4


def test_filled_cache_makes_no_request(monkeypatch, server, synth):
    server.serve(synth.served)
    monkeypatch.setattr(mnist, "MIRRORS", [server.url("good")])
    monkeypatch.setattr(_fetch, "PROGRESS", True)  # exercise the tqdm progress bar once
    synth.check(mnist.load_data())
    assert server.count("good") == 4
    assert cached("mnist")
    monkeypatch.setattr(_fetch, "PROGRESS", False)
    refused = f"http://127.0.0.1:{_closed_port()}/"
    monkeypatch.setattr(mnist, "MIRRORS", [server.url("good"), refused])
    synth.check(mnist.load_data())
    synth.check(mnist.load_data())
    assert len(server.requests) == 4


def test_only_missing_files_are_downloaded(monkeypatch, server, synth):
    folder = synth.write(cache_dir("mnist"), compressed=False)
    (folder / "t10k-labels-idx1-ubyte").unlink()
    server.serve(synth.served)
    monkeypatch.setattr(mnist, "MIRRORS", [server.url("good")])
    synth.check(mnist.load_data())
    assert server.requests == ["/good/t10k-labels-idx1-ubyte.gz"]


def test_corrupt_cache_file_is_replaced(monkeypatch, server, synth, caplog):
    folder = cache_dir("mnist")
    synth.write(folder, compressed=False)
    (folder / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x01" + b"garbage")
    server.serve(synth.served)
    monkeypatch.setattr(mnist, "MIRRORS", [server.url("good")])
    with caplog.at_level("WARNING", logger="unafraid.datasets"):
        synth.check(mnist.load_data())
    assert "Deleting" in caplog.text and "train-images-idx3-ubyte" in caplog.text
    assert server.requests == ["/good/train-images-idx3-ubyte.gz"]
    assert _cache_listing() == sorted(FILENAMES)


def test_all_mirrors_fail(monkeypatch, server, synth):
    server.serve(synth.served, corrupt=_corrupted_gz(synth))
    monkeypatch.setattr(_fetch, "TIMEOUT", 0.5)
    refused = f"http://127.0.0.1:{_closed_port()}/refused/"
    mirrors = [server.url("missing"), server.url("corrupt"), refused, server.url("hang")]
    monkeypatch.setattr(mnist, "MIRRORS", mirrors)
    with pytest.raises(DatasetUnavailableError) as info:
        mnist.load_data()
    error = info.value
    message = str(error)
    assert isinstance(error, OSError)
    for mirror in mirrors:  # every URL named, with its reason
        for name in FILENAMES:
            assert f"{mirror}{name}.gz" in message
    assert "HTTP 404" in message
    assert "SHA-256" in message  # the corrupt mirror's reason
    assert "Connection refused" in message or "cannot connect" in message
    assert "timed out" in message
    assert "not tried" in message
    # ... and how to place the files by hand.
    for name in FILENAMES:
        assert f"{name}.gz" in message
    assert str(cache_dir("mnist")) in message
    assert "UNAFRAID_DATA" in message and "load_data(path=" in message
    assert mnist.MIRROR_ENV in message
    assert len(error.failures) == 16
    assert _cache_listing() == []  # nothing bad or partial was kept


def test_npz_mirror(monkeypatch, server, synth):
    a = synth.arrays
    arrays = {
        "x_train": a["train-images-idx3-ubyte"],
        "y_train": a["train-labels-idx1-ubyte"],
        "x_test": a["t10k-images-idx3-ubyte"],
        "y_test": a["t10k-labels-idx1-ubyte"],
    }

    def npz_bytes(**kw) -> bytes:
        buffer = io.BytesIO()
        np.savez(buffer, **kw)
        return buffer.getvalue()

    wrong = dict(arrays, y_test=(arrays["y_test"] + 1) % 10)
    server.serve({"mnist.npz": npz_bytes(**arrays)}, corrupt={"mnist.npz": npz_bytes(**wrong)})
    monkeypatch.setattr(
        mnist, "MIRRORS", [server.url("corrupt") + "mnist.npz", server.url("good") + "mnist.npz"]
    )
    synth.check(mnist.load_data())
    assert _cache_listing() == sorted(FILENAMES)  # stored as verified IDX files
    assert server.requests == ["/corrupt/mnist.npz", "/good/mnist.npz"]
    assert cached("mnist")


def test_mirror_environment_variable_is_tried_first(monkeypatch, server, synth):
    server.serve(synth.served)
    monkeypatch.setenv(mnist.MIRROR_ENV, server.url("good").rstrip("/"))  # slash optional
    synth.check(mnist.load_data())  # MIRRORS (a refused port) was not needed
    assert server.count("good") == 4


def test_fashion_mnist_download(monkeypatch, server, fashion_synth):
    server.serve(fashion_synth.served)
    monkeypatch.setattr(fashion_mnist, "MIRRORS", [server.url("missing"), server.url("good")])
    fashion_synth.check(fashion_mnist.load_data())
    assert _cache_listing("fashion_mnist") == sorted(FILENAMES)
    assert cached("fashion_mnist") and not cached("mnist")


def test_import_is_light():
    code = (
        "import sys, unafraid; before = set(sys.modules); import unafraid.datasets; "
        "new = set(sys.modules) - before; "
        "print(sorted(m for m in new if m.split('.')[0] in ('tqdm', 'urllib')))"
    )
    root = Path(__file__).resolve().parents[1]
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------- bounded downloads


def _failure_for(info: pytest.ExceptionInfo, behaviour: str) -> str:
    return " ".join(reason for url, reason in info.value.failures if f"/{behaviour}/" in url)


def test_gzip_bomb_from_a_mirror_stops_at_the_expected_size(monkeypatch, server, synth):
    """A 64 KB gzip that inflates to 64 MiB (a 1 MB one wrote 1 GiB to the cache before):
    decompression stops past the file's known size (here the synthetic files' sizes), nothing
    stays in the cache, and the next mirror serves the file."""
    server.serve(synth.served)
    monkeypatch.setattr(mnist, "SIZES", {name: len(raw) for name, raw in synth.raw.items()})
    written = {}  # URL -> bytes written to the cache's temporary
    original = _fetch._decompress_hashing

    def counted(src, dst, source, limit):
        class Counting:
            def write(self, chunk):
                written[source] = written.get(source, 0) + len(chunk)
                dst.write(chunk)
        return original(src, Counting(), source, limit)
    monkeypatch.setattr(_fetch, "_decompress_hashing", counted)
    monkeypatch.setattr(_fetch, "TRIES", 1)
    with pytest.raises(DatasetUnavailableError) as info:  # the bomb mirror, alone
        monkeypatch.setattr(mnist, "MIRRORS", [server.url("bomb")])
        mnist.load_data()
    reason = _failure_for(info, "bomb")
    assert reason.count("decompresses to more than") == 4 and "stopped there" in reason
    for url, nbytes in written.items():  # never more than the file it could be
        assert nbytes <= mnist.SIZES[url.rsplit("/", 1)[1][:-3]], (url, nbytes)
    assert _cache_listing() == []
    monkeypatch.setattr(mnist, "MIRRORS", [server.url("bomb"), server.url("good")])
    synth.check(mnist.load_data())
    assert _cache_listing() == sorted(FILENAMES)


def test_gzip_bomb_given_by_the_user_is_refused_before_it_inflates(tmp_path, synth):
    """A .gz in `path=` that inflates past the file's size: refused, with memory bounded."""
    import tracemalloc
    folder = synth.write(tmp_path / "data")
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(bytes(64 * 2**20), mtime=0))
    tracemalloc.start()
    try:
        with pytest.raises(CorruptFileError, match=r"decompresses to more than 60,008 bytes"):
            mnist.load_data(path=folder)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20, peak
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(os.urandom(200_000))  # too big to be it
    with pytest.raises(CorruptFileError, match=r"200,000 bytes, larger than .* can be"):
        mnist.load_data(path=folder)


def test_stream_without_content_length_stops_at_the_size_cap(monkeypatch, server, synth):
    """A mirror that streams without Content-Length (5 GB before): the download stops past the
    most a compressed file of that size can take, and the mirror's failure says so."""
    monkeypatch.setattr(mnist, "MIRRORS", [server.url("endless")])
    start = time.monotonic()
    with pytest.raises(DatasetUnavailableError) as info:
        mnist.load_data()
    assert time.monotonic() - start < HANG_LIMIT_S
    assert "too large: the server sent more than" in _failure_for(info, "endless")
    assert _cache_listing() == []


def test_announced_size_over_the_cap_downloads_nothing(monkeypatch, server, synth):
    monkeypatch.setattr(mnist, "MIRRORS", [server.url("huge")])
    with pytest.raises(DatasetUnavailableError) as info:
        mnist.load_data()
    assert "announces 5,000,000,000 bytes" in _failure_for(info, "huge")
    assert server.count("huge") == 4  # one request per file: a wrong answer is not retried
    assert _cache_listing() == []


def test_download_has_an_overall_deadline(monkeypatch, server, synth):
    """A mirror trickling one byte every 20 ms never trips the per-read timeout; the overall
    deadline stops it, and the mirror is skipped without a second try."""
    monkeypatch.setattr(_fetch, "DEADLINE", 0.5)
    monkeypatch.setattr(mnist, "MIRRORS", [server.url("drip")])
    start = time.monotonic()
    with pytest.raises(DatasetUnavailableError) as info:
        mnist.load_data()
    assert time.monotonic() - start < 4
    assert "too slow: the download took over 0.5 s" in _failure_for(info, "drip")
    assert server.count("drip") == 1


def test_only_https_mirrors_are_used(monkeypatch, server, synth):
    """Without the test hook, a plain-HTTP mirror is refused before any request, with the fix;
    with it, a redirect to plain HTTP elsewhere is still refused. The shipped lists are https."""
    assert SHIPPED_MIRRORS and all(m.startswith("https://") for m in SHIPPED_MIRRORS)
    server.serve(synth.served)
    monkeypatch.setattr(_fetch, "INSECURE_HOSTS", frozenset())
    monkeypatch.setattr(mnist, "MIRRORS", [server.url("good")])
    with pytest.raises(DatasetUnavailableError) as info:
        mnist.load_data()
    assert "refused: not an https:// URL" in _failure_for(info, "good")
    assert "pass `path=` or set UNAFRAID_DATA" in str(info.value)
    assert server.requests == []
    monkeypatch.setattr(_fetch, "INSECURE_HOSTS", frozenset({"127.0.0.1"}))
    monkeypatch.setattr(mnist, "MIRRORS", [server.url("redirect")])
    with pytest.raises(DatasetUnavailableError) as info:
        mnist.load_data()
    assert "not an https:// URL (http://localhost:" in _failure_for(info, "redirect")
    assert server.count("good") == 0


def _npz_member(name: str, header: bytes, data: bytes) -> tuple[str, bytes]:
    """An .npy file written by hand (version 1.0), so that its header can lie."""
    header += b" " * (-(10 + len(header) + 1) % 64) + b"\n"
    return name, b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + data


def test_user_npz_arrays_are_size_checked_before_inflating(tmp_path, synth):
    """An .npz whose array is larger than the file it stands for, or whose .npy header claims
    a terabyte over a few bytes: refused from the zip directory and the header alone."""
    import tracemalloc
    import zipfile
    arrays = {"x_train": synth.arrays["train-images-idx3-ubyte"],
              "y_train": np.zeros(300_000, np.uint8),  # labels: at most 60,008 bytes
              "x_test": synth.arrays["t10k-images-idx3-ubyte"],
              "y_test": synth.arrays["t10k-labels-idx1-ubyte"]}
    np.savez_compressed(tmp_path / "big.npz", **arrays)
    with pytest.raises(CorruptFileError, match=r"'y_train'\] holds 300,\d{3} bytes, more than the "
                                               r"60,008 .*nothing was inflated"):
        mnist.load_data(path=tmp_path / "big.npz")
    with zipfile.ZipFile(tmp_path / "lie.npz", "w", zipfile.ZIP_DEFLATED) as z:
        for role in ("x_train", "x_test", "y_test"):
            buf = io.BytesIO()
            np.save(buf, arrays[role])
            z.writestr(f"{role}.npy", buf.getvalue())
        z.writestr(*_npz_member("y_train.npy", b"{'descr': '|u1', 'fortran_order': False, "
                                               b"'shape': (1000000000000,), }", b"\0" * 16))
    tracemalloc.start()
    try:
        with pytest.raises(CorruptFileError, match=r"claims shape \(1000000000000,\).*corrupt"):
            mnist.load_data(path=tmp_path / "lie.npz")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20, peak


def test_temporaries_of_killed_downloads_are_cleaned_on_the_next_run(monkeypatch, server, synth):
    """'.part' and '.download' files of killed downloads (823 MiB after 50 kills before) are
    removed by the next load; the user's own files in the cache folder are kept."""
    folder = cache_dir("mnist")
    folder.mkdir(parents=True)
    # 99999999: above any pid_max, so no live process of this machine has it: fresh, yet stale
    from unafraid.atomic import host_tag
    other = "0000" if host_tag() != "0000" else "1111"  # another machine's: only age counts
    leftovers = [f".unafraid-99999999-{host_tag()}-0123abcd.download",
                 ".train-images-idx3-ubyte.k2j4h5g6.part", ".mnist.ab12cd34.npz.download"]
    users = ["notes.part", ".unafraid-mine.download", "train.download",
             f".unafraid-99999999-{other}-0123abcd.download"]
    for name in leftovers + users:
        (folder / name).write_bytes(b"x" * 1000)
        os.utime(folder / name, (0, 0) if name not in (leftovers[0], users[-1]) else None)
    server.serve(synth.served)
    monkeypatch.setattr(mnist, "MIRRORS", [server.url("good")])
    synth.check(mnist.load_data())
    assert _cache_listing() == sorted([*FILENAMES, *users])
