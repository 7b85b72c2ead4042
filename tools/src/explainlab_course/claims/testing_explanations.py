"""Claims of lesson 06_testing_explanations, on the offline profile: the faithfulness tables
(six methods and a random ranking on the classifier, five and a random one on the
translator) with every method above the random floor where the twins' contracts say so, AER
and the image scores in range, the head ablation, attention against occlusion, activation
patching that flips the answer, both sanity checks (weights and labels) and Captum's infidelity
and sensitivity; every plot drawn."""

from __future__ import annotations

import math
import re

from . import both_languages_print_the_same, cell_by_tag, claim, expect, paired_claim, tagged_text

SLUG = "06_testing_explanations"
METRICS = ("comprehensiveness", "sufficiency", "AOPC", "deletion AUC", "insertion AUC")
_NUMBER = r"(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?|NaN|nan)"


def table(nb, tag: str, columns: int) -> dict[str, list[float]]:
    """The rows of a table printed with ``to_string()``: name -> its last ``columns`` numbers."""
    rows = {}
    numbers = r"\s+".join([_NUMBER] * columns)
    pattern = re.compile(r"^(\S.*?)\s+" + numbers + r"\s*$")
    for line in tagged_text(nb, tag, html=False).splitlines():
        found = pattern.match(line)
        if found:
            rows[found.group(1).strip()] = [float(v) for v in found.groups()[1:]]
    return rows


def series(nb, tag: str) -> dict[str, float]:
    """A printed Series: name -> value."""
    return {name: values[0] for name, values in table(nb, tag, 1).items()}


def _png(nb, tag: str) -> bool:
    return any("image/png" in o.get("data", {}) for o in cell_by_tag(nb, tag).outputs)


@claim(SLUG)
def classifier_methods_beat_random(nb):
    """The classifier's table has six methods and the random row, each with the five
    metrics; integrated gradients and occlusion are more comprehensive than random and less
    sufficient (lower sufficiency)."""
    rows = table(nb, "sst2-faithfulness", len(METRICS))
    text = tagged_text(nb, "sst2-faithfulness", html=False)
    names = {"saliency", "integrated gradients", "input × gradient", "attention",
             "attention rollout", "occlusion", "random"}
    expect(set(rows) == names, f"the rows {sorted(names)}", text)
    for method in ("integrated gradients", "occlusion"):
        expect(rows[method][0] > rows["random"][0] and rows[method][1] < rows["random"][1],
               f"{method}: comprehensiveness above random's, sufficiency below", text)
    expect(all(0 <= rows[m][3] <= 1 and 0 <= rows[m][4] <= 1 for m in rows),
           "both AUCs in [0, 1]", text)


@claim(SLUG)
def translator_methods_beat_random(nb):
    """The translator's table has Inseq's five methods and the random row; every method is
    more comprehensive than random, with a larger insertion AUC."""
    rows = table(nb, "mt-faithfulness", len(METRICS))
    text = tagged_text(nb, "mt-faithfulness", html=False)
    expect(set(rows) == {"saliency", "integrated_gradients", "input_x_gradient", "attention",
                         "occlusion", "random"}, "five methods and random", text)
    for method, values in rows.items():
        if method != "random":
            expect(values[0] > rows["random"][0] and values[4] > rows["random"][4],
                   f"{method} above random in comprehensiveness and insertion AUC", text)


@claim(SLUG)
def aer_sits_next_to_comprehensiveness(nb):
    """AER (in [0, 1]) and comprehensiveness side by side for the five methods, no random row."""
    rows = table(nb, "mt-aer", 2)
    text = tagged_text(nb, "mt-aer", html=False)
    expect(len(rows) == 5 and "random" not in rows
           and all(0 <= aer <= 1 for aer, _ in rows.values()),
           "five rows with an AER in [0, 1]", text)


@claim(SLUG)
def image_maps_are_scored_against_the_masks(nb):
    """Five image methods, each with a mass on the object in [0, 1] and a pointing-game score;
    integrated gradients puts more of its mass on the object than the object's share of the
    picture, and the maps are drawn."""
    text = tagged_text(nb, "vit-ground-truth", html=False)
    share = re.search(r"object share of the picture: ([\d.]+)", text)
    rows = table(nb, "vit-ground-truth", 2)
    expect(share and set(rows) == {"saliency", "integrated gradients", "input × gradient",
                                   "occlusion", "attention rollout"},
           "the object's share and five methods", text)
    expect(all(0 <= mass <= 1 and 0 <= hit <= 1 for mass, hit in rows.values()),
           "scores in [0, 1]", text)
    expect(rows["integrated gradients"][0] > float(share.group(1)),
           "integrated gradients above the object's share", text)
    expect(_png(nb, "vit-plot"), "a PNG from the cell tagged 'vit-plot'")


@claim(SLUG)
def randomisation_runs_to_the_embeddings(nb):
    """The sanity check randomises from the classifier down to the embeddings, one row per
    block, every correlation in [-1, 1], and names the surviving maps (or none)."""
    rows = table(nb, "sanity-randomize", 6)
    text = tagged_text(nb, "sanity-randomize", html=False)
    names = list(rows)
    expect(names[:2] == ["classifier", "pre-classifier"] and names[-1] == "embeddings"
           and all(n.startswith("layer ") for n in names[2:-1]) and len(names) >= 4,
           "rows classifier, pre-classifier, layer N..0, embeddings", text)
    expect(all(math.isnan(v) or -1 <= v <= 1 for row in rows.values() for v in row),
           "correlations in [-1, 1]", text)
    verdict = tagged_text(nb, "sanity-verdict", html=False)
    expect(re.search(r"^maps that survive a random model: (none|\[.*\])$", verdict, re.M),
           "'maps that survive a random model: ...'", verdict)
    expect(_png(nb, "sanity-verdict"), "a PNG from the cell tagged 'sanity-verdict'")


@claim(SLUG)
def the_previous_token_head_carries_the_neighbour(nb):
    """Lesson 04's previous-token head (mean weight at least 0.5) carries the left neighbour:
    switched off, a word's vector reacts to its neighbour being masked less than 0.8 times as
    much as with another head of the layer switched off (their mean)."""
    found = re.search(r"previous-token head: layer (\d+), head (\d+), mean weight ([\d.]+)",
                      tagged_text(nb, "head-ablation", html=False))
    expect(found and float(found.group(3)) >= 0.5, "a previous-token head, weight >= 0.5",
           tagged_text(nb, "head-ablation", html=False))
    effects = series(nb, "head-ablation-effect")
    text = tagged_text(nb, "head-ablation-effect", html=False)
    head_off = next((v for k, v in effects.items() if k.startswith("previous-token head")), None)
    expect(head_off is not None and len(effects) == 3
           and head_off < 0.8 * effects["another head off (mean)"],
           "with the previous-token head off, below 0.8 x the other heads' mean", text)


@claim(SLUG)
def attention_is_compared_with_occlusion(nb):
    """Raw attention, rollout, saliency and IG each get a rank correlation with occlusion."""
    values = series(nb, "rollout-vs-perturbation")
    expect(set(values) == {"attention", "attention rollout", "saliency", "integrated gradients"}
           and all(-1 <= v <= 1 for v in values.values()),
           "four correlations in [-1, 1]", tagged_text(nb, "rollout-vs-perturbation"))


@claim(SLUG)
def patching_flips_the_answer(nb):
    """Unpatched, France favours Paris and Japan Tokyo; patching the country's position in
    the embeddings, and the last position after the last block, turns Japan's answer to
    Paris; the map is drawn."""
    text = tagged_text(nb, "patching", html=False)
    found = re.search(r"unpatched: France (-?[\d.]+) \| Japan (-?[\d.]+)", text)
    expect(found and float(found.group(1)) > 0 > float(found.group(2)),
           "'unpatched: France <positive> | Japan <negative>'", text)
    expect(_png(nb, "patching-plot"), "a PNG from the cell tagged 'patching-plot'")
    html = tagged_text(nb, "patching")
    rows = dict(re.findall(r"<th>(embeddings|block \d+)</th>((?:\s*<td>[^<]*</td>)+)", html))
    cells = {name: [float(v) for v in re.findall(r"<td>([^<]*)</td>", row)]
             for name, row in rows.items()}
    blocks = sorted((n for n in cells if n.startswith("block")), key=lambda n: int(n[6:]))
    expect("embeddings" in cells and blocks and cells["embeddings"][3] > 0
           and cells[blocks[-1]][-1] > 0,
           "a positive cell at the country (embeddings) and at the last position (last block)",
           html)


@claim(SLUG)
def shuffled_labels_are_fitted_and_compared(nb):
    """Both fine-tuned copies fit every training label; each of the six methods gets two rank
    correlations in [-1, 1] (true labels, shuffled labels); the verdict names exactly the
    methods whose correlation after shuffled labels is above 0.5."""
    text = tagged_text(nb, "sanity-labels", html=False)
    fitted = re.search(r"training accuracy: true labels ([\d.]+) \| shuffled labels ([\d.]+)",
                       text)
    expect(fitted and float(fitted.group(1)) == 1.0 and float(fitted.group(2)) == 1.0,
           "'training accuracy: true labels 1.00 | shuffled labels 1.00'", text)
    rows = table(nb, "sanity-labels", 2)
    expect(set(rows) == {"saliency", "integrated gradients", "input × gradient", "attention",
                         "attention rollout", "occlusion"}
           and all(math.isnan(v) or -1 <= v <= 1 for row in rows.values() for v in row),
           "six methods with two correlations in [-1, 1]", text)
    verdict = re.search(r"^maps that barely notice shuffled labels: (none|\[.*\])$", text, re.M)
    named = [] if not verdict or verdict.group(1) == "none" else re.findall(r"'([^']+)'",
                                                                             verdict.group(1))
    expect(verdict and sorted(named) == sorted(m for m, (_, rho) in rows.items() if rho > 0.5),
           "the verdict naming the methods above 0.5 after shuffled labels", text)


@claim(SLUG)
def captum_scores_the_gradient_methods(nb):
    """Captum's infidelity and sensitivity, both finite and at least 0, for saliency,
    SmoothGrad, integrated gradients and input x gradient, and the line naming the lowest of
    each matches the table."""
    rows = table(nb, "captum-scores", 2)
    text = tagged_text(nb, "captum-scores", html=False)
    expect(set(rows) == {"saliency", "SmoothGrad", "integrated gradients", "input × gradient"}
           and all(math.isfinite(v) and v >= 0 for row in rows.values() for v in row),
           "four methods with a finite infidelity and sensitivity >= 0", text)
    lowest = re.search(r"lowest infidelity: (.+) \| lowest sensitivity: (.+)$", text, re.M)
    expect(lowest and lowest.group(1) == min(rows, key=lambda m: rows[m][0])
           and lowest.group(2) == min(rows, key=lambda m: rows[m][1]),
           "'lowest infidelity: X | lowest sensitivity: Y' matching the table", text)


paired_claim(SLUG)(both_languages_print_the_same)
