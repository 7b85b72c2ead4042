"""Claims of lesson 04_bertviz_attention, on the offline profile (the ``bertviz``,
``bert-neuron`` and ``mt-zh-en`` twins).

The SDPA trap prints what it claims (no attention, transformers' warning) and eager returns
attention; each BertViz view returned HTML whose embedded parameters hold the lesson's tokens
and attention of the right shape; the neuron view was loaded from a local folder with BertViz's
own classes and carries queries and keys; the translator's head view has encoder, decoder and
cross-attention, the cross part between the English target and the Chinese source tokens.
"""

from __future__ import annotations

import json
import re

from . import cell_by_tag, claim, close, excerpt, expect, fail, has_html, html_outputs

SLUG = "04_bertviz_attention"
CAT = ["[CLS]", "the", "cat", "sat", "on", "the", "mat", "[SEP]"]
TRANSLATION = "I like machine learning and artificial intelligence."
SOURCE_PIECES = ("机器", "学习", "人工", "智能")
TRADITIONAL_PIECES = ("機器", "學習")
PAIR_FILTERS = ["All", "Sentence A -> Sentence A", "Sentence B -> Sentence B",
                "Sentence A -> Sentence B", "Sentence B -> Sentence A"]


def printed(nb, tag: str) -> str:
    """What the cell tagged ``tag`` printed: its stdout streams joined as written (the kernel
    may split one ``print`` into several stream outputs)."""
    cell = cell_by_tag(nb, tag)
    return "".join(o["text"] if isinstance(o["text"], str) else "".join(o["text"])
                   for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream" and o.get("name") == "stdout")


def html_of(nb, tag: str) -> str:
    """The one ``text/html`` output of the cell tagged ``tag``."""
    cell = cell_by_tag(nb, tag)
    expect(has_html(cell), f"HTML from the cell tagged {tag!r}", printed(nb, tag))
    found = html_outputs(cell)
    expect(len(found) == 1, f"one HTML output from the cell tagged {tag!r}, not {len(found)}")
    return found[0]


def embedded_json(html: str, marker: str) -> dict:
    """The JSON object BertViz writes into its script right after ``marker``."""
    start = html.find(marker)
    expect(start >= 0, f"{marker!r} in the view's script", html)
    try:
        value, _ = json.JSONDecoder().raw_decode(html, start + len(marker))
    except ValueError as exc:
        fail(f"a JSON object after {marker!r} ({exc})", html)
    return value


def view_params(nb, tag: str) -> dict:
    """Head and model views: ``const params = {...}`` in their script."""
    html = html_of(nb, tag)
    expect("<script" in html and "bertviz-" in html,
           f"a BertViz view (a <script> and 'bertviz-' ids) from the cell tagged {tag!r}", html)
    return embedded_json(html, "const params = ")


def shape(nested) -> tuple[int, ...]:
    dims = []
    while isinstance(nested, list):
        dims.append(len(nested))
        nested = nested[0]
    return tuple(dims)


def layers_returned(nb) -> int:
    text = printed(nb, "eager")
    match = re.search(r"attention tensors returned: (\d+)", text)
    expect(match, "the eager cell to print how many attention tensors it got "
           "('attention tensors returned: <n>')", text)
    return int(match.group(1))


def printed_head(nb, tag: str) -> tuple[int, int, float]:
    text = printed(nb, tag)
    match = re.search(r"previous-token head: layer (\d+), head (\d+), mean weight ([\d.]+)",
                      text)
    expect(match, f"the cell tagged {tag!r} to print 'previous-token head: layer <l>, head "
           "<h>, mean weight <w>'", text)
    return int(match.group(1)), int(match.group(2)), float(match.group(3))


def _one_view(params: dict, tag: str) -> dict:
    views = params.get("attention")
    expect(isinstance(views, list) and len(views) == 1,
           f"one attention view in the parameters of {tag!r}, not {excerpt(views, 300)}")
    return views[0]


@claim(SLUG)
def default_model_uses_sdpa_and_returns_no_attention(nb):
    """Loaded by default the model uses SDPA, returns no attention, and transformers warns to
    use eager for output_attentions=True."""
    text = printed(nb, "sdpa-load")
    expect("attention implementation: sdpa" in text, "'attention implementation: sdpa'", text)
    text = printed(nb, "sdpa-demo")
    expect("attention tensors returned under SDPA: 0" in text,
           "'attention tensors returned under SDPA: 0'", text)
    warned = [line for line in text.splitlines() if line.startswith("transformers warned:")]
    expect(warned and "sdpa" in warned[0] and "output_attentions=True" in warned[0]
           and "eager" in warned[0], "a line 'transformers warned: ...' naming sdpa, "
           "output_attentions=True and eager", text)


@claim(SLUG)
def eager_returns_one_attention_tensor_per_layer(nb):
    """With eager attention the model returns attention tensors, for the cat sentence's
    tokens."""
    text = printed(nb, "eager")
    expect("attention implementation: eager" in text, "'attention implementation: eager'",
           text)
    expect(layers_returned(nb) > 0, "more than 0 attention tensors", text)
    expect(f"tokens: {CAT}" in text, f"'tokens: {CAT}'", text)


@claim(SLUG)
def head_view_shows_the_lesson_sentence(nb):
    """The head view holds the cat sentence on both sides, attention of shape (layers, heads,
    8, 8) with several heads, and rows that sum to 1."""
    view = _one_view(view_params(nb, "head-view"), "head-view")
    expect(view["left_text"] == CAT and view["right_text"] == CAT,
           f"the tokens {CAT} on both sides, not {view['left_text']} / {view['right_text']}")
    layers, heads, rows, cols = shape(view["attn"])
    expected = (layers_returned(nb), len(CAT), len(CAT))
    expect((layers, rows, cols) == expected and heads > 1,
           f"attention of shape (layers, heads, rows, columns) = ({expected[0]}, >1, "
           f"{expected[1]}, {expected[2]}), not {(layers, heads, rows, cols)}")
    for row in view["attn"][0][0]:  # softmax rows
        expect(close(sum(row), 1.0, abs=1e-3), f"rows summing to 1 within 1e-3, not {row}")


@claim(SLUG)
def previous_token_head_is_found_and_shown_alone(nb):
    """The lesson finds a head whose words mostly attend to their left neighbour (mean > 0.5)
    and shows that head alone, where every word's strongest weight is on the previous one."""
    layer, head, weight = printed_head(nb, "previous-token")
    expect(weight > 0.5, f"a mean weight above 0.5 on the left neighbour, not {weight}",
           printed(nb, "previous-token"))
    params = view_params(nb, "head-view-previous")
    expect(params.get("include_layers") == [layer] and params.get("layer") == layer,
           f"the view restricted to layer {layer}, not include_layers="
           f"{params.get('include_layers')}, layer={params.get('layer')}")
    expect(params.get("heads") == [head], f"the view restricted to head {head}, not "
           f"{params.get('heads')}")
    view = _one_view(params, "head-view-previous")
    attn = view["attn"][0][head]  # the one included layer
    for i in range(1, len(CAT) - 1):
        strongest = max(range(len(CAT)), key=attn[i].__getitem__)
        expect(strongest == i - 1, f"token {i} ({CAT[i]!r}) attending most to token {i - 1}, "
               f"not {strongest}: {attn[i]}")


@claim(SLUG)
def pair_view_has_sentence_filters(nb):
    """The sentence-pair view has BertViz's five filters, the second sentence starting at the
    printed token, and the A -> B filter between the two sentences."""
    text = printed(nb, "pair-view")
    match = re.search(r"sentence B starts at token (\d+) 'the'", text)
    expect(match, "'sentence B starts at token <n> 'the''", text)
    start = int(match.group(1))
    params = view_params(nb, "pair-view")
    names = [v["name"] for v in params["attention"]]
    expect(names == PAIR_FILTERS, f"the filters {PAIR_FILTERS}, not {names}")
    everything = params["attention"][0]["left_text"]
    second = ["the", "cat", "lay", "on", "the", "rug", "[SEP]"]
    expect(everything[:start] == CAT and everything[start:] == second,
           f"the tokens {CAT} + {second} split at {start}, not {everything}")
    a_to_b = params["attention"][3]
    expect(a_to_b["left_text"] == CAT and a_to_b["right_text"] == everything[start:],
           f"A -> B from {CAT} to {everything[start:]}, not {a_to_b['left_text']} -> "
           f"{a_to_b['right_text']}")


@claim(SLUG)
def model_view_has_every_layer_and_head(nb):
    """The model view holds every layer and several heads over the cat sentence."""
    view = _one_view(view_params(nb, "model-view"), "model-view")
    expect(view["left_text"] == CAT, f"the tokens {CAT}, not {view['left_text']}")
    layers, heads, rows, cols = shape(view["attn"])
    expected = (layers_returned(nb), len(CAT), len(CAT))
    expect((layers, rows, cols) == expected and heads > 1,
           f"attention of shape ({expected[0]}, >1, {expected[1]}, {expected[2]}), not "
           f"{(layers, heads, rows, cols)}")


@claim(SLUG)
def special_tokens_carry_less_by_weight_times_length(nb):
    """In every layer, the special tokens' share is smaller by weight x length than by weight
    alone (0 <= effect < weight <= 1)."""
    text = printed(nb, "weight-vs-norm")
    lines = text.splitlines()
    expect(len(lines) > 1 and "by weight" in lines[1] and "by weight x length" in lines[1],
           "a header line (the second) with 'by weight' and 'by weight x length'", text)
    table = [line.split() for line in lines[3:] if line.strip()]
    expect(len(table) == layers_returned(nb), "one row per layer", text)
    for row in table:
        expect(len(row) == 3, f"rows 'layer by-weight by-effect', not {row}", text)
        layer, by_weight, by_effect = row
        expect(0 <= float(by_effect) < float(by_weight) <= 1,
               f"0 <= by weight x length < by weight <= 1 in layer {layer}", text)


@claim(SLUG)
def neuron_view_loads_from_a_local_folder(nb):
    """The neuron view's model comes from a local folder with config.json, vocab.txt and
    pytorch_model.bin, loaded with BertViz's own BertModel on the cat sentence."""
    text = printed(nb, "neuron-folder")
    expect("loading from a local folder: True" in text, "'loading from a local folder: True'",
           text)
    for name in ("config.json", "vocab.txt", "pytorch_model.bin"):
        expect(repr(name) in text, f"{name!r} among the files the old loader reads", text)
    loaded = printed(nb, "neuron-load")
    expect("bertviz.transformers_neuron_view.modeling_bert BertModel" in loaded,
           "BertViz's own 'bertviz.transformers_neuron_view.modeling_bert BertModel'", loaded)
    expect(str(CAT[1:-1]) in loaded, f"the tokens {CAT[1:-1]}", loaded)


@claim(SLUG)
def neuron_view_shows_queries_and_keys(nb):
    """The neuron view opens on the previous-token head and carries queries, keys and
    attention for the cat sentence."""
    layer, head, weight = printed_head(nb, "neuron-view")
    expect(weight > 0.5, f"a mean weight above 0.5, not {weight}", printed(nb, "neuron-view"))
    params = embedded_json(html_of(nb, "neuron-view"), "window.bertviz_params = ")
    expect(params.get("layer") == layer and params.get("head") == head,
           f"the view opening on layer {layer}, head {head}, not layer {params.get('layer')}, "
           f"head {params.get('head')}")
    view = params["attention"]["all"]
    expect(view["left_text"] == CAT and view["right_text"] == CAT,
           f"the tokens {CAT} on both sides, not {view['left_text']} / {view['right_text']}")
    layers, heads, tokens, size = shape(view["queries"])
    expect(tokens == len(CAT) and size > 0 and heads > head and layers > layer,
           f"queries of shape (layers > {layer}, heads > {head}, {len(CAT)}, > 0), not "
           f"{(layers, heads, tokens, size)}")
    expect(shape(view["keys"]) == (layers, heads, tokens, size),
           f"keys of the queries' shape {(layers, heads, tokens, size)}, not "
           f"{shape(view['keys'])}")
    expect(shape(view["attn"]) == (layers, heads, tokens, tokens),
           f"attention of shape {(layers, heads, tokens, tokens)}, not {shape(view['attn'])}")


@claim(SLUG)
def translation(nb):
    """The translator twin prints the lesson's English translation."""
    text = printed(nb, "translation")
    expect(f"translation: {TRANSLATION}" in text, f"'translation: {TRANSLATION}'", text)


@claim(SLUG)
def translator_head_view_has_encoder_decoder_and_cross_attention(nb):
    """The translator's head view has Encoder, Decoder and Cross views; cross-attention runs
    from the English target to the Chinese source pieces, with the printed tokens."""
    params = view_params(nb, "mt-head-view")
    views = {v["name"]: v for v in params["attention"]}
    expect(list(views) == ["Encoder", "Decoder", "Cross"],
           f"the views Encoder, Decoder, Cross, not {list(views)}")
    source, target = views["Encoder"]["left_text"], views["Decoder"]["left_text"]
    expect(all(piece in source for piece in SOURCE_PIECES),
           f"the source pieces {SOURCE_PIECES} among {source}")
    words = TRANSLATION.rstrip(".").split()
    expect(all(word in target for word in words), f"the words {words} among {target}")
    cross = views["Cross"]
    expect(cross["left_text"] == target and cross["right_text"] == source,
           f"cross-attention from {target} to {source}, not {cross['left_text']} -> "
           f"{cross['right_text']}")
    layers, heads, rows, cols = shape(cross["attn"])
    expect((rows, cols) == (len(target), len(source)) and layers > 0 and heads > 0,
           f"cross-attention of shape (>0, >0, {len(target)}, {len(source)}), not "
           f"{(layers, heads, rows, cols)}")
    text = printed(nb, "mt-attention")
    expect(f"source tokens: {source}" in text and f"decoder input tokens: {target}" in text,
           f"'source tokens: {source}' and 'decoder input tokens: {target}'", text)


@claim(SLUG)
def cross_attention_table_pairs_english_with_source_tokens(nb):
    """The cross-attention table has a row per predicted English token, each naming a source
    token."""
    params = view_params(nb, "mt-head-view")
    source = params["attention"][0]["left_text"]
    target = params["attention"][1]["left_text"]
    text = printed(nb, "cross-alignment")
    lines = text.splitlines()
    expect(lines and "English token" in lines[0] and "most attended source token" in lines[0],
           "a header with 'English token' and 'most attended source token'", text)
    rows = [line.split() for line in lines[1:] if line.strip()]
    expect([r[0] for r in rows] == target[1:], f"one row per predicted token {target[1:]}",
           text)
    expect(all(len(r) > 1 and r[1] in source for r in rows),
           f"a source token of {source} in every row", text)


@claim(SLUG)
def exercises_run(nb):
    """The exercises run: an offset-1 head is printed for 'a small ...', and the traditional
    sentence translates the same with its own pieces in the cross view."""
    text = printed(nb, "exercise-1")
    expect(re.search(r"offset 1: layer \d+, head \d+, mean weight", text),
           "'offset 1: layer <l>, head <h>, mean weight ...'", text)
    first = view_params(nb, "exercise-1")["attention"][0]["left_text"][:3]
    expect(first == ["[CLS]", "a", "small"], f"the exercise's tokens starting [CLS] a small, "
           f"not {first}")
    text = printed(nb, "exercise-2")
    expect(f"translation: {TRANSLATION}" in text, f"'translation: {TRANSLATION}'", text)
    cross = _one_view(view_params(nb, "exercise-2"), "exercise-2")
    expect(cross["name"] == "Cross", f"the Cross view alone, not {cross['name']!r}")
    expect(all(piece in cross["right_text"] for piece in TRADITIONAL_PIECES),
           f"the traditional pieces {TRADITIONAL_PIECES} among {cross['right_text']}")
