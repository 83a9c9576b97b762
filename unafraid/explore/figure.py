"""A matplotlib Figure that shows itself in Jupyter and VS Code notebooks, with no magic.

IPython shows an object as an image when the object has a ``_repr_png_`` method, or when a
PNG printer is registered for its type. The second happens only once ``pyplot`` or
``%matplotlib inline`` has set up the inline backend; unafraid's plots use the
object-oriented API and never touch pyplot, so a plain ``Figure`` would show only
``<Figure size 840x320 with 2 Axes>``. This subclass carries its own ``_repr_png_``: the last
expression of a cell, or ``display(fig)``, shows the picture. Where pyplot's inline backend
is active its own printer takes precedence (IPython looks up printers by type first), so a
figure is never shown twice. Outside a notebook nothing changes: ``fig.savefig`` works as for
any Figure.

This module imports matplotlib; :mod:`unafraid.explore.plots` imports it only when a plot is
drawn.
"""

from __future__ import annotations

import io

from matplotlib.figure import Figure

__all__ = ["NotebookFigure", "NOTEBOOK_DPI"]

#: Resolution of the PNG a notebook shows (matplotlib's inline backend uses 100 dpi too):
#: an 8.4 x 3.2 inch figure is 840 x 320 pixels, a few tens of kilobytes.
NOTEBOOK_DPI = 100


class NotebookFigure(Figure):
    """A :class:`matplotlib.figure.Figure` with ``_repr_png_``, so notebooks display it."""

    def _repr_png_(self) -> bytes:
        """The figure as PNG bytes, cropped to its content (as ``%matplotlib inline`` does)."""
        buf = io.BytesIO()
        self.savefig(buf, format="png", dpi=NOTEBOOK_DPI, bbox_inches="tight")
        return buf.getvalue()
