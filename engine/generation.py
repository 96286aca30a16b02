"""Generation with the KV cache, with or without interventions, token by token.

Interventions resolve their positions against each forward's absolute offset (engine.
intervening), so one intervention covers the prompt forward and every new token's step.
`apply_to` chooses where they act: 'prompt' (only the prompt's forward: new tokens read
the edited prompt through the cache), 'new' (only generated tokens' steps) or 'all'.
Positions written from the end (-1 = the prompt's last token) count from the end of the
prompt, not of the growing text. Greedy at temperature 0; otherwise sampling with top-p
from a seeded generator, so a run repeats."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterator, Sequence

import numpy as np
import torch

from .errors import EngineError
from .intervening import EditContext, compile_edits, resolve_positions
from .interventions import Intervention

APPLY_TO = ("prompt", "new", "all")
MAX_NEW = 512
TOP = 5  # alternatives kept per step (shown on hover)


@dataclass(frozen=True)
class Sampling:
    n_new: int = 24
    temperature: float = 0.0  # 0 = greedy
    top_p: float = 1.0
    seed: int = 0
    apply_to: str = "all"
    stop_at_end: bool = True  # stop at the tokenizer's end-of-text token

    def __post_init__(self) -> None:
        if not 1 <= self.n_new <= MAX_NEW:
            raise EngineError(f"generate 1..{MAX_NEW} tokens, not {self.n_new}")
        if not 0 <= self.temperature <= 10 or not 0 < self.top_p <= 1:
            raise EngineError("temperature must be in 0..10 and top-p in (0, 1]")
        if self.apply_to not in APPLY_TO:
            raise EngineError(f"apply_to must be one of {APPLY_TO}, got {self.apply_to!r}")


@dataclass(frozen=True)
class Step:
    token: int
    prob: float  # the model's probability of the chosen token (softmax at temperature 1)
    top_ids: np.ndarray  # [TOP] the most likely tokens at this step
    top_probs: np.ndarray  # [TOP]


def anchored(interventions: Sequence[Intervention], prompt_len: int) -> tuple[Intervention, ...]:
    """Positions counted from the end become absolute prompt positions (checked here, so a
    bad one is a message before any forward)."""
    out = []
    for i in interventions:
        positions = getattr(i, "positions", None)
        if positions is not None:
            resolve_positions(positions, 0, prompt_len, prompt_len, i.component)
            i = replace(i, positions=tuple(p % prompt_len for p in positions))
        out.append(i)
    return tuple(out)


def choose(logits: torch.Tensor, sampling: Sampling, rng: torch.Generator) -> int:
    """Greedy, or a sample from the top-p nucleus of softmax(logits / temperature)."""
    if sampling.temperature == 0:
        return int(logits.argmax())
    probs = torch.softmax(logits / sampling.temperature, dim=-1)
    if sampling.top_p < 1:
        ordered, order = probs.sort(descending=True)
        keep = ordered.cumsum(-1) - ordered < sampling.top_p  # the smallest set reaching top_p
        probs = torch.zeros_like(probs).scatter(-1, order[keep], ordered[keep])
    return int(torch.multinomial(probs / probs.sum(), 1, generator=rng))


def stream(handle, ids: np.ndarray, interventions: Sequence[Intervention], sampling: Sampling) -> Iterator[Step]:
    """Yield each generated token as soon as it is chosen (the caller may stop early)."""
    info = handle.info
    interventions = anchored(interventions, len(ids))

    def edits(offset: int, apply: bool) -> dict:
        if not apply or not interventions:
            return {}
        return compile_edits(interventions, EditContext(info.n_layers, info.n_heads,
                                                         handle.ablation_values.replacement, offset))

    rng = torch.Generator().manual_seed(sampling.seed)
    end = handle.end_token_id if sampling.stop_at_end else None
    logits, past = handle.cached_forward(ids[None], None, edits(0, sampling.apply_to != "new"))
    length = len(ids)
    for n in range(sampling.n_new):
        row = logits[0].cpu()
        probs = torch.softmax(row, -1)
        token = choose(row, sampling, rng)
        top = probs.topk(min(TOP, probs.shape[-1]))
        yield Step(token, float(probs[token]), top.indices.numpy(), top.values.numpy())
        if token == end or n + 1 == sampling.n_new:
            return
        logits, past = handle.cached_forward(np.array([[token]]), past, edits(length, sampling.apply_to != "prompt"))
        length += 1
