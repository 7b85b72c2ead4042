"""explainlab.evaluate (lesson 06): the metrics on inputs whose answers are known by hand,
then the scorers, rollout, ablation, randomisation and patching on the twins, checked
against the models run directly."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import torch

from explainlab import evaluate as ev

from conftest import twin

# --------------------------------------------------------------------------- metrics


def test_ranking_signed_unsigned_ties_and_nan():
    assert ev.ranking([0.1, -0.9, 0.5]) == [2, 0, 1]
    assert ev.ranking([0.1, -0.9, 0.5], signed=False) == [1, 2, 0]
    assert ev.ranking([1.0, 1.0, 0.0]) == [0, 1, 2]
    with pytest.raises(ValueError, match="NaN"):
        ev.ranking([0.1, math.nan])


def _additive(weights):
    # A model whose score is the sum of the kept features' weights.
    return lambda masks: [sum(w for w, keep in zip(weights, m, strict=True) if keep)
                          for m in masks]


def test_perturbation_curves_follow_the_order():
    curves = ev.perturbation_curves(_additive([0.5, 0.1, 0.3, 0.1]), [0, 2, 1, 3])
    assert curves["deletion"] == pytest.approx([1.0, 0.5, 0.2, 0.1, 0.0])
    assert curves["insertion"] == pytest.approx([0.0, 0.5, 0.8, 0.9, 1.0])
    with pytest.raises(ValueError, match="every feature index"):
        ev.perturbation_curves(_additive([1, 1]), [0, 0])


def test_faithfulness_by_hand():
    curves = {"deletion": [1.0, 0.5, 0.2, 0.1, 0.0], "insertion": [0.0, 0.5, 0.8, 0.9, 1.0]}
    scores = ev.faithfulness(curves, fractions=(0.25, 0.5))  # k = 1 and 2 of 4
    assert scores["comprehensiveness"] == pytest.approx(((1 - 0.5) + (1 - 0.2)) / 2)
    assert scores["sufficiency"] == pytest.approx(((1 - 0.5) + (1 - 0.8)) / 2)
    assert scores["AOPC"] == pytest.approx((0 + 0.5 + 0.8 + 0.9 + 1.0) / 5)
    assert scores["deletion AUC"] == pytest.approx((0.75 + 0.35 + 0.15 + 0.05) / 4)
    assert scores["insertion AUC"] == pytest.approx((0.25 + 0.65 + 0.85 + 0.95) / 4)
    # The right order beats the wrong one on every metric.
    good = ev.faithfulness(ev.perturbation_curves(_additive([0.6, 0.1, 0.3]), [0, 2, 1]))
    bad = ev.faithfulness(ev.perturbation_curves(_additive([0.6, 0.1, 0.3]), [1, 2, 0]))
    assert good["comprehensiveness"] > bad["comprehensiveness"]
    assert good["sufficiency"] < bad["sufficiency"]
    assert good["deletion AUC"] < bad["deletion AUC"]
    assert good["insertion AUC"] > bad["insertion AUC"]
    with pytest.raises(ValueError, match="same length"):
        ev.faithfulness({"deletion": [1.0], "insertion": [0.0]})


def test_gold_links_argmax_links_and_aer():
    table = pd.DataFrame([[0.9, 0.1, 0.0], [0.05, 0.2, 0.0], [0.05, 0.7, 1.0]],
                         index=["我", "喜欢", "</s>"], columns=["I", "like", "</s>"])
    gold = ev.gold_links(table, "我喜欢", "I like", [("我", "I"), ("喜欢", "like")],
                         specials=["</s>"])
    assert gold == {(0, 0), (1, 1)}
    predicted = ev.argmax_links(table, specials=["</s>"])  # </s> row left out
    assert predicted == {(0, 0), (1, 1)}
    assert ev.alignment_error_rate(predicted, gold) == 0
    assert ev.alignment_error_rate({(0, 1)}, gold) == pytest.approx(1.0)
    assert ev.alignment_error_rate({(0, 0), (0, 1)}, gold) == pytest.approx(0.5)
    assert ev.argmax_links(-table, specials=["</s>"], signed=False) == predicted
    with pytest.raises(ValueError, match="No links"):
        ev.alignment_error_rate(set(), set())


def test_mass_inside_and_pointing_game():
    mask = torch.zeros(4, 4, dtype=torch.bool)
    mask[:2, :2] = True
    values = torch.zeros(4, 4)
    values[0, 0], values[3, 3], values[2, 2] = 3.0, 1.0, -5.0  # negatives are left out
    assert ev.mass_inside(values, mask) == pytest.approx(0.75)
    assert ev.pointing_game(values, mask) is True
    values[3, 3] = 4.0
    assert ev.pointing_game(values, mask) is False
    assert math.isnan(ev.mass_inside(-values.abs(), mask))
    with pytest.raises(ValueError, match="resize"):
        ev.mass_inside(torch.zeros(3, 4, 4), mask)
    with pytest.raises(ValueError, match="empty"):
        ev.pointing_game(values, torch.zeros(4, 4, dtype=torch.bool))


def test_attention_rollout_by_hand():
    first = torch.tensor([[[[1.0, 0.0], [1.0, 0.0]]]])  # every position reads position 0
    second = torch.tensor([[[[0.0, 1.0], [0.0, 1.0]], [[1.0, 0.0], [1.0, 0.0]]]])  # 2 heads
    raw = ev.attention_rollout([first, second], residual=False)
    assert raw == pytest.approx(torch.tensor([[1.0, 0.0], [1.0, 0.0]]))
    with_residual = ev.attention_rollout([first], residual=True)
    assert with_residual == pytest.approx(torch.tensor([[1.0, 0.0], [0.5, 0.5]]))
    assert ev.attention_rollout([first, second]).sum(-1) == pytest.approx(torch.ones(2))
    with pytest.raises(ValueError, match="output_attentions"):
        ev.attention_rollout([])


def test_ablated_heads_zero_their_slices_and_leave_no_hook():
    projection = torch.nn.Linear(6, 2, bias=False)
    torch.nn.init.ones_(projection.weight)
    x = torch.arange(6, dtype=torch.float32)[None]
    assert projection(x).tolist() == [[15.0, 15.0]]
    with ev.ablated_heads(projection, [1], num_heads=3):  # head 1: features 2 and 3
        assert projection(x).tolist() == [[10.0, 10.0]]
    assert projection(x).tolist() == [[15.0, 15.0]]
    with pytest.raises(ValueError, match="outside"):
        with ev.ablated_heads(projection, [3], num_heads=3):
            pass
    with pytest.raises(ValueError, match="do not split"):
        with ev.ablated_heads(projection, [0], num_heads=4):
            pass


def test_cascading_randomization_from_the_top():
    model = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    before = [p.detach().clone() for p in model.parameters()]
    state = torch.random.get_rng_state()
    stages = []
    for name, randomized in ev.cascading_randomization(model, [("top", "2"), ("bottom", "0")]):
        stages.append((name, [p.detach().clone() for p in randomized.parameters()]))
    assert [name for name, _ in stages] == ["top", "bottom"]
    top = stages[0][1]
    assert torch.equal(top[0], before[0]) and not torch.equal(top[2], before[2])
    assert not torch.equal(stages[1][1][0], before[0])
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), before, strict=True))
    assert torch.equal(torch.random.get_rng_state(), state)
    with pytest.raises(ValueError, match="no layer with parameters"):
        list(ev.cascading_randomization(model, [("relu", "1")]))


# --------------------------------------------------------------------------- on the twins


@pytest.fixture(scope="module")
def sst2():
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = twin("sst2")
    return (AutoModelForSequenceClassification.from_pretrained(folder).eval(),
            AutoTokenizer.from_pretrained(folder))


@pytest.mark.slow
def test_classifier_scorer_deletes_tokens(sst2):
    model, tokenizer = sst2
    text = "This movie was a complete waste of time."
    tokens, target, score = ev.classifier_scorer(model, tokenizer, text)
    assert tokens == tokenizer.tokenize(text)
    assert model.config.id2label[target] == "NEGATIVE"

    def probability(ids):
        with torch.no_grad():
            return model(input_ids=torch.tensor([ids])).logits.softmax(-1)[0, target].item()

    ids = tokenizer(text)["input_ids"]
    waste = tokens.index("waste")
    keep = [i != waste for i in range(len(tokens))]
    full, without = score([[True] * len(tokens), keep])
    assert full == pytest.approx(probability(ids), abs=1e-5)
    assert without == pytest.approx(probability(ids[:waste + 1] + ids[waste + 2:]), abs=1e-5)
    assert without < full - 0.1  # 'waste' drives the twin's NEGATIVE
    _, positive, _ = ev.classifier_scorer(model, tokenizer, text, target="positive")
    assert model.config.id2label[positive] == "POSITIVE"
    with pytest.raises(ValueError, match="Unknown label"):
        ev.classifier_scorer(model, tokenizer, text, target="neutral")
    with pytest.raises(ValueError, match="no tokens"):
        ev.classifier_scorer(model, tokenizer, "")


@pytest.mark.slow
def test_translation_scorer_matches_inseqs_step_probability():
    import inseq

    model = inseq.load_model(str(twin("mt-zh-en")), "saliency")
    source = "我喜欢机器学习和人工智能。"
    out = model.attribute(source, step_scores=["probability"], show_progress=False)
    sequence = out.sequence_attributions[0]
    generated = [t.id for t in sequence.target][1:]
    probabilities = sequence.step_scores["probability"].tolist()
    for step in (0, 3):
        tokens, score = ev.translation_scorer(model.model, model.tokenizer, source, generated,
                                              step=step)
        assert "</s>" not in tokens and len(tokens) >= 7
        full, empty = score([[True] * len(tokens), [False] * len(tokens)])
        assert full == pytest.approx(probabilities[step], abs=1e-4)
        assert empty < full
    with pytest.raises(ValueError, match="outside"):
        ev.translation_scorer(model.model, model.tokenizer, source, generated, step=99)


@pytest.mark.slow
def test_neighbour_effect_on_the_bertviz_twin():
    from transformers import AutoModel, AutoTokenizer

    folder = twin("bertviz")
    model = AutoModel.from_pretrained(folder, attn_implementation="eager").eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    text, layer = "The cat sat on the mat", 1
    ids = tokenizer(text)["input_ids"]

    def state(row, position):
        with torch.no_grad():
            out = model(input_ids=torch.tensor([row]), output_hidden_states=True)
        return out.hidden_states[layer + 1][0, position]

    by_hand = []
    for position in range(2, len(ids) - 1):  # each word with a word on its left
        masked = list(ids)
        masked[position - 1] = tokenizer.mask_token_id
        plain = state(ids, position)
        by_hand.append(float((state(masked, position) - plain).norm() / plain.norm()))
    assert ev.neighbour_effect(model, tokenizer, text, layer) == pytest.approx(
        sum(by_hand) / len(by_hand), rel=1e-4)
    # With every head of block 0 off, a word's vector after it depends on the word alone.
    every = range(model.config.num_attention_heads)
    assert ev.neighbour_effect(model, tokenizer, text, 0) > 0.01
    assert ev.neighbour_effect(model, tokenizer, text, 0, ablate=every) < 1e-5
    with pytest.raises(ValueError, match="at least two words"):
        ev.neighbour_effect(model, tokenizer, "cat", layer)
    without_mask = AutoTokenizer.from_pretrained(twin("lm"))
    with pytest.raises(ValueError, match=r"no \[MASK\] token"):
        ev.neighbour_effect(model, without_mask, text, layer)


@pytest.mark.slow
def test_fit_labels_fits_a_copy_and_refuses_bad_labels(sst2):
    model, tokenizer = sst2
    texts = ["This movie was a complete waste of time.", "A warm and funny film.",
             "The plot was boring.", "I love this wonderful cast.",
             "What a dull and tedious film.", "A great and moving story."]
    with torch.no_grad():
        predicted = model(**tokenizer(texts, padding=True, return_tensors="pt")).logits
    flipped = (1 - predicted.argmax(-1)).tolist()  # every label the twin gets wrong
    before = [p.detach().clone() for p in model.parameters()]
    state = torch.random.get_rng_state()
    trained, accuracy = ev.fit_labels(model, tokenizer, texts, flipped, epochs=30,
                                      progress=False)
    assert accuracy == 1.0 and not trained.training
    with torch.no_grad():
        after = trained(**tokenizer(texts, padding=True, return_tensors="pt")).logits
    assert after.argmax(-1).tolist() == flipped
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), before, strict=True))
    assert torch.equal(torch.random.get_rng_state(), state)
    names = [model.config.id2label[i] for i in predicted.argmax(-1).tolist()]
    again, accuracy = ev.fit_labels(model, tokenizer, texts, names, epochs=1, progress=False)
    assert accuracy == 1.0  # the twin's own labels, by name, are fitted at once
    with pytest.raises(ValueError, match="one label per text"):
        ev.fit_labels(model, tokenizer, texts, flipped[:-1])
    with pytest.raises(ValueError, match="Unknown label 'neutral'"):
        ev.fit_labels(model, tokenizer, texts[:1], ["neutral"])
    with pytest.raises(ValueError, match="Unknown label 2"):
        ev.fit_labels(model, tokenizer, texts[:1], [2])
    with pytest.raises(ValueError, match="confidence is a probability"):
        ev.fit_labels(model, tokenizer, texts[:1], [0], confidence=1.5)


@pytest.mark.slow
def test_patch_residual_on_the_lm_twin():
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = twin("lm")
    model = AutoModelForCausalLM.from_pretrained(folder).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    paris, tokyo = (tokenizer(w)["input_ids"][0] for w in (" Paris", " Tokyo"))
    frame = ev.patch_residual(model, tokenizer, "The capital of France is",
                              "The capital of Japan is",
                              lambda logits: logits[:, paris] - logits[:, tokyo])
    assert list(frame.columns) == ["The", "capital", "of", "Japan", "is"]
    assert list(frame.index) == ["embeddings", *(f"block {i}" for i in
                                                 range(model.config.num_hidden_layers))]
    clean, corrupted = frame.attrs["clean"], frame.attrs["corrupted"]
    assert clean > 0 > corrupted
    # The embeddings differ only at the country: patching it there is the clean run, and
    # patching any other position changes nothing.
    assert frame.loc["embeddings", "Japan"] == pytest.approx(clean, abs=1e-3)
    others = frame.loc["embeddings"].drop("Japan")
    assert others.to_numpy() == pytest.approx([corrupted] * 4, abs=1e-3)
    last = f"block {model.config.num_hidden_layers - 1}"
    assert frame.loc[last, "is"] == pytest.approx(clean, abs=1e-3)
    with pytest.raises(ValueError, match="same number of tokens"):
        ev.patch_residual(model, tokenizer, "The capital of France is", "Paris is",
                          lambda logits: logits[:, paris])
    assert not model.training
