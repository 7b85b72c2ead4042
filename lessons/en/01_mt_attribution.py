# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Which source words did the translator use? Attribution for machine translation
#
# A translation model turns 我喜欢机器学习和人工智能。 into an English sentence one token at
# a time. *Feature attribution* asks, for every English token it produced: how much did
# each Chinese token contribute to that choice? The answer is a grid of scores, source
# tokens by target tokens, which you will read as a table and as a heatmap.
#
# In this lesson you will use [Inseq](https://inseq.org) to
#
# - attribute a Chinese-to-English translation with four methods: saliency, attention,
#   integrated gradients and input × gradient;
# - read the model's confidence at every step (a *step score*), and see why Inseq
#   refuses it for attention;
# - make SentencePiece tokens readable, and compare simplified and traditional input;
# - score every method against a gold word alignment;
# - meet three pitfalls: saturated gradients, attention taken for explanation, and the
#   baseline of integrated gradients.

# %%
import importlib.util

if importlib.util.find_spec("explainlab") is None:  # Colab, Kaggle, a new environment
    # %pip install -q "explainlab @ git+https://github.com/explainlab/explainlab"

import explainlab

session = explainlab.setup()

# %% [markdown]
# The line above says which profile produced the outputs on this page: `hub` runs the real
# Helsinki-NLP/opus-mt-zh-en, `offline` runs the course's small twin of it (same model and
# tokenizer classes, trained to translate the lesson's sentences). It also names the
# device and the library versions. `setup()` must run before Inseq draws anything: it
# repairs an import that Inseq's `show()` needs on IPython 9.
#
# ## The translator
#
# Lessons never name a model: they ask for a *role*, and `explainlab.resolve` answers
# with a hub id or a local folder, depending on the profile. We print what the role stands
# for (`explainlab.models.describe`), not that folder: its path only means something on the
# machine that ran the lesson.

# %%
import gc

import inseq
import pandas as pd
import torch

MODEL = explainlab.resolve("mt-zh-en")  # what from_pretrained loads: a hub id or a folder
print(explainlab.models.describe("mt-zh-en"))

# %% [markdown]
# `inseq.load_model` wraps a 🤗 transformers model together with an attribution method,
# here `saliency`. Every call to `attribute` may switch to another method with
# `method=...`, so one loaded model serves the whole lesson.
#
# The argument `attn_implementation="eager"` matters for the attention method later on.
# By default transformers computes attention with PyTorch's fused kernel (SDPA), which
# never stores the attention matrix and so cannot return it. The "eager" implementation
# computes the softmax weights explicitly and can hand them over. The translation itself
# does not change.

# %%
model = inseq.load_model(MODEL, "saliency", device=session.device,
                         model_kwargs={"attn_implementation": "eager"})
SPECIAL = set(model.tokenizer.all_special_tokens)
print(type(model.model).__name__, type(model.tokenizer).__name__, sorted(SPECIAL))

# %% [markdown]
# ## Saliency: the gradient of each next token
#
# Inseq first translates the sentence, then replays the translation step by step. At step
# *t* it computes the probability the model gave to the token it chose,
# `p(y_t | x, y_<t)`, and takes its gradient with respect to the embedding of every
# source token. A large gradient means that nudging that token's embedding would change
# the probability a lot. The gradient is a vector per token; Inseq reduces it to one
# number (its norm).
#
# We attribute the simplified and the traditional spelling of the sentence together, and
# ask for the step score `probability`: the model's confidence at each step.

# %%
SIMPLIFIED = "我喜欢机器学习和人工智能。"
TRADITIONAL = "我喜歡機器學習和人工智慧。"

# %% tags=["check-translation"]
saliency = model.attribute([SIMPLIFIED, TRADITIONAL], step_scores=["probability"],
                           show_progress=False)
for source, target in zip(saliency.info["input_texts"], saliency.info["generated_texts"]):
    print(f"{source} -> {target}")

# %% [markdown]
# ## Readable tokens
#
# The model does not see words but SentencePiece tokens. Look at them raw:

# %%
sentence = saliency.sequence_attributions[0]
print("source:", [token.token for token in sentence.source])
print("target:", [token.token for token in sentence.target])

# %% [markdown]
# `▁` marks a token that starts a new word (it stands for the space before it). `</s>`
# closes a sequence, and the target starts with `<pad>`: Marian's decoder begins every
# translation from that token, so it is input, not output, and gets no column of its own.
#
# `explainlab.clean_attribution` returns a copy with readable tokens. It never merges or
# drops a token, so the scores stay where they were.

# %%
saliency = explainlab.clean_attribution(saliency, tokenizer=model.tokenizer)
sentence = saliency.sequence_attributions[0]
print("source:", [token.token for token in sentence.source])
print("target:", [token.token for token in sentence.target])

# %% [markdown]
# ## Reading the heatmap
#
# `show()` draws one heatmap per input sentence. Each **column** is one generation step,
# labelled with the token produced there; each **row** is a source token. Inseq
# normalises every column, so a cell is the share of that step's attribution that went to
# that source token. The extra bottom row holds the step score: the probability of the
# token produced.

# %% tags=["check-heatmap"]
saliency.show()

# %% [markdown]
# Read a column from top to bottom: which Chinese token lights up when the model writes
# `machine`? Compare the two heatmaps: the traditional characters lead to the same
# translation, through different tokens.
#
# ## The scores as a table
#
# The same numbers as a pandas DataFrame are easier to sort and compare. `aggregate()`
# applies the reduction that `show()` uses; the rest is labelling.

# %%
def scores_table(sequence):
    # One sentence's scores: a row per source token, a column per generated token.
    aggregated = sequence.aggregate()
    targets = aggregated.target[aggregated.attr_pos_start:aggregated.attr_pos_end]
    return pd.DataFrame(aggregated.source_attributions.float().numpy(),
                        index=[token.token for token in aggregated.source],
                        columns=[token.token for token in targets])


table = scores_table(saliency.sequence_attributions[0])
table.round(3)

# %% [markdown]
# For every target token, the source token with the highest score, and the model's
# confidence at that step:

# %% tags=["check-top"]
summary = pd.DataFrame({
    "top source token": table.idxmax(),
    "probability": saliency.sequence_attributions[0].step_scores["probability"].numpy(),
})
print(summary.round(4).to_string())

# %% [markdown]
# ## Attention, and why it has no step scores
#
# The `attention` method reads the weights of the decoder's *cross-attention*: at each
# step, how much the decoder looked at each source token. Ask for a step score with it,
# and Inseq says no:

# %% tags=["check-attention-refusal"]
try:
    model.attribute(SIMPLIFIED, method="attention", step_scores=["probability"],
                    show_progress=False)
except ValueError as error:
    print("Inseq refuses:", error)

# %% [markdown]
# Gradient methods walk through the translation step by step: at every step Inseq runs
# the model on the prefix, computes the target probability and back-propagates. A step
# score is computed inside that loop, at almost no cost. Attention is a *final-step*
# method: Inseq runs the model **once** on the finished translation and cuts the weights
# of every step out of that single pass. There is no step loop in which to compute a
# probability, so Inseq refuses instead of silently returning nothing.
#
# The message names the fix: `method="dummy"` runs only the step loop, computes the step
# scores and attributes nothing.

# %%
probe = model.attribute(SIMPLIFIED, method="dummy", step_scores=["probability"],
                        show_progress=False)
print(probe.sequence_attributions[0].step_scores["probability"].numpy().round(4))

# %% [markdown]
# Now the attention itself, without step scores. For encoder-decoder models Inseq runs
# final-step methods one sentence at a time (a batch would only earn a warning), so we
# attribute the two sentences separately and merge the outputs into one.

# %%
attention = inseq.merge_attributions(
    [model.attribute(text, method="attention", show_progress=False)
     for text in (SIMPLIFIED, TRADITIONAL)])
attention = explainlab.clean_attribution(attention, tokenizer=model.tokenizer)
print("source x target x layer x head:",
      tuple(attention.sequence_attributions[0].source_attributions.shape))

# %% [markdown]
# Every layer and every head has its own weights. For the heatmap and the table, Inseq
# averages them over heads and layers; each column then sums to one, as attention
# weights do.

# %%
attention.sequence_attributions[0].show()

# %% [markdown]
# ## Integrated gradients and input × gradient
#
# Saliency only asks how sensitive the output is *at* the input. Two methods weigh that
# sensitivity by the input itself:
#
# - **input × gradient** multiplies the gradient elementwise by the token's embedding;
# - **integrated gradients** (IG) starts from a *baseline* embedding and walks a straight
#   line to the real one in `n_steps` steps, averaging the gradient on the way, then
#   multiplies by the distance walked. Before Inseq reduces and normalises them, the
#   attributions of a step add up to the change of the target probability between
#   baseline and input (*completeness*). Inseq's default baseline replaces every source
#   token by `<unk>` and keeps `</s>`.

# %%
integrated = model.attribute([SIMPLIFIED, TRADITIONAL], method="integrated_gradients",
                             step_scores=["probability"], n_steps=50, internal_batch_size=100,
                             show_progress=False)
integrated = explainlab.clean_attribution(integrated, tokenizer=model.tokenizer)
integrated.sequence_attributions[0].show()

# %%
input_x_gradient = model.attribute([SIMPLIFIED, TRADITIONAL], method="input_x_gradient",
                                   step_scores=["probability"], show_progress=False)
input_x_gradient = explainlab.clean_attribution(input_x_gradient, tokenizer=model.tokenizer)
input_x_gradient.sequence_attributions[0].show()

# %% [markdown]
# The four methods side by side: the top source token of every target token.

# %% tags=["check-methods"]
outputs = {"saliency": saliency, "attention": attention,
           "integrated_gradients": integrated, "input_x_gradient": input_x_gradient}
tops = pd.DataFrame({name: scores_table(output.sequence_attributions[0]).idxmax()
                     for name, output in outputs.items()})
print(tops.to_string())

# %% [markdown]
# ## Simplified and traditional characters
#
# Simplified 机器学习 and traditional 機器學習 are the same words in different characters.
# The tokenizer sees different strings, so the model has to map both onto the same
# English. Does the attribution follow the words in both scripts?

# %% tags=["check-traditional"]
print(pd.DataFrame({
    "simplified": scores_table(saliency.sequence_attributions[0]).idxmax(),
    "traditional": scores_table(saliency.sequence_attributions[1]).idxmax(),
}).to_string())

# %% [markdown]
# ## Against a gold word alignment
#
# Which English word translates which Chinese word is something a bilingual reader can
# write down. Here is that *gold alignment* for the lesson sentence, in both scripts:

# %%
GOLD = pd.DataFrame(
    [("我", "我", "I"), ("喜欢", "喜歡", "like"), ("机器", "機器", "machine"),
     ("学习", "學習", "learning"), ("和", "和", "and"), ("人工", "人工", "artificial"),
     ("智能", "智慧", "intelligence"), ("。", "。", ".")],
    columns=["simplified", "traditional", "English"])
GOLD

# %% [markdown]
# The alignment is written in words, not tokens, because tokenizers cut differently: the
# twin has a token for 我 and one for 喜欢, while opus-mt-zh-en keeps 我喜欢 as a single
# token. A token is linked to a word when their characters overlap, so the single token
# 我喜欢 is linked to both *I* and *like*. The helpers below find each token's characters
# in the text, and turn the gold words into links between table rows and columns.

# %%
def token_spans(tokens, text):
    # (start, end) of each token in text, searched left to right; None if absent.
    spans, cursor = [], 0
    for token in tokens:
        start = -1 if token in SPECIAL else text.find(token, cursor)
        spans.append(None if start < 0 else (start, start + len(token)))
        cursor = cursor if start < 0 else start + len(token)
    return spans


# %%
def tokens_of(word, spans, text):
    # Indices of the tokens that overlap the word (its first occurrence in text).
    start = text.find(word)
    end = start + len(word)
    return [k for k, span in enumerate(spans)
            if start >= 0 and span and span[0] < end and start < span[1]]

# %%
def gold_links(table, source_text, target_text, pairs):
    # Gold (row, column) links of a scores table, from (Chinese word, English word) pairs.
    rows = token_spans(table.index, source_text)
    columns = token_spans(table.columns, target_text)
    return {(i, j) for zh, en in pairs
            for i in tokens_of(zh, rows, source_text)
            for j in tokens_of(en, columns, target_text)}


# %%
def named(links, table):
    # Links as (source token, target token), in target order.
    ordered = sorted(links, key=lambda link: (link[1], link[0]))
    return [(table.index[i], table.columns[j]) for i, j in ordered]

# %% [markdown]
# The gold links on the tokens of this model's translation:

# %% tags=["check-gold"]
translation = saliency.info["generated_texts"][0]
gold = gold_links(table, SIMPLIFIED, translation, zip(GOLD["simplified"], GOLD["English"]))
print(named(gold, table))

# %% [markdown]
# A method *predicts* an alignment if we link every generated token to its highest-scoring
# source token. Special tokens (`</s>`) are left out on both sides: they carry no word.
# The **alignment error rate** (AER, Och and Ney 2003) compares the predicted links *A*
# with the gold links *G*:
#
# AER = 1 − 2·|A ∩ G| / (|A| + |G|)
#
# 0 means every predicted link is a gold link and every gold link is predicted; 1 means
# no overlap at all. Lower is better. We write the two steps by hand here; lesson 06 takes
# them, and `gold_links` above, from the package (`explainlab.evaluate.argmax_links`,
# `alignment_error_rate`, `gold_links`).

# %%
def argmax_links(table, *, skip_sources=SPECIAL):
    # Each generated (non-special) token linked to its top-scoring source token.
    rows = [i for i, token in enumerate(table.index) if token not in skip_sources]
    return {(max(rows, key=lambda i: table.iat[i, j]), j)
            for j, token in enumerate(table.columns) if token not in SPECIAL}


# %%
def aer(predicted, gold):
    # Alignment error rate with sure links only.
    return 1 - 2 * len(predicted & gold) / (len(predicted) + len(gold))

# %% tags=["check-aer"]
rows = {}
for name, output in outputs.items():
    for k, script in enumerate(["simplified", "traditional"]):
        scores = scores_table(output.sequence_attributions[k])
        pairs = zip(GOLD[script], GOLD["English"])
        gold_k = gold_links(scores, output.info["input_texts"][k],
                            output.info["generated_texts"][k], pairs)
        rows.setdefault(name, {})[f"AER {script}"] = aer(argmax_links(scores), gold_k)
aer_table = pd.DataFrame(rows).T
print(aer_table.round(3).to_string())

# %% [markdown]
# Which method recovers the alignment best on this profile's model? The argmax throws
# away everything but the top token of each column, so also look back at the heatmaps:
# a method can put the right token on top by a hair, or by a wide margin.
#
# ## Pitfall 1: gradients saturate
#
# Saliency differentiates a *probability*. When the model is sure of a token, the
# probability sits on the flat top of the softmax, where its derivative
# *p(1 − p)* is close to zero: the gradients shrink although the input matters as much
# as ever. Inseq's per-column normalisation hides this, so look at the raw size of the
# gradient at each step, next to the probability, and next to the gradient of the
# *logit* (the score before the softmax), which does not saturate.

# %% tags=["check-saturation"]
logit_saliency = model.attribute(SIMPLIFIED, attributed_fn="logit", show_progress=False)
raw = saliency.sequence_attributions[0]
print(pd.DataFrame({
    "probability": raw.step_scores["probability"].numpy(),
    "gradient size (probability)": raw.source_attributions.norm(dim=(0, 2)).numpy(),
    "gradient size (logit)":
        logit_saliency.sequence_attributions[0].source_attributions.norm(dim=(0, 2)).numpy(),
}, index=table.columns).round(4).to_string())

# %% [markdown]
# Find the steps whose probability is closest to one: their probability gradients are
# typically among the smallest in the table, while their logit gradients are not. The
# normalised heatmap of a saturated step rests on tiny, noisy numbers. Integrated
# gradients was designed against this: it averages gradients along a path that starts
# far from the saturated input.
#
# ## Pitfall 2: attention is not explanation
#
# An attention weight says where a head *reads*, not how much what it reads changes the
# output; and the heatmap above averages heads that may disagree. Here is, for the step
# that produces `machine`, the source token each head of each layer attends to most:

# %% tags=["heads-machine"]
heads = attention.sequence_attributions[0].source_attributions  # source x target x layer x head
column = list(scores_table(attention.sequence_attributions[0]).columns).index("machine")
sources = [token.token for token in attention.sequence_attributions[0].source]
favourite = heads[:, column].argmax(dim=0)  # layer x head
pd.DataFrame([[sources[i] for i in layer] for layer in favourite.tolist()],
             index=[f"layer {n}" for n in range(favourite.shape[0])],
             columns=[f"head {n}" for n in range(favourite.shape[1])])

# %% [markdown]
# Heads that park their weight on `</s>` or on punctuation are common: they are using a
# "no-op" slot, not saying that `</s>` produced the word. Treat attention as a view of
# the model's plumbing, and check any claim about importance with a method that measures
# an effect on the output.
#
# ## Pitfall 3: the baseline decides what IG can see
#
# IG attributes the change from baseline to input. A token whose baseline equals the
# token itself gets nothing, whatever its role. Inseq's default baseline keeps `</s>`, so
# `</s>` gets no attribution by construction. With `include_eos_baseline=True`, `</s>` is
# replaced by `<unk>` in the baseline as well:

# %% tags=["check-baseline"]
eos_replaced = model.attribute(SIMPLIFIED, method="integrated_gradients", n_steps=50,
                               include_eos_baseline=True, show_progress=False)
eos_replaced = explainlab.clean_attribution(eos_replaced, tokenizer=model.tokenizer)
print(pd.DataFrame({
    "</s> kept (default)": scores_table(integrated.sequence_attributions[0]).loc["</s>"],
    "</s> replaced": scores_table(eos_replaced.sequence_attributions[0]).loc["</s>"],
}).round(3).to_string())

# %% [markdown]
# Same model, same input, a different answer about `</s>`, and the other rows can move
# too. Other baselines (all-zero embeddings, padding tokens, random embeddings) give
# other answers again. Always say which baseline you used, and prefer one that means
# "no information" to your model.
#
# ## Exercises
#
# **1. Your own sentence.** Change `MY_SENTENCE` and run the cell. Which source token
# does each English word come from? With the `offline` profile, stay within the twin's
# small vocabulary (its model card says what it covers): try 她很讨厌编程。 or
# 我们也研究深度学习。 With `hub`, anything goes.

# %% tags=["exercise-sentence"]
MY_SENTENCE = "她很讨厌编程。"  # edit me

mine = explainlab.clean_attribution(model.attribute(MY_SENTENCE, show_progress=False),
                                    tokenizer=model.tokenizer)
print(mine.info["generated_texts"][0])
print(scores_table(mine.sequence_attributions[0]).idxmax().to_string())

# %% [markdown]
# **2. Let attention pick `</s>`.** The AER above never lets a target token link to
# `</s>`. Allow it by setting `SKIP` to an empty set, and compare attention's AER with
# the one in the table. Which heads from pitfall 2 explain the difference?

# %% tags=["exercise-special"]
SKIP = SPECIAL  # edit me: try set()

scores = scores_table(attention.sequence_attributions[0])
gold = gold_links(scores, SIMPLIFIED, attention.info["generated_texts"][0],
                  zip(GOLD["simplified"], GOLD["English"]))
print("attention AER:", round(aer(argmax_links(scores, skip_sources=SKIP), gold), 3))
print(named(argmax_links(scores, skip_sources=SKIP), scores))

# %% [markdown]
# **3. More steps for IG.** Rerun the integrated-gradients cell with `n_steps=10` and
# `n_steps=200`. Which cells of the heatmap move? Keep `internal_batch_size=100`: Captum
# then sends at most 100 rows (sentence × step) through the model at once, so 200 steps
# take four times as long as 50 but no more memory.
#
# ## Clean up
#
# Free the model before the next lesson loads another one.

# %%
del model, saliency, attention, integrated, input_x_gradient, eos_replaced, probe, mine
del logit_saliency, outputs
gc.collect()
if torch.cuda.is_available():
    torch.cuda.empty_cache()
