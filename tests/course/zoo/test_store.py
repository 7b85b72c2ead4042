"""The twin store: build once, cache by recipe key, model card, deterministic weights."""

from __future__ import annotations

import hashlib
import json

import pytest
import torch
from safetensors.torch import load_file

from explainlab.errors import TwinUnavailableError, UnknownRoleError
from explainlab_course import zoo
from explainlab_course.zoo import _store

from conftest import run_cli


def test_build_caches_and_writes_card(toy):
    folder = zoo.build("sst2")
    again = zoo.twin_path("sst2")
    assert folder == again and toy.builds == 1
    manifest = json.loads((folder / "twin.json").read_text())
    assert manifest["role"] == "sst2" and manifest["checks"]["final loss"] < 0.5
    card = (folder / "README.md").read_text()
    assert "# Offline twin of distilbert/distilbert-base-uncased-finetuned-sst-2-english" in card
    assert "separate two clusters" in card and "anything else" in card
    assert zoo.status()[0]["status"] == "built"
    assert not list(folder.parent.glob(".sst2-*"))  # no temporary folder left behind


def test_two_builds_give_identical_weights(toy):
    first = load_file(zoo.build("sst2") / "model.safetensors")
    second = load_file(zoo.build("sst2", force=True) / "model.safetensors")
    assert toy.builds == 2
    assert first.keys() == second.keys()
    assert all(torch.equal(first[k], second[k]) for k in first)


def test_key_changes_with_library_versions(toy, monkeypatch):
    key = _store.recipe_key(toy())
    monkeypatch.setattr(_store, "package_version", lambda name: "0.0-other")
    assert _store.recipe_key(toy()) != key


def test_key_covers_the_modules_a_recipe_imports():
    """sst2's data generators live in bert_tasks_data, its contract's checks in _contract and
    testing_checks (lesson 06's), vit's
    pictures in the learner's explainlab.images: editing any must rebuild the twin (a contract
    decides which seed's twin is kept)."""
    from explainlab import images
    from explainlab_course.zoo import (
        _contract,
        _train,
        bert_tasks,
        bert_tasks_data,
        testing_checks,
        vision,
    )

    assert _store._recipe_modules(zoo.get_recipe("sst2")) == [
        bert_tasks, _train, _contract, bert_tasks_data, testing_checks]
    assert _store._recipe_modules(zoo.get_recipe("vit")) == [vision, _train, images, _contract]


def test_failed_build_leaves_nothing(toy, monkeypatch):
    def broken(self, folder):
        (folder / "half.bin").write_bytes(b"x")
        raise RuntimeError("training diverged")

    monkeypatch.setattr(toy, "train", broken)
    with pytest.raises(RuntimeError, match="diverged"):
        zoo.build("sst2")
    assert zoo.status()[0]["status"] == "not built"
    assert not list(_store._folder("sst2", "any").parent.glob(".sst2-*"))


def test_unknown_and_missing_twins(toy):
    with pytest.raises(UnknownRoleError):
        zoo.get_recipe("translator")
    with pytest.raises(TwinUnavailableError, match="Twins: sst2"):
        zoo.get_recipe("vit")


@pytest.mark.slow  # two real builds: ~35 s quiet, 73 s measured with load 3 to 8
def test_a_real_twin_builds_to_identical_bytes(monkeypatch, tmp_path):
    """``emotion`` (the quickest twin that trains: its own BPE tokenizer, then a RoBERTa
    from random weights) built twice, in two fresh homes, once here and once by
    ``explainlab-course zoo build --jobs 2`` beside another twin: byte for byte the same
    files."""
    monkeypatch.setenv("EXPLAINLAB_HOME", str(tmp_path / "first"))
    first = zoo.build("emotion")
    home = tmp_path / "second"
    cli = run_cli("zoo", "build", "emotion", "bertviz", "--jobs", "2",
                  env={"EXPLAINLAB_HOME": str(home)}, timeout=600, module="explainlab_course")
    assert cli.returncode == 0, cli.stderr
    second = home / "twins" / first.name
    assert f"emotion: {second} (" in cli.stdout and "bertviz: " in cli.stdout
    assert (home / "twins" / ".logs" / "emotion.log").is_file()  # its own bars went there
    folders = [first, second]
    assert first.name == second.name  # the same recipe key
    assert _sha256(first / "model.safetensors") == _sha256(second / "model.safetensors")
    for name in ("tokenizer.json", "tokenizer_config.json", "config.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    checks = [json.loads((f / "twin.json").read_text())["checks"] for f in folders]
    assert checks[0] == checks[1]


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
