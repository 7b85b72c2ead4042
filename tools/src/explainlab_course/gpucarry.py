"""What travels to the GPU machine for ``make gpu-check``, and how it is unpacked there.

The device tool sends the working tree (tracked and untracked-not-ignored files) with every
call, plus the ignored paths a call names in ``carry``: 64 MiB in all per call. The GPU
machine has Python 3.12 with PyTorch (CUDA), transformers, pandas, … but no network, no
Inseq, Captum, BertViz, Jupyter kernel or bitsandbytes, and none of the offline twins
(see the device README and KINDS.md). So, **here** (with network and the twins built)::

    make twins
    .venv/bin/python -m explainlab_course.gpucarry pack      # or: --half, --lessons 01,02

writes ``build/gpu-carry/part-1`` … ``part-N`` (each small enough to travel beside the
working tree) and prints one device command per part. What goes in:

- ``wheels/``: cp312 manylinux wheels of what the GPU image lacks (``WHEELS``, at the
  versions installed here, downloaded once into ``build/gpu-carry/cache``), plus
  huggingface_hub, transformers and regex at this venv's versions (parity with the site
  build), plus bitsandbytes with only the CUDA 13 libraries kept (the image's torch is
  cu130; the full wheel is 43 MB).
- ``twins/<role>/``: the offline twins the chosen lessons ``resolve()``. A
  ``pytorch_model.bin`` that holds the same tensors as the folder's ``model.safetensors``
  is not sent; it is written again there.

The twins of every lesson weigh more than one call may carry (about 380 MiB with the
wheels: 7 parts), so the payload is cut into parts. ``pack --half`` carries the twins'
float32 weights as float16, widened back to float32 there (about 215 MiB: 4 parts); the
CPU/CUDA comparison stays fair, but the lessons' numbers are then those of twins rounded to
float16, not the site's. ``pack --lessons 01,02`` fits one call (wheels and small twins).

**There**, the parts are staged one call after another on the same warm machine (it stays
warm 30 s after a call: make the calls back to back), then the last call installs and runs
the check. This file runs there with the standard library alone::

    python3 tools/src/explainlab_course/gpucarry.py stage build/gpu-carry/part-1  # carry: it
    …
    python3 tools/src/explainlab_course/gpucarry.py device build/gpu-carry/part-N \
        --out "$OUT" -- --jobs 2

``device`` stages its part, assembles and checks every file (sha256), installs the wheels
into ``build/gpu-stage/site``, puts the twins under ``build/gpu-stage/home`` with the GPU
machine's twin keys, runs ``python -m explainlab_course.gpucheck run`` (lessons whose twins did
not all arrive are reported as skipped) and copies ``report.json``, ``report.txt``, the
log and the executed notebooks (``notebooks.tar.gz``) into ``--out``.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__" and sys.path and Path(sys.path[0]).resolve() == Path(
        __file__).resolve().parent:
    del sys.path[0]  # run as a file: this folder's modules must not shadow anything

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tarfile  # noqa: E402
import zipfile  # noqa: E402
from collections.abc import Iterable, Sequence  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
CARRY_DIR = Path("build") / "gpu-carry"
STAGE_DIR = Path("build") / "gpu-stage"
CALL_LIMIT = 64 * 2**20
"""What one device call may send: working tree and carried paths together."""
MARGIN = 2 * 2**20

WHEELS = (
    # what the lessons' kernels and the harness import that the GPU image lacks
    "asttokens", "bertviz", "boto3", "botocore", "captum", "comm", "decorator", "executing",
    "fastjsonschema", "httpcore2", "httpx2", "inseq", "ipykernel", "ipython",
    "ipython_pygments_lexers", "jedi", "jmespath", "jsonschema", "jsonschema-specifications",
    "jupyter_client", "jupyter_core", "jupytext", "matplotlib-inline", "mdit-py-plugins",
    "nbclient", "nbformat", "parso", "platformdirs", "prompt_toolkit", "pure_eval", "pyzmq",
    "referencing", "rpds-py", "s3transfer", "stack-data", "tornado", "traitlets", "truststore",
    "typeguard", "wcwidth", "sacremoses",
    # there, but at other versions: the ones this project is built and tested with
    "huggingface_hub", "transformers", "regex",
)
BITSANDBYTES = "bitsandbytes==0.50.2"
BNB_CUDA_KEEP = ("130", "132")
"""bitsandbytes CUDA libraries kept: the GPU image's torch is built for CUDA 13.0."""
PYTHON_VERSION = "3.12"
PLATFORMS = ("manylinux1_x86_64", "manylinux2010_x86_64", "manylinux2014_x86_64",
             *(f"manylinux_2_{n}_x86_64" for n in (5, 12, 17, 24, 26, 27, 28, 31, 34, 35)))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


# ----------------------------------------------------------------------------- here: pack

def working_tree_bytes(root: Path = ROOT) -> int:
    """Bytes of what a device call sends besides ``carry``: tracked and untracked, not
    ignored files (and ``shared/`` inside the checkout)."""
    out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         cwd=root, capture_output=True, check=True).stdout
    total = 0
    for name in {n for n in out.decode().split("\0") if n}:
        path = root / name
        if path.is_file() and not path.is_symlink():
            total += path.stat().st_size
    shared = root / "shared"
    if shared.is_dir():
        total += sum(p.stat().st_size for p in shared.rglob("*") if p.is_file())
    return total


def slim_wheel(source: Path, target: Path, *, keep_cuda: Sequence[str] = BNB_CUDA_KEEP) -> Path:
    """A copy of the bitsandbytes wheel without the libraries of other CUDA / ROCm versions
    (RECORD rewritten to match)."""
    pattern = re.compile(r"libbitsandbytes_(cuda|rocm)(\d+)\.")

    def kept(name: str) -> bool:
        match = pattern.search(name)
        return match is None or (match.group(1) == "cuda" and match.group(2) in keep_cuda)

    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if not kept(info.filename):
                continue
            data = src.read(info)
            if info.filename.endswith(".dist-info/RECORD"):
                lines = [line for line in data.decode().splitlines()
                         if line and kept(line.split(",", 1)[0])]
                data = ("\n".join(lines) + "\n").encode()
            dst.writestr(info, data)
    return target


def download_wheels(requirements: Sequence[str], cache: Path, *, python: str = sys.executable,
                    log=print) -> list[Path]:
    """cp312 manylinux wheels of ``requirements`` (``name==version``) into ``cache``,
    downloading only the missing ones (pip, no dependencies)."""
    cache.mkdir(parents=True, exist_ok=True)

    def present(requirement: str) -> Path | None:
        name, _, ver = requirement.partition("==")
        stem = re.sub(r"[-_.]+", "_", name).lower()
        for wheel in cache.glob("*.whl"):
            parts = wheel.name.split("-")
            if re.sub(r"[-_.]+", "_", parts[0]).lower() == stem and parts[1] == ver:
                return wheel
        return None

    missing = [r for r in requirements if present(r) is None]
    if missing:
        log(f"downloading {len(missing)} wheels into {cache}")
        cmd = [python, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
               "--python-version", PYTHON_VERSION, "--implementation", "cp",
               *[f"--platform={p}" for p in PLATFORMS], "-d", str(cache), *missing]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"pip download failed ({proc.returncode}):\n{proc.stderr}")
    wheels = []
    for requirement in requirements:
        wheel = present(requirement)
        if wheel is None:
            raise FileNotFoundError(f"pip did not download a wheel for {requirement}")
        wheels.append(wheel)
    return wheels


def wheel_requirements() -> list[str]:
    """``name==version`` of ``WHEELS`` as installed in this environment."""
    from importlib.metadata import version

    return [f"{name}=={version(name)}" for name in WHEELS]


def _same_tensors(bin_path: Path, safetensors_path: Path) -> bool:
    import torch
    from safetensors.torch import load_file

    a = torch.load(bin_path, map_location="cpu", weights_only=True)
    b = load_file(str(safetensors_path))
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def twin_files(roles: Iterable[str], *, half_dir: Path | None = None,
               log=print) -> tuple[dict[str, Path], dict[str, str], list[str]]:
    """(tree path -> file, derived tree path -> source tree path, halved tree paths) for the
    roles' twins, each built (or taken from the cache) with ``explainlab_course.zoo.twin_path``.
    With ``half_dir``, ``*.safetensors`` files travel as float16 copies written there."""
    from explainlab_course.zoo import twin_path

    files: dict[str, Path] = {}
    derived: dict[str, str] = {}
    halved: list[str] = []
    for role in sorted(set(roles)):
        folder = twin_path(role)
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            rel = f"twins/{role}/{path.relative_to(folder).as_posix()}"
            sibling = path.with_name("model.safetensors")
            if path.name == "pytorch_model.bin" and sibling.is_file() and _same_tensors(path,
                                                                                       sibling):
                derived[rel] = f"twins/{role}/model.safetensors"
                log(f"{rel}: same tensors as model.safetensors, written again there")
                continue
            if half_dir is not None and path.suffix == ".safetensors":
                copy = half_dir / rel
                if halve(path, copy):
                    files[rel] = copy
                    halved.append(rel)
                    continue
            files[rel] = path
    return files, derived, halved


def plan_parts(files: dict[str, Path], budget: int) -> tuple[list[dict], int]:
    """Cut the files, in the given order, into pieces; part ``k`` holds ``budget`` bytes
    (the last one less). Returns the manifest's file entries and the number of parts."""
    entries, part, used, index = [], 1, 0, 0
    for rel, path in files.items():
        size = path.stat().st_size
        entry = {"path": rel, "size": size, "sha256": _sha256(path), "pieces": []}
        offset = 0
        while offset < size or (size == 0 and not entry["pieces"]):
            if used >= budget:
                part, used = part + 1, 0
            length = min(size - offset, budget - used)
            index += 1
            entry["pieces"].append({"part": part, "name": f"piece-{index:04d}",
                                    "offset": offset, "length": length})
            offset += length
            used += length
            if size == 0:
                break
        entries.append(entry)
    return entries, part


def pack(*, lessons: Sequence[str] | None = None, out: Path | None = None,
         part_mib: float | None = None, half: bool = False, log=print) -> dict:
    """Prepare ``build/gpu-carry/part-*`` for the chosen lessons (default: all).

    Args:
        lessons: lesson selectors, e.g. ``["01", "02"]`` or stems; ``None`` for all.
        out: the carry folder (default ``build/gpu-carry`` of the repository).
        part_mib: size of one part; default: what a call may send minus the working tree
            minus 2 MiB.
        half: carry the twins' float32 weights as float16 (about half the parts; widened
            back to float32 there, so the GPU check runs on twins rounded to float16: the
            CPU/CUDA comparison stays fair, the outputs are no longer the site's).

    Returns:
        The manifest (also written into every part as ``manifest.json``).
    """
    from explainlab_course.gpucheck import lesson_roles
    from explainlab_course.lessons import lesson_paths

    out = Path(out) if out is not None else ROOT / CARRY_DIR
    paths = [p for p in lesson_paths()
             if not lessons or any(p.stem == s or p.stem.startswith(f"{s}_") or p.stem == s
                                   for s in lessons)]
    if not paths:
        raise ValueError(f"No lesson matches {lessons}.")
    roles = sorted({r for p in paths for r in lesson_roles(p)})
    tree = working_tree_bytes()
    budget = int(part_mib * 2**20) if part_mib else CALL_LIMIT - tree - MARGIN
    if budget < 4 * 2**20:
        raise ValueError(
            f"The working tree already weighs {tree / 2**20:.1f} MiB of the {CALL_LIMIT // 2**20}"
            " MiB a device call may send: ignore what need not travel (e.g. node_modules).")
    cache = out / "cache"
    wheels = download_wheels(wheel_requirements(), cache / "wheels", log=log)
    full_bnb = download_wheels([BITSANDBYTES], cache / "bitsandbytes", log=log)[0]
    slim = slim_wheel(full_bnb, cache / "slim" / full_bnb.name)
    files: dict[str, Path] = {f"wheels/{w.name}": w for w in [*wheels, slim]}
    half_dir = cache / "half"
    shutil.rmtree(half_dir, ignore_errors=True)
    twins, derived, halved = twin_files(roles, half_dir=half_dir if half else None, log=log)
    files.update(sorted(twins.items(), key=lambda item: (
        sum(p.stat().st_size for r, p in twins.items()
            if r.split("/")[1] == item[0].split("/")[1]), item[0])))  # small twins first
    entries, parts = plan_parts(files, budget)
    manifest = {"parts": parts, "budget": budget, "lessons": [f"{p.parent.name}/{p.stem}"
                                                              for p in paths],
                "roles": roles, "files": entries, "derived": derived, "halved": halved}
    for old in out.glob("part-*"):
        shutil.rmtree(old)
    for k in range(1, parts + 1):
        (out / f"part-{k}").mkdir(parents=True)
        (out / f"part-{k}" / "manifest.json").write_text(json.dumps(manifest, indent=1))
    for entry in entries:
        with files[entry["path"]].open("rb") as handle:
            for piece in entry["pieces"]:
                handle.seek(piece["offset"])
                (out / f"part-{piece['part']}" / piece["name"]).write_bytes(
                    handle.read(piece["length"]))
    commands = device_commands(parts, out=out)
    (out / "COMMANDS.txt").write_text("\n".join(commands) + "\n")
    total = sum(e["size"] for e in entries)
    log(f"{len(paths)} lessons, twins {', '.join(roles)}; {total / 2**20:.1f} MiB in {parts} "
        f"part(s) of at most {budget / 2**20:.1f} MiB (working tree {tree / 2**20:.1f} MiB).")
    log("Device calls, back to back on one warm machine (run tool; carry the named part):")
    for line in commands:
        log("  " + line)
    return manifest


def device_commands(parts: int, *, out: Path | None = None) -> list[str]:
    """The device tool calls for ``parts`` parts: ``carry`` and ``command`` of each."""
    rel = CARRY_DIR if out is None else Path(os.path.relpath(out, ROOT))
    lines = []
    for k in range(1, parts + 1):
        part = (rel / f"part-{k}").as_posix()
        if k < parts:
            cmd = f"python3 tools/src/explainlab_course/gpucarry.py stage {part}"
        else:
            cmd = (f"python3 tools/src/explainlab_course/gpucarry.py device {part} --out \"$OUT\" "
                   "-- --jobs 2")
        lines.append(f"carry=[\"{part}\"]  command: {cmd}")
    return lines


# ----------------------------------------------------------------------------- there

def stage(part: Path, stage_dir: Path) -> dict:
    """Move one carried part's pieces into ``stage_dir/pieces``; returns the manifest."""
    manifest = json.loads((part / "manifest.json").read_text())
    pieces = stage_dir / "pieces"
    pieces.mkdir(parents=True, exist_ok=True)
    for path in part.iterdir():
        if path.name.startswith("piece-"):
            try:
                os.replace(path, pieces / path.name)  # the carried copy is not needed again
            except OSError:
                shutil.copyfile(path, pieces / path.name)
    (stage_dir / "manifest.json").write_text(json.dumps(manifest))
    return manifest


def staged_parts(manifest: dict, stage_dir: Path) -> tuple[list[int], list[int]]:
    """(parts whose pieces are all staged, parts with pieces missing)."""
    pieces = stage_dir / "pieces"
    wanted: dict[int, list[dict]] = {}
    for entry in manifest["files"]:
        for piece in entry["pieces"]:
            wanted.setdefault(piece["part"], []).append(piece)
    have, lack = [], []
    for part in range(1, manifest["parts"] + 1):
        ok = all((pieces / p["name"]).is_file() and (pieces / p["name"]).stat().st_size
                 == p["length"] for p in wanted.get(part, []))
        (have if ok else lack).append(part)
    return have, lack


def assemble(manifest: dict, stage_dir: Path) -> tuple[list[str], list[str]]:
    """Join the staged pieces into ``stage_dir/tree``, checking each file's sha256.

    Returns (files ready, files incomplete or corrupt).
    """
    pieces, tree = stage_dir / "pieces", stage_dir / "tree"
    ready, broken = [], []
    for entry in manifest["files"]:
        target = tree / entry["path"]
        if target.is_file() and target.stat().st_size == entry["size"] and (
                _sha256(target) == entry["sha256"]):
            ready.append(entry["path"])
            continue
        if not all((pieces / p["name"]).is_file() for p in entry["pieces"]):
            broken.append(entry["path"])
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        with partial.open("wb") as handle:
            for piece in entry["pieces"]:
                handle.write((pieces / piece["name"]).read_bytes())
        if _sha256(partial) != entry["sha256"]:
            partial.unlink()
            broken.append(entry["path"])
            continue
        os.replace(partial, target)
        ready.append(entry["path"])
    return ready, broken


def install_twins(tree: Path, *, derived: dict[str, str] | None = None,
                  halved: Iterable[str] = (), complete: Iterable[str] | None = None,
                  log=print) -> list[str]:
    """Put the carried twins (``tree/twins/<role>``) where ``explainlab_course.zoo`` looks for
    them on this machine (``EXPLAINLAB_HOME/twins/<role>-<key>``, the key computed with this
    machine's library versions), each pointed to for ``explainlab.resolve``. Files carried
    in float16 are widened back to float32 and derived files are written, in a temporary
    folder renamed into place at the end. Roles with a file missing are left out. Returns the
    roles installed."""
    import torch
    from safetensors.torch import load_file

    from explainlab import constants
    from explainlab_course.zoo import get_recipe
    from explainlab_course.zoo._store import MANIFEST, point, recipe_key

    complete_set = set(complete) if complete is not None else None
    installed = []
    root = tree / "twins"
    for folder in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        role = folder.name
        prefix = f"twins/{role}/"
        if complete_set is not None and any(not (tree / rel).is_file() for rel in complete_set
                                            if rel.startswith(prefix)):
            log(f"twin {role}: incomplete, not installed")
            continue
        if not (folder / MANIFEST).is_file():
            log(f"twin {role}: no {MANIFEST}, not installed")
            continue
        dest = constants.HOME / "twins" / f"{role}-{recipe_key(get_recipe(role))}"
        if not (dest / MANIFEST).is_file():
            work = dest.with_name(f".{dest.name}.carried")
            shutil.rmtree(work, ignore_errors=True)
            shutil.copytree(folder, work)
            for rel in halved:
                if rel.startswith(prefix):
                    widen(work / rel[len(prefix):])
            for rel, source in (derived or {}).items():
                if rel.startswith(prefix):
                    state = load_file(str(work / source[len(prefix):]))
                    torch.save({k: v.contiguous() for k, v in state.items()},
                               work / rel[len(prefix):])
            shutil.rmtree(dest, ignore_errors=True)
            os.replace(work, dest)
        point(role, dest)
        installed.append(role)
    log(f"twins installed under {constants.HOME / 'twins'}: {', '.join(installed) or 'none'}")
    return installed


HALVED_KEY = "explainlab-carry-float16"
"""safetensors metadata: the JSON list of tensors halved from float32 for the journey."""


def halve(source: Path, target: Path) -> bool:
    """Write ``source`` with its float32 tensors as float16 (those that fit) to ``target``.

    Lossy: for ``pack --half``, which about halves the twins' weight. Returns False (and
    writes nothing) when no tensor was halved.
    """
    import torch
    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(source), "pt") as handle:
        metadata = dict(handle.metadata() or {})
        tensors = {k: handle.get_tensor(k) for k in handle.keys()}  # noqa: SIM118
    halved = [k for k, t in tensors.items() if t.dtype == torch.float32
              and (t.numel() == 0 or float(t.abs().max()) < 6e4)]
    if not halved:
        return False
    out = {k: (t.half() if k in halved else t).contiguous() for k, t in tensors.items()}
    target.parent.mkdir(parents=True, exist_ok=True)
    save_file(out, str(target), metadata={**metadata, HALVED_KEY: json.dumps(halved)})
    return True


def widen(path: Path) -> None:
    """Undo ``halve`` in place: the halved tensors back to float32, the metadata as it was."""
    import torch
    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(path), "pt") as handle:
        metadata = dict(handle.metadata() or {})
        tensors = {k: handle.get_tensor(k) for k in handle.keys()}  # noqa: SIM118
    halved = set(json.loads(metadata.pop(HALVED_KEY, "[]")))
    out = {k: (t.to(torch.float32) if k in halved else t) for k, t in tensors.items()}
    save_file(out, str(path), metadata=metadata or None)


def _device_env(stage_dir: Path) -> dict[str, str]:
    site = (stage_dir / "site").resolve()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(site), str((ROOT / "src").resolve()), str((ROOT / "tools" / "src").resolve()),
         *filter(None, [env.get("PYTHONPATH")])])
    env.update({"EXPLAINLAB_HOME": str((stage_dir / "home").resolve()),
                "EXPLAINLAB_PROFILE": "offline", "HF_HUB_OFFLINE": "1",
                "PYTHONUNBUFFERED": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1"})
    return env


def install_wheels(tree: Path, stage_dir: Path, *, python: str = sys.executable) -> int:
    """``pip install --no-index --no-deps --target stage_dir/site`` the carried wheels
    (once per wheel set)."""
    wheels = sorted((tree / "wheels").glob("*.whl"))
    site = stage_dir / "site"
    stamp = site / ".explainlab-wheels"
    names = "\n".join(w.name for w in wheels)
    if stamp.is_file() and stamp.read_text() == names:
        return 0
    cmd = [python, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-compile",
           "--no-cache-dir", "--upgrade", "--target", str(site), *map(str, wheels)]
    status = subprocess.run(cmd).returncode
    if status == 0:
        stamp.write_text(names)
    return status


def device(part: Path, *, out: Path, stage_dir: Path, check_args: Sequence[str],
           log=print) -> int:
    """The last call on the GPU machine: stage, assemble, install, run, collect."""
    manifest = stage(part, stage_dir)
    have, lack = staged_parts(manifest, stage_dir)
    if lack:
        log(f"parts missing on this machine: {lack} of {manifest['parts']} (it went cold "
            "between calls, or they were not sent): lessons needing them are skipped")
    ready, broken = assemble(manifest, stage_dir)
    wheels_broken = [p for p in broken if p.startswith("wheels/")]
    if wheels_broken:
        log(f"cannot install: {len(wheels_broken)} wheel(s) did not arrive whole, e.g. "
            f"{wheels_broken[0]}; send part 1 again")
        return 3
    tree = stage_dir / "tree"
    if install_wheels(tree, stage_dir) != 0:
        log("pip could not install the carried wheels")
        return 3
    env = _device_env(stage_dir)
    out.mkdir(parents=True, exist_ok=True)
    spec = json.dumps({"derived": manifest.get("derived", {}),
                       "halved": manifest.get("halved", []),
                       "complete": [e["path"] for e in manifest["files"]]})
    (stage_dir / "install.json").write_text(spec)
    status = subprocess.run([sys.executable, "-m", "explainlab_course.gpucarry", "install-twins",
                             str(tree), "--spec", str(stage_dir / "install.json")],
                            env=env).returncode
    if status != 0:
        log("installing the twins failed")
        return status
    report_dir = (stage_dir / "report").resolve()
    log_path = out / "gpu-check.log"
    with log_path.open("w") as handle:
        lessons = [str(ROOT / "lessons" / f"{name}.py") for name in manifest["lessons"]]
        proc = subprocess.Popen([sys.executable, "-m", "explainlab_course.gpucheck", "run", "--out",
                                 str(report_dir), *check_args, *lessons], env=env, cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in proc.stdout:
            print(line, end="", flush=True)
            handle.write(line)
        status = proc.wait()
    carry = {"parts": manifest["parts"], "parts_missing": lack, "roles": manifest["roles"],
             "twins_float16": bool(manifest.get("halved")),
             "files_incomplete": [p for p in broken if not p.startswith("wheels/")]}
    if (report_dir / "report.json").is_file():
        report = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
        report["carry"] = carry
        (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
        note = (f"Carried in {carry['parts']} part(s)"
                + (f", parts missing: {lack}" if lack else "")
                + ("; twins carried as float16 (pack --half): these outputs are not the site's"
                   if carry["twins_float16"] else "") + ".\n")
        text = (report_dir / "report.txt").read_text(encoding="utf-8")
        (out / "report.txt").write_text(text + note, encoding="utf-8")
    notebooks = report_dir / "notebooks"
    if notebooks.is_dir():
        with tarfile.open(out / "notebooks.tar.gz", "w:gz") as archive:
            archive.add(notebooks, arcname="notebooks")
        if (out / "notebooks.tar.gz").stat().st_size > 16 * 2**20:
            (out / "notebooks.tar.gz").unlink()
            log("notebooks.tar.gz left out: over the 16 MiB a returned file may have")
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """``gpucarry pack`` here; ``gpucarry.py stage|device`` on the GPU machine."""
    argv = list(sys.argv[1:] if argv is None else argv)
    check_args: list[str] = []
    if "--" in argv:
        at = argv.index("--")
        argv, check_args = argv[:at], argv[at + 1:]
    parser = argparse.ArgumentParser(prog="gpucarry", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pack", help="here: prepare build/gpu-carry/part-*")
    p.add_argument("--lessons", help="comma-separated selectors, e.g. 01,02 (default: all)")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--part-mib", type=float, default=None)
    p.add_argument("--half", action="store_true",
                   help="carry the twins' weights as float16 (lossy; about half the parts)")
    s = sub.add_parser("stage", help="there: keep one carried part for a later call")
    s.add_argument("part", type=Path)
    s.add_argument("--stage", type=Path, default=STAGE_DIR)
    d = sub.add_parser("device", help="there: stage the last part, install, run gpu-check")
    d.add_argument("part", type=Path)
    d.add_argument("--out", type=Path, required=True)
    d.add_argument("--stage", type=Path, default=STAGE_DIR)
    t = sub.add_parser("install-twins", help=argparse.SUPPRESS)
    t.add_argument("tree", type=Path)
    t.add_argument("--spec", type=Path)
    args = parser.parse_args(argv)

    if args.command == "pack":
        pack(lessons=args.lessons.split(",") if args.lessons else None, out=args.out,
             part_mib=args.part_mib, half=args.half)
        return 0
    if args.command == "stage":
        manifest = stage(args.part, args.stage)
        have, lack = staged_parts(manifest, args.stage)
        print(f"staged {args.part}; parts here: {have}; still to send: {lack}")
        return 0
    if args.command == "install-twins":
        spec = json.loads(args.spec.read_text()) if args.spec else {}
        install_twins(args.tree, derived=spec.get("derived"), halved=spec.get("halved", ()),
                      complete=spec.get("complete"))
        return 0
    return device(args.part, out=args.out, stage_dir=args.stage, check_args=check_args)


if __name__ == "__main__":
    sys.exit(main())
