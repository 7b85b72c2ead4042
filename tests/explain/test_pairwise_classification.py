"""PairwiseSequenceClassificationExplainer on the ``cross-encoder`` twin (BERT, one logit)."""

from __future__ import annotations

import pytest
import torch

from explainlab import errors
from explainlab.explain import PairwiseSequenceClassificationExplainer

from conftest import twin

pytestmark = pytest.mark.slow
QUERY = "How many people live in Berlin?"
PASSAGE = ("Berlin has a population of 3,520,031 registered inhabitants in an area of 891.82 "
           "square kilometers.")
UNRELATED = "The recipe needs two eggs, a cup of milk and some flour."


def _load(role):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = twin(role)
    return (AutoModelForSequenceClassification.from_pretrained(folder).eval(),
            AutoTokenizer.from_pretrained(folder))


@pytest.fixture(scope="module")
def cross_encoder():
    return _load("cross-encoder")


@pytest.fixture(scope="module")
def explained(cross_encoder):
    explainer = PairwiseSequenceClassificationExplainer(*cross_encoder)
    return explainer, explainer(QUERY, PASSAGE)


def test_pair_is_tokenised_as_the_model_expects(explained, cross_encoder):
    """transformers 5: tokenizer(text1, text2), not tokenizer.encode([text1, text2])."""
    explainer, attributions = explained
    _, tokenizer = cross_encoder
    tokens = [t for t, _ in attributions]
    assert tokens == tokenizer.convert_ids_to_tokens(tokenizer(QUERY, PASSAGE)["input_ids"])
    assert tokens.count("[SEP]") == 2 and tokens[tokens.index("[SEP]") + 1] == "berlin"
    assert attributions[0][1] == attributions[tokens.index("[SEP]")][1] == 0.0
    assert attributions[-1] == ("[SEP]", 0.0)
    assert explainer._single_node_output and explainer.predicted_class_index == 0


def test_same_numbers_as_captum_by_hand(explained, cross_encoder):
    """Both segments' [CLS]/[SEP] kept in the baseline, segment ids passed, sigmoid score."""
    from captum.attr import LayerIntegratedGradients

    model, tokenizer = cross_encoder
    encoding = tokenizer(QUERY, PASSAGE, return_tensors="pt")
    ids = encoding["input_ids"]
    special = torch.tensor(tokenizer.get_special_tokens_mask(ids[0].tolist(),
                                                             already_has_special_tokens=True))
    baseline = torch.where(special.bool(), ids, tokenizer.pad_token_id)
    lig = LayerIntegratedGradients(
        lambda i, t: torch.sigmoid(model(input_ids=i, token_type_ids=t).logits),
        model.get_input_embeddings())
    raw = lig.attribute((ids, encoding["token_type_ids"]),
                        baselines=(baseline, encoding["token_type_ids"]), target=0,
                        n_steps=50).sum(-1)[0]
    assert [v for _, v in explained[1]] == pytest.approx((raw / raw.norm()).tolist(), abs=1e-5)


def test_relevant_passage_scores_above_unrelated_for_the_right_words(explained, cross_encoder):
    explainer, attributions = explained
    relevant = explainer.pred_probs
    explainer_2 = PairwiseSequenceClassificationExplainer(*cross_encoder)
    explainer_2(QUERY, UNRELATED, n_steps=8)
    assert relevant > explainer_2.pred_probs + 0.2, (relevant, explainer_2.pred_probs)
    sep = [t for t, _ in attributions].index("[SEP]")
    query, passage = dict(attributions[1:sep]), dict(attributions[sep + 1 : -1])
    assert query["berlin"] > 0 and passage["berlin"] > 0
    assert max(passage, key=passage.get) == "population"  # what the query asks about


def test_flip_sign_and_completeness(cross_encoder, explained):
    explainer = PairwiseSequenceClassificationExplainer(*cross_encoder)
    flipped, delta = explainer(QUERY, PASSAGE, flip_sign=True, return_convergence_delta=True)
    for (token, value), (same, original) in zip(flipped, explained[1], strict=True):
        assert token == same and value == pytest.approx(-original, abs=1e-6)
    assert abs(delta) < 1e-3


def test_multi_class_pair_model(cross_encoder):
    """An NLI model is a pairwise classifier too: class_name picks the label to explain."""
    explainer = PairwiseSequenceClassificationExplainer(*_load("nli"))
    attributions = explainer("A man is playing a guitar on stage.", "A man plays music.",
                             class_name="entailment", n_steps=10)
    assert explainer.id2label[explainer.selected_index] == "entailment"
    assert len(attributions) > 10 and not explainer._single_node_output
    with pytest.raises(KeyError, match="'contradiction', 'entailment', 'neutral'"):
        explainer("a", "b", class_name="ENTAILS")


def test_long_pair_is_truncated(cross_encoder):
    explainer = PairwiseSequenceClassificationExplainer(*cross_encoder)
    with pytest.warns(errors.TextTruncatedWarning, match="text pair"):
        attributions = explainer(QUERY, PASSAGE * 40, n_steps=4)
    assert len(attributions) == 512 and [t for t, _ in attributions].count("[SEP]") == 2


def test_empty_texts(cross_encoder):
    explainer = PairwiseSequenceClassificationExplainer(*cross_encoder)
    with pytest.raises(ValueError, match="second text is empty"):
        explainer(QUERY, "")
    with pytest.raises(ValueError, match="first text is empty"):
        explainer(" ", PASSAGE)


def test_visualize(explained, tmp_path):
    explainer, _ = explained
    page = explainer.visualize(tmp_path / "cross_encoder_attr.html").html()
    assert "population" in page and "score 0." in page
