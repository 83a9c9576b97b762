"""tf.GradientTape and tf.function: against finite differences and against unafraid.grad."""

import numpy as np
import pytest

import unafraid as tf
import unafraid as uf


@pytest.fixture(autouse=True)
def _default_seed_afterwards():
    """Tests here set seeds; later test files start from the library's default seed again."""
    yield
    tf.set_random_seed(tf.random.DEFAULT_SEED)


def central_difference(f, x, eps=1e-6):
    """d f / d x for scalar-valued f of a float64 array, by central differences."""
    g = np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        g[i] = (f(up) - f(down)) / (2 * eps)
    return g


def test_watch_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    x0, w0 = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))

    def f(x, w):
        return tf.reduce_sum(tf.tanh(tf.matmul(x, w)) ** 2) + tf.reduce_mean(tf.exp(x))

    x, w = tf.constant(x0), tf.Variable(w0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = f(x, w)
    gx, gw = tape.gradient(y, [x, w])
    np.testing.assert_allclose(gx.numpy(), central_difference(lambda a: float(f(a, w0)), x0),
                               rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gw.numpy(), central_difference(lambda a: float(f(x0, a)), w0),
                               rtol=1e-6, atol=1e-8)
    assert not x.requires_grad  # watching lasts as long as the tape


def test_nested_sources_persistent_and_unconnected():
    a, b, c = tf.Variable([1.0, 2.0]), tf.Variable(3.0), tf.Variable(5.0)
    with tf.GradientTape(persistent=True) as tape:
        y = tf.reduce_sum(a * a) * b  # dy/da = 2 a b, dy/db = sum(a^2)
    grads = tape.gradient(y, {"a": a, "rest": (b, c)})
    np.testing.assert_allclose(grads["a"].numpy(), [6.0, 12.0])
    assert float(grads["rest"][0]) == 5.0 and grads["rest"][1] is None
    again = tape.gradient(y, [b, c], unconnected_gradients="zero")  # persistent: a second call
    assert float(again[0]) == 5.0 and float(again[1]) == 0.0
    with tf.GradientTape() as once:
        z = b * b
    once.gradient(z, b)
    with pytest.raises(RuntimeError, match="persistent=True"):
        once.gradient(z, b)


def test_non_scalar_target_is_summed_and_output_gradients():
    x = tf.constant([1.0, 2.0, 3.0])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [2.0, 4.0, 6.0])
    np.testing.assert_allclose(tape.gradient(y, x, output_gradients=tf.constant([1.0, 0.0, 2.0]))
                               .numpy(), [2.0, 0.0, 12.0])
    jac = tape.jacobian(y, x).numpy()
    np.testing.assert_allclose(jac, np.diag([2.0, 4.0, 6.0]))


def test_nested_tapes_give_second_derivatives():
    x0 = np.array([0.3, -1.2, 2.0])
    x = tf.constant(x0)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = tf.reduce_sum(x ** 3)
        dy = inner.gradient(y, x)  # 3 x^2
    d2y = outer.gradient(dy, x)  # 6 x
    np.testing.assert_allclose(dy.numpy(), 3 * x0 ** 2, rtol=1e-12)
    np.testing.assert_allclose(d2y.numpy(), 6 * x0, rtol=1e-12)


def test_stop_recording_and_watch_accessed_variables():
    v, w = tf.Variable(2.0), tf.Variable(3.0)
    with tf.GradientTape() as tape:
        with tape.stop_recording():
            frozen = v * v
        y = frozen * w + v
    gv, gw = tape.gradient(y, [v, w])
    assert float(gv) == 1.0 and float(gw) == 4.0  # v*v was not recorded
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(w)
        y = v * w
    gv, gw = tape.gradient(y, [v, w])
    assert gv is None and float(gw) == 2.0
    with pytest.raises(TypeError, match="tf.constant"):
        tf.GradientTape().watch(np.ones(3))


def test_wgan_gp_step_with_nested_tapes_matches_unafraid_grad():
    """The gradient-penalty critic step of WGAN-GP, written with tapes, against uf.grad."""
    uf.set_random_seed(0)
    critic = tf.keras.Sequential([tf.keras.layers.Dense(8, activation="tanh"),
                                  tf.keras.layers.Dense(1)])
    rng = np.random.default_rng(1)
    real = rng.normal(size=(6, 3)).astype(np.float32)
    fake = rng.normal(size=(6, 3)).astype(np.float32)
    alpha = rng.uniform(size=(6, 1)).astype(np.float32)
    x_hat = tf.constant(alpha * real + (1 - alpha) * fake)
    critic(x_hat)  # build
    weights = critic.trainable_variables

    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            inner.watch(x_hat)
            pred = critic(x_hat)
        g = inner.gradient(pred, x_hat)
        norm = tf.sqrt(tf.reduce_sum(tf.square(g), axis=1) + 1e-12)
        gp = tf.reduce_mean((norm - 1.0) ** 2)
        loss = tf.reduce_mean(critic(fake)) - tf.reduce_mean(critic(real)) + 10.0 * gp
    tape_grads = outer.gradient(loss, weights)

    def critic_loss(ws):
        gx = uf.grad(lambda xh: uf.sum(critic(xh)))(x_hat.numpy())
        penalty = uf.mean((uf.sqrt(uf.sum(gx * gx, axis=1) + 1e-12) - 1.0) ** 2)
        return uf.mean(critic(fake)) - uf.mean(critic(real)) + 10.0 * penalty

    ref = uf.grad(critic_loss)(weights)
    for a, b in zip(tape_grads, ref, strict=True):
        np.testing.assert_allclose(a.numpy(), b, rtol=1e-5, atol=1e-6)
    assert any(np.abs(b).max() > 0 for b in ref)

    # the penalty reaches the weights only through the inner tape's gradient (grad of grad):
    # with that gradient taken as a constant the weights' gradients change by far more than the
    # tolerance, so the match above is not one of two paths both missing the second order
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            inner.watch(x_hat)
            pred = critic(x_hat)
        g = tf.constant(inner.gradient(pred, x_hat).numpy())
        gp = tf.reduce_mean((tf.sqrt(tf.reduce_sum(tf.square(g), axis=1) + 1e-12) - 1.0) ** 2)
        loss = tf.reduce_mean(critic(fake)) - tf.reduce_mean(critic(real)) + 10.0 * gp
    first_order_only = outer.gradient(loss, weights)
    assert np.abs(first_order_only[0].numpy() - tape_grads[0].numpy()).max() > 0.1


def test_optimizer_apply_gradients_takes_tape_tensors_and_iterations():
    w = tf.Variable([1.0, -2.0])
    opt = tf.keras.optimizers.SGD(learning_rate=0.5)
    for _ in range(2):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(w * w)
        grads = tape.gradient(loss, [w])
        opt.apply_gradients(zip(grads, [w], strict=True))
    np.testing.assert_allclose(w.numpy(), [0.0, 0.0])  # w - 0.5 * 2w = 0 after one step
    assert int(opt.iterations) == 2 and opt.iterations.numpy() == 2


def test_function_decorator_runs_eagerly():
    calls = []

    @tf.function(reduce_retracing=True, jit_compile=True)
    def step(x):
        calls.append(1)
        return x * 2

    @tf.function
    def plain(x):
        return x + 1

    @tf.function(input_signature=[tf.TensorSpec(shape=(None,), dtype=tf.float32)])
    def sig(x):
        return x

    assert float(step(tf.constant(2.0))) == 4.0 and len(calls) == 1
    assert float(plain(1.0)) == 2.0 and sig(tf.constant([1.0])).shape == (1,)
    assert step.python_function(3) == 6


def test_module_and_variables_as_layer_attributes_train_with_a_tape():
    """The 'custom training basics' pattern: tf.Module (and a Keras Model) holding tf.Variables."""

    class Line(tf.Module):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.w, self.b = tf.Variable(5.0), tf.Variable(0.0)
            self.frozen = tf.Variable(1.0, trainable=False)
            self.parts = [tf.keras.layers.Dense(1)]

        def __call__(self, x):
            return self.w * x + self.b

    line = Line(name="line")
    line.parts[0].build((None, 2))
    assert line.name == "line" and len(line.variables) == 5 and len(line.trainable_variables) == 4
    assert line.submodules == [line.parts[0]]
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape() as t:
        loss = tf.reduce_mean(tf.square(line(x) - tf.constant([3.0, 5.0])))
    dw, db = t.gradient(loss, [line.w, line.b])
    # residuals 5x - [3, 5] = [2, 5]: dL/dw = mean(2 r x) = 12, dL/db = mean(2 r) = 7
    assert float(dw) == 12.0 and float(db) == 7.0
    line.w.assign_sub(0.1 * dw)
    assert float(line.w) == pytest.approx(3.8)

    class KerasLine(tf.keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.w = tf.Variable(5.0)
            self.b = tf.Variable(0.0)

        def call(self, x):
            return self.w * x + self.b

    model = KerasLine()
    assert len(model.trainable_variables) == 2 and model.trainable_variables[0] is model.w
