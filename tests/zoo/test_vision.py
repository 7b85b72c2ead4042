"""The ``vit`` offline twin: a ViT that names coloured shapes, and looks at the shape to do it.

What the twin does (lesson 03's picture, held-out pictures at three sizes, integrated
gradients on the object) is its contract (``ViTTwin.contract``), re-measured by
``test_contract.py::test_contract_holds[vit]``; here: its classes, labels and pictures."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from PIL import Image

from explainlab.zoo import vision

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


def test_make_image_is_documented_and_deterministic():
    image = vision.make_image("circle", "red", seed=0)
    assert isinstance(image, Image.Image) and image.size == (224, 224) and image.mode == "RGB"
    again = vision.make_image("circle", "red", seed=0)
    assert np.array_equal(np.asarray(image), np.asarray(again))
    other = vision.make_image("circle", "red", seed=1)
    assert not np.array_equal(np.asarray(image), np.asarray(other))
    small, mask = vision.make_image_and_mask("square", "blue", size=48, seed=3)
    assert small.size == (48, 48) and mask.shape == (48, 48) and mask.dtype == bool
    pixels = np.asarray(small).astype(int)
    inside = pixels[mask].mean(0)  # the object is blue: much more blue than red
    assert inside[2] > inside[0] + 80
    with pytest.raises(ValueError, match="circle, square, triangle, cross"):
        vision.make_image("hexagon", "red")
    assert vision.make_image.__doc__ and "lesson 03" in vision.make_image.__doc__
