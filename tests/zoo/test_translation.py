"""The ``mt-zh-en`` offline twin: a MarianMTModel that translates its lexicon's Chinese, and whose
saliency lines up with the word alignment."""

from __future__ import annotations

import json
import re
import warnings
from contextlib import contextmanager

import pytest
import torch

from explainlab.zoo import translation

from conftest import twin

pytestmark = pytest.mark.slow

# Content words of the lesson sentence: their saliency argmax must be the aligned source word.
CONTENT = ("▁I", "▁like", "▁machine", "▁learning", "▁artificial", "▁intelligence")
# Sentences made of held-out (verb, object) pairs: those verbs never governed those objects
# in training (checked in test_held_out_sentences_are_really_held_out), and the sentences
# themselves are not training sentences.
HELD_OUT = {
    "她很讨厌编程。": "She really hates programming.",
    "我們喜歡物理，但是他們不理解藝術。": "We like physics, but they do not understand art.",
    "科学家研究强化学习吗？": "Does the scientist study reinforcement learning?",
    "我的朋友不理解英文。": "My friend does not understand English.",
    "老师也教机器翻译和音乐。": "The teacher also teaches machine translation and music.",
}
HELD_OUT_PAIRS = {
    "她很讨厌编程。": {("hate", "programming")},
    "我們喜歡物理，但是他們不理解藝術。": {("like", "physics"), ("understand", "art")},
    "科学家研究强化学习吗？": {("study", "reinforcement learning")},
    "我的朋友不理解英文。": {("understand", "English")},
    "老师也教机器翻译和音乐。": {("teach", "machine translation"), ("teach", "music")},
}


@contextmanager
def _quiet():
    """Warnings as errors (sacremoses is a dependency, so MarianTokenizer has no hint to give)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.fixture(scope="module")
def mt():
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    folder = twin("mt-zh-en")
    with _quiet():
        model = AutoModelForSeq2SeqLM.from_pretrained(folder).eval()
        tokenizer = AutoTokenizer.from_pretrained(folder)
    return folder, model, tokenizer


def test_classes_and_config(mt):
    folder, model, tokenizer = mt
    assert type(model).__name__ == "MarianMTModel"
    assert type(tokenizer).__name__ == "MarianTokenizer"
    for name in ("source.spm", "target.spm", "vocab.json", "tokenizer_config.json",
                 "config.json", "generation_config.json", "model.safetensors", "README.md"):
        assert (folder / name).is_file(), name
    config = json.loads((folder / "config.json").read_text())
    assert config["architectures"] == ["MarianMTModel"] and config["model_type"] == "marian"
    # As in opus-mt-zh-en: decoding starts from <pad>, </s> is id 0, one shared vocabulary.
    assert config["decoder_start_token_id"] == config["pad_token_id"] == tokenizer.pad_token_id
    assert config["eos_token_id"] == tokenizer.eos_token_id == 0
    assert config["vocab_size"] == config["decoder_vocab_size"] == len(tokenizer)
    assert config["share_encoder_decoder_embeddings"] is True
    assert tokenizer.pad_token_id == len(tokenizer) - 1  # <pad> comes last, as in opus-mt
    assert json.loads((folder / "tokenizer_config.json").read_text())["separate_vocabs"] is False
    assert model.generation_config.num_beams == 4
    assert model.generation_config.bad_words_ids == [[tokenizer.pad_token_id]]
    assert sum(p.numel() for p in model.parameters()) < 2_000_000


def test_lesson_sentences(mt, capfd):
    _, model, tokenizer = mt
    capfd.readouterr()
    with _quiet():
        for sentence in translation.LESSON_SENTENCES:  # default generation arguments
            generated = model.generate(**tokenizer([sentence], return_tensors="pt"))
            assert generated[0, 0] == tokenizer.pad_token_id
            text = tokenizer.decode(generated[0], skip_special_tokens=True)
            assert text == "I like machine learning and artificial intelligence."
    assert capfd.readouterr().err == ""  # no warning printed through logging either


def test_whole_word_pieces_and_gold_alignment(mt):
    _, _, tokenizer = mt
    simplified, traditional = translation.LESSON_SENTENCES
    assert tokenizer.tokenize(simplified) == ["▁我", "喜欢", "机器", "学习", "和", "人工", "智能",
                                              "。"]
    assert tokenizer.tokenize(traditional) == ["▁我", "喜歡", "機器", "學習", "和", "人工", "智慧",
                                               "。"]
    target = tokenizer.convert_ids_to_tokens(
        tokenizer(text_target=translation.LESSON_TRANSLATION)["input_ids"])
    assert target == ["▁I", "▁like", "▁machine", "▁learning", "▁and", "▁artificial",
                      "▁intelligence", ".", "</s>"]
    source = tokenizer.tokenize(simplified)
    for source_piece, target_piece in translation.GOLD_ALIGNMENT:
        assert source_piece in source and target_piece in target
    assert {t for _, t in translation.GOLD_ALIGNMENT} >= set(CONTENT)


def test_held_out_sentences_are_really_held_out():
    train, held_out = translation.make_corpus()
    held = translation.held_out_pairs()
    seen = {translation.plain(zh) for zh, _ in train}
    for sentence, pairs in HELD_OUT_PAIRS.items():
        assert pairs <= held and sentence not in seen
    assert not seen & set(translation.LESSON_SENTENCES)  # the lesson sentences are new too
    assert not seen & {translation.plain(zh) for zh, _ in held_out}
    train_text = "\n".join(sorted({en for _, en in train}))
    for verb, obj in held:  # no training sentence has the verb governing the object
        for form in (verb, verb + "s", verb + "es", verb[:-1] + "ies"):
            governed = re.compile(rf"\b{form} (?:[\w ]+ and )?{obj}\b")
            assert not governed.search(train_text), (verb, obj)
        assert re.search(rf"\b{obj}\b", train_text)  # the object itself is known


def test_held_out_combinations(mt):
    _, model, tokenizer = mt
    assert translation.translate(model, tokenizer, list(HELD_OUT)) == list(HELD_OUT.values())
    # The recipe's held-out set: 400 sentences, each with a (verb, object) pair never seen in
    # training, half in traditional characters. Measured at build: 0.9975 (1 of 400 wrong).
    _, held_out = translation.make_corpus()
    predicted = translation.translate(model, tokenizer, [translation.plain(zh)
                                                         for zh, _ in held_out])
    accuracy = sum(p == en for p, (_, en) in zip(predicted, held_out, strict=True))
    assert accuracy / len(held_out) >= 0.95


def _inseq_argmax(model, sentence: str) -> tuple[list[str], list[str], dict[str, str]]:
    """Inseq saliency: (source pieces, target pieces, target piece -> argmax source piece)."""
    out = model.attribute(sentence, show_progress=False)
    attribution = out.sequence_attributions[0]
    source = [t.token for t in attribution.source]
    target = [t.token for t in attribution.target]
    scores = attribution.source_attributions  # source x generated target (x hidden size)
    if scores.dim() == 3:
        scores = scores.norm(dim=-1)
    generated = target[1:]  # target[0] is the <pad> that decoding starts from
    assert scores.shape == (len(source), len(generated))
    best = {tok: source[int(torch.argmax(scores[:, j]))] for j, tok in enumerate(generated)}
    return source, target, best


def test_saliency_recovers_the_word_alignment(mt):
    import inseq

    folder, model, tokenizer = mt
    inseq_model = inseq.load_model(str(folder), "saliency")
    gold = {t: s for s, t in translation.GOLD_ALIGNMENT}

    source, target, best = _inseq_argmax(inseq_model, translation.LESSON_SENTENCES[0])
    assert target == ["<pad>", "▁I", "▁like", "▁machine", "▁learning", "▁and", "▁artificial",
                      "▁intelligence", ".", "</s>"]
    assert best["▁machine"] == "机器"  # the lesson's question
    assert all(best[t] == gold[t] for t in CONTENT), best
    assert sum(best[t] == s for t, s in gold.items()) >= 7  # measured at build: 8 of 8
    # The package's torch-only saliency (used at build time) agrees with Inseq's on the
    # aligned pieces (</s>, unaligned, can differ at a near-tie).
    ours = dict(translation.saliency_argmax(model, tokenizer, translation.LESSON_SENTENCES[0]))
    assert {t: ours[t] for t in gold} == {t: best[t] for t in gold}

    # Traditional characters: the same alignment, position by position.
    simplified = tokenizer.tokenize(translation.LESSON_SENTENCES[0])
    source, _, best = _inseq_argmax(inseq_model, translation.LESSON_SENTENCES[1])
    assert all(best[t] == source[simplified.index(gold[t])] for t in CONTENT), best

    # A held-out sentence (the pair hate + programming was never seen in training).
    _, _, best = _inseq_argmax(inseq_model, "她很讨厌编程。")
    assert best == {"▁She": "▁她", "▁really": "很", "▁hates": "讨厌", "▁programming": "编程",
                    ".": "。", "</s>": best["</s>"]}


def test_model_card_is_honest(mt):
    folder = mt[0]
    card = (folder / "README.md").read_text(encoding="utf-8")
    assert "Translate arbitrary Chinese" in card and "## What it cannot do" in card
    checks = json.loads((folder / "twin.json").read_text())["checks"]
    assert checks["lesson sentences translated exactly (of 2)"] == 2
    assert checks["held-out combinations: exact-match accuracy"] >= 0.95
