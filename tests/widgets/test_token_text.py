"""Tokens are drawn so spaces, no-break spaces, newlines and raw bytes stay visible."""

from __future__ import annotations

import pytest

from widgets.token_text import elide, visible_token

CASES = [
    ("the", "the"),
    (" the", "␣the"),
    ("the ", "the␣"),
    ("  ", "␣␣"),
    ("New York", "New York"),  # inner spaces read as spaces
    ("\xa0", "<nbsp>"),
    (" \xa0x", "␣<nbsp>x"),
    ("\n", "↵"),
    ("\n\n", "↵↵"),
    ("\t", "→"),
    ("\r\n", "\\r↵"),
    ("", "∅"),
    ("\x07", "\\x07"),
    ("\x7f", "\\x7f"),
    ("\u200b", "\\u200b"),  # zero-width space
    ("\u3000", "\\u3000"),  # ideographic space
    ("<0x0A>", "↵"),
    ("<0x20>", "␣"),
    ("<0x41>", "A"),
    ("<0xE2>", "\\xe2"),  # half a UTF-8 character
    ("Ġword", "␣word"),
    ("Ċ", "↵"),
    ("ĊĊ", "↵↵"),
    ("ĉ", "→"),
    ("▁the", "␣the"),
    ("<bos>", "<bos>"),
    ("naïve", "naïve"),
    ("日本", "日本"),
    ("�", "�"),
]


@pytest.mark.parametrize(("token", "shown"), CASES)
def test_visible_token(token: str, shown: str) -> None:
    assert visible_token(token) == shown


def test_every_visible_token_is_printable_on_one_line() -> None:
    for token, _ in CASES:
        shown = visible_token(token)
        assert shown and shown.isprintable() and "\n" not in shown


def test_elide() -> None:
    assert elide("extraordinarily", 6) == "extra…"
    assert elide("short", 6) == "short"
