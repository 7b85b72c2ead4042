"""The scale check's harness, on a small notebook in a real kernel: per-cell time and peak
RSS, errors kept and classified."""

from __future__ import annotations

import pytest

from explainlab_course.scale import check

pytestmark = pytest.mark.slow

LESSON = '''\
# %% [markdown]
# # A lesson that allocates

# %% tags=["small"]
import numpy as np
small = np.ones(10_000_000)  # 80 MB

# %% tags=["large"]
large = np.ones(50_000_000)  # 400 MB, freed by the next cell
del large

# %% tags=["after"]
total = float(small.sum())

# %% tags=["words"]
raise ValueError("no 'Paris' in the generated text")

# %% tags=["broken"]
undefined_name
'''


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lessons") / "en"
    folder.mkdir()
    path = folder / "99_allocate.py"
    path.write_text(LESSON, encoding="utf-8")
    saved = dict(check.RANDOM_WEIGHT_CELLS)
    check.RANDOM_WEIGHT_CELLS[("99_allocate", "words")] = "random weights write no city"
    try:
        return check.measure(path, scale_home=tmp_path_factory.mktemp("scale"), device="cpu",
                             timeout=120)
    finally:
        check.RANDOM_WEIGHT_CELLS.clear()
        check.RANDOM_WEIGHT_CELLS.update(saved)


def test_every_code_cell_is_measured_in_order(measured):
    assert [c["tag"] for c in measured["cells"]] == ["small", "large", "after", "words",
                                                      "broken"]
    assert all(c["seconds"] is not None and c["seconds"] >= 0 for c in measured["cells"])
    assert measured["lesson"] == "en/99_allocate"


def test_peak_rss_is_per_cell(measured):
    cells = {c["tag"]: c for c in measured["cells"]}
    # The 400 MB cell peaks about 400 MB above what the kernel held before it; the cell
    # after it starts again from the kernel's resident set, which the freed array left.
    assert cells["large"]["peak_rss"] - cells["small"]["rss_after"] > 380e6
    assert cells["after"]["peak_rss"] < cells["large"]["peak_rss"] - 300e6
    assert measured["peak_rss"] == cells["large"]["peak_rss"]
    assert measured["rss_after_setup"] == cells["small"]["rss_after"]


def test_errors_are_kept_and_classified(measured):
    cells = {c["tag"]: c for c in measured["cells"]}
    assert cells["words"]["status"] == "meaningless"
    assert cells["words"]["error"]["why"] == "random weights write no city"
    assert cells["broken"]["status"] == "error"
    assert cells["broken"]["error"]["ename"] == "NameError"
    assert cells["after"]["status"] == "ok"


def test_the_report_fails_on_an_error_and_shows_the_arithmetic(measured):
    report = {"device": "cpu", "machine": check.machine(), "lessons": [measured],
              "gpu_arithmetic": check.gpu_arithmetic([measured]),
              "gpt2_xl_8bit_bytes": 2 * 10**9, "ok": False, "seconds": 1.0}
    text = check.report_text(report)
    assert "FAILED" in text and "NameError" in text and "meaningless" in text
    row = report["gpu_arithmetic"][0]
    assert row["bound"] == measured["peak_rss"] - measured["rss_after_setup"] + 2**30
    assert row["fits_t4"]


def test_check_on_cuda_without_a_gpu_says_so_in_one_line():
    import torch

    from conftest import run_cli

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    result = run_cli("check", "--device", "cuda", module="explainlab_course.scale")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "CUDA" in result.stderr
