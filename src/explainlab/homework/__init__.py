"""Homework in the style of NTU HW7: questions answered with your own code, checked on the spot.

Lesson 05_homework shows each tool on one input and asks about another: the learner writes
the attribution call, reads the number and calls ``check("q1", answer)``. The expected
answer is written nowhere: the checker computes it, the first time it is needed, from the
model that the active profile gives for the question's role (``explainlab.resolve``), and
keeps it to itself. A wrong answer gets a hint, naming the mistake when it is a common one
(the attention value given for a saliency question, a transposed cell, the wrong step, a
token left uncleaned). The same checks hold on the real models (profile ``hub``) and on the
offline twins.

Task 2 (a chat model's ``(word, importance)`` list against real attributions) uses
``parse_word_scores``, ``word_scores``, ``compare_word_scores`` and ``rank_correlation``.
Teachers grade submissions with the course factory (``explainlab homework grade``).

Introduced in lesson 05_homework.
"""

from __future__ import annotations

from typing import Any

from . import self_explanation
from ._models import completion_model, free_memory, scores_table
from .answers import TIE_MARGIN, Verdict, normalize_token
from .questions import NUMBER_TOLERANCE, Question, get_question, judge, list_questions
from .word_scores import compare_word_scores, parse_word_scores, rank_correlation, word_scores

LANGS = ("en", "zh")

_MESSAGES = {
    "none": {"en": "{q}: no answer yet. Replace None with your answer and run the cell again.",
             "zh": "{q}：还没有作答。把 None 换成你的答案，再运行一次这个单元格。"},
    "right": {"en": "✓ {q}: right!", "zh": "✓ {q}：答对了！"},
    "wrong": {"en": "✗ {q}: not quite. Hint: {hint}", "zh": "✗ {q}：不对。提示：{hint}"},
    "not_number": {"en": "{answer!r} is not a number: answer with a number such as 0.25.",
                   "zh": "{answer!r} 不是数字：请用数字作答，例如 0.25。"},
    "not_candidate": {"en": "{answer!r} is not one of the tokens in question: write the token "
                            "as your cleaned table shows it.",
                      "zh": "{answer!r} 不在候选词元之中：请照你清理过的表格上显示的样子"
                            "写这个词元。"},
    "uncleaned": {"en": "{answer!r} is a raw token, as the tokenizer stores it: pass the output "
                        "through explainlab.clean_attribution (lesson 01) and answer with the "
                        "token as the cleaned table shows it.",
                  "zh": "{answer!r} 是分词器内部的原始词元：先用 explainlab.clean_attribution "
                        "清理输出（第 01 课），再照清理后的表格写这个词元。"},
}
_SPACE = {"en": " ", "zh": ""}  # between sentences


def verdict(question: str, answer: Any) -> Verdict:
    """Judge an answer without printing anything (the grader's call; ``check`` prints it).

    Args:
        question: a question id, e.g. ``"q1"`` (see ``list_questions()``).
        answer: the learner's answer; ``None`` means "not answered yet".

    Returns:
        A ``Verdict``: right or not, and why (a known mistake's name where it is one).

    Raises:
        UnknownQuestionError: (a ``KeyError``) ``question`` is not a question id.
    """
    entry = get_question(question)
    if answer is None:
        return Verdict(entry.qid, False, "none")
    reason = judge(entry.qid)(answer)
    return Verdict(entry.qid, reason == "right", reason)


def explain_verdict(result: Verdict, answer: Any, *, lang: str | None = None) -> str:
    """The message ``check`` prints for ``result``: one line per language (both by default)."""
    if lang is not None and lang not in LANGS:
        raise ValueError(f"Unknown language {lang!r}: use 'en', 'zh' or None (both).")
    entry = get_question(result.question)
    lines = []
    for code in LANGS if lang is None else (lang,):
        if result.reason in ("none", "right"):
            lines.append(_MESSAGES[result.reason][code].format(q=entry.qid))
            continue
        hint = entry.hint[code]
        if result.reason in entry.mistakes:
            hint = entry.mistakes[result.reason][code] + _SPACE[code] + hint
        elif result.reason in _MESSAGES:
            hint = _MESSAGES[result.reason][code].format(answer=answer) + _SPACE[code] + hint
        lines.append(_MESSAGES["wrong"][code].format(q=entry.qid, hint=hint))
    return "\n".join(lines)


def check(question: str, answer: Any, *, lang: str | None = None) -> bool:
    """Check a homework answer and print whether it is right, with a hint when it is not.

    The expected answer is computed from the model of the active profile the first time a
    question needs it (once per process). Tokens are compared as ``normalize_token`` makes
    them (readable, trimmed, case-insensitive; every token within ``TIE_MARGIN`` of the top
    score counts), numbers within ``NUMBER_TOLERANCE``, ranks exactly. Introduced in lesson
    05_homework.

    Args:
        question: a question id, e.g. ``"q1"`` (see ``list_questions()``).
        answer: the learner's answer; ``None`` means "not answered yet": a reminder is
            printed, nothing is computed, and the notebook goes on.
        lang: ``"en"`` or ``"zh"`` for messages in one language; ``None`` (default) prints
            both, so the same call serves the English and the Chinese lesson.

    Returns:
        True if the answer is right, False otherwise (or when there is no answer yet).

    Raises:
        UnknownQuestionError: (a ``KeyError``) ``question`` is not a question id.
        ValueError: ``lang`` is neither ``"en"``, ``"zh"`` nor ``None``.
    """
    if lang is not None and lang not in LANGS:
        raise ValueError(f"Unknown language {lang!r}: use 'en', 'zh' or None (both).")
    result = verdict(question, answer)
    print(explain_verdict(result, answer, lang=lang))
    return result.right


__all__ = [
    "NUMBER_TOLERANCE",
    "TIE_MARGIN",
    "Question",
    "Verdict",
    "check",
    "compare_word_scores",
    "completion_model",
    "explain_verdict",
    "free_memory",
    "get_question",
    "list_questions",
    "normalize_token",
    "parse_word_scores",
    "rank_correlation",
    "scores_table",
    "self_explanation",
    "verdict",
    "word_scores",
]
