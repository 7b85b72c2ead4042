"""Lesson fixtures: each lesson executed once per session (and cached by content across
sessions, see ``explainlab_course.lessons``), and the parameters that turn a lesson's claims
(``explainlab_course.claims``) into one test per claim and language.

A lesson's claims live in the package, where ``lessons.execute`` checks them for the site;
its test module runs the same functions::

    @pytest.mark.parametrize(("lang", "claim"), claim_cases(SLUG))
    def test_claim(executed, lang, claim):
        check_claim(executed, SLUG, lang, claim)

The helpers that read a cell's outputs by its tag (``cell_by_tag``, ``tagged_text``, ...)
are in ``explainlab_course.claims`` too.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import pytest

from explainlab_course import claims, lessons

from conftest import TWIN_HOME

ROOT = Path(__file__).resolve().parents[2]
LESSONS = ROOT / "lessons"
LANGS = lessons.LANGS


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

    Memoised for the session; across sessions ``explainlab_course.lessons.execute`` returns the
    cached notebook while nothing that affects it has changed. Its claims are not checked
    here: each is a test of its own (``claim_cases``).
    """
    done: dict[tuple[str, str], object] = {}

    def run(lang: str, slug: str):
        if (lang, slug) not in done:
            with _twin_home():
                done[lang, slug] = lessons.execute(LESSONS / lang / f"{slug}.py",
                                                   profile="offline", check=False)
        return done[lang, slug]

    return run


def claim_cases(slug: str) -> list:
    """``(lang, claim)`` parameters, one per language and claim of lesson ``slug`` on the
    offline profile (its own claims, then every lesson's), with ids like ``en-translation``."""
    return [pytest.param(lang, c, id=f"{lang}-{c.name}")
            for c in claims.list_claims(slug, profile="offline") for lang in LANGS]


def pair_cases(slug: str) -> list:
    """One parameter per claim comparing the two languages of lesson ``slug``."""
    return [pytest.param(c, id=c.name)
            for c in claims.list_claims(slug, paired=True, profile="offline")]


def check_claim(executed, slug: str, lang: str, claim: claims.Claim) -> None:
    """Run one claim on the executed lesson, as ``lessons.execute`` does (claims that read
    ``EXPLAINLAB_HOME`` see the home the lesson ran with)."""
    nb = executed(lang, slug)
    with _twin_home():
        claim(nb, lang=lang)


def check_pair_claim(executed, slug: str, claim: claims.Claim) -> None:
    """Run one claim comparing the English and the Chinese executed lesson."""
    en, zh = executed("en", slug), executed("zh", slug)
    with _twin_home():
        claim(en, zh)
