"""Analysis 'run': the live view's forward, i.e. `Engine.run` as a registered analysis.

One prompt with its interventions, the prediction, and the readouts asked (the built-in
ones by name in `want`, any registered readout with its parameters in `readouts`), all
from one resumed forward (engine.live). Each readout is emitted through the job as soon as
it is read, so the app can paint the prediction before the logit lens is done."""

from __future__ import annotations

from dataclasses import dataclass

from ..analysis import NO_JOB, Job, Prompt, register
from ..errors import EngineError
from ..results import RunResult


@dataclass(frozen=True)
class RunParams:
    want: tuple[str, ...] = ("patterns", "logit_lens")
    top_k: int = 10
    lens_k: int = 5
    lens_positions: tuple[int, ...] | None = None
    readouts: dict | None = None  # {key: params dict} of other registered readouts


class LiveRun:
    key = "run"
    Params = RunParams
    version = 1

    def run(self, handle, inputs: Prompt, params: RunParams, job: Job = NO_JOB) -> RunResult:
        from ..engine import Engine

        if not isinstance(inputs, Prompt):
            raise EngineError("a run takes one prompt")
        engine = handle if isinstance(handle, Engine) else _facade(handle)
        return engine.run(inputs.text, inputs.interventions, params.want, inputs.target, inputs.foil, params.top_k,
                          params.lens_k, params.lens_positions, params.readouts, job)


def _facade(handle):
    """An Engine around an existing handle (analyses receive handles; Engine.run takes it from there)."""
    from ..engine import Engine

    engine = Engine.__new__(Engine)
    engine.handle, engine.info = handle, handle.info
    return engine


register(LiveRun())
