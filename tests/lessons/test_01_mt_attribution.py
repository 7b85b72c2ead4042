"""Lesson 01 (MT attribution): its key claims, checked on the executed English and Chinese
lessons (offline profile: the ``mt-zh-en`` twin)."""

from __future__ import annotations

import ast

import pytest

from explainlab import clean_tokens
from explainlab.zoo import translation

from .conftest import cell_by_tag, has_html, tagged_text, text_outputs

pytestmark = pytest.mark.slow

SLUG = "01_mt_attribution"
METHODS = ("saliency", "attention", "integrated_gradients", "input_x_gradient")


@pytest.fixture(scope="module", params=("en", "zh"))
def nb(request, executed):
    return executed(request.param, SLUG)


def rows(printed: str) -> dict[str, list[str]]:
    """A DataFrame printed with ``to_string()``: first cell of each row -> the other cells."""
    lines = [line.split() for line in printed.strip().splitlines()[1:]]
    return {line[0]: line[1:] for line in lines}


def test_banner_names_the_offline_profile(nb):
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert "profile offline" in "".join(o.get("text", "") for o in first_code.outputs)


def test_translations_of_both_scripts(nb):
    printed = tagged_text(nb, "check-translation").splitlines()
    simplified, traditional = translation.LESSON_SENTENCES
    assert printed == [f"{simplified} -> {translation.LESSON_TRANSLATION}",
                       f"{traditional} -> {translation.LESSON_TRANSLATION}"]


def test_machine_comes_from_jiqi_and_every_word_from_its_gold_source(nb):
    top = rows(tagged_text(nb, "check-top"))
    assert top["machine"][0] == "机器"
    for source, target in translation.GOLD_ALIGNMENT:  # the twin's card: saliency 8 of 8
        assert top[clean_tokens([target])[0]][0] == clean_tokens([source])[0], target
    probabilities = [float(values[1]) for values in top.values()]
    assert all(0 < p <= 1 for p in probabilities) and len(probabilities) == 9


def test_show_renders_html_heatmaps(nb):
    cell = cell_by_tag(nb, "check-heatmap")
    assert has_html(cell)
    html = [o.data["text/html"] for o in cell.outputs if "text/html" in o.get("data", {})]
    assert len(html) == 2  # one heatmap per input sentence
    assert "机器" in html[0] and "機器" in html[1] and "machine" in html[0]
    assert "▁" not in html[0]  # cleaned tokens


def test_heatmap_cells_are_coloured(nb):
    html = next(o.data["text/html"] for o in cell_by_tag(nb, "check-heatmap").outputs
                if "text/html" in o.get("data", {}))
    assert "background:rgba(" in html and "np.float" not in html


def test_attention_refuses_step_scores(nb):
    printed = tagged_text(nb, "check-attention-refusal")
    assert printed.startswith("Inseq refuses: Step scores are not supported for final step")


def test_all_methods_compared_and_traditional_follows_the_words(nb):
    tops = rows(tagged_text(nb, "check-methods"))
    assert len(tops["machine"]) == len(METHODS)
    assert tops["machine"][0] == "机器"  # saliency
    scripts = rows(tagged_text(nb, "check-traditional"))
    assert scripts["machine"] == ["机器", "機器"]
    assert scripts["intelligence"] == ["智能", "智慧"]


def test_gold_alignment_on_the_model_tokens(nb):
    printed = ast.literal_eval(tagged_text(nb, "check-gold"))
    expected = [tuple(clean_tokens([s, t])) for s, t in translation.GOLD_ALIGNMENT]
    assert printed == expected  # the lesson's word-level gold = the twin's piece-level gold


def test_aer_table_for_every_method(nb):
    table = rows(tagged_text(nb, "check-aer"))
    assert set(table) == set(METHODS)
    for method in METHODS:
        values = [float(v) for v in table[method]]
        assert len(values) == 2 and all(0 <= v <= 1 for v in values), method
    assert table["saliency"] == ["0.000", "0.000"]  # saliency recovers the twin's alignment


def test_saturation_least_confident_step_has_the_largest_gradient(nb):
    steps = rows(tagged_text(nb, "check-saturation"))
    probability = {token: float(v[0]) for token, v in steps.items()}
    gradient = {token: float(v[1]) for token, v in steps.items()}
    assert min(probability, key=probability.get) == max(gradient, key=gradient.get)


def test_default_ig_baseline_gives_eos_nothing(nb):
    table = rows(tagged_text(nb, "check-baseline"))
    assert all(float(v[0]) == 0 for v in table.values())
    assert any(float(v[1]) > 0 for v in table.values())


def test_exercise_runs_as_committed(nb):
    printed = tagged_text(nb, "exercise-sentence").splitlines()
    assert printed[0] == "She really hates programming."  # a held-out verb-object pair
    top = dict(line.split() for line in printed[1:])
    assert (top["She"], top["hates"], top["programming"]) == ("她", "讨厌", "编程")
    assert "attention AER:" in tagged_text(nb, "exercise-special")


def test_both_languages_print_the_same(executed):
    en, zh = executed("en", SLUG), executed("zh", SLUG)
    code = [(a, b) for a, b in zip(en.cells, zh.cells, strict=True) if a.cell_type == "code"]
    for a, b in code:  # the same code on the same model: the same printed text
        assert text_outputs(a, html=False) == text_outputs(b, html=False)
