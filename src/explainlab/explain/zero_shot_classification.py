"""``ZeroShotClassificationExplainer``: explain an NLI model used as a zero-shot classifier.

Introduced in lesson 03_classification_explainers.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from . import _checks
from ._attribution import Attributions, spaced_punctuation, unit_norm
from ._base import Explained, TextExplainer, register


@register
class ZeroShotClassificationExplainer(TextExplainer):
    """Each candidate label becomes a hypothesis (``"this text is about {} ."``); the NLI
    model reads (text, hypothesis) and the attributions explain its ``entailment``
    probability.

    All hypotheses go through the model as one padded batch (``batch_labels=True``);
    ``batch_labels=False`` runs one Captum call per label and gives the same numbers.
    ``predicted_label`` is the label with the highest entailment score; ``pred_probs`` are
    the entailment logits' softmax over the labels. Introduced in lesson
    03_classification_explainers.

    Raises:
        NoEntailmentLabelError: the model has no ``entailment`` label (not an NLI model).
    """

    explainer_name = "zero_shot_classification"

    def __init__(self, model, tokenizer, *, attribution_type: str = "lig"):
        super().__init__(model, tokenizer, attribution_type=attribution_type)
        self.id2label, self.label2id = _checks.labels_from(model)
        self.entailment_key = _checks.entailment_label(self.label2id)
        self.entailment_idx = self.label2id[self.entailment_key]
        self.include_hypothesis = False
        self.labels: list[str] = []
        self.hypothesis_labels: list[str] = []
        self.pred_probs: list[float] = []
        self.predicted_label: str | None = None

    def __call__(self, text: str, labels: Sequence[str], *, embedding_type: int = 0,
                 hypothesis_template: str = "this text is about {} .",
                 include_hypothesis: bool = False, internal_batch_size: int | None = None,
                 n_steps: int | None = None, batch_labels: bool = True,
                 return_convergence_delta: bool = False):
        """Attributions of ``text``'s tokens towards the entailment of each label.

        Returns:
            ``{label: [(token, attribution), ...]}``; the tokens are ``[CLS]`` and the
            text's (plus the separator and hypothesis with ``include_hypothesis=True``).
        """
        text = spaced_punctuation(_checks.text(text))
        self.labels = _checks.label_list(labels)
        template = _checks.hypothesis_template(hypothesis_template)
        self._settings(n_steps, internal_batch_size)
        self.include_hypothesis = include_hypothesis
        self.hypothesis_labels = [template.format(label) for label in self.labels]
        encoded = self._encode([text] * len(self.labels), self.hypothesis_labels,
                               truncation="only_first", what="text")
        entailment = self._outputs(encoded).logits[:, self.entailment_idx]
        self.pred_probs = [float(p) for p in torch.softmax(entailment, -1)]
        self.label_probs_dict = dict(zip(self.labels, self.pred_probs, strict=True))
        self.predicted_label = self.labels[int(entailment.argmax())]

        def scores(output):
            return torch.softmax(output.logits, -1)

        targets = [self.entailment_idx] * len(self.labels)
        if batch_labels:
            result = self._attribute(encoded, scores, targets, embedding_type=embedding_type,
                                     shared=False)
            rows = [result.per_token[i, encoded.attention_mask[i].bool()]
                    for i in range(len(encoded))]
            deltas = result.delta
        else:
            runs = [self._attribute(encoded.row(i), scores, [self.entailment_idx],
                                    embedding_type=embedding_type, shared=False, batched=False)
                    for i in range(len(encoded))]
            rows = [run.per_token[0] for run in runs]
            deltas = torch.cat([run.delta for run in runs])
        self._store(encoded, Attributions(rows, deltas))
        self.input_ids = encoded.row(self.labels.index(self.predicted_label)).input_ids
        if return_convergence_delta:
            return self.word_attributions, self.convergence_delta
        return self.word_attributions

    def _store(self, encoded, result: Attributions) -> None:
        explained = []
        for i, label in enumerate(self.labels):
            tokens = self._tokens(encoded, i)
            end = len(tokens) if self.include_hypothesis else encoded.first_separator(i)
            explained.append(Explained(
                label, tokens[:end], unit_norm(result.per_token[i][:end]),
                float(result.delta[i]), self.pred_probs[i],
                f"{self.predicted_label} ({max(self.pred_probs):.4f})"))
        self._explained = explained

    @property
    def word_attributions(self) -> dict[str, list[tuple[str, float]]]:
        """``{label: [(token, attribution), ...]}`` of the last call."""
        return {e.target: e.pairs for e in self._require()}

    def _summary(self) -> dict:
        return {"predicted_label": self.predicted_label,
                "hypotheses": self.hypothesis_labels, "label_probabilities": self.label_probs_dict}
