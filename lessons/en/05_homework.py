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
# # Homework: measure what the models attend to, with your own code
#
# This homework follows HW7 of NTU's *Introduction to Generative AI* ("Understanding what
# AI is thinking"), with its inputs: the sentence in traditional characters, and GPT-2 XL
# in 8 bits where a GPU allows it. It has three tasks:
#
# - **Task 1, token importance.** Eight questions on the translator (lesson 01), the
#   sentence-completion model (lesson 02), a BERT encoder in BertViz (lesson 04) and a
#   classification explainer (lesson 03).
# - **Task 2, a chat model explains itself.** A chat model labels a movie review and says
#   which words mattered; you measure whether its own answer depends on those words. Two
#   questions.
# - **Task 3, test an explanation.** A deletion test and activation patching, as in
#   lesson 06. Two questions.
#
# Each section shows a tool on one input, and the questions ask about another input,
# method or step: you write the call and read the number yourself. Every question has an
# answer cell. Write your code in it, put your answer in place of `None` and run it:
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
# - **a token** is compared as the cleaned table shows it, ignoring case, surrounding
#   spaces and marks such as `▁` or `Ġ`; if two tokens are tied at the top, either is
#   right;
# - **a number** is right if it is within 0.005 of the expected one;
# - **a rank** (1 for the highest score) must be exact.
#
# `check` prints its verdict in English and in Chinese; add `lang="en"` to a call to see
# only English. The dictionary `results` keeps your verdicts for the summary at the end.
# Your teacher may grade the notebook you hand in: the grader reruns it from the top in a
# fresh kernel and judges the `answer` of each answer cell itself, so keep each answer
# cell's code working on its own.

# %%
import gc

import inseq
import pandas as pd
import torch

results = {}

# %% [markdown]
# ## Task 1a: the translator
#
# We load the `mt-zh-en` model with **saliency** (for every generated token, the gradient
# of its probability with respect to each source token's embedding, reduced to one number
# per token, each column normalised to sum to one) and attribute the simplified sentence
# of lesson 01. The step score `probability` adds the model's confidence in each generated
# token.

# %% tags=["check-translation"]
SENTENCE = "我喜欢机器学习和人工智能。"
TRADITIONAL = "我喜歡機器學習和人工智慧。"  # HW7's sentence: yours to attribute

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
# A heatmap is for the eye; to read numbers exactly, turn the output into a table with
# `explainlab.homework.scores_table`: a row per source token, a column per generated
# token. For a decoder-only model (Task 1b) the rows are all the tokens of the sequence,
# and a token gets no score (NaN) in the columns generated before it existed. Three ways
# to read a table, on the column `machine`:

# %% tags=["reading-tables"]
mt_table = explainlab.homework.scores_table(mt_saliency)
print("one cell, row 机器 and column machine:",
      round(float(mt_table.loc["机器", "machine"]), 3))
print("the row with the highest score in the column:", mt_table["machine"].idxmax())
print("ranks in the column, 1 = highest:",
      mt_table["machine"].rank(ascending=False, method="min").astype(int).to_dict())

# %% [markdown]
# For **attention**, pass `method="attention"` to `attribute`: the weights of the
# decoder's cross-attention at each step, averaged over layers and heads, from one forward
# pass over the finished translation (so it offers no step scores, lesson 01).
#
# ### Question 1
#
# HW7 asked about the sentence in traditional characters, `TRADITIONAL`. Attribute it with
# saliency. Which **source token** gets the highest score when the model generates
# `intelligence`? Answer with the token as a string.

# %% tags=["answer-q1"]
# Your code: attribute TRADITIONAL, clean it, make a table, read the column.
answer = None  # a source token, as a string
results["q1"] = explainlab.homework.check("q1", answer)

# %% [markdown]
# ### Question 2
#
# Still under saliency on `TRADITIONAL`: what is the score of the source token `和` when
# the model generates `learning`? Answer with a number.

# %% tags=["answer-q2"]
# Your code.
answer = None  # a number
results["q2"] = explainlab.homework.check("q2", answer)

# %% [markdown]
# ### Question 3
#
# Two methods, one cell. On `TRADITIONAL`, when the model generates `I`: what is the
# attention weight of `我` **minus** its saliency score? A negative number means attention
# gives it less than saliency does.

# %% tags=["answer-q3"]
# Your code: attribute TRADITIONAL with both methods.
answer = None  # a number: attention - saliency
results["q3"] = explainlab.homework.check("q3", answer)

# %% [markdown]
# ### Question 4
#
# Under attention on `TRADITIONAL`, when the model generates `machine`: what is the
# **rank** of the source token `和`, 1 being the token with the most weight?

# %% tags=["answer-q4"]
# Your code.
answer = None  # a whole number, 1 = the most weight
results["q4"] = explainlab.homework.check("q4", answer)

# %% [markdown]
# If saliency and attention disagree in your tables, remember what each one measures.
# Saliency asks how much the probability of a generated token would move if a source
# embedding moved; attention says where the decoder read from, and heads often park their
# weight on tokens such as `</s>` that carry no word. We are done with the translator.

# %%
del mt_model, mt_saliency
gc.collect()
if torch.cuda.is_available():
    torch.cuda.empty_cache()

# %% [markdown]
# ## Task 1b: sentence completion with GPT-2
#
# HW7 used GPT-2 XL, 1.5 billion parameters, loaded in 8 bits (lesson 02).
# `explainlab.homework.completion_model` does the same where there is a CUDA GPU and the
# bitsandbytes package (on Colab: `pip install bitsandbytes`). Elsewhere it loads the small
# GPT-2 in full precision: GPT-2 XL in 32-bit floats, with the gradients an attribution
# needs, takes more memory than a free notebook has. On the offline profile, the GPT-2 twin
# stands in. The line it prints says which model you got and how; `check` judges your
# answers on the same one.
#
# To explain a continuation we choose, we give Inseq the whole text, prompt and
# continuation: it then attributes exactly these tokens (*forced decoding*) instead of
# whatever the model would have generated. The step score `probability` tells how likely
# the model found each forced token. Here is the method on another prompt:

# %% tags=["check-forced"]
lm, lm_tokenizer, loaded = explainlab.homework.completion_model(device=session.device)
print(loaded)
lm_model = inseq.load_model(lm, "saliency", tokenizer=lm_tokenizer)

EXAMPLE_PROMPT = "The capital of France is"
example = lm_model.attribute(EXAMPLE_PROMPT, EXAMPLE_PROMPT + " Paris", show_progress=False,
                             step_scores=["probability"])
example = explainlab.clean_attribution(example, tokenizer=lm_tokenizer)
print("probability of the forced token:",
      example.sequence_attributions[0].step_scores["probability"].numpy().round(4))
example.show()

# %% [markdown]
# In a decoder-only model every token is explained by **all** tokens before it, so for a
# continuation of several tokens the heatmap is a staircase: the second generated token is
# also explained by the first.
#
# ### Question 5
#
# This is HW7's example question. Attribute the prompt "The first president of America
# is" forced to go on with " George Washington" (`PROMPT`, `CONTINUATION` below), with
# saliency. When the model generates `Washington`, what is the score of `America`?

# %% tags=["answer-q5"]
PROMPT = "The first president of America is"
CONTINUATION = " George Washington"
# Your code: attribute PROMPT and PROMPT + CONTINUATION, clean, make a table.
answer = None  # a number
results["q5"] = explainlab.homework.check("q5", answer)

# %% [markdown]
# ### Question 6
#
# The same forced continuation under **attention**: which prompt token gets the most weight
# when the model generates `George`?

# %% tags=["answer-q6"]
PROMPT = "The first president of America is"
CONTINUATION = " George Washington"
# Your code.
answer = None  # a prompt token, as a string
results["q6"] = explainlab.homework.check("q6", answer)

# %% [markdown]
# Many decoder-only models send a large share of their attention to the first token of
# the sequence, whatever it says: an *attention sink*, a place to put weight when a head
# has nothing to read. If your answer to question 6 is such a token, it tells you about
# the model's plumbing, not about which word decided the answer.

# %%
del lm_model, lm, example
gc.collect()
if torch.cuda.is_available():
    torch.cuda.empty_cache()

# %% [markdown]
# ## Task 1c: one head in BertViz
#
# Lesson 04 drew the attention of a BERT encoder on "The cat sat on the mat". We load it
# again with eager attention (under SDPA, BERT returns no attention weights) and draw the
# head view. Pick the layer in the drop-down menu and double-click a coloured square to
# show only that head; both are counted from 0.

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

# %% tags=["check-head-view"]
head_view(attentions, tokens, html_action="return")

# %% [markdown]
# `attentions[layer]` holds one layer: `[batch, head, token that attends, token attended
# to]`. As a table, layer 0, head 0: a row per token that attends, a column per token it
# attends to; each row sums to one.

# %% tags=["head-table"]
pd.DataFrame(attentions[0][0, 0].float().cpu().numpy(), index=tokens, columns=tokens).round(3)

# %% [markdown]
# ### Question 7
#
# In layer 0, head 2, which token does `sat` attend to most?

# %% tags=["answer-q7"]
# Your code (or the head view: layer 0, double-click head 2, hover over "sat").
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

# %% tags=["explainer-positive"]
from transformers import AutoModelForSequenceClassification

sst2_path = explainlab.resolve("sst2")
sst2_tokenizer = AutoTokenizer.from_pretrained(sst2_path)
sst2 = AutoModelForSequenceClassification.from_pretrained(sst2_path).to(session.device)
explainer = explainlab.explain.SequenceClassificationExplainer(sst2, sst2_tokenizer)

word_attributions = explainer("I love you, I like you", class_name="POSITIVE")
print("predicted:", explainer.predicted_class_name)
print("the explainer's classes:", list(sst2.config.id2label.values()))
print("strongest word towards POSITIVE:",
      max(word_attributions[1:-1], key=lambda pair: pair[1])[0])

# %% [markdown]
# ### Question 8
#
# A column the lesson did not show: what is the attribution of `like` towards
# **NEGATIVE**?

# %% tags=["answer-q8"]
# Your code.
answer = None  # a number
results["q8"] = explainlab.homework.check("q8", answer)

# %%
del sst2, explainer
gc.collect()
if torch.cuda.is_available():
    torch.cuda.empty_cache()

# %% [markdown]
# ## Task 2: can a chat model explain itself?
#
# HW7's second task gives a chat model a movie review and asks it two things: is the
# review positive or negative, and which words mattered, as `(word, importance)` pairs
# from −1 (towards negative) to 1 (towards positive). Such a list *looks* like an
# attribution. Is it one? Here we hold the model to its own words, on one model:
#
# 1. it labels the review, through its chat template;
# 2. it lists the words that mattered (its **self-report**);
# 3. we attribute its **own** answer token to the words of the review;
# 4. we compare the two rankings;
# 5. we delete the top words of each from the review and measure how far the probability
#    of its answer falls (a **deletion test**).
#
# The chat model is the `lm` role: Qwen3-0.6B on the `hub` profile (thinking mode off,
# greedy decoding), its twin offline. The twin's model card says what it can do: it was
# trained on generated reviews, and its self-report was learned from a word list with
# importances. It is plausible by construction, not the result of looking inside itself.
# That is also the honest description of a large chat model's self-report.

# %% tags=["task2-load"]
from transformers import AutoModelForCausalLM

explain_self = explainlab.homework.self_explanation
REVIEW = "The acting was wonderful, but the plot was boring and the ending was a total mess."

chat_path = explainlab.resolve("lm")
chat_tokenizer = AutoTokenizer.from_pretrained(chat_path)
chat_model = AutoModelForCausalLM.from_pretrained(chat_path, dtype=session.dtype,
                                                  device_map=session.device_map)
print(explainlab.models.describe("lm"))

# %% [markdown]
# First the label. `classify_question` writes the user's message, `ask` sends it through
# the model's chat template and decodes greedily. `label_probabilities` gives the
# probability of each label's first token where the reply starts; the more probable one is
# the model's answer (greedy decoding writes it), and the deletion test will watch it.

# %% tags=["task2-label"]
reply = explain_self.ask(chat_model, chat_tokenizer, explain_self.classify_question(REVIEW))
probabilities = explain_self.label_probabilities(chat_model, chat_tokenizer, REVIEW)
label = max(probabilities, key=probabilities.get)
print("the model replied:", reply)
print("its answer:", label, {name: round(p, 4) for name, p in probabilities.items()})

# %% [markdown]
# Then the self-report. Chat models rarely answer in exactly the format asked: code
# fences, quotes of every kind, a sentence before the list, Chinese punctuation.
# `parse_word_scores` copes with these; `self_report` asks and parses, and says so if
# the reply held no pair about the review's words (then it uses a written example, so
# that the rest of the task still runs).

# %% tags=["task2-self-report"]
reply, claimed, source = explain_self.self_report(chat_model, chat_tokenizer, REVIEW)
print(f"the {source}:\n{reply}")
print(f"{len(claimed)} pairs:", claimed)

# %% [markdown]
# Now the measurement. `attribute_answer` attributes the model's own answer token
# **contrastively**, as in lesson 02: the logit of its label's first token minus the other
# label's, with integrated gradients (Captum) over the embeddings of the review's tokens,
# summed per word. The sign is turned so that a positive score pushes towards "Positive",
# whichever label the model chose, to compare with the self-report.

# %% tags=["task2-attribute"]
measured = explain_self.attribute_answer(chat_model, chat_tokenizer, REVIEW)
pd.Series(dict(measured)).round(3).to_frame("attribution towards Positive").T

# %% [markdown]
# `compare_word_scores` lines the two lists up by word. The **Spearman rank correlation**
# compares their orders rather than their values (the attributions are on another scale
# than −1 to 1): 1 for the same order, −1 for opposite orders, near 0 for no relation.
# `rank_towards` orders words by how much they support the model's answer, and
# `top_k_overlap` counts the words two rankings share in their first k.

# %% tags=["task2-compare"]
comparison = explainlab.homework.compare_word_scores(claimed, measured)
rho = explainlab.homework.rank_correlation(comparison["claimed"], comparison["measured"])
print(comparison.round(3).to_string())
print(f"Spearman rank correlation ({comparison['measured'].notna().sum()} words): {rho:.3f}")
claimed_ranking = explain_self.rank_towards(claimed, label)
measured_ranking = explain_self.rank_towards(measured, label)
print(f"supporting '{label}' most, self-report:", claimed_ranking[:3])
print(f"supporting '{label}' most, attribution:", measured_ranking[:3])
print("top-3 overlap:", explain_self.top_k_overlap(claimed_ranking, measured_ranking, 3))

# %% [markdown]
# A plot makes the disagreements visible. The attributions are divided by their largest
# absolute value, so that both sets of bars share the −1 to 1 range.

# %% tags=["task2-plot"]
import matplotlib.pyplot as plt

shown = comparison.dropna()
scaled = shown["measured"] / shown["measured"].abs().max()
positions = range(len(shown))
figure, axes = plt.subplots(figsize=(7, 3.5))
axes.bar([p - 0.2 for p in positions], shown["claimed"], width=0.4, label="self-report")
axes.bar([p + 0.2 for p in positions], scaled, width=0.4, label="attribution (scaled)")
axes.set_xticks(list(positions), shown.index, rotation=45, ha="right")
axes.axhline(0, color="grey", linewidth=0.8)
axes.set_ylabel("importance towards Positive")
axes.legend()
figure.tight_layout()
plt.show()

# %% [markdown]
# Agreement between two lists is not yet faithfulness. The deletion test asks the model
# itself: delete the words an explanation ranks highest and see how much the probability
# of the answer falls. The explanation whose words matter more to the model is the more
# faithful one. The curves delete the top 0 to 5 words of each ranking.

# %% tags=["task2-deletion"]
curves = {name: [explain_self.label_probabilities(
              chat_model, chat_tokenizer, explain_self.delete_words(REVIEW, ranking[:k])
              if k else REVIEW)[label] for k in range(6)]
          for name, ranking in (("self-report", claimed_ranking),
                                ("attribution", measured_ranking))}
for name, ranking in (("self-report", claimed_ranking), ("attribution", measured_ranking)):
    drop = explain_self.deletion_drop(chat_model, chat_tokenizer, REVIEW, ranking[:3],
                                      label=label)
    print(f"{name}: without {ranking[:3]}, P({label}) falls by {drop:.3f}")
figure, axes = plt.subplots(figsize=(5, 3))
for name, curve in curves.items():
    axes.plot(range(6), curve, marker="o", label=name)
axes.set_xlabel("top words deleted")
axes.set_ylabel(f"P({label})")
axes.legend()
figure.tight_layout()
plt.show()

# %% [markdown]
# How to read the result, and its pitfalls:
#
# - a high rank correlation says the self-report is **plausible**: it agrees with where
#   the gradient points. Only the deletion test asks whether the words it names are the
#   ones the answer depends on (**faithful**);
# - deleting words makes sentences the model never saw in training, so a drop also
#   measures how much the model dislikes broken text; compare the curves with each other,
#   not with zero;
# - with a handful of words, a rank correlation moves a lot when one word moves.
#
# ### Question 9
#
# The deletion test with **k = 2**: by how much does P(answer) fall when you delete the
# top-2 words of the **attribution** ranking (`measured_ranking`)? Answer in **percentage
# points**: 100 × (P before − P after).

# %% tags=["answer-q9"]
# Your code.
answer = None  # a number
results["q9"] = explainlab.homework.check("q9", answer)

# %% [markdown]
# ### Question 10
#
# The correlation above compares signed scores. Compare **sizes** instead: what is the
# Spearman rank correlation between the absolute values of the self-report and of the
# attribution, over the words of `comparison`?

# %% tags=["answer-q10"]
# Your code.
answer = None  # a number
results["q10"] = explainlab.homework.check("q10", answer)

# %% [markdown]
# ### Exercise
#
# Be the chat model yourself: write your own guesses into `MY_GUESSES` (any format
# `parse_word_scores` understands) *before* you look at the attributions again, rank them
# and run the deletion test on your top 3. Are you more faithful than the model? On the
# `hub` profile, also try a review of your own.

# %% tags=["exercise-guesses"]
MY_GUESSES = "wonderful: 0.8, boring: -0.6, mess: -0.7, acting: 0.1"  # edit me

mine = explain_self.rank_towards(explainlab.homework.parse_word_scores(MY_GUESSES), label)
drop = explain_self.deletion_drop(chat_model, chat_tokenizer, REVIEW, mine[:3], label=label)
print(f"my top 3: {mine[:3]}; without them P({label}) falls by {drop:.3f}")

# %% [markdown]
# ## Task 3: test an explanation (lesson 06)
#
# Lesson 06 tested explanations instead of reading them. Two of its tests, on your own:
# the **deletion test** of the classification explainer's ranking, and **activation
# patching** on the chat model. The example runs the deletion test on the review of Task 1d:
# `classifier_scorer` gives the probability of the predicted class with any tokens removed,
# `ranking` orders the explainer's tokens (integrated gradients has a sign, so by signed
# score), `perturbation_curves` removes and inserts them in that order and `faithfulness`
# sums the curves up.

# %% tags=["task3-example"]
evaluate = explainlab.evaluate
sst2 = AutoModelForSequenceClassification.from_pretrained(sst2_path).to(session.device)
explainer = explainlab.explain.SequenceClassificationExplainer(sst2, sst2_tokenizer)

example = "I love you, I like you"
tokens, target, scorer = evaluate.classifier_scorer(sst2, sst2_tokenizer, example)
scores = [score for _, score in explainer(example)[1:-1]]  # without [CLS] and [SEP]
curves = evaluate.perturbation_curves(scorer, evaluate.ranking(scores))
print("predicted:", sst2.config.id2label[target])
print({name: round(value, 3) for name, value in evaluate.faithfulness(curves).items()})

# %% [markdown]
# ### Question 11
#
# Run the same test on the review `"This movie was a complete waste of time."`: what is the
# **AOPC** of the explainer's ranking?

# %% tags=["answer-q11"]
# Your code.
answer = None  # a number
results["q11"] = explainlab.homework.check("q11", answer)

# %% [markdown]
# Now activation patching (lesson 06's last section). `patch_residual` runs the chat model on
# the second prompt and, one cell at a time, pastes in the hidden state a block had on the
# first prompt; the table holds the metric for each (block, position). The example patches
# France into Japan and prints the shape of the table and its rows.

# %% tags=["task3-patching"]
paris, tokyo = (chat_tokenizer(word)["input_ids"][0] for word in (" Paris", " Tokyo"))
patched = evaluate.patch_residual(
    chat_model, chat_tokenizer, "The capital of France is", "The capital of Japan is",
    lambda logits: logits[:, paris] - logits[:, tokyo])
print("rows:", list(patched.index))
print("columns:", list(patched.columns))

# %% [markdown]
# ### Question 12
#
# Patch `"The capital of Germany is"` into `"The capital of Japan is"`, with the metric
# logit(`" Berlin"`) − logit(`" Tokyo"`). What is the metric when the **last position** is
# patched after **block 0**?

# %% tags=["answer-q12"]
# Your code.
answer = None  # a number
results["q12"] = explainlab.homework.check("q12", answer)

# %%
del sst2, explainer
gc.collect()
if torch.cuda.is_available():
    torch.cuda.empty_cache()

# %% [markdown]
# ## Your score
#
# Run this cell after answering: it counts the questions you got right.

# %% tags=["summary"]
right = sum(results.values())
print(f"{right} of {len(results)} answers right:",
      " ".join(f"{q}{'✓' if ok else '·'}" for q, ok in results.items()))

# %%
del chat_model
gc.collect()
if torch.cuda.is_available():
    torch.cuda.empty_cache()
