"""unafraid.cells.WGANGP: the gradient penalty's gradient against float64 finite differences,
determinism, conditioning, checkpoints and the history."""

from __future__ import annotations

import numpy as np
import pytest

import unafraid as uf
from unafraid.cells import WGANGP
from unafraid.cells.gan import gradient_penalty, one_hot


def toy_cells(n: int = 48, genes: int = 6, seed: int = 0) -> np.ndarray:
    return np.maximum(np.random.default_rng(seed).normal(size=(n, genes)) + 0.5, 0).astype(np.float32)


def tiny(seed: int = 0, dtype: str = "float32", **kw) -> WGANGP:
    return WGANGP(latent_dim=3, generator_units=(5,), critic_units=(7, 4), batch_size=8, seed=seed,
                  dtype=dtype, **kw)


def central_differences(loss, weights, h: float = 1e-6) -> list[np.ndarray]:
    """d loss / d w by (loss(w + h e_i) - loss(w - h e_i)) / 2h, entry by entry."""
    out = []
    for w in weights:
        base = np.array(w.numpy(), dtype=np.float64)
        grad = np.zeros_like(base)
        for i in np.ndindex(base.shape):
            for sign in (1, -1):
                shifted = base.copy()
                shifted[i] += sign * h
                w.assign(shifted)
                grad[i] += sign * float(np.asarray(loss())) / (2 * h)
            w.assign(base)
        out.append(grad)
    return out


@pytest.mark.parametrize("conditional, conditioning", [(False, "concat"), (True, "concat"),
                                                       (True, "acgan")])
def test_critic_loss_gradient_matches_float64_finite_differences(conditional, conditioning):
    gan = tiny(dtype="float64", conditioning=conditioning, classifier_weight=0.7).build(
        n_genes=6, n_classes=3 if conditional else 0)
    rng = np.random.default_rng(1)
    real, fake = rng.random((5, 6)), rng.random((5, 6))
    eps = rng.random((5, 1))
    cond = one_hot([0, 2, 1, 1, 0], 3) .astype(np.float64) if conditional else None
    weights = gan.critic.trainable_weights
    for w in weights:  # non-zero biases, so that every term is exercised
        w.assign(np.asarray(w.numpy()) + 0.1 * rng.normal(size=w.shape))
    _, analytic = uf.value_and_grad(gan.critic_loss)(weights, real, fake, eps, cond)
    numeric = central_differences(lambda: gan.critic_loss(weights, real, fake, eps, cond), weights)
    for a, n in zip(analytic, numeric, strict=True):
        np.testing.assert_allclose(np.asarray(a), n, rtol=1e-5, atol=1e-7)


def test_acgan_losses_hand_computed_and_generator_gradient_matches_finite_differences():
    # conditioning="acgan": the critic does not see the type; its outputs are [D, K logits]
    gan = tiny(dtype="float64", conditioning="acgan", classifier_weight=0.5).build(n_genes=6,
                                                                                  n_classes=3)
    assert gan.critic.inputs[0].shape[-1] == 6 and gan.critic.outputs[0].shape[-1] == 4
    rng = np.random.default_rng(3)
    real, fake, eps = rng.random((5, 6)), rng.random((5, 6)), rng.random((5, 1))
    codes = np.array([0, 2, 1, 1, 0])
    cond = one_hot(codes, 3).astype(np.float64)
    out_r, out_f = np.asarray(gan.critic(real)), np.asarray(gan.critic(fake))

    def cross_entropy(logits):   # -log softmax(logits)[code], by hand
        shifted = logits - logits.max(axis=1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return -logp[np.arange(len(codes)), codes].mean()

    penalty = float(np.asarray(gradient_penalty(gan.critic, real, fake, eps, score_column=0)))
    expected = (out_f[:, 0].mean() - out_r[:, 0].mean() + 10 * penalty
                + 0.5 * cross_entropy(out_r[:, 1:]))
    assert float(np.asarray(gan.critic_loss(None, real, fake, eps, cond))) == pytest.approx(expected,
                                                                                           rel=1e-10)
    weights = gan.generator.trainable_weights
    z = rng.normal(size=(5, 3))
    fake_z = np.asarray(gan.generator(np.concatenate([z, cond], axis=1)))
    out_z = np.asarray(gan.critic(fake_z))
    assert float(np.asarray(gan.generator_loss(None, z, cond))) == pytest.approx(
        -out_z[:, 0].mean() + 0.5 * cross_entropy(out_z[:, 1:]), rel=1e-10)
    for w in weights:   # non-zero biases: every ReLU unit live somewhere
        w.assign(np.asarray(w.numpy()) + 0.1 * rng.normal(size=w.shape))
    _, analytic = uf.value_and_grad(gan.generator_loss)(weights, z, cond)
    numeric = central_differences(lambda: gan.generator_loss(weights, z, cond), weights)
    for a, n in zip(analytic, numeric, strict=True):
        np.testing.assert_allclose(np.asarray(a), n, rtol=1e-5, atol=1e-7)


def test_acgan_trains_deterministically_and_generates_each_type():
    x = toy_cells()
    labels = np.arange(len(x)) % 3
    a = tiny(conditioning="acgan").fit(x, labels, steps=2, verbose=0)
    b = tiny(conditioning="acgan").fit(x, labels, steps=2, verbose=0)
    assert np.array_equal(a.generate(9, labels=[0, 1, 2] * 3), b.generate(9, labels=[0, 1, 2] * 3))
    assert not np.array_equal(a.generate(4, labels=0), a.generate(4, labels=1))


def test_pytorch_init_draws_weights_and_biases_from_plus_minus_one_over_sqrt_fan_in():
    # PyTorch's nn.Linear: kaiming_uniform_(a=sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for
    # the weight, and the same bound for the bias
    gan = WGANGP(seed=3).build(n_genes=765)   # the default
    fan_ins = [64, 256, 512, 765, 512, 256]
    weights = gan.generator.trainable_weights + gan.critic.trainable_weights
    for fan_in, (kernel, bias) in zip(fan_ins, zip(weights[::2], weights[1::2], strict=True),
                                      strict=True):
        bound = 1 / np.sqrt(fan_in)
        for w in (np.asarray(kernel), np.asarray(bias)):
            assert np.abs(w).max() <= bound
            if w.size > 100:   # uniform on the whole interval: the std is bound / sqrt(3)
                assert w.std() == pytest.approx(bound / np.sqrt(3), rel=0.1)
    glorot = WGANGP(init="glorot", seed=3).build(n_genes=765)
    assert not np.asarray(glorot.generator.trainable_weights[1]).any()   # Keras: zero biases
    with pytest.raises(ValueError, match="init must be 'glorot' or 'pytorch'"):
        WGANGP(init="he")
    with pytest.raises(ValueError, match="conditioning must be 'concat' or 'acgan'"):
        WGANGP(conditioning="projection")


def test_gradient_penalty_alone_matches_finite_differences_and_is_not_trivial():
    gan = tiny(dtype="float64").build(n_genes=6)
    rng = np.random.default_rng(2)
    real, fake, eps = rng.random((4, 6)), rng.random((4, 6)), rng.random((4, 1))
    weights = gan.critic.trainable_weights

    def penalty(_w=None):
        return gradient_penalty(gan.critic, real, fake, eps)

    _, analytic = uf.value_and_grad(penalty)(weights)
    numeric = central_differences(penalty, weights)
    assert max(np.abs(n).max() for n in numeric) > 1e-3  # the penalty depends on the weights
    for a, n in zip(analytic, numeric, strict=True):
        np.testing.assert_allclose(np.asarray(a), n, rtol=1e-5, atol=1e-7)


def test_gradient_penalty_hand_worked_for_a_linear_critic():
    # D(x) = x . w: grad_x D = w for every x, so the penalty is (||w|| - 1)^2 = (5 - 1)^2
    critic = uf.keras.Sequential([uf.keras.Input(shape=(2,)), uf.keras.layers.Dense(1, use_bias=False)])
    critic.set_weights([np.array([[3.0], [4.0]], np.float32)])
    x = np.ones((3, 2), np.float32)
    assert float(np.asarray(gradient_penalty(critic, x, 2 * x, np.full((3, 1), 0.3, np.float32)))) == \
        pytest.approx(16.0, rel=1e-5)


def test_same_seed_identical_cells_different_seed_different():
    x = toy_cells()
    a = tiny(seed=4).fit(x, steps=3, verbose=0)
    b = tiny(seed=4).fit(x, steps=3, verbose=0)
    c = tiny(seed=5).fit(x, steps=3, verbose=0)
    assert np.array_equal(a.generate(20), b.generate(20))
    assert all(np.array_equal(u, v) for u, v in zip(a.critic.get_weights(), b.critic.get_weights(),
                                                           strict=True))
    assert a.history.history == b.history.history
    assert not np.array_equal(a.generate(20), c.generate(20))


def test_history_generation_and_non_negative_output():
    x = toy_cells()
    gan = tiny(n_critic=2).fit(x, steps=4, verbose=0)
    log = gan.history.history
    assert set(log) == {"critic_loss", "generator_loss", "wasserstein", "gradient_penalty"}
    assert all(len(v) == 4 and np.all(np.isfinite(v)) for v in log.values())
    assert min(log["gradient_penalty"]) >= 0
    cells = gan.generate(30)
    assert cells.shape == (30, 6) and cells.dtype == np.float32 and cells.min() >= 0
    assert np.array_equal(cells, gan.generate(30))              # default noise seed: stable
    assert not np.array_equal(cells, gan.generate(30, seed=9))


def test_adam_settings_and_network_sizes():
    gan = WGANGP().build(n_genes=765)
    shapes = [tuple(w.shape) for w in gan.generator.trainable_weights]
    assert shapes == [(64, 256), (256,), (256, 512), (512,), (512, 765), (765,)]
    assert [tuple(w.shape) for w in gan.critic.trainable_weights][::2] == [(765, 512), (512, 256), (256, 1)]
    cfg = gan.c_opt.get_config()
    assert (cfg["learning_rate"], cfg["beta_1"], cfg["beta_2"]) == pytest.approx((1e-4, 0.5, 0.9))
    assert (gan.n_critic, gan.penalty) == (5, 10.0)


def test_conditional_generation_and_label_errors():
    x = toy_cells()
    labels = np.arange(len(x)) % 3
    gan = tiny().fit(x, labels, steps=2, verbose=0)
    assert gan.n_classes == 3
    # the default conditioning is AC-GAN: the critic sees the cells only, with 1 + 3 outputs
    assert gan.conditioning == "acgan"
    assert gan.critic.layers[0].kernel.shape[0] == 6 and gan.critic.layers[-1].units == 4
    assert gan.generate(7, labels=2).shape == (7, 6)
    assert gan.generate(3, labels=[0, 1, 2]).shape == (3, 6)
    with pytest.raises(ValueError, match="conditional; give labels"):
        gan.generate(3)
    with pytest.raises(ValueError, match=r"0\.\.2"):
        gan.generate(2, labels=[0, 5])
    with pytest.raises(ValueError, match="without cell types"):
        tiny().fit(x, steps=1, verbose=0).generate(2, labels=0)


def test_checkpoints_are_written_and_restore_the_generator(tmp_path):
    x = toy_cells()
    gan = tiny().fit(x, steps=4, checkpoint_dir=tmp_path, checkpoint_every=2, verbose=0)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["critic-step000002.safetensors", "critic-step000004.safetensors",
                     "generator-step000002.safetensors", "generator-step000004.safetensors"]
    restored = tiny().build(n_genes=6)
    restored.generator.load_weights(tmp_path / "generator-step000004.safetensors")
    assert np.array_equal(restored.generate(10), gan.generate(10))


def test_misuse_is_explained():
    with pytest.raises(ValueError, match="non-negative"):
        tiny().fit(-toy_cells() - 1, steps=1, verbose=0)
    with pytest.raises(ValueError, match="one code per cell"):
        tiny().fit(toy_cells(), labels=[0, 1], steps=1, verbose=0)
    with pytest.raises(ValueError, match="n_critic must be a positive integer"):
        WGANGP(n_critic=0)
    with pytest.raises(RuntimeError, match="call fit"):
        WGANGP().generate(2)
