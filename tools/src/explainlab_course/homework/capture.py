"""Runs inside a submission's kernel, in the cell the grader puts after each answer cell."""

from __future__ import annotations

import json
from typing import Any


def keep(qid: str, namespace: dict[str, Any], path: str) -> None:
    """Write the value of ``answer`` (JSON) to ``path`` and take ``answer`` away, so that the
    next question starts unanswered even if its cell fails before setting it."""
    from . import plain

    value = plain(namespace.pop("answer", None))
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(value, handle, ensure_ascii=False)
