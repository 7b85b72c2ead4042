"""explainlab.homework.self_explanation (lesson 05_homework, HW7 task 2): the helpers without
a model, the protocol on the ``lm`` twin, and a random-weight Qwen3 with the real chat
template (its empty <think> section)."""

from __future__ import annotations

import json
import math
import re
import warnings
from types import SimpleNamespace

import pytest

from explainlab.homework import self_explanation as se
from explainlab.homework.word_scores import parse_word_scores

from conftest import ROOT, twin

REVIEW_WORDS = re.findall(r"\w+", se.REVIEW)
MIRROR = "The acting was boring, but the plot was wonderful and the ending was a real joy."

# --------------------------------------------------------------------------- without a model


def test_questions():
    assert se.classify_question(se.REVIEW) == (
        f"Movie review: {se.REVIEW}\n\nIs this review positive or negative? Answer with one word.")
    assert se.importance_question(" " + se.REVIEW + "\n") == (
        f"Movie review: {se.REVIEW}\n\nFor each word of the review that matters for its "
        "sentiment, give a (word, importance) tuple, where importance is a number from -1 "
        "(strongly negative) to 1 (strongly positive). Answer only with a Python list of tuples.")
    for empty in ("", "   ", " ... ", None):
        with pytest.raises(ValueError, match="has no words"):
            se.classify_question(empty)
        with pytest.raises(ValueError, match="has no words"):
            se.importance_question(empty)


@pytest.mark.parametrize(("reply", "label"), [
    ("Negative.", "Negative"), ("Positive", "Positive"), ("  negative", "Negative"),
    ("**Negative**", "Negative"), ("**POSITIVE**.", "Positive"), ('"Positive"', "Positive"),
    ("\n\nNegative.\nThe plot ...", "Negative"), ("<think>\n\n</think>\n\nPositive", "Positive"),
    ("`negative`", "Negative"), ("Neutral.", None), ("Negatively biased", None), ("", None),
    ("The review is negative.", None), ("Pos", None),
])
def test_answer_label(reply, label):
    assert se.answer_label(reply) == label


def test_rank_towards():
    pairs = [("wonderful", 0.9), ("boring", -0.8), ("total", -0.4), ("mess", -0.9),
             ("but", None), ("plot", math.nan), ("Mess", -0.2), ("the", 0.0)]
    assert se.rank_towards(pairs, "Negative") == ["mess", "boring", "total", "the", "wonderful"]
    # A repeated word counts once, by its most supporting score ("Mess", -0.2).
    assert se.rank_towards(pairs, "positive") == ["wonderful", "the", "mess", "total", "boring"]
    assert se.rank_towards([("a", 0.5), ("b", 0.5), ("c", 0.7)], "Positive") == ["c", "a", "b"]
    assert se.rank_towards([], "Negative") == []
    with pytest.raises(ValueError, match="Unknown label 'neutral'"):
        se.rank_towards(pairs, "neutral")


def test_top_k_overlap():
    first, second = ["mess", "boring", "total", "the"], ["Boring", "the", "mess", "wonderful"]
    assert se.top_k_overlap(first, second, 3) == 2
    assert se.top_k_overlap(first, second, 1) == 0
    assert se.top_k_overlap(first, second, 10) == 3
    assert se.top_k_overlap(first, [], 3) == se.top_k_overlap(first, second, 0) == 0
    with pytest.raises(ValueError, match="k must be 0 or more"):
        se.top_k_overlap(first, second, -1)


@pytest.mark.parametrize(("words", "expected"), [
    (["total", "mess"], "The acting was wonderful, but the plot was boring and the ending was a."),
    (["WONDERFUL"], "The acting was, but the plot was boring and the ending was a total mess."),
    (["the"], "acting was wonderful, but plot was boring and ending was a total mess."),
    ("boring", "The acting was wonderful, but the plot was and the ending was a total mess."),
    (["total mess", "but"], "The acting was wonderful, the plot was boring and the ending was a."),
    (["tot", "awful", ""], se.REVIEW),  # whole words only; absent words are ignored
    (iter(["mess"]), "The acting was wonderful, but the plot was boring and the ending was a "
                     "total."),
])
def test_delete_words(words, expected):
    assert se.delete_words(se.REVIEW, words) == expected


def test_delete_words_tidies_punctuation_and_never_returns_nothing():
    assert se.delete_words("Great, wonderful, fun music!", ["wonderful"]) == "Great, fun music!"
    assert se.delete_words("Wonderful acting. Boring plot.", ["wonderful", "acting"]) == (
        "Boring plot.")
    assert se.delete_words("Awful; dull.", ["dull"]) == "Awful."
    with pytest.raises(ValueError, match="leaves nothing of the review"):
        se.delete_words("A total mess.", ["a", "total", "mess"])
    with pytest.raises(ValueError, match="has no words"):
        se.delete_words("", ["mess"])


def test_errors_before_any_model_is_used():
    with pytest.raises(ValueError, match="has no chat template"):
        se.chat_prompt(SimpleNamespace(chat_template=None), "Hi")
    with pytest.raises(ValueError, match=r"Unknown label 'good': use one of Positive, Negative"):
        se.deletion_drop(None, None, se.REVIEW, ["mess"], label="good")
    with pytest.raises(ValueError, match="has no words"):
        se.attribute_answer(None, None, "  ")
    with pytest.raises(ValueError, match="Unknown method 'lime'"):
        se.attribute_answer(None, None, se.REVIEW, label="Negative", method="lime")


def test_docstrings_name_the_lesson():
    names = ["classify_question", "importance_question", "chat_prompt", "ask", "answer_label",
             "label_probabilities", "attribute_answer", "rank_towards", "top_k_overlap",
             "delete_words", "deletion_drop"]
    for name in names:
        assert "Introduced in lesson 05_homework" in getattr(se, name).__doc__, name
    assert "Introduced in lesson 05_homework" in se.__doc__


# --------------------------------------------------------------------------- on the lm twin


def _load(folder):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return (AutoModelForCausalLM.from_pretrained(folder).eval(),
            AutoTokenizer.from_pretrained(folder))


@pytest.fixture(scope="module")
def lm():
    return _load(twin("lm"))


@pytest.mark.slow
def test_the_twin_classifies_the_lesson_review_and_its_mirror(lm):
    model, tokenizer = lm
    reply = se.ask(model, tokenizer, se.classify_question(se.REVIEW))
    assert reply == "Negative." and se.answer_label(reply) == "Negative"
    probs = se.label_probabilities(model, tokenizer, se.REVIEW)
    assert set(probs) == set(se.LABELS) and probs["Negative"] >= 0.9
    assert se.answer_label(se.ask(model, tokenizer, se.classify_question(MIRROR))) == "Positive"
    assert se.label_probabilities(model, tokenizer, MIRROR)["Positive"] > 0.5


@pytest.mark.slow
def test_the_twin_reports_review_words_with_lexicon_signs(lm):
    model, tokenizer = lm
    reply = se.ask(model, tokenizer, se.importance_question(se.REVIEW))
    pairs = parse_word_scores(reply)
    assert reply.startswith("[(") and len(pairs) >= 3
    signs = {"wonderful": 1, "boring": -1, "total": -1, "mess": -1}
    assert all(word in signs and score * signs[word] > 0 for word, score in pairs)
    assert se.self_report(model, tokenizer, se.REVIEW) == (reply, pairs, "model output")


@pytest.mark.slow
def test_attribute_answer_scores_the_review_words_towards_positive(lm):
    model, tokenizer = lm
    scores = se.attribute_answer(model, tokenizer, se.REVIEW)
    assert [word for word, _ in scores] == REVIEW_WORDS
    assert all(isinstance(s, float) and math.isfinite(s) for _, s in scores)
    by_word = dict(scores)
    assert by_word["wonderful"] > 0 > by_word["boring"]
    top3 = sorted(scores, key=lambda pair: -abs(pair[1]))[:3]
    assert sum(word in ("wonderful", "boring", "total", "mess") for word, _ in top3) >= 2
    # The sign is towards "Positive" whichever label is attributed.
    positive = se.attribute_answer(model, tokenizer, se.REVIEW, label="positive")
    assert [w for w, _ in positive] == REVIEW_WORDS
    assert all(abs(a - b) <= 1e-4 * (1 + abs(a)) for (_, a), (_, b) in zip(scores, positive,
                                                                          strict=True))
    # Input x gradient runs too (one pass), on the same words.
    quick = se.attribute_answer(model, tokenizer, se.REVIEW, method="input_x_gradient")
    assert [w for w, _ in quick] == REVIEW_WORDS


@pytest.mark.slow
def test_deleting_the_top_attributed_words_lowers_the_answer(lm):
    model, tokenizer = lm
    scores = se.attribute_answer(model, tokenizer, se.REVIEW)
    top = se.rank_towards(scores, "Negative")[:3]
    drop = se.deletion_drop(model, tokenizer, se.REVIEW, top, label="Negative")
    assert drop >= 0.3
    assert drop == pytest.approx(
        se.label_probabilities(model, tokenizer, se.REVIEW)["Negative"]
        - se.label_probabilities(model, tokenizer, se.delete_words(se.REVIEW, top))["Negative"])
    assert se.deletion_drop(model, tokenizer, se.REVIEW, [], label="Negative") == 0.0


@pytest.mark.slow
def test_the_model_is_left_as_it_was(lm):
    model, tokenizer = lm
    model.train()
    try:
        se.attribute_answer(model, tokenizer, se.REVIEW)
        se.label_probabilities(model, tokenizer, se.REVIEW)
        se.ask(model, tokenizer, se.classify_question(se.REVIEW), max_new_tokens=3)
        assert model.training
        assert all(p.grad is None for p in model.parameters())
        assert model.generation_config.max_new_tokens == 20  # the twin's own config
    finally:
        model.eval()


# --------------------------------------------------------------------------- real template


@pytest.fixture(scope="module")
def qwen3_template():
    """A tiny random-weight Qwen3 with the twin's tokenizer and the real Qwen3 chat template."""
    import torch
    from transformers import AutoTokenizer, Qwen3Config, Qwen3ForCausalLM

    row = json.loads((ROOT / "tools/src/explainlab_course/scale/models.json").read_text(
        encoding="utf-8"))["roles"]["lm"]
    tokenizer = AutoTokenizer.from_pretrained(twin("lm"))
    tokenizer.chat_template = row["tokenizer"]["chat_template"]
    torch.manual_seed(0)
    config = Qwen3Config(vocab_size=-(-len(tokenizer) // 64) * 64, hidden_size=32,
                         intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                         num_key_value_heads=2, head_dim=16, tie_word_embeddings=True,
                         eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id)
    model = Qwen3ForCausalLM(config).eval()
    model.generation_config.update(**row["generation_config"] | {
        "eos_token_id": tokenizer.eos_token_id, "pad_token_id": tokenizer.pad_token_id,
        "bos_token_id": tokenizer.pad_token_id})
    return model, tokenizer


@pytest.mark.slow
def test_random_qwen3_with_the_real_template(qwen3_template):
    model, tokenizer = qwen3_template
    assert model.generation_config.do_sample is True  # as Qwen3's: ask() is greedy anyway
    prompt = se.chat_prompt(tokenizer, se.classify_question(se.REVIEW))
    assert "<think>\n\n</think>" in prompt
    assert prompt.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        replies = [se.ask(model, tokenizer, se.classify_question(se.REVIEW), max_new_tokens=6)
                   for _ in range(2)]
    assert isinstance(replies[0], str) and replies[0] == replies[1]  # greedy
    assert se.answer_label(replies[0]) in (None, *se.LABELS)
    probs = se.label_probabilities(model, tokenizer, se.REVIEW)
    assert set(probs) == set(se.LABELS) and all(0 <= p <= 1 for p in probs.values())
    for method in se.METHODS:
        scores = se.attribute_answer(model, tokenizer, se.REVIEW, method=method)
        assert [w for w, _ in scores] == REVIEW_WORDS
        assert all(math.isfinite(s) for _, s in scores)
    drop = se.deletion_drop(model, tokenizer, se.REVIEW, ["wonderful"], label="Positive")
    assert isinstance(drop, float) and -1 <= drop <= 1
    reply, pairs, source = se.self_report(model, tokenizer, se.REVIEW, max_new_tokens=8)
    assert source in ("model output", "example") and pairs  # random weights: the example
    assert all(word.casefold() in map(str.casefold, REVIEW_WORDS) for word, _ in pairs)


@pytest.mark.gpu
def test_on_a_cuda_model(lm):
    """The model stays on its device; the numbers match the CPU's."""
    import torch

    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU")
    model, tokenizer = lm
    cpu_scores = se.attribute_answer(model, tokenizer, se.REVIEW)
    cpu_probs = se.label_probabilities(model, tokenizer, se.REVIEW)
    gpu = _load(twin("lm"))[0].to("cuda")
    assert se.ask(gpu, tokenizer, se.classify_question(se.REVIEW)) == "Negative."
    probs = se.label_probabilities(gpu, tokenizer, se.REVIEW)
    assert probs["Negative"] == pytest.approx(cpu_probs["Negative"], abs=1e-3)
    scores = se.attribute_answer(gpu, tokenizer, se.REVIEW)
    assert [w for w, _ in scores] == REVIEW_WORDS
    assert all(abs(a - b) <= 0.05 * (1 + abs(a))
               for (_, a), (_, b) in zip(cpu_scores, scores, strict=True))
    assert se.deletion_drop(gpu, tokenizer, se.REVIEW, ["boring", "total", "mess"],
                            label="Negative") > 0
    assert next(gpu.parameters()).device.type == "cuda"


@pytest.mark.slow
def test_attribute_answer_keeps_its_activations_within_the_budget(lm, monkeypatch):
    """With a budget of two rows, no forward pass takes more than two, and the scores are
    those of one pass with every step."""
    from explainlab.explain import _attribution

    model, tokenizer = lm
    whole = se.attribute_answer(model, tokenizer, se.REVIEW)
    tokens = len(tokenizer(se.chat_prompt(tokenizer, se.classify_question(se.REVIEW)),
                           add_special_tokens=False)["input_ids"])
    one_row = _attribution.ACTIVATION_BUDGET // _attribution.rows_that_fit(model, tokens)
    monkeypatch.setattr(_attribution, "ACTIVATION_BUDGET", 2 * one_row + 1)
    rows = []
    handle = model.register_forward_pre_hook(
        lambda _m, args, kwargs: rows.append(kwargs["inputs_embeds"].shape[0])
        if "inputs_embeds" in kwargs else None, with_kwargs=True)
    try:
        bounded = se.attribute_answer(model, tokenizer, se.REVIEW)
    finally:
        handle.remove()
    assert rows and max(rows) == 2
    assert [w for w, _ in bounded] == [w for w, _ in whole]
    assert all(abs(a - b) <= 1e-5 * (1 + abs(a))
               for (_, a), (_, b) in zip(whole, bounded, strict=True))
