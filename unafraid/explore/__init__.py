"""Look inside a trained classifier: margins, the most confusing examples, saliency, plots, reports.

Everything works from what ``model.predict`` returns, an ``(N, C)`` array of
class probabilities, plus the true labels::

    import unafraid.explore as ex

    probs = model.predict(x_test)                       # (10000, 10) softmax outputs
    table = ex.confusion_table(probs, y_test)           # one row per test digit
    worst = ex.most_confusing(probs, k=5)               # smallest top-1 minus top-2 margins
    ex.plot_margins(probs, y_test, save="margins.png")
    ex.plot_images(x_test, y_test, probs=probs, indices=worst, save="worst.png")
    s = ex.saliency(model, x_test[worst])               # d score / d pixel
    ex.plot_saliency(x_test[worst[0]], s[0])

Importing this module is cheap: matplotlib and pandas are imported only by
the functions that use them.
"""

from __future__ import annotations

from .plots import plot_confusion_matrix, plot_history, plot_images, plot_margins, plot_saliency
from .report import write_report
from .saliency import saliency
from .tables import (
    TABLE_COLUMNS,
    confusion_matrix,
    confusion_table,
    margins,
    misclassified,
    most_confusing,
    top2,
)

__all__ = [
    "margins", "top2", "confusion_table", "most_confusing", "confusion_matrix", "misclassified",
    "TABLE_COLUMNS", "saliency", "plot_margins", "plot_images", "plot_confusion_matrix",
    "plot_saliency", "plot_history", "write_report",
]
