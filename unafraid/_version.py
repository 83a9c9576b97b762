"""The version of unafraid (one place; ``unafraid.__version__`` reads it)."""

__version__ = "0.1.0"
