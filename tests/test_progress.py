"""progress_bar: one updating line in a notebook, tqdm's bar in a terminal, a few lines in a log."""

import io
import sys
import types

import pytest

from unafraid.progress import DisplayLine, in_notebook, progress_bar


class Terminal(io.StringIO):
    def isatty(self):
        return True


def run_epoch(bar, steps):
    for step in range(steps):
        bar.set_postfix({"loss": 1.0 / (step + 1), "accuracy": 0.5}, refresh=False)
        bar.update(1)
    bar.close()


def test_a_log_file_gets_a_few_plain_lines():
    log = io.StringIO()  # not a tty: a log file, a pipe, CI
    run_epoch(progress_bar(total=2000, desc="Epoch 1/1", file=log), 2000)
    text = log.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    assert 2 <= len(lines) <= 3, lines  # the start and the end (the run is far below 30 s)
    assert lines[0].startswith("Epoch 1/1:   0%") and "2000/2000" in lines[-1]
    assert "loss=0.0005" in lines[-1] and "accuracy=0.5" in lines[-1]


def test_a_log_file_gets_a_line_per_interval():
    log, ticks = io.StringIO(), iter(range(10**6))
    bar = progress_bar(total=100, desc="x", file=log, log_interval=5.0)
    bar._time = lambda: float(next(ticks))  # tqdm's own clock hook: one second per call
    bar.start_t = bar.last_print_t = 0.0
    run_epoch(bar, 100)
    lines = log.getvalue().splitlines()
    assert 5 <= len(lines) <= 60, lines  # roughly one line per 5 "seconds", never one per step


def test_a_terminal_gets_tqdms_bar_redrawn_in_place():
    tty = Terminal()
    run_epoch(progress_bar(total=50, desc="Epoch 1/1", file=tty, mininterval=0), 50)
    text = tty.getvalue()
    assert text.count("\r") > 10 and text.endswith("\n")
    assert "50/50" in text.split("\r")[-1]


def test_disable_draws_nothing_but_accepts_every_call():
    log = io.StringIO()
    with progress_bar(total=3, desc="quiet", file=log, disable=True) as bar:
        run_epoch(bar, 3)
    assert log.getvalue() == ""


@pytest.fixture
def fake_notebook(monkeypatch):
    """An IPython whose shell is a ZMQInteractiveShell (a Jupyter kernel), recording displays."""
    shown = []

    class Handle:
        def update(self, obj, raw=False):
            shown.append(("update", obj["text/plain"]))

    def display(obj, raw=False, display_id=None):
        assert raw and display_id is True
        shown.append(("display", obj["text/plain"]))
        return Handle()

    class ZMQInteractiveShell:
        pass

    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: type("Kernel", (ZMQInteractiveShell,), {})()
    ipython_display = types.ModuleType("IPython.display")
    ipython_display.display = display
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", ipython_display)
    return shown


def test_in_a_notebook_the_bar_is_one_display_updated_in_place(fake_notebook):
    assert in_notebook()
    run_epoch(progress_bar(total=500, desc="Epoch 1/1", mininterval=0), 500)
    kinds = [k for k, _ in fake_notebook]
    assert kinds[0] == "display" and set(kinds[1:]) == {"update"}  # one output, then updates
    final = fake_notebook[-1][1]
    assert final.startswith("Epoch 1/1: 100%") and "500/500" in final and "\r" not in final
    assert "loss=0.002" in final


def test_not_a_notebook_without_ipython_or_in_a_terminal_ipython(monkeypatch):
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    assert not in_notebook()
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: type("TerminalInteractiveShell", (), {})()
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    assert not in_notebook()


def test_display_line_shows_the_last_non_empty_redraw_only_when_it_changes(fake_notebook):
    line = DisplayLine()
    line.write("\rEpoch 1/1:  10%")
    line.write("\rEpoch 1/1:  10%")  # the same text: no message
    line.write("\rEpoch 1/1:  20%\n")
    line.write("\r   \r")
    assert fake_notebook == [("display", "Epoch 1/1:  10%"), ("update", "Epoch 1/1:  20%")]
