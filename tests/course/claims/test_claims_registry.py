"""claims: the registry, the helpers that read outputs, ``close`` against ``pytest.approx``,
the claim of every lesson, and the errors that name lesson and claim. Notebooks made here
(nbformat), no lesson executed; the real ones are in tests/lessons."""

from __future__ import annotations

import ast
import base64
import os
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from explainlab import constants, errors
from explainlab_course import claims, lessons

ROOT = Path(__file__).resolve().parents[3]
SRC = ROOT / "tools" / "src" / "explainlab_course" / "claims"


def notebook(*outputs, profile: str = "offline", tags=("where",)):
    """A one-code-cell notebook whose cell (tagged ``tags``) has ``outputs``."""
    nb = new_notebook(cells=[new_markdown_cell("# A lesson"),
                             new_code_cell("print(...)", outputs=list(outputs),
                                           metadata={"tags": list(tags)})])
    nb.metadata["explainlab"] = {"profile": profile}
    return nb


def stdout(text: str):
    return new_output("stream", name="stdout", text=text)


def test_every_course_lesson_has_its_claims():
    course = sorted({p.stem for p in lessons.lesson_paths()})
    assert claims.list_lessons() == course
    for slug in course:
        own = [c for c in claims.list_claims(slug) if c.slug == slug]
        assert own, f"{slug} has no claims"
        for claim in own + claims.list_claims(slug, paired=True):
            assert claim.summary.endswith(".") and "\n" not in claim.summary, claim.name


def test_claim_modules_do_not_use_pytest():
    for path in SRC.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                    if isinstance(node, ast.Import) for alias in node.names}
        imported |= {(node.module or "").split(".")[0] for node in ast.walk(tree)
                     if isinstance(node, ast.ImportFrom)}
        assert "pytest" not in imported, path.name


def test_every_lesson_claims_come_last_and_apply_on_every_profile():
    slug = "01_mt_attribution"
    offline = claims.list_claims(slug, profile="offline")
    assert offline[-1].name == "no_machine_local_paths" and offline[-1].slug == "*"
    hub = claims.list_claims(slug, profile="hub")  # the lessons' claims describe the twins
    assert [c.name for c in hub] == ["no_machine_local_paths"]
    assert [c.name for c in claims.list_claims("99_unknown")] == ["no_machine_local_paths"]
    assert [c.name for c in claims.list_claims(slug, paired=True)] == [
        "both_languages_print_the_same"]


def test_unknown_claim_lists_the_lesson_claims():
    with pytest.raises(errors.UnknownClaimError, match="translations_of_both_scripts") as caught:
        claims.get_claim("01_mt_attribution", "nope")
    assert isinstance(caught.value, KeyError)
    assert claims.get_claim("03_classification_explainers", "no_machine_local_paths").slug == "*"


def test_a_claim_needs_a_docstring():
    with pytest.raises(ValueError, match="needs a docstring"):
        claims.claim("99_test")(lambda nb: None)


def test_registered_claims_with_and_without_language(monkeypatch):
    seen = []
    monkeypatch.setattr(claims, "_CLAIMS", {})
    monkeypatch.setattr(claims, "CLAIM_MODULES", ())

    @claims.claim("99_test")
    def prints_hello(nb):
        """It prints hello."""
        claims.expect("hello" in claims.tagged_text(nb, "where"), "'hello'",
                      claims.tagged_text(nb, "where"))

    @claims.claim("99_test")
    def knows_its_language(nb, lang):
        """It sees its language."""
        seen.append(lang)

    @claims.paired_claim("99_test")
    def same(en, zh):
        """Both print the same."""
        claims.both_languages_print_the_same(en, zh)

    good, bad = notebook(stdout("hello\n")), notebook(stdout("bye\n"))
    assert claims.check(good, "en", "99_test") == [] and seen == ["en"]
    (failure,) = claims.check(bad, "zh", "99_test")
    assert failure.claim.name == "prints_hello" and failure.lang == "zh"
    assert failure.message == "expected 'hello'; the notebook printed:\n    | bye"
    assert str(failure).startswith("prints_hello (It prints hello.): expected 'hello'")
    assert claims.check(bad, None, "99_test") == []  # not in a language folder: not this lesson
    assert claims.check(bad, "en", "99_test", profile="hub") == []  # written for offline
    (failure,) = claims.check_pair(good, bad, "99_test")
    assert failure.claim.name == "same" and "cell 2 to print the same" in failure.message
    assert "| hello" in failure.message and "| bye" in failure.message


def test_a_claim_that_cannot_read_the_outputs_fails(monkeypatch):
    monkeypatch.setattr(claims, "_CLAIMS", {})
    monkeypatch.setattr(claims, "CLAIM_MODULES", ())

    @claims.claim("99_test")
    def reads_a_table(nb):
        """It reads a table."""
        int("not a number")

    (failure,) = claims.check(notebook(), "en", "99_test")
    assert failure.message.startswith("could not be checked: ValueError: invalid literal")


def test_reading_outputs_by_tag():
    nb = notebook(stdout("a"), stdout("b\n"),
                  new_output("display_data", data={"text/plain": "P", "text/html": "<b>H</b>"}),
                  stdout("c\n"), tags=("check-x",))
    assert claims.tagged_text(nb, "check-x") == "ab\n\nP\n<b>H</b>\nc\n"
    assert claims.tagged_text(nb, "check-x", html=False) == "ab\n\nP\nc\n"
    assert claims.has_html(claims.cell_by_tag(nb, "check-x"))
    assert claims.html_outputs(nb.cells[1]) == ["<b>H</b>"]
    with pytest.raises(AssertionError, match=r"0 cells tagged 'nope' \(one expected\); "
                       r"tags: \['check-x'\]"):
        claims.cell_by_tag(nb, "nope")


def test_strip_comments():
    code = 'x = "#not a comment"  # a comment\n# only a comment\n\ny = 2\n'
    assert claims.strip_comments(code) == 'x = "#not a comment"\n\ny = 2'


@pytest.mark.parametrize(("actual", "expected", "options"), [
    (1.0, 1.0, {}), (1.0 + 1e-7, 1.0, {}), (1.0 + 1e-5, 1.0, {}), (1e-13, 0.0, {}),
    (1e-11, 0.0, {}), (0.30004, 0.3, {"abs": 1e-4}), (0.3002, 0.3, {"abs": 1e-4}),
    (100.5, 100.0, {"abs": 0.1}), (100.5, 100.0, {"rel": 0.01}),
    (100.5, 100.0, {"rel": 0.001, "abs": 1.0}), (100.5, 100.0, {"rel": 0.001, "abs": 0.1}),
    ([0.0, 0.2, 0.4], [0, 0.2, 0.4], {}), ([0.0, 0.2], [0, 0.2, 0.4], {}),
    ([0.0, 0.2000001], [0, 0.2], {}), (float("nan"), 1.0, {}), (float("inf"), float("inf"), {}),
])
def test_close_decides_as_pytest_approx(actual, expected, options):
    assert claims.close(actual, expected, **options) == (actual == pytest.approx(expected,
                                                                                 **options))


def test_expect_and_excerpt():
    claims.expect(True, "never shown")
    with pytest.raises(AssertionError, match=r"^expected x$"):
        claims.expect(False, "x")
    with pytest.raises(AssertionError) as caught:
        claims.expect(0, "y", "z" * 2000)
    assert "... (500 more characters)" in str(caught.value)


# --------------------------------------------------------------------------- every lesson


def test_no_machine_local_paths_finds_each_folder(monkeypatch, tmp_path):
    home = tmp_path / "explainlab-home"
    monkeypatch.setenv("EXPLAINLAB_HOME", str(home))
    claim = claims.get_claim("*", "no_machine_local_paths")
    shown = {
        "the twins' cache": f"{constants.HOME / 'twins' / 'mt-zh-en-0123456789ab'}\n",
        "EXPLAINLAB_HOME": f"downloads in {home}/downloads\n",
        "the course repository": f"{lessons.LESSONS_DIR}/en\n",
        "the user's home": f"{os.path.expanduser('~')}/notes.txt\n",
        "the lesson's temporary working directory": "/var/tmp/explainlab-lesson-x1y2/a.png\n",
    }
    for what, text in shown.items():
        with pytest.raises(AssertionError, match=f"cell 2 shows {what} ") as caught:
            claim(notebook(stdout("fine\n"), stdout(text)))
        assert text.strip() in str(caught.value)
    error = new_output("error", ename="OSError", evalue=f"{home}/x is missing", traceback=[])
    with pytest.raises(AssertionError, match="EXPLAINLAB_HOME"):
        claim(notebook(error))
    html = new_output("display_data", data={"text/html": f"<p>{home}</p>"})
    with pytest.raises(AssertionError, match="EXPLAINLAB_HOME"):
        claim(notebook(html))


def test_no_machine_local_paths_passes_roles_and_images(monkeypatch, tmp_path):
    monkeypatch.setenv("EXPLAINLAB_HOME", str(tmp_path / "home"))
    home = os.path.expanduser("~").encode()
    png = base64.b64encode(b"\x89PNG" + home * 50).decode()  # base64 is not a path on a page
    nb = notebook(stdout("model: mt-zh-en: offline twin of Helsinki-NLP/opus-mt-zh-en\n"),
                  new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"}),
                  new_output("display_data",
                             data={"text/html": f'<img src="data:image/png;base64,{png}">'}))
    claims.get_claim("*", "no_machine_local_paths")(nb)
    assert claims.check(nb, "en", "99_unknown", profile="hub") == []


def test_check_claims_names_lesson_language_and_claim(monkeypatch, tmp_path):
    monkeypatch.setenv("EXPLAINLAB_HOME", str(tmp_path / "home"))
    path = tmp_path / "lessons" / "zh" / "07_new.py"
    nb = notebook(stdout(f"{tmp_path / 'home'}\n"), profile="hub")
    with pytest.raises(errors.LessonClaimError) as caught:
        lessons.check_claims(nb, path)
    message = str(caught.value)
    assert isinstance(caught.value, AssertionError)
    assert message.startswith(f"Lesson {path} (language zh, profile hub): 1 of 1 claims "
                              "failed; the site will not publish it:\n  - no_machine_local_paths:"
                              " No output shows a folder")
    assert "cell 2 shows EXPLAINLAB_HOME" in message
    variant = tmp_path / "en-solved" / "05_homework.py"  # not a course lesson: every lesson's
    with pytest.raises(errors.LessonClaimError, match="no language folder"):
        lessons.check_claims(nb, variant)
    lessons.check_claims(notebook(stdout("fine\n")), variant)
    course = lessons.LESSONS_DIR / "en" / "07_new.py"
    with pytest.raises(errors.LessonClaimError, match=r"^Lesson lessons/en/07_new\.py "):
        lessons.check_claims(nb, course)


def test_lesson_id():
    assert lessons.lesson_id("lessons/zh/03_x.py") == ("zh", "03_x")
    assert lessons.lesson_id("/tmp/en-solved/05_homework.py") == (None, "05_homework")


def test_notebook_from_disk_reads_like_in_memory(tmp_path):
    nb = notebook(stdout("line one\nline two\n"))
    nbformat.write(nb, tmp_path / "n.ipynb")
    again = nbformat.read(tmp_path / "n.ipynb", as_version=4)
    assert claims.tagged_text(again, "where") == claims.tagged_text(nb, "where")
