"""Training, as Keras structures it: ``compile``, then ``fit`` = a loop over ``train_step``.

``fit`` is a short loop: for each epoch, for each batch, ``train_step(batch)``, with
callbacks around it. One training step reads as the math::

    y_pred = model(x, training=True)                  # forward
    loss = model.compute_loss(x, y, y_pred, w)        # loss (plus regularisation)
    grads = gradients(loss, model.trainable_weights)  # backward: the chain-rule loop
    optimizer.apply(grads, model.trainable_weights)   # update
    return model.compute_metrics(x, y, y_pred, w)     # logs

``train_step`` is public: subclass ``Model`` and override it to change what ``fit``
does (Keras's "customizing what happens in fit"). The progress bar, the NaN guard,
Ctrl-C and validation live beside the loop, each in its own small piece.

``compile(jit_compile=...)``: the default ``train_step`` can be recorded once per
batch signature and replayed (:class:`CompiledTrainStep`, on ``engine/record.py``),
giving the same bits as the eager step.
"""

from __future__ import annotations

import math
import signal
import threading
from typing import Any

import numpy as np

from ..allocator import keep_freed_memory
from ..callbacks import Callback, CallbackList, History, NaNGuard, ProgbarLogger, log_line
from ..compat import CompiledLoss, CompiledMetrics
from ..engine import Tensor, gradients, no_grad
from ..engine.blas import blas_threads_for, limited
from ..engine.record import Compiled
from ..layers.base import Layer, added_metrics
from ..layers.masking import apply_mask, keras_mask, makes_masks
from ..optimizers import Optimizer
from . import data as _data
from .batches import (
    ArrayBatches,
    IterableBatches,
    batch_in_model_order,
    is_batch_source,
    one_or_list,
    pack_x_y_sample_weight,
    unpack_x_y_sample_weight,
)


class Trainer:
    """The training half of ``Model``: compile, fit, evaluate, predict and their steps."""

    # ---- compile ----------------------------------------------------------------------------
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, metrics: Any = None,
                loss_weights: Any = None, weighted_metrics: Any = None, run_eagerly: bool = False,
                steps_per_execution: int = 1, jit_compile: Any = "auto",
                auto_scale_loss: bool = True) -> None:
        """Configure training: optimizer, loss and metrics, as strings or objects.

        Parameters
        ----------
        optimizer : str or Optimizer, default 'rmsprop'
            ``'adam'``, ``unafraid.keras.optimizers.Adam(1e-3)``...
        loss : str, Loss or callable, optional
            ``'sparse_categorical_crossentropy'``, ``'mse'``... For several outputs, a list or
            a dict keyed by output name. ``None`` when the loss comes from ``add_loss`` or an
            overridden ``train_step``.
        metrics : list, optional
            ``['accuracy']`` resolves to the right accuracy for the loss, as in Keras.
            Computed without sample weights.
        loss_weights : list or dict, optional
            Weights of each output's loss in the total.
        weighted_metrics : list, optional
            Metrics computed with the sample weights (``sample_weight``, ``class_weight``).
        run_eagerly : bool, default False
            True never replays a recorded step (the same as ``jit_compile=False``).
        steps_per_execution : int, default 1
            Only 1 is supported (unafraid runs one step per call).
        jit_compile : 'auto', True or False, default 'auto'
            Record the training step once per batch signature and replay it (same bits,
            less Python per step; see docs/training.md). ``'auto'`` does so when every layer
            and loss is one of unafraid's own (their Python is known not to branch on the
            data); True also for custom layers and losses; False never.
        auto_scale_loss : bool, default True
            Accepted for Keras compatibility (no mixed precision in unafraid).
        """
        from .. import metrics as _metrics
        from .. import optimizers as _optimizers
        _check_compile_args(loss_weights, steps_per_execution, jit_compile)
        if optimizer is None:
            raise ValueError("compile(optimizer=None): fit needs an optimizer. Pass a name such as "
                             "'adam' or an optimizer such as unafraid.optimizers.Adam(1e-3).")
        self.optimizer = _optimizers.get(optimizer)
        self.optimizer.warm_up()  # e.g. load numba's compiled update now, not in fit's first step
        self._loss_spec, self._loss_weights = loss, loss_weights
        self._losses_per_output = self._per_output(loss, "loss", _resolve_loss)
        _check_metric_names(metrics)  # a typo fails here, not after the first training step
        _check_metric_names(weighted_metrics)
        self._metric_spec = (metrics, weighted_metrics)
        self._metrics_per_output = None  # resolved once the output shapes are known
        self._loss_tracker = _metrics.Mean(name="loss")
        self._jit_compile = False if run_eagerly else jit_compile
        self._train_function = None
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

    def _resolve_metrics(self, y_pred: list[Any]) -> None:
        """Metric objects per output, once the output shapes are known (``'accuracy'`` needs them)."""
        from .. import metrics as _metrics
        per_output = []
        for k, name in enumerate(self.output_names):
            found = []
            for spec, weighted in zip(self._metric_spec, (False, True), strict=True):
                for m in _metrics_for_output(spec, k, name):
                    metric = _metrics.get(m, loss=self._losses_per_output[k],
                                          output_shape=np.shape(y_pred[k]))
                    if metric is None:  # Keras's words, then the fix
                        raise ValueError(f"Expected metric, received `None` in compile(metrics=...) "
                                         f"for output '{name}'. Remove the None from the list.")
                    if len(self.output_names) > 1:
                        metric.name = f"{name}_{metric.name}"
                    if weighted and any(metric.name == f.name for f, _ in found):
                        metric.name = f"weighted_{metric.name}"  # 'accuracy' in both lists
                    found.append((metric, weighted))
            per_output.append(found)
        self._metrics_per_output = per_output

    def _assert_compiled(self, what: str) -> None:
        if not getattr(self, "compiled", False):
            raise RuntimeError(f"You must call model.compile(optimizer=..., loss=...) before "
                               f"model.{what}(), e.g. model.compile('adam', "
                               f"'sparse_categorical_crossentropy', metrics=['accuracy']).")

    # ---- one step -----------------------------------------------------------------------------
    def train_step(self, data: Any) -> dict[str, float]:
        """One optimizer step on one batch; returns the logs (metric name -> running value).

        ``data`` is ``(x, y)`` or ``(x, y, sample_weight)``. Override it to customise
        ``fit``; ``self.compute_loss``, ``self.optimizer`` and ``self.compute_metrics``
        are there to use. A non-finite loss or gradient leaves the weights and the
        optimizer as they were and sets ``self.update_skipped`` (``fit``'s NaN guard then
        stops training).
        """
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=True)                                   # forward
        loss = self.compute_loss(x, y, y_pred, sample_weight)             # loss
        weights = self.trainable_weights
        grads = gradients(self.optimizer.scale_loss(loss), weights)       # backward
        loss_value = float(loss.data)
        self.update_skipped = not apply_if_finite(self.optimizer, loss_value, grads, weights)  # update
        self._loss_tracker.update_state(loss_value, sample_weight=_batch_size(x))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def test_step(self, data: Any) -> dict[str, float]:
        """Loss and metrics on one batch, in inference mode; returns the running logs."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(x, y, y_pred, sample_weight, training=False)
        self._loss_tracker.update_state(float(loss.data), sample_weight=_batch_size(x))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data: Any) -> Any:
        """The model's outputs for one batch, in inference mode."""
        x, _, _ = unpack_x_y_sample_weight(data)
        return self(x, training=False)

    def compute_loss(self, x: Any = None, y: Any = None, y_pred: Any = None,
                     sample_weight: Any = None, training: bool = True) -> Tensor:
        """The total loss: each output's loss (times its ``loss_weights``) plus ``self.losses``.

        Returns
        -------
        Tensor
            A scalar, differentiable with respect to the weights.
        """
        preds = list(y_pred) if isinstance(y_pred, list | tuple) else [y_pred]
        ys = [None] * len(preds) if y is None else (
            list(y) if isinstance(y, list | tuple) and len(preds) > 1 else [y])
        total: Any = None
        for k, (loss_fn, target, p) in enumerate(zip(self._losses_per_output, ys, preds,
                                                     strict=True)):
            if loss_fn is None:
                continue
            if target is None:
                raise ValueError(f"The loss of output '{self.output_names[k]}' needs targets: "
                                 f"pass y to fit, or compile with loss=None and use add_loss.")
            value = loss_fn(target, p, sample_weight=sample_weight)
            w = self._output_loss_weight(k)
            total = _plus(total, value * w if w != 1.0 else value)
        for penalty in self.losses:
            total = _plus(total, penalty)
        if total is None:
            raise ValueError("No loss to minimise: compile() was given no loss and the model adds "
                             "none (add_loss). Pass one, e.g. loss='sparse_categorical_crossentropy' "
                             "for integer class labels or loss='mse' for regression.")
        return total if isinstance(total, Tensor) else Tensor(np.float32(total))

    def _output_loss_weight(self, k: int) -> float:
        weights = self._loss_weights
        if isinstance(weights, dict):
            return weights.get(self.output_names[k], 1.0)
        return 1.0 if weights is None else weights[k]

    def compute_metrics(self, x: Any, y: Any, y_pred: Any, sample_weight: Any = None
                        ) -> dict[str, float]:
        """Update the compiled metrics with one batch; return every metric's running value."""
        outs = y_pred if isinstance(y_pred, list | tuple) else [y_pred]
        masks = [keras_mask(p) for p in outs]  # Keras's masks weight the metrics too (k17c)
        preds = [p.data if isinstance(p, Tensor) else p for p in outs]
        if y is not None:
            if self._metrics_per_output is None:
                self._resolve_metrics(preds)
            ys = list(y) if isinstance(y, list | tuple) and len(preds) > 1 else [y]
            for metrics, target, p, mask in zip(self._metrics_per_output, ys, preds, masks,
                                                strict=True):
                for m, weighted in metrics:
                    m.update_state(target, p, apply_mask(sample_weight if weighted else None, mask))
        return self.get_metrics_result()

    @property
    def metrics(self) -> list[Any]:
        """The loss tracker, the compiled metrics and those of ``add_metric`` (Keras's
        ``model.metrics``; ``fit`` logs and resets them all)."""
        made = added_metrics(self)
        if not getattr(self, "compiled", False):
            return made
        found = [m for ms in self._metrics_per_output or [] for m, _ in ms]
        return [self._loss_tracker, *found, *made]

    @property
    def compiled_loss(self) -> CompiledLoss:
        """tf.keras 2's ``model.compiled_loss(y, y_pred, sample_weight, regularization_losses)``
        (see ``unafraid.compat``); Keras 3 code calls ``self.compute_loss`` instead."""
        return CompiledLoss(self)

    @property
    def compiled_metrics(self) -> CompiledMetrics:
        """tf.keras 2's ``model.compiled_metrics.update_state(y, y_pred)`` (see
        ``unafraid.compat``); Keras 3 code calls ``self.compute_metrics`` instead."""
        return CompiledMetrics(self)

    @property
    def metrics_names(self) -> list[str]:
        """Names of ``metrics``, as in the logs."""
        return [m.name for m in self.metrics]

    def _epoch_logs(self, last: dict[str, Any]) -> dict[str, float]:
        """The epoch's logs: the metrics' results, or the last step's logs when an overridden
        ``train_step`` reports values of its own (as Keras does)."""
        results = self.get_metrics_result()
        if set(last) <= set(results):
            return results
        return {k: float(v.data if isinstance(v, Tensor) else v) for k, v in last.items()}

    def get_metrics_result(self) -> dict[str, float]:
        """Each metric's current value, by name."""
        return {m.name: log_value(m.result()) for m in self.metrics}

    def reset_metrics(self) -> None:
        """Clear every metric's state (``fit`` does so at each epoch's start)."""
        for m in self.metrics:
            m.reset_state()

    def make_train_function(self) -> Any:
        """What ``fit`` calls per batch: ``train_step``, or its compiled replay when allowed."""
        if self._train_function is None:
            self._train_function = (CompiledTrainStep(self) if self._replays_train_step()
                                    else self.train_step)
        return self._train_function

    def _replays_train_step(self) -> bool:
        if self._jit_compile is False or type(self).train_step is not Trainer.train_step:
            return False  # an overridden train_step runs as written
        if getattr(self.optimizer, "loss_scale_factor", None) is not None:
            return False  # the recording would not call scale_loss, which apply checks
        if makes_masks(self._flat_layers()):
            return False  # the replay returns no masks, which the metrics need
        if self._jit_compile == "auto":
            parts = [*self._flat_layers(), *self._losses_per_output]
            return all(_is_builtin(p) for p in parts if p is not None)
        return True

    # ---- the loops ----------------------------------------------------------------------------
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
        x : array (N, ...), list / dict of arrays, pandas / AnnData objects, or batches
            Inputs (converted to float32); or a ``tf.data``-style Dataset, a generator, a
            ``keras.utils.PyDataset`` or any iterable of ``(x, y[, sample_weight])`` batches
            (then ``y``, ``batch_size`` and ``sample_weight`` are not given).
        y : array (N,) or (N, k)
            Targets: integer labels for sparse cross-entropy, one-hot rows for categorical
            cross-entropy, values for regression.
        batch_size : int, default 32
        epochs : int, default 1
            Index of the last epoch: training runs epochs ``initial_epoch`` to ``epochs - 1``.
            Calling ``fit`` again *continues* from the current weights and optimizer state.
        verbose : 'auto', 0, 1 or 2
            0 silent, 1 a progress bar, 2 one line per epoch.
        callbacks : list of Callback
        validation_split : float, default 0
            Fraction held out for validation: unlike Keras (the last rows), a *seeded random,
            stratified* sample (each class in proportion, for class labels).
        validation_data : (x_val, y_val), (x_val, y_val, sample_weight_val), or batches
        shuffle : bool, default True
            Reshuffle the examples every epoch (from the model's seeded generator).
        class_weight : dict, optional
            ``{class: weight}`` multiplying each example's loss (and weighted metrics).
        sample_weight : array (N,), optional
        initial_epoch : int, default 0
            Epoch to start at (to resume a run).
        steps_per_epoch : int, optional
            Batches per epoch (needed for an endless dataset).
        validation_steps : int, optional
            Validation batches per evaluation (default: all).
        validation_batch_size : int, optional
            Batch size for validation arrays (default: ``batch_size``).
        validation_freq : int, default 1
            Validate after every ``validation_freq``-th epoch.

        Returns
        -------
        History
            ``history.history`` maps ``loss``, ``accuracy``, ``val_loss``... to one value per
            epoch.
        """
        self._assert_compiled("fit")
        _check_epochs(epochs, initial_epoch, validation_freq)
        batches, validation = self._fit_data(x, y, batch_size, validation_split, validation_data,
                                             shuffle, class_weight, sample_weight, steps_per_epoch)
        verbose = 1 if verbose == "auto" else int(verbose)
        history = History()
        cbs = CallbackList([history, NaNGuard(), *(callbacks or []), ProgbarLogger()], self,
                           {"epochs": epochs, "steps": batches.steps, "verbose": verbose})
        train_function = self.make_train_function()
        self.stop_training, self.history = False, history
        epoch, step, logs = initial_epoch, -1, {}
        threads = blas_threads_for(self.weights, batch_size or 32)
        keep_freed_memory(self.weights)  # a convnet's steps reuse freed memory (allocator.py)
        with Interruption() as interrupt, limited(threads):
            cbs.on_train_begin()
            for epoch in range(initial_epoch, epochs):
                self.reset_metrics()
                cbs.on_epoch_begin(epoch)
                for step, batch in enumerate(batches.epoch()):
                    cbs.on_train_batch_begin(step)
                    logs = plain_logs(train_function(batch_in_model_order(self, batch)))
                    cbs.on_train_batch_end(step, logs)
                    if self.stop_training or interrupt.fired:
                        break
                else:  # the whole epoch ran: validate, then the epoch's callbacks
                    logs = self._epoch_logs(logs)
                    if validation is not None and (epoch + 1) % validation_freq == 0:
                        cbs.on_test_begin()  # as Keras's evaluate within fit (SwapEMAWeights)
                        try:
                            logs.update(self._validate(validation, validation_steps,
                                                       validation_batch_size or batch_size))
                        finally:
                            cbs.on_test_end()
                    cbs.on_epoch_end(epoch, logs)
                if self.stop_training or interrupt.fired:
                    break
            if interrupt.fired:
                interrupt.advise(history, epoch, step, batches.steps, epochs)
            self.optimizer.finalize_variable_values(self.trainable_weights)  # use_ema: the averages
            cbs.on_train_end()
        return history

    def _fit_data(self, x: Any, y: Any, batch_size: int | None, validation_split: float,
                  validation_data: Any, shuffle: bool, class_weight: Any, sample_weight: Any,
                  steps_per_epoch: int | None) -> tuple[Any, Any]:
        """The training batches and the validation data, checked before the first step."""
        if is_batch_source(x):
            _check_batch_source_args(y, batch_size, sample_weight, validation_split, class_weight)
            batches = IterableBatches(x, steps_per_epoch)
            self._build_from_first_batch(batches)
            return batches, self._validation_source(validation_data)
        batch_size = _positive_int(32 if batch_size is None else batch_size, "batch_size")
        xs = self._inputs_list(x)
        ys = self._targets_if_needed(y, xs)
        sw = None if sample_weight is None else _data.to_array(sample_weight, "sample_weight",
                                                               np.float32)
        n = _data.same_length({"x": xs[0], **{f"x[{i}]": a for i, a in enumerate(xs[1:], 1)},
                               "y": ys[0] if ys else None, "sample_weight": sw})
        if class_weight is not None:
            _data.check_class_weight(class_weight, self._losses_per_output[0])
            sw = _class_weights(ys[0], class_weight, sw)
        validation = self._validation_source(validation_data)
        if validation is None and validation_split:
            tr, va = _data.stratified_split(ys[0] if ys else None, n, validation_split,
                                            self._shuffle_rng)
            validation = ([a[va] for a in xs], [a[va] for a in ys], None if sw is None else sw[va])
            xs, ys, sw = [a[tr] for a in xs], [a[tr] for a in ys], None if sw is None else sw[tr]
        self._ensure_built(xs)
        ys = self._check_targets(xs, ys) if ys else ys
        self._prepare_metrics(xs)
        if isinstance(validation, tuple):  # checked now, not after the first epoch's training
            self._check_data_shape(validation[0])
            checked = self._check_targets(validation[0], validation[1]) if validation[1] else []
            validation = (validation[0], checked, validation[2])
        return ArrayBatches(xs, ys, sw, batch_size, shuffle, self._shuffle_rng,
                            steps_per_epoch), validation

    def _targets_if_needed(self, y: Any, xs: list[np.ndarray]) -> list[np.ndarray]:
        """``y`` as checked arrays; none when ``y`` is None and ``compile`` was given no loss
        (the loss comes from ``add_loss``: ``fit(x)`` needs no targets, as in Keras)."""
        if y is None and all(loss is None for loss in self._losses_per_output):
            return []
        ys = self._targets_list(y, xs)
        _data.check_swapped(xs[0], ys[0], self._example_shape())
        return ys

    def _defines_call(self) -> bool:
        """False for a model that only overrides ``train_step`` (Keras's GAN example: two
        sub-models, no ``call``): there is nothing to build or to resolve metrics from."""
        return type(self).call is not Layer.call

    def _build_from_first_batch(self, batches: IterableBatches) -> None:
        if not self._defines_call():
            return
        if not self.built or self._metrics_per_output is None:
            first = batches.peek()  # a generator's first batch is put back
            if first is None and self.built:
                return
            if first is None:
                raise ValueError("fit got a dataset or generator with no batches, and the model "
                                 "is not built yet. Give the first layer input_shape=..., or call "
                                 "model.build().")
            x, _, _ = unpack_x_y_sample_weight(batch_in_model_order(self, first))
            xs = [_data.to_array(a, "x") for a in (x if isinstance(x, list | tuple) else [x])]
            self._ensure_built(xs)
            self._prepare_metrics(xs)

    def _prepare_metrics(self, xs: list[np.ndarray]) -> None:
        """Resolve the compiled metrics before the first step, so ``self.metrics`` lists them
        all in an overridden ``train_step`` too."""
        if self._metrics_per_output is None and self._defines_call():
            with no_grad():
                out = self(self._model_inputs([a[:1] for a in xs]), training=False)
            self._resolve_metrics([o.data for o in _as_list(out)])

    def _validation_source(self, validation_data: Any) -> Any:
        if validation_data is None:
            return None
        if is_batch_source(validation_data):
            return validation_data
        return self._validation_arrays(validation_data)

    def _validate(self, validation: Any, steps: int | None, batch_size: int | None) -> dict:
        """``val_`` logs: the validation data evaluated with the current weights."""
        if isinstance(validation, tuple):
            vx, vy, vsw = validation
            logs = self.evaluate(one_or_list(vx), one_or_list(vy) if vy else None,
                                 sample_weight=vsw, verbose=0,
                                 batch_size=batch_size, steps=steps, return_dict=True,
                                 _checked=True)
        else:
            logs = self.evaluate(validation, verbose=0, steps=steps, return_dict=True)
        return {f"val_{k}": v for k, v in logs.items()}

    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = None,
                 verbose: str | int = "auto", sample_weight: Any = None,
                 steps: int | None = None, callbacks: Any = None,
                 return_dict: bool = False, _checked: bool = False) -> Any:
        """Loss and metrics on ``(x, y)`` (or on batches), in inference mode.

        ``callbacks`` (a list of Callback) get ``on_test_begin`` before the first batch and
        ``on_test_end`` after the last (``SwapEMAWeights`` evaluates with the averaged weights).

        Returns
        -------
        float, list of float, or dict
            The loss alone when there are no metrics; else ``[loss, metric...]``;
            with ``return_dict=True``, ``{'loss': ..., 'accuracy': ...}``.
        """
        self._assert_compiled("evaluate")
        batches = self._test_batches(x, y, batch_size, sample_weight, steps, _checked)
        self.reset_metrics()
        logs = {}
        cbs = CallbackList(list(callbacks or []), self, {"verbose": verbose, "epochs": 1,
                                                          "steps": steps})
        cbs.on_test_begin()
        try:
            with no_grad(), limited(blas_threads_for(self.weights, batch_size or 32)):
                for batch in batches.epoch():
                    logs = self.test_step(batch_in_model_order(self, batch))
        finally:
            cbs.on_test_end(dict(logs))
        if not logs:
            raise ValueError("evaluate got no batches (x is empty).")
        if verbose not in (0, "0"):
            print(log_line(logs))
        if return_dict:
            return logs
        return logs["loss"] if len(logs) == 1 else list(logs.values())

    def _test_batches(self, x: Any, y: Any, batch_size: Any, sample_weight: Any,
                      steps: int | None, checked: bool) -> Any:
        if is_batch_source(x):
            return IterableBatches(x, steps)
        batch_size = _positive_int(32 if batch_size is None else batch_size, "batch_size")
        xs = self._inputs_list(x)
        ys = self._targets_if_needed(y, xs)
        sw = None if sample_weight is None else _data.to_array(sample_weight, "sample_weight",
                                                               np.float32)
        _data.same_length({"x": xs[0], "y": ys[0] if ys else None, "sample_weight": sw})
        self._ensure_built(xs)
        if not checked and ys:
            ys = self._check_targets(xs, ys)
        return ArrayBatches(xs, ys, sw, batch_size, steps=steps)

    def predict(self, x: Any, batch_size: int | None = None, verbose: str | int = "auto",
                steps: int | None = None, callbacks: Any = None) -> Any:
        """Model outputs for ``x`` as NumPy arrays, computed in batches, in inference mode.

        ``callbacks`` (a list of Callback) get ``on_predict_begin`` and ``on_predict_end``.

        Returns
        -------
        ndarray (N, ...) float32, or a list of them for several outputs.
        """
        if is_batch_source(x):
            batches: Any = IterableBatches(x, steps)
        else:
            batch_size = _positive_int(32 if batch_size is None else batch_size, "batch_size")
            xs = [_data.to_array(a, "x") for a in (
                list(x) if isinstance(x, list | tuple) and not _data.looks_numeric_list(x) else [x])]
            if not self.built and not getattr(self, "_build_shape", None):
                self._ensure_built([a.astype(np.float32) for a in xs])
            else:
                self._check_data_shape(xs)
            batches = ArrayBatches(xs, [], None, batch_size, steps=steps)
        chunks = []
        cbs = CallbackList(list(callbacks or []), self, {"verbose": verbose, "epochs": 1,
                                                          "steps": steps})
        cbs.on_predict_begin()
        try:
            with no_grad(), limited(blas_threads_for(self.weights, batch_size or 32)):
                for batch in batches.epoch():
                    out = self.predict_step(batch_in_model_order(self, batch))
                    chunks.append([o.data for o in out] if isinstance(out, list | tuple)
                                  else [out.data])
        finally:
            cbs.on_predict_end()
        if not chunks:
            raise ValueError("predict got no examples (x is empty).")
        result = [np.concatenate([c[k] for c in chunks]) for k in range(len(chunks[0]))]
        return result[0] if len(result) == 1 else result

    def train_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                       return_dict: bool = False) -> Any:
        """One optimizer step on one batch; returns the batch's loss (or all logs as a dict)."""
        self._assert_compiled("train_on_batch")
        xs = self._inputs_list(x)
        ys = self._targets_list(y, xs)
        self._ensure_built(xs)
        self.reset_metrics()
        sw = None if sample_weight is None else np.asarray(sample_weight, np.float32)
        logs = self.train_step(pack_x_y_sample_weight(one_or_list(xs), one_or_list(ys), sw))
        return logs if return_dict else logs["loss"]

    def test_on_batch(self, x: Any, y: Any = None, sample_weight: Any = None,
                      return_dict: bool = False) -> Any:
        """Loss (and metrics) on one batch, in inference mode."""
        logs = self.evaluate(x, y, batch_size=max(1, len(x)), sample_weight=sample_weight,
                             verbose=0, return_dict=True)
        return logs if return_dict else logs["loss"]

    def predict_on_batch(self, x: Any) -> Any:
        """Outputs for one batch, as NumPy."""
        return self.predict(x, batch_size=max(1, len(x)))


class CompiledTrainStep:
    """``Model.train_step`` with its forward pass, loss and backward pass replayed.

    The first steps of each batch signature run eagerly while ``engine/record.py``
    records them; once two recordings agree, later steps replay the same Functions
    in the same order (the same bits as the eager step) and only the update and the
    metrics run as Python. Dropout draws its masks and BatchNormalization updates its
    statistics inside the replay, as in the eager step; weights changed in place (by
    the optimizer or a callback) are read at every replay.
    """

    def __init__(self, model: Trainer) -> None:
        self.model = model
        self.compiled: dict[tuple[int, int, bool], Compiled] = {}  # one per batch structure

    @property
    def eager_reasons(self) -> list[str]:
        """Why steps of some batch signature were not replayed (empty when all were)."""
        return [r for c in self.compiled.values() for r in c.eager_reasons.values()]

    @property
    def replayed_signatures(self) -> int:
        """How many batch signatures (shapes and dtypes) are replayed now."""
        return sum(len(c.proven) for c in self.compiled.values())

    def __call__(self, data: Any) -> dict[str, float]:
        model = self.model
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        xs, ys = _as_list(x), _as_list(y)
        structure = (len(xs), len(ys), sample_weight is not None)
        compiled = self.compiled.get(structure)
        if compiled is None:
            compiled = self.compiled[structure] = Compiled(
                lambda batch: self._forward_and_loss(batch, *structure))
        weights = model.trainable_weights
        batch = [*xs, *ys] + ([sample_weight] if sample_weight is not None else [])
        predictions_read = _reads_predictions(model)
        (loss_value, *y_pred), grads = compiled(batch, weights, loss_only=not predictions_read)
        loss_value = float(loss_value)
        model.update_skipped = not apply_if_finite(model.optimizer, loss_value, grads, weights)
        model._loss_tracker.update_state(loss_value, sample_weight=len(xs[0]))
        if not predictions_read:  # no compiled metric: compute_metrics would only report
            return model.get_metrics_result()
        return model.compute_metrics(x, y, one_or_list(y_pred), sample_weight)

    def _forward_and_loss(self, batch: list[np.ndarray], n_x: int, n_y: int,
                          weighted: bool) -> list[Any]:
        """What is recorded: train_step's forward pass and loss, from the flat batch."""
        x, y = one_or_list(batch[:n_x]), one_or_list(batch[n_x:n_x + n_y]) if n_y else None
        sample_weight = batch[-1] if weighted else None
        y_pred = self.model(x, training=True)
        loss = self.model.compute_loss(x, y, y_pred, sample_weight)
        return [loss, *_as_list(y_pred)]


def _reads_predictions(model: Trainer) -> bool:
    """Whether the step's logs need the predictions: False when ``compute_metrics`` is
    Trainer's own and no compiled metric is there to update (then it only reports the
    metrics' results, and a replay may skip, say, the softmax of a classifier's output)."""
    per_output = model._metrics_per_output
    return (per_output is None or any(per_output)
            or type(model).compute_metrics is not Trainer.compute_metrics)


class Interruption:
    """During ``fit``, Ctrl-C finishes the current step instead of breaking it in half;
    ``fit`` then stops and says how to resume. A second Ctrl-C interrupts at once."""

    def __init__(self) -> None:
        self.fired = False
        self.previous: Any = None

    def __enter__(self) -> Interruption:
        # Only in the main thread (Python's rule), and only over a handler we can put back: not
        # where SIGINT is ignored on purpose (a background job started with '&' inherits it
        # ignored) nor where C code installed one (getsignal gives None): those are kept.
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) not in (signal.SIG_IGN, None)):
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.fired:
            raise KeyboardInterrupt
        self.fired = True

    def __exit__(self, *exc: Any) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)

    def advise(self, history: History, epoch: int, step: int, steps: int | None,
               epochs: int) -> None:
        """Say where training stopped and the exact call that resumes it.

        An epoch whose end was reached (History has it) counts as done, so Ctrl-C during its
        validation or a checkpoint save resumes with the next epoch.
        """
        if history.epoch and history.epoch[-1] == epoch:
            where, resume = f"at the end of epoch {epoch + 1}", epoch + 1
        else:
            of = f"/{steps}" if steps is not None else ""
            where, resume = f"during epoch {epoch + 1}, after batch {step + 1}{of}", epoch
        print(f"\nTraining interrupted {where}. The model keeps the weights of the last "
              f"completed step; History covers the {len(history.epoch)} completed epoch(s). To "
              f"resume: model.fit(x, y, epochs={epochs}, initial_epoch={resume}).")


# ---- small helpers ----------------------------------------------------------------------------
def _as_list(x: Any) -> list[Any]:
    if x is None:
        return []
    return list(x) if isinstance(x, list | tuple) else [x]


def _plus(total: Any, value: Any) -> Any:
    return value if total is None else total + value


def apply_if_finite(optimizer: Any, loss_value: float, grads: list[Any], weights: list[Any]) -> bool:
    """Apply the update unless the loss is NaN or infinite; whether it was applied.

    The optimizer itself skips an update whose gradients hold NaN or infinity (see
    ``Optimizer.apply``), so either way the weights and the optimizer's state stay as they were.
    ``grads`` were made for this update only, so unafraid's own ``apply`` may use them as
    scratch space (``scratch_gradients``); they are not to be read afterwards.
    """
    if not math.isfinite(loss_value):
        return False
    skipped = optimizer.skipped_updates
    if takes_scratch_gradients(optimizer):
        optimizer.apply(grads, weights, scratch_gradients=True)
    else:
        optimizer.apply(grads, weights)
    return optimizer.skipped_updates == skipped


def takes_scratch_gradients(optimizer: Any) -> bool:
    """Whether ``optimizer.apply`` is unafraid's own, which takes ``scratch_gradients`` (a
    subclass overriding ``apply`` may not)."""
    return isinstance(optimizer, Optimizer) and type(optimizer).apply is Optimizer.apply


def plain_logs(logs: dict[str, Any]) -> dict[str, Any]:
    """A step's logs with Tensors as numbers, as callbacks and the progress bar expect (an
    overridden ``train_step`` may return ``{"d_loss": loss_tensor}``, as Keras's GAN does)."""
    if not any(isinstance(v, Tensor) for v in logs.values()):
        return logs
    return {k: log_value(v) if isinstance(v, Tensor) else v for k, v in logs.items()}


def log_value(result: Any) -> Any:
    """A metric's result as it goes into the logs: a float, or (one value per class or
    threshold, e.g. ``F1Score(average=None)``) a NumPy array, as Keras keeps it."""
    value = np.asarray(result.data if isinstance(result, Tensor) else result)
    return float(value) if value.ndim == 0 else value.copy()


def _batch_size(x: Any) -> int:
    first = x[0] if isinstance(x, list | tuple) else next(iter(x.values())) \
        if isinstance(x, dict) else x
    return int(np.shape(first.data if isinstance(first, Tensor) else first)[0])


def _is_builtin(part: Any) -> bool:
    """A layer or loss of unafraid's own (a wrapped function included), whose Python is known."""
    fn = getattr(part, "fn", None)
    return (type(part).__module__.startswith("unafraid.")
            and (fn is None or getattr(fn, "__module__", "").startswith("unafraid.")))


def _metrics_for_output(spec: Any, k: int, name: str) -> list[Any]:
    if isinstance(spec, dict):
        spec = spec.get(name, [])
    elif isinstance(spec, list | tuple) and spec and isinstance(spec[0], list | tuple):
        spec = spec[k]
    spec = spec or []
    return [spec] if isinstance(spec, str) or not isinstance(spec, list | tuple) else list(spec)


def _resolve_loss(spec: Any) -> Any:
    """A loss from its name or object; an ambiguous name ('crossentropy') is refused with the fix."""
    from .. import losses as _losses
    _data.check_loss_name(spec)
    return _losses.get(spec)


def _check_compile_args(loss_weights: Any, steps_per_execution: Any, jit_compile: Any) -> None:
    if loss_weights is not None and not isinstance(loss_weights, list | tuple | dict):
        raise TypeError(f"compile: loss_weights must be a list or dict of numbers (one per "
                        f"output), got {loss_weights!r}. Pass metrics by keyword: "
                        f"compile(optimizer, loss, metrics=[...]).")
    if steps_per_execution != 1:
        raise ValueError(f"compile: steps_per_execution={steps_per_execution!r} is not supported; "
                         f"unafraid runs one step per call (leave it at 1). For less Python per "
                         f"step, keep jit_compile='auto' (the default).")
    if jit_compile not in ("auto", True, False):
        raise ValueError(f"compile: jit_compile must be 'auto', True or False, got "
                         f"{jit_compile!r}.")


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


def _check_epochs(epochs: Any, initial_epoch: Any, validation_freq: Any) -> None:
    if isinstance(epochs, bool) or not isinstance(epochs, int | np.integer) or epochs < 1:
        raise ValueError(f"epochs must be an integer >= 1 (the number of passes over the "
                         f"data), got {epochs!r}. E.g. model.fit(x, y, epochs=10).")
    if isinstance(validation_freq, bool) or not isinstance(validation_freq, int | np.integer) \
            or validation_freq < 1:
        raise ValueError(f"validation_freq must be an integer >= 1 (validate every that many "
                         f"epochs), got {validation_freq!r}. A list of epochs (tf.keras 2) is "
                         f"not supported: use an integer.")


def _check_batch_source_args(y: Any, batch_size: Any, sample_weight: Any,
                             validation_split: Any, class_weight: Any) -> None:
    given = {"y": y, "batch_size": batch_size, "sample_weight": sample_weight,
             "class_weight": class_weight, "validation_split": validation_split or None}
    extra = [k for k, v in given.items() if v is not None]
    if extra:
        raise ValueError(f"fit got a dataset or generator as x, which already yields "
                         f"(x, y[, sample_weight]) batches, so {extra} cannot be given too. Put "
                         f"targets and weights in the batches (Dataset.from_tensor_slices((x, y))"
                         f".batch(32)), and pass validation_data= instead of validation_split.")


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
