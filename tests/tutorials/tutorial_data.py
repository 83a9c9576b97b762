"""Local stand-ins for the data the tutorials download (no network in tests or CI).

Each function writes (once, into ``$TUTORIAL_DATA_DIR`` or the working folder) a file in the
format the tutorial expects, and returns its path; ``load``/``as_dataframe`` stand in for
``tensorflow_datasets``. The stand-ins have the tutorial's columns and shapes, not its numbers:

- MNIST files come from ``unafraid.datasets.mnist`` (the real data, found through ``$UNAFRAID_DATA``);
- penguins (``tfds.load('penguins/...')``) is scikit-learn's bundled iris: 4 numeric features scaled
  to [0, 1] and 3 classes, the shape of ``penguins/processed``;
- auto MPG and heart are synthetic tables, drawn with a fixed seed, with the tutorial's columns and a
  plausible dependence of the target on the features;
- CIFAR-10 is synthetic images with CIFAR-10's shapes and dtypes (fewer of them), one colour
  pattern per class under noise.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import numpy as np


def _folder() -> Path:
    folder = Path(os.environ.get("TUTORIAL_DATA_DIR", "."))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# ---- MNIST as Keras's mnist.npz -------------------------------------------------------------
def mnist_npz() -> str:
    """``mnist.npz`` with ``x_train, y_train, x_test, y_test`` (uint8 images, integer labels)."""
    import unafraid

    path = _folder() / "mnist.npz"
    if not path.exists():
        (x_train, y_train), (x_test, y_test) = unafraid.datasets.mnist.load_data()
        np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return str(path)


# ---- penguins (tensorflow_datasets) as iris ---------------------------------------------------
def _iris() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_iris

    x, y = load_iris(return_X_y=True)
    x = (x - x.min(axis=0)) / (x.max(axis=0) - x.min(axis=0))  # scaled to [0, 1] like penguins/processed
    order = np.random.default_rng(0).permutation(len(y))  # tfds's files are shuffled
    return x[order].astype(np.float32), y[order].astype(np.int64)


def load(name: str, split: str | list[str] = "train", as_supervised: bool = False,
         with_info: bool = False) -> object:
    """``tfds.load`` for ``penguins/processed`` and ``penguins/simple``, backed by iris.

    The datasets are unafraid's, or TensorFlow's when ``$TUTORIAL_DATA_TF`` is ``tensorflow``
    (the TensorFlow reference runs of ``tf_reference.py``)."""
    import importlib

    tf = importlib.import_module({"tensorflow": "tensorflow"}.get(os.environ.get("TUTORIAL_DATA_TF", ""),
                                                                  "unafraid"))

    x, y = _iris()
    columns = ["culmen_length_mm", "culmen_depth_mm", "flipper_length_mm", "body_mass_g"]

    def one(part: str) -> object:
        lo, hi = 0, len(y)
        if "[" in part:  # 'train[:20%]', 'train[20%:]'
            a, b = part[part.index("[") + 1:-1].split(":")
            lo = int(a.rstrip("%")) * len(y) // 100 if a else 0
            hi = int(b.rstrip("%")) * len(y) // 100 if b else len(y)
        xs, ys = x[lo:hi], y[lo:hi]
        if name.endswith("simple"):
            return tf.data.Dataset.from_tensor_slices({**{c: xs[:, i] for i, c in enumerate(columns)},
                                                       "species": ys})
        if as_supervised:
            return tf.data.Dataset.from_tensor_slices((xs, ys))
        return tf.data.Dataset.from_tensor_slices({"features": xs, "species": ys})

    data = [one(s) for s in split] if isinstance(split, list) else one(split)
    info = SimpleNamespace(name=name, features={"features": "Tensor(shape=(4,), dtype=float32)",
                                                "species": "ClassLabel(num_classes=3)"})
    return (data, info) if with_info else data


def as_dataframe(ds: object, info: object = None) -> object:
    """``tfds.as_dataframe``: the elements as rows of a pandas DataFrame."""
    import pandas as pd

    rows = []
    for element in ds:
        if isinstance(element, dict):
            rows.append({k: np.asarray(v).tolist() for k, v in element.items()})
        else:
            rows.append({f"{i}": np.asarray(v).tolist() for i, v in enumerate(element)})
    return pd.DataFrame(rows)


__version__ = "stand-in"


# ---- auto MPG (synthetic) --------------------------------------------------------------------
def auto_mpg_file() -> str:
    """``auto-mpg.data``: space-separated, '?' for a missing horsepower, car name after a tab."""
    path = _folder() / "auto-mpg.data"
    if path.exists():
        return str(path)
    rng = np.random.default_rng(0)
    n = 398
    cylinders = rng.choice([4, 6, 8], n, p=[0.5, 0.25, 0.25])
    displacement = cylinders * rng.normal(40, 6, n)
    horsepower = 20 + displacement * 0.45 + rng.normal(0, 10, n)
    weight = 1500 + displacement * 7 + rng.normal(0, 250, n)
    acceleration = 22 - horsepower / 25 + rng.normal(0, 1.5, n)
    year = rng.integers(70, 83, n)
    origin = np.where(cylinders == 4, rng.choice([1, 2, 3], n), 1)
    mpg = 60 - weight / 150 - horsepower / 40 + (year - 70) * 0.8 + rng.normal(0, 2.5, n)
    mpg = np.clip(mpg, 9, 47)
    lines = []
    for i in range(n):
        hp = "?" if i % 66 == 5 else f"{horsepower[i]:.1f}"
        lines.append(f"{mpg[i]:.1f}   {cylinders[i]}   {displacement[i]:.1f}      {hp}      "
                     f"{weight[i]:.1f}      {acceleration[i]:.1f}   {year[i]}  {origin[i]}\t\"car {i}\"")
    path.write_text("\n".join(lines) + "\n")
    return str(path)


# ---- heart disease (synthetic) ---------------------------------------------------------------
def heart_csv() -> str:
    """``heart.csv``: 13 features (``thal`` a string) and a 0/1 ``target``."""
    import pandas as pd

    path = _folder() / "heart.csv"
    if path.exists():
        return str(path)
    rng = np.random.default_rng(0)
    n = 303
    df = pd.DataFrame({
        "age": rng.integers(29, 78, n), "sex": rng.integers(0, 2, n), "cp": rng.integers(0, 5, n),
        "trestbps": rng.integers(94, 200, n), "chol": rng.integers(126, 564, n),
        "fbs": rng.integers(0, 2, n), "restecg": rng.integers(0, 3, n),
        "thalach": rng.integers(71, 202, n), "exang": rng.integers(0, 2, n),
        "oldpeak": np.round(rng.uniform(0, 6.2, n), 1), "slope": rng.integers(1, 4, n),
        "ca": rng.integers(0, 4, n), "thal": rng.choice(["fixed", "normal", "reversible"], n)})
    score = (0.04 * (df.age - 54) + 0.6 * df.exang + 0.5 * df.oldpeak - 0.02 * (df.thalach - 150)
             + 0.8 * (df.thal == "reversible") + 0.4 * df.ca - 1.0)
    df["target"] = (score + rng.normal(0, 1, n) > 0).astype(int)
    df.to_csv(path, index=False)
    return str(path)


# ---- CIFAR-10 (synthetic) --------------------------------------------------------------------
def cifar10_load_data(n_train: int = 2000, n_test: int = 500) -> tuple:
    """``keras.datasets.cifar10.load_data()``'s shapes and dtypes, with fewer images: uint8
    ``(n, 32, 32, 3)`` images and uint8 ``(n, 1)`` labels in 0..9. Each class is a smooth colour
    pattern of its own (a random low-frequency field, fixed per class) under pixel noise, so a
    small convnet can learn it; drawn with a fixed seed."""
    rng = np.random.default_rng(10)
    coarse = rng.uniform(40, 215, size=(10, 4, 4, 3))  # one 4x4 colour field per class
    patterns = np.repeat(np.repeat(coarse, 8, axis=1), 8, axis=2)  # upsampled to 32x32

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.integers(0, 10, size=n)
        images = patterns[labels] + rng.normal(0, 40, size=(n, 32, 32, 3))
        return np.clip(images, 0, 255).astype(np.uint8), labels.astype(np.uint8)[:, None]

    return draw(n_train), draw(n_test)
