"""Analysis 'run': the live view's forward, and what `Engine.run` does.

One prompt with its interventions, the prediction, and the readouts asked (the built-in
ones by name in `want`, any registered readout with its parameters in `readouts`), all
from one resumed forward (engine.live). Each readout is emitted through the job as soon as
it is read, so the app can paint the prediction before the logit lens is done."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any, Mapping

from ..analysis import NO_JOB, Job, Prompt, get, params_from_dict, register
from ..errors import EngineError
from ..live import run_readouts
from ..results import RunResult

WANTS = frozenset({"patterns", "resid", "logit_lens", "dla"})  # the readouts RunResult has fields for


@dataclass(frozen=True)
class RunParams:
    want: tuple[str, ...] = ("patterns", "logit_lens")
    top_k: int = 10
    lens_k: int = 5
    lens_positions: tuple[int, ...] | None = None
    readouts: dict | None = None  # {key: params (a dict or the readout's Params)} of other registered readouts


def asked_readouts(params: RunParams) -> dict[str, Any]:
    """{key: Params} of every readout a run asks: the prediction, `want`, and `readouts`."""
    if unknown := set(params.want) - WANTS:
        raise EngineError(f"unknown analyses {sorted(unknown)} (choose from {sorted(WANTS)})")
    lens = get("logit_lens").Params(params.lens_k, tuple(params.lens_positions)
                                     if params.lens_positions is not None else None)
    asked: dict[str, Any] = {"prediction": get("prediction").Params(params.top_k)}
    asked.update({key: lens if key == "logit_lens" else get(key).Params() for key in params.want})
    for key, extra in (params.readouts or {}).items():
        asked[key] = params_from_dict(get(key).Params, extra) if isinstance(extra, Mapping) else extra
    return asked


class LiveRun:
    key = "run"
    Params = RunParams
    version = 1

    def run(self, handle, inputs: Prompt, params: RunParams, job: Job = NO_JOB) -> RunResult:
        """The whole run; with `job.emit`, progressive RunResults ('run', complete=False) as
        soon as the numbers (prediction, DLA) are read and again when the patterns are, so the
        panels showing them paint before the logit lens is done."""
        if not isinstance(inputs, Prompt):
            raise EngineError("a run takes one prompt")
        start = time.perf_counter()
        # the clean run of this prompt, asked again (restore all, undo back to it): as it was
        memo = ("run", inputs.target, inputs.foil, repr(params))
        ids = handle.tokenize(inputs.text) if not inputs.interventions else None
        if ids is not None and (kept := handle.clean_run.derived_for(ids, memo)) is not None:
            return replace(kept, elapsed_ms=(time.perf_counter() - start) * 1e3)
        asked = asked_readouts(params)
        reader = job
        if job.emit is not None:
            read: dict[str, Any] = {}

            def emit(key: str, value: Any) -> None:
                read[key] = value
                rest = tuple(k for k in asked if k not in read)
                if rest and key in PROGRESSIVE and all(k in read for k in NUMBERS if k in asked):
                    job.emit("run", assemble(handle, inputs, read, start, rest))

            reader = Job(job.progress, job.cancelled, emit)
        result = assemble(handle, inputs, run_readouts(handle, inputs, asked, reader), start)
        if ids is not None:
            handle.clean_run.remember_derived(ids, memo, result)
        return result


NUMBERS = ("prediction", "dla")  # what the user reads first: the answer's numbers and the graph's
PROGRESSIVE = frozenset({"prediction", "dla", "patterns"})  # a progressive result after each of these


def assemble(handle, inputs: Prompt, results: dict[str, Any], start: float, pending: tuple[str, ...] = ()) -> RunResult:
    """A RunResult from the readouts read so far (all of them unless `pending` names some)."""
    p = results["prediction"]
    return RunResult(
        prompt=inputs.text, token_ids=p.token_ids, tokens=p.tokens, interventions=tuple(inputs.interventions),
        top_ids=p.top_ids, top_tokens=p.top_tokens, top_probs=p.top_probs, target_id=p.target_id,
        foil_id=p.foil_id, target_prob=p.target_prob, logit_diff=p.logit_diff,
        patterns=results.get("patterns"), resid=results.get("resid"), logit_lens=results.get("logit_lens"),
        dla=results.get("dla"), device=handle.info.device, elapsed_ms=(time.perf_counter() - start) * 1e3,
        readouts=dict(results), unknown_positions=p.unknown_positions, unknown_words=p.unknown_words,
        answer_hint=p.answer_hint,
        pending=pending)


register(LiveRun())
