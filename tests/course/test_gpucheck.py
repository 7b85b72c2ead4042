"""gpucheck: the CPU side of ``make gpu-check``. Numbers extracted from executed notebooks
(synthetic ones built with nbformat, and a real executed lesson), compared within the stated
tolerances, reports written; the one-line refusal without CUDA; the harness's epilogue cell
on a tiny lesson; the 8-bit probe's comparison run in fp32 on the CPU."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from explainlab_course import gpucheck, lessons
from explainlab_course.gpucheck import (
    EPILOGUE_TAG,
    MARK,
    TOLERANCES,
    LessonResult,
    OutputDiff,
    Run,
    Tolerance,
    compare_notebooks,
    compare_outputs,
    extract,
    parse_text,
)

from conftest import ROOT, TWIN_HOME

torch = pytest.importorskip("torch")
HAS_CUDA = torch.cuda.is_available()


def stream(text: str, name: str = "stdout") -> dict:
    return nbformat.v4.new_output("stream", name=name, text=text)


def display(data: dict, *, result: bool = False) -> dict:
    if result:
        return nbformat.v4.new_output("execute_result", data=data, execution_count=1)
    return nbformat.v4.new_output("display_data", data=data)


def notebook(*cells: tuple[list[str], list[dict]]) -> nbformat.NotebookNode:
    """A notebook with a markdown cell, then one code cell per (tags, outputs)."""
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("# A lesson"))
    for tags, outputs in cells:
        cell = nbformat.v4.new_code_cell("pass", metadata={"tags": tags} if tags else {})
        cell.outputs = outputs
        nb.cells.append(cell)
    return nb


def statuses(diffs: list[OutputDiff]) -> dict[str, str]:
    return {d.key: d.status for d in diffs}


TABLE_HTML = """<div id="cbwiojiqfolnbxxcvsuq_viz"><table>
<tr><th></th><th>I</th><th>like</th></tr>
<tr><th>我</th><th style="background:rgba(178.0, 24.0, 43.0, 0.795)">0.574</th>
<th style="background:rgba(178.0, 24.0, 43.0, 0.0777)">0.062</th></tr></table></div>"""


def lesson_nb(saliency: str = "0.574", probability: str = "0.9912",
              translation: str = "I like machine learning .", device: str = "cpu",
              html: str = TABLE_HTML, tokens: str = "(1, 12, 8, 8)") -> nbformat.NotebookNode:
    return notebook(
        ([], [stream(f"explainlab 0.1.0 | profile offline | device {device} | seed 0\n")]),
        (["check-translation"], [stream(f"我喜欢机器学习 -> {translation}\n")]),
        (["check-heatmap"], [display({"text/html": html,
                                      "text/plain": "<IPython.core.display.HTML object>"})]),
        (["check-top"], [stream("  top source token  probability\n"),
                         stream(f"I   我   {probability}\n")]),
        (["table"], [display({"text/html": f"<table><tr><td>{saliency}</td></tr></table>",
                              "text/plain": f"0  {saliency}"}, result=True)]),
        (["shape"], [stream(f"shape: {tokens}\n"), stream("a warning\n", "stderr")]),
    )


# ----------------------------------------------------------------------------- extraction

def test_parse_text_splits_numbers_from_text():
    got = parse_text("P(Paris) = 0.9912, rank 3, 1e-05 and -0.25\nlayer 0  head 11 gpt2\n")
    assert got.numbers == [0.9912, 3.0, 1e-05, -0.25, 0.0, 11.0]
    assert got.integer == [False, True, False, False, True, True]
    assert got.quanta[0] == pytest.approx(1e-4) and got.quanta[2] == pytest.approx(1e-5)
    assert got.skeleton == ["P(Paris) = #, rank #, # and #", "layer # head # gpt2"]


def test_parse_text_masks_devices_and_random_ids_and_collapses_blanks():
    a = parse_text("device cpu   tensor([1.5], device='cpu') "
                   "bertviz-aa143392c1de4c07abf2afbba4acb83f")
    b = parse_text("device cuda tensor([1.5], device='cuda:0') "
                   "bertviz-0123456789abcdef0123456789abcdef")
    assert a.skeleton == b.skeleton
    assert a.numbers == b.numbers == [1.5]


def test_html_text_keeps_text_and_scripts_drops_attributes():
    text = gpucheck.html_text('<div id="xyzrandom" style="color:rgba(1, 2, 3, 0.5)">0.574</div>'
                              '<script>const params = {"attn": [0.25, 0.75]};</script>')
    assert "0.574" in text and "0.25, 0.75" in text
    assert "xyzrandom" not in text and "rgba" not in text


def test_extract_keys_outputs_by_cell_number_and_tag():
    found = extract(lesson_nb(), lesson="01_mt_attribution")
    assert list(found) == ["01 stdout", "02 [check-translation] stdout",
                           "03 [check-heatmap] output 1 text/html",
                           "04 [check-top] stdout", "05 [table] output 1 text/html",
                           "06 [shape] stdout"]
    assert found["04 [check-top] stdout"].kind == "probability"
    assert found["03 [check-heatmap] output 1 text/html"].kind == "attribution"
    assert found["03 [check-heatmap] output 1 text/html"].numbers == [0.574, 0.062]
    assert found["06 [shape] stdout"].lines == ["shape: (1, 12, 8, 8)"]  # no stderr


def test_extract_skips_the_epilogue_and_reads_it():
    nb = lesson_nb()
    cell = nbformat.v4.new_code_cell(gpucheck.EPILOGUE, metadata={"tags": [EPILOGUE_TAG]})
    info = {"device": "cuda", "gpu": "H100", "peak_allocated": 2**20, "peak_reserved": 2**21}
    cell.outputs = [stream(f"{MARK} {json.dumps(info)}\n")]
    nb.cells.append(cell)
    assert not any(EPILOGUE_TAG in key for key in extract(nb))
    assert len(extract(nb)) == len(extract(lesson_nb()))
    assert gpucheck.epilogue_info(nb) == info
    assert gpucheck.epilogue_info(lesson_nb()) is None


def test_images_and_widgets_are_present_but_not_compared():
    a = notebook((["plot"], [display({"image/png": "AAAA", "text/plain": "<Figure 640x480>"}),
                             display({"application/vnd.jupyter.widget-view+json":
                                      {"model_id": "0003d5b6"}, "text/plain": "0%| 0/2 [00:00"})]))
    b = notebook((["plot"], [display({"image/png": "BBBB", "text/plain": "<Figure 640x480>"}),
                             display({"application/vnd.jupyter.widget-view+json":
                                      {"model_id": "99ffaa00"}, "text/plain": "50%| 1/2 [00:01"})]))
    diffs = compare_notebooks(a, b)
    assert statuses(diffs) == {"01 [plot] output 1 image/png": "match",
                               "01 [plot] output 2 widget": "match"}


# ----------------------------------------------------------------------------- comparison

def test_identical_runs_match_whatever_the_device_and_the_stream_split():
    a = lesson_nb(device="cpu")
    b = lesson_nb(device="cuda")
    b.cells[4].outputs = [stream("  top source token  probability\nI   我   0.9912\n")]
    b.cells[6].outputs[1] = stream("another warning on stderr\n", "stderr")
    diffs = compare_notebooks(a, b, lesson="01_mt_attribution")
    assert set(statuses(diffs).values()) == {"match"}
    result = gpucheck.summarise("en/01_mt_attribution", diffs)
    assert result.status == "match" and result.outputs == 6 and result.numbers > 5


def test_attribution_floats_within_tolerance_match_and_beyond_do_not():
    ref = lesson_nb(saliency="0.574")
    near = compare_notebooks(ref, lesson_nb(saliency="0.579"))  # 1e-3 + 1e-2 * .579 + 1e-3
    assert statuses(near)["05 [table] output 1 text/html"] == "match"
    far = compare_notebooks(ref, lesson_nb(saliency="0.590"))
    diff = next(d for d in far if d.key == "05 [table] output 1 text/html")
    assert diff.status == "mismatch" and diff.bad == 1
    assert diff.max_abs == pytest.approx(0.016)
    assert "0.574 vs 0.59" in diff.detail and "atol 0.001, rtol 0.01" in diff.detail


def test_probabilities_have_no_relative_slack():
    ref = lesson_nb(probability="0.5000")
    assert statuses(compare_notebooks(ref, lesson_nb(probability="0.5010"),
                                      lesson="01_mt_attribution"))["04 [check-top] stdout"] \
        == "match"  # 1e-3 + one unit of the 4th decimal
    diffs = compare_notebooks(ref, lesson_nb(probability="0.5040"), lesson="01_mt_attribution")
    assert statuses(diffs)["04 [check-top] stdout"] == "mismatch"
    # the same gap passes as an attribution (rtol 1e-2)
    assert statuses(compare_notebooks(ref, lesson_nb(probability="0.5040"),
                                      lesson="99_other"))["04 [check-top] stdout"] == "match"


def test_one_unit_of_the_last_printed_digit_is_allowed():
    strict = {"attribution": Tolerance("attribution", 0.0, 0.0)}
    a, b = parse_text("0.574 0.0620"), parse_text("0.575 0.0621")
    assert compare_outputs(a, b, tolerances=strict).status == "match"
    c = parse_text("0.576 0.0620")
    assert compare_outputs(a, c, tolerances=strict).status == "mismatch"


def test_integers_and_text_are_exact():
    ref = lesson_nb()
    shape = compare_notebooks(ref, lesson_nb(tokens="(1, 12, 9, 9)"))
    assert statuses(shape)["06 [shape] stdout"] == "mismatch"
    words = compare_notebooks(ref, lesson_nb(translation="I like machine learning !"))
    diff = next(d for d in words if d.status != "match")
    assert diff.key == "02 [check-translation] stdout"
    assert "text differs at line 1" in diff.detail
    assert "cpu: '我喜欢机器学习 -> I like machine learning .'" in diff.detail
    assert "cuda: '我喜欢机器学习 -> I like machine learning !'" in diff.detail


def test_a_changed_top_token_in_an_html_table_is_a_mismatch():
    html = TABLE_HTML.replace("<th>like</th>", "<th>love</th>")
    diffs = compare_notebooks(lesson_nb(), lesson_nb(html=html))
    assert statuses(diffs)["03 [check-heatmap] output 1 text/html"] == "mismatch"


def test_nan_matches_nan_only():
    assert compare_outputs(parse_text("x 1.5"), parse_text("x 1.5")).status == "match"
    a, b = parse_text("x 0.5"), parse_text("x 0.5")
    b.numbers[0] = float("nan")
    assert compare_outputs(a, b).status == "mismatch"
    a.numbers[0] = float("nan")
    assert compare_outputs(a, b).status == "match"


def test_missing_and_extra_outputs_are_problems():
    ref = lesson_nb()
    got = copy.deepcopy(ref)
    got.cells[6].outputs = []  # the shape cell printed nothing
    got.cells[2].outputs.append(stream("surprise\n"))
    found = statuses(compare_notebooks(ref, got))
    assert found["06 [shape] stdout"] == "missing"
    assert found["01 stdout"] == "match"
    assert found["02 [check-translation] stdout"] == "mismatch"  # its stdout changed


def test_quantized_cells_are_listed_not_counted():
    def eight_bit(text):
        return notebook((["check-8bit"], [stream(text)]), (["gpt2-show"], [stream("top 0.5\n")]))

    ref = eight_bit("8-bit loading skipped: it needs a CUDA GPU\nmemory footprint: 3 MiB\n")
    got = eight_bit("Loaded lm-gpt2 in 8-bit with bitsandbytes.\nmemory footprint: 1 MiB\n")
    got.cells[2].outputs = [stream("top 0.9\n")]
    diffs = compare_notebooks(ref, got, lesson="02_llm_attribution")
    assert set(statuses(diffs).values()) == {"differs"}
    result = gpucheck.summarise("en/02_llm_attribution", diffs)
    assert result.status == "match" and len(result.differences) == 2 and not result.problems
    # elsewhere the same cells count
    assert gpucheck.summarise("x", compare_notebooks(ref, got, lesson="05_homework")).status \
        == "mismatch"


def test_cell_kind_rules():
    assert gpucheck.cell_kind("02_llm_attribution", ["check-8bit"]) == "quantized"
    assert gpucheck.cell_kind("02_llm_attribution", ["check-contrast"]) == "probability"
    assert gpucheck.cell_kind("02_llm_attribution", ["attention"]) == "attribution"
    assert gpucheck.cell_kind("03_classification", []) == "attribution"
    assert all(kind in TOLERANCES for _, _, kind in gpucheck.CELL_KINDS)


def test_lesson_roles_are_read_from_the_source(tmp_path):
    lesson = tmp_path / "02_x.py"
    lesson.write_text('a = explainlab.resolve("lm")\nb = explainlab.resolve( "lm-gpt2", '
                      'variant="xl")\nc = load(\'qa\')\n# the role `ner` in prose\n',
                      encoding="utf-8")
    assert gpucheck.lesson_roles(lesson) == ["lm", "lm-gpt2", "qa"]
    assert set(gpucheck.lesson_roles(ROOT / "lessons" / "en" / "01_mt_attribution.py")) \
        == {"mt-zh-en"}
    # The homework loads GPT-2 through the package, naming no role.
    loader = tmp_path / "05_x.py"
    loader.write_text("model, tokenizer, _ = explainlab.homework.completion_model()\n",
                      encoding="utf-8")
    assert gpucheck.lesson_roles(loader) == ["lm-gpt2"]


# ----------------------------------------------------------------------------- report

def sample_report(*, mismatch: bool, eight_bit: dict | None) -> dict:
    ok = LessonResult("en/01_mt_attribution", "match", outputs=26, numbers=709,
                      max_abs={"attribution": 2e-5, "probability": 1e-6})
    ok.runs = {"reference": Run("cpu", seconds=20.5),
               "target": Run("cuda", seconds=8.25, kernel_device="cuda", gpu="NVIDIA H100",
                             peak_allocated=150 * 2**20, peak_reserved=200 * 2**20)}
    bad = LessonResult("zh/04_bertviz_attention", "mismatch" if mismatch else "match",
                       outputs=23, numbers=121502, max_abs={"attribution": 0.02})
    bad.runs = {"reference": Run("cpu", seconds=18.0), "target": Run("cuda", seconds=9.0,
                                                                     peak_allocated=3 * 2**20)}
    if mismatch:
        bad.problems = [OutputDiff("10 [weight-vs-norm] stdout", "attribution", "mismatch", 18, 1,
                                   0.012, "1 of 18 numbers outside tolerance")]
    bad.notes = ["no CUDA memory was allocated: did the lesson use the GPU?"]
    skipped = LessonResult("en/03_classification", "skipped", reason="twin(s) not built here: qa")
    return gpucheck.build_report([ok, bad, skipped], reference="cpu", target="cuda",
                                 eight_bit=eight_bit, machine={"gpu": "NVIDIA H100",
                                                               "torch": "2.11.0+cu130"},
                                 seconds=123.4)


EIGHT_BIT = {"status": "ok", "quantize": True, "bitsandbytes": "0.50.2", "device": "cuda",
             "top_token_reference": "Germany", "top_token": "Germany", "top_token_match": True,
             "reference_footprint_mib": 2.6, "footprint_mib": 1.4,
             "prompts": [{"generation_match": True, "top_tokens_match": False}]}


def test_report_json_and_text(tmp_path):
    report = sample_report(mismatch=True, eight_bit=EIGHT_BIT)
    json_path, text_path = gpucheck.write_report(report, tmp_path / "gpu-check")
    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert data["ok"] is False
    assert data["summary"] == {"match": 1, "mismatch": 1, "failed": 0, "skipped": 1,
                               "lessons": 3}
    assert data["lessons"][0]["runs"]["target"]["peak_allocated_mib"] == 150.0
    assert data["tolerances"]["attribution"]["atol"] == 1e-3
    text = text_path.read_text(encoding="utf-8")
    assert re.search(r"en/01_mt_attribution\s+match\s+20\.5\s+8\.2\s+150\.0\s+26\s+709", text)
    assert "zh/04_bertviz_attention 10 [weight-vs-norm] stdout: mismatch" in text
    assert "en/03_classification: skipped: twin(s) not built here: qa" in text
    assert "top token 'Germany' fp32 cpu vs 'Germany' on cuda: match" in text
    assert "every step's top token does not match" in text
    assert "zh/04_bertviz_attention: no CUDA memory was allocated" in text
    assert text.rstrip().endswith("Result: FAILED.")


def test_report_ok_when_everything_matches():
    report = sample_report(mismatch=False, eight_bit=EIGHT_BIT)
    assert report["ok"] is True and "Result: OK." in gpucheck.report_text(report)
    failed_probe = sample_report(mismatch=False, eight_bit={"status": "failed", "error": "boom"})
    assert failed_probe["ok"] is False
    assert "8-bit: failed: boom" in gpucheck.report_text(failed_probe)


# ----------------------------------------------------------------------------- no CUDA

@pytest.mark.skipif(HAS_CUDA, reason="this machine has CUDA")
@pytest.mark.parametrize("command", [["run"], ["cuda"], ["run", "--jobs", "2"]])
def test_without_cuda_it_says_so_in_one_line(command):
    proc = subprocess.run([sys.executable, "-m", "explainlab_course.gpucheck", *command],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == gpucheck.NO_CUDA_STATUS
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("gpu-check needs a CUDA GPU and this machine has none")


@pytest.mark.skipif(HAS_CUDA, reason="this machine has CUDA")
@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
def test_make_gpu_check_says_so_in_one_line():
    # -o: never reinstall the venv here (an edited Makefile is newer than its stamp)
    cmd = ["make", "--no-print-directory", "-s", "-C", str(ROOT), "-o", ".venv/.installed",
           "gpu-check"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert proc.returncode != 0
    lines = (proc.stdout + proc.stderr).splitlines()
    assert len(lines) == 1, proc.stdout + proc.stderr
    assert "gpu-check needs a CUDA GPU and this machine has none" in lines[0]


# ----------------------------------------------------------------------------- execution

TINY = """\
# %% [markdown]
# # A tiny lesson

# %% tags=["where"]
import os

session = type("Session", (), {"device": os.environ["EXPLAINLAB_DEVICE"]})()
print("device", session.device, "profile", os.environ["EXPLAINLAB_PROFILE"])

# %% tags=["numbers"]
print([round(0.1 * k, 3) for k in range(5)])
"""


@pytest.fixture
def tiny_lessons(tmp_path):
    root = tmp_path / "lessons"
    for lang in ("en", "zh"):
        (root / lang).mkdir(parents=True)
        (root / lang / "01_tiny.py").write_text(TINY, encoding="utf-8")
    return root


def test_execute_lesson_appends_the_epilogue_and_leaves_the_cache_alone(tiny_lessons):
    path = tiny_lessons / "en" / "01_tiny.py"
    nb, seconds = gpucheck.execute_lesson(path, device="cpu")
    assert seconds > 0
    assert gpucheck.epilogue_info(nb) == {"device": "cpu", "gpu": None, "peak_allocated": None,
                                          "peak_reserved": None}
    found = extract(nb, lesson="01_tiny")
    assert found["01 [where] stdout"].lines == ["device <device> profile offline"]
    assert found["02 [numbers] stdout"].numbers == [0.0, 0.1, 0.2, 0.3, 0.4]
    assert path.read_text(encoding="utf-8") == TINY  # the lesson file is untouched
    assert not (Path(os.environ["EXPLAINLAB_HOME"]) / "lessons").exists()
    assert "EXPLAINLAB_DEVICE" not in os.environ


def test_run_cpu_against_cpu_end_to_end(tiny_lessons, tmp_path):
    out = tmp_path / "report"
    proc = subprocess.run(
        [sys.executable, "-m", "explainlab_course.gpucheck", "run", "--reference", "cpu",
         "--target",
         "cpu", "--skip-8bit", "--root", str(tiny_lessons), "--out", str(out), "--jobs", "2"],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["ok"] and report["summary"]["match"] == 2
    assert [e["lesson"] for e in report["lessons"]] == ["en/01_tiny", "zh/01_tiny"]
    for entry in report["lessons"]:
        assert entry["runs"]["target"]["kernel_device"] == "cpu"
        assert entry["runs"]["reference"]["seconds"] > 0
    assert (out / "notebooks" / "target" / "zh-01_tiny.ipynb").is_file()
    assert "Result: OK." in (out / "report.txt").read_text(encoding="utf-8")


def test_a_failing_lesson_is_reported_as_failed(tiny_lessons, tmp_path):
    (tiny_lessons / "zh" / "01_tiny.py").write_text(TINY + '\n# %%\nraise ValueError("boom")\n',
                                                      encoding="utf-8")
    results = gpucheck.check_lessons(lessons.lesson_paths(root=tiny_lessons), out=tmp_path,
                                     reference="cpu", target="cpu", log=lambda _: None)
    assert [r.status for r in results] == ["match", "failed"]
    assert "ValueError: boom" in results[1].reason


# ----------------------------------------------------------------------------- real lesson

@pytest.fixture(scope="module")
def lesson01():
    saved = os.environ.get("EXPLAINLAB_HOME")
    os.environ["EXPLAINLAB_HOME"] = str(TWIN_HOME)
    try:
        return lessons.execute(ROOT / "lessons" / "en" / "01_mt_attribution.py",
                               profile="offline")
    finally:
        if saved is None:
            os.environ.pop("EXPLAINLAB_HOME", None)
        else:
            os.environ["EXPLAINLAB_HOME"] = saved


def _perturb(nb, tag: str, number: str, new: str):
    changed = copy.deepcopy(nb)
    cell = next(c for c in changed.cells if tag in c.get("metadata", {}).get("tags", []))
    for output in cell.outputs:
        if output.get("output_type") == "stream" and number in output.text:
            output.text = output.text.replace(number, new, 1)
            return changed
    raise AssertionError(f"{number} not printed by the {tag} cell")


@pytest.mark.slow
def test_real_lesson_matches_itself_and_catches_perturbations(lesson01):
    found = extract(lesson01, lesson="01_mt_attribution")
    assert len(found) > 15 and sum(len(e.numbers) for e in found.values()) > 300
    top = next(v for k, v in found.items() if "[check-top]" in k)
    assert top.kind == "probability" and "machine 机器 #" in top.skeleton
    assert set(statuses(compare_notebooks(lesson01, lesson01,
                                          lesson="01_mt_attribution")).values()) == {"match"}

    probability = f"{top.numbers[2]:.4f}"  # the step that writes "machine"
    below = _perturb(lesson01, "check-top", probability, f"{top.numbers[2] - 0.0008:.4f}")
    assert gpucheck.summarise("en/01", compare_notebooks(
        lesson01, below, lesson="01_mt_attribution")).status == "match"
    beyond = _perturb(lesson01, "check-top", probability, f"{top.numbers[2] - 0.003:.4f}")
    result = gpucheck.summarise("en/01", compare_notebooks(lesson01, beyond,
                                                           lesson="01_mt_attribution"))
    assert result.status == "mismatch"
    assert [p.key for p in result.problems] == [next(k for k in found if "[check-top]" in k)]
    swapped = _perturb(lesson01, "check-methods", "机器", "学习")
    result = gpucheck.summarise("en/01", compare_notebooks(lesson01, swapped,
                                                           lesson="01_mt_attribution"))
    assert result.status == "mismatch" and "text differs" in result.problems[0].detail


@pytest.mark.slow
def test_eight_bit_probe_machinery_in_fp32_on_the_cpu(monkeypatch):
    monkeypatch.setenv("EXPLAINLAB_HOME", str(TWIN_HOME))
    report = gpucheck.probe_8bit(device="cpu", quantize=False)
    assert report["loaded_in_8bit"] is False
    assert report["top_token_match"] is True
    assert report["top_token"] == report["top_token_reference"]
    for prompt in report["prompts"]:
        assert prompt["generation_match"] and prompt["top_tokens_match"]
        assert prompt["steps"] and all(s["max_abs_diff"] < 1e-5 for s in prompt["steps"])
    assert report["prompts"][0]["prompt"] == "The capital of Germany is"


def test_probe_without_cuda_is_skipped_not_failed():
    if HAS_CUDA:
        pytest.skip("this machine has CUDA")
    proc = subprocess.run([sys.executable, "-m", "explainlab_course.gpucheck", "probe-8bit"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["status"] == "skipped"


def test_module_docstring_states_the_tolerances():
    doc = textwrap.dedent(gpucheck.__doc__)
    for tol in TOLERANCES.values():
        assert tol.kind in doc
    assert "atol 1e-3, rtol 1e-2" in doc and "atol 1e-3, rtol 0" in doc
