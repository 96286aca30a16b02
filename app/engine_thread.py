"""The one thread that owns the model (design.md, "The engine thread").

The UI calls `EngineBridge.submit(request)` and gets an id back at once; the thread runs
the newest pending request of each kind and reports `finished(id, kind, payload)` or
`failed(id, kind, message)` through queued signals. An exception never kills the thread."""

from __future__ import annotations

import itertools
import logging

from PySide6.QtCore import QObject, QThread, Signal

from .engine_service import EngineService, describe_failure
from .mailbox import Mailbox
from .requests import Request

log = logging.getLogger(__name__)


class _Worker(QThread):
    finished_request = Signal(int, str, object)
    failed_request = Signal(int, str, str)
    progress = Signal(str)
    steps = Signal(int, int, int)  # request id, done, total (patching sweeps)
    started_request = Signal(int, str)

    def __init__(self, mailbox: Mailbox, service: EngineService) -> None:
        super().__init__()
        self.setObjectName("microtome-engine")
        self._mailbox, self.service = mailbox, service
        self.cancelled_loads: set[int] = set()
        self.cancelled_sweeps: set[int] = set()  # request ids; a set is safe across threads under the GIL

    def run(self) -> None:  # runs on the engine thread
        while (item := self._mailbox.take()) is not None:
            request_id, request = item
            self.started_request.emit(request_id, request.kind)
            def steps(done: int, total: int, request_id: int = request_id) -> None:
                self.steps.emit(request_id, done, total)

            def cancelled() -> bool:  # the user pressed Cancel, or a newer sweep is waiting
                return request_id in self.cancelled_sweeps or self._mailbox.has("patching")
            try:
                payload = self.service.handle(request, self.progress.emit, steps, cancelled)
            except BaseException as exc:  # noqa: BLE001 - report everything, keep the thread alive
                log.exception("engine request %s failed", request)
                self.failed_request.emit(request_id, request.kind, describe_failure(exc))
                continue
            if request.kind == "load" and request_id in self.cancelled_loads:
                self.service.undo_load()
                self.failed_request.emit(request_id, request.kind, "Model loading was cancelled")
                continue
            self.finished_request.emit(request_id, request.kind, payload)


class EngineBridge(QObject):
    """Main-thread face of the engine thread."""

    finished = Signal(int, str, object)
    failed = Signal(int, str, str)
    progress = Signal(str)
    steps = Signal(int, int, int)  # request id, done, total
    started = Signal(int, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ids = itertools.count(1)
        self.mailbox = Mailbox()
        self.service = EngineService()
        self._worker = _Worker(self.mailbox, self.service)
        self._worker.finished_request.connect(self.finished)
        self._worker.failed_request.connect(self.failed)
        self._worker.progress.connect(self.progress)
        self._worker.steps.connect(self.steps)
        self._worker.started_request.connect(self.started)
        self._worker.start()

    def submit(self, request: Request) -> int:
        request_id = next(self._ids)
        self.mailbox.put(request_id, request)
        return request_id

    def cancel_load(self, request_id: int) -> None:
        """A pending load is dropped; a running one finishes but its model is discarded
        (the previous model stays in use: from_pretrained cannot be interrupted midway)."""
        self._worker.cancelled_loads.add(request_id)
        self.mailbox.discard("load")

    def cancel_sweep(self, request_id: int) -> None:
        """Stop that patching sweep at its next chunk, or drop it if it has not started."""
        self.mailbox.discard("patching")
        self._worker.cancelled_sweeps.add(request_id)

    @property
    def runs_executed(self) -> int:
        return self.service.runs

    def shutdown(self, timeout_ms: int = 30000) -> None:
        """Stop the thread before the app exits (a running QThread at exit aborts the process)."""
        self.mailbox.close()
        if self._worker.isRunning():
            self._worker.wait(timeout_ms)
