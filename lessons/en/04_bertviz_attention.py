# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Attention with BertViz
#
# Every layer of a transformer mixes information between tokens, and its attention
# heads decide how much of each token goes into each other token. BertViz draws those
# weights in three views:
#
# - the **head view**: the heads of one layer, as lines from tokens to tokens;
# - the **model view**: every head of every layer at once, as small thumbnails;
# - the **neuron view**: inside one head, the query and key vectors that produce its weights.
#
# You will draw all three for a BERT encoder, then look at the three kinds of attention
# of the Chinese-to-English translator from lesson 01. On the way you will meet a
# transformers 5 trap that silently gives you no attention at all, and a reminder that
# a large attention weight is not the same as a large influence.

# %%
import importlib.util

if importlib.util.find_spec("explainlab") is None:  # Colab, Kaggle, a new environment
    # %pip install -q "explainlab @ git+https://github.com/explainlab/explainlab"

import explainlab

session = explainlab.setup()

# %% [markdown]
# The line printed above names the profile (`hub`: the real models; `offline`: the
# course's small twins), the device and the library versions that produced the outputs
# on this page. Every number and figure below is computed by the code, so it changes
# with the profile.
#
# ## What an attention weight is
#
# In one head of one layer, every token builds a *query* vector and a *key* vector.
# The weight that token *i* gives to token *j* is the softmax, over all *j*, of
# the dot product of query *i* with key *j* (scaled by the square root of the vector
# size). Each row of weights sums to one, and the head's output for token *i* is the
# weighted sum of the *value* vectors of all tokens.
#
# So a weight says **where a head reads from**. It does not say how much that reading
# changes the model's output: the value vectors it multiplies can be large or tiny, the
# residual connection carries each token past the head anyway, and after the first
# layer a "token" is already a mixture of the whole sentence. Jain and Wallace (2019),
# *Attention is not Explanation*, showed that quite different attention patterns can give
# the same prediction; Wiegreffe and Pinter (2019) answered that attention can still be
# informative when tested carefully. Read the views below as **hypotheses about what a
# head does**, and test them with attribution methods (lessons 01 and 03).
#
# ## The transformers 5 trap: no attention under SDPA
#
# We load the encoder of the role `bertviz` and one sentence. The model is loaded the
# plain way first, without saying which attention implementation to use.

# %% tags=["sdpa-load"]
import torch
from transformers import AutoModel, AutoTokenizer

bert_path = explainlab.resolve("bertviz")
tokenizer = AutoTokenizer.from_pretrained(bert_path)
inputs = tokenizer("The cat sat on the mat", return_tensors="pt").to(session.device)

plain_model = AutoModel.from_pretrained(bert_path).to(session.device)
print("attention implementation:", plain_model.config._attn_implementation)

# %% [markdown]
# transformers 5 runs BERT with PyTorch's fused *scaled dot-product attention* (SDPA)
# by default. It is fast because it never stores the weight matrix, so it has nothing to
# return when you ask for it. Asking anyway does not fail: transformers logs a warning
# and the attentions come back empty. We catch that warning here to print it
# (transformers gives it only once per session: run the cell again and it stays silent).

# %% tags=["sdpa-demo"]
import logging.handlers

caught = logging.handlers.BufferingHandler(capacity=10)
hf_logger = logging.getLogger("transformers")  # the logger transformers warns on: `caught` instead of stderr
default_handlers, hf_logger.handlers = hf_logger.handlers, [caught]
try:
    with torch.no_grad():
        plain_outputs = plain_model(**inputs, output_attentions=True)
finally:
    hf_logger.handlers = default_handlers

print("attention tensors returned under SDPA:", len(plain_outputs.attentions or ()))
for record in caught.buffer:
    print("transformers warned:", record.getMessage())

# %% [markdown]
# BertViz given this empty result would have nothing to draw. The fix is to ask for the
# *eager* implementation, the plain PyTorch code that computes and keeps every weight:
# pass `attn_implementation="eager"` to `from_pretrained` (or call
# `model.set_attn_implementation("eager")` on a model you already have). Passing
# `output_attentions=True` to `from_pretrained`, as older tutorials do, also selects
# eager; passing it only when you call the model, as above, does not.

# %% tags=["eager"]
del plain_model, plain_outputs

model = AutoModel.from_pretrained(bert_path, attn_implementation="eager").to(session.device)
with torch.no_grad():
    outputs = model(**inputs, output_attentions=True)

tokens = tokenizer.convert_ids_to_tokens(inputs["input_ids"][0])
print("attention implementation:", model.config._attn_implementation)
print("attention tensors returned:", len(outputs.attentions))
print("shape of each (batch, heads, query tokens, key tokens):",
      tuple(outputs.attentions[0].shape))
print("tokens:", tokens)

# %% [markdown]
# One tensor per layer; in each, one square matrix per head, with a row for every token
# that attends (query) and a column for every token it attends to (key).
#
# ## The head view
#
# `head_view` takes that list of tensors and the tokens. With `html_action="return"` it
# returns the view as an HTML object instead of displaying it itself; a notebook shows an
# HTML object that is the last value of a cell.
#
# How to read it:
#
# - The left column holds the tokens that attend, the right column the tokens they
#   attend to. Each line is one weight: the stronger the line, the larger the weight.
# - Each colour is one head. The coloured squares on top switch heads on and off
#   (click one, double-click to see only that head); the drop-down picks the layer.
# - Hover over a token on the left to see only its lines (on the right: the lines that
#   reach it).

# %% tags=["head-view"]
from bertviz import head_view

head_view(outputs.attentions, tokens, html_action="return")

# %% [markdown]
# With every head switched on the picture is crowded. Instead of hunting by eye, let the
# code find a head with a clear pattern: for each layer and head, the mean weight that
# each word gives to the token just before it. A head that scores close to one reads
# almost only from the previous token.

# %% tags=["previous-token"]
def strongest_head(attention, offset=-1):
    # attention: layers x heads x query x key. Returns (layer, head, mean weight) of the
    # head whose words attend most to the token `offset` places away.
    n = attention.shape[-1]
    rows = torch.arange(1, n - 1)  # the words: every token but [CLS] and [SEP]
    scores = attention[:, :, rows, rows + offset].mean(-1)  # layers x heads
    layer, head = divmod(int(scores.argmax()), scores.shape[1])
    return layer, head, round(float(scores[layer, head]), 3)


attention = torch.stack(outputs.attentions).squeeze(1).cpu()  # layers x heads x query x key
layer, head, weight = strongest_head(attention, offset=-1)
print(f"previous-token head: layer {layer}, head {head}, mean weight {weight}")

# %% [markdown]
# Open the head view on that head alone (layers and heads are counted from zero, as in
# the drop-down). `include_layers` keeps only the layers you list, which also makes the
# view lighter for long inputs. Every word should send one strong line to its left
# neighbour.

# %% tags=["head-view-previous"]
head_view(outputs.attentions, tokens, include_layers=[layer], layer=layer, heads=[head],
          html_action="return")

# %% [markdown]
# ## Two sentences at once
#
# BERT was trained on sentence pairs: `[CLS] sentence A [SEP] sentence B [SEP]`, with
# `token_type_ids` marking which tokens belong to B. Give `head_view` the position where
# B starts (`sentence_b_start`) and its drop-down gains filters: A to A, B to B, A to B
# and B to A. Heads that link a word to the same word in the other sentence show up in
# the A to B filter.

# %% tags=["pair-view"]
sentence_a, sentence_b = "The cat sat on the mat", "The cat lay on the rug"
pair = tokenizer(sentence_a, sentence_b, return_tensors="pt").to(session.device)
with torch.no_grad():
    pair_outputs = model(**pair, output_attentions=True)

pair_tokens = tokenizer.convert_ids_to_tokens(pair["input_ids"][0])
sentence_b_start = pair["token_type_ids"][0].tolist().index(1)
print("sentence B starts at token", sentence_b_start, repr(pair_tokens[sentence_b_start]))
head_view(pair_outputs.attentions, pair_tokens, sentence_b_start=sentence_b_start,
          html_action="return")

# %% [markdown]
# ## The model view
#
# `model_view` draws every head of every layer as a thumbnail: one row per layer (the
# first layer on top), one column per head. Click a thumbnail to enlarge it. Shapes to
# look for:
#
# - a diagonal one step off the middle: a previous-token or next-token head;
# - all lines converging on `[CLS]` or `[SEP]`: a head that "parks" its attention on a
#   special token;
# - broad, even fans: a head that averages over the sentence.
#
# Compare the rows: the patterns of early and late layers differ.

# %% tags=["model-view"]
from bertviz import model_view

model_view(outputs.attentions, tokens, html_action="return")

# %% [markdown]
# ## A weight is not an effect
#
# Many heads put much of their weight on `[CLS]` and `[SEP]`. Clark et al. (2019),
# *What Does BERT Look At?*, suggested this is often a "no-op": the head has nothing
# useful to read, and `[SEP]` is a safe place to park. Kobayashi et al. (2020),
# *Attention is Not Only a Weight*, made that measurable: what a head adds to token *i*
# from token *j* is the weight times the transformed value vector of *j*, and its size
# is the weight times the length of that vector.
#
# The next cell compares, layer by layer, the share of the words' attention that goes
# to the special tokens by weight alone, and by weight times vector length.

# %% tags=["weight-vs-norm"]
import pandas as pd

with torch.no_grad():
    states = model(**inputs, output_hidden_states=True).hidden_states  # the input of each layer
    special = torch.tensor([t in tokenizer.all_special_tokens for t in tokens])
    heads = model.config.num_attention_heads
    rows = []
    for index, block in enumerate(model.encoder.layer):
        values = block.attention.self.value(states[index][0]).cpu()  # tokens x hidden
        values = values.view(len(tokens), heads, -1).transpose(0, 1)  # heads x tokens x size
        out_proj = block.attention.output.dense.weight.cpu()  # hidden x hidden
        out_proj = out_proj.view(out_proj.shape[0], heads, -1).permute(1, 2, 0)
        lengths = (values @ out_proj).norm(dim=-1)  # heads x tokens: length of each vector
        weights = attention[index][:, ~special]  # heads x words x tokens
        effects = weights * lengths[:, None, :]
        rows.append({"layer": index,
                     "by weight": float(weights[..., special].sum(-1).mean()),
                     "by weight x length": float((effects[..., special].sum(-1)
                                                  / effects.sum(-1)).mean())})
print("share of the words' attention that goes to [CLS] and [SEP]:")
print(pd.DataFrame(rows).set_index("layer").round(3).to_string())

# %% [markdown]
# If the second column is much smaller than the first, the heavy lines to `[SEP]` in the
# views above move little information: the value vectors of the special tokens are
# short. The head view draws weights, not effects. Keep that in mind whenever a thick
# line tempts you to say "the model looked at this word, so this word mattered".
#
# ## The neuron view
#
# The neuron view opens one head and shows how its weights are made: for the token you
# select, its query vector, the key vector of every token, their element-wise product
# and the dot product that the softmax turns into a weight. Positive values are blue,
# negative values orange.
#
# transformers' models do not return queries and keys, so BertViz ships its own copy of
# an old BERT implementation, `bertviz.transformers_neuron_view`, with its own
# `BertModel` and `BertTokenizer`. Their `from_pretrained` still knows the original
# download addresses of 2019, which no longer work; but given a **folder** holding
# `config.json`, `vocab.txt` and `pytorch_model.bin`, they load from it. The role
# `bert-neuron` gives such a folder offline; on the hub profile it gives a hub id, so we
# download those files first.

# %% tags=["neuron-folder"]
import os

NEURON_FILES = ["config.json", "vocab.txt", "tokenizer_config.json", "pytorch_model.bin"]

neuron_path = explainlab.resolve("bert-neuron")
if not os.path.isfile(os.path.join(neuron_path, "pytorch_model.bin")):
    # a hub id (or a mirror copy without the old-style weights): fetch what the old loader reads
    hub_id = explainlab.models.get_role("bert-neuron").hub_id
    neuron_path = str(explainlab.download(hub_id, include=NEURON_FILES))
print("loading from a local folder:", os.path.isdir(neuron_path))
print("files the old loader reads:",
      [f for f in NEURON_FILES if os.path.isfile(os.path.join(neuron_path, f))])

# %% [markdown]
# Load the model and tokenizer with BertViz's classes (not transformers'). This old code
# runs on the CPU only.

# %% tags=["neuron-load"]
from bertviz.transformers_neuron_view import BertModel, BertTokenizer

neuron_model = BertModel.from_pretrained(neuron_path)
neuron_tokenizer = BertTokenizer.from_pretrained(neuron_path)
print(type(neuron_model).__module__, type(neuron_model).__name__)
print(neuron_tokenizer.tokenize(sentence_a))

# %% [markdown]
# `neuron_view.show` runs the model itself. We open it on the previous-token head of
# *this* model (another model than above, so we look for the head again), using
# BertViz's own `get_attention` to read the weights.

# %% tags=["neuron-view"]
from bertviz import neuron_view

neuron_attention = neuron_view.get_attention(neuron_model, "bert", neuron_tokenizer, sentence_a)
neuron_layer, neuron_head, neuron_weight = strongest_head(
    torch.tensor(neuron_attention["all"]["attn"]))
print(f"previous-token head: layer {neuron_layer}, head {neuron_head}, "
      f"mean weight {neuron_weight}")
neuron_view.show(neuron_model, "bert", neuron_tokenizer, sentence_a,
                 layer=neuron_layer, head=neuron_head, html_action="return")

# %% [markdown]
# How to read it: hover over a token on the left, then click the ⊕ that appears to
# expand the head. The columns show the query of that token, the key of every token on
# the right, their element-wise product *q × k* and the sum of that product, *q · k*.
# The largest *q · k* wins most of the softmax. In a previous-token head, look for the
# few dimensions whose product is strongly blue only for the left neighbour: they are
# how the head encodes "the position just before me".

# %%
import gc

del model, outputs, pair_outputs, neuron_model
gc.collect()
if torch.cuda.is_available():
    torch.cuda.empty_cache()

# %% [markdown]
# ## The translator: encoder, decoder and cross-attention
#
# An encoder-decoder model such as the MarianMT translator of lesson 01 (role
# `mt-zh-en`) has three kinds of attention:
#
# - **encoder self-attention**: Chinese source tokens attend to source tokens;
# - **decoder self-attention**: English tokens attend to the English tokens before them
#   (never after: the decoder writes left to right);
# - **cross-attention**: English tokens attend to the Chinese source. This is the one
#   closest to a word alignment.
#
# Marian falls into the same trap under SDPA, so we load it with eager attention too.

# %% tags=["translation"]
from transformers import MarianMTModel, MarianTokenizer

mt_path = explainlab.resolve("mt-zh-en")
mt_tokenizer = MarianTokenizer.from_pretrained(mt_path)
mt_model = MarianMTModel.from_pretrained(mt_path, attn_implementation="eager").to(session.device)

source = "我喜欢机器学习和人工智能。"
encoded = mt_tokenizer(source, return_tensors="pt").to(session.device)
with torch.no_grad():
    generated = mt_model.generate(**encoded)
print("translation:", mt_tokenizer.decode(generated[0], skip_special_tokens=True))

# %% [markdown]
# `generate` does not hand back attention in a form BertViz reads, so we run the model
# once more on the source and the whole translation (*teacher forcing*) and ask for the
# attention of that single pass.
#
# One detail matters for reading the decoder and cross-attention: the decoder's input is
# the translation shifted one step right. It starts with a start token (`<pad>` for
# Marian), and the row of a token is the step that **predicts the next token**. The row
# of `<pad>` is where the model chooses the first English word.

# %% tags=["mt-attention"]
with torch.no_grad():
    mt_outputs = mt_model(**encoded, decoder_input_ids=generated, output_attentions=True)

source_tokens = explainlab.clean_tokens(
    mt_tokenizer.convert_ids_to_tokens(encoded["input_ids"][0]), mt_tokenizer)
target_tokens = explainlab.clean_tokens(
    mt_tokenizer.convert_ids_to_tokens(generated[0]), mt_tokenizer)
print("source tokens:", source_tokens)
print("decoder input tokens:", target_tokens)
print("layers (encoder, decoder, cross):", len(mt_outputs.encoder_attentions),
      len(mt_outputs.decoder_attentions), len(mt_outputs.cross_attentions))

# %% [markdown]
# Give `head_view` the three lists and the two token lists. The drop-down now switches
# between *Encoder*, *Decoder* and *Cross*. In the cross view the English tokens are on
# the left and the Chinese tokens on the right.

# %% tags=["mt-head-view"]
head_view(encoder_attention=mt_outputs.encoder_attentions,
          decoder_attention=mt_outputs.decoder_attentions,
          cross_attention=mt_outputs.cross_attentions,
          encoder_tokens=source_tokens, decoder_tokens=target_tokens,
          html_action="return")

# %% [markdown]
# Does cross-attention find the word alignment? For each English word, the next cell
# takes the row of the step that produced it, averages the heads of the last layer and
# prints the Chinese token with the largest weight. Lesson 01 did the same with
# saliency; compare the two.

# %% tags=["cross-alignment"]
cross = mt_outputs.cross_attentions[-1][0].mean(0).cpu()  # decoder steps x source tokens
rows = []
for step in range(len(target_tokens) - 1):
    produced = target_tokens[step + 1]  # what this step predicts
    best = int(cross[step].argmax())
    rows.append({"English token": produced, "most attended source token": source_tokens[best],
                 "weight": round(float(cross[step, best]), 3)})
print(pd.DataFrame(rows).to_string(index=False))

# %% [markdown]
# Where the most attended token is the Chinese word you would align by hand, attention
# and alignment agree; where it is a neighbour, punctuation or `</s>`, they do not.
# Averaging heads hides heads that align well: switch heads on and off in the cross view
# above to find them. Either way the weights say where the decoder read, not why it chose
# the word; attribution methods answer that question.
#
# ## Exercises
#
# **1.** Find the head whose words attend most to the **next** token, in a sentence of
# your own. Change `my_sentence` and `offset` (-1 previous, +1 next, 0 the token itself)
# and run the cell. Is it the same head for different sentences?

# %% tags=["exercise-1"]
my_sentence = "A small dog chased the red ball"
offset = 1

model = AutoModel.from_pretrained(bert_path, attn_implementation="eager").to(session.device)
my_inputs = tokenizer(my_sentence, return_tensors="pt").to(session.device)
with torch.no_grad():
    my_attention = model(**my_inputs, output_attentions=True).attentions
my_tokens = tokenizer.convert_ids_to_tokens(my_inputs["input_ids"][0])
my_layer, my_head, my_weight = strongest_head(torch.stack(my_attention).squeeze(1).cpu(), offset)
print(f"offset {offset}: layer {my_layer}, head {my_head}, mean weight {my_weight}")
head_view(my_attention, my_tokens, include_layers=[my_layer], layer=my_layer, heads=[my_head],
          html_action="return")

# %% [markdown]
# **2.** Translate the same sentence written in traditional characters (the translator
# of lesson 01 reads both) and look at the cross view. Do 機器 and 學習 get the same
# English partners as 机器 and 学习? Change `my_source` and run the cell.

# %% tags=["exercise-2"]
my_source = "我喜歡機器學習和人工智慧。"

my_encoded = mt_tokenizer(my_source, return_tensors="pt").to(session.device)
with torch.no_grad():
    my_generated = mt_model.generate(**my_encoded)
    my_outputs = mt_model(**my_encoded, decoder_input_ids=my_generated, output_attentions=True)
print("translation:", mt_tokenizer.decode(my_generated[0], skip_special_tokens=True))
head_view(cross_attention=my_outputs.cross_attentions,
          encoder_tokens=explainlab.clean_tokens(
              mt_tokenizer.convert_ids_to_tokens(my_encoded["input_ids"][0]), mt_tokenizer),
          decoder_tokens=explainlab.clean_tokens(
              mt_tokenizer.convert_ids_to_tokens(my_generated[0]), mt_tokenizer),
          html_action="return")

# %% [markdown]
# **3.** (No code to run.) A classmate points at a thick line from "sat" to "cat" in
# one of the layers and concludes that "cat" is the most important word for the model's
# representation of "sat". Using the table of the section *A weight is not an effect*,
# write two reasons why the line alone does not show that, and name a method from
# lesson 01 or 03 that would test the claim.

# %%
del model, mt_model, mt_outputs, my_outputs
gc.collect()
if torch.cuda.is_available():
    torch.cuda.empty_cache()

# %% [markdown]
# ## What to remember
#
# - In transformers 5, load with `attn_implementation="eager"` before asking for
#   attentions; under the default SDPA they come back empty, with only a warning.
# - The head view shows one layer's heads as lines; the model view shows all heads as
#   thumbnails; the neuron view shows the queries and keys inside one head, and needs
#   BertViz's own model classes loaded from a local folder.
# - For an encoder-decoder, the head view takes encoder, decoder and cross-attention;
#   a decoder row is the step that predicts the next token.
# - Attention weights say where a head reads from, not what matters for the output.
#   Use them to form hypotheses, and attribution methods to test them.
