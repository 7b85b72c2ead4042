"""Lesson fixtures: each lesson executed once per session (and cached by content across
sessions, see ``explainlab.lessons``), and helpers that read a cell's outputs by its tag.

In a lesson test::

    from .conftest import tagged_text

    def test_translation(executed):
        nb = executed("en", "01_mt_attribution")
        assert "I like machine learning" in tagged_text(nb, "check-translation")

A tag is set on the lesson cell with Jupytext: ``# %% tags=["check-translation"]``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import pytest

from explainlab import lessons

from conftest import TWIN_HOME

ROOT = Path(__file__).resolve().parents[2]
LESSONS = ROOT / "lessons"


def slugs(lang: str | None = None) -> list[str]:
    """Lesson slugs (``01_mt_attribution``, ...) found in one language, or in either."""
    return sorted({p.stem for p in lessons.lesson_paths(lang, root=LESSONS)})


@contextmanager
def _twin_home():
    """Run lessons against the shared twin (and lesson) cache, not the per-test home."""
    saved = os.environ.get("EXPLAINLAB_HOME")
    os.environ["EXPLAINLAB_HOME"] = str(TWIN_HOME)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("EXPLAINLAB_HOME", None)
        else:
            os.environ["EXPLAINLAB_HOME"] = saved


@pytest.fixture(scope="session")
def executed() -> Callable[[str, str], object]:
    """``executed(lang, slug)``: the lesson executed offline, as an ``nbformat.NotebookNode``.

    Memoised for the session; across sessions ``explainlab.lessons.execute`` returns the
    cached notebook while nothing that affects it has changed.
    """
    done: dict[tuple[str, str], object] = {}

    def run(lang: str, slug: str):
        if (lang, slug) not in done:
            with _twin_home():
                done[lang, slug] = lessons.execute(LESSONS / lang / f"{slug}.py",
                                                   profile="offline")
        return done[lang, slug]

    return run


def cells_with_tag(nb, tag: str) -> list:
    """Every cell carrying the Jupytext tag ``tag``."""
    return [c for c in nb.cells if tag in c.get("metadata", {}).get("tags", [])]


def cell_by_tag(nb, tag: str):
    """The one cell tagged ``tag``; fails the test, listing the tags there are, otherwise."""
    found = cells_with_tag(nb, tag)
    if len(found) != 1:
        tags = sorted({t for c in nb.cells for t in c.get("metadata", {}).get("tags", [])})
        pytest.fail(f"{len(found)} cells tagged {tag!r} (one expected); tags: {tags}")
    return found[0]


def text_outputs(cell, *, html: bool = True) -> str:
    """A cell's text outputs joined: stdout streams, ``text/plain`` and ``text/html``."""
    parts: list[str] = []
    streaming = False  # stdout may arrive in several chunks, cut anywhere: glue them back
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "stream" and output.get("name") == "stdout":
            text = output.get("text", "")
            if streaming:
                parts[-1] += text
            else:
                parts.append(text)
            streaming = True
        elif kind in ("execute_result", "display_data"):
            streaming = False
            data = output.get("data", {})
            for mime in ("text/plain", "text/html") if html else ("text/plain",):
                value = data.get(mime)
                if value is not None:
                    parts.append(value if isinstance(value, str) else "".join(value))
    return "\n".join(parts)


def tagged_text(nb, tag: str, *, html: bool = True) -> str:
    """``text_outputs`` of the one cell tagged ``tag``."""
    return text_outputs(cell_by_tag(nb, tag), html=html)


def has_html(cell) -> bool:
    """Whether the cell displayed something as ``text/html``."""
    return any("text/html" in o.get("data", {}) for o in cell.get("outputs", []))
