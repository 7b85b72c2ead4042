"""The ``emotion`` and ``nli`` offline twins: small transformers trained from scratch.

What the twins do (lesson 03's review and article, short and hand-written sentences, classic
NLI pairs, held-out accuracies) is their contract (``EmotionTwin.contract``,
``NLITwin.contract``), re-measured by ``test_contract.py``; here: classes, configs, special
tokens, the byte-level tokenizers, and the zero-shot pipeline on the twin."""

from __future__ import annotations

import json
import warnings

import pytest

from explainlab_course.zoo import scratch_classifiers as sc

from conftest import twin

pytestmark = pytest.mark.slow

# The multi-label explainer's example (seed 003) and the zero-shot explainer's example.
FILM = ("There were many aspects of the film I liked, but it was frightening and gross in parts. "
        "My parents hated it.")
MACBOOK = ("Today apple released the new Macbook showing off a range of new features found in "
           "the proprietary silicon chip computer. ")
EMOTION_ID2LABEL = {0: "anger", 1: "disgust", 2: "fear", 3: "joy", 4: "neutral", 5: "sadness",
                    6: "surprise"}
NLI_ID2LABEL = {0: "contradiction", 1: "entailment", 2: "neutral"}


def _load(role: str):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = twin(role)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tokenizer = AutoTokenizer.from_pretrained(folder)
        model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    return folder, model, tokenizer


@pytest.fixture(scope="module")
def emotion():
    return _load("emotion")


@pytest.fixture(scope="module")
def nli():
    return _load("nli")


# ---------------------------------------------------------------------------------- emotion


def test_emotion_classes_and_config(emotion):
    folder, model, tokenizer = emotion
    assert type(model).__name__ == "RobertaForSequenceClassification"
    assert type(tokenizer).__name__ in ("RobertaTokenizer", "RobertaTokenizerFast")
    assert model.config.id2label == EMOTION_ID2LABEL
    assert model.config.label2id == {v: k for k, v in EMOTION_ID2LABEL.items()}
    config = json.loads((folder / "config.json").read_text())
    assert config["architectures"] == ["RobertaForSequenceClassification"]
    assert config["model_type"] == "roberta"
    # RoBERTa's special tokens and ids: <s>=0, <pad>=1, </s>=2, <unk>=3, <mask> last.
    assert [tokenizer.bos_token, tokenizer.pad_token, tokenizer.eos_token, tokenizer.unk_token,
            tokenizer.mask_token] == ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    assert [tokenizer.bos_token_id, tokenizer.pad_token_id, tokenizer.eos_token_id,
            tokenizer.unk_token_id] == [0, 1, 2, 3]
    assert tokenizer.mask_token_id == len(tokenizer) - 1
    assert (model.config.pad_token_id, model.config.bos_token_id,
            model.config.eos_token_id) == (1, 0, 2)


def test_emotion_tokenizer_is_byte_level_bpe(emotion):
    _, _, tokenizer = emotion
    tokens = tokenizer.tokenize(FILM)
    # The lesson's key words are whole tokens, with the byte-level space marker.
    for word in ("Ġfrightening", "Ġgross", "Ġhated", "Ġliked", "Ġfilm"):
        assert word in tokens
    ids = tokenizer(FILM)["input_ids"]
    assert ids[0] == tokenizer.bos_token_id and ids[-1] == tokenizer.eos_token_id
    assert tokenizer.decode(ids, skip_special_tokens=True) == FILM
    # Unseen words and other scripts break into byte pieces, never into <unk>.
    odd = tokenizer("Zyxomorphic fjords, 我喜欢 café!")["input_ids"]
    assert tokenizer.unk_token_id not in odd


# -------------------------------------------------------------------------------------- nli


def test_nli_classes_and_config(nli):
    folder, model, tokenizer = nli
    assert type(model).__name__ == "DebertaForSequenceClassification"
    assert type(tokenizer).__name__ in ("DebertaTokenizer", "DebertaTokenizerFast")
    assert model.config.id2label == NLI_ID2LABEL
    assert model.config.label2id == {v: k for k, v in NLI_ID2LABEL.items()}
    config = json.loads((folder / "config.json").read_text())
    assert config["architectures"] == ["DebertaForSequenceClassification"]
    assert config["model_type"] == "deberta"
    assert config["relative_attention"] is True and config["position_biased_input"] is False
    assert [tokenizer.cls_token, tokenizer.sep_token, tokenizer.pad_token, tokenizer.unk_token,
            tokenizer.mask_token] == ["[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]"]
    tokens = tokenizer.tokenize(MACBOOK)
    assert "Ġreleased" in tokens and "Ġcomputer" in tokens  # byte-level BPE, like the real one


def test_nli_zero_shot_pipeline(nli):
    """The transformers zero-shot pipeline runs on the twin with the explainer's hypothesis
    template, and scores as ``zero_shot_scores`` does (which topic wins: the contract)."""
    from transformers import pipeline

    _, model, tokenizer = nli
    classify = pipeline("zero-shot-classification", model=model, tokenizer=tokenizer)
    labels = ["finance", "technology", "sports"]
    result = classify(MACBOOK, candidate_labels=labels,
                      hypothesis_template=sc.ZERO_SHOT_TEMPLATE)
    assert sorted(result["labels"]) == sorted(labels)
    expected = sc.zero_shot_scores(model, tokenizer, MACBOOK, labels)
    assert dict(zip(result["labels"], result["scores"], strict=True)) == pytest.approx(
        expected, abs=1e-4)
