"""The BERT-family twins of lessons 03 and 04: ``sst2``, ``cross-encoder``, ``bertviz`` and
``bert-neuron`` (recipes in ``explainlab_course.zoo.bert_tasks``).

What the twins do (labels, probabilities, attributions, rankings, attention heads) is their
contract (``bert_tasks.*Twin.contract``), re-measured by ``test_contract.py``; here: classes,
configs, tokenizers, held-out data, the weight conversions and BertViz's views."""

from __future__ import annotations

import json
import re
import warnings

import pytest
import torch

from explainlab_course.zoo import bert_tasks, bert_tasks_data

from conftest import twin

pytestmark = pytest.mark.slow


def _quiet_load(load):
    """Call ``load()`` with every warning an error; return its result."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return load()


def _words(texts) -> set[str]:
    return {w for text in texts for w in re.findall(r"[a-z']+", text.lower())}


# --------------------------------------------------------------------------- sst2

@pytest.fixture(scope="module")
def sst2():
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = twin("sst2")
    model, tokenizer = _quiet_load(lambda: (
        AutoModelForSequenceClassification.from_pretrained(folder).eval(),
        AutoTokenizer.from_pretrained(folder)))
    return folder, model, tokenizer


def _lig(model, tokenizer, text: str, label: str) -> list[tuple[str, float]]:
    """Lesson 03's integrated gradients, written out with Captum as a learner would."""
    from captum.attr import LayerIntegratedGradients

    ids = tokenizer(text, return_tensors="pt")["input_ids"]
    baseline = torch.tensor([[tokenizer.cls_token_id] + [tokenizer.pad_token_id] * (
        ids.shape[1] - 2) + [tokenizer.sep_token_id]])
    lig = LayerIntegratedGradients(lambda x: model(input_ids=x).logits,
                                   model.distilbert.embeddings)
    attributions = lig.attribute(ids, baselines=baseline,
                                 target=model.config.label2id[label]).sum(-1)[0]
    attributions = attributions / attributions.norm()
    return list(zip(tokenizer.convert_ids_to_tokens(ids[0]), attributions.tolist(), strict=False))


def test_sst2_classes_config(sst2):
    from transformers import DistilBertTokenizer, DistilBertTokenizerFast

    folder, model, tokenizer = sst2
    assert type(model).__name__ == "DistilBertForSequenceClassification"
    assert type(tokenizer).__name__ == "DistilBertTokenizer"
    config = json.loads((folder / "config.json").read_text())
    assert config["architectures"] == ["DistilBertForSequenceClassification"]
    assert config["model_type"] == "distilbert" and "type_vocab_size" not in config
    assert model.config.id2label == {0: "NEGATIVE", 1: "POSITIVE"}
    assert model.config.label2id == {"NEGATIVE": 0, "POSITIVE": 1}
    # Like the real tokenizer: uncased WordPiece, no token_type_ids, and vocab.txt on disk.
    encoded = tokenizer("I LOVE you")
    assert set(encoded) == {"input_ids", "attention_mask"}
    assert tokenizer.convert_ids_to_tokens(encoded["input_ids"]) == [
        "[CLS]", "i", "love", "you", "[SEP]"]
    for cls in (DistilBertTokenizer, DistilBertTokenizerFast):
        assert cls.from_pretrained(folder)("I LOVE you") == encoded
    assert (folder / "vocab.txt").read_text().splitlines()[:2] == ["[PAD]", "[UNK]"]


def test_sst2_captum_integrated_gradients(sst2):
    """Lesson 03's Captum call runs on the twin (which words lead is a term of the
    contract)."""
    _, model, tokenizer = sst2
    scores = _lig(model, tokenizer, "I love you, I like you", "POSITIVE")
    assert [t for t, _ in scores] == ["[CLS]", "i", "love", "you", ",", "i", "like", "you",
                                      "[SEP]"]
    assert scores[0][1] == scores[-1][1] == 0.0  # [CLS] and [SEP] are in the baseline too
    # The module's helper (bert_tasks.token_attributions) agrees with the hand-written one.
    helper = bert_tasks.token_attributions(model, tokenizer, "I love you, I like you", "POSITIVE")
    assert [t for t, _ in helper] == [t for t, _ in scores]
    assert max(abs(a - b) for (_, a), (_, b) in zip(helper, scores, strict=False)) < 1e-4


def test_sst2_held_out_words_are_new():
    reviews = bert_tasks.SST2_HELD_OUT_REVIEWS
    trained = _words(t for t, _ in bert_tasks.sentiment_examples("train"))
    # Each hand-written review has a sentiment word that no training review contains.
    for word in ("superb", "dreadful", "terrific", "tiresome", "cherish", "loathe",
                 "outstanding", "heartwarming", "atrocious", "magnificent", "pathetic"):
        assert word not in trained
    assert "the film was superb" in [t for t, _ in reviews]
    assert "a dreadful, boring mess" in [t for t, _ in reviews]


def test_sst2_generated_held_out_is_new():
    held_out = bert_tasks.sentiment_examples("held-out")
    train = {bert_tasks_data._normal(t) for t, _ in bert_tasks.sentiment_examples("train")}
    assert not train & {bert_tasks_data._normal(t) for t, _ in held_out}


def test_sst2_distilbert_layout_computes_what_minilm_does():
    """The conversion itself: MiniLM as BertModel vs the same weights as DistilBertModel."""
    from transformers import BertConfig, BertModel, DistilBertConfig, DistilBertModel

    state, base, tokens = bert_tasks._minilm(["I love you"], 2, pooler=False)
    bert = BertModel(BertConfig(**base), add_pooling_layer=False).eval()
    bert.load_state_dict(state)
    distil = DistilBertModel(DistilBertConfig(
        vocab_size=base["vocab_size"], n_layers=2, n_heads=12, dim=384, hidden_dim=1536)).eval()
    distil.load_state_dict({k.removeprefix("distilbert."): v
                            for k, v in bert_tasks._distilbert_state(state, 2).items()})
    ids = torch.tensor([[tokens.index(t) for t in ("[CLS]", "i", "love", "you", "[SEP]")]])
    with torch.no_grad():
        difference = (bert(ids).last_hidden_state - distil(ids).last_hidden_state).abs().max()
    assert difference < 1e-4


# --------------------------------------------------------------------------- cross-encoder

@pytest.fixture(scope="module")
def cross_encoder():
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = twin("cross-encoder")
    model, tokenizer = _quiet_load(lambda: (
        AutoModelForSequenceClassification.from_pretrained(folder).eval(),
        AutoTokenizer.from_pretrained(folder)))
    return folder, model, tokenizer


def test_cross_encoder_classes_config(cross_encoder):
    folder, model, tokenizer = cross_encoder
    assert type(model).__name__ == "BertForSequenceClassification"
    assert type(tokenizer).__name__ == "BertTokenizer"
    config = json.loads((folder / "config.json").read_text())
    assert config["architectures"] == ["BertForSequenceClassification"]
    assert model.config.num_labels == 1 and model.config.problem_type is None
    pair = tokenizer("How many people live in Berlin?", "Berlin has many people.")
    assert pair["token_type_ids"] == [0] * 9 + [1] * 6  # [CLS] query [SEP], passage [SEP]


# --------------------------------------------------------------------------- bertviz

@pytest.fixture(scope="module")
def bertviz_twin():
    from transformers import AutoTokenizer, BertModel

    folder = twin("bertviz")
    model, tokenizer = _quiet_load(lambda: (
        BertModel.from_pretrained(folder, attn_implementation="eager").eval(),
        AutoTokenizer.from_pretrained(folder)))
    return folder, model, tokenizer


def test_bertviz_classes(bertviz_twin):
    folder, model, tokenizer = bertviz_twin
    assert type(model).__name__ == "BertModel" and type(tokenizer).__name__ == "BertTokenizer"
    assert json.loads((folder / "config.json").read_text())["architectures"] == ["BertModel"]
    assert (model.config.num_hidden_layers, model.config.num_attention_heads) == (6, 12)


def test_bertviz_attentions(bertviz_twin):
    _, model, tokenizer = bertviz_twin
    inputs = tokenizer(bert_tasks.BERTVIZ_LESSON, return_tensors="pt")
    assert tokenizer.convert_ids_to_tokens(inputs["input_ids"][0]) == [
        "[CLS]", "the", "cat", "sat", "on", "the", "mat", "[SEP]"]
    with torch.no_grad():
        attentions = model(**inputs, output_attentions=True).attentions
    assert len(attentions) == 6
    assert all(a.shape == (1, 12, 8, 8) for a in attentions)
    assert torch.allclose(attentions[3].sum(-1), torch.ones(1, 12, 8), atol=1e-5)
    patterns = bert_tasks.attention_patterns(attentions)  # which heads: the contract
    assert patterns.keys() == set(bert_tasks.PATTERNS)


def test_bertviz_model_view_html(bertviz_twin):
    from bertviz import head_view, model_view

    _, model, tokenizer = bertviz_twin
    inputs = tokenizer(bert_tasks.BERTVIZ_LESSON, return_tensors="pt")
    with torch.no_grad():
        attention = model(**inputs, output_attentions=True).attentions
    tokens = tokenizer.convert_ids_to_tokens(inputs["input_ids"][0])
    for view in (model_view, head_view):
        html = view(attention, tokens, html_action="return").data
        assert '"mat"' in html and '"[SEP]"' in html


# --------------------------------------------------------------------------- bert-neuron

def test_bert_neuron_view_from_folder():
    from bertviz import neuron_view
    from bertviz.transformers_neuron_view import BertModel, BertTokenizer

    folder = twin("bert-neuron")
    assert {"config.json", "pytorch_model.bin", "model.safetensors", "vocab.txt"} <= {
        p.name for p in folder.iterdir()}
    model, tokenizer = _quiet_load(lambda: (
        BertModel.from_pretrained(str(folder)),
        BertTokenizer.from_pretrained(str(folder), do_lower_case=True)))
    _, info = BertModel.from_pretrained(str(folder), output_loading_info=True)
    assert info == {"missing_keys": [], "unexpected_keys": [], "error_msgs": []}
    sentence_a, sentence_b = bert_tasks.NEURON_LESSON
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)  # bertviz leaves its .js file open
        html = neuron_view.show(model, "bert", tokenizer, sentence_a, sentence_b,
                                display_mode="dark", layer=2, head=0, html_action="return").data
    params = json.loads(re.search(r"window\.bertviz_params = (\{.*?\})\n", html).group(1))
    attention = params["attention"]["all"]
    assert attention["left_text"] == ["[CLS]", "the", "cat", "sat", "on", "the", "mat", "[SEP]",
                                      "the", "cat", "lay", "on", "the", "rug", "[SEP]"]
    assert len(attention["attn"]) == bert_tasks.NEURON_LAYERS
    assert len(attention["queries"][2][0][0]) == 32  # head size 384 / 12
    assert params["layer"] == 2 and params["head"] == 0


def test_bert_neuron_loads_in_transformers_with_the_same_weights():
    from bertviz.transformers_neuron_view import BertModel as OldBertModel
    from transformers import AutoModel, AutoTokenizer

    folder = twin("bert-neuron")
    model, tokenizer = _quiet_load(lambda: (
        AutoModel.from_pretrained(folder, attn_implementation="eager").eval(),
        AutoTokenizer.from_pretrained(folder)))
    assert type(model).__name__ == "BertModel" and type(tokenizer).__name__ == "BertTokenizer"
    old = OldBertModel.from_pretrained(str(folder))
    inputs = tokenizer(*bert_tasks.NEURON_LESSON, return_tensors="pt")
    with torch.no_grad():
        new_out = model(**inputs, output_attentions=True)
        old_out = old(inputs["input_ids"], token_type_ids=inputs["token_type_ids"])
    assert (new_out.last_hidden_state - old_out[0]).abs().max() < 1e-4
    assert (new_out.attentions[2] - old_out[-1][2]["attn"]).abs().max() < 1e-5
