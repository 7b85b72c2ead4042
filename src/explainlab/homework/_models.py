"""The models behind the homework's questions: the tables and scores a question is judged on.

Everything here runs the same calls a learner writes in lesson 05_homework (Inseq on the
translator and the sentence-completion model, BertViz's attention, the classification
explainer), on the model that the active profile gives for each role, once per process.
"""

from __future__ import annotations

import gc
import importlib.util
from functools import cache
from typing import Any

from .answers import normalize_token

# The homework's inputs (lesson 05_homework shows the simplified sentence; HW7 asked about the
# traditional one, and about GPT-2 XL).
MT_SIMPLIFIED = "我喜欢机器学习和人工智能。"
MT_TRADITIONAL = "我喜歡機器學習和人工智慧。"
LM_PROMPT = "The first president of America is"
LM_CONTINUATION = " George Washington"
SST2_TEXT = "I love you, I like you"
BERTVIZ_TEXT = "The cat sat on the mat"
# Task 3 (lesson 06's tests): a review for the deletion test, two prompts for patching.
FAITHFULNESS_TEXT = "This movie was a complete waste of time."
PATCH_CLEAN, PATCH_CORRUPTED = "The capital of Germany is", "The capital of Japan is"
PATCH_ANSWERS = (" Berlin", " Tokyo")


def _device() -> str:
    from ..notebook import pick_device

    return pick_device()


def free_memory() -> None:
    """Collect garbage and empty CUDA's cache (after a model is deleted)."""
    gc.collect()
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def completion_model(*, device: str | None = None) -> tuple[Any, Any, str]:
    """HW7's sentence-completion model: GPT-2 XL in 8 bits where it can be, else GPT-2.

    GPT-2 XL (role ``lm-gpt2``, variant ``xl``) in 8 bits with bitsandbytes where there is a
    CUDA device and the package, as HW7 ran it; elsewhere the small GPT-2 in full precision
    (GPT-2 XL in 32-bit floats needs more memory than a free notebook has, once its
    gradients are counted). Eager attention, so that Inseq can read the attention weights.
    Offline, the twin stands in for both. Introduced in lesson 05_homework.

    Returns:
        (model, tokenizer, a line saying which model was loaded and how).
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from ..models import describe, resolve

    device = device or _device()
    variant = completion_variant(device)
    eight_bit = variant == "xl"
    path = resolve("lm-gpt2", variant=variant)
    options: dict[str, Any] = {"attn_implementation": "eager"}
    if eight_bit:
        from transformers import BitsAndBytesConfig

        options.update(quantization_config=BitsAndBytesConfig(load_in_8bit=True),
                       device_map={"": device})
    model = AutoModelForCausalLM.from_pretrained(path, **options)
    if not eight_bit:
        model = model.to(device)
    how = ("in 8 bits (bitsandbytes)" if eight_bit else
           "in full precision (GPT-2 XL in 8 bits needs a CUDA GPU and bitsandbytes)")
    return model.eval(), AutoTokenizer.from_pretrained(path), (
        f"{describe('lm-gpt2', variant=variant)}, {how}, on {device}")


def completion_variant(device: str) -> str | None:
    """``"xl"`` where ``completion_model`` loads GPT-2 XL in 8 bits on ``device``, else None."""
    return "xl" if device.startswith("cuda") and importlib.util.find_spec("bitsandbytes") else None


def scores_table(output) -> Any:
    """One Inseq output's scores as a DataFrame: a row per token, a column per generated one.

    Encoder-decoder: the rows are the source tokens. Decoder-only: the rows are every token
    of the sequence, and a token gets NaN in the columns generated before it. The scores are
    those ``show()`` draws (``aggregate()``). Introduced in lesson 05_homework.
    """
    import pandas as pd

    scores = output.sequence_attributions[0].aggregate()
    generated = [t.token for t in scores.target[scores.attr_pos_start:scores.attr_pos_end]]
    if scores.source_attributions is not None:
        rows, values = [t.token for t in scores.source], scores.source_attributions
    else:
        rows, values = [t.token for t in scores.target], scores.target_attributions
    return pd.DataFrame(values.float().cpu().numpy()[: len(rows), : len(generated)],
                        index=rows, columns=generated)


def _tables(model, tokenizer, *texts: str) -> dict[str, Any]:
    """Saliency (with the probability step score) and attention tables of one text."""
    import inseq

    from ..tokens import clean_attribution

    wrapped = inseq.load_model(model, "saliency", tokenizer=tokenizer)
    saliency = wrapped.attribute(*texts, step_scores=["probability"], show_progress=False)
    attention = wrapped.attribute(*texts, method="attention", show_progress=False)
    tables = {name: scores_table(clean_attribution(output, tokenizer))
              for name, output in (("saliency", saliency), ("attention", attention))}
    tables["probability"] = dict(zip(
        tables["saliency"].columns,
        saliency.sequence_attributions[0].step_scores["probability"].float().tolist(),
        strict=False))
    return tables


def translator_tables() -> dict[str, dict[str, Any]]:
    """Saliency and attention tables of both spellings of the sentence, keyed by spelling."""
    from ..models import resolve

    return _translator_tables(resolve("mt-zh-en"))


@cache
def _translator_tables(path: str) -> dict[str, dict[str, Any]]:
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    model = AutoModelForSeq2SeqLM.from_pretrained(path, attn_implementation="eager")
    model = model.to(_device()).eval()
    tokenizer = AutoTokenizer.from_pretrained(path)
    try:
        return {"traditional": _tables(model, tokenizer, MT_TRADITIONAL),
                "simplified": _tables(model, tokenizer, MT_SIMPLIFIED)}
    finally:
        del model
        free_memory()


def completion_tables() -> dict[str, Any]:
    """Saliency and attention tables of the prompt forced to go on with ``LM_CONTINUATION``,
    on the model ``completion_model`` loads here."""
    from ..models import resolve

    device = _device()
    return _completion_tables(resolve("lm-gpt2", variant=completion_variant(device)), device)


@cache
def _completion_tables(path: str, device: str) -> dict[str, Any]:
    model, tokenizer, _ = completion_model(device=device)
    try:
        return _tables(model, tokenizer, LM_PROMPT, LM_PROMPT + LM_CONTINUATION)
    finally:
        del model
        free_memory()


def bertviz_attention() -> tuple[tuple[str, ...], Any]:
    """(tokens, attention weights as a layers x heads x tokens x tokens array)."""
    from ..models import resolve

    return _bertviz_attention(resolve("bertviz"))


@cache
def _bertviz_attention(path: str) -> tuple[tuple[str, ...], Any]:
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path, attn_implementation="eager").to(_device()).eval()
    try:
        inputs = tokenizer(BERTVIZ_TEXT, return_tensors="pt").to(model.device)
        with torch.no_grad():
            attentions = model(**inputs, output_attentions=True).attentions
        tokens = tuple(tokenizer.convert_ids_to_tokens(inputs["input_ids"][0]))
        return tokens, torch.stack([a[0] for a in attentions]).float().cpu().numpy()
    finally:
        del model
        free_memory()


def sst2_attributions() -> dict[str, tuple[tuple[str, float], ...]]:
    """The explainer's word attributions of ``SST2_TEXT``, keyed by class name."""
    from ..models import resolve

    return _sst2_attributions(resolve("sst2"))


@cache
def _sst2_attributions(path: str) -> dict[str, tuple[tuple[str, float], ...]]:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from ..explain import SequenceClassificationExplainer

    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path).to(_device()).eval()
    try:
        explainer = SequenceClassificationExplainer(model, tokenizer)
        return {name: tuple((t, float(s)) for t, s in explainer(SST2_TEXT, class_name=name))
                for name in model.config.id2label.values()}
    finally:
        del model
        free_memory()


def column(table, name: str):
    """The column of the generated token ``name`` (compared as ``normalize_token`` does)."""
    wanted = normalize_token(name)
    for label in table.columns:
        if normalize_token(label) == wanted:
            return table[label]
    raise LookupError(f"The model did not generate {name!r}; it generated: "
                      f"{', '.join(map(str, table.columns))}.")


def column_index(table, name: str) -> int:
    return [normalize_token(c) for c in table.columns].index(normalize_token(name))


def row_index(table, name: str) -> int:
    return [normalize_token(r) for r in table.index].index(normalize_token(name))


def cell(table, row: str, name: str) -> float:
    """The score of the row token ``row`` in the column of the generated token ``name``."""
    return float(table.iat[row_index(table, row), column_index(table, name)])


def pairs(values) -> tuple[tuple[str, float], ...]:
    """(token, score) of a column, NaN cells (tokens not there yet) left out."""
    return tuple((str(t), float(v)) for t, v in values.items() if v == v)


def task2() -> dict[str, Any]:
    """Task 2 on the chat model (role ``lm``), as the lesson computes it: the self-report,
    the attribution of the model's own answer, and the deletion drops for k = 1..5."""
    from ..models import resolve

    device = _device()
    return _task2(resolve("lm"), device)


def _chat_model(path: str, device: str) -> tuple[Any, Any]:
    """The chat model (role ``lm``) and its tokenizer, loaded as the lesson loads them."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    dtype = "auto" if device.startswith("cuda") else torch.float32  # as Session.dtype
    model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, device_map={"": device})
    return model, AutoTokenizer.from_pretrained(path)


@cache
def _task2(path: str, device: str) -> dict[str, Any]:
    from . import self_explanation as explain_self
    from .self_explanation import REVIEW

    model, tokenizer = _chat_model(path, device)
    try:
        probabilities = explain_self.label_probabilities(model, tokenizer, REVIEW)
        label = max(probabilities, key=probabilities.get)
        _, claimed, _ = explain_self.self_report(model, tokenizer, REVIEW)
        measured = explain_self.attribute_answer(model, tokenizer, REVIEW)
        rankings = {"self-report": explain_self.rank_towards(claimed, label),
                    "attribution": explain_self.rank_towards(measured, label)}
        before = probabilities[label]
        drops = {(name, k): explain_self.deletion_drop(model, tokenizer, REVIEW, ranking[:k],
                                                       label=label)
                 for name, ranking in rankings.items() for k in (1, 2, 3)
                 if len(ranking) >= k}
        return {"label": label, "claimed": claimed, "measured": measured, "before": before,
                "drops": drops}
    finally:
        del model
        free_memory()


def task3() -> dict[str, Any]:
    """Task 3 as the lesson computes it: the faithfulness of the explainer's ranking of
    ``FAITHFULNESS_TEXT`` (signed and by absolute value) and of the example's, and the
    patching table from ``PATCH_CLEAN`` into ``PATCH_CORRUPTED``."""
    from ..models import resolve

    device = _device()
    return {**_faithfulness(resolve("sst2"), device), **_patching(resolve("lm"), device)}


@cache
def _faithfulness(path: str, device: str) -> dict[str, Any]:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from .. import evaluate
    from ..explain import SequenceClassificationExplainer

    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path).to(device).eval()
    try:
        explainer = SequenceClassificationExplainer(model, tokenizer)
        found = {}
        for name, text in (("text", FAITHFULNESS_TEXT), ("example", SST2_TEXT)):
            _, _, score = evaluate.classifier_scorer(model, tokenizer, text)
            scores = [s for _, s in explainer(text)[1:-1]]
            for signed in (True, False):
                curves = evaluate.perturbation_curves(
                    score, evaluate.ranking(scores, signed=signed))
                found[name, signed] = evaluate.faithfulness(curves)
        return {"faithfulness": found}
    finally:
        del model
        free_memory()


@cache
def _patching(path: str, device: str) -> dict[str, Any]:
    from .. import evaluate

    model, tokenizer = _chat_model(path, device)
    try:
        first, second = (tokenizer(w)["input_ids"][0] for w in PATCH_ANSWERS)
        return {"patching": evaluate.patch_residual(
            model, tokenizer, PATCH_CLEAN, PATCH_CORRUPTED,
            lambda logits: logits[:, first] - logits[:, second])}
    finally:
        del model
        free_memory()
