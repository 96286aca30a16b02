"""A thread-safe mailbox holding the newest pending request of each lane.

The UI thread puts; the engine thread takes, by lane priority. Putting a request in a lane
that already holds one replaces it: the superseded one is never run. A lane is a job's
key ('run', 'logit_lens', ...) unless the job names another (the live run's baseline)."""

from __future__ import annotations

import threading
from typing import Any

# a verdict on a finished load first, a load before the runs queued after it; interactive
# runs before long analyses; lanes not listed come after these, in the order they arrived
PRIORITY: tuple[str, ...] = ("resolve", "load", "run", "baseline")


def rank(lane: str) -> int:
    return PRIORITY.index(lane) if lane in PRIORITY else len(PRIORITY)


class Mailbox:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._pending: dict[str, tuple[int, Any]] = {}
        self._closed = False
        self.superseded = 0  # how many requests were dropped unrun (for tests and the status bar)

    def put(self, request_id: int, request: Any) -> None:
        lane = request.lane
        with self._cond:
            if lane in self._pending:
                self.superseded += 1
                del self._pending[lane]  # re-inserted last: lanes of equal rank run oldest first
            self._pending[lane] = (request_id, request)
            self._cond.notify()

    def take(self) -> tuple[int, Any] | None:
        """Block until a request is pending (returns it) or the mailbox is closed (None)."""
        with self._cond:
            while not self._pending and not self._closed:
                self._cond.wait()
            if self._closed:
                return None
            lane = min(self._pending, key=rank)  # min keeps insertion order among equal ranks
            return self._pending.pop(lane)

    def has(self, lane: str) -> bool:
        with self._cond:
            return lane in self._pending

    def discard(self, lane: str) -> None:
        with self._cond:
            self._pending.pop(lane, None)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
