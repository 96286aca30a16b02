"""The mailbox keeps only the newest pending request of each lane, loads first."""

from __future__ import annotations

import threading

from app.mailbox import Mailbox
from app.jobs import JobRequest


def test_newer_request_supersedes_pending_one_of_same_kind() -> None:
    box = Mailbox()
    for i in range(5):
        box.put(i, JobRequest("run", f"prompt {i}"))
    assert box.take() == (4, JobRequest("run", "prompt 4"))
    assert box.superseded == 4


def test_load_runs_before_runs_and_scores() -> None:
    box = Mailbox()
    box.put(1, JobRequest("head_scores"))
    box.put(2, JobRequest("run", "x"))
    box.put(3, JobRequest("load"))
    assert [box.take()[0] for _ in range(3)] == [3, 2, 1]


def test_lanes_of_equal_rank_run_oldest_first_and_a_named_lane_is_its_own() -> None:
    box = Mailbox()
    box.put(1, JobRequest("patching"))
    box.put(2, JobRequest("head_scores"))
    box.put(3, JobRequest("run", "x", lane="baseline"))
    box.put(4, JobRequest("run", "y"))
    assert [box.take()[0] for _ in range(4)] == [4, 3, 1, 2]


def test_close_wakes_a_waiting_taker() -> None:
    box = Mailbox()
    got: list = []
    taker = threading.Thread(target=lambda: got.append(box.take()))
    taker.start()
    box.close()
    taker.join(timeout=5)
    assert not taker.is_alive() and got == [None]
