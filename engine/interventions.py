"""Interventions as frozen, serialisable data (nnsight's lesson: no permanent model edits).

An intervention says *where* (a component), *which slice* (positions, None = all) and
*what* (zero / mean / resample ablation, or scaling the output). `to_dict`/`from_dict`
give plain JSON-able dicts so session files can hold them."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
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
    reference: str = ""  # mean over this prompt set (its name, registered with the engine), "" = the generic one
    kind: ClassVar[str] = "ablation"

    def __post_init__(self) -> None:
        parse_ablatable(self.component)
        if self.method not in ABLATION_METHODS:
            raise InterventionError(f"unknown ablation method '{self.method}' (use {', '.join(ABLATION_METHODS)})")
        if (self.method == "resample") != (self.source_prompt is not None):
            raise InterventionError("resample ablation needs a source_prompt, and only resample takes one")
        if self.reference and self.method == "zero":
            raise InterventionError("zero ablation takes no reference set")
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


FEATURE_MODES = ("ablate", "clamp", "scale")


@dataclass(frozen=True)
class FeatureEdit:
    """Set one dictionary feature's activation at `component` (an address with a feature,
    e.g. 'L0.resid_post/sae:1199'): 'ablate' (to 0), 'clamp' (to `value`) or 'scale' (x
    `value`). Only the feature's decoder contribution changes: the dictionary's
    reconstruction error is kept, so an edit that changes nothing changes nothing.
    `folder` is the dictionary (an SAE reading and writing that site)."""

    component: str
    folder: str
    mode: str = "ablate"
    value: float = 0.0
    positions: tuple[int, ...] | None = None
    kind: ClassVar[str] = "feature"

    def __post_init__(self) -> None:
        from .addresses import parse_address

        if parse_address(self.component).feature is None:
            raise InterventionError(f"'{self.component}' names no feature (write it like L0.resid_post/sae:1199)")
        if self.mode not in FEATURE_MODES:
            raise InterventionError(f"unknown feature edit '{self.mode}' (use {', '.join(FEATURE_MODES)})")
        if not isinstance(self.folder, str) or not self.folder:
            raise InterventionError("a feature edit needs the dictionary's folder")
        try:
            object.__setattr__(self, "value", float(self.value))
        except (TypeError, ValueError) as exc:
            raise InterventionError(f"feature value must be a number, got {self.value!r}") from exc
        object.__setattr__(self, "positions", _positions(self.positions))

    @property
    def feature(self) -> int:
        from .addresses import parse_address

        return parse_address(self.component).feature.index

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **asdict(self), "positions": list(self.positions) if self.positions else None}


STEER_MODES = ("add", "remove", "cap")
STEER_SITES = ("resid_pre", "resid_mid", "resid_post")
MAX_STEER_DIM = 65_536


@dataclass(frozen=True)
class Steer:
    """A direction in the residual stream at `component` (e.g. 'L3.resid_post'), applied as
    'add' (x + strength * vector), 'remove' (project the direction out: x - (x·u) u, u the
    unit vector; strength ignored) or 'cap' (the projection on u is limited to at most
    `strength`). `source` says where the vector came from (contrast pairs, a feature, a file),
    shown on the intervention. Plain data: the vector travels in sessions as numbers."""

    component: str
    vector: tuple[float, ...]
    strength: float = 1.0
    mode: str = "add"
    positions: tuple[int, ...] | None = None
    source: str = ""
    kind: ClassVar[str] = "steer"

    def __post_init__(self) -> None:
        from .addresses import parse_address

        address = parse_address(self.component)
        if address.kind not in STEER_SITES or address.feature is not None:
            raise InterventionError(f"'{self.component}': steering acts on the residual stream "
                                    "(L<layer>.resid_pre, .resid_mid or .resid_post)")
        if self.mode not in STEER_MODES:
            raise InterventionError(f"unknown steering mode '{self.mode}' (use {', '.join(STEER_MODES)})")
        try:
            vector = tuple(float(v) for v in self.vector)
            strength = float(self.strength)
        except (TypeError, ValueError) as exc:
            raise InterventionError("a steering vector is a list of numbers and its strength a number") from exc
        if not 0 < len(vector) <= MAX_STEER_DIM or not all(math.isfinite(v) for v in vector) or not math.isfinite(strength):
            raise InterventionError(f"a steering vector needs 1..{MAX_STEER_DIM} finite numbers and a finite strength")
        if self.mode != "add" and not any(vector):
            raise InterventionError("a zero vector has no direction to remove or cap")
        object.__setattr__(self, "vector", vector)
        object.__setattr__(self, "strength", strength)
        object.__setattr__(self, "source", str(self.source))
        object.__setattr__(self, "positions", _positions(self.positions))

    def with_strength(self, strength: float) -> "Steer":
        return replace(self, strength=float(strength))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, **asdict(self), "vector": list(self.vector),
                "positions": list(self.positions) if self.positions else None}


Intervention = Union[Ablation, Scale, FeatureEdit, Steer]
_KINDS: dict[str, type] = {}


def register_intervention(cls: type) -> type:
    """Make `intervention_from_dict` know a kind (its edit is registered in engine.intervening)."""
    _KINDS[cls.kind] = cls
    return cls


register_intervention(Ablation)
register_intervention(Scale)
register_intervention(FeatureEdit)
register_intervention(Steer)


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
