"""Where one ``fit`` step of workload (a), (d) or (g) spends its time, phase by phase.

Wraps the compiled train step (``models.training.CompiledTrainStep``), its replayed forward and
backward pass (``engine.record.Replay``), ``Optimizer.apply`` and ``Trainer.compute_metrics`` in
``time.perf_counter`` timers (not a sampling profiler: on two cores a sampler thread disturbs
the run), trains one epoch, and prints microseconds per step:

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/step_breakdown.py \\
        --data ../shared/data/mnist [--workload a|d|g] [--runs 3] [--two-core] [--tool numpy]

The first steps of a fit run eagerly while the step is recorded (``docs/training.md``), so the
replay column covers all steps but those. ``UNAFRAID_NUMBA=0`` in the environment gives the
NumPy-only optimizer. ``--two-core`` forces the optimizer's two-core update (normally used from
2^18 parameters) to compare the two. ``--tool numpy`` runs ``compare.py``'s hand-written NumPy
loop instead (the same model, data and batch), timing only its Adam step: its "rest" column is
the loop's forward, loss and backward together (where the loop's Adam runs on one thread: on a
machine where it takes two, (a)'s halves are not timed apart and the script says so). A run
trains one epoch of (a) or (d), ten of (g) (79 steps each, too few to time alone). Each run is a
fresh model in the same process;
run the script once per configuration, and alternate configurations, since the machine's speed
drifts.
"""

from __future__ import annotations

import argparse
import collections
import os
import time

import numpy as np

import unafraid as uf
from unafraid import optimizers, optimizers_fast
from unafraid.engine import record
from unafraid.models import training

PHASES = {"train_step": (training.CompiledTrainStep, "__call__"),
          "replay": (record.Replay, "__call__"),
          "adam": (optimizers.Optimizer, "apply"),
          "metrics": (training.Trainer, "compute_metrics")}


def timed(totals: dict[str, float], label: str, fn):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            totals[label] += time.perf_counter() - start
    return wrapper


def data(workload: str, mnist_dir: str) -> tuple[np.ndarray, np.ndarray, int]:
    if workload == "a":
        (x, y), _ = uf.datasets.mnist.load_data(path=mnist_dir)
        return (x / 255.0).astype(np.float32), y, 32
    rng = np.random.default_rng(1234)
    if workload == "g":  # rows like compare.py's (g): 10 Gaussian clouds in 765 dimensions
        means = rng.standard_normal((10, 765)) * 0.15
        labels = rng.integers(0, 10, 5000)
        return (means[labels] + rng.standard_normal((5000, 765))).astype(np.float32), labels, 64
    z = rng.standard_normal((20000, 16))  # rows like compare.py's: rank 16 plus N(0, 0.1^2) noise
    w = rng.standard_normal((16, 2000)) / 4.0
    x = (z @ w + 0.1 * rng.standard_normal((20000, 2000))).astype(np.float32)
    return x, x, 64


EPOCHS = {"a": 1, "d": 1, "g": 10}  # per run


def build(workload: str):
    L = uf.keras.layers
    if workload == "a":
        m = uf.keras.Sequential([L.Flatten(input_shape=(28, 28)), L.Dense(512, activation="relu"),
                                 L.Dense(10, activation="softmax")])
        m.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    elif workload == "g":
        m = uf.keras.Sequential([L.Input((765,)), L.Dense(256, activation="relu"), L.Dropout(0.2),
                                 L.Dense(10, activation="softmax")])
        m.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    else:
        m = uf.keras.Sequential([L.Input((2000,)), L.Dense(256, activation="relu"),
                                 L.Dense(32, activation="relu"), L.Dense(256, activation="relu"),
                                 L.Dense(2000)])
        m.compile("adam", "mse")
    return m


def hand_loop(args: argparse.Namespace) -> None:
    """Time compare.py's hand-written NumPy loop, with a timer around its Adam step only."""
    import compare  # benchmarks/compare.py, next to this script

    adam, totals = compare._adam, {"adam": 0.0, "calls": 0}

    def timed_adam(*a):
        start = time.perf_counter()
        adam(*a)
        totals["adam"] += time.perf_counter() - start
        totals["calls"] += 1

    compare._adam = timed_adam
    x, y, batch = data(args.workload, args.data)
    sizes = {"a": [784, 512, 10], "d": [2000, 256, 32, 256, 2000], "g": [765, 256, 10]}[args.workload]
    epochs = EPOCHS[args.workload]
    steps = -(-len(x) // batch) * epochs
    print(f"workload ({args.workload}), batch {batch}, {steps} steps; compare.py's hand-written "
          f"NumPy loop")
    print("| run | fit s | step us | Adam us | the rest us |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for run in range(1, args.runs + 1):
        totals.update(adam=0.0, calls=0)
        clf = args.workload != "d"
        model = compare.NumpyMLP(sizes, "clf" if clf else "ae",
                                 dropout=0.2 if args.workload == "g" else 0.0)
        start = time.perf_counter()
        model.fit(x.reshape(len(x), -1), y if clf else None, batch, epochs)
        total = time.perf_counter() - start
        if model.pool is not None:
            raise RuntimeError(f"workload ({args.workload}): the loop's Adam ran in two halves on "
                               f"two threads, which this timer cannot tell apart")
        if totals["calls"] != steps:
            raise RuntimeError(f"expected {steps} Adam steps, timed {totals['calls']}")
        step, adam_us = total / steps * 1e6, totals["adam"] / steps * 1e6
        print(f"| {run} | {total:.3f} | {step:.0f} | {adam_us:.0f} | {step - adam_us:.0f} |",
              flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="../shared/data/mnist", help="MNIST folder (workload a)")
    parser.add_argument("--workload", choices=["a", "d", "g"], default="a")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--two-core", action="store_true",
                        help="force the optimizer's two-core update at any size")
    parser.add_argument("--tool", choices=["unafraid", "numpy"], default="unafraid",
                        help="numpy: compare.py's hand-written loop, its Adam step timed")
    args = parser.parse_args()
    if args.tool == "numpy":
        hand_loop(args)
        return
    if args.two_core:
        optimizers_fast.PARALLEL_MIN_TOTAL = 0
    totals: dict[str, float] = collections.defaultdict(float)
    for label, (owner, name) in PHASES.items():
        setattr(owner, name, timed(totals, label, getattr(owner, name)))
    x, y, batch = data(args.workload, args.data)
    steps = -(-len(x) // batch) * EPOCHS[args.workload]
    print(f"workload ({args.workload}), batch {batch}, {steps} steps; optimizer: {optimizers_fast.status()}"
          f"{'; two-core update forced' if args.two_core else ''}; "
          f"UNAFRAID_NUMBA={os.environ.get('UNAFRAID_NUMBA', '(unset)')}")
    print("| run | fit s | step us | replayed forward + backward us | Adam.apply us | metrics us | "
          "rest of the step us | outside the step us |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for run in range(1, args.runs + 1):
        totals.clear()
        m = build(args.workload)
        start = time.perf_counter()
        m.fit(x, y, batch_size=batch, epochs=EPOCHS[args.workload], verbose=0)
        total = time.perf_counter() - start
        us = collections.defaultdict(float, {k: v / steps * 1e6 for k, v in totals.items()})
        rest = us["train_step"] - us["replay"] - us["adam"] - us["metrics"]
        print(f"| {run} | {total:.3f} | {total / steps * 1e6:.0f} | {us['replay']:.0f} "
              f"| {us['adam']:.0f} | {us['metrics']:.0f} | {rest:.0f} "
              f"| {total / steps * 1e6 - us['train_step']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
