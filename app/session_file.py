"""Session files (`.microtome`): what the user set, which model (and a digest of its
weights), the view, and a digest of the key results so a reopened session can say
whether it reproduces. JSON, validated with pydantic, written atomically.

Every problem with a file becomes a SessionError with a message for the user; nothing
else escapes `load_session` (a hypothesis test feeds it random and mutated files)."""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
from pathlib import Path
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from engine.errors import InterventionError
from engine.interventions import intervention_from_dict

from .atomic import atomic_write_text
from .validation import first_problem

SCHEMA_VERSION = 3
SUFFIX = ".microtome"
LOGIT_TOLERANCE = 1e-3  # float32 CPU vs GPU numerics differ by ~1e-5; real changes are far larger
MAX_PROMPT_CHARS = 100_000  # far beyond any model's context; a bigger field is damage, not a prompt
MAX_ANSWER_CHARS = 200  # a target or foil is one token
MAX_NUMBER = 1e6  # logit differences and probabilities beyond this are damage
MAX_FILE_BYTES = 64 * 1024 ** 2  # read no further: a session this large is not one of ours


def _v1_to_v2(data: dict) -> dict:
    """v2 added the patching panel's results (`patching`); a v1 session has none."""
    return {**data, "schema_version": 2, "patching": None}


def _v2_to_v3(data: dict) -> dict:
    """v3 keeps every panel's data under `analyses: {key: {version, data}}`; v2's `patching`
    becomes the patching panel's entry (its version 1)."""
    out = {k: v for k, v in data.items() if k != "patching"}
    patching = data.get("patching")
    out["analyses"] = {"patching": {"version": 1, "data": patching}} if patching is not None else {}
    out["schema_version"] = 3
    return out


# version -> function upgrading a dict of that version to version + 1
MIGRATIONS: dict[int, Callable[[dict], dict]] = {1: _v1_to_v2, 2: _v2_to_v3}


class SessionError(Exception):
    """A session file that cannot be used, with the reason in words."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _finite(value: float | None) -> float | None:
    if value is not None and (not math.isfinite(value) or abs(value) > MAX_NUMBER):
        raise ValueError(f"{value} is not a finite number within ±{MAX_NUMBER:g}")
    return value


class ModelRef(_Strict):
    source: str | None = Field(default=None, max_length=4096)  # None = the bundled demo model
    weights_digest: str | None = Field(default=None, max_length=128)  # sha256 of the safetensors files; None for hub ids
    family: str = Field(default="", max_length=200)
    n_layers: int = Field(ge=1, le=100_000)
    n_heads: int = Field(ge=1, le=100_000)


class SessionView(_Strict):
    focused_head: tuple[int, int] | None = None
    focused_position: int | None = Field(default=None, ge=0, le=10_000_000)
    score_key: str = Field(default="induction", max_length=100)
    window_state: str = Field(default="", max_length=1_000_000)  # base64 of QMainWindow.saveState(): the dock layout

    @field_validator("window_state")
    @classmethod
    def _base64(cls, text: str) -> str:
        try:
            base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("not a saved window layout (base64)") from None
        return text

    @field_validator("focused_head")
    @classmethod
    def _head(cls, head: tuple[int, int] | None) -> tuple[int, int] | None:
        if head is not None and not all(0 <= x <= 100_000 for x in head):
            raise ValueError("a head is two non-negative numbers")
        return head


class ResultsDigest(_Strict):
    """Enough of a run's numbers to tell whether reopening reproduces it."""

    device: str = Field(max_length=100)
    tokens: list[str] = Field(max_length=1_000_000)
    top_tokens: list[str] = Field(max_length=100)
    top_probs: list[float] = Field(max_length=100)
    logit_diff: float | None = None
    target_prob: float | None = None

    _numbers = field_validator("logit_diff", "target_prob")(classmethod(lambda cls, v: _finite(v)))

    @field_validator("top_probs")
    @classmethod
    def _probs(cls, probs: list[float]) -> list[float]:
        for p in probs:
            _finite(p)
        return probs


class AnalysisEntry(_Strict):
    """One panel's data: its own format `version` (migrated by the panel) and the data."""

    version: int = Field(ge=1)
    data: Any = None


def _entry_data(key: str, entry: AnalysisEntry) -> Any:
    """The panel's validated (and migrated) form of its entry; None for a panel this
    version does not have (a newer file's extra panel is ignored, not fatal)."""
    from .panels import panel_class

    cls = panel_class(key)
    if cls is None or entry.data is None:
        return None
    if entry.version > cls.session_version:
        raise ValueError(f"analyses.{key} was saved by a newer Microtome (version {entry.version})")
    return cls.validate_session(entry.data, entry.version)


class Session(_Strict):
    schema_version: int
    saved_by: str = Field(default="", max_length=200)
    model: ModelRef
    prompt: str = Field(max_length=MAX_PROMPT_CHARS)
    corrupted: str = Field(default="", max_length=MAX_PROMPT_CHARS)
    target: str = Field(default="", max_length=MAX_ANSWER_CHARS)
    foil: str = Field(default="", max_length=MAX_ANSWER_CHARS)
    interventions: list[dict[str, Any]] = Field(default_factory=list, max_length=100_000)
    view: SessionView = SessionView()
    results: ResultsDigest | None = None
    analyses: dict[str, AnalysisEntry] = Field(default_factory=dict)

    @field_validator("analyses")
    @classmethod
    def _valid_analyses(cls, analyses: dict[str, AnalysisEntry]) -> dict[str, AnalysisEntry]:
        for key, entry in analyses.items():
            _entry_data(key, entry)  # raises ValueError naming the field
        return analyses

    @field_validator("interventions")
    @classmethod
    def _valid_interventions(cls, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for item in items:
            intervention = intervention_from_dict(item)  # raises InterventionError (a ValueError would be wrapped)
            for number in (getattr(intervention, "factor", None),):
                if number is not None:
                    _finite(number)
            if (source := getattr(intervention, "source_prompt", None)) is not None and len(source) > MAX_PROMPT_CHARS:
                raise ValueError("a resample source prompt is longer than any prompt can be")
        return items

    def intervention_objects(self) -> tuple:
        return tuple(intervention_from_dict(item) for item in self.interventions)

    def analysis(self, key: str) -> Any:
        """The validated data a panel stored (None when there is none)."""
        entry = self.analyses.get(key)
        return _entry_data(key, entry) if entry is not None else None


def save_session(path: str | os.PathLike, session: Session) -> None:
    atomic_write_text(path, session.model_dump_json(indent=2))


def load_session(path: str | os.PathLike) -> Session:
    """Read, migrate and validate a session file; SessionError for anything wrong with it."""
    try:
        if Path(path).stat().st_size > MAX_FILE_BYTES:
            raise SessionError(f"{path} is {Path(path).stat().st_size / 1024 ** 2:.0f} MB: too large to be a session file")
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
        raise SessionError(f"Session file is damaged: {first_problem(exc, 'file')}") from exc
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
