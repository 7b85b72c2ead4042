"""Lesson 04 (Attention with BertViz): its claims, ``explainlab_course.claims.bertviz_attention``,
which ``lessons.execute`` checks for the site; here one test per claim and language on the
executed lessons (offline profile: the ``bertviz``, ``bert-neuron`` and ``mt-zh-en`` twins)."""

from __future__ import annotations

import pytest

from explainlab_course.claims import bertviz_attention

from .conftest import check_claim, claim_cases

pytestmark = pytest.mark.slow

SLUG = bertviz_attention.SLUG


@pytest.mark.parametrize(("lang", "claim"), claim_cases(SLUG))
def test_claim(executed, lang, claim):
    check_claim(executed, SLUG, lang, claim)
