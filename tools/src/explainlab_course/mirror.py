"""A classroom mirror: olah in offline mode over git repositories of model folders.

The teacher runs ``explainlab-course mirror serve`` over downloaded models (or the
offline twins); students set ``HF_ENDPOINT`` to the teacher's address and
run the lessons with the ``hub`` profile. Twins are served under the hub id
of the real model they stand in for, with a model card saying what they
are. The setup guide introduces it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from explainlab import constants
from explainlab.errors import TwinUnavailableError
from explainlab.models import get_role

from . import zoo

_GIT = ["git", "-c", "user.name=ExplainLab", "-c", "user.email=twins@explainlab.invalid",
        "-c", "commit.gpgsign=false"]
_FIXED_DATE = {"GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
               "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"}


def twin_sources(roles: Iterable[str] | None = None) -> dict[str, Path]:
    """Hub id -> twin folder for ``roles`` (default: every twin), building twins as needed."""
    return {get_role(role).hub_id: zoo.twin_path(role) for role in roles or zoo.list_twins()}


def folder_sources(downloads: Path) -> dict[str, Path]:
    """Hub id -> folder for repositories laid out as ``downloads/ORG/NAME`` (``explainlab
    download`` puts them there by default, under ``EXPLAINLAB_HOME/downloads``)."""
    found = {f"{repo.parent.name}/{repo.name}": repo
             for repo in sorted(Path(downloads).glob("*/*")) if repo.is_dir()}
    if not found:
        raise FileNotFoundError(
            f"No repositories under {downloads}: expected ORG/NAME folders, e.g. made with "
            f"`explainlab download Helsinki-NLP/opus-mt-zh-en --local-dir "
            f"{downloads}/Helsinki-NLP/opus-mt-zh-en`."
        )
    return found


def prepare(sources: dict[str, Path], *, root: Path | None = None) -> Path:
    """Lay out ``sources`` (hub id -> folder) as git repositories under ``root/mirrors/models``.

    A repository is rewritten only when its folder changed. Returns ``root``
    (default ``EXPLAINLAB_HOME/mirror``).
    """
    root = Path(root) if root else constants.HOME / "mirror"
    for hub_id, folder in sources.items():
        repo = root / "mirrors" / "models" / hub_id
        stamp = repo / ".git" / "explainlab-source"
        signature = _signature(folder)
        if stamp.is_file() and stamp.read_text() == signature:
            continue
        if repo.exists():
            shutil.rmtree(repo)
        shutil.copytree(folder, repo, ignore=shutil.ignore_patterns(".cache", ".git"))
        env = {**os.environ, **_FIXED_DATE}
        for command in (["init", "-q", "-b", "main"], ["add", "-A"],
                        ["commit", "-q", "-m", f"{hub_id} from {folder.name}"]):
            subprocess.run([*_GIT, *command], cwd=repo, env=env, check=True)
        stamp.write_text(signature)
    return root


def _signature(folder: Path) -> str:
    """Names, sizes and times of a folder's files: enough to notice a rebuilt twin."""
    return "\n".join(f"{p.relative_to(folder)}:{p.stat().st_size}:{p.stat().st_mtime_ns}"
                     for p in sorted(folder.rglob("*")) if p.is_file())


def olah_config(root: Path, *, host: str, port: int) -> Path:
    """Write olah's configuration for an offline mirror of ``root``; return its path."""
    config = root / "olah.toml"
    config.write_text(
        "[basic]\n"
        f'host = "{host}"\nport = {port}\n'
        f'repos-path = "{root / "cache"}"\nmirrors-path = ["{root / "mirrors"}"]\n'
        "[accessibility]\noffline = true\n",
        encoding="utf-8",
    )
    return config


def serve(sources: dict[str, Path], *, host: str = "127.0.0.1", port: int = 8090,
          root: Path | None = None) -> int:
    """Prepare ``sources`` (hub id -> folder) and run olah in the foreground until interrupted.

    Returns olah's exit status.
    """
    olah = shutil.which("olah-cli", path=f"{Path(sys.executable).parent}{os.pathsep}"
                                          f"{os.environ.get('PATH', '')}")
    if olah is None:
        raise TwinUnavailableError(
            "The classroom mirror needs olah: `pip install 'explainlab[mirror]'` (or olah)."
        )
    root = prepare(sources, root=root)
    config = olah_config(root, host=host, port=port)
    print(f"Serving {len(sources)} repositories at http://{host}:{port} "
          f"(students: export HF_ENDPOINT=http://<this machine's address>:{port}); "
          "Ctrl+C to stop.", flush=True)
    server = subprocess.Popen([olah, "-c", str(config)], cwd=root)
    # A SIGTERM to this process (a teacher's `kill`, a service manager) stops olah too;
    # Ctrl+C reaches olah directly, through the terminal's process group.
    previous = signal.signal(signal.SIGTERM, lambda *_: server.terminate())
    try:
        return server.wait()
    except KeyboardInterrupt:
        server.terminate()
        return server.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)
