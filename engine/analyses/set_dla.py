"""Analysis 'set_dla': direct logit attribution to target − foil for every prompt of a set,
each head's and MLP's share as a [layers, heads + MLP] grid per prompt, with the same
statistics as a patching sweep over the set (mean, spread, interval, sign share).

It runs the single-prompt 'dla' readout on each prompt, so each prompt's row is exactly its
single-prompt DLA; prompts need a target and a foil, not a corrupted twin."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..analysis import NO_JOB, Job, NoParams, Prompt, register
from ..errors import EngineError
from ..handle import as_handle
from ..live import run_readouts
from ..prompt_sets import PromptSet
from ..set_stats import spread
from .set_patching import SetPatching


@dataclass(frozen=True)
class SetDlaParams:
    n_boot: int = 1000
    seed: int = 0


class SetDlaAnalysis:
    key = "set_dla"
    Params = SetDlaParams
    version = 1

    def run(self, handle, inputs: PromptSet, params: SetDlaParams, job: Job = NO_JOB) -> SetPatching:
        handle = as_handle(handle)
        if not isinstance(inputs, PromptSet):
            raise EngineError("set DLA runs on a prompt set")
        info = handle.info
        rows, totals = [], []
        job.step(0, len(inputs))
        for i, row in enumerate(inputs.rows):
            if not row.target.strip() or not row.foil.strip():
                raise EngineError(f"prompt {i + 1}: direct logit attribution needs a target and a foil")
            dla = run_readouts(handle, Prompt(row.prompt, row.target, row.foil), {"dla": NoParams()})["dla"]
            rows.append(np.concatenate([dla.heads, dla.mlps[:, None]], axis=1))
            totals.append(dla.total)
            job.step(i + 1, len(inputs))
        values = np.stack(rows)
        return SetPatching("dla", "direct", tuple(f"L{l}" for l in range(info.n_layers)),
                           tuple(f"H{h}" for h in range(info.n_heads)) + ("MLP",), values,
                           spread(values, params.n_boot, params.seed), np.array(totals), np.zeros(len(totals)),
                           tuple(r.prompt for r in inputs.rows), inputs.digest, inputs,
                           what="direct logit attribution to target − foil")


register(SetDlaAnalysis())
