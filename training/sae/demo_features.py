"""Which demo-SAE features mean something checkable: for labelled token sets (names, the
second copy of a repeated segment, punctuation), the feature that best picks each set out,
with its precision and recall, on held-out sequences made for the purpose.

    python -m training.sae.demo_features resources/demo_saes/L0.resid_post [--card]

--card appends the table to the folder's README.md (what `make demo-sae` does)."""

from __future__ import annotations

import sys

import numpy as np
import torch


def labelled_rows(n: int, seed: int = 123) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """[n, 1 + 5 + 2*12] rows: BOS, 5 random tokens, a 12-token segment, the segment again
    (whole vocabulary), and boolean masks [n, T] per label."""
    from training import demo_data

    ids = demo_data.repeated_sequences(n, 12, np.random.default_rng(seed), prefix_len=5, token_class="all")
    names = np.isin(ids, demo_data.TOKEN_CLASSES["names"])
    punct = np.isin(ids, [demo_data.VOCAB["."], demo_data.VOCAB[","]])
    second = np.zeros_like(names)
    second[:, 1 + 5 + 12 + 1:] = True  # inside the second copy, after its first token (copying is possible)
    return ids, {"a name": names, "the second copy of a repeated segment": second, "punctuation": punct}


def best_features(acts: np.ndarray, labels: dict[str, np.ndarray]) -> dict[str, dict]:
    """acts [N, d_sae] (positions flattened, BOS excluded by the caller's mask); for each label
    [N] the feature with the best F1 of 'fires' (> 0) vs the label."""
    fires = acts > 0
    out = {}
    for name, label in labels.items():
        hits = (fires & label[:, None]).sum(0)
        precision = hits / np.maximum(fires.sum(0), 1)
        recall = hits / max(label.sum(), 1)
        f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
        best = int(f1.argmax())
        out[name] = {"feature": best, "precision": float(precision[best]), "recall": float(recall[best]),
                     "f1": float(f1[best]), "share_of_tokens": float(label.mean())}
    return out


def token_features(acts: np.ndarray, tokens: np.ndarray, min_fires: int = 20) -> list[dict]:
    """For every feature that fires at least `min_fires` times: the token it fires on most,
    precision (share of its firings on that token) and recall (share of that token's
    occurrences it fires on). acts [N, d_sae], tokens [N]."""
    fires = acts > 0
    totals = np.bincount(tokens, minlength=tokens.max() + 1)
    out = []
    for f in np.flatnonzero(fires.sum(0) >= min_fires):
        counts = np.bincount(tokens[fires[:, f]], minlength=len(totals))
        top = int(counts.argmax())
        out.append({"feature": int(f), "token": top, "precision": counts[top] / fires[:, f].sum(),
                    "recall": counts[top] / totals[top], "fires": int(fires[:, f].sum())})
    return out


def measure_tokens(folder: str, rows: int = 96, seed: int = 777) -> dict[str, list[dict]]:
    """Features that read the current token, and features that read the previous one (what
    a previous-token head writes), on rows of the demo model's own data."""
    from engine import Engine
    from engine.dictionaries import load_dictionary
    from training.sae.corpus import demo_windows

    sae = load_dictionary(folder)
    engine = Engine(device="cpu")
    windows = demo_windows(seed)
    ids = np.stack([next(windows) for _ in range(rows)])
    with torch.no_grad():
        x = engine.handle.forward(ids, capture={sae.site_in}, logits_to_keep=1)[sae.site_in][:, 2:].float()
        acts = sae.encode(x).reshape(-1, sae.d_sae).numpy()
    current = token_features(acts, ids[:, 2:].reshape(-1))
    previous = token_features(acts, ids[:, 1:-1].reshape(-1))
    by_feature = {c["feature"]: c for c in current}
    words = {i: w for w, i in engine.tokenizer.get_vocab().items()}
    for item in current + previous:
        item["word"] = words.get(item["token"], str(item["token"]))
    return {"current": [c for c in current if c["precision"] >= 0.9],
            "previous": [p for p in previous if p["precision"] >= 0.9 and by_feature[p["feature"]]["precision"] < 0.5],
            "measured": len(current)}


def measure(folder: str) -> dict[str, dict]:
    from engine import Engine
    from engine.dictionaries import load_dictionary

    sae = load_dictionary(folder)
    engine = Engine(device="cpu")
    ids, labels = labelled_rows(64)
    with torch.no_grad():
        x = engine.handle.forward(ids, capture={sae.site_in}, logits_to_keep=1)[sae.site_in][:, 1:].float()
        acts = sae.encode(x).reshape(-1, sae.d_sae).numpy()
    return best_features(acts, {name: mask[:, 1:].reshape(-1) for name, mask in labels.items()})


def token_section(t: dict) -> str:
    def examples(items: list[dict]) -> str:
        best = sorted(items, key=lambda i: -i["precision"] * i["recall"])[:4]
        if not best:
            return "none"
        return "; ".join(f"{i['feature']} on '{i['word']}' (precision {i['precision']:.2f}, recall {i['recall']:.2f})" for i in best)
    return ("\n## Token features\n\nOn 96 held-out rows of the demo model's own data, of the "
            f"{t['measured']} features that fire at least 20 times:\n\n"
            f"- {len(t['current'])} fire on one token (≥ 90% of their firings): {examples(t['current'])};\n"
            f"- {len(t['previous'])} fire on whatever follows one token (≥ 90% of their firings are right after it, "
            f"while no single current token makes up half of them): what a previous-token head writes: "
            f"{examples(t['previous'])}.\n")


def card_section(found: dict[str, dict]) -> str:
    rows = "\n".join(f"| {name} | {m['feature']} | {m['precision']:.2f} | {m['recall']:.2f} | {100 * m['share_of_tokens']:.0f}% |"
                     for name, m in found.items())
    return ("\n## Features checked\n\nOn 64 held-out rows (BOS, 5 random tokens, a 12-token segment of any tokens, the "
            "segment again; `python -m training.sae.demo_features`), the feature whose firing best picks out each "
            "set of tokens (best F1), and how well:\n\n"
            "| tokens | feature | precision | recall | share of tokens |\n|---|---|---|---|---|\n" + rows + "\n")


def main(argv: list[str] | None = None) -> int:
    from pathlib import Path

    argv = sys.argv[1:] if argv is None else argv
    found = measure(argv[0])
    for name, m in found.items():
        print(f"{name}: feature {m['feature']}, precision {m['precision']:.2f}, recall {m['recall']:.2f} "
              f"(the label covers {100 * m['share_of_tokens']:.0f}% of tokens)")
    tokens = measure_tokens(argv[0])
    print(token_section(tokens))
    if "--card" in argv:
        card = Path(argv[0]) / "README.md"
        card.write_text(card.read_text().split("\n## Features checked")[0] + card_section(found) + token_section(tokens))
    return 0


if __name__ == "__main__":
    sys.exit(main())
