"""Lesson 03 (classification explainers): its key claims, checked on the executed English
and Chinese lessons (offline profile: the sst2, cross-encoder, emotion, nli, qa, ner and vit
twins)."""

from __future__ import annotations

import ast
import re

import pytest

from .conftest import cell_by_tag, has_html, tagged_text, text_outputs

pytestmark = pytest.mark.slow

SLUG = "03_classification_explainers"
TOKENS = ["[CLS]", "i", "love", "you", ",", "i", "like", "you", "[SEP]"]


@pytest.fixture(scope="module", params=("en", "zh"))
def nb(request, executed):
    return executed(request.param, SLUG)


def number(text: str, label: str) -> float:
    """The number printed after ``label`` on its line."""
    match = re.search(re.escape(label) + r"\s*([-+0-9.e]+)", text)
    assert match, f"{label!r} not found in:\n{text}"
    return float(match.group(1))


def series(printed: str) -> list[tuple[str, float]]:
    """A pandas Series printed with ``to_string()``: (index, value) per line."""
    rows = []
    for line in printed.strip().splitlines():
        *name, value = line.split()
        rows.append((" ".join(name), float(value)))
    return rows


def html_of(cell) -> str:
    return "".join(o["data"]["text/html"] for o in cell.outputs
                   if "text/html" in o.get("data", {}))


def test_banner_names_the_offline_profile(nb):
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert "profile offline" in "".join(o.get("text", "") for o in first_code.outputs)


def test_the_classifier_says_positive(nb):
    probabilities = ast.literal_eval(tagged_text(nb, "check-prediction"))
    assert probabilities["POSITIVE"] > 0.9 > probabilities["NEGATIVE"]


def test_baseline_keeps_cls_and_sep_and_pads_the_words(nb):
    rows = [line.split() for line in tagged_text(nb, "check-baseline").splitlines()]
    assert rows[0] == ["input", *TOKENS]
    assert rows[1] == ["baseline", "[CLS]", *["[PAD]"] * 7, "[SEP]"]


def test_path_runs_from_the_baseline_to_the_input(nb):
    rows = [line.split() for line in tagged_text(nb, "check-path").splitlines()[1:]]
    assert [float(a) for a, _ in rows] == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    probabilities = ast.literal_eval(tagged_text(nb, "check-prediction"))
    assert float(rows[-1][1]) == pytest.approx(probabilities["POSITIVE"], abs=1e-4)
    assert float(rows[0][1]) < float(rows[-1][1])  # the baseline is less POSITIVE


def test_riemann_sum_by_hand(nb):
    scores = series(tagged_text(nb, "check-riemann"))
    assert [token for token, _ in scores] == TOKENS
    assert scores[0][1] == scores[-1][1] == 0.0  # [CLS] and [SEP]: baseline = input
    assert max(scores, key=lambda pair: pair[1])[0] == "love"


def test_completeness_by_hand(nb):
    printed = tagged_text(nb, "check-completeness")
    total, gap = number(printed, "sum of the scores:"), number(printed, "F(input) - F(baseline):")
    delta = number(printed, "convergence delta:")
    assert total == pytest.approx(gap, abs=1e-3) and gap > 0
    assert abs(delta) < 1e-3


def test_captum_reproduces_the_loop_and_converges(nb):
    printed = tagged_text(nb, "check-captum")
    assert number(printed, "largest difference") < 1e-6
    assert abs(number(printed, "convergence delta")) < 1e-2


def test_package_explainer_says_positive_for_love_and_like(nb):
    printed = tagged_text(nb, "check-sequence").splitlines()
    assert printed[0] == "predicted: POSITIVE"
    attributions = ast.literal_eval(printed[1])
    assert [token for token, _ in attributions] == TOKENS
    ranked = sorted(attributions[1:-1], key=lambda pair: -pair[1])
    assert ranked[0][0] == "love"
    assert dict(attributions)["like"] > 0.1 and "like" in [t for t, _ in ranked[:3]]


def test_hand_made_scores_equal_the_package(nb):
    printed = tagged_text(nb, "check-hand-vs-package")
    assert number(printed, "largest difference from our hand-made scores:") < 1e-5
    assert abs(number(printed, "convergence delta:")) < 1e-2


def test_visualize_shows_html_inline(nb):
    html = html_of(cell_by_tag(nb, "check-visualize-sequence"))
    assert 'class="xl-token"' in html and ">love<" in html and "POSITIVE" in html
    assert "<script" not in html


def test_negative_class_points_at_dislike(nb):
    cell = cell_by_tag(nb, "check-negative")
    printed = text_outputs(cell, html=False)
    assert "predicted: POSITIVE" in printed
    assert "top word for NEGATIVE: dislike" in printed
    assert ">dislike<" in html_of(cell)


def test_berlin_passage_scores_above_the_unrelated_one(nb):
    scores = dict(series(tagged_text(nb, "check-pairwise")))
    assert scores["Berlin passage"] > scores["unrelated passage"] + 0.5
    html = html_of(cell_by_tag(nb, "check-visualize-pairwise"))
    assert html.count(">berlin<") == 2 and ">population<" in html


def test_multilabel_top_words(nb):
    rows = {}
    for line in tagged_text(nb, "check-multilabel").splitlines()[1:]:
        label, probability, top = line.split(maxsplit=2)
        rows[label] = (float(probability), ast.literal_eval(top))
    assert list(rows) == ["anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise"]
    assert rows["fear"][1] == "frightening"
    assert rows["anger"][1] == "hated" and rows["joy"][1] == "liked"
    html = html_of(cell_by_tag(nb, "check-visualize-multilabel"))
    assert html.count("<tr>") == 1 + 7  # the header and one row per label


def test_zero_shot_picks_technology(nb):
    printed = tagged_text(nb, "check-zero-shot").splitlines()
    assert printed[0] == ("hypotheses: ['this text is about finance .', 'this text is about "
                          "technology .', 'this text is about sports .']")
    assert printed[1] == "predicted label: technology"
    probabilities = ast.literal_eval(printed[2])
    assert max(probabilities, key=probabilities.get) == "technology"
    assert has_html(cell_by_tag(nb, "check-visualize-zero-shot"))


def test_question_answering_span(nb):
    printed = tagged_text(nb, "check-qa").splitlines()
    assert printed[0] == "answer: usage of machines to process and understand human language"
    assert set(ast.literal_eval(printed[1])) == {"start", "end"}
    html = html_of(cell_by_tag(nb, "check-visualize-qa"))
    assert html.count("<tr>") == 1 + 2  # start and end


def test_ner_finds_paris_and_macron(nb):
    rows = [line.split() for line in tagged_text(nb, "check-ner").splitlines()]
    labels = {row[0]: row[1] for row in rows}
    assert labels["paris"] == "B-LOC"
    assert labels["emmanuel"] == "B-PER" and labels["macro"] == "I-PER"
    assert rows[0][-1] == "paris"  # Paris's label comes from the word itself
    assert has_html(cell_by_tag(nb, "check-visualize-ner"))


def test_image_label_and_map(nb):
    printed = tagged_text(nb, "check-image").splitlines()
    assert printed == ["predicted: red circle", "attributions: (1, 3, 32, 32)"]
    html = html_of(cell_by_tag(nb, "check-visualize-image"))
    assert "<img" in html and "data:image/png;base64," in html


def test_baselines_change_the_scores(nb):
    printed = tagged_text(nb, "check-baselines").splitlines()
    assert printed[0].split() == ["[PAD]", "[MASK]", "[UNK]"]
    table = [[float(v) for v in line.split()[1:]] for line in printed[1:-1]]
    assert table[0] == table[-1] == [0.0, 0.0, 0.0]
    assert max(max(row) - min(row) for row in table) > 0.05
    starts = ast.literal_eval(printed[-1].split(":", 1)[1].strip())
    assert max(starts.values()) - min(starts.values()) > 0.05


def test_more_steps_smaller_delta(nb):
    deltas = {int(n): abs(float(d)) for n, d in re.findall(
        r"n_steps=\s*(\d+)\s+convergence delta ([-+0-9.e]+)", tagged_text(nb, "check-steps"))}
    assert list(deltas) == [2, 5, 10, 50, 200]
    assert deltas[50] < 1e-2 < deltas[2]
    assert deltas[200] < deltas[50] < deltas[10]


def test_deleting_the_top_word_barely_matters(nb):
    kept = dict(series(tagged_text(nb, "check-deletion")))
    assert abs(kept["full text"] - kept["without love"]) < 0.05
    assert kept["without love and like"] < kept["without love"] - 0.2


def test_exercises_run_as_committed(nb):
    assert "predicted: NEGATIVE" in tagged_text(nb, "exercise-sentence")
    printed = tagged_text(nb, "exercise-deletion")
    assert printed.startswith("without ") and "->" in printed


def test_both_languages_print_the_same(executed):
    en, zh = executed("en", SLUG), executed("zh", SLUG)
    code = [(a, b) for a, b in zip(en.cells, zh.cells, strict=True) if a.cell_type == "code"]
    for a, b in code:  # the same code on the same models: the same printed text
        assert text_outputs(a, html=False) == text_outputs(b, html=False)
