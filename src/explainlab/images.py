"""Pictures for lesson 03's image classification explainer, and the image processor to read them.

``make_image`` draws a coloured shape on a noisy, tinted background: the kind of picture the
offline twin of the ``vit`` role was trained on (its labels are ``"<colour> <shape>"``).
``image_processor`` loads a model's image processor, with or without torchvision.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from .errors import MissingPackageError

SHAPES = ("circle", "square", "triangle", "cross")
COLOURS = {
    "red": (215, 35, 35),
    "green": (30, 160, 60),
    "blue": (35, 75, 215),
    "yellow": (235, 200, 25),
}
LABELS = tuple(f"{colour} {shape}" for colour in COLOURS for shape in SHAPES)
OBJECT_SIDE = (0.4, 0.7)  # the object's bounding box, as a share of the picture's side
TILT = 0.0  # the largest rotation of a shape, in radians


def make_image(shape: str, colour: str, *, size: int = 224, seed: int = 0):
    """Draw one example picture: a coloured shape on a noisy, tinted background.

    The picture is of the kind the ``vit`` offline twin was trained on; the twin's
    labels are ``"<colour> <shape>"`` (e.g. ``"red circle"``). Introduced in lesson 03
    (image classification explainer).

    Args:
        shape: one of ``SHAPES`` (``"circle"``, ``"square"``, ``"triangle"``, ``"cross"``).
        colour: one of ``COLOURS`` (``"red"``, ``"green"``, ``"blue"``, ``"yellow"``).
        size: the side of the square picture in pixels (the twin's processor resizes it).
        seed: chooses the object's position and size, the background and the noise.

    Returns:
        A ``PIL.Image.Image`` in RGB mode, ``size`` x ``size``.
    """
    return make_image_and_mask(shape, colour, size=size, seed=seed)[0]


def make_image_and_mask(shape: str, colour: str, *, size: int = 224, seed: int = 0):
    """Like ``make_image``, and also where the object is: a ``size`` x ``size`` bool array.

    The mask lets a lesson compare an attribution map with the object's pixels (lesson 03).
    """
    import torch
    from PIL import Image

    if shape not in SHAPES:
        raise ValueError(f"Unknown shape {shape!r}; use one of {', '.join(SHAPES)}.")
    if colour not in COLOURS:
        raise ValueError(f"Unknown colour {colour!r}; use one of {', '.join(COLOURS)}.")
    generator = torch.Generator().manual_seed(
        SHAPES.index(shape) * 1_000_003 + list(COLOURS).index(colour) * 10_007 + seed)
    label = torch.tensor([LABELS.index(f"{colour} {shape}")])
    pixels, masks = render(label, size, generator)
    return Image.fromarray(pixels[0].numpy(), "RGB"), masks[0].numpy()


def render(labels, size: int, generator):
    """Pictures of ``labels`` (label ids): uint8 (N, size, size, 3) and bool masks (N, size, size).

    Vectorised, so that the twin can draw thousands of training pictures in a second.
    """
    import torch

    n = len(labels)

    def uniform(low, high, *shape):
        return low + (high - low) * torch.rand((n, *shape), generator=generator)

    shape_id = labels % len(SHAPES)
    colour_id = labels // len(SHAPES)
    side = uniform(*OBJECT_SIDE) * size
    cx = side / 2 + uniform(0, 1) * (size - side)
    cy = side / 2 + uniform(0, 1) * (size - side)
    tilt = uniform(-TILT, TILT)
    grey = uniform(20, 235, 1)
    start = grey + uniform(-25, 25, 3)
    end = start + uniform(-40, 40, 1)
    angle = uniform(0, 2 * math.pi)
    fore = torch.tensor(list(COLOURS.values()), dtype=torch.float32)[colour_id]
    fore = fore + uniform(-20, 20, 3)
    noise = uniform(0, 14)[:, None, None, None] * torch.randn(
        (n, size, size, 1), generator=generator)

    # Signed distance to the shape's edge, in pixels (negative inside), at pixel centres;
    # coverage = 0.5 - distance (clamped) gives anti-aliased edges without supersampling.
    centres = torch.arange(size, dtype=torch.float32) + 0.5
    distance = torch.empty(n, size, size)
    for index, name in enumerate(SHAPES):
        rows = (shape_id == index).nonzero()[:, 0]
        if len(rows) == 0:
            continue
        r = (side[rows] / 2)[:, None, None]
        dx = centres[None, None, :] - cx[rows, None, None]
        dy = centres[None, :, None] - cy[rows, None, None]
        cos, sin = torch.cos(tilt[rows])[:, None, None], torch.sin(tilt[rows])[:, None, None]
        u, v = (dx * cos + dy * sin) / r, (-dx * sin + dy * cos) / r
        distance[rows] = _distance(name, u, v) * r
    alpha = (0.5 - distance).clamp(0, 1)[..., None]

    grid = torch.arange(size, dtype=torch.float32) / max(1, size - 1)
    ramp = (torch.cos(angle)[:, None, None] * grid[None, None, :]
            + torch.sin(angle)[:, None, None] * grid[None, :, None] + 1) / 2
    back = start[:, None, None, :] + (end - start)[:, None, None, :] * ramp[..., None]
    pixels = back * (1 - alpha) + fore[:, None, None, :] * alpha + noise
    return pixels.round().clamp(0, 255).to(torch.uint8), distance < 0


def _distance(shape: str, u, v):
    """Signed distance (about; object radius 1, negative inside) of points to ``shape``'s edge.

    Object coordinates: the centre at 0, the bounding circle of radius 1, y pointing down.
    """
    import torch

    au, av = u.abs(), v.abs()
    if shape == "circle":
        return torch.sqrt(u * u + v * v) - 1
    if shape == "square":
        return torch.maximum(au, av) - 0.82
    if shape == "triangle":  # pointing up: corners (0, -1), (+-0.95, 0.75)
        return torch.maximum(v - 0.75, (1.75 * au - 0.95 * (v + 1)) / 1.99)
    arm = 0.34  # cross: two bars a third as wide as they are long
    return torch.minimum(torch.maximum(au - arm, av - 1), torch.maximum(au - 1, av - arm))


def image_processor(model_path: str | Path):
    """The image processor of the model at ``model_path`` (a hub id or a folder), as
    ``AutoImageProcessor.from_pretrained`` gives it, with or without torchvision.

    transformers 5.15 (Colab's) gives image processors through ``AutoImageProcessor`` only
    with torchvision installed, and also ships a torchvision-free processor named with
    ``Pil`` at the end (``ViTImageProcessorPil``), which this falls back to; 5.0 and 5.25
    need no fallback. Introduced in lesson 03 (image classification explainer).

    Raises:
        MissingPackageError: the processor needs torchvision, and no torchvision-free one
            exists in this transformers; the message says what to install.
    """
    import transformers
    from transformers import AutoImageProcessor

    try:
        return AutoImageProcessor.from_pretrained(model_path)
    except ImportError as error:
        if "torchvision" not in str(error).lower():
            raise
        kind = _processor_type(model_path)
        fallback = getattr(transformers, f"{kind}Pil", None) if kind else None
        if fallback is None:
            raise MissingPackageError(
                f"This model's image processor ({kind or 'unknown'}) needs torchvision, which "
                "is not installed. Install the torchvision build that matches your torch "
                "(`pip install torchvision` on most machines; see "
                "https://pytorch.org/get-started/locally/), then restart the kernel."
            ) from None
        return fallback.from_pretrained(model_path)


def _processor_type(model_path: str | Path) -> str | None:
    """``image_processor_type`` from the model's ``preprocessor_config.json`` (downloaded
    into the hub cache first for a hub id)."""
    folder = Path(model_path)
    if folder.is_dir():
        config = folder / "preprocessor_config.json"
    else:
        from huggingface_hub import hf_hub_download

        config = Path(hf_hub_download(str(model_path), "preprocessor_config.json"))
    if not config.is_file():
        return None
    kind = json.loads(config.read_text(encoding="utf-8")).get("image_processor_type")
    return kind.removesuffix("Fast") if kind else None
