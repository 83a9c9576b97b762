"""Issue 13's code targets, kept: ``fit`` stays a short loop, and no function in ``models/`` or
``optimizers.py`` is rated worse than C by radon (cyclomatic complexity above 20)."""

from __future__ import annotations

import ast
import inspect
import textwrap
from pathlib import Path

import pytest
from radon.complexity import cc_rank, cc_visit
from radon.visitors import Class

PACKAGE = Path(__file__).resolve().parent.parent / "unafraid"
FILES = [*sorted((PACKAGE / "models").glob("*.py")), PACKAGE / "optimizers.py"]


def functions(blocks):
    """Every function radon rates, methods and nested functions included."""
    for block in blocks:
        inner = block.methods if isinstance(block, Class) else [block]
        for function in inner:
            yield function
            yield from functions(function.closures)


def ranked_worse_than_c(source: str) -> list[str]:
    """One line per function ranked D or worse (radon lists a method both in its class and alone:
    once here)."""
    worse = {(f.lineno, f.name): f"{f.name} (line {f.lineno}): complexity {f.complexity}"
             for f in functions(cc_visit(source)) if cc_rank(f.complexity) > "C"}
    return [worse[k] for k in sorted(worse)]


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_function_is_rated_worse_than_c(path):
    assert ranked_worse_than_c(path.read_text()) == []


def test_the_check_sees_a_nested_function_of_a_method():
    branches = "\n".join(f"            if x == {i}:\n                return {i}" for i in range(25))
    source = f"class A:\n    def m(self):\n        def f(x):\n{branches}\n        return f\n"
    assert [line.split(" ")[0] for line in ranked_worse_than_c(source)] == ["f"]


def test_fit_is_a_loop_of_under_60_lines():
    from unafraid.models.training import Trainer
    fit = ast.parse(textwrap.dedent(inspect.getsource(Trainer.fit))).body[0]
    code = fit.body[1:] if isinstance(fit.body[0], ast.Expr) else fit.body  # after the docstring
    assert code[-1].end_lineno - code[0].lineno + 1 < 60
