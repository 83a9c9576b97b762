"""One Adam update of a 784x512 float32 variable (the seed model's kernel), several ways.

unafraid's NumPy kernel (twelve whole-array passes: Keras's operations in Keras's order), the
same kernel in blocks of ``--blocks`` elements, split in halves over two threads, numba's one-pass
kernel (when installed) and numexpr (when installed), plus ``np.sqrt`` alone. The NumPy, blocked,
two-thread and numba rows give the same bits (checked); numexpr's are compared too. Microseconds
per update, best of ``--repeat``:

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/adam_update.py
"""

from __future__ import annotations

import argparse
import timeit
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from unafraid import optimizers, optimizers_fast

N = 784 * 512


def state(rng: np.random.Generator) -> list[np.ndarray]:
    g = rng.standard_normal(N).astype(np.float32)
    w = rng.standard_normal(N).astype(np.float32)
    return [g, w, np.zeros(N, np.float32), np.zeros(N, np.float32), np.empty(N, np.float32)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--number", type=int, default=200)
    parser.add_argument("--blocks", type=int, nargs="*", default=[16384, 65536, 131072])
    args = parser.parse_args()

    opt = optimizers.Adam()
    opt.iterations = 10
    _, scalars = opt.fast_update(1e-3)   # the in-place kernel's per-step scalars
    f32 = np.float32
    c1, c2, alpha, eps = (f32(scalars[k]) for k in ("one_minus_beta_1", "one_minus_beta_2",
                                                    "alpha", "epsilon"))

    s2 = np.empty(N, np.float32)

    def numpy_update(g, w, m, v, s1, second=None):   # unafraid's NumPy kernel, one block
        second = s2[:s1.size] if second is None else second
        optimizers_fast.adam_numpy(g, w, {"m": m, "v": v}, s1, second, **scalars)

    def blocked(size):
        def update(g, w, m, v, s1):
            for i in range(0, N, size):
                b = slice(i, i + size)
                numpy_update(g[b], w[b], m[b], v[b], s1[b])
        return update

    pool = ThreadPoolExecutor(1)

    def two_threads(g, w, m, v, s1):
        h = N // 2
        other = pool.submit(numpy_update, g[:h], w[:h], m[:h], v[:h], s1[:h], s2[:h])
        numpy_update(g[h:], w[h:], m[h:], v[h:], s1[h:], s2[h:])  # each half its own scratch
        other.result()

    ways = {"NumPy, twelve passes (unafraid without numba)": numpy_update}
    ways.update({f"NumPy in blocks of {b}": blocked(b) for b in args.blocks})
    ways["NumPy, halves on two threads"] = two_threads
    try:
        from unafraid import optimizers_numba as k
        ways["numba, one pass (unafraid[fast])"] = (
            lambda g, w, m, v, s1: k.adam(g, w, m, v, c1, c2, alpha, eps))
    except ImportError:
        print("numba: not installed")
    try:
        import numexpr as ne

        def numexpr_update(g, w, m, v, s1):  # float32 scalars, so that nothing is upcast
            ne.evaluate("m + (g - m) * c1", local_dict={"m": m, "c1": c1, "g": g}, out=m)
            ne.evaluate("v + (g * g - v) * c2", local_dict={"v": v, "c2": c2, "g": g}, out=v)
            ne.evaluate("w - (m * alpha) / (sqrt(v) + eps)", out=w,
                        local_dict={"w": w, "m": m, "v": v, "eps": eps, "alpha": alpha})
        ways[f"numexpr {ne.__version__} ({ne.nthreads} threads)"] = numexpr_update
    except ImportError:
        print("numexpr: not installed")

    reference = None
    print("| update | us | same bits as NumPy |")
    print("| --- | ---: | --- |")
    for name, fn in ways.items():
        arrays = state(np.random.default_rng(0))
        for _ in range(3):
            fn(*arrays)
        if reference is None:
            reference = arrays[1].copy()
        same = np.array_equal(arrays[1].view(np.uint32), reference.view(np.uint32))
        t = min(timeit.repeat(lambda fn=fn, arrays=arrays: fn(*arrays), number=args.number,
                              repeat=args.repeat))
        print(f"| {name} | {t / args.number * 1e6:.0f} | {'yes' if same else 'no'} |", flush=True)
    v, out = np.random.default_rng(0).random(N, dtype=np.float32), np.empty(N, np.float32)
    t = min(timeit.repeat(lambda: np.sqrt(v, out=out), number=args.number, repeat=args.repeat))
    print(f"| `np.sqrt` alone | {t / args.number * 1e6:.0f} | |")


if __name__ == "__main__":
    main()
