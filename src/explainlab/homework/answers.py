"""How an answer is read and judged: tokens normalised, numbers parsed, common mistakes named.

A question's expected answer is turned into a *judge*: a function that takes the learner's
answer and returns a ``Verdict`` (right, or which mistake it looks like). The judge keeps
the expected answer to itself; nothing here hands it out. Introduced in lesson 05_homework.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..tokens import clean_tokens

TIE_MARGIN = 0.005
"""In "which token" questions, every token within this distance of the top score is right."""

# GPT-2's byte-level alphabet writes bytes 0x80-0xFF as these letters; a token with them left
# in was not cleaned (``clean_attribution`` turns ``æĪĳ`` into 我).
_BYTE_LEVEL = re.compile(r"[\u00a1-\u00ff\u0100-\u0143]")
_RAW_MARKS = ("▁", "Ġ", "Ċ", "##")


@dataclass(frozen=True)
class Verdict:
    """What ``check`` concluded about one answer.

    ``reason`` is ``"right"``, ``"none"`` (no answer yet), ``"not_number"``,
    ``"not_candidate"`` (a token the question is not about), ``"uncleaned"`` (a raw token),
    ``"wrong"``, or the name of a known mistake of the question (``Question.mistakes``).
    """

    question: str
    right: bool
    reason: str


Judge = Callable[[Any], str]
"""Takes an answer, returns a verdict's reason."""


def normalize_token(text: Any) -> str:
    """An answer or a token as compared: readable (``clean_tokens``), trimmed, case-folded.

    ``"▁机器"``, ``"机器"``, ``" 机器 "`` and ``"'机器'"`` all become ``"机器"``;
    ``"ĠAmerica"`` and ``"america"`` become ``"america"``; ``"[CLS]"`` becomes ``"[cls]"``.
    Introduced in lesson 05_homework.
    """
    if isinstance(text, (tuple, list)) and text:  # a (token, score) pair: its token
        text = text[0]
    raw = unicodedata.normalize("NFKC", str(text)).strip()
    raw = raw.strip("\"'`“”‘’「」")
    if not raw:
        return ""
    return clean_tokens([raw])[0].strip().casefold()


def as_number(value: Any) -> float | None:
    """A float from an int, a float, a NumPy/PyTorch scalar or a numeric string; else None."""
    if isinstance(value, bool):
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (TypeError, ValueError, RuntimeError):
            return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip().replace("−", "-")
        try:
            return float(text)
        except ValueError:
            return None
    return None


def looks_uncleaned(answer: Any) -> bool:
    """True for a token written as the tokenizer stores it: ``▁``/``Ġ``/``##`` marks, or
    byte-level letters such as ``æĪĳ`` that ``clean_attribution`` would have decoded."""
    text = str(answer[0] if isinstance(answer, (tuple, list)) and answer else answer)
    return any(mark in text for mark in _RAW_MARKS) or bool(_BYTE_LEVEL.search(text))


def top_tokens(scores: Iterable[tuple[str, float]]) -> set[str]:
    """Normalised tokens within ``TIE_MARGIN`` of the highest score (NaN scores skipped)."""
    pairs = [(t, s) for t, s in scores if not math.isnan(s)]
    if not pairs:
        return set()
    best = max(s for _, s in pairs)
    return {normalize_token(t) for t, s in pairs if s >= best - TIE_MARGIN}


def token_judge(scores: Iterable[tuple[str, float]],
                mistakes: Mapping[str, set[str]] | None = None) -> Judge:
    """A judge for "which token" questions: right if the answer is one of the top tokens of
    ``scores``; else the first mistake whose tokens contain it, ``"uncleaned"`` for a raw
    token, ``"not_candidate"`` for a token not in ``scores``, or ``"wrong"``."""
    scores = tuple((str(t), float(s)) for t, s in scores)
    accepted = top_tokens(scores)
    candidates = {normalize_token(t) for t, _ in scores}
    traps = {name: {normalize_token(t) for t in tokens} - accepted
             for name, tokens in (mistakes or {}).items()}

    def judge(answer: Any) -> str:
        given = normalize_token(answer)
        if given in accepted:
            return "right"
        for name, tokens in traps.items():
            if given in tokens:
                return name
        if given not in candidates:
            return "uncleaned" if looks_uncleaned(answer) else "not_candidate"
        return "wrong"

    return judge


def number_judge(value: float, *, tolerance: float,
                 mistakes: Mapping[str, float | Iterable[float] | None] | None = None) -> Judge:
    """A judge for number questions: right within ``tolerance`` of ``value``; else the first
    mistake with a number within ``tolerance`` of the answer (a mistake may list several
    numbers; one within ``tolerance`` of ``value`` cannot be told apart and is dropped), else
    ``"not_number"`` or ``"wrong"``."""
    expected = float(value)
    slack = tolerance + 1e-9

    def numbers(values) -> list[float]:
        values = values if isinstance(values, (list, tuple)) else [values]
        return [float(v) for v in values if v is not None and math.isfinite(float(v))
                and abs(float(v) - expected) > slack]

    traps = {name: numbers(values) for name, values in (mistakes or {}).items()}

    def judge(answer: Any) -> str:
        given = as_number(answer)
        if given is None:
            return "not_number"
        if abs(given - expected) <= slack:
            return "right"
        return next((name for name, values in traps.items()
                     if any(abs(given - v) <= slack for v in values)), "wrong")

    return judge


def rank_of(scores: Iterable[tuple[str, float]], token: str) -> int:
    """The 1-based rank of ``token`` among ``scores``, highest first (ties share the best rank).

    Raises:
        LookupError: the token is not among the scores.
    """
    pairs = [(normalize_token(t), s) for t, s in scores if not math.isnan(s)]
    wanted = normalize_token(token)
    mine = [s for t, s in pairs if t == wanted]
    if not mine:
        raise LookupError(f"No token {token!r} among {', '.join(t for t, _ in pairs)}.")
    return 1 + sum(s > max(mine) for _, s in pairs)
