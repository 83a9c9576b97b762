"""unafraid against the reference points: a hand-written NumPy loop, PyTorch, Keras 3 (JAX), scikit-learn.

A benchmark, not a test. Every tool trains the same workloads on the same data with the same
hyperparameters. Each measurement runs in a fresh subprocess, so that peak memory is per run and
one framework's imports cannot help or hurt another's. The tools take turns (A B C A B C ...) for
``--repeats`` rounds. The table gives, for each tool:

- the median time and the range;
- the median of the per-round ratios to unafraid;
- the model's quality after training;
- the peak resident memory of the run (``VmHWM``);
- how many cores other processes kept busy meanwhile.

The machine may be shared: before each run the script waits (up to ``--quiet-wait`` s) for other
processes to go quiet.

Workloads
---------
a  MLP 784-512-10 (relu, softmax), Adam 1e-3, batch 32, one epoch of MNIST (60,000 images,
   float32 in [0, 1]); test accuracy on the 10,000 test images.
b  the same at batch 256.
c  deep MLP 784-1024-1024-1024-10, relu, Adam 1e-3, batch 128, one epoch.
d  dense autoencoder 2000-256-32-256-2000 (relu, linear output), MSE, Adam 1e-3, batch 64, one epoch
   of 20,000 synthetic rows (rank 16 + noise, seeded, float32); MSE on 2,000 held-out rows.
e  predict on the 10,000 MNIST test images with the model of (a) (trained, untimed, for one epoch on
   the first 6,000 training images so that the accuracy column checks the predictions), at batch 32
   (Keras's default) and at batch 1024; the first predict call is timed.
f  ``import`` time, in seconds, in a fresh interpreter (timed inside it, around the import statement).
g  a small, overhead-bound model as single-cell classifiers are: MLP 765-256-10, relu, Dropout 0.2,
   softmax, Adam 1e-3, batch 64, 100 epochs on 5,000 synthetic rows (10 classes, each a Gaussian
   cloud around its own random mean, seeded, float32); accuracy on 1,000 held-out rows. The
   hand-written NumPy loop draws its dropout masks as a NumPy user would (uniform float32 numbers
   from its own generator, kept where >= 0.2, scaled by 1 / 0.8).
h  Keras's "Simple MNIST convnet" (Conv2D 32 3x3 relu -> max-pool 2 -> Conv2D 64 3x3 relu -> max-pool 2
   -> Flatten -> Dropout 0.5 -> Dense 10 softmax), Adam 1e-3, batch 128, one epoch of the first 54,000
   training images (what ``validation_split=0.1`` leaves), images ``(28, 28, 1)``; then predict on the
   10,000 test images at batch 128, timed apart (the "predict" line under the table). ``numpy`` is a
   hand-written im2col convnet (NHWC float32, one GEMM per product, in-place Adam); ``torch-fused``
   the same network in PyTorch (NCHW) with ``Adam(fused=True)``. Not part of the default run.

Only the ``fit`` (or ``predict``) call, or the hand-written loop, is timed: loading data, building
the model and measuring accuracy are not. Tools: ``unafraid`` (with numba's compiled optimizer step
when numba is installed, as ``pip install "unafraid[fast]"`` gives), ``unafraid-numpy`` (the same
with ``UNAFRAID_NUMBA=0``: NumPy only, as plain ``pip install unafraid`` gives), ``numpy`` (a
hand-written float32 loop with preallocated buffers and in-place Adam: the floor of the NumPy
approach), ``torch-fused`` (``torch.optim.Adam(fused=True)``), ``torch`` (default Adam),
``keras-jax`` (Keras 3, ``KERAS_BACKEND=jax``) and ``sklearn`` (``MLPClassifier``, workloads a and
b). A tool that is not installed is reported as "missing", never estimated.

Run it with the benchmark environment's Python (it must have unafraid, and whichever of torch, keras
+ jax and scikit-learn are to be compared), e.g.::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /work/benchvenv/bin/python benchmarks/compare.py \\
        --data ../shared/data/mnist --out results.json --markdown results.md

``--quick`` trains on a tenth of the data (a smoke run). ``--busy 1`` keeps one CPU-bound background
process running throughout (the contention measurement: a scientist's other programs).
``--from-json results.json --markdown out.md`` rebuilds the tables from a saved run without
re-running anything.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib.util
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

TOOLS = ["unafraid", "unafraid-numpy", "numpy", "torch-fused", "torch", "keras-jax", "sklearn"]

WORKLOADS = {
    "a": dict(kind="mlp", hidden=(512,), batch=32,
              title="(a) MLP 784-512-10, batch 32, 1 epoch"),
    "b": dict(kind="mlp", hidden=(512,), batch=256,
              title="(b) MLP 784-512-10, batch 256, 1 epoch"),
    "c": dict(kind="mlp", hidden=(1024, 1024, 1024), batch=128,
              title="(c) MLP 784-1024-1024-1024-10, batch 128, 1 epoch"),
    "d": dict(kind="ae", hidden=(256, 32, 256), batch=64,
              title="(d) autoencoder 2000-256-32-256-2000, MSE, batch 64, 1 epoch"),
    "e32": dict(kind="predict", hidden=(512,), batch=32,
                title="(e) predict 10,000 test images, model (a), batch 32"),
    "e1024": dict(kind="predict", hidden=(512,), batch=1024,
                  title="(e) predict 10,000 test images, model (a), batch 1024"),
    "f": dict(kind="import", title="(f) import time, fresh interpreter"),
    "g": dict(kind="cells", hidden=(256,), batch=64, epochs=100, dropout=0.2,
              title="(g) MLP 765-256-10, Dropout 0.2, batch 64, 100 epochs of 5,000 rows"),
    "h": dict(kind="convnet", batch=128, fit_rows=54000,
              title="(h) MNIST convnet (Keras example), batch 128, 1 epoch of 54,000"),
}

# Which tool runs which workload. torch-fused differs from torch only in its optimizer, so it has
# nothing to add to predict or import; scikit-learn is compared on workloads a and b only.
SUPPORTED = {
    "unafraid": {"a", "b", "c", "d", "e32", "e1024", "f", "g", "h"},
    "unafraid-numpy": {"a", "b", "c", "d", "g", "h"},     # numba only changes the optimizer step
    "numpy": {"a", "b", "c", "d", "e32", "e1024", "f", "g", "h"},
    "torch-fused": {"a", "b", "c", "d", "g", "h"},
    "torch": {"a", "b", "c", "d", "e32", "e1024", "f", "g"},
    "keras-jax": {"a", "b", "c", "d", "e32", "e1024", "f", "g", "h"},
    "sklearn": {"a", "b", "f"},
}

# What workload f imports for each tool.
IMPORT_MODULE = {"unafraid": "unafraid", "numpy": "numpy", "torch": "torch", "keras-jax": "keras",
                 "sklearn": "sklearn.neural_network"}

LR = 1e-3
SEED = 0
AE_RANK, AE_DIM, AE_NOISE = 16, 2000, 0.1
CELLS_DIM = 765
PREDICT_TRAIN_ROWS = 6000
# The NumPy loop splits Adam over two cores only from this many parameters on, and only when the
# load average leaves a core idle, as unafraid does (engine.blas.idle_core): below it, or beside
# another busy program, handing work to a thread costs more than it saves on the benchmark machine.
PARALLEL_MIN_TOTAL = 1 << 18


def installed(tool: str) -> bool:
    """Whether the packages a tool needs can be imported here (checked without importing them)."""
    need = {"unafraid": ["unafraid", "numpy"], "unafraid-numpy": ["unafraid", "numpy"],
            "numpy": ["numpy"], "torch-fused": ["torch"],
            "torch": ["torch"], "keras-jax": ["keras", "jax"], "sklearn": ["sklearn"]}[tool]
    return all(importlib.util.find_spec(m) is not None for m in need)


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["KERAS_BACKEND"] = "jax"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env["PYTHONWARNINGS"] = "ignore"
    return env


# --------------------------------------------------------------------------------------------------
# Data (made once by the parent, saved as .npy; every worker loads the same arrays)
# --------------------------------------------------------------------------------------------------

def prepare_data(mnist_dir: str, out_dir: str, quick: bool) -> dict[str, int]:
    import numpy as np

    from unafraid.datasets import mnist

    (x, y), (xt, yt) = mnist.load_data(path=mnist_dir)
    n_train, n_test, n_ae = (6000, 2000, 4000) if quick else (len(x), len(xt), 20000)
    arrays = {
        "x_train": (x[:n_train].astype(np.float32) / np.float32(255)),
        "y_train": y[:n_train].astype(np.int64),
        "x_test": (xt[:n_test].astype(np.float32) / np.float32(255)),
        "y_test": yt[:n_test].astype(np.int64),
    }
    # Autoencoder rows: rank-16 signal (unit variance per column) plus Gaussian noise of std 0.1.
    rng = np.random.default_rng(1234)
    n_val = n_ae // 10
    z = rng.standard_normal((n_ae + n_val, AE_RANK))
    w = rng.standard_normal((AE_RANK, AE_DIM)) / np.sqrt(AE_RANK)
    rows = (z @ w + AE_NOISE * rng.standard_normal((n_ae + n_val, AE_DIM))).astype(np.float32)
    arrays["ae_train"], arrays["ae_val"] = rows[:n_ae], rows[n_ae:]
    # Workload g: 10 Gaussian clouds in 765 dimensions, 5,000 training and 1,000 held-out rows.
    n_cells = 500 if quick else 5000
    means = rng.standard_normal((10, CELLS_DIM)) * 0.15
    labels = rng.integers(0, 10, n_cells + 1000)
    cells = (means[labels] + rng.standard_normal((n_cells + 1000, CELLS_DIM))).astype(np.float32)
    arrays["g_train"], arrays["g_test"] = cells[:n_cells], cells[n_cells:]
    arrays["g_train_labels"], arrays["g_test_labels"] = labels[:n_cells], labels[n_cells:]
    for name, arr in arrays.items():
        np.save(os.path.join(out_dir, name + ".npy"), np.ascontiguousarray(arr))
    return {"train_images": n_train, "test_images": n_test, "ae_rows": n_ae, "ae_val_rows": n_val,
            "ae_val_mse_of_zero": float(np.mean(arrays["ae_val"].astype(np.float64) ** 2)),
            "ae_noise_floor_mse": AE_NOISE ** 2}


# --------------------------------------------------------------------------------------------------
# The hand-written NumPy floor
# --------------------------------------------------------------------------------------------------

def _adam(theta, g, m, v, tmp, lr_t: float, b1: float, b2: float, eps: float) -> None:
    """One Adam step in place (Kingma & Ba, Algorithm 1, with epsilon added to sqrt(v) as Keras does).

    In ten passes rather than twelve: ``m`` and ``v`` are kept without their (1 - beta) factors,
    which are folded into the step size and epsilon (the same numbers in exact arithmetic;
    unafraid's Adam does Keras's twelve operations in Keras's order, for Keras's bits).
    """
    import numpy as np
    c2 = (1.0 - b2) ** 0.5
    m *= b1
    m += g                                      # m / (1 - b1) = b1 m / (1 - b1) + g
    np.multiply(g, g, out=tmp)
    v *= b2
    v += tmp                                    # v / (1 - b2) = b2 v / (1 - b2) + g^2
    np.sqrt(v, out=tmp)
    tmp += eps / c2
    np.divide(m, tmp, out=tmp)
    tmp *= lr_t * (1.0 - b1) / c2
    theta -= tmp                                # theta -= lr_t m / (sqrt(v) + eps)


class NumpyMLP:
    """Dense relu network trained by hand: float32, preallocated buffers, in-place Adam.

    The output layer is linear; ``task='clf'`` puts softmax cross-entropy (from the logits, integer
    labels) on it, ``task='ae'`` the mean squared error against the input. Weights are Glorot-uniform
    and biases zero, as in Keras. Adam is Kingma & Ba's with Keras's ``epsilon=1e-7`` added to
    ``sqrt(v)``; all parameters and their moments live in flat arrays so that each Adam step is ten
    whole-array ufunc calls, split in two halves run on two cores when the machine has more than one
    and the model at least ``PARALLEL_MIN_TOTAL`` parameters (as unafraid's optimizers do).
    With ``dropout`` > 0, each hidden layer's output is multiplied during training by a mask that
    keeps each unit with probability ``1 - dropout`` and scales it by ``1 / (1 - dropout)``.
    """

    def __init__(self, sizes: list[int], task: str, seed: int = SEED, dropout: float = 0.0):
        import numpy as np
        self.np = np
        self.sizes, self.task, self.dropout = sizes, task, dropout
        self.rng = np.random.default_rng(seed)
        shapes = []
        for fi, fo in zip(sizes[:-1], sizes[1:], strict=True):
            shapes += [(fi, fo), (fo,)]
        total = sum(int(np.prod(s)) for s in shapes)
        self.theta = np.zeros(total, np.float32)
        self.grad = np.zeros(total, np.float32)
        self.m = np.zeros(total, np.float32)
        self.v = np.zeros(total, np.float32)
        self.tmp = np.zeros(total, np.float32)
        views, gviews, off = [], [], 0
        for s in shapes:
            k = int(np.prod(s))
            views.append(self.theta[off:off + k].reshape(s))
            gviews.append(self.grad[off:off + k].reshape(s))
            off += k
        self.W, self.b = views[0::2], views[1::2]
        self.gW, self.gb = gviews[0::2], gviews[1::2]
        for W in self.W:
            lim = np.sqrt(6.0 / (W.shape[0] + W.shape[1]))
            W[...] = self.rng.uniform(-lim, lim, W.shape).astype(np.float32)
        self.t = 0
        self.batch = 0
        self.pool = None

    def _alloc(self, B: int) -> None:
        np = self.np
        if self.batch == B:
            return
        self.batch = B
        self.xb = np.empty((B, self.sizes[0]), np.float32)
        self.h = [np.empty((B, fo), np.float32) for fo in self.sizes[1:]]   # activations (in place)
        self.d = [np.empty((B, fo), np.float32) for fo in self.sizes[1:-1]]  # grads of hidden layers
        self.u = [np.empty((B, fo), np.float32) for fo in self.sizes[1:-1]]  # dropout's uniforms
        self.keep = [np.empty((B, fo), bool) for fo in self.sizes[1:-1]]     # and its masks
        self.rows = np.arange(B)

    def _forward(self, a, B: int, training: bool = False):
        np = self.np
        L = len(self.W)
        for l in range(L):
            z = self.h[l][:B]
            np.matmul(a, self.W[l], out=z)
            z += self.b[l]
            if l < L - 1:
                np.maximum(z, 0, out=z)
                if training and self.dropout:
                    u, keep = self.u[l][:B], self.keep[l][:B]
                    self.rng.random(out=u, dtype=np.float32)
                    np.greater_equal(u, self.dropout, out=keep)
                    z *= keep
                    z *= 1.0 / (1.0 - self.dropout)
            a = z
        return a

    def fit(self, x, y, batch_size: int, epochs: int = 1, lr: float = LR, b1: float = 0.9,
            b2: float = 0.999, eps: float = 1e-7) -> None:
        for _ in range(epochs):
            self._fit_epoch(x, y, batch_size, lr, b1, b2, eps)

    def _fit_epoch(self, x, y, batch_size: int, lr: float, b1: float, b2: float, eps: float) -> None:
        np = self.np
        self._alloc(batch_size)
        n = len(x)
        perm = self.rng.permutation(n)
        L = len(self.W)
        theta, g, m, v, tmp = self.theta, self.grad, self.m, self.v, self.tmp
        if (self.pool is None and (os.cpu_count() or 1) > 1 and theta.size >= PARALLEL_MIN_TOTAL
                and os.getloadavg()[0] <= (os.cpu_count() or 1) - 0.25):
            from concurrent.futures import ThreadPoolExecutor
            self.pool = ThreadPoolExecutor(1)
            h = theta.size // 2
            self.halves = [[a[:h] for a in (theta, g, m, v, tmp)], [a[h:] for a in (theta, g, m, v, tmp)]]
        for start in range(0, n, batch_size):
            idx = perm[start:start + batch_size]
            B = len(idx)
            xb = self.xb[:B]
            np.take(x, idx, axis=0, out=xb)
            d = self._forward(xb, B, training=True)  # logits / outputs, overwritten by their gradient
            if self.task == "clf":
                d -= d.max(axis=1, keepdims=True)
                np.exp(d, out=d)
                d /= d.sum(axis=1, keepdims=True)
                d[self.rows[:B], y[idx]] -= 1.0
                d *= 1.0 / B
            else:
                d -= xb
                d *= 2.0 / d.size
            for l in range(L - 1, -1, -1):
                a_prev = xb if l == 0 else self.h[l - 1][:B]
                np.matmul(a_prev.T, d, out=self.gW[l])
                np.sum(d, axis=0, out=self.gb[l])
                if l > 0:
                    dp = self.d[l - 1][:B]
                    np.matmul(d, self.W[l].T, out=dp)
                    if self.dropout:                  # through the mask: a_prev is 0 where dropped
                        dp *= self.keep[l - 1][:B]
                        dp *= 1.0 / (1.0 - self.dropout)
                    np.multiply(dp, a_prev > 0, out=dp)
                    d = dp
            self.t += 1
            lr_t = lr * (1.0 - b2 ** self.t) ** 0.5 / (1.0 - b1 ** self.t)
            if self.pool is None:
                _adam(theta, g, m, v, tmp, lr_t, b1, b2, eps)
            else:       # one half in the helper thread, one here (NumPy releases the GIL)
                future = self.pool.submit(_adam, *self.halves[0], lr_t, b1, b2, eps)
                _adam(*self.halves[1], lr_t, b1, b2, eps)
                future.result()

    def predict(self, x, batch_size: int):
        np = self.np
        self._alloc(batch_size)
        out = np.empty((len(x), self.sizes[-1]), np.float32)
        for start in range(0, len(x), batch_size):
            xb = x[start:start + batch_size]
            B = len(xb)
            p = self._forward(xb, B)
            if self.task == "clf":
                p -= p.max(axis=1, keepdims=True)
                np.exp(p, out=p)
                p /= p.sum(axis=1, keepdims=True)
            out[start:start + B] = p
        return out


class NumpyConvnet:
    """Keras's MNIST convnet by hand: NHWC float32, im2col with one GEMM per product, in-place Adam.

    conv 3x3 (1 -> 32) relu, max-pool 2, conv 3x3 (32 -> 64) relu, max-pool 2, flatten (1,600),
    dropout 0.5, dense 10, softmax cross-entropy. Glorot-uniform kernels, zero biases, Adam with
    ``epsilon=1e-7`` over one flat parameter array. Each convolution builds one patch matrix in
    the layout its GEMM wants; the input gradient is built by kernel offset (9 GEMMs in one batched
    call) and added back with 9 strided adds. Max-pool backward sends each gradient to the first
    maximum of its window. Products with a side of 32 or less run on one BLAS thread.
    """

    SHAPES = [(3, 3, 1, 32), (32,), (3, 3, 32, 64), (64,), (1600, 10), (10,)]

    def __init__(self, seed: int = SEED):
        import numpy as np
        self.np = np
        self.rng = np.random.default_rng(seed)
        total = sum(int(np.prod(s)) for s in self.SHAPES)
        self.theta, self.grad, self.m, self.v, self.tmp = (np.zeros(total, np.float32) for _ in range(5))
        self.params, self.grads, off = [], [], 0
        for s in self.SHAPES:
            k = int(np.prod(s))
            self.params.append(self.theta[off:off + k].reshape(s))
            self.grads.append(self.grad[off:off + k].reshape(s))
            off += k
        for w in self.params[0::2]:
            receptive = int(np.prod(w.shape[:-2])) if w.ndim > 2 else 1
            lim = np.sqrt(6.0 / (receptive * (w.shape[-2] + w.shape[-1])))
            w[...] = self.rng.uniform(-lim, lim, w.shape).astype(np.float32)
        self.t = 0
        try:
            from threadpoolctl import ThreadpoolController
            self.blas = ThreadpoolController().select(user_api="blas").lib_controllers[0]
        except (ImportError, IndexError):
            self.blas = None

    def _gemm(self, a, b):
        """``a @ b``; one BLAS thread when a side is 32 or less (narrow products gain nothing)."""
        narrow = min(a.shape[-2], a.shape[-1], b.shape[-1]) <= 32 and self.blas is not None
        if narrow:
            n = self.blas.get_num_threads()
            self.blas.set_num_threads(1)
        try:
            return self.np.matmul(a, b)
        finally:
            if narrow:
                self.blas.set_num_threads(n)

    def _im2col(self, x):
        """(B, H, W, C) -> (B * (H-2) * (W-2), 9 C): one copy of a strided view."""
        np = self.np
        B, H, W, C = x.shape
        s = x.strides
        view = np.lib.stride_tricks.as_strided(x, (B, H - 2, W - 2, 3, 3, C),
                                               (s[0], s[1], s[2], s[1], s[2], s[3]))
        return np.ascontiguousarray(view).reshape(B * (H - 2) * (W - 2), 9 * C)

    def _conv_input_grad(self, d, w, H, W):
        """d (B, H-2, W-2, F), w (3, 3, C, F) -> (B, H, W, C): by kernel offset, then 9 strided adds."""
        np = self.np
        B, oh, ow, F = d.shape
        C = w.shape[2]
        cols = self._gemm(d.reshape(-1, F), w.reshape(9, C, F).transpose(0, 2, 1))  # (9, M, C)
        dx = np.zeros((B, H, W, C), np.float32)
        for k in range(9):
            i, j = divmod(k, 3)
            dx[:, i:i + oh, j:j + ow] += cols[k].reshape(B, oh, ow, C)
        return dx

    def _pool(self, z):
        """2x2 max-pool (valid): the pooled values and, per output, which of the 4 inputs won."""
        np = self.np
        B, H, W, C = z.shape
        views = [z[:, i:2 * (H // 2):2, j:2 * (W // 2):2] for i in (0, 1) for j in (0, 1)]
        y = np.maximum(np.maximum(views[0], views[1]), np.maximum(views[2], views[3]))
        found = views[0] == y
        winner = np.zeros(y.shape, np.uint8)
        for k in (1, 2, 3):
            hit = np.greater(views[k] == y, found)   # a maximum here and none earlier
            found |= hit
            winner += hit.view(np.uint8) * np.uint8(k)
        return y, winner

    def _pool_back(self, dy, winner, shape):
        np = self.np
        dz = np.zeros(shape, np.float32)
        H, W = 2 * (shape[1] // 2), 2 * (shape[2] // 2)
        for k in range(4):
            i, j = divmod(k, 2)
            np.multiply(dy, winner == k, out=dz[:, i:H:2, j:W:2])
        return dz

    def _forward(self, x, train: bool):
        np = self.np
        w1, b1, w2, b2, w3, b3 = self.params
        B = len(x)
        c1 = self._im2col(x)
        z1 = self._gemm(c1, w1.reshape(9, 32)).reshape(B, 26, 26, 32)
        z1 += b1
        np.maximum(z1, 0, out=z1)
        p1, win1 = self._pool(z1)
        c2 = self._im2col(p1)
        z2 = self._gemm(c2, w2.reshape(288, 64)).reshape(B, 11, 11, 64)
        z2 += b2
        np.maximum(z2, 0, out=z2)
        p2, win2 = self._pool(z2)
        a = p2.reshape(B, 1600)
        mask = None
        if train:
            mask = (self.rng.random(a.shape, dtype=np.float32) >= 0.5) * np.float32(2.0)
            a = a * mask
        logits = a @ w3 + b3
        return logits, (c1, z1, win1, p1, c2, z2, win2, a, mask)

    def fit(self, x, y, batch_size: int, lr: float = LR, b1: float = 0.9, b2: float = 0.999,
            eps: float = 1e-7) -> None:
        np = self.np
        w1, b1_, w2, b2_, w3, b3 = self.params
        gw1, gb1, gw2, gb2, gw3, gb3 = self.grads
        perm = self.rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            idx = perm[start:start + batch_size]
            B = len(idx)
            logits, (c1, z1, win1, p1, c2, z2, win2, a, mask) = self._forward(x[idx], True)
            d = logits - logits.max(axis=1, keepdims=True)
            np.exp(d, out=d)
            d /= d.sum(axis=1, keepdims=True)
            d[np.arange(B), y[idx]] -= 1.0
            d *= 1.0 / B
            np.matmul(a.T, d, out=gw3)
            np.sum(d, axis=0, out=gb3)
            da = (d @ w3.T) * mask
            dz2 = self._pool_back(da.reshape(B, 5, 5, 64), win2, z2.shape)
            dz2 *= z2 > 0
            dz2 = dz2.reshape(-1, 64)
            gw2[...] = self._gemm(c2.T, dz2).reshape(gw2.shape)
            np.sum(dz2, axis=0, out=gb2)
            dp1 = self._conv_input_grad(dz2.reshape(B, 11, 11, 64), w2, 13, 13)
            dz1 = self._pool_back(dp1, win1, z1.shape)
            dz1 *= z1 > 0
            dz1 = dz1.reshape(-1, 32)
            gw1[...] = self._gemm(c1.T, dz1).reshape(gw1.shape)
            np.sum(dz1, axis=0, out=gb1)
            self.t += 1
            lr_t = lr * (1.0 - b2 ** self.t) ** 0.5 / (1.0 - b1 ** self.t)
            _adam(self.theta, self.grad, self.m, self.v, self.tmp, lr_t, b1, b2, eps)

    def predict(self, x, batch_size: int):
        np = self.np
        out = np.empty((len(x), 10), np.float32)
        for start in range(0, len(x), batch_size):
            p, _ = self._forward(x[start:start + batch_size], False)
            p -= p.max(axis=1, keepdims=True)
            np.exp(p, out=p)
            out[start:start + len(p)] = p / p.sum(axis=1, keepdims=True)
        return out


# --------------------------------------------------------------------------------------------------
# One tool's model, behind one small interface: build, fit (timed by the caller), predict
# --------------------------------------------------------------------------------------------------

class Runner:
    note = ""

    def __init__(self, tool: str, sizes: list[int], task: str, dropout: float = 0.0):
        self.tool, self.sizes, self.task, self.dropout = tool, sizes, task, dropout
        self.image_input = task == "clf" and sizes[0] == 784
        getattr(self, "_build_" + tool.replace("-", "_"))()

    # unafraid and keras-jax: the same Keras code --------------------------------------------------
    def _keras_model(self, k):
        layers = k.layers
        if self.task == "convnet":                  # Keras's "Simple MNIST convnet", as written there
            model = k.Sequential([
                k.Input(shape=(28, 28, 1)),
                layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
                layers.MaxPooling2D(pool_size=(2, 2)),
                layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
                layers.MaxPooling2D(pool_size=(2, 2)),
                layers.Flatten(),
                layers.Dropout(0.5),
                layers.Dense(10, activation="softmax"),
            ])
            model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
            return model
        if self.image_input:
            if self.tool.startswith("unafraid"):
                stack = [layers.Flatten(input_shape=(28, 28))]
            else:
                stack = [k.Input(shape=(28, 28)), layers.Flatten()]
        else:
            stack = [k.Input(shape=(self.sizes[0],))]
        for u in self.sizes[1:-1]:
            stack.append(layers.Dense(u, activation="relu"))
            if self.dropout:
                stack.append(layers.Dropout(self.dropout))
        stack.append(layers.Dense(self.sizes[-1], activation="softmax" if self.task == "clf" else None))
        model = k.models.Sequential(stack)
        if self.task == "clf":
            if self.tool.startswith("unafraid"):     # tf.keras order: metrics third
                model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
            else:                           # Keras 3 takes loss_weights third
                model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                              metrics=["accuracy"])
        else:
            model.compile(optimizer="adam", loss="mse")
        return model

    def _build_unafraid(self):
        import unafraid
        from unafraid import optimizers_fast
        self.model = self._keras_model(unafraid.keras)
        self.note = f"optimizer accelerator: {optimizers_fast.status()}"

    def _build_unafraid_numpy(self):      # the worker set UNAFRAID_NUMBA=0 before importing it
        self._build_unafraid()

    def _build_keras_jax(self):
        import keras
        keras.utils.set_random_seed(SEED)
        self.model = self._keras_model(keras)
        self.note = f"keras {keras.__version__}, backend {keras.backend.backend()}"

    def _keras_fit(self, x, y, batch_size, epochs=1):
        if self.task == "convnet":                  # the example's one-hot labels
            import numpy as np
            y = np.eye(10, dtype=np.float32)[y]
        self.model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0, shuffle=True)

    def _keras_predict(self, x, batch_size):
        return self.model.predict(x, batch_size=batch_size, verbose=0)

    # numpy ---------------------------------------------------------------------------------------
    def _build_numpy(self):
        self.model = (NumpyConvnet() if self.task == "convnet"
                      else NumpyMLP(self.sizes, self.task, dropout=self.dropout))

    # torch ----------------------------------------------------------------------------------------
    def _build_torch(self, fused: bool = False):
        import torch
        from torch import nn
        torch.manual_seed(SEED)
        mods = []
        for i, (fi, fo) in enumerate(zip(self.sizes[:-1], self.sizes[1:], strict=True)):
            mods.append(nn.Linear(fi, fo))
            if i < len(self.sizes) - 2:
                mods.append(nn.ReLU())
                if self.dropout:
                    mods.append(nn.Dropout(self.dropout))
        if self.task == "convnet":                  # the same convnet, NCHW
            mods = [nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                    nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.5), nn.Linear(1600, 10)]
        self.model = nn.Sequential(*mods)
        if fused:
            try:
                self.opt = torch.optim.Adam(self.model.parameters(), lr=LR, eps=1e-7, fused=True)
                self.note = "Adam(fused=True)"
            except (RuntimeError, TypeError, ValueError) as e:  # not supported on this build
                self.opt = torch.optim.Adam(self.model.parameters(), lr=LR, eps=1e-7, foreach=True)
                self.note = f"Adam(foreach=True): fused unsupported ({e})"
        else:
            self.opt = torch.optim.Adam(self.model.parameters(), lr=LR, eps=1e-7)
            self.note = "Adam() default"
        self.loss_fn = nn.CrossEntropyLoss() if self.task in ("clf", "convnet") else nn.MSELoss()
        self.torch = torch
        self.gen = torch.Generator().manual_seed(SEED)

    def _build_torch_fused(self):
        self._build_torch(fused=True)

    def _torch_fit(self, x, y, batch_size, epochs=1):
        torch = self.torch
        X = torch.from_numpy(self._torch_layout(x))
        Y = torch.from_numpy(y) if self.task in ("clf", "convnet") else X
        model, opt, loss_fn = self.model, self.opt, self.loss_fn
        model.train()
        for _ in range(epochs):
            perm = torch.randperm(len(X), generator=self.gen)
            for start in range(0, len(X), batch_size):
                idx = perm[start:start + batch_size]
                xb = X[idx]
                yb = Y[idx]
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(xb), yb)
                loss.backward()
                opt.step()

    def _torch_layout(self, x):
        """Rows for the MLPs; NCHW images (a contiguous copy) for the convnet."""
        import numpy as np
        if self.task == "convnet":
            return np.ascontiguousarray(x.reshape(len(x), 1, 28, 28))
        return x.reshape(len(x), -1)

    def _torch_predict(self, x, batch_size):
        torch = self.torch
        X = torch.from_numpy(self._torch_layout(x))
        self.model.train(False)  # torch inference mode (dropout off)
        outs = []
        with torch.inference_mode():
            for start in range(0, len(X), batch_size):
                out = self.model(X[start:start + batch_size])
                if self.task in ("clf", "convnet"):
                    out = torch.softmax(out, dim=1)
                outs.append(out.numpy())
        import numpy as np
        return np.concatenate(outs)

    # scikit-learn ---------------------------------------------------------------------------------
    def _build_sklearn(self):
        import warnings

        import sklearn
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        self.batch_pending = None
        self.make = lambda batch_size: MLPClassifier(
            hidden_layer_sizes=tuple(self.sizes[1:-1]), solver="adam", batch_size=batch_size,
            max_iter=1, learning_rate_init=LR, shuffle=True, random_state=SEED)
        self.note = f"scikit-learn {sklearn.__version__}"

    # dispatch -------------------------------------------------------------------------------------
    def fit(self, x, y, batch_size, epochs=1):
        if self.tool in ("unafraid", "unafraid-numpy", "keras-jax"):
            self._keras_fit(x, y, batch_size, epochs)
        elif self.tool == "numpy" and self.task == "convnet":
            self.model.fit(x, y, batch_size)
        elif self.tool == "numpy":
            self.model.fit(x.reshape(len(x), -1), y if self.task == "clf" else None, batch_size,
                           epochs)
        elif self.tool.startswith("torch"):
            self._torch_fit(x, y, batch_size, epochs)
        elif self.tool == "sklearn":
            self.model = self.make(batch_size)
            self.model.fit(x.reshape(len(x), -1), y)

    def predict(self, x, batch_size):
        if self.tool in ("unafraid", "unafraid-numpy", "keras-jax"):
            return self._keras_predict(x, batch_size)
        if self.tool == "numpy":
            return self.model.predict(x if self.task == "convnet" else x.reshape(len(x), -1),
                                      batch_size)
        if self.tool.startswith("torch"):
            return self._torch_predict(x, batch_size)
        return self.model.predict_proba(x.reshape(len(x), -1))


# --------------------------------------------------------------------------------------------------
# Worker: one measurement in this (fresh) process, one JSON line on stdout
# --------------------------------------------------------------------------------------------------

def peak_rss_mib() -> float:
    """Peak resident memory of this process, MiB.

    On Linux this is ``VmHWM`` from ``/proc/self/status``: ``ru_maxrss`` would also count the memory
    of the parent at the moment it forked this process (the kernel carries it over ``exec``).
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except (OSError, ValueError):
        pass
    import resource
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024.0 if sys.platform != "darwin" else kb / 2 ** 20


def current_rss_mib() -> float | None:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20
    except (OSError, ValueError):
        return None


def worker_import(tool: str) -> dict:
    mod = IMPORT_MODULE[tool]
    t0 = time.perf_counter()
    importlib.import_module(mod)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "peak_rss_mib": peak_rss_mib(), "quality": None, "module": mod}


def worker(tool: str, workload: str, data_dir: str) -> dict:
    spec = WORKLOADS[workload]
    if tool == "unafraid-numpy":                  # unafraid with its optional numba kernels off
        os.environ["UNAFRAID_NUMBA"] = "0"
    if spec["kind"] == "import":
        return worker_import(tool)
    import numpy as np

    def load(name):
        return np.load(os.path.join(data_dir, name + ".npy"))

    if spec["kind"] == "convnet":
        return worker_convnet(tool, spec, load)
    if spec["kind"] == "ae":
        x, xv = load("ae_train"), load("ae_val")
        y = x
        sizes = [x.shape[1], *spec["hidden"], x.shape[1]]
        task = "ae"
    elif spec["kind"] == "cells":
        x, y = load("g_train"), load("g_train_labels")
        xt, yt = load("g_test"), load("g_test_labels")
        sizes = [CELLS_DIM, *spec["hidden"], 10]
        task = "clf"
    else:
        x, y = load("x_train"), load("y_train")
        xt, yt = load("x_test"), load("y_test")
        sizes = [784, *spec["hidden"], 10]
        task = "clf"
    runner = Runner(tool, sizes, task, spec.get("dropout", 0.0))
    result = {"note": runner.note}
    if spec["kind"] == "predict":
        runner.fit(x[:PREDICT_TRAIN_ROWS], y[:PREDICT_TRAIN_ROWS], 32)   # untimed
        result["rss_before_mib"] = current_rss_mib()
        t0 = time.perf_counter()
        p = runner.predict(xt, spec["batch"])
        result["seconds"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        runner.predict(xt, spec["batch"])
        result["seconds_second_call"] = time.perf_counter() - t0
        result["quality"] = {"test_accuracy": float(np.mean(np.argmax(p, axis=1) == yt))}
    else:
        result["rss_before_mib"] = current_rss_mib()
        t0 = time.perf_counter()
        runner.fit(x, y, spec["batch"], spec.get("epochs", 1))
        result["seconds"] = time.perf_counter() - t0
        if task == "clf":
            p = runner.predict(xt, 1024)
            result["quality"] = {"test_accuracy": float(np.mean(np.argmax(p, axis=1) == yt))}
        else:
            p = np.asarray(runner.predict(xv, 1024), dtype=np.float64)
            result["quality"] = {"val_mse": float(np.mean((p - xv) ** 2))}
    result["peak_rss_mib"] = peak_rss_mib()
    return result


def worker_convnet(tool: str, spec: dict, load) -> dict:
    """Workload h: one timed epoch of the convnet, then a timed predict on the test images."""
    import numpy as np
    x, y = load("x_train"), load("y_train")
    xt, yt = load("x_test"), load("y_test")
    rows = min(spec["fit_rows"], len(x) * 9 // 10)       # a --quick run keeps 90% as well
    x, y = x[:rows].reshape(rows, 28, 28, 1), y[:rows]
    xt = xt.reshape(len(xt), 28, 28, 1)
    runner = Runner(tool, [784, 10], "convnet")
    result = {"note": runner.note, "rss_before_mib": current_rss_mib()}
    t0 = time.perf_counter()
    runner.fit(x, y, spec["batch"])
    result["seconds"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    p = runner.predict(xt, spec["batch"])
    result["predict_seconds"] = time.perf_counter() - t0
    result["quality"] = {"test_accuracy": float(np.mean(np.argmax(p, axis=1) == yt))}
    result["peak_rss_mib"] = peak_rss_mib()
    return result


def worker_info() -> dict:
    """Versions and thread pools, seen from a process that has imported every installed tool."""
    info: dict = {"python": sys.version.split()[0], "executable": sys.executable}
    import numpy
    info["numpy"] = numpy.__version__
    for tool, mod in (("torch", "torch"), ("keras", "keras"), ("jax", "jax"), ("sklearn", "sklearn"),
                      ("unafraid", "unafraid"), ("threadpoolctl", "threadpoolctl")):
        if importlib.util.find_spec(mod) is not None:
            try:
                info[tool] = importlib.import_module(mod).__version__
            except Exception as e:  # noqa: BLE001 - report, do not fail the header
                info[tool] = f"import failed: {e}"
    try:
        from threadpoolctl import threadpool_info
        info["threadpools"] = [
            {k: p.get(k) for k in ("user_api", "internal_api", "version", "architecture",
                                   "threading_layer", "num_threads")}
            | {"library": os.path.basename(p.get("filepath", ""))}
            for p in threadpool_info()]
    except ImportError:
        info["threadpools"] = "threadpoolctl not installed"
    if "torch" in info and not str(info["torch"]).startswith("import failed"):
        import torch
        info["torch_threads"] = torch.get_num_threads()
        info["torch_blas"] = [line.strip() for line in torch.__config__.parallel_info().splitlines()
                              if "Math Kernel" in line or "MKL-DNN" in line or "oneDNN" in line]
    if "jax" in info and not str(info["jax"]).startswith("import failed"):
        import jax
        info["jax_devices"] = [str(d) for d in jax.devices()]
    return info


# --------------------------------------------------------------------------------------------------
# Parent: run the workers interleaved, collect, print
# --------------------------------------------------------------------------------------------------

def cpu_busy_seconds() -> float | None:
    """CPU-seconds the whole machine has spent busy since boot (all cores), from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            vals = [int(v) for v in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, idle, iowait, irq, softirq, steal = vals
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    import resource
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def others_load(interval: float = 1.0) -> float | None:
    """Cores kept busy by other processes over ``interval`` seconds (this process sleeps meanwhile)."""
    b0 = cpu_busy_seconds()
    if b0 is None:
        return None
    time.sleep(interval)
    return (cpu_busy_seconds() - b0) / interval


def wait_quiet(max_wait: float, threshold: float) -> tuple[float | None, float]:
    """Wait (up to ``max_wait`` s) until other processes use less than ``threshold`` cores.

    Returns the last load seen and the seconds waited. The machine is shared: this lowers the
    noise, it does not remove it; each measurement also records the load during its run.
    """
    t0 = time.perf_counter()
    while True:
        load = others_load()
        waited = time.perf_counter() - t0
        if load is None or load < threshold or waited >= max_wait:
            return load, waited


def run_child(args_list: list[str], timeout: float, quiet: tuple[float, float] = (0.0, 0.0)) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), *args_list]
    load_before, waited = wait_quiet(*quiet) if quiet[0] > 0 else (None, 0.0)
    busy0, child0 = cpu_busy_seconds(), children_cpu_seconds()
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=child_env(), timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    wall = time.perf_counter() - t0
    busy1, child1 = cpu_busy_seconds(), children_cpu_seconds()
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("RESULT "):
            out = json.loads(line[len("RESULT "):])
            out["process_wall_s"] = wall
            out["process_cpu_s"] = child1 - child0
            if busy0 is not None:
                # Everything the machine did meanwhile, less this measurement's own CPU time.
                out["others_cores"] = max(0.0, (busy1 - busy0) - (child1 - child0)) / wall
            out["others_cores_before"] = load_before
            out["quiet_wait_s"] = waited
            return out
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
    return {"error": f"exit {proc.returncode}: " + " | ".join(tail)}


def machine_info() -> dict:
    info = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "platform": platform.platform(), "cores": os.cpu_count(), "cpu": platform.processor()}
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        fields = dict(line.split(":", 1) for line in lscpu.splitlines() if ":" in line)
        fields = {k.strip(): v.strip() for k, v in fields.items()}
        info["cpu"] = fields.get("Model name", info["cpu"])
        for key in ("CPU(s)", "Thread(s) per core", "L2 cache", "L3 cache", "Hypervisor vendor"):
            if key in fields:
                info["lscpu " + key] = fields[key]
    except (OSError, subprocess.SubprocessError):
        pass
    info["env"] = {k: os.environ.get(k, "(unset)") for k in
                   ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                    "MKL_NUM_THREADS")}
    try:
        info["loadavg_at_start"] = os.getloadavg()
    except OSError:
        pass
    return info


def git_state() -> dict | None:
    """The commit and the uncommitted changes under unafraid/ of the checkout being measured."""
    import unafraid
    root = os.path.dirname(os.path.dirname(os.path.abspath(unafraid.__file__)))
    try:
        head = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--", "unafraid"],
                               capture_output=True, text=True, timeout=10).stdout.split("\n")
    except (OSError, subprocess.SubprocessError):
        return None
    return {"head": head or None, "modified": sorted(line[3:] for line in dirty if line.strip())}


def fmt_git(g: dict | None) -> str:
    if not g or not g.get("head"):
        return "unknown"
    mods = g.get("modified") or []
    return g["head"] + (f" + uncommitted changes to {', '.join(mods)}" if mods else " (clean)")


def fmt_s(s: float) -> str:
    return f"{s:.3f}" if s < 10 else f"{s:.1f}" if s < 100 else f"{s:.0f}"


def fmt_quality(q: dict | None) -> str:
    if not q:
        return "—"
    if "test_accuracy" in q:
        return f"acc {q['test_accuracy']:.4f}"
    if "val_mse" in q:
        return f"val MSE {q['val_mse']:.4f}"
    return json.dumps(q)


def summarise(results: dict) -> list[dict]:
    """One row per (workload, tool): median, range, median per-round ratio to unafraid, quality, RSS."""
    rows = []
    for w in results["workloads"]:
        runs = results["runs"].get(w, {})
        base = runs.get("unafraid", {}).get("measurements", [])
        for tool in results["tools"]:
            if tool not in runs:
                continue
            entry = runs[tool]
            row = {"workload": w, "title": WORKLOADS[w]["title"], "tool": tool}
            if entry.get("status") == "missing":
                row["status"] = "missing"
                rows.append(row)
                continue
            ms = entry["measurements"]
            ok = [m for m in ms if "error" not in m]
            if not ok:
                row["status"] = "failed: " + ms[0]["error"][:120] if ms else "failed"
                rows.append(row)
                continue
            secs = [m["seconds"] for m in ok]
            row.update(status="ok", n=len(ok), median_s=statistics.median(secs), min_s=min(secs),
                       max_s=max(secs), peak_rss_mib=statistics.median(m["peak_rss_mib"] for m in ok),
                       quality=ok[-1].get("quality"), note=ok[-1].get("note", ""))
            if len(ok) < len(ms):
                row["failed_runs"] = len(ms) - len(ok)
            ratios = [m["seconds"] / b["seconds"] for m, b in zip(ms, base, strict=False)
                      if "error" not in m and "error" not in b]
            row["ratio"] = statistics.median(ratios) if ratios else None
            loads = [m["others_cores"] for m in ok if m.get("others_cores") is not None]
            row["others_cores"] = statistics.median(loads) if loads else None
            row["others_cores_max"] = max(loads) if loads else None
            if "predict_seconds" in ok[0]:
                row["median_predict_s"] = statistics.median(m["predict_seconds"] for m in ok)
            if "seconds_second_call" in ok[0]:
                row["median_second_call_s"] = statistics.median(m["seconds_second_call"] for m in ok)
            rows.append(row)
    return rows


def markdown_table(rows: list[dict]) -> str:
    out = ["| workload | tool | median s | min–max s | ÷ unafraid | quality after training | peak RSS MiB "
           "| other load, cores |",
           "| --- | --- | ---: | ---: | ---: | --- | ---: | ---: |"]
    last = None
    for r in rows:
        title = r["title"] if r["workload"] != last else ""
        last = r["workload"]
        if r["status"] != "ok":
            out.append(f"| {title} | {r['tool']} | {r['status']} | | | | | |")
            continue
        ratio = f"{r['ratio']:.2f}×" if r.get("ratio") is not None else "—"
        quality = fmt_quality(r["quality"]) if r["workload"] != "f" else "—"
        extra = f" ({r['failed_runs']} runs failed)" if r.get("failed_runs") else ""
        others = "—"
        if r.get("others_cores") is not None:
            others = f"{r['others_cores']:.2f}"
            if r.get("others_cores_max", 0) >= 0.3:
                others += f" (max {r['others_cores_max']:.2f})"
        out.append(f"| {title} | {r['tool']}{extra} | {fmt_s(r['median_s'])} | "
                   f"{fmt_s(r['min_s'])}–{fmt_s(r['max_s'])} | {ratio} | {quality} | "
                   f"{r['peak_rss_mib']:.0f} | {others} |")
    return "\n".join(out)


def markdown_header(results: dict) -> str:
    m, info = results["machine"], results["info"]
    lines = [f"- date: {m['date']}" + (f" to {results['finished']}" if results.get("finished") else ""),
             f"- command: `{results['command']}`",
             f"- CPU: {m['cpu']}, {m['cores']} cores"
             + (f" ({m.get('lscpu Hypervisor vendor')} VM)" if m.get("lscpu Hypervisor vendor") else "")
             + (f", L2 {m['lscpu L2 cache']}, L3 {m['lscpu L3 cache']}" if "lscpu L3 cache" in m else ""),
             f"- load average at start: {', '.join(f'{x:.2f}' for x in m.get('loadavg_at_start', []))}",
             "- environment: " + ", ".join(f"{k}={v}" for k, v in m["env"].items()),
             f"- Python {info.get('python')}; " + ", ".join(
                 f"{k} {info[k]}" for k in ("unafraid", "numpy", "torch", "keras", "jax", "sklearn",
                                            "threadpoolctl") if k in info)]
    pools = info.get("threadpools")
    if isinstance(pools, list):
        for p in pools:
            lines.append(f"- thread pool ({p['library']}): user_api {p['user_api']}, internal_api "
                         f"{p['internal_api']}, version {p['version']}, architecture "
                         f"{p.get('architecture') or '-'}, threading {p.get('threading_layer') or '-'}, "
                         f"num_threads {p['num_threads']}")
    else:
        lines.append(f"- thread pools: {pools}")
    if "torch_threads" in info:
        lines.append(f"- torch: {info['torch_threads']} threads; " + "; ".join(info.get("torch_blas", [])))
    if "jax_devices" in info:
        lines.append(f"- jax devices: {', '.join(info['jax_devices'])}")
    if "git_start" in results:
        start, end = fmt_git(results["git_start"]), fmt_git(results.get("git_end"))
        lines.append(f"- unafraid measured: {start}" + (
            "" if end == start else f"; WARNING: the checkout changed during the run, at the end: {end}"))
    d = results["data"]
    lines.append(f"- data: {d['train_images']} training / {d['test_images']} test MNIST images; "
                 f"autoencoder {d['ae_rows']} rows (+{d['ae_val_rows']} held out; MSE of predicting 0: "
                 f"{d['ae_val_mse_of_zero']:.3f}, noise floor {d['ae_noise_floor_mse']:.3f})")
    lines.append(f"- repeats: {results['repeats']} rounds (f: {results['import_repeats']}), tools taking "
                 f"turns in the order {', '.join(results['tools'])}; '÷ unafraid' is the median of the "
                 f"per-round ratios tool time / unafraid time (below 1: faster than unafraid)")
    lines.append(f"- shared machine: before each run the script waited up to {results.get('quiet_wait')} s "
                 f"for other processes to use < {results.get('quiet_threshold')} cores; 'other load' is "
                 f"the median number of cores other processes kept busy during a tool's runs, with the "
                 f"maximum when it reached 0.3 (0 = quiet; on 2 cores, 1 means half the machine was taken)")
    if results.get("busy"):
        lines.append(f"- contention: {results['busy']} CPU-bound background process(es) (a Python busy "
                     f"loop each) ran throughout, on purpose (--busy); 'other load' includes them")
    return "\n".join(lines)


def markdown(results: dict) -> str:
    rows = summarise(results)
    text = markdown_header(results) + "\n\n" + markdown_table(rows) + "\n"
    second = [r for r in rows if r.get("median_second_call_s") is not None]
    if second:
        text += ("\nSecond predict call, same process (median s): "
                 + "; ".join(f"{r['workload']} {r['tool']} {fmt_s(r['median_second_call_s'])}"
                             for r in second)
                 + "\n")
    predicts = [r for r in rows if r.get("median_predict_s") is not None]
    if predicts:
        text += ("\n(h) predict on the test images after training, batch 128 (median s): "
                 + "; ".join(f"{r['tool']} {fmt_s(r['median_predict_s'])}" for r in predicts) + "\n")
    notes = sorted({f"{r['tool']}: {r['note']}" for r in rows if r.get("note")})
    if notes:
        text += "\nTool notes: " + "; ".join(notes) + "\n"
    return text


@contextlib.contextmanager
def busy_processes(n: int):
    """``n`` CPU-bound background processes for the duration of the block (the contention test)."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--workloads", default="a,b,c,d,e,f",
                   help="comma-separated, from a,b,c,d,e,f,h (h, the convnet, only when named)")
    p.add_argument("--tools", default=",".join(TOOLS), help=f"comma-separated, from {','.join(TOOLS)}")
    p.add_argument("--repeats", type=int, default=3, help="rounds of interleaved runs (default 3)")
    p.add_argument("--import-repeats", type=int, default=None,
                   help="rounds for workload f (default max(7, --repeats))")
    p.add_argument("--quick", action="store_true", help="a tenth of the data: a smoke run")
    p.add_argument("--data", default=None,
                   help="MNIST folder (default: $UNAFRAID_DATA, else ../shared/data/mnist next to the repo)")
    p.add_argument("--out", default=None, help="write all measurements as JSON here")
    p.add_argument("--markdown", default=None, help="also write the markdown (header + table) here")
    p.add_argument("--from-json", default=None,
                   help="rebuild the markdown from a saved --out file; run nothing")
    p.add_argument("--timeout", type=float, default=1800, help="seconds allowed per measurement")
    p.add_argument("--quiet-wait", type=float, default=20,
                   help="before each measurement, wait up to this many seconds for other processes to "
                        "go quiet (default 20; 0: do not wait)")
    p.add_argument("--quiet-threshold", type=float, default=0.3,
                   help="'quiet' means other processes use fewer cores than this (default 0.3)")
    p.add_argument("--busy", type=int, default=0,
                   help="run this many CPU-bound background processes (a Python busy loop each) "
                        "throughout, as a scientist's other programs would; implies --quiet-wait 0")
    p.add_argument("--worker", nargs="*", help=argparse.SUPPRESS)
    p.add_argument("--data-dir", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.worker is not None:                       # inside a measurement subprocess
        if args.worker == ["info"]:
            out = worker_info()
        else:
            out = worker(args.worker[0], args.worker[1], args.data_dir)
        print("RESULT " + json.dumps(out), flush=True)
        return 0

    if args.from_json:
        with open(args.from_json) as f:
            emit_markdown(json.load(f), args.markdown)
        return 0

    workloads = []
    for w in args.workloads.split(","):
        w = w.strip()
        if w == "e":
            workloads += ["e32", "e1024"]
        elif w in WORKLOADS:
            workloads.append(w)
        else:
            p.error(f"unknown workload {w!r}; choose from a,b,c,d,e,f,h")
    tools = [t.strip() for t in args.tools.split(",")]
    for t in tools:
        if t not in TOOLS:
            p.error(f"unknown tool {t!r}; choose from {','.join(TOOLS)}")
    if "unafraid" not in tools:
        tools.insert(0, "unafraid")                  # ratios need it
    data = args.data or os.environ.get("UNAFRAID_DATA") or os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "shared", "data", "mnist")
    import_repeats = args.import_repeats or max(7, args.repeats)
    if args.busy:
        args.quiet_wait = 0.0

    command = " ".join(shlex.quote(a) for a in [sys.executable, *sys.argv])
    results = {"command": command, "machine": machine_info(), "tools": tools, "workloads": workloads,
               "repeats": args.repeats, "import_repeats": import_repeats, "quick": args.quick,
               "quiet_wait": args.quiet_wait, "quiet_threshold": args.quiet_threshold,
               "busy": args.busy, "runs": {}}
    print(f"# unafraid benchmark comparison\n\ncommand: {command}", file=sys.stderr, flush=True)
    results["info"] = run_child(["--worker", "info"], 600)
    results["git_start"] = git_state()
    available = {t: installed(t) for t in tools}

    with tempfile.TemporaryDirectory(prefix="unafraid-bench-") as data_dir, busy_processes(args.busy):
        results["data"] = prepare_data(data, data_dir, args.quick)
        for w in workloads:
            runs = results["runs"].setdefault(w, {})
            active = [t for t in tools if w in SUPPORTED[t]]
            for t in active:
                runs[t] = {"status": "ok" if available[t] else "missing", "measurements": []}
            rounds = import_repeats if WORKLOADS[w]["kind"] == "import" else args.repeats
            for r in range(rounds):
                for t in active:
                    if not available[t]:
                        continue
                    m = run_child(["--worker", t, w, "--data-dir", data_dir], args.timeout,
                                  (args.quiet_wait, args.quiet_threshold))
                    runs[t]["measurements"].append(m)
                    shown = m.get("error") or (
                        f"{m['seconds']:.3f} s, {fmt_quality(m.get('quality'))}, "
                        f"peak {m['peak_rss_mib']:.0f} MiB, others {m.get('others_cores') or 0:.2f} cores "
                        f"(waited {m.get('quiet_wait_s', 0):.0f} s)")
                    print(f"[{time.strftime('%H:%M:%S')}] {w} round {r + 1}/{rounds} {t}: {shown}",
                          file=sys.stderr, flush=True)
                if args.out:                          # keep partial results if the run is cut short
                    with open(args.out, "w") as f:
                        json.dump(results, f, indent=1)

    results["finished"] = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    results["git_end"] = git_state()
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1)
    emit_markdown(results, args.markdown)
    return 0


def emit_markdown(results: dict, path: str | None) -> None:
    """Print the header and table, and write them to ``path`` too when given."""
    text = markdown(results)
    print(text)
    if path:
        with open(path, "w") as f:
            f.write(text)


if __name__ == "__main__":
    sys.exit(main())
