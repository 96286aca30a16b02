"""Analysis 'feature_card': a feature's top contexts, histogram, density and output tokens over
a corpus, checked against encoding the same windows by hand; cached on disk."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine import Engine, EngineError
from engine.corpus import read_texts, windows_from_texts
from engine.dictionaries import load_dictionary
from engine.paths import demo_model_dir
from tests.demo_facts import CLAMPED_FEATURE, THE_FEATURE

FOLDER = str(demo_model_dir().parent / "demo_saes" / "L0.resid_post")
FEATURE = THE_FEATURE


@pytest.fixture(scope="module")
def demo() -> Engine:
    return Engine(device="cpu")


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MICROTOME_CACHE_DIR", str(tmp_path))
    return tmp_path


def by_hand(demo: Engine, n_tokens: int) -> np.ndarray:
    """[rows, T] activations of FEATURE over the same windows, from the captured activations."""
    sae = load_dictionary(FOLDER)
    rows = []
    for row in windows_from_texts(demo.handle, read_texts(f"{FOLDER}/corpus.txt"), 128):
        rows.append(row)
        if len(rows) * 127 >= n_tokens:
            break
    x = demo.handle.forward(np.stack(rows), capture={sae.site_in})[sae.site_in][:, 1:].float()
    with torch.no_grad():
        return sae.encode(x)[..., FEATURE].numpy()


def test_the_card_agrees_with_encoding_the_corpus_by_hand(demo: Engine, cache_dir) -> None:
    card = demo.analyse("feature_card", None, {"folder": FOLDER, "feature": FEATURE, "n_tokens": 2048})
    acts = by_hand(demo, 2048)
    assert card.n_tokens == acts.size and card.density == pytest.approx((acts > 0).mean())
    assert max(card.contexts[0][1]) == pytest.approx(acts.max(), abs=1e-4)  # the strongest context first
    tops = np.sort(acts.ravel())[::-1][: len(card.contexts)]
    np.testing.assert_allclose([max(v) for _, v in card.contexts], tops, atol=1e-4)
    assert all(t[v.index(max(v))] == "the" for t, v in card.contexts)  # the card's claim: it fires on 'the'
    counts, edges = card.histogram
    assert counts.sum() == (acts > 0).sum() and edges[-1] == pytest.approx(acts.max(), abs=1e-4)
    w = load_dictionary(FOLDER).W_dec[FEATURE].double() @ demo.handle.unembed_weight().double()
    assert [t for t, _ in card.promoted] == demo.handle.decode_tokens(w.argsort(descending=True)[:8].tolist())
    assert card.promoted[0][1] == pytest.approx(float(w.max()), abs=1e-4)


def test_a_second_card_comes_from_the_disk_cache(demo: Engine, cache_dir) -> None:
    first = demo.analyse("feature_card", None, {"folder": FOLDER, "feature": FEATURE, "n_tokens": 1024})
    again = demo.analyse("feature_card", None, {"folder": FOLDER, "feature": FEATURE, "n_tokens": 1024})
    other = demo.analyse("feature_card", None, {"folder": FOLDER, "feature": CLAMPED_FEATURE, "n_tokens": 1024})
    assert (first.from_cache, again.from_cache, other.from_cache) == (False, True, True)
    assert again.contexts == first.contexts and again.density == first.density
    assert len(list(cache_dir.glob("features/*.npz"))) == 1


def test_bad_requests_say_why(demo: Engine, cache_dir, tmp_path) -> None:
    with pytest.raises(EngineError, match="1536"):
        demo.analyse("feature_card", None, {"folder": FOLDER, "feature": 99999})
    with pytest.raises(EngineError, match="corpus"):
        demo.analyse("feature_card", None, {"folder": FOLDER, "feature": 1, "corpus": str(tmp_path / "none.txt")})
