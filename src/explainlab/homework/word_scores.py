"""HW7's task 2 helpers: a chat model's ``(word, importance)`` list, read and compared.

``parse_word_scores`` reads the list out of a free-form reply, ``word_scores`` joins
sub-word attributions into words, ``compare_word_scores`` lines the two up by word and
``rank_correlation`` compares their orders. Introduced in lesson 05_homework.
"""

from __future__ import annotations

import ast
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

from ..tokens import clean_tokens

_PUNCTUATION = str.maketrans({
    "“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "「": '"', "」": '"', "『": '"',
    "』": '"', "《": '"', "》": '"', "【": "[", "】": "]", "〔": "(", "〕": ")", "、": ",",
    "。": ".", "−": "-", "–": "-", "—": "-", "→": ":", "⇒": ":",
})
_NUMBER = re.compile(r"(?<![\w.])([+-]?)(\d+(?:\.\d+)?|\.\d+)(%?)(?!\w)(?!\.\d)")
_BULLET = re.compile(r"^\s*(?:[-*•+]|\d{1,3}[.)])\s+")
_QUOTES = "\"'`*_ "
_STRUCTURE_START = re.compile(r"[\[{]")
_MAX_STARTS = 20  # brackets tried as the start (and as the end) of a structure
_WORD_KEYS = ("word", "token", "term", "w", "text", "词", "单词")
_SCORE_KEYS = ("importance", "score", "weight", "value", "attribution", "重要性", "分数")
_SEPARATORS = " \t:=,;-|\"'`*_()[]{}"


def _normalise_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", str(text)).translate(_PUNCTUATION)
    text = text.replace("=>", ":").replace("->", ":")
    text = re.sub(r"<think>.*?</think>", "", text, flags=re.DOTALL)  # Qwen3's reasoning
    # Code fences (``` or ~~~, with or without a language): keep what is inside.
    return re.sub(r"^\s*(```|~~~)[^\n]*$", "", text, flags=re.MULTILINE)


def _to_number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    found = _NUMBER.search(str(value))
    if not found:
        return None
    sign, digits, percent = found.groups()
    number = float(sign + digits)
    return number / 100 if percent else number


def _clean_word(word: Any) -> str:
    return str(word).strip().strip(_SEPARATORS).strip()


def _from_structure(data: Any) -> list[tuple[str, float | None]]:
    """Pairs from a parsed JSON / Python value: dict, list of pairs, list of dicts."""
    pairs: list[tuple[str, float | None]] = []
    if isinstance(data, dict):
        word_key = next((k for k in data if str(k).casefold() in _WORD_KEYS), None)
        if word_key is not None:  # one {"word": ..., "importance": ...} record
            score_key = next((k for k in data if str(k).casefold() in _SCORE_KEYS), None)
            return [(_clean_word(data[word_key]),
                     _to_number(data[score_key]) if score_key is not None else None)]
        if len(data) == 1 and isinstance(next(iter(data.values())), (list, tuple, dict)):
            return _from_structure(next(iter(data.values())))  # {"result": [...]}
        return [(_clean_word(k), _to_number(v)) for k, v in data.items()]
    if isinstance(data, (list, tuple)):
        if len(data) == 2 and isinstance(data[0], str) and not isinstance(data[1], (list, tuple,
                                                                                     dict)):
            return [(_clean_word(data[0]), _to_number(data[1]))]  # a single pair
        for item in data:
            if isinstance(item, dict):
                pairs += _from_structure(item)
            elif isinstance(item, (list, tuple)) and item:
                pairs.append((_clean_word(item[0]),
                              _to_number(item[1]) if len(item) > 1 else None))
            elif isinstance(item, str):
                pairs.append((_clean_word(item), None))
    return [(w, s) for w, s in pairs if w]


def _try_structure(text: str) -> list[tuple[str, float | None]]:
    """The first ``[...]`` or ``{...}`` that parses as JSON or a Python literal with pairs."""
    for start in list(_STRUCTURE_START.finditer(text))[:_MAX_STARTS]:
        begin = start.start()
        closing = "]" if text[begin] == "[" else "}"
        ends = [i for i, char in enumerate(text) if char == closing and i > begin]
        for end in reversed(ends[-_MAX_STARTS:]):  # the longest candidates first
            chunk = text[begin: end + 1]
            for loader in (json.loads, ast.literal_eval):
                try:
                    pairs = _from_structure(loader(chunk))
                except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                    continue
                if pairs:
                    return pairs
    return []


def _has_letter(word: str) -> bool:
    return bool(re.search(r"[^\W\d_]", word))


def _split_pair(chunk: str) -> tuple[str, float | None] | None:
    """``word <sep> number`` (the last number) or a lone quoted/short word."""
    numbers = list(_NUMBER.finditer(chunk))
    if numbers:
        last = numbers[-1]
        word = _clean_word(chunk[: last.start()])
        if not _has_letter(word):
            word = _clean_word(chunk[last.end():])  # "0.8: great"
        sign, digits, percent = last.groups()
        score = float(sign + digits) / (100 if percent else 1)
        return (word, score) if _has_letter(word) else None
    word = _clean_word(chunk)
    if _has_letter(word) and len(word.split()) <= 3:
        return word, None
    return None


def _from_lines(text: str) -> list[tuple[str, float | None]]:
    pairs: list[tuple[str, float | None]] = []
    groups = re.findall(r"\(([^()\n]*)\)", text)
    tuple_like = [g for g in groups if re.search(r"[,:]", g) or _NUMBER.search(g)
                  or re.fullmatch(r"\s*[\"'][^\"']+[\"']\s*", g)]
    if tuple_like:
        for group in tuple_like:
            pair = _split_pair(group)
            if pair:
                pairs.append(pair)
        if pairs:
            return pairs
    for line in text.splitlines():
        line = line.strip()
        if not line or re.fullmatch(r"[|:\-\s]+", line) or line.endswith(":"):
            continue
        if line.count("|") >= 2:  # a Markdown table row
            cells = [c.strip() for c in line.strip("|").split("|")]
            word = next((c for c in cells if c and _NUMBER.fullmatch(c.strip()) is None), None)
            score = next((_to_number(c) for c in cells if _NUMBER.fullmatch(c.strip())), None)
            if word and score is not None:
                pairs.append((_clean_word(word), score))
            continue
        bullet = bool(_BULLET.match(line))
        line = _BULLET.sub("", line)
        inline = list(re.finditer(r"([^\s:=,;]+(?:\s+[^\s:=,;]+){0,2})\s*[:=]\s*([+-]?(?:\d+(?:"
                                  r"\.\d+)?|\.\d+))", line))
        if len(inline) >= 2:  # great: 0.9, boring: -0.8
            pairs += [(_clean_word(m.group(1)), float(m.group(2))) for m in inline
                      if _clean_word(m.group(1))]
            continue
        pair = _split_pair(line)
        quoted = bool(re.match(r"\s*[\"']", line))
        if pair and (pair[1] is not None or bullet or quoted):
            pairs.append(pair)
    return pairs


def parse_word_scores(text: str) -> list[tuple[str, float | None]]:
    """``(word, importance)`` pairs from a chat model's free-form answer (HW7 task 2).

    Tolerates what chat models write: Markdown code fences, a Python list of tuples, JSON
    (a dict, a list of pairs, a list of ``{"word": ..., "importance": ...}``), one pair per
    line (``great: 0.9``, ``- "great" (0.9)``, ``1. great -> 0.9``), Markdown tables, curly
    and Chinese quotes and punctuation (``（“很好”，0.8）``), the Unicode minus, and
    percentages. A pair whose number is missing gets ``None``. Prose lines without a
    number are skipped. Introduced in lesson 05_homework.

    Returns:
        The pairs in the order written (duplicates kept); ``[]`` if none was found.
    """
    text = _normalise_text(text)
    return _try_structure(text) or _from_lines(text)


_SPECIAL_TOKENS = {"[CLS]", "[SEP]", "[PAD]", "<s>", "</s>", "<pad>", "<unk>", "[UNK]"}


def word_scores(token_scores: Iterable[tuple[str, float]]) -> list[tuple[str, float]]:
    """Merge sub-word tokens into words, adding their scores; special tokens are dropped.

    WordPiece continuations (``##ing``) join the word before them; a SentencePiece
    ``▁`` or byte-level ``Ġ`` starts a new word. Use it on an explainer's
    ``word_attributions``. Introduced in lesson 05_homework.
    """
    pairs = [(str(t), float(s)) for t, s in token_scores if str(t) not in _SPECIAL_TOKENS]
    marked = any(t.startswith(("▁", "Ġ")) for t, _ in pairs[1:])
    words: list[list] = []
    for token, score in pairs:
        continues = words and (token.startswith("##") or
                               (marked and not token.startswith(("▁", "Ġ"))
                                and re.match(r"\w", clean_tokens([token])[0] or "")))
        text = clean_tokens([token])[0]
        if continues:
            words[-1][0] += text
            words[-1][1] += score
        else:
            words.append([text, score])
    return [(w, s) for w, s in words]


def _word_key(word: str) -> str:
    return re.sub(r"[^\w']+", "", unicodedata.normalize("NFKC", word).casefold())


def compare_word_scores(claimed: Iterable[tuple[str, float | None]],
                        measured: Iterable[tuple[str, float]]):
    """Line a chat model's claimed importances up with measured attributions, by word.

    Args:
        claimed: ``(word, importance)`` pairs, e.g. from ``parse_word_scores``; pairs
            without a number are left out.
        measured: ``(word, attribution)`` pairs, e.g. ``word_scores(explainer(...))``.

    Returns:
        A DataFrame with a row per claimed word (in the claimed order; a repeated word
        once, with the mean of its scores) and the columns ``claimed`` and ``measured``;
        ``measured`` is NaN for a word that is not in the text. Words are matched
        case-insensitively, without punctuation. Introduced in lesson 05_homework.
    """
    import pandas as pd

    def means(pairs):
        sums: dict[str, list[float]] = {}
        shown: dict[str, str] = {}
        for word, score in pairs:
            key = _word_key(word)
            if not key or score is None or (isinstance(score, float) and math.isnan(score)):
                continue
            sums.setdefault(key, []).append(float(score))
            shown.setdefault(key, _clean_word(word))
        return {k: sum(v) / len(v) for k, v in sums.items()}, shown

    claimed_scores, shown = means(claimed)
    measured_scores, _ = means(measured)
    keys = list(claimed_scores)
    return pd.DataFrame({"claimed": [claimed_scores[k] for k in keys],
                         "measured": [measured_scores.get(k, math.nan) for k in keys]},
                        index=pd.Index([shown[k] for k in keys], name="word"))


def rank_correlation(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rank correlation of two sequences (ties get their average rank).

    Pairs where either value is NaN are left out. Returns NaN with fewer than two pairs
    or when one side is constant. Introduced in lesson 05_homework.
    """
    import pandas as pd

    frame = pd.DataFrame({"x": list(x), "y": list(y)}, dtype=float).dropna()
    if len(frame) < 2:
        return math.nan
    ranks = frame.rank(method="average")
    if ranks["x"].nunique() < 2 or ranks["y"].nunique() < 2:
        return math.nan
    return float(ranks["x"].corr(ranks["y"]))


