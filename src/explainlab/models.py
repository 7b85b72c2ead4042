"""Model roles: what each lesson asks for, and what it gets in each profile.

A lesson never names a model; it asks for a role (``resolve("mt-zh-en")``)
and gets a hub id (profile ``hub``) or the folder of an offline twin
(profile ``offline``). Lesson 01 introduces ``resolve``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import constants
from .errors import TwinUnavailableError, UnknownRoleError
from .notebook import check_profile

TWIN_MANIFEST = "twin.json"
"""The file every built twin folder holds (written by the course factory's zoo)."""


@dataclass(frozen=True)
class Role:
    """One model role of the course."""

    name: str
    hub_id: str
    task: str
    lesson: str
    variants: dict[str, str] = field(default_factory=dict)

    def hub_ids(self) -> list[str]:
        return [self.hub_id, *self.variants.values()]


ROLES: dict[str, Role] = {}


def register_role(role: Role) -> Role:
    """Add a role to the registry (keyed by ``role.name``)."""
    ROLES[role.name] = role
    return role


for _role in (
    Role("mt-zh-en", "Helsinki-NLP/opus-mt-zh-en", "Chinese -> English translation", "01"),
    Role("lm", "Qwen/Qwen3-0.6B", "decoder-only chat LM", "02"),
    Role("lm-gpt2", "openai-community/gpt2", "decoder-only LM (GPT-2)", "02",
         variants={"xl": "openai-community/gpt2-xl"}),
    Role("sst2", "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
         "sentiment (NEGATIVE/POSITIVE)", "03"),
    Role("cross-encoder", "cross-encoder/ms-marco-MiniLM-L-6-v2", "query-passage relevance", "03"),
    Role("emotion", "j-hartmann/emotion-english-distilroberta-base", "7 emotions", "03"),
    Role("nli", "cross-encoder/nli-deberta-base", "NLI, used for zero-shot labels", "03"),
    Role("qa", "google-bert/bert-large-uncased-whole-word-masking-finetuned-squad",
         "extractive question answering", "03"),
    Role("ner", "dslim/bert-base-NER", "named entities (CoNLL labels)", "03"),
    Role("vit", "google/vit-base-patch16-224", "image classification", "03"),
    Role("bertviz", "microsoft/xtremedistil-l12-h384-uncased", "BERT encoder for BertViz", "04"),
    Role("bert-neuron", "google-bert/bert-base-uncased", "BERT for BertViz's neuron view", "04"),
):
    register_role(_role)


def list_roles() -> list[str]:
    """Names of every role, sorted."""
    return sorted(ROLES)


def get_role(name: str) -> Role:
    """Look a role up by name.

    Raises:
        UnknownRoleError: the name is not a role; the message lists the valid ones.
    """
    try:
        return ROLES[name]
    except KeyError:
        raise UnknownRoleError(
            f"Unknown model role {name!r}. Valid roles: {', '.join(list_roles())}."
        ) from None


def describe(role: str, profile: str | None = None, *, variant: str | None = None) -> str:
    """What ``resolve(role)`` stands for, in words fit for a page: the role and the hub id of
    its model, or of the model its offline twin stands in for. Never a local folder (a page
    shows no folder of the machine that ran it); builds and downloads nothing.

    >>> describe("mt-zh-en", "offline")
    'mt-zh-en: offline twin of Helsinki-NLP/opus-mt-zh-en'
    >>> describe("lm-gpt2", "hub", variant="xl")
    'lm-gpt2 (xl): openai-community/gpt2-xl'

    Introduced in lesson 01_mt_attribution.

    Raises:
        UnknownRoleError: not a role, or not one of the role's variants.
    """
    entry = get_role(role)
    if variant is not None and variant not in entry.variants:
        known = ", ".join(entry.variants) or "none"
        raise UnknownRoleError(f"Role {role!r} has no variant {variant!r}; its variants: {known}.")
    hub_id = entry.variants[variant] if variant else entry.hub_id
    name = f"{role} ({variant})" if variant else role
    if check_profile(profile) == "offline":
        return f"{name}: offline twin of {hub_id}"
    return f"{name}: {hub_id}"


def resolve(role: str, profile: str | None = None, *, variant: str | None = None,
            files: Sequence[str] | None = None) -> str:
    """What ``from_pretrained`` should load for ``role`` in the active profile.

    Args:
        role: a role name, e.g. ``"mt-zh-en"`` (see ``list_roles()``).
        profile: ``"hub"`` or ``"offline"``; defaults to ``EXPLAINLAB_PROFILE``.
        variant: a named variant of the role, e.g. ``"xl"`` for ``lm-gpt2``; one twin
            stands in for all variants of a role.
        files: on the hub profile, download exactly these files (glob patterns) and
            return the folder, even without a mirror: for loaders that need a local
            folder with particular files, such as BertViz's neuron view
            (lesson 04_bertviz_attention). The offline twin folder has them already.

    Returns:
        A hub id (profile ``hub``), a local copy downloaded through the mirror
        (profile ``hub`` with ``HF_ENDPOINT`` set: some mirrors, such as olah,
        fail ``from_pretrained(hub_id)`` but serve every file), or the
        folder of the role's offline twin (profile ``offline``), built by the
        course factory (``make twins``); see ``built_twin``.
    """
    entry = get_role(role)
    chosen = check_profile(profile)
    if variant is not None and variant not in entry.variants:
        known = ", ".join(entry.variants) or "none"
        raise UnknownRoleError(f"Role {role!r} has no variant {variant!r}; its variants: {known}.")
    if chosen == "hub":
        hub_id = entry.variants[variant] if variant else entry.hub_id
        if files is None and not constants.HF_ENDPOINT:
            return hub_id
        from .hub import download

        # Through a mirror (some, such as olah, fail from_pretrained(hub_id) but serve
        # every file) or for named files: a checked, resumable local copy.
        return str(download(hub_id, local_dir=constants.HOME / "downloads" / hub_id,
                            endpoint=constants.HF_ENDPOINT, include=files,
                            pytorch_only=files is None))
    return str(built_twin(role))


def twins_dir() -> Path:
    """Where the course factory keeps the offline twins: ``EXPLAINLAB_HOME/twins``."""
    return constants.HOME / "twins"


def twin_pointer(role: str) -> Path:
    """The file that names the folder of ``role``'s current twin inside ``twins_dir()``;
    the course factory writes it whenever it builds the twin or finds it cached."""
    return twins_dir() / f"{role}.current"


def built_twin(role: str) -> Path:
    """The folder of ``role``'s offline twin, as the course factory last built it.

    The learner's package never trains a twin: ``make twins`` in a checkout of the course
    repository does (the course factory, ``tools/``).

    Raises:
        UnknownRoleError: not a role of the course.
        TwinUnavailableError: no twin of ``role`` is built in ``EXPLAINLAB_HOME``; the
            message says which command builds it.
    """
    get_role(role)
    pointer = twin_pointer(role)
    name = pointer.read_text(encoding="utf-8").strip() if pointer.is_file() else ""
    folder = twins_dir() / name
    if not name or not (folder / TWIN_MANIFEST).is_file():
        raise TwinUnavailableError(
            f"No offline twin of {role!r} is built in {twins_dir()}. Build the twins in a "
            "checkout of the course repository with `make twins` (or `explainlab-course zoo "
            f"build {role}`) under the same EXPLAINLAB_HOME, or use the real models: "
            f"EXPLAINLAB_PROFILE=hub."
        )
    return folder
