"""Keras 3's Metric base-class API, as Keras's own ``metric_test.py`` uses it: ``metrics.get(None)``,
variables tracked in attributes and sub-metrics, and the stateless API (``stateless_update_state``,
``stateless_result``, ``stateless_reset_state``). Numbers are hand-worked."""

from __future__ import annotations

import numpy as np
import pytest

import unafraid as uf
from unafraid import metrics


class SquaredError(metrics.Metric):
    """Keras's test metric: the sum of squared errors over the number of rows."""

    def __init__(self, name: str = "sse", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.sum = self.add_variable(shape=(), initializer="zeros", name="sum")
        self.total = self.add_variable(shape=(), initializer="zeros", dtype="int32", name="total")

    def update_state(self, y_true, y_pred):
        self.sum.assign_add(np.sum((np.asarray(y_true) - np.asarray(y_pred)) ** 2))
        self.total.assign_add(len(y_true))

    def result(self):
        return self.sum.numpy() / self.total.numpy()


def test_get_none_is_none_and_compile_refuses_it():
    assert metrics.get(None) is None
    model = uf.keras.Sequential([uf.keras.layers.Dense(1)])
    model.compile("sgd", "mse", metrics=[None])
    with pytest.raises(ValueError, match="Expected metric, received `None`"):
        model.fit(np.zeros((2, 3)), np.zeros((2, 1)), verbose=0)


def test_variables_in_attributes_and_submetrics_are_tracked_once():
    m = SquaredError()
    assert [v.name for v in m.variables] == ["sse/sum", "sse/total"]
    m.more = {"a": [uf.Variable(0.0), uf.Variable(1.0)], "again": m.sum}  # m.sum counted once
    assert len(m.variables) == 4
    m.child = SquaredError("child")
    m.child.grandchild = SquaredError("grandchild")
    m.child.parent = m  # a cycle is walked once
    assert len(m.variables) == 8


def test_stateless_api_by_hand_leaves_the_metric_alone():
    m = SquaredError()
    m.update_state(np.array([1.0]), np.array([0.0]))  # own state: sum 1, total 1
    state = [np.float32(0.0), np.int32(0)]
    state = m.stateless_update_state(state, np.array([1.0, 2.0]), np.array([0.0, 0.0]))
    state = m.stateless_update_state(state, np.array([3.0]), np.array([1.0]))
    np.testing.assert_array_equal(state, [1 + 4 + 4, 3])  # squared errors 1, 4, then 4
    assert m.stateless_result(state) == 3.0
    assert m.stateless_result([np.float32(12.0), np.int32(3)]) == 4.0
    assert [float(v) for v in m.stateless_reset_state()] == [0.0, 0.0]
    assert (float(m.sum.numpy()), int(m.total.numpy())) == (1.0, 1)  # untouched throughout
    with pytest.raises(ValueError, match="has 2 state variables"):
        m.stateless_result([1.0])


def test_stateless_api_of_a_built_in_metric():
    m = metrics.Mean()
    m.update_state([10.0])
    state = m.stateless_update_state([0.0, 0.0], [1.0, 3.0], sample_weight=[1.0, 3.0])
    np.testing.assert_array_equal(state, [1 + 9, 4])  # total = sum(w x), count = sum(w)
    assert m.stateless_result(state) == 2.5
    assert [float(v) for v in m.stateless_reset_state()] == [0.0, 0.0]
    assert m.result() == 10.0


def test_set_floatx_keeps_float32_and_refuses_others():
    # Keras's metric tests restore floatx with set_floatx after each case
    uf.keras.backend.set_floatx("float32")
    assert uf.keras.backend.floatx() == "float32"
    with pytest.raises(ValueError, match="unafraid computes in float32 only"):
        uf.keras.backend.set_floatx("float16")


def test_a_metric_called_on_symbolic_tensors_gives_its_result_spec_and_keeps_its_state():
    # MeanTest.test_weighted_dynamic_shapes: the result of a mean is one number, whatever the batch
    mean = metrics.Mean()
    mean.update_state([2.0])
    spec = mean(uf.keras.Input((2,)), uf.keras.Input((2,)))
    assert isinstance(spec, uf.layers.KerasTensor) and spec.shape == () and spec.dtype == "float32"
    assert mean.result() == 2.0
    f1 = metrics.F1Score(average=None)  # one score per class: (3,)
    assert f1(uf.keras.Input((3,)), uf.keras.Input((3,))).shape == (3,)
