"""The SAE shipped for the demo model (resources/demo_saes/L0.resid_post) opens through the
engine's loader, fits the demo model, and does what its card says."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine import Engine
from engine.dictionaries import fits, load_dictionary
from engine.paths import demo_model_dir
from training.sae.corpus import demo_windows
from tests.demo_facts import THE_FEATURE

FOLDER = demo_model_dir().parent / "demo_saes" / "L0.resid_post"


@pytest.fixture(scope="module")
def demo() -> Engine:
    return Engine(device="cpu")


def test_the_demo_sae_fits_and_splicing_it_in_keeps_most_of_the_loss(demo: Engine) -> None:
    sae = load_dictionary(FOLDER)
    fits(sae, demo)
    windows = demo_windows(4242)
    ids = np.stack([next(windows) for _ in range(16)])
    site = sae.site_in

    def loss(edit=None) -> float:
        logits = demo.handle.forward(ids, {site: [edit]} if edit else None).logits.float()
        logp = torch.log_softmax(logits[:, :-1], -1)
        return float(-logp.gather(-1, torch.as_tensor(ids[:, 1:])[..., None]).mean())

    def spliced(act):
        out = act.clone()
        out[:, 1:] = sae(act[:, 1:])
        return out

    def mean_ablated(act):
        out = act.clone()
        out[:, 1:] = act[:, 1:].reshape(-1, act.shape[-1]).mean(0)
        return out

    clean, with_sae, reference = loss(), loss(spliced), loss(mean_ablated)
    assert (reference - with_sae) / (reference - clean) > 0.9, (clean, with_sae, reference)  # card: 94.6%


def test_the_cards_the_feature_fires_on_the(demo: Engine) -> None:
    """The card names feature THE_FEATURE as firing on 'the' (precision 0.93, recall 0.90)."""
    sae = load_dictionary(FOLDER)
    windows = demo_windows(99)
    ids = np.stack([next(windows) for _ in range(32)])
    with torch.no_grad():
        acts = sae.encode(demo.handle.forward(ids, capture={sae.site_in}, logits_to_keep=1)[sae.site_in][:, 2:].float())
    fires = acts[..., THE_FEATURE].numpy().reshape(-1) > 0
    is_the = ids[:, 2:].reshape(-1) == demo.handle.token_id("the")
    assert (fires & is_the).sum() / fires.sum() > 0.85 and (fires & is_the).sum() / is_the.sum() > 0.7


@pytest.mark.parametrize("layer", [0, 1])
def test_the_shipped_transcoders_stand_in_for_their_mlps(demo: Engine, layer: int) -> None:
    """Each MLP replaced by its transcoder's prediction (from the MLP's input, same forward):
    most of the loss the MLP is worth is kept (cards: 99.7% and 85.1% recovered)."""
    folder = demo_model_dir().parent / "demo_saes" / f"L{layer}.mlp_transcoder"
    tc = load_dictionary(folder)
    assert (tc.kind, tc.site_in, tc.site_out) == ("transcoder", f"blocks.{layer}.ln2.hook_normalized",
                                                  f"blocks.{layer}.hook_mlp_out")
    windows = demo_windows(777)
    ids = np.stack([next(windows) for _ in range(16)])
    seen = {}

    def read(act):
        seen["x"] = act
        return act

    def predicted(act):
        out = act.clone()
        out[:, 1:] = tc.forward(seen["x"][:, 1:].float()).to(act.dtype)
        return out

    def mean_ablated(act):
        out = act.clone()
        out[:, 1:] = act[:, 1:].reshape(-1, act.shape[-1]).mean(0)
        return out

    def loss(edits=None) -> float:
        logits = demo.handle.forward(ids, edits).logits.float()
        return float(torch.nn.functional.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), torch.as_tensor(ids[:, 1:]).reshape(-1)))

    clean = loss()
    spliced = loss({tc.site_in: [read], tc.site_out: [predicted]})
    reference = loss({tc.site_out: [mean_ablated]})
    assert (reference - spliced) / (reference - clean) > 0.75, (clean, spliced, reference)
