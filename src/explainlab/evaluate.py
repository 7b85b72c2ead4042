"""Testing explanations: faithfulness by perturbation, scores against ground truth, sanity
checks and causal interventions.

The attribution methods themselves come from Captum and Inseq; this module holds what they
lack for lesson 06: removing tokens in the order an explanation ranks them (ERASER's
comprehensiveness and sufficiency, deletion and insertion curves, AOPC), the alignment error
rate against gold links (the helpers lesson 01 writes by hand), how much of an image map falls
on the object, attention rollout, cascading model randomisation, fine-tuning on (shuffled)
labels, head ablation and activation patching. Introduced in lesson 06_testing_explanations.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager

import torch

from .homework.word_scores import rank_correlation
from .tokens import clean_tokens

__all__ = [
    "FRACTIONS",
    "ablated_heads",
    "alignment_error_rate",
    "argmax_links",
    "attention_rollout",
    "cascading_randomization",
    "classifier_scorer",
    "decoder_layers",
    "faithfulness",
    "fit_labels",
    "gold_links",
    "mass_inside",
    "neighbour_effect",
    "patch_residual",
    "perturbation_curves",
    "pointing_game",
    "rank_correlation",
    "ranking",
    "translation_scorer",
]

FRACTIONS = (0.1, 0.2, 0.3, 0.5)
"""The shares of the features removed or kept for comprehensiveness and sufficiency
(ERASER's bins, DeYoung et al. 2020, without 1%, which rounds to one token on a sentence)."""

Scorer = Callable[[list[list[bool]]], list[float]]


# --------------------------------------------------------------------------- faithfulness


def ranking(scores: Sequence[float], *, signed: bool = True) -> list[int]:
    """Feature indices, most important first: by score, or by absolute score if not
    ``signed`` (for methods whose scores have no direction, such as saliency or attention).

    Ties keep the features' order. Introduced in lesson 06_testing_explanations.
    """
    values = [float(s) for s in scores]
    if any(math.isnan(v) for v in values):
        raise ValueError("The scores contain NaN: rank the scores of one column or row only.")
    key = (lambda i: -values[i]) if signed else (lambda i: -abs(values[i]))
    return sorted(range(len(values)), key=key)


def perturbation_curves(score: Scorer, order: Sequence[int]) -> dict[str, list[float]]:
    """The model's score as the features ranked first are removed, and as only they are kept.

    Args:
        score: takes a list of *keep* masks (one bool per feature) and returns the model's
            score for each, e.g. from ``classifier_scorer``.
        order: every feature index once, most important first (``ranking``).

    Returns:
        ``{"deletion": [...], "insertion": [...]}``, each with ``n + 1`` scores: after
        removing (deletion) or keeping only (insertion) the first ``k`` features, for
        ``k = 0..n``. ``deletion[0]`` is the full input, ``insertion[0]`` the empty one.

    Introduced in lesson 06_testing_explanations.
    """
    n = len(order)
    if sorted(order) != list(range(n)):
        raise ValueError(f"order must hold every feature index 0..{n - 1} once, not {order}.")
    masks = []
    for keep_first in (False, True):
        for k in range(n + 1):
            top = set(order[:k])
            masks.append([(i in top) == keep_first for i in range(n)])
    scores = [float(s) for s in score(masks)]
    return {"deletion": scores[: n + 1], "insertion": scores[n + 1:]}


def faithfulness(curves: dict[str, list[float]], *,
                 fractions: Sequence[float] = FRACTIONS) -> dict[str, float]:
    """ERASER's comprehensiveness and sufficiency, AOPC and the areas under both curves.

    - comprehensiveness: the mean fall of the score when the top ``f`` share of the features
      is removed, over ``fractions`` (higher: the explanation found what the model needs);
    - sufficiency: the mean fall when only the top share is kept (lower is better);
    - AOPC (Samek et al. 2017): the mean fall over every ``k`` of the deletion curve;
    - deletion AUC (lower is better) and insertion AUC (higher is better): the areas under the
      curves, with the share of features removed or inserted from 0 to 1 on the x axis.

    Introduced in lesson 06_testing_explanations.
    """
    deletion, insertion = curves["deletion"], curves["insertion"]
    n = len(deletion) - 1
    if n < 1 or len(insertion) != n + 1:
        raise ValueError("The curves need the same length and at least one feature.")
    full = deletion[0]
    ks = sorted({min(n, max(1, round(f * n))) for f in fractions})
    return {
        "comprehensiveness": sum(full - deletion[k] for k in ks) / len(ks),
        "sufficiency": sum(full - insertion[k] for k in ks) / len(ks),
        "AOPC": sum(full - d for d in deletion) / (n + 1),
        "deletion AUC": _area(deletion),
        "insertion AUC": _area(insertion),
    }


def _area(curve: Sequence[float]) -> float:
    n = len(curve) - 1
    return sum((a + b) / 2 for a, b in zip(curve, curve[1:], strict=False)) / n


def _device(model) -> torch.device:
    return next(model.parameters()).device


def _rows(rows: list[list[int]], pad_id: int, device) -> dict[str, torch.Tensor]:
    width = max(len(r) for r in rows)
    ids = torch.tensor([r + [pad_id] * (width - len(r)) for r in rows], device=device)
    mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows], device=device)
    return {"input_ids": ids, "attention_mask": mask}


def _kept(ids: list[int], features: list[int], keep: Sequence[bool]) -> list[int]:
    dropped = {features[i] for i, k in enumerate(keep) if not k}
    return [t for p, t in enumerate(ids) if p not in dropped]


def _pad_id(tokenizer) -> int:
    for token_id in (tokenizer.pad_token_id, tokenizer.eos_token_id):
        if token_id is not None:
            return token_id
    return 0


def classifier_scorer(model, tokenizer, text: str, *, target: int | str | None = None,
                      batch_size: int = 32) -> tuple[list[str], int, Scorer]:
    """What ``perturbation_curves`` needs for a sequence classifier and one text.

    The features are the text's tokens, special tokens left out (they are always kept). A
    removed token is *deleted* from the input, as in ERASER, not replaced.

    Returns:
        ``(tokens, target, score)``: the features' tokens, the class index scored (the
        predicted class unless ``target`` names one, by index or label) and the function
        that gives P(target) for each keep mask.

    Introduced in lesson 06_testing_explanations.
    """
    encoded = tokenizer(text, add_special_tokens=True)
    ids = list(encoded["input_ids"])
    special = tokenizer.get_special_tokens_mask(ids, already_has_special_tokens=True)
    features = [p for p, s in enumerate(special) if not s]
    if not features:
        raise ValueError(f"The text {text!r} has no tokens to remove: pass a sentence.")
    device = _device(model)

    def probabilities(rows: list[list[int]]) -> torch.Tensor:
        out = []
        with torch.no_grad():
            for start in range(0, len(rows), batch_size):
                batch = _rows(rows[start: start + batch_size], _pad_id(tokenizer), device)
                out.append(model(**batch).logits.float().softmax(-1).cpu())
        return torch.cat(out)

    if target is None:
        target = int(probabilities([ids])[0].argmax())
    elif isinstance(target, str):
        label2id = {k.casefold(): v for k, v in model.config.label2id.items()}
        if target.casefold() not in label2id:
            raise ValueError(f"Unknown label {target!r}; the model's labels are "
                             f"{', '.join(model.config.label2id)}.")
        target = label2id[target.casefold()]

    def score(masks: list[list[bool]]) -> list[float]:
        return probabilities([_kept(ids, features, m) for m in masks])[:, target].tolist()

    tokens = tokenizer.convert_ids_to_tokens([ids[p] for p in features])
    return tokens, target, score


def translation_scorer(model, tokenizer, source: str, translation: Sequence[int], *,
                       step: int, batch_size: int = 32) -> tuple[list[str], Scorer]:
    """What ``perturbation_curves`` needs for one generated token of an encoder-decoder.

    Args:
        source: the source sentence.
        translation: the generated token ids, without the decoder's start token.
        step: which generated token: its probability, given the tokens before it (forced
            decoding), is the score.

    The features are the source tokens, the end-of-sentence token left out.

    Introduced in lesson 06_testing_explanations.
    """
    ids = list(tokenizer(source)["input_ids"])
    special = tokenizer.get_special_tokens_mask(ids, already_has_special_tokens=True)
    features = [p for p, s in enumerate(special) if not s]
    translation = [int(t) for t in translation]
    if not 0 <= step < len(translation):
        raise ValueError(f"step {step} is outside the translation's {len(translation)} tokens.")
    start = model.config.decoder_start_token_id
    prefix = [start, *translation[:step]]
    device = _device(model)

    def score(masks: list[list[bool]]) -> list[float]:
        values = []
        with torch.no_grad():
            for first in range(0, len(masks), batch_size):
                rows = [_kept(ids, features, m) for m in masks[first: first + batch_size]]
                batch = _rows(rows, _pad_id(tokenizer), device)
                decoder = torch.tensor([prefix] * len(rows), device=device)
                logits = model(**batch, decoder_input_ids=decoder).logits[:, -1].float()
                values += logits.softmax(-1)[:, translation[step]].tolist()
        return values

    return tokenizer.convert_ids_to_tokens([ids[p] for p in features]), score


# --------------------------------------------------------------------------- ground truth


def _spans(tokens: Sequence[str], text: str, specials: Iterable[str]) -> list:
    skip, spans, cursor = set(specials), [], 0
    for token in tokens:
        start = -1 if token in skip else text.find(token, cursor)
        spans.append(None if start < 0 else (start, start + len(token)))
        cursor = cursor if start < 0 else start + len(token)
    return spans


def _overlapping(word: str, spans: list, text: str) -> list[int]:
    start = text.find(word)
    end = start + len(word)
    return [k for k, span in enumerate(spans)
            if start >= 0 and span and span[0] < end and start < span[1]]


def gold_links(table, source_text: str, target_text: str,
               pairs: Iterable[tuple[str, str]], *, specials: Iterable[str] = ()) -> set:
    """Gold (row, column) links of a scores table (rows: cleaned source tokens, columns:
    cleaned target tokens), from (source word, target word) pairs; a token is linked to a
    word when their characters overlap. Lesson 01 writes this by hand.

    Introduced in lesson 06_testing_explanations.
    """
    specials = list(specials)
    rows = _spans(list(table.index), source_text, specials)
    columns = _spans(list(table.columns), target_text, specials)
    return {(i, j) for src, tgt in pairs
            for i in _overlapping(src, rows, source_text)
            for j in _overlapping(tgt, columns, target_text)}


def argmax_links(table, *, specials: Iterable[str] = (), signed: bool = True) -> set:
    """Each non-special column linked to its top-scoring non-special row (by absolute value
    if not ``signed``). Introduced in lesson 06_testing_explanations."""
    skip = set(specials)
    rows = [i for i, token in enumerate(table.index) if token not in skip]
    value = (lambda i, j: table.iat[i, j]) if signed else (lambda i, j: abs(table.iat[i, j]))
    return {(max(rows, key=lambda i: value(i, j)), j)
            for j, token in enumerate(table.columns) if token not in skip}


def alignment_error_rate(predicted: set, gold: set) -> float:
    """AER with sure links only (Och and Ney 2003): 0 when the links are the gold ones, 1
    when none is. Introduced in lesson 06_testing_explanations."""
    if not predicted and not gold:
        raise ValueError("No links on either side: nothing to compare.")
    return 1 - 2 * len(set(predicted) & set(gold)) / (len(predicted) + len(gold))


def _map_and_mask(attribution, mask) -> tuple[torch.Tensor, torch.Tensor]:
    values = torch.as_tensor(attribution, dtype=torch.float32).detach().cpu()
    inside = torch.as_tensor(mask).bool().cpu()
    if values.shape != inside.shape:
        raise ValueError(f"The map is {tuple(values.shape)} and the mask "
                         f"{tuple(inside.shape)}: sum the map over colour channels and "
                         "resize one to the other first.")
    if not inside.any():
        raise ValueError("The mask is empty: it marks no pixel of the object.")
    return values, inside


def mass_inside(attribution, mask) -> float:
    """The share of the map's positive attribution that falls on the object (``mask``).

    Introduced in lesson 06_testing_explanations.
    """
    values, inside = _map_and_mask(attribution, mask)
    positive = values.clamp(min=0)
    total = float(positive.sum())
    return float(positive[inside].sum()) / total if total > 0 else math.nan


def pointing_game(attribution, mask) -> bool:
    """Whether the map's highest pixel lies on the object (Zhang et al. 2018), ties
    included: any pixel with the top value on the object counts.

    Introduced in lesson 06_testing_explanations.
    """
    values, inside = _map_and_mask(attribution, mask)
    return bool(inside[values == values.max()].any())


# --------------------------------------------------------------------------- attention


def attention_rollout(attentions: Sequence[torch.Tensor], *, residual: bool = True,
                      example: int = 0) -> torch.Tensor:
    """Attention rollout (Abnar and Zuidema 2020): each layer's attention, averaged over its
    heads (with the identity added for the residual connection, rows renormalised),
    multiplied from the first layer up. Row ``i`` of the result says how much of position
    ``i``'s top-layer representation traces back to each input position.

    Args:
        attentions: one ``[batch, heads, query, key]`` tensor per layer, as
            ``output_attentions=True`` returns them.

    Introduced in lesson 06_testing_explanations.
    """
    if not attentions:
        raise ValueError("No attention tensors: call the model with output_attentions=True.")
    rollout = None
    for layer in attentions:
        weights = layer[example].float().mean(0)
        if residual:
            weights = weights + torch.eye(weights.shape[-1], device=weights.device)
            weights = weights / weights.sum(-1, keepdim=True)
        rollout = weights if rollout is None else weights @ rollout
    return rollout.detach().cpu()


@contextmanager
def ablated_heads(projection: torch.nn.Module, heads: Iterable[int], *,
                  num_heads: int) -> Iterator[None]:
    """Zero the outputs of some attention heads for the duration of the block.

    ``projection`` is the layer that mixes the heads' concatenated outputs (BERT's
    ``attention.output.dense``, ``o_proj`` in Qwen); the heads' slices of its input are set
    to zero. Introduced in lesson 06_testing_explanations.
    """
    heads = sorted(set(heads))
    width = projection.in_features
    if width % num_heads:
        raise ValueError(f"{width} input features do not split into {num_heads} heads.")
    size = width // num_heads
    if any(not 0 <= h < num_heads for h in heads):
        raise ValueError(f"Heads {heads} outside 0..{num_heads - 1}.")

    def zero(_module, args):
        hidden = args[0].clone()
        for h in heads:
            hidden[..., h * size:(h + 1) * size] = 0
        return (hidden, *args[1:])

    handle = projection.register_forward_pre_hook(zero)
    try:
        yield
    finally:
        handle.remove()


def neighbour_effect(model, tokenizer, text: str, layer: int, *,
                     ablate: Iterable[int] = ()) -> float:
    """How much a word's vector depends on the word before it, in a BERT-like encoder.

    Each word that has a word on its left (every token but ``[CLS]``, ``[SEP]`` and the first
    word) gets its left neighbour replaced by ``[MASK]``; the result is the mean relative
    change of the word's hidden state at the output of block ``layer``, ‖moved − plain‖ /
    ‖plain‖, with the heads in ``ablate`` of that block switched off (``ablated_heads``).
    A previous-token head carries the neighbour if switching it off shrinks the change more
    than switching off another head. Introduced in lesson 06_testing_explanations.
    """
    if tokenizer.mask_token_id is None:
        raise ValueError(f"{type(tokenizer).__name__} has no [MASK] token to hide a word with.")
    ids = tokenizer(text, return_tensors="pt")["input_ids"].to(_device(model))
    positions = torch.arange(2, ids.shape[1] - 1, device=ids.device)
    if not len(positions):
        raise ValueError(f"{text!r} needs at least two words.")
    masked = ids.repeat(len(positions), 1)
    rows = torch.arange(len(positions), device=ids.device)
    masked[rows, positions - 1] = tokenizer.mask_token_id
    projection = model.encoder.layer[layer].attention.output.dense
    heads = model.config.num_attention_heads
    with torch.no_grad(), ablated_heads(projection, ablate, num_heads=heads):
        plain = model(input_ids=ids, output_hidden_states=True).hidden_states[layer + 1][0]
        moved = model(input_ids=masked, output_hidden_states=True).hidden_states[layer + 1]
    change = (moved[rows, positions] - plain[positions]).norm(dim=-1)
    return float((change / plain[positions].norm(dim=-1)).mean())


# --------------------------------------------------------------------------- sanity checks


def cascading_randomization(model: torch.nn.Module, blocks: Sequence[tuple[str, str]], *,
                            seed: int = 0) -> Iterator[tuple[str, torch.nn.Module]]:
    """Model randomisation, cascading from the top (Adebayo et al. 2018).

    Args:
        model: left untouched; a copy is randomised.
        blocks: ``(name, submodule path)`` pairs, top of the model first, e.g.
            ``("classifier", "classifier")``, ``("layer 5", "distilbert.transformer.layer.5")``.

    Yields:
        ``(name, copy)`` after each block's parameters are drawn afresh (every submodule
        with ``reset_parameters``), on top of the blocks before it.

    Introduced in lesson 06_testing_explanations.
    """
    randomized = copy.deepcopy(model).eval()
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        for name, path in blocks:
            block = randomized.get_submodule(path)
            reset = [m for m in block.modules() if hasattr(m, "reset_parameters")]
            if not reset:
                raise ValueError(f"{path!r} has no layer with parameters to randomise.")
            with torch.no_grad():
                for module in reset:
                    module.reset_parameters()
            yield name, randomized
    finally:
        torch.random.set_rng_state(generator_state)


def fit_labels(model, tokenizer, texts: Sequence[str], labels: Sequence[int | str], *,
               epochs: int = 20, confidence: float = 0.95, learning_rate: float = 2e-4,
               batch_size: int = 8, seed: int = 0,
               progress: bool = True) -> tuple[torch.nn.Module, float]:
    """Fine-tune a copy of a sequence classifier on ``(text, label)`` pairs, the data half of
    Adebayo et al.'s sanity checks: fit once on the true labels and once on shuffled ones,
    and a method whose maps hardly differ between the two copies is not reading what the
    model learned from its labels.

    Args:
        model: left untouched; a copy is trained (AdamW, every parameter, in batches of
            ``batch_size``, the texts in a fixed shuffled order per epoch).
        labels: class indices or label names of ``model.config.label2id``.
        epochs: at most this many passes; training stops after the first pass after which
            every training text gets its label with at least ``confidence`` probability.

    Returns:
        ``(copy, accuracy)``: the trained copy in eval mode and its accuracy on the training
        pairs (1.0 when it fitted them all). The global random state is left as it was.

    Introduced in lesson 06_testing_explanations.
    """
    from huggingface_hub.utils import tqdm

    texts = list(texts)
    if not texts or len(texts) != len(labels):
        raise ValueError(f"Pass one label per text: {len(texts)} texts, {len(labels)} labels.")
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be at least 1, not {epochs} and "
                         f"{batch_size}.")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence is a probability between 0 and 1, not {confidence}.")
    names = {k.casefold(): v for k, v in model.config.label2id.items()}
    classes = model.config.num_labels
    targets = []
    for label in labels:
        index = names.get(label.casefold()) if isinstance(label, str) else label
        if not isinstance(index, int) or not 0 <= index < classes:
            raise ValueError(f"Unknown label {label!r}; use 0..{classes - 1} or one of "
                             f"{', '.join(model.config.label2id)}.")
        targets.append(index)
    device = _device(model)
    encoded = tokenizer(texts, padding=True, return_tensors="pt").to(device)
    targets = torch.tensor(targets, device=device)
    trained = copy.deepcopy(model)
    optimizer = torch.optim.AdamW(trained.parameters(), lr=learning_rate)
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)

    def fit() -> tuple[float, float]:
        # The accuracy on the training pairs and the lowest probability of a true label.
        trained.eval()
        with torch.no_grad():
            probabilities = trained(**encoded).logits.float().softmax(-1)
        right = (probabilities.argmax(-1) == targets).float().mean()
        return float(right), float(probabilities[torch.arange(len(targets)), targets].min())

    try:
        with tqdm(range(epochs), desc="fine-tuning", unit="epoch", disable=not progress) as bar:
            for _ in bar:
                trained.train()
                order = torch.randperm(len(texts), device=device)
                for start in range(0, len(texts), batch_size):
                    rows = order[start:start + batch_size]
                    batch = {name: values[rows] for name, values in encoded.items()}
                    loss = trained(**batch, labels=targets[rows]).loss
                    loss.backward()
                    optimizer.step()
                    optimizer.zero_grad(set_to_none=True)
                score, lowest = fit()
                bar.set_postfix(accuracy=f"{score:.2f}", lowest=f"{lowest:.2f}")
                if lowest >= confidence:
                    break
    finally:
        torch.random.set_rng_state(generator_state)
    return trained.eval(), score


# --------------------------------------------------------------------------- patching


def decoder_layers(model: torch.nn.Module) -> torch.nn.ModuleList:
    """The list of a decoder-only model's transformer blocks (``model.model.layers`` in Qwen,
    ``transformer.h`` in GPT-2). Introduced in lesson 06_testing_explanations."""
    count = model.config.num_hidden_layers
    for _, module in model.named_modules():
        if isinstance(module, torch.nn.ModuleList) and len(module) == count:
            return module
    raise ValueError(f"{type(model).__name__} has no list of {count} blocks.")


def patch_residual(model, tokenizer, clean: str, corrupted: str,
                   metric: Callable[[torch.Tensor], torch.Tensor]):
    """Activation patching of the residual stream, one (block, position) at a time.

    The model reads ``corrupted``; at one position, the output of one block (or of the
    embeddings) is replaced by what it was on ``clean``. ``metric`` turns the last
    position's logits (``[batch, vocab]``) into one number per row, e.g. the logit of the
    clean answer minus that of the corrupted one.

    Returns:
        A DataFrame: a row per block (``"embeddings"``, ``"block 0"``, ...), a column per
        position (the corrupted prompt's cleaned tokens), the metric with that cell patched. The
        unpatched values are in ``.attrs["clean"]`` and ``.attrs["corrupted"]``.

    Introduced in lesson 06_testing_explanations.
    """
    import pandas as pd

    device = _device(model)
    clean_ids = tokenizer(clean, return_tensors="pt")["input_ids"].to(device)
    corrupted_ids = tokenizer(corrupted, return_tensors="pt")["input_ids"].to(device)
    if clean_ids.shape != corrupted_ids.shape:
        raise ValueError("The two prompts must have the same number of tokens, so that "
                         f"positions match: {clean_ids.shape[1]} and {corrupted_ids.shape[1]}. "
                         "Pick words that are one token each.")
    sites = [("embeddings", model.get_input_embeddings()),
             *((f"block {i}", block) for i, block in enumerate(decoder_layers(model)))]
    saved: dict[str, torch.Tensor] = {}

    def hidden(output):
        return output[0] if isinstance(output, tuple) else output

    def keep(name):
        def hook(_module, _args, output):
            saved[name] = hidden(output).detach()
        return hook

    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            handles = [m.register_forward_hook(keep(n)) for n, m in sites]
            try:
                clean_value = float(metric(model(clean_ids).logits[:, -1].float())[0])
            finally:
                for h in handles:
                    h.remove()
            corrupted_value = float(metric(model(corrupted_ids).logits[:, -1].float())[0])
            length = corrupted_ids.shape[1]
            batch = corrupted_ids.expand(length, -1)
            rows = {}
            for name, module in sites:
                def patch(_module, _args, output, name=name):
                    values = hidden(output).clone()
                    positions = torch.arange(length, device=values.device)
                    values[positions, positions] = saved[name][0, positions]
                    return (values, *output[1:]) if isinstance(output, tuple) else values
                handle = module.register_forward_hook(patch)
                try:
                    rows[name] = metric(model(batch).logits[:, -1].float()).tolist()
                finally:
                    handle.remove()
    finally:
        model.train(was_training)
    tokens = clean_tokens(tokenizer.convert_ids_to_tokens(corrupted_ids[0].tolist()), tokenizer)
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=tokens)
    frame.attrs.update(clean=clean_value, corrupted=corrupted_value)
    return frame
