"""A one-file HTML report: headings, text, tables, metrics and figures, with nothing external.

The page embeds its images as ``data:image/png;base64,...`` URIs and carries
its CSS inline, so the single ``.html`` file can be e-mailed, archived next to
a paper's data, or opened from disk without a server or network.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_write_text

__all__ = ["write_report"]

_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
         ".svg": "image/svg+xml", ".webp": "image/webp"}

_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 60rem;
       margin: 2rem auto; padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { border-bottom: 2px solid #ddd; padding-bottom: .3rem; }
h2 { margin-top: 2rem; border-bottom: 1px solid #eee; }
table { border-collapse: collapse; margin: 1rem 0; font-size: .9rem; }
th, td { border: 1px solid #ccc; padding: .25rem .6rem; text-align: right; }
th { background: #f3f3f3; }
td.s { text-align: left; }
caption, figcaption { color: #555; font-size: .9rem; padding: .3rem; caption-side: bottom; }
figure { margin: 1rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
dl.metrics { display: flex; flex-wrap: wrap; gap: .4rem 1.6rem; margin: .6rem 0; }
dl.metrics div { display: flex; flex-direction: column; }
dl.metrics dt { font-size: .8rem; color: #555; }
dl.metrics dd { margin: 0; font-family: monospace; font-size: 1.05rem; }
div.row { display: grid; grid-template-columns: repeat(auto-fit, minmax(8rem, 1fr)); gap: .6rem; }
div.row figure { margin: .3rem 0; }
p.note { color: #777; font-size: .85rem; }
footer { margin-top: 3rem; color: #999; font-size: .8rem; }
"""


def _fmt(v: Any) -> str:
    """A cell value as text: floats to 4 significant digits, everything else with str()."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float):
        return f"{v:.4g}" if math.isfinite(v) else str(v)
    return str(v)


def _rows(data: Any) -> tuple[list[str], list[list[Any]]]:
    """Column names and rows of a DataFrame, a list of dicts, or a structured array."""
    if hasattr(data, "to_dict") and hasattr(data, "columns"):  # pandas DataFrame
        cols = [str(c) for c in data.columns]
        return cols, [list(r) for r in data.itertuples(index=False, name=None)]
    if isinstance(data, np.ndarray) and data.dtype.names:  # structured array
        return list(data.dtype.names), [list(r) for r in data.tolist()]
    if isinstance(data, Sequence) and not isinstance(data, str) and \
            all(isinstance(r, Mapping) for r in data):
        cols: list[str] = []
        for r in data:
            cols += [str(k) for k in r if str(k) not in cols]
        return cols, [[next((r[k] for k in r if str(k) == c), "") for c in cols] for r in data]
    raise TypeError(f"a 'table' section needs a list of dicts, a pandas DataFrame or a NumPy "
                    f"structured array, got {type(data).__name__}.")


def _table(data: Any, caption: str | None, max_rows: int) -> str:
    cols, rows = _rows(data)
    shown = rows[:max_rows]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = []
    for r in shown:
        cells = []
        for v in r:
            numeric = isinstance(v, int | float | np.number) and not isinstance(v, bool)
            cls = "" if numeric else ' class="s"'
            cells.append(f"<td{cls}>{html.escape(_fmt(v))}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    out = f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    if len(rows) > len(shown):
        out += (f'<p class="note">Showing the first {len(shown)} of {len(rows)} rows '
                f'(write_report(..., max_rows=...) shows more).</p>')
    return out


def _image_uri(image: Any) -> str:
    """A ``data:`` URI for a matplotlib Figure (as PNG) or an image file."""
    if hasattr(image, "savefig"):
        buf = io.BytesIO()
        image.savefig(buf, format="png", dpi=100, bbox_inches="tight")
        data, mime = buf.getvalue(), "image/png"
    elif isinstance(image, str | os.PathLike):
        path = Path(image)
        mime = _MIME.get(path.suffix.lower())
        if mime is None:
            raise ValueError(f"cannot embed image {str(path)!r}: unknown type {path.suffix!r}; use "
                             f"one of {sorted(_MIME)} (or pass the matplotlib Figure itself).")
        if not path.is_file():
            raise FileNotFoundError(f"image {str(path)!r} for the report does not exist. Save the "
                                    f"figure first, or pass the Figure object itself.")
        data = path.read_bytes()
    else:
        raise TypeError(f"an 'image' section needs a matplotlib Figure or the path of an image "
                        f"file, got {type(image).__name__}.")
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _metrics(values: Any) -> str:
    if not isinstance(values, Mapping):
        raise TypeError(f"a 'metrics' section needs a dict of name -> value, got "
                        f"{type(values).__name__}.")
    items = "".join(f"<div><dt>{html.escape(str(k))}</dt><dd>{html.escape(_fmt(v))}</dd></div>"
                    for k, v in values.items())
    return f'<dl class="metrics">{items}</dl>'


def _text(text: Any) -> str:
    paragraphs = [p.strip() for p in str(text).split("\n\n") if p.strip()]
    return "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)


_KINDS = {"heading": (2, 2), "text": (2, 2), "table": (2, 3), "image": (2, 3), "metrics": (2, 2),
          "images": (2, 2)}


def _figure(image: Any, caption: str | None, alt: str) -> str:
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return f'<figure><img src="{_image_uri(image)}" alt="{html.escape(alt, quote=True)}">{cap}</figure>'


def _images(items: Any, i: int) -> str:
    """A row of figures (it wraps on narrow screens), e.g. the five most confusing digits."""
    if isinstance(items, str | bytes) or not isinstance(items, Sequence) or not items:
        raise TypeError(f"sections[{i}]: an 'images' section needs a non-empty list of images "
                        f"or (image, caption) pairs, got {type(items).__name__}.")
    figures = []
    for j, item in enumerate(items):
        image, caption = (item[0], str(item[1])) if isinstance(item, tuple | list) else (item, None)
        figures.append(_figure(image, caption, caption or f"figure {i}.{j}"))
    return f'<div class="row">{"".join(figures)}</div>'


def _section(item: Any, i: int, max_rows: int) -> str:
    if not isinstance(item, tuple | list) or not item or item[0] not in _KINDS:
        kind = item[0] if isinstance(item, tuple | list) and item else item
        raise ValueError(f"sections[{i}] must be a tuple starting with one of {list(_KINDS)}, "
                         f"e.g. ('heading', 'Results'), got {kind!r}.")
    kind = item[0]
    lo, hi = _KINDS[kind]
    if not lo <= len(item) <= hi:
        forms = {"heading": "('heading', text)", "text": "('text', text)",
                 "table": "('table', rows[, caption])", "image": "('image', figure_or_path[, caption])",
                 "metrics": "('metrics', dict)"}
        raise ValueError(f"sections[{i}] has {len(item)} elements; write it as {forms[kind]}.")
    caption = str(item[2]) if len(item) > 2 and item[2] is not None else None
    if kind == "heading":
        return f"<h2>{html.escape(str(item[1]))}</h2>"
    if kind == "text":
        return _text(item[1])
    if kind == "table":
        return _table(item[1], caption, max_rows)
    if kind == "metrics":
        return _metrics(item[1])
    if kind == "images":
        return _images(item[1], i)
    return _figure(item[1], caption, caption or f"figure {i}")


def write_report(path: str | os.PathLike, title: str, sections: Sequence[Any], *,
                 max_rows: int = 200) -> Path:
    """Write a self-contained HTML report (one file, no external resources).

    Parameters
    ----------
    path : str or path
        Where to write, e.g. ``"report.html"``. Missing folders are created.
        The file is written to a temporary file in the same folder and moved
        into place (:mod:`unafraid.atomic`), so a crash never leaves half a
        report; a symlink is written through and a replaced file keeps its
        permissions.
    title : str
        The page title and top heading.
    sections : sequence of tuples
        In order, each one of

        * ``("heading", text)``: a section heading;
        * ``("text", text)``: paragraphs (blank lines separate them);
        * ``("table", rows[, caption])``: ``rows`` a list of dicts (one per
          row), a pandas DataFrame, or a NumPy structured array (e.g. from
          :func:`~unafraid.explore.confusion_table`);
        * ``("image", figure_or_path[, caption])``: a matplotlib Figure
          (rendered to PNG) or an image file (.png, .jpg, .gif, .svg, .webp),
          embedded as a base64 ``data:`` URI;
        * ``("images", [image_or_(image, caption), ...])``: several images side by side in
          one row (wrapping on narrow screens), e.g. the five most confusing digits;
        * ``("metrics", dict)``: name/value pairs, e.g. ``{"test accuracy": 0.98}``, shown in
          one line.

        All text is HTML-escaped: ``<``, ``>`` and ``&`` appear as typed.
    max_rows : int, default 200
        Longest table shown; longer ones are cut with a note.

    Returns
    -------
    pathlib.Path
        The path written.

    Examples
    --------
    >>> write_report("mnist.html", "MNIST: what confuses the model", [
    ...     ("metrics", {"test accuracy": 0.981}),
    ...     ("image", plot_margins(probs, y_test), "margins by example"),
    ...     ("table", confusion_table(probs, y_test).sort_values("margin").head(10)),
    ... ])                                                          # doctest: +SKIP
    """
    if isinstance(sections, str | bytes) or not isinstance(sections, Sequence):
        raise TypeError(f"sections must be a list of tuples such as ('text', '...'), got "
                        f"{type(sections).__name__}.")
    from .._version import __version__

    body = "\n".join(_section(item, i, max_rows) for i, item in enumerate(sections))
    page = (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(str(title))}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            f"<h1>{html.escape(str(title))}</h1>\n{body}\n"
            f"<footer>Written by unafraid {html.escape(__version__)}.</footer>\n</body>\n</html>\n")
    atomic_write_text(path, page)  # before Path(path), which would turn '' into '.'
    return Path(path)
