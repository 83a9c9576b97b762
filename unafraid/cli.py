"""The ``unafraid`` command: ``unafraid mnist`` (the seed tutorial end to end) and ``unafraid doctor``."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np


def blas_info() -> dict[str, Any]:
    """Which BLAS NumPy runs, with threads (threadpoolctl when installed, else NumPy's build info)."""
    try:
        from threadpoolctl import threadpool_info
        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            p = pools[0]
            return {"library": p.get("internal_api"), "version": p.get("version"),
                    "kernel": p.get("architecture"), "threads": p.get("num_threads"),
                    "source": "threadpoolctl"}
    except ImportError:
        pass
    try:
        deps = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return {"library": deps.get("name"), "version": deps.get("version"), "kernel": None,
                "threads": None, "source": "numpy build info"}
    except (TypeError, KeyError):  # NumPy < 1.25 has no mode="dicts"
        return {"library": "unknown", "source": "unavailable"}


def versions() -> dict[str, str]:
    from ._version import __version__
    return {"unafraid": __version__, "numpy": np.__version__,
            "python": platform.python_version()}


# ---- unafraid mnist ------------------------------------------------------------------------
def run_mnist(args: argparse.Namespace) -> int:
    import unafraid as uf

    from . import explore
    from .datasets import fashion_mnist, mnist
    from .explore.report import write_report

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    uf.set_random_seed(args.seed)
    loader = mnist if args.dataset == "mnist" else fashion_mnist
    print(f"Loading {args.dataset}...", flush=True)
    (x_train, y_train), (x_test, y_test) = loader.load_data(path=args.data_dir)
    x_train, x_test = x_train / np.float32(255), x_test / np.float32(255)

    if args.model == "convnet":  # Keras's "Simple MNIST convnet": images with a channels axis
        model, x_train, x_test = mnist_convnet(), x_train[..., None], x_test[..., None]
    else:
        model = uf.keras.Sequential([
            uf.keras.layers.Flatten(input_shape=(28, 28)),
            uf.keras.layers.Dense(args.hidden, activation="relu"),
            uf.keras.layers.Dense(10, activation="softmax"),
        ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(x_train, y_train, epochs=args.epochs, batch_size=args.batch_size,
                        verbose=0 if args.quiet else 1)
    train_seconds = time.perf_counter() - start
    test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"Test accuracy: {test_accuracy:.4f}  (loss {test_loss:.4f}, trained in "
          f"{train_seconds:.1f} s)")

    probs = model.predict(x_test, batch_size=256)
    worst = explore.most_confusing(probs, y_test, k=5)
    pred = probs.argmax(1)
    table = explore.confusion_table(probs, y_test)
    images = []
    for i in worst:
        path = out / f"confusing_digit_{int(i)}.png"
        explore.plot_images(x_test, true=y_test, probs=probs, indices=[int(i)], ncols=1,
                            save=path)
        images.append((path, f"Test digit {int(i)}: true {y_test[i]}, predicted {pred[i]}"))
    explore.plot_margins(probs, y_test, highlight=worst, save=out / "margins.png")
    cm = explore.confusion_matrix(y_test, pred, num_classes=10)
    explore.plot_confusion_matrix(cm, save=out / "confusion_matrix.png")
    sal = explore.saliency(model, x_test[worst])
    explore.plot_saliency(x_test[worst[0]], sal[0], title=f"Saliency of test digit {int(worst[0])} "
                          f"for its predicted class {pred[worst[0]]}", save=out / "saliency.png")
    explore.plot_history(history, save=out / "history.png")
    model.save(out / "model.safetensors")

    metrics = {"dataset": args.dataset, "model": args.model, "test_accuracy": float(test_accuracy),
               "test_loss": float(test_loss), "train_seconds": round(train_seconds, 3),
               "epochs": args.epochs, "batch_size": args.batch_size, "hidden": args.hidden,
               "seed": args.seed, "most_confusing": [int(i) for i in worst],
               "history": history.history, "versions": versions(), "blas": blas_info()}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")

    rows = table.iloc[worst].to_dict("records") if hasattr(table, "iloc") else [
        {k: table[k][i].item() for k in table.dtype.names} for i in worst]
    write_report(out / "report.html", f"unafraid mnist: {args.dataset}", [
        ("metrics", {"test accuracy": f"{test_accuracy:.4f}", "test loss": f"{test_loss:.4f}",
                     "training time (s)": f"{train_seconds:.1f}", "seed": args.seed,
                     "epochs": args.epochs, "batch size": args.batch_size}),
        ("heading", "The five most confusing test digits"),
        ("text", "Margin = top-1 minus top-2 predicted probability; a small margin means the "
                 "model nearly chose another digit."),
        ("table", rows),
        *[("image", p, caption) for p, caption in images],
        ("heading", "Margins of all test digits"), ("image", out / "margins.png", "Margin by index"),
        ("heading", "Confusion matrix"), ("image", out / "confusion_matrix.png", "Rows: true"),
        ("heading", "Saliency"), ("image", out / "saliency.png",
                                  "Gradient of the predicted class score w.r.t. the pixels"),
        ("heading", "Training history"), ("image", out / "history.png", "Loss and accuracy"),
        ("text", f"unafraid {versions()['unafraid']}, NumPy {np.__version__}, Python "
                 f"{platform.python_version()}."),
    ])
    print(f"Wrote {out}/: metrics.json, model.safetensors, report.html and figures.")
    return 0


# ---- unafraid doctor ------------------------------------------------------------------------
def _kernel_dirs() -> list[Path]:
    home = Path.home()
    dirs = [Path(sys.prefix) / "share/jupyter/kernels", home / ".local/share/jupyter/kernels",
            home / "Library/Jupyter/kernels", Path("/usr/local/share/jupyter/kernels"),
            Path("/usr/share/jupyter/kernels")]
    if os.environ.get("APPDATA"):
        dirs.append(Path(os.environ["APPDATA"]) / "jupyter/kernels")
    if os.environ.get("JUPYTER_PATH"):
        dirs += [Path(p) / "kernels" for p in os.environ["JUPYTER_PATH"].split(os.pathsep)]
    return dirs


def jupyter_kernels() -> list[dict[str, str]]:
    """Installed Jupyter kernels: name, the Python they run, and where the spec lives."""
    found = []
    for d in _kernel_dirs():
        if not d.is_dir():
            continue
        for spec in sorted(d.glob("*/kernel.json")):
            try:
                argv = json.loads(spec.read_text()).get("argv", [])
            except (OSError, ValueError):
                continue
            found.append({"name": spec.parent.name, "python": argv[0] if argv else "",
                          "spec": str(spec)})
    return found


def run_doctor(args: argparse.Namespace) -> int:
    import unafraid

    from .datasets import cache_dir, cached

    in_venv = sys.prefix != sys.base_prefix
    lines = [("Python", f"{platform.python_version()} at {sys.executable}"),
             ("Environment", (f"virtual environment {sys.prefix}" if in_venv else
                              f"no virtual environment (system Python at {sys.prefix})")),
             ("unafraid", f"{unafraid.__version__} at {Path(unafraid.__file__).parent}"),
             ("NumPy", f"{np.__version__} at {Path(np.__file__).parent}")]
    blas = blas_info()
    lines.append(("BLAS", ", ".join(f"{k} {v}" for k, v in blas.items() if v is not None)))
    lines.append(("CPU cores", str(os.cpu_count())))
    from . import optimizers_fast
    lines.append(("Accelerator", optimizers_fast.status()))
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "OPENBLAS_CORETYPE"):
        if os.environ.get(var):
            lines.append((var, os.environ[var]))
    kernels = jupyter_kernels()
    me = os.path.realpath(sys.executable)
    mine = [k for k in kernels if k["python"] and os.path.realpath(k["python"]) == me]
    if mine:
        lines.append(("Jupyter", f"kernel '{mine[0]['name']}' runs this Python: notebooks using "
                                 f"it can import unafraid"))
    else:
        name = Path(sys.prefix).name if in_venv else "unafraid"
        if name.lstrip(".") in ("venv", "env"):  # .venv says nothing: use the project folder
            name = f"{Path(sys.prefix).parent.name}-venv"
        others = ", ".join(f"{k['name']} ({k['python'] or '?'})" for k in kernels) or "none found"
        lines.append(("Jupyter", f"NO kernel runs this Python (kernels: {others}). A notebook on "
                                 f"another kernel cannot import unafraid. Add one with:\n    "
                                 f"{sys.executable} -m pip install ipykernel && "
                                 f"{sys.executable} -m ipykernel install --user --name {name} "
                                 f"--display-name \"Python ({name})\"\n  then pick "
                                 f"\"Python ({name})\" in the notebook's kernel menu."))
    from .datasets._fetch import data_env_report
    for ds in ("mnist", "fashion_mnist"):
        has = cached(ds)
        lines.append((f"Data: {ds}", data_env_report(ds) or (
            f"cached in {cache_dir(ds)}" if has else
            f"not cached (downloads on first use to {cache_dir(ds)}; offline: set "
            f"UNAFRAID_DATA to a folder holding the four .gz files)")))
    width = max(len(k) for k, _ in lines)
    for k, v in lines:
        print(f"{k:<{width}}  {v}")
    return 0


def mnist_convnet() -> Any:
    """Keras's "Simple MNIST convnet" (keras.io/examples/vision/mnist_convnet): 34,826 weights."""
    from .keras import Input, Sequential, layers

    return Sequential([
        Input(shape=(28, 28, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ])


# ---- entry point ----------------------------------------------------------------------------
def positive_int(text: str) -> int:
    """An argparse type: a whole number >= 1 (argparse prints the message and exits with 2)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number; give e.g. 5") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not positive; give a number >= 1, e.g. 5")
    return value


def non_negative_int(text: str) -> int:
    """An argparse type: a whole number >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number; give e.g. 0") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative; give a number >= 0, e.g. 0")
    return value


def check_mnist_paths(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse --data-dir and --out values that cannot work, before any data is loaded."""
    if args.data_dir is not None:
        data = Path(args.data_dir).expanduser()
        if not (data.is_dir() or (data.is_file() and data.suffix == ".npz")):
            parser.error(f"argument --data-dir: {args.data_dir} is not a folder (or an .npz "
                         f"file); give the folder holding the four IDX .gz files, or leave "
                         f"--data-dir out to use $UNAFRAID_DATA, the cache or a download")
    out = Path(args.out).expanduser()
    existing = next((p for p in (out, *out.parents) if p.exists()), None)
    if out.exists() and not out.is_dir():
        parser.error(f"argument --out: {args.out} is a file; give a folder (it is created if "
                     f"missing)")
    if existing is not None and not existing.is_dir():
        parser.error(f"argument --out: {existing} is a file, so {args.out} cannot be created; "
                     f"give another folder")
    if existing is not None and not os.access(existing, os.W_OK):
        parser.error(f"argument --out: {existing} is not writable; give a folder you can "
                     f"write to")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="unafraid", description="Neural networks for scientists. Commands: mnist, cells, doctor.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    m = sub.add_parser("mnist", help="train the Keras MNIST tutorial end to end and look inside",
                       description="Load MNIST, train Flatten -> Dense(relu) -> Dense(softmax) "
                                   "with Adam, evaluate, and write metrics, the model, figures of "
                                   "the most confusing digits and a report.html to --out.")
    m.add_argument("--epochs", type=positive_int, default=1, help="passes over the data (default 1)")
    m.add_argument("--batch-size", type=positive_int, default=32,
                   help="examples per step (default 32)")
    m.add_argument("--hidden", type=positive_int, default=512, help="hidden units (default 512)")
    m.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default 0)")
    m.add_argument("--data-dir", default=None,
                   help="folder with the four IDX .gz files (default: $UNAFRAID_DATA, the cache, "
                        "then download)")
    m.add_argument("--out", default="unafraid-mnist", help="output folder (default ./unafraid-mnist)")
    m.add_argument("--dataset", choices=["mnist", "fashion_mnist"], default="mnist")
    m.add_argument("--model", choices=["dense", "convnet"], default="dense",
                   help="dense: the tutorial's Dense(512) network (default); convnet: Keras's "
                        "Simple MNIST convnet (Conv2D 32 -> pool -> Conv2D 64 -> pool -> Dense)")
    m.add_argument("--quiet", action="store_true", help="no progress bar")
    m.set_defaults(func=run_mnist)
    d = sub.add_parser("doctor", help="check the installation, environment, Jupyter kernel and data",
                       description="Report where Python, unafraid and NumPy live, the virtual "
                                   "environment, BLAS and threads, whether a Jupyter kernel runs "
                                   "this environment (and how to add one), and the data cache.")
    d.set_defaults(func=run_doctor)
    from .cells.run import add_parser as add_cells_parser
    add_cells_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    if args.func is run_mnist:
        check_mnist_paths(parser, args)
    from .datasets import DatasetError
    try:
        return args.func(args)
    except (DatasetError, FileNotFoundError) as e:  # a data problem: its message, no traceback
        print(f"unafraid {args.command}: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
