"""The explainers bound their own memory: without ``internal_batch_size`` each forward pass
takes at most the rows that fit in ``ACTIVATION_BUDGET``, whatever ``n_steps`` is, and the
result is the one a single pass gives."""

from __future__ import annotations

import pytest
import torch

from explainlab.explain import (
    ImageClassificationExplainer,
    SequenceClassificationExplainer,
    _attribution,
)
from explainlab.images import image_processor, make_image

from conftest import twin

pytestmark = pytest.mark.slow
LOVE = "I love you, I like you"


class RowCounter:
    """The batch size of every forward pass of a module."""

    def __init__(self, module):
        self.rows: list[int] = []
        self.handle = module.register_forward_hook(
            lambda _m, _args, out: self.rows.append(
                int((out if torch.is_tensor(out) else out[0]).shape[0])))


@pytest.fixture(scope="module")
def sst2():
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = twin("sst2")
    return (AutoModelForSequenceClassification.from_pretrained(folder).eval(),
            AutoTokenizer.from_pretrained(folder))


def test_rows_that_fit_shrinks_with_length_and_grows_with_the_budget(sst2):
    model, _ = sst2
    short = _attribution.rows_that_fit(model, 10)
    assert short > _attribution.rows_that_fit(model, 100) >= 1
    assert _attribution.rows_that_fit(model, 10, budget=2 * _attribution.ACTIVATION_BUDGET) \
        >= 2 * short - 1
    assert _attribution.rows_that_fit(model, 10_000, budget=1) == 1


@pytest.mark.parametrize("n_steps", [50, 200])
def test_text_passes_stay_within_the_budget(sst2, monkeypatch, n_steps):
    model, tokenizer = sst2
    tokens = len(tokenizer(LOVE)["input_ids"])
    per_row = _attribution.ACTIVATION_BUDGET // _attribution.rows_that_fit(model, tokens)
    monkeypatch.setattr(_attribution, "ACTIVATION_BUDGET", 7 * per_row)
    rows = _attribution.rows_that_fit(model, tokens)
    assert 1 < rows < 50, "the small budget makes the path split"
    counter = RowCounter(model.distilbert.transformer)
    try:
        bounded = SequenceClassificationExplainer(model, tokenizer)(LOVE, n_steps=n_steps)
    finally:
        counter.handle.remove()
    assert max(counter.rows) <= rows
    assert sum(counter.rows) >= n_steps, "every step went through the model"
    whole = SequenceClassificationExplainer(model, tokenizer)(
        LOVE, n_steps=n_steps, internal_batch_size=10_000)
    assert [t for t, _ in bounded] == [t for t, _ in whole]
    assert torch.allclose(torch.tensor([v for _, v in bounded]),
                          torch.tensor([v for _, v in whole]), atol=1e-5)


def test_image_noise_tunnel_stays_within_the_budget(monkeypatch):
    from transformers import AutoModelForImageClassification

    folder = twin("vit")
    model = AutoModelForImageClassification.from_pretrained(folder).eval()
    explainer = ImageClassificationExplainer(model, image_processor(folder))
    per_row = _attribution.ACTIVATION_BUDGET // explainer._rows()
    monkeypatch.setattr(_attribution, "ACTIVATION_BUDGET", 4 * per_row)
    rows = explainer._rows()
    assert 1 < rows < 50, "10 noisy copies x 5 steps no longer go in one pass"
    counter = RowCounter(model.vit.embeddings)
    try:
        explainer(make_image("circle", "red", size=32))
    finally:
        counter.handle.remove()
    assert max(counter.rows) <= rows
