"""The learner's package where learners run it (``explainlab_course.platforms``): installed
into Colab-like, Kaggle-like and lowest-version environments, it moves no pinned package,
brings no course-building tool, imports, sets up, and runs every lesson of both languages in
a kernel of that environment (IPython 7.34, ipykernel 6.17) with the offline twins."""

from __future__ import annotations

import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from explainlab_course import lessons, platforms

TWIN_HOME = Path(os.environ.get("EXPLAINLAB_HOME") or "~/.cache/explainlab").expanduser()
LESSONS = lessons.lesson_paths()


def test_snapshots_pin_the_packages_colab_warns_about():
    for name in ("colab", "kaggle"):
        pins = platforms.snapshot(name)
        assert pins["ipython"].startswith("7.34") and pins["ipykernel"].startswith("6.17")
        assert {"transformers", "huggingface-hub", "numpy", "ipywidgets"} <= set(pins)


def test_a_snapshot_line_that_is_not_an_exact_pin_is_refused():
    with pytest.raises(ValueError, match="line 2: 'numpy>=2' is not name==version"):
        platforms.parse_pins("# comment\nnumpy>=2\n", source="x.txt")


def test_lowest_pins_are_the_lower_bounds_of_the_learner_requirements():
    lowest = platforms.lowest_pins()
    for requirement in platforms.learner_requirements():
        bound = next(s.version for s in requirement.specifier if s.operator == ">=")
        assert lowest[requirement.name.lower().replace("_", "-")] == bound
    with pytest.raises(ValueError, match="no lower bound"):
        platforms.lowest_pins([Requirement("numpy<3")])
    assert "torch" not in platforms.pins("lowest")  # the machine's CPU torch instead
    assert platforms.pins("lowest")["ipykernel"] == platforms.snapshot("colab")["ipykernel"]


def test_moved_pins_names_each_moved_or_removed_package():
    pinned = {"ipython": "7.34.0", "ipykernel": "6.17.1", "numpy": "2.1.3"}
    after = {"ipython": "9.19.1", "numpy": "2.1.3", "mkdocs": "1.6.1"}
    assert platforms.moved_pins(pinned, after) == {"ipykernel": ("6.17.1", None),
                                                   "ipython": ("7.34.0", "9.19.1")}
    assert platforms.moved_pins(pinned, {**pinned, "ipython": "7.34"}) == {}


def test_course_tools_are_the_factory_s_own_requirements():
    tools = platforms.course_tools()
    assert {"mkdocs-material", "jupytext", "nbclient", "jieba", "pytest"} <= tools
    assert not tools & {canonical.name.lower() for canonical in platforms.learner_requirements()}


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    return platforms.learner_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="session", params=platforms.ENVIRONMENTS)
def installed(request, wheel) -> platforms.Report:
    return platforms.prepare(request.param, wheel)


@pytest.mark.slow
def test_install_moves_no_pin_and_brings_no_course_tool(installed):
    assert installed.moved == {}, (
        f"{installed.name}: `pip install` of the learner's package moved pinned packages "
        f"(pinned, after): {installed.moved}")
    assert installed.tools == [], f"{installed.name}: course-building tools arrived: "\
        f"{installed.tools}"


@pytest.mark.slow
def test_import_and_setup_work(installed):
    assert installed.setup_error == "", installed.setup_error
    assert "explainlab" in installed.setup_output and "profile offline" in installed.setup_output


@pytest.mark.slow
def test_every_lesson_runs_in_a_kernel_of_the_platform(installed, monkeypatch):
    """Both languages, two lessons at a time; each must run without an error and keep its
    claims (``lessons.execute``, cached by content per environment). What a library writes to
    stderr there (a warning of an older release) is reported, not failed: the site's build
    holds the lessons to no stderr at all on the locked versions."""
    assert installed.moved == {} and installed.setup_error == ""
    monkeypatch.setenv("EXPLAINLAB_HOME", str(TWIN_HOME))
    kernel = installed.kernel()
    version = platforms.freeze(kernel.python)
    assert version["ipykernel"] == platforms.pins(installed.name)["ipykernel"]

    def run(path):
        try:
            return path, lessons.execute(path, kernel=kernel, check=False), None
        except Exception as error:  # reported below, with every other lesson's outcome
            return path, None, error

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(run, LESSONS))
    problems = []
    for path, nb, error in results:
        shown = f"{path.parent.name}/{path.name}"
        if error is not None:
            problems.append(f"{shown}: {str(error).splitlines()[0]}")
            continue
        for index, cell in enumerate(nb.cells, start=1):
            streams = cell.get("outputs", [])
            for output in streams:
                if output.output_type == "stream" and output.name == "stderr":
                    warnings.warn(f"{installed.name}: {shown}, cell {index} wrote to stderr: "
                                  f"{output.text[:300]}", stacklevel=1)
            cell["outputs"] = [o for o in streams
                               if not (o.output_type == "stream" and o.name == "stderr")]
        try:
            lessons.check_claims(nb, path)
        except AssertionError as failed:
            problems.append(str(failed))
    ran = len(results) - sum(error is not None for _, _, error in results)
    assert not problems, (f"{installed.name}: {ran} of {len(LESSONS)} lessons ran;\n"
                          + "\n".join(problems))
