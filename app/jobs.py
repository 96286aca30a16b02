"""The job client: the app's one way to ask the engine thread for anything.

`client.submit(key, inputs, params)` returns an id at once; exactly one worker thread owns
the model and runs the newest pending job of each lane (a lane is the key unless the job
names another), dispatching by key: 'load' and 'resolve' to the model service, any other
key to the engine's analysis registry. Every job gets the same progress (counted from 0),
cooperative cancel and error path; results come back as queued signals carrying the id
and key, and `is_stale(id, key)` says whether a newer job of that lane was submitted since.
An exception never kills the thread: it becomes a message."""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from .engine_service import EngineService, describe_failure
from .mailbox import Mailbox
from .ui_turn import UiTurn

log = logging.getLogger(__name__)
CANCELLED = "cancelled"


@dataclass(frozen=True)
class JobRequest:
    """key: a registered analysis ('run', 'dla', ...) or 'load' / 'resolve'. params: the
    analysis's parameters as a plain dict (converted and validated on the engine thread)."""

    key: str
    inputs: Any = None
    params: Any = None
    lane: str = ""

    def __post_init__(self) -> None:
        if not self.lane:
            object.__setattr__(self, "lane", self.key)


class _Worker(QThread):
    finished_job = Signal(int, str, object)  # id, lane, payload
    failed_job = Signal(int, str, str)
    progress = Signal(int, str, int, int)  # id, lane, done, total
    partial = Signal(int, str, str, object)  # id, lane, key, value: a result read so far
    status = Signal(str)

    def __init__(self, mailbox: Mailbox, service: EngineService, turn: UiTurn) -> None:
        super().__init__()
        self.setObjectName("microtome-engine")
        self._mailbox, self.service, self.turn = mailbox, service, turn
        self.cancelled: set[int] = set()  # job ids; a set is safe across threads under the GIL
        self._handed_over = 0  # the newest job that handed a progressive result over

    def run(self) -> None:  # runs on the engine thread
        from engine.analysis import Cancelled, Job

        while (item := self._mailbox.take()) is not None:
            job_id, request = item
            lane = request.lane
            self.turn.wait()  # the UI first finishes reacting to the edit that asked for this (ui_turn)
            job = Job(progress=lambda done, total, i=job_id, l=lane: self.progress.emit(i, l, done, total),
                      cancelled=lambda i=job_id, l=lane: i in self.cancelled or self._mailbox.has(l),
                      emit=lambda key, value, i=job_id, l=lane: self._hand_over(i, l, key, value))
            try:
                payload = self.service.handle(request, job, self.status.emit)
            except Cancelled:
                self.failed_job.emit(job_id, lane, f"{request.key.replace('_', ' ').capitalize()} was {CANCELLED}")
                continue
            except BaseException as exc:  # noqa: BLE001 - report everything, keep the thread alive
                message = describe_failure(exc)
                if message.startswith("Internal error"):
                    log.exception("engine job %s failed", request.key)  # a bug: keep its traceback
                else:
                    log.info("engine job %s: %s", request.key, message)  # the user's input: a message is enough
                self.failed_job.emit(job_id, lane, message)
                continue
            if request.key == "load" and job_id in self.cancelled:
                self.service.undo_load()
                self.failed_job.emit(job_id, lane, "Model loading was cancelled")
                continue
            self.finished_job.emit(job_id, lane, payload)

    def _hand_over(self, job_id: int, lane: str, key: str, value: object) -> None:
        """A progressive result. The first (the numbers) is painted before the engine goes on
        (ui_turn); later ones (patterns) are painted while it computes the rest: the user is
        reading the numbers by then, and waiting would only delay the whole."""
        self.partial.emit(job_id, lane, key, value)
        if job_id != self._handed_over:
            self._handed_over = job_id
            self.turn.wait()


class JobClient(QObject):
    """Main-thread face of the engine thread. Signals carry (id, lane, ...)."""

    finished = Signal(int, str, object)
    failed = Signal(int, str, str)
    progress = Signal(int, str, int, int)
    partial = Signal(int, str, str, object)  # id, lane, key, value (a live run's progressive results)
    status = Signal(str)

    def __init__(self, parent: QObject | None = None, service: EngineService | None = None) -> None:
        super().__init__(parent)
        self._ids = itertools.count(1)
        self._latest: dict[str, int] = {}  # lane -> newest job id (anything older is stale)
        self._open: dict[str, int] = {}  # lane -> newest job id, while it has not finished
        self.mailbox = Mailbox()
        self.service = service or EngineService()
        self.turn = UiTurn(self)
        self._worker = _Worker(self.mailbox, self.service, self.turn)
        self._worker.finished_job.connect(self._close)
        self._worker.failed_job.connect(self._close)
        self._worker.finished_job.connect(self.finished)
        self._worker.failed_job.connect(self.failed)
        self._worker.progress.connect(self.progress)
        self._worker.partial.connect(self.partial)
        self._worker.status.connect(self.status)
        self._worker.start()

    def submit(self, key: str, inputs: Any = None, params: Any = None, lane: str = "") -> int:
        request = JobRequest(key, inputs, params, lane)
        job_id = next(self._ids)
        self._latest[request.lane] = self._open[request.lane] = job_id
        self.mailbox.put(job_id, request)
        return job_id

    def _close(self, job_id: int, lane: str, *_: object) -> None:
        if self._open.get(lane) == job_id:
            del self._open[lane]

    def running(self, lane: str) -> bool:
        """Is the lane's newest job pending or running?"""
        return lane in self._open

    def latest(self, lane: str) -> int | None:
        return self._latest.get(lane)

    def lanes(self) -> list[str]:
        """Lanes whose newest job is pending or running."""
        return list(self._open)

    def is_stale(self, job_id: int, lane: str) -> bool:
        return job_id != self._latest.get(lane)

    def forget(self, lane: str) -> int | None:
        """Whatever the lane's newest job still sends is stale from now on; returns its id."""
        return self._latest.pop(lane, None)

    def cancel(self, lane: str) -> int | None:
        """Drop the lane's pending job, or stop its running one at the next step; its result
        (if any still comes) is stale. Returns the cancelled job's id."""
        self.forget(lane)
        job_id = self._open.pop(lane, None)
        self.mailbox.discard(lane)
        if job_id is not None:
            self._worker.cancelled.add(job_id)
        return job_id

    def is_cancelled(self, job_id: int) -> bool:
        return job_id in self._worker.cancelled

    @property
    def runs_executed(self) -> int:
        return self.service.runs

    def shutdown(self, timeout_ms: int = 30000) -> None:
        """Stop the thread before the app exits (a running QThread at exit aborts the process)."""
        self.mailbox.close()
        if self._worker.isRunning():
            self._worker.wait(timeout_ms)
