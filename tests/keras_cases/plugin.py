"""pytest plugin of the Keras-cases runner: one JSON line per test item, its outcome classified.

Kinds: ``passed``; ``number`` (a numeric assertion failed on arrays of the right shape: unafraid gave
a different number from Keras's expected value); ``missing`` (a Keras name, argument or attribute
unafraid lacks); ``error`` (anything else: an exception or a non-numeric assertion); ``n/a`` (Keras
skips the case on the chosen backend, e.g. a TensorFlow-only case).
"""

from __future__ import annotations

import inspect
import json
import os
import re

import pytest

from tests.keras_cases.shim import MissingFeature, NumberMismatch

OUT = os.environ.get("KERAS_CASES_OUT", "keras_cases.jsonl")
MISSING_PATTERNS = [
    (re.compile(r"unexpected keyword argument '(\w+)'"), "argument {}"),
    (re.compile(r"has no attribute '(\w+)'"), "attribute {}"),
    (re.compile(r"module '([\w.]+)' has no attribute '(\w+)'"), "{}.{}"),
    (re.compile(r"data type '(\w+)' not understood"), "dtype {}"),
]


def classify(excinfo) -> tuple[str, str]:
    if excinfo is None:
        return "passed", ""
    error = excinfo.value
    message = f"{type(error).__name__}: {str(error).strip()}"[:400]
    if isinstance(error, MissingFeature):
        return "missing", str(error)
    if isinstance(error, NumberMismatch):
        return "number", message
    if isinstance(error, TypeError | AttributeError):
        for pattern, label in MISSING_PATTERNS:
            found = pattern.search(str(error))
            if found:
                return "missing", f"{label.format(*found.groups())} ({message[:160]})"
    return "error", message


def method_name(item) -> str:
    function = inspect.unwrap(getattr(item, "obj", None) or (lambda: None))
    name = getattr(function, "__name__", None) or getattr(item, "originalname", None) or item.name
    cls = item.cls.__name__ + "." if getattr(item, "cls", None) else ""
    return cls + name


def _write(record: dict) -> None:
    with open(OUT, "a", encoding="utf-8") as out:
        out.write(json.dumps(record) + "\n")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "teardown" or (report.when == "setup" and report.passed):
        return
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        kind, detail = "n/a", reason
    else:
        kind, detail = classify(call.excinfo)
    _write({"file": item.path.name, "item": item.name, "method": method_name(item), "kind": kind,
            "detail": detail})


def pytest_collectreport(report):
    if report.failed:
        _write({"file": os.path.basename(str(report.fspath)), "item": "<collection>", "method":
                "<collection>", "kind": "error", "detail": str(report.longrepr)[-400:]})


def pytest_configure(config):
    config.addinivalue_line("markers", "requires_trainable_backend: Keras's marker (runs on JAX)")
    config.addinivalue_line("markers", "multi_device: Keras's marker")
