"""hfd/hfd.sh, the shell downloader, run for real against the loopback hub mirror.

Every test runs the script with bash in a subprocess, with wget (or aria2c where said),
and asserts on what really happened: bytes on disk, exit status, messages, and the
requests the mirror logged.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import files_under
from hubmirror import HubMirror, Repo

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "hfd" / "hfd.sh"
TOKEN = "hf_ExplainLabTestToken0123456789abcdef"


# ------------------------------------------------------------------ helpers
@pytest.fixture
def work(tmp_path) -> Path:
    """The folder hfd runs in; its parent holds nothing else that hfd may touch."""
    for name in ("work", "home", "tmp"):
        (tmp_path / name).mkdir()
    return tmp_path / "work"


def hfd(args: list[str], endpoint: str, cwd: Path, *, env: dict | None = None,
        path: str | None = None, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), *args], cwd=cwd, env=_env(endpoint, cwd, env, path),
                          capture_output=True, text=True, timeout=timeout)


def _env(endpoint: str, cwd: Path, extra: dict | None, path: str | None) -> dict:
    env = {
        "PATH": path or os.environ["PATH"],
        "HOME": str(cwd.parent / "home"),
        "TMPDIR": str(cwd.parent / "tmp"),
        "LANG": "C.UTF-8",
        "HF_ENDPOINT": endpoint,
        "HFD_TIMEOUT": "5",
        "HFD_TRIES": "4",
        "HFD_RETRY_WAIT": "1",
    }
    env.update(extra or {})
    return env


def restricted_path(tmp_path: Path, *missing: str, logged: tuple[str, ...] = ()) -> str:
    """A PATH with every command of ours except ``missing``; ``logged`` commands record argv."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    python = os.path.realpath(sys.executable)  # works without pyenv's shims
    (bin_dir / "python3").symlink_to(python)
    for name in logged:
        real = shutil.which(name)
        assert real, f"{name} is needed for this test"
        (bin_dir / name).write_text(
            f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{tmp_path}/argv.log"\nexec "{real}" "$@"\n')
        (bin_dir / name).chmod(0o755)
    for folder in os.environ["PATH"].split(os.pathsep):
        if not os.path.isdir(folder):
            continue
        for entry in os.scandir(folder):
            target = bin_dir / entry.name
            if entry.name in missing or target.exists() or target.is_symlink():
                continue
            if entry.is_file() and os.access(entry.path, os.X_OK):
                target.symlink_to(entry.path)
    return str(bin_dir)


def resolve_gets(mirror: HubMirror, name: str = "") -> list[dict]:
    return [r for r in mirror.requests("GET", "/resolve/") if r["path"].endswith(name)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -------------------------------------------------------------- the basics
def test_script_is_valid_bash_and_executable():
    assert subprocess.run(["bash", "-n", str(SCRIPT)]).returncode == 0
    assert os.access(SCRIPT, os.X_OK)


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_shellcheck_is_clean():
    result = subprocess.run(["shellcheck", str(SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_help_and_bad_usage(work):
    result = hfd(["--help"], "http://127.0.0.1:9", work)
    assert result.returncode == 0
    assert "Usage: hfd.sh REPO_ID" in result.stdout and "--include" in result.stdout
    result = hfd(["org/tiny", "--frobnicate"], "http://127.0.0.1:9", work)
    assert result.returncode == 2 and "unknown option: --frobnicate" in result.stderr
    result = hfd(["org/tiny", "--tool", "curl"], "http://127.0.0.1:9", work)
    assert result.returncode == 2 and "--tool must be aria2c or wget" in result.stderr
    result = hfd(["../etc"], "http://127.0.0.1:9", work)
    assert result.returncode == 2 and "not a repo id" in result.stderr


# 1 -----------------------------------------------------------------------
def test_clean_download_then_rerun_skips_and_repairs(mirror, tiny_files, work):
    result = hfd(["org/tiny", "--tool", "wget"], mirror.url + "/", work)  # trailing slash is fine
    assert result.returncode == 0, result.stderr
    target = work / "tiny"  # the default folder is the repo name
    assert files_under(target) == tiny_files  # identical bytes, no .incomplete left over
    assert len(resolve_gets(mirror)) == len(tiny_files)
    assert "done: 4 files in tiny, each checked" in result.stderr
    assert not list((work.parent / "tmp").iterdir())  # temporary files cleaned up

    # A rerun checks what is there and downloads nothing.
    again = hfd(["org/tiny", "--tool", "wget"], mirror.url, work)
    assert again.returncode == 0, again.stderr
    assert len(resolve_gets(mirror)) == len(tiny_files)
    assert again.stderr.count("complete, skipped:") == len(tiny_files)

    # A damaged file of the right size (a git file, checked by its blob id) is fetched again.
    damaged = target / "tokenizer" / "vocab.txt"
    damaged.write_bytes(b"X" * len(tiny_files["tokenizer/vocab.txt"]))
    fixed = hfd(["org/tiny", "--tool", "wget"], mirror.url, work)
    assert fixed.returncode == 0, fixed.stderr
    assert files_under(target) == tiny_files
    assert [r["path"] for r in resolve_gets(mirror)][-1].endswith("tokenizer/vocab.txt")
    assert len(resolve_gets(mirror)) == len(tiny_files) + 1


# 2 -----------------------------------------------------------------------
def test_include_and_exclude_select_exactly(work):
    files = {name: name.encode() * 3 for name in (
        "config.json", "tokenizer.json", "README.md", "model.safetensors",
        "onnx/model.onnx", "onnx/config.json", "onnx/extra/deep.onnx")}
    with HubMirror({"org/sel": Repo(files)}) as server:
        result = hfd(["org/sel", "--tool", "wget", "--include", "*.json", "onnx/*",
                      "--exclude", "onnx/config.json", "--local-dir", "a"], server.url, work)
        assert result.returncode == 0, result.stderr
        # '*' crosses '/', as in huggingface-cli: onnx/* takes onnx/extra/deep.onnx too.
        assert set(files_under(work / "a")) == {
            "config.json", "tokenizer.json", "onnx/model.onnx", "onnx/extra/deep.onnx"}
        assert {r["path"].rsplit("/resolve/main/", 1)[1] for r in resolve_gets(server)} \
            == set(files_under(work / "a"))

        result = hfd(["org/sel", "--tool", "wget", "--include=README.md", "--include", "*.onnx",
                      "--exclude", "onnx/extra/*", "--local-dir", "b"], server.url, work)
        assert result.returncode == 0, result.stderr
        assert files_under(work / "b") == {k: files[k] for k in ("README.md", "onnx/model.onnx")}

        result = hfd(["org/sel", "--tool", "wget", "--include", "*.gguf", "--local-dir", "c"],
                     server.url, work)
        assert result.returncode == 1
        assert "matches the --include/--exclude patterns" in result.stderr
        assert not (work / "c").exists()


# 3 -----------------------------------------------------------------------
def test_interrupted_download_resumes_with_a_range_request(work):
    big = random.Random(3).randbytes(3_000_000)
    files = {"big.bin": big, "config.json": b"{}\n"}
    with HubMirror({"org/big": Repo(files)}) as server:
        server.faults.stall_after["big.bin"] = 1_200_000
        args = ["org/big", "--tool", "wget", "--local-dir", "big"]
        proc = subprocess.Popen(["bash", str(SCRIPT), *args], cwd=work,
                                env=_env(server.url, work, None, None), start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        partial = work / "big" / "big.bin.incomplete"
        deadline = time.monotonic() + 15
        try:
            while not (partial.exists() and partial.stat().st_size > 0):
                assert proc.poll() is None, proc.stderr.read()
                assert time.monotonic() < deadline, "no bytes arrived"
                time.sleep(0.05)
            time.sleep(0.2)  # let what the server sent reach the disk
        finally:
            os.killpg(proc.pid, signal.SIGTERM)  # like Ctrl-C: the script and its wget
            proc.wait(timeout=10)
            proc.stderr.close()
        assert proc.returncode != 0
        have = partial.stat().st_size
        assert 0 < have <= 1_200_000
        assert not (work / "big" / "big.bin").exists()  # only checked files get the real name
        assert not list((work.parent / "tmp").iterdir())  # cleaned up on SIGTERM too

        server.faults.stall_after.clear()
        result = hfd(args, server.url, work)
        assert result.returncode == 0, result.stderr
        resumed = [r for r in resolve_gets(server, "big.bin") if r["range"]]
        assert resumed and resumed[-1]["range"] == f"bytes={have}-"
        assert files_under(work / "big") == files


# 4 -----------------------------------------------------------------------
def test_server_errors_and_cuts_are_retried(mirror, tiny_files, work):
    mirror.faults.fail["api"] = [503, 503]
    mirror.faults.fail["config.json"] = [503, 500]
    mirror.faults.cut_after["model.safetensors"] = 50_000  # connection closed mid-file, once
    result = hfd(["org/tiny", "--tool", "wget"], mirror.url, work)
    assert result.returncode == 0, result.stderr
    assert files_under(work / "tiny") == tiny_files
    assert len(mirror.requests("GET", "/api/")) == 3
    assert len(resolve_gets(mirror, "config.json")) == 3
    # wget picked up the cut file where it stopped, in the same run.
    assert [r["range"] for r in resolve_gets(mirror, "model.safetensors")] == [None, "bytes=50000-"]


def test_a_server_that_keeps_failing_is_reported(mirror, work):
    mirror.faults.fail["api"] = [503] * 10
    result = hfd(["org/tiny", "--tool", "wget"], mirror.url, work, env={"HFD_TRIES": "2"})
    assert result.returncode == 1
    assert "answered HTTP 503 after 2 tries" in result.stderr
    assert len(mirror.requests("GET", "/api/")) == 2


# 5 -----------------------------------------------------------------------
def test_corrupted_files_are_deleted_and_named(mirror, tiny_files, work):
    mirror.faults.corrupt.update({"model.safetensors", "config.json"})
    result = hfd(["org/tiny", "--tool", "wget"], mirror.url, work)
    assert result.returncode == 1
    assert "checksum mismatch: model.safetensors (sha256 is" in result.stderr
    assert "checksum mismatch: config.json (git blob id is" in result.stderr
    assert "2 of 4 files failed" in result.stderr
    on_disk = files_under(work / "tiny")
    # The bad files are gone (no final name, no .incomplete); the others are whole.
    assert on_disk == {k: v for k, v in tiny_files.items()
                       if k not in ("model.safetensors", "config.json")}

    mirror.faults.corrupt.clear()
    result = hfd(["org/tiny", "--tool", "wget"], mirror.url, work)
    assert result.returncode == 0, result.stderr
    assert files_under(work / "tiny") == tiny_files


# 6 -----------------------------------------------------------------------
def test_listing_that_escapes_the_folder_is_refused(mirror, work):
    mirror.faults.extra_siblings.extend([
        {"rfilename": "../x", "size": 3, "blobId": "0" * 40},
        {"rfilename": "/tmp/evil", "size": 3, "blobId": "0" * 40},
        {"rfilename": "a/../../y", "size": 3, "blobId": "0" * 40},
    ])
    result = hfd(["org/tiny", "--tool", "wget", "--local-dir", "dl/tiny"], mirror.url, work)
    assert result.returncode == 1
    for name in ("'../x'", "'/tmp/evil'", "'a/../../y'"):
        assert f"refusing unsafe path from the listing: {name}" in result.stderr
    assert "nothing was downloaded" in result.stderr
    assert resolve_gets(mirror) == []
    assert list(work.iterdir()) == []  # nothing at all, beside or inside the local dir
    assert not (work.parent / "x").exists() and not (work.parent / "y").exists()
    assert not Path("/tmp/evil").exists()


# 7 -----------------------------------------------------------------------
def test_dead_mirror_gives_one_clear_line(work):
    url = f"http://127.0.0.1:{free_port()}"
    result = hfd(["org/tiny", "--tool", "wget"], url, work, timeout=20)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert url in lines[0] and "HF_ENDPOINT" in lines[0] and lines[0].startswith("hfd: error:")
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_something_that_is_not_a_hub_is_named(mirror, work):
    mirror.faults.not_a_hub = True
    result = hfd(["org/tiny", "--tool", "wget"], mirror.url, work)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "is not a hub API (HTTP 404, text/html)" in lines[0]
    assert mirror.url in lines[0] and "HF_ENDPOINT" in lines[0]


def test_missing_repo_has_its_own_message(mirror, work):
    result = hfd(["org/nope", "--tool", "wget"], mirror.url, work)
    assert result.returncode == 1
    assert "repository not found: org/nope (model)" in result.stderr
    assert "try --dataset" in result.stderr


# 8 -----------------------------------------------------------------------
def test_gated_repo_needs_the_token_and_never_shows_it(tiny_files, work, tmp_path):
    path = restricted_path(tmp_path, logged=("curl", "wget"))
    with HubMirror({"org/gated": Repo(tiny_files, gated_token=TOKEN)}) as server:
        result = hfd(["org/gated", "--tool", "wget"], server.url, work, path=path)
        assert result.returncode == 1
        assert "org/gated needs a token (HTTP 401, GatedRepo)" in result.stderr
        assert "--hf_token" in result.stderr and "HF_TOKEN" in result.stderr
        assert not (work / "gated").exists()

        wrong = "hf_wrongTokenValue42"
        result = hfd(["org/gated", "--tool", "wget", "--hf_token", wrong], server.url, work,
                     path=path)
        assert result.returncode == 1 and "the token was refused" in result.stderr
        assert wrong not in result.stdout + result.stderr

        result = hfd(["org/gated", "--tool", "wget", "--hf_token", TOKEN, "--hf_username", "me"],
                     server.url, work, path=path, env={"HFD_DEBUG": "1"})
        assert result.returncode == 0, result.stderr
        assert files_under(work / "gated") == tiny_files
        assert TOKEN not in result.stdout + result.stderr
        assert "hfd: debug:" in result.stderr  # the debug output was on, and still no token
        # The token was sent to the mirror with every request of that run...
        last_run = server.log[-1 - len(tiny_files):]
        assert all(r["authorization"] == f"Bearer {TOKEN}" for r in last_run)
        # ...but never on a command line (other users can read those with ps).
        argv = (tmp_path / "argv.log").read_text()
        assert "--hf_token" not in argv and TOKEN not in argv and "Bearer" not in argv
        assert not list((work.parent / "tmp").iterdir())  # the files holding it are gone

        # HF_TOKEN from the environment works the same way.
        result = hfd(["org/gated", "--tool", "wget", "--local-dir", "env"], server.url, work,
                     path=path, env={"HF_TOKEN": TOKEN})
        assert result.returncode == 0, result.stderr
        assert files_under(work / "env") == tiny_files
        assert TOKEN not in result.stdout + result.stderr


# 9 -----------------------------------------------------------------------
def test_aria2c_missing_falls_back_to_wget(mirror, tiny_files, work, tmp_path):
    # A PATH without aria2c, whether or not this machine has it.
    path = restricted_path(tmp_path, "aria2c")
    result = hfd(["org/tiny", "--tool", "aria2c", "-x", "8", "-j", "3"], mirror.url, work,
                 path=path)
    assert result.returncode == 0, result.stderr
    assert "hfd: note: aria2c not found, using wget" in result.stderr
    assert "using: wget" in result.stderr
    assert files_under(work / "tiny") == tiny_files


@pytest.mark.skipif(shutil.which("aria2c") is None, reason="aria2c is not installed")
def test_aria2c_downloads_and_checks(tiny_files, work):
    with HubMirror({"org/gated": Repo(tiny_files, gated_token=TOKEN)}) as server:
        server.faults.fail["config.json"] = [503, 500]  # 503 retried by aria2c, 500 by hfd
        result = hfd(["org/gated", "--tool", "aria2c", "-x", "2", "--hf_token", TOKEN],
                     server.url, work, env={"HFD_DEBUG": "1"})
        assert result.returncode == 0, result.stderr
        assert "using: aria2c" in result.stderr
        assert files_under(work / "gated") == tiny_files
        assert TOKEN not in result.stdout + result.stderr

        server.faults.corrupt.add("model.safetensors")
        result = hfd(["org/gated", "--tool", "aria2c", "--hf_token", TOKEN, "--local-dir", "bad"],
                     server.url, work)
        assert result.returncode == 1
        assert "checksum mismatch: model.safetensors" in result.stderr
        assert "model.safetensors" not in files_under(work / "bad")
        assert not list((work / "bad").glob("*.incomplete*"))


# 10 ----------------------------------------------------------------------
def test_dataset_repo(work):
    files = {"data/train.csv": b"text,label\nhi,1\n", "data/part-0.bin": os.urandom(5000),
             "README.md": b"# data\n"}
    with HubMirror({"org/data": Repo(files, repo_type="dataset")}) as server:
        result = hfd(["org/data", "--tool", "wget"], server.url, work)
        assert result.returncode == 1
        assert "repository not found: org/data (model)" in result.stderr

        result = hfd(["org/data", "--dataset", "--tool", "wget", "--local-dir", "ds"],
                     server.url, work)
        assert result.returncode == 0, result.stderr
        assert files_under(work / "ds") == files
        assert server.requests("GET", "/api/datasets/org/data/revision/main")
        gets = resolve_gets(server)
        assert len(gets) == 3
        assert all(r["path"].startswith("/datasets/org/data/resolve/main/") for r in gets)


# the fallbacks: python3 instead of jq, wget instead of curl for the listing ---------
def test_without_jq_and_curl(work, tmp_path):
    files = {"config.json": b'{"a": 1}\n', "数据/说明 a#b.txt": "你好\n".encode(),
             "w.safetensors": os.urandom(20_000), "empty.txt": b""}
    path = restricted_path(tmp_path, "jq", "curl")
    with HubMirror({"org/zh": Repo(files)}) as server:
        server.faults.fail["api"] = [503]
        result = hfd(["org/zh", "--tool", "wget", "--revision", "main"], server.url, work,
                     path=path)
        assert result.returncode == 0, result.stderr
        assert files_under(work / "zh") == files
        assert len(server.requests("GET", "/api/")) == 2

        server.faults.extra_siblings.append({"rfilename": "../x", "size": 3, "blobId": "0" * 40})
        result = hfd(["org/zh", "--tool", "wget", "--local-dir", "other"], server.url, work,
                     path=path)
        assert result.returncode == 1 and "refusing unsafe path from the listing: '../x'" \
            in result.stderr
        assert not (work / "other").exists()

    url = f"http://127.0.0.1:{free_port()}"
    result = hfd(["org/zh", "--tool", "wget"], url, work, path=path, env={"HFD_TRIES": "1"})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and url in lines[0] and "HF_ENDPOINT" in lines[0], result.stderr



# a real classroom-style mirror: olah in offline mode lists names only -----------------
def _olah() -> str | None:
    return shutil.which("olah-cli", path=str(Path(sys.executable).parent)) or shutil.which(
        "olah-cli")


@pytest.mark.skipif(_olah() is None or shutil.which("git") is None,
                    reason="olah (the 'mirror' extra) or git is not installed")
def test_olah_mirror_that_lists_names_only(work, tmp_path):
    files = {"config.json": b'{"hidden_size": 16}\n', "model.safetensors": os.urandom(150_000),
             "sub/vocab.txt": b"a\nb\n"}
    repo = tmp_path / "mirrors" / "models" / "org" / "olahtiny"
    for name, data in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_bytes(data)
    git = ["git", "-c", "user.email=ci@explainlab", "-c", "user.name=ci"]
    for step in (["init", "-q", "-b", "main"], ["add", "."], ["commit", "-qm", "tiny"]):
        subprocess.run([*git, *step], cwd=repo, check=True)
    port = free_port()
    config = tmp_path / "olah.toml"
    config.write_text(f'[basic]\nhost = "127.0.0.1"\nport = {port}\n'
                      f'repos-path = "{tmp_path / "cache"}"\n'
                      f'mirrors-path = ["{tmp_path / "mirrors"}"]\n'
                      "[accessibility]\noffline = true\n")
    server = subprocess.Popen([_olah(), "-c", str(config)], cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "olah did not start"
                time.sleep(0.1)
        url = f"http://127.0.0.1:{port}"
        result = hfd(["org/olahtiny", "--tool", "wget"], url, work)
        assert result.returncode == 0, result.stderr
        assert "asking the mirror file by file" in result.stderr
        assert "not checked" not in result.stderr  # sizes and ETags came from HEAD requests
        assert files_under(work / "olahtiny") == files

        # The ETag is the git blob id, so a damaged file of the right size is caught.
        (work / "olahtiny" / "sub" / "vocab.txt").write_bytes(b"x\ny\n")
        result = hfd(["org/olahtiny", "--tool", "wget"], url, work)
        assert result.returncode == 0, result.stderr
        assert "replacing: sub/vocab.txt (git blob id is" in result.stderr
        assert files_under(work / "olahtiny") == files
    finally:
        server.terminate()
        server.wait(timeout=30)
