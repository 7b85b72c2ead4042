"""Twin recipe for the image classifier (role ``vit``).

The twin stands in for google/vit-base-patch16-224: a ``ViTForImageClassification``
with a ``ViTImageProcessor`` (saved with ``save_pretrained``), trained from scratch on
generated pictures of coloured shapes, drawn by ``explainlab.images`` (the learner's package
draws the same pictures in lesson 03).
"""

from __future__ import annotations

from pathlib import Path

from explainlab.images import LABELS, make_image, render

from ._contract import Check, at_least
from ._registry import TwinRecipe, register
from ._train import batches, fit

IMAGE_SIZE = 32  # the model's input side; the processor resizes any image to it
PATCH_SIZE = 8
HIDDEN = 48
POOL = 16000  # training pictures
STEPS = 2800
LR = 2e-3
LESSON_IMAGE = {"shape": "circle", "colour": "red", "seed": 3}
"""The picture lesson 03 explains: ``make_image(**LESSON_IMAGE)``."""


def _batch(count: int, size: int, generator):
    """A batch cycling through the labels, from ``generator``: uint8 pictures, labels, masks."""
    import torch

    labels = torch.arange(count) % len(LABELS)
    pixels, masks = render(labels, size, generator)
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
        "(resized by the processor). `explainlab.images.make_image` draws such a picture."
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
