"""Issue 22's PyTorch anchor, scored by unafraid's own metrics: the same WGAN-GP in PyTorch.

The networks and settings of ``unafraid.cells.WGANGP``'s defaults (noise 64 -> 256 -> 512 -> 765
with ReLU after each layer, critic 765 -> 512 -> 256 -> 1, lambda 10, 5 critic steps per
generator step, Adam 1e-4 (0.5, 0.9), batch 64 real cells drawn with replacement), PyTorch's
default ``nn.Linear`` initialisation, trained on the 525 training cells of pbmc68k_reduced's fixed
split. Every ``--every`` generator steps, 175 generated cells are scored against the 175 held-out
cells by ``unafraid.cells.metrics.evaluate`` (the table of docs/cells_gan.md). ``--init glorot``
starts from Glorot-uniform weights and zero biases instead (Keras's ``Dense`` default).

It needs a Python with both torch and unafraid (and scikit-learn, anndata):

    UNAFRAID_DATA=path/to/data python benchmarks/cells_gan_torch_anchor.py --seed 0 --steps 3000
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

LATENT, N_CRITIC, BATCH, PENALTY = 64, 5, 64, 10.0


def main() -> None:
    import torch
    from cells_gan import load  # benchmarks/ is this script's folder
    from torch import nn

    from unafraid.cells import metrics as M

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--every", type=int, default=1000, help="score every this many generator steps")
    p.add_argument("--init", choices=["pytorch", "glorot"], default="pytorch")
    p.add_argument("--out", default="cells_gan_torch_anchor.json")
    args = p.parse_args()
    torch.set_num_threads(1)
    x, codes, train, test, _ = load()
    real_all = torch.from_numpy(x[train])
    torch.manual_seed(args.seed)
    genes = x.shape[1]
    generator = nn.Sequential(nn.Linear(LATENT, 256), nn.ReLU(), nn.Linear(256, 512), nn.ReLU(),
                              nn.Linear(512, genes), nn.ReLU())
    critic = nn.Sequential(nn.Linear(genes, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                           nn.Linear(256, 1))
    if args.init == "glorot":
        for m in [*generator, *critic]:
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
    g_opt = torch.optim.Adam(generator.parameters(), lr=1e-4, betas=(0.5, 0.9))
    c_opt = torch.optim.Adam(critic.parameters(), lr=1e-4, betas=(0.5, 0.9))
    samples = {}
    for step in range(1, args.steps + 1):
        for _ in range(N_CRITIC):
            real = real_all[torch.randint(0, len(real_all), (BATCH,))]
            with torch.no_grad():
                fake = generator(torch.randn(BATCH, LATENT))
            eps = torch.rand(BATCH, 1)
            x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
            grad, = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
            penalty = ((grad.square().sum(1) + 1e-12).sqrt() - 1).square().mean()
            loss = critic(fake).mean() - critic(real).mean() + PENALTY * penalty
            c_opt.zero_grad()
            loss.backward()
            c_opt.step()
        loss = -critic(generator(torch.randn(BATCH, LATENT))).mean()
        g_opt.zero_grad()
        loss.backward()
        g_opt.step()
        if step % args.every == 0 or step == args.steps:
            with torch.no_grad():
                z = torch.from_numpy(np.random.default_rng(args.seed + 100).standard_normal(
                    (len(test), LATENT)).astype(np.float32))
                samples[f"PyTorch WGAN-GP seed {args.seed}, {step} generator steps"] = \
                    generator(z).numpy()
    table = M.evaluate(x[train], codes[train], x[test], samples, test_labels=codes[test])
    print(table.round(3).to_string())
    Path(args.out).write_text(json.dumps({"table": table.round(4).to_dict(orient="index")},
                                         indent=2) + "\n")


if __name__ == "__main__":
    main()
