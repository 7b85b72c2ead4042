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
# # Homework: reading importance scores off the models
#
# This homework follows HW7 of NTU's *Introduction to Generative AI* ("Understanding what
# AI is thinking"). It has two tasks:
#
# - **Task 1, token importance.** Eight questions about the heatmaps and tables of the
#   earlier lessons: saliency and attention on the translator (lesson 01) and on a
#   sentence-completion model (lesson 02), one on BertViz (lesson 04) and one on a
#   classification explainer (lesson 03).
# - **Task 2, a chat model explains itself.** Ask a chat model which words of a movie
#   review matter, and compare its answer with a real attribution method.
#
# Every question has an answer cell. Replace `None` with your answer and run the cell:
# `explainlab.homework.check` says at once whether it is right, and gives a hint if not.

# %%
import importlib.util

if importlib.util.find_spec("explainlab") is None:  # Colab, Kaggle, a new environment
    # %pip install -q "explainlab @ git+https://github.com/explainlab/explainlab"

import explainlab

session = explainlab.setup()

# %% [markdown]
# The line above names the profile that produced the outputs on this page: `hub` for the
# real models, `offline` for the course's small twins of them. The right answers depend
# on the model, so they change with the profile. That is why no answer is written in
# this notebook: `check` computes the expected answer itself, from the same model that
# the active profile gives you, the first time you check a question.
#
# How `check` compares:
#
# - **a token** is compared as the heatmap shows it, ignoring case, surrounding spaces
#   and marks such as `▁` or `Ġ`; if two tokens are tied at the top, either is right;
# - **a number** is right if it is within 0.01 of the expected one (the heatmaps show
#   three decimals).
#
# `check` prints its verdict in English and in Chinese; add `lang="en"` to a call to see
# only English. The dictionary `results` keeps your verdicts for the summary at the end.

# %%
import gc

import inseq
import pandas as pd
import torch

results = {}

# %% [markdown]
# ## Task 1a: the translator
#
# We translate the sentence of lesson 01 with the `mt-zh-en` model and attribute the
# translation with **saliency**: for every generated token, the gradient of its
# probability with respect to each source token's embedding, reduced to one number per
# token and normalised so that each column sums to one. The step score `probability`
# adds the model's confidence for each generated token as the bottom row.

# %% tags=["check-translation"]
SENTENCE = "我喜欢机器学习和人工智能。"

mt_model = inseq.load_model(explainlab.resolve("mt-zh-en"), "saliency", device=session.device,
                            model_kwargs={"attn_implementation": "eager"})
mt_saliency = mt_model.attribute(SENTENCE, step_scores=["probability"], show_progress=False)
mt_saliency = explainlab.clean_attribution(mt_saliency, tokenizer=mt_model.tokenizer)
print(mt_saliency.info["generated_texts"][0])

# %% [markdown]
# The heatmap: a column per generated token, a row per source token.

# %%
mt_saliency.show()

# %% [markdown]
# The same scores as a table are easier to read exactly. `scores_table` works for both
# kinds of model in this homework: for the translator the rows are the source tokens; for
# a decoder-only model (Task 1b) they are all the tokens of the sequence, and a token
# gets no score (NaN) in the columns generated before it existed.

# %%
def scores_table(output):
    # One sequence's aggregated scores: a row per token, a column per generated token.
    scores = output.sequence_attributions[0].aggregate()
    generated = [t.token for t in scores.target[scores.attr_pos_start:scores.attr_pos_end]]
    if scores.source_attributions is not None:  # encoder-decoder: source x generated
        rows, values = [t.token for t in scores.source], scores.source_attributions
    else:  # decoder-only: every token x generated
        rows, values = [t.token for t in scores.target], scores.target_attributions
    return pd.DataFrame(values.float().cpu().numpy(), index=rows, columns=generated)


mt_saliency_table = scores_table(mt_saliency)
mt_saliency_table.round(3)

# %% [markdown]
# ### Question 1
#
# Under saliency, which **source token** gets the highest score when the model generates
# `machine`? Answer with the token as a string.

# %% tags=["check-q1"]
answer = None  # a source token, as a string
results["q1"] = explainlab.homework.check("q1", answer)

# %% [markdown]
# ### Question 2
#
# Under saliency, what is the score of the source token `学习` when the model generates
# `learning`? Answer with a number.

# %% tags=["check-q2"]
answer = None  # a number
results["q2"] = explainlab.homework.check("q2", answer)

# %% [markdown]
# Now **attention**: the weights of the decoder's cross-attention at each step, averaged
# over layers and heads. Inseq computes them in one forward pass over the finished
# translation, which is why it offers no step scores for this method (lesson 01).

# %%
mt_attention = mt_model.attribute(SENTENCE, method="attention", show_progress=False)
mt_attention = explainlab.clean_attribution(mt_attention, tokenizer=mt_model.tokenizer)
mt_attention.show()
mt_attention_table = scores_table(mt_attention)
mt_attention_table.round(3)

# %% [markdown]
# ### Question 3
#
# Under attention, which source token gets the most weight when the model generates
# `machine`? Then compare with your answer to question 1: do the two methods agree on
# this model?

# %% tags=["check-q3"]
answer = None  # a source token, as a string
results["q3"] = explainlab.homework.check("q3", answer)

# %% [markdown]
# If they disagree, remember what each one measures. Saliency asks how much the
# probability of `machine` would move if a source embedding moved; attention says where
# the decoder read from, and heads often park their weight on tokens such as `</s>` that
# carry no word. We are done with the translator.

# %%
del mt_model, mt_saliency, mt_attention
gc.collect()
if torch.cuda.is_available():
    torch.cuda.empty_cache()

# %% [markdown]
# ## Task 1b: sentence completion
#
# The sentence-completion model is the `lm-gpt2` role (GPT-2 on the hub profile). The
# HW7 example: the prompt "The first president of America is", continued by
# " George Washington". We give Inseq the whole text to explain, prompt and continuation,
# so it attributes exactly these words (*forced decoding*) instead of whatever the model
# would have generated. The step score `probability` then tells you how likely the model
# found each forced token: an explanation of a continuation the model finds unlikely
# explains a sentence it would not have written.

# %% tags=["check-forced"]
PROMPT = "The first president of America is"
CONTINUATION = " George Washington"

lm_model = inseq.load_model(explainlab.resolve("lm-gpt2"), "saliency", device=session.device,
                            model_kwargs={"attn_implementation": "eager"})
lm_saliency = lm_model.attribute(PROMPT, PROMPT + CONTINUATION, step_scores=["probability"],
                                 show_progress=False)
lm_saliency = explainlab.clean_attribution(lm_saliency, tokenizer=lm_model.tokenizer)
print("probability of each forced token:",
      lm_saliency.sequence_attributions[0].step_scores["probability"].numpy().round(4))

# %% [markdown]
# In a decoder-only model every token is explained by **all** tokens before it: the
# prompt and, for `Washington`, also `George`. The heatmap is a staircase.

# %%
lm_saliency.show()
lm_saliency_table = scores_table(lm_saliency)
lm_saliency_table.round(3)

# %% [markdown]
# ### Question 4
#
# This is the example question of HW7. When the model generates `Washington`, what is the
# saliency score of `America`?

# %% tags=["check-q4"]
answer = None  # a number
results["q4"] = explainlab.homework.check("q4", answer)

# %% [markdown]
# ### Question 5
#
# Under saliency, which prompt token gets the highest score when the model generates
# `George`?

# %% tags=["check-q5"]
answer = None  # a prompt token, as a string
results["q5"] = explainlab.homework.check("q5", answer)

# %% [markdown]
# The same prompt under attention:

# %%
lm_attention = lm_model.attribute(PROMPT, PROMPT + CONTINUATION, method="attention",
                                  show_progress=False)
lm_attention = explainlab.clean_attribution(lm_attention, tokenizer=lm_model.tokenizer)
lm_attention.show()
lm_attention_table = scores_table(lm_attention)
lm_attention_table.round(3)

# %% [markdown]
# ### Question 6
#
# Under attention, which prompt token gets the most weight when the model generates
# `George`?

# %% tags=["check-q6"]
answer = None  # a prompt token, as a string
results["q6"] = explainlab.homework.check("q6", answer)

# %% [markdown]
# Many decoder-only models send a large share of their attention to the first token of
# the sequence, whatever it says: an *attention sink*, a place to put weight when a head
# has nothing to read. If your answer to question 6 is such a token, it tells you about
# the model's plumbing, not about which word decided the answer.

# %%
del lm_model, lm_saliency, lm_attention
gc.collect()
if torch.cuda.is_available():
    torch.cuda.empty_cache()

# %% [markdown]
# ## Task 1c: one head in BertViz
#
# Lesson 04 drew the attention of a BERT encoder on "The cat sat on the mat". We load it
# again with eager attention (under SDPA, BERT returns no attention weights) and draw the
# head view.

# %%
from bertviz import head_view
from transformers import AutoModel, AutoTokenizer

bert_path = explainlab.resolve("bertviz")
bert_tokenizer = AutoTokenizer.from_pretrained(bert_path)
bert = AutoModel.from_pretrained(bert_path, attn_implementation="eager").to(session.device)
inputs = bert_tokenizer("The cat sat on the mat", return_tensors="pt").to(session.device)
with torch.no_grad():
    attentions = bert(**inputs, output_attentions=True).attentions
tokens = bert_tokenizer.convert_ids_to_tokens(inputs["input_ids"][0])
print(f"{len(attentions)} layers, {attentions[0].shape[1]} heads, tokens: {tokens}")

# %% [markdown]
# In the head view, pick the layer in the drop-down menu and double-click a coloured
# square to show only that head. Both are counted from 0.

# %% tags=["check-head-view"]
head_view(attentions, tokens, html_action="return")

# %% [markdown]
# The same head as a matrix: a row per token that attends, a column per token it
# attends to; each row sums to one.

# %%
LAYER, HEAD = 0, 2
head_table = pd.DataFrame(attentions[LAYER][0, HEAD].float().cpu().numpy(),
                          index=tokens, columns=tokens)
head_table.round(3)

# %% [markdown]
# ### Question 7
#
# In layer 0, head 2, which token does `sat` attend to most?

# %% tags=["check-q7"]
answer = None  # a token, as a string
results["q7"] = explainlab.homework.check("q7", answer)

# %% [markdown]
# Look at the other rows of the same head: does it do the same thing for every token? A
# head with one simple rule (for instance "read the previous token") is easy to describe,
# but describing a head is not the same as knowing how much the prediction depends on it.

# %%
del bert, attentions
gc.collect()
if torch.cuda.is_available():
    torch.cuda.empty_cache()

# %% [markdown]
# ## Task 1d: a classification explainer
#
# The `sst2` model labels a text NEGATIVE or POSITIVE. The package's
# `SequenceClassificationExplainer` (lesson 03) attributes its output to the input tokens
# with integrated gradients. Unlike saliency, these attributions have a **sign**: positive
# scores push towards the class we ask about, negative ones away from it.

# %%
from transformers import AutoModelForSequenceClassification

sst2_path = explainlab.resolve("sst2")
sst2_tokenizer = AutoTokenizer.from_pretrained(sst2_path)
sst2 = AutoModelForSequenceClassification.from_pretrained(sst2_path).to(session.device)
explainer = explainlab.explain.SequenceClassificationExplainer(sst2, sst2_tokenizer)

word_attributions = explainer("I love you, I like you", class_name="POSITIVE")
print("predicted:", explainer.predicted_class_name)
attributions = pd.Series([score for _, score in word_attributions],
                         index=[token for token, _ in word_attributions])
attributions.round(3).to_frame("attribution towards POSITIVE")

# %% [markdown]
# ### Question 8
#
# Which word gets the highest attribution towards POSITIVE? The special tokens `[CLS]` and
# `[SEP]` do not count.

# %% tags=["check-q8"]
answer = None  # a word, as a string
results["q8"] = explainlab.homework.check("q8", answer)

# %% [markdown]
# ## Task 2: can a chat model explain itself?
#
# HW7's second task asks a chat model two things about a movie review: (a) is it positive
# or negative, and why; (b) list `(word, importance)` pairs, importance from −1 (pushes
# towards negative) to 1 (pushes towards positive). Such a list *looks* like an
# attribution, but the model only writes what an explanation usually looks like. Is it
# faithful to how a classifier actually decides? We compare it with the integrated
# gradients of the `sst2` classifier on the same review.

# %%
REVIEW = "The acting was wonderful, but the plot was boring and the ending was a total mess."

QUESTION_A = (f"Movie review: {REVIEW}\n\nIs this review positive or negative? "
              "Answer with one word, then explain your answer in one sentence.")
QUESTION_B = (f"Movie review: {REVIEW}\n\nFor each word of the review that matters for "
              "its sentiment, give a (word, importance) tuple, where importance is a "
              "number from -1 (strongly negative) to 1 (strongly positive). "
              "Answer only with a Python list of tuples.")

# %% [markdown]
# On the `hub` profile, the `lm` role is Qwen3-0.6B, a real chat model: the next cell asks
# it both questions (greedy decoding, Qwen3's thinking mode off, see lesson 02). The
# offline twin of it only knows a few facts and greetings and cannot produce such an
# explanation, so on that profile the cell says so and uses a hand-written **example**
# answer instead, to show how the comparison is computed. The printout says which of the
# two you are looking at.

# %%
EXAMPLE_REPLY = """```python
[("acting", 0.2), ("wonderful", 0.9), ("but", -0.3), ("plot", -0.1),
 ("boring", -0.8), ("ending", -0.2), ("total", -0.4), ("mess", -0.9)]
```"""

# %% tags=["task2-ask"]
if session.profile == "hub":
    from transformers import AutoModelForCausalLM

    chat_path = explainlab.resolve("lm")
    chat_tokenizer = AutoTokenizer.from_pretrained(chat_path)
    chat_model = AutoModelForCausalLM.from_pretrained(
        chat_path, dtype=session.dtype, device_map=session.device_map)

    def ask(question, max_new_tokens=200):
        # One chat turn, decoded greedily, without Qwen3's thinking block.
        prompt = chat_tokenizer.apply_chat_template(
            [{"role": "user", "content": question}], tokenize=False,
            add_generation_prompt=True, enable_thinking=False)
        tokens_in = chat_tokenizer(prompt, return_tensors="pt").to(chat_model.device)
        with torch.no_grad():
            output = chat_model.generate(**tokens_in, max_new_tokens=max_new_tokens,
                                         do_sample=False)
        return chat_tokenizer.decode(output[0, tokens_in["input_ids"].shape[1]:],
                                     skip_special_tokens=True)

    print("(a) model output:\n" + ask(QUESTION_A))
    reply, source = ask(QUESTION_B), "model output"
    del chat_model
    gc.collect()
else:
    print(f"The {session.profile} twin of the chat model cannot explain a review: it only "
          "knows a few facts and greetings. Below, a hand-written example answer stands in "
          "for its reply to question (b).")
    reply, source = EXAMPLE_REPLY, "example"
print(f"(b) {source}:\n{reply}")

# %% [markdown]
# Chat models rarely answer in exactly the format asked: code fences, quotes of every
# kind, a sentence before the list, Chinese punctuation, a pair without a number.
# `parse_word_scores` copes with all of these; a pair without a number gets `None`.

# %% tags=["task2-parse"]
claimed = explainlab.homework.parse_word_scores(reply)
if not claimed:
    print(f"No (word, importance) pairs found in the {source}; using the example instead.")
    source = "example"
    claimed = explainlab.homework.parse_word_scores(EXAMPLE_REPLY)
print(f"{len(claimed)} pairs parsed from the {source}:", claimed)

# %% [markdown]
# The real attributions: the explainer on the review, towards POSITIVE, so that the sign
# means the same as in the chat model's list. `word_scores` joins word pieces (`##ing`)
# back into words and drops `[CLS]` and `[SEP]`.

# %%
measured = explainlab.homework.word_scores(explainer(REVIEW, class_name="POSITIVE"))
print("the classifier predicts:", explainer.predicted_class_name)
print([(word, round(score, 3)) for word, score in measured])

# %% [markdown]
# `compare_word_scores` lines the two lists up by word. The **Spearman rank correlation**
# compares their orders rather than their values: the explainer's scores are on another
# scale than the chat model's −1 to 1. It is 1 when both put the words in the same order,
# −1 for opposite orders, near 0 for no relation. Words the chat model named that are not
# in the review get NaN and are left out.

# %% tags=["task2-compare"]
comparison = explainlab.homework.compare_word_scores(claimed, measured)
rho = explainlab.homework.rank_correlation(comparison["claimed"], comparison["measured"])
print(comparison.round(3).to_string())
print(f"Spearman rank correlation ({source}, {comparison['measured'].notna().sum()} words): "
      f"{rho:.3f}")

# %% [markdown]
# A plot makes the disagreements visible. The measured attributions are divided by their
# largest absolute value, so that both sets of bars share the −1 to 1 range.

# %% tags=["task2-plot"]
import matplotlib.pyplot as plt

shown = comparison.dropna()
scaled = shown["measured"] / shown["measured"].abs().max()
positions = range(len(shown))
figure, axes = plt.subplots(figsize=(7, 3.5))
axes.bar([p - 0.2 for p in positions], shown["claimed"], width=0.4, label=f"chat model ({source})")
axes.bar([p + 0.2 for p in positions], scaled, width=0.4, label="integrated gradients (scaled)")
axes.set_xticks(list(positions), shown.index, rotation=45, ha="right")
axes.axhline(0, color="grey", linewidth=0.8)
axes.set_ylabel("importance towards POSITIVE")
axes.legend()
figure.tight_layout()
plt.show()

# %% [markdown]
# How to read the result, and its pitfalls:
#
# - a high correlation says the chat model's list is **plausible**, not that it is
#   **faithful**: the chat model describes a different model (itself, or nothing at
#   all), and a fluent list of words can be written without looking inside anything;
# - the two sides answer different questions: integrated gradients measures what moves
#   this classifier's POSITIVE probability, from a baseline; the chat model guesses
#   what a reader would find important;
# - with a handful of words, the rank correlation moves a lot when one word moves.
#
# ### Exercise
#
# Be the chat model yourself: write your own guesses into `MY_GUESSES` (any format
# `parse_word_scores` understands) *before* you look at the measured attributions again,
# and compute your rank correlation. On the `hub` profile, also try another review in
# `REVIEW` and run Task 2 again.

# %% tags=["exercise-guesses"]
MY_GUESSES = "wonderful: 0.8, boring: -0.6, mess: -0.7, acting: 0.1"  # edit me

mine = explainlab.homework.compare_word_scores(
    explainlab.homework.parse_word_scores(MY_GUESSES), measured)
print(mine.round(3).to_string())
print("my rank correlation:",
      round(explainlab.homework.rank_correlation(mine["claimed"], mine["measured"]), 3))

# %% [markdown]
# ## Your score
#
# Run this cell after answering: it counts the questions you got right.

# %% tags=["summary"]
right = sum(results.values())
print(f"{right} of {len(results)} answers right:",
      " ".join(f"{q}{'✓' if ok else '·'}" for q, ok in results.items()))

# %%
del sst2, explainer
gc.collect()
if torch.cuda.is_available():
    torch.cuda.empty_cache()
