"""Time `make site` cold and warm (the site part of `make bench`).

Cold: a fresh EXPLAINLAB_HOME, so no lesson is executed yet and no page rendered yet; the
offline twins are taken from the usual cache (``--twins cached``, the default: the home's
``twins`` folder is linked in) or built too (``--twins cold``). Warm: the same command again
with nothing changed, which must only read caches. Prints both times in seconds.

    .venv/bin/python benchmarks/site.py [--twins cached|cold] [--warm-runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLD_TARGET_S = 360  # issue 6: cold, twins built too, within 6 minutes
WARM_TARGET_S = 30


def _home() -> Path:
    return Path(os.environ.get("EXPLAINLAB_HOME") or "~/.cache/explainlab").expanduser()


def make_site(env: dict[str, str], log: Path) -> float:
    """Run `make site`, its output into ``log``; the seconds it took (exits on failure)."""
    started = time.perf_counter()
    with open(log, "w", encoding="utf-8") as out:
        done = subprocess.run(["make", "site"], cwd=ROOT, env=env, stdout=out,
                              stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - started
    if done.returncode:
        tail = "".join(log.read_text(encoding="utf-8").splitlines(keepends=True)[-40:])
        sys.exit(f"`make site` failed after {seconds:.1f} s (log: {log}):\n{tail}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--twins", choices=("cached", "cold"), default="cached",
                        help="take the twins from the cache (default) or build them too")
    parser.add_argument("--warm-runs", type=int, default=2,
                        help="warm runs; the fastest is reported (default 2)")
    args = parser.parse_args(argv)

    logs = ROOT / "test-output" / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    twins = _home() / "twins"
    if args.twins == "cached" and not twins.is_dir():
        sys.exit(f"No twins under {twins}: run `make twins` first, or use --twins cold.")
    with tempfile.TemporaryDirectory(prefix="explainlab-bench-home-") as home:
        if args.twins == "cached":
            os.symlink(twins, Path(home) / "twins")
        env = {**os.environ, "EXPLAINLAB_HOME": home,
               "EXPLAINLAB_PROFILE": os.environ.get("EXPLAINLAB_PROFILE") or "offline"}
        shutil.rmtree(ROOT / "site", ignore_errors=True)
        cold = make_site(env, logs / "site-cold.log")
        warm = min(make_site(env, logs / f"site-warm-{i + 1}.log")
                   for i in range(max(1, args.warm_runs)))
    what = "twins cached" if args.twins == "cached" else "twins built too"
    print(f"make site, cold ({what}; lessons executed, pages rendered): {cold:8.1f} s"
          f"  target <= {COLD_TARGET_S} s (with the twins): "
          + ("-" if args.twins == "cached" else "met" if cold <= COLD_TARGET_S else "MISSED"))
    print(f"make site, warm (nothing changed):{'':26}{warm:8.1f} s  target <= {WARM_TARGET_S} s: "
          + ("met" if warm <= WARM_TARGET_S else "MISSED"))
    print(f"profile {env['EXPLAINLAB_PROFILE']}; {os.cpu_count()} CPUs; logs in {logs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
