"""Issue 22's speed target: CPU seconds per 1,000 WGAN-GP generator steps, unafraid against PyTorch.

The same networks and settings as ``unafraid.cells.WGANGP``'s defaults (noise 64 -> 256 -> 512 ->
765 with ReLU after each layer, critic 765 -> 512 -> 256 -> 1, lambda 10, 5 critic steps per
generator step, Adam 1e-4 (0.5, 0.9), batch 64 real cells drawn with replacement), on the 525
training cells of pbmc68k_reduced's fixed split (log1p-normalised ``raw.X``). Each generator step
is 5 critic steps (each with the gradient penalty, a gradient of a gradient) and one generator
step; the PyTorch version uses ``torch.autograd.grad(..., create_graph=True)`` for the penalty.

Each tool runs ``--steps`` generator steps after 5 warm-up steps, in its own subprocess at one
thread (``OPENBLAS_NUM_THREADS=1``, ``torch.set_num_threads(1)``), the tools taking turns for
``--repeats`` rounds; the CPU time (``time.process_time``) is scaled to 1,000 generator steps.
The table gives each tool's median and the median per-round ratio to PyTorch.

    UNAFRAID_DATA=../shared/data python benchmarks/cells_gan_speed.py \\
        --torch-python ../benchvenv/bin/python --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

LATENT, N_CRITIC, BATCH, PENALTY = 64, 5, 64, 10.0


def training_cells(path: str) -> None:
    """Write the training cells (log1p-normalised, float32) of the fixed split to ``path``."""
    import unafraid as uf
    from unafraid.cells import labels_from_obs
    from unafraid.cells.run import stratified_test_split
    adata = uf.datasets.pbmc68k_reduced()
    x = adata.raw.X.toarray().astype(np.float32)
    codes, _ = labels_from_obs(adata, "bulk_labels")
    train, _ = stratified_test_split(codes, 0.25, 0)
    np.save(path, x[train])


def run_unafraid(x: np.ndarray, steps: int) -> float:
    """CPU seconds per 1,000 generator steps of ``unafraid.cells.WGANGP.fit``."""
    from unafraid.cells import WGANGP
    gan = WGANGP(seed=0).fit(x, steps=5, verbose=0)  # warm-up (and the networks built)
    start = time.process_time()
    gan.fit(x, steps=steps, verbose=0)
    return (time.process_time() - start) * 1000 / steps


def run_torch(x: np.ndarray, steps: int) -> float:
    """CPU seconds per 1,000 generator steps of the same WGAN-GP in PyTorch."""
    import torch
    from torch import nn
    torch.set_num_threads(1)
    torch.manual_seed(0)
    genes = x.shape[1]
    generator = nn.Sequential(nn.Linear(LATENT, 256), nn.ReLU(), nn.Linear(256, 512), nn.ReLU(),
                              nn.Linear(512, genes), nn.ReLU())
    critic = nn.Sequential(nn.Linear(genes, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                           nn.Linear(256, 1))
    g_opt = torch.optim.Adam(generator.parameters(), lr=1e-4, betas=(0.5, 0.9))
    c_opt = torch.optim.Adam(critic.parameters(), lr=1e-4, betas=(0.5, 0.9))
    real_all = torch.from_numpy(x)

    def penalty(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        eps = torch.rand(len(real), 1)
        x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
        grad, = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
        return ((grad.square().sum(1) + 1e-12).sqrt() - 1).square().mean()

    def step() -> None:
        for _ in range(N_CRITIC):
            real = real_all[torch.randint(0, len(real_all), (BATCH,))]
            with torch.no_grad():
                fake = generator(torch.randn(BATCH, LATENT))
            loss = critic(fake).mean() - critic(real).mean() + PENALTY * penalty(real, fake)
            c_opt.zero_grad()
            loss.backward()
            c_opt.step()
        loss = -critic(generator(torch.randn(BATCH, LATENT))).mean()
        g_opt.zero_grad()
        loss.backward()
        g_opt.step()

    for _ in range(5):  # warm-up
        step()
    start = time.process_time()
    for _ in range(steps):
        step()
    return (time.process_time() - start) * 1000 / steps


def worker(tool: str, path: str, steps: int) -> None:
    x = np.load(path)
    seconds = run_unafraid(x, steps) if tool == "unafraid" else run_torch(x, steps)
    print(json.dumps({"tool": tool, "cpu_s_per_1000_steps": seconds}))


def main() -> None:
    from cells_speed import interleaved, print_table  # benchmarks/ is this script's folder

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--torch-python", default=None, help="a Python with torch (default: skip torch)")
    p.add_argument("--steps", type=int, default=200, help="generator steps timed per run")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--worker", nargs=2, metavar=("TOOL", "CELLS"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        worker(args.worker[0], args.worker[1], args.steps)
        return
    pythons = {"unafraid": sys.executable, **({"torch": args.torch_python} if args.torch_python else {})}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "cells.npy")
        training_cells(path)
        times = interleaved(__file__, pythons, ["--steps", str(args.steps)], path, args.repeats,
                            "cpu_s_per_1000_steps")
    print(f"{args.steps} generator steps after 5 warm-up steps, {args.repeats} interleaved rounds, "
          "one thread")
    print_table(times, "CPU s / 1000 steps", 1)


if __name__ == "__main__":
    main()
