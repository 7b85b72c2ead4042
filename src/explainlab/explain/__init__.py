"""Classification explainers on Captum, with transformers-interpret's API.

Seven explainers (``list_explainers()`` names them): sequence, pairwise, multi-label,
zero-shot, question answering, token and image classification. They use
transformers-interpret's method (layer integrated gradients on the word embeddings from a
``[CLS] + [PAD]*n + [SEP]`` baseline, summed over the hidden dimension, unit L2 norm) and
its calls, and they work on transformers 5, need no IPython for their HTML, export tables
(``to_dataframe``) and JSON (``to_json``), and compute labels that share an input in one
pass along the integration path. Unless ``internal_batch_size`` is given, each pass takes
as many rows as fit in ``ACTIVATION_BUDGET`` (1 GiB of activations). Introduced in
lesson 03_classification_explainers.
"""

from ._attribution import ACTIVATION_BUDGET
from ._base import get_explainer, list_explainers
from .image_classification import ImageClassificationExplainer
from .multilabel_classification import MultiLabelClassificationExplainer
from .pairwise_classification import PairwiseSequenceClassificationExplainer
from .question_answering import QuestionAnsweringExplainer
from .sequence_classification import SequenceClassificationExplainer
from .token_classification import TokenClassificationExplainer
from .zero_shot_classification import ZeroShotClassificationExplainer

__all__ = [
    "ACTIVATION_BUDGET",
    "ImageClassificationExplainer",
    "MultiLabelClassificationExplainer",
    "PairwiseSequenceClassificationExplainer",
    "QuestionAnsweringExplainer",
    "SequenceClassificationExplainer",
    "TokenClassificationExplainer",
    "ZeroShotClassificationExplainer",
    "get_explainer",
    "list_explainers",
]
