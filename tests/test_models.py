"""Model roles and resolve()."""

from __future__ import annotations

from pathlib import Path

import pytest

import explainlab
from explainlab.errors import TwinUnavailableError, UnknownProfileError, UnknownRoleError
from explainlab.models import get_role
from explainlab_course import zoo

ROLES = ["bert-neuron", "bertviz", "cross-encoder", "emotion", "lm", "lm-gpt2", "mt-zh-en", "nli",
         "qa", "ner", "sst2", "vit"]


def test_every_course_role_is_registered():
    assert explainlab.list_roles() == sorted(ROLES)


@pytest.mark.parametrize(("role", "hub_id"), [
    ("mt-zh-en", "Helsinki-NLP/opus-mt-zh-en"),
    ("lm", "Qwen/Qwen3-0.6B"),
    ("lm-gpt2", "openai-community/gpt2"),
    ("ner", "dslim/bert-base-NER"),
    ("bertviz", "microsoft/xtremedistil-l12-h384-uncased"),
])
def test_hub_profile_gives_hub_ids(role, hub_id):
    assert explainlab.resolve(role, "hub") == hub_id


def test_profile_comes_from_the_environment(monkeypatch, toy):
    monkeypatch.setenv("EXPLAINLAB_PROFILE", "hub")
    assert explainlab.resolve("sst2").endswith("/distilbert-base-uncased-finetuned-sst-2-english")
    monkeypatch.setenv("EXPLAINLAB_PROFILE", "offline")
    # The learner's package finds twins, never trains them: the course factory does.
    with pytest.raises(TwinUnavailableError, match=r"`make twins`.*EXPLAINLAB_PROFILE=hub"):
        explainlab.resolve("sst2")
    built = zoo.build("sst2")
    folder = Path(explainlab.resolve("sst2"))
    assert folder == built and (folder / "twin.json").is_file() and toy.builds == 1
    with pytest.raises(TwinUnavailableError, match="explainlab-course zoo build vit"):
        explainlab.resolve("vit")


def test_variants():
    assert explainlab.resolve("lm-gpt2", "hub", variant="xl") == "openai-community/gpt2-xl"
    assert get_role("lm-gpt2").hub_ids() == ["openai-community/gpt2", "openai-community/gpt2-xl"]
    with pytest.raises(UnknownRoleError, match="variants: xl"):
        explainlab.resolve("lm-gpt2", "hub", variant="large")


def test_describe_names_role_and_model_never_a_folder(monkeypatch):
    from explainlab.models import describe

    assert describe("mt-zh-en", "offline") == (
        "mt-zh-en: offline twin of Helsinki-NLP/opus-mt-zh-en")
    assert describe("lm", "hub") == "lm: Qwen/Qwen3-0.6B"
    assert describe("lm-gpt2", "hub", variant="xl") == "lm-gpt2 (xl): openai-community/gpt2-xl"
    monkeypatch.setenv("EXPLAINLAB_PROFILE", "offline")  # builds nothing: no twin here
    assert describe("vit") == "vit: offline twin of google/vit-base-patch16-224"
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # a mirror: resolve() downloads
    assert describe("lm", "hub") == "lm: Qwen/Qwen3-0.6B"
    with pytest.raises(UnknownRoleError, match="variants: xl"):
        describe("lm-gpt2", "hub", variant="large")


def test_unknown_role_lists_the_valid_ones():
    with pytest.raises(KeyError) as caught:
        explainlab.resolve("translator", "hub")
    assert isinstance(caught.value, UnknownRoleError)
    message = str(caught.value)
    assert message.startswith("Unknown model role 'translator'")
    assert all(role in message for role in ROLES)


def test_unknown_profile():
    with pytest.raises(UnknownProfileError):
        explainlab.resolve("lm", "cloud")


def test_named_files_come_as_a_folder_through_a_mirror(monkeypatch, tiny_files):
    from hubmirror import HubMirror, Repo

    files = {**tiny_files, "pytorch_model.bin": b"old weights" * 100, "vocab.txt": b"[PAD]\n"}
    with HubMirror({"google-bert/bert-base-uncased": Repo(files)}) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        whole = Path(explainlab.resolve("bert-neuron", "hub"))
        # Without named files a mirror copy is PyTorch-only: safetensors, no duplicate .bin.
        assert (whole / "model.safetensors").is_file()
        assert not (whole / "pytorch_model.bin").exists()
        named = Path(explainlab.resolve("bert-neuron", "hub",
                                        files=["config.json", "vocab.txt", "pytorch_model.bin"]))
    assert (named / "pytorch_model.bin").read_bytes() == files["pytorch_model.bin"]
    assert (named / "vocab.txt").read_bytes() == b"[PAD]\n"
