"""What the UI asks of the engine thread, and what comes back: frozen, Qt-free data.

Each request kind has a priority; a newer request of a kind supersedes a pending one of
the same kind (a burst of 50 edits runs the model a few times, not 50)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from engine.results import HeadScores, ModelInfo

DEFAULT_WANT = frozenset({"patterns", "logit_lens"})


@dataclass(frozen=True)
class LoadModel:
    source: str | None  # None = the bundled demo model
    device: str = "auto"  # 'auto', 'cpu', 'cuda', or 'split' (accelerate's device_map="auto")
    dtype: str = "float32"
    kind: ClassVar[str] = "load"


@dataclass(frozen=True)
class ResolveLoad:
    """The UI's verdict on the last finished load: keep it (free the old model) or go back
    to the old model (the load was cancelled while it finished)."""

    accept: bool
    kind: ClassVar[str] = "resolve"


@dataclass(frozen=True)
class RunPrompt:
    prompt: str
    interventions: tuple = ()
    target: str | None = None
    foil: str | None = None
    want: frozenset = field(default_factory=lambda: DEFAULT_WANT)
    lens_positions: tuple[int, ...] | None = None  # None = every position
    kind: ClassVar[str] = "run"


@dataclass(frozen=True)
class RunBaseline(RunPrompt):
    """The same prompt without interventions: the 'before' of before -> after."""

    kind: ClassVar[str] = "baseline"


@dataclass(frozen=True)
class ComputeHeadScores:
    seg_len: int = 20
    n_sequences: int = 16
    kind: ClassVar[str] = "scores"


@dataclass(frozen=True)
class RunPatching:
    """A patching sweep on a clean/corrupted pair (sweep 'path' = path patching into `receiver`)."""

    clean: str
    corrupted: str
    target: str
    foil: str
    sweep: str = "head"
    mode: str = "denoise"
    attribution: bool = True
    receiver: str = ""
    receiver_input: str = "q"
    kind: ClassVar[str] = "patching"


@dataclass(frozen=True)
class PatchingDone:
    """Results of a RunPatching: engine.analyses.patching.PatchingResult objects (no torch inside)."""

    request: RunPatching
    main: object
    estimate: object | None = None  # the attribution-patching estimate of the same sweep
    correlation: float | None = None
    elapsed_ms: float = 0.0
    restored: bool = False  # read back from a session file (the panel then shows its settings too)


Request = LoadModel | ResolveLoad | RunPrompt | RunBaseline | ComputeHeadScores | RunPatching
# a verdict on a finished load first, a load before the runs queued after it; a sweep (seconds)
# after the interactive runs
PRIORITY: tuple[str, ...] = ("resolve", "load", "run", "baseline", "patching", "scores")


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


__all__ = ["ComputeHeadScores", "DEFAULT_WANT", "HeadScores", "LoadModel", "Loaded", "PRIORITY", "PatchingDone",
           "Request", "ResolveLoad", "RunBaseline", "RunPatching", "RunPrompt"]
