"""The mailbox keeps only the newest pending request of each kind, loads first."""

from __future__ import annotations

import threading

from app.mailbox import Mailbox
from app.requests import ComputeHeadScores, LoadModel, RunPrompt


def test_newer_request_supersedes_pending_one_of_same_kind() -> None:
    box = Mailbox()
    for i in range(5):
        box.put(i, RunPrompt(f"prompt {i}"))
    assert box.take() == (4, RunPrompt("prompt 4"))
    assert box.superseded == 4


def test_load_runs_before_runs_and_scores() -> None:
    box = Mailbox()
    box.put(1, ComputeHeadScores())
    box.put(2, RunPrompt("x"))
    box.put(3, LoadModel(None))
    assert [box.take()[0] for _ in range(3)] == [3, 2, 1]


def test_close_wakes_a_waiting_taker() -> None:
    box = Mailbox()
    got: list = []
    taker = threading.Thread(target=lambda: got.append(box.take()))
    taker.start()
    box.close()
    taker.join(timeout=5)
    assert not taker.is_alive() and got == [None]
