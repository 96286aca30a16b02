"""Analysis 'feature_search': features ranked by their mean activation on a token's
occurrences in the corpus, equal to encoding those occurrences by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine import Engine, EngineError, UnknownTokenError
from engine.corpus import read_texts, windows_from_texts
from engine.dictionaries import load_dictionary
from engine.paths import demo_model_dir

FOLDER = str(demo_model_dir().parent / "demo_saes" / "L0.resid_post")


@pytest.fixture(scope="module")
def demo() -> Engine:
    return Engine(device="cpu")


def test_the_search_equals_averaging_the_tokens_occurrences_by_hand(demo: Engine) -> None:
    found = demo.analyse("feature_search", None, {"folder": FOLDER, "token": "Mary", "n_tokens": 4096})
    sae = load_dictionary(FOLDER)
    rows = []
    for row in windows_from_texts(demo.handle, read_texts(f"{FOLDER}/corpus.txt"), 128):
        rows.append(row)
        if len(rows) * 127 >= 4096:
            break
    ids = np.stack(rows)
    x = demo.handle.forward(ids, capture={sae.site_in})[sae.site_in].float()
    with torch.no_grad():
        acts = sae.encode(x).numpy()
    mary = demo.handle.token_id("Mary")
    on = acts[:, 1:][ids[:, 1:] == mary]  # [occurrences, d_sae]
    assert found.occurrences == found.averaged == len(on)
    means = on.mean(0)
    np.testing.assert_array_equal(found.feature_ids, np.argsort(-means)[: len(found.feature_ids)])
    np.testing.assert_allclose(found.means, means[found.feature_ids], atol=1e-4)
    np.testing.assert_allclose(found.fires, (on[:, found.feature_ids] > 0).mean(0))


def test_a_token_outside_the_vocabulary_or_the_corpus_says_so(demo: Engine) -> None:
    with pytest.raises(UnknownTokenError, match="nearest"):
        demo.analyse("feature_search", None, {"folder": FOLDER, "token": "Paris"})
    with pytest.raises(EngineError, match="does not occur"):
        demo.analyse("feature_search", None, {"folder": FOLDER, "token": "[UNK]", "n_tokens": 512})
