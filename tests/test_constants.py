"""constants: read at call time, validated."""

from __future__ import annotations

from pathlib import Path

import pytest

from explainlab import constants


def test_values_follow_the_environment(monkeypatch, tmp_path):
    assert constants.PROFILE == "hub"
    assert constants.HF_ENDPOINT is None and constants.DEVICE is None
    monkeypatch.setenv("EXPLAINLAB_PROFILE", " Offline ")
    monkeypatch.setenv("HF_ENDPOINT", "https://hf-mirror.com/")
    monkeypatch.setenv("EXPLAINLAB_HOME", str(tmp_path / "h"))
    monkeypatch.setenv("EXPLAINLAB_DEVICE", "CUDA")
    assert constants.PROFILE == "offline"
    assert constants.HF_ENDPOINT == "https://hf-mirror.com"
    assert constants.HOME == tmp_path / "h"
    assert constants.DEVICE == "cuda"


def test_defaults(monkeypatch):
    monkeypatch.delenv("EXPLAINLAB_HOME")
    assert constants.HOME == Path("~/.cache/explainlab").expanduser()
    assert constants.SEED == 0


def test_bad_seed_and_unknown_name(monkeypatch):
    monkeypatch.setenv("EXPLAINLAB_SEED", "x")
    with pytest.raises(ValueError, match="EXPLAINLAB_SEED"):
        constants.SEED  # noqa: B018
    with pytest.raises(AttributeError):
        constants.NOT_A_SETTING  # noqa: B018
    assert "PROFILE" in dir(constants)
