"""``ImageClassificationExplainer``: integrated gradients on the pixels of an image classifier.

Introduced in lesson 03_classification_explainers.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from captum.attr import visualization as captum_viz

from . import _checks
from ._attribution import path_gradients, rows_that_fit
from ._base import BaseExplainer, register
from ._html import ImageVisualization

ATTRIBUTION_TYPES = ("IG", "IGNT")  # integrated gradients; the same in a noise tunnel
NOISE_TUNNEL_TYPES = ("smoothgrad", "smoothgrad_sq", "vargrad")
METHODS = {"heatmap": "heat_map", "overlay": "blended_heat_map", "alpha_scaling": "alpha_scaling",
           "masked_image": "masked_image"}
NOISE_STDEV = 1.0  # the noise tunnel's standard deviation (Captum's default)
SIGNS = {"all": "all", "positive": "positive", "negative": "negative",
         "absolute": "absolute_value"}


@register
class ImageClassificationExplainer(BaseExplainer):
    """Explain a ``*ForImageClassification`` model (ViT, Swin, ...) pixel by pixel.

    Integrated gradients on ``pixel_values`` from Captum's default baseline (zeros after the
    processor's normalisation), ``"IG"``; or averaged over noisy copies of the image,
    ``"IGNT"`` (transformers-interpret's default; seeded, so it is reproducible). Takes the
    model's ``ImageProcessor`` (transformers 5 removed the feature extractors;
    ``feature_extractor=`` is accepted as another name for it). RGBA, grayscale and
    palette images are converted to RGB. Introduced in lesson 03_classification_explainers.

    Args:
        model: an image classification model.
        image_processor: its image processor (``AutoImageProcessor.from_pretrained``).
        attribution_type: ``"IGNT"`` (default) or ``"IG"``.
        custom_labels: names for the model's outputs, in order.
        feature_extractor: the old name of ``image_processor``.
    """

    explainer_name = "image_classification"

    def __init__(self, model, image_processor=None, *, attribution_type: str = "IGNT",
                 custom_labels: Sequence[str] | None = None, feature_extractor=None):
        if image_processor is None and feature_extractor is None:
            raise TypeError("Pass the model's image processor: "
                            "ImageClassificationExplainer(model, image_processor).")
        if image_processor is not None and feature_extractor is not None:
            raise TypeError("Pass image_processor or feature_extractor, not both.")
        self.model = model
        self.image_processor = image_processor if image_processor is not None else feature_extractor
        self.attribution_type = _checks.attribution_type(attribution_type, ATTRIBUTION_TYPES)
        self.custom_labels = custom_labels
        self.id2label, self.label2id = _checks.labels_from(model, custom_labels)
        self.internal_batch_size: int | None = None
        self.n_steps = 50
        self.n_steps_noise_tunnel = 5
        self.noise_tunnel_n_samples = 10
        self.noise_tunnel_type = "smoothgrad"
        self.attributions: np.ndarray | None = None
        self.inputs: np.ndarray | None = None
        self.delta: np.ndarray | None = None

    @property
    def feature_extractor(self):
        """The image processor (transformers-interpret's name for it)."""
        return self.image_processor

    @property
    def device(self) -> torch.device:
        return self.model.device

    def _logits(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.model(pixel_values=pixel_values).logits

    def __call__(self, image, *, index: int | None = None, class_name: str | None = None,
                 internal_batch_size: int | None = None, n_steps: int | None = None,
                 n_steps_noise_tunnel: int | None = None,
                 noise_tunnel_n_samples: int | None = None,
                 noise_tunnel_type: str = "smoothgrad", seed: int = 0,
                 return_convergence_delta: bool = False):
        """Attributions of every input pixel towards ``index``/``class_name`` (default: the
        predicted class).

        Returns:
            A NumPy array shaped like the model's input, ``(1, 3, H, W)``; with
            ``return_convergence_delta=True``, also the convergence delta(s).
        """
        if noise_tunnel_type not in NOISE_TUNNEL_TYPES:
            raise ValueError(f"noise_tunnel_type={noise_tunnel_type!r}; use one of "
                             f"{', '.join(NOISE_TUNNEL_TYPES)}.")
        self.noise_tunnel_type = noise_tunnel_type
        for name, value in (("n_steps", n_steps), ("internal_batch_size", internal_batch_size),
                            ("n_steps_noise_tunnel", n_steps_noise_tunnel),
                            ("noise_tunnel_n_samples", noise_tunnel_n_samples)):
            if value:
                setattr(self, name, int(value))
        self._image = _checks.rgb_image(image)
        pixels = self.image_processor(images=self._image, return_tensors="pt")["pixel_values"]
        pixels = pixels.to(self.device)
        self._image_shape = tuple(pixels.shape[1:])
        with torch.no_grad():
            logits = self._logits(pixels)[0]
        probs = torch.softmax(logits, -1)
        self.predicted_index = int(probs.argmax())
        self.selected_index = _checks.target_index(
            index=index, class_name=class_name, label2id=self.label2id,
            n_outputs=probs.shape[-1], predicted=self.predicted_index)
        self.pred_probs = float(probs[self.selected_index])
        self._probs = probs
        self.delta = None
        attributions = self._attribute(pixels, seed, float(logits[self.selected_index]))
        self.inputs = pixels.cpu().numpy()
        self.attributions = attributions.detach().cpu().numpy()
        self._explained = []  # called: the results live in the arrays above
        if return_convergence_delta:
            return self.attributions, self.convergence_delta
        return self.attributions

    def _attribute(self, pixels: torch.Tensor, seed: int, score: float) -> torch.Tensor:
        """Attributions of ``pixels`` (``score``: the selected class's logit there)."""
        if self.attribution_type == "IG":
            attributions = self._integrated_gradients(pixels, self.n_steps)
            self.delta = (attributions.sum() - (score - self._zero_score())).reshape(1)
            self.delta = self.delta.cpu().numpy()
            return attributions
        # Captum's NoiseTunnel, unrolled: the same noise (drawn as it draws it, seeded), the
        # same integrated gradients of every noisy copy. The noisy copies are kept, so that
        # the convergence delta (one forward pass over them) is computed only when asked for.
        devices = [pixels.device] if pixels.device.type == "cuda" else []
        samples = self.noise_tunnel_n_samples
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            size = (pixels.shape[0] * samples, *pixels.shape[1:])
            noise = torch.normal(0, torch.tensor(NOISE_STDEV, device=pixels.device).repeat(size))
        noisy = pixels.repeat_interleave(samples, dim=0) + noise
        each = self._integrated_gradients(noisy, self.n_steps_noise_tunnel)
        self._noisy, self._sample_sums = noisy, each.flatten(1).sum(1)
        each = each.view(pixels.shape[0], samples, *pixels.shape[1:])
        mean = each.sum(1) * (1 / samples)
        if self.noise_tunnel_type == "smoothgrad":
            return mean
        mean_sq = torch.pow(each, 2).sum(1) * (1 / samples)
        return mean_sq if self.noise_tunnel_type == "smoothgrad_sq" else mean_sq - mean * mean

    def _integrated_gradients(self, inputs: torch.Tensor, n_steps: int) -> torch.Tensor:
        """Integrated gradients of the selected class's logit for a batch of images, from the
        all-zero baseline: what Captum's ``IntegratedGradients`` computes (the same
        Gauss-Legendre steps, rows ordered step by step, ``internal_batch_size`` rows per
        pass; the tests compare), without its bookkeeping around the path. Images are
        independent, so a batch larger than one pass allows goes a group at a time."""
        rows = self._rows()
        parts = []
        for images in inputs.split(rows):  # more images than rows: a group at a time
            target = [[self.selected_index] * images.shape[0]]
            total = path_gradients(images, torch.zeros_like(images),
                                   lambda points, steps: self._logits(points), target,
                                   n_steps=n_steps, internal_batch_size=rows)
            parts.append((total[0] * images).detach())
        return torch.cat(parts)

    def _rows(self) -> int:
        """``internal_batch_size``, or as many images as fit in ``ACTIVATION_BUDGET``."""
        if self.internal_batch_size:
            return self.internal_batch_size
        config = self.model.config
        side = getattr(config, "image_size", 224)
        patch = getattr(config, "patch_size", 16)
        return rows_that_fit(self.model, (side // patch) ** 2 + 1)

    def _zero_score(self) -> torch.Tensor:
        """The selected class's logit at the baseline (an all-zero input)."""
        with torch.no_grad():
            shape = (1, *self._image_shape)
            return self._logits(torch.zeros(shape, device=self.device))[0, self.selected_index]

    def _noise_tunnel_delta(self) -> np.ndarray:
        """Completeness gap of every noisy copy: its attributions' sum minus (score at the
        copy - score at the all-zero baseline), as Captum's NoiseTunnel reports it."""
        with torch.no_grad():
            scores = self._logits(self._noisy)[:, self.selected_index]
        return (self._sample_sums - (scores - self._zero_score())).cpu().numpy()

    @property
    def predicted_class_name(self) -> str:
        """The label the model predicts for the last image."""
        self._require()
        return self.id2label.get(self.predicted_index, str(self.predicted_index))

    @property
    def convergence_delta(self) -> float | list[float]:
        """IG: the completeness gap (a float). IGNT: one gap per noisy sample (computed on
        first use: one forward pass over the noisy copies)."""
        self._require()
        if self.delta is None:
            self.delta = self._noise_tunnel_delta()
        values = [float(v) for v in np.ravel(self.delta)]
        return values[0] if self.attribution_type == "IG" else values

    @property
    def word_attributions(self):
        """Images have no words: the per-pixel map (channels summed), ``H`` x ``W``."""
        self._require()
        return self.attributions[0].sum(0)

    def attribution_map(self) -> np.ndarray:
        """The attributions summed over colour channels: an ``H`` x ``W`` array."""
        return self.word_attributions

    def _summary(self) -> dict:
        return {"predicted_index": self.predicted_index,
                "predicted_class_name": self.predicted_class_name,
                "attributed_class": self.id2label.get(self.selected_index),
                "probability": self.pred_probs, "attribution_type": self.attribution_type,
                "shape": list(self.attributions.shape)}

    def to_dataframe(self):
        """One row per pixel: ``row``, ``column`` and the attribution (channels summed)."""
        import pandas as pd

        heat = self.attribution_map()
        rows, cols = np.indices(heat.shape)
        return pd.DataFrame({"row": rows.ravel(), "column": cols.ravel(),
                             "attribution": heat.ravel()})

    def visualize(self, save_path: str | Path | None = None, method: str = "overlay",
                  sign: str = "all", outlier_threshold: float = 0.1,
                  use_original_image_pixels: bool = True, side_by_side: bool = False
                  ) -> ImageVisualization:
        """Draw the attributions with Captum's image visualisation (no pyplot, no IPython).

        ``method``: heatmap, overlay, alpha_scaling or masked_image; ``sign``: all,
        positive, negative or absolute; ``outlier_threshold``: the share of the largest
        attributions clipped; ``side_by_side``: the image next to the map. ``save_path``
        ending in ``.html`` writes a self-contained page, anything else a PNG (or what
        Matplotlib makes of the suffix). The result shows inline in a notebook.
        """
        self._require()
        if method not in METHODS:
            raise ValueError(f"method={method!r}; use one of {', '.join(METHODS)}.")
        if sign not in SIGNS:
            raise ValueError(f"sign={sign!r}; use one of {', '.join(SIGNS)}.")
        if sign == "all" and method in ("alpha_scaling", "masked_image"):
            warnings.warn(f"sign='all' does not work with method={method!r}; "
                          "using sign='positive'.", stacklevel=2)
            sign = "positive"
        attributions = np.transpose(self.attributions[0], (1, 2, 0))
        height, width = attributions.shape[:2]
        if use_original_image_pixels:
            picture = np.asarray(self._image.resize((width, height)))
        else:
            values = np.transpose(self.inputs[0], (1, 2, 0))
            picture = (values - values.min()) / max(float(np.ptp(values)), 1e-12)
        title = (f"{method} ({self.attribution_type}), prediction: {self.predicted_class_name}, "
                 f"attributed: {self.id2label.get(self.selected_index)}")
        options = {"outlier_perc": min(outlier_threshold * 100, 100), "use_pyplot": False,
                   "show_colorbar": True}
        if side_by_side:
            figure, axes = captum_viz.visualize_image_attr_multiple(
                attributions, picture, ["original_image", METHODS[method]],
                ["all", SIGNS[sign]], titles=["Image", title], **options)
        else:
            figure, axes = captum_viz.visualize_image_attr(
                attributions, picture, method=METHODS[method], sign=SIGNS[sign], title=title,
                **options)
        result = ImageVisualization(title, figure, axes)
        if save_path:
            result.save(save_path)
        return result

    def _repr_html_(self) -> str:
        if self._explained is None:
            return f"<p>{type(self).__name__}: nothing explained yet.</p>"
        return self.visualize()._repr_html_()
