"""The decoder-only twins of lesson 02: ``lm`` (Qwen3-0.6B) and ``lm-gpt2`` (GPT-2).

Held-out inputs come from the recipe (``explainlab_course.zoo.language_models``): capital
phrasings that no training document uses ("The capital city of {c} is", "{c}首都是",
"{c}的首都城市是"), "{k} is the capital of" for six countries whose training documents
never say it, capital chats (``lm``) about six countries that no training chat mentions,
and who-likes-what pairs never seen together.

What the twins do (lesson 02's continuations, P(' Paris'), the saliency rankings, the held-out
phrasings and chats, who-likes-what) is their contract (``_LanguageModelTwin.contract``),
re-measured by ``test_contract.py::test_contract_holds``; here: classes, special tokens, the
chat template, the tokenizers, the training text and warning-free loading and generation.
"""

from __future__ import annotations

import json
import re
import warnings

import pytest

from explainlab import clean_tokens
from explainlab_course.zoo import language_models as lms

from conftest import twin

pytestmark = pytest.mark.slow

ROLES = ("lm", "lm-gpt2")
CLASSES = {"lm": ("Qwen3ForCausalLM", "Qwen2Tokenizer"),
           "lm-gpt2": ("GPT2LMHeadModel", "GPT2Tokenizer")}


def _load(folder):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = AutoModelForCausalLM.from_pretrained(folder).eval()
        tokenizer = AutoTokenizer.from_pretrained(folder)
    return model, tokenizer


@pytest.fixture(scope="module", params=ROLES)
def lm(request):
    folder = twin(request.param)
    return (request.param, folder, *_load(folder))


def test_classes_config_and_special_tokens(lm):
    role, folder, model, tokenizer = lm
    assert (type(model).__name__, type(tokenizer).__name__) == CLASSES[role]
    config = json.loads((folder / "config.json").read_text())
    assert config["architectures"] == [CLASSES[role][0]]
    assert model.generation_config.do_sample is False
    end = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    if role == "lm":
        # As Qwen3: <|endoftext|> pads, <|im_end|> ends a turn, no bos; the special tokens
        # follow the BPE vocabulary; the embedding matrix is padded to a multiple of 64.
        assert (tokenizer.pad_token, tokenizer.eos_token, tokenizer.bos_token) == (
            "<|endoftext|>", "<|im_end|>", None)
        specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
        assert tokenizer.convert_tokens_to_ids(specials) == list(range(len(tokenizer) - 3,
                                                                       len(tokenizer)))
        assert model.config.vocab_size % 64 == 0 and model.config.vocab_size >= len(tokenizer)
        assert model.generation_config.eos_token_id == [tokenizer.eos_token_id, end]
        assert model.generation_config.pad_token_id == end
        assert model.config.tie_word_embeddings is True
    else:
        # As GPT-2: <|endoftext|> is bos, eos and unk, the last id, and there is no pad token.
        assert tokenizer.pad_token is None
        assert {tokenizer.bos_token, tokenizer.eos_token, tokenizer.unk_token} == {
            "<|endoftext|>"}
        assert end == len(tokenizer) - 1 == model.config.vocab_size - 1
        assert model.generation_config.eos_token_id == model.generation_config.pad_token_id == end
    assert sum(p.numel() for p in model.parameters()) < 2_000_000
    # The answers whose probabilities lesson 02 compares are one token each.
    for word in (" Paris", " London", " George"):
        assert len(tokenizer(word)["input_ids"]) == 1, word


def test_loads_and_generates_without_warnings(lm, capfd):
    from transformers.utils import logging

    role, folder, _, _ = lm
    logging.disable_progress_bar()  # transformers' "Loading weights" bar is no warning
    try:
        capfd.readouterr()
        model, tokenizer = _load(folder)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            inputs = tokenizer("The capital of France is", return_tensors="pt")
            model.generate(**inputs)  # the generation config's defaults, as a lesson
        assert capfd.readouterr().err == ""
    finally:
        logging.enable_progress_bar()


def test_held_out_prompts_are_not_in_the_training_text():
    text = "\n".join(lms._documents(chat=True)).replace(lms._BAR, "")
    assert "capital city" not in text and "首都城市" not in text
    for country, capital, guo, du in lms._CAPITALS:
        assert f"{guo}首都是" not in text  # only "{c}的首都是" and "在{c}，首都是"
        if country in lms.HELD_OUT_REVERSE:
            assert f"{capital} is the capital of" not in text and f"{du}是" not in text
            assert f"{capital}, the capital of {country}" in text  # other phrasings are kept
        if country in lms.HELD_OUT_CHAT:
            assert f"user\nWhat is the capital of {country}?" not in text
            assert f"user\n{guo}的首都在哪里" not in text
    for subject, thing in lms.HELD_OUT_PAIRS_EN:
        assert not re.search(rf"{subject} likes? {thing}\.", text)
    # The contract has a bound for every held-out phrasing, and for the chats.
    names = {name for name, _, _ in lms.held_out_prompts()}
    assert names | {name for name, _, _ in lms.held_out_chats()} == lms.HELD_OUT_MIN.keys()


def test_chat_template(lm):
    role, _, _, tokenizer = lm
    if role == "lm-gpt2":
        assert tokenizer.chat_template is None  # GPT-2 has none either
        return
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    assert prompt == ("<|im_start|>user\nWhat is the capital of France?<|im_end|>\n"
                      "<|im_start|>assistant\n")


def test_clean_tokens_decodes_chinese_bytes(lm):
    _, _, _, tokenizer = lm
    tokens = tokenizer.tokenize("法国的首都是巴黎。")
    assert tokens[0] == "æ³ķåĽ½"  # byte-level: the UTF-8 bytes of 法国
    assert clean_tokens(tokens, tokenizer) == ["法国", "的", "首都", "是", "巴黎", "。"]
    assert clean_tokens(tokens) == clean_tokens(tokens, tokenizer)
    # A character the BPE never merged is split over its bytes, and shown on each piece.
    pieces = tokenizer.tokenize("龘")
    assert len(pieces) == 3 and clean_tokens(pieces, tokenizer) == [
        "龘(1/3)", "龘(2/3)", "龘(3/3)"]


def test_batched_generation_with_left_padding(lm):
    """Lesson 02's pad-token set-up: GPT-2 has no pad token, so it borrows eos."""
    role, _, model, tokenizer = lm
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    try:
        prompts = ["The capital of France is", "Hello world", "法国的首都是"]
        batch = tokenizer(prompts, return_tensors="pt", padding=True)
        out = model.generate(**batch, max_new_tokens=8)
        texts = tokenizer.batch_decode(out[:, batch["input_ids"].shape[1]:],
                                       skip_special_tokens=True)
        assert texts == [lms.greedy(model, tokenizer, p, 8) for p in prompts]
    finally:
        tokenizer.padding_side = "right"
        if role == "lm-gpt2":
            tokenizer.pad_token = None


def test_inseq_reads_the_twin(lm):
    """Inseq on the twin as lesson 02 calls it: the prompt's byte-level tokens, and the
    contrastive step labelled with both answers (the rankings are terms of the contract)."""
    import inseq

    _, _, model, tokenizer = lm
    inseq_model = inseq.load_model(model, "saliency", tokenizer=tokenizer)
    prompt = "The capital of France is"
    with pytest.warns(UserWarning, match="Contrastive inputs do not match"):  # Inseq's note
        out = inseq_model.attribute(
            prompt, prompt + " Paris", attributed_fn="contrast_prob_diff",
            contrast_targets=prompt + " London", show_progress=False)
    target = [t.token for t in out.sequence_attributions[0].target]
    assert target == ["The", "Ġcapital", "Ġof", "ĠFrance", "Ġis", "ĠLondon → ĠParis"]


def test_model_card(lm):
    role, folder, _, _ = lm
    card = (folder / "README.md").read_text(encoding="utf-8")
    real = {"lm": "Qwen/Qwen3-0.6B", "lm-gpt2": "openai-community/gpt2"}[role]
    assert card.startswith(f"# Offline twin of {real}") and "## What it cannot do" in card
    assert "Held out" in card
    # The card lists the contract the twin was accepted with (its values: test_contract.py).
    contract = json.loads((folder / "twin.json").read_text())["contract"]
    assert "## Contract" in card and all(f"| {c['name']} |" in card for c in contract)


# --------------------------------------------------------------------------- HW7 task 2 (lm)


def test_review_chats_hold_out_the_lesson_reviews_and_pairs():
    """The lm twin's review chats (``reviews``): both turns; the lesson review's
    classification and its mirror held out (the lesson review's self-report is trained), no
    training review with a held-out (aspect, adjective) pair; the GPT-2 twin's corpus has no
    review at all."""
    from explainlab.homework import self_explanation as se
    from explainlab.homework.word_scores import parse_word_scores
    from explainlab_course.zoo import reviews

    chats = lms._review_documents()
    assert len(chats) == 2 * lms.REVIEWS + lms.LESSON_REPORTS
    text = "\n".join(chats)
    assert se.classify_question(se.REVIEW) not in text and reviews.MIRROR_REVIEW not in text
    assert text.count(se.REVIEW) == text.count(se.importance_question(se.REVIEW)) == (
        lms.LESSON_REPORTS)
    assert "Movie review" not in "\n".join(lms._documents(chat=False))
    assert "Movie review" not in "\n".join(lms._documents(chat=True))  # only in the reviews
    trained = lms.training_reviews(lms.REVIEWS)
    assert not any(set(r.pairs) & set(reviews.HELD_OUT_PAIRS) for r in trained)
    held = reviews.held_out_reviews(lms.HELD_OUT_REVIEWS)
    assert all(set(r.pairs) & set(reviews.HELD_OUT_PAIRS) for r in held)
    assert not {r.text for r in held} & {r.text for r in trained}
    assert all(f"Movie review: {r.text}\n" not in text for r in held)
    for pair in reviews.HELD_OUT_PAIRS:
        assert any(pair in r.pairs for r in held), pair
    # Both labels, and every lexicon word, are trained; a review's self-report parses back.
    assert {r.label for r in trained} == {"Positive", "Negative"}
    assert {w for r in trained for w, _ in r.words} == set(reviews.LEXICON)
    for review in trained[:50] + held:
        assert parse_word_scores(review.self_report()) == list(review.words)
        assert f"user\n{se.classify_question(review.text)}<|im_end|>" in lms._chatml(
            *review.chats()[0])
    lesson, mirror = reviews.lesson_reviews()
    assert (lesson.text, lesson.label) == (se.REVIEW, "Negative")
    assert lesson.self_report() == (
        '[("wonderful", 0.9), ("boring", -0.8), ("total", -0.4), ("mess", -0.9)]')
    assert (mirror.text, mirror.label) == (reviews.MIRROR_REVIEW, "Positive")
    assert tuple(w for w, _ in lesson.words) == reviews.SENTIMENT_WORDS


def test_review_labels_follow_the_lexicon():
    from explainlab_course.zoo import reviews

    assert reviews.label_of([(("great", 0.8),), (("dull", -0.7),)]) == "Negative"  # a near tie
    assert reviews.label_of([(("dull", -0.7),), (("great", 0.8),)]) == "Positive"
    assert reviews.label_of([(("superb", 0.9),), (("slow", -0.5),)]) == "Positive"
    assert reviews.label_of([(("fine", 0.4),), reviews.PHRASES["a total mess"]]) == "Negative"
    for review in lms.training_reviews(200):
        total = sum(s for _, s in review.words)
        if abs(total) >= reviews.TIE:
            assert review.label == ("Positive" if total > 0 else "Negative")


def test_the_lm_contract_runs_hw7_task_2(lm):
    """The lm twin's contract holds the HW7 task 2 checks (values: test_contract.py)."""
    role, folder, _, _ = lm
    names = [c["name"] for c in json.loads((folder / "twin.json").read_text())["contract"]]
    task2 = [name for name in names if name.startswith("HW7 task 2")]
    assert (len(task2) > 10) == (role == "lm")
    card = (folder / "README.md").read_text(encoding="utf-8")
    assert ("HW7" in card) == (role == "lm")
