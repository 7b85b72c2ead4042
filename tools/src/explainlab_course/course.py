"""The course's repository and install line, set once in pyproject.toml, and the places they are
written at build: every lesson's first cell, the README's lesson links, the site's buttons.

``pyproject.toml`` of the learner's package holds them::

    [project.urls]
    Repository = "https://github.com/OWNER/NAME"

    [tool.explainlab]
    install = "explainlab @ git+{repository}"   # what a lesson's first cell installs
    branch = "main"                             # the branch Colab and Kaggle open

``python -m explainlab_course.course sync`` (run by ``make lessons``) writes them;
``check`` (tests/course/test_course.py) fails while any place is out of step.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import tomllib

ROOT = Path(__file__).resolve().parents[3]
LESSONS = ROOT / "lessons"
LANGS = ("en", "zh")
README = {"en": ROOT / "README.md", "zh": ROOT / "README.zh.md"}
LINKS_START, LINKS_END = "<!-- lesson-links:start -->", "<!-- lesson-links:end -->"

# The first code cell of every lesson (its body, after the `# %%` line), in jupytext's percent
# form (an active magic is written `# %pip`, a commented one `# # %env`); {install} is the
# configured install line.
FIRST_CELL = {
    "en": '''\
import importlib.util

if importlib.util.find_spec("explainlab") is None:  # Colab, Kaggle, a new environment
    # %pip install -q "{install}"

import explainlab

session = explainlab.setup()
''',
    "zh": '''\
import importlib.util

# 在中国大陆，Hugging Face 和 PyPI 较慢时，去掉下面两行开头的“# ”，改用镜像下载模型和软件包：
# # %env HF_ENDPOINT=https://hf-mirror.com
# # %env PIP_INDEX_URL=https://pypi.tuna.tsinghua.edu.cn/simple
if importlib.util.find_spec("explainlab") is None:  # Colab、Kaggle 或新建的环境：安装课程软件包
    # %pip install -q "{install}"

import explainlab

session = explainlab.setup()
''',
}


@dataclass(frozen=True)
class Settings:
    repository: str  # https://github.com/OWNER/NAME
    install: str  # the pip requirement a lesson's first cell installs
    branch: str

    @property
    def owner_repo(self) -> str:
        return github_repo(self.repository)


@cache
def settings(pyproject: Path = ROOT / "pyproject.toml") -> Settings:
    """The repository, install line and branch, read from ``pyproject``."""
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    repository = data["project"]["urls"]["Repository"].rstrip("/")
    tool = data["tool"]["explainlab"]
    github_repo(repository)
    return Settings(repository, tool["install"].format(repository=repository), tool["branch"])


def github_repo(url: str) -> str:
    """``OWNER/NAME`` of a GitHub repository URL.

    Raises:
        ValueError: not https://github.com/OWNER/NAME (Colab and Kaggle open notebooks
            from GitHub only).
    """
    parts = urlsplit(url or "")
    path = parts.path.strip("/").removesuffix(".git")
    if parts.hostname not in ("github.com", "www.github.com") or path.count("/") != 1:
        raise ValueError(f"The repository must be https://github.com/OWNER/NAME (Colab and "
                         f"Kaggle open notebooks from GitHub), not {url!r}.")
    return path


def lesson_links(lang: str, slug: str, config: Settings | None = None) -> dict[str, str]:
    """Colab and Kaggle addresses of the committed notebook ``lessons/<lang>/<slug>.ipynb``."""
    config = config or settings()
    path = f"{config.owner_repo}/blob/{config.branch}/lessons/{lang}/{slug}.ipynb"
    return {
        "colab": f"https://colab.research.google.com/github/{path}",
        "kaggle": f"https://kaggle.com/kernels/welcome?src=https://github.com/{path}",
    }


def lesson_slugs(lang: str) -> list[str]:
    return [p.stem for p in sorted((LESSONS / lang).glob("[0-9][0-9]_*.py"))]


def first_cell(lang: str, config: Settings | None = None) -> str:
    """The first code cell of a ``lang`` lesson, in jupytext's percent form."""
    return FIRST_CELL[lang].format(install=(config or settings()).install)


def _with_first_cell(text: str, cell: str) -> str:
    """``text`` (a percent-format lesson) with the body of its first code cell replaced by
    ``cell`` (the cell's marker line, tags included, is kept)."""
    match = re.search(r"^# %%(?! \[markdown\])[^\n]*\n(.*?)(?=^# %%)", text, flags=re.M | re.S)
    if match is None:
        raise ValueError("no code cell followed by another cell")
    return text[:match.start(1)] + cell + "\n" + text[match.end(1):]


def _notebook_with_source(notebook: Path, source_text: str) -> str:
    """The paired ``.ipynb``'s JSON with each cell's source taken from ``source_text``, cell
    ids and metadata kept."""
    import jupytext

    cells = jupytext.reads(source_text, fmt="py:percent").cells
    data = json.loads(notebook.read_text(encoding="utf-8"))
    if len(data["cells"]) != len(cells):
        raise ValueError(f"{notebook}: cell count differs from its .py; run jupytext --sync")
    for cell, new in zip(data["cells"], cells, strict=True):
        cell["source"] = new.source.splitlines(keepends=True)
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def readme_links(lang: str, config: Settings | None = None) -> str:
    """The README's table of every lesson with its Colab and Kaggle links, in both languages,
    and what it needs with the real models (``lessons/requirements.json``)."""
    import jupytext

    from .scale import requirements

    head = {"en": "| lesson | English | 中文 | needs with the real models |\n"
                  "| --- | --- | --- | --- |",
            "zh": "| 课程 | English | 中文 | 使用真实模型时的需求 |\n"
                  "| --- | --- | --- | --- |"}[lang]
    rows = []
    for slug in lesson_slugs(lang):
        title = next(line[2:] for line in jupytext.read(LESSONS / lang / f"{slug}.py")
                     .cells[0].source.splitlines() if line.startswith("# "))
        cells = []
        for other in LANGS:
            links = lesson_links(other, slug, config)
            cells.append(f"[Colab]({links['colab']}) · [Kaggle]({links['kaggle']})")
        cells.append(requirements.short(lang, slug))
        rows.append(f"| {slug[:2]} {title} | {' | '.join(cells)} |")
    return "\n".join([LINKS_START, head, *rows, LINKS_END])


def _with_readme_links(text: str, block: str, path: Path) -> str:
    pattern = re.compile(re.escape(LINKS_START) + ".*?" + re.escape(LINKS_END), re.S)
    if not pattern.search(text):
        raise ValueError(f"{path} lacks the markers {LINKS_START} ... {LINKS_END}")
    return pattern.sub(lambda _: block, text)


def expected_files(config: Settings | None = None) -> dict[Path, str]:
    """Every file the settings are written into, with the text it must have."""
    expected: dict[Path, str] = {}
    for lang in LANGS:
        for slug in lesson_slugs(lang):
            source = LESSONS / lang / f"{slug}.py"
            text = _with_first_cell(source.read_text(encoding="utf-8"), first_cell(lang, config))
            expected[source] = text
            notebook = source.with_suffix(".ipynb")
            expected[notebook] = _notebook_with_source(notebook, text)
        readme = README[lang]
        expected[readme] = _with_readme_links(readme.read_text(encoding="utf-8"),
                                              readme_links(lang, config), readme)
    return expected


def out_of_step(config: Settings | None = None) -> list[Path]:
    """The files whose text is not what the settings make of it."""
    return [path for path, text in expected_files(config).items()
            if path.read_text(encoding="utf-8") != text]


def sync(config: Settings | None = None) -> list[Path]:
    """Write the settings into every file out of step; returns the files written."""
    written = []
    for path, text in expected_files(config).items():
        if path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m explainlab_course.course",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("sync", "check"))
    args = parser.parse_args(argv)
    if args.action == "sync":
        for path in sync():
            print(f"wrote {path.relative_to(ROOT)}")
        return 0
    stale = out_of_step()
    for path in stale:
        print(f"out of step with pyproject.toml: {path.relative_to(ROOT)} "
              "(python -m explainlab_course.course sync)", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
