"""Lesson 02 (LLM generation attribution): its claims, ``explainlab_course.claims.llm_attribution``,
which ``lessons.execute`` checks for the site; here one test per claim and language on the
executed lessons (offline profile: the ``lm`` and ``lm-gpt2`` twins, CPU)."""

from __future__ import annotations

import pytest

from explainlab_course.claims import llm_attribution

from .conftest import check_claim, claim_cases

pytestmark = pytest.mark.slow

SLUG = llm_attribution.SLUG


@pytest.mark.parametrize(("lang", "claim"), claim_cases(SLUG))
def test_claim(executed, lang, claim):
    check_claim(executed, SLUG, lang, claim)
