"""One registry of names: everything unafraid builds from a name or a saved config.

Layers, losses, metrics, optimizers, activations, initializers, regularizers and
learning-rate schedules each register their classes and functions here, under the
names Keras gives them (``'adam'``, ``'glorot_uniform'``, ``'Dense'``...), when their
module is imported. ``get``/``deserialize`` in those modules, and the model loader in
``unafraid.io``, look names up here, so a misspelt name gets the same help everywhere::

    ValueError: Unknown optimizer 'adamm'. Did you mean 'adam'? Known optimizers: adadelta,
    adagrad, adam, adamax, adamw, ftrl, lamb, lion, nadam, rmsprop, sgd.

A lookup tries the name as written, then in lower case, so ``'Adam'``, ``'ADAM'`` and
``'adam'`` are the same optimizer while class names (``'MeanSquaredError'``) are matched
as written. The registry holds only what unafraid's own modules put in it (and what a
caller registers on purpose): a saved file can name only these, never code to import.

Examples
--------
>>> from unafraid import registry
>>> registry.lookup("optimizer", "Adam").__name__
'Adam'
>>> registry.did_you_mean("glorot_unifrom", ["glorot_uniform", "he_normal"])
" Did you mean 'glorot_uniform'?"
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

__all__ = ["Names", "names", "register", "lookup", "did_you_mean", "edit_distance", "KINDS"]


def did_you_mean(name: str, candidates: Iterable[str], cutoff: float = 0.6) -> str:
    """``" Did you mean 'x'?"`` for the candidate closest to ``name`` (ignoring case), or ``""``.

    Parameters
    ----------
    name : str
        The name that was not found.
    candidates : iterable of str
        The names that exist, spelt as they should be suggested.
    cutoff : float, default 0.6
        ``difflib``'s similarity threshold in [0, 1]: lower suggests more eagerly.
    """
    lowered = {c.lower(): c for c in candidates}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=cutoff)
    if not close:
        return ""
    # of difflib's closest few, the fewest typing slips ('adma' is 'adam' swapped, not 'adamax')
    best = min(close, key=lambda c: edit_distance(name.lower(), c))
    return f" Did you mean '{lowered[best]}'?"


def edit_distance(a: str, b: str) -> int:
    """Insertions, deletions, substitutions and swaps of neighbours that turn ``a`` into ``b``
    (the optimal string alignment distance)."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


class Names:
    """The names of one kind of object (``'optimizer'``, ``'layer'``...): name -> class or function.

    Parameters
    ----------
    kind : str
        What the objects are, for messages ("Unknown {kind} ...").
    plural : str, optional
        For "Known {plural}: ..." (default ``kind + 's'``).
    advice : str, optional
        A sentence added to the unknown-name error (e.g. how to pass your own).
    cutoff : float, default 0.6
        How similar a name must be to be suggested (see ``did_you_mean``).
    """

    def __init__(self, kind: str, plural: str | None = None, advice: str = "",
                 cutoff: float = 0.6) -> None:
        self.kind = kind
        self.plural = plural or f"{kind}s"
        self.advice = advice
        self.cutoff = cutoff
        self._objects: dict[str, Any] = {}
        self._listed: list[str] = []

    def register(self, obj: Any, *names: str, listed: bool = True) -> Any:
        """Register ``obj`` under ``names`` (default: its ``__name__``); returns ``obj``.

        ``listed=False`` registers aliases that are accepted but neither listed nor
        suggested in messages (e.g. class names beside Keras's snake_case names).
        """
        for name in names or (obj.__name__,):
            self._objects[name] = obj
            if listed and name not in self._listed:
                self._listed.append(name)
        return obj

    def register_each(self, objects: Iterable[Any], listed: bool = True) -> None:
        """Register each object under its ``__name__``."""
        for obj in objects:
            self.register(obj, listed=listed)

    def register_table(self, table: dict[str, Any], class_names: bool = False) -> None:
        """Register each ``name: object`` pair of ``table``.

        With ``class_names=True`` each object is also accepted under its own ``__name__``
        (as saved configs name classes), without being listed or suggested.
        """
        for name, obj in table.items():
            self.register(obj, name)
            if class_names:
                self.register(obj, obj.__name__, listed=False)

    def get(self, name: str) -> Any | None:
        """The object registered as ``name`` (as written, else in lower case), or None."""
        if not isinstance(name, str):
            return None
        found = self._objects.get(name)
        return found if found is not None else self._objects.get(name.lower())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def listed(self) -> list[str]:
        """The names shown in messages, sorted."""
        return sorted(self._listed)

    def items(self) -> list[tuple[str, Any]]:
        """Every ``(name, object)`` pair, aliases included, in registration order."""
        return list(self._objects.items())

    def unknown(self, name: str, extra: Iterable[str] = ()) -> ValueError:
        """The error for a name that is not registered: the closest name, the known ones, the advice."""
        known = sorted({*self._listed, *extra})
        hint = did_you_mean(name, known, self.cutoff) if isinstance(name, str) else ""
        advice = f" {self.advice}" if self.advice else ""
        return ValueError(f"Unknown {self.kind} '{name}'.{hint} Known {self.plural}: "
                          f"{', '.join(known)}.{advice}")

    def lookup(self, name: str, custom_objects: dict[str, Any] | None = None) -> Any:
        """The object for ``name`` (``custom_objects`` first); a ValueError that helps otherwise."""
        if custom_objects and name in custom_objects:
            return custom_objects[name]
        found = self.get(name)
        if found is None:
            raise self.unknown(name, extra=custom_objects or ())
        return found

    def __repr__(self) -> str:
        return f"<registry of {len(self._listed)} {self.plural}>"


KINDS: dict[str, Names] = {}   # the one table: kind -> its names


def names(kind: str, plural: str | None = None, advice: str = "", cutoff: float = 0.6) -> Names:
    """The registry of one kind, created on first use (the arguments apply when it is created)."""
    if kind not in KINDS:
        KINDS[kind] = Names(kind, plural, advice, cutoff)
    return KINDS[kind]


def register(kind: str, obj: Any, *aliases: str, listed: bool = True) -> Any:
    """``names(kind).register(obj, *aliases, listed=listed)``."""
    return names(kind).register(obj, *aliases, listed=listed)


def lookup(kind: str, name: str, custom_objects: dict[str, Any] | None = None) -> Any:
    """``names(kind).lookup(name, custom_objects)``: the object, or a ValueError naming the kind."""
    if kind not in KINDS:
        raise ValueError(f"Unknown kind of object {kind!r}.{did_you_mean(kind, KINDS)} Known "
                         f"kinds: {', '.join(sorted(KINDS))}.")
    return KINDS[kind].lookup(name, custom_objects)
