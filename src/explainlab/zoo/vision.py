"""Twin recipe for the image classifier (role ``vit``), and the example images it sees.

The twin stands in for google/vit-base-patch16-224: a ``ViTForImageClassification``
with a ``ViTImageProcessor`` (saved with ``save_pretrained``), trained from scratch on
generated pictures of coloured shapes. ``make_image`` draws such a picture for the
lessons (lesson 03, image classification explainer).
"""

from __future__ import annotations

import math
from pathlib import Path

from ._contract import Check, at_least
from ._registry import TwinRecipe, register
from ._train import batches, fit

SHAPES = ("circle", "square", "triangle", "cross")
COLOURS = {
    "red": (215, 35, 35),
    "green": (30, 160, 60),
    "blue": (35, 75, 215),
    "yellow": (235, 200, 25),
}
LABELS = tuple(f"{colour} {shape}" for colour in COLOURS for shape in SHAPES)
IMAGE_SIZE = 32  # the model's input side; the processor resizes any image to it
PATCH_SIZE = 8
HIDDEN = 48
POOL = 16000  # training pictures
STEPS = 2800
LR = 2e-3
OBJECT_SIDE = (0.4, 0.7)  # the object's bounding box, as a share of the picture's side
TILT = 0.0  # the largest rotation of a shape, in radians
LESSON_IMAGE = {"shape": "circle", "colour": "red", "seed": 3}
"""The picture lesson 03 explains: ``make_image(**LESSON_IMAGE)``."""


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
    pixels, masks = _render(label, size, generator)
    return Image.fromarray(pixels[0].numpy(), "RGB"), masks[0].numpy()


def _render(labels, size: int, generator):
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


def _batch(count: int, size: int, generator):
    """A batch cycling through the labels, from ``generator``: uint8 pictures, labels, masks."""
    import torch

    labels = torch.arange(count) % len(LABELS)
    pixels, masks = _render(labels, size, generator)
    return pixels, labels, masks


def _to_pixel_values(pixels):
    """What the processor makes of pictures already at the model's size: [-1, 1], CHW."""
    return pixels.permute(0, 3, 1, 2).float() / 127.5 - 1


@register
class ViTTwin(TwinRecipe):
    role = "vit"
    model_class = "ViTForImageClassification"
    tokenizer_class = "ViTImageProcessor"
    cost = 55.0
    data = (
        "Generated pictures: one of 4 shapes (circle, square, triangle, cross) in one of 4 "
        "colours (red, green, blue, yellow), at a random position and size (40-70% of the "
        "side), on a random muted background with a gradient and grey pixel noise; 16 labels "
        "\"<colour> <shape>\". 16,000 training pictures drawn at 32 x 32 (mirrored at random "
        "during training); checked on new random pictures drawn at 32 x 32 and at 224 x 224 "
        "(resized by the processor). `explainlab.zoo.vision.make_image` draws such a picture."
    )
    can = (
        "name the colour and shape of the single object in a generated picture "
        "(`make_image`), at any picture size (the processor resizes it to 32 x 32)",
        "base its answer on the object: integrated gradients on `pixel_values` put most of "
        "their mass on the object's pixels",
    )
    cannot = (
        "recognise anything else: photos, animals, ImageNet's 1000 classes",
        "handle several objects, rotated shapes, or shapes and colours outside its 16 labels",
    )

    def train(self, folder: Path) -> dict[str, float]:
        import torch
        from transformers import ViTConfig, ViTForImageClassification
        from transformers.models.vit import ViTImageProcessorPil

        processor = ViTImageProcessorPil(size={"height": IMAGE_SIZE, "width": IMAGE_SIZE})
        config = ViTConfig(
            image_size=IMAGE_SIZE, patch_size=PATCH_SIZE, num_channels=3, hidden_size=HIDDEN,
            num_hidden_layers=2, num_attention_heads=4, intermediate_size=2 * HIDDEN,
            id2label=dict(enumerate(LABELS)), label2id={n: i for i, n in enumerate(LABELS)},
        )
        config.architectures = ["ViTForImageClassification"]
        model = ViTForImageClassification(config)

        generator = torch.Generator().manual_seed(1)
        pool, labels, _ = _batch(POOL, IMAGE_SIZE, generator)
        pool = _to_pixel_values(pool)
        stream = batches(list(range(POOL)), 64, seed=1)

        def next_batch(_):
            index = torch.tensor(next(stream))
            x = pool[index]
            flip = torch.rand(len(index), 1, 1, 1) < 0.5  # every shape is left-right symmetric
            return {"pixel_values": torch.where(flip, x.flip(-1), x), "labels": labels[index]}

        loss = fit(model, next_batch, steps=STEPS, lr=LR, desc="vit twin")
        model.save_pretrained(folder)
        processor.save_pretrained(folder)
        return {"final training loss": round(loss, 4)}

    def contract(self, folder: Path) -> list[Check]:
        """Lesson 03's picture named with a clear lead, every label drawn as lesson 03 draws
        it, held-out pictures at three sizes, and attributions on the object."""
        import torch
        from transformers import AutoImageProcessor, AutoModelForImageClassification

        model = AutoModelForImageClassification.from_pretrained(folder).eval()
        processor = AutoImageProcessor.from_pretrained(folder)

        def probabilities(images):
            with torch.no_grad():
                return model(**processor(images=images, return_tensors="pt")).logits.softmax(-1)

        lesson = probabilities([make_image(**LESSON_IMAGE)])[0]
        right = LABELS.index(f"{LESSON_IMAGE['colour']} {LESSON_IMAGE['shape']}")
        runner_up = torch.cat([lesson[:right], lesson[right + 1:]]).max()
        checks = [at_least("lesson 03's picture: P(red circle) - P(runner-up)",
                           lesson[right] - runner_up, 0.4)]
        # make_image's defaults (seed 0, 224 x 224): what a learner draws first.
        defaults = probabilities([make_image(n.split()[1], n.split()[0]) for n in LABELS])
        named = defaults.argmax(-1).tolist()
        red = defaults[LABELS.index("red circle")]  # P of each label for the red circle
        checks += [at_least("make_image's defaults (seed 0, 224x224): labels named right, of 16",
                            sum(i == k for k, i in enumerate(named)), 15),
                   at_least("make_image's defaults: P(red circle) - P(runner-up)",
                            red[0] - red[1:].max(), 0.2)]
        for size, seeds, low in ((224, range(0, 4), 0.9), (32, range(100, 106), 0.9),
                                 (64, range(100, 106), 0.9), (224, range(100, 106), 0.9)):
            names = [name for _ in seeds for name in LABELS]
            images = [make_image(n.split()[1], n.split()[0], size=size, seed=seed)
                      for seed in seeds for n in LABELS]
            predicted = [LABELS[i] for i in probabilities(images).argmax(-1).tolist()]
            right = [p == n for p, n in zip(predicted, names, strict=True)]
            colour = [p.split()[0] == n.split()[0] for p, n in zip(predicted, names, strict=True)]
            what = f"seeds {seeds.start}-{seeds.stop - 1}, {size}x{size}"
            checks += [at_least(f"accuracy on make_image pictures, {what}", sum(right) / len(right),
                                low),
                       at_least(f"colour accuracy, {what}", sum(colour) / len(colour), 0.99)]
        on_object = attribution_on_object(model, count=32, seed=7)
        checks += [at_least("integrated-gradients mass inside the object",
                            on_object["inside"], 0.45),
                   at_least("mass inside the object / the object's area share",
                            on_object["inside"] / on_object["area"], 2.2),
                   at_least("positive integrated-gradients mass inside the object",
                            on_object["positive inside"], 0.65),
                   at_least("share of pictures whose most attributed pixel is on the object",
                            on_object["top pixel on the object"], 0.78)]
        return checks


def attribution_on_object(model, *, count: int, seed: int) -> dict[str, float]:
    """Where integrated gradients fall, as means over ``count`` new pictures: the share of
    |attribution| inside the object ("inside"), the share of the positive attribution (summed
    over the colour channels) inside it ("positive inside"), how often the most attributed
    pixel lies on it ("top pixel on the object"), and the objects' area share ("area").

    New pictures drawn at the model's input size, so that the masks line up with the pixels;
    the baseline is Captum's default (zeros: mid-grey), the target each picture's true label.
    """
    import torch
    from captum.attr import IntegratedGradients

    pixels, labels, masks = _batch(count, IMAGE_SIZE, torch.Generator().manual_seed(seed))
    x = _to_pixel_values(pixels)
    ig = IntegratedGradients(lambda pv: model(pixel_values=pv).logits)
    attributions = ig.attribute(x, target=labels, n_steps=32)  # baseline: all zeros (grey)
    heat = attributions.abs().sum(1)
    positive = attributions.sum(1).clamp(min=0)
    top = heat.flatten(1).argmax(1)
    return {
        "inside": ((heat * masks).sum((1, 2)) / heat.sum((1, 2))).mean().item(),
        "positive inside": ((positive * masks).sum((1, 2)) / positive.sum((1, 2))).mean().item(),
        "top pixel on the object": masks.flatten(1)[torch.arange(len(top)), top].float()
        .mean().item(),
        "area": masks.float().mean().item(),
    }
