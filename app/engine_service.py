"""The engine thread's side of the job client: holds the current Engine, loads models, and
runs every other job through the engine's analysis registry (imports torch only there).
Every failure becomes a message the UI can show."""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from engine.results import ModelInfo

Status = Callable[[str], None]


@dataclass(frozen=True)
class LoadParams:
    source: str | None = None  # None = the bundled demo model
    device: str = "auto"
    dtype: str = "float32"
    allow_pickle: bool = False  # the user opted in (CLI flag or the picker's checkbox), warned


@dataclass(frozen=True)
class Loaded:
    """A model finished loading; vocabulary feeds the target/foil completion."""

    info: ModelInfo
    vocabulary: tuple[str, ...]
    is_demo: bool
    elapsed_ms: float
    weights_digest: str | None = None  # sha256 of the local safetensors files (None for hub ids)
    fidelity_ok: bool | None = None  # hooked engine vs a plain forward within tolerance (None: not checked)
    fidelity: str = ""  # one line for the status-bar badge
    fidelity_diff: float | None = None


class EngineService:
    def __init__(self) -> None:
        self.engine = None  # engine.Engine, created on the engine thread
        self.previous = None  # the model before the last load, restored if that load is cancelled
        self.runs = 0  # live runs executed (tests check coalescing with it)

    def handle(self, request: Any, job: Any, status: Status = lambda text: None) -> object:
        """Run one job: a load, a verdict on a load, or any registered analysis."""
        if request.key == "load":
            return self._load(request.params, status)
        if request.key == "resolve":
            if request.params:
                self.previous = None  # the old model's memory (GPU included) can go now
            else:
                self.undo_load()
            return None
        if self.engine is None:
            raise RuntimeError("no model is loaded yet")
        if request.key == "run":
            self.runs += 1
        return self.engine.analyse(request.key, request.inputs, request.params, job)

    def undo_load(self) -> None:
        """Go back to the model in use before the last load (that load was cancelled)."""
        if self.previous is not None:
            self.engine, self.previous = self.previous, None

    def _load(self, request: LoadParams, progress: Status) -> Loaded:
        start = time.perf_counter()
        progress("Importing torch and transformers…")
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
                        device_map="auto" if split else None, allow_pickle=request.allow_pickle)
        progress("Checking the hooked model against a plain forward…")
        report = fidelity_check(engine)
        vocab = engine.handle.vocabulary()
        digest = weights_digest(engine.info.source) if Path(engine.info.source).exists() else None
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
    text = str(exc)
    if (isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError" or "out of memory" in text.lower()
            or "DefaultCPUAllocator" in text):
        return ("Out of memory while running the model. Try a shorter prompt, fewer open panels, "
                "bfloat16, the CPU, or splitting the model across devices (File → Open model).")
    if type(exc).__name__ == "SafetensorError" or "safetensors" in type(exc).__module__:
        return (f"The model's weights file is damaged or truncated ({text}). Download or copy the model "
                "again, or pick another one with File → Open model.")
    last = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" ({last.filename.rsplit('/', 1)[-1]}:{last.lineno})" if last else ""
    return f"Internal error: {type(exc).__name__}: {exc}{where}"
