"""Run the course's lessons: Jupytext percent files executed with nbclient, cached by content.

A lesson is ``lessons/<lang>/NN_slug.py``. ``execute`` runs it in a fresh ``python3`` kernel
of the running interpreter (so the project's venv), in a temporary working directory, with
``EXPLAINLAB_PROFILE`` set, and keeps the executed notebook under
``EXPLAINLAB_HOME/lessons``. The cache key covers everything that changes the outputs: the
lesson source, the ``explainlab`` package sources (the twins' recipes included; not the
claims, which only read outputs), the profile and the versions of the libraries the lessons
explain with. The site build and the lesson tests read the executed notebooks from there.

Every notebook ``execute`` returns, executed or from the cache, has passed the lesson's claims
(``explainlab_course.claims``: what the prose says about the outputs); otherwise it raises
``LessonClaimError`` naming each failed claim, and the notebook stays cached (execution is
expensive, the check is not). The command line also checks the claims that compare the
English and Chinese notebooks once both are executed, and exits non-zero when any claim
fails, so that ``make site`` publishes no lesson whose claims fail.

Command line (``make lessons``)::

    python -m explainlab_course.lessons run lessons/en/01_mt_attribution.py [--profile offline]
    python -m explainlab_course.lessons run            # every lesson, both languages
    python -m explainlab_course.lessons run --jobs 2   # two at a time, each in its own process
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

from explainlab import constants
from explainlab.errors import LessonClaimError, LessonExecutionError
from explainlab.notebook import check_profile

from ._parallel import default_jobs

if TYPE_CHECKING:
    from nbformat import NotebookNode

LANGS = ("en", "zh")
KEY_PACKAGES = ("torch", "transformers", "inseq", "captum", "bertviz")
"""Libraries whose versions are part of the cache key."""
LESSONS_DIR = Path(__file__).resolve().parents[3] / "lessons"
"""``lessons/`` of the repository this package is installed from (editable install)."""



@dataclass(frozen=True)
class Kernel:
    """A Python environment other than this one to execute lessons in (the platform checks):
    its name (the cache keeps its notebooks apart), its interpreter, and a digest of what it
    has installed (part of the cache key)."""

    name: str
    python: Path
    digest: str
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_META = "explainlab"  # notebook metadata key for what execute() records
WORKDIR_PREFIX = "explainlab-lesson-"
"""Name prefix of the temporary working directory a lesson runs in."""
KERNEL_STDERR_LINES = 20
"""How many last lines of a failed kernel's own stderr its error shows."""


def lesson_paths(lang: str | None = None, *, root: Path | None = None) -> list[Path]:
    """The lesson files ``lessons/<lang>/NN_*.py``, sorted (English first, then Chinese).

    Args:
        lang: ``"en"`` or ``"zh"``; ``None`` for both.
        root: the ``lessons`` folder; defaults to the repository's.

    Raises:
        ValueError: ``lang`` is not one of the course's languages.
    """
    if lang is not None and lang not in LANGS:
        raise ValueError(f"Unknown lesson language {lang!r}: use one of {', '.join(LANGS)}.")
    folder = Path(root) if root is not None else LESSONS_DIR
    langs = LANGS if lang is None else (lang,)
    return [p for name in langs for p in sorted((folder / name).glob("[0-9][0-9]_*.py"))]


def lesson_id(path: str | Path) -> tuple[str | None, str]:
    """``(language, slug)`` of a lesson file ``<lang>/NN_slug.py``: the language is the
    folder's name when it is one of ``LANGS``, else ``None`` (a variant of a lesson, such as a
    copy with answers filled in, which only the claims of every lesson apply to)."""
    path = Path(path)
    return (path.parent.name if path.parent.name in LANGS else None), path.stem


def _shown(path: str | Path) -> str:
    """A lesson file as messages name it: relative to the repository when it is inside."""
    path = Path(path)
    try:
        return path.resolve().relative_to(LESSONS_DIR.parent).as_posix()
    except ValueError:
        return str(path)


def _failures(failures: list, total: int) -> str:
    lines = [f"{len(failures)} of {total} claims failed; the site will not publish it:"]
    for failure in failures:
        message = "\n".join("      " + line for line in failure.message.splitlines())
        lines.append(f"  - {failure.claim.name}: {failure.claim.summary}\n{message}")
    return "\n".join(lines)


def check_claims(nb: NotebookNode, path: str | Path) -> None:
    """Check the claims of the lesson at ``path`` (and those of every lesson) on its executed
    notebook ``nb``.

    Raises:
        LessonClaimError: some claims fail; the message names the lesson file, its language
            and profile, and each failed claim (name, one-line description, what it found).
    """
    from . import claims

    lang, slug = lesson_id(path)
    profile = claims.notebook_profile(nb)
    failures = claims.check(nb, lang, slug, profile=profile)
    if failures:
        applied = claims.list_claims(slug if lang else claims.EVERY_LESSON, profile=profile)
        where = f"language {lang}" if lang else "no language folder: only every lesson's claims"
        raise LessonClaimError(
            f"Lesson {_shown(path)} ({where}, profile {profile}): "
            + _failures(failures, len(applied)))


def check_pair_claims(en: NotebookNode, zh: NotebookNode, slug: str, *,
                      paths: tuple[str | Path, str | Path] | None = None) -> None:
    """Check the claims that compare the English and the Chinese notebooks of lesson ``slug``.

    Raises:
        LessonClaimError: some fail; the message names both lesson files and each claim.
    """
    from . import claims

    profile = claims.notebook_profile(en)
    failures = claims.check_pair(en, zh, slug, profile=profile)
    if failures:
        files = paths or tuple(LESSONS_DIR / lang / f"{slug}.py" for lang in LANGS)
        applied = claims.list_claims(slug, paired=True, profile=profile)
        raise LessonClaimError(
            f"Lessons {_shown(files[0])} and {_shown(files[1])} (languages {LANGS[0]} and "
            f"{LANGS[1]} compared, profile {profile}): " + _failures(failures, len(applied)))


def package_digest() -> str:
    """sha256 of what a lesson's outputs depend on besides its source and libraries: the files
    (paths and bytes; no bytecode) of the learner's package ``explainlab``, and which twin
    each role resolves to (``explainlab.models.twin_pointer``: a twin folder is named by its
    recipe's key). The course factory's own code (claims, runner, checks) makes no output,
    so editing it checks the cached notebooks again instead of executing them again."""
    import explainlab
    from explainlab.models import list_roles, twin_pointer

    digest = hashlib.sha256()
    package = Path(explainlab.__file__).resolve().parent
    files = sorted(p for p in package.rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")
    for path in files:
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    for role in list_roles():
        pointer = twin_pointer(role)
        twin = pointer.read_text(encoding="utf-8").strip() if pointer.is_file() else "-"
        digest.update(f"twin {role}={twin}\0".encode())
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    """Versions of ``KEY_PACKAGES`` (``"not installed"`` for a missing one)."""
    out = {}
    for name in KEY_PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def cache_key(path: str | Path, *, profile: str = "offline", kernel: Kernel | None = None
              ) -> str:
    """The sha256 that names a lesson's executed notebook in the cache.

    It changes when the lesson source, ``package_digest()`` (the learner's package, the
    twins), the profile, a version in ``library_versions()`` or the ``kernel``'s environment
    changes.
    """
    digest = hashlib.sha256()
    parts = [b"lesson", Path(path).read_bytes(), b"package", package_digest().encode(),
             b"profile", check_profile(profile).encode()]
    if kernel is not None:
        parts += [b"kernel", kernel.name.encode(), kernel.digest.encode()]
    for name, ver in library_versions().items():
        parts += [name.encode(), ver.encode()]
    for part in parts:
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def cache_path(path: str | Path, key: str, kernel: Kernel | None = None) -> Path:
    """Where the executed notebook of ``path`` with cache key ``key`` is kept (a folder of
    its own for each other ``kernel``)."""
    path = Path(path)
    folder = constants.HOME / "lessons" / (kernel.name if kernel else "")
    return folder / f"{path.parent.name}-{path.stem}-{key[:20]}.ipynb"


def _cell_label(nb: NotebookNode, index: int) -> str:
    cell = nb.cells[index]
    code_index = sum(c.cell_type == "code" for c in nb.cells[:index + 1])
    tags = cell.get("metadata", {}).get("tags", [])
    label = f"cell {index + 1} of {len(nb.cells)} (code cell {code_index}"
    return label + (f", tags {', '.join(tags)})" if tags else ")")


def _failure(path: Path, nb: NotebookNode, index: int | None, exc: BaseException,
             kernel_stderr: str = "") -> LessonExecutionError:
    """A LessonExecutionError that names the cell, shows its source and the error, and what
    the kernel process wrote to its own stderr (``kernel_stderr``: why a kernel died)."""
    from nbclient.exceptions import CellTimeoutError

    said = (f"\n\nThe kernel process wrote to its stderr (last lines):\n{kernel_stderr}"
            if kernel_stderr.strip() else "")
    if index is None:  # the kernel failed before or between cells
        return LessonExecutionError(f"Lesson {path} could not be executed: {exc}{said}")
    cell = nb.cells[index]
    source = "\n".join(f"    {line}" for line in cell.source.splitlines())
    if isinstance(exc, CellTimeoutError):
        what = f"ran longer than the timeout ({exc})"
    else:
        error = next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)
        if error is not None:
            trace = _ANSI.sub("", "\n".join(error.get("traceback", [])))
            what = f"raised {error.ename}: {error.evalue}\n\n{trace}"
        else:
            what = f"failed: {_ANSI.sub('', str(exc))}"
    return LessonExecutionError(
        f"Lesson {path}: {_cell_label(nb, index)} {what.splitlines()[0]}\n\n"
        f"The cell:\n{source}\n\n{what}{said}")


def _client_class():
    from jupyter_client.kernelspec import KernelSpecManager
    from nbclient import NotebookClient

    class Client(NotebookClient):
        """The ``python3`` kernel of this interpreter (no user kernelspec can replace it), or
        of the interpreter of the kernelspec folder ``kernel_dir`` when it is set.

        With ``ipc_dir`` set (POSIX), the kernel talks over local sockets in that folder
        instead of unencrypted TCP ports.
        """

        ipc_dir: str | None = None
        kernel_dir: str | None = None

        def create_kernel_manager(self):
            transport = {"transport": "ipc", "ip": os.path.join(self.ipc_dir, "kernel")} \
                if self.ipc_dir else {}
            specs = KernelSpecManager(kernel_dirs=[self.kernel_dir] if self.kernel_dir else [])
            self.km = self.kernel_manager_class(
                kernel_name="python3", config=self.config, kernel_spec_manager=specs,
                **transport)
            return self.km

    return Client


def _kernel_spec(folder: Path, python: Path) -> str:
    """A kernelspec folder under ``folder`` whose ``python3`` kernel is ``python``'s."""
    spec = folder / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3", "language": "python"}), encoding="utf-8")
    return str(folder)


def run_lesson(path: Path, *, profile: str, timeout: int, env: dict[str, str] | None = None,
               python: Path | None = None, allow_errors: bool = False
               ) -> tuple[NotebookNode, float]:
    """Execute the lesson at ``path`` (a Jupytext file or a notebook) in a fresh kernel; see
    ``run_notebook``. Returns the executed notebook and the seconds it took."""
    import jupytext

    nb = jupytext.read(path)
    return nb, run_notebook(nb, name=path, profile=profile, timeout=timeout, env=env,
                            python=python, allow_errors=allow_errors)


def run_notebook(nb: NotebookNode, *, name: str | Path, profile: str, timeout: int,
                 env: dict[str, str] | None = None, python: Path | None = None,
                 allow_errors: bool = False, total: float | None = None) -> float:
    """Execute ``nb`` in place, in a fresh kernel in a fresh temporary folder, with
    ``EXPLAINLAB_PROFILE`` set to ``profile``; returns the seconds it took.

    ``timeout``: seconds per cell; ``total``: seconds for the whole notebook (each cell gets
    what is left); ``env``: more variables for the kernel; ``python``: the kernel's
    interpreter (default: this one); ``allow_errors``: go on after a failing cell, whose
    error stays in its outputs.

    Raises:
        LessonExecutionError: a cell failed (without ``allow_errors``), a cell or the whole
            notebook ran out of time, or the kernel died; it names the cell (``name``: the
            notebook's name in the message). The cells run so far keep their outputs.
    """
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    current: dict[str, int | None] = {"index": None}

    def started(cell, cell_index, **_):
        current["index"] = cell_index

    env = {**os.environ, constants.ENV_PROFILE: profile,
           # No download/loading bars on the executed pages (hub and transformers read this).
           "HF_HUB_DISABLE_PROGRESS_BARS": "1",
           "PYDEVD_DISABLE_FILE_VALIDATION": "1",  # quiet debugpy note on the kernel's stderr
           **(env or {})}
    client = _client_class()(nb, timeout=timeout, kernel_name="python3",
                             on_cell_start=started, record_timing=True,
                             allow_errors=allow_errors)
    started_at = time.perf_counter()
    if total is not None:
        def time_left(_source: str) -> int:
            return max(1, min(timeout, int(started_at + total - time.perf_counter())))

        client.timeout_func = time_left
    with (tempfile.TemporaryDirectory(prefix=WORKDIR_PREFIX) as cwd,
          tempfile.TemporaryDirectory(prefix="explainlab-ipc-") as ipc):
        client.ipc_dir = ipc if os.name == "posix" else None
        if python is not None:
            client.kernel_dir = _kernel_spec(Path(ipc) / "kernels", python)
        client.resources = {"metadata": {"path": cwd}}
        # The kernel's own stderr (not its cells' output, which the notebook keeps) goes to a
        # file: it says why a kernel died, and nothing else of it reaches this process's
        # stderr (such as libzmq's rare assertion while a finished kernel shuts down).
        with open(Path(ipc) / "kernel-stderr.txt", "w+", encoding="utf-8",
                  errors="replace") as kernel_stderr:
            try:
                client.execute(env=env, cwd=cwd, stderr=kernel_stderr)
            except Exception as exc:  # a cell failed, timed out, or the kernel died
                kernel_stderr.seek(0)
                last = "\n".join(kernel_stderr.read().splitlines()[-KERNEL_STDERR_LINES:])
                raise _failure(Path(name), nb, current["index"], exc, last) from None
    return time.perf_counter() - started_at


def _cached(path: Path, key: str, kernel: Kernel | None = None) -> NotebookNode | None:
    """The cached executed notebook of ``path`` for ``key``, if there is one."""
    import nbformat

    cached = cache_path(path, key, kernel)
    if not cached.is_file():
        return None
    nb = nbformat.read(cached, as_version=4)
    nb.metadata[_META]["cached"] = True
    return nb


def execute(path: str | Path, *, profile: str = "offline", timeout: int = 600,
            force: bool = False, check: bool = True, kernel: Kernel | None = None
            ) -> NotebookNode:
    """Execute a lesson (a Jupytext file) and return the executed notebook, cached, after
    checking its claims.

    The kernel is ``python3`` of the running interpreter, its working directory a fresh
    temporary folder, ``EXPLAINLAB_PROFILE`` set to ``profile``. The executed notebook is
    kept under ``EXPLAINLAB_HOME/lessons``, keyed by ``cache_key``; a later call with the
    same key returns it without running anything. ``nb.metadata["explainlab"]`` records the
    profile, the key, the execution seconds and whether this call came from the cache.
    Executed or cached, the notebook must pass the lesson's claims (``check_claims``); it
    stays cached when they fail, and they are checked again on the next call.

    Args:
        path: ``lessons/<lang>/NN_slug.py``.
        profile: ``offline`` (the twins) or ``hub`` (the real models).
        timeout: seconds one cell may run.
        force: execute even when a cached notebook exists.
        check: check the claims. Only for callers that check them themselves (the lesson
            tests check one claim per test, the site's hook checks after a re-run).
        kernel: execute in this other environment's kernel instead (the platform checks,
            ``explainlab_course.platforms``); cached apart from this environment's runs.

    Returns:
        The executed ``nbformat.NotebookNode``.

    Raises:
        LessonExecutionError: a cell raised (the message names the cell, shows its source
            and the traceback) or ran past ``timeout``.
        LessonClaimError: a claim of the lesson fails on its outputs (the message names the
            lesson file, the language and each failed claim).
        FileNotFoundError: ``path`` does not exist.
    """
    import nbformat

    path = Path(path).resolve()
    profile = check_profile(profile)
    key = cache_key(path, profile=profile, kernel=kernel)
    nb = None if force else _cached(path, key, kernel)
    if nb is None:
        cached = cache_path(path, key, kernel)
        nb, seconds = run_lesson(path, profile=profile, timeout=timeout,
                           python=kernel.python if kernel else None)
        nb.metadata[_META] = {"profile": profile, "key": key, "seconds": round(seconds, 2),
                              "source": f"{path.parent.name}/{path.name}",
                              "versions": library_versions()}
        if kernel is not None:  # its versions are in its own environment
            nb.metadata[_META].pop("versions")
            nb.metadata[_META]["kernel"] = kernel.name
        cached.parent.mkdir(parents=True, exist_ok=True)
        for old in cached.parent.glob(f"{path.parent.name}-{path.stem}-*.ipynb"):
            old.unlink(missing_ok=True)  # earlier keys of this lesson are stale
        partial = cached.with_suffix(f".{os.getpid()}.tmp")
        nbformat.write(nb, partial)
        os.replace(partial, cached)
        nb.metadata[_META]["cached"] = False
    if check:
        check_claims(nb, path)
    return nb


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m explainlab_course.lessons run [PATH...] [--profile P] [--timeout S] [--force]
    [--jobs N]``."""
    parser = argparse.ArgumentParser(prog="python -m explainlab_course.lessons",
                                     description="Execute ExplainLab lessons (cached).")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute lessons and print the seconds each took")
    run.add_argument("paths", nargs="*", type=Path,
                     help="lesson files (default: every lesson in both languages)")
    run.add_argument("--profile", default=os.environ.get(constants.ENV_PROFILE) or "offline",
                     help="offline (default, or $EXPLAINLAB_PROFILE) or hub")
    run.add_argument("--timeout", type=int, default=600, help="seconds per cell (600)")
    run.add_argument("--force", action="store_true", help="ignore the cache")
    run.add_argument("--jobs", type=int, default=default_jobs(), metavar="N",
                     help="lessons executed at a time, each in its own process "
                     f"(default: {default_jobs()})")
    args = parser.parse_args(argv)

    paths = args.paths or lesson_paths()
    if not paths:
        print(f"No lessons found under {LESSONS_DIR}.", file=sys.stderr)
        return 1
    if args.jobs > 1 and len(paths) > 1:
        return _run_side_by_side(paths, args)
    failed = 0
    done: dict[tuple[str, str], tuple[Path, NotebookNode]] = {}
    for path in paths:
        started = time.perf_counter()
        try:
            nb = execute(path, profile=args.profile, timeout=args.timeout, force=args.force,
                         check=False)
        except (LessonExecutionError, FileNotFoundError) as exc:
            failed += 1
            print(f"FAILED {path} ({time.perf_counter() - started:.1f} s)\n{exc}",
                  file=sys.stderr, flush=True)
            continue
        lang, slug = lesson_id(path)
        if lang is not None:
            done[lang, slug] = (path, nb)
        meta = nb.metadata[_META]
        note = f"cached; executed in {meta['seconds']:.1f} s" if meta["cached"] else "executed"
        try:
            check_claims(nb, path)
        except LessonClaimError as exc:
            failed += 1
            print(f"FAILED {path} ({time.perf_counter() - started:.1f} s; {note}): its claims "
                  f"do not hold\n{exc}", file=sys.stderr, flush=True)
            continue
        print(f"{time.perf_counter() - started:7.1f} s  {path}  ({note}, profile "
              f"{meta['profile']})", flush=True)
    for slug, (en, zh) in _pairs(done).items():
        failed += not _compare(slug, en, zh)
    return 1 if failed else 0


def _pairs(done: dict[tuple[str, str], tuple[Path, NotebookNode]]
           ) -> dict[str, tuple[tuple[Path, NotebookNode], tuple[Path, NotebookNode]]]:
    """The lessons executed in both languages: slug -> (English, Chinese) (path, notebook)."""
    first, second = LANGS
    return {slug: (done[first, slug], done[second, slug])
            for slug in sorted({slug for _, slug in done})
            if (first, slug) in done and (second, slug) in done}


def _compare(slug: str, en: tuple[Path, NotebookNode], zh: tuple[Path, NotebookNode]) -> bool:
    """Check the claims comparing the two languages of ``slug``; print a failure."""
    try:
        check_pair_claims(en[1], zh[1], slug, paths=(en[0], zh[0]))
    except LessonClaimError as exc:
        print(f"FAILED {slug} ({' and '.join(LANGS)} compared): the claims comparing its "
              f"languages do not hold\n{exc}", file=sys.stderr, flush=True)
        return False
    return True


def _run_side_by_side(paths: list[Path], args: argparse.Namespace) -> int:
    """``run --jobs N``: one process per lesson, N at a time; their lines as they end."""
    from tqdm.auto import tqdm

    from ._parallel import run_side_by_side

    options = ["--profile", args.profile, "--timeout", str(args.timeout)]
    commands = [(f"{path.parent.name}-{path.stem}",
                 [sys.executable, "-m", "explainlab_course.lessons", "run", str(path), *options,
                  *(["--force"] if args.force else [])]) for path in paths]
    failed = 0
    passed = set()
    logs = constants.HOME / "lessons" / ".logs"
    for done in run_side_by_side(commands, jobs=args.jobs, logs=logs, desc="lessons"):
        if done.returncode == 0:
            passed.add(done.name)
            tqdm.write(done.tail(1))
        else:
            failed += 1
            tqdm.write(f"FAILED {done.name} (log {done.log}):\n{done.tail(60)}", file=sys.stderr)
    # Lessons executed in both languages (each in its own process): compare them from the
    # cache. A lesson whose execution failed is not there (its failure is reported above).
    ids = {path: lesson_id(path) for path in paths}
    wanted = {slug for lang, slug in ids.values() if lang is not None
              and all((other, slug) in ids.values() for other in LANGS)}
    executed = {}
    for path, (lang, slug) in ids.items():
        resolved = Path(path).resolve()
        if slug not in wanted or not resolved.is_file():
            continue
        nb = _cached(resolved, cache_key(resolved, profile=args.profile))
        if nb is not None:
            executed[lang, slug] = (path, nb)
        elif f"{resolved.parent.name}-{resolved.stem}" in passed:
            failed += 1  # executed, yet not in the cache: something changed the key meanwhile
            print(f"FAILED {path}: executed, but its notebook is not in the cache any more "
                  "(did the lesson or the explainlab package change during the run?), so its "
                  "languages could not be compared; run again.", file=sys.stderr, flush=True)
    for slug, (en, zh) in _pairs(executed).items():
        failed += not _compare(slug, en, zh)
    return 1 if failed else 0

if __name__ == "__main__":
    sys.exit(main())
