"""Lesson 01 (MT attribution): its claims, ``explainlab_course.claims.mt_attribution``, which
``lessons.execute`` checks for the site; here one test per claim and language on the executed
lessons (offline profile: the ``mt-zh-en`` twin)."""

from __future__ import annotations

import pytest

from explainlab_course.claims import mt_attribution

from .conftest import check_claim, check_pair_claim, claim_cases, pair_cases

pytestmark = pytest.mark.slow

SLUG = mt_attribution.SLUG


@pytest.mark.parametrize(("lang", "claim"), claim_cases(SLUG))
def test_claim(executed, lang, claim):
    check_claim(executed, SLUG, lang, claim)


@pytest.mark.parametrize("claim", pair_cases(SLUG))
def test_both_languages(executed, claim):
    check_pair_claim(executed, SLUG, claim)
