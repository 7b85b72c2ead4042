"""SequenceClassificationExplainer on the ``sst2`` twin (DistilBERT), with the seed's sentences."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import pytest
import torch

from explainlab import errors
from explainlab.explain import SequenceClassificationExplainer

from conftest import twin

pytestmark = pytest.mark.slow
LOVE = "I love you, I like you"
MIXED = "I love you, I like you, I also kinda dislike you"


@pytest.fixture(scope="module")
def sst2():
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = twin("sst2")
    return (AutoModelForSequenceClassification.from_pretrained(folder).eval(),
            AutoTokenizer.from_pretrained(folder))


@pytest.fixture(scope="module")
def explained(sst2):
    explainer = SequenceClassificationExplainer(*sst2)
    return explainer, explainer(LOVE)


def test_love_is_positive_and_love_like_carry_it(explained):
    explainer, attributions = explained
    tokens = [t for t, _ in attributions]
    assert tokens == ["[CLS]", "i", "love", "you", ",", "i", "like", "you", "[SEP]"]
    assert explainer.predicted_class_index == 1
    assert explainer.predicted_class_name == "POSITIVE"
    assert explainer.pred_probs > 0.9
    scores = dict(attributions[1:-1])
    ranked = sorted(attributions, key=lambda pair: -pair[1])
    assert ranked[0][0] == "love"
    assert "like" in [t for t, _ in ranked[:3]] and scores["like"] > 0.15
    assert attributions[0][1] == attributions[-1][1] == 0.0  # [CLS], [SEP]: as the baseline
    assert sum(v * v for _, v in attributions) == pytest.approx(1.0, abs=1e-6)


def test_same_numbers_as_captum_by_hand(sst2, explained):
    """transformers-interpret's method written out with Captum: LIG on the word embeddings,
    [CLS] + [PAD]*n + [SEP] baseline, softmax probability, sum over hidden, unit norm."""
    from captum.attr import LayerIntegratedGradients

    model, tokenizer = sst2
    ids = torch.tensor([tokenizer.encode("I love you , I like you")])
    baseline = torch.tensor([[tokenizer.cls_token_id] + [tokenizer.pad_token_id] * 7
                             + [tokenizer.sep_token_id]])
    lig = LayerIntegratedGradients(lambda i: torch.softmax(model(i).logits, -1),
                                   model.get_input_embeddings())
    raw = lig.attribute(ids, baselines=baseline, target=1, n_steps=50).sum(-1)[0]
    expected = (raw / raw.norm()).tolist()
    got = [v for _, v in explained[1]]
    assert got == pytest.approx(expected, abs=1e-5)


def test_class_name_explains_the_other_class(sst2):
    explainer = SequenceClassificationExplainer(*sst2)
    negative = dict(explainer(MIXED, class_name="NEGATIVE"))
    assert explainer.predicted_class_name == "POSITIVE"  # the prediction does not change
    assert explainer.selected_index == 0
    assert max(negative, key=negative.get) == "dislike" and negative["love"] < 0
    # Two classes: the attributions for one are exactly the other's, negated.
    positive = explainer(MIXED, index=1)
    by_index = explainer(MIXED, index=0)
    for (_, p), (_, n), (_, i) in zip(positive, explainer(MIXED, class_name="NEGATIVE"),
                                      by_index, strict=True):
        assert n == pytest.approx(-p, abs=1e-5) and i == n


def test_convergence_delta_is_small(sst2):
    explainer = SequenceClassificationExplainer(*sst2)
    attributions, delta = explainer(LOVE, return_convergence_delta=True)
    assert attributions == explainer.word_attributions
    assert isinstance(delta, float) and abs(delta) < 5e-3
    assert explainer.convergence_delta == delta


def test_position_embeddings(sst2):
    explainer = SequenceClassificationExplainer(*sst2)
    words = explainer(LOVE, n_steps=30)
    attributions = explainer(LOVE, embedding_type=1, n_steps=30)
    # The baseline puts every token at position 0: [CLS] is there already, [SEP] is not.
    assert attributions[0][1] == 0.0 and attributions[-1][1] != 0.0
    assert [t for t, _ in attributions] == [t for t, _ in words] and attributions != words


def test_bad_inputs(sst2):
    explainer = SequenceClassificationExplainer(*sst2)
    with pytest.raises(errors.AttributionsNotCalculatedError):
        explainer.word_attributions  # noqa: B018
    with pytest.raises(ValueError, match="empty"):
        explainer("  ")
    with pytest.raises(KeyError, match="'NEGATIVE', 'POSITIVE'"):
        explainer(LOVE, class_name="positive")
    with pytest.raises(IndexError):
        explainer(LOVE, index=2)
    with pytest.raises(ValueError, match="use one of: lig"):
        SequenceClassificationExplainer(*sst2, attribution_type="ig")


def test_long_text_is_truncated_with_a_warning(sst2):
    model, tokenizer = sst2
    text = "I love this film . " * 150
    total = len(tokenizer(text)["input_ids"])
    explainer = SequenceClassificationExplainer(model, tokenizer)
    with pytest.warns(errors.TextTruncatedWarning) as record:
        attributions = explainer(text, n_steps=4, internal_batch_size=2)
    assert f"dropped {total - 512} tokens" in str(record[0].message)
    assert len(attributions) == 512 and attributions[-1][0] == "[SEP]"
    assert explainer.n_steps == 4 and explainer.internal_batch_size == 2  # they stay


def test_custom_labels(sst2):
    explainer = SequenceClassificationExplainer(*sst2, custom_labels=["bad", "good"])
    explainer(LOVE, n_steps=8)
    assert explainer.predicted_class_name == "good"
    assert explainer.label2id == {"bad": 0, "good": 1}


def test_visualize_writes_self_contained_html(explained, tmp_path):
    explainer, _ = explained
    viz = explainer.visualize(str(tmp_path / "distilbert_viz"))
    page = (tmp_path / "distilbert_viz.html").read_text()
    assert "love" in page and "POSITIVE" in page and "<script" not in page
    assert "http://" not in page and "https://" not in page
    assert viz._repr_html_() in page
    assert explainer._repr_html_() == viz._repr_html_()
    assert "True label" in explainer.visualize(true_class="POSITIVE").data


def test_visualize_needs_no_ipython(tmp_path):
    """A fresh interpreter where IPython cannot be imported still writes the page."""
    script = (
        "import sys; sys.modules['IPython'] = None\n"
        "from transformers import AutoModelForSequenceClassification as M, AutoTokenizer as T\n"
        "from explainlab.explain import SequenceClassificationExplainer as E\n"
        f"folder = {str(twin('sst2'))!r}\n"
        "e = E(M.from_pretrained(folder), T.from_pretrained(folder))\n"
        "e('I love you', n_steps=4)\n"
        f"e.visualize({str(tmp_path / 'x.html')!r})\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "love" in (tmp_path / "x.html").read_text()


def test_dataframe_and_json(explained, tmp_path):
    explainer, attributions = explained
    frame = explainer.to_dataframe()
    assert list(frame.columns) == ["target", "prediction", "score", "position", "token",
                                   "attribution", "convergence_delta"]
    assert frame["token"].tolist() == [t for t, _ in attributions]
    assert frame["attribution"].tolist() == [v for _, v in attributions]
    assert set(frame["target"]) == {"POSITIVE"}
    document = json.loads(explainer.to_json(tmp_path / "e.json"))
    assert document == json.loads((tmp_path / "e.json").read_text())
    assert document["explainer"] == "sequence_classification"
    assert document["predicted_class_name"] == "POSITIVE"
    assert document["word_attributions"] == [list(pair) for pair in attributions]


def test_model_output_unchanged_and_no_warnings(sst2):
    explainer = SequenceClassificationExplainer(*sst2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        explainer(LOVE, n_steps=4)
    assert all(p.grad is None for p in sst2[0].parameters())
