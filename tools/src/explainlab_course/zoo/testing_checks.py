"""Lesson 06's facts about three twins, measured as the lesson measures them (with
``explainlab.evaluate`` and Captum), for their contracts:

- ``sst2``: the tokens integrated gradients ranks first really drive the prediction
  (comprehensiveness well above a random ranking's);
- ``bertviz``: the previous-token head carries the left neighbour (ablating it removes more of
  a word's reaction to its neighbour than ablating another head of its layer);
- ``lm``: activation patching from "France" into "Japan" flips the answer to Paris at the
  country's position in the embeddings and at the last position after the last block.
"""

from __future__ import annotations

import random

from ._contract import Check, at_least, at_most, reported

REVIEWS = ("I love you, I like you",
           "The acting was wonderful, but the plot was boring.",
           "This movie was a complete waste of time.",
           "A warm and funny film with a great cast.")
"""Lesson 06's reviews (lessons/en/06_testing_explanations.py, ``REVIEWS``)."""
NEIGHBOUR_SENTENCE = "The cat sat on the mat"
PATCH_CLEAN, PATCH_CORRUPTED = "The capital of France is", "The capital of Japan is"


def _integrated_gradients(model, tokenizer, text: str, target: int) -> list[float]:
    import torch
    from captum.attr import LayerIntegratedGradients

    ids = tokenizer(text, return_tensors="pt")["input_ids"]
    special = torch.tensor(tokenizer.get_special_tokens_mask(
        ids[0].tolist(), already_has_special_tokens=True)).bool()
    baseline = torch.where(special, ids, tokenizer.pad_token_id)
    scores = LayerIntegratedGradients(
        lambda i: model(input_ids=i).logits.softmax(-1), model.get_input_embeddings()
    ).attribute(ids, baselines=baseline, target=target, n_steps=32)[0].sum(-1)
    return scores[~special].tolist()


def sentiment_deletion_checks(model, tokenizer) -> list[Check]:
    """IG's comprehensiveness over a random ranking's (mean of ten), on lesson 06's reviews."""
    from explainlab import evaluate

    rng = random.Random(0)
    ig, chance = [], []
    for text in REVIEWS:
        tokens, target, score = evaluate.classifier_scorer(model, tokenizer, text)
        order = evaluate.ranking(_integrated_gradients(model, tokenizer, text, target))
        ig.append(evaluate.faithfulness(evaluate.perturbation_curves(score, order)))
        chance += [evaluate.faithfulness(evaluate.perturbation_curves(
            score, rng.sample(range(len(tokens)), len(tokens)))) for _ in range(10)]

    def mean(rows, key):
        return sum(r[key] for r in rows) / len(rows)

    return [at_least("lesson 06: IG's comprehensiveness minus a random ranking's",
                     mean(ig, "comprehensiveness") - mean(chance, "comprehensiveness"), 0.15),
            at_least("lesson 06: a random ranking's sufficiency minus IG's",
                     mean(chance, "sufficiency") - mean(ig, "sufficiency"), 0.1)]


def previous_token_head_checks(model, tokenizer, layer: int, head: int) -> list[Check]:
    """Ablating the previous-token head against ablating the layer's other heads (mean)."""
    from explainlab.evaluate import neighbour_effect

    others = [h for h in range(model.config.num_attention_heads) if h != head]
    without = neighbour_effect(model, tokenizer, NEIGHBOUR_SENTENCE, layer, ablate=[head])
    control = sum(neighbour_effect(model, tokenizer, NEIGHBOUR_SENTENCE, layer, ablate=[h])
                  for h in others) / len(others)
    return [at_most(f"lesson 06: with layer {layer} head {head} off, a word's change when its "
                    "left neighbour is masked, over the mean with another head off",
                    without / control, 0.8)]


def patching_checks(model, tokenizer) -> list[Check]:
    """logit(' Paris') - logit(' Tokyo') with one cell patched from "France" into "Japan"."""
    from explainlab import evaluate

    paris, tokyo = (tokenizer(w)["input_ids"][0] for w in (" Paris", " Tokyo"))
    frame = evaluate.patch_residual(model, tokenizer, PATCH_CLEAN, PATCH_CORRUPTED,
                                    lambda logits: logits[:, paris] - logits[:, tokyo])
    country = list(frame.columns).index("Japan")
    return [
        at_least("lesson 06: unpatched France, logit(' Paris') - logit(' Tokyo')",
                 frame.attrs["clean"], 2.0),
        at_most("lesson 06: unpatched Japan, logit(' Paris') - logit(' Tokyo')",
                frame.attrs["corrupted"], -2.0),
        at_least("lesson 06: patched at the country in the embeddings",
                 float(frame.iloc[0, country]), 2.0),
        at_least("lesson 06: patched at the last position after the last block",
                 float(frame.iloc[-1, -1]), 2.0),
        reported("lesson 06: first row where patching the last position flips the answer "
                 "(0: the embeddings, k: block k - 1)",
                 next((i for i in range(len(frame)) if frame.iloc[i, -1] > 0), -1)),
    ]
