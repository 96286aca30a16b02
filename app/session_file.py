"""Session files (`.microtome`): what the user set, which model (and a digest of its
weights), the view, and a digest of the key results so a reopened session can say
whether it reproduces. JSON, validated with pydantic, written atomically.

Every problem with a file becomes a SessionError with a message for the user; nothing
else escapes `load_session` (a hypothesis test feeds it random and mutated files)."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from engine.errors import InterventionError
from engine.interventions import intervention_from_dict

from .atomic import atomic_write_text

SCHEMA_VERSION = 2
SUFFIX = ".microtome"
LOGIT_TOLERANCE = 1e-3  # float32 CPU vs GPU numerics differ by ~1e-5; real changes are far larger



def _v1_to_v2(data: dict) -> dict:
    """v2 added the patching panel's results (`patching`); a v1 session has none."""
    return {**data, "schema_version": 2, "patching": None}


# version -> function upgrading a dict of that version to version + 1
MIGRATIONS: dict[int, Callable[[dict], dict]] = {1: _v1_to_v2}


class SessionError(Exception):
    """A session file that cannot be used, with the reason in words."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelRef(_Strict):
    source: str | None = None  # None = the bundled demo model
    weights_digest: str | None = None  # sha256 of the safetensors files; None for hub ids
    family: str = ""
    n_layers: int = Field(ge=1)
    n_heads: int = Field(ge=1)


class SessionView(_Strict):
    focused_head: tuple[int, int] | None = None
    focused_position: int | None = None
    score_key: str = "induction"
    window_state: str = ""  # base64 of QMainWindow.saveState(): the dock layout


class ResultsDigest(_Strict):
    """Enough of a run's numbers to tell whether reopening reproduces it."""

    device: str
    tokens: list[str]
    top_tokens: list[str]
    top_probs: list[float]
    logit_diff: float | None = None
    target_prob: float | None = None


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

    @field_validator("values", "raw")
    @classmethod
    def _rectangular(cls, grid: list[list[float]] | None) -> list[list[float]] | None:
        if grid is not None and len({len(row) for row in grid}) > 1:
            raise ValueError("the grid's rows have different lengths")
        return grid

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


class Session(_Strict):
    schema_version: int
    saved_by: str = ""
    model: ModelRef
    prompt: str
    corrupted: str = ""
    target: str = ""
    foil: str = ""
    interventions: list[dict[str, Any]] = Field(default_factory=list)
    view: SessionView = SessionView()
    results: ResultsDigest | None = None
    patching: PatchingRecord | None = None

    @field_validator("patching")
    @classmethod
    def _grids_fit_labels(cls, record: PatchingRecord | None) -> PatchingRecord | None:
        if record is not None and not all(r.shape_ok() for r in (record.main, record.estimate) if r is not None):
            raise ValueError("the patching grid does not match its row and column labels")
        if record is not None and record.estimate is not None and (
                (record.estimate.row_labels, record.estimate.column_labels) !=
                (record.main.row_labels, record.main.column_labels)):
            raise ValueError("the patching estimate's grid differs from the sweep's")
        return record

    @field_validator("interventions")
    @classmethod
    def _valid_interventions(cls, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for item in items:
            intervention_from_dict(item)  # raises InterventionError (a ValueError would be wrapped)
        return items

    def intervention_objects(self) -> tuple:
        return tuple(intervention_from_dict(item) for item in self.interventions)


def save_session(path: str | os.PathLike, session: Session) -> None:
    atomic_write_text(path, session.model_dump_json(indent=2))


def load_session(path: str | os.PathLike) -> Session:
    """Read, migrate and validate a session file; SessionError for anything wrong with it."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SessionError(f"Cannot read {path}: {exc}") from exc
    return parse_session(text)


def parse_session(text: str) -> Session:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise SessionError(f"Not a session file: invalid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise SessionError("Not a session file: the top level must be a JSON object")
    version = data.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise SessionError("Not a session file: 'schema_version' is missing or not a positive integer")
    if version > SCHEMA_VERSION:
        raise SessionError(f"This session was saved by a newer Microtome (format {version}; "
                           f"this version reads up to {SCHEMA_VERSION}). Update Microtome to open it.")
    while version < SCHEMA_VERSION:
        data = MIGRATIONS[version](data)
        version = data["schema_version"]
    try:
        return Session.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "file"
        raise SessionError(f"Session file is damaged: {where}: {first.get('msg', 'invalid')}") from exc
    except (InterventionError, TypeError, ValueError, RecursionError) as exc:
        raise SessionError(f"Session file is damaged: {exc}") from exc


def digest_of(result) -> ResultsDigest:
    """The digest of an engine RunResult."""
    return ResultsDigest(device=result.device, tokens=list(result.tokens),
                         top_tokens=list(result.top_tokens[:5]), top_probs=[float(p) for p in result.top_probs[:5]],
                         logit_diff=result.logit_diff, target_prob=result.target_prob)


def differences(stored: ResultsDigest, now: ResultsDigest) -> list[str]:
    """What differs between a stored digest and a recomputed one (empty: reproduced)."""
    diffs = []
    if stored.tokens != now.tokens:
        diffs.append("the prompt tokenizes differently")
    if stored.top_tokens != now.top_tokens:
        diffs.append(f"top predictions changed ({stored.top_tokens[:3]} → {now.top_tokens[:3]})")
    worst = max((abs(a - b) for a, b in zip(stored.top_probs, now.top_probs)), default=0.0)
    if worst > LOGIT_TOLERANCE:
        diffs.append(f"probabilities differ by up to {worst:.2g}")
    for name in ("logit_diff", "target_prob"):
        a, b = getattr(stored, name), getattr(now, name)
        if (a is None) != (b is None) or (a is not None and not math.isclose(a, b, abs_tol=LOGIT_TOLERANCE)):
            diffs.append(f"{name.replace('_', ' ')} {a} → {b}")
    if diffs and stored.device != now.device:
        diffs.append(f"(saved on {stored.device}, reopened on {now.device})")
    return diffs
