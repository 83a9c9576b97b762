"""Issue 19's speed target: the count autoencoder's CPU time per epoch: unafraid, PyTorch, scVI.

The same NB autoencoder 765-64-10-64-765 (encoder on log1p of counts normalised to 1e4, decoder to
log-softmax + log library size, one inverse dispersion per gene), Adam 1e-3, batch 32, on the
training cells of pbmc68k_reduced's fixed split (stratified 25% test, random_state 0; 10% of the
rest held out for validation, as ``CountAutoencoder`` does: 473 training cells). Each epoch is
one pass over the training cells plus the validation NLL, as in ``CountAutoencoder.fit``.

scVI (``--scvi-python``: a Python with scvi-tools; its worker imports scvi, anndata and torch, not
unafraid) trains ``SCVI(adata, n_latent=10, gene_likelihood="nb")`` (scVI's own model: one hidden
layer of 128, the variational objective) on the same 473 training and 52 validation cells, as two
tools: ``scvi`` with scVI's defaults (batch 128; no validation pass, which scVI runs only with
early stopping or checkpointing) and ``scvi-b32`` (batch 32 and validation every epoch: the other
tools' work per epoch). ``run_scvi`` says how it is timed.

Each tool runs in its own subprocess at one thread (``OPENBLAS_NUM_THREADS=1``,
``torch.set_num_threads(1)``), the tools taking turns for ``--repeats`` rounds; the CPU time
(``time.process_time``) of ``--epochs`` epochs after one warm-up epoch is divided by the epochs.
The table gives each tool's median CPU seconds per epoch and the median per-round ratio to
PyTorch; below it, unafraid's CPU time over each other tool's, round by round.

PyTorch runs with ``--torch-python`` (a Python that has torch; it needs only NumPy and torch):

    python benchmarks/cells_speed.py --torch-python /path/to/benchvenv/bin/python \
        --scvi-python /path/to/scvivenv/bin/python --repeats 5

``--baseline DIR`` times another checkout of unafraid (its root folder) as a further tool in the
same rounds:

    python benchmarks/cells_speed.py --baseline ../unafraid-before --repeats 5

The tool "unafraid" is the checkout this script belongs to (put first on ``PYTHONPATH``; the
worker refuses to time another one). Measured on 2026-12-02 and 2026-12-03: docs/cells.md gives
the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HIDDEN, LATENT, BATCH, LR = 64, 10, 32, 1e-3


def training_counts(path: str) -> None:
    """Write the training and validation cells' counts (float32) to ``path`` (.npz)."""
    from sklearn.model_selection import train_test_split

    import unafraid as uf
    from unafraid import cells
    adata = uf.datasets.pbmc68k_reduced()
    y, _ = cells.labels_from_obs(adata, "bulk_labels")
    tr, _ = train_test_split(np.arange(adata.n_obs), stratify=y, test_size=0.25, random_state=0)
    counts = np.asarray(adata.layers["counts"][tr].toarray() if hasattr(adata.layers["counts"], "toarray")
                        else adata.layers["counts"][tr], np.float32)
    order = np.random.default_rng(0).permutation(len(counts))
    n_val = int(round(0.1 * len(counts)))
    np.savez(path, train=counts[order[n_val:]], val=counts[order[:n_val]])


def run_unafraid(data: dict, epochs: int) -> float:
    """CPU seconds per epoch of unafraid's CountAutoencoder (its own training loop)."""
    from unafraid.cells import CountAutoencoder
    x = np.concatenate([data["train"], data["val"]])
    fraction = len(data["val"]) / len(x)
    CountAutoencoder(max_epochs=1, validation_fraction=fraction).fit(x)  # warm-up
    ae = CountAutoencoder(max_epochs=epochs, patience=epochs + 1, lr_patience=None,
                          validation_fraction=fraction)
    start = time.process_time()
    ae.fit(x)
    return (time.process_time() - start) / epochs


def run_torch(data: dict, epochs: int) -> float:
    """CPU seconds per epoch of the same autoencoder written in PyTorch."""
    import torch
    torch.set_num_threads(1)
    torch.manual_seed(0)
    genes = data["train"].shape[1]
    encoder = torch.nn.Sequential(torch.nn.Linear(genes, HIDDEN), torch.nn.ReLU(),
                                  torch.nn.Linear(HIDDEN, LATENT))
    decoder = torch.nn.Sequential(torch.nn.Linear(LATENT, HIDDEN), torch.nn.ReLU(),
                                  torch.nn.Linear(HIDDEN, genes))
    log_theta = torch.nn.Parameter(torch.zeros(genes))
    params = [*encoder.parameters(), *decoder.parameters(), log_theta]
    optimizer = torch.optim.Adam(params, lr=LR)

    def nll(x: torch.Tensor) -> torch.Tensor:
        lib = x.sum(1, keepdim=True).clamp(min=1)
        z = encoder(torch.log1p(x / lib * 1e4))
        log_mu = torch.log_softmax(decoder(z), -1) + torch.log(lib)
        theta = torch.exp(log_theta)
        log_theta_mu = torch.logaddexp(log_theta, log_mu)
        ll = (theta * (log_theta - log_theta_mu) + x * (log_mu - log_theta_mu)
              + torch.lgamma(x + theta) - torch.lgamma(theta) - torch.lgamma(x + 1))
        return -ll.sum(-1)

    train, val = torch.from_numpy(data["train"]), torch.from_numpy(data["val"])
    gen = torch.Generator().manual_seed(0)

    def epoch() -> None:
        for idx in torch.randperm(len(train), generator=gen).split(BATCH):
            loss = nll(train[idx]).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            nll(val).mean()

    epoch()  # warm-up
    start = time.process_time()
    for _ in range(epochs):
        epoch()
    return (time.process_time() - start) / epochs


def run_scvi(data: dict, epochs: int, batch_size: int, validate: bool) -> float:
    """CPU seconds per epoch of scvi-tools' SCVI (NB) on the same training cells.

    The counts (integer values in float32, dense, in ``AnnData.X``) of the training and validation
    cells go to ``SCVI.setup_anndata`` and ``SCVI(adata, n_latent=10, gene_likelihood="nb")``:
    scVI's defaults otherwise (one hidden layer of 128, dropout 0.1, one dispersion per gene, the
    variational objective). ``train`` gets the same training / validation cells as the other tools
    (``datasplitter_kwargs={"external_indexing": ...}``; scVI's own default split is a random
    90/10 one, of the same sizes), ``accelerator="cpu"``, ``devices=1``, ``batch_size`` and no
    progress bar. scVI validates only when early stopping or checkpointing is on (it is off by
    default); ``validate`` turns the per-epoch validation on (``check_val_every_n_epoch=1``).
    A Lightning callback reads the process's CPU time at the end of every epoch (after that
    epoch's validation); the first epoch is the warm-up: the time from its end to the end of the
    last of ``epochs`` more epochs, divided by ``epochs``. Trainer setup and teardown are outside.
    Imports scvi, anndata and torch only: the Python running it need not have unafraid.
    """
    import logging
    import warnings

    import anndata
    import lightning.pytorch as pl
    import scvi
    import torch

    torch.set_num_threads(1)
    scvi.settings.seed = 0
    scvi.settings.verbosity = logging.ERROR
    for name in ("lightning", "lightning.pytorch", "lightning.fabric", "scvi"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")

    ends: list[float] = []

    class EpochClock(pl.Callback):
        def on_train_epoch_end(self, trainer, pl_module) -> None:
            ends.append(time.process_time())

    x = np.concatenate([data["train"], data["val"]])
    n_train = len(data["train"])
    adata = anndata.AnnData(x)
    scvi.model.SCVI.setup_anndata(adata)
    model = scvi.model.SCVI(adata, n_latent=LATENT, gene_likelihood="nb")
    split = [np.arange(n_train), np.arange(n_train, len(x)), np.array([], dtype=np.int64)]
    model.train(max_epochs=epochs + 1, accelerator="cpu", devices=1, batch_size=batch_size,
                datasplitter_kwargs={"external_indexing": split}, enable_progress_bar=False,
                callbacks=[EpochClock()], **({"check_val_every_n_epoch": 1} if validate else {}))
    if len(ends) != epochs + 1:
        raise RuntimeError(f"scVI ran {len(ends)} epochs, expected {epochs + 1}")
    return (ends[-1] - ends[0]) / epochs


SCVI_TOOLS = {"scvi": (128, False), "scvi-b32": (32, True)}  # batch size, validation every epoch


def worker(tool: str, path: str, epochs: int) -> None:
    data = dict(np.load(path))
    if tool == "torch":
        seconds = run_torch(data, epochs)
    elif tool in SCVI_TOOLS:
        seconds = run_scvi(data, epochs, *SCVI_TOOLS[tool])
    else:
        check_checkout(tool)
        seconds = run_unafraid(data, epochs)
    print(json.dumps({"tool": tool, "cpu_s_per_epoch": seconds}))


def check_checkout(tool: str) -> None:
    """Refuse to time an unafraid other than the checkout ``interleaved`` put first on the path."""
    import unafraid
    wanted = os.environ.get("PYTHONPATH", "").split(os.pathsep)[0]
    found = os.path.dirname(os.path.dirname(os.path.abspath(unafraid.__file__)))
    if wanted and os.path.realpath(found) != os.path.realpath(wanted):
        raise RuntimeError(f"tool {tool!r} should time the unafraid in {wanted}, but imported the "
                           f"one in {found}; run this script with a Python whose installed unafraid "
                           "does not shadow PYTHONPATH")


ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
              "UNAFRAID_BLAS_THREADS": "1"}


def interleaved(script: str, pythons: dict[str, str], extra: list[str], data_path: str, repeats: int,
                key: str, paths: dict[str, str] | None = None) -> dict[str, list[float]]:
    """Run ``script --worker TOOL data_path`` for each tool in turn, ``repeats`` rounds, each in a
    fresh subprocess at one thread; the value ``key`` of each run's last JSON line, per tool.
    ``paths`` puts a folder first on a tool's ``PYTHONPATH`` (the unafraid checkout it imports)."""
    env = {**os.environ, **ONE_THREAD}
    times: dict[str, list[float]] = {tool: [] for tool in pythons}
    for _ in range(repeats):
        for tool, python in pythons.items():  # interleaved: unafraid, torch, unafraid, ...
            tool_env = env
            if paths and tool in paths:
                tool_env = {**env, "PYTHONPATH": os.pathsep.join(
                    p for p in (paths[tool], env.get("PYTHONPATH")) if p)}
            out = subprocess.run([python, os.path.abspath(script), *extra, "--worker", tool, data_path],
                                 capture_output=True, text=True, env=tool_env, check=True)
            times[tool].append(json.loads(out.stdout.strip().splitlines()[-1])[key])
    return times


def print_table(times: dict[str, list[float]], unit: str, digits: int) -> None:
    """Each tool's median, its rounds, and the median per-round ratio to torch."""
    rounds = {tool: ", ".join(f"{v:.{digits}f}" for v in values) for tool, values in times.items()}
    width = max(28, *(len(r) for r in rounds.values()))
    print(f"{'tool':10} {unit:>19} {'all rounds':>{width}} {'ratio to torch':>15}")
    for tool, values in times.items():
        ratio = (statistics.median(a / b for a, b in zip(values, times["torch"], strict=True))
                 if "torch" in times else float("nan"))
        print(f"{tool:10} {statistics.median(values):19.{digits}f} {rounds[tool]:>{width}} {ratio:15.2f}")


def print_ratios(times: dict[str, list[float]], tool: str = "unafraid") -> None:
    """``tool``'s CPU time over each other tool's, round by round, and the median of those ratios."""
    for other, values in times.items():
        if other == tool:
            continue
        ratios = [a / b for a, b in zip(times[tool], values, strict=True)]
        rounds = ", ".join(f"{r:.3f}" for r in ratios)
        print(f"{tool} / {other}: {statistics.median(ratios):.3f} (median; rounds {rounds})")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--torch-python", default=None, help="a Python with torch (default: skip torch)")
    p.add_argument("--scvi-python", default=None,
                   help="a Python with scvi-tools (default: skip scVI); times tools 'scvi' (scVI's "
                        "batch of 128, no per-epoch validation) and 'scvi-b32' (batch 32, "
                        "validation every epoch, as the other tools)")
    p.add_argument("--baseline", default=None,
                   help="another unafraid checkout's root folder, timed as tool 'baseline'")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--worker", nargs=2, metavar=("TOOL", "COUNTS"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        worker(args.worker[0], args.worker[1], args.epochs)
        return
    pythons = {"unafraid": sys.executable, **({"torch": args.torch_python} if args.torch_python else {})}
    paths = {"unafraid": os.path.dirname(os.path.dirname(os.path.abspath(__file__)))}
    if args.scvi_python:
        pythons.update({tool: args.scvi_python for tool in SCVI_TOOLS})
    if args.baseline:
        pythons["baseline"], paths["baseline"] = sys.executable, os.path.abspath(args.baseline)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "counts.npz")
        training_counts(path)
        times = interleaved(__file__, pythons, ["--epochs", str(args.epochs)], path, args.repeats,
                            "cpu_s_per_epoch", paths)
    print(f"{args.epochs} epochs after a warm-up, {args.repeats} interleaved rounds, one thread")
    print_table(times, "CPU s / epoch", 4)
    print("CPU time per epoch, per-round ratios:")
    print_ratios(times)


if __name__ == "__main__":
    main()
