"""ExplainLab: the companion package of the course on explaining transformer models."""

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
