"""Claims of lesson 05_homework, on the offline profile: every answer cell holds only its
placeholder and ran, saying "no answer yet"; the demonstrations print what the prose says;
Task 2 runs on its stated example."""

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
def task2_offline_uses_the_stated_example(nb):
    """Offline, Task 2 says the twin cannot explain a review, uses the stated example (8 word
    pairs, a Spearman correlation in [-1, 1], a plot) and the guessing exercise runs."""
    asked = tagged_text(nb, "task2-ask")
    expect("cannot explain a review" in asked and "(b) example:" in asked,
           "'cannot explain a review' and '(b) example:'", asked)
    expect("model output" not in asked, "no 'model output' offline", asked)
    text = tagged_text(nb, "task2-parse")
    expect(text.startswith("8 pairs parsed from the example:"),
           "a line starting '8 pairs parsed from the example:'", text)
    compared = tagged_text(nb, "task2-compare")
    found = re.search(r"Spearman rank correlation \(example, (\d+) words\): (-?[\d.]+)", compared)
    expect(found and int(found.group(1)) == 8 and -1 <= float(found.group(2)) <= 1,
           "'Spearman rank correlation (example, 8 words): <r>' with r in [-1, 1]", compared)
    plot = cell_by_tag(nb, "task2-plot")
    expect(any("image/png" in o.get("data", {}) for o in plot.outputs),
           "a PNG plot from the cell tagged 'task2-plot'")
    text = tagged_text(nb, "exercise-guesses")
    expect("my rank correlation:" in text, "'my rank correlation:'", text)
