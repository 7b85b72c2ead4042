"""The ``vit`` offline twin: a ViT that names coloured shapes, and looks at the shape to do it."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from explainlab.zoo import vision

from conftest import twin

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def vit():
    from transformers import AutoImageProcessor, AutoModelForImageClassification

    folder = twin("vit")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = AutoModelForImageClassification.from_pretrained(folder).eval()
        processor = AutoImageProcessor.from_pretrained(folder)
    return folder, model, processor


def _predict(model, processor, images) -> list[str]:
    with torch.no_grad():
        logits = model(**processor(images=images, return_tensors="pt")).logits
    return [model.config.id2label[i] for i in logits.argmax(-1).tolist()]


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


def test_lesson_images(vit):
    _, model, processor = vit
    # The example image a lesson would draw: make_image(shape, colour) at 224 x 224.
    names = [f"{c} {s}" for c in vision.COLOURS for s in vision.SHAPES]
    images = [vision.make_image(name.split()[1], name.split()[0], seed=0) for name in names]
    predicted = _predict(model, processor, images)
    assert sum(p == n for p, n in zip(predicted, names, strict=True)) >= 15
    assert _predict(model, processor, [vision.make_image("circle", "red", seed=0)]) == [
        "red circle"]


@pytest.mark.parametrize("size", [32, 64, 224])
def test_held_out_pictures(vit, size):
    """New random pictures (seeds never used in training), drawn at 32, 64 and 224 pixels."""
    _, model, processor = vit
    names, images = [], []
    for seed in range(100, 106):
        for name in vision.LABELS:
            colour, shape = name.split()
            names.append(name)
            images.append(vision.make_image(shape, colour, size=size, seed=seed))
    predicted = _predict(model, processor, images)
    pairs = list(zip(predicted, names, strict=True))
    accuracy = np.mean([p == n for p, n in pairs])
    colour_accuracy = np.mean([p.split()[0] == n.split()[0] for p, n in pairs])
    assert accuracy >= 0.85, accuracy
    assert colour_accuracy >= 0.98, colour_accuracy


def test_attribution_falls_on_the_object(vit):
    """Integrated gradients on pixel_values put most of their mass on the object's pixels."""
    from captum.attr import IntegratedGradients

    _, model, processor = vit
    images, masks, targets = [], [], []
    for seed, name in enumerate(vision.LABELS * 2):
        colour, shape = name.split()
        image, mask = vision.make_image_and_mask(shape, colour, size=32, seed=500 + seed)
        images.append(image)
        masks.append(mask)
        targets.append(vision.LABELS.index(name))
    pixel_values = processor(images=images, return_tensors="pt")["pixel_values"]
    ig = IntegratedGradients(lambda pv: model(pixel_values=pv).logits)
    attributions = ig.attribute(pixel_values, target=torch.tensor(targets), n_steps=32)
    heat = attributions.abs().sum(1)
    mask = torch.tensor(np.stack(masks))
    inside = ((heat * mask).sum((1, 2)) / heat.sum((1, 2))).mean().item()
    area = mask.float().mean().item()
    assert inside > 0.4 and inside > 2 * area, (inside, area)
    positive = attributions.sum(1).clamp(min=0)
    positive_inside = ((positive * mask).sum((1, 2)) / positive.sum((1, 2))).mean().item()
    assert positive_inside > 0.6, positive_inside
    # The single most attributed pixel lies on the object in most pictures.
    top = heat.flatten(1).argmax(1)
    on_object = mask.flatten(1)[torch.arange(len(top)), top].float().mean().item()
    assert on_object >= 0.75, on_object
