"""What the patching panel shows and keeps in a session file.

`ShownSweep` is a sweep on display: the prompt pair and parameters it was run with, and the
engine's results. `PatchingRecord` is its session-file form (pydantic, validated on load;
numpy arrays as lists, NaN as null). Kept apart from the panel so the session loader can
validate a file without building any widget."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from engine.results import PatchingResult

MAX_ABS_VALUE = 1e6  # normalised effects and logit differences far beyond this are damage, not data


@dataclass(frozen=True)
class ShownSweep:
    clean: str
    corrupted: str
    target: str
    foil: str
    params: dict  # sweep, mode, attribution, receiver, receiver_input (engine.analyses.sweep.SweepParams)
    main: PatchingResult
    estimate: PatchingResult | None = None
    correlation: float | None = None
    elapsed_ms: float = 0.0
    restored: bool = False  # read back from a session file


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _bounded(grid: list[list[float]] | None) -> list[list[float]] | None:
    if grid is None:
        return None
    if len({len(row) for row in grid}) > 1:
        raise ValueError("the grid's rows have different lengths")
    if any(not math.isfinite(v) or abs(v) > MAX_ABS_VALUE for row in grid for v in row):
        raise ValueError(f"the grid holds a value that is not finite or beyond ±{MAX_ABS_VALUE:g}")
    return grid


class SweepRecord(_Strict):
    """One patching sweep's grid, stored as computed (reopening shows it without rerunning)."""

    method: str
    sweep: str
    mode: str
    row_labels: list[str] = Field(min_length=1)
    column_labels: list[str] = Field(min_length=1)
    values: list[list[float]]
    raw: list[list[float]] | None = None
    clean_metric: float | None  # None: not finite when computed
    corrupted_metric: float | None
    details: dict[str, str] = Field(default_factory=dict)

    _grids = field_validator("values", "raw")(classmethod(lambda cls, grid: _bounded(grid)))

    def shape_ok(self) -> bool:
        grids = [self.values] + ([self.raw] if self.raw is not None else [])
        return all(len(g) == len(self.row_labels) and all(len(r) == len(self.column_labels) for r in g) for g in grids)


class PatchingRecord(_Strict):
    """The patching panel: what was run, on which prompts, and its results."""

    clean: str
    corrupted: str
    target: str
    foil: str
    sweep: str
    mode: str = "denoise"
    attribution: bool = True
    receiver: str = ""
    receiver_input: str = "q"
    main: SweepRecord
    estimate: SweepRecord | None = None
    correlation: float | None = None
    elapsed_ms: float = 0.0

    @model_validator(mode="after")
    def _grids_fit_labels(self) -> "PatchingRecord":
        if not all(r.shape_ok() for r in (self.main, self.estimate) if r is not None):
            raise ValueError("the patching grid does not match its row and column labels")
        if self.estimate is not None and (self.estimate.row_labels, self.estimate.column_labels) != \
                (self.main.row_labels, self.main.column_labels):
            raise ValueError("the patching estimate's grid differs from the sweep's")
        return self


def _finite(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _or_nan(x: float | None) -> float:
    return float("nan") if x is None else x


def sweep_record(result: PatchingResult) -> SweepRecord:
    return SweepRecord(method=result.method, sweep=result.sweep, mode=result.mode,
                       row_labels=list(result.row_labels), column_labels=list(result.column_labels),
                       values=np.nan_to_num(result.values).tolist(),
                       raw=None if result.raw is None else np.nan_to_num(result.raw).tolist(),
                       clean_metric=_finite(result.clean_metric), corrupted_metric=_finite(result.corrupted_metric),
                       details={k: str(v) for k, v in result.details.items()})


def sweep_result(record: SweepRecord) -> PatchingResult:
    return PatchingResult(record.sweep, np.asarray(record.values, dtype=float), tuple(record.row_labels),
                          tuple(record.column_labels), _or_nan(record.clean_metric), _or_nan(record.corrupted_metric),
                          record.mode,
                          None if record.raw is None else np.asarray(record.raw, dtype=float), record.method,
                          dict(record.details))


PARAM_NAMES = ("sweep", "mode", "attribution", "receiver", "receiver_input")


def to_record(shown: ShownSweep) -> PatchingRecord:
    return PatchingRecord(clean=shown.clean, corrupted=shown.corrupted, target=shown.target, foil=shown.foil,
                          **{k: shown.params[k] for k in PARAM_NAMES if k in shown.params},
                          main=sweep_record(shown.main),
                          estimate=sweep_record(shown.estimate) if shown.estimate is not None else None,
                          correlation=_finite(shown.correlation), elapsed_ms=shown.elapsed_ms)


def from_record(record: PatchingRecord) -> ShownSweep:
    return ShownSweep(record.clean, record.corrupted, record.target, record.foil,
                      {k: getattr(record, k) for k in PARAM_NAMES}, sweep_result(record.main),
                      sweep_result(record.estimate) if record.estimate is not None else None,
                      record.correlation, record.elapsed_ms, restored=True)


def fits(record: PatchingRecord, n_layers: int, n_heads: int) -> bool:
    """A stored sweep is shown only on a model of the shape it was computed on."""
    main = record.main
    if record.sweep == "path":
        return len(main.row_labels) < n_layers and len(main.column_labels) == n_heads
    rows = {"head_pos": n_layers * n_heads, "resid": n_layers + 1}.get(record.sweep, n_layers)
    columns = {"head": n_heads, "head_q": n_heads, "head_pattern": n_heads}.get(record.sweep)
    return len(main.row_labels) == rows and (columns is None or len(main.column_labels) == columns)


def record_from_data(data: Any) -> PatchingRecord:
    """Validate a session's patching data; ValueError naming the field when it is damaged."""
    from pydantic import ValidationError

    from .validation import first_problem

    try:
        return PatchingRecord.model_validate(data)
    except ValidationError as exc:
        raise ValueError(f"patching.{first_problem(exc, 'data')}") from None
