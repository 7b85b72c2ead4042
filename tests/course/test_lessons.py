"""lessons: lesson discovery, the cache key, execution in a fresh kernel, cache hits, clear
errors, the command line. Tiny temporary lessons, never the course's own."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from explainlab import errors
from explainlab_course import lessons

HEADER = """\
# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---
"""

TINY = HEADER + """
# %% [markdown]
# # A tiny lesson

# %% tags=["where"]
import hashlib
import os
import sys
import tempfile

# Facts about the kernel's folders, not the folders: no page may show a folder of this machine.
here = os.getcwd()
fresh = (os.path.dirname(here) == os.path.realpath(tempfile.gettempdir())
         and os.path.basename(here).startswith("explainlab-lesson-"))
python = hashlib.sha256(os.path.realpath(sys.executable).encode()).hexdigest()
print(os.environ["EXPLAINLAB_PROFILE"], fresh, python, sep="\\n")

# %%
6 * 7
"""

FAILING = HEADER + """
# %% [markdown]
# # A failing lesson

# %%
x = 1

# %% tags=["broken"]
y = x + 1
raise ValueError("boom at the second cell")

# %%
print("never reached")
"""


@pytest.fixture
def stable_package(monkeypatch):
    """A fixed package digest: other work on src/ must not change the key mid-test."""
    monkeypatch.setattr(lessons, "package_digest", lambda: "p" * 64)


def lesson(folder: Path, text: str, name: str = "01_tiny.py", lang: str = "en") -> Path:
    path = folder / "lessons" / lang / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_lesson_paths_sorted_by_language_then_number(tmp_path):
    for name in ("en/02_b.py", "en/01_a.py", "en/notes.py", "en/01_a.ipynb", "zh/01_a.py"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("")
    paths = lessons.lesson_paths(root=tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [
        "en/01_a.py", "en/02_b.py", "zh/01_a.py"]
    assert lessons.lesson_paths("zh", root=tmp_path) == [tmp_path / "zh" / "01_a.py"]
    with pytest.raises(ValueError, match="en, zh"):
        lessons.lesson_paths("fr", root=tmp_path)


def test_lesson_paths_default_to_the_repository():
    assert lessons.LESSONS_DIR == Path(__file__).resolve().parents[2] / "lessons"


def test_cache_key_follows_source_package_profile_and_versions(tmp_path, monkeypatch):
    path = lesson(tmp_path, TINY)
    key = lessons.cache_key(path, profile="offline")
    assert len(key) == 64 and lessons.cache_key(path, profile="offline") == key
    assert lessons.cache_key(path, profile="hub") != key

    path.write_text(TINY.replace("6 * 7", "6 * 9"), encoding="utf-8")
    changed = lessons.cache_key(path, profile="offline")
    assert changed != key
    path.write_text(TINY, encoding="utf-8")
    assert lessons.cache_key(path, profile="offline") == key

    versions = lessons.library_versions()
    assert set(versions) == {"torch", "transformers", "inseq", "captum", "bertviz"}
    monkeypatch.setattr(lessons, "library_versions", lambda: {**versions, "torch": "0.0"})
    assert lessons.cache_key(path, profile="offline") != key
    monkeypatch.undo()
    monkeypatch.setattr(lessons, "package_digest", lambda: "0" * 64)
    assert lessons.cache_key(path, profile="offline") != key


def test_package_digest_covers_the_learner_package_and_the_twins(tmp_path, monkeypatch):
    import explainlab
    from explainlab.models import twin_pointer

    package = tmp_path / "pkg"
    (package / "explain").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "explain" / "maths.py").write_text("SIZE = 1\n")
    monkeypatch.setattr(explainlab, "__file__", str(package / "__init__.py"))
    before = lessons.package_digest()
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "maths.cpython-311.pyc").write_bytes(b"\0")
    assert lessons.package_digest() == before  # bytecode is not source
    (package / "explain" / "maths.py").write_text("SIZE = 2\n")
    changed = lessons.package_digest()
    assert changed != before
    pointer = twin_pointer("sst2")  # the per-test EXPLAINLAB_HOME
    pointer.parent.mkdir(parents=True)
    pointer.write_text("sst2-aaaaaaaaaaaa\n")
    rebuilt = lessons.package_digest()
    assert rebuilt != changed  # another twin, other outputs
    pointer.write_text("sst2-bbbbbbbbbbbb\n")
    assert lessons.package_digest() not in (changed, rebuilt)


def test_unknown_profile_is_refused(tmp_path):
    with pytest.raises(errors.UnknownProfileError):
        lessons.execute(lesson(tmp_path, TINY), profile="cloud")


@pytest.mark.slow
def test_execute_in_a_fresh_kernel_then_from_the_cache(tmp_path, monkeypatch, stable_package):
    path = lesson(tmp_path, TINY)
    nb = lessons.execute(path, profile="hub")
    where = next(c for c in nb.cells if "where" in c.metadata.get("tags", []))
    profile, fresh, executable = where.outputs[0].text.split()
    assert profile == "hub"  # the profile reaches the kernel's environment
    assert fresh == "True"  # a new explainlab-lesson-* folder in the temporary folder
    assert executable == hashlib.sha256(  # this venv's kernel
        os.path.realpath(sys.executable).encode()).hexdigest()
    assert nb.cells[-1].outputs[0].data["text/plain"] == "42"
    meta = nb.metadata["explainlab"]
    assert meta["profile"] == "hub" and meta["cached"] is False and meta["seconds"] > 0
    cached = lessons.cache_path(path, lessons.cache_key(path, profile="hub"))
    assert cached.is_file() and cached.parent == lessons.constants.HOME / "lessons"

    def no_kernel(*args, **kwargs):
        raise AssertionError("a cached lesson must not be executed again")

    run = lessons.run_lesson
    monkeypatch.setattr(lessons, "run_lesson", no_kernel)
    started = time.perf_counter()
    again = lessons.execute(path, profile="hub")
    assert time.perf_counter() - started < 5
    assert again.metadata["explainlab"]["cached"] is True
    assert again.cells[-1].outputs == nb.cells[-1].outputs
    with pytest.raises(AssertionError, match="must not be executed"):  # another profile runs
        lessons.execute(path, profile="offline")
    monkeypatch.setattr(lessons, "run_lesson", run)

    path.write_text(TINY.replace("6 * 7", "6 * 9"), encoding="utf-8")  # a new key: runs again
    edited = lessons.execute(path, profile="hub")
    assert edited.cells[-1].outputs[0].data["text/plain"] == "54"
    assert not cached.exists()  # the stale notebook of this lesson is gone
    assert len(list(cached.parent.glob("en-01_tiny-*.ipynb"))) == 1


@pytest.mark.slow
def test_failing_cell_is_named_and_shown(tmp_path):
    path = lesson(tmp_path, FAILING)
    with pytest.raises(errors.LessonExecutionError) as caught:
        lessons.execute(path)
    message = str(caught.value)
    assert isinstance(caught.value, RuntimeError)
    assert "cell 3 of 4 (code cell 2, tags broken)" in message
    assert str(path) in message.splitlines()[0]
    assert "    y = x + 1\n    raise ValueError(\"boom at the second cell\")" in message
    assert "ValueError: boom at the second cell" in message
    assert "\x1b[" not in message  # no terminal colour codes
    assert not list((lessons.constants.HOME / "lessons").glob("*.ipynb"))  # nothing cached


@pytest.mark.slow
def test_a_kernel_that_dies_at_start_says_why(tmp_path):
    # An environment without ipykernel: its kernel process exits before it answers. In a
    # process of its own, since nbclient then leaves a failing clean-up for the exit.
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    python = bare / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    (tmp_path / "tiny.py").write_text(TINY, encoding="utf-8")
    code = ("import jupytext, sys\n"
            "from explainlab_course import lessons\n"
            "try:\n"
            "    lessons.run_notebook(jupytext.read(sys.argv[1]), name='tiny.py',\n"
            "                         profile='offline', timeout=60, python=sys.argv[2])\n"
            "except lessons.LessonExecutionError as error:\n"
            "    print(error)\n")
    run = subprocess.run([sys.executable, "-c", code, str(tmp_path / "tiny.py"), str(python)],
                         capture_output=True, text=True, timeout=300)
    assert run.stdout.startswith("Lesson tiny.py could not be executed: "), run.stderr
    assert "The kernel process wrote to its stderr (last lines):" in run.stdout
    assert "No module named ipykernel_launcher" in run.stdout


@pytest.mark.slow
def test_cell_timeout_is_named(tmp_path):
    slow = HEADER + "\n# %%\nimport time\n\n# %%\ntime.sleep(30)\n"
    with pytest.raises(errors.LessonExecutionError, match=r"code cell 2\) ran longer"):
        lessons.execute(lesson(tmp_path, slow), timeout=2)


@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_command_line_prints_seconds_per_lesson(tmp_path, jobs):
    good = lesson(tmp_path, TINY)
    bad = lesson(tmp_path, FAILING, name="02_failing.py")

    def run(*args):
        return subprocess.run([sys.executable, "-m", "explainlab_course.lessons", "run", *args],
                              capture_output=True, text=True, timeout=300)

    first = run(str(good), "--profile", "offline")
    assert first.returncode == 0, first.stderr
    assert first.stderr == ""
    assert first.stdout.strip().endswith(f"{good}  (executed, profile offline)")
    assert float(first.stdout.split()[0]) > 0
    second = run(str(good), str(bad), "--jobs", jobs)  # 2: each lesson in its own process
    assert second.returncode == 1
    # "cached" unless the package sources changed in between (someone editing src/)
    assert re.search(r"\((cached; executed in [\d.]+ s|executed), profile offline\)",
                     second.stdout)
    assert f"FAILED {bad}" in second.stderr and "ValueError: boom" in second.stderr
    if jobs == "2":
        assert "FAILED en-02_failing (log " in second.stderr


# A lesson that shows its working directory: the claim of every lesson refuses it.
LEAKY = HEADER + """
# %% [markdown]
# # A lesson that shows a folder of this machine

# %% tags=["where"]
import os

print("working in", os.getcwd())
"""


@pytest.mark.slow
def test_claims_are_checked_executed_and_cached(tmp_path, monkeypatch, stable_package):
    path = lesson(tmp_path, LEAKY, name="01_leaky.py")
    with pytest.raises(errors.LessonClaimError) as caught:
        lessons.execute(path)
    message = str(caught.value)
    assert isinstance(caught.value, AssertionError)
    first = message.splitlines()[0]
    assert f"Lesson {path} (language en, profile offline): 1 of 1 claims failed" in first
    claim = "no_machine_local_paths: No output shows a folder of the machine"
    assert claim in message
    assert "cell 2 shows the lesson's temporary working directory" in message
    assert "working in" in message  # what the notebook printed

    cached = lessons.cache_path(path, lessons.cache_key(path, profile="offline"))
    assert cached.is_file()  # kept: execution is expensive, the check runs again

    def no_kernel(*args, **kwargs):
        raise AssertionError("a cached lesson must not be executed again")

    monkeypatch.setattr(lessons, "run_lesson", no_kernel)
    with pytest.raises(errors.LessonClaimError, match="no_machine_local_paths"):
        lessons.execute(path)  # from the cache: checked again
    nb = lessons.execute(path, check=False)  # for callers that check the claims themselves
    assert nb.metadata["explainlab"]["cached"] is True


@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_command_line_fails_on_a_claim(tmp_path, jobs):
    """A lesson whose claim fails makes `run` exit non-zero, naming the lesson and the claim;
    so do the claims comparing the two languages of a lesson."""
    slug = "01_mt_attribution"  # a slug with claims of its own, one of them comparing en and zh
    en = lesson(tmp_path, LEAKY, name=f"{slug}.py")
    zh = lesson(tmp_path, LEAKY.replace("working in", "工作目录"), name=f"{slug}.py", lang="zh")
    done = subprocess.run([sys.executable, "-m", "explainlab_course.lessons", "run", str(en),
                           str(zh),
                           "--jobs", jobs], capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    if jobs == "1":
        assert f"FAILED {en} " in done.stderr and f"FAILED {zh} " in done.stderr
        assert f"Lesson {en} (language en, profile offline):" in done.stderr
        assert "translations_of_both_scripts" in done.stderr  # one of lesson 01's own
    else:  # each lesson's process: the end of its log
        assert "FAILED en-01_mt_attribution (log " in done.stderr
        assert "FAILED zh-01_mt_attribution (log " in done.stderr
    assert "no_machine_local_paths" in done.stderr  # the claim of every lesson
    # Both executed: their printed text is compared, and differs.
    assert f"FAILED {slug} (en and zh compared)" in done.stderr
    assert f"Lessons {en} and {zh} (languages en and zh compared" in done.stderr
    assert "both_languages_print_the_same" in done.stderr
