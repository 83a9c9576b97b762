"""Issue 19's scale target: one epoch of the count autoencoder on a large sparse matrix streams
without densifying it, with peak memory below 2x the sparse matrix's size plus the model.

Simulated negative-binomial counts (``unafraid.cells.simulate_counts``: a few cell types,
log-normal library sizes), 100,000 cells x 2,000 genes by default, stored as float32 CSR. One
epoch of ``CountAutoencoder`` (its validation pass included) runs on it; the peak resident
memory during that epoch is read from Linux's ``VmHWM`` after resetting it
(``/proc/self/clear_refs``), or else sampled with psutil every few milliseconds.

Reported (JSON): the sparse matrix's bytes (data + indices + indptr), the model's bytes
(weights and Adam's two moments), the process's RSS while it holds the matrix and its peak RSS
during the epoch; ``epoch_extra`` is their difference (what the epoch adds, every module already
loaded by a small fit beforehand), and ``ratio = (sparse + epoch_extra) / (sparse + model)``: the
memory of the matrix and the epoch, the interpreter excluded, with the target ``ratio < 2``.
Densifying the matrix would add ``dense_bytes`` (cells x genes x 4). ``ratio_whole_process``
includes the interpreter and libraries.

    python benchmarks/cells_scale.py                      # 100,000 x 2,000
    python benchmarks/cells_scale.py --cells 20000 --json # what tests/test_cells_scale.py runs
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import threading
import time
from typing import Any


def rss_bytes() -> int:
    """The process's resident memory now."""
    import psutil
    return int(psutil.Process().memory_info().rss)


class PeakRSS:
    """Peak resident memory over a block: Linux's VmHWM reset at the start, else sampling."""

    def __enter__(self) -> PeakRSS:
        self.exact = self._reset_hwm()
        self.peak, self.stop = rss_bytes(), threading.Event()
        if not self.exact:
            self.thread = threading.Thread(target=self._sample, daemon=True)
            self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.exact:
            self.peak = self._hwm()
        else:
            self.stop.set()
            self.thread.join()

    def _sample(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, rss_bytes())
            time.sleep(0.002)

    @staticmethod
    def _reset_hwm() -> bool:
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            return True
        except OSError:
            return False

    @staticmethod
    def _hwm() -> int:
        with open("/proc/self/status") as f:
            line = next(x for x in f if x.startswith("VmHWM:"))
        return int(line.split()[1]) * 1024


def measure(n_cells: int, n_genes: int, batch_size: int, seed: int) -> dict[str, Any]:
    """Simulate, then run one epoch and return the memory figures."""
    from unafraid import cells
    small, _ = cells.simulate_counts(64, n_genes, seed=seed)  # loads every module fit uses
    cells.CountAutoencoder(max_epochs=1, batch_size=batch_size, seed=seed).fit(small)
    del small
    gc.collect()
    before = rss_bytes()
    X, _ = cells.simulate_counts(n_cells, n_genes, seed=seed)
    sparse_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    ae = cells.CountAutoencoder(max_epochs=1, batch_size=batch_size, seed=seed)
    gc.collect()
    holding = rss_bytes()  # the process holding the matrix, before the epoch
    start = time.perf_counter()
    with PeakRSS() as peak:
        ae.fit(X)
    seconds = time.perf_counter() - start
    weights = sum(w.data.nbytes for w in ae.trainable_weights)
    model_bytes = 3 * weights  # the weights and Adam's two moments
    extra = peak.peak - holding  # what the epoch adds on top of the matrix
    return {"cells": n_cells, "genes": n_genes, "density": X.nnz / (n_cells * n_genes),
            "batch_size": batch_size, "sparse_bytes": sparse_bytes, "model_bytes": model_bytes,
            "dense_bytes": n_cells * n_genes * 4, "rss_before_matrix": before,
            "rss_holding_matrix": holding, "peak_rss": peak.peak, "epoch_extra": extra,
            "peak_measured_by": "VmHWM" if peak.exact else "psutil sampling",
            "ratio": (sparse_bytes + extra) / (sparse_bytes + model_bytes),
            "ratio_whole_process": peak.peak / (sparse_bytes + model_bytes),
            "target": "ratio < 2", "epoch_seconds": seconds}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cells", type=int, default=100_000)
    p.add_argument("--genes", type=int, default=2_000)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON line only")
    args = p.parse_args()
    result = measure(args.cells, args.genes, args.batch_size, args.seed)
    if args.json:
        print(json.dumps(result))
        return
    mib = 2.0**20
    print(f"{args.cells} cells x {args.genes} genes, density {result['density']:.3f}, "
          f"pid {os.getpid()}")
    print(f"sparse matrix {result['sparse_bytes'] / mib:.1f} MiB (dense: "
          f"{result['dense_bytes'] / mib:.1f} MiB), model {result['model_bytes'] / mib:.1f} MiB; "
          f"one epoch adds {result['epoch_extra'] / mib:.1f} MiB (peak RSS "
          f"{result['peak_rss'] / mib:.1f} MiB)")
    print(f"(sparse + epoch) / (sparse + model) = {result['ratio']:.2f} (target < 2); whole "
          f"process {result['ratio_whole_process']:.2f}")


if __name__ == "__main__":
    main()
