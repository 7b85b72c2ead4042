"""``QuestionAnsweringExplainer``: which tokens decide where the answer starts and ends.

Introduced in lesson 03_classification_explainers.
"""

from __future__ import annotations

import torch

from . import _checks
from ._attribution import unit_norm
from ._base import Explained, TextExplainer, register


@register
class QuestionAnsweringExplainer(TextExplainer):
    """Explain an extractive ``*ForQuestionAnswering`` model on (question, context).

    Two targets, as in transformers-interpret: the highest start logit and the highest end
    logit. Both share the input, so the path goes through the model once (one backward
    pass each). ``embedding_type`` defaults to 2 (the whole embedding layer: words,
    positions and segments), transformers-interpret's default for this explainer; 0 gives
    the word embeddings only. A context longer than the model accepts is truncated, never
    the question. Introduced in lesson 03_classification_explainers.
    """

    explainer_name = "question_answering"

    def __call__(self, question: str, text: str, *, embedding_type: int = 2,
                 internal_batch_size: int | None = None, n_steps: int | None = None,
                 batch_labels: bool = True, return_convergence_delta: bool = False):
        """Attributions towards the answer's start and end.

        Returns:
            ``{"start": [(token, attribution), ...], "end": [...]}``.
        """
        question = _checks.text(question, what="question")
        text = _checks.text(text, what="context")
        self._settings(n_steps, internal_batch_size)
        encoded = self._encode([question], [text], truncation="only_second", what="context")
        output = self._outputs(encoded)
        start_logits, end_logits = output.start_logits[0], output.end_logits[0]
        self.start_pos, self.end_pos = int(start_logits.argmax()), int(end_logits.argmax())
        self._scores_at = (float(start_logits.max()), float(end_logits.max()))
        result = self._attribute(encoded, _max_logits, [0, 1], embedding_type=embedding_type,
                                 shared=True, batched=batch_labels)
        self.input_ids = encoded.input_ids
        tokens = self._tokens(encoded)
        self._explained = [
            Explained(name, tokens, unit_norm(result.per_token[i]), float(result.delta[i]),
                      self._scores_at[i], f"{tokens[pos]} ({pos}): {self.predicted_answer!r}")
            for i, (name, pos) in enumerate((("start", self.start_pos), ("end", self.end_pos)))]
        if return_convergence_delta:
            return self.word_attributions, self.convergence_delta
        return self.word_attributions

    @property
    def predicted_answer(self) -> str:
        """The answer span (from the predicted start to the predicted end), as text."""
        if self.input_ids is None:
            self._require()
        if self.end_pos < self.start_pos:
            return ""
        ids = self.input_ids[0, self.start_pos : self.end_pos + 1].tolist()
        return self.tokenizer.decode(ids, skip_special_tokens=True).strip()

    @property
    def word_attributions(self) -> dict[str, list[tuple[str, float]]]:
        """``{"start": [(token, attribution), ...], "end": [...]}`` of the last call."""
        return {e.target: e.pairs for e in self._require()}

    def _summary(self) -> dict:
        return {"predicted_answer": self.predicted_answer, "start_pos": self.start_pos,
                "end_pos": self.end_pos}


def _max_logits(output) -> torch.Tensor:
    """(batch, 2): the highest start logit and the highest end logit."""
    return torch.stack([output.start_logits.max(-1).values, output.end_logits.max(-1).values],
                       dim=-1)
