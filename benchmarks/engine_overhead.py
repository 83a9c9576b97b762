"""How much the autodiff engine costs on top of the NumPy it runs.

For a representative set of primitives, on a small (32 x 512) and a large
(2048 x 2048) float32 array, it times

* forward: ``unafraid.<op>`` on Tensors that require grad (so the graph is
  recorded) against the same NumPy expression;
* forward + backward: the op, then ``y.backward(G)`` for a fixed upstream
  gradient ``G``, against the forward and the hand-written vector-Jacobian
  product in NumPy;

and one training step of the seed MLP (784-512-10, batch 32, relu, softmax
cross-entropy from integer labels, backward, plain SGD update in place) with
``unafraid.value_and_grad``, with Variables and ``backward()``, and replayed
(``engine/record.py``: what ``compile(jit_compile=...)`` does in ``fit``) against
the same step written by hand in NumPy. Every step alternates between two batches
(a recording is only replayed once two recordings on different batches agree).

Every time is the median of ``--repeat`` repeats (``--step-repeat`` for the MLP
step) of a loop sized like ``timeit``'s autorange (at least 0.2 s per repeat);
NumPy and engine repeats alternate, and each ratio is the median of the
per-repeat ratios. The step gets more repeats because the machine's speed drifts
from minute to minute: 21 alternating repeats span about 20 s of it. Run it with

    .venv/bin/python benchmarks/engine_overhead.py [--repeat 7] [--step-repeat 21] [--quick] [--ops add tanh]

``--quick`` skips the large arrays; ``--ops`` with no names times only the MLP
step; ``--tiny`` also times it with 16-8-10 layers, where NumPy does almost nothing and the
difference is the engine's own Python. The BLAS in use is printed first (through ``threadpoolctl`` when it is
installed). Run it on an idle machine: other processes competing for the
cores slow multithreaded BLAS calls down by orders of magnitude.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import timeit
from collections.abc import Callable
from typing import Any

import numpy as np

import unafraid as uf

DT = np.float32


def compare(numpy_fn: Callable[[], Any], engine_fn: Callable[[], Any],
            repeat: int) -> tuple[float, float, float]:
    """Median seconds per call of each, and the median of their per-repeat ratios.

    ``timeit``-style loops (autorange: at least 0.2 s), the two alternating
    repeat by repeat, so that a machine that speeds up or slows down during
    the run (shared or throttled CPUs) affects both alike.
    """
    timers = [timeit.Timer(numpy_fn), timeit.Timer(engine_fn)]
    numbers = [t.autorange()[0] for t in timers]
    times: list[list[float]] = [[], []]
    for _ in range(repeat):
        for k in (0, 1):
            times[k].append(timers[k].timeit(numbers[k]) / numbers[k])
    ratio = statistics.median(e / n for n, e in zip(*times, strict=True))
    return statistics.median(times[0]), statistics.median(times[1]), ratio


def blas_info() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (pip install threadpoolctl to see it)"
    pools = [f"{p['internal_api']} {p.get('version')}, kernel {p.get('architecture', '?')} "
             f"({p.get('threading_layer', '-')}, {p['num_threads']} threads)"
             for p in threadpool_info() if p["user_api"] == "blas"]
    return "; ".join(pools) or "none found"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


# ---- the primitives: engine call, NumPy forward, NumPy forward + VJP --------------------------
def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _sce_fwd(z: np.ndarray, labels: np.ndarray) -> np.ndarray:
    m = z.max(axis=-1, keepdims=True)
    lse = np.log(np.exp(z - m).sum(axis=-1)) + m[:, 0]
    return lse - z[np.arange(len(z)), labels]


def _sce_fwd_bwd(z: np.ndarray, labels: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, ...]:
    p = _softmax(z)
    rows = np.arange(len(z))
    loss = -np.log(p[rows, labels])
    p[rows, labels] -= 1
    return loss, p * g[:, None]


def _tanh_fwd_bwd(a, g):
    y = np.tanh(a)
    return y, g * (1 - y * y)


def _softmax_fwd_bwd(a, g):
    y = _softmax(a)
    gy = g * y
    return y, gy - y * gy.sum(axis=-1, keepdims=True)


# name: (engine function, NumPy forward, NumPy forward + backward, number of float inputs)
OPS: dict[str, tuple[Callable, Callable, Callable, int]] = {
    "add": (uf.add, np.add, lambda a, b, g: (a + b, g, g), 2),
    "multiply": (uf.multiply, np.multiply, lambda a, b, g: (a * b, g * b, g * a), 2),
    "tanh": (uf.tanh, np.tanh, _tanh_fwd_bwd, 1),
    "relu": (uf.relu, lambda a: np.maximum(a, 0),
             lambda a, g: (np.maximum(a, 0), g * (a > 0)), 1),
    "exp": (uf.exp, np.exp, lambda a, g: (lambda y: (y, g * y))(np.exp(a)), 1),
    "sum": (uf.sum, np.sum, lambda a, g: (a.sum(), np.broadcast_to(g, a.shape)), 1),
    "matmul": (uf.matmul, np.matmul, lambda a, b, g: (a @ b, g @ b.T, a.T @ g), 2),
    "linear": (uf.linear, lambda x, w, b: x @ w + b,
               lambda x, w, b, g: (x @ w + b, g @ w.T, x.T @ g, g.sum(axis=0)), 3),
    "softmax": (uf.softmax, _softmax, _softmax_fwd_bwd, 1),
    "softmax_cross_entropy": (uf.softmax_cross_entropy, _sce_fwd, _sce_fwd_bwd, 1),
}


def make_inputs(name: str, shape: tuple[int, int], rng: np.random.Generator) -> list[np.ndarray]:
    n, d = shape
    if name == "matmul":
        return [rng.standard_normal((n, d), DT), rng.standard_normal((d, d), DT)]
    if name == "linear":
        return [rng.standard_normal((n, d), DT), rng.standard_normal((d, d), DT),
                rng.standard_normal(d, DT)]
    if name == "softmax_cross_entropy":
        return [rng.standard_normal((n, d), DT), rng.integers(0, d, n)]
    return [rng.standard_normal((n, d), DT) for _ in range(OPS[name][3])]


def bench_op(name: str, shape: tuple[int, int], repeat: int) -> dict[str, tuple[float, ...]]:
    rng = np.random.default_rng(0)
    engine_fn, np_fwd, np_fwd_bwd, n_float = OPS[name]
    arrays = make_inputs(name, shape, rng)
    leaves = [uf.Tensor(a, requires_grad=True) for a in arrays[:n_float]]
    args = [*leaves, *arrays[n_float:]]
    y = engine_fn(*args)
    g = rng.standard_normal(y.shape).astype(DT) if y.ndim else np.asarray(1, DT)
    assert np.allclose(y.data, np_fwd(*arrays), rtol=1e-3, atol=1e-3), name

    def engine_fwd_bwd():
        for t in leaves:
            t.grad = None
        engine_fn(*args).backward(g)

    engine_fwd_bwd()
    expected = np_fwd_bwd(*arrays, g)[1:]
    for t, e in zip(leaves, expected, strict=True):
        assert np.allclose(t.grad, e, rtol=1e-3, atol=1e-2), name
    return {"fwd": compare(lambda: np_fwd(*arrays), lambda: engine_fn(*args), repeat),
            "fwd_bwd": compare(lambda: np_fwd_bwd(*arrays, g), engine_fwd_bwd, repeat)}


# ---- the seed MLP: one SGD step ---------------------------------------------------------------
def mlp_setup(rng: np.random.Generator, sizes: tuple[int, int, int] = (784, 512, 10)
              ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    n_in, hidden, n_out = sizes
    params = {"W1": (rng.standard_normal((n_in, hidden)) * 0.05).astype(DT),
              "b1": np.zeros(hidden, DT),
              "W2": (rng.standard_normal((hidden, n_out)) * 0.05).astype(DT),
              "b2": np.zeros(n_out, DT)}
    return params, rng.random((32, n_in), DT), rng.integers(0, n_out, 32)


def mlp_loss(p: dict[str, Any], x: np.ndarray, y: np.ndarray) -> Any:
    h = uf.relu(uf.linear(x, p["W1"], p["b1"]))
    return uf.mean(uf.softmax_cross_entropy(uf.linear(h, p["W2"], p["b2"]), y))


_value_and_grad = uf.value_and_grad(mlp_loss)


def engine_step(p: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray, lr: float = 0.01) -> float:
    loss, grads = _value_and_grad(p, x, y)
    for k, g in grads.items():
        p[k] -= lr * g
    return float(loss)


def variable_step(p: dict[str, uf.Variable], x: np.ndarray, y: np.ndarray,
                  lr: float = 0.01) -> float:
    """The same step in PyTorch's style: weights as Variables, ``loss.backward()``, ``.grad``."""
    loss = mlp_loss(p, x, y)
    loss.backward()
    for w in p.values():
        w.data -= lr * w.grad
        w.grad = None
    return loss.item()


def replayed_step(compiled: Any, p: dict[str, uf.Variable], x: np.ndarray, y: np.ndarray,
                  lr: float = 0.01) -> float:
    """The same step recorded once and replayed (engine/record.py), then SGD in place."""
    (loss,), grads = compiled([x, y], list(p.values()))
    for w, g in zip(p.values(), grads, strict=True):
        w.data -= lr * g
    return float(loss)


def numpy_step(p: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray, lr: float = 0.01) -> float:
    n, rows = len(x), np.arange(len(x))
    z1 = x @ p["W1"] + p["b1"]
    h = np.maximum(z1, 0)
    z2 = h @ p["W2"] + p["b2"]
    e = np.exp(z2 - z2.max(axis=1, keepdims=True))
    prob = e / e.sum(axis=1, keepdims=True)
    loss = -np.log(prob[rows, y]).mean()
    g2 = prob
    g2[rows, y] -= 1
    g2 /= n
    gh = g2 @ p["W2"].T
    gh *= z1 > 0
    grads = {"W2": h.T @ g2, "b2": g2.sum(axis=0), "W1": x.T @ gh, "b1": gh.sum(axis=0)}
    for k, g in grads.items():
        p[k] -= lr * g
    return float(loss)


def bench_mlp(repeat: int, sizes: tuple[int, int, int] = (784, 512, 10)
              ) -> dict[str, tuple[float, float, float]]:
    from unafraid.engine.record import Compiled

    rng = np.random.default_rng(0)
    params, x, y = mlp_setup(rng, sizes)
    batches = [(x, y), (rng.random(x.shape, DT), rng.integers(0, sizes[2], len(y)))]
    p_engine = {k: v.copy() for k, v in params.items()}
    p_vars = {k: uf.Variable(v.copy(), name=k) for k, v in params.items()}
    p_replay = {k: uf.Variable(v.copy(), name=k) for k, v in params.items()}
    p_numpy = {k: v.copy() for k, v in params.items()}
    compiled = Compiled(lambda batch: [mlp_loss(p_replay, *batch)])
    turn = [0]

    def alternate(step: Callable[..., float], *first: Any) -> Callable[[], float]:
        def run() -> float:
            turn[0] ^= 1
            return step(*first, *batches[turn[0]])
        return run

    for i in range(4):  # the four steps agree (and the replay is proven by the second)
        bx, by = batches[i % 2]
        losses = (engine_step(p_engine, bx, by), variable_step(p_vars, bx, by),
                  replayed_step(compiled, p_replay, bx, by), numpy_step(p_numpy, bx, by))
        assert max(losses) - min(losses) < 1e-4, losses
    assert compiled.proven, compiled.eager_reasons
    numpy_fn = alternate(numpy_step, p_numpy)
    return {"value_and_grad + update": compare(numpy_fn, alternate(engine_step, p_engine), repeat),
            "Variables, backward() + update": compare(numpy_fn, alternate(variable_step, p_vars),
                                                       repeat),
            "replayed (jit_compile) + update": compare(
                numpy_fn, alternate(lambda *a: replayed_step(compiled, *a), p_replay), repeat)}


def fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="repeats per timing (median)")
    parser.add_argument("--step-repeat", type=int, default=21,
                        help="repeats for the MLP step (median)")
    parser.add_argument("--quick", action="store_true", help="skip the 2048 x 2048 arrays")
    parser.add_argument("--ops", nargs="*", default=list(OPS),
                        help="which primitives (none: only the MLP step)")
    parser.add_argument("--tiny", action="store_true",
                        help="also time the step with tiny layers (16-8-10), where the difference "
                             "is the engine's own Python")
    parser.add_argument("--blas-threads", type=int, default=None,
                        help="limit BLAS threads with threadpoolctl (default: leave as is); "
                             "one thread is steadier on a shared, busy machine")
    args = parser.parse_args()
    if args.blas_threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.blas_threads, user_api="blas")

    print(f"date: {datetime.date.today()}  machine: {cpu_model()}, {os.cpu_count()} logical CPUs")
    print(f"python {platform.python_version()}, numpy {np.__version__}, BLAS: {blas_info()}")
    print()
    print("| op | shape | NumPy fwd | engine fwd | ratio | NumPy fwd+bwd | engine fwd+bwd | ratio |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    shapes = [(32, 512)] if args.quick else [(32, 512), (2048, 2048)]
    for shape in shapes:
        for name in args.ops:
            (nf, ef, rf), (nb, eb, rb) = bench_op(name, shape, args.repeat).values()
            print(f"| {name} | {shape[0]}x{shape[1]} | {fmt(nf)} | {fmt(ef)} | {rf:.2f} | {fmt(nb)} "
                  f"| {fmt(eb)} | {rb:.2f} |", flush=True)
    print()
    for sizes in [(784, 512, 10)] + ([(16, 8, 10)] if args.tiny else []):
        print(f"| MLP {'-'.join(map(str, sizes))}, batch 32, one SGD step, engine written with "
              f"| NumPy by hand | engine | ratio | engine - NumPy |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for style, (numpy_s, engine_s, ratio) in bench_mlp(args.step_repeat, sizes).items():
            print(f"| {style} | {fmt(numpy_s)} | {fmt(engine_s)} | {ratio:.2f} "
                  f"| {fmt(engine_s - numpy_s)} |", flush=True)
        print()


if __name__ == "__main__":
    main()
