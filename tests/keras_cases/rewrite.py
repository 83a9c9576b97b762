"""Rewrite a Keras 3 test file so that it runs against unafraid.

Every ``import keras...`` / ``from keras.src... import name`` statement (at any depth; and Keras's
``conftest`` helpers) becomes an assignment from :func:`tests.keras_cases.shim.resolve`, which hands
back unafraid's object for the Keras name, or a placeholder that raises ``MissingFeature`` (naming
the Keras name) when a test uses it. The rewritten statement keeps the original's line numbers, so
a traceback points at the Keras file's own lines. Nothing else in the test changes.
"""

from __future__ import annotations

import ast

SHIM = "tests.keras_cases.shim"
IMPORT = f"import {SHIM} as _keras_cases_shim; "


def _is_keras(module: str | None) -> bool:
    return module is not None and (module in ("keras", "conftest") or module.startswith("keras."))


def _replacement(node: ast.Import | ast.ImportFrom) -> str | None:
    """The assignments that replace one import statement, or None when it imports no Keras name."""
    if isinstance(node, ast.ImportFrom):
        if node.level or not _is_keras(node.module):
            return None
        parts = [f"{alias.asname or alias.name} = _keras_cases_shim.resolve({node.module!r}, {alias.name!r})"
                 for alias in node.names]
        return IMPORT + "; ".join(parts)
    keras_aliases = [alias for alias in node.names if _is_keras(alias.name)]
    if not keras_aliases:
        return None
    if len(keras_aliases) != len(node.names):
        raise ValueError(f"line {node.lineno}: an import mixes Keras and other modules; split it")
    parts = []
    for alias in node.names:
        if alias.asname:
            parts.append(f"{alias.asname} = _keras_cases_shim.resolve_module({alias.name!r})")
        else:  # `import keras.src.foo` binds the name `keras`
            parts.append(f"{alias.name.split('.')[0]} = _keras_cases_shim.resolve_module('keras')")
    return IMPORT + "; ".join(parts)


def rewrite(source: str) -> str:
    """The test file's source with its Keras imports resolved through the shim (same line numbers)."""
    tree = ast.parse(source)
    lines = source.splitlines()
    edits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            new = _replacement(node)
            if new is not None:
                edits.append((node.lineno, node.end_lineno, node.col_offset, new))
    for start, end, col, new in sorted(edits, reverse=True):
        indent = lines[start - 1][:col]
        lines[start - 1:end] = [indent + new] + [""] * (end - start)
    return "\n".join(lines) + "\n"

