"""The table of real configurations, and a stand-in built from it."""

from __future__ import annotations

import json
import os

import pytest
import torch

from explainlab.models import ROLES, list_roles
from explainlab_course.scale import standins

from conftest import TWIN_HOME, twin


def test_the_table_has_every_role_and_variant_with_its_hub_id():
    rows = standins.table()
    expected = {role: ROLES[role].hub_id for role in list_roles()}
    expected |= {f"{role}-{variant}": hub_id for role in list_roles()
                 for variant, hub_id in ROLES[role].variants.items()}
    assert {role: row["hub_id"] for role, row in rows.items()} == expected


@pytest.mark.parametrize("role", sorted(standins.table()))
def test_weight_file_sizes_agree_with_the_configuration(role):
    """The table's weight file holds the configuration's parameters in its dtype: at least
    their bytes, at most those plus a tied output layer stored a second time (Qwen3's file
    keeps lm_head beside embed_tokens), with 1% for the file's own framing."""
    row = standins.table()[role]
    weights = sum(size for name, size in row["files"].items()
                  if name.endswith((".safetensors", ".bin")))
    config = standins._published_config(role)
    itemsize = torch.empty(0, dtype=config.dtype).element_size()
    unique = standins.parameter_count(role) * itemsize
    tied = getattr(config, "vocab_size", 0) * getattr(config, "hidden_size", 0) * itemsize \
        if getattr(config, "tie_word_embeddings", False) else 0
    assert unique * 0.99 <= weights <= (unique + tied) * 1.01, (unique, tied, weights)


def test_qwen_keeps_its_published_dtype_and_chat_template():
    config = standins._published_config("lm")
    assert config.dtype == torch.bfloat16
    template = standins.entry("lm")["tokenizer"]["chat_template"]
    assert "enable_thinking" in template and "<|im_start|>" in template


@pytest.mark.slow
def test_a_stand_in_has_the_real_sizes_and_the_twins_tokenizer(tmp_path):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from explainlab import resolve

    twin("cross-encoder")
    scale_home = tmp_path / "scale"
    logged = []
    folder = standins.build("cross-encoder", scale_home=scale_home, twins_home=TWIN_HOME,
                            log=logged.append)
    assert len(logged) == 1
    row = standins.entry("cross-encoder")["config"]
    with standins.explainlab_home(scale_home):
        assert resolve("cross-encoder", "offline") == str(folder)
    model = AutoModelForSequenceClassification.from_pretrained(folder)
    for name in ("hidden_size", "num_hidden_layers", "num_attention_heads",
                 "intermediate_size", "vocab_size", "max_position_embeddings"):
        assert getattr(model.config, name) == row[name], name
    assert model.config.num_labels == 1
    assert sum(p.numel() for p in model.parameters()) == \
        standins.parameter_count("cross-encoder")
    tokenizer = AutoTokenizer.from_pretrained(folder)
    original = AutoTokenizer.from_pretrained(twin("cross-encoder"))
    assert len(tokenizer) == row["vocab_size"] > len(original)
    text = "how many people live in berlin?"
    assert tokenizer(text)["input_ids"] == original(text)["input_ids"]
    manifest = json.loads((folder / "twin.json").read_text())
    assert manifest["kind"] == "scale stand-in" and manifest["seed"] == standins.SEED
    # cached: the second call builds nothing and keeps the folder
    stamp = os.stat(folder / "model.safetensors").st_mtime_ns
    assert standins.build("cross-encoder", scale_home=scale_home, twins_home=TWIN_HOME,
                          log=logged.append) == folder
    assert len(logged) == 1 and os.stat(folder / "model.safetensors").st_mtime_ns == stamp
