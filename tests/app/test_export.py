"""Exported figures and data: SVG is XML with the token labels, PNG has the requested size,
CSV and NPZ hold exactly the engine's numbers; the headless CLI writes everything."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QWidget

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


def test_png_is_the_plot_under_a_header_not_the_panel(window, tmp_path) -> None:
    """The panel's controls (combo boxes, buttons) are not in the figure: only its plot
    view, under a header naming the model and the prompt, at the requested scale."""
    from app.figures import header_for

    path = tmp_path / "heads.png"
    panel_widget = window.docks["heads"].widget()
    plot = panel_widget.figure_view()
    assert isinstance(plot, QWidget)
    assert plot is not panel_widget and plot.height() < panel_widget.height()
    window.files.export_panel("heads", str(path), "png", scale=1.5)
    image = QImage(str(path))
    header = header_for("x", "m", PROMPT, "Mary", "John").height(plot.font())
    assert (image.width(), image.height()) == (int(plot.width() * 1.5), int((plot.height() + header) * 1.5))


def test_every_figure_panel_names_its_plot(window) -> None:
    for key in ("heads", "lens", "graph", "detail"):
        widget = window.docks[key].widget()
        assert hasattr(widget, "figure_view"), key


def test_svg_heatmap_is_vector_cells_and_header_says_what_it_is(window, tmp_path) -> None:
    path = tmp_path / "lens.svg"
    window.docks["lens"].raise_()
    window.files.export_panel("lens", str(path), "svg")
    svg = path.read_text()
    # no embedded bitmap but the line plot's few-pixel markers: heatmap and colour bar are paths
    sizes = [(float(w), float(h)) for w, h in re.findall(r'<image[^>]* width="([\d.]+)" height="([\d.]+)"', svg)]
    assert all(w <= 12 and h <= 12 for w, h in sizes), sizes
    root = ET.parse(path).getroot()
    text = " ".join(root.itertext())
    assert "Logit lens" in text and "When Mary and John" in text and "'Mary'" in text
    assert svg.count("<path") > 10


def test_vector_cells_redraw_the_colours_they_came_from(qapp) -> None:
    """Paths drawn back into an image give the input colours, cell for cell."""
    from PySide6.QtGui import QPainter

    from app.figures import cell_paths

    rng = np.random.default_rng(0)
    palette = np.array([0xFF102030, 0xFFFF0000, 0xFF00FF00, 0x00000000], dtype=np.uint32)
    colours = palette[rng.integers(0, 4, size=(7, 11))]
    image = QImage(11 * 3, 7 * 3, QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    for colour, path in cell_paths(colours, 3.0, 3.0).items():
        painter.fillPath(path, QColor.fromRgba(colour))
    painter.end()
    for r in range(7):
        for c in range(11):
            assert image.pixel(c * 3 + 1, r * 3 + 1) == int(colours[r, c]) or colours[r, c] >> 24 == 0


def test_tables_carry_prompt_answer_model_and_weights(window, tmp_path) -> None:
    window.files.export_all_data(str(tmp_path), ("csv", "npz"))
    digest = window.controller.loaded.weights_digest
    assert digest
    head = [line for line in (tmp_path / "dla.csv").read_text().splitlines() if line.startswith("#")]
    meta = dict(line[2:].split(": ", 1) for line in head)
    assert meta["prompt"] == PROMPT and meta["target"] == "Mary" and meta["foil"] == "John"
    assert meta["weights_sha256"] == digest and meta["interventions"] == "ablation L1.H2"
    npz = np.load(tmp_path / "logit_lens.npz")
    assert str(npz["meta_prompt"]) == PROMPT and str(npz["meta_weights_sha256"]) == digest


def table(path: Path) -> list[dict]:
    """A CSV export read as a plain table (its '# key: value' provenance lines skipped)."""
    return list(csv.DictReader(line for line in path.open() if not line.startswith("#")))


def test_csv_and_npz_equal_the_engines_numbers(window, tmp_path, tiny_gpt2_dir) -> None:
    written = window.files.export_all_data(str(tmp_path), ("csv", "npz"))
    assert {p.name for p in written} >= {"attention.csv", "attention.npz", "logit_lens.csv", "dla.csv", "dla.npz",
                                        "ablation.csv"}
    expected = Engine(tiny_gpt2_dir, device="cpu").run(PROMPT, [Ablation("L1.H2")], want=["patterns", "logit_lens", "dla"],
                                                       target="Mary", foil="John")
    npz = np.load(tmp_path / "attention.npz")
    np.testing.assert_allclose(npz["patterns"], expected.patterns, atol=1e-6)
    rows = table(tmp_path / "attention.csv")
    row = next(r for r in rows if r["layer"] == "1" and r["head"] == "3" and r["query_pos"] == "9" and r["key_pos"] == "4")
    assert float(row["weight"]) == pytest.approx(expected.patterns[1, 3, 9, 4], abs=1e-6)
    assert row["query_token"] == expected.tokens[9]
    dla = {r["component"]: float(r["direct_logit_attribution"]) for r in table(tmp_path / "dla.csv")}
    assert dla["L1.H1"] == pytest.approx(expected.dla.heads[1, 1], abs=1e-6)
    assert sum(dla.values()) == pytest.approx(expected.logit_diff, abs=1e-4)
    lens = table(tmp_path / "logit_lens.csv")
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
