"""The decoder-only twins of lesson 02: ``lm`` (Qwen3-0.6B) and ``lm-gpt2`` (GPT-2).

Held-out inputs come from the recipe (``explainlab.zoo.language_models``): capital
phrasings that no training document uses ("The capital city of {c} is", "{c}首都是",
"{c}的首都城市是"), "{k} is the capital of" for six countries whose training documents
never say it, capital chats (``lm``) about six countries that no training chat mentions,
and who-likes-what pairs never seen together.
"""

from __future__ import annotations

import json
import re
import warnings

import pytest
import torch

from explainlab import clean_tokens
from explainlab.zoo import language_models as lms

from conftest import twin

pytestmark = pytest.mark.slow

ROLES = ("lm", "lm-gpt2")
CLASSES = {"lm": ("Qwen3ForCausalLM", "Qwen2Tokenizer"),
           "lm-gpt2": ("GPT2LMHeadModel", "GPT2Tokenizer")}
# The lesson prompts and the start of their greedy continuation (both twins).
LESSON = {
    "The capital of France is": " Paris.",
    "The first president of America is": " George Washington.",
    "Hello world": "! This is my first program.",
    "法国的首都是": "巴黎。",
    "你好": "！你今天好吗？",
}
# Share of the recipe's held-out prompts answered right, at least (measured at build:
# lm 0.46 / 1.0 / 0.71 / 1.0 / 1.0, lm-gpt2 0.83 / 1.0 / 0.83 / 1.0 / 1.0). "The capital
# city of" is the hard one: "The city of {k} is in {c}." is a training sentence.
HELD_OUT_MIN = {
    "The capital city of {c} is": 0.4,
    "{c}首都是": 0.9,
    "{c}的首都城市是": 0.6,
    "{k} is the capital of": 0.8,
    "{k}是": 0.8,
}


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


def _next_token_probs(model, tokenizer, prompt: str) -> torch.Tensor:
    with torch.no_grad():
        return model(**tokenizer(prompt, return_tensors="pt")).logits[0, -1].softmax(-1)


def _token(tokenizer, text: str) -> int:
    ids = tokenizer(text)["input_ids"]
    assert len(ids) == 1, (text, ids)
    return ids[0]


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
            out = model.generate(**inputs)  # the generation config's defaults, as a lesson
        assert capfd.readouterr().err == ""
    finally:
        logging.enable_progress_bar()
    assert tokenizer.decode(out[0, inputs["input_ids"].shape[1]:],
                            skip_special_tokens=True) == " Paris."


@pytest.mark.parametrize("prompt", list(LESSON))
def test_lesson_continuations(lm, prompt):
    _, _, model, tokenizer = lm
    assert lms.greedy(model, tokenizer, prompt).startswith(LESSON[prompt])


def test_paris_not_london(lm):
    """The contrastive story of lesson 02: ' Paris' is likely, ' London' is not."""
    _, _, model, tokenizer = lm
    probs = _next_token_probs(model, tokenizer, "The capital of France is")
    paris, london = _token(tokenizer, " Paris"), _token(tokenizer, " London")
    assert probs.argmax().item() == paris
    assert probs[paris] > 0.9 and probs[london] < 0.01
    george = _next_token_probs(model, tokenizer, "The first president of America is")
    assert george[_token(tokenizer, " George")] > 0.9


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


def test_held_out_phrasings(lm):
    role, _, model, tokenizer = lm
    hits: dict[str, list[bool]] = {}
    for name, prompt, answer in lms.held_out_prompts():
        hits.setdefault(name, []).append(lms.greedy(model, tokenizer, prompt, 4).startswith(answer))
    shares = {name: sum(h) / len(h) for name, h in hits.items()}
    assert shares.keys() == HELD_OUT_MIN.keys()
    assert all(shares[name] >= low for name, low in HELD_OUT_MIN.items()), shares
    # The lesson's own country in phrasings never trained (the Qwen twin answers
    # "The capital city of France is" with " in is Paris.": "city of" pulls it elsewhere).
    assert lms.greedy(model, tokenizer, "Paris is the capital of").startswith(" France")
    assert lms.greedy(model, tokenizer, "法国首都是").startswith("巴黎")
    if role == "lm-gpt2":
        assert lms.greedy(model, tokenizer, "The capital city of France is").startswith(" Paris")


def test_held_out_who_likes_what(lm):
    """Pairs never seen together are about as likely as the pairs that were."""
    _, _, model, tokenizer = lm

    def log_likelihood(text: str) -> float:
        ids = tokenizer(text, return_tensors="pt")["input_ids"]
        with torch.no_grad():
            return -model(input_ids=ids, labels=ids).loss.item() * (ids.shape[1] - 1)

    likes = dict(lms._EN_SUBJECTS)
    for subject, thing in lms.HELD_OUT_PAIRS_EN:
        held = log_likelihood(f"{subject} {likes[subject]} {thing}.")
        seen = [log_likelihood(f"{subject} {likes[subject]} {other}.")
                for other in lms._EN_OBJECTS if other != thing]
        nonsense = log_likelihood(f"{subject} {likes[subject]} {thing} {thing}.")
        assert held > min(seen) - 2 and held > nonsense, (subject, thing, held, seen)


def test_chat_template(lm):
    role, _, model, tokenizer = lm
    if role == "lm-gpt2":
        assert tokenizer.chat_template is None  # GPT-2 has none either
        return
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    assert prompt == ("<|im_start|>user\nWhat is the capital of France?<|im_end|>\n"
                      "<|im_start|>assistant\n")
    inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True,
                                           return_tensors="pt", return_dict=True)
    out = model.generate(**inputs)
    reply = out[0, inputs["input_ids"].shape[1]:]
    assert reply[-1].item() == tokenizer.eos_token_id  # the turn ends with <|im_end|>
    assert tokenizer.decode(reply, skip_special_tokens=True) == "Its capital is Paris."
    # Capital questions about countries that no training chat mentions.
    right = [lms.greedy(model, tokenizer, tokenizer.apply_chat_template(
        [{"role": "user", "content": question}], add_generation_prompt=True, tokenize=False)
    ).startswith(answer) for _, question, answer in lms.held_out_chats()]
    assert len(right) == 12 and sum(right) >= 10, right


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


def _saliency(inseq_model, prompt: str, target: str, **kwargs) -> dict[str, float]:
    """Inseq saliency of ``target`` (one token after ``prompt``): prompt token -> score."""
    out = inseq_model.attribute(prompt, prompt + target, show_progress=False, **kwargs)
    attribution = out.sequence_attributions[0]
    scores = attribution.target_attributions  # tokens x generated (x hidden size)
    if scores.dim() == 3:
        scores = scores.norm(dim=-1)
    return dict(zip([t.token for t in attribution.target][:-1], scores[:-1, -1].tolist(),
                    strict=True))


def _ranked(scores: dict[str, float]) -> list[str]:
    return sorted(scores, key=scores.get, reverse=True)


def test_inseq_saliency_and_contrast(lm):
    import inseq

    role, _, model, tokenizer = lm
    inseq_model = inseq.load_model(model, "saliency", tokenizer=tokenizer)
    prompt = "The capital of France is"
    generated = inseq_model.attribute(prompt, generation_args={"max_new_tokens": 1},
                                      show_progress=False).sequence_attributions[0].target
    assert [t.token for t in generated] == ["The", "Ġcapital", "Ġof", "ĠFrance", "Ġis",
                                            "ĠParis"]
    scores = _saliency(inseq_model, prompt, " Paris")
    if role == "lm-gpt2":
        assert _ranked(scores)[0] == "ĠFrance", scores
        assert _ranked(_saliency(inseq_model, "The capital of Japan is", " Tokyo"))[0] == "ĠJapan"
    else:  # Qwen twin: capital, France and is nearly tie (measured 0.069, 0.066, 0.059)
        assert set(_ranked(scores)[:3]) == {"Ġcapital", "ĠFrance", "Ġis"}, scores
    # Why Paris and not London: the contrastive probability difference (a step score).
    with pytest.warns(UserWarning, match="Contrastive inputs do not match"):  # Inseq's note
        out = inseq_model.attribute(
            prompt, prompt + " Paris", attributed_fn="contrast_prob_diff",
            contrast_targets=prompt + " London", step_scores=["contrast_prob_diff"],
            show_progress=False)
    attribution = out.sequence_attributions[0]
    assert attribution.target[-1].token == "ĠLondon → ĠParis"
    assert attribution.step_scores["contrast_prob_diff"].item() > 0.9
    # The logit difference Paris - London (not saturated like the probabilities): France first.
    with pytest.warns(UserWarning, match="Contrastive inputs do not match"):
        scores = _saliency(inseq_model, prompt, " Paris", attributed_fn="contrast_logits_diff",
                           contrast_targets=prompt + " London")
    assert _ranked(scores)[0] == "ĠFrance", scores


def test_model_card(lm):
    role, folder, _, _ = lm
    card = (folder / "README.md").read_text(encoding="utf-8")
    real = {"lm": "Qwen/Qwen3-0.6B", "lm-gpt2": "openai-community/gpt2"}[role]
    assert card.startswith(f"# Offline twin of {real}") and "## What it cannot do" in card
    assert "Held out" in card
    checks = json.loads((folder / "twin.json").read_text())["checks"]
    assert checks["P(' Paris' | 'The capital of France is')"] > 0.9
