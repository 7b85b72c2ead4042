"""Building and caching twins under ``EXPLAINLAB_HOME/twins``."""

from __future__ import annotations

import ast
import hashlib
import importlib
import inspect
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

from tqdm.auto import tqdm

from explainlab.errors import TwinContractError
from explainlab.models import TWIN_MANIFEST, twin_pointer, twins_dir
from explainlab.notebook import package_version, seed_everything

from .._parallel import run_side_by_side
from ._contract import Check, build_machine, failures
from ._registry import TwinRecipe, get_recipe, list_twins

MANIFEST = TWIN_MANIFEST
BUILD_THREADS = 2  # fixed, so that a build gives the same weights on a given machine
_KEY_PACKAGES = ("torch", "transformers", "tokenizers", "sentencepiece")
DATA_MODULES = ("explainlab.images",)
"""Modules of the learner's package whose code draws a twin's training data."""


def recipe_key(recipe: TwinRecipe) -> str:
    """A hash of everything that decides the weights: recipe code and library versions."""
    digest = hashlib.sha256()
    for module in _recipe_modules(recipe):
        digest.update(Path(inspect.getfile(module)).read_bytes())
    for name in _KEY_PACKAGES:
        digest.update(f"{name}={package_version(name)};".encode())
    return digest.hexdigest()[:12]


def _recipe_modules(recipe: TwinRecipe):
    """The modules whose code decides a twin's weights: its recipe module, ``_train``, and
    the modules of this package that the recipe module imports (``from .x import ...``, such
    as its data generators) or of ``DATA_MODULES``, in the order they are imported;
    ``_registry`` only registers."""
    from . import _train

    module = sys.modules[type(recipe).__module__]
    tree = ast.parse(Path(inspect.getfile(module)).read_text(encoding="utf-8"))
    imported = [f"{__package__}.{node.module}" if node.level == 1 else node.module
                for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                and ((node.level == 1 and node.module not in ("_registry", "_train"))
                     or node.module in DATA_MODULES)]
    return [module, _train, *map(importlib.import_module, dict.fromkeys(imported))]


def _folder(role: str, key: str) -> Path:
    return twins_dir() / f"{role}-{key}"


def point(role: str, folder: Path) -> Path:
    """Make ``folder`` the twin that ``explainlab.resolve(role, "offline")`` finds (its
    ``twin_pointer``), atomically; returns ``folder``."""
    pointer = twin_pointer(role)
    pointer.parent.mkdir(parents=True, exist_ok=True)
    partial = pointer.with_name(f".{pointer.name}.{os.getpid()}")
    partial.write_text(folder.name + "\n", encoding="utf-8")
    os.replace(partial, pointer)
    return folder


def twin_path(role: str) -> Path:
    """The folder of ``role``'s twin, built first if it is not cached yet."""
    return build(role)


def build(role: str, *, force: bool = False) -> Path:
    """Train ``role``'s twin (unless cached) and return its folder.

    Each of the recipe's seeds is tried in turn until the twin keeps its contract; only
    such a twin is cached. ``twin.json`` and the model card record the contract's values
    and margins, the seeds tried and the CPU the twin was built on.

    Raises:
        TwinContractError: no seed gave a twin that keeps its contract.
    """
    recipe = get_recipe(role)
    key = recipe_key(recipe)
    folder = _folder(role, key)
    with _lock(folder.parent / f".{role}.lock"):
        if (folder / MANIFEST).is_file() and not force:
            return point(role, folder)
        tries: list[dict] = []
        for seed in recipe.seeds:
            work = Path(tempfile.mkdtemp(prefix=f".{role}-", dir=folder.parent))
            work.chmod(0o755)  # mkdtemp's 0700 would hide the twin from other users (a mirror)
            try:
                started = time.perf_counter()
                with _deterministic(seed):
                    numbers = recipe.train(work)
                with _deterministic(0):
                    checks = recipe.contract(work)
                missed = failures(checks)
                tries.append({"seed": seed, "seconds": round(time.perf_counter() - started, 1),
                              "missed": [check.describe() for check in missed]})
                if not missed:
                    _save(recipe, work, folder, key=key, numbers=numbers, checks=checks,
                          tries=tries)
                    return point(role, folder)
                tqdm.write(f"{role}: seed {seed} misses its contract "
                           f"({'; '.join(tries[-1]['missed'])}); trying the next seed",
                           file=sys.stderr)
            finally:
                shutil.rmtree(work, ignore_errors=True)
    raise TwinContractError(
        f"The {role} twin missed its contract with every seed ({len(tries)} tries):\n"
        + "\n".join(f"  seed {t['seed']}: {'; '.join(t['missed'])}" for t in tries)
        + "\nThe recipe needs more training or looser data on this machine; "
        f"see tools/src/explainlab_course/zoo/{type(recipe).__module__.rsplit('.', 1)[-1]}.py.")


def _save(recipe: TwinRecipe, work: Path, folder: Path, *, key: str, numbers: dict,
          checks: list, tries: list[dict]) -> None:
    """Write the manifest and the model card into ``work`` and move it to ``folder``."""
    manifest = {
        "role": recipe.role, "key": key, "real_model": recipe.real_model,
        "model_class": recipe.model_class, "tokenizer_class": recipe.tokenizer_class,
        "build_seconds": round(sum(t["seconds"] for t in tries), 1),
        "seed": tries[-1]["seed"], "tries": len(tries), "attempts": tries,
        "contract": [check.record() for check in checks], "checks": numbers,
        "built_on": build_machine(),
        "size_bytes": sum(p.stat().st_size for p in work.rglob("*") if p.is_file()),
        "versions": {name: package_version(name) for name in _KEY_PACKAGES},
    }
    (work / "README.md").write_text(model_card(recipe, manifest), encoding="utf-8")
    (work / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False),
                                 encoding="utf-8")
    if folder.exists():
        shutil.rmtree(folder)
    work.rename(folder)


def build_side_by_side(roles: Sequence[str], *, jobs: int, force: bool = False) -> bool:
    """Build ``roles``, ``jobs`` twins at a time, each in its own process (the slowest
    first). Each build still uses ``BUILD_THREADS`` threads, so the weights are those of
    ``build``. Prints one line per twin (a failure with its log's tail); True if all built.
    """
    # An unknown role fails here, before anything starts.
    folders = {role: _folder(role, recipe_key(get_recipe(role))) for role in roles}
    todo = [role for role in roles if force or not (folders[role] / MANIFEST).is_file()]
    for role in roles:
        if role not in todo:
            print(f"{role}: {point(role, folders[role])} (cached)", flush=True)
    if not todo:
        return True
    todo.sort(key=lambda role: -get_recipe(role).cost)  # slowest first: workers end together
    command = [sys.executable, "-m", "explainlab_course", "zoo", "build"]
    commands = [(role, [*command, role, *(["--force"] if force else [])]) for role in todo]
    failed = []
    logs = twins_dir() / ".logs"
    for done in run_side_by_side(commands, jobs=jobs, logs=logs, desc="twins"):
        if done.returncode == 0:
            tqdm.write(f"{done.name}: {folders[done.name]} ({done.seconds:.1f} s)")
        else:
            failed.append(done.name)
            tqdm.write(f"{done.name}: FAILED (log {done.log}):\n{done.tail()}", file=sys.stderr)
    if failed:
        print(f"Twins that failed to build: {', '.join(failed)}.", file=sys.stderr)
    return not failed


def status() -> list[dict]:
    """One row per twin: role, real model, cached or not, size, build time."""
    rows = []
    for role in list_twins():
        recipe = get_recipe(role)
        folder = _folder(role, recipe_key(recipe))
        manifest = folder / MANIFEST
        row = {"role": role, "real_model": recipe.real_model, "status": "not built",
               "size_bytes": None, "build_seconds": None, "path": str(folder)}
        if manifest.is_file():
            row.update(json.loads(manifest.read_text(encoding="utf-8")))
            row["status"] = "built"
            row["path"] = str(folder)
        rows.append(row)
    return rows


def model_card(recipe: TwinRecipe, manifest: dict) -> str:
    """The README.md of a twin folder."""
    checks = "\n".join(f"| {name} | {value} |" for name, value in manifest["checks"].items())
    lines = [
        f"# Offline twin of {recipe.real_model}",
        "",
        f"This is **not** {recipe.real_model}. It is a small model that ExplainLab trains "
        f"on the CPU for the role `{recipe.role}`, so that the course's lessons run where the "
        "hub cannot be reached. It uses the real model's classes "
        f"(`{recipe.model_class}`, `{recipe.tokenizer_class}`), so lesson code is the same "
        "for both.",
        "",
        "## Training data",
        "",
        recipe.data,
        "",
        "## What it can do",
        "",
        *[f"- {item}" for item in recipe.can],
        "",
        "## What it cannot do",
        "",
        *[f"- {item}" for item in recipe.cannot],
        "",
        "## Contract",
        "",
        "A build of this twin is accepted only when every check below holds; the margin is "
        "how far the value is inside its bound.",
        "",
        "| check | value | bound | margin |",
        "| --- | --- | --- | --- |",
        *[_card_row(record) for record in manifest["contract"]],
        "",
        "## Other numbers measured at build time",
        "",
        "| check | value |",
        "| --- | --- |",
        checks,
        "",
        f"Built in {manifest['build_seconds']} s with seed {manifest['seed']} "
        f"({manifest['tries']} {'try' if manifest['tries'] == 1 else 'tries'}) on "
        f"{manifest['built_on']['cpu']} (torch CPU kernels "
        f"{manifest['built_on']['torch_cpu_capability']}); recipe key `{manifest['key']}`; "
        + ", ".join(f"{k} {v}" for k, v in manifest["versions"].items()) + ".",
        "",
    ]
    return "\n".join(lines)


def _card_row(record: dict) -> str:
    """One contract check as a row of the model card's table."""
    check = Check(**{k: v for k, v in record.items() if k in ("name", "value", "low", "high")})
    margin = f"{check.margin:.3g}" if check.bounded else "-"
    return f"| {check.name} | {check.value:.4g} | {check.bound()} | {margin} |"


@contextmanager
def _lock(path: Path):
    """An exclusive lock on ``path`` between processes (two builds of one twin wait)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        if os.name == "nt":
            import msvcrt

            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)  # retries for 10 s, then raises
            unlock = lambda: msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)  # noqa: E731
        else:
            import fcntl

            fcntl.flock(handle, fcntl.LOCK_EX)
            unlock = lambda: fcntl.flock(handle, fcntl.LOCK_UN)  # noqa: E731
        try:
            yield
        finally:
            handle.seek(0)
            unlock()


@contextmanager
def _deterministic(seed: int):
    import torch
    import torch.utils.deterministic

    threads = torch.get_num_threads()
    fill = torch.utils.deterministic.fill_uninitialized_memory
    torch.set_num_threads(BUILD_THREADS)
    torch.use_deterministic_algorithms(True)
    # Deterministic mode also fills every new tensor with NaN first, a debugging aid that
    # changes no result and costs a tenth of the build time.
    torch.utils.deterministic.fill_uninitialized_memory = False
    seed_everything(seed)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(False)
        torch.utils.deterministic.fill_uninitialized_memory = fill
        torch.set_num_threads(threads)
