"""engine/blas.py: narrow products of Linear and the convolutions run on one BLAS thread."""

from __future__ import annotations

import numpy as np
import pytest

import unafraid as uf
from unafraid.engine import blas, ops

threadpoolctl = pytest.importorskip("threadpoolctl")


def test_narrow_threads_picks_one_thread_for_a_side_of_32_or_less():
    assert blas.narrow_threads(128, 1600, 10) == 1  # the MNIST convnet's Dense(10)
    assert blas.narrow_threads(15488, 9, 32) == 1  # its first convolution
    assert blas.narrow_threads(15488, 288, 64) is None  # its second: BLAS's own setting
    assert blas.narrow_threads(33, 33, 33) is None


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
    from unafraid.threads import limited
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
