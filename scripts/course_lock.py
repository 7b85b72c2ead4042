"""The course factory's lock file, ``course.lock``: write it, hold an environment to it, and
report how the newest releases drift from it.

Every command looks at the environment of the Python that runs it:

- ``write OUTPUT`` (``make lock``, in a throwaway venv that has just installed torch and the
  two projects with their newest allowed releases): ``pip freeze --all`` less them, sorted by
  name, under a header that says how the file is made;
- ``sync`` (``make install``, in ``.venv``): uninstalls what the lock does not hold, then fails
  naming every package whose version is not the locked one;
- ``drift`` (``make test-latest``, in ``.venv-latest``): prints package, locked version and
  newest version for every package that differs.

Needs only the standard library and ``packaging`` (which the lock holds). Tested by
tests/test_lock.py.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "course.lock"
# The learner's package and the course factory; `make install` installs the factory with EXTRAS.
PYPROJECTS = (ROOT / "pyproject.toml", ROOT / "tools" / "pyproject.toml")
EXTRAS = ("dev", "mirror")
# The projects themselves: installed editable, never pinned.
PROJECTS = ("explainlab", "explainlab-course")

HEADER = """\
# course.lock: every package of the course factory's environment (.venv), at an exact version.
# Written by `make lock`; do not edit by hand. `make lock` installs into a throwaway venv the
# torch build of TORCH_SPEC (PyTorch's CPU build), the learner's package and the course factory
# with its extras dev and mirror (`pip install "$TORCH_SPEC" -e . -e "tools[dev,mirror]"`: the
# newest releases both pyproject.toml files allow), then writes `pip freeze --all` less the two
# projects, sorted by name (scripts/course_lock.py). `make install` installs exactly these
# versions, then both projects with --no-deps.
"""
PLATFORM_PREFIX = "# Resolved for: "
PIN = re.compile(r"^(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)==(?P<version>[^\s;#]+)$")


@dataclass(frozen=True)
class Difference:
    """One package whose version is not the same on both sides (``None``: absent there)."""

    name: str
    locked: str | None
    other: str | None

    def describe(self, other: str = "installed") -> str:
        if self.other is None:
            return f"{self.name}: locked {self.locked}, not {other}"
        if self.locked is None:
            return f"{self.name}: {other} {self.other}, not in the lock"
        return f"{self.name}: locked {self.locked}, {other} {self.other}"

    def __str__(self) -> str:
        return self.describe()


def current_platform() -> str:
    """What a lock is resolved for: ``CPython 3.11 on linux x86_64``."""
    major, minor = sys.version_info[:2]
    return f"{platform.python_implementation()} {major}.{minor} on {sys.platform} " \
        f"{platform.machine()}"


def parse_pins(lines: Iterable[str], *, source: str = "lock") -> dict[str, str]:
    """``{canonical name: version}`` from ``name==version`` lines; comments and blank lines
    are skipped. Anything else (a range, an editable, a URL) and a name given twice raise
    ``ValueError`` naming the line."""
    pins: dict[str, str] = {}
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = PIN.match(line)
        if match is None:
            raise ValueError(f"{source}, line {number}: {line!r} is not `name==version`")
        try:
            Version(match["version"])
        except InvalidVersion:
            raise ValueError(f"{source}, line {number}: {match['version']!r} is not a "
                             "version") from None
        name = canonicalize_name(match["name"])
        if name in pins:
            raise ValueError(f"{source}, line {number}: {name} is pinned twice")
        pins[name] = match["version"]
    return pins


def parse_lock(text: str) -> dict[str, str]:
    """The pins of a lock file's text."""
    return parse_pins(text.splitlines())


def lock_platform(text: str) -> str | None:
    """The platform a lock's header says it was resolved for."""
    for line in text.splitlines():
        if line.startswith(PLATFORM_PREFIX):
            return line.removeprefix(PLATFORM_PREFIX).strip()
    return None


def render(pins: Mapping[str, str], *, platform_name: str) -> str:
    """A lock file's text: the header, then one ``name==version`` per line, sorted by name."""
    names = {canonicalize_name(name): version for name, version in pins.items()}
    body = "".join(f"{name}=={names[name]}\n" for name in sorted(names))
    return f"{HEADER}{PLATFORM_PREFIX}{platform_name}\n{body}"


def lock_from_freeze(freeze: str, *, platform_name: str) -> str:
    """A lock file's text from ``pip freeze --all`` output less ``PROJECTS``: every line
    must be ``name==version`` (a pin of either project is left out)."""
    kept = []
    for line in freeze.splitlines():
        stripped = line.strip()
        if stripped.startswith("-e ") or stripped.startswith("--editable"):
            raise ValueError(f"pip freeze: an editable install besides {PROJECTS}: {stripped!r}")
        match = PIN.match(stripped)
        if match and canonicalize_name(match["name"]) in PROJECTS:
            continue
        kept.append(line)
    return render(parse_pins(kept, source="pip freeze"), platform_name=platform_name)


def installed_versions(*, exclude: Iterable[str] = PROJECTS) -> dict[str, str]:
    """``{canonical name: version}`` of the distributions this interpreter sees (the first of
    a name on ``sys.path`` wins, as it does on import)."""
    skip = {canonicalize_name(name) for name in exclude}
    versions: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if not name:
            continue
        name = canonicalize_name(name)
        if name not in skip:
            versions.setdefault(name, dist.version)
    return versions


def compare(locked: Mapping[str, str], other: Mapping[str, str]) -> list[Difference]:
    """Every package whose version differs between ``locked`` and ``other`` (an installed
    environment, or the newest releases), sorted by name; empty when they agree exactly."""
    locked = {canonicalize_name(k): v for k, v in locked.items()}
    other = {canonicalize_name(k): v for k, v in other.items()}
    differences = []
    for name in sorted(locked.keys() | other.keys()):
        a, b = locked.get(name), other.get(name)
        if a is None or b is None or Version(a) != Version(b):
            differences.append(Difference(name, a, b))
    return differences


def pyproject_requirements(paths: Iterable[Path] = PYPROJECTS, *,
                           extras: Iterable[str] = EXTRAS) -> list[str]:
    """The requirements of both projects (the factory's ``extras`` included), less their
    requirements on each other."""
    import tomllib  # Python 3.11+: the course factory's Python (the lock's header says which)

    requirements = []
    for path in paths:
        project = tomllib.loads(path.read_text(encoding="utf-8"))["project"]
        requirements += project.get("dependencies", [])
        optional = project.get("optional-dependencies", {})
        requirements += [r for extra in extras for r in optional.get(extra, [])]
    return [r for r in requirements if canonicalize_name(Requirement(r).name) not in PROJECTS]


def unsatisfied(requirements: Iterable[str], pins: Mapping[str, str], *,
                environment: Mapping[str, str] | None = None) -> list[str]:
    """The requirements that ``pins`` do not satisfy, each with the reason; requirements whose
    marker does not hold in ``environment`` (default: this interpreter's) are skipped."""
    pins = {canonicalize_name(k): v for k, v in pins.items()}
    env = {**default_environment(), "extra": "", **(environment or {})}
    problems = []
    for text in requirements:
        requirement = Requirement(text)
        if requirement.marker is not None and not requirement.marker.evaluate(env):
            continue
        version = pins.get(canonicalize_name(requirement.name))
        if version is None:
            problems.append(f"{text}: not in the lock")
        elif not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{text}: the lock has {version}")
    return problems


def drift_report(locked: Mapping[str, str], newest: Mapping[str, str], *,
                 lock_name: str = "course.lock") -> str:
    """A table of package, locked version and newest version for every package that
    differs, or one line saying that nothing does."""
    differences = compare(locked, newest)
    if not differences:
        return f"No drift: the newest releases pyproject.toml allows are those of {lock_name}.\n"
    rows = [("package", "locked", "newest")]
    rows += [(d.name, d.locked or "-", d.other or "-") for d in differences]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [f"Drift from {lock_name}: {len(differences)} package(s) differ in the newest "
             "releases pyproject.toml allows ('-': absent on that side)."]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
              .rstrip() for row in rows]
    return "\n".join(lines) + "\n"


def _write(output: Path) -> int:
    command = [sys.executable, "-m", "pip", "freeze", "--all",
               *(f"--exclude={name}" for name in PROJECTS)]
    freeze = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    text = lock_from_freeze(freeze, platform_name=current_platform())
    # Written whole or not at all.
    fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.")
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
    os.replace(tmp, output)
    print(f"{output.name}: {len(parse_lock(text))} packages ({current_platform()})")
    return 0


def _sync(lock: Path) -> int:
    locked = parse_lock(lock.read_text(encoding="utf-8"))
    extra = sorted(set(installed_versions()) - set(locked))
    if extra:
        print(f"Uninstalling what {lock.name} does not hold: {' '.join(extra)}")
        subprocess.run([sys.executable, "-m", "pip", "uninstall", "--quiet", "--yes", *extra],
                       check=True)
    differences = compare(locked, installed_versions())
    if differences:
        print(f"{sys.prefix} differs from {lock.name}:", file=sys.stderr)
        for difference in differences:
            print(f"  {difference}", file=sys.stderr)
        return 1
    return 0


def _drift(lock: Path) -> int:
    locked = parse_lock(lock.read_text(encoding="utf-8"))
    print(drift_report(locked, installed_versions(), lock_name=lock.name), end="")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    write = commands.add_parser("write", help="write the lock from this environment")
    write.add_argument("output", type=Path, nargs="?", default=LOCK)
    for name, text in (("sync", "hold this environment to the lock"),
                       ("drift", "how this environment differs from the lock")):
        command = commands.add_parser(name, help=text)
        command.add_argument("--lock", type=Path, default=LOCK)
    args = parser.parse_args(argv)
    if args.command == "write":
        return _write(args.output)
    if args.command == "sync":
        return _sync(args.lock)
    return _drift(args.lock)


if __name__ == "__main__":
    sys.exit(main())
