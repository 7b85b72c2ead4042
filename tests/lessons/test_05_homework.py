"""Lesson 05 (homework): its claims, ``explainlab_course.claims.homework``, which
``lessons.execute``
checks for the site (executed offline in both languages, every check cell ran and said "no
answer yet"), one test per claim and language; and here: no answer is written in the lesson,
and the same lesson with answers read off its own tables (injected here, never committed)
passes every check."""

from __future__ import annotations

import re

import jupytext
import pytest

from explainlab import homework
from explainlab_course import lessons
from explainlab_course.claims import cell_by_tag, tagged_text
from explainlab_course.claims import homework as homework_claims

from .conftest import LESSONS, check_claim, claim_cases
from conftest import TWIN_HOME

pytestmark = pytest.mark.slow

SLUG = homework_claims.SLUG
QUESTIONS = homework.list_questions()

# Answers as a learner reads them off the lesson's own tables (lesson variables), so the
# injected run checks that what the lesson shows is what `check` expects.
SOLUTIONS = {
    "q1": 'mt_saliency_table["machine"].idxmax()',
    "q2": 'mt_saliency_table.loc["学习", "learning"]',
    "q3": 'mt_attention_table["machine"].idxmax()',
    "q4": 'lm_saliency_table.loc["America", "Washington"]',
    "q5": 'lm_saliency_table["George"].idxmax()',
    "q6": 'lm_attention_table["George"].idxmax()',
    "q7": 'head_table.loc["sat"].idxmax()',
    "q8": 'attributions.drop(["[CLS]", "[SEP]"]).idxmax()',
}


@pytest.mark.parametrize(("lang", "claim"), claim_cases(SLUG))
def test_claim(executed, lang, claim):
    check_claim(executed, SLUG, lang, claim)


def test_no_answer_is_written_in_the_lesson():
    """Only placeholders: the lessons call `check`, they never hold an expected answer."""
    for lang in ("en", "zh"):
        source = (LESSONS / lang / f"{SLUG}.py").read_text(encoding="utf-8")
        assert source.count("answer = None") == len(QUESTIONS)
        assert not re.search(r"^answer = (?!None)", source, flags=re.MULTILINE)
        assert "_expected" not in source and "Expected(" not in source


def test_correct_answers_pass_every_check(tmp_path, monkeypatch):
    """The English lesson with SOLUTIONS put into its answer cells: all eight are right."""
    nb = jupytext.read(LESSONS / "en" / f"{SLUG}.py")
    for qid, expression in SOLUTIONS.items():
        cell = cell_by_tag(nb, f"check-{qid}")
        assert "answer = None" in cell.source
        cell.source = cell.source.replace("answer = None", f"answer = {expression}", 1)
    solved = tmp_path / "en-solved" / f"{SLUG}.py"  # its own cache name, not the lesson's
    solved.parent.mkdir()
    jupytext.write(nb, solved, fmt="py:percent")
    monkeypatch.setenv("EXPLAINLAB_HOME", str(TWIN_HOME))
    executed = lessons.execute(solved, profile="offline")
    for qid in QUESTIONS:
        assert tagged_text(executed, f"check-{qid}").splitlines() == [
            f"✓ {qid}: right!", f"✓ {qid}：答对了！"]
    assert tagged_text(executed, "summary").startswith(
        f"{len(QUESTIONS)} of {len(QUESTIONS)} answers right:")
