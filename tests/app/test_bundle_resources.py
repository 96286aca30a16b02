"""What a desktop install needs besides the executable: the .desktop entry and the icons
(resources/, shipped inside the bundle too), and the spec's trimming rules."""

from __future__ import annotations

import configparser
import shutil
import struct
import subprocess
import tomllib
from pathlib import Path

import pytest

from app.version import APP_ID

ROOT = Path(__file__).resolve().parents[2]
ICONS = ROOT / "resources" / "icons"
DESKTOP = ROOT / "resources" / "microtome.desktop"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive
    parser.read_string(DESKTOP.read_text(encoding="utf-8"))
    return parser["Desktop Entry"]


def test_desktop_file_has_the_required_keys() -> None:
    entry = desktop_entry()
    for key in ("Type", "Name", "Exec", "Icon", "Categories", "Comment", "Terminal"):
        assert entry.get(key), f"{key} missing from {DESKTOP.name}"
    assert entry["Type"] == "Application"
    assert entry["Terminal"] == "false"
    assert entry["Categories"].endswith(";")
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    program = entry["Exec"].split()[0]
    assert program == APP_ID and program in scripts, "Exec must run the installed command / bundle executable"


def test_desktop_file_icon_exists() -> None:
    icon = desktop_entry()["Icon"]
    if Path(icon).is_absolute():
        assert Path(icon).is_file()
        return
    assert "/" not in icon and not icon.endswith((".png", ".svg")), "an icon-theme name has no path or extension"
    assert icon == APP_ID
    assert (ICONS / f"{icon}.svg").is_file()  # installed as hicolor/scalable/apps/microtome.svg (docs/building.md)
    for size in PNG_SIZES:
        assert (ICONS / f"{icon}-{size}.png").is_file()


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils not installed")
def test_desktop_file_validates() -> None:
    proc = subprocess.run(["desktop-file-validate", str(DESKTOP)], check=False, capture_output=True, text=True)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


def test_icons_load(qapp) -> None:
    from PySide6.QtCore import QSize
    from PySide6.QtGui import QIcon, QImage
    from PySide6.QtSvg import QSvgRenderer

    for size in PNG_SIZES:
        path = ICONS / f"{APP_ID}-{size}.png"
        image = QImage(str(path))
        assert not image.isNull() and (image.width(), image.height()) == (size, size), path.name
        assert not QIcon(str(path)).isNull()
    assert QSvgRenderer(str(ICONS / f"{APP_ID}.svg")).isValid()
    assert not QIcon(str(ICONS / f"{APP_ID}.svg")).pixmap(QSize(64, 64)).isNull()


def test_the_app_icon_has_every_size(qapp) -> None:
    from app.__main__ import app_icon

    sizes = {s.width() for s in app_icon().availableSizes()}
    assert sizes == set(PNG_SIZES)


def test_windows_and_macos_icons_hold_png_images() -> None:
    ico = (ICONS / f"{APP_ID}.ico").read_bytes()
    reserved, kind, count = struct.unpack_from("<HHH", ico)
    assert (reserved, kind) == (0, 1) and count >= 5
    for i in range(count):
        _w, _h, _c, _r, _planes, _bpp, length, offset = struct.unpack_from("<BBBBHHII", ico, 6 + 16 * i)
        assert ico[offset:offset + 8] == b"\x89PNG\r\n\x1a\n" and offset + length <= len(ico)
    icns = (ICONS / f"{APP_ID}.icns").read_bytes()
    assert icns[:4] == b"icns" and struct.unpack_from(">I", icns, 4)[0] == len(icns)
    pos, kinds = 8, set()
    while pos < len(icns):
        kind, length = icns[pos:pos + 4], struct.unpack_from(">I", icns, pos + 4)[0]
        assert icns[pos + 8:pos + 16] == b"\x89PNG\r\n\x1a\n"
        kinds.add(kind)
        pos += length
    assert {b"ic07", b"ic08", b"ic09", b"ic10"} <= kinds  # 128, 256, 512, 1024


def test_icons_are_up_to_date_with_the_svg(qapp) -> None:
    """make_icons.py renders the committed PNGs from the SVG (edit the SVG, then rerun it)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_icons", ICONS / "make_icons.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    import numpy as np
    from PySide6.QtGui import QImage

    def pixels(image: QImage) -> np.ndarray:
        image = image.convertToFormat(QImage.Format.Format_RGBA8888)
        return np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes()).astype(float)

    fresh, committed = QImage.fromData(module.render(64)), QImage(str(ICONS / f"{APP_ID}-64.png"))
    assert fresh.size() == committed.size()
    # slack for antialiasing, which may differ between Qt versions: few pixels may differ, and only a little
    differs = (np.abs(pixels(fresh) - pixels(committed)).reshape(-1, 4) > 32).any(axis=1)
    assert differs.mean() < 0.01, "the PNGs do not match microtome.svg: rerun resources/icons/make_icons.py"


def test_every_spec_exclusion_says_why() -> None:
    """build.spec's trimming rules carry their reason (it is printed in the build's trim report)."""
    import ast

    tree = ast.parse((ROOT / "build.spec").read_text())
    rules = next(node.value for node in ast.walk(tree) if isinstance(node, ast.Assign)
                 and any(isinstance(t, ast.Name) and t.id == "RULES" for t in node.targets))
    assert isinstance(rules, ast.List) and len(rules.elts) >= 5
    for rule in rules.elts:
        reason = rule.elts[0]
        assert isinstance(reason, ast.Constant) and len(reason.value) > 20
