"""explain: the registry, the public API's shape, and how the package uses Captum."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from explainlab import errors, explain

NAMES = {
    "sequence_classification": "SequenceClassificationExplainer",
    "pairwise_sequence_classification": "PairwiseSequenceClassificationExplainer",
    "multilabel_classification": "MultiLabelClassificationExplainer",
    "zero_shot_classification": "ZeroShotClassificationExplainer",
    "question_answering": "QuestionAnsweringExplainer",
    "token_classification": "TokenClassificationExplainer",
    "image_classification": "ImageClassificationExplainer",
}
# transformers-interpret 0.10's call arguments, which ours keep (by name, same defaults).
CALLS = {
    "SequenceClassificationExplainer": ["text", "index", "class_name", "embedding_type",
                                        "internal_batch_size", "n_steps"],
    "PairwiseSequenceClassificationExplainer": ["text1", "text2", "index", "class_name",
                                                "embedding_type", "internal_batch_size",
                                                "n_steps", "flip_sign"],
    "MultiLabelClassificationExplainer": ["text", "embedding_type", "internal_batch_size",
                                          "n_steps"],
    "ZeroShotClassificationExplainer": ["text", "labels", "embedding_type",
                                        "hypothesis_template", "include_hypothesis",
                                        "internal_batch_size", "n_steps"],
    "QuestionAnsweringExplainer": ["question", "text", "embedding_type",
                                   "internal_batch_size", "n_steps"],
    "TokenClassificationExplainer": ["text", "embedding_type", "internal_batch_size",
                                     "n_steps", "ignored_indexes", "ignored_labels"],
    "ImageClassificationExplainer": ["image", "index", "class_name", "internal_batch_size",
                                     "n_steps", "n_steps_noise_tunnel",
                                     "noise_tunnel_n_samples", "noise_tunnel_type"],
}
SOURCE = Path(explain.__file__).parent


def test_list_and_get():
    assert explain.list_explainers() == sorted(NAMES)
    for name, cls_name in NAMES.items():
        cls = explain.get_explainer(name)
        assert cls is getattr(explain, cls_name) and cls.explainer_name == name


def test_unknown_explainer_lists_the_known_ones():
    with pytest.raises(errors.UnknownExplainerError) as info:
        explain.get_explainer("sentiment")
    assert isinstance(info.value, KeyError)
    assert "Unknown explainer 'sentiment'" in str(info.value)
    for name in NAMES:
        assert name in str(info.value)


@pytest.mark.parametrize("cls_name", sorted(CALLS))
def test_call_arguments_match_transformers_interpret(cls_name):
    cls = getattr(explain, cls_name)
    parameters = inspect.signature(cls.__call__).parameters
    names = [n for n in parameters if n != "self"]
    assert [n for n in names if n in CALLS[cls_name]] == CALLS[cls_name]
    defaults = {"n_steps": None, "internal_batch_size": None, "index": None,
                "class_name": None, "flip_sign": False, "include_hypothesis": False,
                "hypothesis_template": "this text is about {} .",
                "ignored_indexes": None, "ignored_labels": None,
                "noise_tunnel_type": "smoothgrad"}
    for name, default in defaults.items():
        if name in parameters:
            assert parameters[name].default == default, name
    if "embedding_type" in parameters:
        expected = 2 if cls_name == "QuestionAnsweringExplainer" else 0
        assert parameters["embedding_type"].default == expected
    # The inputs are positional (as in the seed's calls); every option is keyword-only.
    inputs = {"text", "text1", "text2", "question", "labels", "image"}
    for name in names:
        kind = parameters[name].kind
        if name in inputs:
            assert kind is inspect.Parameter.POSITIONAL_OR_KEYWORD, name
        else:
            assert kind is inspect.Parameter.KEYWORD_ONLY, name


@pytest.mark.parametrize("cls_name", sorted(CALLS))
def test_docstrings_name_the_lesson(cls_name):
    cls = getattr(explain, cls_name)
    assert "03_classification_explainers" in cls.__doc__
    assert cls.__call__.__doc__ and cls.visualize.__doc__


def test_captum_is_imported_only_from_captum_attr():
    for path in SOURCE.glob("*.py"):
        text = path.read_text()
        for line in re.findall(r"^\s*(?:from|import)\s+captum\S*.*$", text, re.M):
            assert re.match(r"^\s*from captum\.attr import ", line), (path.name, line)


def test_no_ipython_in_the_package():
    for path in SOURCE.glob("*.py"):
        assert not re.search(r"^\s*(from|import)\s+IPython", path.read_text(), re.M), path.name
