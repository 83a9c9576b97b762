"""A Jupyter notebook runs README's tutorial and the explore calls: pictures show, one progress line.

The notebook is executed by nbclient in a real IPython kernel (the one VS Code and JupyterLab
start), registered for this very Python in a temporary folder, with no ``%matplotlib`` magic and
without ipywidgets. The tutorial trains on a small slice of MNIST to stay quick.
"""

import json
import sys
from pathlib import Path

import pytest
from snippets import README, block_under

ROOT = Path(__file__).resolve().parents[1]
MNIST = ROOT.parent / "shared" / "data" / "mnist"
pytestmark = pytest.mark.skipif(not (MNIST / "train-images-idx3-ubyte.gz").exists(),
                                reason=f"real MNIST not found at {MNIST}")

SUBSET = "x_train, y_train, x_test, y_test = x_train[:2000], y_train[:2000], x_test[:500], y_test[:500]"




def notebook_cells() -> list[str]:
    """README's tutorial (on a subset), then each line of "Looking inside" as its own cell."""
    tutorial = block_under(README, "The tutorial in unafraid code").code
    load = "x_train, x_test = x_train / 255.0, x_test / 255.0\n"
    assert load in tutorial, "README's tutorial changed: update SUBSET's insertion point"
    cells = [tutorial.replace(load, load + SUBSET + "\n")]
    inside = block_under(README, "Looking inside").code
    cells += [line.split("  #")[0] for line in inside.splitlines() if line.strip()]
    cells += ["model.history.plot()",
              "explore.plot_confusion_matrix(explore.confusion_matrix(y_test, probs), normalize=True)",
              "explore.plot_history(model.history)"]
    return cells


def run_notebook(cells: list[str], workdir: Path, kernels: Path):
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    spec = kernels / "unafraid-test"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "unafraid test", "language": "python",
        "env": {"UNAFRAID_DATA": str(MNIST), "UNAFRAID_HOME": str(workdir / "home"),
                "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "default"}}))
    km = KernelManager(kernel_name="unafraid-test",
                       kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, km=km, timeout=600, resources={"metadata": {"path": str(workdir)}}).execute()
    path = workdir / "tutorial.ipynb"
    nbformat.write(nb, path)
    return nb, path


@pytest.mark.slow
def test_readme_tutorial_in_a_notebook_shows_images_and_one_progress_line(tmp_path):
    workdir = tmp_path / "work"
    workdir.mkdir()
    cells = notebook_cells()
    nb, path = run_notebook(cells, workdir, tmp_path / "kernels")

    def outputs(i):
        return nb.cells[i].outputs

    everything = [o for c in nb.cells for o in c.outputs]
    # No warnings and no errors anywhere (TqdmWarning, matplotlib, deprecations...).
    streams = [o for o in everything if o.output_type == "stream"]
    assert not [o for o in streams if o.name == "stderr"], [o.text for o in streams]
    assert not [o for o in everything if o.output_type == "error"]

    # The training cell: one progress line, updated in place and stored once, at 100%.
    bars = [o for o in outputs(0) if "Epoch 1/1" in str(o.get("data", {}).get("text/plain", ""))]
    assert len(bars) == 1, outputs(0)
    assert "100%" in bars[0].data["text/plain"] and "\r" not in bars[0].data["text/plain"]
    printed = "".join(o.text for o in outputs(0) if o.output_type == "stream")
    assert "\r" not in printed and printed.count("\n") <= 1, printed  # evaluate's one line

    # Every cell that ends in a plot shows a PNG, with no %matplotlib magic.
    plots = [i for i, c in enumerate(cells) if c.lstrip().startswith(("explore.plot_", "model.history.plot"))]
    assert len(plots) == 6
    for i in plots:
        pngs = [o for o in outputs(i) if "image/png" in o.get("data", {})]
        assert len(pngs) == 1, (cells[i], outputs(i))  # shown once, not twice
    # ...and the notebook stays small (one epoch used to write 179 KB of progress lines alone).
    assert path.stat().st_size < 600_000, path.stat().st_size
