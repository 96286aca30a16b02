"""Figures for papers and slides: the plot a panel shows, not the panel.

A panel's widget names the child that holds only its plot (`figure_view()`); the export
draws that under a header saying what it is (panel, model, prompt, target/foil), so a
figure found later in a folder still says where it came from. SVG keeps text as text,
and heatmaps become vector rectangles (one path per colour) up to VECTOR_CELL_LIMIT cells:
pyqtgraph's ImageItem would otherwise embed a bitmap that viewers blur when zoomed."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPoint, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QImage, QPainter, QPainterPath, QPixmap
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsPixmapItem, QGraphicsView, QWidget

from .atomic import atomic_write_bytes
from .export import png_bytes

VECTOR_CELL_LIMIT = 250_000  # beyond this an SVG heatmap stays a bitmap (files of tens of MB otherwise)
MARGIN = 8


@dataclass(frozen=True)
class FigureHeader:
    """Two lines above the plot: what it is, and what it was computed on."""

    title: str
    subtitle: str = ""

    def height(self, font: QFont) -> int:
        lines = 1 + bool(self.subtitle)
        return MARGIN + QFontMetrics(font).lineSpacing() * lines + MARGIN // 2


def figure_parts(widget: QWidget) -> list[QWidget]:
    """The children holding only the plot (stacked top to bottom, e.g. a graph and its
    legend), or the widget itself when it names none."""
    view = getattr(widget, "figure_view", None)
    parts = view() if callable(view) else widget
    return list(parts) if isinstance(parts, (list, tuple)) else [parts]


def _size(parts: list[QWidget]) -> tuple[int, int]:
    return max(p.width() for p in parts), sum(p.height() for p in parts)


def header_for(panel_title: str, model: str, prompt: str, target: str | None, foil: str | None,
               max_prompt: int = 140) -> FigureHeader:
    shown = prompt if len(prompt) <= max_prompt else prompt[: max_prompt - 1] + "…"
    answer = f"   target {target!r}" if target else ""
    answer += f" vs foil {foil!r}" if target and foil else ""
    return FigureHeader(f"{panel_title} — {model}", f"prompt {shown!r}{answer}")


def _paint(parts: list[QWidget], header: FigureHeader, painter: QPainter) -> None:
    font = QFont(parts[0].font())
    width = _size(parts)[0] - 2 * MARGIN
    painter.save()
    painter.setPen(QColor(0, 0, 0))
    bold = QFont(font)
    bold.setBold(True)
    spacing = QFontMetrics(font).lineSpacing()
    painter.setFont(bold)
    painter.drawText(QRect(MARGIN, MARGIN, width, spacing), Qt.AlignmentFlag.AlignLeft,
                     QFontMetrics(bold).elidedText(header.title, Qt.TextElideMode.ElideRight, width))
    if header.subtitle:
        painter.setFont(font)
        painter.drawText(QRect(MARGIN, MARGIN + spacing, width, spacing), Qt.AlignmentFlag.AlignLeft,
                         QFontMetrics(font).elidedText(header.subtitle, Qt.TextElideMode.ElideRight, width))
    painter.restore()
    top = header.height(font)
    for part in parts:  # QGraphicsView.render would draw only its scene: the widget's own render
        QWidget.render(part, painter, QPoint(0, top))
        top += part.height()


def figure_png(widget: QWidget, header: FigureHeader, path: str | Path, scale: float = 2.0) -> tuple[int, int]:
    """The plot under its header at `scale` x screen pixels; returns the image size."""
    parts = figure_parts(widget)
    width, height = _size(parts)
    height += header.height(parts[0].font())
    pixmap = QPixmap(int(width * scale), int(height * scale))
    pixmap.fill(QColor(255, 255, 255))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.scale(scale, scale)
    _paint(parts, header, painter)
    painter.end()
    atomic_write_bytes(path, png_bytes(pixmap))
    return pixmap.width(), pixmap.height()


def figure_svg(widget: QWidget, header: FigureHeader, path: str | Path) -> None:
    """The plot under its header as SVG: text stays text, heatmaps become vector cells."""
    parts = figure_parts(widget)
    width, height = _size(parts)
    height += header.height(parts[0].font())
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    generator = QSvgGenerator()
    generator.setOutputDevice(buffer)
    generator.setSize(QSize(width, height))
    generator.setViewBox(QRect(0, 0, width, height))
    generator.setTitle(header.title)
    generator.setDescription(header.subtitle or "Exported from Microtome")
    with vector_heatmaps(parts):
        painter = QPainter(generator)
        _paint(parts, header, painter)
        painter.end()
    atomic_write_bytes(path, bytes(data))


# ---------------------------------------------------------------------- vector heatmaps
def _views(parts: list[QWidget]) -> list[QGraphicsView]:
    views: list[QGraphicsView] = []
    for part in parts:
        views += ([part] if isinstance(part, QGraphicsView) else []) + part.findChildren(QGraphicsView)
    return views


def _image_items(parts: list[QWidget]) -> list[QGraphicsItem]:
    """Bitmaps in the scenes under `parts`: pyqtgraph images and pixmaps (colour bars)."""
    views = _views(parts)
    items: list[QGraphicsItem] = []
    for view in views:
        if view.scene() is not None:
            items += [i for i in view.scene().items()
                      if isinstance(i, (pg.ImageItem, QGraphicsPixmapItem)) and i.isVisible()]
    return items


def _argb(item: QGraphicsItem) -> np.ndarray | None:
    """The colours the item draws, [rows, cols] ARGB uint32 (after any LUT and levels)."""
    if isinstance(item, QGraphicsPixmapItem):
        image = item.pixmap().toImage()
    else:
        if item.image is None:
            return None
        if item.qimage is None:
            item.render()
        if item.qimage is None:
            return None
        image = item.qimage
    if image.isNull():
        return None
    image = image.convertToFormat(QImage.Format.Format_ARGB32)
    width, height = image.width(), image.height()
    raw = np.frombuffer(image.constBits(), dtype=np.uint32, count=image.bytesPerLine() // 4 * height)
    return raw.reshape(height, image.bytesPerLine() // 4)[:, :width].copy()


def cell_paths(colours: np.ndarray, cell_w: float = 1.0, cell_h: float = 1.0) -> dict[int, QPainterPath]:
    """ARGB -> one path of rectangles per colour, runs along each row merged (a 64-cell row
    of one colour is one rectangle); fully transparent cells are left out."""
    paths: dict[int, QPainterPath] = {}
    for r in range(colours.shape[0]):
        row = colours[r]
        starts = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
        ends = np.r_[starts[1:], row.size]
        for s, e in zip(starts, ends):
            colour = int(row[s])
            if colour >> 24 == 0:
                continue
            paths.setdefault(colour, QPainterPath()).addRect(QRectF(s * cell_w, r * cell_h, (e - s) * cell_w, cell_h))
    return paths


@contextmanager
def vector_heatmaps(parts: list[QWidget]) -> Iterator[int]:
    """While open, every small enough bitmap under `widget` (heatmap, colour bar) is hidden
    and drawn as vector paths in its place; yields how many were replaced."""
    swapped: list[tuple[QGraphicsItem, list[QGraphicsPathItem]]] = []
    caches = [(view, view.cacheMode()) for view in _views(parts)]
    for view, _ in caches:  # a cached background would be written as a view-sized bitmap
        view.setCacheMode(QGraphicsView.CacheModeFlag.CacheNone)
    try:
        for item in _image_items(parts):
            colours = _argb(item)
            if colours is None or colours.size > VECTOR_CELL_LIMIT:
                continue
            bounds = item.boundingRect()
            paths = cell_paths(colours, bounds.width() / colours.shape[1], bounds.height() / colours.shape[0])
            added = []
            for colour, path in paths.items():
                path.translate(bounds.topLeft())
                shape = QGraphicsPathItem(path, item.parentItem())
                shape.setTransform(item.transform())
                shape.setPos(item.pos())
                shape.setZValue(item.zValue())
                shape.setBrush(QBrush(QColor.fromRgba(colour)))
                shape.setPen(pg.mkPen(None))
                if item.parentItem() is None and item.scene() is not None:
                    item.scene().addItem(shape)
                added.append(shape)
            item.hide()
            swapped.append((item, added))
        yield len(swapped)
    finally:
        for view, mode in caches:
            view.setCacheMode(mode)
        for item, added in swapped:
            for shape in added:
                if shape.scene() is not None:
                    shape.scene().removeItem(shape)
            item.show()
