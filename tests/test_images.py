"""``explainlab.images``: lesson 03's pictures, and its image processor with or without
torchvision."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from explainlab import images
from explainlab.errors import MissingPackageError

from conftest import twin


def test_make_image_is_documented_and_deterministic():
    image = images.make_image("circle", "red", seed=0)
    assert isinstance(image, Image.Image) and image.size == (224, 224) and image.mode == "RGB"
    again = images.make_image("circle", "red", seed=0)
    assert np.array_equal(np.asarray(image), np.asarray(again))
    other = images.make_image("circle", "red", seed=1)
    assert not np.array_equal(np.asarray(image), np.asarray(other))
    small, mask = images.make_image_and_mask("square", "blue", size=48, seed=3)
    assert small.size == (48, 48) and mask.shape == (48, 48) and mask.dtype == bool
    pixels = np.asarray(small).astype(int)
    inside = pixels[mask].mean(0)  # the object is blue: much more blue than red
    assert inside[2] > inside[0] + 80
    with pytest.raises(ValueError, match="circle, square, triangle, cross"):
        images.make_image("hexagon", "red")
    assert images.make_image.__doc__ and "lesson 03" in images.make_image.__doc__


def without_torchvision(monkeypatch):
    """AutoImageProcessor as transformers 5.15 has it without torchvision: an ImportError."""
    import transformers

    def needs_torchvision(*_, **__):
        raise ImportError("AutoImageProcessor requires the Torchvision library but it was not "
                          "found in your environment.")

    monkeypatch.setattr(transformers.AutoImageProcessor, "from_pretrained", needs_torchvision)


@pytest.mark.slow
def test_image_processor_falls_back_to_the_pil_processor(monkeypatch):
    folder = twin("vit")  # built (if need be) before torchvision goes
    without_torchvision(monkeypatch)
    processor = images.image_processor(folder)
    assert type(processor).__name__ == "ViTImageProcessorPil"
    pixels = processor(images=images.make_image("circle", "red"), return_tensors="pt")
    assert tuple(pixels["pixel_values"].shape) == (1, 3, 32, 32)


def test_image_processor_says_what_to_install_when_no_fallback_exists(monkeypatch, tmp_path):
    without_torchvision(monkeypatch)
    (tmp_path / "preprocessor_config.json").write_text(
        json.dumps({"image_processor_type": "NoSuchImageProcessor"}))
    with pytest.raises(MissingPackageError, match="pip install torchvision") as caught:
        images.image_processor(tmp_path)
    assert isinstance(caught.value, ImportError)
