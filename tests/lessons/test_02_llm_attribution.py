"""Lesson 02 (LLM generation attribution): its key claims hold on the executed outputs of
both languages (offline profile: the ``lm`` and ``lm-gpt2`` twins, CPU)."""

from __future__ import annotations

import importlib.util
import re

import pytest
import torch

from .conftest import cell_by_tag, has_html, tagged_text

SLUG = "02_llm_attribution"
LANGS = ("en", "zh")


@pytest.fixture(scope="module", params=LANGS)
def nb(request, executed):
    return executed(request.param, SLUG)


def _number(text: str, label: str) -> float:
    match = re.search(rf"^{re.escape(label)}\s*=\s*(-?[0-9.]+)\s*$", text, re.MULTILINE)
    assert match, f"no line {label!r} = <number> in:\n{text}"
    return float(match.group(1))


def test_no_errors_and_no_stderr(nb):
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error", cell.source
            assert output.get("name") != "stderr", (cell.source, output.get("text"))


def test_generated_continuation_names_paris(nb):
    text = tagged_text(nb, "check-generation")
    line = next(li for li in text.splitlines() if li.startswith("'The capital of France is'"))
    assert "Paris" in line


def test_pad_setup_pads_on_the_left_with_eos(nb):
    assert "ValueError: Asking to pad" in tagged_text(nb, "pad-error")
    first = tagged_text(nb, "pad-setup").splitlines()[0]
    assert first.startswith("['<|endoftext|>'") and first.endswith("[0, 0, 0, 1, 1]")
    assert "padding side: left" in tagged_text(nb, "inseq-load")


def test_masked_batch_generation_is_right(nb):
    masked = next(li for li in tagged_text(nb, "pad-mask").splitlines()
                  if li.startswith("with mask"))
    assert "Paris" in masked


def test_show_renders_html(nb):
    for tag in ("check-show", "check-chinese", "attention", "contrast-show", "chat-show",
                "gpt2-show"):
        assert has_html(cell_by_tag(nb, tag)), tag


def _ranking(text: str) -> list[str]:
    """The tokens of the first ranking ``ranking()`` printed in ``text``, best first."""
    tokens = []
    for line in text.splitlines()[1:]:
        match = re.match(r"^\s+'(.+)'\s+[0-9.]+$", line)
        if not match:
            break
        tokens.append(match.group(1))
    return tokens


def test_saliency_ranks_the_country_high_for_paris(nb):
    text = tagged_text(nb, "check-top-token", html=False)
    assert text.startswith("generated token: 'Paris'")
    ranked = _ranking(text)
    assert sorted(ranked) == sorted(["The", "capital", "of", "France", "is"])
    # the lesson: the country competes only with "capital" and the last prompt token
    assert ranked.index("France") < 3
    assert ranked.index("France") < ranked.index("The")
    assert ranked.index("France") < ranked.index("of")
    assert f"highest saliency: '{ranked[0]}'" in text


def test_chinese_tokens_are_characters_and_the_country_ranks_first(nb):
    text = tagged_text(nb, "check-chinese", html=False)
    cleaned = next(li for li in text.splitlines() if li.startswith("cleaned tokens:"))
    for word in ("法国", "首都", "巴黎"):
        assert f"'{word}'" in cleaned
    raw = next(li for li in text.splitlines() if li.startswith("raw tokens:"))
    assert "法国" not in raw  # byte-level: the raw tokens are not characters
    assert "generated token: '巴黎'" in text
    # The country outranks every prompt word but the last one, whose score the lesson
    # explains as the recency effect of gradients (the next token is predicted there).
    ranked = re.findall(r"^\s*'(.+?)'\s+-?\d+\.\d+$", text, flags=re.MULTILINE)
    assert [word for word in ranked if word != "是"][0] == "法国", ranked


def test_contrast_prefers_paris_over_london(nb):
    text = tagged_text(nb, "check-contrast", html=False)
    p_paris, p_london = _number(text, "P(Paris)"), _number(text, "P(London)")
    diff = _number(text, "contrast_prob_diff")
    assert diff > 0
    assert diff == pytest.approx(p_paris - p_london, abs=2e-4)
    assert "Paris preferred over London: True" in text


def test_log_probability_contrast_is_positive(nb):
    text = tagged_text(nb, "contrast-show", html=False)
    assert _number(text, "log P(Paris) - log P(London)") > 0
    assert has_html(cell_by_tag(nb, "contrast-show"))


def test_chat_template_tokens_enter_the_attribution(nb):
    template = tagged_text(nb, "chat-template", html=False)
    assert "<|im_start|>assistant\\n" in template
    share_text = tagged_text(nb, "chat-share", html=False)
    share = _number(share_text.replace(":", " ="), "share of the scores on template tokens")
    assert 0 < share < 1


def test_eight_bit_only_with_gpu_and_bitsandbytes(nb):
    text = tagged_text(nb, "check-8bit", html=False)
    if torch.cuda.is_available() and importlib.util.find_spec("bitsandbytes") is not None:
        assert "in 8-bit with bitsandbytes" in text
    else:
        assert "8-bit loading skipped: it needs a CUDA device" in text
        assert "Loaded the small GPT-2 in full precision instead" in text
