"""Models: ``Sequential``, functional ``Model(inputs, outputs)``, subclassed ``Model``."""

from __future__ import annotations

from typing import Any

from .. import registry
from ..io.saving import load_model as load_model_file
from .functional import Functional
from .model import Model
from .sequential import Sequential

registry.names("layer").register_each([Sequential, Functional])   # what a saved file may build


def load_model(filepath: Any, compile: bool = True,  # noqa: A002
               custom_objects: dict[str, Any] | None = None, safe_mode: bool = True) -> Model:
    """Load a model saved with ``model.save`` (no code is run; see ``unafraid.io``).

    ``custom_objects={"MyModel": MyModel}`` gives the classes of your own layers and models
    (as in Keras 3). ``safe_mode`` is accepted for Keras's signature: unafraid is always safe
    (a file's code, such as a ``Lambda``, is never run, whatever its value).
    """
    return load_model_file(filepath, compile=compile, custom_objects=custom_objects)


def model_from_json(json_string: str, custom_objects: dict[str, Any] | None = None) -> Model:
    """The model ``model.to_json()`` described, with fresh weights (Keras's ``model_from_json``).

    Only unafraid's built-in layers and the classes (and activation functions) you pass in
    ``custom_objects`` or a ``custom_object_scope`` are built: the JSON names them, it holds no
    code.

    Examples
    --------
    >>> from unafraid import keras
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    >>> keras.models.model_from_json(model.to_json()).count_params()
    10
    """
    import json

    from ..io.custom_objects import custom_object_scope
    from ..io.saving import deserialize_layer
    try:
        spec = json.loads(json_string)
    except (TypeError, ValueError) as e:
        raise ValueError(f"model_from_json needs the string model.to_json() returns: {e}") from e
    with custom_object_scope(custom_objects):
        return deserialize_layer(spec)


def clone_model(model: Model, input_tensors: Any = None, clone_function: Any = None,
                **kwargs: Any) -> Model:
    """A new model with ``model``'s architecture and fresh weights (Keras's ``clone_model``).

    Equivalent to re-creating the model from its config: neither the weights' values nor the
    compile settings are copied (call ``set_weights(model.get_weights())`` and ``compile``). Layers
    and activation functions of your own must be known by name (``custom_object_scope`` or
    ``register_keras_serializable``), as when loading. ``input_tensors`` and ``clone_function``
    (Keras's options to rewire the graph or replace layers) are not provided.

    Examples
    --------
    >>> from unafraid import keras
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    >>> twin = keras.models.clone_model(model)
    >>> twin.output_shape, twin.layers[0] is model.layers[0]
    ((None, 2), False)
    """
    from ..io.saving import deserialize_layer, serialize_layer
    if input_tensors is not None or clone_function is not None or kwargs:
        given = ["input_tensors"] * (input_tensors is not None) + [
            "clone_function"] * (clone_function is not None) + sorted(kwargs)
        raise NotImplementedError(
            f"clone_model: {given} are not provided by unafraid; clone_model(model) re-creates the "
            f"same architecture. Build a changed architecture in code instead.")
    return deserialize_layer(serialize_layer(model))


__all__ = ["Model", "Sequential", "Functional", "load_model", "model_from_json", "clone_model"]
