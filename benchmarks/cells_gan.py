"""Issue 22's measurement: a WGAN-GP on pbmc68k_reduced judged by unafraid.cells.metrics.

On the fixed split (stratified by bulk_labels, 25% test, random_state 0: 525 training and 175
held-out cells) of log1p-normalised expression (``raw.X``, 765 genes), train
``unafraid.cells.WGANGP`` (noise 64 -> 256 -> 512 -> 765, critic 765 -> 512 -> 256 -> 1,
lambda 10, 5 critic steps, Adam 1e-4 (0.5, 0.9), batch 64) for ``--steps`` generator steps per
seed, generate 175 cells, and score them, the real training cells and the three baselines
against the held-out cells. Prints the table (means over seeds for the GAN) and writes JSON.

    UNAFRAID_DATA=path/to/data python benchmarks/cells_gan.py                 # the full target:
                                                                              # 3,000 steps x 3 seeds
    python benchmarks/cells_gan.py --steps 500 --seeds 0                      # a smaller budget
    python benchmarks/cells_gan.py --from-checkpoint ckpt/generator-step000500.safetensors
    python benchmarks/cells_gan.py --from-checkpoint 'ckpt/seed{seed}/generator-step003000.safetensors'
                                                  # re-score the saved generators of every seed
    python benchmarks/cells_gan.py --conditional --seeds 0                    # + the 80% check
    python benchmarks/cells_gan.py --conditional-only --conditioning acgan    # only the 80% check
    python benchmarks/cells_gan.py --init glorot                              # Keras's initial weights

The time per 1,000 generator steps is printed too (CPU seconds of this process): run it on a
quiet machine before quoting it.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

import numpy as np

import unafraid as uf
from unafraid.cells import WGANGP, labels_from_obs
from unafraid.cells import metrics as M
from unafraid.cells.run import stratified_test_split


def load() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    adata = uf.datasets.pbmc68k_reduced()
    x = adata.raw.X.toarray().astype(np.float32)
    codes, names = labels_from_obs(adata, "bulk_labels")
    train, test = stratified_test_split(codes, 0.25, 0)
    return x, codes, train, test, names


def conditional_accuracy(gan: WGANGP, classifier, codes: np.ndarray, n: int = 200) -> dict[str, float]:
    """For the 5 largest types: fraction of generated cells the real-cell classifier labels as
    the requested type."""
    largest = np.argsort(-np.bincount(codes), kind="stable")[:5]
    return {int(c): float(np.mean(classifier.predict(gan.generate(n, labels=int(c), seed=7)) == c))
            for c in largest}


def conditional_check(args: argparse.Namespace, x: np.ndarray, codes: np.ndarray,
                      train: np.ndarray, names: list[str]) -> dict[str, float]:
    """Train the conditional GAN (seed ``--seeds[0]``) and check the 80% target by type name."""
    cgan = WGANGP(seed=args.seeds[0], init=args.init, conditioning=args.conditioning)
    cgan.fit(x[train], codes[train], steps=args.steps)
    clf = M.fit_type_classifier(x[train], codes[train])
    return {names[c]: v for c, v in conditional_accuracy(cgan, clf, codes[train]).items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--checkpoint-dir", default="cells-gan-checkpoints")
    p.add_argument("--checkpoint-every", type=int, default=500)
    p.add_argument("--from-checkpoint", default=None, help="score a saved generator instead of "
                                                           "training ('{seed}' in the path: one "
                                                           "per seed of --seeds; otherwise "
                                                           "one, its seed --seeds[0])")
    p.add_argument("--conditional", action="store_true", help="also train a conditional GAN "
                                                              "and check the 80%% target")
    p.add_argument("--conditional-only", action="store_true",
                   help="only the conditional GAN (seed --seeds[0]) and the 80%% check")
    p.add_argument("--conditioning", choices=["concat", "acgan"], default="acgan",
                   help="how the conditional GAN's critic uses the cell type")
    p.add_argument("--init", choices=["pytorch", "glorot"], default="pytorch",
                   help="initial weights (WGANGP's init)")
    p.add_argument("--out", default="cells_gan.json")
    args = p.parse_args()
    x, codes, train, test, names = load()
    if args.conditional_only:
        result = {"conditional_fraction_correct": conditional_check(args, x, codes, train, names)}
        print(json.dumps(result, indent=2))
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
        return
    n = len(test)
    samples = {"real training cells": x[train][np.random.default_rng(0).permutation(len(train))[:n]],
               **M.baselines(x[train], codes[train], n, seed=0)}
    gan_rows, timing = [], {}
    for seed in args.seeds:
        gan = WGANGP(seed=seed, init=args.init)
        if args.from_checkpoint:
            gan.build(x.shape[1])
            path = args.from_checkpoint.format(seed=seed)
            gan.generator.load_weights(path)
            steps = int(re.search(r"step(\d+)", path).group(1))
        else:
            start = time.process_time()
            gan.fit(x[train], steps=args.steps, checkpoint_dir=Path(args.checkpoint_dir) / f"seed{seed}",
                    checkpoint_every=args.checkpoint_every)
            timing[seed] = (time.process_time() - start) * 1000 / args.steps
            steps = args.steps
        samples[f"WGAN-GP seed {seed}, {steps} generator steps"] = gan.generate(n, seed=seed + 100)
        gan_rows.append(f"WGAN-GP seed {seed}, {steps} generator steps")
        if args.from_checkpoint and "{seed}" not in args.from_checkpoint:
            break
    table = M.evaluate(x[train], codes[train], x[test], samples, progress=print,
                       test_labels=codes[test])
    if len(gan_rows) > 1:
        table.loc[f"WGAN-GP mean of {len(gan_rows)} seeds"] = table.loc[gan_rows].mean()
    result = {"table": table.round(4).to_dict(orient="index"),
              "cpu_seconds_per_1000_generator_steps": timing}
    if args.conditional:
        result["conditional_fraction_correct"] = conditional_check(args, x, codes, train, names)
    print(table.round(3).to_string())
    print(json.dumps({k: v for k, v in result.items() if k != "table"}, indent=2))
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
