"""Lesson 06 (Testing explanations): its claims, ``explainlab_course.claims.testing_explanations``,
which ``lessons.execute`` checks for the site; here one test per claim and language on the
executed lessons (offline profile: the ``sst2``, ``mt-zh-en``, ``vit``, ``bertviz`` and ``lm``
twins)."""

from __future__ import annotations

import pytest

from explainlab_course.claims import testing_explanations

from .conftest import check_claim, claim_cases

pytestmark = pytest.mark.slow

SLUG = testing_explanations.SLUG


@pytest.mark.parametrize(("lang", "claim"), claim_cases(SLUG))
def test_claim(executed, lang, claim):
    check_claim(executed, SLUG, lang, claim)
