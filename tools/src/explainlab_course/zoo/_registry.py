"""The registry of twin recipes, keyed by role (``TwinRecipe.role``)."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import ClassVar

from explainlab.errors import TwinUnavailableError
from explainlab.models import get_role

from ._contract import Check

_RECIPES: dict[str, type[TwinRecipe]] = {}
# Modules whose import registers recipes; loaded on first use, not at package import.
RECIPE_MODULES = (
    "translation", "language_models", "bert_tasks", "bert_spans", "scratch_classifiers", "vision",
)


SEEDS = (0, 1, 2, 3, 4, 5)
"""The seeds a build tries in turn (``torch``'s initial weights, dropout), until the twin
keeps its contract; the build fails after the last."""


class TwinRecipe:
    """One twin: how to make its data, train it, check it, and describe it.

    Subclasses set ``role`` (the registry key), ``model_class`` and
    ``tokenizer_class`` (as the real model has them), ``cost`` (the build's seconds on
    two cores, to schedule side-by-side builds), and implement ``train`` and ``contract``.
    """

    role: ClassVar[str]
    model_class: ClassVar[str]
    tokenizer_class: ClassVar[str]
    cost: ClassVar[float]
    data: ClassVar[str]  # model card: what it was trained on
    can: ClassVar[tuple[str, ...]]  # model card: what it does
    cannot: ClassVar[tuple[str, ...]]  # model card: its limits
    seeds: ClassVar[tuple[int, ...]] = SEEDS

    def train(self, folder: Path) -> dict[str, float]:
        """Build the twin into ``folder`` (``save_pretrained`` layout), with the global
        random generators already seeded; return numbers for the model card."""
        raise NotImplementedError

    def contract(self, folder: Path) -> list[Check]:
        """The checks the twin saved in ``folder`` must pass: the lesson facts it exists
        for and held-out behaviour, each with a margin (see ``_contract``)."""
        raise NotImplementedError

    @property
    def real_model(self) -> str:
        return get_role(self.role).hub_id


def register(cls: type[TwinRecipe]) -> type[TwinRecipe]:
    """Class decorator: add a recipe to the registry under ``cls.role``."""
    get_role(cls.role)  # a twin always stands in for a known role
    _RECIPES[cls.role] = cls
    return cls


def _load_all() -> None:
    for name in RECIPE_MODULES:
        importlib.import_module(f"{__package__}.{name}")


def list_twins() -> list[str]:
    """Roles that have a twin recipe, sorted."""
    _load_all()
    return sorted(_RECIPES)


def get_recipe(role: str) -> TwinRecipe:
    """The recipe for ``role``.

    Raises:
        UnknownRoleError: not a role of the course.
        TwinUnavailableError: a role without a twin; the message lists the twins.
    """
    _load_all()
    get_role(role)
    if role not in _RECIPES:
        raise TwinUnavailableError(
            f"No offline twin for role {role!r} yet. "
            f"Twins: {', '.join(sorted(_RECIPES)) or 'none'}. Use EXPLAINLAB_PROFILE=hub for it."
        )
    return _RECIPES[role]()
