"""``PairwiseSequenceClassificationExplainer``: attributions over two texts read together.

Introduced in lesson 03_classification_explainers.
"""

from __future__ import annotations

from . import _checks
from ._base import register
from .sequence_classification import SequenceClassificationExplainer


@register
class PairwiseSequenceClassificationExplainer(SequenceClassificationExplainer):
    """Explain a model that reads a pair of texts (cross-encoders, NLI models).

    The pair is tokenised as the model expects it (``tokenizer(text1, text2)``), and the
    baseline keeps the special tokens of both segments: ``[CLS] [PAD]*n [SEP] [PAD]*m [SEP]``.
    A single-output model's score is its sigmoid; ``flip_sign=True`` explains a score near
    0 instead (why the texts do *not* match). Introduced in lesson 03_classification_explainers.
    """

    explainer_name = "pairwise_sequence_classification"

    def __call__(self, text1: str, text2: str, *, index: int | None = None,
                 class_name: str | None = None, embedding_type: int = 0,
                 internal_batch_size: int | None = None, n_steps: int | None = None,
                 flip_sign: bool = False, return_convergence_delta: bool = False):
        """Attributions of both texts' tokens towards the model's score for the pair.

        Returns:
            ``[(token, attribution), ...]`` over ``[CLS] text1 [SEP] text2 [SEP]``; with
            ``return_convergence_delta=True``, also the convergence delta.
        """
        text1 = _checks.text(text1, what="first text")
        text2 = _checks.text(text2, what="second text")
        self._settings(n_steps, internal_batch_size)
        encoded = self._encode([text1], [text2], truncation="longest_first", what="text pair")
        self._explain(encoded, index=index, class_name=class_name,
                      embedding_type=embedding_type, flip_sign=flip_sign)
        return self._result(return_convergence_delta)
