"""Your own classes in saved models: Keras 3's ``custom_objects``, ``custom_object_scope`` and
``register_keras_serializable``.

A saved file never holds code. A layer or model of your own class is saved as its class name
and its ``get_config()``; loading it needs the class from your program, given in one of three
ways (as in Keras 3)::

    keras.models.load_model(path, custom_objects={"CustomModel": CustomModel})

    with keras.utils.custom_object_scope({"CustomModel": CustomModel}):
        keras.models.load_model(path)

    @keras.saving.register_keras_serializable(package="MyPackage")
    class CustomModel(keras.Model): ...      # saved as "MyPackage>CustomModel"

Nothing is ever imported by a name read from a file: only the classes given here are found.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["register_keras_serializable", "get_registered_name", "get_registered_object",
           "custom_object_scope", "CustomObjectScope", "get_custom_objects", "find_custom_object"]

REGISTERED: dict[str, Any] = {}  # "package>Name" -> class or function, filled by the decorator
_SCOPES: list[dict[str, Any]] = []  # the custom_object_scope blocks now open, innermost last


def register_keras_serializable(package: str = "Custom", name: str | None = None) -> Callable[[Any], Any]:
    """Decorator: register a class (or function) so that saved models find it by name.

    Parameters
    ----------
    package : str, default 'Custom'
        The first part of the registered name ``'<package>><name>'``.
    name : str, optional
        Defaults to the class's ``__name__``.

    Examples
    --------
    >>> from unafraid import keras
    >>> @keras.saving.register_keras_serializable(package="Doc")
    ... class Twice(keras.layers.Layer):
    ...     def call(self, x):
    ...         return 2 * x
    >>> keras.saving.get_registered_name(Twice)
    'Doc>Twice'
    """
    if ">" in package:
        raise ValueError(f"register_keras_serializable: package={package!r} may not contain '>'.")

    def decorate(obj: Any) -> Any:
        key = f"{package}>{name or obj.__name__}"
        if key in REGISTERED and REGISTERED[key] is not obj:
            raise ValueError(f"{key} has already been registered to {REGISTERED[key]!r}; give "
                             f"another package= or name=.")
        if isinstance(obj, type) and not hasattr(obj, "get_config"):
            raise ValueError(f"Cannot register {obj.__name__}: the class has no get_config method.")
        REGISTERED[key] = obj
        return obj
    return decorate


def get_registered_name(obj: Any) -> str:
    """``'package>Name'`` for a registered class or function, its ``__name__`` otherwise."""
    for key, value in REGISTERED.items():
        if value is obj:
            return key
    return getattr(obj, "__name__", type(obj).__name__)


def get_registered_object(name: str, custom_objects: dict[str, Any] | None = None) -> Any:
    """The class or function registered (or given in a scope or ``custom_objects``) as ``name``,
    or ``None``."""
    return find_custom_object(name, custom_objects)


def get_custom_objects() -> dict[str, Any]:
    """The table filled by ``register_keras_serializable`` (Keras's global custom objects)."""
    return REGISTERED


def find_custom_object(name: str, custom_objects: dict[str, Any] | None = None) -> Any:
    """Look ``name`` (a class name or a registered ``'package>Name'``) up: ``custom_objects``
    first, then the open scopes (innermost first), then the registered table; ``None`` if absent."""
    short = name.split(">")[-1]
    for table in [custom_objects or {}, *reversed(_SCOPES), REGISTERED]:
        for key in (name, short):
            if key in table:
                return table[key]
    return None


@contextlib.contextmanager
def custom_object_scope(*scopes: dict[str, Any] | None) -> Iterator[None]:
    """``with custom_object_scope({"MyLayer": MyLayer}):`` loading inside the block finds them."""
    merged: dict[str, Any] = {}
    for table in scopes:
        merged.update(table or {})
    _SCOPES.append(merged)
    try:
        yield
    finally:
        del _SCOPES[next(i for i, t in enumerate(_SCOPES) if t is merged)]


CustomObjectScope = custom_object_scope
