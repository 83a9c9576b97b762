"""The ``unafraid`` command: ``unafraid mnist`` (the seed tutorial end to end) and ``unafraid doctor``."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import atomic_write_text
from .doctor import blas_info, run_doctor
from .random import DEFAULT_SEED


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
    x_train, x_test = x_train / 255.0, x_test / 255.0  # as README's tutorial: the same bits

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

    probs = model.predict(x_test)  # as README's "Looking inside": the same five digits
    worst = explore.most_confusing(probs, y_test, k=5)
    pred = probs.argmax(1)
    table = explore.confusion_table(probs, y_test)
    images = []
    for i in worst:
        path = out / f"confusing_digit_{int(i)}.png"
        explore.plot_images(x_test, true=y_test, probs=probs, indices=[int(i)], ncols=1,
                            save=path)
        images.append((path, f"#{int(i)}: true {y_test[i]} (p {probs[i, y_test[i]]:.3f}), "
                             f"predicted {pred[i]} (p {probs[i, pred[i]]:.3f})"))
    explore.plot_margins(probs, y_test, highlight=worst, save=out / "margins.png")
    cm = explore.confusion_matrix(y_test, pred, num_classes=10)
    explore.plot_confusion_matrix(cm, save=out / "confusion_matrix.png")
    sal = explore.saliency(model, x_test[worst])
    explore.plot_saliency(x_test[worst[0]], sal[0], title=f"Saliency of test digit {int(worst[0])} "
                          f"for its predicted class {pred[worst[0]]}", save=out / "saliency.png")
    explore.plot_history(history, save=out / "history.png")
    model.save(out / "model.safetensors")

    metrics = {"dataset": args.dataset, "model": args.model, "test_accuracy": float(test_accuracy),
               "test_loss": float(test_loss),
               "epochs": args.epochs, "batch_size": args.batch_size, "hidden": args.hidden,
               "seed": args.seed, "most_confusing": [int(i) for i in worst],
               "history": history.history, "versions": versions(), "blas": blas_info()}
    atomic_write_text(out / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    # The one thing that differs between identical runs lives in its own file, so that every
    # other file is byte-identical across runs (sha256sum agrees).
    atomic_write_text(out / "timing.json",
                      json.dumps({"train_seconds": round(train_seconds, 3)}) + "\n")

    rows = table.iloc[worst].to_dict("records") if hasattr(table, "iloc") else [
        {k: table[k][i].item() for k in table.dtype.names} for i in worst]
    data = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}[args.dataset]
    epochs = f"{args.epochs} epoch" + ("s" if args.epochs != 1 else "")
    title = (f"{data}: Flatten -> Dense({args.hidden}, relu) -> Dense(10, softmax), "
             f"{epochs} of Adam")
    # The margin plot and the five digits come first, so both are on the first screen.
    write_report(out / "report.html", title, [
        ("metrics", {"test accuracy": f"{test_accuracy:.4f}", "test loss": f"{test_loss:.4f}",
                     "training examples": len(x_train), "epochs": args.epochs,
                     "batch size": args.batch_size, "seed": args.seed}),
        ("heading", "Margins of all test digits"),
        ("image", out / "margins.png", "Margin = top-1 minus top-2 predicted probability: near 0, "
                                       "the model nearly chose another digit. Circled: the five "
                                       "smallest."),
        ("heading", "The five most confusing test digits"),
        ("images", images),
        ("table", rows),
        ("heading", "Confusion matrix"), ("image", out / "confusion_matrix.png",
                                          "Rows: true digit; columns: predicted digit"),
        ("heading", "Saliency"), ("image", out / "saliency.png",
                                  "Gradient of the predicted class score w.r.t. the pixels"),
        ("heading", "Training history"), ("image", out / "history.png",
                                          f"Loss and accuracy on the training data, {epochs}"),
        ("text", f"unafraid {versions()['unafraid']}, NumPy {np.__version__}, Python "
                 f"{platform.python_version()}."),
    ])
    print(f"Wrote {out}/: metrics.json, model.safetensors, report.html and figures.")
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
def whole_number(minimum: int, example: int) -> Callable[[str], int]:
    """An argparse type: a whole number >= ``minimum`` (argparse prints the message and exits 2)."""
    below = {1: "is not positive", 0: "is negative"}.get(minimum, f"is below {minimum}")

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number; give e.g. "
                                             f"{example}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} {below}; give a number >= {minimum}, "
                                             f"e.g. {example}")
        return value
    parse.__name__ = "positive_int" if minimum == 1 else f"int_at_least_{minimum}"
    return parse


positive_int, non_negative_int = whole_number(1, 5), whole_number(0, 0)


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
    m.add_argument("--seed", type=non_negative_int, default=DEFAULT_SEED,
                   help=f"random seed (default {DEFAULT_SEED}, the library's: the same numbers as "
                        f"README's tutorial, which sets no seed)")
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
