"""Training a dictionary for any model (training/train_sae.py): the corpus readers, the TopK
math against the engine's own loader, the splice measurement, and a whole run end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from engine import Engine
from engine.dictionaries import fits, load_dictionary
from tests.conftest import TINY_WORDS
from training.sae.corpus import read_texts, windows_from_texts
from training.sae.topk import TopKSAE, explained_variance
from training.train_sae import hook_name, main, measure


def test_corpus_files_are_read_and_bad_lines_are_named(tmp_path) -> None:
    (tmp_path / "a.txt").write_text("one line\n\n two \n")
    assert read_texts(tmp_path / "a.txt") == ["one line", " two "]
    (tmp_path / "b.jsonl").write_text('{"text": "x y"}\n{"text": 3}\n')
    with pytest.raises(ValueError, match="b.jsonl line 2"):
        read_texts(tmp_path / "b.jsonl")
    with pytest.raises(FileNotFoundError):
        read_texts(tmp_path / "missing.txt")


def test_windows_cut_the_token_stream_in_order(tiny_engine) -> None:
    texts = [" ".join(TINY_WORDS[i:i + 7]) for i in range(0, 70, 7)]
    rows = list(windows_from_texts(tiny_engine, texts, window=12))
    prefix = list(tiny_engine.handle.special_prefix)
    stream = [t for text in texts for t in list(tiny_engine.tokenize(text))[len(prefix):]]
    assert all(len(r) == 12 and list(r[:len(prefix)]) == prefix for r in rows)
    assert [t for r in rows for t in r[len(prefix):]] == stream[:len(rows) * (12 - len(prefix))]


def test_topk_encoding_matches_the_engines_loader_of_the_saved_folder(tmp_path) -> None:
    from training.train_sae import save

    torch.manual_seed(0)
    sae = TopKSAE(32, 48, k=5, mean=torch.randn(32))
    with torch.no_grad():
        sae.b_enc.normal_()
    save(sae, tmp_path / "sae", "blocks.1.hook_resid_post", "tiny", {
        "explained_variance": 0.5, "l0": 5, "dead_fraction": 0.1, "loss_clean": 1, "loss_spliced": 2,
        "loss_mean_ablated": 3, "loss_recovered": 0.5}, {"seed": 0})
    loaded = load_dictionary(tmp_path / "sae")
    x = torch.randn(20, 32)
    with torch.no_grad():
        ours = sae.encode(x)
    assert ((ours > 0).sum(-1) <= 5).all() and (ours >= 0).all()
    torch.testing.assert_close(loaded.encode(x), ours, atol=1e-5, rtol=0)
    torch.testing.assert_close(loaded.decode(loaded.encode(x)), sae.decode(ours).detach(), atol=1e-5, rtol=0)
    assert loaded.site_in == "blocks.1.hook_resid_post" and loaded.k == 5


class _Perfect(torch.nn.Module):
    """Reconstructs exactly: splicing it in must leave the model's loss unchanged."""

    def forward(self, x):
        return x, (x > 0).float()


def test_a_perfect_reconstruction_recovers_all_the_loss(tiny_engine) -> None:
    rows = [np.array([0, *range(5, 17)]), np.array([0, *range(20, 32)])]
    site = "blocks.0.hook_resid_post"
    x = tiny_engine.handle.forward(np.stack(rows), capture={site})[site][:, 1:].reshape(-1, 32).float()
    numbers = measure(tiny_engine, _Perfect(), site, rows, x)
    assert numbers["loss_spliced"] == pytest.approx(numbers["loss_clean"], abs=1e-6)
    assert numbers["loss_recovered"] == pytest.approx(1.0, abs=1e-6)
    assert numbers["loss_mean_ablated"] != numbers["loss_clean"]  # the reference moved (a random model: either way)
    assert numbers["explained_variance"] == pytest.approx(1.0)
    assert explained_variance(x, x.mean(0).expand_as(x)) == pytest.approx(0.0, abs=1e-6)


def test_a_whole_run_on_a_text_corpus_gives_a_folder_the_app_opens(tmp_path, tiny_gpt2_dir) -> None:
    rng = np.random.default_rng(0)
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("\n".join(json.dumps({"text": " ".join(rng.choice(TINY_WORDS, 30))}) for _ in range(200)))
    out = tmp_path / "sae"
    assert main([str(tiny_gpt2_dir), "--site", "L0.resid_post", "--corpus", str(corpus), "--tokens", "2048",
                 "--window", "16", "--d-sae", "64", "--k", "4", "--epochs", "2", "--batch", "256", "--out", str(out)]) == 0
    sae = load_dictionary(out)
    fits(sae, Engine(str(tiny_gpt2_dir), device="cpu"))
    card = (out / "README.md").read_text()
    assert "explained variance" in card and "blocks.0.hook_resid_post" in card
    ev = float(card.split("|---|---|---|---|---|---|---|\n| ")[1].split(" |")[0])
    assert 0.0 < ev <= 1.0


def test_site_names_in_every_form() -> None:
    assert hook_name("L3.resid_post") == "blocks.3.hook_resid_post"
    assert hook_name("blocks.3.hook_mlp_out") == "blocks.3.hook_mlp_out"
    with pytest.raises(Exception, match="blocks"):
        hook_name("nonsense")


def test_the_best_feature_for_a_label_is_found_with_its_precision_and_recall() -> None:
    from training.sae.demo_features import best_features

    rng = np.random.default_rng(0)
    label = rng.random(400) < 0.3
    acts = rng.random((400, 5)) * (rng.random((400, 5)) < 0.2)  # noise features
    acts[:, 3] = label * 1.0  # feature 3 is exactly the label ...
    acts[:10, 3] = 0.0  # ... missing a few
    m = best_features(acts, {"x": label})["x"]
    fires = acts[:, 3] > 0
    assert m["feature"] == 3
    assert m["precision"] == pytest.approx((fires & label).sum() / fires.sum())
    assert m["recall"] == pytest.approx((fires & label).sum() / label.sum())


def test_token_features_report_the_token_a_feature_fires_on() -> None:
    from training.sae.demo_features import token_features

    rng = np.random.default_rng(1)
    tokens = rng.integers(0, 6, 500)
    acts = np.zeros((500, 3))
    acts[:, 0] = tokens == 4  # exactly token 4
    acts[:, 1] = rng.random(500) < 0.5  # no token in particular
    found = {f["feature"]: f for f in token_features(acts, tokens)}
    assert found[0]["token"] == 4 and found[0]["precision"] == 1.0 and found[0]["recall"] == 1.0
    assert found[1]["precision"] < 0.5
    assert 2 not in found  # never fires
