"""Offline twins: small models this project trains itself, with the real models' classes.

``resolve(role, profile="offline")`` builds a role's twin on first use and
caches it under ``EXPLAINLAB_HOME/twins``; ``explainlab zoo build`` builds
them ahead of time. Each recipe generates its own data, trains on the CPU,
and writes a model card. The setup guide introduces the twins.
"""

from ._registry import TwinRecipe, get_recipe, list_twins, register
from ._store import build, status, twin_path

__all__ = ["TwinRecipe", "build", "get_recipe", "list_twins", "register", "status", "twin_path"]
