"""ExplainLab: the companion package of the course on explaining transformer models."""

import importlib

from .hub import configure_endpoint, download
from .models import list_roles, resolve
from .notebook import patch_ipython, setup
from .tokens import clean_attribution, clean_tokens

__all__ = [
    "clean_attribution",
    "clean_tokens",
    "configure_endpoint",
    "download",
    "list_roles",
    "patch_ipython",
    "resolve",
    "setup",
]

# Submodules that lessons reach as attributes after a plain `import explainlab`
# (`explainlab.homework.check(...)`, `explainlab.images.make_image(...)`,
# `explainlab.evaluate.faithfulness(...)`),
# imported on first use (PEP 562).
_LAZY_SUBMODULES = ("evaluate", "explain", "homework", "images")


def __getattr__(name: str):
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
