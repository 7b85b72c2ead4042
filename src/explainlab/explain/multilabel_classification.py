"""``MultiLabelClassificationExplainer``: one attribution per label, all labels at once.

Introduced in lesson 03_classification_explainers.
"""

from __future__ import annotations

import torch

from . import _checks
from ._attribution import spaced_punctuation, unit_norm
from ._base import Explained, register
from .sequence_classification import SequenceClassificationExplainer


@register
class MultiLabelClassificationExplainer(SequenceClassificationExplainer):
    """Explain every label of a sequence classifier independently (sigmoid per label).

    All labels share the input, so the interpolation path goes through the model once and
    each label costs one backward pass (``batch_labels=True``, the default);
    ``batch_labels=False`` runs Captum once per label, as transformers-interpret does, and
    gives the same numbers. Introduced in lesson 03_classification_explainers.
    """

    explainer_name = "multilabel_classification"

    def __call__(self, text: str, *, embedding_type: int = 0,
                 internal_batch_size: int | None = None, n_steps: int | None = None,
                 batch_labels: bool = True, return_convergence_delta: bool = False):
        """Attributions of ``text``'s tokens towards every label.

        Returns:
            ``{label: [(token, attribution), ...]}`` in the model's label order; with
            ``return_convergence_delta=True``, also ``{label: delta}``.
        """
        text = _checks.text(text)
        self._settings(n_steps, internal_batch_size)
        encoded = self._encode([spaced_punctuation(text)])
        logits = self._outputs(encoded).logits[0]
        self._single_node_output = False
        self._probs = torch.sigmoid(logits)
        self._predicted = int(logits.argmax())
        self.labels = [self.id2label.get(i, str(i)) for i in range(logits.shape[-1])]
        targets = list(range(len(self.labels)))
        result = self._attribute(encoded, lambda output: torch.sigmoid(output.logits), targets,
                                 embedding_type=embedding_type, shared=True,
                                 batched=batch_labels)
        self.input_ids = encoded.input_ids
        tokens = self._tokens(encoded)
        self.pred_probs = [float(p) for p in self._probs]
        self.label_probs_dict = dict(zip(self.labels, self.pred_probs, strict=True))
        self.selected_index = None
        self._explained = [
            Explained(label, tokens, unit_norm(result.per_token[i]), float(result.delta[i]),
                      self.pred_probs[i], f"{self.pred_probs[i]:.4f}")
            for i, label in enumerate(self.labels)]
        return self._result(return_convergence_delta)

    @property
    def word_attributions(self) -> dict[str, list[tuple[str, float]]]:
        """``{label: [(token, attribution), ...]}`` of the last call."""
        return {e.target: e.pairs for e in self._require()}

    def _per_target(self, mapping: dict):
        return mapping

    def _summary(self) -> dict:
        return {"predicted_class_name": self.predicted_class_name,
                "label_probabilities": self.label_probs_dict}
