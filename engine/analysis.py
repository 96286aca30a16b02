"""What an analysis is, and the registry the engine and the app look analyses up in.

An analysis is a module-level object with
- `key`: its name in the registry, in session files and in the app's job client;
- `Params`: a frozen dataclass of its parameters (plain values; `params_to_dict` /
  `params_from_dict` turn it into JSON and back) and a `version`;
- `run(handle, inputs, params, job)`: runs the model through the handle only and returns a
  frozen, numpy-only result. `inputs` is a `Prompt`, a `PromptPair` or a `Batch`.

A *readout* is an analysis that reads one shared forward instead of running its own:
it also has `needs(params, handle, prompt) -> set of hook names` and
`read(ctx, params)`; `run_readouts` does one forward for several of them (what the
live view asks after every edit) and hands each result over as soon as it is read.

Policy that belongs to a technique (which inputs it needs, what to add alongside) lives in
its analysis, not in the app: the app only says `job client, run <key> with <params>`."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Mapping, Protocol, runtime_checkable

from .errors import EngineError
from .interventions import Intervention


class Cancelled(EngineError):
    """The job was cancelled between chunks."""


@dataclass
class Job:
    """Progress and cooperative cancellation for a long analysis. `step(done, total)` reports
    and raises Cancelled when the job was cancelled; call it once before the first chunk so
    progress counts from the start."""

    progress: Callable[[int, int], None] | None = None
    cancelled: Callable[[], bool] | None = None
    emit: Callable[[str, Any], None] | None = None  # partial results by key (run_readouts)

    def step(self, done: int, total: int) -> None:
        if self.cancelled is not None and self.cancelled():
            raise Cancelled("Cancelled")
        if self.progress is not None:
            self.progress(done, total)


NO_JOB = Job()


# ------------------------------------------------------------------ inputs
@dataclass(frozen=True)
class Prompt:
    """One prompt with what the user set around it."""

    text: str
    target: str | None = None
    foil: str | None = None
    interventions: tuple[Intervention, ...] = ()


@dataclass(frozen=True)
class PromptPair:
    """A clean/corrupted pair (patching, attribution, circuits)."""

    clean: str
    corrupted: str
    target: str | None = None
    foil: str | None = None


@dataclass(frozen=True)
class Batch:
    """Many prompts (prompt sets); one prompt is a batch of one for batch-aware analyses."""

    prompts: tuple[Prompt, ...]


Inputs = Prompt | PromptPair | Batch


# ------------------------------------------------------------------ parameters
@dataclass(frozen=True)
class NoParams:
    """For analyses without parameters."""


def params_to_dict(params: Any) -> dict[str, Any]:
    """A Params dataclass as JSON-able data (tuples as lists)."""
    return {f.name: _plain(getattr(params, f.name)) for f in dataclasses.fields(params)}


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def params_from_dict(cls: type, data: Mapping[str, Any]) -> Any:
    """Inverse of params_to_dict; unknown or badly typed fields raise EngineError."""
    if not isinstance(data, Mapping):
        raise EngineError(f"parameters must be an object, got {type(data).__name__}")
    names = {f.name: f for f in dataclasses.fields(cls)}
    if unknown := set(data) - set(names):
        raise EngineError(f"unknown parameters {sorted(unknown)}")
    values = {}
    for name, value in data.items():
        default = names[name].default
        if isinstance(default, tuple) or (default is None and isinstance(value, list)):
            value = tuple(value) if isinstance(value, list) else value
        if default is not dataclasses.MISSING and default is not None and not isinstance(default, tuple) \
                and not _same_type(value, default):
            raise EngineError(f"parameter '{name}' should be {type(default).__name__}, got {value!r:.40}")
        values[name] = value
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise EngineError(f"bad parameters: {exc}") from exc


def _same_type(value: Any, default: Any) -> bool:
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):  # a float here would reach e.g. topk() as a TypeError
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, type(default))


# ------------------------------------------------------------------ the protocol
@runtime_checkable
class Analysis(Protocol):
    key: ClassVar[str]
    Params: ClassVar[type]
    version: ClassVar[int]

    def run(self, handle: Any, inputs: Inputs, params: Any, job: Job = NO_JOB) -> Any: ...


@dataclass
class ReadContext:
    """What a readout sees of the shared forward: the prompt's ids and tokens, the answer
    tokens, the captures, the last position's logits [V] (float32), and the layer the run
    started at (earlier layers' captures came from the clean run)."""

    handle: Any
    prompt: Prompt
    ids: Any  # np.ndarray [S]
    tokens: tuple[str, ...]
    target_id: int | None
    foil_id: int | None
    cache: Any  # engine.handle.Cache, batch of one
    last_logits: Any  # torch.Tensor [V]
    start_layer: int = 0
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. lens positions the caller asked
    job: Job = field(default_factory=Job)  # a slow readout checks it between chunks (a newer edit supersedes the rest)


class Readout:
    """Base of readouts: `run` alone does one forward for this readout only."""

    order: ClassVar[int] = 5  # run_readouts reads in this order: what the user looks at first
    version: ClassVar[int] = 1

    def run(self, handle: Any, inputs: Prompt, params: Any, job: Job = NO_JOB) -> Any:
        from .live import run_readouts

        return run_readouts(handle, inputs, {self.key: params}, job)[self.key]  # type: ignore[attr-defined]


class StackedCaptures(Readout):
    """A readout that is just some captures stacked, [len(names), S, ...] numpy (patterns,
    the residual stream): subclasses say which hook names, for a model of n_layers."""

    Params = NoParams

    @staticmethod
    def names(n_layers: int) -> list[str]:
        raise NotImplementedError

    def needs(self, params: NoParams, handle: Any, prompt: Prompt) -> set[str]:
        return set(self.names(handle.info.n_layers))

    def read(self, ctx: ReadContext, params: NoParams) -> Any:
        return ctx.cache.stack(self.names(ctx.handle.info.n_layers)).numpy()


_REGISTRY: dict[str, Any] = {}


def register(analysis: Any) -> Any:
    """Add an analysis (an object or a class with the protocol's attributes) to the registry."""
    for attribute in ("key", "Params", "run"):
        if not hasattr(analysis, attribute):
            raise TypeError(f"{analysis!r} is not an analysis: it has no '{attribute}'")
    if analysis.key in _REGISTRY and _REGISTRY[analysis.key] is not analysis:
        raise ValueError(f"two analyses are registered as '{analysis.key}'")
    _REGISTRY[analysis.key] = analysis
    return analysis


def get(key: str) -> Any:
    _load_builtin()
    try:
        return _REGISTRY[key]
    except KeyError:
        raise EngineError(f"unknown analysis '{key}' (registered: {', '.join(sorted(_REGISTRY))})") from None


def registered() -> dict[str, Any]:
    _load_builtin()
    return dict(_REGISTRY)


def is_readout(analysis: Any) -> bool:
    return hasattr(analysis, "needs") and hasattr(analysis, "read")


def _load_builtin() -> None:
    """Import the analyses that ship with the engine (each registers itself on import)."""
    from . import analyses  # noqa: F401 - registration happens in engine/analyses/__init__.py
