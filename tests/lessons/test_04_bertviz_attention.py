"""Lesson 04 (Attention with BertViz): the key claims, on the executed outputs of both languages.

The SDPA trap prints what it claims (no attention, transformers' warning) and eager returns
attention; each BertViz view returned HTML whose embedded parameters hold the lesson's tokens
and attention of the right shape; the neuron view was loaded from a local folder with BertViz's
own classes and carries queries and keys; the translator's head view has encoder, decoder and
cross-attention, the cross part between the English target and the Chinese source tokens.
"""

from __future__ import annotations

import json
import re

import pytest

from .conftest import cell_by_tag, has_html

pytestmark = pytest.mark.slow

SLUG = "04_bertviz_attention"
LANGS = ("en", "zh")
CAT = ["[CLS]", "the", "cat", "sat", "on", "the", "mat", "[SEP]"]
TRANSLATION = "I like machine learning and artificial intelligence."
SOURCE_PIECES = ("机器", "学习", "人工", "智能")
TRADITIONAL_PIECES = ("機器", "學習")
PAIR_FILTERS = ["All", "Sentence A -> Sentence A", "Sentence B -> Sentence B",
                "Sentence A -> Sentence B", "Sentence B -> Sentence A"]


@pytest.fixture(params=LANGS)
def nb(request, executed):
    return executed(request.param, SLUG)


def printed(nb, tag: str) -> str:
    """What the cell tagged ``tag`` printed: its stdout streams joined as written (the kernel
    may split one ``print`` into several stream outputs)."""
    cell = cell_by_tag(nb, tag)
    return "".join(o["text"] for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream" and o.get("name") == "stdout")


def html_of(nb, tag: str) -> str:
    """The one ``text/html`` output of the cell tagged ``tag``."""
    cell = cell_by_tag(nb, tag)
    assert has_html(cell), f"cell {tag!r} displayed no HTML"
    found = [o["data"]["text/html"] for o in cell.outputs if "text/html" in o.get("data", {})]
    assert len(found) == 1, f"cell {tag!r}: {len(found)} HTML outputs"
    return found[0] if isinstance(found[0], str) else "".join(found[0])


def embedded_json(html: str, marker: str) -> dict:
    """The JSON object BertViz writes into its script right after ``marker``."""
    start = html.index(marker) + len(marker)
    value, _ = json.JSONDecoder().raw_decode(html, start)
    return value


def view_params(nb, tag: str) -> dict:
    """Head and model views: ``const params = {...}`` in their script."""
    html = html_of(nb, tag)
    assert "<script" in html and "bertviz-" in html, f"cell {tag!r} is not a BertViz view"
    return embedded_json(html, "const params = ")


def shape(nested) -> tuple[int, ...]:
    dims = []
    while isinstance(nested, list):
        dims.append(len(nested))
        nested = nested[0]
    return tuple(dims)


def layers_returned(nb) -> int:
    match = re.search(r"attention tensors returned: (\d+)", printed(nb, "eager"))
    assert match, "the eager cell did not print how many attention tensors it got"
    return int(match.group(1))


def printed_head(nb, tag: str) -> tuple[int, int, float]:
    match = re.search(r"previous-token head: layer (\d+), head (\d+), mean weight ([\d.]+)",
                      printed(nb, tag))
    assert match, f"cell {tag!r} did not print the previous-token head"
    return int(match.group(1)), int(match.group(2)), float(match.group(3))


def test_default_model_uses_sdpa_and_returns_no_attention(nb):
    assert "attention implementation: sdpa" in printed(nb, "sdpa-load")
    text = printed(nb, "sdpa-demo")
    assert "attention tensors returned under SDPA: 0" in text
    warned = [line for line in text.splitlines() if line.startswith("transformers warned:")]
    assert warned and "sdpa" in warned[0] and "output_attentions=True" in warned[0]
    assert "eager" in warned[0]


def test_eager_returns_one_attention_tensor_per_layer(nb):
    text = printed(nb, "eager")
    assert "attention implementation: eager" in text
    assert layers_returned(nb) > 0
    assert f"tokens: {CAT}" in text


def test_head_view_shows_the_lesson_sentence(nb):
    params = view_params(nb, "head-view")
    (view,) = params["attention"]
    assert view["left_text"] == CAT and view["right_text"] == CAT
    layers, heads, rows, cols = shape(view["attn"])
    assert (layers, rows, cols) == (layers_returned(nb), len(CAT), len(CAT)) and heads > 1
    for row in view["attn"][0][0]:  # softmax rows
        assert sum(row) == pytest.approx(1.0, abs=1e-3)


def test_previous_token_head_is_found_and_shown_alone(nb):
    layer, head, weight = printed_head(nb, "previous-token")
    assert weight > 0.5  # a clear pattern: most of each word's weight on its left neighbour
    params = view_params(nb, "head-view-previous")
    assert params["include_layers"] == [layer] and params["layer"] == layer
    assert params["heads"] == [head]
    (view,) = params["attention"]
    attn = view["attn"][0][head]  # the one included layer
    for i in range(1, len(CAT) - 1):
        assert max(range(len(CAT)), key=attn[i].__getitem__) == i - 1


def test_pair_view_has_sentence_filters(nb):
    text = printed(nb, "pair-view")
    match = re.search(r"sentence B starts at token (\d+) 'the'", text)
    assert match
    start = int(match.group(1))
    params = view_params(nb, "pair-view")
    assert [v["name"] for v in params["attention"]] == PAIR_FILTERS
    everything = params["attention"][0]["left_text"]
    assert everything[:start] == CAT
    assert everything[start:] == ["the", "cat", "lay", "on", "the", "rug", "[SEP]"]
    a_to_b = params["attention"][3]
    assert a_to_b["left_text"] == CAT and a_to_b["right_text"] == everything[start:]


def test_model_view_has_every_layer_and_head(nb):
    params = view_params(nb, "model-view")
    (view,) = params["attention"]
    assert view["left_text"] == CAT
    layers, heads, rows, cols = shape(view["attn"])
    assert (layers, rows, cols) == (layers_returned(nb), len(CAT), len(CAT)) and heads > 1


def test_special_tokens_carry_less_by_weight_times_length(nb):
    lines = printed(nb, "weight-vs-norm").splitlines()
    assert "by weight" in lines[1] and "by weight x length" in lines[1]
    table = [line.split() for line in lines[3:] if line.strip()]
    assert len(table) == layers_returned(nb)
    for layer, by_weight, by_effect in table:
        assert 0 <= float(by_effect) < float(by_weight) <= 1, f"layer {layer}"


def test_neuron_view_loads_from_a_local_folder(nb):
    text = printed(nb, "neuron-folder")
    assert "loading from a local folder: True" in text
    for name in ("config.json", "vocab.txt", "pytorch_model.bin"):
        assert repr(name) in text
    loaded = printed(nb, "neuron-load")
    assert "bertviz.transformers_neuron_view.modeling_bert BertModel" in loaded
    assert str(CAT[1:-1]) in loaded


def test_neuron_view_shows_queries_and_keys(nb):
    layer, head, weight = printed_head(nb, "neuron-view")
    assert weight > 0.5
    html = html_of(nb, "neuron-view")
    params = embedded_json(html, "window.bertviz_params = ")
    assert params["layer"] == layer and params["head"] == head
    view = params["attention"]["all"]
    assert view["left_text"] == CAT and view["right_text"] == CAT
    layers, heads, tokens, size = shape(view["queries"])
    assert tokens == len(CAT) and size > 0 and heads > head and layers > layer
    assert shape(view["keys"]) == (layers, heads, tokens, size)
    assert shape(view["attn"]) == (layers, heads, tokens, tokens)


def test_translation(nb):
    assert f"translation: {TRANSLATION}" in printed(nb, "translation")


def test_translator_head_view_has_encoder_decoder_and_cross_attention(nb):
    params = view_params(nb, "mt-head-view")
    views = {v["name"]: v for v in params["attention"]}
    assert list(views) == ["Encoder", "Decoder", "Cross"]
    source, target = views["Encoder"]["left_text"], views["Decoder"]["left_text"]
    assert all(piece in source for piece in SOURCE_PIECES)
    assert all(word in target for word in TRANSLATION.rstrip(".").split())
    cross = views["Cross"]
    assert cross["left_text"] == target and cross["right_text"] == source
    layers, heads, rows, cols = shape(cross["attn"])
    assert (rows, cols) == (len(target), len(source)) and layers > 0 and heads > 0
    text = printed(nb, "mt-attention")
    assert f"source tokens: {source}" in text and f"decoder input tokens: {target}" in text


def test_cross_attention_table_pairs_english_with_source_tokens(nb):
    params = view_params(nb, "mt-head-view")
    source = params["attention"][0]["left_text"]
    target = params["attention"][1]["left_text"]
    lines = printed(nb, "cross-alignment").splitlines()
    assert "English token" in lines[0] and "most attended source token" in lines[0]
    rows = [line.split() for line in lines[1:] if line.strip()]
    assert [r[0] for r in rows] == target[1:]  # one row per predicted token
    assert all(r[1] in source for r in rows)


def test_exercises_run(nb):
    assert re.search(r"offset 1: layer \d+, head \d+, mean weight",
                     printed(nb, "exercise-1"))
    assert view_params(nb, "exercise-1")["attention"][0]["left_text"][:3] == ["[CLS]", "a", "small"]
    assert f"translation: {TRANSLATION}" in printed(nb, "exercise-2")
    (cross,) = view_params(nb, "exercise-2")["attention"]
    assert cross["name"] == "Cross"
    assert all(piece in cross["right_text"] for piece in TRADITIONAL_PIECES)
