"""Training callbacks with Keras's names, arguments and defaults."""

from __future__ import annotations

import csv
import math
import os
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np


class Callback:
    """Base class: override any of the ``on_*`` hooks.

    Attributes ``model`` and ``params`` (``epochs``, ``steps``, ``verbose``) are
    set before training starts. Setting ``self.model.stop_training = True``
    ends training after the current batch.
    """

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict[str, Any] = {}

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = params

    def on_train_begin(self, logs: dict | None = None) -> None: ...
    def on_train_end(self, logs: dict | None = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None: ...
    def on_test_begin(self, logs: dict | None = None) -> None: ...
    def on_test_end(self, logs: dict | None = None) -> None: ...
    def on_predict_begin(self, logs: dict | None = None) -> None: ...
    def on_predict_end(self, logs: dict | None = None) -> None: ...


class CallbackList:
    """Calls each hook on every callback, in order; skips batch hooks nobody overrides."""

    def __init__(self, callbacks: list[Callback], model: Any, params: dict[str, Any]) -> None:
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be unafraid.keras.callbacks.Callback objects, "
                                f"got {type(cb).__name__}.")
            cb.set_model(model)
            cb.set_params(params)
        hooks = ("on_train_batch_begin", "on_train_batch_end")
        self.batch_callbacks = [  # batch hooks run per step: call only those that do something
            cb for cb in self.callbacks
            if any(h in vars(cb) or getattr(type(cb), h) is not getattr(Callback, h)
                   for h in hooks)]

    def __getattr__(self, hook: str) -> Callable[..., None]:
        if not hook.startswith("on_"):
            raise AttributeError(hook)
        targets = self.batch_callbacks if "batch" in hook else self.callbacks
        n_args = 1 if hook.endswith(("_train_begin", "_train_end", "_test_begin", "_test_end",
                                     "_predict_begin", "_predict_end")) else 2

        def call(*args: Any) -> None:
            # as Keras: every hook gets its logs dict, so `lambda epoch, logs: ...` works
            if len(args) < n_args or args[-1] is None:
                args = (*args[:n_args - 1], {})
            for cb in targets:
                getattr(cb, hook)(*args)

        self.__dict__[hook] = call  # made once: later look-ups (every batch) find it directly
        return call


class History(Callback):
    """Records each epoch's logs; returned by ``fit``.

    Attributes
    ----------
    history : dict of str to list of float
        Keyed as Keras's: ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``...
    epoch : list of int
        The epochs run (0-based).
    """

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v.copy() if isinstance(v, np.ndarray) else float(v))

    def plot(self, save: str | None = None) -> Any:
        """Draw the loss and metric curves with matplotlib; returns the Figure."""
        from .explore import plot_history
        return plot_history(self.history, save=save)

    def __repr__(self) -> str:
        return f"<History epochs={len(self.epoch)} keys={list(self.history)}>"


def _better(mode: str, monitor: str) -> Callable[[float, float], bool]:
    if mode == "auto":
        mode = "max" if any(k in monitor for k in ("acc", "auc", "precision", "recall")) else "min"
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}.")
    return (lambda a, b: a < b) if mode == "min" else (lambda a, b: a > b)


def _monitored(logs: dict | None, monitor: str, who: str) -> float | None:
    value = (logs or {}).get(monitor)
    if value is None:
        warnings.warn(f"{who}: the monitored quantity '{monitor}' is not in the logs "
                      f"(available: {sorted(logs or {})}). Did you pass validation data?",
                      UserWarning, stacklevel=3)
    return value


class EarlyStopping(Callback):
    """Stop when ``monitor`` has stopped improving for ``patience`` epochs.

    Parameters
    ----------
    monitor : str, default 'val_loss'
    min_delta : float, default 0
        Smaller changes do not count as improvement.
    patience : int, default 0
    mode : {'auto', 'min', 'max'}
    restore_best_weights : bool, default False
        At the end, put back the weights of the best epoch.
    start_from_epoch : int, default 0
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0,
                 verbose: int = 0, mode: str = "auto", baseline: float | None = None,
                 restore_best_weights: bool = False, start_from_epoch: int = 0) -> None:
        super().__init__()
        self.monitor, self.min_delta, self.patience = monitor, abs(min_delta), patience
        self.verbose, self.baseline = verbose, baseline
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, start_from_epoch
        self.better = _better(mode, monitor)
        self.sign = 1 if self.better(1, 0) else -1

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.wait, self.stopped_epoch, self.best_epoch = 0, 0, 0
        self.best = self.baseline if self.baseline is not None else (-math.inf * self.sign)
        self.best_weights = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        value = _monitored(logs, self.monitor, "EarlyStopping")
        if value is None or epoch < self.start_from_epoch:
            return
        if self.better(value - self.sign * self.min_delta, self.best):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.stopped_epoch and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print(f"Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(Callback):
    """Save the model (or its weights) after each epoch; ``filepath`` may hold
    ``{epoch:02d}`` and log keys such as ``{val_loss:.2f}``.

    The file holds the optimizer and random-generator states too, so loading it
    and calling ``fit(..., initial_epoch=k)`` continues exactly as if training
    had never stopped. Writes are atomic.
    """

    def __init__(self, filepath: str, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False,
                 mode: str = "auto", save_freq: str | int = "epoch",
                 initial_value_threshold: float | None = None) -> None:
        super().__init__()
        every = not isinstance(save_freq, bool) and isinstance(save_freq, int) and save_freq > 0
        if save_freq != "epoch" and not every:
            raise ValueError(f"ModelCheckpoint: save_freq must be 'epoch' or a positive number of "
                             f"batches, got {save_freq!r}.")
        self.filepath, self.monitor, self.verbose = os.fspath(filepath), monitor, verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.better = _better(mode, monitor)
        self.best = initial_value_threshold
        self.save_freq, self._epoch, self._batches = save_freq, 0, 0
        if every:  # an instance hook: only then is this callback called after every batch
            self.on_train_batch_end = self._after_batch

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch = epoch

    def _after_batch(self, batch: int, logs: dict | None = None) -> None:
        """With ``save_freq=n``: save after every ``n`` batches (counted across epochs), the path
        formatted with ``epoch``, ``batch`` (from 1) and the batch's logs."""
        self._batches += 1
        if self._batches % self.save_freq == 0:
            self._save(self.filepath.format(epoch=self._epoch + 1, batch=batch + 1,
                                            **(logs or {})), logs or {}, f"batch {batch + 1}")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.save_freq == "epoch":
            logs = logs or {}
            self._save(self.filepath.format(epoch=epoch + 1, **logs), logs, f"Epoch {epoch + 1}")

    def _save(self, path: str, logs: dict, when: str) -> None:
        if self.save_best_only:
            value = _monitored(logs, self.monitor, "ModelCheckpoint")
            if value is None or (self.best is not None and not self.better(value, self.best)):
                return
            self.best = value
        if self.verbose:
            print(f"{when}: saving model to {path}")
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch loss is NaN or infinite."""

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(loss):
            print(f"Batch {batch}: invalid loss, terminating training")
            self.model.stop_training = True


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stalls for ``patience`` epochs."""

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10,
                 verbose: int = 0, mode: str = "auto", min_delta: float = 1e-4,
                 cooldown: int = 0, min_lr: float = 0.0) -> None:
        super().__init__()
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be < 1, got {factor}.")
        self.monitor, self.factor, self.patience, self.verbose = monitor, factor, patience, verbose
        self.min_delta, self.cooldown, self.min_lr = min_delta, cooldown, min_lr
        self.better = _better(mode, monitor)
        self.sign = 1 if self.better(1, 0) else -1

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.wait, self.cooldown_counter, self.best = 0, 0, -math.inf * self.sign

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        value = _monitored(logs, self.monitor, "ReduceLROnPlateau")
        if logs is not None:
            log_learning_rates(self.model.optimizer, logs)
        if value is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self.better(value - self.sign * self.min_delta, self.best):
            self.best, self.wait = value, 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                reduced = False
                for optimizer in each_optimizer(self.model.optimizer):
                    old = float(optimizer.learning_rate)
                    if old > self.min_lr:
                        new = max(old * self.factor, self.min_lr)
                        optimizer.learning_rate = new
                        reduced = True
                        if self.verbose:
                            print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                                  f"of {optimizer.name} to {new}.")
                if reduced:
                    self.cooldown_counter, self.wait = self.cooldown, 0


class LearningRateScheduler(Callback):
    """Set the learning rate at each epoch start: ``lr = schedule(epoch, lr)``."""

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        for optimizer in each_optimizer(self.model.optimizer):
            lr = float(optimizer.learning_rate)
            try:
                new = self.schedule(epoch, lr)
            except TypeError:
                new = self.schedule(epoch)
            new = float(new)
            if not math.isfinite(new):
                raise ValueError(f"LearningRateScheduler: the schedule returned {new} at epoch "
                                 f"{epoch}; it must return a finite float.")
            optimizer.learning_rate = new
            if self.verbose:
                print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate of "
                      f"{optimizer.name} to {new}.")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            log_learning_rates(self.model.optimizer, logs)


def each_optimizer(optimizer: Any) -> list[Any]:
    """The optimizers whose learning rate a callback sets: a ``MultiOptimizer``'s sub-optimizers
    (it has no learning rate of its own), else the optimizer itself."""
    return list(optimizer.optimizers) if hasattr(optimizer, "optimizers") else [optimizer]


def log_learning_rates(optimizer: Any, logs: dict) -> dict:
    """Put ``logs['learning_rate']``, or ``logs['learning_rate_<name>']`` for each sub-optimizer of
    a ``MultiOptimizer`` (Keras's keys), into ``logs``, and return it."""
    if hasattr(optimizer, "optimizers"):
        for sub in optimizer.optimizers:
            logs[f"learning_rate_{sub.name}"] = float(sub.learning_rate)
    else:
        logs["learning_rate"] = float(optimizer.learning_rate)
    return logs


class CSVLogger(Callback):
    """Append each epoch's logs to a CSV file (``epoch`` first, then sorted keys)."""

    def __init__(self, filename: str, separator: str = ",", append: bool = False) -> None:
        super().__init__()
        self.filename, self.sep, self.append = os.fspath(filename), separator, append
        self.keys: list[str] | None = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        exists = self.append and os.path.exists(self.filename) and os.path.getsize(self.filename)
        self.file = open(self.filename, "a" if self.append else "w", newline="")  # noqa: SIM115
        self.writer = None
        self.keys = None
        self._header_written = bool(exists)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            self.writer = csv.DictWriter(self.file, fieldnames=["epoch", *self.keys],
                                         delimiter=self.sep)
            if not self._header_written:
                self.writer.writeheader()
        self.writer.writerow({"epoch": epoch, **{k: logs.get(k, "NA") for k in self.keys}})
        self.file.flush()

    def on_train_end(self, logs: dict | None = None) -> None:
        self.file.close()


class SwapEMAWeights(Callback):
    """Evaluate and predict with the optimizer's moving averages (Keras 3's callback).

    With an optimizer made with ``use_ema=True``, the model's weights and their exponential
    moving averages (``optimizer.moving_averages()``) are swapped when evaluation or prediction
    begins (``fit``'s validation, ``evaluate(callbacks=...)``, ``predict(callbacks=...)``) and
    swapped back when it ends, so metrics are those of the averaged weights while training goes
    on with the raw ones. A ``MultiOptimizer`` swaps the variables of its sub-optimizers that
    use EMA, and only those.

    Parameters
    ----------
    swap_on_epoch : bool, default False
        Also swap at the end of each epoch (and back at the start of the next), so that later
        callbacks such as ``ModelCheckpoint`` see the averaged weights. After the last epoch the
        averages are left in the model, as ``fit``'s final ``finalize_variable_values`` does.

    Examples
    --------
    >>> import numpy as np, unafraid as tf
    >>> model = tf.keras.Sequential([tf.keras.Input((2,)), tf.keras.layers.Dense(1)])
    >>> model.compile(tf.keras.optimizers.SGD(use_ema=True), "mse")
    >>> x, y = np.ones((8, 2), np.float32), np.ones((8, 1), np.float32)
    >>> h = model.fit(x, y, validation_data=(x, y), epochs=2, verbose=0,
    ...               callbacks=[tf.keras.callbacks.SwapEMAWeights()])
    """

    def __init__(self, swap_on_epoch: bool = False) -> None:
        super().__init__()
        self.swap_on_epoch = swap_on_epoch
        self._ema_weights_in_model = False

    def _pairs(self) -> list[tuple[Any, np.ndarray]]:
        optimizer = self.model.optimizer
        inner = getattr(optimizer, "optimizers", None)  # a MultiOptimizer's sub-optimizers
        if inner is not None and not any(getattr(opt, "use_ema", False) for opt in inner):
            raise ValueError("SwapEMAWeights must be used when at least one inner optimizer has "
                             "`use_ema=True` set. Received a MultiOptimizer with all inner "
                             "optimizers having `use_ema=False`.")
        if inner is None and not (getattr(optimizer, "use_ema", False) and optimizer.built):
            raise ValueError(f"SwapEMAWeights must be used when `use_ema=True` is set on the "
                             f"optimizer. Received: use_ema={getattr(optimizer, 'use_ema', None)}"
                             f" (compile with e.g. optimizers.Adam(use_ema=True), and train a "
                             f"step before evaluating).")
        return optimizer.moving_averages()

    def _swap(self) -> None:
        for var, average in self._pairs():
            weights = var.numpy()
            var.assign(average)
            average[...] = weights

    def _finalize(self) -> None:
        """The averages, now in the model, copied back into the optimizer's state."""
        for var, average in self._pairs():
            average[...] = var.numpy()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if self.swap_on_epoch and self._ema_weights_in_model:
            self._swap()
            self._ema_weights_in_model = False

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.swap_on_epoch and not self._ema_weights_in_model:
            self._swap()
            self._ema_weights_in_model = True
            if epoch == self.params.get("epochs", 0) - 1:  # fit then copies the averages in
                self._finalize()

    def on_test_begin(self, logs: dict | None = None) -> None:
        if not self._ema_weights_in_model:
            self._swap()
            self._ema_weights_in_model = True

    def on_test_end(self, logs: dict | None = None) -> None:
        if self._ema_weights_in_model:
            self._swap()
            self._ema_weights_in_model = False

    # Keras 3.15.1's on_predict_end tests the flag the wrong way round and leaves the averages in
    # the model after predict; here prediction swaps back, as evaluation does
    on_predict_begin = on_test_begin
    on_predict_end = on_test_end


class TensorBoard(Callback):
    """Write each epoch's logs as TensorBoard scalars (``epoch_loss``, ``epoch_accuracy``...),
    and the learning rate (``epoch_learning_rate``; ``epoch_learning_rate_<name>`` for each
    sub-optimizer of a ``MultiOptimizer``), as Keras does.

    Training values go to ``log_dir/train``, validation values (``val_*``) to
    ``log_dir/validation``, as Keras writes them; ``tensorboard --logdir
    log_dir`` shows them. With ``histogram_freq=k``, weight histograms every
    ``k`` epochs. The event files are written by the small ``tensorboardX``
    package (``pip install tensorboardX``, or ``pip install "unafraid[tensorboard]"``).
    Graphs, images, profiling and embeddings are not written.
    """

    def __init__(self, log_dir: str = "logs", histogram_freq: int = 0, write_graph: bool = True,
                 write_images: bool = False, write_steps_per_second: bool = False,
                 update_freq: str | int = "epoch", profile_batch: int = 0,
                 embeddings_freq: int = 0, embeddings_metadata: Any = None) -> None:
        super().__init__()
        try:
            from tensorboardX import SummaryWriter
        except ImportError as e:
            raise ImportError("The TensorBoard callback writes event files with the tensorboardX "
                              "package, which is not installed. Install it with: pip install "
                              "tensorboardX  (or use CSVLogger('log.csv') to keep the logs without "
                              "it).") from e
        self.log_dir, self.histogram_freq = os.fspath(log_dir), int(histogram_freq)
        self._writer_class = SummaryWriter
        self._writers: dict[str, Any] = {}

    def _writer(self, kind: str) -> Any:
        if kind not in self._writers:
            self._writers[kind] = self._writer_class(os.path.join(self.log_dir, kind))
        return self._writers[kind]

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = dict(logs or {})
        optimizer = getattr(self.model, "optimizer", None)
        if logs and optimizer is not None:  # as Keras: the learning rate(s) with the train scalars
            log_learning_rates(optimizer, logs)
        for key, value in logs.items():
            if not isinstance(value, int | float | np.number):
                continue
            kind, name = ("validation", key[4:]) if key.startswith("val_") else ("train", key)
            self._writer(kind).add_scalar(f"epoch_{name}", float(value), epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            for w in self.model.weights:
                self._writer("train").add_histogram(w.name, np.asarray(w.data), epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs: dict | None = None) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers = {}


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                 **kwargs: Any) -> None:
        super().__init__()
        hooks = {"on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end,
                 "on_train_begin": on_train_begin, "on_train_end": on_train_end,
                 "on_train_batch_begin": on_train_batch_begin or kwargs.pop("on_batch_begin", None),
                 "on_train_batch_end": on_train_batch_end or kwargs.pop("on_batch_end", None)}
        if kwargs:
            raise TypeError(f"LambdaCallback got unknown hooks {sorted(kwargs)}.")
        for name, fn in hooks.items():
            if fn is not None:
                setattr(self, name, fn)


class ProgbarLogger(Callback):
    """``fit``'s progress display: a progress bar per epoch (``verbose=1``; one updating line in a
    terminal or a notebook, see ``unafraid.progress``)
    or one line per epoch (``verbose=2``); nothing with ``verbose=0``. ``fit`` adds it."""

    def __init__(self, refresh_every: int = 25) -> None:
        super().__init__()
        self.refresh_every = refresh_every
        self.bar: Any = None

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if self.params.get("verbose") == 1:
            from .progress import progress_bar
            self.bar = progress_bar(self.params.get("steps"),
                                    f"Epoch {epoch + 1}/{self.params['epochs']}", mininterval=0.25)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.bar is not None:
            if batch % self.refresh_every == 0 and logs:
                self.bar.set_postfix(shown(logs), refresh=False)
            self.bar.update(1)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.bar is not None:
            self.bar.set_postfix(shown(logs or {}), refresh=False)
            self._close()
        elif self.params.get("verbose") == 2 and logs:
            print(f"Epoch {epoch + 1}/{self.params['epochs']} - " + log_line(logs))

    def on_train_end(self, logs: dict | None = None) -> None:
        self._close()  # an epoch cut short (NaN, Ctrl-C, stop_training) still closes its bar

    def _close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class NaNGuard(Callback):
    """Stops ``fit`` at the first step whose loss or gradients are NaN or infinite, and puts
    back the state that step changed. ``fit`` adds it.

    Before each step it keeps what a step may change besides the trainable weights: the
    other weights (BatchNormalization's moving statistics), the random generators' positions
    (dropout masks) and the metrics. The weights and the optimizer's state need no copy:
    ``Model.train_step`` does not apply the update of a non-finite loss (and sets
    ``model.update_skipped``), and the optimizer skips any update whose gradients hold NaN or
    infinity (counting it in ``optimizer.skipped_updates``), a custom ``train_step``'s too.
    Should the weights have become non-finite anyway (finite gradients times a learning rate
    that overflows float32), the full state of the last checkpoint in memory (taken every
    ``every`` steps: weights, optimizer state, generators, metrics) is put back instead.
    """

    def __init__(self, every: int = 200) -> None:
        super().__init__()
        self.every = every

    def on_train_begin(self, logs: dict | None = None) -> None:
        model = self.model
        trainable = {id(w) for w in model.trainable_weights}
        self.others = [w for w in model.weights if id(w) not in trainable]
        self.generators = model.random_generators()  # all, for the full copy
        self.step_generators = model.step_generators()  # those a step draws from
        self.full: dict[str, Any] | None = None
        self.seen = 0

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        if self.seen % self.every == 0:
            self.full = None  # let the last copy go first: two at once would double its memory
            self.full = self._full_state()
        self.seen += 1
        self.before = self._step_state()
        self.skips = self._skipped_updates()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("loss")
        model = self.model
        skipped = (getattr(model, "update_skipped", False)  # a non-finite loss or gradient
                   or self._skipped_updates() > self.skips)
        if not skipped and (loss is None or math.isfinite(loss)):
            return
        if all(np.isfinite(w.data).all() for w in model.trainable_weights):
            self._put_back(self.before)
            restored = ("The weights are those of the last good step; BatchNormalization "
                        "statistics, random generators and metrics were put back as they were "
                        "before it.")
        else:
            self._put_back(self.full)
            restored = ("The weights had become non-finite: restored the whole state (weights, "
                        "optimizer, generators, metrics) saved in memory before batch "
                        f"{batch + 1 - (self.seen - 1) % self.every}.")
        model.stop_training = True
        what = ("the loss became NaN or infinite" if loss is None or not math.isfinite(loss)
                else f"the loss was finite ({loss:.6g}) but a gradient was NaN, infinite "
                f"or too large to square in float32")
        warnings.warn(
            f"Training stopped: {what} at epoch "
            f"{self.epoch + 1}, batch {batch + 1}. {restored} Likely causes: a learning rate "
            f"too high (try 10x smaller), unscaled inputs (scale features, e.g. x / 255.0 for "
            f"pixels), or the log of zero in a custom loss (add a small epsilon).",
            RuntimeWarning, stacklevel=2)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch = epoch

    def _skipped_updates(self) -> int:
        return getattr(self.model.optimizer, "skipped_updates", 0)

    def _step_state(self) -> dict[str, Any]:
        return {"weights": [w.data.copy() for w in self.others],
                "generators": [g.bit_generator.state for g in self.step_generators],
                "metrics": [(m, _metric_state(m)) for m in self.model.metrics]}

    def _full_state(self) -> dict[str, Any]:
        optimizer = self.model.optimizer
        return {"weights": [w.data.copy() for w in self.model.weights],
                "optimizer": optimizer.state_dict(),  # unbuilt: just its step count
                "generators": [g.bit_generator.state for g in self.generators],
                "metrics": [(m, _metric_state(m)) for m in self.model.metrics]}

    def _put_back(self, state: dict[str, Any]) -> None:
        full = "optimizer" in state
        weights = self.model.weights if full else self.others
        for w, value in zip(weights, state["weights"], strict=True):
            w.assign(value)
        if state.get("optimizer") is not None:
            optimizer = self.model.optimizer
            optimizer.load_state_dict(_as_saved(optimizer, state["optimizer"]))
        for g, value in zip(self.generators if full else self.step_generators,
                            state["generators"], strict=True):
            g.bit_generator.state = value
        for m, value in state["metrics"]:
            vars(m).update(value)


def shown(logs: dict[str, Any]) -> dict[str, Any]:
    """Logs for the progress bar: numbers as they are, arrays (one value per class) as text."""
    return {k: _array_text(v) if isinstance(v, np.ndarray) else v for k, v in logs.items()}


def log_line(logs: dict[str, Any]) -> str:
    """``loss: 0.1234 - f1_score: [0.5000, 0.2500]``: logs as one line of text."""
    return " - ".join(f"{k}: {_array_text(v) if isinstance(v, np.ndarray) else f'{v:.4f}'}"
                      for k, v in logs.items())


def _array_text(v: np.ndarray) -> str:
    return "[" + ", ".join(f"{x:.4f}" for x in v.ravel()) + "]"


def _as_saved(optimizer: Any, saved: dict[str, Any]) -> dict[str, Any]:
    """``saved`` as ``load_state_dict`` takes it. Kept before the optimizer was built (only its
    step count), it means the slots' first values, which the optimizer has since changed."""
    if optimizer.built and saved.keys() == {"iterations"}:
        return {**optimizer.initial_state(optimizer.built_variables), **saved}
    return saved


def _metric_state(metric: Any) -> dict[str, Any]:
    """A copy of a metric's accumulated state (its attributes; arrays copied)."""
    return {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in vars(metric).items()}
