"""A classroom mirror of the offline twins: olah in offline mode over git repositories.

The teacher runs ``explainlab mirror serve``; students set ``HF_ENDPOINT`` to
the teacher's address and run the lessons with the ``hub`` profile. Each twin
is served under the hub id of the real model it stands in for, with its
model card saying what it is. The setup guide introduces it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from . import constants, zoo
from .errors import TwinUnavailableError
from .models import get_role

_GIT = ["git", "-c", "user.name=ExplainLab", "-c", "user.email=twins@explainlab.invalid",
        "-c", "commit.gpgsign=false"]
_FIXED_DATE = {"GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
               "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"}


def prepare(roles: Iterable[str] | None = None, *, root: Path | None = None) -> Path:
    """Lay out the twins as git repositories under ``root/mirrors/models/<hub id>``.

    Twins are built first if needed. A repository is rewritten only when its
    twin changed. Returns ``root`` (default ``EXPLAINLAB_HOME/mirror``).
    """
    root = Path(root) if root else constants.HOME / "mirror"
    for role in roles or zoo.list_twins():
        twin = zoo.twin_path(role)
        repo = root / "mirrors" / "models" / get_role(role).hub_id
        stamp = repo / ".git" / "explainlab-twin"
        if stamp.is_file() and stamp.read_text() == twin.name:
            continue
        if repo.exists():
            shutil.rmtree(repo)
        shutil.copytree(twin, repo)
        env = {**os.environ, **_FIXED_DATE}
        for command in (["init", "-q", "-b", "main"], ["add", "-A"],
                        ["commit", "-q", "-m", f"Offline twin for {role}"]):
            subprocess.run([*_GIT, *command], cwd=repo, env=env, check=True)
        stamp.write_text(twin.name)
    return root


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


def serve(roles: Iterable[str] | None = None, *, host: str = "127.0.0.1", port: int = 8090,
          root: Path | None = None) -> int:
    """Prepare the twins and run olah in the foreground until interrupted.

    Returns olah's exit status.
    """
    olah = shutil.which("olah-cli", path=f"{Path(sys.executable).parent}{os.pathsep}"
                                          f"{os.environ.get('PATH', '')}")
    if olah is None:
        raise TwinUnavailableError(
            "The classroom mirror needs olah: `pip install 'explainlab[mirror]'` (or olah)."
        )
    root = prepare(roles, root=root)
    config = olah_config(root, host=host, port=port)
    print(f"Serving the offline twins at http://{host}:{port} "
          f"(students: export HF_ENDPOINT=http://<this machine's address>:{port}); "
          "Ctrl+C to stop.", flush=True)
    return subprocess.call([olah, "-c", str(config)], cwd=root)
