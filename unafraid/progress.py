"""Progress bars that behave in a notebook, a terminal, a log file and CI.

``progress_bar(total, desc)`` returns a tqdm object (``update(n)``,
``set_postfix(dict, refresh=False)``, ``close()``, usable as a context manager)
that is drawn where the user is looking:

========================  ===================================================================
where                     what is drawn
========================  ===================================================================
Jupyter / VS Code         one line of text, updated in place through an IPython display
notebook                  handle: no ipywidgets needed, no ``TqdmWarning``, and the saved
                          notebook keeps only the final line (not one output per refresh)
terminal (a tty)          tqdm's own bar on stderr, redrawn in place
log file, pipe, CI        one plain line per ``log_interval`` seconds (default 30) and a
(stderr not a tty)        final line, so a log holds a few lines instead of hundreds of ``\\r``
========================  ===================================================================

``tqdm.auto`` is not used: without ipywidgets it warns and falls back to a bar
that writes hundreds of ``\\r`` outputs into the notebook.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

__all__ = ["progress_bar", "in_notebook"]

#: Seconds between lines when stderr is not a terminal (a log file, a pipe, CI).
LOG_INTERVAL = 30.0
#: Seconds between redraws in a notebook (each one is a message to the front end).
NOTEBOOK_INTERVAL = 0.5


def in_notebook() -> bool:
    """True inside a Jupyter kernel (JupyterLab, Notebook, VS Code, Colab), False elsewhere.

    Looks at IPython only if something already imported it, so scripts never import IPython.
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and any(c.__name__ == "ZMQInteractiveShell" for c in type(shell).__mro__)


class DisplayLine:
    """A write-only text stream that shows the last line written in one notebook output.

    tqdm redraws by writing ``"\\r" + line``; each non-empty line replaces the text of a single
    ``display_id`` output (``update_display_data`` messages), so the notebook shows one line
    that changes, and stores only its last state.
    """

    encoding = "utf-8"  # tqdm then draws the bar with Unicode blocks

    def __init__(self) -> None:
        self._handle: Any = None
        self._last = ""

    def write(self, s: str) -> int:
        line = s.replace("\n", "\r").split("\r")
        text = next((part.strip() for part in reversed(line) if part.strip()), "")
        if text and text != self._last:
            self._last = text
            self._show(text)
        return len(s)

    def _show(self, text: str) -> None:
        from IPython.display import display

        content = {"text/plain": text}
        if self._handle is None:
            self._handle = display(content, raw=True, display_id=True)
        else:
            self._handle.update(content, raw=True)

    def flush(self) -> None: ...

    def isatty(self) -> bool:
        return False


class LogLines:
    """A text stream for logs: each tqdm redraw (``"\\r" + line``) becomes its own line."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, s: str) -> int:
        for part in s.replace("\n", "\r").split("\r"):
            if part.strip():
                self._stream.write(part.rstrip() + "\n")
        return len(s)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return False


def _is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def progress_bar(total: int, desc: str = "", *, unit: str = "step", file: TextIO | None = None,
                 leave: bool = True, disable: bool = False, log_interval: float = LOG_INTERVAL,
                 **tqdm_kwargs: Any) -> Any:
    """A tqdm progress bar drawn as one updating line wherever the code runs.

    Parameters
    ----------
    total : int
        Number of steps (``update(1)`` once per step reaches it).
    desc : str
        Text before the bar, e.g. ``"Epoch 1/5"``.
    unit : str, default "step"
        The unit in the rate (``12.3step/s``).
    file : text stream, optional
        Where to draw; default ``sys.stderr`` (in a notebook: the cell's output).
    leave : bool, default True
        Keep the final line after ``close()``.
    disable : bool, default False
        Draw nothing (the object still accepts every call).
    log_interval : float, default 30
        Seconds between lines when the stream is not a terminal (a log file, CI).
    **tqdm_kwargs
        Passed on to ``tqdm.tqdm`` (``mininterval``, ``dynamic_ncols``, ``ncols``...).

    Returns
    -------
    tqdm.tqdm
        Supports ``update(n)``, ``set_postfix(dict, refresh=False)``, ``set_description``,
        ``close()`` and ``with``.

    Examples
    --------
    >>> from unafraid.progress import progress_bar
    >>> with progress_bar(total=3, desc="Epoch 1/1", disable=True) as bar:
    ...     for step in range(3):
    ...         bar.set_postfix({"loss": 0.5}, refresh=False)
    ...         bar.update(1)
    """
    from tqdm import tqdm

    kwargs: dict[str, Any] = {"total": total, "desc": desc, "unit": unit, "leave": leave,
                              "disable": disable, **tqdm_kwargs}
    stream = sys.stderr if file is None else file
    if file is None and in_notebook():
        kwargs.update(file=DisplayLine(), ncols=None, dynamic_ncols=False,
                      mininterval=max(kwargs.get("mininterval", 0.0), NOTEBOOK_INTERVAL))
    elif _is_tty(stream):
        kwargs["file"] = stream
    else:  # a log file, a pipe or CI: a few plain lines
        kwargs.update(file=LogLines(stream), ncols=None, dynamic_ncols=False,
                      mininterval=max(kwargs.get("mininterval", 0.0), log_interval),
                      maxinterval=max(kwargs.get("maxinterval", 10.0), log_interval))
    return tqdm(**kwargs)
