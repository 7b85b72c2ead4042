"""Real downloads through mirrors: olah over a local git repo, and transformers via HF_ENDPOINT."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from explainlab import download

from conftest import files_under
from hubmirror import HubMirror, Repo


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory) -> Path:
    """A real (tiny, random) BertModel saved with save_pretrained."""
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny-bert")
    config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=32)
    BertModel(config).save_pretrained(folder)
    return folder


@pytest.mark.slow
def test_download_through_olah_offline_mirror(tiny_bert, tmp_path):
    olah = shutil.which("olah-cli", path=str(Path(sys.executable).parent))
    assert olah, "olah is a dev dependency (extra 'mirror'); `make test` installs it"
    repo = tmp_path / "mirrors" / "models" / "org" / "tiny-bert"
    shutil.copytree(tiny_bert, repo)
    git = ["git", "-c", "user.email=ci@explainlab", "-c", "user.name=ci"]
    subprocess.run([*git, "init", "-q", "-b", "main"], cwd=repo, check=True)
    subprocess.run([*git, "add", "."], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "tiny bert"], cwd=repo, check=True)
    port = _free_port()
    config = tmp_path / "olah.toml"
    config.write_text(textwrap.dedent(f"""
        [basic]
        host = "127.0.0.1"
        port = {port}
        repos-path = "{tmp_path / 'cache'}"
        mirrors-path = ["{tmp_path / 'mirrors'}"]
        [accessibility]
        offline = true
    """))
    server = subprocess.Popen([olah, "-c", str(config)], cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        target = download("org/tiny-bert", local_dir=tmp_path / "got",
                          endpoint=f"http://127.0.0.1:{port}", progress=False)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert files_under(target) == files_under(tiny_bert)

    from transformers import BertModel

    assert BertModel.from_pretrained(target).config.hidden_size == 16


SCRIPT = """
import os, sys
import transformers  # imports huggingface_hub first, as a notebook would
os.environ["HF_ENDPOINT"] = sys.argv[1]
if sys.argv[2] == "setup":
    import explainlab
    explainlab.setup(quiet=True)
elif sys.argv[2] == "plain":
    import huggingface_hub
    print("endpoint", huggingface_hub.constants.ENDPOINT)
    sys.exit(3)
elif sys.argv[2] == "xet-on":
    import huggingface_hub
    huggingface_hub.constants.ENDPOINT = sys.argv[1]
    huggingface_hub.constants.HUGGINGFACE_CO_URL_TEMPLATE = (
        sys.argv[1] + "/{repo_id}/resolve/{revision}/{filename}")
model = transformers.BertModel.from_pretrained("org/tiny-bert")
print("hidden", model.config.hidden_size)
"""


def _load_through(mirror: HubMirror, mode: str, home: Path) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HF_HOME": str(home), "EXPLAINLAB_HOME": str(home),
           "HF_HUB_ETAG_TIMEOUT": "5", "HF_HUB_DOWNLOAD_TIMEOUT": "5"}
    return subprocess.run([sys.executable, "-c", SCRIPT, mirror.url, mode], env=env,
                          capture_output=True, text=True, timeout=180)


@pytest.mark.slow
def test_setup_applies_hf_endpoint_set_after_import_and_turns_xet_off(tiny_bert, tmp_path):
    files = {str(p.relative_to(tiny_bert)): p.read_bytes() for p in tiny_bert.iterdir()}
    with HubMirror({"org/tiny-bert": Repo(files)}) as mirror:
        mirror.faults.xet = True  # the mirror relays the hub's Xet headers
        plain = _load_through(mirror, "plain", tmp_path / "plain")
        xet_on = _load_through(mirror, "xet-on", tmp_path / "xet")
        fixed = _load_through(mirror, "setup", tmp_path / "fixed")
        served = mirror.requests("GET", "model.safetensors")
    # Without setup(): the variable set after import is ignored.
    assert "endpoint https://huggingface.co" in plain.stdout
    # Endpoint right but Xet on: huggingface_hub leaves the mirror for Xet storage and fails.
    assert xet_on.returncode != 0
    assert "hidden 16" in fixed.stdout, fixed.stderr[-2000:]
    assert len(served) == 1  # only the setup() run fetched the weights, over plain HTTP
