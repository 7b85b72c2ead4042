"""TokenClassificationExplainer on the ``ner`` twin (BERT, CoNLL labels)."""

from __future__ import annotations

import json

import pytest

from explainlab import errors
from explainlab.explain import TokenClassificationExplainer

from conftest import twin

pytestmark = pytest.mark.slow
SENTENCE = "We visited Paris last weekend, where Emmanuel Macron lives."


@pytest.fixture(scope="module")
def ner():
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    folder = twin("ner")
    return (AutoModelForTokenClassification.from_pretrained(folder).eval(),
            AutoTokenizer.from_pretrained(folder))


@pytest.fixture(scope="module")
def explained(ner):
    explainer = TokenClassificationExplainer(*ner)
    batched = explainer(SENTENCE, ignored_labels=["O"])
    delta = explainer.convergence_delta
    one_by_one = TokenClassificationExplainer(*ner)
    return (explainer, batched, delta,
            one_by_one(SENTENCE, ignored_labels=["O"], batch_labels=False),
            one_by_one.convergence_delta)


def test_paris_is_a_location_because_of_paris(explained):
    explainer, attributions, *_ = explained
    assert attributions["paris"]["label"] == "B-LOC"
    assert attributions["emmanuel"]["label"] == "B-PER"
    scores = attributions["paris"]["attribution_scores"]
    tokens = [t for t, _ in scores]
    assert tokens[:4] == ["[CLS]", "we", "visited", "paris"] and tokens[-1] == "[SEP]"
    assert max(scores, key=lambda p: p[1])[0] == "paris"
    names = explainer.predicted_class_names
    assert len(names) == len(tokens) and names[tokens.index("paris")] == "B-LOC"
    assert all(names[tokens.index(w)] == "O" for w in ("we", "visited", "last", "lives"))
    # Every explained token was predicted as something other than O.
    assert all(entry["label"] != "O" for entry in attributions.values())


def test_entity_tokens_share_one_path(explained):
    _, batched, delta, one_by_one, one_by_one_delta = explained
    assert list(batched) == list(one_by_one)
    for key in batched:
        assert batched[key]["label"] == one_by_one[key]["label"]
        assert [v for _, v in batched[key]["attribution_scores"]] == pytest.approx(
            [v for _, v in one_by_one[key]["attribution_scores"]], abs=1e-6)
        assert delta[key] == pytest.approx(one_by_one_delta[key], abs=1e-6)
    assert max(abs(d) for d in delta.values()) < 0.01, delta


def test_ignored_indexes(ner):
    explainer = TokenClassificationExplainer(*ner)
    everything = explainer(SENTENCE, n_steps=4)
    assert len(everything) >= len(explainer.predicted_class_names) - 1  # "," appears once
    fewer = explainer(SENTENCE, ignored_indexes=[0, -1, 3], n_steps=4)
    assert "[CLS]" not in fewer and "[SEP]" not in fewer and "paris" not in fewer
    assert explainer(SENTENCE, ignored_labels=list(explainer.label2id), n_steps=4) == {}
    with pytest.raises(KeyError, match="'B-LOC'"):
        explainer(SENTENCE, ignored_labels=["OUTSIDE"])


def test_repeated_tokens_keep_their_own_entries(ner):
    explainer = TokenClassificationExplainer(*ner)
    attributions = explainer("Paris is not Texas, and Paris is big.", n_steps=4)
    keys = [k for k in attributions if k.startswith("paris")]
    assert len(keys) == 2 and all(k.startswith("paris (") for k in keys)


def test_bad_input(ner):
    with pytest.raises(errors.EmptyInputError):
        TokenClassificationExplainer(*ner)("")


def test_visualize_and_exports(explained, tmp_path):
    explainer, attributions, *_ = explained
    page = explainer.visualize(tmp_path / "bert_ner_viz.html").html()
    assert page.count("<tr>") == 1 + len(attributions) and "B-LOC" in page
    frame = explainer.to_dataframe()
    assert "target_position" in frame.columns
    assert set(frame["target"]) == set(attributions)
    document = json.loads(explainer.to_json())
    assert document["word_attributions"]["paris"]["label"] == "B-LOC"
