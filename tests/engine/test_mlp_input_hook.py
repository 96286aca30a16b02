"""blocks.{l}.ln2.hook_normalized: what the MLP reads (its normalised input), where transcoders
read; equal to the model's own norm applied to the captured resid_mid; a transcoder written
for the tiny model then fits and its features are read live."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from engine import Engine
from engine.dictionaries import fits, load_dictionary
from tests.conftest import TINY_WORDS
from training.tiny_models import save_random_family

PROMPT = "Mary and John went to the store"


@pytest.mark.parametrize("family,norm", [("gpt2", "transformer.h.1.ln_2"), ("llama", "model.layers.1.post_attention_layernorm")])
def test_the_mlp_input_is_the_norm_of_resid_mid(tmp_path, tiny_gpt2_dir, family: str, norm: str) -> None:
    folder = tiny_gpt2_dir if family == "gpt2" else save_random_family(tmp_path / family, TINY_WORDS, family)
    engine = Engine(str(folder), device="cpu")
    ids = engine.tokenize(PROMPT)
    store = engine.handle.forward(ids, capture={"blocks.1.hook_resid_mid", "blocks.1.ln2.hook_normalized"}).acts
    with torch.no_grad():
        expected = engine.model.get_submodule(norm)(store["blocks.1.hook_resid_mid"])
    torch.testing.assert_close(store["blocks.1.ln2.hook_normalized"], expected, atol=1e-6, rtol=0)


def test_a_transcoder_for_the_tiny_model_fits_and_its_features_are_read(tmp_path, tiny_engine) -> None:
    folder = tmp_path / "tc"
    folder.mkdir()
    (folder / "cfg.json").write_text(json.dumps({"architecture": "transcoder", "d_in": 32, "d_sae": 24, "d_out": 32,
                                                 "metadata": {"hook_name": "blocks.1.ln2.hook_normalized",
                                                              "hook_name_out": "blocks.1.hook_mlp_out"}}))
    g = torch.Generator().manual_seed(0)
    save_file({"W_enc": torch.randn(32, 24, generator=g), "W_dec": torch.randn(24, 32, generator=g),
               "b_enc": torch.zeros(24), "b_dec": torch.zeros(32)}, str(folder / "sae_weights.safetensors"))
    tc = load_dictionary(folder)
    fits(tc, tiny_engine)
    result = tiny_engine.run(PROMPT, want=(), readouts={"features": {"folder": str(folder), "k": 3}})
    f = result.readouts["features"]
    x = tiny_engine.handle.forward(tiny_engine.tokenize(PROMPT), capture={tc.site_in})[tc.site_in][0]
    by_hand = torch.relu(x @ tc.W_enc + tc.b_enc).numpy()
    by_hand[: f.first] = 0
    np.testing.assert_allclose(f.shown_values, by_hand[:, f.shown_ids], atol=1e-5)
    assert "transcoder" in f.label
