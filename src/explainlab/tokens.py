"""Readable tokens for heatmaps and tables: SentencePiece, byte-level BPE, WordPiece.

Lesson 01 (MT attribution) introduces ``clean_tokens`` and ``clean_attribution``.
Cleaning never changes the number of tokens, so cleaned labels stay aligned
with the attribution scores.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

SPIECE_MARK = "▁"
WORDPIECE_MARK = "##"
CONTRAST_ARROW = " → "  # Inseq labels a contrastive step "contrast → target"
_SPECIAL = re.compile(r"^(<\|[^|]*\|>|<[^<>\s]{1,40}>|\[[A-Z_]{2,12}\])$")
# Checked in order: DeBERTa v2 is SentencePiece, DeBERTa v1 byte-level BPE.
_FAMILY_BY_CLASS = (
    ("debertav2", "sentencepiece"), ("deberta", "bytelevel"), ("gpt2", "bytelevel"),
    ("qwen", "bytelevel"), ("roberta", "bytelevel"), ("bart", "bytelevel"),
    ("marian", "sentencepiece"), ("t5", "sentencepiece"), ("xlnet", "sentencepiece"),
    ("albert", "sentencepiece"), ("camembert", "sentencepiece"),
    ("bert", "wordpiece"), ("electra", "wordpiece"),
)
_VISIBLE_WHITESPACE = {" ": "␣", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


@lru_cache(maxsize=1)
def _byte_decoder() -> dict[str, int]:
    """GPT-2's printable stand-ins for the 256 byte values, reversed (char -> byte)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1),
                 *range(ord("®"), ord("ÿ") + 1)]
    chars = {b: chr(b) for b in printable}
    shift = 0
    for b in range(256):
        if b not in chars:
            chars[b] = chr(256 + shift)
            shift += 1
    return {char: byte for byte, char in chars.items()}


def _family(tokens: Sequence[str], tokenizer=None) -> str:
    """Guess the tokenizer family: ``sentencepiece``, ``bytelevel``, ``wordpiece`` or ``plain``."""
    if tokenizer is not None:
        name = type(tokenizer).__name__.lower()
        for key, family in _FAMILY_BY_CLASS:
            if key in name:
                return family
    joined = "".join(tokens)
    if SPIECE_MARK in joined:
        return "sentencepiece"
    shifted = {chr(256 + i) for i in range(68)}
    if any(char in shifted for char in joined):
        return "bytelevel"
    if any(t.startswith(WORDPIECE_MARK) and len(t) > 2 for t in tokens):
        return "wordpiece"
    return "plain"


def _specials(tokenizer) -> set[str]:
    if tokenizer is None:
        return set()
    names = set(getattr(tokenizer, "all_special_tokens", []) or [])
    added = getattr(tokenizer, "added_tokens_decoder", {}) or {}
    names.update(str(tok) for tok in added.values() if getattr(tok, "special", False))
    return names


def _visible(text: str) -> str:
    stripped = text.strip()
    if stripped:
        return stripped
    return "".join(_VISIBLE_WHITESPACE.get(char, char) for char in text) or text


def _decode_bytelevel(tokens: Sequence[str], keep: Sequence[bool]) -> list[str]:
    """Decode byte-level tokens; a character split over several tokens is shown on each piece."""
    decoder = _byte_decoder()
    out = list(tokens)
    pending: list[tuple[int, bytes]] = []
    for index, token in enumerate(tokens):
        if keep[index] or any(char not in decoder for char in token):
            pending = []
            continue
        raw = bytes(decoder[char] for char in token)
        if not pending:
            try:
                out[index] = _visible(raw.decode("utf-8"))
                continue
            except UnicodeDecodeError:
                pass
        pending.append((index, raw))
        joined = b"".join(piece for _, piece in pending)
        try:
            text = _visible(joined.decode("utf-8"))
        except UnicodeDecodeError:
            if len(joined) > 16:  # not a split character after all: show bytes
                for i, piece in pending:
                    out[i] = piece.decode("utf-8", errors="backslashreplace")
                pending = []
            continue
        for part, (i, _) in enumerate(pending, start=1):
            out[i] = f"{text}({part}/{len(pending)})"
        pending = []
    for i, piece in pending:  # a sequence cut inside a character
        out[i] = piece.decode("utf-8", errors="backslashreplace")
    return out


def clean_tokens(tokens: Iterable[str], tokenizer=None) -> list[str]:
    """Make tokens readable; special tokens stay as they are.

    - SentencePiece ``▁I`` -> ``I``;
    - byte-level BPE ``ĠParis`` -> ``Paris``, ``æĪĳ`` -> ``我``, a character
      split over two tokens -> ``我(1/2)``, ``我(2/2)``;
    - WordPiece ``##ing`` -> ``ing``;
    - a token that is only whitespace becomes visible (``␣``, ``\\n``).
    - Inseq's contrastive labels ``ĠLondon → ĠParis`` -> ``London → Paris``.

    Args:
        tokens: token strings as the tokenizer produced them.
        tokenizer: optional; used to recognise the family and the special tokens.

    Returns:
        A list of the same length as ``tokens``.
    """
    tokens = [str(t) for t in tokens]
    if any(CONTRAST_ARROW in t for t in tokens):  # Inseq's "contrast → target" labels
        parts = [t.split(CONTRAST_ARROW) for t in tokens]
        flat = iter(clean_tokens([piece for pieces in parts for piece in pieces], tokenizer))
        return [CONTRAST_ARROW.join(next(flat) for _ in pieces) for pieces in parts]
    specials = _specials(tokenizer)
    keep = [t in specials or bool(_SPECIAL.match(t)) for t in tokens]
    family = _family([t for t, k in zip(tokens, keep, strict=True) if not k], tokenizer)
    if family == "bytelevel":
        return _decode_bytelevel(tokens, keep)
    cleaned = []
    for token, special in zip(tokens, keep, strict=True):
        if special:
            cleaned.append(token)
        elif family == "sentencepiece":
            cleaned.append(_visible(token.replace(SPIECE_MARK, " ")) if token != SPIECE_MARK
                           else "␣")
        elif family == "wordpiece" and token.startswith(WORDPIECE_MARK) and len(token) > 2:
            cleaned.append(token[len(WORDPIECE_MARK):])
        else:
            cleaned.append(_visible(token))
    return cleaned


def _float32(value):
    """``value`` with its bfloat16/float16 tensors (also inside a dict) in float32."""
    if isinstance(value, dict):
        return {key: _float32(item) for key, item in value.items()}
    if getattr(value, "is_floating_point", lambda: False)() and value.element_size() < 4:
        return value.float()
    return value


def clean_attribution(output, tokenizer=None):
    """Return a copy of an Inseq ``FeatureAttributionOutput`` with readable tokens.

    Source and target tokens of every sequence are cleaned with ``clean_tokens``. Scores of
    a model run in bfloat16 or float16 (attributions, step scores) become float32, which
    Inseq's ``show()`` and NumPy need; their values are untouched. The original output is
    not changed. Introduced in lesson 01_mt_attribution.
    """
    cleaned = copy.deepcopy(output)
    for sequence in cleaned.sequence_attributions:
        for name in ("source_attributions", "target_attributions", "step_scores",
                     "sequence_scores"):
            if getattr(sequence, name, None) is not None:
                setattr(sequence, name, _float32(getattr(sequence, name)))
        for side in ("source", "target"):
            entries = getattr(sequence, side, None)
            if not entries:
                continue
            texts = clean_tokens([entry.token for entry in entries], tokenizer)
            for entry, text in zip(entries, texts, strict=True):
                entry.token = text
    return cleaned
