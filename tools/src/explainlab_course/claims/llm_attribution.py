"""Claims of lesson 02_llm_attribution, on the offline profile (the ``lm`` and ``lm-gpt2``
twins)."""

from __future__ import annotations

import importlib.util
import re

from . import cell_by_tag, claim, close, excerpt, expect, fail, has_html, tagged_text

SLUG = "02_llm_attribution"
SHOWN = ("check-show", "check-chinese", "attention", "contrast-show", "chat-show", "gpt2-show")
"""Cells that draw an Inseq heatmap."""


def number(text: str, label: str) -> float:
    """The number on the line ``<label> = <number>``."""
    match = re.search(rf"^{re.escape(label)}\s*=\s*(-?[0-9.]+)\s*$", text, re.MULTILINE)
    expect(match, f"a line {label!r} = <number>", text)
    try:
        return float(match.group(1))
    except ValueError:
        fail(f"a number after {label!r} =, not {match.group(1)!r}", text)


def line_starting(text: str, prefix: str) -> str:
    """The first line of ``text`` that starts with ``prefix``."""
    line = next((li for li in text.splitlines() if li.startswith(prefix)), None)
    expect(line is not None, f"a line starting {prefix!r}", text)
    return line


def ranking(text: str) -> list[str]:
    """The tokens of the first ranking ``ranking()`` printed in ``text``, best first."""
    tokens = []
    for line in text.splitlines()[1:]:
        match = re.match(r"^\s+'(.+)'\s+[0-9.]+$", line)
        if not match:
            break
        tokens.append(match.group(1))
    return tokens


@claim(SLUG)
def no_errors_and_no_stderr(nb):
    """No cell shows an error or writes to stderr."""
    for index, cell in enumerate(nb.cells, start=1):
        for output in cell.get("outputs", []):
            expect(output.get("output_type") != "error",
                   f"no error in cell {index}; it raised {output.get('ename')}: "
                   f"{output.get('evalue')}", cell.source)
            expect(output.get("name") != "stderr",
                   f"nothing on stderr from cell {index}:\n{excerpt(output.get('text', ''))}\n"
                   "the cell", cell.source)


@claim(SLUG)
def generated_continuation_names_paris(nb):
    """The twin continues "The capital of France is" with Paris."""
    text = tagged_text(nb, "check-generation")
    line = line_starting(text, "'The capital of France is'")
    expect("Paris" in line, "'Paris' in the continuation of 'The capital of France is'", text)


@claim(SLUG)
def pad_setup_pads_on_the_left_with_eos(nb):
    """GPT-2 refuses to pad without a pad token; with EOS as pad it pads on the left, and
    Inseq's tokenizer pads on the left too."""
    text = tagged_text(nb, "pad-error")
    expect("ValueError: Asking to pad" in text, "'ValueError: Asking to pad' from GPT-2", text)
    text = tagged_text(nb, "pad-setup")
    first = text.splitlines()[0] if text.splitlines() else ""
    expect(first.startswith("['<|endoftext|>'") and first.endswith("[0, 0, 0, 1, 1]"),
           "a first line starting \"['<|endoftext|>'\" (left padding with EOS) and ending "
           "'[0, 0, 0, 1, 1]' (its attention mask)", text)
    text = tagged_text(nb, "inseq-load")
    expect("padding side: left" in text, "'padding side: left' for Inseq's tokenizer", text)


@claim(SLUG)
def masked_batch_generation_is_right(nb):
    """With the attention mask, the padded batch still completes the France prompt with
    Paris."""
    text = tagged_text(nb, "pad-mask")
    masked = line_starting(text, "with mask")
    expect("Paris" in masked, "'Paris' on the 'with mask' line", text)


@claim(SLUG)
def show_renders_html(nb):
    """Every show() cell displays an HTML heatmap."""
    missing = [tag for tag in SHOWN if not has_html(cell_by_tag(nb, tag))]
    expect(not missing, f"HTML from the cells tagged {missing} (each calls show())")


@claim(SLUG)
def saliency_ranks_the_country_high_for_paris(nb):
    """For the generated 'Paris', saliency ranks France among the top three prompt tokens,
    above 'The' and 'of', and the lesson names the highest one."""
    text = tagged_text(nb, "check-top-token", html=False)
    expect(text.startswith("generated token: 'Paris'"),
           "a first line starting \"generated token: 'Paris'\"", text)
    ranked = ranking(text)
    words = ["The", "capital", "of", "France", "is"]
    expect(sorted(ranked) == sorted(words), f"a ranking of the prompt tokens {words}, not "
           f"{ranked}", text)
    # the lesson: the country competes only with "capital" and the last prompt token
    france = ranked.index("France")
    expect(france < 3, f"France among the top three, not at place {france + 1}", text)
    expect(france < ranked.index("The"), "France above 'The'", text)
    expect(france < ranked.index("of"), "France above 'of'", text)
    expect(f"highest saliency: '{ranked[0]}'" in text,
           f"the line \"highest saliency: '{ranked[0]}'\"", text)


@claim(SLUG)
def chinese_tokens_are_characters_and_the_country_ranks_first(nb):
    """The Chinese prompt's cleaned tokens are words (法国, 首都, 巴黎), its raw byte-level
    tokens are not; 巴黎 is generated and 法国 outranks every prompt word but the last."""
    text = tagged_text(nb, "check-chinese", html=False)
    cleaned = line_starting(text, "cleaned tokens:")
    for word in ("法国", "首都", "巴黎"):
        expect(f"'{word}'" in cleaned, f"'{word}' among the cleaned tokens", text)
    raw = line_starting(text, "raw tokens:")
    expect("法国" not in raw, "raw byte-level tokens that are not characters (no 法国)", text)
    expect("generated token: '巴黎'" in text, "\"generated token: '巴黎'\"", text)
    # The country outranks every prompt word but the last one, whose score the lesson
    # explains as the recency effect of gradients (the next token is predicted there).
    ranked = re.findall(r"^\s*'(.+?)'\s+-?\d+\.\d+$", text, flags=re.MULTILINE)
    others = [word for word in ranked if word != "是"]
    expect(others[:1] == ["法国"], f"法国 first in the ranking apart from 是, not {ranked}",
           text)


@claim(SLUG)
def contrast_prefers_paris_over_london(nb):
    """Contrastive attribution: contrast_prob_diff = P(Paris) - P(London) > 0, and the lesson
    says Paris is preferred."""
    text = tagged_text(nb, "check-contrast", html=False)
    p_paris, p_london = number(text, "P(Paris)"), number(text, "P(London)")
    diff = number(text, "contrast_prob_diff")
    expect(diff > 0, f"contrast_prob_diff > 0, not {diff}", text)
    expect(close(diff, p_paris - p_london, abs=2e-4),
           f"contrast_prob_diff = P(Paris) - P(London) = {p_paris - p_london} within 2e-4, "
           f"not {diff}", text)
    expect("Paris preferred over London: True" in text,
           "'Paris preferred over London: True'", text)


@claim(SLUG)
def log_probability_contrast_is_positive(nb):
    """log P(Paris) - log P(London) is positive, and its heatmap is drawn."""
    text = tagged_text(nb, "contrast-show", html=False)
    value = number(text, "log P(Paris) - log P(London)")
    expect(value > 0, f"log P(Paris) - log P(London) > 0, not {value}", text)
    expect(has_html(cell_by_tag(nb, "contrast-show")), "an HTML heatmap", text)


@claim(SLUG)
def chat_template_tokens_enter_the_attribution(nb):
    """The chat template adds the assistant turn's tokens, and they get a share of the scores
    strictly between 0 and 1."""
    text = tagged_text(nb, "chat-template", html=False)
    expect("<|im_start|>assistant\\n" in text, "'<|im_start|>assistant\\n' in the template",
           text)
    text = tagged_text(nb, "chat-share", html=False)
    share = number(text.replace(":", " ="), "share of the scores on template tokens")
    expect(0 < share < 1, f"a share strictly between 0 and 1, not {share}", text)


@claim(SLUG)
def eight_bit_only_with_gpu_and_bitsandbytes(nb):
    """GPT-2 XL is loaded in 8-bit where CUDA and bitsandbytes are there; elsewhere the lesson
    says why not and loads the small GPT-2 in full precision."""
    import torch

    text = tagged_text(nb, "check-8bit", html=False)
    if torch.cuda.is_available() and importlib.util.find_spec("bitsandbytes") is not None:
        expect("in 8-bit with bitsandbytes" in text,
               "'in 8-bit with bitsandbytes' (this machine has CUDA and bitsandbytes)", text)
    else:
        expect("8-bit loading skipped: it needs a CUDA device" in text,
               "'8-bit loading skipped: it needs a CUDA device' (no CUDA or no bitsandbytes "
               "here)", text)
        expect("Loaded the small GPT-2 in full precision instead" in text,
               "'Loaded the small GPT-2 in full precision instead'", text)
