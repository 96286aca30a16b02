"""A job client without a thread or a model: tests drive the controller and panels by
finishing, failing or advancing the jobs they submitted, with results they build by hand."""

from __future__ import annotations

import itertools
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.jobs import JobRequest


class FakeClient(QObject):
    finished = Signal(int, str, object)
    failed = Signal(int, str, str)
    progress = Signal(int, str, int, int)
    partial = Signal(int, str, str, object)
    status = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ids = itertools.count(1)
        self._latest: dict[str, int] = {}
        self._open: dict[str, int] = {}
        self.jobs: dict[int, JobRequest] = {}  # every job submitted, by id
        self.cancelled: set[int] = set()
        self.runs_executed = 0

    # ---- the JobClient interface
    def submit(self, key: str, inputs: Any = None, params: Any = None, lane: str = "") -> int:
        request = JobRequest(key, inputs, params, lane)
        job_id = next(self._ids)
        self.jobs[job_id] = request
        self._latest[request.lane] = self._open[request.lane] = job_id
        return job_id

    def latest(self, lane: str) -> int | None:
        return self._latest.get(lane)

    def lanes(self) -> list[str]:
        return list(self._open)

    def running(self, lane: str) -> bool:
        return lane in self._open

    def is_stale(self, job_id: int, lane: str) -> bool:
        return job_id != self._latest.get(lane)

    def forget(self, lane: str) -> int | None:
        return self._latest.pop(lane, None)

    def cancel(self, lane: str) -> int | None:
        self.forget(lane)
        job_id = self._open.pop(lane, None)
        if job_id is not None:
            self.cancelled.add(job_id)
        return job_id

    def is_cancelled(self, job_id: int) -> bool:
        return job_id in self.cancelled

    def shutdown(self) -> None:
        pass  # no thread to stop

    # ---- what the engine thread would do
    def last(self, key: str) -> tuple[int, JobRequest]:
        """The newest job submitted with this key (any lane)."""
        job_id = max(i for i, r in self.jobs.items() if r.key == key)
        return job_id, self.jobs[job_id]

    def finish(self, job_id: int, payload: Any) -> None:
        lane = self.jobs[job_id].lane
        if self._open.get(lane) == job_id:
            del self._open[lane]
        self.finished.emit(job_id, lane, payload)

    def fail(self, job_id: int, message: str) -> None:
        lane = self.jobs[job_id].lane
        if self._open.get(lane) == job_id:
            del self._open[lane]
        self.failed.emit(job_id, lane, message)

    def advance(self, job_id: int, done: int, total: int) -> None:
        self.progress.emit(job_id, self.jobs[job_id].lane, done, total)
