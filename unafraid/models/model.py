"""``Model``: compile, fit, evaluate, predict, summary, save (Keras's API and behaviour)."""

from __future__ import annotations

import math
import signal
import threading
import warnings
from typing import Any

import numpy as np

from .. import random as _random
from ..callbacks import Callback, CallbackList, History
from ..engine.tensor import Tensor, _backward, no_grad
from ..layers.base import Layer
from . import data as _data


class Model(Layer):
    """A trainable stack of layers: subclass it, or call ``Model(inputs, outputs)``.

    Subclassing: create layers in ``__init__`` and write ``call(self, x, training=False)``.
    ``Model(inputs, outputs)`` with symbolic tensors from ``unafraid.keras.Input``
    builds a functional model (branches, several inputs or outputs).

    Examples
    --------
    >>> import unafraid as tf
    >>> class MLP(tf.keras.Model):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = tf.keras.layers.Dense(64, activation="relu")
    ...         self.out = tf.keras.layers.Dense(10)
    ...     def call(self, x, training=False):
    ...         return self.out(self.hidden(x))
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Model:
        if cls is Model and (args or "inputs" in kwargs):
            from .functional import Functional
            return super().__new__(Functional)
        return super().__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args:
            raise TypeError("Model() takes inputs and outputs only for functional models, as "
                            "Model(inputs, outputs); a subclass calls super().__init__().")
        super().__init__(**kwargs)
        self.optimizer: Any = None
        self.compiled = False
        self.stop_training = False
        self.history: History | None = None
        self._shuffle_rng = _random.make_generator()

    # ---- compile ------------------------------------------------------------------------------
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, metrics: Any = None,
                loss_weights: Any = None, weighted_metrics: Any = None, run_eagerly: bool = False,
                steps_per_execution: int = 1, jit_compile: Any = "auto",
                auto_scale_loss: bool = True) -> None:
        """Configure training: optimizer, loss and metrics, as strings or objects.

        Parameters
        ----------
        optimizer : str or Optimizer, default 'rmsprop'
            ``'adam'``, ``unafraid.keras.optimizers.Adam(1e-3)``...
        loss : str, Loss or callable
            ``'sparse_categorical_crossentropy'``, ``'mse'``... For several outputs,
            a list or a dict keyed by output name.
        loss_weights : list or dict, optional
            Weights of each output's loss in the total.
        metrics : list, optional
            ``['accuracy']`` resolves to the right accuracy for the loss, as in Keras.
            The third positional argument, as in tf.keras (``compile('adam', 'mse', ['mae'])``).

        ``run_eagerly``, ``steps_per_execution``, ``jit_compile`` are accepted for
        compatibility and change nothing: unafraid always runs eagerly.
        """
        from .. import losses as _losses
        from .. import optimizers as _optimizers
        self.optimizer = _optimizers.get(optimizer)
        self.optimizer.warm_up()  # e.g. load numba's compiled update now, not in fit's first step
        if loss_weights is not None and not isinstance(loss_weights, list | tuple | dict):
            raise TypeError(f"compile: loss_weights must be a list or dict of numbers (one per "
                            f"output), got {loss_weights!r}. Pass metrics by keyword: "
                            f"compile(optimizer, loss, metrics=[...]).")
        self._loss_spec, self._loss_weights = loss, loss_weights
        if loss is None:
            raise ValueError("compile needs a loss, e.g. loss='sparse_categorical_crossentropy' "
                             "for integer class labels or loss='mse' for regression.")
        self._losses_per_output = self._per_output(loss, "loss", _losses.get)
        _check_metric_names(metrics)  # a typo fails here, not after the first training step
        self._metric_spec = (metrics, weighted_metrics)
        self._metrics_per_output = None  # resolved once the output shapes are known
        self.compiled = True

    def _per_output(self, spec: Any, what: str, resolve: Any) -> list[Any]:
        names = self.output_names
        if isinstance(spec, dict):
            unknown = set(spec) - set(names)
            if unknown:
                raise ValueError(f"compile: {what} names {sorted(unknown)} are not outputs of "
                                 f"this model; its outputs are {names}.")
            return [resolve(spec[n]) if n in spec else None for n in names]
        if isinstance(spec, list | tuple) and len(names) > 1:
            if len(spec) != len(names):
                raise ValueError(f"compile: got {len(spec)} {what}es for {len(names)} outputs "
                                 f"{names}.")
            return [resolve(s) for s in spec]
        return [resolve(spec) for _ in names]

    @property
    def output_names(self) -> list[str]:
        """Names of the model's outputs (one for most models)."""
        return ["output"]

    def _resolve_metrics(self, y_pred: list[np.ndarray]) -> None:
        from .. import metrics as _metrics
        metrics, weighted = self._metric_spec
        per_output = []
        for k, name in enumerate(self.output_names):
            spec = metrics.get(name, []) if isinstance(metrics, dict) else (
                metrics[k] if isinstance(metrics, list | tuple) and metrics
                and isinstance(metrics[0], list | tuple) else metrics or [])
            spec = [spec] if isinstance(spec, str) or not isinstance(spec, list | tuple) else spec
            found = [_metrics.get(m, loss=self._losses_per_output[k],
                                  output_shape=y_pred[k].shape) for m in spec]
            if len(self.output_names) > 1:
                for m in found:
                    m.name = f"{name}_{m.name}"
            per_output.append(found)
        self._metrics_per_output = per_output

    def _assert_compiled(self, what: str) -> None:
        if not self.compiled:
            raise RuntimeError(f"You must call model.compile(optimizer=..., loss=...) before "
                               f"model.{what}(), e.g. model.compile('adam', "
                               f"'sparse_categorical_crossentropy', metrics=['accuracy']).")

    # ---- data -----------------------------------------------------------------------------
    def _inputs_list(self, x: Any) -> list[np.ndarray]:
        if x is None:
            raise ValueError("x is None: pass the training inputs as a NumPy array.")
        if isinstance(x, dict):
            x = [x[n] for n in self.input_names]
        xs = list(x) if isinstance(x, list | tuple) and not _looks_numeric_list(x) else [x]
        return _data.check_inputs([_data.to_array(a, "x") for a in xs])

    @property
    def input_names(self) -> list[str]:
        return ["input"]

    def _targets_list(self, y: Any, xs: list[np.ndarray] = ()) -> list[np.ndarray]:
        """Targets as arrays, refused when not finite (unless one is an input, ``xs``, and so
        already checked: an autoencoder's ``fit(x, x)``)."""
        if y is None:
            raise ValueError("y is None: fit needs targets (labels), e.g. model.fit(x, y).")
        if isinstance(y, dict):
            y = [y[n] for n in self.output_names]
        ys = list(y) if (isinstance(y, list | tuple) and len(self.output_names) > 1) else [y]
        out = []
        for a in ys:
            a = _data.to_array(a, "y")
            if not any(a is x for x in xs):
                _data.check_finite(a, "y")
            out.append(a)
        return out

    def _model_inputs(self, xs: list[Any]) -> Any:
        return xs[0] if len(xs) == 1 else xs

    def _ensure_built(self, xs: list[np.ndarray]) -> None:
        if not self.built:
            with no_grad():
                self(self._model_inputs([a[:1] for a in xs]), training=False)
        self._check_data_shape(xs)

    # ---- training ----------------------------------------------------------------------------
    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1,
            verbose: str | int = "auto", callbacks: list[Callback] | None = None,
            validation_split: float = 0.0, validation_data: Any = None, shuffle: bool = True,
            class_weight: dict[int, float] | None = None, sample_weight: Any = None,
            initial_epoch: int = 0, steps_per_epoch: int | None = None,
            validation_steps: int | None = None, validation_batch_size: int | None = None,
            validation_freq: int = 1) -> History:
        """Train for ``epochs`` passes over the data; returns a :class:`History`.

        Parameters
        ----------
        x : array (N, ...) or list / dict of arrays, or pandas / AnnData objects
            Inputs; converted to float32.
        y : array (N,) or (N, k)
            Targets: integer labels for sparse cross-entropy, one-hot rows for
            categorical cross-entropy, values for regression.
        batch_size : int, default 32
        epochs : int, default 1
            Index of the last epoch: training runs epochs ``initial_epoch`` to
            ``epochs - 1``. Calling ``fit`` again *continues* training from the
            current weights and optimizer state, as in Keras.
        verbose : 'auto', 0, 1 or 2
            0 silent, 1 a progress bar (tqdm; notebook-aware), 2 one line per epoch.
        callbacks : list of Callback
        validation_split : float, default 0
            Fraction held out for validation. Unlike Keras (which takes the last
            rows, and can hide a whole class), unafraid holds out a *seeded random,
            stratified* sample: each class in proportion, for class labels.
        validation_data : (x_val, y_val) or (x_val, y_val, sample_weight_val)
        shuffle : bool, default True
            Reshuffle the examples every epoch (from the model's seeded generator).
        class_weight : dict, optional
            ``{class: weight}`` multiplying each example's loss.
        sample_weight : array (N,), optional
        initial_epoch : int, default 0
            Epoch to start at (to resume a run).

        Returns
        -------
        History
            ``history.history`` maps ``loss``, ``accuracy``, ``val_loss``,
            ``val_accuracy``... to one value per epoch.
        """
        self._assert_compiled("fit")
        batch_size = _positive_int(32 if batch_size is None else batch_size, "batch_size")
        if isinstance(epochs, bool) or not isinstance(epochs, int | np.integer) or epochs < 1:
            raise ValueError(f"epochs must be an integer >= 1 (the number of passes over the "
                             f"data), got {epochs!r}. E.g. model.fit(x, y, epochs=10).")
        xs = self._inputs_list(x)
        ys = self._targets_list(y, xs)
        sw = None if sample_weight is None else _data.to_array(sample_weight, "sample_weight",
                                                               np.float32)
        n = _data.same_length({"x": xs[0], **{f"x[{i}]": a for i, a in enumerate(xs[1:], 1)},
                               "y": ys[0], "sample_weight": sw})
        if class_weight is not None:
            sw = _class_weights(ys[0], class_weight, sw)
        val = None
        if validation_data is not None:
            val = self._validation_arrays(validation_data)
        elif validation_split:
            tr, va = _data.stratified_split(ys[0], n, validation_split, self._shuffle_rng)
            val = ([a[va] for a in xs], [a[va] for a in ys], None if sw is None else sw[va])
            xs, ys = [a[tr] for a in xs], [a[tr] for a in ys]
            sw = None if sw is None else sw[tr]
            n = len(tr)
        self._ensure_built(xs)
        ys = self._check_targets(xs, ys)
        if validation_data is not None:  # checked now, not after the first epoch's training
            self._check_data_shape(val[0])
            val = (val[0], self._check_targets(val[0], val[1]), val[2])
        steps = math.ceil(n / batch_size) if steps_per_epoch is None else steps_per_epoch
        verbose = 1 if verbose == "auto" else int(verbose)
        history = History()
        cbs = CallbackList([history, *(callbacks or [])], self,
                           {"epochs": epochs, "steps": steps, "verbose": verbose})
        self.stop_training = False
        self.history = history
        train_vars = self.trainable_weights
        self.optimizer.build(train_vars)
        metrics = self._metrics_per_output or []
        interrupt = _InterruptFlag()
        cbs.on_train_begin()
        with interrupt:
            for epoch in range(initial_epoch, epochs):
                cbs.on_epoch_begin(epoch)
                order = self._shuffle_rng.permutation(n) if shuffle else np.arange(n)
                loss_sum, seen = 0.0, 0
                for m in (m for ms in metrics for m in ms):
                    m.reset_state()
                bar = _progress(verbose, steps, epoch, epochs)
                snapshot = [w.data.copy() for w in train_vars]
                for step in range(steps):
                    idx = order[(step * batch_size) % n:][:batch_size]
                    cbs.on_train_batch_begin(step)
                    xb = [a[idx] for a in xs]
                    yb = [_same_batch(a, xs, xb, idx) for a in ys]  # fit(x, x): one copy
                    swb = None if sw is None else sw[idx]
                    loss_value, y_pred = self._train_step(xb, yb, swb, train_vars)
                    if not math.isfinite(loss_value):
                        self._stop_on_nan(epoch, step, snapshot, train_vars, bar)
                        break
                    if step % 200 == 199:
                        snapshot = [w.data.copy() for w in train_vars]
                    loss_sum += loss_value * len(idx)
                    seen += len(idx)
                    if self._metrics_per_output is None:
                        self._resolve_metrics(y_pred)
                        metrics = self._metrics_per_output
                    for k, ms in enumerate(metrics):
                        for m in ms:
                            m.update_state(yb[k], y_pred[k], swb)
                    logs = None
                    if cbs.batch_callbacks or (bar is not None and step % 25 == 0):
                        logs = self._logs(loss_sum / seen, metrics)
                        if bar is not None:
                            bar.set_postfix(logs, refresh=False)
                    cbs.on_train_batch_end(step, logs)
                    if bar is not None:
                        bar.update(1)
                    if self.stop_training or interrupt.fired:
                        break
                else:
                    logs = self._logs(loss_sum / max(seen, 1), metrics)
                    if val is not None and (epoch + 1) % validation_freq == 0:
                        vx, vy, vsw = _unpack_validation(val)
                        val_logs = self.evaluate(vx, vy, sample_weight=vsw, verbose=0,
                                                 batch_size=validation_batch_size or batch_size,
                                                 return_dict=True)
                        logs.update({f"val_{k}": v for k, v in val_logs.items()})
                    _close(bar, logs, verbose, epoch, epochs)
                    cbs.on_epoch_end(epoch, logs)
                    if not self.stop_training and not interrupt.fired:
                        continue
                _close(bar, None, 0, epoch, epochs)
                if interrupt.fired:
                    print(f"\nTraining interrupted during epoch {epoch + 1}, after batch "
                          f"{step + 1}/{steps}. The model keeps the weights of the last "
                          f"completed step; History covers the {len(history.epoch)} completed "
                          f"epoch(s). To resume: model.fit(x, y, epochs={epochs}, "
                          f"initial_epoch={epoch}).")
                break
        cbs.on_train_end()
        return history

    def _train_step(self, xb: list[np.ndarray], yb: list[np.ndarray], swb: Any,
                    train_vars: list[Any]) -> tuple[float, list[np.ndarray]]:
        """One step: forward, loss, backward, optimizer update. Returns the loss and predictions.

        A non-finite loss skips the update, so the weights stay those of the last good step.
        """
        y_pred = self(self._model_inputs(xb), training=True)
        preds = list(y_pred) if isinstance(y_pred, list | tuple) else [y_pred]
        loss = self._total_loss(yb, preds, swb)
        value = float(loss.data)
        if loss.requires_grad and math.isfinite(value):
            grads = _backward([loss], [None], train_vars)
            self.optimizer.apply(grads, train_vars)
        return value, [p.data for p in preds]

    def _total_loss(self, ys: list[np.ndarray], preds: list[Tensor], sw: Any) -> Tensor:
        total: Any = None
        weights = self._loss_weights
        for k, (loss_fn, y, p) in enumerate(zip(self._losses_per_output, ys, preds, strict=True)):
            if loss_fn is None:
                continue
            value = loss_fn(y, p, sample_weight=sw)
            w = (weights.get(self.output_names[k], 1.0) if isinstance(weights, dict)
                 else weights[k] if weights is not None else 1.0)
            value = value * w if w != 1.0 else value
            total = value if total is None else total + value
        for penalty in self.losses:
            total = penalty if total is None else total + penalty
        if total is None:
            raise ValueError("No loss to minimise: every output's loss is None in compile().")
        return total if isinstance(total, Tensor) else Tensor(np.float32(total))

    def _stop_on_nan(self, epoch: int, step: int, snapshot: list[np.ndarray],
                     train_vars: list[Any], bar: Any) -> None:
        restored = ""
        if not all(np.isfinite(w.data).all() for w in train_vars):
            for w, s in zip(train_vars, snapshot, strict=True):
                w.assign(s)
            restored = " The weights had become non-finite; restored the last finite ones."
        self.stop_training = True
        _close(bar, None, 0, epoch, 0)
        warnings.warn(
            f"Training stopped: the loss became NaN or infinite at epoch {epoch + 1}, batch "
            f"{step + 1}.{restored} Likely causes: a learning rate too high (try 10x smaller), "
            f"unscaled inputs (scale features, e.g. x / 255.0 for pixels), or the log of zero "
            f"in a custom loss (add a small epsilon).", RuntimeWarning, stacklevel=3)

    def _logs(self, loss: float, metrics: list[list[Any]]) -> dict[str, float]:
        logs = {"loss": float(loss)}
        for ms in metrics:
            for m in ms:
                logs[m.name] = float(m.result())
        return logs

    def _validation_arrays(self, validation_data: Any) -> tuple[Any, Any, Any]:
        """``validation_data`` converted and checked once, before training (not after an epoch)."""
        vx, vy, vsw = _unpack_validation(validation_data)
        if isinstance(vx, dict):
            vx = [vx[k] for k in self.input_names]
        xs = _data.check_inputs([_data.to_array(a, "validation x") for a in (
            list(vx) if isinstance(vx, list | tuple) and not _looks_numeric_list(vx) else [vx])],
            "validation x")
        ys = self._targets_list(vy)
        sw = None if vsw is None else _data.to_array(vsw, "validation sample_weight", np.float32)
        _data.same_length({"validation x": xs[0], "validation y": ys[0],
                           "validation sample_weight": sw})
        return xs, ys, sw

    def _check_data_shape(self, xs: list[np.ndarray]) -> None:
        """Compare the data with the input shape the model was built for (Sequential overrides)."""

    def _check_targets(self, xs: list[np.ndarray], ys: list[np.ndarray]) -> list[np.ndarray]:
        """Check targets against the model's outputs once, before training starts (``ys``
        come from ``_targets_list``, which has refused NaN and inf already)."""
        from .. import losses as _losses
        with no_grad():
            out = self(self._model_inputs([a[:2] for a in xs]), training=False)
        outs = list(out) if isinstance(out, list | tuple) else [out]
        if len(ys) != len(outs):
            raise ValueError(f"The model has {len(outs)} outputs ({self.output_names}) but y "
                             f"holds {len(ys)} target arrays.")
        checked = []
        for k, (loss_fn, y, o) in enumerate(zip(self._losses_per_output, ys, outs, strict=True)):
            check = getattr(_losses, "check_targets", None)
            y = check(loss_fn, y, o.shape, output_name=self.output_names[k],
                      finite_checked=True) if (check and loss_fn is not None) else y
            checked.append(y)
        return checked

    # ---- evaluation and prediction ----------------------------------------------------------
    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = None,
                 verbose: str | int = "auto", sample_weight: Any = None,
                 steps: int | None = None, callbacks: Any = None,
                 return_dict: bool = False) -> Any:
        """Loss and metrics on ``(x, y)``, in inference mode.

        Returns
        -------
        float, list of float, or dict
            The loss alone when there are no metrics; else ``[loss, metric...]``;
            with ``return_dict=True``, ``{'loss': ..., 'accuracy': ...}``.
        """
        self._assert_compiled("evaluate")
        batch_size = _positive_int(32 if batch_size is None else batch_size, "batch_size")
        xs = self._inputs_list(x)
        ys = self._targets_list(y, xs)
        sw = None if sample_weight is None else _data.to_array(sample_weight, "sample_weight",
                                                               np.float32)
        n = _data.same_length({"x": xs[0], "y": ys[0], "sample_weight": sw})
        self._ensure_built(xs)
        ys = self._check_targets(xs, ys)
        loss_sum, preds = 0.0, []
        with no_grad():
            for start in range(0, n, batch_size):
                sl = slice(start, start + batch_size)
                out = self(self._model_inputs([a[sl] for a in xs]), training=False)
                outs = list(out) if isinstance(out, list | tuple) else [out]
                loss = self._total_loss([a[sl] for a in ys], outs, None if sw is None else sw[sl])
                loss_sum += float(loss.data) * len(ys[0][sl])
                preds.append([o.data for o in outs])
        pred = [np.concatenate([p[k] for p in preds]) for k in range(len(preds[0]))]
        if self._metrics_per_output is None:
            self._resolve_metrics(pred)
        logs = {"loss": loss_sum / n}
        for k, ms in enumerate(self._metrics_per_output):
            for m in ms:
                m.reset_state()
                m.update_state(ys[k], pred[k], sw)
                logs[m.name] = float(m.result())
        if verbose not in (0, "0"):
            print(" - ".join(f"{k}: {v:.4f}" for k, v in logs.items()))
        if return_dict:
            return logs
        return logs["loss"] if len(logs) == 1 else list(logs.values())

    def predict(self, x: Any, batch_size: int | None = None, verbose: str | int = "auto",
                steps: int | None = None, callbacks: Any = None) -> Any:
        """Model outputs for ``x`` as NumPy arrays, computed in batches, in inference mode.

        Returns
        -------
        ndarray (N, ...) float32, or a list of them for several outputs.
        """
        batch_size = _positive_int(32 if batch_size is None else batch_size, "batch_size")
        xs = [_data.to_array(a, "x") for a in (
            list(x) if isinstance(x, list | tuple) and not _looks_numeric_list(x) else [x])]
        if not self.built and not getattr(self, "_build_shape", None):
            self._ensure_built([a.astype(np.float32) for a in xs])
        else:
            self._check_data_shape(xs)
        n = len(xs[0])
        chunks = []
        with no_grad():
            for start in range(0, n, batch_size):
                out = self(self._model_inputs([a[start:start + batch_size] for a in xs]),
                           training=False)
                chunks.append([o.data for o in out] if isinstance(out, list | tuple)
                              else [out.data])
        if not chunks:
            raise ValueError("predict got no examples (x is empty).")
        result = [np.concatenate([c[k] for c in chunks]) for k in range(len(chunks[0]))]
        return result[0] if len(result) == 1 else result

    def predict_on_batch(self, x: Any) -> Any:
        """Outputs for one batch, as NumPy."""
        return self.predict(x, batch_size=max(1, len(x)))

    def train_on_batch(self, x: Any, y: Any, sample_weight: Any = None) -> float:
        """One optimizer step on one batch; returns the loss."""
        self._assert_compiled("train_on_batch")
        xs = self._inputs_list(x)
        ys = self._targets_list(y, xs)
        self._ensure_built(xs)
        train_vars = self.trainable_weights
        self.optimizer.build(train_vars)
        sw = None if sample_weight is None else np.asarray(sample_weight, np.float32)
        return self._train_step(xs, ys, sw, train_vars)[0]

    # ---- inspection -----------------------------------------------------------------------------
    @property
    def layers(self) -> list[Layer]:
        """The model's layers, in order."""
        return list(self._layers)

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A layer by name or position."""
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No layer named '{name}'. Layers: {[lay.name for lay in self.layers]}.")

    def summary(self, print_fn: Any = None, line_length: int = 80) -> None:
        """Print the layers, their output shapes and parameter counts, as Keras does."""
        from .summary import summary_text
        (print_fn or print)(summary_text(self, line_length))

    # ---- saving --------------------------------------------------------------------------------
    def save(self, filepath: Any, overwrite: bool = True) -> None:
        """Save architecture, weights, optimizer and random state to one file (atomically).

        The file is a safetensors file whose JSON header holds the architecture
        and training configuration: no pickle, no code. Load it with
        ``unafraid.keras.models.load_model``.
        """
        from ..io.saving import save_model
        save_model(self, filepath, overwrite=overwrite)

    def export(self, filepath: Any, format: str = "onnx", **kwargs: Any) -> None:  # noqa: A002
        """Write the inference graph for serving: ``format='onnx'`` (see ``unafraid.io.onnx``).

        The batch dimension stays dynamic; ``onnxruntime`` then predicts what
        ``predict`` does. Needs the ``onnx`` package (``pip install unafraid[onnx]``).
        """
        if format != "onnx":
            raise ValueError(f"export: format={format!r} is not available in unafraid; use "
                             f"format='onnx' (TensorFlow SavedModel needs TensorFlow: save as "
                             f"'.keras' and export from Keras).")
        from ..io.onnx import export
        export(self, filepath, **kwargs)

    def save_weights(self, filepath: Any, overwrite: bool = True) -> None:
        """Save the weights only (safetensors, atomically)."""
        from ..io.saving import save_weights
        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath: Any) -> None:
        """Load weights saved by ``save_weights`` or ``save`` (checked by name and shape)."""
        from ..io.saving import load_weights
        load_weights(self, filepath)

    def get_compile_config(self) -> dict[str, Any] | None:
        """The compile arguments as JSON-serialisable data."""
        if not self.compiled:
            return None
        from .. import losses as _losses
        from .. import metrics as _metrics
        from .. import optimizers as _optimizers
        metrics, weighted = self._metric_spec
        return {"optimizer": _optimizers.serialize(self.optimizer),
                "loss": _serialize_spec(self._loss_spec, _losses.serialize),
                "loss_weights": self._loss_weights,
                "metrics": _serialize_spec(metrics, _metrics.serialize)}

    def compile_from_config(self, config: dict[str, Any]) -> None:
        """Re-compile from ``get_compile_config()``'s output."""
        from .. import optimizers as _optimizers
        self.compile(optimizer=_optimizers.get(config["optimizer"]), loss=config["loss"],
                     loss_weights=config.get("loss_weights"), metrics=config.get("metrics"))


def _serialize_spec(spec: Any, serialize: Any) -> Any:
    if spec is None or isinstance(spec, str):
        return spec
    if isinstance(spec, dict):
        return {k: _serialize_spec(v, serialize) for k, v in spec.items()}
    if isinstance(spec, list | tuple):
        return [_serialize_spec(v, serialize) for v in spec]
    return serialize(spec)


def _check_metric_names(spec: Any) -> None:
    """Resolve every metric given by name once, so that unknown names are refused at compile."""
    from .. import metrics as _metrics
    items = list(spec.values()) if isinstance(spec, dict) else [spec]
    while items:
        item = items.pop()
        if isinstance(item, list | tuple):
            items.extend(item)
        elif isinstance(item, str) and item.lower() not in ("accuracy", "acc"):
            _metrics.get(item)


def _looks_numeric_list(x: Any) -> bool:
    """A plain list of numbers or of equal-length rows is one array, not several inputs."""
    return bool(x) and not any(isinstance(v, np.ndarray | Tensor) or hasattr(v, "to_numpy")
                               for v in x)


def _positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
        raise ValueError(f"{what} must be a positive integer (a number of examples), got "
                         f"{value!r}. E.g. {what}=32 (the default).")
    return int(value)


def _class_weights(y: np.ndarray, class_weight: dict[int, float], sw: Any) -> np.ndarray:
    labels = y.reshape(len(y), -1)
    labels = labels[:, 0] if labels.shape[1] == 1 else labels.argmax(1)
    labels = labels.astype(np.int64)
    missing = sorted(set(np.unique(labels).tolist()) - set(class_weight))
    if missing:
        raise ValueError(f"class_weight has no weight for classes {missing}. Give every class a "
                         f"weight, e.g. {{c: 1.0 for c in range(n_classes)}}.")
    w = np.array([class_weight[int(c)] for c in labels], np.float32)
    return w if sw is None else w * sw


def _unpack_validation(val: Any) -> tuple[Any, Any, Any]:
    if not isinstance(val, list | tuple) or len(val) not in (2, 3):
        got = (f"a {type(val).__name__} of length {len(val)}" if isinstance(val, list | tuple)
               else f"{type(val).__name__}" + (f" of shape {val.shape}" if hasattr(val, "shape")
                                               else ""))
        raise ValueError(f"validation_data must be a tuple (x_val, y_val) or (x_val, y_val, "
                         f"sample_weight_val), got {got}. E.g. model.fit(x, y, "
                         f"validation_data=(x_val, y_val)), or validation_split=0.2 to hold out "
                         f"part of x.")
    vx, vy = val[0], val[1]
    vsw = val[2] if len(val) == 3 else None
    if isinstance(vx, list) and len(vx) == 1:
        vx = vx[0]
    if isinstance(vy, list) and len(vy) == 1:
        vy = vy[0]
    return vx, vy, vsw


def _same_batch(a: np.ndarray, xs: list[np.ndarray], xb: list[np.ndarray], idx: Any) -> np.ndarray:
    """``a[idx]``, reusing the input batch when ``a`` is one of the inputs (an autoencoder's
    ``fit(x, x)``): neither the model nor the loss changes its arguments."""
    for x, batch in zip(xs, xb, strict=True):
        if a is x:
            return batch
    return a[idx]


class _InterruptFlag:
    """During fit, Ctrl-C finishes the current step instead of breaking it in half."""

    def __init__(self) -> None:
        self.fired = False
        self.previous: Any = None

    def __enter__(self) -> _InterruptFlag:
        # Only in the main thread (Python's rule), and only over a handler we can put back: not
        # where SIGINT is ignored on purpose (a background job started with '&' inherits it
        # ignored) nor where C code installed one (getsignal gives None): those are kept.
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) not in (signal.SIG_IGN, None)):
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.fired:  # a second Ctrl-C interrupts at once
            raise KeyboardInterrupt
        self.fired = True

    def __exit__(self, *exc: Any) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def _progress(verbose: int, steps: int, epoch: int, epochs: int) -> Any:
    if verbose != 1:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=steps, desc=f"Epoch {epoch + 1}/{epochs}", unit="step",
                dynamic_ncols=True, leave=True, mininterval=0.25)


def _close(bar: Any, logs: dict | None, verbose: int, epoch: int, epochs: int) -> None:
    if bar is not None:
        if logs:
            bar.set_postfix(logs, refresh=False)
        bar.close()
    elif verbose == 2 and logs:
        print(f"Epoch {epoch + 1}/{epochs} - " + " - ".join(f"{k}: {v:.4f}"
                                                          for k, v in logs.items()))

