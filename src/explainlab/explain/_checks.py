"""Checks shared by the explainers: inputs, labels, attribution types, images.

Each check raises an error from ``explainlab.errors`` whose message says what to do.
Introduced in lesson 03_classification_explainers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..errors import (
    AttributionTypeNotSupportedError,
    EmptyInputError,
    LabelIndexError,
    NoEntailmentLabelError,
    UnknownLabelError,
)


def text(value, *, what: str = "text") -> str:
    """``value`` if it is a non-empty string; ``EmptyInputError`` or ``TypeError`` otherwise."""
    if not isinstance(value, str):
        raise TypeError(f"The {what} must be a string, not {type(value).__name__}.")
    if not value.strip():
        raise EmptyInputError(f"The {what} is empty: there is nothing to explain. "
                              f"Pass a {what} with at least one word.")
    return value


def attribution_type(value: str, supported: Sequence[str]) -> str:
    if value not in supported:
        raise AttributionTypeNotSupportedError(
            f"Attribution type {value!r} is not supported; use one of: {', '.join(supported)}.")
    return value


def labels_from(model, custom_labels: Sequence[str] | None = None
                ) -> tuple[dict[int, str], dict[str, int]]:
    """``id2label`` and ``label2id``: the model's, or ``custom_labels`` in output order."""
    if custom_labels is None:
        id2label = {int(i): str(n) for i, n in model.config.id2label.items()}
    else:
        count = model.config.num_labels
        if len(custom_labels) != count:
            raise ValueError(f"custom_labels has {len(custom_labels)} names; the model has "
                             f"{count} outputs. Give one name per output, in order.")
        id2label = dict(enumerate(str(n) for n in custom_labels))
    return id2label, {name: index for index, name in id2label.items()}


def target_index(*, index: int | None, class_name: str | None, label2id: Mapping[str, int],
                 n_outputs: int, predicted: int) -> int:
    """The output to explain: ``index``, else ``class_name``, else the predicted one."""
    if index is not None:
        index = int(index)
        if not 0 <= index < n_outputs:
            raise LabelIndexError(f"index={index} is out of range: the model has {n_outputs} "
                                  f"output{'s' if n_outputs != 1 else ''} (0 to {n_outputs - 1}).")
        return index
    if class_name is not None:
        if class_name not in label2id:
            raise UnknownLabelError(
                f"Unknown class_name {class_name!r}. The model's labels: "
                f"{', '.join(repr(k) for k in sorted(label2id, key=label2id.get))}.")
        return int(label2id[class_name])
    return int(predicted)


def entailment_label(label2id: Mapping[str, int]) -> str:
    """The NLI label meaning 'entailment', whatever its case; a clear error without one."""
    for name in label2id:
        if name.lower() == "entailment":
            return name
    raise NoEntailmentLabelError(
        "Zero-shot classification needs an NLI model with an 'entailment' label "
        f"(model.config.id2label); this model's labels are {', '.join(map(repr, label2id))}. "
        "Load an NLI model (e.g. the role 'nli'), or set id2label if the labels are only "
        "misnamed.")


def label_list(labels) -> list[str]:
    """Zero-shot candidate labels: a list of non-empty strings (a single string is one label)."""
    if isinstance(labels, str):
        labels = [labels]
    labels = list(labels or [])
    if not labels:
        raise EmptyInputError("No labels: give zero-shot classification at least one label, "
                              "e.g. labels=['finance', 'sport'].")
    labels = [text(label, what="label") for label in labels]
    repeated = sorted({label for label in labels if labels.count(label) > 1})
    if repeated:
        raise ValueError(f"Labels given more than once: {', '.join(map(repr, repeated))}.")
    return labels


def hypothesis_template(template: str) -> str:
    if not isinstance(template, str) or template.count("{}") != 1:
        raise ValueError(f"hypothesis_template={template!r} must contain '{{}}' exactly once, "
                         "where the label goes, e.g. 'this text is about {} .'.")
    return template


def rgb_image(image):
    """A PIL image in RGB mode: transparency is laid over white, grey levels become grey RGB.

    Accepts a ``PIL.Image.Image`` or a NumPy array (H x W, H x W x 1/3/4; uint8, or floats
    in [0, 1]).
    """
    import numpy as np
    from PIL import Image

    if isinstance(image, np.ndarray):
        array = image
        if array.dtype != np.uint8:
            array = (np.clip(array, 0, 1) * 255).round().astype(np.uint8)
        if array.ndim == 3 and array.shape[-1] == 1:
            array = array[..., 0]
        if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
            raise ValueError(f"An image array must be H x W or H x W x 3/4; got {image.shape}.")
        image = Image.fromarray(array)
    if not isinstance(image, Image.Image):
        raise TypeError(f"Expected a PIL image or a NumPy array, not {type(image).__name__}.")
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")
