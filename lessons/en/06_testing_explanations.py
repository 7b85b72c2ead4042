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
# # Does the explanation tell the truth?
#
# Lessons 01–04 computed saliency, integrated gradients, input×gradient, attention and the
# classification explainers, and warned more than once that a map can look right without
# being right. This lesson stops warning and starts measuring. On the models you already
# know, you will:
#
# - remove the tokens an explanation ranks first and watch the prediction fall
#   (**faithfulness**: deletion and insertion curves, ERASER's comprehensiveness and
#   sufficiency, AOPC), for the sentiment classifier and for the translator;
# - score the same maps against what a person knows to be right (**ground truth**): the gold
#   word alignment of lesson 01 and the object in each picture;
# - switch off the previous-token head of lesson 04 and see what it really carried, and put
#   attention rollout next to a perturbation ranking (**causal tests of attention**);
# - move one hidden state from "France" into "Japan" and find where the answer flips
#   (**activation patching**);
# - destroy the model layer by layer, and train it on shuffled labels, and check that the
#   maps notice (**sanity checks**);
# - score the gradient methods with Captum's **infidelity** and **sensitivity**, which nudge
#   the input instead of removing tokens.
#
# The attribution methods and the last two scores come from Captum and Inseq; what they lack
# for testing (removing tokens in rank order, the metrics, rollout, fine-tuning on shuffled
# labels, patching) is in `explainlab.evaluate`.

# %%
import importlib.util

if importlib.util.find_spec("explainlab") is None:  # Colab, Kaggle, a new environment
    # %pip install -q "explainlab @ git+https://github.com/explainlab/explainlab"

import explainlab

session = explainlab.setup()

# %% [markdown]
# The line above names the profile (`hub`: the real models; `offline`: the course's small
# twins), the device and the library versions. Every number below is computed by the code,
# so it changes with the profile: read the tables, not the prose, for the values.
#
# ## Faithfulness: remove what the explanation points at
#
# An explanation ranks the input's tokens. If the ranking is faithful to the model, the
# tokens ranked first are the ones the prediction depends on. So remove them, most
# important first, and watch the probability of the predicted class:
#
# - the **deletion curve** removes the top 1, 2, … tokens; a faithful ranking makes it fall
#   fast (a small area under it);
# - the **insertion curve** starts from nothing and puts back the top tokens only; a
#   faithful ranking makes it rise fast (a large area).
#
# ERASER (DeYoung et al. 2020) sums the curves up at a few shares of the tokens (10 %,
# 20 %, 30 %, 50 % here). **Comprehensiveness** is how much the probability falls when the
# top share is removed (higher is better); **sufficiency** is how much it falls when *only*
# the top share is kept (lower is better). **AOPC** (Samek et al. 2017) averages the fall
# over every step of the deletion curve. A removed token is deleted from the text, as in
# ERASER, so no "neutral" replacement token has to be chosen.
#
# We start with the sentiment classifier of lesson 03 and a few reviews.

# %% tags=["sst2-load"]
import gc

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from captum.attr import FeatureAblation, LayerGradientXActivation, LayerIntegratedGradients
from transformers import AutoModelForSequenceClassification, AutoTokenizer

evaluate = explainlab.evaluate


def free_memory():
    # Return the memory of deleted models (and of the GPU's cache, if there is a GPU).
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


sst2_path = explainlab.resolve("sst2")
tokenizer = AutoTokenizer.from_pretrained(sst2_path)
model = AutoModelForSequenceClassification.from_pretrained(
    sst2_path, attn_implementation="eager").to(session.device).eval()
REVIEWS = ["I love you, I like you",
           "The acting was wonderful, but the plot was boring.",
           "This movie was a complete waste of time.",
           "A warm and funny film with a great cast."]

# %% [markdown]
# Six ways to rank the tokens of one review, all towards the predicted class:
#
# - **saliency**: the size of the gradient at each token's embedding (no sign);
# - **integrated gradients** (IG) from a `[PAD]` baseline, and **input × gradient**, both
#   summed over the embedding (signed);
# - **attention**: the weights `[CLS]` gives the tokens in the last layer, averaged over
#   heads, and **attention rollout** (Abnar and Zuidema 2020), which multiplies the
#   attention of every layer (with the residual connection added) to follow the
#   information from the input up (both without sign);
# - **occlusion**: Captum's `FeatureAblation` replaces one token at a time with `[PAD]` and
#   records how much the probability falls;
# - and a **random** ranking, the floor every method must beat.

# %% tags=["sst2-methods"]
def token_maps(model, tokenizer, text):
    # One score per token (special tokens left out) for each method, and the class scored.
    ids = tokenizer(text, return_tensors="pt")["input_ids"].to(model.device)
    special = torch.tensor(tokenizer.get_special_tokens_mask(
        ids[0].tolist(), already_has_special_tokens=True), device=ids.device).bool()
    baseline = torch.where(special, ids, tokenizer.pad_token_id)
    with torch.no_grad():
        out = model(input_ids=ids, output_attentions=True)
    target = int(out.logits.argmax())

    def probability(input_ids):
        return model(input_ids=input_ids).logits.softmax(-1)

    embeddings = model.get_input_embeddings()
    gradient = LayerGradientXActivation(probability, embeddings, multiply_by_inputs=False)
    grad = gradient.attribute(ids, target=target)[0]
    times = LayerGradientXActivation(probability, embeddings).attribute(ids, target=target)[0]
    ig = LayerIntegratedGradients(probability, embeddings).attribute(
        ids, baselines=baseline, target=target, n_steps=32)[0]
    occlusion = FeatureAblation(probability).attribute(ids, baselines=baseline, target=target)
    maps = {"saliency": grad.norm(dim=-1), "integrated gradients": ig.sum(-1),
            "input × gradient": times.sum(-1),
            "attention": out.attentions[-1][0].mean(0)[0],
            "attention rollout": evaluate.attention_rollout(out.attentions)[0],
            "occlusion": occlusion[0]}
    keep = ~special.cpu()
    return {name: values.detach().float().cpu()[keep] for name, values in maps.items()}, target


maps, target = token_maps(model, tokenizer, REVIEWS[1])
tokens = tokenizer.tokenize(REVIEWS[1])
print("predicted:", model.config.id2label[target])
pd.DataFrame({name: values.numpy() for name, values in maps.items()}, index=tokens).round(3).T

# %% [markdown]
# Now the test. `evaluate.classifier_scorer` gives a function that returns the probability
# of the predicted class with any set of tokens removed; `evaluate.ranking` orders the
# tokens (by absolute value for the methods without sign); `evaluate.perturbation_curves`
# removes and inserts in that order; `evaluate.faithfulness` sums the curves up. The random
# ranking is drawn five times per review and averaged.

# %% tags=["sst2-faithfulness"]
UNSIGNED = {"saliency", "attention", "attention rollout"}
generator = np.random.default_rng(0)


def curves_of(scorer, scores, name):
    # Deletion and insertion curves of one ranking (five random ones, averaged, for "random").
    if name == "random":
        orders = [list(generator.permutation(len(scores))) for _ in range(5)]
    else:
        orders = [evaluate.ranking(scores.tolist(), signed=name not in UNSIGNED)]
    runs = [evaluate.perturbation_curves(scorer, order) for order in orders]
    return {kind: list(np.mean([run[kind] for run in runs], axis=0)) for kind in runs[0]}


sst2_curves, sst2_rows = {}, {}
for text in REVIEWS:
    maps, _ = token_maps(model, tokenizer, text)
    _, _, scorer = evaluate.classifier_scorer(model, tokenizer, text)
    for name in [*maps, "random"]:
        curves = curves_of(scorer, maps.get(name, maps["saliency"]), name)
        sst2_curves.setdefault(name, []).append(curves)
        sst2_rows.setdefault(name, []).append(evaluate.faithfulness(curves))
sst2_table = pd.DataFrame({name: pd.DataFrame(rows).mean() for name, rows in
                           sst2_rows.items()}).T
print(sst2_table.round(3).to_string())

# %% [markdown]
# Read the table column by column: a faithful method has high comprehensiveness and AOPC,
# low sufficiency, a small deletion AUC and a large insertion AUC. Every method should
# beat the random row; one that does not is no better than guessing *for this model*.
# The curves show the same thing as a picture (the reviews differ in length, so the
# x axis is the share of tokens removed or inserted).

# %% tags=["sst2-curves"]
def plot_curves(all_curves, title):
    grid = np.linspace(0, 1, 11)
    figure, axes = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
    for name, runs in all_curves.items():
        for axis, kind in zip(axes, ("deletion", "insertion"), strict=True):
            resampled = [np.interp(grid, np.linspace(0, 1, len(r[kind])), r[kind]) for r in runs]
            axis.plot(grid, np.mean(resampled, axis=0), marker="o", markersize=3, label=name)
    for axis, kind in zip(axes, ("deletion", "insertion"), strict=True):
        axis.set_title(f"{title}: {kind}")
        axis.set_xlabel(f"share of tokens {'removed' if kind == 'deletion' else 'inserted'}")
    axes[0].set_ylabel("probability of the prediction")
    axes[1].legend(fontsize=8)
    figure.tight_layout()
    plt.show()


plot_curves(sst2_curves, "sentiment")

# %% [markdown]
# ## Faithfulness of the translator
#
# The same test works for every generated token of a translation. Inseq gives one column of
# source scores per generated token; for each column we remove source tokens in its order
# and watch the probability of *that* generated token, with the tokens before it forced
# (as in lesson 01). The methods are Inseq's saliency, integrated gradients,
# input × gradient, attention and occlusion; the table averages over the generated tokens.

# %% tags=["mt-attribute"]
import inseq

del model
free_memory()
SIMPLIFIED = "我喜欢机器学习和人工智能。"
METHODS = ("saliency", "integrated_gradients", "input_x_gradient", "attention", "occlusion")
mt_path = explainlab.resolve("mt-zh-en")
translator = inseq.load_model(mt_path, "saliency", device=session.device,
                              model_kwargs={"attn_implementation": "eager"})
outputs = {method: translator.attribute(SIMPLIFIED, method=method, show_progress=False)
           for method in METHODS}
tables = {method: explainlab.homework.scores_table(explainlab.clean_attribution(output))
          for method, output in outputs.items()}
tables["integrated_gradients"].round(2)

# %% tags=["mt-faithfulness"]
mt_model, mt_tokenizer = translator.model, translator.tokenizer
generated = [t.id for t in outputs["saliency"].sequence_attributions[0].target][1:]
steps = [k for k, token in enumerate(tables["saliency"].columns)
         if token not in mt_tokenizer.all_special_tokens]
mt_curves, mt_rows = {}, {}
for method, table in {**tables, "random": tables["saliency"]}.items():
    for step in steps:
        _, scorer = evaluate.translation_scorer(mt_model, mt_tokenizer, SIMPLIFIED, generated,
                                                step=step)
        column = table.iloc[:-1, step]  # the source tokens, without </s>
        curves = curves_of(scorer, torch.tensor(column.to_numpy()), method)
        mt_curves.setdefault(method, []).append(curves)
        mt_rows.setdefault(method, []).append(evaluate.faithfulness(curves))
mt_table = pd.DataFrame({m: pd.DataFrame(rows).mean() for m, rows in mt_rows.items()}).T
print(mt_table.round(3).to_string())

# %% tags=["mt-curves"]
plot_curves(mt_curves, "translation")

# %% [markdown]
# ## Ground truth: what a person knows to be right
#
# Faithfulness asks the model. Ground truth asks a person. Lesson 01 wrote down which
# English word translates which Chinese word and scored each method with the **alignment
# error rate** (AER: 0 when each generated token's top source token is the gold one, 1
# when none is). The helpers it wrote by hand are in `explainlab.evaluate`. Here AER sits
# next to comprehensiveness, for the same maps.

# %% tags=["mt-aer"]
GOLD = [("我", "I"), ("喜欢", "like"), ("机器", "machine"), ("学习", "learning"),
        ("和", "and"), ("人工", "artificial"), ("智能", "intelligence"), ("。", ".")]
specials = mt_tokenizer.all_special_tokens
translation = outputs["saliency"].info["generated_texts"][0]
aer = {}
for method, table in tables.items():
    gold = evaluate.gold_links(table, SIMPLIFIED, translation, GOLD, specials=specials)
    links = evaluate.argmax_links(table, specials=specials,
                                  signed=method not in ("saliency", "attention"))
    aer[method] = evaluate.alignment_error_rate(links, gold)
print(pd.DataFrame({"AER (lower is better)": aer,
                    "comprehensiveness": mt_table["comprehensiveness"][list(aer)]})
      .round(3).to_string())

# %% [markdown]
# The two columns need not agree, and when they do not, they are answering different
# questions. AER asks whether a map points at the word a bilingual reader would name;
# comprehensiveness asks whether the model's output depends on the words the map names. A
# translator may lean on a neighbouring word or on punctuation to produce a token (good
# comprehensiveness, poor AER), and attention may point at the right word without that
# word carrying the prediction (good AER, poor comprehensiveness).
#
# The second ground truth is visual. The pictures of lesson 03 are drawn by the course
# package, so it knows exactly which pixels are the object: `make_image_and_mask` returns
# that mask with the picture. Two scores per map: the share of its positive mass that falls
# on the object, and the **pointing game** (Zhang et al. 2018): is its single highest pixel
# on the object?

# %% tags=["vit-maps"]
from captum.attr import InputXGradient, IntegratedGradients, Occlusion, Saliency
from transformers import AutoModelForImageClassification

del translator, mt_model
free_memory()
vit_path = explainlab.resolve("vit")
vit = AutoModelForImageClassification.from_pretrained(
    vit_path, attn_implementation="eager").to(session.device).eval()
processor = explainlab.images.image_processor(vit_path)


def image_maps(picture):
    # One map per method for the predicted class, resized to the picture (224 x 224).
    pixels = processor(picture, return_tensors="pt")["pixel_values"].to(vit.device)
    pixels.requires_grad_()  # Captum's gradient methods differentiate by the pixels
    with torch.no_grad():
        out = vit(pixel_values=pixels, output_attentions=True)
    target = int(out.logits.argmax())

    def forward(x):
        return vit(pixel_values=x).logits.softmax(-1)

    side = vit.config.image_size // 7
    window = (3, side, side)  # occlude a 7 x 7 grid of squares
    maps = {"saliency": Saliency(forward).attribute(pixels, target=target).abs(),
            # 4 rows at a time, so that ViT-B's activations fit a laptop's memory
            "integrated gradients": IntegratedGradients(forward).attribute(
                pixels, target=target, n_steps=16, internal_batch_size=4),
            "input × gradient": InputXGradient(forward).attribute(pixels, target=target),
            "occlusion": Occlusion(forward).attribute(
                pixels, target=target, sliding_window_shapes=window, strides=window,
                perturbations_per_eval=16)}
    maps = {name: values.sum(1, keepdim=True) for name, values in maps.items()}
    grid = vit.config.image_size // vit.config.patch_size
    rollout = evaluate.attention_rollout(out.attentions)[0, 1:]  # [CLS] row, patches only
    maps["attention rollout"] = rollout.reshape(1, 1, grid, grid)
    return ({name: torch.nn.functional.interpolate(
                values.detach().float().cpu(), size=picture.size[::-1], mode="nearest")[0, 0]
             for name, values in maps.items()},
            vit.config.id2label[target])

# %% tags=["vit-ground-truth"]
PICTURES = [("circle", "red"), ("square", "blue"), ("triangle", "green"), ("cross", "red")]
scores, examples = {}, {}
for shape, colour in PICTURES:
    picture, mask = explainlab.images.make_image_and_mask(shape, colour, seed=3)
    maps, predicted = image_maps(picture)
    examples[f"{colour} {shape}"] = (picture, mask, maps, predicted)
    for name, values in maps.items():
        scores.setdefault(name, []).append(
            {"mass on the object": evaluate.mass_inside(values, mask),
             "pointing game": float(evaluate.pointing_game(values, mask))})
print("object share of the picture:", round(float(np.mean(
    [e[1].mean() for e in examples.values()])), 3))
vit_table = pd.DataFrame({m: pd.DataFrame(rows).mean() for m, rows in scores.items()}).T
print(vit_table.round(3).to_string())

# %% [markdown]
# A map that spread its mass at random would put about the object's share of the picture
# on the object (printed above the table): that is the floor for the first column. The
# pictures side by side, with the object's outline:

# %% tags=["vit-plot"]
picture, mask, maps, predicted = examples["red circle"]
figure, axes = plt.subplots(1, len(maps) + 1, figsize=(15, 3))
axes[0].imshow(picture)
axes[0].set_title(f"predicted: {predicted}", fontsize=9)
for axis, (name, values) in zip(axes[1:], maps.items(), strict=True):
    axis.imshow(values.clamp(min=0), cmap="viridis")
    axis.contour(mask, levels=[0.5], colors="white", linewidths=0.8)
    axis.set_title(name, fontsize=9)
for axis in axes:
    axis.axis("off")
figure.tight_layout()
plt.show()

# %% [markdown]
# ## Attention, causally
#
# Lesson 04 found a **previous-token head** in the `bertviz` model: each word gives almost
# all of its weight to the word before it. Weight is not influence. So test what the head
# carries: replace each word's left neighbour with `[MASK]` and measure how much the word's
# own vector (at the output of the head's layer) changes (`evaluate.neighbour_effect`).
# Then switch the head off (`evaluate.ablated_heads` zeroes its output) and measure again.
# If the head carries the neighbour, the change should mostly disappear; switching off
# another head of the same layer is the control.

# %% tags=["head-ablation"]
from transformers import AutoModel

del vit
free_memory()
bert_path = explainlab.resolve("bertviz")
bert_tokenizer = AutoTokenizer.from_pretrained(bert_path)
bert = AutoModel.from_pretrained(bert_path, attn_implementation="eager").to(
    session.device).eval()
SENTENCE = "The cat sat on the mat"
ids = bert_tokenizer(SENTENCE, return_tensors="pt")["input_ids"].to(bert.device)
with torch.no_grad():
    attention = torch.stack(bert(input_ids=ids, output_attentions=True).attentions)[:, 0]
words = torch.arange(1, ids.shape[1] - 1)  # every token but [CLS] and [SEP]
previous = attention[:, :, words, words - 1].mean(-1)  # layers x heads
layer, head = divmod(int(previous.argmax()), previous.shape[1])
print(f"previous-token head: layer {layer}, head {head}, "
      f"mean weight {previous[layer, head]:.3f}")

# %% tags=["head-ablation-effect"]
others = [h for h in range(bert.config.num_attention_heads) if h != head]


def change(ablate=()):
    # Mean relative change of each word's vector after `layer` when its left
    # neighbour becomes [MASK], with the heads in `ablate` switched off.
    return evaluate.neighbour_effect(bert, bert_tokenizer, SENTENCE, layer, ablate=ablate)


effects = {"no head switched off": change(),
           f"previous-token head ({head}) off": change([head]),
           "another head off (mean)": float(np.mean([change([h]) for h in others]))}
print(pd.Series(effects, name="change when the left neighbour is masked").round(4).to_string())

# %% [markdown]
# Now attention as a ranking. Is raw attention, or attention rollout, a good stand-in for
# what the model depends on? Compare both with the occlusion ranking of the sentiment
# model (from the first section), review by review.

# %% tags=["rollout-vs-perturbation"]
del bert
free_memory()
model = AutoModelForSequenceClassification.from_pretrained(
    sst2_path, attn_implementation="eager").to(session.device).eval()
agreement = {}
for text in REVIEWS:
    maps, _ = token_maps(model, tokenizer, text)
    for name in ("attention", "attention rollout", "saliency", "integrated gradients"):
        rho = evaluate.rank_correlation(maps[name].abs(), maps["occlusion"].abs())
        agreement.setdefault(name, []).append(rho)
print(pd.Series({name: np.nanmean(values) for name, values in agreement.items()},
                name="rank correlation with occlusion").round(3).to_string())

# %% [markdown]
# ## Activation patching: where does the answer flip?
#
# Lesson 02 asked, contrastively, which prompt tokens make *Paris* more likely than
# *London*. Activation patching asks the causal version. Run the model on "The capital of
# Japan is"; at one position, after one block, paste in the hidden state it had on "The
# capital of France is"; then read how far the answer moved from Tokyo to Paris
# (logit of " Paris" minus logit of " Tokyo"). Doing this for every block and position
# draws a map of where the fact "France" travels through the model.

# %% tags=["patching"]
from transformers import AutoModelForCausalLM

del model
free_memory()
lm_path = explainlab.resolve("lm")
lm_tokenizer = AutoTokenizer.from_pretrained(lm_path)
lm = AutoModelForCausalLM.from_pretrained(lm_path, dtype=session.dtype).to(session.device)
paris, tokyo = (lm_tokenizer(word)["input_ids"][0] for word in (" Paris", " Tokyo"))
patched = evaluate.patch_residual(
    lm, lm_tokenizer, "The capital of France is", "The capital of Japan is",
    lambda logits: logits[:, paris] - logits[:, tokyo])
print("unpatched: France", round(patched.attrs["clean"], 2), "| Japan",
      round(patched.attrs["corrupted"], 2))
patched.round(2)

# %% tags=["patching-plot"]
figure, axis = plt.subplots(figsize=(6, 0.5 + 0.45 * len(patched)))
image = axis.imshow(patched.to_numpy(), cmap="RdBu_r", aspect="auto",
                    vmin=-abs(patched.to_numpy()).max(), vmax=abs(patched.to_numpy()).max())
axis.set_xticks(range(patched.shape[1]), patched.columns)
axis.set_yticks(range(len(patched)), patched.index)
axis.set_title("logit(Paris) − logit(Tokyo) with one cell patched from 'France'", fontsize=9)
figure.colorbar(image, ax=axis)
figure.tight_layout()
plt.show()

# %% [markdown]
# Red cells are where the France run's state alone is enough to turn the answer into
# Paris. Early on, that is only the country's own position; later, it is the last position,
# where the model writes its answer. In between, the fact has *moved*: an attention head
# has copied it from "France" to "is". Where the red switches from one column to the other
# is the block that does the moving, something no attribution map of lesson 02 could tell
# you.
#
# ## Sanity checks: would the map notice if the model were broken?
#
# Adebayo et al. (2018) asked a blunt question: if we break the model, does the explanation
# change? A method whose map survives is showing the input (its edges, its frequent words),
# not the model. They break it in two ways: its weights, then its training labels.
#
# ### Randomise the weights
#
# **Cascading randomisation** redraws the weights from the top layer down, one block at a
# time, and compares each map with the map of the trained model by **rank correlation**
# (Spearman, on absolute values: 1 = the same order, 0 = no relation).

# %% tags=["sanity-randomize"]
del lm
free_memory()
model = AutoModelForSequenceClassification.from_pretrained(
    sst2_path, attn_implementation="eager").to(session.device).eval()
layers = model.config.n_layers
blocks = [("classifier", "classifier"), ("pre-classifier", "pre_classifier"),
          *((f"layer {i}", f"distilbert.transformer.layer.{i}") for i in reversed(range(layers))),
          ("embeddings", "distilbert.embeddings")]
original = [token_maps(model, tokenizer, text)[0] for text in REVIEWS]
sanity = {}
for stage, randomized in evaluate.cascading_randomization(model, blocks, seed=0):
    for text, before in zip(REVIEWS, original, strict=True):
        after, _ = token_maps(randomized, tokenizer, text)
        for name in before:
            rho = evaluate.rank_correlation(before[name].abs(), after[name].abs())
            sanity.setdefault(stage, {}).setdefault(name, []).append(rho)
sanity_table = pd.DataFrame({stage: {name: np.nanmean(values) for name, values in row.items()}
                             for stage, row in sanity.items()}).T
del randomized
print(sanity_table.round(2).to_string())

# %% [markdown]
# Read down each column: a method that passes falls towards 0 as more of the model is
# randomised. The code names the methods whose map, with *every* block randomised, still
# ranks the tokens much as the trained model's did (rank correlation above 0.5):

# %% tags=["sanity-verdict"]
final = sanity_table.iloc[-1]
failing = [name for name, rho in final.items() if rho > 0.5]
print("maps that survive a random model:", failing or "none")

figure, axis = plt.subplots(figsize=(8, 3.5))
for name in sanity_table.columns:
    axis.plot(sanity_table.index, sanity_table[name], marker="o", label=name)
axis.axhline(0, color="grey", linewidth=0.8)
axis.set_ylabel("rank correlation with the trained map")
axis.set_xlabel("randomised down to")
axis.tick_params(axis="x", rotation=45)
axis.legend(fontsize=8)
figure.tight_layout()
plt.show()

# %% [markdown]
# Why would a map survive? Attention rollout adds the identity at every layer, so with
# weights that carry nothing it still leans on each token itself; gradients through a
# random network still depend on the embeddings of the input. A map that survives is not
# wrong by definition, but it cannot be evidence about what the *trained* model learned.
#
# ### Randomise the labels
#
# The second test of Adebayo et al. breaks the data instead of the weights. Fine-tune one
# copy of the classifier on a few reviews with their true labels, and another copy on the
# same reviews with the labels shuffled: whatever the second copy learns, it is not
# sentiment. A method that shows what the model learned should give the two copies
# different maps; a method whose maps agree anyway is again showing the input.
#
# `evaluate.fit_labels` fine-tunes a copy (the model above stays as it is) until it gives
# every training review its label with at least 95 % probability, for at most 20 passes.
# The copy trained on the true labels is the control: its maps should stay close to the
# original model's. The sixteen training
# reviews below were written for this lesson; the maps are compared on the four reviews of
# the first section, which neither copy was trained on.

# %% tags=["sanity-labels"]
LABELLED = [("A joy to watch from start to finish.", "POSITIVE"),
            ("The jokes fell flat and the pacing dragged.", "NEGATIVE"),
            ("Beautifully shot and wonderfully acted.", "POSITIVE"),
            ("I walked out before the end.", "NEGATIVE"),
            ("The best film I have seen this year.", "POSITIVE"),
            ("A tired story told without any spark.", "NEGATIVE"),
            ("Clever, touching and often very funny.", "POSITIVE"),
            ("Two hours I will never get back.", "NEGATIVE"),
            ("The music and the colours are gorgeous.", "POSITIVE"),
            ("Wooden dialogue and a silly ending.", "NEGATIVE"),
            ("A delightful surprise with a brilliant lead.", "POSITIVE"),
            ("Loud, long and completely forgettable.", "NEGATIVE"),
            ("Warm, honest and full of life.", "POSITIVE"),
            ("The plot makes no sense at all.", "NEGATIVE"),
            ("I smiled all the way through.", "POSITIVE"),
            ("Dull characters in a messy script.", "NEGATIVE")]
texts = [text for text, _ in LABELLED]
labels = [label for _, label in LABELLED]
shuffled = [str(label) for label in np.random.default_rng(0).permutation(labels)]
print("shuffled labels that still match the true ones:",
      sum(a == b for a, b in zip(labels, shuffled, strict=True)), "of", len(labels))
on_true, fit_true = evaluate.fit_labels(model, tokenizer, texts, labels)
on_shuffled, fit_shuffled = evaluate.fit_labels(model, tokenizer, texts, shuffled)
print(f"training accuracy: true labels {fit_true:.2f} | shuffled labels {fit_shuffled:.2f}")
label_test = {}
for text, before in zip(REVIEWS, original, strict=True):
    true_maps, _ = token_maps(on_true, tokenizer, text)
    shuffled_maps, _ = token_maps(on_shuffled, tokenizer, text)
    for name in before:
        for column, after in (("true labels", true_maps), ("shuffled labels", shuffled_maps)):
            rho = evaluate.rank_correlation(before[name].abs(), after[name].abs())
            label_test.setdefault(name, {}).setdefault(column, []).append(rho)
labels_table = pd.DataFrame({name: {column: np.nanmean(values) for column, values in row.items()}
                             for name, row in label_test.items()}).T
print("rank correlation with the trained model's map, after fine-tuning on:")
print(labels_table.round(2).to_string())
blind = [name for name, rho in labels_table["shuffled labels"].items() if rho > 0.5]
print("maps that barely notice shuffled labels:", blind or "none")
del on_true, on_shuffled
free_memory()

# %% [markdown]
# Both columns compare with the map of the model we started from. A method passes when the
# first column is high (fine-tuning on the true labels leaves its map much as it was) and
# the second is clearly lower (the copy that learned nonsense gets another map). Where the
# first column is already low, the method's map moves with any fine-tuning at all, so the
# test cannot tell shuffled labels from true ones for it: that is a warning of its own.
# Check the training accuracy too: had the shuffled copy not fitted its labels, it would
# still be close to the original model, and the test would say nothing.
#
# ## Two more scores from Captum: infidelity and sensitivity
#
# Captum ships its own metrics for attributions, and they test something other than
# deletion. Both move the input's embeddings by a little noise instead of removing whole
# tokens:
#
# - **infidelity** (Yeh et al. 2019) asks whether the map predicts how the output moves:
#   for a small random nudge of the input, the map times the nudge should equal the change
#   of the probability. It is the mean squared gap between the two; with `normalize=True`
#   the map is first rescaled by the best single factor, so only its shape counts. Lower is
#   better.
# - **sensitivity** (`sensitivity_max`) asks whether the map is stable: the largest change
#   of the map, relative to its size, when the input moves a little at random. Lower is
#   better.
#
# Both need a map of the embeddings, so we score the four gradient methods on the
# classifier: saliency, **SmoothGrad** (Smilkov et al. 2017: saliency averaged over noisy
# copies of the input, Captum's `NoiseTunnel`), integrated gradients and input × gradient.
# The noise is a tenth of the embeddings' standard deviation, for SmoothGrad's copies as
# for the two tests, and the random draws are seeded so that the table repeats.

# %% tags=["captum-scores"]
import warnings

from captum.attr import InputXGradient, IntegratedGradients, NoiseTunnel, Saliency
from captum.metrics import infidelity, sensitivity_max

# Captum warns that the moved copies it makes do not require gradients; it adds them itself.
warnings.filterwarnings("ignore", message="Input Tensor .* did not already require gradients")
torch.manual_seed(0)


def probabilities(embedded):
    return model(inputs_embeds=embedded).logits.softmax(-1)


explainers = {"saliency": Saliency(probabilities),
              "SmoothGrad": NoiseTunnel(Saliency(probabilities)),
              "integrated gradients": IntegratedGradients(probabilities),
              "input × gradient": InputXGradient(probabilities)}
captum_rows = {name: {"infidelity": [], "sensitivity": []} for name in explainers}
for text in REVIEWS:
    ids = tokenizer(text, return_tensors="pt")["input_ids"].to(model.device)
    special = torch.tensor(tokenizer.get_special_tokens_mask(
        ids[0].tolist(), already_has_special_tokens=True), device=ids.device).bool()
    with torch.no_grad():
        embedded = model.get_input_embeddings()(ids)
        baseline = model.get_input_embeddings()(torch.where(special, ids, tokenizer.pad_token_id))
        target = int(probabilities(embedded).argmax())
    noise = 0.1 * float(embedded.std())

    def nudge(inputs):
        step = torch.randn_like(inputs) * noise
        return step, inputs - step

    options = {"SmoothGrad": {"nt_type": "smoothgrad", "nt_samples": 10, "stdevs": noise},
               # 32 rows at a time, so that the moved copies of sensitivity_max fit in memory
               "integrated gradients": {"baselines": baseline, "n_steps": 32,
                                        "internal_batch_size": 32}}
    for name, explainer in explainers.items():
        kwargs = options.get(name, {})
        attribution = explainer.attribute(embedded, target=target, **kwargs)
        captum_rows[name]["infidelity"].append(float(infidelity(
            probabilities, nudge, embedded, attribution, target=target,
            n_perturb_samples=20, normalize=True)))
        captum_rows[name]["sensitivity"].append(float(sensitivity_max(
            explainer.attribute, embedded, perturb_radius=noise, n_perturb_samples=5,
            target=target, **kwargs)))
captum_table = pd.DataFrame({name: {score: np.mean(values) for score, values in row.items()}
                             for name, row in captum_rows.items()}).T
print(captum_table.to_string(float_format="{:.3g}".format))
print("lowest infidelity:", captum_table["infidelity"].idxmin(),
      "| lowest sensitivity:", captum_table["sensitivity"].idxmin())

# %% [markdown]
# These two scores are local: they ask about nudges so small that the model stays close to
# a linear function, while deletion removes whole tokens and moves the input far from
# anything the model was trained on. So a method can describe small nudges well (low
# infidelity) and still rank the tokens poorly for deletion, or the other way round.
# Averaging can make a map stable: integrated gradients averages the gradient along a
# path, and SmoothGrad over noisy copies, as much as its noise allows (here the noise is as
# small as the test's nudges, so it stays close to saliency; try a larger `stdevs`). But a
# map can also be stable because it ignores the model, which only a sanity check reveals. No
# single number says that a map is right; each says in which sense it is.
#
# ## Exercises
#
# 1. Add a review of your own to `REVIEWS` and run the faithfulness section again. Does the
#    ranking of the methods hold?
# 2. In `token_maps`, change the IG baseline from `[PAD]` to `[MASK]` (lesson 03's
#    pitfall). Which metrics move?
# 3. Patch "The capital of Japan is" into "The capital of France is" instead (swap the two
#    prompts and the sign of the metric). Is the map the mirror image?
# 4. In the label test, shuffle with another seed (`default_rng(1)`). How many labels still
#    match, and does the list of maps that barely notice the shuffle change?
#
# ## Summary
#
# - Faithfulness is measured by removing what an explanation ranks first: deletion and
#   insertion curves, comprehensiveness, sufficiency, AOPC, always next to a random ranking.
# - Ground truth (a gold alignment, an object mask) measures plausibility to a person; it
#   can disagree with faithfulness, and both are worth knowing.
# - Attention weights are hypotheses: ablate the head, patch the state, and see.
# - A map that survives a randomised model, or a model trained on shuffled labels, says
#   little about the trained one.
# - Infidelity and sensitivity test small nudges, not removals: one more view, not a verdict.

# %%
del model
free_memory()
