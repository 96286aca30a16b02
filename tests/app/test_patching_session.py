"""Patching results travel with the session file and the data export: a reopened session
shows the same grid without rerunning; a v1 file (before patching existed) still opens;
a grid that does not match its labels is refused as damaged."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from app.session_file import SCHEMA_VERSION, SessionError, load_session, parse_session
from widgets.patching_panel import PatchingSpec
from tests.app.conftest import CORRUPT, TIMEOUT, wait_result


def run_sweep(qtbot, window, spec: PatchingSpec):
    with wait_result(qtbot, window.controller, "patching"):
        window.view("patching").set_spec(spec)
        window.view("patching").run_button.click()
    return window.panels["patching"].shown


def test_session_round_trip_keeps_the_sweep_and_export_writes_it(qtbot, demo_window, tmp_path) -> None:
    window = demo_window
    done = run_sweep(qtbot, window, PatchingSpec("head", mode="denoise", attribution=True))
    path = tmp_path / "s.microtome"
    assert window.files._save_to(path)
    stored = load_session(path).analysis("patching")
    assert stored.sweep == "head" and stored.mode == "denoise" and stored.corrupted == CORRUPT
    np.testing.assert_allclose(stored.main.values, done.main.values, atol=1e-12)

    window.panels["patching"].shown = None
    window.view("patching").main.clear()
    with qtbot.waitSignal(window.files.sessions.opened, timeout=TIMEOUT):
        window.files.open(str(path))
    np.testing.assert_allclose(window.view("patching").main.values, done.main.values, atol=1e-12)
    np.testing.assert_allclose(window.view("patching").estimate.values, done.estimate.values, atol=1e-12)
    window.view("patching").set_spec(PatchingSpec("resid", mode="noise", attribution=False))
    with qtbot.waitSignal(window.files.sessions.opened, timeout=TIMEOUT):
        window.files.open(str(path))  # restoring shows the settings the sweep was run with
    assert window.view("patching").spec().sweep == "head" and window.view("patching").spec().mode == "denoise"
    assert "r = " in window.view("patching").summary.text()

    written = window.files.export_all_data(str(tmp_path), ("csv", "npz"))
    assert tmp_path / "patching.csv" in written and tmp_path / "patching.npz" in written
    rows = list(csv.reader(line for line in (tmp_path / "patching.csv").open() if not line.startswith("#")))
    assert rows[0] == ["row", "column", "activation_normalised", "logit_diff", "attribution_normalised"]
    cell = next(r for r in rows[1:] if r[:2] == ["L0", "H3"])
    assert float(cell[2]) == pytest.approx(done.main.values[0, 3], abs=1e-9)
    npz = np.load(tmp_path / "patching.npz")
    np.testing.assert_allclose(npz["values"], done.main.values)
    assert float(npz["correlation"]) == pytest.approx(done.correlation)


def test_version_1_sessions_open_and_mismatched_grids_are_refused(qtbot, demo_window, tmp_path) -> None:
    window = demo_window
    run_sweep(qtbot, window, PatchingSpec("mlp_out", attribution=False))
    path = tmp_path / "s.microtome"
    assert window.files._save_to(path)
    data = json.loads(path.read_text())
    assert data["schema_version"] == SCHEMA_VERSION == 3

    v1 = {k: v for k, v in data.items() if k != "analyses"} | {"schema_version": 1}
    assert parse_session(json.dumps(v1)).analysis("patching") is None

    broken = json.loads(path.read_text())
    main = broken["analyses"]["patching"]["data"]["main"]
    main["values"] = main["values"][:-1]
    with pytest.raises(SessionError, match="patching grid"):
        parse_session(json.dumps(broken))


def test_empty_grids_are_refused_and_non_finite_metrics_round_trip(qtbot, demo_window, tmp_path) -> None:
    from dataclasses import replace

    from app.patching_record import from_record

    window = demo_window
    done = run_sweep(qtbot, window, PatchingSpec("head", attribution=False))
    path = tmp_path / "s.microtome"
    assert window.files._save_to(path)
    data = json.loads(path.read_text())
    data["analyses"]["patching"]["data"]["main"].update(column_labels=[], values=[[], []], raw=[[], []])
    with pytest.raises(SessionError, match="column_labels"):
        parse_session(json.dumps(data))

    odd = replace(done, main=replace(done.main, clean_metric=float("nan")))
    window.panels["patching"].shown = odd
    assert window.files._save_to(path)
    back = from_record(load_session(path).analysis("patching"))
    assert np.isnan(back.main.clean_metric) and back.restored
