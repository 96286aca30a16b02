"""Interventions as frozen, serialisable data (nnsight's lesson: no permanent model edits).

An intervention says *where* (a component), *which slice* (positions, None = all) and
*what* (zero / mean / resample ablation, or scaling the output). `to_dict`/`from_dict`
give plain JSON-able dicts so session files can hold them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Literal, Union

from .addresses import parse_ablatable
from .errors import InterventionError

AblationMethod = Literal["zero", "mean", "resample"]
ABLATION_METHODS: tuple[str, ...] = ("zero", "mean", "resample")


def _positions(value: Any) -> tuple[int, ...] | None:
    if value is None:
        return None
    try:
        positions = tuple(int(p) for p in value)
    except (TypeError, ValueError) as exc:
        raise InterventionError(f"positions must be a list of integers, got {value!r}") from exc
    if not positions:
        raise InterventionError("positions must not be empty (use None for all positions)")
    return positions


@dataclass(frozen=True)
class Ablation:
    """Replace a head's or MLP's output by zero, its mean over a reference set, or its value
    on another prompt (resample; the source must have at least as many tokens)."""

    component: str
    method: AblationMethod = "zero"
    positions: tuple[int, ...] | None = None
    source_prompt: str | None = None
    kind: ClassVar[str] = "ablation"

    def __post_init__(self) -> None:
        parse_ablatable(self.component)
        if self.method not in ABLATION_METHODS:
            raise InterventionError(f"unknown ablation method '{self.method}' (use {', '.join(ABLATION_METHODS)})")
        if (self.method == "resample") != (self.source_prompt is not None):
            raise InterventionError("resample ablation needs a source_prompt, and only resample takes one")
        object.__setattr__(self, "positions", _positions(self.positions))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **asdict(self), "positions": list(self.positions) if self.positions else None}


@dataclass(frozen=True)
class Scale:
    """Multiply a component's output by `factor` (1 = unchanged, 0 = zero ablation, >1 amplifies)."""

    component: str
    factor: float
    positions: tuple[int, ...] | None = None
    kind: ClassVar[str] = "scale"

    def __post_init__(self) -> None:
        parse_ablatable(self.component)
        try:
            object.__setattr__(self, "factor", float(self.factor))
        except (TypeError, ValueError) as exc:
            raise InterventionError(f"scale factor must be a number, got {self.factor!r}") from exc
        object.__setattr__(self, "positions", _positions(self.positions))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **asdict(self), "positions": list(self.positions) if self.positions else None}


Intervention = Union[Ablation, Scale]
_KINDS: dict[str, type] = {}


def register_intervention(cls: type) -> type:
    """Make `intervention_from_dict` know a kind (its edit is registered in engine.intervening)."""
    _KINDS[cls.kind] = cls
    return cls


register_intervention(Ablation)
register_intervention(Scale)


def intervention_from_dict(data: Any) -> Intervention:
    """Inverse of `to_dict`; any malformed input raises InterventionError."""
    if not isinstance(data, dict) or data.get("kind") not in _KINDS:
        raise InterventionError(f"not an intervention: {data!r}")
    cls = _KINDS[data["kind"]]
    fields = {k: v for k, v in data.items() if k != "kind"}
    try:
        return cls(**fields)
    except TypeError as exc:
        raise InterventionError(f"bad fields for {data['kind']}: {exc}") from exc
