"""ZeroShotClassificationExplainer on the ``nli`` twin (DeBERTa), with the seed's Macbook text."""

from __future__ import annotations

import pytest

from explainlab import errors
from explainlab.explain import ZeroShotClassificationExplainer

from conftest import twin

pytestmark = pytest.mark.slow
MACBOOK = ("Today apple released the new Macbook showing off a range of new features found in "
           "the proprietary silicon chip computer. ")
LABELS = ["finance", "technology", "sports"]


def _load(role):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = twin(role)
    return (AutoModelForSequenceClassification.from_pretrained(folder).eval(),
            AutoTokenizer.from_pretrained(folder))


@pytest.fixture(scope="module")
def nli():
    return _load("nli")


@pytest.fixture(scope="module")
def explained(nli):
    explainer = ZeroShotClassificationExplainer(*nli)
    return explainer, explainer(MACBOOK, labels=LABELS)


def test_macbook_is_technology(explained):
    explainer, attributions = explained
    assert explainer.predicted_label == "technology"
    assert list(attributions) == LABELS == explainer.labels
    assert explainer.entailment_key == "entailment"
    assert explainer.hypothesis_labels == [f"this text is about {label} ." for label in LABELS]
    probs = explainer.label_probs_dict
    assert max(probs, key=probs.get) == "technology" and sum(probs.values()) == pytest.approx(1)


def test_attributions_cover_the_text_only(explained, nli):
    _, attributions = explained
    _, tokenizer = nli
    tokens = [t for t, _ in attributions["technology"]]
    text_tokens = [t.replace("Ġ", "") for t in tokenizer.tokenize(
        "Today apple released the new Macbook showing off a range of new features found in "
        "the proprietary silicon chip computer . ")]
    assert tokens == [tokenizer.cls_token] + text_tokens  # every text token, no hypothesis
    for label in LABELS:
        assert sum(v * v for _, v in attributions[label]) == pytest.approx(1.0, abs=1e-6)


def test_include_hypothesis(nli):
    explainer = ZeroShotClassificationExplainer(*nli)
    attributions = explainer(MACBOOK, ["technology"], include_hypothesis=True, n_steps=10)
    _, tokenizer = nli
    tokens = [t for t, _ in attributions["technology"]]
    expected = tokenizer.convert_ids_to_tokens(tokenizer(
        MACBOOK.replace(".", " . ").replace("  ", " "),
        "this text is about technology .")["input_ids"])
    assert tokens == [t.replace("Ġ", "") for t in expected]
    assert tokens[-7:] == ["this", "text", "is", "about", "technology", ".", "[SEP]"]


def test_batched_labels_give_the_same_numbers(nli):
    """Hypotheses of different lengths: the batch is padded; the numbers do not move."""
    labels = ["technology", "consumer electronics and gadgets", "sports"]
    explainer = ZeroShotClassificationExplainer(*nli)
    batched = explainer(MACBOOK, labels, n_steps=20, include_hypothesis=True)
    batched_delta = explainer.convergence_delta
    one_by_one = explainer(MACBOOK, labels, n_steps=20, include_hypothesis=True,
                           batch_labels=False)
    assert len(batched["consumer electronics and gadgets"]) > len(batched["sports"])
    for label in labels:
        assert [t for t, _ in batched[label]] == [t for t, _ in one_by_one[label]]
        assert [v for _, v in batched[label]] == pytest.approx(
            [v for _, v in one_by_one[label]], abs=1e-5)
        assert batched_delta[label] == pytest.approx(explainer.convergence_delta[label],
                                                     abs=1e-5)


def test_completeness_with_enough_steps(nli):
    """The twin's entailment probability bends sharply along the path, so 50 steps leave a
    gap. How sharply is not part of the twin's contract: on a twin built with AVX-512
    kernels 400 steps closed it, on one built with AVX2 kernels 400 left 0.058 and 1000
    left 1.2e-4. So 1000."""
    explainer = ZeroShotClassificationExplainer(*nli)
    explainer(MACBOOK, ["technology"])
    coarse = abs(explainer.convergence_delta["technology"])
    explainer(MACBOOK, ["technology"], n_steps=1000, internal_batch_size=250)
    fine = abs(explainer.convergence_delta["technology"])
    assert fine < 1e-3 and fine < coarse


def test_bad_inputs(nli):
    explainer = ZeroShotClassificationExplainer(*nli)
    with pytest.raises(errors.EmptyInputError):
        explainer(MACBOOK, [])
    with pytest.raises(ValueError, match="empty"):
        explainer("", LABELS)
    with pytest.raises(ValueError, match="exactly once"):
        explainer(MACBOOK, LABELS, hypothesis_template="this text is about it.")
    assert list(explainer(MACBOOK, "technology", n_steps=4)) == ["technology"]


def test_a_model_without_entailment_is_refused():
    with pytest.raises(errors.NoEntailmentLabelError, match="'NEGATIVE', 'POSITIVE'") as info:
        ZeroShotClassificationExplainer(*_load("sst2"))
    assert isinstance(info.value, ValueError) and "NLI model" in str(info.value)


def test_visualize(explained, tmp_path):
    explainer, _ = explained
    page = explainer.visualize(tmp_path / "zero_shot.html").html()
    assert page.count("<tr>") == 1 + len(LABELS) and "Macbook" in page
