"""explainlab.hub.download and `explainlab download`, against a real HTTP mirror on loopback."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from explainlab import download
from explainlab.errors import (
    AuthenticationError,
    ChecksumMismatchError,
    InvalidRepoIdError,
    MirrorUnreachableError,
    NotAMirrorError,
    RepoNotFoundError,
    UnsafePathError,
)
from explainlab.hub import PARTIAL_DIR, Expected, probe

from conftest import files_under, run_cli
from hubmirror import HubMirror, Repo


def _get(mirror, local_dir, **kwargs):
    kwargs.setdefault("wait", 0.01)
    return download("org/tiny", local_dir=local_dir, endpoint=mirror.url, progress=False,
                    **kwargs)


def test_clean_download_gives_identical_files(mirror, tiny_files, tmp_path):
    target = _get(mirror, tmp_path / "tiny")
    assert target == tmp_path / "tiny"
    assert files_under(target) == tiny_files
    assert not list((target / PARTIAL_DIR).rglob("*.part"))


def test_files_are_fetched_at_the_listed_commit(mirror, tmp_path):
    _get(mirror, tmp_path / "tiny")
    commit = mirror.repos["org/tiny"].sha
    gets = mirror.requests("GET", "/resolve/")
    assert gets and all(f"/resolve/{commit}/" in r["path"] for r in gets)


def test_include_and_exclude_select_files(mirror, tmp_path):
    target = _get(mirror, tmp_path / "a", include=["*.json", "tokenizer/*"])
    assert set(files_under(target)) == {"config.json", "tokenizer/vocab.txt"}
    target = _get(mirror, tmp_path / "b", exclude=["*.safetensors", "*.md"])
    assert set(files_under(target)) == {"config.json", "tokenizer/vocab.txt"}


def test_rerun_downloads_nothing_when_files_match(mirror, tmp_path):
    _get(mirror, tmp_path / "tiny")
    before = len(mirror.requests("GET", "/resolve/"))
    _get(mirror, tmp_path / "tiny")
    assert len(mirror.requests("GET", "/resolve/")) == before


def test_modified_local_file_is_fetched_again(mirror, tiny_files, tmp_path):
    target = _get(mirror, tmp_path / "tiny")
    (target / "config.json").write_bytes(b'{"model_type": "edited"}\n')
    _get(mirror, target)
    assert (target / "config.json").read_bytes() == tiny_files["config.json"]


def test_transient_failures_are_retried(mirror, tiny_files, tmp_path):
    mirror.faults.fail["api"] = [503, 429]
    mirror.faults.fail["model.safetensors"] = [500, 502, 503]
    target = _get(mirror, tmp_path / "tiny")
    assert files_under(target) == tiny_files
    assert len(mirror.requests("GET", "/api/")) == 3
    assert len(mirror.requests("GET", "model.safetensors")) == 4


def test_connection_cut_mid_file_resumes_where_it_stopped(mirror, tiny_files, tmp_path):
    mirror.faults.cut_after["model.safetensors"] = 50_000  # close the connection once, mid-file
    target = _get(mirror, tmp_path / "tiny")
    assert files_under(target) == tiny_files
    ranges = [r["range"] for r in mirror.requests("GET", "model.safetensors")]
    assert ranges == [None, "bytes=50000-"]


def test_persistent_failure_gives_up_with_advice(mirror, tmp_path):
    mirror.faults.fail["model.safetensors"] = [503] * 10
    with pytest.raises(MirrorUnreachableError, match=r"model\.safetensors.*HTTP 503.*3 tries"):
        _get(mirror, tmp_path / "tiny", retries=2)
    assert not (tmp_path / "tiny" / "model.safetensors").exists()


def test_corrupted_file_is_reported_and_deleted(mirror, tiny_files, tmp_path):
    mirror.faults.corrupt.add("model.safetensors")
    with pytest.raises(ChecksumMismatchError, match=r"model\.safetensors") as caught:
        _get(mirror, tmp_path / "tiny")
    assert isinstance(caught.value, OSError)
    got = files_under(tmp_path / "tiny")
    assert "model.safetensors" not in got
    assert not list((tmp_path / "tiny").rglob("*.part"))
    assert got == {k: v for k, v in tiny_files.items() if k != "model.safetensors"}


def test_corrupted_small_file_is_caught_by_its_git_hash(mirror, tmp_path):
    mirror.faults.corrupt.add("config.json")
    with pytest.raises(ChecksumMismatchError, match=r"config\.json"):
        _get(mirror, tmp_path / "tiny")
    assert not (tmp_path / "tiny" / "config.json").exists()


def test_listing_that_escapes_local_dir_writes_nothing(mirror, tmp_path):
    mirror.faults.extra_siblings.append({"rfilename": "../x", "size": 3, "blobId": "0" * 40})
    mirror.faults.extra_siblings.append({"rfilename": "/etc/y", "size": 3, "blobId": "0" * 40})
    with pytest.raises(UnsafePathError, match=r"\.\./x.*/etc/y"):
        _get(mirror, tmp_path / "inside" / "tiny")
    assert not (tmp_path / "x").exists()
    assert not (tmp_path / "inside").exists()
    assert not mirror.requests("GET", "/resolve/")


def test_dead_port_is_one_clear_error(tmp_path):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(MirrorUnreachableError, match="HF_ENDPOINT") as caught:
        download("org/tiny", local_dir=tmp_path / "t", endpoint=url, progress=False)
    assert url in str(caught.value)
    assert isinstance(caught.value, ConnectionError)


def test_not_a_hub_and_unknown_repo(mirror, tmp_path):
    with pytest.raises(RepoNotFoundError, match="org/nothing"):
        download("org/nothing", local_dir=tmp_path / "n", endpoint=mirror.url, progress=False)
    mirror.faults.not_a_hub = True
    with pytest.raises(NotAMirrorError, match="not like a Hugging Face hub"):
        _get(mirror, tmp_path / "tiny")


def test_captive_portal_is_not_a_hub(mirror, tmp_path):
    mirror.faults.portal = True  # HTTP 200 and a web page for every request
    with pytest.raises(NotAMirrorError, match="not like a Hugging Face hub"):
        _get(mirror, tmp_path / "tiny")
    assert not (tmp_path / "tiny").exists()


@pytest.mark.parametrize("repo_id", ["../../etc", "org/../../etc", "/etc", "org/x/y", "a--b", ""])
def test_invalid_repo_id_is_named_before_any_request(mirror, tmp_path, repo_id):
    with pytest.raises(InvalidRepoIdError, match="not a valid repository id") as caught:
        download(repo_id, local_dir=tmp_path / "t", endpoint=mirror.url, progress=False)
    assert isinstance(caught.value, ValueError)
    assert repr(repo_id) in str(caught.value)
    with pytest.raises(InvalidRepoIdError):  # the default folder would be built from the id
        download(repo_id, endpoint=mirror.url, progress=False)
    assert mirror.log == []
    assert list(tmp_path.iterdir()) == []


def test_listing_of_names_only_is_checked_by_etag(mirror, tiny_files, tmp_path):
    """Mirrors that list names only (olah offline) still send each file's digest as its ETag."""
    mirror.faults.names_only = True
    target = _get(mirror, tmp_path / "tiny")
    assert files_under(target) == tiny_files
    assert len(mirror.requests("HEAD", "/resolve/")) == len(tiny_files)
    mirror.faults.corrupt.update({"model.safetensors", "config.json"})
    with pytest.raises(ChecksumMismatchError, match=r"config\.json, model\.safetensors"):
        _get(mirror, tmp_path / "bad")
    assert set(files_under(tmp_path / "bad")) == {"README.md", "tokenizer/vocab.txt"}


def test_probe_tells_a_hub_from_the_rest(mirror):
    assert probe(mirror.url, "org/tiny") == "yes (hub API; has org/tiny)"
    assert probe(mirror.url, "org/none") == "yes (hub API; it does not have org/none)"
    assert mirror.requests("GET", "/api/models/org/tiny")
    mirror.faults.not_a_hub = True
    answer = probe(mirror.url, "org/tiny")
    assert answer.startswith("no: ") and "not like a Hugging Face hub" in answer
    mirror.faults.not_a_hub = False
    mirror.faults.fail["api"] = [503]
    assert probe(mirror.url, "org/tiny").startswith(f"no: {mirror.url} kept failing")
    with pytest.raises(InvalidRepoIdError):
        probe(mirror.url, "../../etc")


def test_probe_of_a_dead_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    answer = probe(f"http://127.0.0.1:{port}", "org/tiny")
    assert answer.startswith(f"no: Cannot connect to http://127.0.0.1:{port}")


def test_gated_repo_needs_token(tiny_files, tmp_path):
    secret = "hf_secret_token_123"
    with HubMirror({"org/tiny": Repo(tiny_files, gated_token=secret)}) as mirror:
        with pytest.raises(AuthenticationError, match="token") as caught:
            _get(mirror, tmp_path / "no-token")
        assert isinstance(caught.value, PermissionError)
        target = _get(mirror, tmp_path / "tiny", token=secret)
        assert files_under(target) == tiny_files
        sent = {r["authorization"] for r in mirror.requests("GET")}
        assert f"Bearer {secret}" in sent


def test_dataset_repo(tiny_files, tmp_path):
    with HubMirror({"org/data": Repo({"train.csv": b"a,b\n1,2\n"}, repo_type="dataset")}) as m:
        target = download("org/data", local_dir=tmp_path / "d", endpoint=m.url,
                          repo_type="dataset", progress=False)
        assert files_under(target) == {"train.csv": b"a,b\n1,2\n"}
        assert m.requests("GET", "/datasets/org/data/resolve/")


def test_stale_partial_from_another_version_is_replaced(mirror, tiny_files, tmp_path):
    target = tmp_path / "tiny"
    part = target / PARTIAL_DIR / "model.safetensors.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"\0" * 1000)  # right length prefix, wrong bytes
    _get(mirror, target)
    assert files_under(target) == tiny_files
    ranges = [r["range"] for r in mirror.requests("GET", "model.safetensors")]
    assert ranges[0] == "bytes=1000-" and ranges[-1] is None


def test_hub_imports_only_public_names_of_huggingface_hub():
    """huggingface_hub 1.x brings httpx and 2.x httpx2: hub.py imports neither, nor a private
    name of the library, so it imports and runs on both (Colab and Kaggle have 1.x)."""
    import ast
    import importlib

    import explainlab.hub

    tree = ast.parse(Path(explainlab.hub.__file__).read_text(encoding="utf-8"))
    seen = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            pairs = [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            pairs = [(node.module, alias.name) for alias in node.names]
        else:
            continue
        for module, name in pairs:
            assert module.partition(".")[0] not in ("httpx", "httpx2"), module
            if module.partition(".")[0] != "huggingface_hub":
                continue
            assert module in ("huggingface_hub", "huggingface_hub.errors",
                              "huggingface_hub.utils"), module
            if name is not None:
                assert not name.startswith("_"), name
                public = getattr(importlib.import_module(module), "__all__", None)
                assert public is None or name in public, f"{module}.{name}"
                seen.add(name)
    assert {"HfApi", "get_session", "validate_repo_id"} <= seen


def test_expected_digest_from_etag():
    assert Expected.from_etag(3, '"' + "a" * 64 + '"').kind == "sha256"
    assert Expected.from_etag(3, "b" * 40).kind == "git-sha1"
    assert Expected.from_etag(3, "W/not-a-digest").kind is None


# -- the command line -----------------------------------------------------------------------


def test_cli_download_and_message(mirror, tiny_files, tmp_path):
    result = run_cli("download", "org/tiny", "--mirror", mirror.url, "--quiet",
                     "--exclude", "*.md", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Downloaded org/tiny" in result.stdout
    assert files_under(tmp_path / "tiny") == {k: v for k, v in tiny_files.items()
                                              if k != "README.md"}


def test_cli_reads_hf_endpoint(mirror, tmp_path):
    result = run_cli("download", "org/tiny", "--local-dir", str(tmp_path / "t"), "--quiet",
                     env={"HF_ENDPOINT": mirror.url})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "t" / "config.json").exists()


def test_cli_dead_mirror_prints_one_line(tmp_path):
    result = run_cli("download", "org/tiny", "--mirror", "http://127.0.0.1:9", cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "http://127.0.0.1:9" in lines[0]
    assert "Traceback" not in result.stderr


def test_cli_invalid_repo_id_prints_one_line(mirror, tmp_path):
    result = run_cli("download", "../../etc", "--mirror", mirror.url, cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "'../../etc' is not a valid repository id" in lines[0]
    assert "Traceback" not in result.stderr
    assert mirror.log == [] and list(tmp_path.iterdir()) == []


def test_cli_never_prints_the_token(tiny_files, tmp_path):
    secret = "hf_do_not_print_me"
    with HubMirror({"org/tiny": Repo(tiny_files, gated_token=secret)}) as mirror:
        mirror.faults.corrupt.add("model.safetensors")
        bad = run_cli("download", "org/tiny", "--mirror", mirror.url, "--token", secret,
                      cwd=tmp_path)
        wrong = run_cli("download", "org/tiny", "--mirror", mirror.url, "--token", "hf_wrong",
                        cwd=tmp_path)
    assert bad.returncode == 1 and "model.safetensors" in bad.stderr
    assert wrong.returncode == 1 and "token" in wrong.stderr
    for result in (bad, wrong):
        assert secret not in result.stdout + result.stderr
        assert "hf_wrong" not in result.stdout + result.stderr


@pytest.mark.slow
def test_cli_resumes_after_a_killed_transfer(tmp_path):
    """Kill the download mid-file; the rerun asks only for the missing bytes."""
    big = os.urandom(3 * 1024 * 1024)
    with HubMirror({"org/big": Repo({"model.safetensors": big})}) as mirror:
        mirror.faults.stall_after["model.safetensors"] = 2 * 1024 * 1024
        part = tmp_path / "big" / PARTIAL_DIR / "model.safetensors.part"
        proc = subprocess.Popen(
            [sys.executable, "-m", "explainlab.cli", "download", "org/big", "--mirror",
             mirror.url, "--quiet"], cwd=tmp_path, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (part.exists() and part.stat().st_size):
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        kept = part.stat().st_size
        assert 0 < kept < len(big)
        del mirror.faults.stall_after["model.safetensors"]
        result = run_cli("download", "org/big", "--mirror", mirror.url, "--quiet", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert f"bytes={kept}-" in [r["range"] for r in mirror.requests("GET", "model")]
    got = (tmp_path / "big" / "model.safetensors").read_bytes()
    assert hashlib.sha256(got).digest() == hashlib.sha256(big).digest()
    assert not part.exists()


def test_pytorch_only_skips_other_frameworks_and_duplicate_weights(tmp_path):
    names = ["config.json", "model.safetensors", "pytorch_model.bin", "tf_model.h5",
             "rust_model.ot", "flax_model.msgpack", "onnx/model.onnx", "source.spm"]
    with HubMirror({"org/many": Repo({n: n.encode() for n in names})}) as m:
        target = download("org/many", local_dir=tmp_path / "many", endpoint=m.url,
                          progress=False, pytorch_only=True)
    assert set(files_under(target)) == {"config.json", "model.safetensors", "source.spm"}


def test_pytorch_only_keeps_bin_weights_when_they_are_all_there_is(tmp_path):
    files = {"config.json": b"{}", "pytorch_model.bin": b"w", "tf_model.h5": b"t"}
    with HubMirror({"org/old": Repo(files)}) as m:
        target = download("org/old", local_dir=tmp_path / "old", endpoint=m.url,
                          progress=False, pytorch_only=True)
    assert set(files_under(target)) == {"config.json", "pytorch_model.bin"}


def test_resolve_through_a_mirror_returns_a_checked_local_copy(tmp_path, monkeypatch):
    import explainlab

    files = {"config.json": b"{}", "model.safetensors": b"weights", "tf_model.h5": b"t"}
    with HubMirror({"Helsinki-NLP/opus-mt-zh-en": Repo(files)}) as m:
        monkeypatch.setenv("HF_ENDPOINT", m.url)
        local = explainlab.resolve("mt-zh-en", "hub")
    assert local == str(tmp_path / "explainlab-home" / "downloads" / "Helsinki-NLP/opus-mt-zh-en")
    assert set(files_under(tmp_path / "explainlab-home" / "downloads")) == {
        "Helsinki-NLP/opus-mt-zh-en/config.json", "Helsinki-NLP/opus-mt-zh-en/model.safetensors"}
