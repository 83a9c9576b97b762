"""The tf.* aliases: TensorFlow's values (hand-worked) and gradients (finite differences)."""

import numpy as np
import pytest

import unafraid as tf
from unafraid import check_grad


@pytest.fixture(autouse=True)
def _default_seed_afterwards():
    """Tests here set seeds; later test files start from the library's default seed again."""
    yield
    tf.set_random_seed(tf.random.DEFAULT_SEED)


rng = np.random.default_rng(0)
X = rng.normal(size=(3, 4))
POS = rng.uniform(0.5, 2.0, size=(3, 4))
W = rng.normal(size=(4, 2))

DIFFERENTIABLE = {
    "reduce_sum": (lambda x: tf.reduce_sum(x, axis=1), X),
    "reduce_mean": (lambda x: tf.reduce_mean(x, axis=[0, 1], keepdims=True), X),
    "reduce_max": (lambda x: tf.reduce_max(x, axis=0), X),
    "reduce_min": (lambda x: tf.reduce_min(x), X),
    "reduce_prod": (lambda x: tf.reduce_prod(x, axis=1), X),
    "reduce_prod_all_keepdims": (lambda x: tf.reduce_prod(x[:2, :3], keepdims=True), X),
    "reduce_logsumexp": (lambda x: tf.reduce_logsumexp(x, axis=-1), X),
    "reduce_std": (lambda x: tf.reduce_std(x, axis=0), X),
    "matmul": (lambda x: tf.matmul(x, tf.constant(W)), X),
    "matmul_transpose": (lambda x: tf.linalg.matmul(x, x, transpose_b=True), X),
    "square_sqrt_exp": (lambda x: tf.sqrt(tf.square(x) + 1.0) * tf.exp(x), X),
    "math": (lambda x: tf.math.log(x) + tf.math.log1p(x) + tf.math.rsqrt(x) + tf.math.reciprocal(x),
             POS),
    "abs_maximum_minimum": (lambda x: tf.abs(x) + tf.maximum(x, 0.1) * tf.minimum(x, -0.2), X),
    "cast_reshape_transpose": (lambda x: tf.transpose(tf.reshape(tf.cast(x, tf.float64), (2, 6)),
                                                      perm=[1, 0]), X),
    "concat_stack_add_n": (lambda x: tf.add_n([x, 2 * x, tf.stack([x, x], axis=0)[1]])
                           + tf.reduce_sum(tf.concat([x, x], axis=0)), X),
    "stack_unstack_split": (lambda x: tf.stack(tf.unstack(x, axis=1)[::-1], axis=1)
                            + tf.split(x, [1, 3], axis=1)[0] + tf.split(x, 2, axis=1)[1][:, :1], X),
    "expand_squeeze_newaxis": (lambda x: tf.squeeze(tf.expand_dims(x, 0)[:, tf.newaxis], [0, 1]),
                               X),
    "gather": (lambda x: tf.gather(x, [2, 0, 2], axis=1), X),
    "where": (lambda x: tf.where(x > 0, x * x, -x), X),
    "clip_by_value": (lambda x: tf.clip_by_value(x, -0.5, 0.5), X),
    "clip_by_norm": (lambda x: tf.clip_by_norm(x, 1.0), X),
    "clip_by_global_norm": (lambda x: tf.clip_by_global_norm([x, 2 * x], 1.5)[0][1], X),
    "norm": (lambda x: tf.norm(x, axis=1) + tf.math.l2_normalize(x, axis=1)[:, 0], X),
    "tile": (lambda x: tf.tile(x, [2, 1]), X),
    "nn_activations": (lambda x: tf.nn.sigmoid(x) + tf.nn.relu(x) * tf.nn.softmax(x)
                       + tf.nn.log_softmax(x, axis=0) + tf.nn.silu(x), X),
    "sigmoid_cross_entropy": (lambda x: tf.nn.sigmoid_cross_entropy_with_logits(
        labels=(X > 0).astype(np.float64), logits=x), X),
    "softmax_cross_entropy": (lambda x: tf.nn.softmax_cross_entropy_with_logits(
        labels=np.eye(4)[[0, 3, 1]], logits=x), X),
    "l2_loss_moments": (lambda x: tf.nn.l2_loss(x) + tf.nn.moments(x, axes=[0])[1], X),
    "sort": (lambda x: tf.sort(x, axis=0)[:, :2] * W[:3] + tf.sort(x, direction="DESCENDING")[:, :2], X),
    "keras_ops_sort": (lambda x: tf.keras.ops.sort(x, axis=None)[:5] * W[:, 0].sum(), X),
    "floormod_x": (lambda x: tf.math.floormod(x, 0.7), X),
    "floormod_y": (lambda y: tf.math.floormod(X + 3.0, y), POS),
    "keras_ops": (lambda x: tf.keras.ops.sum(tf.keras.ops.square(x), axis=0)
                  + tf.keras.ops.mean(tf.keras.ops.matmul(x, tf.keras.ops.transpose(x)))
                  + tf.keras.ops.max(tf.keras.ops.concatenate([x, x], axis=1)), X),
}


@pytest.mark.parametrize("name", sorted(DIFFERENTIABLE))
def test_gradients_match_finite_differences(name):
    f, x = DIFFERENTIABLE[name]
    check_grad(f, x)


def test_gradient_through_a_tape_matches_finite_differences():
    x = tf.constant(X)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_prod(tf.clip_by_value(x, -1.0, 1.0) + 2.0)
    g = tape.gradient(y, x).numpy()
    clipped = np.clip(X, -1, 1) + 2
    expected = np.prod(clipped) / clipped * ((X > -1) & (X < 1))  # d prod / d x_i = prod / x_i
    np.testing.assert_allclose(g, expected, rtol=1e-10)


def test_values_follow_tensorflow():
    assert tf.constant(3.0).dtype == np.float32 and tf.constant([1, 2], dtype=tf.float32).dtype == "f"
    assert tf.constant(0.0, shape=(2, 3)).shape == (2, 3)
    assert tf.range(5).dtype == np.int32 and tf.range(1.0, 2.0, 0.5).numpy().tolist() == [1.0, 1.5]
    assert tf.linspace(0.0, 1.0, 5).numpy().tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    np.testing.assert_array_equal(tf.one_hot([0, 2, 5], 3).numpy(), [[1, 0, 0], [0, 0, 1],
                                                                      [0, 0, 0]])
    assert tf.one_hot([1], 2, on_value=5, off_value=-1).numpy().tolist() == [[-1, 5]]
    assert tf.argmax([[1, 9], [8, 2]]).numpy().tolist() == [1, 0]  # TensorFlow's default axis 0
    assert tf.argmax([[1, 9]], axis=1, output_type=tf.int32).dtype == np.int32
    assert tf.shape(np.zeros((4, 2))).numpy().tolist() == [4, 2] and int(tf.size(np.zeros(6))) == 6
    assert tf.where([[True, False], [False, True]]).numpy().tolist() == [[0, 0], [1, 1]]
    assert tf.zeros_like(np.ones(3, np.int64)).dtype == np.int64
    assert tf.ones((2,)).dtype == np.float32 and tf.fill([2], 7).numpy().tolist() == [7, 7]
    assert tf.reduce_mean(tf.constant([1, 2])).numpy() == 1  # integer mean, as TensorFlow gives
    np.testing.assert_allclose(tf.reduce_prod([[1.0, 2.0], [3.0, 4.0]], axis=0).numpy(), [3, 8])
    clipped, norm = tf.clip_by_global_norm([tf.constant([3.0]), tf.constant([4.0])], 1.0)
    assert float(norm) == 5.0 and [c.numpy()[0] for c in clipped] == pytest.approx([0.6, 0.8])
    assert float(tf.nn.l2_loss(tf.constant([3.0, 4.0]))) == 12.5
    assert tf.convert_to_tensor(np.arange(3)).numpy().tolist() == [0, 1, 2]
    t = tf.constant(1.0)
    assert tf.convert_to_tensor(t) is t and tf.identity(t).numpy() == 1.0


def test_sigmoid_cross_entropy_is_the_log_loss():
    logits, labels = np.array([-30.0, -1.0, 0.0, 2.5, 40.0]), np.array([0.0, 1.0, 0.5, 0.0, 1.0])
    p = 1 / (1 + np.exp(-logits))
    with np.errstate(divide="ignore", invalid="ignore"):
        direct = -labels * np.log(p) - (1 - labels) * np.log1p(-p)
    got = tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits).numpy()
    np.testing.assert_allclose(got[1:4], direct[1:4], rtol=1e-12)
    np.testing.assert_allclose(got[[0, 4]], [np.log1p(np.exp(-30.0)), np.log1p(np.exp(-40.0))],
                               rtol=1e-6)  # stable where the direct formula loses everything


def test_variable_assign_and_numpy():
    v = tf.Variable([1.0, 2.0], name="v")
    assert v.trainable and v.numpy().tolist() == [1.0, 2.0] and isinstance(v, tf.engine.Variable)
    v.assign([3.0, 4.0])
    v.assign_add([1.0, 1.0])
    v.assign_sub(tf.constant([0.5, 0.5]))
    assert v.numpy().tolist() == [3.5, 4.5] and v.dtype == np.float32
    assert not tf.Variable(1.0, trainable=False).requires_grad
    assert "numpy=" in repr(v)


def test_random_is_seeded_from_the_library_seed():
    tf.set_random_seed(3)
    a = tf.random.normal((2, 3))
    b = tf.random.normal((2, 3))
    tf.set_random_seed(3)
    np.testing.assert_array_equal(a.numpy(), tf.random.normal((2, 3)).numpy())
    assert not np.array_equal(a.numpy(), b.numpy()) and a.dtype == np.float32
    np.testing.assert_array_equal(tf.random.uniform((4,), seed=1).numpy(),
                                  tf.random.uniform((4,), seed=1).numpy())
    u = tf.random.uniform((1000,), minval=2.0, maxval=3.0).numpy()
    assert 2.0 <= u.min() and u.max() < 3.0
    ints = tf.random.uniform((50,), maxval=4, dtype=tf.int32).numpy()
    assert set(ints.tolist()) <= {0, 1, 2, 3} and ints.dtype == np.int32
    assert np.abs(tf.random.truncated_normal((500,)).numpy()).max() <= 2.0
    kept = tf.nn.dropout(tf.ones((1000,)), rate=0.25).numpy()
    assert set(np.unique(kept).tolist()) <= {0.0, float(np.float32(1 / 0.75))}


def test_devices_config_version_and_format():
    cpus = tf.config.list_physical_devices("CPU")
    assert len(cpus) == 1 and cpus[0].device_type == "CPU"
    assert tf.config.list_physical_devices("GPU") == []
    with tf.device("/GPU:0"):
        t = tf.constant([1.0]) * 2
    assert t.device.endswith("CPU:0")
    assert tf.version.VERSION == tf.__version__
    assert f"{tf.reduce_sum(tf.constant([0.25, 0.5])):.3f}" == "0.750"
    assert "Tensor(" in f"{tf.constant([1.0, 2.0])}"
    with pytest.raises(TypeError, match="one-element"):
        f"{tf.constant([1.0, 2.0]):.2f}"
    assert tf.math.reduce_sum is tf.reduce_sum and tf.dtypes.float32 == np.float32


def test_keras_random_seeds_and_dropout():
    gen = tf.keras.random.SeedGenerator(5)
    a, b = tf.keras.random.uniform((3,), seed=gen), tf.keras.random.uniform((3,), seed=gen)
    assert not np.array_equal(a.numpy(), b.numpy())  # a SeedGenerator advances
    again = tf.keras.random.SeedGenerator(5)
    np.testing.assert_array_equal(tf.keras.random.uniform((3,), seed=again).numpy(), a.numpy())
    np.testing.assert_array_equal(tf.keras.random.normal((3,), seed=7).numpy(),
                                  tf.keras.random.normal((3,), seed=7).numpy())  # int: same draw
    x = tf.constant(np.ones((2000,), np.float32))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.keras.random.dropout(x, rate=0.5, seed=1)
    kept = y.numpy() != 0
    assert 0.4 < kept.mean() < 0.6 and np.all(y.numpy()[kept] == 2.0)
    np.testing.assert_array_equal(tape.gradient(tf.reduce_sum(y), x).numpy(), 2.0 * kept)


def test_top_level_split_takes_sizes_as_tensorflow_does():
    # tf.split(x, [1, 2], axis=1): two parts of widths 1 and 2 (NumPy's split would cut at 1 and 2)
    import unafraid
    parts = unafraid.split(np.arange(6.0).reshape(2, 3), [1, 2], axis=1)
    assert [p.shape for p in parts] == [(2, 1), (2, 2)]
    np.testing.assert_array_equal(parts[1].numpy(), [[1.0, 2.0], [4.0, 5.0]])


def test_range_has_tensorflows_length_for_float_steps():
    # TensorFlow: tf.range(0.1, 1.1, 0.1) has 10 values; float32 roundings of the bounds gave 11
    assert len(tf.range(0.1, 1.1, 0.1).numpy()) == 10
    assert tf.range(1, 10, 3).numpy().tolist() == [1, 4, 7]


def test_a_variables_numpy_is_a_copy_that_later_updates_leave_alone():
    v = tf.Variable([1.0, 2.0])
    before = v.numpy()
    v.assign_add([1.0, 1.0])
    assert before.tolist() == [1.0, 2.0] and v.numpy().tolist() == [2.0, 3.0]


def test_sort_and_argsort_follow_keras_3_and_keep_ties_in_order():
    """Values against Keras 3 on JAX (keras.ops) and NumPy's stable sort; descending by hand."""
    pytest.importorskip("jax")
    import os
    os.environ.setdefault("KERAS_BACKEND", "jax")
    keras = pytest.importorskip("keras")
    x = np.array([[3.0, 1.0, 3.0, 2.0], [0.0, -1.0, 5.0, -1.0]], np.float32)
    for axis in (-1, 0):
        np.testing.assert_array_equal(tf.keras.ops.sort(x, axis=axis).numpy(),
                                      np.asarray(keras.ops.sort(x, axis=axis)))
        np.testing.assert_array_equal(tf.keras.ops.argsort(x, axis=axis).numpy(),
                                      np.asarray(keras.ops.argsort(x, axis=axis)))
    np.testing.assert_array_equal(tf.keras.ops.sort(x, axis=None).numpy(), np.sort(x, axis=None))
    assert tf.argsort(x).numpy().dtype == np.int32
    # TensorFlow's DESCENDING: equal values keep their order ([3, 1, 3, 2] -> 0, 2, 3, 1)
    np.testing.assert_array_equal(tf.argsort(x, direction="DESCENDING").numpy(),
                                  [[0, 2, 3, 1], [2, 0, 1, 3]])
    np.testing.assert_array_equal(tf.sort(x, axis=0, direction="DESCENDING").numpy(),
                                  [[3.0, 1.0, 5.0, 2.0], [0.0, -1.0, 3.0, -1.0]])
    with pytest.raises(ValueError, match="tf.sort: direction must be 'ASCENDING' or 'DESCENDING'"):
        tf.sort(x, direction="down")


def test_floordiv_and_floormod_round_as_pythons_floor_division():
    a = np.array([-7.0, 7.0, -7.5, 6.0], np.float32)
    b = np.array([2.0, -2.0, 2.0, 4.0], np.float32)
    expected_div = [x // y for x, y in zip(a.tolist(), b.tolist(), strict=True)]   # [-4, -4, -4, 1]
    expected_mod = [x % y for x, y in zip(a.tolist(), b.tolist(), strict=True)]    # [1, -1, 0.5, 2]
    np.testing.assert_array_equal(tf.math.floordiv(a, b).numpy(), expected_div)
    np.testing.assert_array_equal(tf.math.floormod(a, b).numpy(), expected_mod)
    assert tf.math.mod is tf.math.floormod and int(tf.math.floordiv(-7, 2)) == -4


def test_is_tensor():
    assert tf.is_tensor(tf.constant(1.0)) and tf.is_tensor(tf.Variable([1.0]))
    assert not tf.is_tensor(np.ones(2)) and not tf.is_tensor(1.0)


def test_top_k_values_and_indices_hand_worked():
    values, indices = tf.math.top_k([[1.0, 3.0, 2.0, 3.0], [0.0, -1.0, 5.0, 4.0]], k=3)
    np.testing.assert_array_equal(values.numpy(), [[3.0, 3.0, 2.0], [5.0, 4.0, 0.0]])
    np.testing.assert_array_equal(indices.numpy(), [[1, 3, 2], [2, 3, 0]])  # ties: lower index first
    assert indices.dtype == np.int32
    result = tf.math.top_k([2.0, 7.0])
    assert result.values.numpy().tolist() == [7.0] and result.indices.numpy().tolist() == [1]
    kv, ki = tf.keras.ops.top_k(np.array([1.0, 3.0, 2.0]), 2)
    assert kv.numpy().tolist() == [3.0, 2.0] and ki.numpy().tolist() == [1, 2]
    with pytest.raises(ValueError, match="k=5"):
        tf.math.top_k([1.0, 2.0], k=5)


def test_top_k_gradient_matches_finite_differences():
    check_grad(lambda x: tf.math.top_k(x, k=2).values * W[:2, 0], X)


EINSUM_A, EINSUM_B = rng.normal(size=(2, 3, 4)), rng.normal(size=(4, 5))


@pytest.mark.parametrize("equation, shapes", [
    ("bij,jk->bik", [(2, 3, 4), (4, 5)]),
    ("...ij,jk->...ik", [(2, 3, 4), (4, 5)]),
    ("ij,jk", [(3, 4), (4, 5)]),  # implicit output: 'ik'
    ("bij->jb", [(2, 3, 4)]),
    ("bij,bij->b", [(2, 3, 4), (2, 3, 4)]),
    ("i,j->ij", [(3,), (4,)]),
])
def test_einsum_values_follow_numpy(equation, shapes):
    arrays = [rng.normal(size=s) for s in shapes]
    np.testing.assert_allclose(tf.einsum(equation, *arrays).numpy(), np.einsum(equation, *arrays),
                               rtol=1e-12)
    np.testing.assert_allclose(tf.keras.ops.einsum(equation, *arrays).numpy(),
                               np.einsum(equation, *arrays), rtol=1e-12)


def test_einsum_broadcasts_axes_of_length_one():
    a, b = rng.normal(size=(1, 3)), rng.normal(size=(4, 3))
    np.testing.assert_allclose(tf.einsum("ij,ij->ij", a, b).numpy(), a * b, rtol=1e-12)
    check_grad(lambda x: tf.einsum("ij,ij->i", x, b), a)


def test_einsum_reads_diagonals_and_refuses_mismatched_lengths():
    m, t = rng.normal(size=(3, 3)), rng.normal(size=(3, 2, 3))
    np.testing.assert_allclose(tf.einsum("ii->i", m).numpy(), np.diag(m), rtol=1e-12)
    np.testing.assert_allclose(tf.einsum("ii", m).numpy(), np.trace(m), rtol=1e-12)
    np.testing.assert_allclose(tf.einsum("iji,jk->ik", t, EINSUM_B[:2]).numpy(),
                               np.einsum("iji,jk->ik", t, EINSUM_B[:2]), rtol=1e-12)
    check_grad(lambda x: tf.einsum("iji,jk->ik", x, EINSUM_B[:2]), t)
    check_grad(lambda x: tf.einsum("ii", x), m)
    with pytest.raises(ValueError, match="diagonal needs equal lengths"):
        tf.einsum("ii->i", np.ones((2, 3)))
    with pytest.raises(ValueError, match="letter 'j'"):
        tf.einsum("ij,jk->ik", np.ones((2, 3)), np.ones((4, 5)))


@pytest.mark.parametrize("equation, which", [("bij,jk->bk", 0), ("bij,jk->bk", 1),
                                             ("...ij,jk", 0), ("bij,jk->", 1)])
def test_einsum_gradients_match_finite_differences(equation, which):
    operands = [EINSUM_A, EINSUM_B]

    def f(x):
        args = list(operands)
        args[which] = x
        return tf.einsum(equation, *args)

    check_grad(f, operands[which])


def test_einsum_second_derivative_matches_finite_differences():
    check_grad(lambda x: tf.einsum("bij,jk->bk", x, tf.expand_dims(x[0, 0], 1) * EINSUM_B) ** 2,
               EINSUM_A, order=2)


P3 = rng.normal(size=(2, 3, 4))


def test_gather_nd_follows_tensorflows_examples():
    # tf.gather_nd's documented examples, worked by hand
    matrix = [[1.0, 2.0], [3.0, 4.0]]
    np.testing.assert_array_equal(tf.gather_nd(matrix, [[0, 0], [1, 1]]).numpy(), [1.0, 4.0])
    np.testing.assert_array_equal(tf.gather_nd([[1.0, 2.0], [3.0, 4.0]], [[1], [0]]).numpy(),
                                  [[3.0, 4.0], [1.0, 2.0]])
    np.testing.assert_array_equal(tf.gather_nd(P3, [[[1, 2, 3]], [[0, 0, 1]]]).numpy(),
                                  [[P3[1, 2, 3]], [P3[0, 0, 1]]])
    # batch_dims=1: each batch row indexes its own slice
    np.testing.assert_array_equal(tf.gather_nd(P3, [[1, 2], [0, 3]], batch_dims=1).numpy(),
                                  [P3[0, 1, 2], P3[1, 0, 3]])
    with pytest.raises(IndexError, match=r"indices\[1\] = \[2, 0\]"):
        tf.gather_nd([[1.0, 2.0], [3.0, 4.0]], [[0, 0], [2, 0]])


def test_scatter_nd_adds_repeated_indices():
    np.testing.assert_array_equal(  # TensorFlow's documented example
        tf.scatter_nd([[4], [3], [1], [7]], [9.0, 10.0, 11.0, 12.0], [8]).numpy(),
        [0, 11, 0, 10, 9, 0, 0, 12])
    out = tf.scatter_nd([[0, 1], [0, 1], [2, 0]], [1.0, 2.0, 5.0], tf.constant([3, 2])).numpy()
    np.testing.assert_array_equal(out, [[0.0, 3.0], [0.0, 0.0], [5.0, 0.0]])
    rows = tf.scatter_nd([[1], [1]], [[1.0, 2.0], [3.0, 4.0]], [3, 2]).numpy()
    np.testing.assert_array_equal(rows, [[0, 0], [4, 6], [0, 0]])
    with pytest.raises(ValueError, match=r"updates must have shape"):
        tf.scatter_nd([[1]], [1.0, 2.0], [3])


def test_gather_nd_and_scatter_nd_gradients_match_finite_differences():
    check_grad(lambda p: tf.gather_nd(p, [[[1, 2], [0, 0]], [[1, 2], [1, 0]]]), P3)
    check_grad(lambda p: tf.gather_nd(p, [[2, 1], [0, 3]], batch_dims=1), P3)
    check_grad(lambda u: tf.scatter_nd([[0, 1], [2, 0], [0, 1]], u, [3, 2, 4]) ** 2, X)


def test_unique_keeps_first_appearance_order():
    y, idx = tf.unique([1, 1, 2, 4, 4, 4, 7, 8, 8])  # TensorFlow's documented example
    assert y.numpy().tolist() == [1, 2, 4, 7, 8]
    assert idx.numpy().tolist() == [0, 0, 1, 2, 2, 2, 3, 4, 4] and idx.dtype == np.int32
    result = tf.unique(np.array([3.0, -1.0, 3.0, 0.5]))
    assert result.y.numpy().tolist() == [3.0, -1.0, 0.5] and result.idx.numpy().tolist() == [0, 1, 0, 2]
    with pytest.raises(ValueError, match="1-D"):
        tf.unique(np.ones((2, 2)))


def test_random_categorical_draws_with_the_softmax_probabilities():
    probs = np.array([[0.2, 0.5, 0.3, 0.0], [0.9, 0.05, 0.05, 0.0]])
    with np.errstate(divide="ignore"):
        logits = np.log(probs) + 3.0  # unnormalised; log(0) = -inf: never drawn
    draws = tf.random.categorical(logits, 40000, seed=2).numpy()
    assert draws.shape == (2, 40000) and draws.dtype == np.int64
    freq = np.stack([np.bincount(row, minlength=4) / 40000 for row in draws])
    # binomial standard error at n = 40000 is at most 0.0025: 4 of them
    np.testing.assert_allclose(freq, probs, atol=0.01)
    assert freq[:, 3].sum() == 0
    assert tf.random.categorical(logits, 2, dtype=None, seed=1).dtype == np.int64
    assert tf.random.categorical(logits, 2, dtype=tf.int32, seed=1).dtype == np.int32
    same = tf.random.categorical(logits, 5, seed=9).numpy()
    np.testing.assert_array_equal(same, tf.random.categorical(logits, 5, seed=9).numpy())
    tf.set_random_seed(4)
    first = tf.random.categorical(logits, 8).numpy()
    tf.set_random_seed(4)
    np.testing.assert_array_equal(first, tf.random.categorical(logits, 8).numpy())  # library seed
    keras_draws = tf.keras.random.categorical(logits, 3, seed=1)
    assert keras_draws.dtype == np.int32 and keras_draws.shape == (2, 3)
    with pytest.raises(ValueError, match="batch, num_classes"):
        tf.random.categorical([0.0, 1.0], 2)


def test_keras_random_randint_and_shuffle():
    ints = tf.keras.random.randint((400,), 2, 5, seed=3).numpy()
    assert ints.dtype == np.int32 and set(ints.tolist()) == {2, 3, 4}
    np.testing.assert_array_equal(ints, tf.keras.random.randint((400,), 2, 5, seed=3).numpy())
    x = np.arange(12.0).reshape(3, 4)
    rows = tf.keras.random.shuffle(x, seed=5).numpy()
    assert sorted(map(tuple, rows)) == sorted(map(tuple, x))  # the same rows, reordered
    cols = tf.keras.random.shuffle(x, axis=1, seed=5).numpy()
    np.testing.assert_array_equal(np.sort(cols, axis=1), x)
    assert len({tuple(c) for c in cols.T} & {tuple(c) for c in x.T}) == 4  # whole columns moved
    gen = tf.keras.random.SeedGenerator(1)
    orders = {tuple(tf.keras.random.shuffle(np.arange(8), seed=gen).numpy()) for _ in range(3)}
    assert len(orders) == 3  # a SeedGenerator advances


def test_keras_random_shuffle_gradient_goes_back_to_each_entry():
    x = tf.constant(X)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.keras.random.shuffle(x, seed=2)
        loss = tf.reduce_sum(y * W[:3, :1])
    moved = y.numpy()
    grad = tape.gradient(loss, x).numpy()
    # each row of x got the weight of the row it moved to (hand-worked: match rows by value)
    for i in range(3):
        j = int(np.flatnonzero((moved == X[i]).all(axis=1))[0])
        np.testing.assert_allclose(grad[i], np.full(4, W[j, 0]))


def test_new_ops_work_on_keras_inputs_in_a_functional_model():
    assert tf.nn.top_k is tf.math.top_k
    inputs = tf.keras.Input((3,))
    kernel = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], np.float32)
    summed = tf.einsum("bi,ij->bj", inputs, kernel)
    largest = tf.keras.ops.top_k(inputs, 2)[0]
    model = tf.keras.Model(inputs, [summed, largest])
    a, b = model.predict(np.array([[0.0, 1.0, 2.0], [5.0, 3.0, 4.0]], np.float32), verbose=0)
    np.testing.assert_array_equal(a, [[2.0, 3.0], [9.0, 7.0]])  # x0 + x2, x1 + x2
    np.testing.assert_array_equal(b, [[2.0, 1.0], [5.0, 4.0]])


@pytest.mark.slow
def test_top_k_and_einsum_agree_with_keras_3_on_jax():
    import os

    os.environ.setdefault("KERAS_BACKEND", "jax")
    keras = pytest.importorskip("keras", reason="keras (JAX backend) is in the test extra")
    jax = pytest.importorskip("jax", reason="jax is in the test extra")
    x = np.array([[1.0, 3.0, 2.0, 3.0], [4.0, 4.0, 0.0, 4.0]], np.float32)
    kv, ki = keras.ops.top_k(x, 3)
    ov, oi = tf.keras.ops.top_k(x, 3)
    np.testing.assert_array_equal(ov.numpy(), np.asarray(kv))
    np.testing.assert_array_equal(oi.numpy(), np.asarray(ki))  # ties: the lower index first
    a, b = EINSUM_A.astype(np.float32), EINSUM_B.astype(np.float32)
    v = rng.normal(size=(2, 5)).astype(np.float32)
    expected = jax.grad(lambda p, q: (keras.ops.einsum("...ij,jk->...k", p, q) * v).sum(),
                        argnums=(0, 1))(a, b)
    ta, tb = tf.constant(a), tf.constant(b)
    with tf.GradientTape() as tape:
        tape.watch([ta, tb])
        y = tf.reduce_sum(tf.keras.ops.einsum("...ij,jk->...k", ta, tb) * v)
    got = tape.gradient(y, [ta, tb])
    for ours, theirs in zip(got, expected, strict=True):
        np.testing.assert_allclose(ours.numpy(), np.asarray(theirs), rtol=1e-5, atol=1e-5)
