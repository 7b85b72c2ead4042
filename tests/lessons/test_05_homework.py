"""Lesson 05 (homework): executed offline in both languages, every check cell ran and said
"no answer yet"; no answer is written in the lesson; and the same lesson with answers read
off its own tables (injected here, never committed) passes every check."""

from __future__ import annotations

import re

import jupytext
import pytest

from explainlab import homework, lessons
from explainlab.zoo import translation

from .conftest import LESSONS, cell_by_tag, has_html, tagged_text
from .test_pairing import strip_comments
from conftest import TWIN_HOME

pytestmark = pytest.mark.slow

SLUG = "05_homework"
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


@pytest.fixture(scope="module", params=("en", "zh"))
def nb(request, executed):
    return executed(request.param, SLUG)


def test_banner_names_the_offline_profile(nb):
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert "profile offline" in "".join(o.get("text", "") for o in first_code.outputs)


def test_the_translator_and_the_forced_continuation(nb):
    assert tagged_text(nb, "check-translation").strip() == translation.LESSON_TRANSLATION
    printed = tagged_text(nb, "check-forced")
    probabilities = re.search(r"probability of each forced token: \[([^\]]*)\]", printed)
    assert probabilities and len(probabilities.group(1).split()) == 2  # George, Washington
    assert has_html(cell_by_tag(nb, "check-head-view"))


@pytest.mark.parametrize("qid", QUESTIONS)
def test_check_cells_ran_and_ask_for_an_answer(nb, qid):
    cell = cell_by_tag(nb, f"check-{qid}")
    assert strip_comments(cell.source) == (
        f'answer = None\nresults["{qid}"] = explainlab.homework.check("{qid}", answer)')
    assert tagged_text(nb, f"check-{qid}").splitlines() == [
        f"{qid}: no answer yet. Replace None with your answer and run the cell again.",
        f"{qid}：还没有作答。把 None 换成你的答案，再运行一次这个单元格。"]


def test_summary_counts_no_answers(nb):
    assert tagged_text(nb, "summary").startswith(f"0 of {len(QUESTIONS)} answers right:")


def test_task2_offline_uses_the_stated_example(nb):
    asked = tagged_text(nb, "task2-ask")
    assert "cannot explain a review" in asked and "(b) example:" in asked
    assert "model output" not in asked
    assert tagged_text(nb, "task2-parse").startswith("8 pairs parsed from the example:")
    compared = tagged_text(nb, "task2-compare")
    found = re.search(r"Spearman rank correlation \(example, (\d+) words\): (-?[\d.]+)", compared)
    assert found and int(found.group(1)) == 8 and -1 <= float(found.group(2)) <= 1
    plot = cell_by_tag(nb, "task2-plot")
    assert any("image/png" in o.get("data", {}) for o in plot.outputs)
    assert "my rank correlation:" in tagged_text(nb, "exercise-guesses")


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
