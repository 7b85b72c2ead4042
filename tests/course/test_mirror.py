"""`explainlab-course mirror serve`: twins through olah; resolve() and from_pretrained via
HF_ENDPOINT."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import torch
from safetensors.torch import load_file

import explainlab
from explainlab_course import mirror, zoo

from conftest import files_under

HUB_ID = "distilbert/distilbert-base-uncased-finetuned-sst-2-english"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def _wait_for_port(port: int, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while not _port_open(port):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def test_prepare_lays_out_git_repos_under_hub_ids(toy, tmp_path):
    root = mirror.prepare(mirror.twin_sources(), root=tmp_path / "m")
    repo = root / "mirrors" / "models" / HUB_ID
    assert files_under(repo) == files_under(zoo.twin_path("sst2"))
    log = subprocess.run(["git", "log", "--format=%s"], cwd=repo, capture_output=True,
                         text=True, check=True).stdout
    assert log.strip().startswith(f"{HUB_ID} from sst2-")
    head = (repo / ".git" / "index").stat().st_mtime_ns
    mirror.prepare(mirror.twin_sources(), root=root)  # unchanged: the repository is left alone
    assert (repo / ".git" / "index").stat().st_mtime_ns == head
    zoo.build("sst2", force=True)  # a rebuilt twin is committed again
    mirror.prepare(mirror.twin_sources(), root=root)
    assert (repo / ".git" / "index").stat().st_mtime_ns != head


def test_downloaded_folders_are_served_under_their_ids(tmp_path):
    downloads = tmp_path / "downloads"
    (downloads / "org" / "model" / ".cache").mkdir(parents=True)
    (downloads / "org" / "model" / "config.json").write_text("{}")
    (downloads / "org" / "model" / ".cache" / "x.part").write_text("partial")
    sources = mirror.folder_sources(downloads)
    assert sources == {"org/model": downloads / "org" / "model"}
    root = mirror.prepare(sources, root=tmp_path / "m")
    assert files_under(root / "mirrors" / "models" / "org" / "model") == {"config.json": b"{}"}
    assert not (root / "mirrors" / "models" / "org" / "model" / ".cache").exists()
    with pytest.raises(FileNotFoundError, match="ORG/NAME"):
        mirror.folder_sources(tmp_path / "empty")


@pytest.mark.slow
def test_classroom_mirror_end_to_end(toy, tmp_path, monkeypatch):
    root = mirror.prepare(mirror.twin_sources(), root=tmp_path / "m")
    port = _free_port()
    config = mirror.olah_config(root, host="127.0.0.1", port=port)
    olah = str(__import__("pathlib").Path(sys.executable).parent / "olah-cli")
    server = subprocess.Popen([olah, "-c", str(config)], cwd=root, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        assert _wait_for_port(port), "olah did not start"
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
        monkeypatch.setenv("EXPLAINLAB_PROFILE", "hub")
        local = explainlab.resolve("sst2")
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert local.endswith(HUB_ID)
    twin = zoo.twin_path("sst2")
    served = load_file(f"{local}/model.safetensors")
    built = load_file(twin / "model.safetensors")
    assert all(torch.equal(served[k], built[k]) for k in built)

    from transformers import BertForSequenceClassification

    model = BertForSequenceClassification.from_pretrained(local)
    assert model.config.num_labels == 2


def test_serve_stops_olah_on_sigterm(tmp_path):
    downloads = tmp_path / "downloads"
    (downloads / "org" / "model").mkdir(parents=True)
    (downloads / "org" / "model" / "config.json").write_text("{}")
    port = _free_port()
    env = {**os.environ, "EXPLAINLAB_HOME": str(tmp_path / "home")}
    cli = subprocess.Popen([sys.executable, "-m", "explainlab_course", "mirror", "serve",
                            "--downloads", str(downloads), "--port", str(port)], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert _wait_for_port(port), "olah did not start"
    finally:
        cli.send_signal(signal.SIGTERM)
        cli.wait(timeout=30)
    deadline = time.monotonic() + 15
    while _port_open(port) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _port_open(port), "olah kept serving after `mirror serve` was terminated"
