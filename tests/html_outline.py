"""Reading an HTML report as a reader sees it: its headings, figures and rows, in order."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path


class Outline(HTMLParser):
    """The page as a list of (tag, attributes, text) for the elements a reader sees."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[tuple[str, dict, str]] = []
        self._open: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.items.append(("img", attrs, attrs.get("alt", "")))
        elif tag in ("h1", "h2", "figcaption", "dt", "dd", "div", "table", "figure"):
            self._open.append((tag, attrs))
            self.items.append((tag, attrs, ""))

    def handle_endtag(self, tag):
        if self._open and self._open[-1][0] == tag:
            self._open.pop()

    def handle_data(self, data):
        for i in range(len(self.items) - 1, -1, -1):
            tag, attrs, text = self.items[i]
            if self._open and tag == self._open[-1][0] and tag != "img":
                self.items[i] = (tag, attrs, text + data)
                break


def outline(path: Path) -> list[tuple[str, dict, str]]:
    parser = Outline()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.items


def check_mnist_report(path: Path, n_digits: int = 5) -> None:
    """What `unafraid mnist`'s report must show, in this order (used by the end-to-end test)."""
    items = outline(path)
    tags = [t for t, _, _ in items]
    title = next(text for t, _, text in items if t == "h1")
    assert "Dense(" in title and "epoch" in title and "Adam" in title, title
    headings = [text for t, _, text in items if t == "h2"]
    assert headings[:2] == ["Margins of all test digits", "The five most confusing test digits"]
    assert {"Confusion matrix", "Saliency", "Training history"} <= set(headings)
    # First screen: the metrics, then the margin plot as the first image, then the digits row.
    assert tags.index("dl" if "dl" in tags else "dt") < tags.index("img")
    first_img = tags.index("img")
    assert items[first_img][2].startswith("Margin = top-1 minus top-2")
    rows = [i for i, (t, a, _) in enumerate(items) if t == "div" and a.get("class") == "row"]
    assert len(rows) == 1
    after = items[rows[0] + 1:]
    assert [t for t, _, _ in after[:3 * n_digits]].count("img") == n_digits
    assert "test accuracy" in [text for t, _, text in items if t == "dt"]
