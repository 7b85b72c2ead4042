"""gpucarry: the payload for the GPU machine cut into parts that fit a device call, staged
part by part and put back together there (checksums), with the standard library alone; the
slimmed bitsandbytes wheel; the carried twins installed under the GPU machine's keys."""

from __future__ import annotations

import hashlib
import json
import random
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import explainlab
from explainlab_course import gpucarry

from conftest import ROOT


@pytest.fixture
def payload(tmp_path) -> dict[str, Path]:
    rng = random.Random(3)
    source = tmp_path / "source"
    sizes = {"wheels/a-1.0-py3-none-any.whl": 700, "twins/lm/model.safetensors": 2500,
             "twins/lm/config.json": 40, "twins/lm/empty.txt": 0, "twins/bert/model.bin": 1800}
    files = {}
    for rel, size in sizes.items():
        path = source / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(size))
        files[rel] = path
    return files


def write_parts(files: dict[str, Path], out: Path, budget: int) -> dict:
    entries, parts = gpucarry.plan_parts(files, budget)
    manifest = {"parts": parts, "files": entries, "derived": {}, "lessons": [], "roles": []}
    for k in range(1, parts + 1):
        (out / f"part-{k}").mkdir(parents=True)
        (out / f"part-{k}" / "manifest.json").write_text(json.dumps(manifest))
    for entry in entries:
        data = files[entry["path"]].read_bytes()
        for piece in entry["pieces"]:
            (out / f"part-{piece['part']}" / piece["name"]).write_bytes(
                data[piece["offset"]:piece["offset"] + piece["length"]])
    return manifest


def part_bytes(part: Path) -> int:
    return sum(p.stat().st_size for p in part.iterdir() if p.name.startswith("piece-"))


def test_parts_respect_the_budget_and_split_large_files(payload, tmp_path):
    manifest = write_parts(payload, tmp_path / "carry", budget=1000)
    assert manifest["parts"] == 6  # 5040 bytes
    sizes = [part_bytes(tmp_path / "carry" / f"part-{k}") for k in range(1, 7)]
    assert sizes == [1000] * 5 + [40]
    big = next(e for e in manifest["files"] if e["path"] == "twins/lm/model.safetensors")
    assert [p["part"] for p in big["pieces"]] == [1, 2, 3, 4]
    assert sum(p["length"] for p in big["pieces"]) == 2500


def test_stage_then_assemble_gives_back_every_file(payload, tmp_path):
    write_parts(payload, tmp_path / "carry", budget=1000)
    stage = tmp_path / "stage"
    for k in range(1, 6):
        gpucarry.stage(tmp_path / "carry" / f"part-{k}", stage)
    manifest = gpucarry.stage(tmp_path / "carry" / "part-6", stage)
    assert gpucarry.staged_parts(manifest, stage) == ([1, 2, 3, 4, 5, 6], [])
    ready, broken = gpucarry.assemble(manifest, stage)
    assert broken == [] and sorted(ready) == sorted(payload)
    for rel, path in payload.items():
        assert (stage / "tree" / rel).read_bytes() == path.read_bytes()
    assert gpucarry.assemble(manifest, stage) == (ready, [])  # again: nothing to redo


def test_a_missing_part_leaves_its_files_out(payload, tmp_path):
    write_parts(payload, tmp_path / "carry", budget=1000)
    stage = tmp_path / "stage"
    for k in (1, 3, 4, 5, 6):  # part 2 never arrived (the machine went cold)
        manifest = gpucarry.stage(tmp_path / "carry" / f"part-{k}", stage)
    assert gpucarry.staged_parts(manifest, stage) == ([1, 3, 4, 5, 6], [2])
    ready, broken = gpucarry.assemble(manifest, stage)
    assert broken == ["twins/lm/model.safetensors"]
    assert "wheels/a-1.0-py3-none-any.whl" in ready and "twins/bert/model.bin" in ready


def test_a_corrupt_piece_is_caught_by_the_checksum(payload, tmp_path):
    write_parts(payload, tmp_path / "carry", budget=1000)
    stage = tmp_path / "stage"
    for k in range(1, 7):
        manifest = gpucarry.stage(tmp_path / "carry" / f"part-{k}", stage)
    piece = stage / "pieces" / "piece-0001"
    data = bytearray(piece.read_bytes())
    data[10] ^= 0xFF
    piece.write_bytes(bytes(data))
    ready, broken = gpucarry.assemble(manifest, stage)
    assert broken == ["wheels/a-1.0-py3-none-any.whl"]
    assert not (stage / "tree" / "wheels" / "a-1.0-py3-none-any.whl").exists()


def test_the_device_side_runs_on_the_standard_library_alone(payload, tmp_path):
    write_parts(payload, tmp_path / "carry", budget=3000)
    script = ROOT / "tools" / "src" / "explainlab_course" / "gpucarry.py"
    proc = subprocess.run([sys.executable, "-S", "-I", str(script), "stage",
                           str(tmp_path / "carry" / "part-1"), "--stage",
                           str(tmp_path / "stage")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("parts here: [1]; still to send: [2]")


def test_device_commands_stage_every_part_but_the_last():
    lines = gpucarry.device_commands(3)
    assert lines[0] == ('carry=["build/gpu-carry/part-1"]  command: '
                        "python3 tools/src/explainlab_course/gpucarry.py stage "
                        "build/gpu-carry/part-1")
    assert "stage build/gpu-carry/part-2" in lines[1]
    assert lines[2].endswith('device build/gpu-carry/part-3 --out "$OUT" -- --jobs 2')
    assert all(len(line) < 2000 for line in lines)


def fake_wheel(path: Path) -> Path:
    files = {"bitsandbytes/__init__.py": b"x = 1\n",
             "bitsandbytes/libbitsandbytes_cpu.so": b"cpu",
             "bitsandbytes/libbitsandbytes_cuda118.so": b"a" * 1000,
             "bitsandbytes/libbitsandbytes_cuda130.so": b"b" * 100,
             "bitsandbytes/libbitsandbytes_rocm72.so": b"c" * 1000}
    record = "".join(f"{name},sha256=x,{len(data)}\n" for name, data in files.items())
    record += "bitsandbytes-0.50.2.dist-info/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as wheel:
        for name, data in files.items():
            wheel.writestr(name, data)
        wheel.writestr("bitsandbytes-0.50.2.dist-info/RECORD", record)
    return path


def test_slim_wheel_keeps_only_the_cuda_libraries_asked_for(tmp_path):
    source = fake_wheel(tmp_path / "bitsandbytes-0.50.2-py3-none-any.whl")
    slim = gpucarry.slim_wheel(source, tmp_path / "slim" / source.name, keep_cuda=("130",))
    with zipfile.ZipFile(slim) as wheel:
        names = set(wheel.namelist())
        record = wheel.read("bitsandbytes-0.50.2.dist-info/RECORD").decode()
    assert names == {"bitsandbytes/__init__.py", "bitsandbytes/libbitsandbytes_cpu.so",
                     "bitsandbytes/libbitsandbytes_cuda130.so",
                     "bitsandbytes-0.50.2.dist-info/RECORD"}
    assert "cuda118" not in record and "rocm72" not in record and "cuda130" in record


def test_install_twins_uses_this_machines_key_and_rewrites_derived_files(toy, tmp_path):
    import torch
    from safetensors.torch import save_file

    from explainlab_course import zoo

    tree = tmp_path / "tree"
    folder = tree / "twins" / "sst2"
    folder.mkdir(parents=True)
    (folder / "twin.json").write_text(json.dumps({"role": "sst2", "key": "from-elsewhere"}))
    save_file({"w": torch.arange(6.0).reshape(2, 3)}, str(folder / "model.safetensors"))
    (tree / "twins" / "lm").mkdir()  # incomplete: a file listed but missing
    installed = gpucarry.install_twins(
        tree, derived={"twins/sst2/pytorch_model.bin": "twins/sst2/model.safetensors"},
        complete=["twins/sst2/twin.json", "twins/sst2/model.safetensors",
                  "twins/lm/model.safetensors"], log=lambda _: None)
    assert installed == ["sst2"]
    row = next(r for r in zoo.status() if r["role"] == "sst2")
    assert row["status"] == "built"
    state = torch.load(Path(row["path"]) / "pytorch_model.bin", weights_only=True)
    assert torch.equal(state["w"], torch.arange(6.0).reshape(2, 3))
    assert toy.builds == 0  # nothing trained
    assert zoo.twin_path("sst2") == Path(row["path"])
    assert explainlab.resolve("sst2", "offline") == row["path"]  # the learner's package finds it


def test_wheel_list_names_what_the_lessons_need_beyond_the_gpu_image():
    names = {n.lower().replace("_", "-") for n in gpucarry.WHEELS}
    for needed in ("inseq", "captum", "bertviz", "ipykernel", "nbclient", "jupytext",
                   "httpx2", "huggingface-hub", "typeguard"):
        assert needed in names
    assert gpucarry.BITSANDBYTES.startswith("bitsandbytes==")
    assert len(names) == len(gpucarry.WHEELS)  # one version of each


def test_sha256_helper(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"abc" * 1000)
    assert gpucarry._sha256(path) == hashlib.sha256(b"abc" * 1000).hexdigest()


def test_working_tree_is_measured():
    assert gpucarry.working_tree_bytes() > 10_000


def test_half_then_widen_round_trips_to_float16_precision(tmp_path):
    import torch
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    original = {"w": torch.randn(64, 32), "ids": torch.arange(5), "big": torch.full((2,), 1e6)}
    source = tmp_path / "model.safetensors"
    save_file(original, str(source), metadata={"format": "pt"})
    half = tmp_path / "half" / "model.safetensors"
    assert gpucarry.halve(source, half)
    assert half.stat().st_size < 0.6 * source.stat().st_size
    carried = load_file(str(half))
    assert carried["w"].dtype == torch.float16
    assert carried["big"].dtype == torch.float32  # would overflow float16: kept
    gpucarry.widen(half)
    back = load_file(str(half))
    assert back["w"].dtype == torch.float32 and torch.equal(back["ids"], original["ids"])
    assert torch.allclose(back["w"], original["w"], rtol=1e-3, atol=1e-4)
    assert torch.equal(back["big"], original["big"])
    with safe_open(str(half), "pt") as handle:
        assert handle.metadata() == {"format": "pt"}
    ints = tmp_path / "ints.safetensors"
    save_file({"ids": torch.arange(3)}, str(ints))
    assert not gpucarry.halve(ints, tmp_path / "none.safetensors")


def test_install_twins_widens_halved_weights(toy, tmp_path):
    import torch
    from safetensors.torch import load_file, save_file

    from explainlab_course import zoo

    tree = tmp_path / "tree"
    folder = tree / "twins" / "sst2"
    folder.mkdir(parents=True)
    (folder / "twin.json").write_text("{}")
    weights = torch.randn(4, 4)
    save_file({"w": weights}, str(tmp_path / "full.safetensors"))
    assert gpucarry.halve(tmp_path / "full.safetensors", folder / "model.safetensors")
    gpucarry.install_twins(tree, halved=["twins/sst2/model.safetensors"],
                           derived={"twins/sst2/pytorch_model.bin":
                                    "twins/sst2/model.safetensors"}, log=lambda _: None)
    installed = zoo.twin_path("sst2")
    state = load_file(str(installed / "model.safetensors"))
    assert state["w"].dtype == torch.float32
    assert torch.equal(state["w"], weights.half().float())
    assert torch.equal(torch.load(installed / "pytorch_model.bin", weights_only=True)["w"],
                       state["w"])
    assert load_file(str(folder / "model.safetensors"))["w"].dtype == torch.float16  # tree kept
