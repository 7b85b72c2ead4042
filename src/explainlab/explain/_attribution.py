"""Layer integrated gradients for the explainers: inputs, baselines, and the ways to run it.

- ``path_lig``: a batch of examples, each towards its own target (a sentence, a pair, the
  hypotheses of zero-shot classification). One forward pass records the layer's output for
  the inputs and the baselines (and the scores at both ends, for the convergence delta);
  the interpolation path then goes through the model once, and one backward pass gives
  every example its gradients.
- ``shared_path_lig``: one example, many targets (every label of a multi-label model, the
  start and end of an answer, every entity token). The path goes through the model once;
  each target then costs one backward pass.
- ``captum_lig``: Captum's ``LayerIntegratedGradients``, one target per example; what the
  other two must reproduce (same Gauss-Legendre steps, same formula; the tests check it),
  and what ``batch_labels=False`` runs.

Introduced in lesson 03_classification_explainers.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch
from captum.attr import LayerIntegratedGradients

from ..errors import TextTruncatedWarning

EMBEDDING_TYPES = {0: "word embeddings", 1: "position embeddings", 2: "all embeddings"}
# Model types whose position ids start after the padding index (RoBERTa's convention).
_OFFSET_POSITIONS = ("roberta", "xlm-roberta", "camembert", "data2vec-text", "longformer")
_BIG = 100_000  # tokenizers without a limit report about 1e30 as their model_max_length


ACTIVATION_BUDGET = 2**30
"""Bytes of activations one forward and backward pass of an explainer may keep (1 GiB). The
default ``internal_batch_size`` is the number of rows that fits (``rows_that_fit``), so a
larger ``n_steps`` costs time, not memory."""


def _config_value(config, *names: str, default: int = 0) -> int:
    for name in names:
        value = getattr(config, name, None)
        if value:
            return int(value)
    return default


def rows_that_fit(model, tokens: int, *, budget: int | None = None) -> int:
    """The default ``internal_batch_size``: how many inputs of ``tokens`` tokens (patches and
    [CLS] for an image) one forward and backward pass of ``model`` can take within ``budget``
    bytes of activations (default ``ACTIVATION_BUDGET``), at least one.

    The estimate reads the configuration: per token and layer, a transformer layer keeps
    about 20 hidden-sized and 3 feed-forward-sized tensors for its backward pass, and
    per head 4 rows of attention as long as the input (scores, probabilities, their
    gradients). Introduced in lesson 03_classification_explainers.
    """
    config = model.config
    hidden = _config_value(config, "hidden_size", "d_model", "n_embd", default=768)
    layers = _config_value(config, "num_hidden_layers", "n_layer", "num_layers", default=12)
    heads = _config_value(config, "num_attention_heads", "n_head", default=12)
    ffn = _config_value(config, "intermediate_size", "n_inner", "encoder_ffn_dim",
                        default=4 * hidden)
    itemsize = next(model.parameters()).element_size()
    per_row = tokens * layers * (20 * hidden + 3 * ffn + 4 * heads * tokens) * itemsize
    return max(1, (budget or ACTIVATION_BUDGET) // per_row)


def spaced_punctuation(text: str) -> str:
    """Put spaces around ``. , ! ? ( )`` and squeeze runs of spaces (transformers-interpret's
    cleaning, kept so that tokens and numbers match what learners see there)."""
    text = re.sub(r"([.,!?()])", r" \1 ", text)
    return re.sub(r"\s{2,}", " ", text)


def display_tokens(tokenizer, ids: Sequence[int]) -> list[str]:
    """Tokens as the explainers show them: the tokenizer's strings, ``Ġ`` removed."""
    return [token.replace("Ġ", "") for token in tokenizer.convert_ids_to_tokens(list(ids))]


def max_length(model, tokenizer) -> int | None:
    """The longest input (in tokens, special tokens included) the model accepts, if known."""
    limits = []
    if 0 < (getattr(tokenizer, "model_max_length", None) or _BIG) < _BIG:
        limits.append(int(tokenizer.model_max_length))
    positions = getattr(model.config, "max_position_embeddings", None)
    if positions and getattr(model.config, "position_biased_input", True):
        if model.config.model_type in _OFFSET_POSITIONS:
            positions -= (model.config.pad_token_id or 0) + 1
        limits.append(int(positions))
    return min(limits) if limits else None


@dataclass
class Encoded:
    """A batch of tokenised inputs and their ``[CLS] + [PAD]*n + [SEP]`` baselines."""

    input_ids: torch.Tensor  # (B, L)
    baseline_ids: torch.Tensor  # (B, L): every non-special token replaced by the reference
    attention_mask: torch.Tensor  # (B, L)
    special: torch.Tensor  # (B, L) bool: tokens the tokenizer added ([CLS], [SEP], padding)
    extras: dict[str, torch.Tensor] = field(default_factory=dict)  # token_type_ids
    dropped: list[int] = field(default_factory=list)  # tokens cut from each example

    def __len__(self) -> int:
        return self.input_ids.shape[0]

    def row(self, index: int) -> Encoded:
        """One example, without its padding."""
        keep = self.attention_mask[index].bool()

        def cut(t):
            return t[index : index + 1, keep]

        return Encoded(cut(self.input_ids), cut(self.baseline_ids), cut(self.attention_mask),
                       cut(self.special), {k: cut(v) for k, v in self.extras.items()},
                       [self.dropped[index]])

    def first_separator(self, index: int = 0) -> int:
        """Position of the first special token after position 0 (the end of the first text)."""
        special = self.special[index].tolist()
        return next((i for i in range(1, len(special)) if special[i]), len(special))


def encode(model, tokenizer, texts: Sequence[str], pairs: Sequence[str] | None = None, *,
           truncation: str = "longest_first", reference_id: int, what: str = "text") -> Encoded:
    """Tokenise ``texts`` (with ``pairs`` as second segments) the way the model expects.

    Texts longer than the model accepts are truncated (``truncation`` says which segment
    loses tokens) with a ``TextTruncatedWarning`` that says how many tokens were dropped.
    """
    args = (list(texts),) if pairs is None else (list(texts), list(pairs))
    limit = max_length(model, tokenizer)
    full = tokenizer(*args, add_special_tokens=True, verbose=False)["input_ids"]
    kept = tokenizer(*args, add_special_tokens=True, padding=True, return_tensors="pt",
                     return_special_tokens_mask=True, truncation=truncation if limit else False,
                     max_length=limit)
    mask = kept["attention_mask"]
    dropped = [len(f) - int(m.sum()) for f, m in zip(full, mask, strict=True)]
    if any(dropped):
        warnings.warn(
            f"The {what} is longer than the model accepts ({limit} tokens with the special "
            f"tokens): dropped {max(dropped)} token{'s' if max(dropped) != 1 else ''} "
            f"(truncation={truncation!r}). Shorten it, or explain it in parts.",
            TextTruncatedWarning, stacklevel=4)
    special = kept["special_tokens_mask"].bool() | ~mask.bool()
    input_ids = kept["input_ids"]
    baseline = torch.where(special, input_ids, torch.full_like(input_ids, reference_id))
    extras = {}
    if "token_type_ids" in kept and _accepts(model, "token_type_ids"):
        extras["token_type_ids"] = kept["token_type_ids"]
    device = model.device
    return Encoded(input_ids.to(device), baseline.to(device), mask.to(device),
                   special.to(device), {k: v.to(device) for k, v in extras.items()}, dropped)


def _accepts(model, name: str) -> bool:
    import inspect

    return name in inspect.signature(model.forward).parameters


def _position_ids(model, encoded: Encoded) -> tuple[torch.Tensor, torch.Tensor]:
    """Position ids as the model makes them from the input, and the baseline's (the first).

    RoBERTa-like models count positions from ``pad_token_id + 1`` over non-padding tokens;
    the others number the tokens from 0.
    """
    ids = encoded.input_ids
    if model.config.model_type in _OFFSET_POSITIONS:
        pad = model.config.pad_token_id or 0
        real = encoded.attention_mask.long()
        positions = real.cumsum(1) * real + pad
        return positions, torch.full_like(positions, pad)
    positions = torch.arange(ids.shape[1], device=ids.device).expand_as(ids)
    return positions, torch.zeros_like(positions)


def embedding_layer(model, embedding_type: int) -> tuple[torch.nn.Module, int]:
    """The layer to attribute to: 0 word embeddings, 1 position embeddings, 2 all embeddings.

    Falls back to the word embeddings (with a warning) where the model has no such layer,
    as transformers-interpret does. Returns the layer and the type actually used.
    """
    if embedding_type not in EMBEDDING_TYPES:
        raise ValueError(f"embedding_type={embedding_type!r}; use one of "
                         + ", ".join(f"{k} ({v})" for k, v in EMBEDDING_TYPES.items()) + ".")
    embeddings = getattr(model.base_model, "embeddings", None)
    if embedding_type == 1:
        layer = getattr(embeddings, "position_embeddings", None)
        if isinstance(layer, torch.nn.Embedding) and _accepts(model, "position_ids"):
            return layer, 1
    elif embedding_type == 2:
        if embeddings is not None and _accepts(model, "position_ids"):
            return embeddings, 2
    else:
        return model.get_input_embeddings(), 0
    warnings.warn(f"{type(model).__name__} has no {EMBEDDING_TYPES[embedding_type]} to "
                  "attribute to; using the word embeddings.", stacklevel=4)
    return model.get_input_embeddings(), 0


@dataclass
class PathInputs:
    """What the forward function gets: named inputs, their baselines, and the attention mask.

    Inputs and baselines differ only where the attributed layer reads them (the token ids
    for the word embeddings, the positions for the position embeddings, all of them for
    the whole embedding layer), so that the convergence delta measures completeness.
    """

    names: tuple[str, ...]
    inputs: tuple[torch.Tensor, ...]
    baselines: tuple[torch.Tensor, ...]
    attention_mask: torch.Tensor


def path_inputs(model, encoded: Encoded, embedding_type: int) -> PathInputs:
    names, inputs, baselines = ["input_ids"], [encoded.input_ids], [encoded.baseline_ids]
    if embedding_type == 1:
        baselines = [encoded.input_ids]
    for name, tensor in encoded.extras.items():
        names.append(name)
        inputs.append(tensor)
        baselines.append(torch.zeros_like(tensor) if embedding_type == 2 else tensor)
    if embedding_type in (1, 2) or model.config.model_type in _OFFSET_POSITIONS:
        # Explicit positions: a RoBERTa-like model would otherwise number the baseline's
        # [PAD] tokens as padding, and the baseline would not be where the path starts.
        positions, baseline_positions = _position_ids(model, encoded)
        names.append("position_ids")
        inputs.append(positions)
        baselines.append(baseline_positions if embedding_type in (1, 2) else positions)
    return PathInputs(tuple(names), tuple(inputs), tuple(baselines), encoded.attention_mask)


class ModelScores:
    """``forward(*inputs, attention_mask) -> (batch, n_scores)``: the model, then ``scores``."""

    def __init__(self, model, names: Sequence[str], scores: Callable):
        self.model, self.names, self.scores = model, tuple(names), scores

    def __call__(self, *tensors: torch.Tensor) -> torch.Tensor:
        *inputs, attention_mask = tensors
        output = self.model(**dict(zip(self.names, inputs, strict=True)),
                            attention_mask=attention_mask)
        return self.scores(output)


@dataclass
class Attributions:
    """Per target: attributions summed over the hidden dimension, and the convergence delta."""

    per_token: torch.Tensor  # (T, L)
    delta: torch.Tensor  # (T,)


def captum_lig(forward: ModelScores, layer, path: PathInputs, targets: Sequence[int], *,
               n_steps: int, internal_batch_size: int | None) -> Attributions:
    """Captum's LayerIntegratedGradients: example ``i`` of the batch towards ``targets[i]``."""
    lig = LayerIntegratedGradients(forward, layer)
    attributions, delta = lig.attribute(
        inputs=path.inputs, baselines=path.baselines, target=list(targets),
        additional_forward_args=(path.attention_mask,), n_steps=n_steps,
        internal_batch_size=internal_batch_size, return_convergence_delta=True)
    return Attributions(attributions.sum(-1).detach(), delta.detach())


def captum_lig_per_target(forward: ModelScores, layer, path: PathInputs,
                          targets: Sequence[int], *, n_steps: int,
                          internal_batch_size: int | None) -> Attributions:
    """One example, one Captum call per target: what ``shared_path_lig`` must reproduce."""
    runs = [captum_lig(forward, layer, path, [t], n_steps=n_steps,
                       internal_batch_size=internal_batch_size) for t in targets]
    return Attributions(torch.cat([r.per_token for r in runs]), torch.cat([r.delta for r in runs]))


def gauss_legendre(n_steps: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    """Captum's default quadrature on [0, 1]: the points (alphas) and their weights."""
    nodes, weights = np.polynomial.legendre.leggauss(n_steps)
    alphas = [float(a) for a in 0.5 * (1 + nodes)]
    return (torch.tensor(alphas, dtype=torch.float32, device=device),
            torch.tensor(0.5 * weights, dtype=torch.float32, device=device))


@contextmanager
def _hook(layer, hook):
    handle = layer.register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()


def _returning(value: torch.Tensor) -> Callable:
    """A forward hook that replaces the layer's output with ``value``."""
    return lambda module, args, output: value


def shared_path_lig(forward: ModelScores, layer, path: PathInputs, targets: Sequence[int], *,
                    n_steps: int, internal_batch_size: int | None) -> Attributions:
    """Layer integrated gradients of one example towards several targets, path computed once.

    One forward pass over the ``n_steps`` interpolated layer outputs (in chunks of
    ``internal_batch_size``), then one backward pass per target (``retain_graph``).
    """
    if path.inputs[0].shape[0] != 1:
        raise ValueError("shared_path_lig explains one example at a time.")
    result = _integrate(forward, layer, path, [[t] for t in targets], n_steps=n_steps,
                        internal_batch_size=internal_batch_size)
    return Attributions(result.per_token[:, 0], result.delta[:, 0])


def path_lig(forward: ModelScores, layer, path: PathInputs, targets: Sequence[int], *,
             n_steps: int, internal_batch_size: int | None) -> Attributions:
    """Layer integrated gradients of example ``i`` of the batch towards ``targets[i]``.

    What ``captum_lig`` computes, with less work around the path: the forward pass that
    records the layer's outputs also gives the scores at both ends of the path, so the
    convergence delta costs no extra pass, and ``internal_batch_size`` (rows per forward
    pass, as in Captum) splits the path the same way.
    """
    targets = list(targets)
    if len(targets) != path.inputs[0].shape[0]:
        raise ValueError(f"{len(targets)} targets for {path.inputs[0].shape[0]} examples.")
    result = _integrate(forward, layer, path, [targets], n_steps=n_steps,
                        internal_batch_size=internal_batch_size)
    return Attributions(result.per_token[0], result.delta[0])


def _integrate(forward: ModelScores, layer, path: PathInputs, target_sets: list[list[int]],
               *, n_steps: int, internal_batch_size: int | None) -> Attributions:
    """Shared by ``path_lig`` and ``shared_path_lig``: ``target_sets[j][b]`` is example
    ``b``'s target in backward pass ``j``. Returns ``per_token`` (J, B, L), ``delta`` (J, B).
    The path runs through the layer's output (``path_gradients``), the inputs stay fixed.
    """
    batch = path.inputs[0].shape[0]
    seen = []
    with torch.no_grad(), _hook(layer, lambda module, args, output: seen.append(output)):
        ends = forward(*[torch.cat([i, b]) for i, b in zip(path.inputs, path.baselines,
                                                             strict=True)],
                       torch.cat([path.attention_mask, path.attention_mask]))
    activations = seen[0]
    x, x0 = activations[:batch], activations[batch:]

    def scores_at(scaled: torch.Tensor, size: int) -> torch.Tensor:
        with _hook(layer, _returning(scaled)):
            return forward(*[_repeat(t, size) for t in path.inputs],
                           _repeat(path.attention_mask, size))

    total = path_gradients(x, x0, scores_at, target_sets, n_steps=n_steps,
                           internal_batch_size=internal_batch_size)
    chosen = [torch.tensor(targets, device=x.device) for targets in target_sets]
    per_token = (total * (x - x0)).sum(-1).detach()
    rows = torch.arange(batch, device=x.device)
    gaps = torch.stack([ends[rows, t] - ends[rows + batch, t] for t in chosen])
    return Attributions(per_token, (per_token.sum(-1) - gaps).detach())


def path_gradients(x: torch.Tensor, x0: torch.Tensor, scores_at, target_sets: list[list[int]],
                   *, n_steps: int, internal_batch_size: int | None) -> torch.Tensor:
    """The quadrature of the gradients along the straight path from ``x0`` to ``x`` (a batch
    of B examples): ``total[j, b]`` for example ``b`` towards ``target_sets[j][b]``, shape
    (J, *x.shape). Integrated gradients are ``total * (x - x0)``.

    ``scores_at(points, steps)`` returns the model's scores at ``points`` (``steps`` path
    points of the whole batch, rows ordered step by step as in Captum). At most
    ``internal_batch_size`` rows go through the model at once; each chunk takes one forward
    pass and one backward pass per target set. An example's score depends only on its own
    rows, so the gradient of the sum over the batch gives each example its own gradient.
    """
    batch = x.shape[0]
    alphas, weights = gauss_legendre(n_steps, x.device)
    steps = max(1, (internal_batch_size or n_steps * batch) // batch)
    chosen = [torch.tensor(targets, device=x.device) for targets in target_sets]
    total = torch.zeros((len(target_sets), *x.shape), dtype=x.dtype, device=x.device)
    for start in range(0, n_steps, steps):
        a, w = alphas[start : start + steps], weights[start : start + steps]
        size = len(a)
        scaled = (x0.unsqueeze(0) + a.view(-1, *[1] * x.dim()) * (x - x0).unsqueeze(0))
        scaled = scaled.reshape(size * batch, *x.shape[1:]).requires_grad_()
        with torch.enable_grad():  # also when the caller is under torch.no_grad()
            scores = scores_at(scaled, size)
            for j, target in enumerate(chosen):
                picked = scores.gather(1, target.repeat(size).unsqueeze(1)).sum()
                (grad,) = torch.autograd.grad(picked, scaled, retain_graph=j < len(chosen) - 1)
                grad = grad.view(size, batch, *x.shape[1:])
                total[j] += (grad * w.view(-1, *[1] * (grad.dim() - 1))).sum(0)
    return total


def _repeat(tensor: torch.Tensor, times: int) -> torch.Tensor:
    """``times`` copies of a batch, one after the other (a single example: a view)."""
    if tensor.shape[0] == 1:
        return tensor.expand(times, *tensor.shape[1:])
    return tensor.repeat(times, *[1] * (tensor.dim() - 1))


def unit_norm(values: torch.Tensor, *, flip_sign: bool = False) -> list[float]:
    """Scale to unit L2 norm (sign flipped on request); an all-zero row stays zero."""
    values = -values if flip_sign else values
    norm = torch.linalg.vector_norm(values)
    scaled = values / norm if norm > 0 else values
    return [float(v) for v in scaled.cpu()]
