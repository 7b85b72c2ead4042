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
# # Explaining what a language model generates
#
# In lesson 01 a translator read a Chinese sentence and wrote an English one, and Inseq
# told us which source words each English word came from. A chat model such as Qwen3
# has no separate source: it reads a prompt and keeps writing after it, one token at a
# time. Here you will ask, for every token it writes, which earlier tokens it relied on.
#
# You will:
#
# - set up the padding token that decoder-only models lack or misuse, and see why it matters;
# - attribute "Hello world" and a factual prompt with saliency and with attention;
# - ask a sharper question with **contrastive attribution**: why "Paris" and not "London"?
# - meet the traps of chat templates, where the template's own tokens enter the picture;
# - load GPT-2 XL in 8-bit when a GPU allows it.

# %% tags=["setup"]
import importlib.util

if importlib.util.find_spec("explainlab") is None:  # Colab, Kaggle, a new environment
    # %pip install -q "explainlab @ git+https://github.com/explainlab/explainlab"

import explainlab

session = explainlab.setup()

# %% [markdown]
# The line above names the profile that produced the outputs on this page (`hub`: the
# real Qwen3-0.6B and GPT-2; `offline`: the course's small twins of them), the device
# and the library versions. Every number below is printed by the code, so it changes
# with the profile.
#
# ## A decoder-only model and what Inseq attributes
#
# We ask for the role `lm`: Qwen/Qwen3-0.6B on the hub profile, a small model of the same
# class (`Qwen3ForCausalLM`, byte-level BPE tokenizer) offline. We load it once, with
# `attn_implementation="eager"`: the default attention code of transformers (SDPA) never
# builds the attention matrix, so it could not give Inseq the weights we read later.
#
# We also choose the dtype. Qwen3-0.6B is published in bfloat16, and transformers loads a
# checkpoint in its own dtype. `session.dtype` is float32 on a CPU, for two reasons: a
# bfloat16 gradient keeps 8 bits of precision, so small attributions round to the same
# value and rankings tie; and a CPU without bfloat16 instructions computes in bfloat16 many
# times slower than in float32. On a CUDA GPU it is `"auto"`, the published dtype, which
# halves the memory; `clean_attribution` then turns the scores into float32 before Inseq
# draws them.

# %% tags=["load-lm"]
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

lm_path = explainlab.resolve("lm")
tokenizer = AutoTokenizer.from_pretrained(lm_path)
model = AutoModelForCausalLM.from_pretrained(
    lm_path, dtype=session.dtype, device_map=session.device_map, attn_implementation="eager")
print("model:", explainlab.models.describe("lm"))
print("class:", type(model).__name__, "| tokenizer:", type(tokenizer).__name__,
      "| dtype:", model.dtype)

# %% [markdown]
# A decoder-only model sees one sequence: the prompt, then what it has written so far.
# At step *t* it predicts token *t* from **all the tokens before it**, prompt and earlier
# output alike. So Inseq's picture for such a model is not "source × target" as in
# lesson 01 but a triangle: generated token *t* is explained by every token left of it.
#
# ## Padding: why a decoder-only model needs a pad token
#
# One prompt needs no padding. A **batch** of prompts of different lengths does: the
# short ones are filled up with a pad token so that they form a rectangle, and an
# *attention mask* (1 = real token, 0 = pad) tells the model to ignore the filling.
# Let us look at the pad tokens of our two model families.

# %% tags=["pad-tokens"]
gpt2_tokenizer = AutoTokenizer.from_pretrained(explainlab.resolve("lm-gpt2"))

for name, tok in [("lm", tokenizer), ("lm-gpt2", gpt2_tokenizer)]:
    print(f"{name:8} pad={tok.pad_token!r:16} eos={tok.eos_token!r:16} side={tok.padding_side}")

# %% [markdown]
# Qwen's tokenizer ships a pad token (`<|endoftext|>`). GPT-2 was trained without one, so
# padding a batch fails:

# %% tags=["pad-error"]
prompts = ["Hello world", "The capital of France is"]
try:
    gpt2_tokenizer(prompts, padding=True)
except ValueError as error:
    print("ValueError:", error)

# %% [markdown]
# The usual fix, suggested by the error message itself, is to reuse the end-of-sequence
# token as the pad token. That is safe **because** the attention mask hides the pads from
# the model. Tell `generate` too (`generation_config.pad_token_id`), or it reminds you
# with a warning on every call; we do that when we load GPT-2 at the end.
#
# The pads go on the **left**. A decoder-only model writes at the right end of the
# sequence; with pads on the right, the first new token would follow a row of pads
# instead of the last word of the prompt.

# %% tags=["pad-setup"]
gpt2_tokenizer.pad_token = gpt2_tokenizer.eos_token  # no pad token of its own: reuse eos
gpt2_tokenizer.padding_side = "left"  # pads before the prompt, so generation continues it

batch = gpt2_tokenizer(prompts, padding=True)
for ids, mask in zip(batch["input_ids"], batch["attention_mask"]):
    tokens = explainlab.clean_tokens(gpt2_tokenizer.convert_ids_to_tokens(ids), gpt2_tokenizer)
    print(tokens, mask)

# %% [markdown]
# What the mask buys you: we generate for both prompts in one batch with Qwen, once with
# the right mask and once with a mask of ones, which is what a model sees when nobody
# passes the mask. Without it, the short prompt's continuation is computed from the pads
# as if they were words; compare its two lines.

# %% tags=["pad-mask"]
tokenizer.padding_side = "left"
batch = tokenizer(prompts, return_tensors="pt", padding=True).to(model.device)
with torch.no_grad():
    masked = model.generate(**batch, max_new_tokens=6, do_sample=False)
    unmasked = model.generate(input_ids=batch["input_ids"], max_new_tokens=6, do_sample=False,
                              attention_mask=torch.ones_like(batch["input_ids"]))
width = batch["input_ids"].shape[1]
for label, ids in [("with mask", masked), ("mask of ones", unmasked)]:
    print(f"{label:13}", tokenizer.batch_decode(ids[:, width:], skip_special_tokens=True))

# %% [markdown]
# **How Inseq uses the pad token.** When you load a model, Inseq takes the pad id from
# the model's config, else from the tokenizer, else the eos token, and hands it to a
# tokenizer that had none; for decoder-only models it also sets `padding_side="left"`.
# It pads batches of prompts with it. One trap remains in Inseq 0.7: when it
# **generates** the continuation itself, it does not pass the attention mask, so a batch
# of prompts of different lengths is generated as in the "mask of ones" line above.
# Attribute prompts one at a time, or generate the batch yourself with the mask and
# give Inseq the results as `generated_texts` (it then attributes them one by one).
#
# ## Generating the continuations we will explain
#
# First the plain answer, without any attribution. We decode greedily
# (`do_sample=False`): the real Qwen3 samples by default, and an explanation of a random
# draw is an explanation of that draw only.

# %% tags=["check-generation"]
for prompt in ["Hello world", "The capital of France is"]:
    inputs = tokenizer(prompt, return_tensors="pt").to(model.device)
    with torch.no_grad():
        output = model.generate(**inputs, max_new_tokens=8, do_sample=False)
    continuation = tokenizer.decode(output[0, inputs["input_ids"].shape[1]:],
                                    skip_special_tokens=True)
    print(f"{prompt!r} -> {continuation!r}")

# %% [markdown]
# ## Saliency on "Hello world"
#
# **Saliency** asks: if I nudged the input embedding of token *i* a little, how much
# would the probability of the token generated at step *t* change? It is the gradient of
# that probability with respect to the embedding of each earlier token. Inseq then turns
# the gradient vector of each token into one number (its length, the L2 norm) and scales
# every column so that it sums to one. The scores are therefore **relative**: within one
# generated token, which earlier tokens matter more; they cannot be compared across
# columns as absolute amounts, and they carry no sign.
#
# We wrap the loaded model for Inseq (no second download), attribute, and make the
# byte-level tokens readable with `clean_attribution`. `step_scores=["probability"]`
# adds one more row: the probability the model gave to each generated token.

# %% tags=["inseq-load"]
import inseq

inseq_model = inseq.load_model(model, "saliency", tokenizer=tokenizer)
print("pad token used by Inseq:", repr(inseq_model.pad_token),
      "| padding side:", inseq_model.tokenizer.padding_side)

# %% tags=["check-show"]
hello = inseq_model.attribute(
    "Hello world", generation_args={"max_new_tokens": 8, "do_sample": False},
    step_scores=["probability"], show_progress=False)
hello = explainlab.clean_attribution(hello, tokenizer)
hello.show()

# %% [markdown]
# **How to read it.** Each **column** is one generated token, each **row** a token that
# was already there when it was generated (the prompt first, then the earlier output).
# A column sums to one; the darker a cell, the larger that row's share of the gradient.
# The cells below the staircase are empty: a token cannot depend on itself or on tokens
# written after it. The last row, `probability`, is not an attribution: it says how sure
# the model was of each token. A confident column and a hesitant one can look equally
# sharp, because every column is normalised.
#
# ## A factual prompt: where does "Paris" come from?
#
# Now the prompt with a fact in it. We want the column of the first generated token and
# the prompt tokens ranked by their score in it. A small helper does the reading:
# `aggregate()` applies the L2 norm and normalisation we just described and gives a
# tokens × generated-tokens table.

# %% tags=["ranking-helper"]
def ranking(output, step=0):
    # The tokens before generated token number `step` (0 = the first one), best first.
    sequence = output.sequence_attributions[0].aggregate()
    start = sequence.attr_pos_start  # where the generated part begins
    scores = sequence.target_attributions[: start + step, step]
    tokens = [t.token for t in sequence.target[: start + step]]
    print(f"generated token: {sequence.target[start + step].token!r}")
    ranked = sorted(zip(tokens, scores.tolist()), key=lambda pair: -pair[1])
    for token, score in ranked:
        print(f"  {token!r:>12}  {score:.3f}")
    return ranked


# %% tags=["check-top-token"]
fact = inseq_model.attribute(
    "The capital of France is", generation_args={"max_new_tokens": 3, "do_sample": False},
    show_progress=False)
fact = explainlab.clean_attribution(fact, tokenizer)
fact_ranking = ranking(fact)
print("highest saliency:", repr(fact_ranking[0][0]))

# %% [markdown]
# The ranking above is the model's own answer to "which word did you lean on?". For a
# capital, you would hope for the country. Two kinds of token often compete with it:
#
# - words like "capital" that say *what kind* of answer is wanted;
# - the **last** token of the prompt. The next token is predicted at its position, so
#   the gradient reaches its embedding by the shortest path. A high score there is a
#   recency effect of gradient methods, not evidence that "is" knows about Paris.
#
# And saliency measures sensitivity, not contribution: when the model is already sure
# (a probability near one barely moves), every gradient is small, and the normalised
# column only shows which of those small gradients is the least small.
#
# The same in Chinese. Qwen's tokenizer works on **bytes**: a Chinese character is two
# or three bytes, and a raw token looks like `æ³ķåĽ½`. `clean_attribution` decodes the
# bytes back into characters (and marks a character split over two tokens as `字(1/2)`,
# `字(2/2)`).

# %% tags=["check-chinese"]
zh_fact = inseq_model.attribute(
    "法国的首都是", generation_args={"max_new_tokens": 3, "do_sample": False},
    show_progress=False)
raw = [t.token for t in zh_fact.sequence_attributions[0].target]
zh_fact = explainlab.clean_attribution(zh_fact, tokenizer)
print("raw tokens:    ", raw)
print("cleaned tokens:", [t.token for t in zh_fact.sequence_attributions[0].target])
zh_ranking = ranking(zh_fact)
print("highest saliency:", repr(zh_ranking[0][0]))
zh_fact.show()

# %% [markdown]
# ## Attention on the same prompts
#
# Inseq's `attention` method does not compute a gradient: it reads the attention weights
# of the forward pass, averaged over all heads and layers, for the step that produced
# each token. We reuse the same wrapped model and only switch the method.

# %% tags=["attention"]
fact_attention = inseq_model.attribute(
    "The capital of France is", method="attention",
    generation_args={"max_new_tokens": 3, "do_sample": False}, show_progress=False)
fact_attention = explainlab.clean_attribution(fact_attention, tokenizer)
attention_ranking = ranking(fact_attention)
fact_attention.show()

# %% [markdown]
# Compare this ranking with the saliency one. Where they agree, good; where they do not,
# remember what each measures:
#
# - an attention weight says **where a head reads from**, not how much that reading
#   changes the prediction. Averaging over heads and layers mixes heads that matter with
#   heads that "park" their weight on the first token (a frequent habit of decoder-only
#   models, the *attention sink*);
# - after the first layer, the vector at position *i* already mixes many tokens, so
#   "attention to token *i*" is not attention to the word *i* alone.
#
# Attention is a cheap hint about the mechanism, not an explanation of the output.
#
# ### Exercise 1
#
# Change `method` to `"input_x_gradient"` (gradient times embedding) or
# `"integrated_gradients"` (gradients averaged along a path from a baseline to the
# input; slower) and compare the top token with the two rankings above.

# %% tags=["exercise-methods"]
method = "input_x_gradient"  # try "integrated_gradients", "saliency", "attention"
other = inseq_model.attribute(
    "The capital of France is", method=method,
    generation_args={"max_new_tokens": 3, "do_sample": False}, show_progress=False)
other_ranking = ranking(explainlab.clean_attribution(other, tokenizer))

# %% [markdown]
# ## Contrastive attribution: why "Paris" and not "London"?
#
# "Which tokens made *Paris* likely?" mixes two questions: why a city name at all, and
# why this city. Contrastive attribution (Yin and Neubig, 2022) asks only the second. The
# attributed quantity is a difference:
#
# P("Paris" | prompt) − P("London" | prompt)
#
# Inseq calls it the step function `contrast_prob_diff`. We give it the text to explain
# (`generated_texts`, here the prompt plus " Paris": forced, not generated) and the
# alternative as `contrast_targets`.
#
# Inseq warns on every contrastive run that gradients flow only through the original
# input (the alternative just changes which probability is subtracted). That is exactly
# what we want here, so a small helper silences that one warning, and only it.

# %% tags=["contrast-helper"]
import warnings


def contrastive(prompt, answer, alternative, **kwargs):
    # Attribute P(answer) - P(alternative) after `prompt`; both are forced, not generated.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Contrastive inputs do not match",
                                category=UserWarning)
        return inseq_model.attribute(
            prompt, prompt + answer, attributed_fn="contrast_prob_diff",
            contrast_targets=prompt + alternative, show_progress=False, **kwargs)


# %% [markdown]
# As step scores we ask for both probabilities and their difference: if the difference
# is positive, the model prefers Paris.

# %% tags=["check-contrast"]
prompt = "The capital of France is"
contrast = contrastive(prompt, " Paris", " London",
                       step_scores=["probability", "contrast_prob", "contrast_prob_diff"])
steps = contrast.sequence_attributions[0].step_scores
print(f"P(Paris)  = {steps['probability'][0].item():.4f}")
print(f"P(London) = {steps['contrast_prob'][0].item():.4f}")
print(f"contrast_prob_diff = {steps['contrast_prob_diff'][0].item():.4f}")
print("Paris preferred over London:", steps["contrast_prob_diff"][0].item() > 0)
contrast_ranking = ranking(explainlab.clean_attribution(contrast, tokenizer))

# %% [markdown]
# The generated token is labelled with the alternative and the forced token ("London →
# Paris"). Its scores answer a narrower question than before: which tokens, if nudged,
# would change the **gap** between the two cities. A token that only announces "a city
# comes next" would move both probabilities together and leave the gap alone.
#
# Compare this ranking with the plain saliency ranking of "Paris". If they are almost
# the same, look at P(London): when the model gives London next to nothing, the gradient
# of P(London) is next to nothing too, and the difference behaves like P(Paris) alone.
# The fix is to compare **log**-probabilities, `logprob=True`: log P(Paris) − log P(London)
# equals the difference of the two logits, which does not vanish when one answer is
# unlikely. (Saliency has no sign either way: a high score does not say in which
# direction the gap would move.)

# %% tags=["contrast-show"]
contrast_log = contrastive(prompt, " Paris", " London", logprob=True,
                           step_scores=["contrast_prob_diff"])
gap = contrast_log.sequence_attributions[0].step_scores["contrast_prob_diff"][0].item()
print(f"log P(Paris) - log P(London) = {gap:.2f}")
contrast_log = explainlab.clean_attribution(contrast_log, tokenizer)
contrast_log_ranking = ranking(contrast_log)
contrast_log.show()

# %% [markdown]
# Two pitfalls:
#
# - the two answers should be **one token each** (here " Paris" and " London", with their
#   leading space). If the alternative is longer, Inseq must align the two sequences
#   (`contrast_targets_alignments`), and the step no longer compares like with like;
# - the forced text need not be what the model would say. Forcing an unlikely answer
#   explains a sentence the model did not choose.
#
# ### Exercise 2
#
# Ask the same question for another country: "The capital of Japan is" with " Tokyo"
# against " Beijing", or a Chinese pair such as 法国的首都是 with 巴黎 against 伦敦. Check
# first, with the generation cell, what the model actually answers.

# %% tags=["exercise-contrast"]
prompt, answer, alternative = "The capital of Japan is", " Tokyo", " Beijing"
exercise = contrastive(prompt, answer, alternative, logprob=True,
                       step_scores=["contrast_prob_diff"])
gap = exercise.sequence_attributions[0].step_scores["contrast_prob_diff"][0].item()
print(f"log P({answer.strip()}) - log P({alternative.strip()}) = {gap:.2f}")
exercise_ranking = ranking(explainlab.clean_attribution(exercise, tokenizer))

# %% [markdown]
# ## Chat templates: the prompt you do not see
#
# A chat model was trained on conversations written in a fixed format, its **chat
# template** (ChatML for Qwen: `<|im_start|>user ... <|im_end|>`). To ask it a question
# you do not attribute the bare question; you format it with `apply_chat_template`:
#
# - `tokenize=False` returns the formatted **text**, which is what Inseq takes;
# - `add_generation_prompt=True` appends the opening of the assistant's turn. Without it
#   the model goes on writing the *user's* message;
# - `enable_thinking=False` is Qwen3's switch for its "thinking" mode. By default the real
#   Qwen3 first writes a `<think> ... </think>` block of reasoning, which eats your
#   `max_new_tokens` and makes every attribution step longer. With the switch off, the
#   real template inserts an **empty** think block after the assistant's opening. The
#   offline twin has no thinking mode, so its template ignores the switch: the next cell
#   says whether the switch changed the prompt under the active profile.

# %% tags=["chat-template"]
messages = [{"role": "user", "content": "What is the capital of France?"}]
default_prompt = tokenizer.apply_chat_template(
    messages, tokenize=False, add_generation_prompt=True)
chat_prompt = tokenizer.apply_chat_template(
    messages, tokenize=False, add_generation_prompt=True, enable_thinking=False)
print("default:             ", repr(default_prompt))
print("enable_thinking=False:", repr(chat_prompt))
print("the switch changed the prompt:", default_prompt != chat_prompt)

# %% [markdown]
# Now attribute the answer to that formatted prompt.

# %% tags=["chat-show"]
chat = inseq_model.attribute(
    chat_prompt, generation_args={"max_new_tokens": 12, "do_sample": False},
    show_progress=False)
chat = explainlab.clean_attribution(chat, tokenizer)
chat.show()

# %% [markdown]
# Every template token (`<|im_start|>`, `user`, the line breaks, `assistant`, and on the
# real Qwen3 the empty think block) is a row of the heatmap like any word of the
# question, and they often take a large share of the scores: the model does rely on them
# to know that an answer is due. How large is that share here? We find the question's
# tokens by their character offsets and add up, over all generated tokens, the scores
# that land on the template.

# %% tags=["chat-share"]
def template_share(prompt, question, output):
    # The share of the prompt's scores, over all generated tokens, on template tokens.
    begin = prompt.index(question)
    end = begin + len(question)
    offsets = tokenizer(prompt, return_offsets_mapping=True)["offset_mapping"]
    in_question = torch.tensor([begin <= a and b <= end for a, b in offsets])
    sequence = output.sequence_attributions[0].aggregate()
    scores = sequence.target_attributions[: len(offsets)].nan_to_num()  # prompt rows only
    share = float(scores[~in_question].sum() / scores.sum())
    print(f"prompt tokens: {len(offsets)}, of which template: {int((~in_question).sum())}")
    print(f"share of the scores on template tokens: {share:.3f}")
    return share


chat_share = template_share(chat_prompt, messages[0]["content"], chat)

# %% [markdown]
# Pitfalls with chat templates:
#
# - **Do not hide the template by removing it.** `attribute(..., skip_special_tokens=True)`
#   deletes the special tokens from the *text* before the model sees it, so you explain a
#   different prompt from the one the model answers in a chat. Keep them, and leave them
#   out when you *read* (as the share above does).
# - **Do not tokenize twice.** Give Inseq the text (`tokenize=False`). Templates of some
#   other models start with a BOS token; tokenizing that text again with
#   `add_special_tokens=True` adds a second one. Qwen has no BOS token, so it is spared.
# - **Normalised columns hide the dilution.** Each column sums to one, so the more
#   template tokens there are, the smaller every question token looks. Compare the
#   question's tokens with each other, not with the bare-prompt heatmap.
#
# ### Exercise 3
#
# Ask another question through the template and look at the share again. The offline
# twin answers little more than greetings ("Hello!"), a few capitals and the first
# president of America, and even there it can be wrong: read the answer before you read
# its explanation.

# %% tags=["exercise-chat"]
my_question = "Who was the first president of America?"
my_prompt = tokenizer.apply_chat_template(
    [{"role": "user", "content": my_question}],
    tokenize=False, add_generation_prompt=True, enable_thinking=False)
my_chat = inseq_model.attribute(
    my_prompt, generation_args={"max_new_tokens": 14, "do_sample": False},
    show_progress=False)
print("answer:", repr(my_chat.info["generated_texts"][0][len(my_prompt):]))
my_share = template_share(my_prompt, my_question, my_chat)

# %% [markdown]
# We are done with Qwen: free its memory before the next model.

# %% tags=["free-lm"]
import gc

del inseq_model, model
gc.collect()
if torch.cuda.is_available():
    torch.cuda.empty_cache()

# %% [markdown]
# ## GPT-2 XL in 8 bits
#
# GPT-2 XL has 1.5 billion parameters: several gigabytes in 32-bit floats, a tight fit
# on a free GPU next to the gradients an attribution needs. **bitsandbytes** can store
# the weights of its linear layers as 8-bit integers instead
# (`BitsAndBytesConfig(load_in_8bit=True)`), a quarter of the bytes of a 32-bit float,
# while the matrix products keep their outliers in 16 bits (LLM.int8). It runs on CUDA
# GPUs only. The cell below loads GPT-2 XL in 8 bits when the machine has both
# a GPU and the package (on Colab: `pip install bitsandbytes`), and
# otherwise says so and loads the small GPT-2 normally. Either way we reuse the
# tokenizer with the pad token set up earlier (GPT-2 and GPT-2 XL share it).

# %% tags=["check-8bit"]
from transformers import BitsAndBytesConfig

on_gpu = session.device.startswith("cuda")  # the device setup() chose
has_bnb = importlib.util.find_spec("bitsandbytes") is not None
if on_gpu and has_bnb:
    gpt2_path = explainlab.resolve("lm-gpt2", variant="xl")
    gpt2 = AutoModelForCausalLM.from_pretrained(
        gpt2_path, quantization_config=BitsAndBytesConfig(load_in_8bit=True),
        device_map=session.device_map)
    print("Loaded in 8-bit with bitsandbytes:",
          explainlab.models.describe("lm-gpt2", variant="xl"))
else:
    print(f"8-bit loading skipped: it needs a CUDA device (this session: {session.device}) "
          f"and the bitsandbytes package (installed: {has_bnb}).")
    gpt2_path = explainlab.resolve("lm-gpt2")
    gpt2 = AutoModelForCausalLM.from_pretrained(gpt2_path, device_map=session.device_map)
    print("Loaded the small GPT-2 in full precision instead:",
          explainlab.models.describe("lm-gpt2"))
gpt2.generation_config.pad_token_id = gpt2_tokenizer.pad_token_id  # the pad set-up, for generate
print(f"memory footprint: {gpt2.get_memory_footprint() / 2**20:.0f} MiB")

# %% [markdown]
# The attribution code does not change with the precision: wrap the model, attribute,
# clean, show. (Gradients flow back through the 8-bit layers to the embeddings, which
# bitsandbytes does not quantise, so saliency works on the quantised model too.)

# %% tags=["gpt2-show"]
gpt2_inseq = inseq.load_model(gpt2, "saliency", tokenizer=gpt2_tokenizer)
gpt2_hello = gpt2_inseq.attribute(
    "Hello world", generation_args={"max_new_tokens": 8, "do_sample": False},
    step_scores=["probability"], show_progress=False)
explainlab.clean_attribution(gpt2_hello, gpt2_tokenizer).show()

# %% [markdown]
# ### Exercise 4
#
# Give GPT-2 a factual prompt of your own and read the ranking of the first generated
# token. Then free the memory, as the last cell does.

# %% tags=["exercise-gpt2"]
gpt2_fact = gpt2_inseq.attribute(
    "The capital of Germany is", generation_args={"max_new_tokens": 3, "do_sample": False},
    show_progress=False)
gpt2_ranking = ranking(explainlab.clean_attribution(gpt2_fact, gpt2_tokenizer))

# %% tags=["free-gpt2"]
del gpt2_inseq, gpt2
gc.collect()
if torch.cuda.is_available():
    torch.cuda.empty_cache()

# %% [markdown]
# ## What to remember
#
# - A decoder-only model explains each generated token by **all** tokens before it: the
#   prompt and its own earlier output.
# - Set up padding before batching: a pad token (eos if there is none), pads on the
#   left, and the attention mask always passed along. Inseq fills in a missing pad
#   token, but its own generation step ignores the mask: attribute prompts one by one.
# - Saliency scores are relative and unsigned, normalised per generated token; attention
#   weights say where heads read, not what mattered.
# - Contrastive attribution (`contrast_prob_diff` with `contrast_targets`) explains a
#   choice between two answers, which is usually the question you actually have; use
#   `logprob=True` when the alternative is very unlikely.
# - With a chat model, attribute the prompt the model really sees (the chat template,
#   `add_generation_prompt=True`, `enable_thinking=False` for Qwen3) and read the template
#   tokens' share instead of deleting them.
