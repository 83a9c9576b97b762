"""BatchNormalization and LayerNormalization, with Keras's defaults."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .. import constraints, initializers, regularizers
from ..checks import check_axis, check_number
from ..engine import ops
from ..engine.tensor import Function, Tensor
from .base import Layer
from .merging import MaskOp

EPSILON = 1e-7  # Keras's backend.epsilon(): guards the masked moments' division


def _axes(axis: int | list[int], ndim: int) -> tuple[int, ...]:
    axes = [axis] if isinstance(axis, int) else list(axis)
    return tuple(sorted(a % ndim for a in axes))


def _param_shape(shape: tuple[int, ...], keep: tuple[int, ...]) -> tuple[int, ...]:
    """Shape that broadcasts a per-feature vector over the other axes."""
    return tuple(shape[i] if i in keep else 1 for i in range(len(shape)))


def _normalize(x: Any, mean: Any, var: Any, epsilon: float, gamma: Any, beta: Any,
               pshape: tuple[int, ...]) -> Any:
    """``gamma * (x - mean) / sqrt(var + epsilon) + beta`` (either may be absent)."""
    y = ops.divide(ops.subtract(x, mean), ops.sqrt(ops.add(var, epsilon)))
    if gamma is not None:
        y = ops.multiply(y, ops.reshape(gamma, pshape))
    if beta is not None:
        y = ops.add(y, ops.reshape(beta, pshape))
    return y


def beta_gamma_config(layer: Layer, initializers_too: bool = True) -> dict[str, Any]:
    """A normalisation layer's ``beta_*`` and ``gamma_*`` config entries (initializers,
    regularizers, constraints), in Keras's order."""
    kinds = [("initializer", initializers)] if initializers_too else []
    kinds += [("regularizer", regularizers), ("constraint", constraints)]
    return {f"{w}_{kind}": module.serialize(getattr(layer, f"{w}_{kind}"))
            for kind, module in kinds for w in ("beta", "gamma")}


def masked_moments(x: Any, mask: Any, reduce: tuple[int, ...]) -> tuple[Any, Any]:
    """Mean and (biased) variance of ``x`` over ``reduce``, counting only the entries where
    ``mask`` (``x``'s shape without the last axis) is True (Keras 3's ``_moments``)::

        mean = sum(m * x) / (sum(m) + 1e-7),   var = sum(m * (x - mean)**2) / (sum(m) + 1e-7)
    """
    m = mask if isinstance(mask, Tensor) else Tensor(np.asarray(mask))
    m = MaskOp.apply(m, x, how="expand_like")
    masked = ops.where(m, x, 0.0)
    weights = ops.sum(ops.cast(m, x.dtype), axis=reduce, keepdims=True)
    mean = ops.divide(ops.sum(masked, axis=reduce, keepdims=True), ops.add(weights, EPSILON))
    diff = ops.where(m, ops.subtract(x, mean), 0.0)
    var = ops.divide(ops.sum(ops.multiply(diff, diff), axis=reduce, keepdims=True),
                     ops.add(weights, EPSILON))
    return mean, var


class StopGradient(Function):
    """The same values, with no gradient (batch renormalization's ``r`` and ``d``)."""

    name = "stop_gradient"

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def vjp(ctx, g):
        return (None,)


class SqrtInitializer(initializers.Initializer):
    """``sqrt`` of another initializer's values (renorm's stddev from the variance's)."""

    def __init__(self, init: Any) -> None:
        self.init = init

    def __call__(self, shape: tuple[int, ...], dtype: Any = "float32") -> np.ndarray:
        return np.sqrt(np.asarray(self.init(shape, dtype))).astype(dtype)


def _check_renorm_clipping(clipping: dict[str, float] | None) -> dict[str, float]:
    clipping = dict(clipping or {})
    keys = ["rmax", "rmin", "dmax"]
    if set(clipping) - set(keys):
        raise ValueError(f"Received invalid keys for `renorm_clipping` argument: {clipping}. "
                         f"Supported values: {keys}.")
    rmax, rmin, dmax = (clipping.get(k) for k in keys)
    if rmax is not None and rmin is not None and rmax < rmin:
        raise ValueError(f"rmax should be greater than rmin in the `renorm_clipping` argument. "
                         f"Received: rmax={rmax}, rmin={rmin}.")
    if dmax is not None and dmax < 0:
        raise ValueError(f"dmax should be non-negative in the `renorm_clipping` argument. "
                         f"Received: dmax={dmax}.")
    return clipping


class BatchNormalization(Layer):
    """Normalises each feature with batch statistics in training, moving averages otherwise.

    ``y = gamma * (x - mean) / sqrt(var + epsilon) + beta``. In training,
    ``mean``/``var`` are the batch's (biased variance) and the moving averages
    are updated: ``moving = momentum * moving + (1 - momentum) * batch``.

    Parameters
    ----------
    axis : int, default -1
        The feature axis.
    momentum : float, default 0.99
    epsilon : float, default 1e-3
    center, scale : bool, default True
        Learn ``beta`` / ``gamma``.
    beta_regularizer, gamma_regularizer : optional
        Penalties on ``beta`` / ``gamma`` added to the loss (``'l2'``, ``L2(1e-4)``...).
    beta_constraint, gamma_constraint : optional
        Applied by the optimizer after each update (``'non_neg'``, ``MaxNorm(3)``...).
    synchronized : bool, default False
        Keras averages the batch statistics across devices; unafraid trains on one process,
        where that changes nothing, so it is kept (and saved) only for Keras's files.
    renorm : bool, default False
        Batch renormalization (see ``_renorm_call`` for the formula).
    renorm_clipping : dict, optional
        Bounds ``rmin``, ``rmax`` on ``r`` and ``dmax`` on ``|d|``.
    renorm_momentum : float, default 0.99
        Momentum of the renorm statistics ``renorm_mean`` / ``renorm_stddev``.

    Masking
    -------
    ``call(x, training, mask=None)``: with a mask ``(batch, ..., )`` (one axis fewer than
    ``x``, e.g. from ``Masking``), the batch statistics in training use only the unmasked
    steps: ``mean = sum(m * x) / (sum(m) + 1e-7)``, likewise the variance (Keras 3's rule).
    """

    supports_masking = True

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True,
                 beta_initializer: Any = "zeros", gamma_initializer: Any = "ones",
                 moving_mean_initializer: Any = "zeros",
                 moving_variance_initializer: Any = "ones", beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, beta_constraint: Any = None,
                 gamma_constraint: Any = None, renorm: bool = False,
                 renorm_clipping: dict[str, float] | None = None, renorm_momentum: float = 0.99,
                 synchronized: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # synchronized: Keras averages the batch statistics across devices; there is one here
        self.synchronized = bool(synchronized)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.renorm, self.renorm_momentum = bool(renorm), float(renorm_momentum)
        self.renorm_clipping = _check_renorm_clipping(renorm_clipping) if renorm else renorm_clipping
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.axis = check_axis("BatchNormalization", axis)
        self.momentum = check_number(
            "BatchNormalization", "momentum", momentum, low=0, high=1,
            hint="It is the weight of the old moving average: use e.g. 0.99 (the default).")
        self.epsilon = check_number("BatchNormalization", "epsilon", epsilon, low=0, low_open=True,
                                    hint="Use a small positive number such as 1e-3 (the default).")
        self.center, self.scale = center, scale
        self.inits = {k: initializers.get(v) for k, v in [
            ("beta", beta_initializer), ("gamma", gamma_initializer),
            ("moving_mean", moving_mean_initializer),
            ("moving_variance", moving_variance_initializer)]}

    def build(self, input_shape: tuple[int, ...]) -> None:
        keep = _axes(self.axis, len(input_shape))
        shape = tuple(input_shape[a] for a in keep)
        self.gamma = self.add_weight(shape, self.inits["gamma"], name="gamma",
                                     regularizer=self.gamma_regularizer,
                                     constraint=self.gamma_constraint) if self.scale else None
        self.beta = self.add_weight(shape, self.inits["beta"], name="beta",
                                    regularizer=self.beta_regularizer,
                                    constraint=self.beta_constraint) if self.center else None
        self.moving_mean = self.add_weight(shape, self.inits["moving_mean"], name="moving_mean",
                                           trainable=False)
        self.moving_variance = self.add_weight(shape, self.inits["moving_variance"],
                                               name="moving_variance", trainable=False)
        if self.renorm:  # Keras's order and names; the stddevs start at sqrt(variance init)
            stddev_init = SqrtInitializer(self.inits["moving_variance"])
            self.moving_stddev = self.add_weight(shape, stddev_init, name="moving_stddev",
                                                 trainable=False)
            self.renorm_mean = self.add_weight(shape, self.inits["moving_mean"],
                                               name="renorm_mean", trainable=False)
            self.renorm_stddev = self.add_weight(shape, stddev_init, name="renorm_stddev",
                                                 trainable=False)

    def call(self, inputs: Tensor, training: bool = False, mask: Any = None) -> Tensor:
        keep = _axes(self.axis, inputs.ndim)
        reduce = tuple(i for i in range(inputs.ndim) if i not in keep)
        pshape = _param_shape(inputs.shape, keep)
        if mask is not None and np.ndim(getattr(mask, "data", mask)) != inputs.ndim - 1:
            raise ValueError(f"BatchNormalization '{self.name}': the mask provided should be one "
                             f"dimension less than the inputs. Received: mask.shape="
                             f"{np.shape(getattr(mask, 'data', mask))}, inputs.shape={inputs.shape}")
        if training and self.trainable:  # frozen: inference mode, as in Keras 3
            if mask is None:
                mean = ops.mean(inputs, axis=reduce, keepdims=True)
                var = ops.var(inputs, axis=reduce, keepdims=True)
            else:
                mean, var = masked_moments(inputs, mask, reduce)
            if self.renorm:
                return self._renorm_call(inputs, mean, var, pshape)
            m = self.momentum
            ops.assign_moving_average(self.moving_mean, mean, m)
            ops.assign_moving_average(self.moving_variance, var, m)
        else:
            mean = ops.reshape(self.moving_mean, pshape)
            var = ops.reshape(self.moving_variance, pshape)
        return _normalize(inputs, mean, var, self.epsilon, self.gamma, self.beta, pshape)

    def _renorm_call(self, inputs: Tensor, mean: Any, var: Any, pshape: tuple[int, ...]) -> Any:
        """Batch renormalization (Ioffe, 2017), as Keras 3 computes it::

            r = clip(sigma_B / sigma_renorm, rmin, rmax),  d = clip((mu_B - mu_renorm) /
            sigma_renorm, -dmax, dmax),  y = ((x - mu_B) / sigma_B * r + d) * gamma + beta

        with ``sigma_B = sqrt(var_B + eps)``, no gradient through ``r`` and ``d``, then the
        renorm and moving statistics updated (``moving_variance = relu(moving_stddev**2 - eps)``).
        """
        stddev = ops.sqrt(ops.add(var, self.epsilon))
        renorm_mean = ops.reshape(self.renorm_mean, pshape)
        renorm_stddev = ops.maximum(ops.reshape(self.renorm_stddev, pshape),
                                    float(np.sqrt(self.epsilon)))
        r = ops.divide(stddev, renorm_stddev)
        d = ops.divide(ops.subtract(mean, renorm_mean), renorm_stddev)
        clip = self.renorm_clipping
        if clip.get("rmin") is not None:
            r = ops.maximum(r, float(clip["rmin"]))
        if clip.get("rmax") is not None:
            r = ops.minimum(r, float(clip["rmax"]))
        if clip.get("dmax") is not None:
            d = ops.clip(d, -float(clip["dmax"]), float(clip["dmax"]))
        r, d = StopGradient.apply(r), StopGradient.apply(d)
        y = ops.add(ops.multiply(ops.divide(ops.subtract(inputs, mean), stddev), r), d)
        if self.gamma is not None:
            y = ops.multiply(y, ops.reshape(self.gamma, pshape))
        if self.beta is not None:
            y = ops.add(y, ops.reshape(self.beta, pshape))
        ops.assign_moving_average(self.renorm_mean, mean, self.renorm_momentum)
        ops.assign_moving_average(self.renorm_stddev, stddev, self.renorm_momentum)
        ops.assign_moving_average(self.moving_mean, mean, self.momentum)
        ops.assign_moving_average(self.moving_stddev, stddev, self.momentum)
        new_var = ops.relu(ops.subtract(ops.multiply(self.moving_stddev, self.moving_stddev),
                                        self.epsilon))
        ops.assign_moving_average(self.moving_variance, new_var, 0.0)
        return y

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                "renorm": self.renorm, "renorm_clipping": self.renorm_clipping,
                "renorm_momentum": self.renorm_momentum,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                **{f"{k}_initializer": initializers.serialize(v) for k, v in self.inits.items()},
                **beta_gamma_config(self, initializers_too=False),
                "synchronized": self.synchronized}


class LayerNormalization(Layer):
    """Normalises each example over ``axis``: ``gamma * (x - mean) / sqrt(var + eps) + beta``.

    Parameters
    ----------
    axis : int or list of int, default -1
    epsilon : float, default 1e-3
    center, scale : bool, default True
    beta_regularizer, gamma_regularizer : optional
        Penalties on ``beta`` / ``gamma`` added to the loss.
    beta_constraint, gamma_constraint : optional
        Applied by the optimizer after each update (``'non_neg'``, ``MaxNorm(3)``...).
    rms_scaling : bool, default False
        Keras 3's deprecated option, with Keras's exact formula: ``gamma * x / sqrt(var + eps)``
        (no centring, no ``beta``; it scales by the variance, not the root mean square).
        Keras warns that it is deprecated; so does unafraid.

    A mask passes through unchanged (each example is normalised on its own).
    """

    supports_masking = True

    def __init__(self, axis: int | list[int] = -1, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer: Any = "zeros",
                 gamma_initializer: Any = "ones", beta_regularizer: Any = None,
                 gamma_regularizer: Any = None, beta_constraint: Any = None,
                 gamma_constraint: Any = None, rms_scaling: bool = False, **kwargs: Any) -> None:
        if rms_scaling:
            warnings.warn("You passed `rms_scaling=True`, which is deprecated (in Keras too). This "
                          "argument scales the input by the variance, not the root mean square.",
                          DeprecationWarning, stacklevel=2)
        super().__init__(**kwargs)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.rms_scaling = bool(rms_scaling)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.axis = check_axis("LayerNormalization", axis, type_error=True)
        self.epsilon = check_number("LayerNormalization", "epsilon", epsilon, low=0, low_open=True,
                                    hint="Use a small positive number such as 1e-3 (the default).")
        self.center, self.scale = center, scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)

    def build(self, input_shape: tuple[int, ...]) -> None:
        keep = _axes(self.axis, len(input_shape))
        shape = tuple(input_shape[a] for a in keep)
        self.gamma = self.add_weight(shape, self.gamma_initializer, name="gamma",
                                     regularizer=self.gamma_regularizer,
                                     constraint=self.gamma_constraint) if (
            self.scale or self.rms_scaling) else None
        self.beta = self.add_weight(shape, self.beta_initializer, name="beta",
                                    regularizer=self.beta_regularizer,
                                    constraint=self.beta_constraint) if (
            self.center and not self.rms_scaling) else None

    def call(self, inputs: Tensor) -> Tensor:
        axes = _axes(self.axis, inputs.ndim)
        mean = ops.mean(inputs, axis=axes, keepdims=True)
        var = ops.var(inputs, axis=axes, keepdims=True)
        pshape = _param_shape(inputs.shape, axes)
        if self.rms_scaling:  # Keras's formula: x * rsqrt(var + eps) * gamma, not centred
            return _normalize(inputs, 0.0, var, self.epsilon, self.gamma, None, pshape)
        return _normalize(inputs, mean, var, self.epsilon, self.gamma, self.beta, pshape)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale, "rms_scaling": self.rms_scaling,
                **beta_gamma_config(self)}
