"""Claims of lesson 05_homework, on the offline profile: every check cell ran and said "no
answer yet" (the lesson holds only placeholders), and Task 2 ran on its stated example."""

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
def the_translator_and_the_forced_continuation(nb):
    """The translator twin prints the lesson's translation; the forced continuation prints two
    probabilities (George, Washington); the head view is drawn."""
    from ..zoo import translation

    text = tagged_text(nb, "check-translation")
    expect(text.strip() == translation.LESSON_TRANSLATION,
           f"exactly {translation.LESSON_TRANSLATION!r}", text)
    text = tagged_text(nb, "check-forced")
    probabilities = re.search(r"probability of each forced token: \[([^\]]*)\]", text)
    expect(probabilities and len(probabilities.group(1).split()) == 2,
           "'probability of each forced token: [p1 p2]' with two numbers (George, Washington)",
           text)
    expect(has_html(cell_by_tag(nb, "check-head-view")), "an HTML head view", text)


def _asks_for_an_answer(qid: str):
    def check_cell_asks_for_an_answer(nb):
        cell = cell_by_tag(nb, f"check-{qid}")
        code = (f'answer = None\nresults["{qid}"] = explainlab.homework.check("{qid}", '
                "answer)")
        expect(strip_comments(cell.source) == code,
               f"the check cell of {qid} to hold only (comments aside):\n{excerpt(code)}\n"
               "its source", cell.source)
        text = tagged_text(nb, f"check-{qid}")
        wanted = [f"{qid}: no answer yet. Replace None with your answer and run the cell again.",
                  f"{qid}：还没有作答。把 None 换成你的答案，再运行一次这个单元格。"]
        expect(text.splitlines() == wanted, f"exactly the lines {wanted}", text)

    check_cell_asks_for_an_answer.__name__ = f"check_cell_of_{qid}_asks_for_an_answer"
    check_cell_asks_for_an_answer.__qualname__ = check_cell_asks_for_an_answer.__name__
    check_cell_asks_for_an_answer.__doc__ = (
        f"The check cell of {qid} holds only the placeholder (answer = None) and ran, saying "
        "in both languages that there is no answer yet.")
    return check_cell_asks_for_an_answer


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
