"""``keras.layers.serialize`` / ``deserialize``: a layer to a JSON-able dict and back (no code runs)."""

from __future__ import annotations

from typing import Any

from .. import registry


def serialize(layer: Any) -> dict[str, Any]:
    """``{'class_name': ..., 'config': layer.get_config()}``, as Keras 3's ``layers.serialize``.

    Parameters
    ----------
    layer : Layer

    Returns
    -------
    dict
        JSON-able; :func:`deserialize` re-creates the layer (unbuilt, with fresh weights).

    Examples
    --------
    >>> from unafraid import layers
    >>> spec = layers.serialize(layers.Dense(3, activation="relu"))
    >>> spec["class_name"], layers.deserialize(spec).units
    ('Dense', 3)
    """
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Any:
    """The layer :func:`serialize` described: a built-in layer class, or one of your own passed in
    ``custom_objects`` (``{'MyLayer': MyLayer}``); the dict only names a class, it never holds code.
    """
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ValueError(f"layers.deserialize needs {{'class_name': ..., 'config': {{...}}}} as "
                         f"layers.serialize returns, got {str(config)[:200]}")
    cls = registry.lookup("layer", config["class_name"], custom_objects)  # unknown: refused by name
    return cls.from_config(config.get("config") or {})
