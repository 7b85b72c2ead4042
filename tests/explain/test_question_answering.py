"""QuestionAnsweringExplainer on the ``qa`` twin (BERT), with the seed's question."""

from __future__ import annotations

import json

import pytest

from explainlab import errors
from explainlab.explain import QuestionAnsweringExplainer

from conftest import twin

pytestmark = pytest.mark.slow
QUESTION = "What is natural language processing ?"
CONTEXT = """
In Artificial Intelligence and machine learning, Natural Language Processing relates to the usage of machines to process and understand human language.
Many researchers currently work in this space.
"""  # noqa: E501
ANSWER = "usage of machines to process and understand human language"


def _top(pairs, k):
    return [token for token, _ in sorted(pairs, key=lambda pair: -pair[1])[:k]]


@pytest.fixture(scope="module")
def qa():
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    folder = twin("qa")
    return (AutoModelForQuestionAnswering.from_pretrained(folder).eval(),
            AutoTokenizer.from_pretrained(folder))


@pytest.fixture(scope="module")
def explained(qa):
    explainer = QuestionAnsweringExplainer(*qa)
    batched = explainer(QUESTION, CONTEXT)
    delta = explainer.convergence_delta
    one_by_one = QuestionAnsweringExplainer(*qa)
    return explainer, batched, delta, one_by_one(QUESTION, CONTEXT, batch_labels=False), \
        one_by_one.convergence_delta


def test_the_answer_and_its_attributions(explained, qa):
    explainer, attributions, *_ = explained
    _, tokenizer = qa
    assert explainer.predicted_answer == ANSWER
    assert list(attributions) == ["start", "end"]
    tokens = [t for t, _ in attributions["start"]]
    assert tokens == tokenizer.convert_ids_to_tokens(tokenizer(QUESTION, CONTEXT)["input_ids"])
    assert tokens[explainer.start_pos] == "usage" and tokens[explainer.end_pos] == "language"
    assert "usage" in _top(attributions["start"], 2)  # the answer's first word (and "of")
    assert _top(attributions["end"], 1) == ["language"]
    assert attributions["start"][0] == ("[CLS]", 0.0)  # [CLS] at position 0, as the baseline


def test_start_and_end_share_one_path(explained):
    _, batched, delta, one_by_one, one_by_one_delta = explained
    for key in ("start", "end"):
        assert [v for _, v in batched[key]] == pytest.approx(
            [v for _, v in one_by_one[key]], abs=1e-6)
        assert delta[key] == pytest.approx(one_by_one_delta[key], abs=1e-5)


def test_word_embeddings_only(qa):
    explainer = QuestionAnsweringExplainer(*qa)
    attributions = explainer(QUESTION, CONTEXT, embedding_type=0, n_steps=20)
    assert attributions["start"][-1] == ("[SEP]", 0.0)  # only the words differ from baseline
    assert "usage" in _top(attributions["start"], 2)


def test_long_context_is_cut_never_the_question(qa):
    model, tokenizer = qa
    explainer = QuestionAnsweringExplainer(model, tokenizer)
    context = CONTEXT + " Many researchers currently work in this space." * 80
    with pytest.warns(errors.TextTruncatedWarning, match="context"):
        attributions = explainer(QUESTION, context, n_steps=4)
    tokens = [t for t, _ in attributions["start"]]
    assert len(tokens) == 512 and tokens[1:7] == ["what", "is", "natural", "language",
                                                  "processing", "?"]
    assert explainer.predicted_answer == ANSWER


def test_bad_inputs(qa):
    explainer = QuestionAnsweringExplainer(*qa)
    with pytest.raises(ValueError, match="question is empty"):
        explainer("", CONTEXT)
    with pytest.raises(ValueError, match="context is empty"):
        explainer(QUESTION, " ")


def test_visualize_and_exports(explained, tmp_path):
    explainer, *_ = explained
    page = explainer.visualize(tmp_path / "bert_qa_viz.html").html()
    assert page.count("<tr>") == 3 and ANSWER in page
    document = json.loads(explainer.to_json())
    assert document["predicted_answer"] == ANSWER
    assert set(explainer.to_dataframe()["target"]) == {"start", "end"}
