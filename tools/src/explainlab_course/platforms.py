"""Platform checks: the learner's package installed and its lessons run where learners run them.

Three environments, each a venv cached under ``EXPLAINLAB_HOME/platforms``:

- ``colab`` and ``kaggle``: the pinned packages of the committed snapshots
  ``platforms/<name>.txt`` (IPython 7.34, ipykernel 6.17, their transformers,
  huggingface_hub, numpy, ...);
- ``lowest``: every requirement of the learner's package at the lowest version its range
  allows, with Colab's Jupyter kernel packages.

Each has the course machine's CPU torch (course.lock's) instead of the platform's. ``prepare``
installs the learner's package into it the way a lesson's first cell does (``pip install``
of the package, its dependencies resolved by pip) and reports every pinned package that
moved, every course-building tool that arrived, and whether ``import explainlab`` and
``setup()`` work; the lessons then run in a kernel of that environment
(``explainlab_course.lessons.execute(..., kernel=...)``). tests/platforms drives it.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from explainlab import constants

from .lessons import Kernel

ROOT = Path(__file__).resolve().parents[3]
SNAPSHOTS = ROOT / "platforms"
ENVIRONMENTS = ("colab", "kaggle", "lowest")
REPLACED = ("torch", "torchvision", "torchaudio")
"""Platform packages the course machine cannot install as they are: its CPU torch instead."""
KERNEL_PACKAGES = ("ipython", "ipykernel", "ipywidgets", "traitlets", "jupyter-client")
"""What ``lowest`` takes from Colab's snapshot: a Jupyter kernel to run the lessons in."""
READY = "explainlab-platform.json"
SETUP_CHECK = "import explainlab; print('setup:', explainlab.setup())"
"""What a lesson's first cell does after the install, outside a notebook."""


def parse_pins(text: str, *, source: str) -> dict[str, str]:
    """``{canonical name: version}`` of ``name==version`` lines (comments and blanks skipped).

    Raises:
        ValueError: a line that is not an exact pin.
    """
    pins = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        exact = [s for s in requirement.specifier if s.operator == "=="]
        if len(exact) != 1 or len(requirement.specifier) != 1:
            raise ValueError(f"{source}, line {number}: {line!r} is not name==version")
        pins[canonicalize_name(requirement.name)] = exact[0].version
    return pins


def snapshot(name: str) -> dict[str, str]:
    """The pinned packages of platform ``name`` (``platforms/<name>.txt``)."""
    path = SNAPSHOTS / f"{name}.txt"
    return parse_pins(path.read_text(encoding="utf-8"), source=str(path))


def learner_requirements() -> list[Requirement]:
    """The dependencies of the learner's package (pyproject.toml at the repository root)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [Requirement(text) for text in project["dependencies"]]


def lowest_pins(requirements: list[Requirement] | None = None) -> dict[str, str]:
    """Each requirement at the lowest version its range allows (its ``>=`` or ``==`` bound).

    Raises:
        ValueError: a requirement without a lower bound (it could not be tested).
    """
    pins = {}
    for requirement in requirements or learner_requirements():
        bounds = [s.version for s in requirement.specifier if s.operator in (">=", "==")]
        if not bounds:
            raise ValueError(f"{requirement} has no lower bound: give it one (>=) so that the "
                             "platform checks can install it at that version")
        pins[canonicalize_name(requirement.name)] = bounds[0]
    return pins


def pins(name: str) -> dict[str, str]:
    """What environment ``name`` is built from, torch and its kin left out (``REPLACED``)."""
    if name == "lowest":
        colab = snapshot("colab")
        chosen = {**lowest_pins(), **{n: colab[n] for n in KERNEL_PACKAGES}}
    elif name in ENVIRONMENTS:
        chosen = snapshot(name)
    else:
        raise ValueError(f"Unknown platform {name!r}: use one of {', '.join(ENVIRONMENTS)}.")
    return {n: v for n, v in chosen.items() if n not in REPLACED}


def torch_spec() -> str:
    """course.lock's torch (the CPU build this machine installs)."""
    for line in (ROOT / "course.lock").read_text(encoding="utf-8").splitlines():
        if line.startswith("torch=="):
            return line.strip()
    raise ValueError("course.lock has no torch== line")


@cache
def course_tools() -> frozenset[str]:
    """Packages of the course factory that a learner's install must never bring: the
    factory's own requirements and extras, less what the learner's package requires."""
    project = tomllib.loads((ROOT / "tools" / "pyproject.toml").read_text(encoding="utf-8"))
    project = project["project"]
    texts = project["dependencies"] + [
        r for extra in project.get("optional-dependencies", {}).values() for r in extra]
    learner = {canonicalize_name(r.name) for r in learner_requirements()}
    names = {canonicalize_name(Requirement(t).name) for t in texts}
    return frozenset(names - learner - {"explainlab"})


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, **kwargs)


def _pip(python: Path, *args: str) -> subprocess.CompletedProcess:
    return _run([str(python), "-m", "pip", "--disable-pip-version-check", *args])


def freeze(python: Path) -> dict[str, str]:
    """``{canonical name: version}`` of what ``python``'s environment has installed."""
    listed = _pip(python, "list", "--format=json")
    if listed.returncode:
        raise RuntimeError(f"pip list failed in {python}:\n{listed.stderr}")
    return {canonicalize_name(p["name"]): p["version"] for p in json.loads(listed.stdout)}


def _python(folder: Path) -> Path:
    return folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def environment_key(name: str) -> str:
    """What decides environment ``name``'s packages: its pins, torch, and this Python."""
    text = json.dumps({"pins": pins(name), "torch": torch_spec(),
                       "python": platform.python_version(), "machine": platform.machine()},
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def environment(name: str, *, log=print) -> Path:
    """The folder of environment ``name``, built first when it is not cached: a venv with
    ``pins(name)`` and course.lock's torch, resolved together by pip."""
    folder = constants.HOME / "platforms" / f"{name}-{environment_key(name)}"
    for stale in folder.parent.glob(f"{name}-*"):  # built from pins since changed
        if stale != folder:
            shutil.rmtree(stale, ignore_errors=True)
    if (folder / READY).is_file():
        return folder
    shutil.rmtree(folder, ignore_errors=True)  # half built
    folder.parent.mkdir(parents=True, exist_ok=True)
    log(f"{name}: building its environment in {folder} (once; cached)")
    try:  # a venv is not relocatable: built where it stays, marked ready when complete
        built = _run([sys.executable, "-m", "venv", str(folder)])
        if built.returncode:
            raise RuntimeError(f"venv failed for {name}:\n{built.stderr}")
        python = _python(folder)
        requirements = [f"{n}=={v}" for n, v in sorted(pins(name).items())]
        installed = _pip(python, "install", "--quiet", torch_spec(), *requirements)
        if installed.returncode:
            raise RuntimeError(f"{name}: installing its pinned packages failed:\n"
                               f"{installed.stderr[-4000:]}")
        (folder / READY).write_text(json.dumps({"name": name, "freeze": freeze(python)},
                                               indent=1, sort_keys=True), encoding="utf-8")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder


@dataclass
class Report:
    """What installing the learner's package did to one environment."""

    name: str
    python: Path
    moved: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    """Pinned package -> (pinned version, version after the install; None: removed)."""
    added: list[str] = field(default_factory=list)
    tools: list[str] = field(default_factory=list)
    """Course-building tools among ``added``."""
    changed: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    """Packages the environment had (pinned or not) that the install upgraded or removed."""
    setup_output: str = ""
    setup_error: str = ""
    digest: str = ""

    def kernel(self) -> Kernel:
        return Kernel(self.name, self.python, self.digest)


def moved_pins(pinned: dict[str, str], after: dict[str, str]) -> dict[str, tuple]:
    """Every pinned package whose installed version is not the pinned one after an install."""
    from packaging.version import Version

    return {name: (version, after.get(name)) for name, version in sorted(pinned.items())
            if after.get(name) is None or Version(after[name]) != Version(version)}


def learner_wheel(folder: Path) -> Path:
    """A wheel of the learner's package built from this checkout into ``folder``, as pip
    builds one from the repository when a lesson's first cell installs it."""
    built = _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                  "--no-build-isolation", "--wheel-dir", str(folder), str(ROOT)])
    if built.returncode:
        raise RuntimeError(f"building the learner's wheel failed:\n{built.stderr}")
    return next(folder.glob("explainlab-*.whl"))


def _restore(python: Path, recorded: dict[str, str]) -> dict[str, str]:
    """Put the environment back to ``recorded`` (what it had when built): remove what an
    earlier install added, reinstall what it changed. Returns what it then has."""
    now = freeze(python)
    extra = sorted(set(now) - set(recorded))
    changed = list(moved_pins(recorded, now))
    if not extra and not changed:
        return now
    if extra:
        _pip(python, "uninstall", "--yes", *extra)
    if changed:
        again = _pip(python, "install", "--quiet", "--no-deps",
                     *(f"{n}=={recorded[n]}" for n in changed if n != "torch"),
                     *([torch_spec()] if "torch" in changed else []))
        if again.returncode:
            raise RuntimeError(f"restoring {python} failed:\n{again.stderr[-4000:]}")
    return freeze(python)


def prepare(name: str, wheel: Path, *, log=print) -> Report:
    """Install the learner's package (``wheel``) into environment ``name`` with pip, as a
    lesson's first cell does, then import it and run ``setup()`` there.

    The environment is first put back as it was built, so that each run starts from the
    platform's packages.
    """
    folder = environment(name, log=log)
    python = _python(folder)
    recorded = json.loads((folder / READY).read_text(encoding="utf-8"))["freeze"]
    before = _restore(python, recorded)
    installed = _pip(python, "install", "--quiet", f"explainlab @ {wheel.as_uri()}")
    if installed.returncode:
        raise RuntimeError(f"{name}: pip install of the learner's package failed:\n"
                           f"{installed.stderr[-4000:]}")
    after = freeze(python)
    report = Report(name, python, digest=hashlib.sha256(
        json.dumps(recorded, sort_keys=True).encode()).hexdigest())
    report.moved = moved_pins({**pins(name), "torch": recorded["torch"]}, after)
    report.changed = moved_pins(before, after)
    report.added = sorted(set(after) - set(before) - {"explainlab"})
    report.tools = sorted(set(report.added) & course_tools())
    checked = _run([str(python), "-c", SETUP_CHECK],
                   env={**os.environ, constants.ENV_PROFILE: "offline"})
    report.setup_output = checked.stdout
    report.setup_error = checked.stderr if checked.returncode else ""
    return report
