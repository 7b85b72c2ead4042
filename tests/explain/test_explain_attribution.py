"""explain._attribution on tiny random models: baselines, truncation, and the shared path.

The shared-path integrated gradients (one forward along the path for every target) must
give what Captum's LayerIntegratedGradients gives target by target.
"""

from __future__ import annotations

import warnings

import pytest
import torch

from explainlab import errors
from explainlab.explain import MultiLabelClassificationExplainer, _attribution

WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "i", "love", "you", ",", "like",
         "hate", "the", "film", "."]


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import BertTokenizer

    return BertTokenizer(vocab={w: i for i, w in enumerate(WORDS)})


def _bert(labels=5, positions=32):
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(WORDS), hidden_size=16, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=32,
                        max_position_embeddings=positions, num_labels=labels,
                        initializer_range=0.4)
    return BertForSequenceClassification(config).eval()


def _roberta():
    from transformers import RobertaConfig, RobertaForSequenceClassification

    torch.manual_seed(0)
    config = RobertaConfig(vocab_size=len(WORDS), hidden_size=16, num_hidden_layers=2,
                           num_attention_heads=2, intermediate_size=32, pad_token_id=0,
                           max_position_embeddings=40, num_labels=3,
                           initializer_range=0.4)
    return RobertaForSequenceClassification(config).eval()


def _run(model, tokenizer, embedding_type, *, shared, internal_batch_size=None, pair=False):
    encoded = _attribution.encode(model, tokenizer, ["i love you , i like the film ."],
                                  ["you hate the film"] if pair else None, reference_id=0)
    layer, used = _attribution.embedding_layer(model, embedding_type)
    assert used == embedding_type
    path = _attribution.path_inputs(model, encoded, used)
    forward = _attribution.ModelScores(model, path.names,
                                       lambda out: torch.softmax(out.logits, -1))
    method = _attribution.shared_path_lig if shared else _attribution.captum_lig_per_target
    return method(forward, layer, path, [0, 1, 2, 3, 4], n_steps=20,
                  internal_batch_size=internal_batch_size)


@pytest.mark.parametrize("embedding_type", [0, 1, 2])
def test_shared_path_equals_captum_per_target(tokenizer, embedding_type):
    model = _bert()
    captum = _run(model, tokenizer, embedding_type, shared=False, pair=True)
    shared = _run(model, tokenizer, embedding_type, shared=True, pair=True)
    chunked = _run(model, tokenizer, embedding_type, shared=True, pair=True,
                   internal_batch_size=7)
    assert captum.per_token.shape == shared.per_token.shape == (5, 16)
    assert captum.per_token.abs().max() > 1e-4  # not trivially zero
    for result in (shared, chunked):
        torch.testing.assert_close(result.per_token, captum.per_token, atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(result.delta, captum.delta, atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("embedding_type", [0, 2])
def test_path_lig_equals_captum_on_a_padded_batch(tokenizer, embedding_type):
    """Examples of different lengths (padded), each towards its own target, in one pass."""
    model = _bert()
    encoded = _attribution.encode(model, tokenizer, ["i love you , i like the film .", "i hate"],
                                  ["you hate the film", "the film , you like"], reference_id=0)
    assert not encoded.attention_mask.bool().all()  # there is padding
    layer, used = _attribution.embedding_layer(model, embedding_type)
    path = _attribution.path_inputs(model, encoded, used)
    forward = _attribution.ModelScores(model, path.names,
                                       lambda out: torch.softmax(out.logits, -1))
    captum = _attribution.captum_lig(forward, layer, path, [3, 1], n_steps=20,
                                     internal_batch_size=None)
    ours = _attribution.path_lig(forward, layer, path, [3, 1], n_steps=20,
                                 internal_batch_size=None)
    chunked = _attribution.path_lig(forward, layer, path, [3, 1], n_steps=20,
                                    internal_batch_size=14)  # 7 steps of 2 rows per pass
    assert captum.per_token.shape == ours.per_token.shape == (2, encoded.input_ids.shape[1])
    assert captum.per_token.abs().max() > 1e-4
    for result in (ours, chunked):
        torch.testing.assert_close(result.per_token, captum.per_token, atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(result.delta, captum.delta, atol=1e-6, rtol=1e-4)
    with pytest.raises(ValueError, match="2 targets for 1 examples"):
        _attribution.path_lig(forward, layer, _attribution.path_inputs(
            model, encoded.row(0), used), [3, 1], n_steps=4, internal_batch_size=None)


def test_explainers_work_under_no_grad(tokenizer):
    """A user's ``torch.no_grad()`` must not break the path (it needs gradients)."""
    from explainlab.explain import SequenceClassificationExplainer

    model = _bert()
    expected = SequenceClassificationExplainer(model, tokenizer)("i love the film", n_steps=8)
    multilabel = MultiLabelClassificationExplainer(model, tokenizer)
    labels = multilabel("i love the film", n_steps=8)
    with torch.no_grad():
        assert SequenceClassificationExplainer(model, tokenizer)("i love the film",
                                                                 n_steps=8) == expected
        assert multilabel("i love the film", n_steps=8) == labels


def test_multilabel_batched_equals_per_label(tokenizer):
    explainer = MultiLabelClassificationExplainer(_bert(), tokenizer)
    batched = explainer("I love you, I like the film.", n_steps=16)
    per_label = explainer("I love you, I like the film.", n_steps=16, batch_labels=False)
    assert list(batched) == list(per_label) == [f"LABEL_{i}" for i in range(5)]
    for label in batched:
        assert [t for t, _ in batched[label]] == [t for t, _ in per_label[label]]
        for (_, a), (_, b) in zip(batched[label], per_label[label], strict=True):
            assert a == pytest.approx(b, abs=1e-6)


def test_completeness_on_a_random_model(tokenizer):
    result = _run(_bert(), tokenizer, 0, shared=True)
    assert result.delta.abs().max() < 1e-4, result.delta


def test_roberta_baseline_is_where_the_path_starts(tokenizer):
    """RoBERTa numbers positions from the token ids; the baseline's [PAD]s must not change
    them, or the convergence delta stops measuring completeness."""
    model = _roberta()
    encoded = _attribution.encode(model, tokenizer, ["i love you , i like the film ."],
                                  reference_id=0)
    path = _attribution.path_inputs(model, encoded, 0)
    assert path.names == ("input_ids", "token_type_ids", "position_ids")
    positions = path.inputs[-1][0].tolist()
    assert positions == list(range(1, len(positions) + 1))  # pad_token_id + 1 onwards
    assert torch.equal(path.inputs[-1], path.baselines[-1])
    layer, _ = _attribution.embedding_layer(model, 0)
    forward = _attribution.ModelScores(model, path.names,
                                       lambda out: torch.softmax(out.logits, -1))
    result = _attribution.shared_path_lig(forward, layer, path, [0, 1, 2], n_steps=50,
                                          internal_batch_size=None)
    assert result.delta.abs().max() < 1e-4, result.delta


def test_baselines_keep_the_special_tokens(tokenizer):
    model = _bert()
    single = _attribution.encode(model, tokenizer, ["i love you"], reference_id=0)
    assert tokenizer.convert_ids_to_tokens(single.baseline_ids[0].tolist()) == [
        "[CLS]", "[PAD]", "[PAD]", "[PAD]", "[SEP]"]
    pair = _attribution.encode(model, tokenizer, ["i love you"], ["the film"], reference_id=0)
    assert tokenizer.convert_ids_to_tokens(pair.input_ids[0].tolist()) == [
        "[CLS]", "i", "love", "you", "[SEP]", "the", "film", "[SEP]"]
    assert tokenizer.convert_ids_to_tokens(pair.baseline_ids[0].tolist()) == [
        "[CLS]", "[PAD]", "[PAD]", "[PAD]", "[SEP]", "[PAD]", "[PAD]", "[SEP]"]
    assert pair.extras["token_type_ids"][0].tolist() == [0, 0, 0, 0, 0, 1, 1, 1]
    assert pair.first_separator() == 4


def test_long_text_is_truncated_with_a_count(tokenizer):
    model = _bert(positions=32)
    assert _attribution.max_length(model, tokenizer) == 32
    text = "i love you . " * 20  # 80 words + 2 special tokens
    with pytest.warns(errors.TextTruncatedWarning, match=r"dropped 50 tokens") as record:
        encoded = _attribution.encode(model, tokenizer, [text], reference_id=0)
    assert "32 tokens" in str(record[0].message)
    assert encoded.input_ids.shape == (1, 32) and encoded.dropped == [50]
    assert encoded.input_ids[0, -1].item() == tokenizer.sep_token_id  # still ends in [SEP]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _attribution.encode(model, tokenizer, ["i love you"], reference_id=0)


def test_unit_norm():
    values = torch.tensor([3.0, -4.0, 0.0])
    assert _attribution.unit_norm(values) == pytest.approx([0.6, -0.8, 0.0])
    assert _attribution.unit_norm(values, flip_sign=True) == pytest.approx([-0.6, 0.8, 0.0])
    assert _attribution.unit_norm(torch.zeros(3)) == [0.0, 0.0, 0.0]


def test_gauss_legendre_weights_integrate_exactly():
    alphas, weights = _attribution.gauss_legendre(10, "cpu")
    assert weights.sum().item() == pytest.approx(1.0, abs=1e-6)
    assert (alphas * alphas * alphas).mul(weights).sum().item() == pytest.approx(0.25, abs=1e-6)
    assert 0 < alphas.min() < alphas.max() < 1


def test_embedding_type_checked_and_missing_layers_fall_back(tokenizer):
    from transformers import DebertaConfig, DebertaForSequenceClassification

    with pytest.raises(ValueError, match="0 \\(word embeddings\\)"):
        _attribution.embedding_layer(_bert(), 3)
    model = DebertaForSequenceClassification(DebertaConfig(
        vocab_size=len(WORDS), hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=32, position_biased_input=False, relative_attention=True))
    with pytest.warns(UserWarning, match="no position embeddings"):
        layer, used = _attribution.embedding_layer(model, 1)
    assert used == 0 and layer is model.get_input_embeddings()
