"""``make scale-check``: every lesson of both languages on the full-size stand-ins, measured.

Each lesson runs in a fresh kernel with ``EXPLAINLAB_HOME`` set to the scale home (where
``resolve(role, "offline")`` finds the stand-ins of ``standins``) on the CPU, or on CUDA with
``--device cuda``. The harness executes its own copy of the lesson with one hidden first cell
(tagged ``scale-prologue``) that registers IPython ``pre_run_cell``/``post_run_cell`` hooks:
before each cell they reset the kernel's peak resident set (``/proc/self/clear_refs``) and
CUDA's peak statistics, after it they write the cell's wall time, peak RSS (``VmHWM``), RSS
left behind and peak CUDA memory to a log. Errors do not stop a lesson: every cell runs.

A failing cell is listed in ``RANDOM_WEIGHT_CELLS`` when its error comes only from the random
weights (a stand-in writes meaningless text, so a lesson line that looks for a word in it has
nothing to find); it is reported as ``meaningless`` with its error, never hidden. Any other
error fails the check.

Writes ``report.json`` and ``report.txt`` (with the T4 memory arithmetic) under
``test-output/scale/``; ``python -m explainlab_course.scale requirements`` turns reports into
``lessons/requirements.json``, which the lesson pages and the READMEs show.
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from explainlab import constants

from . import standins

REPORT_DIR = Path("test-output") / "scale"
PROLOGUE_TAG = "scale-prologue"
ENV_LOG = "EXPLAINLAB_SCALE_LOG"
T4_BYTES = 15 * 2**30
CUDA_CONTEXT_BYTES = 2**30
"""What CUDA itself takes beside the tensors (context, kernels, allocator slack), at most."""

RANDOM_WEIGHT_CELLS: dict[tuple[str, str], str] = {
    ("01_mt_attribution", "check-traditional"): (
        "the stand-in writes one word again and again, so the tokens that label the table's "
        "columns repeat and pandas cannot line the two sentences up"),
    ("01_mt_attribution", "heads-machine"): (
        "the cell reads the column of the word 'machine', which the stand-in does not write"),
    ("05_homework", "reading-tables"): (
        "the cell prints the cell of the generated word 'machine', which the stand-in does "
        "not write"),
}
"""(lesson slug, cell tag) -> why the cell can fail on random weights only."""

PROLOGUE = f"""\
import json as _sc_json, os as _sc_os, sys as _sc_sys, time as _sc_time
from IPython import get_ipython as _sc_ipython

_sc_log, _sc_state = _sc_os.environ["{ENV_LOG}"], {{"start": _sc_time.perf_counter()}}


def _sc_bytes(field):
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith(field + ":"))
    return int(line.split()[1]) * 1024


def _sc_cuda():
    torch = _sc_sys.modules.get("torch")
    ready = torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized()
    return torch.cuda if ready else None


def _sc_before(*_):
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # the peak resident set starts again from the current one
    if _sc_cuda():
        _sc_cuda().reset_peak_memory_stats()
    _sc_state["start"] = _sc_time.perf_counter()


def _sc_after(result):
    cuda = _sc_cuda()
    record = {{"execution_count": result.execution_count,
              "seconds": _sc_time.perf_counter() - _sc_state["start"],
              "peak_rss": _sc_bytes("VmHWM"), "rss_after": _sc_bytes("VmRSS"),
              "peak_gpu": cuda.max_memory_allocated() if cuda else None}}
    with open(_sc_log, "a") as log:
        log.write(_sc_json.dumps(record) + "\\n")


_sc_ipython().events.register("pre_run_cell", _sc_before)
_sc_ipython().events.register("post_run_cell", _sc_after)
"""


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _error(cell) -> dict | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return {"ename": output.get("ename"), "evalue": str(output.get("evalue"))[:500]}
    return None


def measure(path: Path, *, scale_home: Path, device: str, timeout: int) -> dict:
    """Execute one lesson on the stand-ins; its seconds, peak RSS and cells."""
    import jupytext
    import nbformat

    from ..gpucheck import lesson_roles
    from ..lessons import run_lesson

    nb = jupytext.read(path)
    nb.cells.insert(0, nbformat.v4.new_code_cell(PROLOGUE, metadata={
        "tags": [PROLOGUE_TAG], "jupyter": {"source_hidden": True}}))
    with tempfile.TemporaryDirectory(prefix="explainlab-scale-") as tmp:
        copy = Path(tmp) / path.parent.name / f"{path.stem}.ipynb"
        copy.parent.mkdir()
        nbformat.write(nb, copy)
        log = Path(tmp) / "cells.jsonl"
        env = {constants.ENV_HOME: str(scale_home), constants.ENV_DEVICE: device, ENV_LOG: str(log)}
        if device == "cpu":
            env["CUDA_VISIBLE_DEVICES"] = ""
        executed, seconds = run_lesson(copy, profile="offline", timeout=timeout, env=env,
                                 allow_errors=True)
        records = {r["execution_count"]: r for r in map(json.loads, log.read_text().splitlines())}
    slug = path.stem
    cells = []
    for index, cell in enumerate(executed.cells):
        if cell.cell_type != "code" or PROLOGUE_TAG in _tags(cell):
            continue
        record = records.get(cell.get("execution_count"), {})
        tag = next(iter(_tags(cell)), "")
        error = _error(cell)
        status = "ok"
        if error is not None:
            reason = RANDOM_WEIGHT_CELLS.get((slug, tag))
            status = "meaningless" if reason else "error"
            error["why" if reason else "what"] = (
                reason or "an error the random weights do not explain")
        # index: the cell's place in the lesson (the prologue cell not counted)
        cells.append({"index": index - 1, "tag": tag, "status": status, "error": error,
                      **{k: record.get(k) for k in ("seconds", "peak_rss", "rss_after",
                                                     "peak_gpu")}})
    first = next((c for c in cells if c["rss_after"]), {})
    return {"lesson": f"{path.parent.name}/{slug}", "slug": slug, "lang": path.parent.name,
            "seconds": round(seconds, 1), "device": device,
            "roles": lesson_roles(path),
            "peak_rss": max((c["peak_rss"] or 0 for c in cells), default=0),
            "peak_gpu": max((c["peak_gpu"] or 0 for c in cells), default=0) or None,
            "rss_after_setup": first.get("rss_after"),
            "cells": cells}


def machine() -> dict:
    """The CPU, its kernels and the libraries the measurements were taken with."""
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(),
            "capability": torch.backends.cpu.get_cpu_capability(),
            "kernels": {k: os.environ[k] for k in ("ATEN_CPU_CAPABILITY",
                                                    "MKL_ENABLE_INSTRUCTIONS",
                                                    "ONEDNN_MAX_CPU_ISA") if k in os.environ},
            "torch": torch.__version__,
            "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None}


def eight_bit_bytes(role: str = "lm-gpt2-xl") -> int:
    """Weights of ``role`` loaded in 8-bit (LLM.int8): one byte per parameter of the linear
    layers, two (float16) for the rest; the output layer is tied to the embeddings."""
    import torch
    import transformers

    config = standins._published_config(role)
    with torch.device("meta"):
        model = getattr(transformers, standins.entry(role)["auto_class"]).from_config(config)
    linear = (torch.nn.Linear, transformers.pytorch_utils.Conv1D)
    quantised = {id(p) for name, m in model.named_modules() if isinstance(m, linear)
                 and name != "lm_head" for p in m.parameters(recurse=False)}
    return sum(p.numel() * (1 if id(p) in quantised else 2) for p in model.parameters())


def gpu_arithmetic(lessons: Sequence[dict]) -> list[dict]:
    """Whether each lesson fits a T4 (15 GiB) until a GPU measures it: the tensors a lesson
    holds on a GPU are at most what its cells added to the kernel's RAM after set-up (the
    same float32 tensors on a CPU), plus ``CUDA_CONTEXT_BYTES``."""
    rows = []
    for lesson in lessons:
        base = lesson["rss_after_setup"] or 0
        need = max(0, lesson["peak_rss"] - base) + CUDA_CONTEXT_BYTES
        rows.append({"lesson": lesson["lesson"], "peak_rss": lesson["peak_rss"],
                     "after_setup": base, "bound": need, "fits_t4": need <= T4_BYTES})
    return rows


def _gib(value: int | None) -> str:
    return "-" if value is None else f"{value / 2**30:.2f} GiB"


def report_text(report: dict) -> str:
    m = report["machine"]
    lines = [f"scale-check on {report['device']}: {m['cpu']}, {m['cores']} cores, kernels "
             f"{m['capability']} {m['kernels'] or ''}, torch {m['torch']}"
             + (f", GPU {m['gpu']}" if m["gpu"] else ""), "",
             f"{'lesson':36} {'time':>8} {'peak RSS':>11} {'peak GPU':>11}  cells "
             "(ok/meaningless/error)"]
    for lesson in report["lessons"]:
        counts = [sum(c["status"] == s for c in lesson["cells"])
                  for s in ("ok", "meaningless", "error")]
        lines.append(f"{lesson['lesson']:36} {lesson['seconds']:7.0f}s "
                     f"{_gib(lesson['peak_rss']):>11} {_gib(lesson['peak_gpu']):>11}  "
                     + "/".join(map(str, counts)))
    lines += ["", "Slowest and largest cells:"]
    cells = [(lesson["lesson"], c) for lesson in report["lessons"] for c in lesson["cells"]]
    for name, cell in sorted(cells, key=lambda x: -(x[1]["peak_rss"] or 0))[:5]:
        lines.append(f"  {name} [{cell['tag']}] peak RSS {_gib(cell['peak_rss'])}, "
                     f"{cell['seconds'] or 0:.1f} s")
    for name, cell in sorted(cells, key=lambda x: -(x[1]["seconds"] or 0))[:5]:
        lines.append(f"  {name} [{cell['tag']}] {cell['seconds'] or 0:.1f} s, "
                     f"peak RSS {_gib(cell['peak_rss'])}")
    for status in ("meaningless", "error"):
        found = [(n, c) for n, c in cells if c["status"] == status]
        if found:
            lines += ["", f"Cells with status {status}:"]
            lines += [f"  {n} [{c['tag']}] {c['error']['ename']}: {c['error']['evalue'][:160]}"
                      f" ({c['error'].get('why') or c['error'].get('what')})" for n, c in found]
    lines += ["", "GPU memory arithmetic (a T4 has 15 GiB), until a GPU measures it: peak RSS "
              "minus RSS after set-up, plus 1 GiB for CUDA itself:"]
    for row in report["gpu_arithmetic"]:
        lines.append(f"  {row['lesson']:36} {_gib(row['peak_rss'])} - {_gib(row['after_setup'])}"
                     f" + 1.00 GiB = {_gib(row['bound'])}: "
                     + ("fits" if row["fits_t4"] else "DOES NOT FIT"))
    xl = report["gpt2_xl_8bit_bytes"]
    lines.append(f"  lesson 02's 8-bit GPT-2 XL cell (GPU only): weights in LLM.int8 "
                 f"{_gib(xl)} (+ 1.00 GiB CUDA) = {_gib(xl + CUDA_CONTEXT_BYTES)}: "
                 + ("fits" if xl + CUDA_CONTEXT_BYTES <= T4_BYTES else "DOES NOT FIT"))
    lines += ["", f"Stand-ins generate at most {standins.MAX_LENGTH} tokens (random weights "
              "never end a sentence)."]
    lines += ["", "ok" if report["ok"] else "FAILED: cells above have status error",
              f"total {report['seconds']:.0f} s"]
    return "\n".join(lines) + "\n"


def run(paths: Sequence[Path], *, device: str = "cpu", out: Path = REPORT_DIR,
        twins_home: Path | None = None, scale_home: Path | None = None, timeout: int = 1800,
        log: Callable[[str], None] = print) -> dict:
    """Build the stand-ins the lessons need, measure every lesson, write the report."""
    from ..gpucheck import lesson_roles

    started = time.perf_counter()
    twins_home = twins_home or constants.HOME
    scale_home = scale_home or twins_home / "scale"
    for role in sorted({r for p in paths for r in lesson_roles(p)}):
        standins.build(role, scale_home=scale_home, twins_home=twins_home, log=log)
    lessons = []
    for path in paths:
        log(f"scale-check: {path.parent.name}/{path.stem} on {device} ...")
        lesson = measure(path, scale_home=scale_home, device=device, timeout=timeout)
        bad = [c["tag"] for c in lesson["cells"] if c["status"] != "ok"]
        log(f"  {lesson['seconds']:.0f} s, peak RSS {_gib(lesson['peak_rss'])}"
            + (f", peak GPU {_gib(lesson['peak_gpu'])}" if lesson["peak_gpu"] else "")
            + (f", cells not ok: {', '.join(bad)}" if bad else ""))
        lessons.append(lesson)
    report = {"device": device, "machine": machine(), "lessons": lessons,
              "gpu_arithmetic": gpu_arithmetic(lessons),
              "gpt2_xl_8bit_bytes": eight_bit_bytes(),
              "ok": all(c["status"] != "error" for lesson in lessons for c in lesson["cells"]),
              "seconds": round(time.perf_counter() - started, 1)}
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n",
                                     encoding="utf-8")
    (out / "report.txt").write_text(report_text(report), encoding="utf-8")
    return report
