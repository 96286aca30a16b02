"""Runs requests against the Engine. Lives on the engine thread only (imports torch there),
holds the current Engine, and turns every failure into a message the UI can show."""

from __future__ import annotations

import time
import traceback
from pathlib import Path
from typing import Callable

from .requests import ComputeHeadScores, LoadModel, Loaded, PatchingDone, Request, ResolveLoad, RunPatching, RunPrompt

Progress = Callable[[str], None]
Steps = Callable[[int, int], None]
IsCancelled = Callable[[], bool]


class EngineService:
    def __init__(self) -> None:
        self.engine = None  # engine.Engine, created on the engine thread
        self.previous = None  # the model before the last load, restored if that load is cancelled
        self.runs = 0  # forward runs executed for RunPrompt (tests check coalescing with it)

    def handle(self, request: Request, progress: Progress, steps: Steps | None = None,
               cancelled: IsCancelled | None = None) -> object:
        if isinstance(request, LoadModel):
            return self._load(request, progress)
        if isinstance(request, ResolveLoad):
            if request.accept:
                self.previous = None  # the old model's memory (GPU included) can go now
            else:
                self.undo_load()
            return None
        if self.engine is None:
            raise RuntimeError("no model is loaded yet")
        if isinstance(request, RunPrompt):
            self.runs += 1
            return self.engine.run(request.prompt, request.interventions, want=request.want,
                                   target=request.target or None, foil=request.foil or None,
                                   lens_positions=request.lens_positions)
        if isinstance(request, ComputeHeadScores):
            return self.engine.head_scores(request.seg_len, request.n_sequences)
        if isinstance(request, RunPatching):
            return self._patch(request, steps, cancelled)
        raise TypeError(f"unknown request {request!r}")

    def _patch(self, r: RunPatching, steps: Steps | None, cancelled: IsCancelled | None) -> PatchingDone:
        from engine.errors import PromptError

        if not r.corrupted.strip():
            raise PromptError("Patching needs a corrupted prompt: type one in the prompt panel "
                              "(same number of tokens as the clean prompt, with the answer changed)")
        if not (r.target.strip() and r.foil.strip()):
            raise PromptError("Patching measures logit(target) − logit(foil): set both in the prompt panel")
        start = time.perf_counter()
        args = (self.engine, r.clean, r.corrupted, r.target, r.foil)
        estimate = correlation = None
        if r.sweep == "path":
            from engine.analyses.path_patching import path_patching

            main = path_patching(*args, r.receiver, r.receiver_input, r.mode, progress=steps, cancelled=cancelled)
        else:
            from engine.analyses.attribution import attribution_patching, correlation as corr
            from engine.analyses.patching import activation_patching

            main = activation_patching(*args, r.sweep, r.mode, progress=steps, cancelled=cancelled)
            if r.attribution and r.sweep != "head_pattern" and r.mode == "denoise":  # it estimates denoising
                estimate = attribution_patching(*args, r.sweep)
                correlation = corr(main.values, estimate.values)
        return PatchingDone(r, main, estimate, correlation, (time.perf_counter() - start) * 1e3)

    def undo_load(self) -> None:
        """Go back to the model in use before the last load (that load was cancelled)."""
        if self.previous is not None:
            self.engine, self.previous = self.previous, None

    def _load(self, request: LoadModel, progress: Progress) -> Loaded:
        start = time.perf_counter()
        progress("Importing torch and transformers…")
        from pathlib import Path

        from engine import Engine
        from engine.fidelity import fidelity_check
        from engine.loading import weights_digest
        from engine.paths import demo_model_dir

        source = request.source or str(demo_model_dir())
        split = request.device == "split"
        if not split:
            check_memory(source, request.dtype, request.device)
        progress(f"Loading {source} ({request.dtype})…")
        engine = Engine(source, device="auto" if split else request.device, dtype=request.dtype,
                        device_map="auto" if split else None)
        progress("Checking the hooked model against a plain forward…")
        report = fidelity_check(engine)
        vocab = tuple(engine.decode_tokens(range(min(engine.info.vocab_size, len(engine.tokenizer)))))
        digest = weights_digest(engine.info.source) if Path(engine.info.source).is_dir() else None
        self.previous, self.engine = self.engine, engine  # the old model stays until the new one is ready
        return Loaded(engine.info, vocab, request.source is None, (time.perf_counter() - start) * 1e3, digest,
                      report.ok, report.message, report.max_abs_diff)


def check_memory(source: str, dtype: str, device: str) -> None:
    """Refuse, before loading, a model that cannot fit: the message says what it needs.
    Silent when the config cannot be read without loading (e.g. a hub id offline)."""
    from engine.errors import EngineError
    from engine.memory import available_memory, estimate_memory, fit_message

    if not Path(source).is_dir():  # a hub id: reading its config may mean a network wait of its own
        return
    try:
        estimate = estimate_memory(source, dtype)
    except Exception:  # noqa: BLE001 - no estimate is no reason to refuse; loading reports real errors
        return
    import torch

    if device.startswith("cuda") or device.startswith("mps"):
        target = device
    else:
        target = "cuda" if device == "auto" and torch.cuda.is_available() else "cpu"
    if message := fit_message(estimate, available_memory(target)):
        raise EngineError(f"{message} on {target} (the model open now counts until the new one is in). Try "
                          "bfloat16, another device, or splitting the model across devices (device: split).")


def describe_failure(exc: BaseException) -> str:
    """A message for the user: EngineErrors as they are, out-of-memory with advice,
    anything else as an internal error with its last frame (the thread survives)."""
    from engine.errors import EngineError

    if isinstance(exc, EngineError):
        return str(exc)
    if "out of memory" in str(exc).lower() or type(exc).__name__ == "OutOfMemoryError":
        return ("Out of memory while running the model. Try a shorter prompt, fewer open panels, "
                "bfloat16, the CPU, or splitting the model across devices (File → Open model).")
    last = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" ({last.filename.rsplit('/', 1)[-1]}:{last.lineno})" if last else ""
    return f"Internal error: {type(exc).__name__}: {exc}{where}"
