"""Readout 'prediction': the next-token distribution after the prompt and logit(target) −
logit(foil). Cheapest of all (the forward already computed the last logits), so the live
view gets it first."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..analysis import Readout, Prompt, ReadContext, register
from ..results import Prediction


@dataclass(frozen=True)
class PredictionParams:
    top_k: int = 10


class PredictionReadout(Readout):
    key = "prediction"
    Params = PredictionParams
    order = 0  # read first: it is what the user looks at

    def needs(self, params: PredictionParams, handle, prompt: Prompt) -> set[str]:
        return set()

    def read(self, ctx: ReadContext, params: PredictionParams) -> Prediction:
        last = ctx.last_logits
        probs = torch.softmax(last, -1)
        top_p, top_i = probs.topk(min(params.top_k, probs.shape[-1]))
        t, f = ctx.target_id, ctx.foil_id
        unknown_positions, unknown_words = ctx.handle.unknown_words(ctx.prompt.text, ctx.ids)
        hint = answer_hint(ctx.handle, ctx.prompt.target, t, probs)
        return Prediction(
            token_ids=ctx.ids, tokens=ctx.tokens, top_ids=top_i.cpu().numpy(),
            top_tokens=tuple(ctx.handle.decode_tokens(top_i.tolist())), top_probs=top_p.cpu().numpy(),
            target_id=t, foil_id=f, target_prob=float(probs[t]) if t is not None else None,
            logit_diff=float(last[t] - last[f]) if t is not None and f is not None else None,
            unknown_positions=unknown_positions, unknown_words=unknown_words, answer_hint=hint)


def answer_hint(handle, target: str | None, target_id: int | None, probs: torch.Tensor) -> str:
    """A BPE model (GPT-2, Llama 3, SmolLM) reads 'Mary' after a space as ' Mary': a target
    typed without the space is another token, and its probability is near zero. Say so when
    the spaced token is far likelier (the first thing a new user of a real model meets)."""
    if not target or target_id is None or target[:1].isspace():
        return ""
    try:
        spaced = handle.token_id(" " + target)
    except Exception:  # noqa: BLE001 - not one token (or unknown): no hint
        return ""
    p_typed, p_spaced = float(probs[target_id]), float(probs[spaced])
    if spaced == target_id or p_spaced < 0.01 or p_spaced < 10 * p_typed:
        return ""
    return (f"did you mean ' {target}' (with the space the model reads)? P(' {target}') = {p_spaced:.3f}, "
            f"P('{target}') = {p_typed:.3f}")


register(PredictionReadout())
