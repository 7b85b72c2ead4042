# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Explaining classifiers: integrated gradients by hand, then seven explainers
#
# A classifier reads "I love you, I like you" and answers POSITIVE. Which words made it
# say so? *Integrated gradients* (IG) answers with one score per token, and it is the
# method behind the popular transformers-interpret library. In this lesson you will
#
# - compute integrated gradients yourself, step by step, first with plain PyTorch and
#   then with Captum's `LayerIntegratedGradients`: the baseline, the straight path, the
#   Riemann sum and the completeness check;
# - check that the course's explainers (`explainlab.explain`, transformers-interpret's
#   API rebuilt on Captum for today's libraries) give exactly your numbers;
# - explain seven kinds of model: a sentence, a pair of texts, many labels at once,
#   zero-shot topics, question answering, named entities and an image;
# - meet three pitfalls: the baseline, the number of steps, and reading attributions as
#   causes.

# %%
import importlib.util

if importlib.util.find_spec("explainlab") is None:  # Colab, Kaggle, a new environment
    # %pip install -q "explainlab @ git+https://github.com/explainlab/explainlab"

import explainlab

session = explainlab.setup()

# %% [markdown]
# The banner says which profile produced the outputs on this page: `hub` runs the real
# models named in each section, `offline` runs the course's small twins of them (same
# model and tokenizer classes, trained to do the lesson's examples right). It also names
# the device and the library versions.
#
# ## The sentiment classifier
#
# Every model in this lesson is loaded the same way: ask `explainlab.resolve` for a role,
# load the model and its tokenizer from what it returns. The helpers below do that, and
# give memory back when we move on to the next model.

# %%
import gc

import pandas as pd
import torch
from captum.attr import LayerIntegratedGradients
from transformers import (
    AutoModelForImageClassification,
    AutoModelForQuestionAnswering,
    AutoModelForSequenceClassification,
    AutoModelForTokenClassification,
    AutoTokenizer,
)


def load(role, auto_class=AutoModelForSequenceClassification):
    # The role's model (evaluation mode, on the session's device) and its tokenizer.
    path = explainlab.resolve(role)
    model = auto_class.from_pretrained(path).to(session.device).eval()
    return model, AutoTokenizer.from_pretrained(path)


def free_memory():
    # Return the memory of deleted models (and of the GPU's cache, if there is a GPU).
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()

# %% [markdown]
# The role `sst2` is a DistilBERT fine-tuned for sentiment: two classes, NEGATIVE and
# POSITIVE. Its probabilities for our sentence:

# %% tags=["check-prediction"]
TEXT = "I love you, I like you"

model, tokenizer = load("sst2")
encoded = tokenizer(TEXT, return_tensors="pt").to(session.device)
with torch.no_grad():
    probabilities = model(**encoded).logits.softmax(-1)[0]
POSITIVE = model.config.label2id["POSITIVE"]
print({model.config.id2label[i]: round(p, 4) for i, p in enumerate(probabilities.tolist())})

# %% [markdown]
# ## Integrated gradients, step by step
#
# Write *F* for the function we explain: the probability of POSITIVE. The model does not
# read words but vectors: the *word embedding* of each token, a row of the embedding
# table. IG compares the input *x* (our sentence's embeddings) with a *baseline* *x′*
# (an input that carries no words), walks the straight line from *x′* to *x*, and
# collects the gradient of *F* along the way. For coordinate *i*:
#
# IG*ᵢ* = (*xᵢ* − *x′ᵢ*) · ∫₀¹ ∂*F*(*x′* + α(*x* − *x′*)) / ∂*xᵢ* dα
#
# Summing IG*ᵢ* over the coordinates of a token's vector gives that token's score.
#
# ### Step 1: the baseline
#
# transformers-interpret's baseline keeps the special tokens `[CLS]` and `[SEP]` and
# replaces every other token by `[PAD]`: a sentence of the same length with no words in
# it.

# %% tags=["check-baseline"]
ids = encoded["input_ids"]
mask = encoded["attention_mask"]
special = torch.tensor(tokenizer.get_special_tokens_mask(ids[0].tolist(),
                                                         already_has_special_tokens=True),
                       dtype=torch.bool, device=ids.device)
baseline_ids = torch.where(special, ids, tokenizer.pad_token_id)
tokens = tokenizer.convert_ids_to_tokens(ids[0].tolist())
print(pd.DataFrame({"input": tokens,
                    "baseline": tokenizer.convert_ids_to_tokens(baseline_ids[0].tolist())}
                   ).T.to_string(header=False))

# %% [markdown]
# ### Step 2: the straight path
#
# We attribute to the output of the word-embedding layer, as transformers-interpret does.
# `model.get_input_embeddings()` is that layer: it turns token ids into vectors. The model
# also accepts the vectors directly (`inputs_embeds=`) and adds the position embeddings
# itself, so we can feed it any point between the baseline and the input:
# *x′* + α(*x* − *x′*) with α from 0 (the baseline) to 1 (the input).

# %%
embeddings = model.get_input_embeddings()
with torch.no_grad():
    x = embeddings(ids)  # (1, tokens, hidden size)
    x0 = embeddings(baseline_ids)


def positive(points):
    # P(POSITIVE) for a batch of word-embedding sequences, one row per point of the path.
    logits = model(inputs_embeds=points, attention_mask=mask.expand(len(points), -1)).logits
    return logits.softmax(-1)[:, POSITIVE]

# %% tags=["check-path"]
alphas = torch.linspace(0, 1, 6, device=x.device)
with torch.no_grad():
    along = positive(x0 + alphas.view(-1, 1, 1) * (x - x0))
print(pd.DataFrame({"alpha": alphas.tolist(), "P(POSITIVE)": along.tolist()})
      .round(4).to_string(index=False))

# %% [markdown]
# The first row is the baseline, the last one our sentence. The baseline's probability is
# whatever the model makes of a sentence without words; it is rarely one half. IG
# explains the *difference* between the two ends of the path, not the probability itself.
#
# ### Step 3: the Riemann sum
#
# The integral becomes an average: cut [0, 1] into `N_STEPS` equal slices, take the
# gradient at the middle of each, and average. All the points go through the model as one
# batch. Each point's probability depends only on its own row, so the gradient of their
# *sum* gives every point its own gradient in one backward pass.

# %% tags=["check-riemann"]
N_STEPS = 50
alphas = (torch.arange(N_STEPS, device=x.device) + 0.5) / N_STEPS  # slice midpoints
points = (x0 + alphas.view(-1, 1, 1) * (x - x0)).requires_grad_()
(gradients,) = torch.autograd.grad(positive(points).sum(), points)
by_hand = (gradients.mean(0) * (x - x0)[0]).sum(-1)  # average, times the distance, summed
print(pd.Series(by_hand.tolist(), index=tokens).round(4).to_string())

# %% [markdown]
# `[CLS]` and `[SEP]` get exactly zero: the baseline equals the input there, so the
# distance (*xᵢ* − *x′ᵢ*) is zero.
#
# ### Step 4: completeness
#
# The gradient theorem promises that the scores add up to *F*(*x*) − *F*(*x′*): the whole
# change of the output is shared out among the tokens. With a finite number of steps the
# sum misses by a little: the *convergence delta*. A large delta means the integral was
# not computed well enough, and the scores should not be trusted.

# %% tags=["check-completeness"]
with torch.no_grad():
    start, end = positive(torch.cat([x0, x])).tolist()
print(f"sum of the scores:       {by_hand.sum().item():.6f}")
print(f"F(input) - F(baseline):  {end - start:.6f}")
print(f"convergence delta:       {by_hand.sum().item() - (end - start):+.2e}")

# %% [markdown]
# ### Step 5: the same with Captum
#
# Captum's `LayerIntegratedGradients(forward, layer)` does steps 2 to 4 for any layer of
# any model. It runs the model on the input and the baseline to record the layer's two
# outputs, then replaces the layer's output by the points of the path (a forward hook)
# while it computes the gradients. We give it a function from token ids to the
# probabilities, the `target` class, and the baseline's ids. With
# `method="riemann_middle"` it uses our slice midpoints; by default it uses Gauss–Legendre
# quadrature, whose unevenly spaced points and weights integrate more accurately with the
# same number of steps.

# %% tags=["check-captum"]
def class_probabilities(input_ids, attention_mask):
    return model(input_ids=input_ids, attention_mask=attention_mask).logits.softmax(-1)


lig = LayerIntegratedGradients(class_probabilities, embeddings)
midpoints = lig.attribute(ids, baselines=baseline_ids, target=POSITIVE, n_steps=N_STEPS,
                          additional_forward_args=(mask,), method="riemann_middle")
gap = (midpoints.sum(-1)[0] - by_hand).abs().max().item()
print(f"Captum with riemann_middle vs our loop: largest difference {gap:.1e}")

attributions, delta = lig.attribute(ids, baselines=baseline_ids, target=POSITIVE,
                                    n_steps=N_STEPS, additional_forward_args=(mask,),
                                    return_convergence_delta=True)
print(f"Captum with Gauss-Legendre: convergence delta {delta.item():+.2e}")

# %% [markdown]
# ### Step 6: one score per word
#
# `attributions` has one value per token *and* per hidden dimension. Summing over the
# hidden dimension gives one score per token; transformers-interpret then scales the
# scores to unit length, so that texts of different lengths can be compared. Positive
# scores push towards POSITIVE, negative ones away from it.

# %%
summed = attributions.detach().sum(-1)[0]
hand_made = list(zip(tokens, (summed / summed.norm()).tolist()))
hand_made

# %% [markdown]
# ## The course's explainers
#
# `explainlab.explain` has transformers-interpret's explainers with the same calls and
# attributes, computed as above, on current versions of transformers. Two lines give
# everything you just built:

# %% tags=["check-sequence"]
explainer = explainlab.explain.SequenceClassificationExplainer(model, tokenizer)
word_attributions = explainer(TEXT)
print("predicted:", explainer.predicted_class_name)
print(word_attributions)

# %% tags=["check-hand-vs-package"]
difference = max(abs(ours - theirs)
                 for (_, ours), (_, theirs) in zip(hand_made, word_attributions))
print(f"largest difference from our hand-made scores: {difference:.1e}")
print(f"convergence delta: {explainer.convergence_delta:+.2e}")

# %% [markdown]
# `visualize()` draws the scores. Each token sits on a colour: green pushes towards the
# attributed class, red away from it, and the stronger the colour, the larger the score
# (hover over a token for its number). The table also gives the prediction, the
# probability of the attributed class, the sum of the scores and the convergence delta.
# In a notebook it shows inline; `visualize("sst2.html")` also writes a page that needs
# nothing but a browser.

# %% tags=["check-visualize-sequence"]
explainer.visualize()

# %% [markdown]
# `to_dataframe()` gives the same explanation as a table, one row per token, ready to
# sort, filter or save:

# %%
explainer.to_dataframe()

# %% [markdown]
# By default the explainer attributes the predicted class. `class_name=` (or `index=`)
# chooses another one. In a text with mixed feelings, which words speak for NEGATIVE,
# while the model still predicts POSITIVE?

# %% tags=["check-negative"]
MIXED = "I love you, I like you, I also kinda dislike you"
negative = explainer(MIXED, class_name="NEGATIVE")
print("predicted:", explainer.predicted_class_name)
print("top word for NEGATIVE:", max(negative, key=lambda pair: pair[1])[0])
explainer.visualize()

# %% [markdown]
# ## Two texts at once: the pairwise explainer
#
# A *cross-encoder* (role `cross-encoder`, ms-marco-MiniLM-L-6-v2) reads a search query
# and a passage together, as `[CLS] query [SEP] passage [SEP]`, and returns a single
# number: how well the passage answers the query. The tokenizer builds the pair when you
# give it two texts.

# %% tags=["check-pairwise"]
del explainer, model, tokenizer
free_memory()
model, tokenizer = load("cross-encoder")

QUERY = "How many people live in Berlin?"
PASSAGE = ("Berlin has a population of 3,520,031 registered inhabitants in an area of "
           "891.82 square kilometers.")
UNRELATED = "The recipe needs two eggs, a cup of milk and some flour."

pairs = tokenizer([QUERY, QUERY], [PASSAGE, UNRELATED], padding=True,
                  return_tensors="pt").to(session.device)
with torch.no_grad():
    relevance = torch.sigmoid(model(**pairs).logits[:, 0])
print(pd.Series(relevance.tolist(), index=["Berlin passage", "unrelated passage"])
      .round(4).to_string())

# %% [markdown]
# `PairwiseSequenceClassificationExplainer` takes the two texts. The baseline keeps both
# `[SEP]`, and for a model with a single output the attributions explain its sigmoid,
# the relevance score above: positive tokens push the score up. Look for the query's
# words in the passage, and for the passage's words that answer it.

# %% tags=["check-visualize-pairwise"]
pairwise = explainlab.explain.PairwiseSequenceClassificationExplainer(model, tokenizer)
pairwise_attributions = pairwise(QUERY, PASSAGE)
pairwise.visualize()

# %% [markdown]
# `flip_sign=True` turns the signs around: the scores then explain a score near zero,
# that is, why two texts do *not* match.
#
# ## Many labels at once: the multi-label explainer
#
# The role `emotion` (emotion-english-distilroberta-base) scores seven emotions.
# `MultiLabelClassificationExplainer` treats every label on its own (a sigmoid per label)
# and explains each one. All labels read the same input, so the explainer sends the
# points of the path through the model once and only repeats the backward pass for each
# label; transformers-interpret runs the whole computation once per label.

# %% tags=["check-multilabel"]
del pairwise, model, tokenizer
free_memory()
model, tokenizer = load("emotion")

REVIEW = ("There were many aspects of the film I liked, but it was frightening and gross "
          "in parts. My parents hated it.")
multilabel = explainlab.explain.MultiLabelClassificationExplainer(model, tokenizer)
by_label = multilabel(REVIEW)
print(pd.DataFrame({
    "probability": multilabel.label_probs_dict,
    "top word": {label: repr(max(scores, key=lambda pair: pair[1])[0])
                 for label, scores in by_label.items()},
}).round(4).to_string())

# %% [markdown]
# Like transformers-interpret, the explainer first puts spaces around punctuation. The
# text's final space then becomes a token of its own; RoBERTa writes a leading space as
# `Ġ`, the explainer strips it, and what is left is the empty token `''`. Models can lean
# on such tokens too. The visualisation has one row per label.

# %% tags=["check-visualize-multilabel"]
multilabel.visualize()

# %% [markdown]
# With several labels, the table from `to_dataframe()` is long (a row per label and
# token); a pivot turns it into one column per label:

# %%
table = multilabel.to_dataframe()
table.pivot(index=["position", "token"], columns="target", values="attribution").round(2)

# %% [markdown]
# ## Zero-shot classification
#
# An NLI model (role `nli`, nli-deberta-base) decides whether a *premise* entails a
# *hypothesis*. It becomes a classifier for labels it never trained on: each candidate
# label is written into a hypothesis ("this text is about technology ."), and the label
# whose hypothesis is most entailed wins. `ZeroShotClassificationExplainer` explains the
# entailment probability of every label; by default it shows the text's tokens only
# (`include_hypothesis=True` adds the hypothesis).

# %% tags=["check-zero-shot"]
del multilabel, model, tokenizer
free_memory()
model, tokenizer = load("nli")

ARTICLE = ("Today apple released the new Macbook showing off a range of new features found "
           "in the proprietary silicon chip computer. ")
zero_shot = explainlab.explain.ZeroShotClassificationExplainer(model, tokenizer)
by_topic = zero_shot(ARTICLE, labels=["finance", "technology", "sports"],
                     hypothesis_template="this text is about {} .")
print("hypotheses:", zero_shot.hypothesis_labels)
print("predicted label:", zero_shot.predicted_label)
print({label: round(p, 4) for label, p in zero_shot.label_probs_dict.items()})

# %% tags=["check-visualize-zero-shot"]
zero_shot.visualize()

# %% [markdown]
# ## Question answering
#
# An extractive QA model (role `qa`, a BERT fine-tuned on SQuAD) points at the answer in
# a context: one score per token for "the answer starts here" and one for "it ends
# here". `QuestionAnsweringExplainer` explains the highest start score and the highest
# end score. Like transformers-interpret, it attributes to the whole embedding layer
# (words, positions and segments: `embedding_type=2`).

# %% tags=["check-qa"]
del zero_shot, model, tokenizer
free_memory()
model, tokenizer = load("qa", AutoModelForQuestionAnswering)

QUESTION = "What is natural language processing ?"
CONTEXT = ("In Artificial Intelligence and machine learning, Natural Language Processing "
           "relates to the usage of machines to process and understand human language. "
           "Many researchers currently work in this space.")
qa = explainlab.explain.QuestionAnsweringExplainer(model, tokenizer)
spans = qa(QUESTION, CONTEXT)
print("answer:", qa.predicted_answer)
print({target: round(value, 3) for target, value in qa.convergence_delta.items()})

# %% [markdown]
# The second line holds the convergence deltas. Compare them with the deltas of the
# sentiment model: the highest logit is a maximum over positions, a function with kinks,
# and the logits are not squeezed into [0, 1] as probabilities are, so 50 steps
# integrate it less precisely (pitfall 2 and exercise 3 come back to this).

# %% tags=["check-visualize-qa"]
qa.visualize()

# %% [markdown]
# ## Named entities: the token classification explainer
#
# A NER model (role `ner`, bert-base-NER) tags every token: `B-LOC` begins a location,
# `I-PER` continues a person's name, `O` is outside any entity. The explainer gives
# every tagged token its own explanation; `ignored_labels=["O"]` skips the untagged ones
# (`ignored_indexes=` skips positions). All positions share one input, so the path goes
# through the model once here as well.

# %% tags=["check-ner"]
del qa, model, tokenizer
free_memory()
model, tokenizer = load("ner", AutoModelForTokenClassification)

SENTENCE = "We visited Paris last weekend, where Emmanuel Macron lives."
ner = explainlab.explain.TokenClassificationExplainer(model, tokenizer)
entities = ner(SENTENCE, ignored_labels=["O"])
for token, found in entities.items():
    top = max(found["attribution_scores"], key=lambda pair: pair[1])[0]
    print(f"{token:10s} {found['label']:6s} top word: {top}")

# %% tags=["check-visualize-ner"]
ner.visualize()

# %% [markdown]
# ## Images
#
# `ImageClassificationExplainer` runs integrated gradients on the pixels (the baseline is
# an all-zero input after the processor's normalisation, a flat grey picture). By default
# it averages over noisy copies of the picture (a *noise tunnel*, `"IGNT"`), which makes
# the map less speckled; the noise is seeded, so the map is the same on every run.
#
# The picture comes from the course package: a coloured shape on a noisy background, the
# kind of picture the offline twin of ViT learnt to name. The real
# google/vit-base-patch16-224 (profile `hub`) knows ImageNet's 1000 classes of photos, not
# drawn shapes: it may name this picture quite differently, and the explanation then
# shows which pixels led it there.

# %%
del ner, model, tokenizer
free_memory()
vit_path = explainlab.resolve("vit")
model = AutoModelForImageClassification.from_pretrained(vit_path).to(session.device).eval()
processor = explainlab.images.image_processor(vit_path)  # with or without torchvision

picture = explainlab.images.make_image("circle", "red", seed=3)
picture

# %% tags=["check-image"]
image_explainer = explainlab.explain.ImageClassificationExplainer(model, processor)
pixel_attributions = image_explainer(picture)
print("predicted:", image_explainer.predicted_class_name)
print("attributions:", pixel_attributions.shape)

# %% [markdown]
# `visualize` draws the map four ways: `heatmap` (positive green, negative red),
# `overlay` (the heatmap over a grey copy of the picture), `masked_image` and
# `alpha_scaling` (the picture seen through the attributions, one sign at a time:
# `sign="positive"` keeps the pixels that speak for the class). `outlier_threshold` clips
# the largest few percent so that a handful of pixels do not wash out the rest.

# %% tags=["check-visualize-image"]
image_explainer.visualize(method="overlay", side_by_side=True, outlier_threshold=0.03)

# %%
image_explainer.visualize(method="masked_image", sign="positive", side_by_side=True,
                          outlier_threshold=0.03)

# %% [markdown]
# ## Pitfall 1: the baseline decides the question
#
# IG answers "what changed between the baseline and the input?". Another baseline asks
# another question. Back to the sentiment model: the explainer's `ref_token_id` is the
# token that replaces the words in the baseline. Compare `[PAD]` with `[MASK]` and
# `[UNK]`, and the probability each baseline starts from.

# %% tags=["check-baselines"]
del image_explainer, model, processor
free_memory()
model, tokenizer = load("sst2")
explainer = explainlab.explain.SequenceClassificationExplainer(model, tokenizer)

columns, starts = {}, {}
for reference in (tokenizer.pad_token, tokenizer.mask_token, tokenizer.unk_token):
    explainer.ref_token_id = tokenizer.convert_tokens_to_ids(reference)
    scores = explainer(TEXT, class_name="POSITIVE")
    columns[reference] = [value for _, value in scores]
    with torch.no_grad():
        start_ids = torch.where(special, ids, explainer.ref_token_id)
        starts[reference] = model(input_ids=start_ids, attention_mask=mask).logits.softmax(-1)[
            0, POSITIVE].item()
explainer.ref_token_id = tokenizer.pad_token_id  # back to the default
print(pd.DataFrame(columns, index=[token for token, _ in scores]).round(3).to_string())
print("P(POSITIVE) at the baseline:", {k: round(v, 4) for k, v in starts.items()})

# %% [markdown]
# The largest score may stay on the same word, but the others move, and so does the
# starting probability. No baseline is "neutral" to every model: say which one you used,
# and prefer one that means "no information" for yours.
#
# ## Pitfall 2: too few steps
#
# The convergence delta tells you whether `n_steps` was enough. Watch it shrink as the
# steps grow:

# %% tags=["check-steps"]
for n_steps in (2, 5, 10, 50, 200):
    _, delta = explainer(TEXT, n_steps=n_steps, return_convergence_delta=True)
    print(f"n_steps={n_steps:3d}  convergence delta {delta:+.2e}")
explainer.n_steps = 50  # a call's n_steps stays for the next calls: set it back

# %% [markdown]
# Every `visualize()` table above has a *Convergence Δ* column: where it is not small next
# to the score (look at zero-shot and question answering), raise `n_steps`.
#
# Mind the last line: as in transformers-interpret, `n_steps` and `internal_batch_size`
# given to one call stay for the next calls of the same explainer. More steps cost time
# in proportion (every step is a row through the model, forward and backward);
# `internal_batch_size` splits those rows into batches, without changing the result. When
# you leave it unset, the explainer picks the largest batch whose activations fit in about
# 1 GiB (`explainlab.explain.ACTIVATION_BUDGET`), so more steps make a call slower, not
# larger: BERT-large or ViT-B/16 with `n_steps=200` still fits a laptop.
#
# ## Pitfall 3: attributions are not causes
#
# IG measures how the output responds along one path in embedding space. It does not say
# what happens if you delete a word. Let us delete some and look at the probability:

# %% tags=["check-deletion"]
variants = {"full text": TEXT, "without love": "I you, I like you",
            "without like": "I love you, I you", "without love and like": "I you, I you"}
batch = tokenizer(list(variants.values()), padding=True, return_tensors="pt").to(session.device)
with torch.no_grad():
    kept = model(**batch).logits.softmax(-1)[:, POSITIVE]
print(pd.Series(kept.tolist(), index=list(variants)).round(4).to_string())

# %% [markdown]
# Compare with the scores: *love* has the largest attribution, yet the probability hardly
# moves when it goes, because *like* still says the same thing; only when both are gone
# does it fall. Words that back each other up share the credit, and
# neither looks necessary. And an attribution describes the model, not the language: a
# model that learnt a shortcut gets a faithful explanation of the shortcut.
#
# ## Exercises
#
# **1. Your own review.** Change `MY_TEXT` (and `MY_CLASS`, or leave it `None` for the
# predicted class) and run the cell. With the `offline` profile stay close to short movie
# reviews: the twin's model card lists what it knows.

# %% tags=["exercise-sentence"]
MY_TEXT = "a dreadful, boring mess"  # edit me
MY_CLASS = None  # or "POSITIVE" / "NEGATIVE"

mine = explainer(MY_TEXT, class_name=MY_CLASS)
print("predicted:", explainer.predicted_class_name)
explainer.visualize()

# %% [markdown]
# **2. Delete the top word.** Does the probability of the attributed class drop when its
# top word goes? Try it on your review.

# %% tags=["exercise-deletion"]
inner = mine[1:-1]  # without [CLS] and [SEP]
top = max(range(len(inner)), key=lambda i: inner[i][1])
shorter = tokenizer.convert_tokens_to_string([t for i, (t, _) in enumerate(inner) if i != top])
with torch.no_grad():
    before, after = model(**tokenizer([MY_TEXT, shorter], padding=True, return_tensors="pt")
                          .to(session.device)).logits.softmax(-1)[:, explainer.selected_index]
print(f"without {inner[top][0]!r}: {shorter!r}")
print(f"P({explainer.id2label[explainer.selected_index]}): {before.item():.4f} -> "
      f"{after.item():.4f}")

# %% [markdown]
# **3. Enough steps for question answering?** Rerun the question-answering cell with
# `qa(QUESTION, CONTEXT, n_steps=200)`. Do the deltas shrink, and do the top words of
# the start and the end change?
#
# **4. Other hypotheses.** In the zero-shot cell, try
# `hypothesis_template="This example is {}."`, then `include_hypothesis=True`, and a label
# of your own. Which words does the hypothesis itself contribute?
#
# **5. Why not a match?** Explain the unrelated passage with
# `pairwise(QUERY, UNRELATED, flip_sign=True)` and `pairwise.visualize()`.
#
# ## Clean up

# %%
del explainer, model, tokenizer
free_memory()
