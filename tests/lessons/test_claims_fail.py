"""The claim check can fail: a real executed lesson with one output altered is refused by
``lessons.execute`` (from the cache, as the site build reads it), naming the lesson and the
claim; two languages that print differently are refused by the claims comparing them."""

from __future__ import annotations

import copy

import nbformat
import pytest

from explainlab import errors
from explainlab_course import claims, lessons
from explainlab_course.claims import bertviz_attention, cell_by_tag, mt_attribution

from .conftest import LESSONS, _twin_home

pytestmark = pytest.mark.slow


def _stdout(cell) -> dict:
    return next(o for o in cell.outputs
                if o.get("output_type") == "stream" and o.get("name") == "stdout")


def test_an_altered_output_is_refused_from_the_cache(executed, monkeypatch):
    slug, tag = bertviz_attention.SLUG, "translation"
    claim = claims.get_claim(slug, "translation")
    real = executed("en", slug)
    with _twin_home():
        claim(real, lang="en")  # the real output holds the claim
    altered = copy.deepcopy(real)
    output = _stdout(cell_by_tag(altered, tag))
    output["text"] = output["text"].replace("machine learning", "cats")

    # The altered copy is what this (per-test) EXPLAINLAB_HOME has cached for the lesson.
    monkeypatch.setattr(lessons, "package_digest", lambda: "p" * 64)
    path = LESSONS / "en" / f"{slug}.py"
    cached = lessons.cache_path(path, lessons.cache_key(path, profile="offline"))
    cached.parent.mkdir(parents=True)
    nbformat.write(altered, cached)

    def no_kernel(*args, **kwargs):
        raise AssertionError("a cached lesson must not be executed again")

    monkeypatch.setattr(lessons, "run_lesson", no_kernel)
    with pytest.raises(errors.LessonClaimError) as caught:
        lessons.execute(path)
    message = str(caught.value)
    assert message.startswith(f"Lesson lessons/en/{slug}.py (language en, profile offline): ")
    assert f"  - translation: {claim.summary}\n" in message
    assert "expected 'translation: I like machine learning and artificial intelligence.'" \
        in message
    assert "translation: I like cats and artificial intelligence." in message  # as printed
    assert cached.is_file()  # still cached: the claim is checked again next time


def test_languages_that_print_differently_are_refused(executed):
    slug = mt_attribution.SLUG
    en, zh = executed("en", slug), copy.deepcopy(executed("zh", slug))
    output = _stdout(cell_by_tag(zh, "check-translation"))
    output["text"] = output["text"].replace("I like", "I love", 1)
    with pytest.raises(errors.LessonClaimError) as caught:
        lessons.check_pair_claims(en, zh, slug)
    message = str(caught.value)
    assert message.startswith(f"Lessons lessons/en/{slug}.py and lessons/zh/{slug}.py "
                              "(languages en and zh compared, profile offline): 1 of 1 claims")
    assert "  - both_languages_print_the_same: The English and the Chinese lesson" in message
    index = zh.cells.index(cell_by_tag(zh, "check-translation")) + 1
    assert f"expected cell {index} to print the same in both languages" in message
    assert "I love machine learning" in message
