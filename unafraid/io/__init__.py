"""Saving and loading (JSON architecture + safetensors numbers; never pickle)."""

from .saving import ModelFileError, atomic_write_bytes, load_model, load_weights, save_model, save_weights

__all__ = ["ModelFileError", "atomic_write_bytes", "load_model", "load_weights", "save_model",
           "save_weights"]
