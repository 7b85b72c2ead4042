"""setup(), patch_ipython() and device choice."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys

import nbformat
import pytest
import torch
from nbclient import NotebookClient

import explainlab
from explainlab import notebook
from explainlab.errors import DeviceUnavailableError, UnknownProfileError

INSEQ_OUTPUT = """
import torch
from inseq.data import FeatureAttributionOutput, FeatureAttributionSequenceOutput
from inseq.utils.typing import TokenWithId
src = [TokenWithId(t, i) for i, t in enumerate(["▁我", "▁喜欢", "</s>"])]
tgt = [TokenWithId(t, i) for i, t in enumerate(["▁I", "▁like", "</s>"])]
seq = FeatureAttributionSequenceOutput(
    source=src, target=tgt, source_attributions=torch.rand(3, 3, 4), step_scores={},
    sequence_scores={}, attr_pos_start=0, attr_pos_end=3)
out = FeatureAttributionOutput(sequence_attributions=[seq], step_attributions=None, info={})
"""


def test_patch_is_needed_on_this_ipython_and_idempotent():
    """Run in a fresh interpreter: the patch state is per process."""
    code = """
import IPython, explainlab
major = int(IPython.__version__.split(".")[0])
from explainlab.notebook import ipython_patch_needed
print(major >= 9, ipython_patch_needed(), explainlab.patch_ipython(), explainlab.patch_ipython())
from IPython.core.display import display, HTML
from IPython.display import display as real
print(display is real)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["True", "True", "True", "False", "True"]


def test_patch_is_a_no_op_where_display_exists(monkeypatch):
    core_display = importlib.import_module("IPython.core.display")
    marker = object()
    monkeypatch.setattr(core_display, "display", marker, raising=False)
    monkeypatch.delattr(core_display, "_explainlab_patched", raising=False)
    assert explainlab.patch_ipython() is False
    assert core_display.display is marker
    assert notebook.ipython_patch_needed() is False


@pytest.mark.slow
def test_inseq_show_needs_the_patch_in_a_real_kernel():
    cells = [INSEQ_OUTPUT,
             "try:\n    out.show()\nexcept ImportError as exc:\n    print('broken:', exc)",
             "import explainlab\nexplainlab.patch_ipython()\nout.show()"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=180, kernel_name="python3").execute()
    before = "".join(o.get("text", "") for o in nb.cells[1].outputs)
    after = [o for o in nb.cells[2].outputs if o.output_type == "display_data"]
    assert "broken:" in before and "IPython.core.display" in before
    assert after and "text/html" in after[0]["data"]
    assert "我" in after[0]["data"]["text/html"]


def test_setup_banner_device_and_seed(capsys):
    session = explainlab.setup(seed=3)
    banner = capsys.readouterr().out.strip()
    assert banner.count("\n") == 0
    for part in ("profile hub", "device cpu", "seed 3", "torch ", "transformers ", "inseq "):
        assert part in banner
    assert session.device == "cpu" and session.device_map == {"": "cpu"}
    first = torch.rand(3)
    explainlab.setup(seed=3, quiet=True)
    assert torch.equal(first, torch.rand(3))
    assert capsys.readouterr().out == ""


def test_setup_reads_environment(monkeypatch):
    monkeypatch.setenv("EXPLAINLAB_PROFILE", "OFFLINE")
    monkeypatch.setenv("EXPLAINLAB_SEED", "11")
    session = explainlab.setup(quiet=True)
    assert (session.profile, session.seed) == ("offline", 11)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only behaviour")
def test_cpu_machine_never_gets_a_gpu(monkeypatch):
    assert notebook.pick_device() == "cpu"
    monkeypatch.setenv("EXPLAINLAB_DEVICE", "cuda")
    with pytest.raises(DeviceUnavailableError, match="EXPLAINLAB_DEVICE") as caught:
        explainlab.setup(quiet=True)
    assert isinstance(caught.value, RuntimeError)
    with pytest.raises(DeviceUnavailableError, match="cuda, mps, cpu or auto"):
        notebook.pick_device("tpu")


def test_setup_profile_applies_to_later_resolve():
    explainlab.setup(profile="hub", quiet=True)
    assert explainlab.resolve("lm") == "Qwen/Qwen3-0.6B"
    assert explainlab.constants.PROFILE == "hub"


def test_unknown_profile_is_a_value_error(monkeypatch):
    monkeypatch.setenv("EXPLAINLAB_PROFILE", "cloud")
    with pytest.raises(UnknownProfileError, match="hub, offline") as caught:
        explainlab.setup(quiet=True)
    assert isinstance(caught.value, ValueError)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_machine_gets_cuda():
    session = explainlab.setup(quiet=True)
    assert session.device == "cuda" and session.device_map == {"": "cuda"}


def test_setup_makes_inseq_heatmap_colours_valid_css():
    import numpy
    from inseq.utils.viz_utils import get_color
    from matplotlib import colormaps

    saved = numpy.get_printoptions()
    try:
        score = numpy.float64(0.5)
        numpy.set_printoptions(legacy=False)
        assert "np.float64" in get_color(score, 0.0, 1.0, colormaps["Reds"])
        explainlab.setup(quiet=True)
        colour = get_color(score, 0.0, 1.0, colormaps["Reds"])
        assert re.fullmatch(r"rgba\((\d+\.\d+, ){3}\d+\.\d+\)", colour), colour
    finally:
        numpy.set_printoptions(**saved)
