"""Tokens drawn so that what the model saw is what the user reads.

A token's leading space, a no-break space, a newline or a raw byte are the difference
between two predictions; printed as they are they vanish (or break a label's line), so
every view that draws a token passes it through `visible_token` first."""

from __future__ import annotations

import re
import unicodedata

# "⍽" and "␍" were tried: the first reads as ␣ at label sizes, the second has no glyph in
# common fonts; a no-break space is an artefact worth naming outright
SPACE, NBSP, NEWLINE, RETURN, TAB, EMPTY = "␣", "<nbsp>", "↵", "\\r", "→", "∅"
_CHARS = {"\xa0": NBSP, "\n": NEWLINE, "\r": RETURN, "\t": TAB}
# markers of a tokenizer's raw vocabulary (not decoded text): GPT-2 byte-level Ġ (space),
# Ċ (newline), ĉ (tab), and SentencePiece's ▁ (space); only read as such at the start
_MARKERS = {"Ġ": SPACE, "Ċ": NEWLINE, "ĉ": TAB, "▁": SPACE}
_BYTE = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")  # SentencePiece byte-fallback tokens


def _char(c: str) -> str:
    """One character made visible: named whitespace, escapes for controls and invisibles."""
    if c in _CHARS:
        return _CHARS[c]
    category = unicodedata.category(c)
    if category == "Cc":  # C0/C1 controls, DEL
        return f"\\x{ord(c):02x}"
    if category in ("Cf", "Zl", "Zp") or (category == "Zs" and c != " "):  # zero-width, odd spaces
        return f"\\u{ord(c):04x}"
    return c


def _byte(value: int) -> str:
    """A byte-fallback token: its character when it is one on its own, else the escape."""
    c = chr(value)
    if c == " ":
        return SPACE
    if value < 0x80 and (c.isprintable() or c in _CHARS):
        return _char(c)
    return f"\\x{value:02x}"


def visible_token(s: str) -> str:
    """The token with spaces at its ends as ␣, nbsp as <nbsp>, newline ↵, tab →, controls as
    \\xNN, byte tokens <0xNN> decoded or escaped, and the empty token as ∅."""
    if s == "":
        return EMPTY
    byte = _BYTE.match(s)
    if byte:
        return _byte(int(byte.group(1), 16))
    lead = len(s) - len(s.lstrip("".join(_MARKERS)))
    head = "".join(_MARKERS[c] for c in s[:lead])
    body = s[lead:]
    core = body.strip(" ")
    left = len(body) - len(body.lstrip(" "))
    right = len(body) - left - len(core)
    return head + SPACE * left + "".join(_char(c) for c in core) + SPACE * right


def elide(text: str, max_chars: int) -> str:
    """At most max_chars characters, the last one an ellipsis when cut."""
    return text if len(text) <= max_chars else text[: max(0, max_chars - 1)] + "…"
