"""HW7's task 2: a chat model explains its own answer; is the explanation faithful?

The protocol, identical on the real Qwen3-0.6B (profile ``hub``) and on its offline twin:

1. ``ask(model, tokenizer, classify_question(REVIEW))``: the model labels the review
   (``answer_label`` reads "Positive" or "Negative" off the reply).
2. ``self_report``: the model answers ``importance_question(REVIEW)`` with
   ``(word, importance)`` tuples, which ``parse_word_scores`` reads.
3. ``attribute_answer``: a gradient attribution of the model's own answer token against the
   other label's, one signed score per review word (positive: towards "Positive").
4. ``rank_correlation`` (of ``compare_word_scores``) and ``top_k_overlap`` of
   ``rank_towards`` compare the two explanations.
5. ``deletion_drop``: delete the top words of each explanation from the review and measure
   how much the probability of the answer falls. A faithful explanation names the words
   whose deletion changes the answer most; a merely plausible one names words a reader
   would pick.

Introduced in lesson 05_homework.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import torch

REVIEW = "The acting was wonderful, but the plot was boring and the ending was a total mess."
"""The lesson's review."""
LABELS = ("Positive", "Negative")
"""The two answers of the classification turn, as the model should write them."""
METHODS = ("input_x_gradient", "integrated_gradients")
"""The attribution methods of ``attribute_answer`` (Captum's ``InputXGradient`` and
``IntegratedGradients``)."""

_WORD = re.compile(r"\w+(?:['’]\w+)*")
_LEADING = re.compile(r"^(?:\s|<think>.*?</think>|[*_`#>\"'“”‘’(\[])*", re.DOTALL)


def _review(review: str) -> str:
    if not isinstance(review, str) or not _WORD.search(review):
        raise ValueError(f"The review {review!r} has no words: pass the text of a movie review, "
                         "e.g. REVIEW.")
    return review.strip()


def classify_question(review: str) -> str:
    """The classification turn's user message about ``review``.

    Introduced in lesson 05_homework.
    """
    return (f"Movie review: {_review(review)}\n\n"
            "Is this review positive or negative? Answer with one word.")


def importance_question(review: str) -> str:
    """The self-report turn's user message: ``(word, importance)`` tuples from -1 to 1.

    Introduced in lesson 05_homework.
    """
    return (f"Movie review: {_review(review)}\n\n"
            "For each word of the review that matters for its sentiment, give a (word, "
            "importance) tuple, where importance is a number from -1 (strongly negative) to 1 "
            "(strongly positive). Answer only with a Python list of tuples.")


def chat_prompt(tokenizer, message: str) -> str:
    """``message`` as one user turn in the model's chat template, ready for the reply.

    Qwen3 gets ``enable_thinking=False`` (an empty ``<think>`` section, so it answers at
    once); templates without thinking ignore it.

    Raises:
        ValueError: the tokenizer has no chat template (not a chat model).

    Introduced in lesson 05_homework.
    """
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError(f"{type(tokenizer).__name__} has no chat template, so it is not a chat "
                         "model's tokenizer: load the tokenizer of the role 'lm' (Qwen3), e.g. "
                         "AutoTokenizer.from_pretrained(explainlab.resolve('lm')).")
    return tokenizer.apply_chat_template([{"role": "user", "content": message}], tokenize=False,
                                         add_generation_prompt=True, enable_thinking=False)


def _device(model) -> torch.device:
    device = getattr(model, "device", None)
    return torch.device(device) if device is not None else next(model.parameters()).device


def _inputs(model, tokenizer, prompt: str) -> dict:
    encoded = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    return {k: v.to(_device(model)) for k, v in encoded.items()
            if k in ("input_ids", "attention_mask")}


@contextmanager
def _evaluating(model) -> Iterator[None]:
    """``model`` in eval mode (no dropout) for the block; its mode restored after."""
    training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(training)


def _greedy(model, max_new_tokens: int):
    """The model's generation config, made greedy (Qwen3's samples by default)."""
    from transformers import GenerationConfig

    config = copy.deepcopy(getattr(model, "generation_config", None) or GenerationConfig())
    config.do_sample, config.num_beams, config.max_new_tokens = False, 1, max_new_tokens
    config.temperature = config.top_p = config.top_k = None
    if config.pad_token_id is None:
        eos = config.eos_token_id
        config.pad_token_id = eos[0] if isinstance(eos, list) else eos
    return config


def ask(model, tokenizer, message: str, *, max_new_tokens: int = 120) -> str:
    """The model's greedy reply to ``message`` (one user turn), special tokens dropped.

    Introduced in lesson 05_homework.
    """
    inputs = _inputs(model, tokenizer, chat_prompt(tokenizer, message))
    with torch.no_grad(), _evaluating(model):
        out = model.generate(**inputs, generation_config=_greedy(model, max_new_tokens))
    reply = out[0, inputs["input_ids"].shape[1]:]
    return tokenizer.decode(reply, skip_special_tokens=True).strip()


def answer_label(reply: str) -> str | None:
    """The label that ``reply`` starts with ("Positive" or "Negative"), or None.

    Case, leading spaces, Markdown (``**Negative**``), quotes and an empty ``<think>``
    section are tolerated.

    Introduced in lesson 05_homework.
    """
    rest = _LEADING.sub("", str(reply), count=1).casefold()
    return next((label for label in LABELS if re.match(rf"{label.casefold()}\b", rest)), None)


def _label(label: str) -> str:
    found = next((name for name in LABELS if str(label).strip().casefold() == name.casefold()),
                 None)
    if found is None:
        raise ValueError(f"Unknown label {label!r}: use one of {', '.join(LABELS)}.")
    return found


def _label_ids(tokenizer) -> dict[str, int]:
    """The first token of each label, as the reply starts with it."""
    ids = {label: tokenizer(label, add_special_tokens=False)["input_ids"][0] for label in LABELS}
    if len(set(ids.values())) < len(LABELS):
        raise ValueError(f"The labels {LABELS} start with the same token in this tokenizer; "
                         "their probabilities cannot be told apart.")
    return ids


def label_probabilities(model, tokenizer, review: str) -> dict[str, float]:
    """P of each label's first token where the classification reply starts.

    The softmax is over the whole vocabulary, so the two need not add up to 1.

    Introduced in lesson 05_homework.
    """
    inputs = _inputs(model, tokenizer, chat_prompt(tokenizer, classify_question(review)))
    with torch.no_grad(), _evaluating(model):
        probs = model(**inputs).logits[0, -1].float().softmax(-1)
    return {label: probs[i].item() for label, i in _label_ids(tokenizer).items()}


def _model_answer(model, tokenizer, review: str) -> str:
    probs = label_probabilities(model, tokenizer, review)
    return max(LABELS, key=probs.__getitem__)


def _token_spans(tokenizer, prompt: str, ids: Sequence[int]) -> list[tuple[int, int]]:
    """Each token's character span in ``prompt``."""
    try:
        encoded = tokenizer(prompt, add_special_tokens=False, return_offsets_mapping=True)
        return [tuple(span) for span in encoded["offset_mapping"]]
    except (NotImplementedError, TypeError, KeyError):  # a slow tokenizer: decode prefixes
        ends = [len(tokenizer.decode(ids[:i + 1])) for i in range(len(ids))]
        return list(zip([0, *ends[:-1]], ends, strict=True))


def attribute_answer(model, tokenizer, review: str, *, label: str | None = None,
                     method: str = "integrated_gradients",
                     n_steps: int = 16) -> list[tuple[str, float]]:
    """A signed attribution of the model's answer to the classification turn, per review word.

    The attributed quantity is the contrast logit(``label``'s first token) − logit(the other
    label's first token) where the reply starts, as Inseq's ``contrast_logits_diff`` in
    lesson 02. The default method is Captum's ``IntegratedGradients`` over the input
    embeddings, ``n_steps`` gradient passes (about 25 s for Qwen3-0.6B on a two-core CPU,
    well under a second for its twin), from a baseline where each of the review's tokens is
    the pad token (``<|endoftext|>`` for Qwen3; the eos token if there is no pad token) and
    the rest of the prompt is kept: the review's scores add up to how much the review, rather
    than filler, moves the contrast. (From all-zero embeddings instead, the integral needs
    many more steps: RMSNorm switches a token on only very near zero.)
    ``"input_x_gradient"`` (Captum's ``InputXGradient``, one pass) is faster but nearly
    blind on Qwen3: RMSNorm makes each layer see a token's embedding regardless of its
    length, so input × gradient is close to 0. A token's score is the sum over its
    embedding of (input − baseline) × gradient; a word's score is the sum of its tokens'.
    Only the review's words are scored, not the template or the question. The gradient
    passes go through the model as many at a time as fit in
    ``explainlab.explain.ACTIVATION_BUDGET`` of activations.

    Args:
        label: the answer to attribute, "Positive" or "Negative"; by default the model's own
            answer (the label whose first token it finds more probable, its greedy answer).
        method: "input_x_gradient" or "integrated_gradients".
        n_steps: integration steps of "integrated_gradients".

    Returns:
        ``(word, score)`` for each word of the review, in order (a repeated word each time).
        The sign is towards "Positive" whichever label is attributed: a positive score
        pushes the answer towards "Positive", a negative one towards "Negative", so the
        scores compare with the self-report's -1 to 1.

    Introduced in lesson 05_homework.
    """
    from captum.attr import InputXGradient, IntegratedGradients

    from ..explain._attribution import rows_that_fit

    review = _review(review)
    if method not in METHODS:
        raise ValueError(f"Unknown method {method!r}: use one of {', '.join(METHODS)}.")
    label = _model_answer(model, tokenizer, review) if label is None else _label(label)
    other = next(name for name in LABELS if name != label)
    label_ids = _label_ids(tokenizer)
    target, contrast = label_ids[label], label_ids[other]
    towards_positive = 1.0 if label == "Positive" else -1.0

    prompt = chat_prompt(tokenizer, classify_question(review))
    inputs = _inputs(model, tokenizer, prompt)
    ids = inputs["input_ids"]
    spans = _token_spans(tokenizer, prompt, ids[0].tolist())
    start = prompt.find(f"Movie review: {review}") + len("Movie review: ")
    words = [(m.group(), start + m.start(), start + m.end()) for m in _WORD.finditer(review)]
    in_review = torch.tensor([s < start + len(review) and e > start for s, e in spans],
                             device=ids.device)

    def contrast_logits(embeds: torch.Tensor) -> torch.Tensor:
        mask = inputs["attention_mask"].expand(embeds.shape[0], -1)
        logits = model(inputs_embeds=embeds, attention_mask=mask, logits_to_keep=1).logits
        return (logits[:, -1, target] - logits[:, -1, contrast]).float()

    with _evaluating(model):
        embeds = model.get_input_embeddings()(ids).detach()
        if method == "input_x_gradient":
            attributions = InputXGradient(contrast_logits).attribute(embeds.requires_grad_())
        else:
            filler = model.get_input_embeddings()(torch.full_like(ids, _filler_id(tokenizer)))
            baseline = torch.where(in_review[None, :, None], filler.detach(), embeds)
            attributions = IntegratedGradients(contrast_logits).attribute(
                embeds.requires_grad_(), baselines=baseline, n_steps=n_steps,
                internal_batch_size=min(n_steps, rows_that_fit(model, ids.shape[1])))
    scores = (attributions[0].float().sum(-1) * towards_positive).tolist()

    totals = [0.0] * len(words)
    for (begin, end), score in zip(spans, scores, strict=True):
        hit = next((i for i, (_, w_begin, w_end) in enumerate(words)
                    if begin < w_end and end > w_begin), None)
        if hit is not None:
            totals[hit] += score
    return [(word, total) for (word, _, _), total in zip(words, totals, strict=True)]


def _filler_id(tokenizer) -> int:
    """The token that stands in for the review's tokens in the baseline."""
    for token_id in (tokenizer.pad_token_id, tokenizer.eos_token_id):
        if token_id is not None:
            return token_id
    raise ValueError(f"{type(tokenizer).__name__} has neither a pad nor an eos token to stand "
                     "in for the review's tokens; use method='input_x_gradient'.")


def rank_towards(pairs: Iterable[tuple[str, float | None]], label: str) -> list[str]:
    """Words ordered by how much they support ``label``, the most supporting first.

    Scores are towards "Positive" (a self-report's -1 to 1, ``attribute_answer``'s sign):
    for "Negative" the most negative score comes first. Pairs without a score are left out;
    a repeated word (case-insensitive) is ranked once, by its most supporting score.

    Introduced in lesson 05_homework.
    """
    sign = 1.0 if _label(label) == "Positive" else -1.0
    best: dict[str, float] = {}
    shown: dict[str, str] = {}
    for word, score in pairs:
        if score is None or math.isnan(float(score)):
            continue
        key = str(word).casefold()
        shown.setdefault(key, str(word))
        best[key] = max(best.get(key, -math.inf), sign * float(score))
    return [shown[key] for key in sorted(best, key=lambda key: -best[key])]  # ties: in order


def top_k_overlap(first: list[str], second: list[str], k: int) -> int:
    """How many words the top ``k`` of two rankings share (case-insensitive).

    Introduced in lesson 05_homework.
    """
    if k < 0:
        raise ValueError(f"k must be 0 or more, not {k}.")
    return len({w.casefold() for w in first[:k]} & {w.casefold() for w in second[:k]})


def delete_words(review: str, words: Iterable[str] | str) -> str:
    """``review`` without ``words``: every occurrence of each, whole words, any case.

    What the deleted words leave is tidied: runs of spaces become one, no space is left
    before punctuation, and a comma or semicolon left before other punctuation goes. So
    "the ending was a total mess." without "total" and "mess" is "the ending was a.". Words
    that are not in the review are ignored; a word may be a phrase ("total mess").

    Raises:
        ValueError: nothing of the review would be left.

    Introduced in lesson 05_homework.
    """
    review = _review(review)
    words = [words] if isinstance(words, str) else list(words)
    text = review
    for word in words:
        parts = str(word).split()
        if parts:
            pattern = r"\s+".join(map(re.escape, parts))
            text = re.sub(rf"(?<!\w){pattern}(?!\w)", " ", text, flags=re.IGNORECASE)
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    text = re.sub(r"[,;:](?=[,.;:!?])", "", text)
    text = re.sub(r"^[\s,.;:!?]+", "", text).strip()
    if not _WORD.search(text):
        raise ValueError(f"Deleting {words} leaves nothing of the review {review!r}: delete "
                         "fewer words.")
    return text


def deletion_drop(model, tokenizer, review: str, words: Iterable[str] | str, *,
                  label: str) -> float:
    """How much P(``label``) falls when ``words`` are deleted from the review.

    P(label | review) − P(label | ``delete_words(review, words)``), each the probability of
    the label's first token where the classification reply starts
    (``label_probabilities``). Positive: the deleted words supported the label.

    Introduced in lesson 05_homework.
    """
    label = _label(label)
    shorter = delete_words(review, words)
    before = label_probabilities(model, tokenizer, review)[label]
    return before - label_probabilities(model, tokenizer, shorter)[label]


EXAMPLE_REPLY = """```python
[("acting", 0.2), ("wonderful", 0.9), ("but", -0.3), ("plot", -0.1),
 ("boring", -0.8), ("ending", -0.2), ("total", -0.4), ("mess", -0.9)]
```"""
"""A written self-report of ``REVIEW``, used when a model's reply holds none."""


def self_report(model, tokenizer, review: str, *,
                max_new_tokens: int = 120) -> tuple[str, list[tuple[str, float]], str]:
    """Ask the self-report turn and read its ``(word, importance)`` pairs.

    Pairs without a number, or about words that are not in ``review``, are left out. When
    none is left (a reply in another format, or a model that cannot do it), the pairs of
    ``EXAMPLE_REPLY`` stand in, so that the comparison still runs, and the third value says
    so.

    Returns:
        (the reply, the pairs, ``"model output"`` or ``"example"``).

    Introduced in lesson 05_homework.
    """
    from .word_scores import parse_word_scores

    words = {w.casefold() for w in _WORD.findall(_review(review))}
    reply = ask(model, tokenizer, importance_question(review), max_new_tokens=max_new_tokens)
    pairs = [(w, s) for w, s in parse_word_scores(reply)
             if s is not None and w.casefold() in words]
    if pairs:
        return reply, pairs, "model output"
    example = [(w, s) for w, s in parse_word_scores(EXAMPLE_REPLY) if w.casefold() in words]
    return EXAMPLE_REPLY, example, "example"
