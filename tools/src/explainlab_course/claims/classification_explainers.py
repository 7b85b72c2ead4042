"""Claims of lesson 03_classification_explainers, on the offline profile (the sst2,
cross-encoder, emotion, nli, qa, ner and vit twins)."""

from __future__ import annotations

import ast
import re

from . import (
    banner_names_the_offline_profile,
    both_languages_print_the_same,
    cell_by_tag,
    claim,
    close,
    expect,
    fail,
    has_html,
    html_outputs,
    lookup,
    paired_claim,
    tagged_text,
    text_outputs,
)

SLUG = "03_classification_explainers"
TOKENS = ["[CLS]", "i", "love", "you", ",", "i", "like", "you", "[SEP]"]
LABELS = ["anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise"]


def number(text: str, label: str) -> float:
    """The number printed after ``label`` on its line."""
    match = re.search(re.escape(label) + r"\s*([-+0-9.e]+)", text)
    expect(match, f"{label!r} followed by a number", text)
    try:
        return float(match.group(1))
    except ValueError:
        fail(f"a number after {label!r}, not {match.group(1)!r}", text)


def series(printed: str) -> list[tuple[str, float]]:
    """A pandas Series printed with ``to_string()``: (index, value) per line."""
    rows = []
    for line in printed.strip().splitlines():
        parts = line.split()
        if not parts:
            fail("a Series without blank lines", printed)
        *name, value = parts
        try:
            rows.append((" ".join(name), float(value)))
        except ValueError:
            fail(f"a number at the end of the line {line!r}", printed)
    return rows


def literal(text: str, what: str, printed: str):
    """``ast.literal_eval(text)``, or a failure saying ``what`` was expected."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        fail(f"{what} as a Python literal, not {text!r}", printed)


def html_of(cell) -> str:
    return "".join(html_outputs(cell))


def _lines(nb, tag: str, *, html: bool = True) -> tuple[list[str], str]:
    text = tagged_text(nb, tag, html=html)
    return text.splitlines(), text


def _line(lines: list[str], index: int, text: str) -> str:
    expect(len(lines) > index, f"at least {index + 1} lines", text)
    return lines[index]


claim(SLUG)(banner_names_the_offline_profile)


def _prediction(nb) -> tuple[dict, str]:
    text = tagged_text(nb, "check-prediction")
    probabilities = literal(text, "a dict of class probabilities", text)
    expect(isinstance(probabilities, dict), "a dict of class probabilities", text)
    return probabilities, text


@claim(SLUG)
def the_classifier_says_positive(nb):
    """The sentiment twin gives "I love you, I like you" P(POSITIVE) > 0.9 > P(NEGATIVE)."""
    probabilities, text = _prediction(nb)
    positive = lookup(probabilities, "POSITIVE", "the class", text)
    negative = lookup(probabilities, "NEGATIVE", "the class", text)
    expect(positive > 0.9 > negative, "P(POSITIVE) > 0.9 > P(NEGATIVE)", text)


@claim(SLUG)
def baseline_keeps_cls_and_sep_and_pads_the_words(nb):
    """The IG baseline keeps [CLS] and [SEP] and puts [PAD] in place of every word."""
    lines, text = _lines(nb, "check-baseline")
    rows = [line.split() for line in lines]
    expect(rows[:1] == [["input", *TOKENS]], f"the first row 'input {' '.join(TOKENS)}'", text)
    baseline = ["baseline", "[CLS]", *["[PAD]"] * 7, "[SEP]"]
    expect(rows[1:2] == [baseline], f"the second row {' '.join(baseline)!r}", text)


@claim(SLUG)
def path_runs_from_the_baseline_to_the_input(nb):
    """The straight-line path goes alpha = 0, 0.2, ..., 1 and ends at the model's P(POSITIVE),
    from a less positive baseline."""
    lines, text = _lines(nb, "check-path")
    rows = [line.split() for line in lines[1:]]
    expect(rows and all(len(row) == 2 for row in rows), "rows of 'alpha P(POSITIVE)'", text)
    alphas = [float(a) for a, _ in rows]
    expect(close(alphas, [0, 0.2, 0.4, 0.6, 0.8, 1.0]), f"alpha = 0, 0.2, ..., 1, not {alphas}",
           text)
    probabilities, _ = _prediction(nb)
    positive = lookup(probabilities, "POSITIVE", "the class", text)
    end = float(rows[-1][1])
    expect(close(end, positive, abs=1e-4),
           f"the path's end at the model's P(POSITIVE) {positive} within 1e-4, not {end}", text)
    expect(float(rows[0][1]) < end, "a baseline less POSITIVE than the input", text)


@claim(SLUG)
def riemann_sum_by_hand(nb):
    """The hand-made Riemann sum scores every token, gives [CLS] and [SEP] exactly 0 and
    'love' the most."""
    text = tagged_text(nb, "check-riemann")
    scores = series(text)
    expect([token for token, _ in scores] == TOKENS, f"one score per token {TOKENS}", text)
    expect(scores[0][1] == scores[-1][1] == 0.0, "0.0 for [CLS] and [SEP] (baseline = input)",
           text)
    top = max(scores, key=lambda pair: pair[1])[0]
    expect(top == "love", f"'love' with the largest score, not {top!r}", text)


@claim(SLUG)
def completeness_by_hand(nb):
    """The scores add up to F(input) - F(baseline) > 0 within 1e-3; the delta is below 1e-3."""
    text = tagged_text(nb, "check-completeness")
    total, gap = number(text, "sum of the scores:"), number(text, "F(input) - F(baseline):")
    delta = number(text, "convergence delta:")
    expect(close(total, gap, abs=1e-3) and gap > 0,
           f"sum of the scores = F(input) - F(baseline) > 0 within 1e-3 ({total} vs {gap})", text)
    expect(abs(delta) < 1e-3, f"|convergence delta| < 1e-3, not {delta}", text)


@claim(SLUG)
def captum_reproduces_the_loop_and_converges(nb):
    """Captum's IG differs from the hand-made loop by less than 1e-6 and converges (|delta|
    < 1e-2)."""
    text = tagged_text(nb, "check-captum")
    difference = number(text, "largest difference")
    expect(difference < 1e-6, f"a largest difference below 1e-6, not {difference}", text)
    delta = number(text, "convergence delta")
    expect(abs(delta) < 1e-2, f"|convergence delta| < 1e-2, not {delta}", text)


@claim(SLUG)
def package_explainer_says_positive_for_love_and_like(nb):
    """The package's explainer predicts POSITIVE, ranks 'love' first among the words and
    'like' in the top three with a score above 0.1."""
    lines, text = _lines(nb, "check-sequence")
    expect(lines[:1] == ["predicted: POSITIVE"], "the first line 'predicted: POSITIVE'", text)
    attributions = literal(_line(lines, 1, text), "a list of (token, score)", text)
    expect([token for token, _ in attributions] == TOKENS, f"one score per token {TOKENS}",
           text)
    ranked = sorted(attributions[1:-1], key=lambda pair: -pair[1])
    expect(ranked[0][0] == "love", f"'love' first among the words, not {ranked[0][0]!r}", text)
    like = dict(attributions)["like"]
    expect(like > 0.1 and "like" in [t for t, _ in ranked[:3]],
           f"'like' above 0.1 (it has {like}) and in the top three", text)


@claim(SLUG)
def hand_made_scores_equal_the_package(nb):
    """The package's scores equal the hand-made ones within 1e-5 and converge (|delta| <
    1e-2)."""
    text = tagged_text(nb, "check-hand-vs-package")
    difference = number(text, "largest difference from our hand-made scores:")
    expect(difference < 1e-5, f"a largest difference below 1e-5, not {difference}", text)
    delta = number(text, "convergence delta:")
    expect(abs(delta) < 1e-2, f"|convergence delta| < 1e-2, not {delta}", text)


@claim(SLUG)
def visualize_shows_html_inline(nb):
    """visualize() shows the word table inline as HTML (tokens, 'love', POSITIVE), no
    script."""
    html = html_of(cell_by_tag(nb, "check-visualize-sequence"))
    expect('class="xl-token"' in html and ">love<" in html and "POSITIVE" in html,
           "HTML with class=\"xl-token\" cells, '>love<' and 'POSITIVE'", html)
    expect("<script" not in html, "no <script> in the HTML", html)


@claim(SLUG)
def negative_class_points_at_dislike(nb):
    """Explaining NEGATIVE for a POSITIVE prediction points at 'dislike'."""
    cell = cell_by_tag(nb, "check-negative")
    text = text_outputs(cell, html=False)
    expect("predicted: POSITIVE" in text, "'predicted: POSITIVE'", text)
    expect("top word for NEGATIVE: dislike" in text, "'top word for NEGATIVE: dislike'", text)
    html = html_of(cell)
    expect(">dislike<" in html, "'>dislike<' in the HTML table", html)


@claim(SLUG)
def berlin_passage_scores_above_the_unrelated_one(nb):
    """The cross-encoder scores the Berlin passage more than 0.5 above the unrelated one;
    its table shows 'berlin' twice and 'population'."""
    text = tagged_text(nb, "check-pairwise")
    scores = dict(series(text))
    berlin = lookup(scores, "Berlin passage", "the row", text)
    unrelated = lookup(scores, "unrelated passage", "the row", text)
    expect(berlin > unrelated + 0.5, "the Berlin passage more than 0.5 above the unrelated one",
           text)
    html = html_of(cell_by_tag(nb, "check-visualize-pairwise"))
    expect(html.count(">berlin<") == 2 and ">population<" in html,
           f"'>berlin<' twice (found {html.count('>berlin<')}) and '>population<' in the HTML",
           html)


@claim(SLUG)
def multilabel_top_words(nb):
    """The emotion twin lists the seven labels in order; fear's top word is 'frightening',
    anger's 'hated', joy's 'liked'; the table has a row per label."""
    lines, text = _lines(nb, "check-multilabel")
    rows = {}
    for line in lines[1:]:
        parts = line.split(maxsplit=2)
        expect(len(parts) == 3, f"'label probability top-word' lines, not {line!r}", text)
        label, probability, top = parts
        rows[label] = (float(probability), literal(top, "the top word", text))
    expect(list(rows) == LABELS, f"the labels {LABELS} in order", text)
    expect(rows["fear"][1] == "frightening", "'frightening' as fear's top word", text)
    expect(rows["anger"][1] == "hated" and rows["joy"][1] == "liked",
           "'hated' as anger's and 'liked' as joy's top word", text)
    html = html_of(cell_by_tag(nb, "check-visualize-multilabel"))
    expect(html.count("<tr>") == 1 + 7,
           f"8 table rows (a header, one per label), not {html.count('<tr>')}", html)


@claim(SLUG)
def zero_shot_picks_technology(nb):
    """Zero-shot builds the three hypotheses and picks technology, the most probable label."""
    lines, text = _lines(nb, "check-zero-shot")
    hypotheses = ("hypotheses: ['this text is about finance .', 'this text is about "
                  "technology .', 'this text is about sports .']")
    expect(lines[:1] == [hypotheses], f"the first line {hypotheses!r}", text)
    expect(lines[1:2] == ["predicted label: technology"],
           "the second line 'predicted label: technology'", text)
    probabilities = literal(_line(lines, 2, text), "a dict of label probabilities", text)
    best = max(probabilities, key=probabilities.get)
    expect(best == "technology", f"technology as the most probable label, not {best!r}", text)
    expect(has_html(cell_by_tag(nb, "check-visualize-zero-shot")), "an HTML table", text)


@claim(SLUG)
def question_answering_span(nb):
    """The QA twin answers with the span about machines and language; start and end are
    explained, each in a row of the table."""
    lines, text = _lines(nb, "check-qa")
    answer = "answer: usage of machines to process and understand human language"
    expect(lines[:1] == [answer], f"the first line {answer!r}", text)
    positions = literal(_line(lines, 1, text), "the explained positions", text)
    expect(set(positions) == {"start", "end"}, "the positions {'start', 'end'}", text)
    html = html_of(cell_by_tag(nb, "check-visualize-qa"))
    expect(html.count("<tr>") == 1 + 2,
           f"3 table rows (a header, start and end), not {html.count('<tr>')}", html)


@claim(SLUG)
def ner_finds_paris_and_macron(nb):
    """The NER twin labels paris B-LOC (from the word itself) and emmanuel macro(n) as a
    person."""
    lines, text = _lines(nb, "check-ner")
    rows = [line.split() for line in lines]
    expect(all(len(row) >= 2 for row in rows), "'token label ...' lines", text)
    labels = {row[0]: row[1] for row in rows}
    expect(lookup(labels, "paris", "the token", text) == "B-LOC", "paris labelled B-LOC", text)
    expect(lookup(labels, "emmanuel", "the token", text) == "B-PER"
           and lookup(labels, "macro", "the token", text) == "I-PER",
           "emmanuel labelled B-PER and macro I-PER", text)
    expect(rows[0][-1] == "paris", "Paris's label coming from the word itself (the first "
           "row ending 'paris')", text)
    expect(has_html(cell_by_tag(nb, "check-visualize-ner")), "an HTML table", text)


@claim(SLUG)
def image_label_and_map(nb):
    """The image twin names the picture a red circle, and the attribution map has its shape
    and is shown as an image."""
    lines, text = _lines(nb, "check-image")
    wanted = ["predicted: red circle", "attributions: (1, 3, 32, 32)"]
    expect(lines == wanted, f"exactly the lines {wanted}", text)
    html = html_of(cell_by_tag(nb, "check-visualize-image"))
    expect("<img" in html and "data:image/png;base64," in html,
           "an inline PNG <img> in the HTML", html)


@claim(SLUG)
def baselines_change_the_scores(nb):
    """[PAD], [MASK] and [UNK] baselines move the words' scores and the starting probability
    by more than 0.05; [CLS] and [SEP] stay at 0."""
    lines, text = _lines(nb, "check-baselines")
    header = _line(lines, 0, text).split()
    expect(header == ["[PAD]", "[MASK]", "[UNK]"], "the columns [PAD] [MASK] [UNK]", text)
    try:
        table = [[float(v) for v in line.split()[1:]] for line in lines[1:-1]]
    except ValueError:
        fail("a table of numbers", text)
    expect(table and table[0] == table[-1] == [0.0, 0.0, 0.0],
           "0.0 in every column for [CLS] (first row) and [SEP] (last row)", text)
    expect(all(table), "three scores per row", text)
    spread = max(max(row) - min(row) for row in table)
    expect(spread > 0.05, f"scores that move more than 0.05 between baselines (at most "
           f"{spread})", text)
    expect(":" in lines[-1], "a last line '<what>: {baseline: probability}'", text)
    starts = literal(lines[-1].split(":", 1)[1].strip(), "the baseline probabilities", text)
    moved = max(starts.values()) - min(starts.values())
    expect(moved > 0.05, f"starting probabilities more than 0.05 apart (they are {moved})", text)


@claim(SLUG)
def more_steps_smaller_delta(nb):
    """More IG steps, smaller convergence delta: below 1e-2 at 50 steps (not at 2), and
    200 < 50 < 10."""
    text = tagged_text(nb, "check-steps")
    deltas = {int(n): abs(float(d)) for n, d in re.findall(
        r"n_steps=\s*(\d+)\s+convergence delta ([-+0-9.e]+)", text)}
    expect(list(deltas) == [2, 5, 10, 50, 200], "deltas for n_steps 2, 5, 10, 50, 200", text)
    expect(deltas[50] < 1e-2 < deltas[2], "delta(50) < 1e-2 < delta(2)", text)
    expect(deltas[200] < deltas[50] < deltas[10], "delta(200) < delta(50) < delta(10)", text)


@claim(SLUG)
def deleting_the_top_word_barely_matters(nb):
    """Deleting 'love' changes P(POSITIVE) by less than 0.05; deleting 'love' and 'like'
    lowers it by more than 0.2."""
    text = tagged_text(nb, "check-deletion")
    kept = dict(series(text))
    full = lookup(kept, "full text", "the row", text)
    without = lookup(kept, "without love", "the row", text)
    both = lookup(kept, "without love and like", "the row", text)
    expect(abs(full - without) < 0.05, "less than 0.05 between 'full text' and 'without love'",
           text)
    expect(both < without - 0.2, "'without love and like' more than 0.2 below 'without love'",
           text)


@claim(SLUG)
def exercises_run_as_committed(nb):
    """The exercises run as committed: a NEGATIVE sentence, and a deletion line."""
    text = tagged_text(nb, "exercise-sentence")
    expect("predicted: NEGATIVE" in text, "'predicted: NEGATIVE'", text)
    text = tagged_text(nb, "exercise-deletion")
    expect(text.startswith("without ") and "->" in text,
           "a line 'without ... -> ...'", text)


paired_claim(SLUG)(both_languages_print_the_same)
