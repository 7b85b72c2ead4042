"""``SequenceClassificationExplainer``: which tokens push a text towards a class.

Introduced in lesson 03_classification_explainers.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from . import _checks
from ._attribution import Encoded, spaced_punctuation, unit_norm
from ._base import Explained, TextExplainer, register


@register
class SequenceClassificationExplainer(TextExplainer):
    """Explain a ``*ForSequenceClassification`` model's output for one text.

    Layer integrated gradients on the word embeddings from a ``[CLS] + [PAD]*n + [SEP]``
    baseline, summed over the hidden dimension and scaled to unit L2 norm: the method of
    transformers-interpret, with the same call. Introduced in lesson
    03_classification_explainers.

    Args:
        model: a sequence classification model (DistilBERT, BERT, RoBERTa, DeBERTa, ...).
        tokenizer: its tokenizer.
        attribution_type: ``"lig"`` (layer integrated gradients), the only one.
        custom_labels: names for the model's outputs, in order, instead of ``id2label``.
    """

    explainer_name = "sequence_classification"

    def __init__(self, model, tokenizer, *, attribution_type: str = "lig",
                 custom_labels: Sequence[str] | None = None):
        super().__init__(model, tokenizer, attribution_type=attribution_type)
        self.custom_labels = custom_labels
        self.id2label, self.label2id = _checks.labels_from(model, custom_labels)
        self.selected_index: int | None = None
        self.pred_probs: float | None = None
        self._probs: torch.Tensor | None = None
        self._single_node_output = False

    def __call__(self, text: str, *, index: int | None = None, class_name: str | None = None,
                 embedding_type: int = 0, internal_batch_size: int | None = None,
                 n_steps: int | None = None, return_convergence_delta: bool = False):
        """Attributions of ``text``'s tokens towards ``index``/``class_name`` (default: the
        predicted class).

        Returns:
            ``[(token, attribution), ...]`` including the special tokens; with
            ``return_convergence_delta=True``, also the convergence delta.
        """
        text = _checks.text(text)
        self._settings(n_steps, internal_batch_size)
        encoded = self._encode([spaced_punctuation(text)])
        self._explain(encoded, index=index, class_name=class_name,
                      embedding_type=embedding_type, flip_sign=False)
        return self._result(return_convergence_delta)

    def _result(self, return_convergence_delta: bool):
        if return_convergence_delta:
            return self.word_attributions, self.convergence_delta
        return self.word_attributions

    def _explain(self, encoded: Encoded, *, index, class_name, embedding_type: int,
                 flip_sign: bool) -> None:
        logits = self._outputs(encoded).logits[0]
        self._single_node_output = logits.shape[-1] == 1
        if self._single_node_output:
            self._probs = torch.sigmoid(logits)
            predicted = 0
        else:
            self._probs = torch.softmax(logits, -1)
            predicted = int(self._probs.argmax())
        self._predicted = predicted
        self.selected_index = _checks.target_index(
            index=index, class_name=class_name, label2id=self.label2id,
            n_outputs=logits.shape[-1], predicted=predicted)
        result = self._attribute(encoded, self._scores, [self.selected_index],
                                 embedding_type=embedding_type, shared=False)
        self.input_ids = encoded.input_ids
        self.pred_probs = float(self._probs[self.selected_index])
        self._explained = [Explained(
            self.id2label.get(self.selected_index, str(self.selected_index)),
            self._tokens(encoded), unit_norm(result.per_token[0], flip_sign=flip_sign),
            float(result.delta[0]), self.pred_probs, self._prediction_text())]

    def _scores(self, output) -> torch.Tensor:
        if self._single_node_output:
            return torch.sigmoid(output.logits)
        return torch.softmax(output.logits, -1)

    def _prediction_text(self) -> str:
        if self._single_node_output:
            return f"score {float(self._probs[0]):.4f}"
        name = self.id2label.get(self._predicted, str(self._predicted))
        return f"{name} ({float(self._probs[self._predicted]):.4f})"

    @property
    def predicted_class_index(self) -> int:
        """The class the model predicts for the last text (0 for a single-output model)."""
        self._require()
        return self._predicted

    @property
    def predicted_class_name(self) -> str:
        """The label of ``predicted_class_index``."""
        return self.id2label.get(self.predicted_class_index, str(self.predicted_class_index))

    @property
    def word_attributions(self) -> list[tuple[str, float]]:
        """``[(token, attribution), ...]`` of the last call."""
        return self._require()[0].pairs

    def _per_target(self, mapping: dict):
        return next(iter(mapping.values()))

    def _summary(self) -> dict:
        return {"predicted_class_index": self.predicted_class_index,
                "predicted_class_name": self.predicted_class_name,
                "attributed_class": self._explained[0].target, "probability": self.pred_probs}
