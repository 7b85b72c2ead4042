"""``python -m explainlab_course``: the ``explainlab-course`` command."""

import sys

from .cli import main

sys.exit(main())
