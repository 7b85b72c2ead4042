"""Lesson 05 (homework): its claims, ``explainlab_course.claims.homework``, which
``lessons.execute`` checks for the site (executed offline in both languages, every answer
cell ran and said "no answer yet"), one test per claim and language; and here: no answer is
written in the lesson, and no number a question asks for is printed above it. (The solved
notebook and grading: tests/course/test_homework_tools.py.)"""

from __future__ import annotations

import re

import pytest

from explainlab import homework
from explainlab_course.claims import homework as homework_claims
from explainlab_course.claims import text_outputs
from explainlab_course.homework import answer_cells

from .conftest import LESSONS, check_claim, claim_cases
from conftest import TWIN_HOME

pytestmark = pytest.mark.slow

SLUG = homework_claims.SLUG
QUESTIONS = homework.list_questions()
_NUMBER = re.compile(r"-?\d+\.\d{2,}(?:e-?\d+)?")  # as tables print scores


@pytest.mark.parametrize(("lang", "claim"), claim_cases(SLUG))
def test_claim(executed, lang, claim):
    check_claim(executed, SLUG, lang, claim)


def test_no_answer_is_written_in_the_lesson():
    """Only placeholders: the lessons call `check`, they never hold an expected answer."""
    assert len(QUESTIONS) >= 12
    for lang in ("en", "zh"):
        source = (LESSONS / lang / f"{SLUG}.py").read_text(encoding="utf-8")
        assert source.count("answer = None") == len(QUESTIONS)
        assert not re.search(r"^answer = (?!None)", source, flags=re.MULTILINE)
        assert "judge(" not in source and "_models" not in source


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_number_a_question_asks_for_is_printed_above_it(executed, lang, monkeypatch):
    """For every question answered with a number, no number that the cells above its answer
    cell print is judged right: the learner has to compute it. (Ranks are left out: the small
    whole numbers of another column's ranks are no answer; so are the heatmaps' HTML cells,
    which show other sentences, methods or steps.)"""
    monkeypatch.setenv("EXPLAINLAB_PROFILE", "offline")
    monkeypatch.setenv("EXPLAINLAB_HOME", str(TWIN_HOME))
    nb = executed(lang, SLUG)
    cells = answer_cells(nb)
    numeric = [q for q in QUESTIONS if homework.get_question(q).kind == "number"]
    assert len(numeric) >= 7
    for qid in numeric:
        above = " ".join(text_outputs(cell, html=False) for cell in nb.cells[: cells[qid]]
                         if cell.cell_type == "code")
        shown = {float(n) for n in _NUMBER.findall(above)}
        assert shown, "the cells above print numbers"
        printed = sorted(n for n in shown if homework.verdict(qid, n).right)
        assert not printed, f"{qid}'s answer is printed above it: {printed}"
