"""Analysis 'patching': one sweep on a clean/corrupted pair, with the technique's policy.

Which sweep (activation patching of any kind, or path patching into one head's input),
which direction, and when the attribution-patching estimate of the same grid is added
alongside (it estimates denoising, and not attention patterns) are decided here, so the
app only forwards the user's choice."""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..analysis import NO_JOB, Cancelled, Job, PromptPair, register
from ..errors import PromptError
from ..handle import as_handle
from ..results import PatchingRun
from .attribution import attribution_patching, correlation
from .patching import activation_patching
from .path_patching import path_patching


@dataclass(frozen=True)
class SweepParams:
    sweep: str = "head"  # engine.analyses.patch_sweeps.SWEEPS, or 'path'
    mode: str = "denoise"
    attribution: bool = True  # add the attribution estimate where it applies
    receiver: str = ""  # path patching: the receiving head
    receiver_input: str = "q"


ESTIMATE_SHARE = 0.4  # the attribution estimate's time over the activation sweep's (measured ~2.6 vs ~6 forwards)


def wants_estimate(params: SweepParams) -> bool:
    """The attribution estimate applies to denoising sweeps of added or projected activations."""
    return params.attribution and params.sweep not in ("path", "head_pattern") and params.mode == "denoise"


class PatchingAnalysis:
    key = "patching"
    Params = SweepParams
    version = 1

    def run(self, handle, inputs: PromptPair, params: SweepParams, job: Job = NO_JOB) -> PatchingRun:
        handle = as_handle(handle)
        if not isinstance(inputs, PromptPair) or not inputs.corrupted.strip():
            raise PromptError("Patching needs a corrupted prompt: type one in the prompt panel "
                              "(same number of tokens as the clean prompt, with the answer changed)")
        if not ((inputs.target or "").strip() and (inputs.foil or "").strip()):
            raise PromptError("Patching measures logit(target) − logit(foil): set both in the prompt panel")
        start = time.perf_counter()
        args = (handle, inputs.clean, inputs.corrupted, inputs.target, inputs.foil)
        if job.progress is not None:
            job.progress(0, 1)  # the bar moves off "indeterminate" at once, before the base runs
        if params.sweep == "path":
            main = path_patching(*args, params.receiver, params.receiver_input, params.mode,
                                 progress=job.progress, cancelled=job.cancelled)
            return PatchingRun(main, elapsed_ms=(time.perf_counter() - start) * 1e3)
        estimate_follows = wants_estimate(params)
        progress = job.progress
        if estimate_follows and job.progress is not None:
            # the attribution estimate runs after the cells (~0.4 of their time): the bar keeps
            # that share back instead of showing N/N while the estimate still runs
            def held_back(done: int, total: int) -> None:
                job.progress(done, total + max(1, round(ESTIMATE_SHARE * total)))
            progress = held_back
        main = activation_patching(*args, params.sweep, params.mode, progress=progress, cancelled=job.cancelled)
        estimate = r = None
        if estimate_follows:
            if job.cancelled is not None and job.cancelled():
                raise Cancelled("Patching was cancelled")
            estimate = attribution_patching(*args, params.sweep)
            r = correlation(main.values, estimate.values)
            if job.progress is not None:
                job.progress(1, 1)
        return PatchingRun(main, estimate, r, (time.perf_counter() - start) * 1e3)


register(PatchingAnalysis())
