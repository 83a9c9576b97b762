"""A replayed step (engine/record.py) frees gradients and saved values as its backward pass goes,
as the eager backward pass does, so its peak memory is no higher than the eager step's."""

from __future__ import annotations

import tracemalloc

import numpy as np

import unafraid as uf
from unafraid.engine.gradients import gradients
from unafraid.engine.record import Compiled


def test_a_replayed_step_peaks_no_higher_than_the_eager_step():
    rng = np.random.default_rng(0)
    weights = [uf.Variable(rng.standard_normal((256, 256)) / 16, name=f"w{i}") for i in range(4)]

    def forward(batch):
        h = uf.Tensor(batch[0])
        for w in weights:
            h = uf.tanh(uf.matmul(h, w))
        return [uf.sum(h * h)]

    compiled = Compiled(forward)
    batches = [[rng.standard_normal((256, 256))] for _ in range(4)]
    compiled(batches[0], weights)
    compiled(batches[1], weights)  # a second recording on other data proves the first
    assert compiled.proven

    def peak(step):
        tracemalloc.start()
        try:
            step()
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    eager = peak(lambda: gradients(forward(batches[2])[0], weights))
    replayed_grads = []
    replayed = peak(lambda: replayed_grads.extend(compiled(batches[2], weights)[1]))
    eager_grads = gradients(forward(batches[2])[0], weights)
    for a, b in zip(replayed_grads, eager_grads, strict=True):
        assert np.array_equal(a, b)  # the same bits
    assert replayed <= 1.05 * eager, (replayed / 2**20, eager / 2**20)
