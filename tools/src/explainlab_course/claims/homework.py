"""Claims of lesson 05_homework, on the offline profile: every answer cell holds only its
placeholder and ran, saying "no answer yet"; the demonstrations print what the prose says;
Task 2 runs on the chat twin, whose answer, self-report, attribution and deletion test it
prints."""

from __future__ import annotations

import re

from . import (
    banner_names_the_offline_profile,
    cell_by_tag,
    claim,
    excerpt,
    expect,
    has_html,
    strip_comments,
    tagged_text,
)

SLUG = "05_homework"


def _questions() -> list[str]:
    from explainlab.homework import list_questions

    return list_questions()


claim(SLUG)(banner_names_the_offline_profile)


@claim(SLUG)
def the_demonstrations_print_what_the_prose_says(nb):
    """The translator twin prints the lesson's translation and the three readings of a table;
    the completion model is the GPT-2 twin in full precision with one forced probability;
    the head view is drawn."""
    from ..zoo import translation

    text = tagged_text(nb, "check-translation")
    expect(text.strip() == translation.LESSON_TRANSLATION,
           f"exactly {translation.LESSON_TRANSLATION!r}", text)
    text = tagged_text(nb, "reading-tables")
    expect(re.search(r"^one cell, row 机器 and column machine: 0\.\d+$", text, re.MULTILINE)
           and "the row with the highest score in the column: 机器" in text
           and "'机器': 1" in text,
           "a cell value, '机器' as the column's top row and its rank 1", text)
    text = tagged_text(nb, "check-forced")
    expect(text.startswith("lm-gpt2: offline twin of openai-community/gpt2, in full precision")
           and re.search(r"probability of the forced token: \[0\.\d+\]", text),
           "the GPT-2 twin in full precision and one forced probability", text)
    expect(has_html(cell_by_tag(nb, "check-head-view")), "an HTML head view")


def _asks_for_an_answer(qid: str):
    def answer_cell_asks_for_an_answer(nb):
        cell = cell_by_tag(nb, f"answer-{qid}")
        ending = (f'answer = None\nresults["{qid}"] = explainlab.homework.check("{qid}", '
                  "answer)")
        expect(strip_comments(cell.source).endswith(ending)
               and "answer =" not in strip_comments(cell.source)[: -len(ending)],
               f"the answer cell of {qid} to end with (comments aside):\n{excerpt(ending)}\n"
               "and set no other answer; its source", cell.source)
        text = tagged_text(nb, f"answer-{qid}")
        wanted = [f"{qid}: no answer yet. Replace None with your answer and run the cell again.",
                  f"{qid}：还没有作答。把 None 换成你的答案，再运行一次这个单元格。"]
        expect(text.splitlines() == wanted, f"exactly the lines {wanted}", text)

    answer_cell_asks_for_an_answer.__name__ = f"answer_cell_of_{qid}_asks_for_an_answer"
    answer_cell_asks_for_an_answer.__qualname__ = answer_cell_asks_for_an_answer.__name__
    answer_cell_asks_for_an_answer.__doc__ = (
        f"The answer cell of {qid} (tag answer-{qid}) holds only the placeholder "
        "(answer = None) and ran, saying in both languages that there is no answer yet.")
    return answer_cell_asks_for_an_answer


for _qid in _questions():
    claim(SLUG)(_asks_for_an_answer(_qid))


@claim(SLUG)
def summary_counts_no_answers(nb):
    """The summary counts 0 right answers out of all the questions."""
    text = tagged_text(nb, "summary")
    wanted = f"0 of {len(_questions())} answers right:"
    expect(text.startswith(wanted), f"a summary starting {wanted!r}", text)


@claim(SLUG)
def task2_the_chat_twin_answers_and_reports(nb):
    """The chat twin answers Negative (its contract) and reports at least three pairs, all
    words of the review, parsed from its own output."""
    text = tagged_text(nb, "task2-label")
    expect(re.search(r"^its answer: Negative \{'Positive': [\d.e-]+, 'Negative': 0\.9\d*\}",
                     text, re.MULTILINE),
           "'its answer: Negative' with P(Negative) of at least 0.9", text)
    text = tagged_text(nb, "task2-self-report")
    found = re.search(r"^(\d+) pairs: (.*)$", text, re.MULTILINE)
    expect(text.startswith("the model output:") and found and int(found.group(1)) >= 3,
           "'the model output:' and at least 3 pairs", text)
    review = "The acting was wonderful, but the plot was boring and the ending was a total mess."
    words = set(re.findall(r"\w+", review.casefold()))
    named = re.findall(r"\('([^']+)', ", found.group(2))
    expect(named and all(word.casefold() in words for word in named),
           f"only words of the review in the pairs, not {named}", text)


@claim(SLUG)
def task2_compares_and_runs_the_deletion_test(nb):
    """Task 2 prints the Spearman correlation in [-1, 1], both top-3 rankings and their
    overlap, draws both plots, and the deletion of the attribution's top 3 lowers
    P(Negative) by at least 0.2 (the twin's contract says more)."""
    text = tagged_text(nb, "task2-compare")
    rho = re.search(r"Spearman rank correlation \((\d+) words\): (-?[\d.]+)", text)
    overlap = re.search(r"^top-3 overlap: ([0-3])$", text, re.MULTILINE)
    expect(rho and int(rho.group(1)) >= 3 and -1 <= float(rho.group(2)) <= 1 and overlap,
           "a Spearman correlation over at least 3 words, in [-1, 1], and a top-3 overlap", text)
    for tag in ("task2-plot", "task2-deletion"):
        expect(any("image/png" in o.get("data", {}) for o in cell_by_tag(nb, tag).outputs),
               f"a PNG plot from the cell tagged {tag!r}")
    text = tagged_text(nb, "task2-deletion")
    drops = dict(re.findall(r"^(self-report|attribution): without \[[^\]]*\], P\(Negative\) "
                            r"falls by (-?[\d.]+)$", text, re.MULTILINE))
    expect(set(drops) == {"self-report", "attribution"}
           and float(drops["attribution"]) >= 0.2,
           "both deletion lines, the attribution's top 3 lowering P(Negative) by at least 0.2",
           text)
    text = tagged_text(nb, "exercise-guesses")
    expect(re.search(r"my top 3: \[.*\]; without them P\(Negative\) falls by -?[\d.]+", text),
           "'my top 3: [...]; without them P(Negative) falls by <x>'", text)


@claim(SLUG)
def task3_examples_run(nb):
    """Task 3's deletion test names the predicted class POSITIVE and prints the five metrics
    with comprehensiveness above sufficiency; its patching example lists the rows
    (embeddings, then the blocks) and the prompt's cleaned tokens."""
    text = tagged_text(nb, "task3-example")
    metrics = dict(re.findall(r"'([\w ]+)': (-?[\d.]+)", text))
    expect(text.startswith("predicted: POSITIVE") and set(metrics) == {
        "comprehensiveness", "sufficiency", "AOPC", "deletion AUC", "insertion AUC"}
           and float(metrics["comprehensiveness"]) > float(metrics["sufficiency"]),
           "'predicted: POSITIVE' and five metrics, comprehensiveness above sufficiency", text)
    text = tagged_text(nb, "task3-patching")
    expect(re.search(r"^rows: \['embeddings', 'block 0', 'block 1'", text, re.M)
           and "columns: ['The', 'capital', 'of', 'Japan', 'is']" in text,
           "the rows from 'embeddings' and the columns The capital of Japan is", text)
