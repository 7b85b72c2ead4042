"""Run a few commands side by side, each with its output in a log file, with one progress bar.

Used by ``explainlab-course zoo build --jobs N`` and ``python -m explainlab_course.lessons run
--jobs N``:
one twin build, or one lesson, per child process. The children's own output (their
progress bars) goes to their logs, so the terminal shows one bar for the whole batch.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm


def default_jobs() -> int:
    """Two at a time, or one on a one-core machine: each child uses two threads itself, and
    on two cores two children finish a batch of twins about 1.4 times sooner than one."""
    return min(2, os.cpu_count() or 1)


@dataclass(frozen=True)
class Finished:
    """One command that ended: its name, exit status, wall seconds and log file."""

    name: str
    returncode: int
    seconds: float
    log: Path

    def tail(self, lines: int = 30) -> str:
        """The last ``lines`` lines of its log (progress-bar redraws collapsed)."""
        text = self.log.read_text(encoding="utf-8", errors="replace")
        shown = [line.rsplit("\r", 1)[-1] for line in text.splitlines()]
        return "\n".join(shown[-lines:])


def run_side_by_side(commands: Sequence[tuple[str, list[str]]], *, jobs: int, logs: Path,
                     desc: str) -> Iterator[Finished]:
    """Run ``(name, argv)`` commands, at most ``jobs`` at a time, in the order given (put the
    longest first); yield each as it ends. Output of ``name`` goes to ``logs/name.log``."""
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, not {jobs}.")
    logs.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    # Idle OpenMP threads sleep instead of spinning, or side-by-side jobs steal each
    # other's cores (measured: two twin builds took 3 times as long without it).
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")

    def run(name: str, argv: list[str]) -> Finished:
        log = logs / f"{name}.log"
        started = time.perf_counter()
        with log.open("w", encoding="utf-8") as out:
            code = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, env=env,
                                  stdin=subprocess.DEVNULL).returncode
        return Finished(name, code, time.perf_counter() - started, log)

    with (ThreadPoolExecutor(max_workers=jobs) as pool,
          tqdm(total=len(commands), desc=desc, unit="job") as bar):
        futures = [pool.submit(run, name, argv) for name, argv in commands]
        for future in as_completed(futures):
            done = future.result()
            bar.update()
            yield done
