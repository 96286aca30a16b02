"""What mean and resample ablations put in place of an activation.

Mean: every head's z and every MLP's output averaged over a reference set of prompts
(the tokenizer's own prefix such as BOS left out), computed once per set. Resample: the
activation on another prompt (the corrupted one), a few sources kept. Both are read
through the model handle; this object lives beside it for the length of a loaded model."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from .addresses import Address, head_address, mlp_address
from .errors import EngineError
from .interventions import Intervention

REFERENCE_FILE = "microtome_reference_prompts.txt"
GENERIC_REFERENCE = (
    "The quick brown fox jumps over the lazy dog.",
    "When Mary and John went to the store, John gave a drink to Mary.",
    "It was a bright cold day in April, and the clocks were striking thirteen.",
    "The results of the experiment were recorded in the notebook every morning.",
    "She opened the door, looked around the room and sat down by the window.",
)
RESAMPLE_SOURCES_KEPT = 8


def default_reference(source: str) -> tuple[str, ...]:
    """The model folder's own reference prompts when it ships them, else generic English."""
    path = Path(source) / REFERENCE_FILE
    if path.is_file():
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if lines:
            return tuple(lines)
    return GENERIC_REFERENCE


class AblationValues:
    def __init__(self, handle, reference: Sequence[str] | None = None) -> None:
        self.handle = handle
        self.reference = tuple(reference) if reference else default_reference(handle.info.source)
        self._means: dict[str, torch.Tensor] | None = None
        self._sources: dict[str, dict[str, torch.Tensor]] = {}
        self._set_means: dict[str, dict[str, torch.Tensor]] = {}  # prompt set name -> hook -> [d] or [S, d]

    def set_reference(self, prompts: Sequence[str]) -> None:
        """Change the set mean ablation averages over (the cached means are dropped)."""
        if not prompts:
            raise EngineError("the reference set for mean ablation needs at least one prompt")
        self.reference, self._means = tuple(prompts), None

    def _hooks(self) -> list[str]:
        n = self.handle.info.n_layers
        return [a.hook for l in range(n) for a in (head_address(l, 0), mlp_address(l))]

    def means(self) -> dict[str, torch.Tensor]:
        if self._means is None:
            names, sums, count = self._hooks(), {}, 0
            skip = len(self.handle.special_prefix)
            for prompt in self.reference:
                ids = self.handle.tokenize(prompt)
                store = self.handle.forward(ids, capture=names, logits_to_keep=1).acts
                for name in names:
                    acts = store[name][0, skip:].double().sum(0)
                    sums[name] = sums[name] + acts if name in sums else acts
                count += len(ids) - skip
            if count == 0:
                raise EngineError("the reference prompts have no tokens beyond the special prefix")
            dtype = self.handle.loaded.dtype
            self._means = {name: (total / count).to(dtype) for name, total in sums.items()}
        return self._means

    def source(self, prompt: str) -> dict[str, torch.Tensor]:
        if prompt not in self._sources:
            names = self._hooks()
            store = self.handle.forward(self.handle.tokenize(prompt), capture=names, logits_to_keep=1).acts
            if len(self._sources) >= RESAMPLE_SOURCES_KEPT:
                self._sources.pop(next(iter(self._sources)))
            self._sources[prompt] = {name: store[name][0] for name in names}
        return self._sources[prompt]

    def register_set(self, name: str, prompts: Sequence[str], batch_tokens: int = 1024, step=None) -> bool:
        """Mean every head's z and MLP output over a prompt set, kept under `name` for ablations
        whose `reference` names it. Per position when every prompt has the same number of tokens
        (a template's positions align), else over positions (the special prefix left out).
        Returns whether the means are per position."""
        if not prompts:
            raise EngineError("a reference set for mean ablation needs at least one prompt")
        names, h = self._hooks(), self.handle
        by_length: dict[int, list[np.ndarray]] = {}
        for prompt in prompts:
            ids = h.tokenize(prompt)
            by_length.setdefault(len(ids), []).append(ids)
        aligned, skip = len(by_length) == 1, len(h.special_prefix)
        sums: dict[str, torch.Tensor] = {}
        count, done = 0, 0
        for length, rows in by_length.items():
            per = max(1, batch_tokens // length)
            for start in range(0, len(rows), per):
                chunk = np.stack(rows[start:start + per])
                store = h.forward(chunk, capture=names, logits_to_keep=1).acts
                for hook in names:
                    acts = store[hook].double()
                    part = acts.sum(0) if aligned else acts[:, skip:].sum((0, 1))
                    sums[hook] = sums[hook] + part if hook in sums else part
                count += len(chunk) if aligned else len(chunk) * (length - skip)
                done += len(chunk)
                if step is not None:
                    step(done, len(prompts))
        if count == 0:
            raise EngineError("the reference set has no tokens beyond the special prefix")
        self._set_means[name] = {hook: (total / count).to(h.loaded.dtype) for hook, total in sums.items()}
        return aligned

    def has_set(self, name: str) -> bool:
        return name in self._set_means

    def replacement(self, ablation: Intervention, address: Address) -> torch.Tensor:
        """[d] mean, or [S, d] per-position mean over a set or activation of the resample source,
        for one component."""
        reference = getattr(ablation, "reference", "")
        if ablation.method == "mean" and reference:
            if reference not in self._set_means:
                raise EngineError(f"The mean over the prompt set '{reference}' is not known to this model: "
                                  "open the set in the Prompt set panel and run 'Make it the reference of mean / resample "
                                  "ablations' again")
            act = self._set_means[reference][address.hook]
        else:
            act = (self.means() if ablation.method == "mean" else self.source(ablation.source_prompt))[address.hook]
        if address.kind == "head":
            act = act.view(*act.shape[:-1], self.handle.info.n_heads, -1)[..., address.head, :]
        return act
