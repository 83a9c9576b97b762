"""unafraid.sklearn's estimators against scikit-learn's MLPClassifier / MLPRegressor.

A benchmark, not a test. The same pipeline (StandardScaler, then the network; for regression the
targets standardised too, by TransformedTargetRegressor) with the same hidden sizes and each
estimator's defaults (both: Adam at learning rate 1e-3, batches of min(200, n), stopping after
more than 10 epochs without a 1e-4 improvement of the training loss; at most 200 epochs for MLP,
100 for unafraid), scored by the same 5-fold cross-validation:

- load_digits (1,797 8x8 images, 10 classes): accuracy;
- load_diabetes (442 patients, 10 features): R^2.

One round per seed (``--seeds``, default 0 to 7): the seed is given to both estimators as
``random_state``, and the two take turns (MLP, unafraid, MLP, unafraid...), so that a change in
the machine's load hits both. The table gives the cross-validated score's mean and standard
deviation over the seeds (one seed alone says little: the spread between seeds is larger than
the difference between the estimators), the mean number of epochs run per fold, the median wall
time of one cross-validation and the median of the per-round wall-time ratios, and the same for
the process's CPU time (all threads). On a shared machine the CPU-time ratio with
``--blas-threads 1`` is the steadier figure: wall time counts the waits for the other processes'
turns, and multithreaded BLAS on a busy machine spends CPU time spinning.

Run::

    python benchmarks/sklearn_vs_mlp.py                     # 8 rounds, seeds 0 to 7
    python benchmarks/sklearn_vs_mlp.py --blas-threads 1    # both on one BLAS thread
    python benchmarks/sklearn_vs_mlp.py --set epochs=200    # other settings for unafraid's
                                                            # estimators (not MLP's)
    UNAFRAID_NUMBA=0 python benchmarks/sklearn_vs_mlp.py    # without the compiled Adam

By default each estimator uses BLAS as it chooses: unafraid's ``fit`` runs a small network on one
thread, MLP on BLAS's default (all cores); ``--blas-threads N`` limits both, to compare the
training loops alone.

Targets (issue 20): score >= MLP's, time <= 0.5x MLP's. On a shared, loaded machine the times say
little: run it on a quiet one before quoting any.
"""

from __future__ import annotations

import argparse
import ast
import os
import statistics
import time
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold, StratifiedKFold, cross_validate
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from unafraid.sklearn import NeuralNetClassifier, NeuralNetRegressor


def tasks(hidden: tuple[int, ...],
          settings: dict[str, object]) -> list[tuple[str, dict, tuple, object]]:
    """(name, {tool: estimator}, (X, y), cv) for each data set; ``settings`` go to unafraid's."""
    Xc, yc = load_digits(return_X_y=True)
    Xr, yr = load_diabetes(return_X_y=True)

    def reg(net: object) -> object:
        return TransformedTargetRegressor(make_pipeline(StandardScaler(), net),
                                          transformer=StandardScaler())

    return [
        ("load_digits (accuracy)",
         {"MLPClassifier": make_pipeline(StandardScaler(),
                                         MLPClassifier(hidden_layer_sizes=hidden, random_state=0)),
          "NeuralNetClassifier": make_pipeline(StandardScaler(),
                                               NeuralNetClassifier(hidden_layer_sizes=hidden,
                                                                   **settings))},
         (Xc, yc), StratifiedKFold(5, shuffle=True, random_state=0)),
        ("load_diabetes (R^2)",
         {"MLPRegressor": reg(MLPRegressor(hidden_layer_sizes=hidden, random_state=0)),
          "NeuralNetRegressor": reg(NeuralNetRegressor(hidden_layer_sizes=hidden, **settings))},
         (Xr, yr), KFold(5, shuffle=True, random_state=0)),
    ]


def setting(text: str) -> tuple[str, object]:
    """``name=value`` with value a Python literal (``3e-3``, ``True``, ``(64,)``) or a string."""
    name, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"--set takes name=value, got {text!r}")
    try:
        return name, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return name, value


def epochs_run(fitted: object) -> int:
    """``n_iter_`` of the network inside a fitted pipeline (or target-transformed pipeline)."""
    pipeline = getattr(fitted, "regressor_", fitted)
    return pipeline[-1].n_iter_


def seeded(est: object, seed: int) -> object:
    """A clone of ``est`` (a pipeline) with every ``random_state`` inside it set to ``seed``."""
    return clone(est).set_params(**{k: seed for k in est.get_params()
                                    if k.endswith("random_state")})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(8)),
                        help="one interleaved round per seed, given to both estimators as "
                             "random_state (default: 0 to 7)")
    parser.add_argument("--hidden", type=int, nargs="+", default=[100],
                        help="hidden layer sizes, the same for both (default: 100)")
    parser.add_argument("--blas-threads", type=int, default=None,
                        help="limit BLAS to this many threads for both estimators")
    parser.add_argument("--set", type=setting, action="append", default=[], metavar="NAME=VALUE",
                        help="a parameter of unafraid's estimators (repeatable), e.g. "
                             "--set learning_rate=3e-3")
    args = parser.parse_args()
    settings = dict(args.set)
    if args.blas_threads is not None:
        from threadpoolctl import threadpool_limits
        threadpool_limits(args.blas_threads, user_api="blas")
        os.environ["UNAFRAID_BLAS_THREADS"] = str(args.blas_threads)
    warnings.simplefilter("ignore", ConvergenceWarning)
    print(f"hidden_layer_sizes={tuple(args.hidden)}, 5-fold CV, one interleaved round per "
          f"random_state in {args.seeds}, BLAS threads: {args.blas_threads or 'default'}, "
          f"unafraid settings: {settings or 'defaults'}")
    print(f"{'data set':24} {'estimator':20} {'CV score':>9} {'s.d.':>7} {'epochs':>7} "
          f"{'wall (s)':>9} {'wall / MLP':>11} {'CPU (s)':>8} {'CPU / MLP':>10}  score per seed")
    for name, estimators, (X, y), cv in tasks(tuple(args.hidden), settings):
        wall: dict[str, list[float]] = {k: [] for k in estimators}
        cpu: dict[str, list[float]] = {k: [] for k in estimators}
        scores: dict[str, list[float]] = {k: [] for k in estimators}
        epochs: dict[str, list[float]] = {k: [] for k in estimators}
        for seed in args.seeds:
            for tool, est in estimators.items():  # interleaved: MLP, unafraid, MLP, unafraid...
                est = seeded(est, seed)
                start, start_cpu = time.perf_counter(), time.process_time()
                result = cross_validate(est, X, y, cv=cv, return_estimator=True)
                wall[tool].append(time.perf_counter() - start)
                cpu[tool].append(time.process_time() - start_cpu)
                scores[tool].append(float(np.mean(result["test_score"])))
                epochs[tool].append(float(np.mean([epochs_run(e) for e in result["estimator"]])))
        mlp = next(iter(estimators))
        for tool in estimators:
            ratio = statistics.median(t / m for t, m in zip(wall[tool], wall[mlp], strict=True))
            cpu_ratio = statistics.median(t / m for t, m in zip(cpu[tool], cpu[mlp], strict=True))
            print(f"{name:24} {tool:20} {np.mean(scores[tool]):9.4f} {np.std(scores[tool]):7.4f} "
                  f"{np.mean(epochs[tool]):7.1f} {statistics.median(wall[tool]):9.2f} "
                  f"{ratio:11.2f} {statistics.median(cpu[tool]):8.2f} {cpu_ratio:10.2f}  "
                  + " ".join(f"{v:.4f}" for v in scores[tool]), flush=True)


if __name__ == "__main__":
    main()
