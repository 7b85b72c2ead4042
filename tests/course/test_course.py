"""The one install line (``explainlab_course.course``): set in pyproject.toml, written into
every lesson's first cell, the README's links and the site's buttons."""

from __future__ import annotations

import re

import jupytext
import pytest

from explainlab_course import course

OTHER = course.Settings("https://github.com/someone/fork", "explainlab @ git+https://x/y", "dev")


def test_every_file_is_in_step_with_pyproject():
    assert course.out_of_step() == [], "run: python -m explainlab_course.course sync"


def test_other_settings_put_every_file_out_of_step():
    stale = set(course.out_of_step(OTHER))
    lessons = {p for lang in course.LANGS for p in (course.LESSONS / lang).glob("[0-9][0-9]_*")}
    assert lessons | set(course.README.values()) <= stale


@pytest.mark.parametrize("lang", course.LANGS)
def test_first_cell_installs_with_pip_magic_only_when_missing(lang):
    for slug in course.lesson_slugs(lang):
        cell = next(c for c in jupytext.read(course.LESSONS / lang / f"{slug}.py").cells
                    if c.cell_type == "code")
        lines = cell.source.splitlines()
        install = f'    %pip install -q "{course.settings().install}"'
        assert install in lines, f"{lang}/{slug}: the first cell does not install with %pip"
        assert lines[lines.index(install) - 1].startswith(
            'if importlib.util.find_spec("explainlab") is None:')
        assert "subprocess" not in cell.source
        mirrors = [line for line in lines if re.match(r"# %env (HF_ENDPOINT|PIP_INDEX_URL)=", line)]
        assert len(mirrors) == (2 if lang == "zh" else 0), f"{lang}/{slug}: mirror lines"


def test_readme_links_every_lesson_in_both_languages():
    for readme in course.README.values():
        text = readme.read_text(encoding="utf-8")
        assert text.index(course.LINKS_START) < text.index("make site"), (
            f"{readme.name}: the learner's links must come before the builder's commands")
        for other in course.LANGS:
            for slug in course.lesson_slugs(other):
                links = course.lesson_links(other, slug)
                assert links["colab"] in text and links["kaggle"] in text, (readme.name, slug)


def test_lesson_links():
    links = course.lesson_links("zh", "01_mt_attribution", OTHER)
    blob = "github.com/someone/fork/blob/dev/lessons/zh/01_mt_attribution.ipynb"
    assert links["colab"] == "https://colab.research.google.com/" + blob.replace(
        "github.com/", "github/", 1)
    assert links["kaggle"] == "https://kaggle.com/kernels/welcome?src=https://" + blob


def test_repository_must_be_on_github():
    assert course.github_repo("https://github.com/a/b.git/") == "a/b"
    for bad in ("https://gitlab.com/a/b", "https://github.com/a", "", None):
        with pytest.raises(ValueError, match="github.com/OWNER/NAME"):
            course.github_repo(bad)


def test_prose_names_only_the_configured_repository():
    """The READMEs and the docs pages state the install line and clone address in prose; each
    such mention must be the configured repository (change pyproject.toml, then these)."""
    repository = re.escape("https://github.com/")
    mention = re.compile(rf"(?:git\+|git clone |src=|github/)(?:{repository})?([\w.-]+/[\w.-]+?)"
                         r"(?:\.git)?(?=[\s\"'@)>/]|$)")
    pages = [*course.README.values(), *sorted((course.ROOT / "docs").glob("*/*.md"))]
    found = {}
    for page in pages:
        for match in mention.finditer(page.read_text(encoding="utf-8")):
            found.setdefault(match[1], set()).add(page.name)
    assert found and set(found) == {course.settings().owner_repo}, found
