"""The span twins of lesson 03: extractive QA (``qa``) and named entities (``ner``).

Lesson inputs come from the transformers-interpret examples (seed 003). Held-out inputs
are ``qa_examples("held-out")`` / ``ner_examples("held-out")``: names, places,
organisations, terms and definition words that never occur in training, and (for NER)
templates that never occur in training either.

What the twins do (lesson 03's answer and labels, their attributions, hand-written and
held-out inputs) is their contract (``QuestionAnsweringTwin.contract``,
``NamedEntityTwin.contract``), re-measured by ``test_contract.py``; here: classes, labels,
tokenizers, held-out data and warning-free loading.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager

import pytest
import torch

from explainlab_course.zoo import bert_spans as spans

from conftest import twin

pytestmark = pytest.mark.slow

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


def test_qa_held_out_is_new():
    """New names, places, companies, terms and definitions (none seen in training)."""
    held_out = spans.qa_examples("held-out")
    train_terms = {c for _, c, *_ in spans.qa_examples("train")}
    assert not train_terms & {c for _, c, *_ in held_out}
    assert not any("glaciology" in c.lower() for c in train_terms)  # QA_HAND_WRITTEN's term


# ----------------------------------------------------------------------------- ner

def test_ner_classes_labels(ner):
    model, tokenizer = ner
    assert type(model).__name__ == "BertForTokenClassification"
    assert type(tokenizer).__name__ == "BertTokenizer"
    assert model.config.architectures == ["BertForTokenClassification"]
    assert model.config.id2label == NER_ID2LABEL
    assert model.config.label2id == {v: k for k, v in NER_ID2LABEL.items()}
    assert tokenizer.tokenize(spans.NER_LESSON_SENTENCE) == [
        "we", "visited", "paris", "last", "weekend", ",", "where", "emmanuel", "macro", "##n",
        "lives", "."]


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


def test_ner_held_out_is_new():
    """Held-out names, places, organisations and misc names in held-out templates."""
    held_out = spans.ner_examples("held-out")
    train_names = {w for words, _ in spans.ner_examples("train") for w in words}
    assert "oslo" not in {w.lower() for w in train_names}
    assert any("oslo" in {w.lower() for w in words} for words, _ in held_out)
