"""Exported figures and data: SVG is XML with the token labels, PNG has the requested size,
CSV and NPZ hold exactly the engine's numbers; the headless CLI writes everything."""

from __future__ import annotations

import csv
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QImage

from engine import Ablation, Engine
from tests.app.conftest import IOI_PROMPT as PROMPT
ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 120_000


@pytest.fixture
def window(qtbot, tiny_window):
    """The tiny model's window with L1.H2 ablated (so the ablation table has a before/after)."""
    controller = tiny_window.controller
    controller.ablate(["L1.H2"])
    qtbot.waitUntil(lambda: controller.last_result.interventions == (Ablation("L1.H2"),), timeout=TIMEOUT)
    return tiny_window


def test_svg_is_xml_with_token_labels(window, tmp_path) -> None:
    path = tmp_path / "lens.svg"
    window.docks["lens"].raise_()
    window.files.export_panel("lens", str(path), "svg")
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    text = " ".join(t for t in root.itertext())
    assert "store" in text and "drink" in text and "embed" in text


def test_png_has_the_requested_size(window, tmp_path) -> None:
    path = tmp_path / "heads.png"
    widget = window.docks["heads"].widget()
    window.files.export_panel("heads", str(path), "png", scale=1.5)
    image = QImage(str(path))
    assert (image.width(), image.height()) == (int(widget.width() * 1.5), int(widget.height() * 1.5))


def test_csv_and_npz_equal_the_engines_numbers(window, tmp_path, tiny_gpt2_dir) -> None:
    written = window.files.export_all_data(str(tmp_path), ("csv", "npz"))
    assert {p.name for p in written} >= {"attention.csv", "attention.npz", "logit_lens.csv", "dla.csv", "dla.npz",
                                        "ablation.csv"}
    expected = Engine(tiny_gpt2_dir, device="cpu").run(PROMPT, [Ablation("L1.H2")], want=["patterns", "logit_lens", "dla"],
                                                       target="Mary", foil="John")
    npz = np.load(tmp_path / "attention.npz")
    np.testing.assert_allclose(npz["patterns"], expected.patterns, atol=1e-6)
    rows = list(csv.DictReader((tmp_path / "attention.csv").open()))
    row = next(r for r in rows if r["layer"] == "1" and r["head"] == "3" and r["query_pos"] == "9" and r["key_pos"] == "4")
    assert float(row["weight"]) == pytest.approx(expected.patterns[1, 3, 9, 4], abs=1e-6)
    assert row["query_token"] == expected.tokens[9]
    dla = {r["component"]: float(r["direct_logit_attribution"]) for r in csv.DictReader((tmp_path / "dla.csv").open())}
    assert dla["L1.H1"] == pytest.approx(expected.dla.heads[1, 1], abs=1e-6)
    assert sum(dla.values()) == pytest.approx(expected.logit_diff, abs=1e-4)
    lens = list(csv.DictReader((tmp_path / "logit_lens.csv").open()))
    first = next(r for r in lens if r["layer"] == "L1" and r["position"] == "14" and r["rank"] == "1")
    assert first["predicted_token"] == expected.logit_lens.top_tokens[-1, -1, 0]
    assert float(first["probability"]) == pytest.approx(expected.logit_lens.top_probs[-1, -1, 0], abs=1e-6)
    ablation = (tmp_path / "ablation.csv").read_text()
    assert "L1.H2" in ablation and f"{expected.logit_diff}"[:6] in ablation


def test_headless_batch_export_writes_every_figure_and_table(window, tmp_path) -> None:
    session = tmp_path / "s.microtome"
    assert window.files._save_to(session)
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "app", "export", str(session), "--out", str(out), "--formats",
                           "png,svg,csv,npz"], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={"QT_QPA_PLATFORM": "offscreen", "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin",
                               "MICROTOME_CONFIG_DIR": str(tmp_path / "cfg")})
    assert proc.returncode == 0, proc.stderr[-2000:]
    names = {p.name for p in out.iterdir()}
    for panel in ("prompt", "heads", "detail", "lens", "graph"):
        assert {f"{panel}.png", f"{panel}.svg"} <= names
    assert {"attention.csv", "logit_lens.npz", "dla.csv", "ablation.csv"} <= names
    assert "reproduced" in proc.stdout


def test_batch_export_rejects_a_bad_session(tmp_path) -> None:
    bad = tmp_path / "bad.microtome"
    bad.write_text("{}", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "app", "export", str(bad), "--out", str(tmp_path / "o")], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 2 and "schema_version" in proc.stderr


def test_every_panel_offers_export_on_its_context_menu(window) -> None:
    from PySide6.QtCore import Qt

    for key, dock in window.docks.items():
        assert dock.contextMenuPolicy() == Qt.ContextMenuPolicy.ActionsContextMenu
        texts = [a.text() for a in dock.actions()]
        assert any(t.endswith("as PNG…") for t in texts) and any(t.endswith("as SVG…") for t in texts), key
