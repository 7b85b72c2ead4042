"""clean_tokens / clean_attribution on real tokenizers of each family, built here."""

from __future__ import annotations

import re

import pytest
import sentencepiece as spm
import torch
from tokenizers import ByteLevelBPETokenizer
from transformers import BertTokenizer, GPT2TokenizerFast

from explainlab import clean_attribution, clean_tokens

CORPUS = ["我喜欢机器学习和人工智能。", "我爱你，我喜欢你。", "The capital of France is Paris.",
          "Hello world, I like machine learning.", "机器学习很有趣，人工智能也很有趣。"] * 20
PART = re.compile(r"\((\d+)/(\d+)\)$")


def _rebuild(cleaned: list[str]) -> str:
    """Join cleaned tokens back into text, collapsing the pieces of a split character."""
    text = []
    for token in cleaned:
        match = PART.search(token)
        if match and match.group(1) != "1":
            continue
        text.append(PART.sub("", token))
    return "".join(text)


@pytest.fixture(scope="module")
def bytelevel(tmp_path_factory):
    trainer = ByteLevelBPETokenizer()
    trainer.train_from_iterator(CORPUS, vocab_size=400, min_frequency=2,
                                special_tokens=["<|endoftext|>"])
    return GPT2TokenizerFast(tokenizer_object=trainer._tokenizer, eos_token="<|endoftext|>")


@pytest.fixture(scope="module")
def bytes_only():
    """No merges at all: every UTF-8 byte is its own token, so Chinese characters split."""
    trainer = ByteLevelBPETokenizer()
    trainer.train_from_iterator(["a"], vocab_size=257, special_tokens=["<|endoftext|>"])
    return GPT2TokenizerFast(tokenizer_object=trainer._tokenizer, eos_token="<|endoftext|>")


@pytest.fixture(scope="module")
def sentencepiece(tmp_path_factory):
    prefix = tmp_path_factory.mktemp("spm") / "zh"
    spm.SentencePieceTrainer.train(sentence_iterator=iter(CORPUS), model_prefix=str(prefix),
                                   vocab_size=50, character_coverage=1.0, minloglevel=2)
    return spm.SentencePieceProcessor(model_file=f"{prefix}.model")


@pytest.fixture(scope="module")
def wordpiece(tmp_path_factory):
    vocab = tmp_path_factory.mktemp("wp") / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "play", "##ing", "##ed",
                                "the", "cat", "sat"]) + "\n")
    return BertTokenizer(str(vocab))


@pytest.mark.parametrize("text", ["我喜欢机器学习和人工智能。", "我爱你，我喜欢你。"])
def test_bytelevel_chinese_comes_out_as_characters(bytelevel, text):
    tokens = bytelevel.tokenize(text)
    assert not set(text) & set("".join(tokens)), tokens  # raw tokens are byte soup
    cleaned = clean_tokens(tokens, bytelevel)
    assert len(cleaned) == len(tokens)
    assert _rebuild(cleaned) == text
    assert clean_tokens(tokens) == cleaned  # the family is recognised without the tokenizer


def test_whole_character_token_is_the_character(bytelevel):
    token = bytelevel.tokenize("我")[0]
    assert token != "我" and clean_tokens([token]) == ["我"]


def test_split_character_is_shown_on_each_piece(bytes_only):
    tokens = bytes_only.tokenize("我a")
    assert len(tokens) == 4
    assert clean_tokens(tokens, bytes_only) == ["我(1/3)", "我(2/3)", "我(3/3)", "a"]


def test_bytelevel_spaces_newlines_and_specials(bytelevel):
    tokens = bytelevel.tokenize("Hello world\n") + ["<|endoftext|>"]
    cleaned = clean_tokens(tokens, bytelevel)
    assert "world" in cleaned and "\\n" in cleaned and cleaned[-1] == "<|endoftext|>"
    assert not any("Ġ" in t or "Ċ" in t for t in cleaned)


def test_contrastive_labels_are_cleaned_on_both_sides(bytelevel):
    london, paris, beijing = ("".join(bytelevel.tokenize(w)) for w in (" London", " Paris", "北"))
    labels = [f"{london} → {paris}", f"{beijing} → {beijing}", paris]
    assert clean_tokens(labels, bytelevel) == ["London → Paris", "北 → 北", "Paris"]


def test_sentencepiece(sentencepiece):
    pieces = sentencepiece.encode("我喜欢机器学习", out_type=str)
    assert any("▁" in p for p in pieces)
    cleaned = clean_tokens(pieces + ["</s>"])
    assert "".join(cleaned[:-1]).replace("␣", "") == "我喜欢机器学习"
    assert cleaned[-1] == "</s>"
    assert clean_tokens(["▁I", "▁like", "▁", "<pad>"]) == ["I", "like", "␣", "<pad>"]


def test_wordpiece(wordpiece):
    tokens = wordpiece.convert_ids_to_tokens(wordpiece("the cat playing")["input_ids"])
    assert tokens == ["[CLS]", "the", "cat", "play", "##ing", "[SEP]"]
    assert clean_tokens(tokens, wordpiece) == ["[CLS]", "the", "cat", "play", "ing", "[SEP]"]


def test_tokenizer_specials_are_kept_even_if_unusual(bytelevel):
    bytelevel.add_special_tokens({"additional_special_tokens": ["ĠSPECIAL"]})
    assert clean_tokens(["ĠSPECIAL", "ĠParis"], bytelevel) == ["ĠSPECIAL", "Paris"]


def test_clean_attribution_returns_a_cleaned_copy():
    from inseq.data import FeatureAttributionOutput, FeatureAttributionSequenceOutput
    from inseq.utils.typing import TokenWithId

    src = [TokenWithId(t, i) for i, t in enumerate(["▁我", "▁喜欢", "</s>"])]
    tgt = [TokenWithId(t, i) for i, t in enumerate(["▁I", "▁like", "</s>"])]
    scores = torch.rand(3, 3, 4)
    seq = FeatureAttributionSequenceOutput(source=src, target=tgt, source_attributions=scores,
                                           step_scores={}, sequence_scores={},
                                           attr_pos_start=0, attr_pos_end=3)
    out = FeatureAttributionOutput(sequence_attributions=[seq], step_attributions=None, info={})
    clean = clean_attribution(out)
    cleaned = clean.sequence_attributions[0]
    assert [t.token for t in cleaned.source] == ["我", "喜欢", "</s>"]
    assert [t.token for t in cleaned.target] == ["I", "like", "</s>"]
    assert [t.id for t in cleaned.source] == [0, 1, 2]
    assert torch.equal(cleaned.source_attributions, scores)
    assert out.sequence_attributions[0].source[0].token == "▁我"  # original untouched
