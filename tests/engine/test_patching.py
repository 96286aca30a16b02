"""Batched activation patching equals a one-at-a-time loop, and behaves as patching must."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine import Engine, PromptError
from engine.hooks import hooks_attached
from engine.analyses.patching import activation_patching

from tests.demo_facts import DUPLICATE_TOKEN_HEAD, INDUCTION_HEADS, IOI_HEAD, IOI_HEADS, PREVIOUS_TOKEN_HEAD

CLEAN = "When Mary and John went to the store , John gave a drink to"
CORRUPT = "When Mary and John went to the store , Mary gave a drink to"


def reference_loop(engine: Engine, sweep: str, mode: str = "denoise") -> np.ndarray:
    """One forward per variant, written without the batched code's indexing."""
    clean, corrupt = engine.tokenize(CLEAN), engine.tokenize(CORRUPT)
    source_ids, base_ids = (clean, corrupt) if mode == "denoise" else (corrupt, clean)
    t, f = engine.token_id("Mary"), engine.token_id("John")
    n_layers, n_heads, d_head = engine.info.n_layers, engine.info.n_heads, engine.info.d_head
    model, adapter = engine.model, engine.adapter

    def run(ids, capture=(), edits=None):
        with torch.no_grad(), hooks_attached(model, adapter, n_layers, capture, edits or {}) as store:
            logits = model(input_ids=torch.from_numpy(ids)[None]).logits[0, -1]
        return float(logits[t] - logits[f]), store

    m_clean, _ = run(clean)
    m_corrupt, _ = run(corrupt)
    names = ([f"blocks.{l}.hook_resid_pre" for l in range(n_layers)] + [f"blocks.{n_layers - 1}.hook_resid_post"]
             if sweep == "resid" else
             [f"blocks.{l}.attn.hook_z" for l in range(n_layers)] if sweep == "head" else
             [f"blocks.{l}.hook_{sweep}" for l in range(n_layers)])
    _, source = run(source_ids, capture=names)
    columns = n_heads if sweep == "head" else len(clean)
    values = np.zeros((len(names), columns))
    for r, name in enumerate(names):
        for c in range(columns):
            def edit(act, name=name, c=c):
                act = act.clone()
                if sweep == "head":
                    act[0, :, c * d_head:(c + 1) * d_head] = source[name][0, :, c * d_head:(c + 1) * d_head]
                else:
                    act[0, c] = source[name][0, c]
                return act
            m, _ = run(base_ids, edits={name: [edit]})
            values[r, c] = (m - m_corrupt) / (m_clean - m_corrupt)
    return values


@pytest.fixture(scope="module")
def demo() -> Engine:
    return Engine(device="cpu")


@pytest.mark.parametrize("sweep", ["resid", "attn_out", "mlp_out", "head"])
@pytest.mark.parametrize("mode", ["denoise", "noise"])
def test_batched_sweep_equals_one_at_a_time_loop(demo: Engine, sweep: str, mode: str) -> None:
    got = activation_patching(demo, CLEAN, CORRUPT, "Mary", "John", sweep, mode=mode, chunk_size=7)
    np.testing.assert_allclose(got.values, reference_loop(demo, sweep, mode), atol=1e-5)


def test_patching_the_whole_last_residual_recovers_clean_and_identical_tokens_change_nothing(demo: Engine) -> None:
    result = activation_patching(demo, CLEAN, CORRUPT, "Mary", "John", "resid")
    assert result.row_labels[-1] == "final"
    assert result.values[-1, -1] == pytest.approx(1.0, abs=1e-6)  # the last position after the last layer
    same = demo.tokenize(CLEAN) == demo.tokenize(CORRUPT)
    np.testing.assert_allclose(result.values[0, same], 0.0, atol=1e-6)  # embeddings of identical tokens


def test_the_ioi_heads_the_model_card_names_are_found_by_patching(demo: Engine) -> None:
    result = activation_patching(demo, CLEAN, CORRUPT, "Mary", "John", "head")
    l, h = np.unravel_index(np.argmax(result.values), result.values.shape)
    assert f"L{l}.H{h}" == IOI_HEAD, result.values  # the model card's most important IOI head
    top = np.sort(result.values.ravel())[::-1]
    found = {f"L{l}.H{h}" for l, h in zip(*np.unravel_index(np.argsort(result.values.ravel())[-2:], result.values.shape))}
    assert found == set(IOI_HEADS), result.values  # measured: L0.H0 0.50, L0.H5 0.42, the next 0.03
    assert top[0] + top[1] > 0.8 and top[2] < 0.1, result.values


def test_progress_is_reported_and_cancel_stops_between_chunks(demo: Engine) -> None:
    from engine.analyses.patching import Cancelled

    seen = []
    activation_patching(demo, CLEAN, CORRUPT, "Mary", "John", "head", chunk_size=5, progress=lambda d, n: seen.append((d, n)))
    # counts from the start (0 of 16 before the first chunk), then after each of the 4 chunks
    assert seen == [(0, 16), (5, 16), (10, 16), (15, 16), (16, 16)]
    with pytest.raises(Cancelled):
        activation_patching(demo, CLEAN, CORRUPT, "Mary", "John", "head", chunk_size=5, cancelled=lambda: True)


def test_prompts_of_different_lengths_are_refused(demo: Engine) -> None:
    with pytest.raises(PromptError, match="same number of tokens"):
        activation_patching(demo, CLEAN, CORRUPT + " Mary", "Mary", "John", "head")


def ioi_pairs(n: int) -> list[tuple[str, str, str, str]]:
    """(clean, corrupted, io, s): the corrupted prompt repeats IO instead of S, so the answer flips."""
    from training.demo_data import ioi_examples

    pairs = []
    for ex in ioi_examples(n, np.random.default_rng(3), held_out=True):
        words = ex.prompt.split()
        last_s = max(i for i, w in enumerate(words) if w == ex.s)
        pairs.append((ex.prompt, " ".join(words[:last_s] + [ex.io] + words[last_s + 1:]), ex.io, ex.s))
    return pairs


def test_attribution_patching_is_the_gradient_of_the_metric(demo: Engine) -> None:
    """Independent check: a finite difference along (clean - corrupted) for one head."""
    from engine.analyses.attribution import attribution_patching

    result = attribution_patching(demo, CLEAN, CORRUPT, "Mary", "John", "head")
    clean, corrupt = demo.tokenize(CLEAN), demo.tokenize(CORRUPT)
    t, f = demo.token_id("Mary"), demo.token_id("John")
    name, dh, head = "blocks.0.attn.hook_z", demo.info.d_head, 3
    with torch.no_grad(), hooks_attached(demo.model, demo.adapter, 2, [name]) as store:
        demo.model(input_ids=torch.from_numpy(clean)[None])
    z_clean = store[name][0].double()

    def metric(eps: float) -> float:
        def edit(act):
            act = act.clone().double()
            act[0, :, head * dh:(head + 1) * dh] += eps * (z_clean - act[0])[:, head * dh:(head + 1) * dh]
            return act.float()
        with torch.no_grad(), hooks_attached(demo.model, demo.adapter, 2, (), {name: [edit]}):
            logits = demo.model(input_ids=torch.from_numpy(corrupt)[None]).logits[0, -1].double()
        return float(logits[t] - logits[f])

    eps = 1e-3
    slope = (metric(eps) - metric(-eps)) / (2 * eps) / (result.clean_metric - result.corrupted_metric)
    assert result.values[0, head] == pytest.approx(slope, rel=2e-2, abs=1e-4)


def test_attribution_patching_tracks_activation_patching_on_most_ioi_pairs(demo: Engine) -> None:
    """A first-order estimate ranks components like the real patching on most of 8 held-out
    IOI pairs (measured r > 0.97 on 5 of 8 for heads and attention outputs, 7 of 8 for MLP
    outputs), and fails where one head's patch moves the answer all the way (the demo model's
    IOI head carries nearly the whole effect, a saturated nonlinearity: r < 0 on the other
    pairs). The model card says so; this test keeps both halves of that claim honest."""
    from engine.analyses.attribution import attribution_patching

    for sweep, at_least in {"head": 5, "attn_out": 5, "mlp_out": 6}.items():
        correlations = []
        for clean, corrupt, io, s in ioi_pairs(8):
            real = activation_patching(demo, clean, corrupt, io, s, sweep).values.ravel()
            estimate = attribution_patching(demo, clean, corrupt, io, s, sweep).values.ravel()
            correlations.append(np.corrcoef(real, estimate)[0, 1])
        assert sum(r > 0.9 for r in correlations) >= at_least, (sweep, correlations)
        if sweep == "head":
            assert min(correlations) < 0.5, correlations  # where it fails, it fails (see the card)


def test_patching_finds_the_model_cards_induction_circuit(demo: Engine) -> None:
    """Clean: a 10-word segment then its first five words again (the 6th is copied).
    Corrupted: the first copy of the 5th word is replaced, so nothing to copy. Noising one
    head at a time (its corrupted output into the clean run), averaged over 6 prompts:
    measured effects (1 - normalised) L0.H3 1.01 (previous-token), L1.H0 0.96, L1.H1 0.68
    (induction), L1.H2 0.31 (duplicate-token); L0.H1 0.29."""
    from training.demo_data import POOL_IDS, vocabulary

    words = {i: w for w, i in vocabulary().items()}
    pool = [words[int(i)] for i in POOL_IDS]
    rng = np.random.default_rng(3)
    effects = []
    for _ in range(6):
        seg = list(rng.choice(pool, 10, replace=False))
        other = [w for w in pool if w not in seg]
        clean = seg + seg[:5]
        corrupt = list(clean)
        corrupt[4] = rng.choice(other)
        result = activation_patching(demo, " ".join(clean), " ".join(corrupt), seg[5], other[1], "head", mode="noise")
        effects.append(1 - result.values)
    effect = np.mean(effects, axis=0)
    assert f"L0.H{int(np.argmax(effect[0]))}" == PREVIOUS_TOKEN_HEAD
    strong = {f"L1.H{h}" for h in np.flatnonzero(effect[1] > 0.3)}
    assert strong & set(INDUCTION_HEADS) and strong <= {*INDUCTION_HEADS, DUPLICATE_TOKEN_HEAD}, effect
