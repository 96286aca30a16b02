"""Panels: one file per technique, each registering its dock (see base.py)."""

from .base import Panel, PanelContext, panel_class, panel_classes, register_panel

__all__ = ["Panel", "PanelContext", "panel_class", "panel_classes", "register_panel"]
