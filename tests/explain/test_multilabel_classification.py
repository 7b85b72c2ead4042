"""MultiLabelClassificationExplainer on the ``emotion`` twin (RoBERTa, 7 labels)."""

from __future__ import annotations

import json

import pytest
import torch

from explainlab.explain import MultiLabelClassificationExplainer

from conftest import twin

pytestmark = pytest.mark.slow
REVIEW = ("There were many aspects of the film I liked, but it was frightening and gross in "
          "parts. My parents hated it.")
LABELS = ["anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise"]


@pytest.fixture(scope="module")
def emotion():
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = twin("emotion")
    return (AutoModelForSequenceClassification.from_pretrained(folder).eval(),
            AutoTokenizer.from_pretrained(folder))


@pytest.fixture(scope="module")
def explained(emotion):
    explainer = MultiLabelClassificationExplainer(*emotion)
    batched = explainer(REVIEW)
    batched_delta = explainer.convergence_delta
    per_label = MultiLabelClassificationExplainer(*emotion)
    return explainer, batched, batched_delta, per_label(REVIEW, batch_labels=False), per_label


def _top(attributions):
    return max(attributions, key=lambda pair: pair[1])[0]


def test_one_attribution_per_label_in_label_order(explained, emotion):
    explainer, attributions, *_ = explained
    assert list(attributions) == LABELS == explainer.labels
    tokens = [t for t, _ in attributions["fear"]]
    assert tokens[0] == "<s>" and tokens[-1] == "</s>"
    assert "frightening" in tokens and not any("Ġ" in t for t in tokens)
    for label in LABELS:
        assert [t for t, _ in attributions[label]] == tokens
        assert sum(v * v for _, v in attributions[label]) == pytest.approx(1.0, abs=1e-6)


def test_the_seed_review(explained):
    _, attributions, *_ = explained
    assert _top(attributions["fear"]) == "frightening"
    assert _top(attributions["anger"]) == "hated"
    assert _top(attributions["joy"]) == "liked"


def test_probabilities_are_sigmoids(explained, emotion):
    explainer, *_ = explained
    model, _ = emotion
    with torch.no_grad():
        logits = model(input_ids=explainer.input_ids).logits[0]
    assert explainer.pred_probs == pytest.approx(torch.sigmoid(logits).tolist(), abs=1e-5)
    assert list(explainer.label_probs_dict) == LABELS
    assert explainer.predicted_class_name == LABELS[int(logits.argmax())]


def test_batched_labels_give_the_same_numbers_as_one_label_at_a_time(explained):
    _, batched, batched_delta, per_label, per_label_explainer = explained
    assert list(batched) == list(per_label)
    for label in LABELS:
        assert [t for t, _ in batched[label]] == [t for t, _ in per_label[label]]
        got = [v for _, v in batched[label]]
        assert got == pytest.approx([v for _, v in per_label[label]], abs=1e-6)
        assert batched_delta[label] == pytest.approx(
            per_label_explainer.convergence_delta[label], abs=1e-6)


def test_completeness(explained):
    """Summed raw attributions = p(input) - p(baseline) for every label (RoBERTa's positions
    are passed explicitly, so the baseline is where the integration path starts)."""
    _, _, delta, *_ = explained
    assert set(delta) == set(LABELS)
    assert max(abs(d) for d in delta.values()) < 1e-3, delta


def test_visualize_and_exports(explained, tmp_path):
    explainer, attributions, *_ = explained
    page = explainer.visualize(tmp_path / "multilabel_viz.html").html()
    assert page.count("<tr>") == 1 + len(LABELS) and "frightening" in page
    frame = explainer.to_dataframe()
    assert len(frame) == len(LABELS) * len(attributions["fear"])
    assert frame.groupby("target", sort=False).size().index.tolist() == LABELS
    document = json.loads(explainer.to_json())
    assert list(document["word_attributions"]) == LABELS
    assert document["label_probabilities"] == pytest.approx(explainer.label_probs_dict)
