"""Offline twins: small models this project trains itself, with the real models' classes.

``explainlab-course zoo build`` (``make twins``) trains each role's twin, checks its
contract and caches it under ``EXPLAINLAB_HOME/twins``, where the learner's package finds
it (``explainlab.resolve(role, profile="offline")``). Each recipe generates its own data,
trains on the CPU, and writes a model card. The setup guide introduces the twins.
"""

import importlib

from ._registry import RECIPE_MODULES, TwinRecipe, get_recipe, list_twins, register
from ._store import build, build_side_by_side, status, twin_path

__all__ = ["TwinRecipe", "build", "build_side_by_side", "get_recipe", "list_twins", "register",
           "status", "twin_path"]


def __getattr__(name: str):
    # Recipe modules as attributes (`explainlab_course.zoo.vision`), imported on first use.
    if name in RECIPE_MODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
