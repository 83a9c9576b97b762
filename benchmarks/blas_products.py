"""Where the matrix products' threads pay: the measurements behind ``engine/blas.py``'s rules.

A benchmark, not a test. Three modes, each printing a small table:

- ``--mode products``: the two large products of the seed MLP (a) and of workload (g) (the
  forward product and the kernel gradient, float32) on one BLAS thread, on BLAS's two threads,
  and as ``engine.blas.product`` computes them inside ``fit``'s one-thread block (two row
  halves, one in the helper thread or both in the calling thread, whichever ``product`` finds
  faster: both ways timed): the mean of ``--calls`` calls each; and the helper thread's hand-over time.
- ``--mode narrow``: the MNIST convnet's training step (Keras's example, batch 128, the first
  ``--steps`` training images, ``fit`` as the library runs it) with ``NARROW`` at 16 (the rule)
  and at 32 (the rule before 2026-12-03), alternating for ``--rounds`` rounds: wall and CPU
  milliseconds per step.
- ``--mode predict-profile``: cProfile of the convnet's ``predict`` on the 10,000 test images at
  batch 128: the costliest functions (where a bias added in a pass of its own would show).

Run on an idle machine (the products' times are wall times)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/blas_products.py \\
        --mode products --data ../shared/data/mnist
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time

import numpy as np
from threadpoolctl import threadpool_limits

from unafraid.cli import mnist_convnet
from unafraid.datasets import mnist
from unafraid.engine import blas


def mean_us(fn, calls: int) -> float:
    for _ in range(max(calls // 20, 5)):
        fn()
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1e6


def products(calls: int) -> None:
    rng = np.random.default_rng(0)
    cases = []
    for label, rows, n_in, n_out in (("(a)", 32, 784, 512), ("(g)", 64, 765, 256)):
        x = rng.random((rows, n_in), dtype=np.float32)
        w = rng.standard_normal((n_in, n_out), dtype=np.float32)
        g = rng.standard_normal((rows, n_out), dtype=np.float32)
        cases += [(f"{label} forward x @ W, {rows} x {n_in} x {n_out}", x, w),
                  (f"{label} kernel gradient x.T @ g, {n_in} x {rows} x {n_out}", x.T, g)]
    print("| product | one BLAS thread, us | BLAS's two threads, us | two row halves, one in the "
          "helper thread, us | two row halves in this thread, us |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, a, b in cases:
        with threadpool_limits(1, "blas"):
            one = mean_us(lambda a=a, b=b: a @ b, calls)
            halves = []
            for helper in (True, False):  # each way that engine.blas.product may keep
                blas._WAYS.chosen[(a.shape, b.shape, "<f4")] = helper
                with blas.held(1):
                    halves.append(mean_us(lambda a=a, b=b: blas.product(a, b), calls))
            blas._WAYS.chosen.clear()
        with threadpool_limits(2, "blas"):
            two = mean_us(lambda a=a, b=b: a @ b, calls)
        print(f"| {name} | {one:.0f} | {two:.0f} | {halves[0]:.0f} | {halves[1]:.0f} |")
    handoffs = []
    for _ in range(101):
        start = time.perf_counter()
        blas.helper_thread().submit(int).result()
        handoffs.append(time.perf_counter() - start)
    print(f"(a core idle for the helper thread: {blas.idle_core()}; an empty task handed to it and "
          f"back: median {sorted(handoffs)[50] * 1e6:.0f} us)")


def convnet():
    """Keras's "Simple MNIST convnet" (the library's own, ``unafraid mnist --model convnet``),
    compiled as the example compiles it."""
    model = mnist_convnet()
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def narrow(data: str, steps: int, rounds: int) -> None:
    (x, y), _ = mnist.load_data(path=data)
    n = 128 * steps
    x = (x[:n] / 255.0).astype(np.float32).reshape(-1, 28, 28, 1)
    y = np.eye(10, dtype=np.float32)[y[:n]]
    print("| round | NARROW | wall ms per step | CPU ms per step |")
    print("| ---: | ---: | ---: | ---: |")
    for r in range(rounds):
        for limit in (16, 32):
            blas.NARROW = limit
            model = convnet()
            model.fit(x[:256], y[:256], batch_size=128, verbose=0)  # records and proves the step
            wall, cpu = time.perf_counter(), time.process_time()
            model.fit(x, y, batch_size=128, verbose=0, shuffle=False)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(f"| {r + 1} | {limit} | {wall / steps * 1e3:.1f} | {cpu / steps * 1e3:.1f} |")
    blas.NARROW = 16


def predict_profile(data: str) -> None:
    _, (xt, _) = mnist.load_data(path=data)
    xt = (xt / 255.0).astype(np.float32).reshape(-1, 28, 28, 1)
    model = convnet()
    model.predict(xt[:256], batch_size=128, verbose=0)
    profile = cProfile.Profile()
    profile.enable()
    model.predict(xt, batch_size=128, verbose=0)
    profile.disable()
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(8)
    print(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["products", "narrow", "predict-profile"], default="products")
    parser.add_argument("--data", default=None, help="folder with MNIST's four .gz files")
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--steps", type=int, default=62)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.mode == "products":
        products(args.calls)
    elif args.mode == "narrow":
        narrow(args.data, args.steps, args.rounds)
    else:
        predict_profile(args.data)


if __name__ == "__main__":
    main()
