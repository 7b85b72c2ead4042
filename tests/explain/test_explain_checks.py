"""explain._checks: bad inputs get errors that are built-ins and say what to do."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from explainlab import errors
from explainlab.explain import _checks

LABELS = {"NEGATIVE": 0, "POSITIVE": 1}


@pytest.mark.parametrize("value", ["", "   ", "\n\t"])
def test_empty_text(value):
    with pytest.raises(errors.EmptyInputError, match="empty") as info:
        _checks.text(value)
    assert isinstance(info.value, ValueError)


def test_text_must_be_a_string():
    with pytest.raises(TypeError, match="must be a string, not list"):
        _checks.text(["I love you"])
    assert _checks.text("I love you") == "I love you"


def test_target_index():
    pick = dict(label2id=LABELS, n_outputs=2, predicted=1)
    assert _checks.target_index(index=None, class_name=None, **pick) == 1
    assert _checks.target_index(index=0, class_name=None, **pick) == 0
    assert _checks.target_index(index=None, class_name="NEGATIVE", **pick) == 0
    with pytest.raises(errors.UnknownLabelError) as info:
        _checks.target_index(index=None, class_name="negative", **pick)
    assert isinstance(info.value, KeyError)
    assert str(info.value) == "Unknown class_name 'negative'. The model's labels: " \
                              "'NEGATIVE', 'POSITIVE'."
    with pytest.raises(errors.LabelIndexError, match=r"2 outputs \(0 to 1\)") as info:
        _checks.target_index(index=2, class_name=None, **pick)
    assert isinstance(info.value, IndexError)


def test_attribution_type():
    assert _checks.attribution_type("lig", ("lig",)) == "lig"
    with pytest.raises(errors.AttributionTypeNotSupportedError, match="use one of: lig") as info:
        _checks.attribution_type("shap", ("lig",))
    assert isinstance(info.value, ValueError)


def test_entailment_label():
    assert _checks.entailment_label({"contradiction": 0, "ENTAILMENT": 1}) == "ENTAILMENT"
    with pytest.raises(errors.NoEntailmentLabelError, match="'NEGATIVE', 'POSITIVE'") as info:
        _checks.entailment_label(LABELS)
    assert isinstance(info.value, ValueError)
    assert "NLI model" in str(info.value)


def test_labels_and_template():
    assert _checks.label_list("sport") == ["sport"]
    assert _checks.label_list(("a", "b")) == ["a", "b"]
    with pytest.raises(errors.EmptyInputError, match="at least one label"):
        _checks.label_list([])
    with pytest.raises(errors.EmptyInputError):
        _checks.label_list(["sport", " "])
    with pytest.raises(ValueError, match="more than once: 'a'"):
        _checks.label_list(["a", "b", "a"])
    assert _checks.hypothesis_template("about {} .") == "about {} ."
    for bad in ("about it", "{} and {}"):
        with pytest.raises(ValueError, match="exactly once"):
            _checks.hypothesis_template(bad)


def test_custom_labels():
    class Config:
        id2label = {0: "LABEL_0", 1: "LABEL_1"}
        num_labels = 2

    class Model:
        config = Config

    assert _checks.labels_from(Model) == ({0: "LABEL_0", 1: "LABEL_1"},
                                          {"LABEL_0": 0, "LABEL_1": 1})
    assert _checks.labels_from(Model, ["neg", "pos"])[1] == {"neg": 0, "pos": 1}
    with pytest.raises(ValueError, match="3 names; the model has 2 outputs"):
        _checks.labels_from(Model, ["a", "b", "c"])


def test_images_become_rgb():
    rgba = Image.new("RGBA", (4, 4), (255, 0, 0, 0))  # fully transparent red
    rgba.putpixel((0, 0), (0, 0, 255, 255))
    rgb = _checks.rgb_image(rgba)
    assert rgb.mode == "RGB"
    assert rgb.getpixel((1, 1)) == (255, 255, 255)  # transparency over white
    assert rgb.getpixel((0, 0)) == (0, 0, 255)
    grey = _checks.rgb_image(Image.new("L", (4, 4), 100))
    assert grey.mode == "RGB" and grey.getpixel((2, 2)) == (100, 100, 100)
    assert _checks.rgb_image(Image.new("1", (2, 2))).mode == "RGB"
    same = Image.new("RGB", (2, 2))
    assert _checks.rgb_image(same) is same


def test_arrays_become_rgb_images():
    assert _checks.rgb_image(np.zeros((5, 6), np.uint8)).size == (6, 5)
    assert _checks.rgb_image(np.ones((5, 6, 3), np.float32)).getpixel((0, 0)) == (255, 255, 255)
    assert _checks.rgb_image(np.zeros((5, 6, 4), np.uint8)).mode == "RGB"
    with pytest.raises(ValueError, match="H x W x 3/4"):
        _checks.rgb_image(np.zeros((5, 6, 2), np.uint8))
    with pytest.raises(TypeError, match="PIL image or a NumPy array"):
        _checks.rgb_image("picture.png")
