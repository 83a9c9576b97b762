"""Tests for unafraid.explore: tables checked against hand-worked numbers and brute-force loops,
saliency against central finite differences, plots and reports by what they contain."""

from __future__ import annotations

import base64
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import unafraid as uf
from unafraid import explore as ex

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# Three examples, three classes, worked by hand:
#   row 0: top1 1 (0.6), top2 2 (0.3): margin 0.3, true 2 -> wrong
#   row 1: top1 0 (0.7), top2 1 (0.2): margin 0.5, true 0 -> right
#   row 2: top1 2 (0.5), top2 0 (0.45): margin 0.05, true 0 -> wrong
P = np.array([[0.1, 0.6, 0.3], [0.7, 0.2, 0.1], [0.45, 0.05, 0.5]])
Y = np.array([2, 0, 0])


def random_probs(rng: np.random.Generator, n: int, c: int) -> np.ndarray:
    z = rng.normal(size=(n, c)) * 2
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# ---- margins / top2 ---------------------------------------------------------------------------

def test_margins_hand_worked():
    np.testing.assert_allclose(ex.margins(P), [0.3, 0.5, 0.05], atol=1e-12)
    assert ex.margins(P).dtype == np.float64


def test_margins_accepts_tensor_and_float32():
    m = ex.margins(uf.Tensor(P.astype(np.float32)))
    np.testing.assert_allclose(m, [0.3, 0.5, 0.05], atol=1e-6)


def test_binary_sigmoid_column_is_two_classes():
    np.testing.assert_allclose(ex.margins([[0.9], [0.4]]), [0.8, 0.2], atol=1e-12)


def test_top2_ties_go_to_lower_index():
    c1, p1, c2, p2 = ex.top2([[0.4, 0.4, 0.2], [0.2, 0.4, 0.4]])
    assert c1.tolist() == [0, 1] and c2.tolist() == [1, 2]
    np.testing.assert_allclose(p1 - p2, 0.0)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 30), c=st.integers(2, 12), seed=st.integers(0, 2**31 - 1))
def test_margins_match_sorted_rows(n, c, seed):
    p = random_probs(np.random.default_rng(seed), n, c)
    s = np.sort(p, axis=1)
    m = ex.margins(p)
    np.testing.assert_allclose(m, s[:, -1] - s[:, -2], atol=1e-12)
    assert np.all((m >= 0) & (m <= 1))


# ---- confusion_table --------------------------------------------------------------------------

def test_confusion_table_pandas_columns_and_values():
    pd = pytest.importorskip("pandas")
    t = ex.confusion_table(P, Y)
    assert isinstance(t, pd.DataFrame)
    assert tuple(t.columns) == ex.TABLE_COLUMNS
    assert t["index"].tolist() == [0, 1, 2]
    assert t["true"].tolist() == [2, 0, 0]
    assert t["predicted"].tolist() == [1, 0, 2] == t["top1"].tolist()
    assert t["top2"].tolist() == [2, 1, 0]
    np.testing.assert_allclose(t["top1_prob"], [0.6, 0.7, 0.5])
    np.testing.assert_allclose(t["top2_prob"], [0.3, 0.2, 0.45])
    np.testing.assert_allclose(t["margin"], [0.3, 0.5, 0.05], atol=1e-12)
    np.testing.assert_allclose(t["entropy"], -(P * np.log(P)).sum(axis=1))
    np.testing.assert_allclose(t["loss"], -np.log([0.3, 0.7, 0.45]))
    assert t["correct"].tolist() == [False, True, False]


def test_confusion_table_without_pandas_is_structured_array(monkeypatch):
    pd = pytest.importorskip("pandas")
    frame = ex.confusion_table(P, Y)
    monkeypatch.setitem(sys.modules, "pandas", None)  # `import pandas` now raises ImportError
    t = ex.confusion_table(P, Y)
    assert isinstance(t, np.ndarray) and t.shape == (3,)
    assert t.dtype.names == ex.TABLE_COLUMNS
    for name in ex.TABLE_COLUMNS:
        np.testing.assert_array_equal(t[name], frame[name].to_numpy())
    assert t["correct"].dtype == bool and t["true"].dtype == np.int64
    with pytest.raises(ImportError, match="as_frame=False"):
        ex.confusion_table(P, Y, as_frame=True)
    del pd


def test_confusion_table_as_frame_false():
    t = ex.confusion_table(P, Y, as_frame=False)
    assert isinstance(t, np.ndarray) and t.dtype.names == ex.TABLE_COLUMNS
    assert np.sort(t, order="margin")["index"].tolist() == [2, 0, 1]


def test_entropy_and_loss_edge_cases():
    p = np.array([[1.0, 0.0], [0.5, 0.5]])
    t = ex.confusion_table(p, [1, 0], as_frame=False)
    np.testing.assert_allclose(t["entropy"], [0.0, np.log(2)])  # 0 log 0 = 0, uniform = log C
    # Keras clips to [1e-7, 1 - 1e-7] before the log
    np.testing.assert_allclose(t["loss"], [-np.log(1e-7), -np.log(0.5)])
    t = ex.confusion_table(np.array([[1.0, 0.0]]), [0], as_frame=False)
    np.testing.assert_allclose(t["loss"], [-np.log(1 - 1e-7)])


def test_confusion_table_custom_losses():
    t = ex.confusion_table(P, Y, losses=[1.0, 2.0, 3.0], as_frame=False)
    assert t["loss"].tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match=r"shape \(3,\).*\(2,\)"):
        ex.confusion_table(P, Y, losses=[1.0, 2.0])


def test_one_hot_labels_are_accepted():
    t = ex.confusion_table(P, np.eye(3)[Y], as_frame=False)
    assert t["true"].tolist() == Y.tolist()


# ---- most_confusing / misclassified -----------------------------------------------------------

def test_most_confusing_order_and_ties():
    p = np.array([[0.5, 0.5], [0.9, 0.1], [0.5, 0.5], [0.6, 0.4], [0.5, 0.5]])
    np.testing.assert_array_equal(ex.most_confusing(p, k=4), [0, 2, 4, 3])
    assert ex.most_confusing(p, k=4).dtype == np.int64
    assert ex.most_confusing(p, k=100).tolist() == [0, 2, 4, 3, 1]  # k > N: all of them
    assert ex.most_confusing(p, k=0).tolist() == []
    np.testing.assert_array_equal(ex.most_confusing(P, Y, k=2), [2, 0])


@pytest.mark.parametrize("k", [-1, 2.5, "3", True])
def test_most_confusing_bad_k(k):
    with pytest.raises(ValueError, match="k must be a non-negative integer"):
        ex.most_confusing(P, k=k)


def test_most_confusing_checks_labels():
    with pytest.raises(ValueError, match=r"\(3, 3\).*\(2,\)"):
        ex.most_confusing(P, [0, 1], k=1)


def test_misclassified_most_confident_first():
    p = np.array([[0.6, 0.4], [0.1, 0.9], [0.2, 0.8], [0.3, 0.7], [0.8, 0.2]])
    y = np.array([1, 1, 0, 0, 1])
    # wrong: 0 (conf 0.6), 2 (0.8), 3 (0.7), 4 (0.8); ties (2 and 4) in index order
    np.testing.assert_array_equal(ex.misclassified(p, y), [2, 4, 3, 0])
    assert ex.misclassified(p, p.argmax(axis=1)).tolist() == []


# ---- confusion_matrix -------------------------------------------------------------------------

def test_confusion_matrix_hand_worked():
    cm = ex.confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2])
    np.testing.assert_array_equal(cm, [[1, 0, 0], [0, 1, 1], [0, 0, 1]])
    assert cm.dtype == np.int64


def test_confusion_matrix_from_probabilities_and_num_classes():
    np.testing.assert_array_equal(ex.confusion_matrix(Y, P), [[1, 0, 1], [0, 0, 0], [0, 1, 0]])
    assert ex.confusion_matrix([0, 1], [1, 1], num_classes=4).shape == (4, 4)
    with pytest.raises(ValueError, match=r"outside \[0, 2\)"):
        ex.confusion_matrix([0, 3], [1, 1], num_classes=2)
    with pytest.raises(ValueError, match=r"shape \(3,\).*shape \(2,\)"):
        ex.confusion_matrix([0, 1, 1], [0, 1])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), min_size=1, max_size=40))
def test_confusion_matrix_matches_loop(pairs):
    t, p = (np.array(v) for v in zip(*pairs, strict=True))
    cm = ex.confusion_matrix(t, p, num_classes=6)
    expected = np.zeros((6, 6), np.int64)
    for a, b in pairs:
        expected[a, b] += 1
    np.testing.assert_array_equal(cm, expected)


# ---- validation ---------------------------------------------------------------------------------

def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"probs has shape \(3, 3\), y has shape \(4,\)"):
        ex.confusion_table(P, [0, 1, 2, 0])


@pytest.mark.parametrize("bad", [
    np.array([[2.0, -1.0, 0.5]]),           # logits: outside [0, 1]
    np.array([[0.5, 0.5, 0.5]]),            # in [0, 1] but the row sums to 1.5
])
def test_logits_are_refused(bad):
    with pytest.raises(ValueError, match="these look like logits: apply softmax first"):
        ex.margins(bad)


def test_other_bad_inputs():
    with pytest.raises(ValueError, match=r"outside \[0, 3\)"):
        ex.confusion_table(P, [0, 1, 5])
    with pytest.raises(ValueError, match="negative"):
        ex.confusion_matrix([0, -1], [0, 0])
    with pytest.raises(ValueError, match="2-D"):
        ex.margins(np.array([0.2, 0.8]))
    with pytest.raises(ValueError, match="NaN"):
        ex.margins(np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError, match="integer class labels"):
        ex.misclassified(P, [0.5, 1, 2])
    with pytest.raises(ValueError, match="one-hot"):
        ex.confusion_table(P, np.full((3, 3), 0.5))


# ---- saliency ---------------------------------------------------------------------------------

def _small_model(seed: int = 0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(12, 4)).astype(dtype)
    b = rng.normal(size=4).astype(dtype)
    w2 = rng.normal(size=(4, 3)).astype(dtype)

    def model(x):
        h = uf.tanh(uf.linear(uf.reshape(x, (len(x), -1)), w, b))
        return uf.softmax(uf.matmul(h, w2))

    return model


def _finite_difference(model, x, cls, eps=1e-6):
    """Central differences of model(x)[n, cls[n]] with respect to every x[n] value."""
    out = np.zeros_like(x)
    for n in range(x.shape[0]):
        for j in range(x[n].size):
            xp, xm = x.copy(), x.copy()
            xp[n].flat[j] += eps
            xm[n].flat[j] -= eps
            fp = np.asarray(model(xp))[n, cls[n]]
            fm = np.asarray(model(xm))[n, cls[n]]
            out[n].flat[j] = (fp - fm) / (2 * eps)
    return out


@pytest.mark.parametrize("class_index", [None, 2, np.array([0, 2, 1])])
def test_saliency_matches_finite_differences(class_index):
    model = _small_model()
    x = np.random.default_rng(1).normal(size=(3, 3, 4))
    s = ex.saliency(model, x, class_index=class_index)
    assert s.shape == x.shape and s.dtype == np.float64
    scores = np.asarray(model(x))
    cls = (scores.argmax(axis=1) if class_index is None
           else np.broadcast_to(class_index, (3,)))
    np.testing.assert_allclose(s, _finite_difference(model, x, cls), rtol=1e-6, atol=1e-9)


def test_saliency_rows_are_independent_and_float32_by_default():
    model = _small_model(dtype=np.float32)
    x = np.random.default_rng(2).normal(size=(4, 12)).astype(np.float32)
    s = ex.saliency(model, x)
    assert s.dtype == np.float32
    for n in range(4):
        np.testing.assert_allclose(s[n], ex.saliency(model, x[n:n + 1])[0], rtol=1e-5, atol=1e-7)
    assert ex.saliency(model, (x > 0).astype(np.uint8)).dtype == np.float32


def test_saliency_passes_training_false_and_works_inside_no_grad():
    inner = _small_model()
    seen = []

    class Model:
        def __call__(self, x, training=None):
            seen.append(training)
            return inner(x)

    x = np.random.default_rng(3).normal(size=(2, 12))
    with uf.no_grad():
        s = ex.saliency(Model(), x, class_index=[1, 0])
    assert seen == [False]
    np.testing.assert_allclose(s, ex.saliency(inner, x, class_index=[1, 0]))


def test_saliency_through_a_keras_style_model():
    from unafraid.layers import Dense, Flatten
    from unafraid.models import Sequential

    model = Sequential([Flatten(), Dense(5, activation="tanh"), Dense(3, activation="softmax")])
    x = np.random.default_rng(4).normal(size=(2, 3, 4)).astype(np.float32)
    model(x)  # build
    s = ex.saliency(model, x, class_index=1)
    assert s.shape == x.shape and s.dtype == np.float32
    fd = _finite_difference(lambda v: model(v, training=False), x.astype(np.float64),
                            [1, 1], eps=1e-2)
    np.testing.assert_allclose(s, fd, rtol=1e-2, atol=1e-4)


def test_saliency_errors():
    model = _small_model()
    x = np.zeros((2, 12))
    with pytest.raises(TypeError, match="not a Tensor"):
        ex.saliency(lambda v: np.zeros((2, 3)), x)
    with pytest.raises(TypeError, match="does not depend on its input"):
        ex.saliency(lambda v: uf.Tensor(np.asarray(v)) * 1.0, x)
    with pytest.raises(ValueError, match=r"scores of shape \(2, C\)"):
        ex.saliency(lambda v: uf.reshape(v, (-1,)), x)
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        ex.saliency(model, x, class_index=3)
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        ex.saliency(model, x, class_index=[0, 1, 2])
    with pytest.raises(ValueError, match="non-empty batch"):
        ex.saliency(model, np.zeros((0, 12)))


# ---- plots ------------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def no_pyplot_figures_left():
    yield
    if "matplotlib.pyplot" in sys.modules:
        assert sys.modules["matplotlib.pyplot"].get_fignums() == []


def _is_png(path) -> bool:
    with open(path, "rb") as f:
        return os.path.getsize(path) > 100 and f.read(8) == PNG_MAGIC


@pytest.fixture(scope="module")
def mnist_like():
    rng = np.random.default_rng(0)
    n = 60
    probs = random_probs(rng, n, 10)
    y = rng.integers(0, 10, n)
    images = rng.random((n, 28, 28)).astype(np.float32)
    return images, y, probs


def test_plot_margins(mnist_like, tmp_path):
    from matplotlib.figure import Figure

    _, y, probs = mnist_like
    fig = ex.plot_margins(probs, y, save=tmp_path / "m.png")
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {str(c) for c in np.unique(y)} <= set(legend) and "most confusing" in legend
    worst = sorted(ex.most_confusing(probs, k=5))  # annotated in index order
    notes = [t.get_text() for t in ax.texts]
    assert len(notes) == 5
    assert all(note.startswith(f"#{i}:") for note, i in zip(notes, worst, strict=True))
    assert _is_png(tmp_path / "m.png")
    assert len(ex.plot_margins(probs, y, highlight=0).axes[0].texts) == 0
    assert len(ex.plot_margins(probs, y, highlight=[3, 7]).axes[0].texts) == 2


def test_plot_margins_into_given_axes_and_many_classes():
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.add_subplot()
    assert ex.plot_margins(P, Y, ax=ax) is fig
    p = random_probs(np.random.default_rng(1), 50, 30)
    fig = ex.plot_margins(p, np.arange(50) % 30)
    assert len(fig.axes) == 2  # scatter + colorbar for 30 classes


def test_plot_images_titles(tmp_path):
    from matplotlib.figure import Figure

    images = np.zeros((7, 784), np.float32)  # flat: reshaped to 28 x 28
    probs = np.full((7, 10), 0.002)
    probs[:, 2], probs[:, 7] = 0.51, 0.47 + 0.002 * 2
    probs /= probs.sum(axis=1, keepdims=True)
    y = np.full(7, 7)
    fig = ex.plot_images(images, y, probs=probs, ncols=5, save=tmp_path / "i.png")
    assert isinstance(fig, Figure) and len(fig.axes) == 7
    titles = [a.get_title() for a in fig.axes]
    c1, p1, c2, p2 = ex.top2(probs)
    expected = f"true 7 / pred 2 ({p1[0]:.2f} vs {c2[0]}: {p2[0]:.2f})"
    assert titles[0].splitlines() == [expected, "#0"]
    assert fig.axes[0].get_images()[0].get_array().shape == (28, 28)
    assert _is_png(tmp_path / "i.png")


def test_plot_images_indices_labels_and_colorbar(mnist_like):
    images, y, probs = mnist_like
    worst = ex.most_confusing(probs, k=3)
    fig = ex.plot_images(images, y, pred=probs.argmax(1), indices=worst, colorbar=True,
                         class_names=[f"digit{c}" for c in range(10)])
    assert len(fig.axes) == 6  # three panels and three colorbars
    for ax, i in zip(fig.axes[:3], worst, strict=True):
        assert f"true digit{y[i]} / pred digit{probs[i].argmax()}" in ax.get_title()
        assert f"#{i}" in ax.get_title()
    assert ex.plot_images(images[:2]).axes[0].get_title() == "#0"
    with pytest.raises(ValueError, match="not a square number"):
        ex.plot_images(np.zeros((2, 10)))
    with pytest.raises(ValueError, match=r"probs has 3 rows but there are 60 images"):
        ex.plot_images(images, probs=P)


def test_plot_confusion_matrix(tmp_path):
    from matplotlib.figure import Figure

    cm = ex.confusion_matrix([0, 1, 1, 2, 2, 2], [0, 1, 2, 2, 2, 0])
    fig = ex.plot_confusion_matrix(cm, labels=["cat", "dog", "eel"], save=tmp_path / "cm.png")
    assert isinstance(fig, Figure) and len(fig.axes) == 2  # heatmap + colorbar
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog", "eel"]
    assert sorted(t.get_text() for t in ax.texts) == sorted(str(v) for v in cm.ravel())
    assert _is_png(tmp_path / "cm.png")
    ax = ex.plot_confusion_matrix(cm, normalize=True).axes[0]
    assert [t.get_text() for t in ax.texts][6:] == ["0.33", "0.00", "0.67"]  # last row
    with pytest.raises(ValueError, match="square"):
        ex.plot_confusion_matrix(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="one label per class"):
        ex.plot_confusion_matrix(cm, labels=["a"])


def test_plot_saliency(tmp_path):
    from matplotlib.figure import Figure

    image = np.random.default_rng(0).random((28, 28))
    sal = image - 0.5
    fig = ex.plot_saliency(image, sal.ravel(), title="true 7 / pred 2", save=tmp_path / "s.png")
    assert isinstance(fig, Figure) and len(fig.axes) == 3  # image, saliency, colorbar
    assert fig.get_suptitle() == "true 7 / pred 2"
    lo, hi = fig.axes[1].get_images()[0].get_clim()
    assert lo == -hi and hi == pytest.approx(np.abs(sal).max())  # centred at zero
    assert _is_png(tmp_path / "s.png")
    with pytest.raises(ValueError, match="saliency of this very image"):
        ex.plot_saliency(image, np.zeros((14, 14)))


def test_plot_history(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    from unafraid import atomic
    from unafraid.explore import plots
    saved = []  # figures are saved through the project's one atomic writer

    def spy(fig, path, **kwargs):
        saved.append(path)
        return atomic.atomic_savefig(fig, path, **kwargs)

    monkeypatch.setattr(plots, "atomic_savefig", spy)
    h = {"loss": [0.9, 0.5, 0.3], "accuracy": [0.7, 0.85, 0.9], "val_loss": [1.0, 0.6, 0.5],
         "val_accuracy": [0.65, 0.8, 0.86]}
    fig = ex.plot_history(h, save=tmp_path / "h.png")
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert [a.get_title() for a in fig.axes] == ["loss", "accuracy"]
    lines = fig.axes[0].get_lines()
    assert [ln.get_label() for ln in lines] == ["train", "validation"]
    np.testing.assert_array_equal(lines[0].get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(lines[1].get_ydata(), h["val_loss"])
    assert _is_png(tmp_path / "h.png") and saved == [tmp_path / "h.png"]

    class History:
        history = {"loss": [0.4]}

    fig = ex.plot_history(History())
    (line,) = fig.axes[0].get_lines()
    assert len(fig.axes) == 1 and line.get_marker() == "o"  # one epoch: a visible point
    assert ex.plot_history(h, metrics=["accuracy"]).axes[0].get_title() == "accuracy"
    with pytest.raises(ValueError, match="empty"):
        ex.plot_history({})
    with pytest.raises(TypeError, match="History.history"):
        ex.plot_history([1, 2])


def test_plots_leave_no_pyplot_figures(mnist_like):
    import matplotlib.pyplot as plt

    images, y, probs = mnist_like
    before = plt.get_fignums()
    ex.plot_margins(probs, y)
    ex.plot_images(images[:3], y[:3], probs=probs[:3])
    ex.plot_confusion_matrix(ex.confusion_matrix(y, probs))
    ex.plot_saliency(images[0], images[0] - 0.5)
    ex.plot_history({"loss": [1.0, 0.5]})
    assert plt.get_fignums() == before == []


# ---- report -----------------------------------------------------------------------------------

def test_write_report_is_self_contained(tmp_path, mnist_like):
    from matplotlib.figure import Figure

    _, y, probs = mnist_like
    png = tmp_path / "cm.png"
    ex.plot_confusion_matrix(ex.confusion_matrix(y, probs), save=png)
    fig = Figure()
    fig.add_subplot().plot([1, 2, 3])
    sections = [
        ("heading", "Results <1> & more"),
        ("text", "p < 0.05 & <script>alert(1)</script>\n\nsecond paragraph"),
        ("metrics", {"test accuracy": 0.98123456, "n": 60}),
        ("table", [{"index": 1, "margin": 0.012345678, "note": "<b>"}, {"index": 2, "margin": 0.5}]),
        ("table", ex.confusion_table(probs, y, as_frame=False)[:3], "a structured array"),
        ("image", fig, "a figure <object>"),
        ("image", png),
    ]
    try:
        import pandas as pd
    except ImportError:  # the DataFrame path is then untested; the rest still runs
        sections.append(("table", [{"a": 1, "b": "x"}, {"a": 2, "b": "y&z"}]))
    else:
        sections.append(("table", pd.DataFrame({"a": [1, 2], "b": ["x", "y&z"]})))
    out = ex.write_report(tmp_path / "sub" / "report.html", "MNIST <report>", sections)
    text = out.read_text(encoding="utf-8")
    assert text.count('src="data:image/png;base64,') == 2
    assert base64.b64encode(png.read_bytes()).decode() in text  # the file, embedded as it is
    assert "http://" not in text and "https://" not in text and "<link" not in text
    assert "<script" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<title>MNIST &lt;report&gt;</title>" in text
    assert "Results &lt;1&gt; &amp; more" in text and "y&amp;z" in text and "&lt;b&gt;" in text
    assert "0.9812" in text and "0.01235" in text and "a structured array" in text
    assert "<p>second paragraph</p>" in text
    assert sorted(os.listdir(out.parent)) == ["report.html"]  # no temp file left behind


def test_write_report_is_atomic(tmp_path, monkeypatch):
    target = tmp_path / "r.html"
    ex.write_report(target, "first", [("text", "one")])
    original = target.read_text()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        ex.write_report(target, "second", [("text", "two")])
    assert target.read_text() == original
    assert os.listdir(tmp_path) == ["r.html"]


def test_write_report_errors(tmp_path):
    with pytest.raises(ValueError, match=r"sections\[0\].*'heading'"):
        ex.write_report(tmp_path / "r.html", "t", [("chart", 1)])
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ex.write_report(tmp_path / "r.html", "t", [("image", tmp_path / "missing.png")])
    with pytest.raises(TypeError, match="list of dicts"):
        ex.write_report(tmp_path / "r.html", "t", [("table", 3)])
    assert not os.path.exists(tmp_path / "r.html")


# ---- import cost --------------------------------------------------------------------------------

def test_import_is_light():
    code = ("import sys, unafraid.explore; "
            "heavy = [m for m in ('matplotlib', 'pandas') if m in sys.modules]; "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_docstring_examples_run():
    import doctest

    for name in ("tables", "saliency"):
        module = sys.modules[f"unafraid.explore.{name}"]
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0 and result.attempted > 0, name
