"""Shared fixtures: a real loopback hub mirror, a clean explainlab environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from explainlab_course.zoo import TwinRecipe  # noqa: E402

from hubmirror import HubMirror, Repo  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch, tmp_path):
    """No test sees the developer's profile, mirror, token or cache."""
    for name in ("EXPLAINLAB_PROFILE", "EXPLAINLAB_DEVICE", "EXPLAINLAB_SEED", "HF_ENDPOINT",
                 "HF_TOKEN", "HF_HUB_DISABLE_XET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EXPLAINLAB_HOME", str(tmp_path / "explainlab-home"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))


@pytest.fixture
def tiny_files() -> dict[str, bytes]:
    rng = __import__("random").Random(7)
    return {
        "config.json": b'{"model_type": "tiny"}\n',
        "README.md": b"# tiny\n",
        "model.safetensors": rng.randbytes(200_000),
        "tokenizer/vocab.txt": b"[PAD]\n[UNK]\nhello\n",
    }


@pytest.fixture
def mirror(tiny_files):
    with HubMirror({"org/tiny": Repo(tiny_files)}) as server:
        yield server


def files_under(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` except the resume cache and git's own, by relative path."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*")
            if p.is_file() and not {".cache", ".git"} & set(p.relative_to(folder).parts)}


def run_cli(*args: str, env: dict | None = None, timeout: float = 120,
            cwd: Path | None = None, module: str = "explainlab.cli"
            ) -> subprocess.CompletedProcess:
    """Run ``explainlab`` in a subprocess, as a learner would (``module="explainlab_course"``:
    the course factory's ``explainlab-course``)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", module, *args], env=full_env,
                          cwd=cwd, capture_output=True, text=True, timeout=timeout)


# Twins are cached across tests and with `make site`: built once under the developer's
# (or CI's) EXPLAINLAB_HOME, not under the per-test home above.
TWIN_HOME = Path(os.environ.get("EXPLAINLAB_HOME") or "~/.cache/explainlab").expanduser()


def twin(role: str) -> Path:
    """The folder of ``role``'s offline twin, built (once) in the shared twin cache."""
    from explainlab_course import zoo

    saved = os.environ.get("EXPLAINLAB_HOME")
    os.environ["EXPLAINLAB_HOME"] = str(TWIN_HOME)
    try:
        return zoo.build(role)
    finally:
        if saved is None:
            os.environ.pop("EXPLAINLAB_HOME", None)
        else:
            os.environ["EXPLAINLAB_HOME"] = saved


class _ToyTwin(TwinRecipe):
    """A real (tiny) classifier trained for a few steps: enough to test the store."""

    role = "sst2"
    model_class = "BertForSequenceClassification"
    tokenizer_class = "none"
    cost = 1.0
    data = "random vectors"
    can = ("separate two clusters",)
    cannot = ("anything else",)
    builds = 0
    examples = [([1 + i % 5] * 4, 0) for i in range(20)] + [([10 + i % 5] * 4, 1)
                                                           for i in range(20)]

    def train(self, folder):
        import torch
        from transformers import BertConfig, BertForSequenceClassification

        from explainlab_course.zoo._train import batches, fit

        type(self).builds += 1
        config = BertConfig(vocab_size=20, hidden_size=16, num_hidden_layers=1,
                            num_attention_heads=2, intermediate_size=16)
        model = BertForSequenceClassification(config)
        stream = batches(self.examples, 8)

        def next_batch(_):
            chunk = next(stream)
            return {"input_ids": torch.tensor([c[0] for c in chunk]),
                    "labels": torch.tensor([c[1] for c in chunk])}

        loss = fit(model, next_batch, steps=30, lr=1e-2, desc="toy")
        model.save_pretrained(folder)
        return {"final loss": round(loss, 4)}

    def contract(self, folder):
        import torch
        from transformers import BertForSequenceClassification

        from explainlab_course.zoo._contract import at_least

        model = BertForSequenceClassification.from_pretrained(folder).eval()
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([ids for ids, _ in self.examples])).logits
        right = (logits.argmax(-1) == torch.tensor([y for _, y in self.examples])).float()
        return [at_least("training accuracy", right.mean().item(), 0.9)]


@pytest.fixture
def toy(monkeypatch):
    """The zoo with one twin: a toy recipe for ``sst2``, built under the per-test home."""
    from explainlab_course.zoo import _registry

    monkeypatch.setattr(_registry, "_RECIPES", {"sst2": _ToyTwin})
    monkeypatch.setattr(_registry, "RECIPE_MODULES", ())
    _ToyTwin.builds = 0
    return _ToyTwin
