"""`unafraid doctor`: kernels that run this Python, BLAS threads, a busy machine, a source tree."""

import json
import os
import sys
from pathlib import Path

import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from unafraid import doctor


def spec(folder: Path, name: str, argv0: str) -> dict:
    path = folder / name / "kernel.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"argv": [argv0, "-m", "ipykernel_launcher", "-f", "{connection_file}"]}))
    return {"name": name, "python": argv0, "spec": str(path)}


@pytest.mark.parametrize("argv0", ["python", "python3", f"python3.{sys.version_info.minor}"])
def test_a_bare_python_in_this_environments_kernelspec_runs_this_python(tmp_path, monkeypatch, argv0):
    # What `pip install ipykernel` puts in a virtual environment: share/jupyter/kernels/python3
    # with argv[0] "python", which Jupyter replaces with the Python it runs from.
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    kernel = spec(tmp_path / "share/jupyter/kernels", "python3", argv0)
    assert doctor.kernel_runs_this_python(kernel)
    line, found = doctor.kernel_advice([kernel])
    assert found and "kernels that run this Python: 'python3'" in line


def test_a_bare_python_elsewhere_is_looked_up_on_path(tmp_path, monkeypatch):
    kernel = spec(tmp_path / "user/kernels", "mine", "python3")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert not doctor.kernel_runs_this_python(kernel)
    here = Path(sys.executable).parent
    if (here.parent / "pyvenv.cfg").is_file():  # a virtual environment: its bin/ has python3
        assert (here / "python3").exists()
        monkeypatch.setenv("PATH", str(here))
    else:  # a base Python: a folder holding this very interpreter under the name python3
        (tmp_path / "bin").mkdir()
        (tmp_path / "bin" / "python3").symlink_to(sys.executable)
        monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert doctor.kernel_runs_this_python(kernel)


def test_an_absolute_path_runs_this_python_only_in_the_same_environment(tmp_path):
    assert doctor.kernel_runs_this_python(spec(tmp_path, "me", sys.executable))
    # Another virtual environment built on the same base Python: its bin/python is a symlink to
    # the same file, but it is not this environment (its packages differ).
    other = tmp_path / "other-venv"
    (other / "bin").mkdir(parents=True)
    (other / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (other / "bin/python").symlink_to(os.path.realpath(sys.executable))
    assert not doctor.kernel_runs_this_python(spec(tmp_path, "other", str(other / "bin/python")))
    assert not doctor.kernel_runs_this_python(spec(tmp_path, "gone", "/nowhere/bin/python"))
    line, found = doctor.kernel_advice([{"name": "other", "python": str(other / "bin/python"),
                                         "spec": ""}])
    assert not found and "NO kernel runs this Python" in line and "ipykernel install --user" in line


def test_blas_threads_come_from_threadpoolctl():
    with threadpool_limits(1, user_api="blas"):
        assert doctor.blas_info()["threads"] == 1
    assert doctor.blas_info()["threads"] >= 1


def test_numpy_blas_is_picked_among_several():
    import numpy as np
    numpy_lib = str(Path(np.__file__).parent.parent / "numpy.libs" / "libopenblas.so")
    pools = [{"filepath": "/opt/scipy.libs/libopenblas.so", "version": "other"},
             {"filepath": numpy_lib, "version": "numpy's"}]
    assert doctor.numpy_blas_pool(pools)["version"] == "numpy's"
    assert doctor.numpy_blas_pool(pools[::-1])["version"] == "numpy's"
    ours = [p for p in threadpool_info() if p["user_api"] == "blas"]
    assert doctor.blas_info()["version"] == doctor.numpy_blas_pool(ours)["version"]


@pytest.mark.parametrize("load, threads, busy", [(5.0, 2, True), (1.6, 2, True), (1.2, 2, False),
                                                 (9.0, 1, False), (0.1, 8, False)])
def test_a_busy_machine_gets_a_warning_with_the_fix(load, threads, busy):
    warning = doctor.busy_warning(threads, load=load, cores=2)
    assert (warning is not None) == busy
    if busy:
        assert f"load average {load:.1f} on 2 cores" in warning
        assert "OMP_NUM_THREADS=1" in warning and "threadpool_limits(1" in warning


def test_importing_a_source_tree_instead_of_the_installed_copy_is_named(tmp_path):
    warning = doctor.source_tree_warning(tmp_path / "clone" / "unafraid")
    assert warning is not None and str(tmp_path / "clone" / "unafraid") in warning
    assert "pip install" in warning


def test_the_installed_copy_gets_no_warning():
    installed, _ = doctor._installed_location()
    assert installed is not None  # the tests run with unafraid installed (README command 2)
    assert doctor.source_tree_warning(installed) is None
