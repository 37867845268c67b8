"""Every notebook executes from top to bottom (so it never rots), and matches its generator."""

import importlib.util
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def _generator():
    spec = importlib.util.spec_from_file_location("notebooks_build", NOTEBOOKS / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_notebook_is_generated_and_saved_with_outputs():
    build = _generator()
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(build.NOTEBOOKS)
    for name, cells in build.NOTEBOOKS.items():
        saved = nbformat.read(NOTEBOOKS / name, as_version=4)
        assert [c.source for c in saved.cells] == [s for _, s in cells], f"rebuild {name}"
        code = [c for c in saved.cells if c.cell_type == "code"]
        assert all(c.outputs for c in code[1:]), f"{name} was saved without outputs"
        assert not any(o.output_type == "error" for c in code for o in c.outputs)


def test_every_figure_is_walked_through():
    """Each figure of ``spectra figures`` is drawn in some notebook (the rates were not)."""
    from spectra.cli.figures import NAMES

    code = "\n".join(
        s for cells in _generator().NOTEBOOKS.values() for k, s in cells if k == "code"
    )
    missing = [n for n in NAMES if f'figures.render("{n}"' not in code]
    assert not missing, f"no notebook draws {missing}"


@pytest.mark.slow
@pytest.mark.parametrize(
    "name", ["theory.ipynb", "bilinear.ipynb", "dirac_gan.ipynb", "probe.ipynb"]
)
def test_notebook_executes(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    start = time.perf_counter()
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    ).execute()
    elapsed = time.perf_counter() - start
    assert elapsed < 180, f"{name} took {elapsed:.0f} s: keep notebooks small"
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert not errors
