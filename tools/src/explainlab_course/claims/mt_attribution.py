"""Claims of lesson 01_mt_attribution, on the offline profile (the ``mt-zh-en`` twin)."""

from __future__ import annotations

import ast

from . import (
    banner_names_the_offline_profile,
    both_languages_print_the_same,
    cell_by_tag,
    claim,
    expect,
    fail,
    has_html,
    html_outputs,
    lookup,
    paired_claim,
    tagged_text,
    text_outputs,
)

SLUG = "01_mt_attribution"
METHODS = ("saliency", "attention", "integrated_gradients", "input_x_gradient")


def rows(printed: str) -> dict[str, list[str]]:
    """A DataFrame printed with ``to_string()``: first cell of each row -> the other cells."""
    lines = [line.split() for line in printed.strip().splitlines()[1:]]
    if not all(lines):
        fail("a table without blank lines", printed)
    return {line[0]: line[1:] for line in lines}


def _numbers(values: list[str], what: str, printed: str) -> list[float]:
    try:
        return [float(v) for v in values]
    except ValueError:
        fail(f"numbers in {what}, not {values}", printed)


claim(SLUG)(banner_names_the_offline_profile)


@claim(SLUG)
def translations_of_both_scripts(nb):
    """The twin translates the simplified and the traditional sentence to the lesson's English."""
    from ..zoo import translation

    text = tagged_text(nb, "check-translation")
    simplified, traditional = translation.LESSON_SENTENCES
    wanted = [f"{simplified} -> {translation.LESSON_TRANSLATION}",
              f"{traditional} -> {translation.LESSON_TRANSLATION}"]
    expect(text.splitlines() == wanted, f"exactly the lines {wanted}", text)


@claim(SLUG)
def machine_comes_from_jiqi_and_every_word_from_its_gold_source(nb):
    """Saliency's top source token is 机器 for "machine" and the gold source for every word;
    the nine step probabilities lie in (0, 1]."""
    from explainlab import clean_tokens

    from ..zoo import translation

    text = tagged_text(nb, "check-top")
    top = rows(text)
    machine = lookup(top, "machine", "a row for the target token", text)
    expect(machine[:1] == ["机器"], "'机器' as the top source token of 'machine'", text)
    for source, target in translation.GOLD_ALIGNMENT:  # the twin's card: saliency 8 of 8
        word, gold = clean_tokens([target])[0], clean_tokens([source])[0]
        row = lookup(top, word, "a row for the target token", text)
        expect(row[:1] == [gold], f"{gold!r} as the top source token of {word!r} (gold "
               f"alignment), not {row[:1]}", text)
    expect(all(len(values) > 1 for values in top.values()),
           "a probability in the second column of every row", text)
    probabilities = _numbers([values[1] for values in top.values()], "the probability column",
                             text)
    expect(all(0 < p <= 1 for p in probabilities) and len(probabilities) == 9,
           f"9 probabilities in (0, 1], not {probabilities}", text)


@claim(SLUG)
def show_renders_html_heatmaps(nb):
    """show() draws two HTML heatmaps with cleaned tokens: 机器 and machine in the first,
    機器 in the second."""
    cell = cell_by_tag(nb, "check-heatmap")
    text = text_outputs(cell)
    expect(has_html(cell), "HTML heatmaps from show()", text)
    html = html_outputs(cell)
    expect(len(html) == 2, f"one heatmap per input sentence (2), not {len(html)}", text)
    expect("机器" in html[0] and "機器" in html[1] and "machine" in html[0],
           "'机器' and 'machine' in the first heatmap and '機器' in the second", text)
    expect("▁" not in html[0], "cleaned tokens (no '▁') in the first heatmap", html[0])


@claim(SLUG)
def heatmap_cells_are_coloured(nb):
    """The heatmap's cells have rgba backgrounds and no numpy scalar reprs."""
    cell = cell_by_tag(nb, "check-heatmap")
    html = html_outputs(cell)
    expect(html, "an HTML heatmap", text_outputs(cell))
    expect("background:rgba(" in html[0] and "np.float" not in html[0],
           "'background:rgba(' cells and no 'np.float' in the first heatmap", html[0])


@claim(SLUG)
def attention_refuses_step_scores(nb):
    """Inseq refuses step scores for the attention method, and the lesson prints why."""
    text = tagged_text(nb, "check-attention-refusal")
    wanted = "Inseq refuses: Step scores are not supported for final step"
    expect(text.startswith(wanted), f"a first line starting {wanted!r}", text)


@claim(SLUG)
def all_methods_compared_and_traditional_follows_the_words(nb):
    """Every method gets a column for "machine" (saliency: 机器), and the traditional input's
    top tokens follow its own words (機器, 智慧)."""
    text = tagged_text(nb, "check-methods")
    tops = rows(text)
    machine = lookup(tops, "machine", "a row for the target token", text)
    expect(len(machine) == len(METHODS), f"one column per method ({len(METHODS)}) for "
           f"'machine', not {machine}", text)
    expect(machine[0] == "机器", "saliency's top source token '机器' for 'machine'", text)
    text = tagged_text(nb, "check-traditional")
    scripts = rows(text)
    expect(lookup(scripts, "machine", "a row", text) == ["机器", "機器"],
           "'machine' <- 机器 (simplified), 機器 (traditional)", text)
    expect(lookup(scripts, "intelligence", "a row", text) == ["智能", "智慧"],
           "'intelligence' <- 智能 (simplified), 智慧 (traditional)", text)


@claim(SLUG)
def gold_alignment_on_the_model_tokens(nb):
    """The lesson's word-level gold alignment equals the twin's piece-level gold, cleaned."""
    from explainlab import clean_tokens

    from ..zoo import translation

    text = tagged_text(nb, "check-gold")
    printed = ast.literal_eval(text)
    expected = [tuple(clean_tokens([s, t])) for s, t in translation.GOLD_ALIGNMENT]
    expect(printed == expected, f"the gold alignment {expected}", text)


@claim(SLUG)
def aer_table_for_every_method(nb):
    """The AER table has a row per method with two rates in [0, 1]; saliency's are both 0."""
    text = tagged_text(nb, "check-aer")
    table = rows(text)
    expect(set(table) == set(METHODS), f"one row per method {list(METHODS)}", text)
    for method in METHODS:
        values = _numbers(table[method], f"the row {method!r}", text)
        expect(len(values) == 2 and all(0 <= v <= 1 for v in values),
               f"two rates in [0, 1] for {method}, not {values}", text)
    saliency = _numbers(table["saliency"], "the row 'saliency'", text)
    expect(saliency == [0.0, 0.0], "saliency recovering the twin's alignment (AER 0 and 0)",
           text)


@claim(SLUG)
def saturation_most_confident_step_has_a_small_probability_gradient(nb):
    """The most confident step has one of the three smallest probability gradients, and its
    logit gradient is not among the three smallest."""
    text = tagged_text(nb, "check-saturation")
    steps = rows(text)
    expect(steps and all(len(v) >= 3 for v in steps.values()),
           "a probability, a probability gradient and a logit gradient per step", text)
    probability = {token: float(v[0]) for token, v in steps.items()}
    surest = max(probability, key=probability.get)
    for column, smallest in ((1, True), (2, False)):
        ranked = sorted(steps, key=lambda token, c=column: float(steps[token][c]))
        name = "probability" if column == 1 else "logit"
        expect((surest in ranked[:3]) is smallest,
               f"the most confident step ({surest!r}) {'' if smallest else 'not '}among the "
               f"three smallest {name} gradients ({ranked[:3]})", text)


@claim(SLUG)
def default_ig_baseline_gives_eos_nothing(nb):
    """With the default baseline, integrated gradients gives </s> zero everywhere; the other
    baseline gives it something."""
    text = tagged_text(nb, "check-baseline")
    table = rows(text)
    expect(table and all(len(v) >= 2 for v in table.values()),
           "two columns of scores (default baseline, other baseline)", text)
    expect(all(float(v[0]) == 0 for v in table.values()),
           "only zeros in the default baseline's column", text)
    expect(any(float(v[1]) > 0 for v in table.values()),
           "a positive score in the other baseline's column", text)


@claim(SLUG)
def exercise_runs_as_committed(nb):
    """The exercise translates a held-out sentence word by word (她 讨厌 编程) and its special
    token cell prints the attention AER."""
    text = tagged_text(nb, "exercise-sentence")
    printed = text.splitlines()
    expect(printed[:1] == ["She really hates programming."],
           "the first line 'She really hates programming.' (a held-out verb-object pair)", text)
    pairs = [line.split() for line in printed[1:]]
    expect(all(len(pair) == 2 for pair in pairs), "'<English word> <source token>' lines", text)
    top = dict(pairs)
    found = tuple(top.get(word) for word in ("She", "hates", "programming"))
    expect(found == ("她", "讨厌", "编程"),
           f"She <- 她, hates <- 讨厌, programming <- 编程, not {found}", text)
    text = tagged_text(nb, "exercise-special")
    expect("attention AER:" in text, "'attention AER:' in the special-token exercise", text)


paired_claim(SLUG)(both_languages_print_the_same)
