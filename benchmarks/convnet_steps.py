"""Workload (h)'s training steps, unafraid against compare.py's hand-written NumPy convnet.

Two modes, both on the first ``--images`` MNIST training images at batch 128 (after a warm-up
fit of two batches, which records and proves unafraid's replayed step):

- ``--mode ratio`` (default): ``--rounds`` interleaved rounds (unafraid, then the NumPy convnet,
  each a fresh model in this process); per round the CPU time of one ``fit`` over the images
  (``time.process_time``: what the process ran, not what other programs took) and the minor page
  faults per step (``getrusage``), then predict on 2,000 test images. Prints the medians and the
  ratio unafraid / NumPy. The two share one process, so ``fit``'s process-wide settings
  (``unafraid/allocator.py``) apply to the NumPy convnet too once unafraid has trained.
- ``--mode profile``: cProfile of unafraid's ``fit``, CPU time, the 25 costliest functions.

    PYTHONPATH=. OPENBLAS_NUM_THREADS=1 python benchmarks/convnet_steps.py --data ../shared/data/mnist

One BLAS thread makes CPU time a fair measure on a shared machine (BLAS's second thread spins
while waiting and counts as CPU time).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import resource
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402  (the NumPy convnet and the Keras model of workload h)

from unafraid.datasets import mnist  # noqa: E402


def faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", required=True, help="folder with MNIST's four .gz files")
    p.add_argument("--images", type=int, default=3200)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--mode", choices=("ratio", "profile"), default="ratio")
    args = p.parse_args()
    (x, y), (xt, _) = mnist.load_data(path=args.data)
    n = args.images
    x = (x[:n].astype(np.float32) / np.float32(255)).reshape(n, 28, 28, 1)
    y = y[:n].astype(np.int64)
    xt = (xt[:2000].astype(np.float32) / np.float32(255)).reshape(-1, 28, 28, 1)
    steps = -(-n // 128)

    def runner(tool: str) -> compare.Runner:
        r = compare.Runner(tool, [784, 10], "convnet")
        r.fit(x[:256], y[:256], 128)
        r.predict(xt[:256], 128)
        return r

    if args.mode == "profile":
        r = runner("unafraid")
        profile = cProfile.Profile(time.process_time)
        profile.enable()
        r.fit(x, y, 128)
        profile.disable()
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(25)
        print(f"{steps} steps\n{out.getvalue()}")
        return

    fit_s: dict[str, list[float]] = {"unafraid": [], "numpy": []}
    predict_s: dict[str, list[float]] = {"unafraid": [], "numpy": []}
    step_faults: dict[str, list[int]] = {"unafraid": [], "numpy": []}
    for _ in range(args.rounds):
        for tool in fit_s:
            r = runner(tool)
            f0, t0 = faults(), time.process_time()
            r.fit(x, y, 128)
            fit_s[tool].append(time.process_time() - t0)
            step_faults[tool].append((faults() - f0) // steps)
            t0 = time.process_time()
            r.predict(xt, 128)
            predict_s[tool].append(time.process_time() - t0)
    for tool in fit_s:
        print(f"{tool:9s} fit CPU s {[round(v, 2) for v in fit_s[tool]]}, predict CPU s "
              f"{[round(v, 3) for v in predict_s[tool]]}, page faults per step "
              f"{step_faults[tool]}")
    med = {t: (np.median(fit_s[t]), np.median(predict_s[t])) for t in fit_s}
    print(f"unafraid / numpy: fit {med['unafraid'][0] / med['numpy'][0]:.3f}, predict "
          f"{med['unafraid'][1] / med['numpy'][1]:.3f} ({steps} steps of 128, medians of "
          f"{args.rounds} rounds)")


if __name__ == "__main__":
    main()
