"""benchmarks/cells_speed.py (issue 19's speed benchmark): the ratios it prints, the guard that it
times the checkout it was asked to, and one short run of the unafraid worker. The PyTorch and scVI
workers need their own environments and are run by hand (docs/cells.md, "Speed")."""

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "benchmarks", "cells_speed.py")


def load_script():
    spec = importlib.util.spec_from_file_location("cells_speed", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_print_ratios_gives_each_round_and_the_median(capsys):
    script = load_script()
    script.print_ratios({"unafraid": [1.0, 3.0, 2.0], "torch": [2.0, 4.0, 1.0], "scvi": [4.0, 4.0, 4.0]})
    lines = capsys.readouterr().out.splitlines()
    # hand-worked: 1/2, 3/4, 2/1 -> median 0.75; 1/4, 3/4, 2/4 -> median 0.5
    assert lines == ["unafraid / torch: 0.750 (median; rounds 0.500, 0.750, 2.000)",
                     "unafraid / scvi: 0.500 (median; rounds 0.250, 0.750, 0.500)"]


def test_check_checkout_refuses_another_unafraid(monkeypatch):
    script = load_script()
    monkeypatch.setenv("PYTHONPATH", os.path.join(ROOT, "no-such-checkout"))
    with pytest.raises(RuntimeError, match="should time the unafraid in .*no-such-checkout"):
        script.check_checkout("unafraid")
    monkeypatch.setenv("PYTHONPATH", ROOT)
    script.check_checkout("unafraid")


def test_unafraid_worker_reports_cpu_seconds_per_epoch(tmp_path):
    counts = np.random.default_rng(0).poisson(2.0, size=(60, 30)).astype(np.float32)
    path = tmp_path / "counts.npz"
    np.savez(path, train=counts[:50], val=counts[50:])
    env = {**os.environ, "PYTHONPATH": ROOT, "OPENBLAS_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, SCRIPT, "--epochs", "2", "--worker", "unafraid", str(path)],
                         capture_output=True, text=True, env=env, check=True, timeout=300)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["tool"] == "unafraid"
    assert 0.0 < report["cpu_s_per_epoch"] < 60.0
