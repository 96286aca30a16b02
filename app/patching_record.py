"""Patching results <-> their session-file record (app.session_file.PatchingRecord).

Kept apart from the session manager: the conversion is plain data, numpy arrays to lists
and back, with NaN (a correlation of a constant grid) stored as null."""

from __future__ import annotations

import math

import numpy as np

from engine.results import PatchingResult

from .requests import PatchingDone, RunPatching
from .session_file import PatchingRecord, SweepRecord


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


def to_record(done: PatchingDone) -> PatchingRecord:
    r = done.request
    return PatchingRecord(clean=r.clean, corrupted=r.corrupted, target=r.target, foil=r.foil, sweep=r.sweep,
                          mode=r.mode, attribution=r.attribution, receiver=r.receiver, receiver_input=r.receiver_input,
                          main=sweep_record(done.main),
                          estimate=sweep_record(done.estimate) if done.estimate is not None else None,
                          correlation=_finite(done.correlation), elapsed_ms=done.elapsed_ms)


def from_record(record: PatchingRecord) -> PatchingDone:
    request = RunPatching(record.clean, record.corrupted, record.target, record.foil, record.sweep, record.mode,
                          record.attribution, record.receiver, record.receiver_input)
    return PatchingDone(request, sweep_result(record.main),
                        sweep_result(record.estimate) if record.estimate is not None else None,
                        record.correlation, record.elapsed_ms, restored=True)
