"""Full-size stand-ins of the real models: their published configuration, random weights.

A stand-in of a role has what a learner downloads with the real model, except the learned
weights: the configuration from ``models.json`` (sizes, layers, heads, vocabulary, labels,
``torch_dtype``, generation settings, the chat template), weights drawn by the model's own
initialisation from a fixed seed and saved in the real dtype, and the offline twin's
tokenizer with its vocabulary padded to the real size (filler tokens that encoding never
produces, and that the stand-in never writes). Token ids (pad, bos, eos, decoder start) come
from the twin's tokenizer, which the stand-in shares; generation stops at ``MAX_LENGTH``
tokens. The scale check (``explainlab_course.scale.check``) runs the lessons on them to
measure memory and time at the real size; their outputs mean nothing.

A stand-in is built in seconds and cached under ``<scale home>/twins/<role>-<key>``, where
``explainlab.resolve(role, "offline")`` finds it when ``EXPLAINLAB_HOME`` is the scale home.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

from explainlab import constants
from explainlab.models import TWIN_MANIFEST, built_twin, twin_pointer

from ..zoo._store import point

TABLE = Path(__file__).with_name("models.json")
SEED = 0
FILLER = "<filler_{}>"
TOKEN_ID_FIELDS = ("pad_token_id", "bos_token_id", "eos_token_id", "decoder_start_token_id",
                   "forced_eos_token_id", "sep_token_id", "bad_words_ids")
MAX_LENGTH = 32
"""The stand-ins' cap on generated length. Random weights almost never emit the end token,
so the translator's published ``max_length`` (512, four beams) would make every translation
512 tokens long, each attributed, where a real translation of a lesson's one-sentence input
ends long before. The scale report states the cap beside its numbers."""
FORMAT = 6  # bump when the way a stand-in is built changes


def table() -> dict[str, dict]:
    """The roles of ``models.json``: the real models' published configurations."""
    return json.loads(TABLE.read_text(encoding="utf-8"))["roles"]


def entry(role: str) -> dict:
    """One role's row of the table.

    Raises:
        KeyError: the table has no such role; the message lists those it has.
    """
    rows = table()
    if role not in rows:
        raise KeyError(f"models.json has no role {role!r}; it has {', '.join(sorted(rows))}.")
    return rows[role]


def download_bytes(role: str) -> int:
    """Bytes ``from_pretrained`` downloads for the real model of ``role`` (the table's files)."""
    return sum(entry(role)["files"].values())


@contextlib.contextmanager
def explainlab_home(home: Path) -> Iterator[None]:
    """``EXPLAINLAB_HOME`` set to ``home`` for the block."""
    before = os.environ.get(constants.ENV_HOME)
    os.environ[constants.ENV_HOME] = str(home)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(constants.ENV_HOME, None)
        else:
            os.environ[constants.ENV_HOME] = before


def _key(role: str, twin: Path) -> str:
    digest = hashlib.sha256(json.dumps([FORMAT, SEED, entry(role), twin.name],
                                       sort_keys=True).encode())
    return digest.hexdigest()[:12]


def _dtype(config: dict):
    import torch

    name = config.get("torch_dtype") or config.get("dtype") or "float32"
    return getattr(torch, name)


def _twin_token_ids(twin: Path) -> dict:
    """The token-id fields of the twin's configuration and generation configuration."""
    ids = {}
    for name in ("config.json", "generation_config.json"):
        path = twin / name
        if path.is_file():
            data = json.loads(path.read_text(encoding="utf-8"))
            ids[name] = {k: v for k, v in data.items() if k in TOKEN_ID_FIELDS}
    return ids


def _published_config(role: str):
    """The real model's configuration as the table gives it, in its published dtype."""
    from transformers import AutoConfig

    fields = dict(entry(role)["config"])
    dtype = _dtype(fields)
    fields.pop("torch_dtype", None)
    fields.pop("dtype", None)
    config = AutoConfig.for_model(fields.pop("model_type"), **fields)
    config.dtype = dtype
    return config


def _silence_fillers(model, known: set[int]) -> int:
    """Make the model never write a filler id: zero output rows (a random logit above zero
    always beats them) and, where the model has one, a large negative output bias. A filler
    decodes to text that the tokenizer splits into many tokens again, which would make
    Inseq attribute a longer text than the model wrote. Returns the number of fillers."""
    import torch

    size = getattr(model.config, "vocab_size", None)
    if not size:
        return 0
    fillers = torch.tensor(sorted(set(range(size)) - known), dtype=torch.long)
    if not len(fillers):
        return 0
    with torch.no_grad():
        output = model.get_output_embeddings()
        if output is not None:
            output.weight[fillers] = 0
        bias = getattr(model, "final_logits_bias", None)  # Marian
        if bias is not None:
            bias[:, fillers] = -1e4
    return len(fillers)


def _twin_ids(twin: Path) -> set[int]:
    """Every id the twin's tokenizer holds (none for an image model)."""
    from transformers import AutoTokenizer

    if not any((twin / name).is_file() for name in ("tokenizer_config.json", "vocab.json")):
        return set()
    return set(AutoTokenizer.from_pretrained(twin).get_vocab().values())


def _real_config(role: str, twin: Path, known: set[int]):
    """The real model's configuration, with the token ids of the twin's tokenizer; its
    vocabulary grows to the tokenizer's where the twin's is the larger (the ``ner`` twin
    shares the uncased BERT vocabulary, the real model has the cased one)."""
    config = _published_config(role)
    for name, value in _twin_token_ids(twin).get("config.json", {}).items():
        setattr(config, name, value)
    if getattr(config, "vocab_size", None) and known:
        config.vocab_size = max(config.vocab_size, max(known) + 1)
    return config


def _filled(vocab: dict[str, int], size: int, taken: set[int]) -> dict[str, int]:
    """``vocab`` with a filler token at every id below ``size`` that nothing holds."""
    used = set(vocab.values()) | taken
    out = dict(vocab)
    for index in range(size):
        if index not in used:
            out[FILLER.format(index)] = index
    return out


def _pad_tokenizer(folder: Path, size: int) -> None:
    """Pad the tokenizer files in ``folder`` to ``size`` ids."""
    path = folder / "tokenizer.json"
    if path.is_file():
        data = json.loads(path.read_text(encoding="utf-8"))
        vocab = data["model"]["vocab"]
        if isinstance(vocab, dict):  # BPE, WordPiece
            taken = {t["id"] for t in data.get("added_tokens", [])}
            data["model"]["vocab"] = _filled(vocab, size, taken)
            path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    path = folder / "vocab.json"  # Marian
    if path.is_file():
        vocab = json.loads(path.read_text(encoding="utf-8"))
        path.write_text(json.dumps(_filled(vocab, size, set()), ensure_ascii=False),
                        encoding="utf-8")
    path = folder / "vocab.txt"  # WordPiece, one token per line, id = line number
    if path.is_file():
        lines = path.read_text(encoding="utf-8").splitlines()
        lines += [FILLER.format(i) for i in range(len(lines), size)]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _tokenizer_files(role: str, twin: Path, folder: Path, vocab_size: int | None) -> None:
    """The twin's tokenizer (or image processor), set up as the real one."""
    row = entry(role)
    for path in twin.iterdir():
        if path.name not in {"config.json", "generation_config.json", TWIN_MANIFEST,
                             "README.md"} and path.suffix not in {".safetensors", ".bin"}:
            shutil.copy2(path, folder / path.name)
    if vocab_size:
        _pad_tokenizer(folder, vocab_size)
    tokenizer = row.get("tokenizer") or {}
    settings = folder / "tokenizer_config.json"
    if settings.is_file() and tokenizer.get("model_max_length"):
        data = json.loads(settings.read_text(encoding="utf-8"))
        data["model_max_length"] = tokenizer["model_max_length"]
        settings.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    if tokenizer.get("chat_template"):
        (folder / "chat_template.jinja").write_text(tokenizer["chat_template"], encoding="utf-8")
    processor = folder / "preprocessor_config.json"
    if processor.is_file() and "image_size" in row["config"]:
        data = json.loads(processor.read_text(encoding="utf-8"))
        side = row["config"]["image_size"]
        data["size"] = {"height": side, "width": side}
        processor.write_text(json.dumps(data, indent=2), encoding="utf-8")


def _generation_config(role: str, twin: Path, folder: Path) -> None:
    published = entry(role).get("generation_config")
    if published is None:
        return
    ids = _twin_token_ids(twin)
    data = {**published, **ids.get("generation_config.json", ids.get("config.json", {}))}
    data = {k: v for k, v in data.items() if k in published or k in TOKEN_ID_FIELDS}
    if data.get("max_length", 0) > MAX_LENGTH:
        data["max_length"] = MAX_LENGTH
    (folder / "generation_config.json").write_text(json.dumps(data, indent=2),
                                                   encoding="utf-8")


def _model_class(role: str):
    import transformers

    return getattr(transformers, entry(role)["auto_class"])


def parameter_count(role: str) -> int:
    """Parameters of the real model of ``role``, from its configuration (no weights made)."""
    import torch

    with torch.device("meta"):
        model = _model_class(role).from_config(_published_config(role))
    return sum(p.numel() for p in model.parameters())


def twin_for(role: str, twins_home: Path | None = None) -> Path:
    """The folder of ``role``'s offline twin under ``twins_home`` (default ``EXPLAINLAB_HOME``)."""
    if twins_home is None:
        return built_twin(role)
    with explainlab_home(twins_home):
        return built_twin(role)


def build(role: str, *, scale_home: Path, twins_home: Path | None = None,
          log=print) -> Path:
    """The stand-in of ``role`` under ``scale_home``, built unless cached; points
    ``resolve(role, "offline")`` at it for ``EXPLAINLAB_HOME=scale_home``.

    Raises:
        TwinUnavailableError: the role's twin (whose tokenizer the stand-in takes) is not
            built under ``twins_home``: run ``make twins``.
    """
    import torch

    twin = twin_for(role, twins_home)
    with explainlab_home(scale_home):
        pointer = twin_pointer(role)
    folder = pointer.parent / f"{role}-{_key(role, twin)}"
    if not (folder / TWIN_MANIFEST).is_file():
        started = time.perf_counter()
        partial = folder.with_name(f".{folder.name}.{os.getpid()}")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        known = _twin_ids(twin)
        config = _real_config(role, twin, known)
        dtype = config.dtype
        torch.manual_seed(SEED)
        model = _model_class(role).from_config(config, dtype=torch.float32)
        fillers = _silence_fillers(model, known)
        model = model.to(dtype).eval()
        model.config.dtype = dtype
        model.save_pretrained(partial)
        if (twin / "pytorch_model.bin").is_file():  # for BertViz's old loader, as the twin
            torch.save({k: v.contiguous() for k, v in model.state_dict().items()},
                       partial / "pytorch_model.bin")
        _generation_config(role, twin, partial)
        _tokenizer_files(role, twin, partial, getattr(config, "vocab_size", None))
        manifest = {"kind": "scale stand-in", "role": role, "real_model": entry(role)["hub_id"],
                    "seed": SEED, "twin": twin.name, "fillers": fillers,
                    "dtype": str(dtype).removeprefix("torch."),
                    "parameters": sum(p.numel() for p in model.parameters()),
                    "size_bytes": sum(p.stat().st_size for p in partial.iterdir()),
                    "build_seconds": round(time.perf_counter() - started, 1)}
        (partial / TWIN_MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        del model
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(partial, folder)
        for older in folder.parent.glob(f"{role}-*"):  # stand-ins are large: keep one
            if older != folder and (older / TWIN_MANIFEST).is_file():
                shutil.rmtree(older, ignore_errors=True)
        log(f"stand-in {role}: {manifest['parameters'] / 1e6:.0f}M parameters, "
            f"{manifest['dtype']}, built in {manifest['build_seconds']} s")
    with explainlab_home(scale_home):
        return point(role, folder)
