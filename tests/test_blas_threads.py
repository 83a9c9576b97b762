"""engine/blas.py: narrow products of Linear and the convolutions run on one BLAS thread; inside
fit's one-thread block, large products run as two row halves (same bits on one core or two)."""

from __future__ import annotations

import numpy as np
import pytest

import unafraid as uf
from unafraid.engine import blas, ops

threadpoolctl = pytest.importorskip("threadpoolctl")


def test_narrow_threads_picks_one_thread_for_a_side_of_16_or_less():
    assert blas.narrow_threads(128, 1600, 10) == 1  # the MNIST convnet's Dense(10)
    assert blas.narrow_threads(15488, 10, 32) == 1  # its first convolution (with the bias's ones)
    assert blas.narrow_threads(15488, 288, 64) is None  # its second: BLAS's own setting
    assert blas.narrow_threads(15488, 64, 32) is None  # the second's input gradient, per offset
    assert blas.narrow_threads(32, 784, 512) is None  # a batch of 32
    assert blas.narrow_threads(16, 784, 512) == 1
    assert blas.narrow_threads(17, 17, 17) is None


def test_blas_threads_sets_the_count_and_puts_it_back():
    with blas.blas_threads(1):
        pass  # looks NumPy's BLAS up
    libs = blas._BLAS[0]  # NumPy's BLAS, and scipy's if it was loaded first
    assert libs
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        with blas.blas_threads(1):
            assert [lib.get_num_threads() for lib in libs] == [1] * len(libs)
        assert [lib.get_num_threads() for lib in libs] == [2] * len(libs)


@pytest.mark.parametrize("units, threads", [(10, 1), (64, None)])
def test_linear_asks_for_one_thread_only_for_narrow_products_with_the_same_bits(
        monkeypatch, units, threads):
    rng = np.random.default_rng(0)
    x = uf.Tensor(rng.standard_normal((128, 1600), dtype=np.float32), requires_grad=True)
    w = uf.Tensor(rng.standard_normal((1600, units), dtype=np.float32), requires_grad=True)
    g = rng.standard_normal((128, units), dtype=np.float32)
    asked = []
    monkeypatch.setattr(ops, "blas_threads", lambda n: asked.append(n) or blas.blas_threads(n))
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        y = uf.linear(x, w)
        y.backward(g)
    # the plain products on the thread count asked for (OpenBLAS's bits for a 128 x 1600 x 10
    # product differ between one thread and two, so this is the only fair comparison)
    with threadpoolctl.threadpool_limits(limits=threads or 2, user_api="blas"):
        plain = x.numpy() @ w.numpy(), g @ w.numpy().T, x.numpy().T @ g
    assert asked == [threads, threads]  # the forward, and the VJP's two products
    for got, want in zip((y.numpy(), x.grad, w.grad), plain, strict=True):
        assert np.array_equal(got, want)


def test_inside_fits_one_thread_block_narrow_products_ask_blas_nothing(monkeypatch):
    limited = blas.limited
    asked = []
    switched = blas._switched
    monkeypatch.setattr(blas, "_switched", lambda n: asked.append(n) or switched(n))
    with limited(1):
        assert blas.blas_threads(1) is blas._AS_IS  # held at 1 by limited: nothing to look up
        with blas.blas_threads(1):
            pass
        with limited(2):  # a nested block holding another count: asked again
            with blas.blas_threads(1):
                pass
    assert asked == [1]
    with blas.blas_threads(1):  # outside: looked up as before
        pass
    assert asked == [1, 1]
    assert blas._HELD == []


@pytest.mark.parametrize("load, cores, idle", [(0.9, 2, True), (1.75, 2, True), (1.8, 2, False),
                                               (2.6, 2, False), (0.5, 1, True), (0.8, 1, False)])
def test_a_core_counts_as_idle_while_the_load_average_leaves_one(monkeypatch, load, cores, idle):
    monkeypatch.setattr(blas.os, "getloadavg", lambda: (load, 0.0, 0.0))
    monkeypatch.setattr(blas.os, "cpu_count", lambda: cores)
    monkeypatch.setattr(blas, "_CORES", [])
    monkeypatch.setattr(blas, "_LOAD_SEEN", [-1e9, 0.0])
    assert blas.idle_core() is idle
    monkeypatch.setattr(blas.os, "getloadavg", lambda: (9.0, 0.0, 0.0))
    assert blas.idle_core() is idle                       # read again only after a second


def test_the_core_count_is_read_once_per_process(monkeypatch):
    reads = []
    monkeypatch.setattr(blas.os, "cpu_count", lambda: reads.append(1) or 4)
    monkeypatch.setattr(blas, "_CORES", [])
    assert [blas.cores() for _ in range(3)] == [4, 4, 4] and reads == [1]
    monkeypatch.setattr(blas, "_CORES", [])
    monkeypatch.setattr(blas.os, "cpu_count", lambda: None)   # unknown: one core
    assert blas.cores() == 1


class _HelperAlways:
    """product's choice of way, fixed: the helper thread whenever a core is idle."""

    def use_helper(self, key):
        return True

    def note(self, key, used_helper, seconds):
        pass


def _split_on(monkeypatch, idle: bool) -> list:
    """product's helper thread exists (even on one CPU) and is taken whenever a core counts as
    idle, which it does or not; returns the functions handed to the helper thread, as they are
    handed."""
    from concurrent.futures import ThreadPoolExecutor
    handed = []

    class Spy(ThreadPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):
            handed.append(fn)
            return super().submit(fn, *args, **kwargs)

    monkeypatch.setattr(blas, "_WORKER", [Spy(1)])
    monkeypatch.setattr(blas, "_WAYS", _HelperAlways())
    monkeypatch.setattr(blas, "idle_core", lambda: idle)
    return handed


@pytest.mark.parametrize("shape_a, shape_b", [((32, 784), (784, 512)), ((785, 33), (33, 513)),
                                              ((3, 2000), (2000, 700))])
def test_product_in_row_halves_has_the_same_bits_on_one_core_or_two(monkeypatch, shape_a,
                                                                     shape_b):
    """Inside held(1) a large product is two row halves, each a one-thread BLAS product: the
    bits of those halves whether the helper thread runs one of them or not."""
    rng = np.random.default_rng(1)
    a = rng.standard_normal(shape_a, dtype=np.float32)
    b = rng.standard_normal(shape_b, dtype=np.float32)
    h = shape_a[0] // 2
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"), blas.held(1):
        halves = np.concatenate([a[:h] @ b, a[h:] @ b])
        results = []
        for idle in (True, False):
            handed = _split_on(monkeypatch, idle)
            results.append(blas.product(a, b))
            assert handed == ([np.matmul] if idle else [])
        for r in results:
            assert r.tobytes() == halves.tobytes()
        np.testing.assert_allclose(results[0], a.astype(np.float64) @ b, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("helper_faster", [True, False])
def test_products_of_a_shape_keep_the_faster_of_helper_and_no_helper(monkeypatch, helper_faster):
    """The first products of a shape take both ways in turn, timed; then the faster way stays
    (on some virtual machines handing work to a thread costs more than half a product saves).
    The bits are the same either way (above)."""
    handed = _split_on(monkeypatch, idle=True)
    monkeypatch.setattr(blas, "_WAYS", blas._Ways())
    times = {True: 1.0 if helper_faster else 3.0, False: 2.0}
    note = blas._WAYS.note
    monkeypatch.setattr(blas._WAYS, "note", lambda key, used, seconds: note(key, used, times[used]))
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((32, 784), dtype=np.float32), rng.standard_normal((784, 512),
                                                                                 dtype=np.float32)
    results = set()
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"), blas.held(1):
        for call in range(2 * blas.PRODUCT_TRIALS + 3):
            before = len(handed)
            results.add(blas.product(a, b).tobytes())
            used = len(handed) > before
            expected = call % 2 == 0 if call < 2 * blas.PRODUCT_TRIALS else helper_faster
            assert used is expected, call
        assert blas._WAYS.chosen == {((32, 784), (784, 512), "<f4"): helper_faster}
        blas.product(a[:, :700], b[:700])                   # another shape: tried afresh
    assert handed[-1] is np.matmul and len(results) == 1


def test_product_is_the_plain_product_outside_held_1_for_small_products_and_tensors(monkeypatch):
    _split_on(monkeypatch, True)
    rng = np.random.default_rng(2)
    a = rng.standard_normal((32, 784), dtype=np.float32)
    b = rng.standard_normal((784, 512), dtype=np.float32)
    small = rng.standard_normal((200, 64), dtype=np.float32), rng.standard_normal((64, 100),
                                                                                   dtype=np.float32)
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        assert blas.product(a, b).tobytes() == (a @ b).tobytes()  # not held: BLAS's own product
        with blas.held(1):
            assert blas.product(*small).tobytes() == (small[0] @ small[1]).tobytes()
            t = blas.product(uf.Tensor(a), uf.Tensor(b))
            assert isinstance(t, uf.Tensor) and t.numpy().tobytes() == (a @ b).tobytes()


def test_a_fit_gives_the_same_weights_with_the_helper_thread_or_without(monkeypatch):
    """The seed MLP's shapes (784 -> 512 at batch 32: split products) for a few steps: the same
    bits whether a core is idle or the machine is busy."""
    rng = np.random.default_rng(3)
    x = rng.random((96, 784), dtype=np.float32)
    y = rng.integers(0, 10, 96)
    weights = []
    for idle in (True, False):
        handed = _split_on(monkeypatch, idle)
        uf.keras.utils.set_random_seed(0)  # the same initial weights for both models
        model = uf.keras.Sequential([uf.keras.layers.Input((784,)),
                                     uf.keras.layers.Dense(512, activation="relu"),
                                     uf.keras.layers.Dense(10, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=32, epochs=2, verbose=0)
        weights.append([w.numpy().tobytes() for w in model.weights])
        assert (np.matmul in handed) is idle  # half of each large product (and Adam's halves)
    assert weights[0] == weights[1]
