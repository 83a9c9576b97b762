"""Independent oracles shared by the tests (Keras 3 on JAX, where installed)."""
