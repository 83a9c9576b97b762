"""The recorded step (engine/record.py) replays every kind of input source with the eager bits:
batch arrays, reshapes of them, arrays inside parameters (a gather's indices), Variables and
constants."""

import numpy as np

import unafraid as uf
from unafraid.engine.record import Compiled


def _step(w: uf.Variable, batch: list[np.ndarray]) -> list[uf.Tensor]:
    x, labels, rows = batch
    z = uf.linear(x, w) * np.float32(0.5)                     # a constant
    picked = uf.getitem(z, rows)                              # an array parameter from the batch
    loss = uf.mean(uf.softmax_cross_entropy(picked, labels.reshape(-1)))  # a view of a batch array
    return [loss, z]


def test_replay_gives_the_eager_bits_for_every_kind_of_source():
    rng = np.random.default_rng(0)
    batches = [[rng.standard_normal((6, 5)).astype(np.float32), rng.integers(0, 3, (4, 1)),
                rng.integers(0, 6, 4)] for _ in range(4)]
    w_eager = uf.Variable(rng.standard_normal((5, 3)).astype(np.float32), name="w")
    w_replay = uf.Variable(w_eager.data.copy(), name="w")
    compiled = Compiled(lambda batch: _step(w_replay, batch))
    for step in range(8):
        batch = batches[step % 4]
        values, grads = compiled(batch, [w_replay])
        loss, z = _step(w_eager, batch)
        (g,) = uf.gradients(loss, [w_eager])
        assert values[0].tobytes() == loss.data.tobytes() and values[1].tobytes() == z.data.tobytes()
        assert grads[0].tobytes() == g.tobytes()
        for w, grad in ((w_eager, g), (w_replay, grads[0])):   # the next step sees the new weights
            w.data -= np.float32(0.1) * grad
    assert compiled.proven and not compiled.eager_reasons    # the later steps were replayed
    replay = next(iter(compiled.proven.values()))
    kinds = {s[0] for run in replay.runs for s in run.sources}
    assert {"slot", "view", "variable", "constant"} <= kinds
    assert any(type(p).__name__ == "_Sources" for run in replay.runs for p in run.params.values())
