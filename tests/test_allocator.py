"""unafraid.allocator: a convnet's fit keeps freed memory for reuse (glibc's trim threshold)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import unafraid as uf
from unafraid import allocator
from unafraid.keras import layers


@pytest.mark.skipif(allocator._glibc() is None, reason="the C library is not glibc")
def test_keeping_freed_memory_removes_the_page_faults_of_a_repeated_step():
    """The kernel's own count of page faults: a step that allocates and frees 120 MiB faults
    its memory in anew each time with glibc's defaults, and not once the memory is kept."""
    script = textwrap.dedent("""
        import resource
        import numpy as np
        from unafraid import allocator

        def faults_per_step():
            before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            for _ in range(4):
                arrays = [np.ones(5 * 1024 * 1024, np.float32) for _ in range(6)]  # 6 x 20 MiB
                del arrays
            return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 4

        faults_per_step()  # glibc's adaptive thresholds settle on the 20 MiB blocks
        default = faults_per_step()
        assert allocator.keep_freed_memory([np.zeros((3, 3, 1, 8))])
        faults_per_step()  # the heap grows once
        print(default, faults_per_step())
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120, check=True, env=_env())
    default, kept = (float(v) for v in out.stdout.split())
    assert default > 1_000  # measured: about 3,100 (NumPy asks for huge pages on big arrays)
    assert kept < default / 20


def _env() -> dict[str, str]:
    import os
    return {k: v for k, v in os.environ.items() if k != "UNAFRAID_MALLOC"}


def test_fit_keeps_freed_memory_for_convnets_only(monkeypatch):
    calls = []
    monkeypatch.setattr(allocator, "_APPLIED", [])
    monkeypatch.setattr(allocator, "_set_thresholds", lambda *a: calls.append(a) or True)
    monkeypatch.delenv("UNAFRAID_MALLOC", raising=False)
    x, y = np.ones((8, 6, 2), np.float32), np.ones((8, 1), np.float32)
    dense = uf.keras.Sequential([uf.keras.Input((6, 2)), layers.Flatten(), layers.Dense(1)])
    dense.compile("sgd", "mse")
    dense.fit(x, y, verbose=0)
    assert calls == []  # a dense model: malloc left alone
    convnet = uf.keras.Sequential([uf.keras.Input((6, 2)), layers.Conv1D(3, 2), layers.Flatten(),
                                   layers.Dense(1)])
    convnet.compile("sgd", "mse")
    convnet.fit(x, y, verbose=0)
    convnet.fit(x, y, verbose=0)
    assert calls == [(allocator.TRIM_BYTES, allocator.MMAP_BYTES)]  # once per process

    monkeypatch.setattr(allocator, "_APPLIED", [])
    monkeypatch.setenv("UNAFRAID_MALLOC", "default")
    assert not allocator.keep_freed_memory(convnet.weights)
    monkeypatch.setenv("UNAFRAID_MALLOC", "keep")
    assert allocator.keep_freed_memory(dense.weights)
    monkeypatch.setenv("UNAFRAID_MALLOC", "always")
    with pytest.raises(ValueError, match="UNAFRAID_MALLOC='always'"):
        allocator.keep_freed_memory(convnet.weights)
