"""Verify the lessons on a GPU: run each lesson on the CPU and on CUDA, compare the numbers.

``make gpu-check`` runs ``python -m explainlab_course.gpucheck run``. For every lesson of both
languages, on the offline twins, it

1. executes the lesson twice in fresh kernels, with ``EXPLAINLAB_DEVICE=cpu`` (the
   reference, run with ``CUDA_VISIBLE_DEVICES`` empty, as on a machine without a GPU) and
   ``EXPLAINLAB_DEVICE=cuda`` (the target), on the same machine, twins and libraries. The
   lesson cache is neither read nor written, and the lesson files are not changed: the
   harness appends one hidden cell (tagged ``gpucheck-epilogue``) to its own copy, which
   prints the device the lesson's ``setup()`` chose and
   ``torch.cuda.max_memory_allocated()`` from inside the kernel;
2. extracts what each code cell printed or displayed (see *Extraction*) and compares the
   two runs output by output (see *Tolerances*);
3. exercises the 8-bit path on its own: the ``lm-gpt2`` twin loaded with
   ``BitsAndBytesConfig(load_in_8bit=True)`` on CUDA, attributed with Inseq's saliency, and
   compared with the fp32 CPU run (same prompts as lesson 02): does the top-attributed token
   match, does greedy generation match, how far apart are the scores;
4. writes ``report.json`` and ``report.txt`` under ``test-output/gpu-check/`` (and the
   executed notebooks under ``notebooks/``): what matched and what did not, the time of
   each lesson on each device, and the peak GPU memory of each lesson.

Without CUDA, ``run`` prints one line saying so and exits with status 2.

Extraction
    Outputs are keyed by code-cell number and first tag (``13 [check-generation] stdout``).
    A cell's stdout is joined into one text (streams split at random points); stderr
    (warnings) is ignored. A rich output is read from ``text/html`` (its text and script
    content; tag attributes such as random element ids and colours are dropped), else
    ``text/plain``; an image counts as present and is not compared. Each text becomes a
    *skeleton* (numbers replaced by ``#``, runs of blanks collapsed, the device name and
    random hex ids masked) plus the list of its numbers, each with its printed precision.

Tolerances (``TOLERANCES``; a cell's kind comes from ``CELL_KINDS``, default ``attribution``)
    - text (tokens, labels, predictions, generated strings) and integers (counts, shapes,
      indices): exact, in every kind;
    - ``attribution`` (attribution matrices, explainer attributions, attention weights,
      gradient norms, anything else printed as a float): ``atol 1e-3, rtol 1e-2``;
    - ``probability`` (step scores, class probabilities): ``atol 1e-3, rtol 0``;
    - ``quantized`` (lessons 02's and 05's cells that run GPT-2 in 8-bit on a GPU, fp32 on a
      CPU):
      compared and listed, never counted as a mismatch.
    A float also passes when it is within one unit of its last printed digit (0.574 and
    0.575 printed with ``round(3)`` may come from values 1e-6 apart).

Command line::

    python -m explainlab_course.gpucheck run [LESSON ...] [--out DIR] [--jobs N]
    python -m explainlab_course.gpucheck cuda          # "ok <GPU>" or one line why not; exit 0/2
    python -m explainlab_course.gpucheck probe-8bit    # the 8-bit check alone, JSON on stdout

What travels to a GPU machine and how to run it there: ``explainlab_course.gpucarry``.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

from explainlab import constants

if TYPE_CHECKING:
    from nbformat import NotebookNode

REPORT_DIR = Path("test-output") / "gpu-check"
EPILOGUE_TAG = "gpucheck-epilogue"
MARK = "EXPLAINLAB-GPUCHECK"
NO_CUDA_STATUS = 2

EPILOGUE = f"""\
import json as _gc_json
import sys as _gc_sys
_gc = {{"device": getattr(globals().get("session"), "device", None), "gpu": None,
       "peak_allocated": None, "peak_reserved": None}}
if "torch" in _gc_sys.modules:
    import torch as _gc_torch
    if _gc_torch.cuda.is_available() and _gc_torch.cuda.is_initialized():
        _gc.update(gpu=_gc_torch.cuda.get_device_name(),
                   peak_allocated=_gc_torch.cuda.max_memory_allocated(),
                   peak_reserved=_gc_torch.cuda.max_memory_reserved())
print("{MARK} " + _gc_json.dumps(_gc))
"""
"""The hidden last cell the harness appends to its copy of a lesson."""


# ----------------------------------------------------------------------------- tolerances

@dataclass(frozen=True)
class Tolerance:
    """How far two runs' floats may be apart: ``|a - b| <= atol + rtol * max(|a|, |b|)``
    (plus one unit of the last printed digit). Text and integers are always exact;
    ``informational`` kinds are compared and reported, never counted as mismatches."""

    kind: str
    atol: float
    rtol: float
    informational: bool = False
    what: str = ""


TOLERANCES: dict[str, Tolerance] = {t.kind: t for t in (
    Tolerance("attribution", 1e-3, 1e-2, what="attribution matrices, explainer attributions, "
              "attention weights, gradient norms, other floats"),
    Tolerance("probability", 1e-3, 0.0, what="step scores and class probabilities"),
    Tolerance("quantized", 0.0, 0.0, informational=True,
              what="cells that run a model in 8-bit on a GPU and in fp32 on a CPU"),
)}
DEFAULT_KIND = "attribution"

CELL_KINDS: tuple[tuple[str, str, str], ...] = (
    # (lesson stem glob, cell tag glob, kind); the first rule that matches wins.
    ("02_*", "check-8bit", "quantized"),
    ("02_*", "gpt2-show", "quantized"),
    ("02_*", "exercise-gpt2", "quantized"),
    ("05_*", "check-forced", "quantized"),  # the homework's GPT-2: XL in 8 bits on a GPU
    ("01_*", "check-top", "probability"),
    ("02_*", "check-contrast", "probability"),
)


def cell_kind(lesson: str, tags: Sequence[str]) -> str:
    """The tolerance kind of a cell of ``lesson`` (a stem such as ``01_mt_attribution``)."""
    for lesson_glob, tag_glob, kind in CELL_KINDS:
        if fnmatch.fnmatch(lesson, lesson_glob) and any(fnmatch.fnmatch(t, tag_glob)
                                                        for t in tags):
            return kind
    return DEFAULT_KIND


# ----------------------------------------------------------------------------- extraction

_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d+|\.\d+|\d+)(?:[eE][-+]?\d+)?(?!\w)")
_DEVICE = re.compile(r"\b(?:cuda(?::\d+)?|cpu|mps)\b")
_HEX_ID = re.compile(r"\b[0-9a-f]{32}\b")
_BLANKS = re.compile(r"[ \t\r\f\v]+")


@dataclass
class Extracted:
    """One output of one cell: its text with numbers masked, and the numbers."""

    key: str
    kind: str
    lines: list[str]  # normalised text, one entry per non-empty line
    skeleton: list[str]  # the same lines with every number replaced by '#'
    numbers: list[float] = field(default_factory=list)
    quanta: list[float] = field(default_factory=list)  # one unit of the last printed digit
    integer: list[bool] = field(default_factory=list)
    line_of: list[int] = field(default_factory=list)  # index into lines, per number


def _quantum(token: str) -> float:
    mantissa, _, exponent = token.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 10.0 ** ((int(exponent) if exponent else 0) - decimals)


def parse_text(text: str, *, key: str = "", kind: str = DEFAULT_KIND) -> Extracted:
    """Split ``text`` into a skeleton and its numbers (see the module docstring)."""
    out = Extracted(key=key, kind=kind, lines=[], skeleton=[])
    text = _HEX_ID.sub("<id>", _DEVICE.sub("<device>", text))
    for raw in text.splitlines():
        line = _BLANKS.sub(" ", raw).strip()
        if not line:
            continue
        index = len(out.lines)
        out.lines.append(line)
        for match in _NUMBER.finditer(line):
            token = match.group()
            out.numbers.append(float(token))
            plain = not any(c in token for c in ".eE")
            out.integer.append(plain)
            out.quanta.append(0.0 if plain else _quantum(token))
            out.line_of.append(index)
        out.skeleton.append(_NUMBER.sub("#", line))
    return out


class _TextOfHTML(HTMLParser):
    """The text nodes of an HTML document, script and style content included."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.parts.append(data.strip())


def html_text(html: str) -> str:
    """The text of ``html``, one text node per line; attributes dropped."""
    parser = _TextOfHTML()
    parser.feed(html)
    parser.close()
    return "\n".join(parser.parts)


def _text_of(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _rich_text(data: dict) -> tuple[str, str]:
    """(mime type, text) to compare for a display_data / execute_result output."""
    if "application/vnd.jupyter.widget-view+json" in data:  # a progress bar: random ids, times
        return "widget", "<widget>"
    if "text/html" in data:
        return "text/html", html_text(_text_of(data["text/html"]))
    for mime in ("text/markdown", "text/latex", "application/javascript"):
        if mime in data:
            return mime, _text_of(data[mime])
    images = sorted(m for m in data if m.startswith("image/"))
    if images:  # a figure: present, not compared
        return images[0], f"<{images[0]}>"
    if "text/plain" in data:
        return "text/plain", _text_of(data["text/plain"])
    return "other", "<" + ",".join(sorted(data)) + ">"


def cell_name(code_index: int, tags: Sequence[str]) -> str:
    """``07 [check-top]``: the code cell's 1-based number among code cells, and first tag."""
    return f"{code_index:02d}" + (f" [{tags[0]}]" if tags else "")


def extract(nb: NotebookNode, *, lesson: str = "") -> dict[str, Extracted]:
    """Every comparable output of an executed notebook, keyed by cell and output.

    Args:
        nb: an executed notebook (``explainlab_course.lessons.execute``).
        lesson: the lesson's stem, for ``CELL_KINDS`` (e.g. ``02_llm_attribution``).
    """
    found: dict[str, Extracted] = {}
    code_index = 0
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        code_index += 1
        tags = list(cell.get("metadata", {}).get("tags", []))
        if EPILOGUE_TAG in tags:
            continue
        name = cell_name(code_index, tags)
        kind = cell_kind(lesson, tags)
        outputs = cell.get("outputs", [])
        stdout = "".join(_text_of(o.get("text", "")) for o in outputs
                         if o.get("output_type") == "stream" and o.get("name") == "stdout")
        if stdout.strip():
            found[f"{name} stdout"] = parse_text(stdout, key=f"{name} stdout", kind=kind)
        rich = 0
        for output in outputs:
            kind_of_output = output.get("output_type")
            if kind_of_output in ("display_data", "execute_result"):
                rich += 1
                mime, text = _rich_text(output.get("data", {}))
                key = f"{name} output {rich} {mime}"
                found[key] = parse_text(text, key=key, kind=kind)
            elif kind_of_output == "error":
                key = f"{name} error"
                found[key] = parse_text(f"{output.get('ename')}: {output.get('evalue')}",
                                        key=key, kind=kind)
    return found


def epilogue_info(nb: NotebookNode) -> dict | None:
    """What the appended epilogue cell printed (device, peak GPU memory), if it ran."""
    for cell in reversed(nb.cells):
        if EPILOGUE_TAG not in cell.get("metadata", {}).get("tags", []):
            continue
        for output in cell.get("outputs", []):
            for line in _text_of(output.get("text", "")).splitlines():
                if line.startswith(MARK + " "):
                    return json.loads(line[len(MARK) + 1:])
    return None


# ----------------------------------------------------------------------------- comparison

@dataclass
class OutputDiff:
    """How one output of the target run compares with the reference run."""

    key: str
    kind: str
    status: str  # match, mismatch, differs (informational kind), missing, extra
    numbers: int = 0
    bad: int = 0
    max_abs: float = 0.0
    detail: str = ""


def _clip(text: str, at: int = 0, width: int = 160) -> str:
    if len(text) <= width:
        return text
    start = max(0, min(at - width // 3, len(text) - width))
    return ("…" if start else "") + text[start:start + width] + "…"


def _first_difference(a: str, b: str) -> int:
    pairs = enumerate(zip(a, b, strict=False))
    return next((i for i, (x, y) in pairs if x != y), min(len(a), len(b)))


def compare_outputs(ref: Extracted, got: Extracted, *, names: tuple[str, str] = ("cpu", "cuda"),
                    tolerances: dict[str, Tolerance] | None = None) -> OutputDiff:
    """Compare one output of two runs: skeletons exactly, integers exactly, floats within
    the tolerance of ``ref.kind`` (plus one unit of the last printed digit)."""
    tol = (tolerances or TOLERANCES)[ref.kind]
    diff = OutputDiff(key=ref.key, kind=ref.kind, status="match", numbers=len(ref.numbers))
    failed = "differs" if tol.informational else "mismatch"
    if ref.skeleton != got.skeleton:
        pairs = zip(ref.skeleton, got.skeleton, strict=False)
        line = next((i for i, (x, y) in enumerate(pairs) if x != y),
                    min(len(ref.skeleton), len(got.skeleton)))
        a = ref.lines[line] if line < len(ref.lines) else "<no line>"
        b = got.lines[line] if line < len(got.lines) else "<no line>"
        at = _first_difference(a, b)
        diff.status = failed
        diff.detail = (f"text differs at line {line + 1}: {names[0]}: {_clip(a, at)!r} | "
                       f"{names[1]}: {_clip(b, at)!r}")
        return diff
    if not ref.numbers:
        return diff
    import numpy as np

    x, y = np.asarray(ref.numbers, dtype=float), np.asarray(got.numbers, dtype=float)
    exact = np.asarray(ref.integer) & np.asarray(got.integer)
    with np.errstate(invalid="ignore", over="ignore"):
        gap = np.abs(x - y)
        allowed = np.where(exact, 0.0, tol.atol + tol.rtol * np.maximum(np.abs(x), np.abs(y))
                           + np.maximum(ref.quanta, got.quanta))
        ok = (gap <= allowed * (1 + 1e-9)) | (np.isnan(x) & np.isnan(y) & ~exact)
    finite = np.isfinite(gap)
    diff.max_abs = float(gap[finite].max()) if finite.any() else 0.0
    diff.bad = int((~ok).sum())
    if diff.bad:
        diff.status = failed
        excess = np.where(finite, gap - allowed, np.inf)
        bad_indices = np.flatnonzero(~ok)
        examples = []
        for i in bad_indices[np.argsort(-excess[bad_indices], kind="stable")][:3]:
            line = ref.lines[ref.line_of[i]]
            examples.append(f"{ref.numbers[i]:.6g} vs {got.numbers[i]:.6g} in "
                            f"{_clip(line, line.find(str(ref.numbers[i])[:4]), 100)!r}")
        diff.detail = (f"{diff.bad} of {diff.numbers} numbers outside tolerance "
                       f"({tol.kind}: atol {tol.atol:g}, rtol {tol.rtol:g}); largest: "
                       + "; ".join(examples))
    return diff


def compare_notebooks(ref: NotebookNode, got: NotebookNode, *, lesson: str = "",
                      names: tuple[str, str] = ("cpu", "cuda"),
                      tolerances: dict[str, Tolerance] | None = None) -> list[OutputDiff]:
    """Compare every output of two executed runs of the same lesson."""
    a, b = extract(ref, lesson=lesson), extract(got, lesson=lesson)
    diffs = []
    for key, value in a.items():
        if key not in b:
            informational = (tolerances or TOLERANCES)[value.kind].informational
            diffs.append(OutputDiff(key, value.kind, "differs" if informational else "missing",
                                    detail=f"no such output in the {names[1]} run"))
        else:
            diffs.append(compare_outputs(value, b[key], names=names, tolerances=tolerances))
    for key, value in b.items():
        if key not in a:
            informational = (tolerances or TOLERANCES)[value.kind].informational
            diffs.append(OutputDiff(key, value.kind, "differs" if informational else "extra",
                                    detail=f"only in the {names[1]} run"))
    return diffs


# ----------------------------------------------------------------------------- execution

_QUOTED = re.compile(r"""["']([\w-]+)["']""")


PACKAGE_LOADERS = {"explainlab.homework.completion_model(": "lm-gpt2"}
"""Loaders of the learner's package that a lesson calls without naming the role they load
(on a CPU; ``scale.requirements`` knows their GPU-only variants)."""


def lesson_roles(path: str | Path) -> list[str]:
    """The model roles a lesson uses: every quoted role name in its source, whether passed
    to ``explainlab.resolve`` or to a helper of the lesson (``load("sst2")``), and the roles
    of the package's loaders it calls (``PACKAGE_LOADERS``)."""
    from explainlab.models import list_roles

    source = Path(path).read_text(encoding="utf-8")
    loaded = {role for call, role in PACKAGE_LOADERS.items() if call in source}
    return sorted((set(_QUOTED.findall(source)) | loaded) & set(list_roles()))


def missing_twins(roles: Sequence[str]) -> list[str]:
    """Roles among ``roles`` whose offline twin is not built under ``EXPLAINLAB_HOME``."""
    if not roles:
        return []
    from .zoo import status

    built = {row["role"] for row in status() if row["status"] == "built"}
    return [role for role in roles if role not in built]


def execute_lesson(path: str | Path, *, device: str, profile: str = "offline",
                   timeout: int = 600) -> tuple[NotebookNode, float]:
    """Execute a lesson with ``EXPLAINLAB_DEVICE=device`` and the epilogue cell appended.

    Never uses or fills the lesson cache (``explainlab_course.lessons.execute``): the cache key
    does not include the device. Returns the executed notebook and its seconds.

    Raises:
        LessonExecutionError: a cell failed (the message shows it).
    """
    import jupytext
    import nbformat

    from . import lessons

    path = Path(path).resolve()
    nb = jupytext.read(path)
    nb.cells.append(nbformat.v4.new_code_cell(EPILOGUE, metadata={
        "tags": [EPILOGUE_TAG], "jupyter": {"source_hidden": True}}))
    with tempfile.TemporaryDirectory(prefix="explainlab-gpucheck-") as tmp:
        copy = Path(tmp) / path.parent.name / f"{path.stem}.ipynb"
        copy.parent.mkdir()
        nbformat.write(nb, copy)
        return lessons.run_lesson(copy, profile=profile, timeout=timeout,
                            env={constants.ENV_DEVICE: device})


@dataclass
class Run:
    """One execution of one lesson on one device."""

    device: str
    seconds: float | None = None
    error: str | None = None
    kernel_device: str | None = None  # what the lesson's setup() chose
    gpu: str | None = None
    peak_allocated: int | None = None  # torch.cuda.max_memory_allocated(), bytes
    peak_reserved: int | None = None
    notebook: str | None = None  # path of the executed notebook


def _execute_in_subprocess(path: Path, device: str, notebook: Path, *, profile: str,
                           timeout: int, threads: int | None) -> Run:
    """Run ``execute`` in a child process (its own environment), read what it wrote."""
    notebook.parent.mkdir(parents=True, exist_ok=True)
    result = notebook.with_suffix(".json")
    result.unlink(missing_ok=True)
    env = dict(os.environ)
    if threads:
        env.setdefault("OMP_NUM_THREADS", str(threads))
    if device == "cpu":  # the reference runs as on a machine without a GPU
        env["CUDA_VISIBLE_DEVICES"] = ""
    cmd = [sys.executable, "-m", "explainlab_course.gpucheck", "execute", str(path),
           "--device", device,
           "--profile", profile, "--timeout", str(timeout), "--notebook", str(notebook)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if result.is_file():
        return Run(**json.loads(result.read_text(encoding="utf-8")))
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-20:]
    return Run(device=device, error=f"executor exited {proc.returncode}: " + "\n".join(tail))


def _execute_main(args: argparse.Namespace) -> int:
    import nbformat

    from explainlab.errors import LessonExecutionError

    notebook = Path(args.notebook)
    run = Run(device=args.device)
    try:
        nb, seconds = execute_lesson(args.path, device=args.device, profile=args.profile,
                                     timeout=args.timeout)
    except (LessonExecutionError, FileNotFoundError) as exc:
        run.error = str(exc)
    else:
        run.seconds = round(seconds, 2)
        info = epilogue_info(nb) or {}
        run.kernel_device = info.get("device")
        run.gpu, run.peak_allocated = info.get("gpu"), info.get("peak_allocated")
        run.peak_reserved = info.get("peak_reserved")
        nbformat.write(nb, notebook)
        run.notebook = str(notebook)
    notebook.with_suffix(".json").write_text(json.dumps(asdict(run)), encoding="utf-8")
    return 0 if run.error is None else 1


# ----------------------------------------------------------------------------- 8-bit probe

PROBE_PROMPTS: tuple[tuple[str, int], ...] = (("The capital of Germany is", 3),
                                              ("Hello world", 8))
"""Lesson 02's GPT-2 prompts and generation lengths."""


def _probe_one(model, tokenizer, prompt: str, new_tokens: int, target: str | None) -> dict:
    import inseq

    from explainlab.tokens import clean_tokens

    wrapped = inseq.load_model(model, "saliency", tokenizer=tokenizer)
    kwargs = {"generation_args": {"max_new_tokens": new_tokens, "do_sample": False}}
    out = wrapped.attribute(prompt, *([target] if target else []), show_progress=False,
                            **({} if target else kwargs))
    seq = out.sequence_attributions[0].aggregate()
    start = seq.attr_pos_start
    tokens = clean_tokens([t.token for t in seq.target], tokenizer)
    steps = []
    for step in range(seq.attr_pos_end - start):
        scores = seq.target_attributions[: start + step, step].float().nan_to_num().tolist()
        best = max(range(len(scores)), key=scores.__getitem__)
        steps.append({"generated": tokens[start + step], "top": tokens[best],
                      "scores": [round(s, 6) for s in scores]})
    return {"prompt": prompt, "text": out.info["generated_texts"][0], "steps": steps}


def _probe_model(model, tokenizer, targets: dict[str, str] | None = None) -> list[dict]:
    return [_probe_one(model, tokenizer, prompt, n, (targets or {}).get(prompt))
            for prompt, n in PROBE_PROMPTS]


def probe_8bit(*, device: str = "cuda", quantize: bool = True) -> dict:
    """Lesson 02's 8-bit path on the ``lm-gpt2`` twin, compared with fp32 on the CPU.

    The fp32 CPU run generates greedily and attributes with saliency. The run on
    ``device`` (8-bit with bitsandbytes when ``quantize``) does the same freely (does the
    generation match?) and forced to the CPU's continuation (does the top-attributed
    token of each step match, and how far apart are the normalised scores?).

    Returns:
        A JSON-ready dict; ``top_token_match`` is the headline: the top-attributed token
        of the first generated token of "The capital of Germany is", fp32 CPU vs 8-bit.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from explainlab.models import resolve
    from explainlab.notebook import package_version, patch_ipython, seed_everything

    hf_logging.disable_progress_bar()
    patch_ipython()
    seed_everything(0)
    path = resolve("lm-gpt2", "offline")
    tokenizer = AutoTokenizer.from_pretrained(path)
    tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    report: dict[str, Any] = {"model": path, "device": device, "quantize": quantize,
                              "bitsandbytes": package_version("bitsandbytes"),
                              "torch": torch.__version__}
    ref_model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    ref_model.generation_config.pad_token_id = tokenizer.pad_token_id
    report["reference_footprint_mib"] = round(ref_model.get_memory_footprint() / 2**20, 2)
    reference = _probe_model(ref_model, tokenizer)
    del ref_model

    kwargs: dict[str, Any] = {"device_map": {"": device}}
    if quantize:
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(load_in_8bit=True)
    else:
        kwargs["dtype"] = torch.float32
    model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    report["loaded_in_8bit"] = bool(getattr(model, "is_loaded_in_8bit", False))
    report["footprint_mib"] = round(model.get_memory_footprint() / 2**20, 2)
    free = _probe_model(model, tokenizer)
    forced = _probe_model(model, tokenizer, {r["prompt"]: r["text"] for r in reference})
    del model
    if device.startswith("cuda"):
        report["peak_allocated"] = torch.cuda.max_memory_allocated()
        torch.cuda.empty_cache()

    prompts = []
    for ref, gen, frc in zip(reference, free, forced, strict=True):
        steps = []
        for a, b in zip(ref["steps"], frc["steps"], strict=False):
            pairs = zip(a["scores"], b["scores"], strict=False)
            gap = max((abs(x - y) for x, y in pairs), default=0.0)
            steps.append({"generated": a["generated"], "top_reference": a["top"],
                          "top": b["top"], "match": a["top"] == b["top"],
                          "max_abs_diff": round(gap, 6)})
        prompts.append({"prompt": ref["prompt"], "reference_text": ref["text"],
                        "text": gen["text"], "generation_match": ref["text"] == gen["text"],
                        "steps": steps,
                        "top_tokens_match": all(s["match"] for s in steps)})
    report["prompts"] = prompts
    first = prompts[0]["steps"][0]
    report["top_token_reference"] = first["top_reference"]
    report["top_token"] = first["top"]
    report["top_token_match"] = first["match"]
    return report


def _probe_in_subprocess(device: str, *, quantize: bool = True) -> dict:
    cmd = [sys.executable, "-m", "explainlab_course.gpucheck", "probe-8bit", "--device", device]
    if not quantize:
        cmd.append("--no-quantize")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        return {"status": "failed", "error": f"probe exited {proc.returncode}: {tail}"}


# ----------------------------------------------------------------------------- cuda

def cuda_status() -> tuple[bool, str]:
    """(True, GPU name) when PyTorch sees a CUDA GPU, else (False, one line saying why)."""
    try:
        import torch
    except ImportError as exc:
        return False, f"gpu-check needs PyTorch, which is not importable here ({exc})."
    if not torch.cuda.is_available():
        build = f"torch {torch.__version__}" + ("" if torch.version.cuda else ", a CPU-only build")
        return False, (f"gpu-check needs a CUDA GPU and this machine has none ({build}, "
                       "torch.cuda.is_available() is False); run it on a GPU machine, see "
                       "explainlab_course.gpucarry")
    return True, torch.cuda.get_device_name(0)


# ----------------------------------------------------------------------------- the run

@dataclass
class LessonResult:
    lesson: str  # en/01_mt_attribution
    status: str  # match, mismatch, failed, skipped
    runs: dict[str, Run] = field(default_factory=dict)
    outputs: int = 0
    numbers: int = 0
    max_abs: dict[str, float] = field(default_factory=dict)  # per kind
    problems: list[OutputDiff] = field(default_factory=list)  # mismatch, missing, extra
    differences: list[OutputDiff] = field(default_factory=list)  # informational kinds
    reason: str = ""
    notes: list[str] = field(default_factory=list)  # e.g. a "GPU" run that allocated nothing


def summarise(lesson: str, diffs: list[OutputDiff]) -> LessonResult:
    """A lesson's result from its output comparisons."""
    result = LessonResult(lesson=lesson, status="match", outputs=len(diffs))
    for diff in diffs:
        result.numbers += diff.numbers
        result.max_abs[diff.kind] = max(result.max_abs.get(diff.kind, 0.0), diff.max_abs)
        if diff.status == "differs":
            result.differences.append(diff)
        elif diff.status != "match":
            result.problems.append(diff)
    if result.problems:
        result.status = "mismatch"
    return result


def _lesson_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def check_lessons(paths: Sequence[Path], *, out: Path, reference: str = "cpu",
                  target: str = "cuda", profile: str = "offline", timeout: int = 600,
                  jobs: int = 1, build_twins: bool = False,
                  log=print) -> list[LessonResult]:
    """Execute every lesson on ``reference`` and ``target`` and compare (see module doc)."""
    from concurrent.futures import ThreadPoolExecutor

    import nbformat

    results: dict[Path, LessonResult] = {}
    todo: list[tuple[Path, str, str]] = []
    for path in paths:
        missing = [] if build_twins else missing_twins(lesson_roles(path))
        if missing:
            results[path] = LessonResult(
                _lesson_id(path), "skipped",
                reason=f"twin(s) not built here: {', '.join(missing)} (make twins, or carry "
                       "them: explainlab_course.gpucarry)")
            log(f"skip   {_lesson_id(path)}: {results[path].reason}")
            continue
        todo += [(path, "reference", reference), (path, "target", target)]
    threads = max(1, (os.cpu_count() or 1) // jobs) if jobs > 1 else None

    def one(item: tuple[Path, str, str]) -> tuple[Path, str, Run]:
        path, label, device = item
        notebook = out / "notebooks" / label / f"{path.parent.name}-{path.stem}.ipynb"
        started = time.perf_counter()
        run = _execute_in_subprocess(path, device, notebook, profile=profile, timeout=timeout,
                                     threads=threads)
        state = "failed" if run.error else f"{run.seconds:.1f} s"
        log(f"{label:9} {device:6} {_lesson_id(path)}: {state} "
            f"(wall {time.perf_counter() - started:.1f} s)")
        return path, label, run

    runs: dict[Path, dict[str, Run]] = {}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for path, label, run in pool.map(one, todo):
            runs.setdefault(path, {})[label] = run
    for path, pair in runs.items():
        ref, got = pair["reference"], pair["target"]
        if ref.error or got.error:
            result = LessonResult(_lesson_id(path), "failed", reason="; ".join(
                f"{r.device} run failed: {r.error.splitlines()[0]}" for r in (ref, got)
                if r.error))
        else:
            diffs = compare_notebooks(nbformat.read(ref.notebook, as_version=4),
                                      nbformat.read(got.notebook, as_version=4),
                                      lesson=path.stem, names=(reference, target))
            result = summarise(_lesson_id(path), diffs)
        result.runs = {"reference": ref, "target": got}
        if target.startswith("cuda") and not got.error:
            if not (got.kernel_device or "").startswith("cuda"):
                result.notes.append(f"setup() chose {got.kernel_device!r}, not {target!r}")
            if not got.peak_allocated:
                result.notes.append("no CUDA memory was allocated: did the lesson use the GPU?")
        results[path] = result
    return [results[p] for p in paths]


def machine_info() -> dict:
    """GPU, CUDA, library versions of this machine, for the report."""
    import platform

    from explainlab.notebook import package_version

    from .lessons import library_versions

    info: dict[str, Any] = {"python": platform.python_version(), "platform": platform.platform(),
                            **library_versions(),
                            "bitsandbytes": package_version("bitsandbytes")}
    try:
        import torch

        info["cuda"] = torch.version.cuda
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
            info["gpu_memory_gib"] = round(
                torch.cuda.get_device_properties(0).total_memory / 2**30, 1)
    except ImportError:
        pass
    return info


def build_report(results: Sequence[LessonResult], *, reference: str, target: str,
                 eight_bit: dict | None, machine: dict, seconds: float) -> dict:
    """The JSON report (``report.json``)."""
    counts = {s: sum(r.status == s for r in results)
              for s in ("match", "mismatch", "failed", "skipped")}
    lessons_out = []
    for r in results:
        entry = asdict(r)
        for label in ("reference", "target"):
            run = entry["runs"].get(label)
            if run and run.get("peak_allocated") is not None:
                run["peak_allocated_mib"] = round(run["peak_allocated"] / 2**20, 1)
        lessons_out.append(entry)
    ok = counts["mismatch"] == 0 and counts["failed"] == 0 and (
        eight_bit is None or eight_bit.get("status") in ("ok", "skipped"))
    return {
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "ok": ok,
        "reference": reference,
        "target": target,
        "profile": "offline",
        "seconds": round(seconds, 1),
        "machine": machine,
        "summary": {**counts, "lessons": len(results)},
        "tolerances": {k: asdict(v) for k, v in TOLERANCES.items()},
        "cell_kinds": [list(rule) for rule in CELL_KINDS],
        "lessons": lessons_out,
        "eight_bit": eight_bit,
    }


def _mib(value: int | None) -> str:
    return "-" if value is None else f"{value / 2**20:.1f}"


def _secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def report_text(report: dict) -> str:
    """The human-readable report (``report.txt``)."""
    ref, tgt = report["reference"], report["target"]
    m = report["machine"]
    lines = [f"ExplainLab gpu-check, {report['created']}: {ref} (reference) vs {tgt}, profile "
             f"{report['profile']}",
             f"machine: {m.get('gpu', 'no GPU')}, torch {m.get('torch')}, CUDA {m.get('cuda')}, "
             f"transformers {m.get('transformers')}, inseq {m.get('inseq')}, "
             f"bitsandbytes {m.get('bitsandbytes')}", ""]
    width = max([len(e["lesson"]) for e in report["lessons"]] + [6])
    head = (f"{'lesson':{width}} {'status':9} {ref + ' s':>8} {tgt + ' s':>8} {'peak MiB':>9} "
            f"{'outputs':>7} {'numbers':>8}  max |diff|")
    lines += [head, "-" * len(head)]
    for entry in report["lessons"]:
        runs = entry["runs"]
        r, t = runs.get("reference") or {}, runs.get("target") or {}
        worst = max(entry["max_abs"].values(), default=None)
        lines.append(f"{entry['lesson']:{width}} {entry['status']:9} {_secs(r.get('seconds')):>8} "
                     f"{_secs(t.get('seconds')):>8} {_mib(t.get('peak_allocated')):>9} "
                     f"{entry['outputs']:>7} {entry['numbers']:>8}  "
                     + ("-" if worst is None else f"{worst:.3g}"))
    s = report["summary"]
    lines += ["", f"{s['lessons']} lessons: {s['match']} match, {s['mismatch']} mismatch, "
              f"{s['failed']} failed, {s['skipped']} skipped."]
    eight = report.get("eight_bit")
    if eight:
        lines.append("")
        if eight.get("status") == "ok":
            gen = all(p["generation_match"] for p in eight["prompts"])
            tops = all(p["top_tokens_match"] for p in eight["prompts"])
            lines.append(
                f"8-bit ({'bitsandbytes ' + eight['bitsandbytes'] if eight['quantize'] else 'fp32'}"
                f", lm-gpt2 twin, Inseq saliency): top token {eight['top_token_reference']!r} "
                f"fp32 {ref} vs {eight['top_token']!r} on {eight['device']}: "
                f"{'match' if eight['top_token_match'] else 'MISMATCH'}; every step's top token "
                f"{'matches' if tops else 'does not match'}; greedy generation "
                f"{'matches' if gen else 'differs'}; footprint "
                f"{eight['reference_footprint_mib']} MiB fp32 -> {eight['footprint_mib']} MiB.")
        else:
            why = eight.get("error") or eight.get("reason")
            lines.append(f"8-bit: {eight.get('status')}: {why}")
    problems = [(e["lesson"], p) for e in report["lessons"] for p in e["problems"]]
    failures = [e for e in report["lessons"] if e["status"] in ("failed", "skipped")]
    if problems or failures:
        lines += ["", "Problems:"]
        for e in failures:
            lines.append(f"  {e['lesson']}: {e['status']}: {e['reason']}")
        for lesson, p in problems:
            lines.append(f"  {lesson} {p['key']}: {p['status']}: {p['detail']}")
    notes = [(e["lesson"], n) for e in report["lessons"] for n in e.get("notes", [])]
    if notes:
        lines += ["", "Notes:"] + [f"  {lesson}: {note}" for lesson, note in notes]
    differences = [(e["lesson"], d) for e in report["lessons"] for d in e["differences"]]
    if differences:
        lines += ["", "Expected differences (informational kinds, not counted):"]
        for lesson, d in differences:
            lines.append(f"  {lesson} {d['key']}: {d['detail'] or d['status']}")
    lines += ["", "Tolerances: text and integers exact; "
              + "; ".join(f"{t['kind']}: atol {t['atol']:g} rtol {t['rtol']:g}"
                          + (" (informational)" if t["informational"] else "")
                          for t in report["tolerances"].values())
              + "; floats also within one unit of their last printed digit."]
    lines.append(f"Total {report['seconds']:.0f} s. Result: {'OK' if report['ok'] else 'FAILED'}.")
    return "\n".join(lines) + "\n"


def write_report(report: dict, out: Path) -> tuple[Path, Path]:
    """Write ``report.json`` and ``report.txt`` into ``out``; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    json_path, text_path = out / "report.json", out / "report.txt"
    json_path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n",
                         encoding="utf-8")
    text_path.write_text(report_text(report), encoding="utf-8")
    return json_path, text_path


def _run_main(args: argparse.Namespace) -> int:
    from .lessons import lesson_paths

    if args.target.startswith("cuda"):
        ok, line = cuda_status()
        if not ok:
            print(line, file=sys.stderr)
            return NO_CUDA_STATUS
    started = time.perf_counter()
    paths = [Path(p) for p in args.paths] or lesson_paths(root=args.root)
    out = Path(args.out)
    print(f"gpu-check: {len(paths)} lessons, {args.reference} vs {args.target}, "
          f"report in {out}", flush=True)
    results = check_lessons(paths, out=out, reference=args.reference, target=args.target,
                            timeout=args.timeout, jobs=args.jobs, build_twins=args.build_twins,
                            log=lambda line: print(line, flush=True))
    eight_bit = None
    if not args.skip_8bit:
        quantize = args.target.startswith("cuda")
        eight_bit = _probe_in_subprocess(args.target, quantize=quantize)
        eight_bit.setdefault("status", "ok")
    report = build_report(results, reference=args.reference, target=args.target,
                          eight_bit=eight_bit, machine=machine_info(),
                          seconds=time.perf_counter() - started)
    _, text_path = write_report(report, out)
    print(text_path.read_text(encoding="utf-8"), end="")
    return 0 if report["ok"] else 1


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m explainlab_course.gpucheck {run,cuda,probe-8bit,execute}``."""
    parser = argparse.ArgumentParser(prog="python -m explainlab_course.gpucheck",
                                     description="Verify the lessons on a CUDA GPU.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute every lesson on the CPU and on CUDA, compare")
    run.add_argument("paths", nargs="*", help="lesson files (default: every lesson, both "
                     "languages)")
    run.add_argument("--root", type=Path, default=None, help="the lessons folder")
    run.add_argument("--out", default=str(REPORT_DIR), help=f"report folder ({REPORT_DIR})")
    run.add_argument("--jobs", type=int, default=1, help="lesson executions at a time (1)")
    run.add_argument("--timeout", type=int, default=600, help="seconds per cell (600)")
    run.add_argument("--reference", default="cpu", help=argparse.SUPPRESS)
    run.add_argument("--target", default="cuda", help=argparse.SUPPRESS)
    run.add_argument("--skip-8bit", action="store_true", help="no 8-bit check")
    run.add_argument("--build-twins", action="store_true",
                     help="build missing twins instead of skipping their lessons")
    sub.add_parser("cuda", help="say whether this machine has a CUDA GPU (exit 0) or not (2)")
    probe = sub.add_parser("probe-8bit", help="the 8-bit check alone; JSON on stdout")
    probe.add_argument("--device", default="cuda")
    probe.add_argument("--no-quantize", action="store_true", help="fp32 on --device instead")
    ex = sub.add_parser("execute", help=argparse.SUPPRESS)
    ex.add_argument("path", type=Path)
    ex.add_argument("--device", required=True)
    ex.add_argument("--profile", default="offline")
    ex.add_argument("--timeout", type=int, default=600)
    ex.add_argument("--notebook", required=True)
    args = parser.parse_args(argv)

    if args.command == "cuda":
        ok, line = cuda_status()
        print(f"ok {line}" if ok else line, file=sys.stdout if ok else sys.stderr)
        return 0 if ok else NO_CUDA_STATUS
    if args.command == "probe-8bit":
        if not args.no_quantize and args.device.startswith("cuda"):
            ok, line = cuda_status()
            if not ok:
                print(json.dumps({"status": "skipped", "reason": line}))
                return 0
        try:
            report = {"status": "ok", **probe_8bit(device=args.device,
                                                    quantize=not args.no_quantize)}
        except Exception as exc:  # reported, not raised: the check goes on
            report = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(report, ensure_ascii=False))
        return 0 if report["status"] == "ok" else 1
    if args.command == "execute":
        return _execute_main(args)
    return _run_main(args)


if __name__ == "__main__":
    sys.exit(main())
