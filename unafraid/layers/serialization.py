"""``keras.layers.serialize`` / ``deserialize``: a layer to a JSON-able dict and back (no code runs)."""

from __future__ import annotations

from typing import Any


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
    from ..io.saving import serialize_layer

    return serialize_layer(layer)


def deserialize(config: dict[str, Any], custom_objects: dict[str, Any] | None = None) -> Any:
    """The layer :func:`serialize` described: a built-in layer class, or one of your own passed in
    ``custom_objects`` (or registered); the dict only names a class, it never holds code."""
    from ..io.saving import deserialize_layer

    return deserialize_layer(config, custom_objects)
