"""The ``mt-zh-en`` offline twin: a MarianMTModel that translates its lexicon's Chinese, and whose
saliency lines up with the word alignment.

What the twin does (the lesson sentences and held-out combinations translated, Inseq's saliency
on the gold source words) is its contract (``TranslationTwin.contract``), re-measured by
``test_contract.py::test_contract_holds[mt-zh-en]``; here: its classes, files, pieces and
data."""

from __future__ import annotations

import json
import re
import warnings
from contextlib import contextmanager

import pytest
import torch

from explainlab_course.zoo import translation

from conftest import twin

pytestmark = pytest.mark.slow

# Content words of the lesson sentence: the gold alignment links each to its source word.
CONTENT = ("▁I", "▁like", "▁machine", "▁learning", "▁artificial", "▁intelligence")
# The held-out (verb, object) pairs of the recipe's example sentences (HELD_OUT_EXAMPLES,
# which its contract translates): those verbs never governed those objects in training, and
# the sentences themselves are not training sentences.
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
    # Its input tables are stored apart, scale folded in (translation._scale_folded), and
    # declared so (transformers 5.0 ties declared-shared tables); they hold the same values.
    assert config["share_encoder_decoder_embeddings"] is False
    assert config["scale_embedding"] is False and config["tie_word_embeddings"] is False
    encoder, decoder = model.model.encoder.embed_tokens, model.model.decoder.embed_tokens
    assert encoder is not decoder and torch.equal(encoder.weight, decoder.weight)
    assert tokenizer.pad_token_id == len(tokenizer) - 1  # <pad> comes last, as in opus-mt
    assert json.loads((folder / "tokenizer_config.json").read_text())["separate_vocabs"] is False
    assert model.generation_config.num_beams == 4
    assert model.generation_config.bad_words_ids == [[tokenizer.pad_token_id]]
    assert sum(p.numel() for p in model.parameters()) < 2_000_000


def test_generates_from_pad_without_warnings(mt, capfd):
    """Lesson 01's call with the default generation arguments: decoding starts from <pad>,
    and nothing is printed (the translation itself is a term of the contract)."""
    _, model, tokenizer = mt
    capfd.readouterr()
    with _quiet():
        for sentence in translation.LESSON_SENTENCES:  # default generation arguments
            generated = model.generate(**tokenizer([sentence], return_tensors="pt"))
            assert generated[0, 0] == tokenizer.pad_token_id
            tokenizer.decode(generated[0], skip_special_tokens=True)
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
    # The exercise's alignment, which the contract scores, is spelled in the twin's pieces.
    exercise, translated = translation.EXERCISE_SENTENCE
    target = tokenizer.convert_ids_to_tokens(tokenizer(text_target=translated)["input_ids"])
    for target_piece, source_piece in translation.EXERCISE_ALIGNMENT.items():
        assert source_piece in tokenizer.tokenize(exercise) and target_piece in target


def test_held_out_sentences_are_really_held_out():
    train, held_out = translation.make_corpus()
    held = translation.held_out_pairs()
    seen = {translation.plain(zh) for zh, _ in train}
    assert HELD_OUT_PAIRS.keys() == translation.HELD_OUT_EXAMPLES.keys()
    assert translation.EXERCISE_SENTENCE[0] in translation.HELD_OUT_EXAMPLES
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


def test_model_card_is_honest(mt):
    folder = mt[0]
    card = (folder / "README.md").read_text(encoding="utf-8")
    assert "Translate arbitrary Chinese" in card and "## What it cannot do" in card
    # The card lists the contract the twin was accepted with (its values: test_contract.py).
    contract = json.loads((folder / "twin.json").read_text())["contract"]
    assert "## Contract" in card and all(f"| {c['name']} |" in card for c in contract)
    assert "lesson sentences translated exactly, both scripts" in [c["name"] for c in contract]
