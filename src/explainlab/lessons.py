"""Run the course's lessons: Jupytext percent files executed with nbclient, cached by content.

A lesson is ``lessons/<lang>/NN_slug.py``. ``execute`` runs it in a fresh ``python3`` kernel
of the running interpreter (so the project's venv), in a temporary working directory, with
``EXPLAINLAB_PROFILE`` set, and keeps the executed notebook under
``EXPLAINLAB_HOME/lessons``. The cache key covers everything that changes the outputs: the
lesson source, the ``explainlab`` package sources (the twins' recipes included), the profile
and the versions of the libraries the lessons explain with. The site build and the lesson
tests read the executed notebooks from there.

Command line (``make lessons``)::

    python -m explainlab.lessons run lessons/en/01_mt_attribution.py [--profile offline]
    python -m explainlab.lessons run            # every lesson, both languages
    python -m explainlab.lessons run --jobs 2   # two at a time, each in its own process
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

from . import constants
from ._parallel import default_jobs
from .errors import LessonExecutionError
from .notebook import check_profile

if TYPE_CHECKING:
    from nbformat import NotebookNode

LANGS = ("en", "zh")
KEY_PACKAGES = ("torch", "transformers", "inseq", "captum", "bertviz")
"""Libraries whose versions are part of the cache key."""
LESSONS_DIR = Path(__file__).resolve().parents[2] / "lessons"
"""``lessons/`` of the repository this package is installed from (editable install)."""

_PACKAGE_DIR = Path(__file__).resolve().parent
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_META = "explainlab"  # notebook metadata key for what execute() records


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


def package_digest() -> str:
    """sha256 of the ``explainlab`` package's files (paths and bytes; no bytecode)."""
    digest = hashlib.sha256()
    files = sorted(p for p in _PACKAGE_DIR.rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")
    for path in files:
        digest.update(path.relative_to(_PACKAGE_DIR).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
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


def cache_key(path: str | Path, *, profile: str = "offline") -> str:
    """The sha256 that names a lesson's executed notebook in the cache.

    It changes when the lesson source, any file of the ``explainlab`` package, the profile
    or a version in ``library_versions()`` changes.
    """
    digest = hashlib.sha256()
    parts = [b"lesson", Path(path).read_bytes(), b"package", package_digest().encode(),
             b"profile", check_profile(profile).encode()]
    for name, ver in library_versions().items():
        parts += [name.encode(), ver.encode()]
    for part in parts:
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def cache_path(path: str | Path, key: str) -> Path:
    """Where the executed notebook of ``path`` with cache key ``key`` is kept."""
    path = Path(path)
    return constants.HOME / "lessons" / f"{path.parent.name}-{path.stem}-{key[:20]}.ipynb"


def _cell_label(nb: NotebookNode, index: int) -> str:
    cell = nb.cells[index]
    code_index = sum(c.cell_type == "code" for c in nb.cells[:index + 1])
    tags = cell.get("metadata", {}).get("tags", [])
    label = f"cell {index + 1} of {len(nb.cells)} (code cell {code_index}"
    return label + (f", tags {', '.join(tags)})" if tags else ")")


def _failure(path: Path, nb: NotebookNode, index: int | None,
             exc: BaseException) -> LessonExecutionError:
    """A LessonExecutionError that names the cell, shows its source and the error."""
    from nbclient.exceptions import CellTimeoutError

    if index is None:  # the kernel failed before or between cells
        return LessonExecutionError(f"Lesson {path} could not be executed: {exc}")
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
        f"The cell:\n{source}\n\n{what}")


def _client_class():
    from jupyter_client.kernelspec import KernelSpecManager
    from nbclient import NotebookClient

    class Client(NotebookClient):
        """The ``python3`` kernel of this interpreter (no user kernelspec can replace it).

        With ``ipc_dir`` set (POSIX), the kernel talks over local sockets in that folder
        instead of unencrypted TCP ports.
        """

        ipc_dir: str | None = None

        def create_kernel_manager(self):
            transport = {"transport": "ipc", "ip": os.path.join(self.ipc_dir, "kernel")} \
                if self.ipc_dir else {}
            self.km = self.kernel_manager_class(
                kernel_name="python3", config=self.config,
                kernel_spec_manager=KernelSpecManager(kernel_dirs=[]), **transport)
            return self.km

    return Client


def _run(path: Path, *, profile: str, timeout: int,
         env: dict[str, str] | None = None) -> tuple[NotebookNode, float]:
    """Execute ``path`` in a fresh kernel (``env``: more variables for it); returns the
    notebook and the seconds it took."""
    import jupytext

    nb = jupytext.read(path)
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
                             on_cell_start=started, record_timing=True)
    started_at = time.perf_counter()
    with (tempfile.TemporaryDirectory(prefix="explainlab-lesson-") as cwd,
          tempfile.TemporaryDirectory(prefix="explainlab-ipc-") as ipc):
        client.ipc_dir = ipc if os.name == "posix" else None
        client.resources = {"metadata": {"path": cwd}}
        try:
            client.execute(env=env, cwd=cwd)
        except Exception as exc:  # a cell failed, timed out, or the kernel died
            raise _failure(path, nb, current["index"], exc) from None
    return nb, time.perf_counter() - started_at


def execute(path: str | Path, *, profile: str = "offline", timeout: int = 600,
            force: bool = False) -> NotebookNode:
    """Execute a lesson (a Jupytext file) and return the executed notebook, cached.

    The kernel is ``python3`` of the running interpreter, its working directory a fresh
    temporary folder, ``EXPLAINLAB_PROFILE`` set to ``profile``. The executed notebook is
    kept under ``EXPLAINLAB_HOME/lessons``, keyed by ``cache_key``; a later call with the
    same key returns it without running anything. ``nb.metadata["explainlab"]`` records the
    profile, the key, the execution seconds and whether this call came from the cache.

    Args:
        path: ``lessons/<lang>/NN_slug.py``.
        profile: ``offline`` (the twins) or ``hub`` (the real models).
        timeout: seconds one cell may run.
        force: execute even when a cached notebook exists.

    Returns:
        The executed ``nbformat.NotebookNode``.

    Raises:
        LessonExecutionError: a cell raised (the message names the cell, shows its source
            and the traceback) or ran past ``timeout``.
        FileNotFoundError: ``path`` does not exist.
    """
    import nbformat

    path = Path(path).resolve()
    profile = check_profile(profile)
    key = cache_key(path, profile=profile)
    cached = cache_path(path, key)
    if cached.is_file() and not force:
        nb = nbformat.read(cached, as_version=4)
        nb.metadata[_META]["cached"] = True
        return nb
    nb, seconds = _run(path, profile=profile, timeout=timeout)
    nb.metadata[_META] = {"profile": profile, "key": key, "seconds": round(seconds, 2),
                          "source": f"{path.parent.name}/{path.name}",
                          "versions": library_versions()}
    cached.parent.mkdir(parents=True, exist_ok=True)
    for old in cached.parent.glob(f"{path.parent.name}-{path.stem}-*.ipynb"):
        old.unlink(missing_ok=True)  # earlier keys of this lesson are stale
    partial = cached.with_suffix(f".{os.getpid()}.tmp")
    nbformat.write(nb, partial)
    os.replace(partial, cached)
    nb.metadata[_META]["cached"] = False
    return nb


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m explainlab.lessons run [PATH...] [--profile P] [--timeout S] [--force]
    [--jobs N]``."""
    parser = argparse.ArgumentParser(prog="python -m explainlab.lessons",
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
    for path in paths:
        started = time.perf_counter()
        try:
            nb = execute(path, profile=args.profile, timeout=args.timeout, force=args.force)
        except (LessonExecutionError, FileNotFoundError) as exc:
            failed += 1
            print(f"FAILED {path} ({time.perf_counter() - started:.1f} s)\n{exc}",
                  file=sys.stderr, flush=True)
            continue
        meta = nb.metadata[_META]
        note = f"cached; executed in {meta['seconds']:.1f} s" if meta["cached"] else "executed"
        print(f"{time.perf_counter() - started:7.1f} s  {path}  ({note}, profile "
              f"{meta['profile']})", flush=True)
    return 1 if failed else 0


def _run_side_by_side(paths: list[Path], args: argparse.Namespace) -> int:
    """``run --jobs N``: one process per lesson, N at a time; their lines as they end."""
    from tqdm.auto import tqdm

    from ._parallel import run_side_by_side

    options = ["--profile", args.profile, "--timeout", str(args.timeout)]
    commands = [(f"{path.parent.name}-{path.stem}",
                 [sys.executable, "-m", "explainlab.lessons", "run", str(path), *options,
                  *(["--force"] if args.force else [])]) for path in paths]
    failed = 0
    logs = constants.HOME / "lessons" / ".logs"
    for done in run_side_by_side(commands, jobs=args.jobs, logs=logs, desc="lessons"):
        if done.returncode == 0:
            tqdm.write(done.tail(1))
        else:
            failed += 1
            tqdm.write(f"FAILED {done.name} (log {done.log}):\n{done.tail(60)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
