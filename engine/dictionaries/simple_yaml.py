"""A reader for the flat YAML of circuit-tracer's config.yaml, so PyYAML (only a transitive
dependency, through transformers) is not needed:

    model_name: "google/gemma-2-2b"
    feature_input_hook: "mlp.hook_in"
    k: 64
    transcoders:
      - "hf://org/repo/layer_0.safetensors"

Top-level `key: scalar` and `key:` followed by `- item` lines. Indented mappings under a
key (which circuit-tracer does not read either) are skipped; anything else is refused
with its line number rather than guessed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..errors import EngineError

_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_.\-]*)\s*:(?:\s+(.*))?$")


def read_simple_yaml(path: Path) -> dict[str, Any]:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise EngineError(f"{Path(path).name} is not readable ({e})") from None
    data: dict[str, Any] = {}
    current: str | None = None  # the key whose block (list or skipped mapping) we are in
    for number, raw in enumerate(lines, 1):
        line = _strip_comment(raw).rstrip()
        if not line.strip() or line.strip() in ("---", "..."):
            continue
        if line[0] in " \t-":
            item = line.strip()
            if current is not None and item.startswith("- "):
                if data[current] is None:
                    data[current] = []
                if isinstance(data[current], list):
                    data[current].append(_scalar(item[2:].strip(), path, number))
                    continue
            if current is not None and not item.startswith("-") and not isinstance(data[current], list):
                continue  # an indented mapping under `current`: not something we read
            raise EngineError(f"{Path(path).name} line {number}: cannot read '{raw.strip()}'")
        m = _KEY.match(line)
        if m is None:
            raise EngineError(f"{Path(path).name} line {number}: expected 'key: value', got '{raw.strip()}'")
        current = m.group(1)
        data[current] = None if m.group(2) is None or not m.group(2).strip() else _scalar(m.group(2).strip(), path,
                                                                                            number)
    return data


def _strip_comment(line: str) -> str:
    """Drop a `#` comment that is not inside quotes."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i]
    return line


def _scalar(text: str, path: Path, number: int) -> Any:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    if text[:1] in "[{|>&*!\"'":
        raise EngineError(f"{Path(path).name} line {number}: '{text}' is YAML this reader does not handle; "
                          "write a plain value or use config.json")
    lowered = text.lower()
    if lowered in ("null", "~", "none"):
        return None
    if lowered in ("true", "yes"):
        return True
    if lowered in ("false", "no"):
        return False
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text
