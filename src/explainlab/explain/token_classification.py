"""``TokenClassificationExplainer``: for each tagged token (NER), which tokens decided its tag.

Introduced in lesson 03_classification_explainers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import torch

from . import _checks
from ._attribution import spaced_punctuation, unit_norm
from ._base import Explained, TextExplainer, register


@register
class TokenClassificationExplainer(TextExplainer):
    """Explain a ``*ForTokenClassification`` model: one attribution per token position,
    towards the probability of the label predicted there.

    All positions share the input, so the path goes through the model once and each
    position costs one backward pass. ``ignored_labels=["O"]`` skips tokens tagged ``O``;
    ``ignored_indexes`` skips positions. Introduced in lesson 03_classification_explainers.
    """

    explainer_name = "token_classification"

    def __init__(self, model, tokenizer, *, attribution_type: str = "lig"):
        super().__init__(model, tokenizer, attribution_type=attribution_type)
        self.id2label, self.label2id = _checks.labels_from(model)
        self.ignored_indexes: list[int] | None = None
        self.ignored_labels: list[str] | None = None
        self._predicted: list[int] = []

    def __call__(self, text: str, *, embedding_type: int = 0,
                 internal_batch_size: int | None = None, n_steps: int | None = None,
                 ignored_indexes: Sequence[int] | None = None,
                 ignored_labels: Sequence[str] | None = None, batch_labels: bool = True,
                 return_convergence_delta: bool = False):
        """Attributions for every token position that is not ignored.

        Returns:
            ``{token: {"label": predicted label, "attribution_scores": [(token, value),
            ...]}}``. A token that occurs more than once among the explained positions is
            keyed ``"token (position)"`` for each occurrence, so that none is lost.
        """
        text = _checks.text(text)
        self._settings(n_steps, internal_batch_size)
        if ignored_labels is not None:
            unknown = sorted(set(ignored_labels) - set(self.label2id))
            if unknown:
                _checks.target_index(index=None, class_name=unknown[0], label2id=self.label2id,
                                     n_outputs=len(self.id2label), predicted=0)
        self.ignored_indexes = list(ignored_indexes) if ignored_indexes is not None else None
        self.ignored_labels = list(ignored_labels) if ignored_labels is not None else None
        encoded = self._encode([spaced_punctuation(text)])
        probs = torch.softmax(self._outputs(encoded).logits[0], -1)
        self._predicted = [int(i) for i in probs.argmax(-1)]
        self.pred_probs = probs
        self.input_ids = encoded.input_ids
        positions = self._selected_indexes
        classes = [self._predicted[p] for p in positions]
        tokens = self._tokens(encoded)
        explained = []
        if positions:
            index = torch.tensor(positions, device=self.device)
            label = torch.tensor(classes, device=self.device)

            def scores(output):
                return torch.softmax(output.logits, -1)[:, index, label]

            result = self._attribute(encoded, scores, list(range(len(positions))),
                                     embedding_type=embedding_type, shared=True,
                                     batched=batch_labels)
            counts = Counter(tokens[p] for p in positions)
            for j, (p, c) in enumerate(zip(positions, classes, strict=True)):
                key = tokens[p] if counts[tokens[p]] == 1 else f"{tokens[p]} ({p})"
                name = self.id2label.get(c, str(c))
                explained.append(Explained(key, tokens, unit_norm(result.per_token[j]),
                                           float(result.delta[j]), float(probs[p, c]), name,
                                           position=p))
        self._explained = explained
        if return_convergence_delta:
            return self.word_attributions, self.convergence_delta
        return self.word_attributions

    @property
    def _selected_indexes(self) -> list[int]:
        """Positions to explain: all, minus ``ignored_indexes``, minus ignored labels."""
        selected = set(range(len(self._predicted)))
        if self.ignored_indexes is not None:
            selected -= {i % len(self._predicted) for i in self.ignored_indexes}
        if self.ignored_labels is not None:
            selected -= {i for i, c in enumerate(self._predicted)
                         if self.id2label.get(c) in self.ignored_labels}
        return sorted(selected)

    @property
    def predicted_class_indexes(self) -> list[int]:
        """The predicted label index at every token position of the last text."""
        self._require()
        return list(self._predicted)

    @property
    def predicted_class_names(self) -> list[str]:
        """The predicted label at every token position of the last text."""
        return [self.id2label.get(i, str(i)) for i in self.predicted_class_indexes]

    @property
    def word_attributions(self) -> dict[str, dict]:
        """``{token: {"label": ..., "attribution_scores": [(token, value), ...]}}``."""
        return {e.target: {"label": e.prediction, "attribution_scores": e.pairs}
                for e in self._require()}

    def _summary(self) -> dict:
        tokens = self._tokens_last()
        return {"tokens": tokens, "predicted_class_names": self.predicted_class_names}

    def _tokens_last(self) -> list[str]:
        from ._attribution import display_tokens

        return display_tokens(self.tokenizer, self.input_ids[0].tolist())
