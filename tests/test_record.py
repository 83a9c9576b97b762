"""The recorded step (engine/record.py) replays every kind of input source with the eager bits:
batch arrays, reshapes of them, arrays inside parameters (a gather's indices), Variables and
constants."""

import numpy as np

import unafraid as uf
from unafraid.engine import ops
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


def _step_with_dead_runs(w: uf.Variable, gen: np.random.Generator,
                         batch: list[np.ndarray]) -> list[uf.Tensor]:
    x, labels = batch
    logits = uf.linear(x, w)
    noisy = ops.dropout(logits, 0.5, gen)   # read by no loss, but draws: never skipped
    probs = uf.softmax(logits)             # read by nothing but the second result: skippable
    loss = uf.mean(uf.softmax_cross_entropy(logits, labels))
    return [loss, probs, noisy]


def test_a_loss_only_replay_skips_pure_runs_nothing_reads_with_the_same_bits():
    rng = np.random.default_rng(1)
    batches = [[rng.standard_normal((6, 5)).astype(np.float32), rng.integers(0, 3, 6)]
               for _ in range(3)]
    w = uf.Variable(rng.standard_normal((5, 3)).astype(np.float32), name="w")
    gen = np.random.default_rng(7)
    compiled = Compiled(lambda batch: _step_with_dead_runs(w, gen, batch))
    for batch in batches:
        compiled(batch, [w])  # records twice, proves
    replay = next(iter(compiled.proven.values()))
    names = [run.function.__name__ for run in replay.runs]
    skipped = [names[j] for j, *_ in replay.plan if (j, *_) not in replay.loss_plan]
    assert skipped == ["Softmax"]  # Dropout draws, so it stays although nothing reads it
    state = gen.bit_generator.state
    full_values, full_grads = compiled(batches[0], [w])
    after_full = gen.bit_generator.state
    gen.bit_generator.state = state
    lean_values, lean_grads = compiled(batches[0], [w], loss_only=True)
    assert gen.bit_generator.state == after_full  # the same draws
    assert len(full_values) == 3 and len(lean_values) == 1
    assert lean_values[0].tobytes() == full_values[0].tobytes()
    assert lean_grads[0].tobytes() == full_grads[0].tobytes()


def test_fit_without_metrics_skips_the_softmax_and_keeps_the_eager_bits():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((64, 5)).astype(np.float32)
    y = rng.integers(0, 3, 64)
    weights = []
    for jit in (False, "auto"):
        uf.set_random_seed(0)
        model = uf.keras.Sequential([uf.keras.layers.Dense(8, activation="relu", input_shape=(5,)),
                               uf.keras.layers.Dense(3, activation="softmax")])
        model.compile(uf.keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy",
                      jit_compile=jit)
        history = model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
        weights.append(([w.tobytes() for w in model.get_weights()], history.history["loss"]))
    assert weights[0] == weights[1]
    replay = next(iter(model._train_function.compiled.values())).proven
    assert replay and all(len(r.loss_plan) < len(r.plan) for r in replay.values())
