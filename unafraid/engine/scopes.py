"""Keras's name scopes: ``with name_scope("dense"): Variable(..., name="kernel")`` names the
variable ``'dense/kernel'`` (its ``path``), as Keras 3's ``keras.backend.name_scope`` does."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator


class _NameScopes(threading.local):
    stack: list[str]

    def __init__(self) -> None:
        self.stack = []


_name_scopes = _NameScopes()


@contextlib.contextmanager
def name_scope(name: str) -> Iterator[str]:
    """Keras's ``keras.backend.name_scope``: Variables made inside are named ``'<scope>/<name>'``
    (scopes nest: ``'outer/inner/kernel'``); yields the scope's path.

    Examples
    --------
    >>> import numpy as np
    >>> from unafraid.engine.tensor import Variable
    >>> with name_scope("dense"):
    ...     w = Variable(np.ones(2), name="kernel")
    >>> w.path
    'dense/kernel'
    """
    if not isinstance(name, str) or "/" in name:
        raise ValueError(f"Argument `name` must be a string and cannot contain character `/`. "
                         f"Received: name={name!r}. Nest two scopes for 'outer/inner'.")
    _name_scopes.stack.append(name)
    try:
        yield "/".join(_name_scopes.stack)
    finally:
        _name_scopes.stack.pop()


def scoped_name(name: str) -> str:
    """``name`` after the open scopes' names (``'dense/kernel'``), or ``name`` outside any."""
    return "/".join([*_name_scopes.stack, name]) if _name_scopes.stack else name
