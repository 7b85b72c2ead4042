"""Every environment variable explainlab reads, in one place.

Values are read from the environment each time they are accessed
(``constants.PROFILE``), so a notebook or a test can change a variable and
the next call sees it.
"""

from __future__ import annotations

import os
from pathlib import Path

PROFILES = ("hub", "offline")
DEFAULT_ENDPOINT = "https://huggingface.co"

ENV_PROFILE = "EXPLAINLAB_PROFILE"
ENV_HOME = "EXPLAINLAB_HOME"
ENV_DEVICE = "EXPLAINLAB_DEVICE"
ENV_SEED = "EXPLAINLAB_SEED"
ENV_ENDPOINT = "HF_ENDPOINT"
ENV_TOKEN = "HF_TOKEN"


def _text(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def _profile() -> str:
    return (_text(ENV_PROFILE) or "hub").lower()


def _home() -> Path:
    return Path(_text(ENV_HOME) or "~/.cache/explainlab").expanduser()


def _endpoint() -> str | None:
    value = _text(ENV_ENDPOINT)
    return value.rstrip("/") if value else None


def _seed() -> int:
    value = _text(ENV_SEED) or "0"
    try:
        return int(value)
    except ValueError as exc:
        raise ValueError(f"{ENV_SEED}={value!r} is not an integer; set it to e.g. 0.") from exc


_READERS = {
    "PROFILE": _profile,  # "hub" (default) or "offline"
    "HOME": _home,  # cache root: twins, downloads
    "DEVICE": lambda: (_text(ENV_DEVICE) or "").lower() or None,  # cuda, mps, cpu, or auto
    "SEED": _seed,
    "HF_ENDPOINT": _endpoint,  # a mirror, e.g. http://127.0.0.1:8090
    "HF_TOKEN": lambda: _text(ENV_TOKEN),
}


def __getattr__(name: str):
    try:
        return _READERS[name]()
    except KeyError:
        raise AttributeError(f"module 'explainlab.constants' has no attribute {name!r}") from None


def __dir__() -> list[str]:
    return sorted([*globals(), *_READERS])
