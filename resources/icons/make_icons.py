"""Regenerate the app icons from microtome.svg:

    QT_QPA_PLATFORM=offscreen .venv/bin/python resources/icons/make_icons.py

writes microtome-{16..512}.png (window icon, Linux hicolor theme), microtome.ico (Windows:
PNG-compressed entries 16-256) and microtome.icns (macOS: PNG entries 16-1024). Needs only Qt.
The outputs are committed, so building the app never runs this."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SVG = HERE / "microtome.svg"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_TYPES = {16: b"icp4", 32: b"icp5", 64: b"icp6", 128: b"ic07", 256: b"ic08", 512: b"ic09", 1024: b"ic10"}


def render(size: int) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    QSvgRenderer(str(SVG)).render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data)


def ico(pngs: dict[int, bytes]) -> bytes:
    """ICONDIR + one ICONDIRENTRY per size + the PNG payloads (Vista+ reads PNG entries)."""
    header = struct.pack("<HHH", 0, 1, len(pngs))
    offset = 6 + 16 * len(pngs)
    entries, payload = b"", b""
    for size, png in pngs.items():
        dim = 0 if size >= 256 else size  # 0 means 256
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(png), offset + len(payload))
        payload += png
    return header + entries + payload


def icns(pngs: dict[int, bytes]) -> bytes:
    body = b"".join(ICNS_TYPES[size] + struct.pack(">I", 8 + len(png)) + png for size, png in pngs.items())
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main() -> int:
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 (QImage needs it for fonts)
    cache = {size: render(size) for size in sorted(set(PNG_SIZES) | set(ICO_SIZES) | set(ICNS_TYPES))}
    for size in PNG_SIZES:
        (HERE / f"microtome-{size}.png").write_bytes(cache[size])
    (HERE / "microtome.ico").write_bytes(ico({s: cache[s] for s in ICO_SIZES}))
    (HERE / "microtome.icns").write_bytes(icns({s: cache[s] for s in ICNS_TYPES}))
    print(f"wrote {len(PNG_SIZES)} PNGs, microtome.ico, microtome.icns in {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
