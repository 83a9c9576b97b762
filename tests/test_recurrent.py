"""SimpleRNN, LSTM and GRU (unafraid/layers/recurrent.py) against three independent oracles:

- Keras 3's own test values (keras/src/layers/rnn/*_test.py: test_correctness,
  test_pass_initial_state, test_masking), on the same constant weights;
- a NumPy transcription of the equations (below), on random weights, for every option;
- float64 central finite differences (``unafraid.check_grad``) for the gradients with respect to
  the inputs, the three weights and the initial states, for each layer and option.

Crossing ``.keras`` files with real Keras 3 is in tests/test_keras_format_recurrent.py.
"""

import numpy as np
import pytest

import unafraid as uf
from unafraid import keras
from unafraid.initializers import Constant, Orthogonal
from unafraid.io.saving import load_model

layers = keras.layers
rng = np.random.default_rng(16)
CONSTANT = {"kernel_initializer": Constant(0.01), "recurrent_initializer": Constant(0.02),
            "bias_initializer": Constant(0.03)}


# ---- the equations in NumPy (the oracle) ---------------------------------------------------------
def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def numpy_rnn(kind, x, kernel, recurrent, bias, states=None, mask=None, go_backwards=False,
              return_sequences=False, zero_output_for_mask=False, reset_after=True):
    """The layer's output and final states, step by step, from the textbook equations."""
    batch, steps, _ = x.shape
    units = recurrent.shape[0]
    n_states = 2 if kind == "LSTM" else 1
    states = [np.zeros((batch, units)) for _ in range(n_states)] if states is None else states
    h, c = states[0], states[-1]
    outputs = []
    for t in (reversed(range(steps)) if go_backwards else range(steps)):
        xt = x[:, t]
        if kind == "SimpleRNN":
            h_new = np.tanh(xt @ kernel + (0 if bias is None else bias) + h @ recurrent)
            c_new = h_new
        elif kind == "LSTM":
            z = xt @ kernel + h @ recurrent + (0 if bias is None else bias)
            i, f, g, o = np.split(z, 4, axis=1)
            c_new = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
            h_new = sigmoid(o) * np.tanh(c_new)
        else:  # GRU
            u_z, u_r, u_h = np.split(recurrent, 3, axis=1)
            if reset_after:
                b_in, b_rec = (0, 0) if bias is None else (bias[0], bias[1])
                x_z, x_r, x_h = np.split(xt @ kernel + b_in, 3, axis=1)
                h_z, h_r, h_h = np.split(h @ recurrent + b_rec, 3, axis=1)
                z, r = sigmoid(x_z + h_z), sigmoid(x_r + h_r)
                n = np.tanh(x_h + r * h_h)
            else:
                x_z, x_r, x_h = np.split(xt @ kernel + (0 if bias is None else bias), 3, axis=1)
                z, r = sigmoid(x_z + h @ u_z), sigmoid(x_r + h @ u_r)
                n = np.tanh(x_h + (r * h) @ u_h)
            h_new = z * h + (1 - z) * n
            c_new = h_new
        out = h_new
        if mask is not None:
            keep = mask[:, t][:, None]
            out = np.where(keep, h_new, 0.0 if zero_output_for_mask else h)
            h_new, c_new = np.where(keep, h_new, h), np.where(keep, c_new, c)
        h, c = h_new, c_new
        outputs.append(out)
    output = np.stack(outputs, axis=1) if return_sequences else outputs[-1]
    return output, ([h, c] if kind == "LSTM" else [h])


def random_layer(kind, units=3, features=4, **kwargs):
    """A float64 layer with random weights (not the initializers: every entry matters)."""
    layer = getattr(layers, kind)(units, dtype="float64", **kwargs)
    layer.build((None, None, features))
    layer.set_weights([rng.normal(scale=0.5, size=w.shape) for w in layer.weights])
    return layer


def outputs_of(out):
    return out if isinstance(out, list) else [out]


# ---- Keras 3's own numbers -----------------------------------------------------------------------
SEQ_3_6_4 = np.arange(72).reshape((3, 6, 4)).astype("float32")
SEQ_2_4_3 = np.arange(24).reshape((2, 4, 3)).astype("float32")
SEQ_2_3_4 = np.arange(24).reshape((2, 3, 4)).astype("float32")
KERAS_CORRECTNESS = [  # (layer, arguments, input, expected output): Keras's test_correctness
    ("LSTM", {}, SEQ_3_6_4, [0.6288687, 0.86899155, 0.9460773]),
    ("LSTM", {"go_backwards": True}, SEQ_3_6_4, [0.35622165, 0.74789524, 0.8872726]),
    ("LSTM", {"unroll": True}, SEQ_3_6_4, [0.6288687, 0.86899155, 0.9460773]),
    ("LSTM", {"unit_forget_bias": False}, SEQ_3_6_4, [0.57019705, 0.8661914, 0.9459622]),
    ("LSTM", {"use_bias": False}, SEQ_3_6_4, [0.54986924, 0.86226785, 0.9443936]),
    ("GRU", {}, SEQ_3_6_4, [0.5217289, 0.6371659, 0.39384964]),
    ("GRU", {"go_backwards": True}, SEQ_3_6_4, [0.24406259, 0.611516, 0.3928808]),
    ("GRU", {"reset_after": False}, SEQ_3_6_4, [0.51447755, 0.6426879, 0.40208298]),
    ("GRU", {"use_bias": False}, SEQ_3_6_4, [0.49988455, 0.64701194, 0.4103359]),
    ("SimpleRNN", {}, SEQ_2_3_4, [0.405432, 0.73605347]),
    ("SimpleRNN", {"unroll": True}, SEQ_2_3_4, [0.405432, 0.73605347]),
    ("SimpleRNN", {"go_backwards": True}, SEQ_2_3_4, [0.11144729, 0.5528889]),
]


@pytest.mark.parametrize("kind, kwargs, x, expected", KERAS_CORRECTNESS)
def test_keras_correctness_values(kind, kwargs, x, expected):
    """lstm_test / gru_test / simple_rnn_test: test_correctness (every unit has the same value)."""
    units = 3 if kind != "SimpleRNN" else 4
    out = getattr(layers, kind)(units, **CONSTANT, **kwargs)(x).numpy()
    np.testing.assert_allclose(out, np.repeat(np.array(expected)[:, None], units, 1), rtol=1e-5,
                               atol=1e-5)


def test_keras_initial_state_values():
    """test_pass_initial_state of the three Keras tests (GRU and SimpleRNN take one array)."""
    lstm_state = [np.arange(4).reshape((2, 2)).astype("float32")] * 2
    for go_backwards, expected in ((False, [[0.20574439, 0.3558822], [0.64930826, 0.66276]]),
                                   (True, [[0.13281618, 0.2790356], [0.5839337, 0.5992567]])):
        layer = layers.LSTM(2, go_backwards=go_backwards, **CONSTANT)
        np.testing.assert_allclose(layer(SEQ_2_4_3, initial_state=lstm_state).numpy(), expected,
                                   rtol=1e-5, atol=1e-5)
    state = np.arange(4).reshape((2, 2)).astype("float32")
    for go_backwards, expected in ((False, [[0.23774096, 0.33508456], [0.83659905, 1.0227708]]),
                                   (True, [[0.13486053, 0.23261218], [0.78257304, 0.9691353]])):
        out, h = layers.GRU(2, go_backwards=go_backwards, return_state=True, **CONSTANT)(
            SEQ_2_4_3, initial_state=state)
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(out.numpy(), h.numpy())
    state = np.arange(8).reshape((2, 4)).astype("float32")
    for go_backwards, expected in ((False, [0.33621645, 0.6262637]), (True, [0.07344437, 0.43043602])):
        out = layers.SimpleRNN(4, go_backwards=go_backwards, **CONSTANT)(SEQ_2_4_3,
                                                                          initial_state=state)
        np.testing.assert_allclose(out.numpy(), np.repeat(np.array(expected)[:, None], 4, 1),
                                   rtol=1e-5, atol=1e-5)


def test_keras_masking_values():
    """lstm_test.test_masking and gru_test.test_masking: masked steps repeat the last output
    (or give zeros with zero_output_for_mask), the state passes through them."""
    mask = np.array([[True, True, True, False], [True, True, False, False]])
    lstm = layers.LSTM(2, return_sequences=True, **CONSTANT)(SEQ_2_4_3, mask=mask).numpy()
    np.testing.assert_allclose(lstm[0, :, 0], [0.0158891, 0.05552048, 0.11755939, 0.11755939],
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(lstm[1, :, 0], [0.14185596, 0.28556206, 0.28556206, 0.28556206],
                               rtol=1e-5, atol=1e-5)
    zeros = layers.LSTM(2, return_sequences=True, zero_output_for_mask=True, **CONSTANT)(
        SEQ_2_4_3, mask=mask).numpy()
    np.testing.assert_allclose(zeros[1, :, 0], [0.14185596, 0.28556206, 0.0, 0.0], rtol=1e-5,
                               atol=1e-5)
    backwards = np.array([[False, True, True, True], [False, False, True, True]])
    np.testing.assert_allclose(layers.LSTM(2, go_backwards=True, **CONSTANT)(
        SEQ_2_4_3, mask=backwards).numpy()[:, 0], [0.15341201, 0.3844719], rtol=1e-5, atol=1e-5)
    gru_mask = np.array([[True, True, False, True], [True, False, False, True]])
    gru = layers.GRU(2, return_sequences=True, **CONSTANT)(SEQ_2_4_3, mask=gru_mask).numpy()
    np.testing.assert_allclose(gru[1, :, 0], [0.16051409, 0.16051409, 0.16051409, 0.30818558],
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layers.SimpleRNN(4, unroll=True, **CONSTANT)(
        SEQ_2_4_3, mask=gru_mask).numpy()[:, 0], [0.32951632, 0.61799484], rtol=1e-5, atol=1e-5)


# ---- the NumPy equations, on random weights, for every option ------------------------------------
OPTIONS = [
    {},
    {"return_sequences": True},
    {"go_backwards": True, "return_sequences": True},
    {"use_bias": False},
    {"mask": True, "return_sequences": True},
    {"mask": True, "return_sequences": True, "zero_output_for_mask": True, "go_backwards": True},
    {"initial_state": True},
]
KINDS = [("SimpleRNN", {}), ("LSTM", {}), ("GRU", {}), ("GRU", {"reset_after": False})]
X = rng.normal(size=(3, 5, 4))
MASK = np.array([[True, True, False, True, True], [True, False, False, False, False],
                 [False, True, True, True, False]])


def call_arguments(kind, options, units=3):
    """The layer's arguments, the call's, and numpy_rnn's, for one entry of OPTIONS."""
    build = {k: v for k, v in options.items() if k not in ("mask", "initial_state")}
    call, ref = {}, dict(build)
    ref.pop("use_bias", None)
    if options.get("mask"):
        call["mask"] = ref["mask"] = MASK
    if options.get("initial_state"):
        states = [rng.normal(size=(3, units)) for _ in range(2 if kind == "LSTM" else 1)]
        call["initial_state"] = ref["states"] = states
    return build, call, ref


@pytest.mark.parametrize("kind, extra", KINDS)
@pytest.mark.parametrize("options", OPTIONS)
def test_forward_matches_the_numpy_equations(kind, extra, options):
    build, call, ref = call_arguments(kind, options)
    layer = random_layer(kind, **extra, **build, return_state=True)
    out, *states = layer(X, **call)
    weights = [w.numpy() for w in layer.weights]
    bias = weights[2] if len(weights) == 3 else None
    expected, expected_states = numpy_rnn(kind, X, weights[0], weights[1], bias, **ref, **extra)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)
    for s, e in zip(states, expected_states, strict=True):
        np.testing.assert_allclose(s.numpy(), e, rtol=1e-12, atol=1e-12)


def test_gru_bias_has_keras_layout():
    gru = layers.GRU(3)
    gru.build((None, 2, 4))
    assert [w.shape for w in gru.weights] == [(4, 9), (3, 9), (2, 9)]
    gru = layers.GRU(3, reset_after=False)
    gru.build((None, 2, 4))
    assert [w.shape for w in gru.weights] == [(4, 9), (3, 9), (9,)]
    lstm = layers.LSTM(3)
    lstm.build((None, 2, 4))
    assert [w.name for w in lstm.weights] == [f"{lstm.name}/kernel", f"{lstm.name}/recurrent_kernel",
                                              f"{lstm.name}/bias"]
    np.testing.assert_array_equal(lstm.bias.numpy(), [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])


# ---- gradients: float64 central differences ------------------------------------------------------
def check_layer_gradients(layer, x, call=None, states=None, order=1, training=False, seed=None):
    """check_grad of sum(tanh(outputs)) over the inputs, the weights and the initial states.

    The weights are handed in by check_grad, so the layer's attributes point at them while it
    runs; with dropout the generator is re-seeded so every evaluation draws the same masks."""
    names = ["kernel", "recurrent_kernel"] + (["bias"] if layer.use_bias else [])
    weights = [getattr(layer, n).numpy().copy() for n in names]
    call = dict(call or {})

    def f(x, *args):
        for n, w in zip(names, args[:len(names)], strict=True):
            setattr(layer, n, w)
        if seed is not None:
            layer.generator = uf.random.make_generator(seed)
        given = list(args[len(names):])
        out = layer(x, initial_state=given or None, training=training, **call)
        return sum(uf.sum(uf.tanh(o)) for o in outputs_of(out))

    uf.check_grad(f, x, *weights, *(states or []), order=order)


@pytest.mark.parametrize("kind, extra", KINDS)
@pytest.mark.parametrize("options", OPTIONS)
def test_gradients_match_finite_differences(kind, extra, options):
    build, call, _ = call_arguments(kind, options, units=2)
    layer = random_layer(kind, units=2, features=3, **extra, **build, return_state=True)
    states = call.pop("initial_state", None)
    check_layer_gradients(layer, rng.normal(size=(3, 5, 3)), call, states)


@pytest.mark.parametrize("kind, extra", KINDS)
def test_gradients_with_dropout_match_finite_differences(kind, extra):
    """dropout and recurrent_dropout (one mask per gate, as Keras), for one fixed draw."""
    layer = random_layer(kind, units=2, features=3, **extra, dropout=0.3, recurrent_dropout=0.4,
                         return_sequences=True)
    check_layer_gradients(layer, rng.normal(size=(4, 3, 3)), training=True, seed=3)
    layer = random_layer(kind, units=2, features=3, **extra, dropout=0.5)
    check_layer_gradients(layer, rng.normal(size=(4, 3, 3)), training=True, seed=4)


def test_second_derivatives_of_lstm():
    """Grad of grad through the whole loop (the VJPs are written with the engine's ops)."""
    layer = random_layer("LSTM", units=2, features=2, return_sequences=True)
    check_layer_gradients(layer, rng.normal(size=(2, 3, 2)), {"mask": MASK[:2, :3]}, order=2)


# ---- dropout -------------------------------------------------------------------------------------
def test_dropout_mask_is_the_same_at_every_step_and_only_in_training():
    """Variational dropout (Keras): one mask per sequence. With W = I, U = 0, b = 0 and a linear
    activation, SimpleRNN's output at step t is x_t times the mask."""
    layer = layers.SimpleRNN(5, activation=None, dropout=0.5, return_sequences=True, seed=1)
    layer.build((None, 4, 5))
    layer.set_weights([np.eye(5), np.zeros((5, 5)), np.zeros(5)])
    x = np.ones((6, 4, 5), "float32")
    out = layer(x, training=True).numpy()
    assert set(np.unique(out)) == {0.0, 2.0}
    assert (out == out[:, :1]).all()  # the same mask at every step
    assert 0 < (out == 0).mean() < 1
    np.testing.assert_array_equal(layer(x).numpy(), x)  # inference: no dropout
    again = layers.SimpleRNN(5, activation=None, dropout=0.5, return_sequences=True, seed=1)
    again.build((None, 4, 5))
    again.set_weights([np.eye(5), np.zeros((5, 5)), np.zeros(5)])
    np.testing.assert_array_equal(again(x, training=True).numpy(), out)  # seeded


def test_recurrent_dropout_uses_one_mask_per_gate():
    """recurrent_dropout: Keras's implementation=1, an independent mask for each gate. With
    W = 0 and U = I (LSTM: four identity blocks), the first step sees h_0 = 1 through each mask."""
    layer = layers.GRU(6, recurrent_dropout=0.5, reset_after=True, seed=2, use_bias=False,
                       return_sequences=True)
    layer.build((None, 1, 2))
    layer.set_weights([np.zeros((2, 18)), np.tile(np.eye(6), 3)])
    h0 = np.ones((40, 6), "float32")
    out = layer(np.zeros((40, 1, 2), "float32"), initial_state=h0, training=True).numpy()[:, 0]
    # z = sigma(h0 * m_z), r = sigma(h0 * m_r), n = tanh(r * (h0 * m_h)); h = z + (1 - z) n
    gen = uf.random.make_generator(2)
    m_z, m_r, m_h = (gen.random((40, 6), dtype=np.float32) >= 0.5 for _ in range(3))
    z, r = sigmoid(2.0 * m_z), sigmoid(2.0 * m_r)
    np.testing.assert_allclose(out, z + (1 - z) * np.tanh(r * 2.0 * m_h), rtol=1e-6)


def test_training_is_reproducible_and_the_compiled_step_matches_the_eager_one():
    def run(jit):
        uf.random.set_seed(5)
        model = keras.Sequential([keras.Input((6, 3)),
                                  layers.LSTM(4, dropout=0.2, recurrent_dropout=0.2,
                                              return_sequences=True),
                                  layers.GRU(3, dropout=0.1), layers.Dense(1)])
        model.compile("adam", "mse", jit_compile=jit)
        x = np.random.default_rng(0).normal(size=(32, 6, 3)).astype("float32")
        model.fit(x, x.sum(axis=(1, 2))[:, None], epochs=2, batch_size=8, verbose=0, shuffle=False)
        return model.get_weights()

    eager, again, compiled = run(False), run(False), run(True)
    for a, b, c in zip(eager, again, compiled, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


def test_an_lstm_learns_to_count():
    """A task that needs memory: is the number of ones in a 0/1 sequence of length 8 above 4?"""
    uf.random.set_seed(0)
    data = np.random.default_rng(1).integers(0, 2, size=(512, 8, 1)).astype("float32")
    y = (data.sum(axis=(1, 2)) > 4).astype("float32")
    model = keras.Sequential([keras.Input((8, 1)), layers.LSTM(8), layers.Dense(1, "sigmoid")])
    model.compile(keras.optimizers.Adam(0.03), "binary_crossentropy", metrics=["accuracy"])
    model.fit(data[:384], y[:384], epochs=15, batch_size=32, verbose=0)
    assert model.evaluate(data[384:], y[384:], verbose=0)[1] > 0.9


# ---- masks from Embedding and Masking, shapes, functional models ------------------------------------
@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
def test_padding_masked_by_embedding_changes_nothing(kind):
    """Embedding(mask_zero=True): trailing zeros are skipped, so a padded sequence gives the
    output of the unpadded one."""
    uf.random.set_seed(3)
    inputs = keras.Input((None,), dtype="int32")
    model = keras.Model(inputs, getattr(layers, kind)(3)(layers.Embedding(9, 4, mask_zero=True)(
        inputs)))
    short = model(np.array([[4, 2, 7]])).numpy()
    padded = model(np.array([[4, 2, 7, 0, 0]])).numpy()
    np.testing.assert_allclose(padded, short, rtol=1e-6)
    assert not np.allclose(model(np.array([[4, 2, 7, 1, 1]])).numpy(), short)


def test_masking_layer_and_mask_passed_on_with_return_sequences():
    x = rng.normal(size=(2, 4, 3)).astype("float32")
    x[0, 2:] = 0.0
    out = layers.LSTM(2, return_sequences=True)(layers.Masking()(x))
    np.testing.assert_array_equal(out._keras_mask.numpy(), [[True, True, False, False]] + [[True] * 4])
    np.testing.assert_array_equal(out.numpy()[0, 2], out.numpy()[0, 1])  # repeated
    assert getattr(layers.LSTM(2)(layers.Masking()(x)), "_keras_mask", None) is None


def test_symbolic_shapes_with_unknown_timesteps():
    inputs = keras.Input((None, 5))
    assert layers.LSTM(4)(inputs).shape == (None, 4)
    assert layers.GRU(4, return_sequences=True)(inputs).shape == (None, None, 4)
    seq, h, c = layers.LSTM(4, return_sequences=True, return_state=True)(inputs)
    assert (seq.shape, h.shape, c.shape) == ((None, None, 4), (None, 4), (None, 4))
    out, h = layers.SimpleRNN(2, return_state=True)(keras.Input((7, 5)))
    assert (out.shape, h.shape) == ((None, 2), (None, 2))


def encoder_decoder():
    """Keras's sequence-to-sequence pattern: the encoder's states start the decoder."""
    enc_in, dec_in = keras.Input((None, 3), name="enc"), keras.Input((None, 2), name="dec")
    _, h, c = layers.LSTM(4, return_state=True, name="encoder")(enc_in)
    seq = layers.LSTM(4, return_sequences=True, name="decoder")(dec_in, initial_state=[h, c])
    return keras.Model([enc_in, dec_in], layers.Dense(2, name="out")(seq))


def test_initial_state_from_symbolic_tensors_in_a_functional_model(tmp_path):
    uf.random.set_seed(6)
    model = encoder_decoder()
    a, b = rng.normal(size=(2, 5, 3)).astype("float32"), rng.normal(size=(2, 4, 2)).astype("float32")
    out = model.predict([a, b], verbose=0)
    encoder, decoder, dense = (model.get_layer(n) for n in ("encoder", "decoder", "out"))
    _, h, c = encoder(a)
    expected = dense(decoder(b, initial_state=[h, c])).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    assert out.shape == (2, 4, 2)
    model.save(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(load_model(tmp_path / "m.safetensors").predict([a, b], verbose=0),
                                  out)


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
def test_config_and_own_file_round_trip(tmp_path, kind):
    layer = getattr(layers, kind)(3, dropout=0.1, recurrent_dropout=0.2, seed=4, go_backwards=True,
                                  return_sequences=True, kernel_regularizer="l2",
                                  recurrent_initializer=Orthogonal(gain=2.0))
    again = type(layer).from_config(layer.get_config())
    assert again.get_config() == {**layer.get_config(), "name": again.name}
    model = keras.Sequential([keras.Input((5, 2)), layer, layers.Dense(1)])
    x = rng.normal(size=(2, 5, 2)).astype("float32")
    model.save(tmp_path / "m.safetensors")
    loaded = load_model(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert len(model.losses) == 1


# ---- Bidirectional -------------------------------------------------------------------------------
def bidirectional_reference(layer, x, mask=None):
    """The forward layer's outputs and the backward layer's, back in time order, from numpy_rnn."""
    f, b = layer.forward_layer, layer.backward_layer
    kind = type(f).__name__
    seqs = layer.return_sequences
    y, ys = numpy_rnn(kind, x, *[w.numpy() for w in f.weights], mask=mask, return_sequences=seqs,
                      zero_output_for_mask=seqs)
    y_rev, ys_rev = numpy_rnn(kind, x, *[w.numpy() for w in b.weights], mask=mask,
                              go_backwards=True, return_sequences=seqs, zero_output_for_mask=seqs)
    return y, (y_rev[:, ::-1] if seqs else y_rev), ys + ys_rev


@pytest.mark.parametrize("merge_mode, merge", [
    ("concat", lambda a, b: np.concatenate([a, b], axis=-1)), ("sum", np.add),
    ("ave", lambda a, b: (a + b) / 2), ("mul", np.multiply)])
@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("sequences", [False, True])
def test_bidirectional_matches_the_numpy_equations(merge_mode, merge, kind, sequences):
    layer = layers.Bidirectional(getattr(layers, kind)(3, return_sequences=sequences,
                                                       return_state=True, dtype="float64"),
                                 merge_mode=merge_mode, dtype="float64")
    layer.build((None, 5, 4))
    layer.set_weights([rng.normal(scale=0.5, size=w.shape) for w in layer.weights])
    out, *states = layer(X, mask=MASK)
    y, y_rev, expected_states = bidirectional_reference(layer, X, MASK)
    np.testing.assert_allclose(out.numpy(), merge(y, y_rev), rtol=1e-12, atol=1e-12)
    for s, e in zip(states, expected_states, strict=True):
        np.testing.assert_allclose(s.numpy(), e, rtol=1e-12, atol=1e-12)


def test_bidirectional_names_shapes_masks_and_merge_none():
    layer = layers.Bidirectional(layers.LSTM(4, return_sequences=True, name="enc"),
                                 merge_mode=None)
    assert (layer.forward_layer.name, layer.backward_layer.name) == ("forward_enc", "backward_enc")
    assert layer.backward_layer.go_backwards and not layer.forward_layer.go_backwards
    inputs = keras.Input((None, 3))
    a, b = layer(inputs)
    assert a.shape == b.shape == (None, None, 4)
    seq, h1, c1, h2, c2 = layers.Bidirectional(layers.LSTM(2, return_sequences=True,
                                                           return_state=True))(keras.Input((7, 3)))
    assert (seq.shape, h1.shape, c2.shape) == ((None, 7, 4), (None, 2), (None, 2))
    x = rng.normal(size=(2, 4, 3)).astype("float32")
    x[0, 2:] = 0.0
    out = layers.Bidirectional(layers.SimpleRNN(2, return_sequences=True))(layers.Masking()(x))
    np.testing.assert_array_equal(out._keras_mask.numpy(), [[True, True, False, False],
                                                            [True] * 4])
    np.testing.assert_array_equal(out.numpy()[0, 2:], 0.0)  # zeros at masked steps, as Keras


def test_bidirectional_gradients_match_finite_differences():
    layer = layers.Bidirectional(layers.GRU(2, return_sequences=True, dtype="float64"),
                                 dtype="float64")
    layer.build((None, 3, 2))
    weights = [rng.normal(scale=0.5, size=w.shape) for w in layer.weights]
    parts = [layer.forward_layer, layer.backward_layer]
    names = ["kernel", "recurrent_kernel", "bias"]

    def f(x, *ws):
        for k, w in enumerate(ws):
            setattr(parts[k // 3], names[k % 3], w)
        return uf.sum(uf.tanh(layer(x, mask=MASK[:2, :3])))

    uf.check_grad(f, rng.normal(size=(2, 3, 2)), *weights)


def test_bidirectional_initial_state_and_files(tmp_path):
    uf.random.set_seed(8)
    inputs = keras.Input((5, 3))
    x = layers.Bidirectional(layers.LSTM(3, return_sequences=True))(inputs)
    outputs = layers.Bidirectional(layers.LSTM(2))(x)  # two Bidirectional(LSTM): same inner names
    model = keras.Model(inputs, outputs)
    data = rng.normal(size=(2, 5, 3)).astype("float32")
    model.save(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(load_model(tmp_path / "m.safetensors").predict(data, verbose=0),
                                  model.predict(data, verbose=0))
    layer = layers.Bidirectional(layers.LSTM(2, go_backwards=False))
    states = [rng.normal(size=(2, 2)).astype("float32") for _ in range(4)]
    out = layer(data, initial_state=states).numpy()
    f = layer.forward_layer(data, initial_state=states[:2]).numpy()
    b = layer.backward_layer(data, initial_state=states[2:]).numpy()
    np.testing.assert_allclose(out, np.concatenate([f, b], axis=-1), rtol=1e-6)
    with pytest.raises(ValueError, match="must be a SimpleRNN, LSTM or GRU"):
        layers.Bidirectional(layers.Dense(3))
    with pytest.raises(ValueError, match="merge_mode must be one of"):
        layers.Bidirectional(layers.LSTM(2), merge_mode="max")
    with pytest.raises(ValueError, match="different go_backwards"):
        layers.Bidirectional(layers.LSTM(2), backward_layer=layers.LSTM(2))


# ---- the orthogonal initializer --------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (5, 3), (2, 3, 4)])
def test_orthogonal_initializer(shape):
    w = Orthogonal(gain=1.5, seed=3)(shape, "float64")
    assert w.shape == shape
    m = w.reshape(-1, shape[-1])
    small = min(m.shape)
    gram = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
    np.testing.assert_allclose(gram, 1.5 ** 2 * np.eye(small), atol=1e-12)
    np.testing.assert_array_equal(w, Orthogonal(gain=1.5, seed=3)(shape, "float64"))
    with pytest.raises(ValueError, match="at least two axes"):
        Orthogonal()((3,))
    assert isinstance(uf.initializers.get("orthogonal"), Orthogonal)


# ---- misuse ------------------------------------------------------------------------------------------
def test_misuse_is_explained():
    with pytest.raises(ValueError, match="stateful=True.*initial_state"):
        layers.LSTM(3, stateful=True)
    with pytest.raises(ValueError, match=r"\(batch, timesteps, features\).*Embedding"):
        layers.GRU(3)(np.ones((2, 5), "float32"))
    with pytest.raises(ValueError, match="expected inputs of shape \\(batch, timesteps, 4\\)"):
        layer = layers.SimpleRNN(2)
        layer(np.ones((1, 3, 4), "float32"))
        layer(np.ones((1, 3, 5), "float32"))
    with pytest.raises(ValueError, match="carries 2 state.*initial_state has 1"):
        layers.LSTM(2)(np.ones((1, 3, 4), "float32"), initial_state=[np.zeros((1, 2))])
    with pytest.raises(ValueError, match="initial state h must have shape"):
        layers.GRU(2)(np.ones((1, 3, 4), "float32"), initial_state=np.zeros((1, 3)))
    with pytest.raises(ValueError, match="dropout.*must be in \\[0, 1\\)"):
        layers.LSTM(2, dropout=1.5)
    with pytest.raises(ValueError, match="units must be a positive integer"):
        layers.GRU(0)
    with pytest.raises(ValueError, match="no cuDNN"):
        layers.LSTM(2, use_cudnn=True)
    with pytest.raises(ValueError, match="mask must have shape"):
        layers.LSTM(2)(np.ones((2, 3, 4), "float32"), mask=np.ones((2, 4), bool))
