"""Identical runs write identical files: the bytes of model.save and save_weights, across processes."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

SAVE_TWICE = textwrap.dedent("""
    import sys
    import numpy as np
    import unafraid as tf

    x = np.linspace(-1, 1, 64 * 4, dtype=np.float32).reshape(64, 4)
    y = (x.sum(1) > 0).astype(np.int64)
    model = tf.keras.Sequential([tf.keras.layers.Dense(8, activation="relu", input_shape=(4,)),
                                 tf.keras.layers.Dropout(0.1),
                                 tf.keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    model.save(sys.argv[1] + "/model.safetensors")
    model.save_weights(sys.argv[1] + "/weights.safetensors")
""")


def _save_in_a_new_process(folder: Path) -> None:
    folder.mkdir()
    # A new process each time: safetensors orders the header's metadata by a hash map whose
    # seed changes from process to process, so two saves in one process could agree by luck.
    subprocess.run([sys.executable, "-c", SAVE_TWICE, str(folder)], check=True, cwd=ROOT)


def test_two_identical_runs_write_identical_bytes(tmp_path):
    _save_in_a_new_process(tmp_path / "a")
    _save_in_a_new_process(tmp_path / "b")
    for name in ("model.safetensors", "weights.safetensors"):
        a, b = (tmp_path / "a" / name).read_bytes(), (tmp_path / "b" / name).read_bytes()
        assert a == b, name


def test_header_keys_are_sorted_and_the_file_still_loads(tmp_path):
    import unafraid as tf

    _save_in_a_new_process(tmp_path / "a")
    blob = (tmp_path / "a" / "model.safetensors").read_bytes()
    n = int.from_bytes(blob[:8], "little")
    assert n % 8 == 0  # the format pads the header to 8 bytes
    header = json.loads(blob[8:8 + n])
    assert list(header) == sorted(header)
    assert list(header["__metadata__"]) == sorted(header["__metadata__"])
    model = tf.keras.models.load_model(tmp_path / "a" / "model.safetensors")
    from safetensors.numpy import load_file  # an independent reader of the same bytes
    tensors = load_file(tmp_path / "a" / "model.safetensors")
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_array_equal(tensors[f"weights/{i}"], w)
