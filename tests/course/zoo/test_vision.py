"""The ``vit`` offline twin: a ViT that names coloured shapes, and looks at the shape to do it.

What the twin does (lesson 03's picture, held-out pictures at three sizes, integrated
gradients on the object) is its contract (``ViTTwin.contract``), re-measured by
``test_contract.py::test_contract_holds[vit]``; here: its classes and labels (its pictures:
tests/test_images.py)."""

from __future__ import annotations

import json
import warnings

import pytest

from explainlab_course.zoo import vision

from conftest import twin


@pytest.fixture(scope="module")
def vit():
    from transformers import AutoImageProcessor, AutoModelForImageClassification

    folder = twin("vit")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = AutoModelForImageClassification.from_pretrained(folder).eval()
        processor = AutoImageProcessor.from_pretrained(folder)
    return folder, model, processor


@pytest.mark.slow
def test_classes_and_labels(vit):
    folder, model, processor = vit
    assert type(model).__name__ == "ViTForImageClassification"
    # ViTImageProcessor; transformers picks its PIL backend when torchvision is missing.
    assert type(processor).__name__ in ("ViTImageProcessor", "ViTImageProcessorPil")
    config = json.loads((folder / "config.json").read_text())
    assert config["architectures"] == ["ViTForImageClassification"]
    assert model.config.id2label == dict(enumerate(vision.LABELS))
    assert model.config.id2label[0] == "red circle" and len(vision.LABELS) == 16
    assert model.config.label2id == {name: i for i, name in enumerate(vision.LABELS)}
    assert (model.config.image_size, model.config.patch_size) == (32, 8)
