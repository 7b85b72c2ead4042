"""ImageClassificationExplainer on the ``vit`` twin, with generated pictures of shapes."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from explainlab import errors
from explainlab.explain import ImageClassificationExplainer
from explainlab.images import make_image, make_image_and_mask

from conftest import twin

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def vit():
    from transformers import AutoImageProcessor, AutoModelForImageClassification

    folder = twin("vit")
    return (AutoModelForImageClassification.from_pretrained(folder).eval(),
            AutoImageProcessor.from_pretrained(folder))


@pytest.fixture(scope="module")
def red_circle():
    return make_image_and_mask("circle", "red", size=224, seed=3)


@pytest.fixture(scope="module")
def explained(vit, red_circle):
    explainer = ImageClassificationExplainer(*vit, attribution_type="IG")
    return explainer, explainer(red_circle[0])


def _inside_share(attributions, mask):
    heat = np.abs(attributions[0]).sum(0)
    small = Image.fromarray(mask.astype(np.uint8) * 255).resize(heat.shape[::-1],
                                                                  Image.BILINEAR)
    inside = np.asarray(small) > 127
    return float((heat * inside).sum() / heat.sum()), float(inside.mean())


def test_classified_right_and_attributions_on_the_object(explained, red_circle):
    explainer, attributions = explained
    assert explainer.predicted_class_name == "red circle"
    assert explainer.predicted_index == explainer.label2id["red circle"]
    assert isinstance(attributions, np.ndarray) and attributions.shape == (1, 3, 32, 32)
    share, area = _inside_share(attributions, red_circle[1])
    assert share > 0.5 and share > 3 * area, (share, area)


def test_completeness(explained, vit):
    explainer, attributions = explained
    model, _ = vit
    pixels = torch.tensor(explainer.inputs)
    with torch.no_grad():
        logits = model(pixel_values=torch.cat([pixels, torch.zeros_like(pixels)])).logits
    gap = float(logits[0, explainer.selected_index] - logits[1, explainer.selected_index])
    assert float(attributions.sum()) - gap == pytest.approx(explainer.convergence_delta,
                                                            abs=1e-4)
    assert abs(explainer.convergence_delta) < 0.05 * abs(gap), (explainer.convergence_delta, gap)


def test_noise_tunnel_is_the_default_and_reproducible(vit, red_circle):
    explainer = ImageClassificationExplainer(*vit)
    assert explainer.attribution_type == "IGNT"
    first = explainer(red_circle[0])
    again = explainer(red_circle[0])
    other = explainer(red_circle[0], seed=1)
    assert np.array_equal(first, again) and not np.array_equal(first, other)
    assert len(explainer.convergence_delta) == explainer.noise_tunnel_n_samples
    assert explainer(red_circle[0], noise_tunnel_type="vargrad").shape == (1, 3, 32, 32)
    with pytest.raises(ValueError, match="smoothgrad, smoothgrad_sq, vargrad"):
        explainer(red_circle[0], noise_tunnel_type="blur")


@pytest.mark.parametrize("nt_type", ["smoothgrad", "smoothgrad_sq", "vargrad"])
def test_noise_tunnel_equals_captums(vit, red_circle, nt_type):
    """The unrolled noise tunnel draws Captum's noise and gives NoiseTunnel's numbers; the
    convergence delta, computed on request, is NoiseTunnel's too."""
    from captum.attr import IntegratedGradients, NoiseTunnel

    model, processor = vit
    explainer = ImageClassificationExplainer(model, processor)
    ours = explainer(red_circle[0], noise_tunnel_type=nt_type, seed=5)
    assert explainer.delta is None  # not computed until asked for
    pixels = processor(images=red_circle[0], return_tensors="pt")["pixel_values"]
    with torch.random.fork_rng():
        torch.manual_seed(5)
        expected, delta = NoiseTunnel(IntegratedGradients(
            lambda x: model(pixel_values=x).logits)).attribute(
            pixels, nt_samples=10, nt_type=nt_type, target=explainer.selected_index, n_steps=5,
            return_convergence_delta=True)
    np.testing.assert_allclose(ours, expected.numpy(), atol=1e-6)
    np.testing.assert_allclose(explainer.convergence_delta, delta.numpy(), atol=1e-5)


def test_ig_equals_captums_even_under_no_grad(vit, red_circle):
    from captum.attr import IntegratedGradients

    model, processor = vit
    explainer = ImageClassificationExplainer(model, processor, attribution_type="IG")
    with torch.no_grad():  # the explainer turns gradients on where it needs them
        ours = explainer(red_circle[0], n_steps=20, internal_batch_size=7)
    pixels = processor(images=red_circle[0], return_tensors="pt")["pixel_values"]
    expected, delta = IntegratedGradients(lambda x: model(pixel_values=x).logits).attribute(
        pixels, target=explainer.selected_index, n_steps=20, return_convergence_delta=True)
    np.testing.assert_allclose(ours, expected.numpy(), atol=1e-6)
    assert explainer.convergence_delta == pytest.approx(float(delta), abs=1e-5)


def test_class_name_and_index(vit, red_circle):
    explainer = ImageClassificationExplainer(*vit, attribution_type="IG")
    explainer(red_circle[0], class_name="blue square", n_steps=8)
    assert explainer.selected_index == explainer.label2id["blue square"]
    assert explainer.predicted_class_name == "red circle"
    explainer(red_circle[0], index=3, n_steps=8)
    assert explainer.selected_index == 3
    with pytest.raises(KeyError, match="'red circle', 'red square'"):
        explainer(red_circle[0], class_name="purple circle")


def test_rgba_grayscale_and_arrays(vit):
    image = make_image("square", "blue", seed=2)
    explainer = ImageClassificationExplainer(*vit, attribution_type="IG")
    first = explainer(image, n_steps=8)
    named = explainer.predicted_class_name  # the twin's contract does not name this picture
    assert named in explainer.label2id
    assert np.allclose(explainer(image.convert("RGBA"), n_steps=8), first)  # alpha dropped
    assert explainer.predicted_class_name == named
    explainer(np.asarray(image), n_steps=8)
    assert explainer.predicted_class_name == named
    assert explainer(image.convert("L"), n_steps=8).shape == (1, 3, 32, 32)
    assert explainer(np.asarray(image.convert("L")), n_steps=8).shape == (1, 3, 32, 32)


def test_constructor(vit):
    model, processor = vit
    explainer = ImageClassificationExplainer(model=model, feature_extractor=processor)
    assert explainer.image_processor is processor is explainer.feature_extractor
    with pytest.raises(TypeError, match="image processor"):
        ImageClassificationExplainer(model)
    with pytest.raises(TypeError, match="not both"):
        ImageClassificationExplainer(model, processor, feature_extractor=processor)
    with pytest.raises(ValueError, match="IG, IGNT"):
        ImageClassificationExplainer(model, processor, attribution_type="lig")
    with pytest.raises(errors.AttributionsNotCalculatedError):
        explainer.visualize()


@pytest.mark.parametrize("method", ["heatmap", "overlay", "masked_image", "alpha_scaling"])
def test_visualize(explained, tmp_path, method):
    explainer, _ = explained
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        viz = explainer.visualize(tmp_path / f"{method}.html", method=method,
                                  side_by_side=True, outlier_threshold=0.03)
    if method in ("masked_image", "alpha_scaling"):
        assert any("sign='positive'" in str(w.message) for w in caught)
    page = (tmp_path / f"{method}.html").read_text()
    assert "data:image/png;base64," in page and "<script" not in page and "://" not in page
    assert viz.figure is viz[0] and "red circle" in viz.title
    assert viz._repr_html_().startswith('<div class="xl-explanation"><img')
    png = viz.save(tmp_path / f"{method}.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_visualize_options(explained, tmp_path):
    explainer, _ = explained
    explainer.visualize(method="heatmap", sign="absolute", use_original_image_pixels=False)
    with pytest.raises(ValueError, match="heatmap, overlay, alpha_scaling, masked_image"):
        explainer.visualize(method="contour")
    with pytest.raises(ValueError, match="all, positive, negative, absolute"):
        explainer.visualize(sign="both")


def test_exports(explained):
    explainer, attributions = explained
    frame = explainer.to_dataframe()
    assert len(frame) == 32 * 32 and list(frame.columns) == ["row", "column", "attribution"]
    assert frame["attribution"].sum() == pytest.approx(float(attributions.sum()), rel=1e-4)
    document = json.loads(explainer.to_json())
    assert document["predicted_class_name"] == "red circle"
    assert np.asarray(document["word_attributions"]).shape == (32, 32)
    assert "<img" in explainer._repr_html_()
