"""Keras 3's own unit-test cases, run against unafraid from a Keras checkout (see README.md)."""
