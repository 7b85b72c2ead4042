"""The teacher's tools of lesson 05_homework (``explainlab_course.homework``): the solved
notebook, the answer key and grading, on the offline twins, in both languages.

Grading runs real submissions in fresh kernels: the solved notebook, the blank one, a solved
one with one answer cell put back blank, and a blank one that fakes its results."""

from __future__ import annotations

import csv

import nbformat
import pytest

from explainlab import homework as learner
from explainlab_course import homework
from explainlab_course.claims import strip_comments

from conftest import TWIN_HOME

QUESTIONS = learner.list_questions()


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setenv("EXPLAINLAB_PROFILE", "offline")
    monkeypatch.setenv("EXPLAINLAB_HOME", str(TWIN_HOME))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_solutions_fill_every_answer_cell_and_nothing_else(lang):
    blank, solved = homework.blank(lang), homework.solve(lang)
    cells = homework.answer_cells(blank)
    assert sorted(cells, key=QUESTIONS.index) == QUESTIONS  # one tagged cell per question
    assert len(blank.cells) == len(solved.cells)
    for index, (before, after) in enumerate(zip(blank.cells, solved.cells, strict=True)):
        if index not in cells.values():
            assert before.source == after.source
            continue
        qid = next(q for q, i in cells.items() if i == index)
        assert "answer = None" in before.source and "answer = None" not in after.source
        assert after.source.splitlines()[-1] == (
            f'results["{qid}"] = explainlab.homework.check("{qid}", answer)')
        assert "\nanswer = " in after.source or after.source.startswith("answer = ")


def test_solutions_are_the_same_code_in_both_languages():
    english, chinese = homework.solve("en"), homework.solve("zh")
    for en, zh in zip(english.cells, chinese.cells, strict=True):
        if en.cell_type == "code":
            assert strip_comments(en.source) == strip_comments(zh.source)


def _write(nb, path):
    nbformat.write(nb, path)
    return path


def _faker(lang: str):
    """The blank homework with a cell that fakes success: it redefines ``check``, fills
    ``results`` and prints what a right answer prints."""
    nb = homework.blank(lang)
    fake = nbformat.v4.new_code_cell(
        "import explainlab\n"
        "explainlab.homework.check = lambda question, answer, **_: print("
        "f'✓ {question}: right!') or True\n"
        f"results = {{q: True for q in {QUESTIONS!r}}}\n"
        "print('✓ q1: right!')")
    at = next(i for i, c in enumerate(nb.cells) if "results = {}" in c.source) + 1
    nb.cells.insert(at, fake)
    summary = next(i for i, c in enumerate(nb.cells) if "summary" in c.metadata.get("tags", []))
    nb.cells.insert(summary, nbformat.v4.new_code_cell(
        f"results.update({{q: True for q in {QUESTIONS!r}}})"))
    return nb


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_grades_the_solved_the_blank_the_half_blank_and_the_faker(offline, tmp_path, lang):
    solved = homework.solve(lang)
    half = homework.solve(lang)
    cells = homework.answer_cells(half)
    blanked = QUESTIONS[2]
    half.cells[cells[blanked]].source = homework.blank(lang).cells[cells[blanked]].source
    paths = [_write(solved, tmp_path / "solved.ipynb"),
             _write(homework.blank(lang), tmp_path / "blank.ipynb"),
             _write(half, tmp_path / "half.ipynb"),
             _write(_faker(lang), tmp_path / "faker.ipynb")]
    out = tmp_path / "grades.csv"
    rows = homework.grade(paths, profile="offline", out=out, progress=False)
    by_file = {row["file"]: row for row in rows}
    assert by_file["solved.ipynb"]["total"] == len(QUESTIONS) >= 12
    assert all(by_file["solved.ipynb"][q] == 1 for q in QUESTIONS)
    assert by_file["blank.ipynb"]["total"] == 0
    assert by_file["half.ipynb"]["total"] == len(QUESTIONS) - 1
    assert by_file["half.ipynb"][blanked] == 0
    assert by_file["faker.ipynb"]["total"] == 0
    assert all(row["errors"] == "" for row in rows)
    with open(out, encoding="utf-8") as handle:
        table = list(csv.reader(handle))
    assert table[0] == ["file", *QUESTIONS, "total", "errors"]
    assert [r[0] for r in table[1:]] == ["solved.ipynb", "blank.ipynb", "half.ipynb",
                                         "faker.ipynb"]
    assert table[1][len(QUESTIONS) + 1] == str(len(QUESTIONS))


@pytest.mark.slow
def test_a_submission_that_runs_too_long_or_is_no_notebook(offline, tmp_path):
    nb = nbformat.v4.new_notebook()
    answer = nbformat.v4.new_code_cell('answer = "cat"')
    answer.metadata["tags"] = ["answer-q7"]
    nb.cells = [answer, nbformat.v4.new_code_cell("import time\ntime.sleep(600)")]
    slow = _write(nb, tmp_path / "slow.ipynb")
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{ not json", encoding="utf-8")
    rows = homework.grade([slow, broken], profile="offline", timeout=15, progress=False)
    assert rows[0]["q7"] == 1 and rows[0]["total"] == 1  # captured before the time ran out
    assert "no answer cell tagged for q1" in rows[0]["errors"]
    assert "ran longer than the timeout" in rows[0]["errors"]
    assert rows[1]["total"] == 0 and rows[1]["errors"].startswith("not a readable notebook")


@pytest.mark.slow
def test_the_answer_key_holds_what_the_checker_accepts(offline):
    key = homework.answer_key("zh", profile="offline")
    assert [q["id"] for q in key["questions"]] == QUESTIONS
    assert key["lang"] == "zh" and key["profile"] == "offline"
    # On a CPU, the small GPT-2 (its twin offline); GPT-2 XL in 8 bits needs a CUDA GPU.
    assert key["models"]["lm-gpt2"] == "lm-gpt2: offline twin of openai-community/gpt2"
    for question in key["questions"]:
        assert learner.verdict(question["id"], question["answer"]).right
        assert question["question"] == learner.get_question(question["id"]).text["zh"]
    table = homework.key_table(key)
    assert table.count("\n| q") == len(QUESTIONS)
    assert "| q4 |" in table and "须完全一致" in table  # a rank is exact


def test_without_the_factory_the_command_says_how_to_get_it(monkeypatch, capsys):
    from explainlab import cli

    monkeypatch.setattr(cli, "entry_points", lambda group: [])
    assert cli.main(["homework"]) == 1
    error = capsys.readouterr().err
    assert error.startswith("explainlab: error: The homework's teacher tools")
    assert "pip install -e tools" in error


def test_the_command_writes_the_solved_notebook(tmp_path, capsys):
    from explainlab import cli

    out = tmp_path / "solved.ipynb"
    assert cli.main(["homework", "solutions", "--lang", "zh", "--out", str(out)]) == 0
    written = nbformat.read(out, as_version=4)
    assert homework.answer_cells(written) == homework.answer_cells(homework.solve("zh"))
    assert "answer = None" not in "".join(c.source for c in written.cells)
