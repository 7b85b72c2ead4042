"""Every lesson: English and Chinese have the same cells and code, each ``.py`` has its paired
``.ipynb`` (same cells, no outputs), one H1, and it executes offline without errors or stderr."""

from __future__ import annotations

import re

import jupytext
import nbformat
import pytest

from explainlab_course.claims import strip_comments

from .conftest import LESSONS, slugs

SLUGS = slugs()
PAIRS = [(lang, slug) for slug in SLUGS for lang in ("en", "zh")]
_FENCE = re.compile(r"^\s*(```|~~~)")


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def test_lessons_exist_in_both_languages():
    assert SLUGS, "no lessons found"
    assert slugs("en") == slugs("zh")


def test_strip_comments():
    code = 'x = "#not a comment"  # a comment\n# only a comment\n\ny = 2\n'
    assert strip_comments(code) == 'x = "#not a comment"\n\ny = 2'


@pytest.mark.parametrize("slug", SLUGS)
def test_same_cells_and_code_in_both_languages(slug):
    en = jupytext.read(LESSONS / "en" / f"{slug}.py")
    zh = jupytext.read(LESSONS / "zh" / f"{slug}.py")
    assert [c.cell_type for c in en.cells] == [c.cell_type for c in zh.cells]
    for index, (a, b) in enumerate(zip(en.cells, zh.cells, strict=True), start=1):
        assert _tags(a) == _tags(b), f"cell {index}: tags differ"
        if a.cell_type == "code":
            assert strip_comments(a.source) == strip_comments(b.source), (
                f"cell {index}: code differs between en and zh")


@pytest.mark.parametrize(("lang", "slug"), PAIRS)
def test_paired_notebook_has_the_same_cells_and_no_outputs(lang, slug):
    source = jupytext.read(LESSONS / lang / f"{slug}.py")
    paired = LESSONS / lang / f"{slug}.ipynb"
    assert paired.is_file(), f"missing {paired}: run jupytext --sync on the .py file"
    nb = nbformat.read(paired, as_version=4)
    assert [(c.cell_type, c.source) for c in nb.cells] == [
        (c.cell_type, c.source) for c in source.cells], "out of sync: run jupytext --sync"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, "commit without outputs"


@pytest.mark.parametrize(("lang", "slug"), PAIRS)
def test_exactly_one_h1_in_the_first_markdown_cell(lang, slug):
    nb = jupytext.read(LESSONS / lang / f"{slug}.py")
    h1 = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        fenced = False
        for line in cell.source.splitlines():
            if _FENCE.match(line):
                fenced = not fenced
            elif not fenced and re.match(r"^# \S", line):
                h1.append(index)
    first_markdown = next(i for i, c in enumerate(nb.cells) if c.cell_type == "markdown")
    assert h1 == [first_markdown]


@pytest.mark.slow
@pytest.mark.parametrize(("lang", "slug"), PAIRS)
def test_executes_without_errors_or_stderr(executed, lang, slug):
    nb = executed(lang, slug)
    for index, cell in enumerate(nb.cells, start=1):
        for output in cell.get("outputs", []):
            assert output.output_type != "error", f"cell {index}: {output.get('evalue')}"
            assert not (output.output_type == "stream" and output.name == "stderr"), (
                f"cell {index} wrote to stderr:\n{output.text}")
