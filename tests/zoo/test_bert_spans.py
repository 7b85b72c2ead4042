"""The span twins of lesson 03: extractive QA (``qa``) and named entities (``ner``).

Lesson inputs come from the transformers-interpret examples (seed 003). Held-out inputs
are ``qa_examples("held-out")`` / ``ner_examples("held-out")``: names, places,
organisations, terms and definition words that never occur in training, and (for NER)
templates that never occur in training either.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager

import pytest
import torch

from explainlab.zoo import bert_spans as spans

from conftest import twin

NER_ID2LABEL = {0: "O", 1: "B-MISC", 2: "I-MISC", 3: "B-PER", 4: "I-PER", 5: "B-ORG",
                6: "I-ORG", 7: "B-LOC", 8: "I-LOC"}


def _load(role: str, auto_class):
    from transformers import AutoTokenizer

    folder = twin(role)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = auto_class.from_pretrained(folder)
        tokenizer = AutoTokenizer.from_pretrained(folder)
    return model.eval(), tokenizer


@contextmanager
def _no_progress_bar():
    """transformers' "Loading weights" bar is no warning; anything else printed would be."""
    from transformers.utils import logging

    logging.disable_progress_bar()
    try:
        yield
    finally:
        logging.enable_progress_bar()


@pytest.fixture(scope="module")
def qa():
    from transformers import AutoModelForQuestionAnswering

    return _load("qa", AutoModelForQuestionAnswering)


@pytest.fixture(scope="module")
def ner():
    from transformers import AutoModelForTokenClassification

    return _load("ner", AutoModelForTokenClassification)


def _integrated_gradients(model, tokenizer, encoding, target):
    """Captum LayerIntegratedGradients on ``model.bert.embeddings``, as lesson 03 writes it.

    Baseline: [CLS] + [PAD] * n + [SEP]. Returns (token, attribution) pairs, normalised
    like transformers-interpret (summed over the hidden size, divided by the norm).
    """
    from captum.attr import LayerIntegratedGradients

    ids = encoding["input_ids"]
    baseline = torch.full_like(ids, tokenizer.pad_token_id)
    baseline[0, 0], baseline[0, -1] = tokenizer.cls_token_id, tokenizer.sep_token_id
    extra = {k: v for k, v in encoding.items() if k != "input_ids"}

    def forward(input_ids):
        expanded = {k: v.expand(input_ids.shape[0], -1) for k, v in extra.items()}
        return target(model(input_ids=input_ids, **expanded))

    lig = LayerIntegratedGradients(forward, model.bert.embeddings)
    attributions = lig.attribute(ids, baselines=baseline, n_steps=50).sum(-1)[0]
    attributions = attributions / attributions.norm()
    return list(zip(tokenizer.convert_ids_to_tokens(ids[0]), attributions.tolist(), strict=False))


# ----------------------------------------------------------------------------- qa

def test_qa_classes_config(qa):
    model, tokenizer = qa
    assert type(model).__name__ == "BertForQuestionAnswering"
    assert type(tokenizer).__name__ == "BertTokenizer"
    assert model.config.architectures == ["BertForQuestionAnswering"]
    assert tokenizer.tokenize("Natural Language Processing") == [
        "natural", "language", "processing"]


def test_qa_loads_and_runs_without_warnings(qa, capfd):
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    folder = twin("qa")
    capfd.readouterr()
    with _no_progress_bar():
        model = AutoModelForQuestionAnswering.from_pretrained(folder)
        tokenizer = AutoTokenizer.from_pretrained(folder)
    spans.qa_predict(model, tokenizer, spans.QA_LESSON_QUESTION, spans.QA_LESSON_CONTEXT)
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""


def test_qa_lesson_answer(qa):
    """Lesson 03's question and context: argmax start / end give the defining phrase."""
    model, tokenizer = qa
    encoding = tokenizer(spans.QA_LESSON_QUESTION, spans.QA_LESSON_CONTEXT, return_tensors="pt")
    with torch.no_grad():
        out = model(**encoding)
    start, end = int(out.start_logits.argmax()), int(out.end_logits.argmax())
    answer = tokenizer.decode(encoding["input_ids"][0, start:end + 1])
    assert answer == "usage of machines to process and understand human language"
    assert spans.qa_predict(model, tokenizer, spans.QA_LESSON_QUESTION,
                            spans.QA_LESSON_CONTEXT) == spans.QA_LESSON_ANSWER


def test_qa_held_out_exact_match(qa):
    """New names, places, companies, terms and definitions (none seen in training)."""
    model, tokenizer = qa
    held_out = spans.qa_examples("held-out")
    train_terms = {c for _, c, *_ in spans.qa_examples("train")}
    assert not train_terms & {c for _, c, *_ in held_out}
    assert spans.qa_exact_match(model, tokenizer, held_out) >= QA_HELD_OUT_EM


_KNOWN_MISS = pytest.mark.xfail(strict=True, reason="two-person biographies: a known limit")
QA_HELD_OUT_EM = 0.6  # measured at build: 0.63 (definitions 0.8; two-person biographies worse)


@pytest.mark.parametrize(("question", "context", "answer"), [
    # hand-written, with words outside every lexicon of the recipe
    ("What is glaciology ?",
     "In geography and physics, glaciology is the study of ice sheets and frozen rivers. "
     "Many students like it.", "study of ice sheets and frozen rivers"),
    # Known misses of this twin (two people in one context): it answers "1961. Otto Brandt
    # was born in Leipzig in 1948" and "". Strict: the test fails once the twin gets them.
    pytest.param("When was Mirela Tovar born ?",
                 "Mirela Tovar was born in Valencia in 1961. Otto Brandt was born in Leipzig in "
                 "1948.", "1961", marks=_KNOWN_MISS),
    pytest.param("Where was Otto Brandt born ?",
                 "Mirela Tovar was born in Valencia in 1961. Otto Brandt was born in Leipzig in "
                 "1948.", "Leipzig", marks=_KNOWN_MISS),
])
def test_qa_hand_written_held_out(qa, question, context, answer):
    model, tokenizer = qa
    assert spans.qa_predict(model, tokenizer, question, context) == answer


def test_qa_integrated_gradients_on_question_and_answer(qa):
    """The predicted start logit's top-3 tokens are question or answer tokens."""
    model, tokenizer = qa
    encoding = tokenizer(spans.QA_LESSON_QUESTION, spans.QA_LESSON_CONTEXT, return_tensors="pt")
    with torch.no_grad():
        start = int(model(**encoding).start_logits.argmax())
    scores = _integrated_gradients(model, tokenizer, encoding,
                                   lambda out: out.start_logits[:, start])
    tokens = [t for t, _ in scores]
    question = set(tokenizer.tokenize(spans.QA_LESSON_QUESTION))
    answer = set(tokenizer.tokenize(spans.QA_LESSON_ANSWER))
    top3 = [t for t, _ in sorted(scores, key=lambda pair: -pair[1])[:3]]
    assert tokens[start] == "usage"
    assert set(top3) <= question | answer, top3


# ----------------------------------------------------------------------------- ner

def test_ner_classes_labels(ner):
    model, tokenizer = ner
    assert type(model).__name__ == "BertForTokenClassification"
    assert type(tokenizer).__name__ == "BertTokenizer"
    assert model.config.architectures == ["BertForTokenClassification"]
    assert model.config.id2label == NER_ID2LABEL
    assert model.config.label2id == {v: k for k, v in NER_ID2LABEL.items()}


def test_ner_loads_and_runs_without_warnings(ner, capfd):
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    folder = twin("ner")
    capfd.readouterr()
    with _no_progress_bar():
        model = AutoModelForTokenClassification.from_pretrained(folder)
        tokenizer = AutoTokenizer.from_pretrained(folder)
    with torch.no_grad():
        model(**tokenizer(spans.NER_LESSON_SENTENCE, return_tensors="pt"))
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""


def test_ner_lesson_sentence(ner):
    """Lesson 03's sentence: Paris B-LOC, Emmanuel B-PER, Macron I-PER, the rest O."""
    model, tokenizer = ner
    encoding = tokenizer(spans.NER_LESSON_SENTENCE, return_tensors="pt")
    with torch.no_grad():
        ids = model(**encoding).logits[0].argmax(-1)
    tokens = tokenizer.convert_ids_to_tokens(encoding["input_ids"][0])
    labels = [model.config.id2label[int(i)] for i in ids]
    firsts = {}
    previous = None
    for position, word in enumerate(encoding.word_ids(0)):
        if word is not None and word != previous:
            firsts[tokens[position]] = labels[position]
        previous = word
    assert firsts == {"we": "O", "visited": "O", "paris": "B-LOC", "last": "O", "weekend": "O",
                      ",": "O", "where": "O", "emmanuel": "B-PER", "macro": "I-PER",
                      "lives": "O", ".": "O"}
    assert labels[tokens.index("##n")] == "I-PER"  # "macron" is "macro" + "##n"


def test_ner_held_out_entity_f1(ner):
    """Held-out names, places, organisations and misc names in held-out templates."""
    model, tokenizer = ner
    held_out = spans.ner_examples("held-out")
    train_names = {w for words, _ in spans.ner_examples("train") for w in words}
    assert "oslo" not in {w.lower() for w in train_names}
    assert spans.ner_f1(model, tokenizer, held_out) >= 0.85  # measured at build: 0.893


@pytest.mark.parametrize(("sentence", "expected"), [
    # hand-written, with names outside every lexicon of the recipe
    ("Yesterday Ingrid Svensson landed in Reykjavik .",
     {"ingrid": "B-PER", "svensson": "I-PER", "reykjavik": "B-LOC"}),
    ("We visited Lyon last weekend , where Marie Curie lived .",
     {"lyon": "B-LOC", "marie": "B-PER", "curie": "I-PER"}),
])
def test_ner_hand_written_held_out(ner, sentence, expected):
    model, tokenizer = ner
    words = sentence.split()
    labels = spans.ner_predict(model, tokenizer, [words])[0]
    assert {w.lower(): tag for w, tag in zip(words, labels, strict=True) if tag != "O"} == expected


def test_ner_integrated_gradients_on_paris(ner):
    """The B-LOC logit of "paris": its top attributed token is "paris" or a context word."""
    model, tokenizer = ner
    encoding = tokenizer(spans.NER_LESSON_SENTENCE, return_tensors="pt")
    tokens = tokenizer.convert_ids_to_tokens(encoding["input_ids"][0])
    position = tokens.index("paris")
    b_loc = model.config.label2id["B-LOC"]
    scores = _integrated_gradients(model, tokenizer, encoding,
                                   lambda out: out.logits[:, position, b_loc])
    top = max(scores, key=lambda pair: pair[1])[0]
    assert top in {"paris", "visited"}, scores
