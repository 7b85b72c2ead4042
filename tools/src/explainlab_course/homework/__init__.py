"""The teacher's side of lesson 05_homework: the solved notebook, the answer key, grading.

- ``solve(lang)``: the lesson with every answer cell (tag ``answer-qN``) holding the reference
  solution (``solutions.SOLUTIONS``).
- ``answer_key(lang, profile=...)``: runs the solved notebook in a fresh kernel and keeps
  each answer, after the learner's package has judged it right on that profile.
- ``grade(paths, profile=...)``: runs each submission in a fresh kernel with a time limit,
  takes the value of ``answer`` right after each answer cell (the kernel writes it to a file
  of the grader's), and judges it here, in the grader's process, with
  ``explainlab.homework.verdict``. Nothing a submission does to ``check``, ``results`` or
  its printed output counts.

``explainlab homework key|solutions|grade`` (``cli``) calls these.
"""

from __future__ import annotations

import copy
import csv
import json
import math
import os
import re
import secrets
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from explainlab import constants
from explainlab.errors import ExplainLabError, HomeworkKeyError

from ..lessons import LESSONS_DIR
from .solutions import SOLUTIONS

SLUG = "05_homework"
ANSWER_TAG = re.compile(r"^answer-(q\d+)$")
DEFAULT_TIMEOUT = 1200
"""Seconds a submission may run, all cells together."""


def question_ids() -> list[str]:
    from explainlab.homework import list_questions

    return list_questions()


def blank(lang: str) -> Any:
    """The homework as handed out (lessons/<lang>/05_homework.py), as a notebook."""
    import jupytext

    if lang not in ("en", "zh"):
        raise ValueError(f"Unknown language {lang!r}: use 'en' or 'zh'.")
    return jupytext.read(LESSONS_DIR / lang / f"{SLUG}.py")


def answer_cells(nb) -> dict[str, int]:
    """Question id -> index of its answer cell (the last code cell tagged ``answer-qN``)."""
    found: dict[str, int] = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for tag in cell.get("metadata", {}).get("tags", []):
            match = ANSWER_TAG.match(tag)
            if match:
                found[match.group(1)] = index
    return found


def _solved_source(source: str, qid: str, lang: str) -> str:
    """The answer cell's source with its comment lines and ``answer = None`` replaced by the
    reference solution (the lines that set up the question stay)."""
    comment, code = SOLUTIONS[qid]
    lines = source.splitlines()
    at = next((i for i, line in enumerate(lines) if line.startswith("answer = None")), None)
    if at is None:
        raise HomeworkKeyError(f"The answer cell of {qid} has no line 'answer = None' to "
                               "replace.")
    kept = [line for line in lines[:at] if not line.lstrip().startswith("#")]
    return "\n".join([*kept, f"# {comment[lang]}", code, *lines[at + 1:]])


def solve(lang: str) -> Any:
    """The solved homework: each answer cell holds its reference solution.

    Raises:
        HomeworkKeyError: a question has no answer cell in the lesson, or no solution.
    """
    nb = blank(lang)
    cells = answer_cells(nb)
    missing = [q for q in question_ids() if q not in cells or q not in SOLUTIONS]
    if missing:
        raise HomeworkKeyError(f"No answer cell or no reference solution for {', '.join(missing)} "
                               f"in lessons/{lang}/{SLUG}.py.")
    for qid, index in cells.items():
        nb.cells[index].source = _solved_source(nb.cells[index].source, qid, lang)
    return nb


# --------------------------------------------------------------------------- running


@dataclass
class Run:
    """What one execution of a homework notebook left: the captured answers (question id ->
    plain value; a question whose cell never ran is missing), the errors, the seconds."""

    answers: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0


_CAPTURE = ("__import__('explainlab_course.homework.capture', fromlist=['keep'])"
            ".keep({qid!r}, globals(), {path!r})")


def _instrumented(nb, folder: Path, token: str) -> tuple[Any, dict[str, str]]:
    """A copy of ``nb`` with a capture cell after each answer cell; returns it and
    question id -> the file its capture cell writes."""
    import nbformat

    nb = copy.deepcopy(nb)
    files: dict[str, str] = {}
    for qid, index in sorted(answer_cells(nb).items(), key=lambda item: -item[1]):
        files[qid] = str(folder / f"{token}-{qid}.json")
        cell = nbformat.v4.new_code_cell(_CAPTURE.format(qid=qid, path=files[qid]))
        cell.metadata["tags"] = ["grader-capture"]
        nb.cells.insert(index + 1, cell)
    return nb, files


def _errors(nb) -> list[str]:
    """One line per cell that raised: its tag (or number), the error's name and message."""
    lines = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                tags = cell.get("metadata", {}).get("tags", [])
                where = tags[0] if tags else f"cell {index + 1}"
                message = str(output.get("evalue", "")).splitlines()[:1]
                lines.append(f"{where}: {output.get('ename')}: {' '.join(message)}"[:300])
    return lines


def run_answers(nb, *, profile: str, timeout: float = DEFAULT_TIMEOUT, name: str = SLUG) -> Run:
    """Execute a homework notebook in a fresh kernel (at most ``timeout`` seconds for all of
    it, failing cells allowed) and capture ``answer`` after each answer cell."""
    from explainlab.errors import LessonExecutionError

    from ..lessons import run_notebook

    run = Run()
    with tempfile.TemporaryDirectory(prefix="explainlab-grade-") as folder:
        runnable, files = _instrumented(nb, Path(folder), secrets.token_hex(8))
        try:
            run.seconds = run_notebook(runnable, name=name, profile=profile,
                                       timeout=int(timeout), total=timeout, allow_errors=True)
        except LessonExecutionError as exc:  # out of time, or the kernel died
            run.errors.append(str(exc).splitlines()[0][:300])
        run.errors[:0] = _errors(runnable)
        for qid, path in files.items():
            if Path(path).is_file():
                run.answers[qid] = json.loads(Path(path).read_text(encoding="utf-8"))
    return run


@contextmanager
def _profile(profile: str) -> Iterator[None]:
    """The grader's own process judges on ``profile`` (as the kernel ran)."""
    before = os.environ.get(constants.ENV_PROFILE)
    os.environ[constants.ENV_PROFILE] = profile
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(constants.ENV_PROFILE, None)
        else:
            os.environ[constants.ENV_PROFILE] = before


def _judged(answers: dict[str, Any]) -> dict[str, Any]:
    from transformers.utils import logging

    from explainlab.homework import verdict

    logging.disable_progress_bar()  # the grader's output is its table
    return {qid: verdict(qid, answers.get(qid)) for qid in question_ids()}


# --------------------------------------------------------------------------- the key


def answer_key(lang: str, *, profile: str, timeout: float = DEFAULT_TIMEOUT) -> dict:
    """The answer key of the homework on ``profile``: the solved notebook's answers, each
    judged right by the learner's package on the same models.

    Raises:
        HomeworkKeyError: a reference solution failed or was judged wrong on this profile.
    """
    from explainlab.homework import get_question
    from explainlab.homework._models import completion_variant
    from explainlab.models import describe
    from explainlab.notebook import pick_device

    run = run_answers(solve(lang), profile=profile, timeout=timeout, name=f"solved {lang}")
    with _profile(profile):
        verdicts = _judged(run.answers)
        wrong = {qid: v.reason for qid, v in verdicts.items() if not v.right}
        if wrong:
            raise HomeworkKeyError(
                f"The reference solutions do not hold on the {profile} profile: "
                + ", ".join(f"{qid} ({reason})" for qid, reason in wrong.items())
                + ("; errors: " + " | ".join(run.errors) if run.errors else ""))
        device = pick_device()
        roles = dict.fromkeys(get_question(q).role for q in question_ids())
        models = {role: describe(role, variant=completion_variant(device)
                                 if role == "lm-gpt2" else None) for role in roles}
    questions = []
    for qid in question_ids():
        question = get_question(qid)
        questions.append({"id": qid, "kind": question.kind, "role": question.role,
                          "question": question.text[lang], "answer": run.answers[qid],
                          "tolerance": question.tolerance})
    return {"homework": SLUG, "lang": lang, "profile": profile, "device": device,
            "models": models, "questions": questions}


def _shown(value: Any, kind: str) -> str:
    if kind == "number" and isinstance(value, (int, float)):
        return f"{value:.4f}"
    return str(value)


def key_table(key: dict) -> str:
    """The key as a Markdown table, to print or paste into a quiz."""
    zh = key["lang"] == "zh"
    header = ("| 题 | 问题 | 答案 | 容差 |" if zh else "| question | asks | answer | tolerance |")
    rows = [f"# {'答案' if zh else 'Answer key'}: {key['homework']} ({key['lang']}, "
            f"profile {key['profile']}, {key['device']})", "",
            *(f"- {model}" for model in key["models"].values()), "",
            header, "| --- | --- | --- | --- |"]
    for q in key["questions"]:
        tolerance = (f"±{q['tolerance']:g}" if q["kind"] == "number"
                     else ("exact" if not zh else "须完全一致") if q["kind"] == "rank"
                     else ("the token" if not zh else "该词元"))
        text = q["question"].replace("|", "\\|")
        rows.append(f"| {q['id']} | {text} | {_shown(q['answer'], q['kind'])} | {tolerance} |")
    return "\n".join(rows) + "\n"


# --------------------------------------------------------------------------- grading


def _points(verdict) -> int:
    return 1 if verdict.right else 0


def grade_one(path: Path, *, profile: str, timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
    """One submission's row: ``file``, a column per question (points), ``total``, ``errors``."""
    import nbformat

    row: dict[str, Any] = {"file": path.name}
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # not a notebook at all: a row of zeros that says why
        run = Run(errors=[f"not a readable notebook: {type(exc).__name__}: {exc}"[:300]])
    else:
        missing = [q for q in question_ids() if q not in answer_cells(nb)]
        run = run_answers(nb, profile=profile, timeout=timeout, name=path.name)
        if missing:
            run.errors.insert(0, f"no answer cell tagged for {', '.join(missing)}")
    with _profile(profile):
        verdicts = _judged(run.answers)
    row.update({qid: _points(v) for qid, v in verdicts.items()})
    row["total"] = sum(row[qid] for qid in question_ids())
    row["errors"] = " | ".join(run.errors)
    return row


def grade(paths: Iterable[str | Path], *, profile: str, timeout: float = DEFAULT_TIMEOUT,
          out: str | Path | None = None, progress: bool = True) -> list[dict[str, Any]]:
    """Grade submissions, each in its own fresh kernel; write ``out`` as CSV if given."""
    from tqdm.auto import tqdm

    paths = [Path(p) for p in paths]
    if not paths:
        raise ExplainLabError("No submission to grade: name one or more .ipynb files.")
    rows = [grade_one(path, profile=profile, timeout=timeout)
            for path in tqdm(paths, desc="grading", unit="notebook", disable=not progress)]
    if out is not None:
        with open(out, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=["file", *question_ids(), "total",
                                                        "errors"])
            writer.writeheader()
            writer.writerows(rows)
    return rows


def plain(value: Any) -> Any:
    """A learner's answer as JSON can hold it: numbers (NumPy and PyTorch scalars too),
    strings, lists of those; anything else as its ``repr`` under ``"unreadable"``."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)):
        return value if math.isfinite(value) else repr(value)
    if hasattr(value, "item") and getattr(value, "size", 1) in (1, ()) or (
            hasattr(value, "numel") and callable(value.numel) and value.numel() == 1):
        try:
            return plain(value.item())
        except Exception:  # noqa: BLE001 - an object that only looks like a scalar
            pass
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value[:20]]
    return {"unreadable": repr(value)[:200]}
