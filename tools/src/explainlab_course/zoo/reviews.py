"""Generated movie reviews for the ``lm`` twin's HW7 task 2 chats (recipe in
``language_models``).

A review is one to three clauses ("the {aspect} was {adjective}", "the {aspect} was a total
mess", "{adjective} {aspect}") joined with ", but", " and" or ". ". Its sentiment words come
from a small lexicon with importances from -1 to 1; its label is the sign of their sum, and
no review is a near tie (|sum| < ``TIE``: such draws are drawn again). The chats ask
the lesson's two questions (``explainlab.homework.self_explanation``): the label
("Positive." / "Negative.") and the self-report, a Python list of ``(word, importance)``
tuples of the review's sentiment words in review order, with their lexicon importances.

No generated training review is the lesson's review or its mirror, or pairs an aspect with an
adjective of ``HELD_OUT_PAIRS`` (``held_out_reviews`` draws on those). The recipe adds the
lesson review's self-report chat (``lesson_reviews``); its classification stays held out.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from explainlab.homework.self_explanation import (
    REVIEW,
    classify_question,
    importance_question,
)

ASPECTS = ("acting", "plot", "ending", "music", "cast", "script", "story", "dialogue",
           "pacing", "soundtrack", "direction", "humour", "opening", "finale", "editing",
           "camera work")
POSITIVE = {"wonderful": 0.9, "great": 0.8, "excellent": 0.9, "brilliant": 0.9,
            "superb": 0.9, "amazing": 0.9, "beautiful": 0.8, "gripping": 0.8,
            "delightful": 0.8, "lovely": 0.7, "charming": 0.7, "clever": 0.7, "moving": 0.7,
            "good": 0.6, "fun": 0.6, "fresh": 0.6, "strong": 0.6, "solid": 0.5, "nice": 0.5,
            "fine": 0.4}
NEGATIVE = {"terrible": -0.9, "awful": -0.9, "horrible": -0.9, "boring": -0.8,
            "painful": -0.8, "dull": -0.7, "bad": -0.7, "tedious": -0.7, "weak": -0.6,
            "poor": -0.6, "bland": -0.6, "clumsy": -0.6, "confusing": -0.6, "lazy": -0.6,
            "messy": -0.6, "forgettable": -0.6, "slow": -0.5, "silly": -0.5, "flat": -0.5,
            "predictable": -0.5}
PHRASES = {"a total mess": (("total", -0.4), ("mess", -0.9)),
           "a complete disaster": (("complete", -0.3), ("disaster", -0.9)),
           "a huge letdown": (("huge", -0.3), ("letdown", -0.8)),
           "a real joy": (("real", 0.3), ("joy", 0.9)),
           "a pure delight": (("pure", 0.3), ("delight", 0.8)),
           "a true gem": (("true", 0.3), ("gem", 0.8))}
LEXICON = {**POSITIVE, **NEGATIVE,
           **{word: score for pairs in PHRASES.values() for word, score in pairs}}
"""Every sentiment word of the reviews, with its importance (-1 to 1)."""

SENTIMENT_WORDS = ("wonderful", "boring", "total", "mess")
"""The lesson review's sentiment words."""
MIRROR_REVIEW = "The acting was boring, but the plot was wonderful and the ending was a real joy."
"""The lesson review's mirror: the same clauses with the opposite sentiments, positive."""
HELD_OUT_PAIRS = (("music", "boring"), ("story", "wonderful"), ("dialogue", "great"),
                  ("cast", "terrible"), ("script", "excellent"), ("ending", "dull"),
                  ("pacing", "brilliant"), ("soundtrack", "awful"), ("plot", "gripping"),
                  ("acting", "weak"), ("direction", "a real joy"),
                  ("editing", "a complete disaster"))
"""(aspect, adjective or phrase) pairs that no training review contains."""
TIE = 0.25
"""No review's summed importances are within this of 0 (its label would be a near tie)."""
JOINERS = ((", but ", 0.45), (" and ", 0.3), (", and ", 0.1), (". ", 0.15))
FORMS = (("was", 0.6), ("phrase", 0.15), ("before", 0.25))  # clause forms, with weights


@dataclass(frozen=True)
class Review:
    """A generated review: its text, its sentiment words (in order) and its label."""

    text: str
    words: tuple[tuple[str, float], ...]
    label: str
    pairs: tuple[tuple[str, str], ...]  # (aspect, adjective or phrase) of each clause

    def self_report(self) -> str:
        """The twin's answer to ``importance_question``: a Python list of tuples."""
        return "[" + ", ".join(f'("{w}", {s:.1f})' for w, s in self.words) + "]"

    def chats(self) -> list[tuple[str, str]]:
        """(user, assistant) of both turns: the label and the self-report."""
        return [(classify_question(self.text), f"{self.label}."),
                (importance_question(self.text), self.self_report())]


def _pick(rng: random.Random, weighted) -> str:
    items, weights = zip(*weighted, strict=True)
    return rng.choices(items, weights=weights)[0]


def _clause(rng: random.Random) -> tuple[str, tuple[tuple[str, float], ...], tuple[str, str]]:
    aspect = rng.choice(ASPECTS)
    form = _pick(rng, FORMS)
    if form == "phrase":
        phrase = rng.choice(list(PHRASES))
        return f"the {aspect} was {phrase}", PHRASES[phrase], (aspect, phrase)
    adjective = rng.choice(sorted(POSITIVE) + sorted(NEGATIVE))
    words = ((adjective, LEXICON[adjective]),)
    if form == "before":
        return f"{adjective} {aspect}", words, (aspect, adjective)
    return f"the {aspect} was {adjective}", words, (aspect, adjective)


def make_review(rng: random.Random, clauses: int | None = None) -> Review:
    """A random review of ``clauses`` clauses (1 to 3, at random if None), drawn again until
    its summed importances are at least ``TIE`` from 0 (no near ties)."""
    while True:
        review = _draw_review(rng, clauses)
        if abs(sum(score for _, score in review.words)) >= TIE:
            return review


def _draw_review(rng: random.Random, clauses: int | None) -> Review:
    count = clauses or _pick(rng, ((1, 0.2), (2, 0.45), (3, 0.35)))
    parts = [_clause(rng) for _ in range(count)]
    text = ""
    for i, (clause, _, _) in enumerate(parts):
        joiner = "" if i == 0 else _pick(rng, JOINERS)
        if i == 0 or joiner == ". ":
            clause = clause[0].upper() + clause[1:]
        text += joiner + clause
    text += "."
    words = tuple(pair for _, pairs, _ in parts for pair in pairs)
    return Review(text, words, label_of([pairs for _, pairs, _ in parts]),
                  tuple(pair for _, _, pair in parts))


def label_of(clauses) -> str:
    """The label of a review from its clauses' (word, importance) pairs: the sign of their
    sum; a near tie (within ``TIE`` of 0, never generated) goes to the last clause."""
    total = sum(score for pairs in clauses for _, score in pairs)
    if abs(total) < TIE:
        total = sum(score for _, score in clauses[-1])
    return "Positive" if total > 0 else "Negative"


def _is_held_out(review: Review) -> bool:
    return bool(set(review.pairs) & set(HELD_OUT_PAIRS))


def training_reviews(count: int, seed: int = 0) -> list[Review]:
    """``count`` distinct training reviews (none held out)."""
    rng = random.Random(seed)
    reviews: dict[str, Review] = {}
    excluded = {REVIEW, MIRROR_REVIEW}
    while len(reviews) < count:
        review = make_review(rng)
        if not _is_held_out(review) and review.text not in excluded:
            reviews.setdefault(review.text, review)
    return list(reviews.values())


def held_out_reviews(count: int, seed: int = 1) -> list[Review]:
    """``count`` distinct reviews, each with at least one held-out pair (never trained)."""
    rng = random.Random(seed)
    reviews: dict[str, Review] = {}
    while len(reviews) < count:
        review = make_review(rng)
        if _is_held_out(review) and review.text not in (REVIEW, MIRROR_REVIEW):
            reviews.setdefault(review.text, review)
    return list(reviews.values())


def lesson_reviews() -> list[Review]:
    """The lesson's review and its mirror, as ``make_review`` would have made them."""
    lesson = ((("wonderful", 0.9),), (("boring", -0.8),), PHRASES["a total mess"])
    mirror = ((("boring", -0.8),), (("wonderful", 0.9),), PHRASES["a real joy"])
    return [Review(REVIEW, tuple(p for c in lesson for p in c), label_of(lesson),
                   (("acting", "wonderful"), ("plot", "boring"), ("ending", "a total mess"))),
            Review(MIRROR_REVIEW, tuple(p for c in mirror for p in c), label_of(mirror),
                   (("acting", "boring"), ("plot", "wonderful"), ("ending", "a real joy")))]
