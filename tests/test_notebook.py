"""The fine-tuning notebook runs top to bottom (notebooks/).

It is executed with nbclient in a kernel of this interpreter (the project's
virtual environment): a kernel spec is written to a temporary Jupyter path,
so the test does not depend on kernels installed on the machine.
"""

import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.support import HANG_TIMEOUT_S

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "fine_tune_fashion_mnist.ipynb"
KERNEL_NAME = "inception-test-python"
# A cell that hangs fails the test; its speed is not measured here.
CELL_TIMEOUT_S = HANG_TIMEOUT_S


@pytest.fixture
def kernel_of_this_python(tmp_path, monkeypatch):
    spec_dir = tmp_path / "jupyter" / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "inception (test)",
        "language": "python",
    }))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    return KERNEL_NAME


@pytest.mark.slow
def test_notebook_runs_top_to_bottom(kernel_of_this_python, tmp_path, monkeypatch):
    monkeypatch.setenv("INCEPTION_EXPORT_DIR", str(tmp_path / "exported"))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(notebook, kernel_name=kernel_of_this_python, timeout=CELL_TIMEOUT_S,
                            resources={"metadata": {"path": str(REPO)}})
    client.execute()  # raises CellExecutionError, with the cell and traceback, if a cell fails
    assert (tmp_path / "exported" / "1" / "saved_model.pb").is_file()
    images = [output for cell in notebook.cells if cell.cell_type == "code"
              for output in cell.get("outputs", []) if "image/png" in output.get("data", {})]
    assert len(images) == 2  # the curves and the two served test images
