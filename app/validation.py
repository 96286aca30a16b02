"""One way to say which field of a file pydantic refused, for every loader in the app."""

from __future__ import annotations

from pydantic import ValidationError


def first_problem(exc: ValidationError, default_where: str) -> str:
    """'view.window_state: not a saved window layout' from the first error pydantic found."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ())) or default_where
    return f"{where}: {first.get('msg', 'invalid')}"
