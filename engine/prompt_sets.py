"""Prompt sets: many prompts (with their corrupted twins and answers) as one document.

A set comes from a template with slots and filler lists (an IOI name grid), from a CSV or
JSONL file (columns prompt, corrupted, target, foil, label, anything else kept as extra),
or from a list of prompts (the session's history). Plain data, no torch: the UI thread
builds, edits, validates against a tokenizer (through a `count` callable) and saves them.

Template syntax: `{A}` is a slot filled from `fillers["A"]`. Every combination is made
(or a seeded random sample of `limit` of them) with distinct values for slots that share a
filler list (so A != B for names). The corrupted prompt, the target and the foil are
templates too: "... , {A} gave a drink to" swaps the subject; a slot only the corrupted
template names ({C}) takes a value the prompt does not use ("a third name")."""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import random
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

from .errors import EngineError

MAX_ROWS = 10_000
COLUMNS = ("prompt", "corrupted", "target", "foil", "label")
_SLOT = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class SetRow:
    prompt: str
    corrupted: str = ""
    target: str = ""
    foil: str = ""
    label: str = ""
    extra: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, str]:
        return {"prompt": self.prompt, "corrupted": self.corrupted, "target": self.target, "foil": self.foil,
                "label": self.label, **dict(self.extra)}


@dataclass(frozen=True)
class PromptSet:
    rows: tuple[SetRow, ...]
    name: str = "prompt set"
    source: str = ""  # how it was made (template, file path, history), in words

    def __post_init__(self) -> None:
        if not self.rows:
            raise EngineError("a prompt set needs at least one prompt")
        if len(self.rows) > MAX_ROWS:
            raise EngineError(f"a prompt set holds at most {MAX_ROWS:,} prompts (this one has {len(self.rows):,})")

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def digest(self) -> str:
        """sha256 of the rows: sessions name a set by it."""
        text = json.dumps([r.to_dict() for r in self.rows], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()

    def to_dict(self) -> dict:
        return {"name": self.name, "source": self.source, "rows": [r.to_dict() for r in self.rows]}

    @classmethod
    def from_dict(cls, data: Mapping) -> "PromptSet":
        if not isinstance(data, Mapping) or not isinstance(data.get("rows"), list):
            raise EngineError("a prompt set is an object with a list of rows")
        return cls(tuple(_row(r, i + 1) for i, r in enumerate(data["rows"])), str(data.get("name", "prompt set")),
                   str(data.get("source", "")))

    def labels(self) -> list[str]:
        return [r.label for r in self.rows]

    def head(self, n: int) -> list[SetRow]:
        return list(self.rows[:n])


def _row(data: Mapping, number: int) -> SetRow:
    if not isinstance(data, Mapping):
        raise EngineError(f"row {number}: expected an object with a 'prompt'")
    prompt = data.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise EngineError(f"row {number}: no prompt")
    values = {k: ("" if data.get(k) is None else str(data.get(k))) for k in COLUMNS[1:]}
    extra = tuple((str(k), str(v)) for k, v in data.items() if k not in COLUMNS and v is not None)
    return SetRow(prompt, **values, extra=extra)


# ------------------------------------------------------------------ making sets
def from_template(template: str, fillers: Mapping[str, Sequence[str]], target: str = "", foil: str = "",
                  corrupted: str = "", label: str = "", limit: int | None = None, seed: int = 0,
                  name: str = "template") -> PromptSet:
    """Every filling of `template` (or `limit` of them, a seeded sample); see the module doc."""
    slots = list(dict.fromkeys(_SLOT.findall(template)))
    if not slots:
        raise EngineError("the template has no {slots}")
    fresh = [s for s in dict.fromkeys(_SLOT.findall(corrupted)) if s not in slots]  # a third name: {C}
    missing = [s for s in slots + fresh if not fillers.get(s)]
    if missing:
        raise EngineError(f"no filler list for {', '.join('{' + s + '}' for s in missing)}")
    lists = [list(dict.fromkeys(str(v) for v in fillers[s])) for s in slots]
    total = 1
    for values in lists:
        total *= len(values)
    rng = random.Random(seed)
    combos: Iterable[tuple[str, ...]]
    if limit is not None and total > 4 * limit:  # sample without listing every combination
        seen: set[tuple[str, ...]] = set()
        tries = 0
        while len(seen) < limit and tries < 50 * limit:
            tries += 1
            combo = tuple(rng.choice(values) for values in lists)
            if _distinct(combo, slots, fillers):
                seen.add(combo)
        combos = sorted(seen)
    else:
        combos = [c for c in itertools.product(*lists) if _distinct(c, slots, fillers)]
        if limit is not None and len(combos) > limit:
            combos = sorted(rng.sample(combos, limit))
    rows = []
    for combo in combos:
        values = dict(zip(slots, combo))
        swapped = dict(values)
        for slot in fresh:
            others = [v for v in fillers[slot] if v not in swapped.values()]
            if not others:
                raise EngineError(f"{{{slot}}} has no value left that the prompt does not use")
            swapped[slot] = rng.choice(others)
        rows.append(SetRow(_fill(template, values), _fill(corrupted, swapped),
                           _fill(target, values), _fill(foil, values), _fill(label, values),
                           tuple((s, values[s]) for s in slots)))
    if len(rows) > MAX_ROWS:
        raise EngineError(f"the template makes {len(rows):,} prompts; ask for at most {MAX_ROWS:,} (a sample)")
    return PromptSet(tuple(rows), name, f"template '{template}' ({len(rows):,} fillings)")


def _distinct(combo: tuple[str, ...], slots: list[str], fillers: Mapping[str, Sequence[str]]) -> bool:
    """Slots drawing on the same filler list take different values (A and B are two names)."""
    by_list: dict[tuple[str, ...], set[str]] = {}
    for slot, value in zip(slots, combo):
        group = by_list.setdefault(tuple(fillers[slot]), set())
        if value in group:
            return False
        group.add(value)
    return True


def _fill(text: str, values: Mapping[str, str]) -> str:
    return _SLOT.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def from_file(path: str | Path) -> PromptSet:
    """A CSV (header row) or JSONL file with at least a 'prompt' column."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EngineError(f"no file {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EngineError(f"{path.name} could not be read as text: {exc}") from None
    if path.suffix.lower() == ".jsonl":
        rows = []
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    rows.append(_row(json.loads(line), number))
                except ValueError as exc:
                    raise EngineError(f"{path.name} line {number}: not JSON ({exc})") from None
    elif path.suffix.lower() in (".csv", ".tsv"):
        reader = csv.DictReader(io.StringIO(text), delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
        if not reader.fieldnames or "prompt" not in reader.fieldnames:
            raise EngineError(f"{path.name}: the first line must name the columns, one of them 'prompt'")
        rows = [_row(r, n + 2) for n, r in enumerate(reader)]
    else:
        raise EngineError(f"{path.name}: a prompt set is read from .csv, .tsv or .jsonl")
    if len(rows) > MAX_ROWS:
        raise EngineError(f"{path.name} has {len(rows):,} prompts; at most {MAX_ROWS:,}")
    return PromptSet(tuple(rows), path.stem, f"file {path.name}")


def from_prompts(prompts: Sequence[str], name: str = "history") -> PromptSet:
    return PromptSet(tuple(SetRow(p) for p in prompts if p.strip()), name, f"{name} ({len(prompts)} prompts)")


def write_jsonl(prompt_set: PromptSet, path: str | Path) -> None:
    Path(path).write_text("".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in prompt_set.rows),
                          encoding="utf-8")


# ------------------------------------------------------------------ checking a set against a model
@dataclass(frozen=True)
class Problem:
    row: int  # 0-based
    message: str


@dataclass(frozen=True)
class Check:
    problems: tuple[Problem, ...] = field(default_factory=tuple)
    aligned: bool = False  # every row's prompt has the same token count (per-position means line up)
    pairs_match: bool = True  # every corrupted prompt has its prompt's token count

    @property
    def ok(self) -> bool:
        return not self.problems


def check(prompt_set: PromptSet, count: Callable[[str], int], one_token: Callable[[str], bool],
          unknown: Callable[[str], Sequence[str]] = lambda text: (), need_pairs: bool = False,
          need_answers: bool = False, limit: int = 200) -> Check:
    """Problems per row: corrupted prompts of another length (a sweep patches position by
    position), answers that are not one token, words the tokenizer does not know. `count`
    gives a text's token count; at most `limit` problems are listed."""
    problems: list[Problem] = []
    lengths = set()
    pairs_match = True
    for i, row in enumerate(prompt_set.rows):
        n = count(row.prompt)
        lengths.add(n)
        found = []
        if need_pairs and not row.corrupted.strip():
            found.append("no corrupted prompt")
        elif row.corrupted.strip() and count(row.corrupted) != n:
            pairs_match = False
            found.append(f"the corrupted prompt has {count(row.corrupted)} tokens, the prompt {n}")
        if need_answers and not (row.target.strip() and row.foil.strip()):
            found.append("no target and foil")
        for answer in (row.target, row.foil):
            if answer.strip() and not one_token(answer):
                found.append(f"'{answer}' is not one token")
        words = list(unknown(row.prompt))
        if words:
            found.append(f"unknown words: {', '.join(words[:4])}")
        problems.extend(Problem(i, m) for m in found)
        if len(problems) >= limit:
            break
    return Check(tuple(problems[:limit]), len(lengths) == 1, pairs_match)


def subset(prompt_set: PromptSet, indices: Iterable[int]) -> PromptSet:
    rows = tuple(prompt_set.rows[i] for i in indices)
    return replace(prompt_set, rows=rows)


@dataclass(frozen=True)
class EditedSet:
    """A prompt set with interventions to measure on it (analysis 'set_effects')."""

    prompt_set: PromptSet
    interventions: tuple = ()


def reference_name(prompt_set: PromptSet) -> str:
    """What an ablation's `reference` calls a set: which set, and changing when its rows do."""
    return f"{prompt_set.name} · {len(prompt_set):,} prompts · {prompt_set.digest[:8]}"
