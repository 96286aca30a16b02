"""Analysis 'set_reference': make a prompt set the reference of mean ablation. Every head's
and MLP's output is averaged over the set (per position when the set's prompts align token
for token, as a template's do; else over positions) and kept by the engine under the set's
name; an Ablation whose `reference` is that name puts the set's mean in place. Sets of any
size are read in batches (memory), with progress."""

from __future__ import annotations

from dataclasses import dataclass

from ..analysis import NO_JOB, Job, NoParams, register
from ..errors import EngineError
from ..handle import as_handle
from ..prompt_sets import PromptSet, reference_name


@dataclass(frozen=True)
class ReferenceSet:
    name: str  # what ablations name in `reference`
    n_prompts: int
    per_position: bool  # the means are per position (the prompts align)


class SetReferenceAnalysis:
    key = "set_reference"
    Params = NoParams
    version = 1

    def run(self, handle, inputs: PromptSet, params: NoParams, job: Job = NO_JOB) -> ReferenceSet:
        handle = as_handle(handle)
        if not isinstance(inputs, PromptSet):
            raise EngineError("the reference of mean ablation is a prompt set")
        name = reference_name(inputs)
        aligned = handle.ablation_values.register_set(name, [r.prompt for r in inputs.rows], step=job.step)
        return ReferenceSet(name, len(inputs), aligned)


register(SetReferenceAnalysis())
