"""Lesson claims: what a lesson's prose says about its outputs, checked on the executed notebook.

A *claim* is a small function of an executed lesson notebook, ``claim(nb)`` or, when it
depends on the language, ``claim(nb, lang)``; a *paired* claim compares the two languages,
``claim(en, zh)``. A claim returns nothing when it holds and raises ``AssertionError`` saying
what was expected and what the notebook printed when it does not. Its function name and its
docstring's first paragraph (one sentence) name it in every report.

Claims register by the lesson's slug, one module per lesson (``mt_attribution`` for
``01_mt_attribution``, ...), with the decorators ``claim`` and ``paired_claim``; claims
registered for ``EVERY_LESSON`` apply to every lesson, a course lesson or not. A claim holds
for the profile it was written for: the lessons' claims describe the offline twins' outputs
(``profiles=("offline",)``, the default), the claims of every lesson hold on any profile.

Who checks them:

- ``explainlab_course.lessons.execute`` checks a lesson's claims each time it returns a notebook
  (executed or from the cache) and raises ``LessonClaimError`` listing the failed ones;
  ``python -m explainlab_course.lessons run`` (``make lessons``, ``make site``) also checks the
  paired claims once both languages of a lesson are executed, and exits non-zero;
- the site's hook refuses a page whose claims fail;
- ``tests/lessons/test_0N_*.py`` call the same functions, one test per claim and language.

Adding a claim to lesson 03::

    # tools/src/explainlab_course/claims/classification_explainers.py
    @claim(SLUG)
    def the_classifier_says_positive(nb):
        \"\"\"The sentiment twin calls "I love you, I like you" POSITIVE with p > 0.9.\"\"\"
        text = tagged_text(nb, "check-prediction")
        expect(..., "POSITIVE above 0.9", text)

A tag is set on the lesson cell with Jupytext: ``# %% tags=["check-prediction"]``.
"""

from __future__ import annotations

import importlib
import inspect
import io
import math
import tokenize
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from explainlab.errors import UnknownClaimError

EVERY_LESSON = "*"
"""The slug under which claims that hold for every lesson register."""

# Modules whose import registers claims (one per lesson); loaded on first use.
CLAIM_MODULES = ("every_lesson", "mt_attribution", "llm_attribution",
                 "classification_explainers", "bertviz_attention", "homework",
                 "testing_explanations")

_CLAIMS: dict[str, dict[str, Claim]] = {}


@dataclass(frozen=True)
class Claim:
    """One registered claim: the lesson it belongs to, its function, and when it applies."""

    slug: str
    function: Callable[..., None]
    paired: bool = False
    profiles: tuple[str, ...] | None = ("offline",)
    """The profiles whose outputs it describes; ``None``: every profile."""

    @property
    def name(self) -> str:
        return self.function.__name__

    @property
    def summary(self) -> str:
        """The docstring's first sentence-paragraph, on one line."""
        doc = (inspect.getdoc(self.function) or "").strip()
        return " ".join(doc.split("\n\n")[0].split())

    @property
    def wants_lang(self) -> bool:
        return "lang" in inspect.signature(self.function).parameters

    def applies_to(self, profile: str | None) -> bool:
        return self.profiles is None or profile is None or profile in self.profiles

    def __call__(self, *notebooks: Any, lang: str | None = None) -> None:
        """Check it: ``claim(nb, lang=...)``, or ``claim(en, zh)`` for a paired claim."""
        if self.paired:
            return self.function(*notebooks)
        if self.wants_lang:
            return self.function(*notebooks, lang=lang)
        return self.function(*notebooks)

    def __str__(self) -> str:
        return f"{self.name} ({self.summary})" if self.summary else self.name


def _register(slug: str, *, paired: bool, profiles: tuple[str, ...] | None):
    def decorator(function: Callable[..., None]) -> Callable[..., None]:
        if not (inspect.getdoc(function) or "").strip():
            raise ValueError(f"Claim {function.__name__} of {slug} needs a docstring: its first "
                             "line names the claim in every report.")
        _CLAIMS.setdefault(slug, {})[function.__name__] = Claim(slug, function, paired, profiles)
        return function
    return decorator


def claim(slug: str, *, profiles: tuple[str, ...] | None = ("offline",)):
    """Decorator: register ``function(nb)`` or ``function(nb, lang)`` as a claim of ``slug``
    (``EVERY_LESSON`` for all lessons), keyed by the function's name."""
    return _register(slug, paired=False, profiles=profiles)


def paired_claim(slug: str, *, profiles: tuple[str, ...] | None = ("offline",)):
    """Decorator: register ``function(en, zh)``, a claim comparing the English and the Chinese
    notebooks of ``slug``."""
    return _register(slug, paired=True, profiles=profiles)


def _load_all() -> None:
    for name in CLAIM_MODULES:
        importlib.import_module(f"{__name__}.{name}")


def list_lessons() -> list[str]:
    """Slugs of the lessons that have claims of their own, sorted."""
    _load_all()
    return sorted(slug for slug in _CLAIMS if slug != EVERY_LESSON)


def list_claims(slug: str, *, paired: bool = False, profile: str | None = None) -> list[Claim]:
    """The claims that apply to lesson ``slug``: its own, in the order they are defined, then
    (not paired) those of every lesson. ``profile``: only those that hold on it."""
    _load_all()
    own = list(_CLAIMS.get(slug, {}).values())
    every = [] if paired or slug == EVERY_LESSON else list(_CLAIMS.get(EVERY_LESSON, {}).values())
    return [c for c in own + every if c.paired == paired and c.applies_to(profile)]


def get_claim(slug: str, name: str) -> Claim:
    """The claim ``name`` of lesson ``slug`` (or of every lesson).

    Raises:
        UnknownClaimError: no such claim; the message lists the lesson's claims.
    """
    _load_all()
    for owner in (slug, EVERY_LESSON):
        if name in _CLAIMS.get(owner, {}):
            return _CLAIMS[owner][name]
    known = [c.name for c in list_claims(slug) + list_claims(slug, paired=True)]
    raise UnknownClaimError(f"Lesson {slug} has no claim {name!r}. Its claims: "
                            f"{', '.join(known) or 'none'}.")


@dataclass(frozen=True)
class Failure:
    """A claim that did not hold: which one, in which language (``None``: a paired claim), and
    why."""

    claim: Claim
    lang: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.claim}: {self.message}"


def _run(claim_: Claim, notebooks: Sequence[Any], lang: str | None) -> Failure | None:
    try:
        claim_(*notebooks, lang=lang)
    except AssertionError as exc:
        return Failure(claim_, lang, str(exc) or "the claim does not hold")
    except Exception as exc:  # a claim that cannot even read the outputs fails too
        return Failure(claim_, lang, f"could not be checked: {type(exc).__name__}: {exc}")
    return None


def notebook_profile(nb: Any) -> str | None:
    """The profile ``explainlab_course.lessons.execute`` recorded in the notebook, if any."""
    return nb.get("metadata", {}).get("explainlab", {}).get("profile")


def check(nb: Any, lang: str | None, slug: str, *, profile: str | None = None) -> list[Failure]:
    """Every claim of lesson ``slug`` (and of every lesson) that fails on ``nb``.

    Args:
        nb: the executed notebook.
        lang: its language; ``None`` for a file that is not a course lesson in a language
            folder (a variant, such as a copy with answers filled in): only the claims of
            every lesson apply to it.
        slug: ``01_mt_attribution``, ...
        profile: the profile that produced the outputs; defaults to the one recorded in the
            notebook's metadata.
    """
    profile = profile or notebook_profile(nb)
    claims = list_claims(slug if lang is not None else EVERY_LESSON, profile=profile)
    return [f for f in (_run(c, [nb], lang) for c in claims) if f is not None]


def check_pair(en: Any, zh: Any, slug: str, *, profile: str | None = None) -> list[Failure]:
    """Every paired claim of lesson ``slug`` that fails on its English and Chinese notebooks."""
    profile = profile or notebook_profile(en)
    claims = list_claims(slug, paired=True, profile=profile)
    return [f for f in (_run(c, [en, zh], None) for c in claims) if f is not None]


# --------------------------------------------------------------------------- reading outputs


def cells_with_tag(nb: Any, tag: str) -> list:
    """Every cell carrying the Jupytext tag ``tag``."""
    return [c for c in nb.cells if tag in c.get("metadata", {}).get("tags", [])]


def cell_by_tag(nb: Any, tag: str):
    """The one cell tagged ``tag``.

    Raises:
        AssertionError: no cell or several carry it; the message lists the tags there are.
    """
    found = cells_with_tag(nb, tag)
    if len(found) != 1:
        tags = sorted({t for c in nb.cells for t in c.get("metadata", {}).get("tags", [])})
        raise AssertionError(f"{len(found)} cells tagged {tag!r} (one expected); tags: {tags}")
    return found[0]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "".join(value)


def text_outputs(cell: Any, *, html: bool = True) -> str:
    """A cell's text outputs joined: stdout streams, ``text/plain`` and ``text/html``."""
    parts: list[str] = []
    streaming = False  # stdout may arrive in several chunks, cut anywhere: glue them back
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "stream" and output.get("name") == "stdout":
            text = _text(output.get("text", ""))
            if streaming:
                parts[-1] += text
            else:
                parts.append(text)
            streaming = True
        elif kind in ("execute_result", "display_data"):
            streaming = False
            data = output.get("data", {})
            for mime in ("text/plain", "text/html") if html else ("text/plain",):
                value = data.get(mime)
                if value is not None:
                    parts.append(_text(value))
    return "\n".join(parts)


def tagged_text(nb: Any, tag: str, *, html: bool = True) -> str:
    """``text_outputs`` of the one cell tagged ``tag``."""
    return text_outputs(cell_by_tag(nb, tag), html=html)


def has_html(cell: Any) -> bool:
    """Whether the cell displayed something as ``text/html``."""
    return any("text/html" in o.get("data", {}) for o in cell.get("outputs", []))


def html_outputs(cell: Any) -> list[str]:
    """The ``text/html`` outputs of a cell, in order."""
    return [_text(o["data"]["text/html"]) for o in cell.get("outputs", [])
            if "text/html" in o.get("data", {})]


def first_code_cell_text(nb: Any) -> str:
    """What the first code cell (the lesson's ``setup()``) wrote to its streams."""
    first = next((c for c in nb.cells if c.cell_type == "code"), None)
    if first is None:
        raise AssertionError("the notebook has no code cell")
    return "".join(_text(o.get("text", "")) for o in first.get("outputs", []))


def banner_names_the_offline_profile(nb: Any) -> None:
    """The setup banner in the first code cell says "profile offline"."""
    text = first_code_cell_text(nb)
    expect("profile offline" in text, '"profile offline" in the first cell\'s banner', text)


def both_languages_print_the_same(en: Any, zh: Any) -> None:
    """The English and the Chinese lesson run the same code on the same models: every code
    cell prints the same text (HTML aside)."""
    expect(len(en.cells) == len(zh.cells),
           f"as many cells in English as in Chinese ({len(en.cells)} and {len(zh.cells)})")
    for index, (a, b) in enumerate(zip(en.cells, zh.cells, strict=True), start=1):
        if a.cell_type != "code":
            continue
        left, right = text_outputs(a, html=False), text_outputs(b, html=False)
        expect(left == right, f"cell {index} to print the same in both languages; English:\n"
               f"{excerpt(left, 600)}\nChinese:\n{excerpt(right, 600)}")


def strip_comments(source: str) -> str:
    """Code without ``#`` comments: comment-only lines dropped, trailing comments cut."""
    lines = source.splitlines()
    try:
        comments = [tok for tok in tokenize.generate_tokens(io.StringIO(source).readline)
                    if tok.type == tokenize.COMMENT]
    except (tokenize.TokenError, SyntaxError):  # IPython magics: fall back to whole lines
        return "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    dropped = set()
    for tok in reversed(comments):
        row, col = tok.start
        line = lines[row - 1]
        lines[row - 1] = line[:col].rstrip()
        if not line[:col].strip():
            dropped.add(row - 1)
    return "\n".join(line for i, line in enumerate(lines) if i not in dropped)


# --------------------------------------------------------------------------- failing clearly

SHOWN = 1500
"""At most this many characters of a printed output go into a failure message."""


def excerpt(text: Any, limit: int = SHOWN) -> str:
    """``text`` indented for a message, cut after ``limit`` characters."""
    text = text if isinstance(text, str) else repr(text)
    if len(text) > limit:
        text = text[:limit] + f"\n... ({len(text) - limit} more characters)"
    return "\n".join("    | " + line for line in (text.splitlines() or [""]))


_NOTHING = object()


def expect(condition: Any, expected: str, printed: Any = _NOTHING) -> None:
    """Raise ``AssertionError("expected <expected>; the notebook printed: ...")`` unless
    ``condition`` holds. ``printed``: the output the claim read (text, or any value)."""
    __tracebackhide__ = True  # a failing test shows the claim's line, not this one
    if condition:
        return
    message = f"expected {expected}"
    if printed is not _NOTHING:
        message += f"; the notebook printed:\n{excerpt(printed)}"
    raise AssertionError(message)


def fail(expected: str, printed: Any = _NOTHING) -> NoReturn:
    """Raise the ``AssertionError`` of ``expect`` for a condition known to be false."""
    __tracebackhide__ = True
    expect(False, expected, printed)
    raise AssertionError(f"expected {expected}")  # not reached


def lookup(mapping: dict, key: Any, what: str, printed: Any = _NOTHING) -> Any:
    """``mapping[key]``, or an ``AssertionError`` saying which ``what`` was missing."""
    expect(key in mapping, f"{what} {key!r} (found: {list(mapping)})", printed)
    return mapping[key]


def close(actual: Any, expected: Any, *, rel: float | None = None,
          abs: float | None = None) -> bool:
    """Whether ``actual`` equals ``expected`` within a tolerance, as ``pytest.approx`` decides:
    numbers or equally long sequences of numbers; without ``rel`` and ``abs`` a relative
    1e-6 (absolute 1e-12); with ``abs`` alone only that absolute tolerance; with both, either.
    """
    if isinstance(expected, (list, tuple)):
        return (isinstance(actual, (list, tuple)) and len(actual) == len(expected)
                and all(close(a, e, rel=rel, abs=abs)
                        for a, e in zip(actual, expected, strict=True)))
    actual, expected = float(actual), float(expected)
    if actual == expected:
        return True
    if math.isinf(expected) or math.isnan(expected) or math.isnan(actual):
        return False
    absolute = 1e-12 if abs is None else abs
    if rel is None and abs is not None:
        tolerance = absolute
    else:
        tolerance = max((1e-6 if rel is None else rel) * math.fabs(expected), absolute)
    return math.fabs(expected - actual) <= tolerance


__all__ = [
    "CLAIM_MODULES", "EVERY_LESSON", "Claim", "Failure", "banner_names_the_offline_profile",
    "both_languages_print_the_same", "cell_by_tag", "cells_with_tag", "check", "check_pair",
    "claim", "close", "excerpt", "expect", "fail", "first_code_cell_text", "get_claim",
    "has_html", "html_outputs", "list_claims", "list_lessons", "lookup", "notebook_profile",
    "paired_claim", "strip_comments", "tagged_text", "text_outputs",
]
