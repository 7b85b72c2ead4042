"""Building and caching twins under ``EXPLAINLAB_HOME/twins``."""

from __future__ import annotations

import ast
import fcntl
import hashlib
import importlib
import inspect
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path

from tqdm.auto import tqdm

from .. import constants
from .._parallel import run_side_by_side
from ..notebook import package_version, seed_everything
from ._registry import TwinRecipe, get_recipe, list_twins

MANIFEST = "twin.json"
BUILD_THREADS = 2  # fixed, so that a build gives the same weights on any machine
# Order of side-by-side builds, slowest first (build seconds measured on a 2-core machine:
# nli 42, cross-encoder 33, mt-zh-en 30, vit 29, qa 26, lm 25, sst2 20, lm-gpt2 19, ...),
# so that the workers finish together.
SLOWEST_FIRST = ("nli", "cross-encoder", "mt-zh-en", "vit", "qa", "lm", "sst2", "lm-gpt2",
                 "emotion", "ner", "bert-neuron", "bertviz")
_KEY_PACKAGES = ("torch", "transformers", "tokenizers", "sentencepiece")


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
    as its data generators), in the order they are imported; ``_registry`` only registers."""
    from . import _train

    module = sys.modules[type(recipe).__module__]
    tree = ast.parse(Path(inspect.getfile(module)).read_text(encoding="utf-8"))
    imported = [node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                and node.level == 1 and node.module not in ("_registry", "_train")]
    return [module, _train, *(importlib.import_module(f"{__package__}.{name}")
                              for name in dict.fromkeys(imported))]


def _folder(role: str, key: str) -> Path:
    return constants.HOME / "twins" / f"{role}-{key}"


def twin_path(role: str) -> Path:
    """The folder of ``role``'s twin, built first if it is not cached yet."""
    recipe = get_recipe(role)
    folder = _folder(role, recipe_key(recipe))
    if (folder / MANIFEST).is_file():
        return folder
    return build(role)


def build(role: str, *, force: bool = False) -> Path:
    """Train ``role``'s twin (unless cached) and return its folder."""
    recipe = get_recipe(role)
    key = recipe_key(recipe)
    folder = _folder(role, key)
    with _lock(folder.parent / f".{role}.lock"):
        if (folder / MANIFEST).is_file() and not force:
            return folder
        work = Path(tempfile.mkdtemp(prefix=f".{role}-", dir=folder.parent))
        work.chmod(0o755)  # mkdtemp's 0700 would hide the twin from other users (a mirror)
        try:
            started = time.perf_counter()
            with _deterministic():
                checks = recipe.train(work)
            seconds = time.perf_counter() - started
            manifest = {
                "role": role, "key": key, "real_model": recipe.real_model,
                "model_class": recipe.model_class, "tokenizer_class": recipe.tokenizer_class,
                "build_seconds": round(seconds, 1), "checks": checks,
                "size_bytes": sum(p.stat().st_size for p in work.rglob("*") if p.is_file()),
                "versions": {name: package_version(name) for name in _KEY_PACKAGES},
            }
            (work / "README.md").write_text(model_card(recipe, manifest), encoding="utf-8")
            (work / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
            if folder.exists():
                shutil.rmtree(folder)
            work.rename(folder)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return folder


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
            print(f"{role}: {folders[role]} (cached)", flush=True)
    if not todo:
        return True
    rank = {role: i for i, role in enumerate(SLOWEST_FIRST)}
    todo.sort(key=lambda role: rank.get(role, len(rank)))
    command = [sys.executable, "-m", "explainlab.cli", "zoo", "build"]
    commands = [(role, [*command, role, *(["--force"] if force else [])]) for role in todo]
    failed = []
    logs = constants.HOME / "twins" / ".logs"
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
        "## Checks measured at build time",
        "",
        "| check | value |",
        "| --- | --- |",
        checks,
        "",
        f"Built in {manifest['build_seconds']} s; recipe key `{manifest['key']}`; "
        + ", ".join(f"{k} {v}" for k, v in manifest["versions"].items()) + ".",
        "",
    ]
    return "\n".join(lines)


@contextmanager
def _lock(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _deterministic():
    import torch
    import torch.utils.deterministic

    threads = torch.get_num_threads()
    fill = torch.utils.deterministic.fill_uninitialized_memory
    torch.set_num_threads(BUILD_THREADS)
    torch.use_deterministic_algorithms(True)
    # Deterministic mode also fills every new tensor with NaN first, a debugging aid that
    # changes no result and costs a tenth of the build time.
    torch.utils.deterministic.fill_uninitialized_memory = False
    seed_everything(0)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(False)
        torch.utils.deterministic.fill_uninitialized_memory = fill
        torch.set_num_threads(threads)
