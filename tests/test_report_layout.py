"""The report and its figures read well: figures show in notebooks, labels do not overlap, the
true class's probability is always shown, one epoch of history is legible, and a report's
sections come in order with the digits in one row (checked on the parsed HTML)."""

from __future__ import annotations

import numpy as np
from html_outline import outline

from unafraid import explore as ex

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# ---- figures show themselves in notebooks ---------------------------------------------------

def test_every_plot_returns_a_figure_with_a_png_repr():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(10), 40)
    y = rng.integers(0, 10, 40)
    images = rng.random((40, 28, 28))
    figures = [ex.plot_margins(probs, y), ex.plot_images(images, y, probs=probs, indices=[0, 1]),
               ex.plot_confusion_matrix(ex.confusion_matrix(y, probs)),
               ex.plot_saliency(images[0], images[0] - 0.5), ex.plot_history({"loss": [1.0, 0.5]})]
    for fig in figures:
        png = fig._repr_png_()  # what IPython calls to show the object, with no magic
        assert png.startswith(PNG_MAGIC) and 1_000 < len(png) < 400_000


# ---- readable figures -----------------------------------------------------------------------

def _boxes_overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_margin_labels_do_not_overlap_even_for_neighbouring_indices():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    n = 10_000
    probs = np.tile([0.98] + [0.02 / 9] * 9, (n, 1))
    close = [4000, 4040, 4080, 4120, 4160]  # five confusing digits a few pixels apart
    probs[close, :2] = [[0.50, 0.49], [0.49, 0.50], [0.501, 0.489], [0.48, 0.51], [0.50, 0.49]]
    probs[close, 2:] = 0.01 / 8
    y = np.zeros(n, int)
    fig = ex.plot_margins(probs, y)
    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()
    from matplotlib.text import Text  # the label's own box (an Annotation's includes its line)

    boxes = [Text.get_window_extent(t, renderer) for t in fig.axes[0].texts]
    assert len(boxes) == 5
    for i in range(5):
        for j in range(i + 1, 5):
            assert not _boxes_overlap(boxes[i], boxes[j]), (fig.axes[0].texts[i], fig.axes[0].texts[j])


def test_the_true_class_probability_is_shown_when_it_is_not_in_the_top_two():
    probs = np.array([[0.6, 0.3, 0.07, 0.03], [0.1, 0.6, 0.3, 0.0]])
    fig = ex.plot_images(np.zeros((2, 4, 4)), true=[3, 2], probs=probs)
    first, second = (a.get_title().splitlines() for a in fig.axes)
    assert first == ["true 3 / pred 0 (0.60 vs 1: 0.30)", "p(true 3) = 0.03", "#0"]
    assert second == ["true 2 / pred 1 (0.60 vs 2: 0.30)", "#1"]  # already shown as the runner-up


def test_one_epoch_of_history_is_a_centred_labelled_point():
    fig = ex.plot_history({"loss": [0.2001], "accuracy": [0.9391]})
    for ax, value in zip(fig.axes, ["0.2001", "0.9391"], strict=True):
        assert ax.get_xlim() == (0.5, 1.5)
        assert [t.get_text() for t in ax.texts] == [value]
        assert list(ax.get_xticks()) == [1]


# ---- the report -----------------------------------------------------------------------------

def test_an_images_section_is_one_row_of_figures(tmp_path):
    from matplotlib.figure import Figure

    figs = []
    for k in range(5):
        fig = Figure(figsize=(1, 1))
        fig.add_subplot().plot([0, k])
        figs.append((fig, f"digit {k}"))
    out = ex.write_report(tmp_path / "r.html", "Row", [("metrics", {"test accuracy": 0.97}),
                                                       ("images", figs)])
    items = outline(out)
    row = next(i for i, (t, a, _) in enumerate(items) if t == "div" and a.get("class") == "row")
    imgs = [(t, text) for t, _, text in items[row:] if t == "img"]
    assert imgs == [("img", f"digit {k}") for k in range(5)]
    assert ".row" in out.read_text() and "grid-template-columns" in out.read_text()
    dts = [text for t, _, text in items if t == "dt"]
    assert dts == ["test accuracy"]
