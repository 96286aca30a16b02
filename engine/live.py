"""One forward, many readouts: what the live view asks after every edit.

The captures every asked readout needs are taken in one forward of the prompt with its
interventions. When the clean run of the same tokens is cached (engine.run_cache), the
run starts at the first edited layer: earlier captures are the clean run's. Each readout
is then read in its `order` (the prediction first, the logit lens last) and handed to
`job.emit` as soon as it is ready, so a panel can paint before the slowest one is done."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from .analysis import NO_JOB, Job, Prompt, ReadContext, get, is_readout
from .errors import EngineError
from .intervening import build_edits, first_edited_layer


def edits_for(handle, interventions, seq_len: int) -> dict:
    info = handle.info
    return build_edits(interventions, info.n_layers, info.n_heads, seq_len, handle.ablation_values.replacement)


def run_readouts(handle, prompt: Prompt, readouts: Mapping[str, Any], job: Job = NO_JOB) -> dict[str, Any]:
    """{key: params} of registered readouts -> {key: result}, from one (resumed) forward."""
    analyses = {key: get(key) for key in readouts}
    if not_readouts := [k for k, a in analyses.items() if not is_readout(a)]:
        raise EngineError(f"{not_readouts} run their own forwards: ask for them as jobs, not readouts")
    ids = handle.tokenize(prompt.text)
    target_id = handle.token_id(prompt.target) if prompt.target is not None else None
    foil_id = handle.token_id(prompt.foil) if prompt.foil is not None else None
    capture: set[str] = set()
    for key, analysis in analyses.items():
        capture |= analysis.needs(readouts[key], handle, prompt)
    cache, start = _forward(handle, ids, tuple(prompt.interventions), capture)
    ctx = ReadContext(handle, prompt, ids, tuple(handle.decode_tokens(ids)), target_id, foil_id, cache,
                      cache.logits[0, -1].float(), start, job=job)
    results: dict[str, Any] = {}
    for key in sorted(analyses, key=lambda k: getattr(analyses[k], "order", 5)):
        results[key] = analyses[key].read(ctx, readouts[key])
        if job.emit is not None:
            job.emit(key, results[key])
    return results


def _forward(handle, ids: np.ndarray, interventions: tuple, capture: set[str]):
    """The forward, resumed from the first edited layer when the clean run of the same tokens
    is cached; a clean run refreshes that cache. Returns the cache and the start layer."""
    n_layers, cached = handle.info.n_layers, handle.clean_run
    if not interventions:
        cache = handle.forward(ids, capture=capture | cached.resid_names(n_layers), logits_to_keep=1)
        cached.remember(ids, cache.acts)
        return cache, 0
    edits = edits_for(handle, interventions, len(ids))
    # an edit after the last block (its resid_post) resumes at the last block, whose output it edits
    start = cached.start_layer(ids, min(first_edited_layer(interventions), n_layers - 1), capture)
    if start == 0:
        return handle.forward(ids, edits, capture, logits_to_keep=1), 0
    cached.hits += 1
    entering = cached.entering(start)
    name = f"blocks.{start}.hook_resid_pre"
    # an edit of the residual leaving the block before (a feature edit at resid_post) is an
    # edit of what enters this one: that block is not run, so it is applied here
    before = edits.pop(f"blocks.{start - 1}.hook_resid_post", [])
    edits[name] = [lambda act: entering.to(act.dtype), *before, *edits.get(name, [])]
    early = cached.early(capture, start)
    cache = handle.forward(ids, edits, capture - early.keys(), start_layer=start, logits_to_keep=1)
    cache.acts = {**early, **cache.acts}
    return cache, start
