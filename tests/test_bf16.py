"""A model kept in bfloat16 (the real Qwen3-0.6B's published dtype, kept on a GPU): Inseq's
scores come out in bfloat16, and ``clean_attribution`` makes them showable."""

from __future__ import annotations

import pytest
import torch

import explainlab

from conftest import twin

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bf16_output():
    import inseq
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = twin("lm")
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.bfloat16,
                                                 attn_implementation="eager")
    wrapped = inseq.load_model(model, "saliency", tokenizer=tokenizer)
    output = wrapped.attribute("The capital of France is",
                               generation_args={"max_new_tokens": 3, "do_sample": False},
                               step_scores=["probability"], show_progress=False)
    return output, tokenizer


def test_inseq_gives_bfloat16_scores_that_show_cannot_draw(bf16_output):
    output, _ = bf16_output
    sequence = output.sequence_attributions[0]
    assert sequence.step_scores["probability"].dtype == torch.bfloat16
    with pytest.raises(TypeError, match="BFloat16"):
        output.show(display=False, return_html=True)


def test_clean_attribution_makes_the_scores_float32_with_the_same_values(bf16_output):
    output, tokenizer = bf16_output
    cleaned = explainlab.clean_attribution(output, tokenizer)
    before, after = output.sequence_attributions[0], cleaned.sequence_attributions[0]
    assert after.step_scores["probability"].dtype == torch.float32
    assert after.target_attributions.dtype == torch.float32
    assert torch.equal(after.step_scores["probability"],
                       before.step_scores["probability"].float())
    assert torch.equal(after.target_attributions.nan_to_num(),
                       before.target_attributions.float().nan_to_num())
    assert before.step_scores["probability"].dtype == torch.bfloat16, "the input is unchanged"
    html = cleaned.show(display=False, return_html=True)
    assert "probability" in html


def test_session_dtype_is_float32_on_a_cpu_and_auto_on_cuda():
    session = explainlab.setup(device="cpu", quiet=True)
    assert session.dtype is torch.float32
    assert explainlab.notebook.Session(profile="offline", device="cuda:0", seed=0,
                                       ipython_patched=False).dtype == "auto"
