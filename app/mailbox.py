"""A thread-safe mailbox holding the newest pending request of each kind.

The UI thread puts; the engine thread takes, by kind priority. Putting a request of a
kind that is already pending replaces it: the superseded one is never run."""

from __future__ import annotations

import threading

from .requests import PRIORITY, Request


class Mailbox:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._pending: dict[str, tuple[int, Request]] = {}
        self._closed = False
        self.superseded = 0  # how many requests were dropped unrun (for tests and the status bar)

    def put(self, request_id: int, request: Request) -> None:
        with self._cond:
            if request.kind in self._pending:
                self.superseded += 1
            self._pending[request.kind] = (request_id, request)
            self._cond.notify()

    def take(self) -> tuple[int, Request] | None:
        """Block until a request is pending (returns it) or the mailbox is closed (None)."""
        with self._cond:
            while not self._pending and not self._closed:
                self._cond.wait()
            if self._closed:
                return None
            kind = next(k for k in PRIORITY if k in self._pending)
            return self._pending.pop(kind)

    def has(self, kind: str) -> bool:
        with self._cond:
            return kind in self._pending

    def discard(self, kind: str) -> None:
        with self._cond:
            self._pending.pop(kind, None)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
