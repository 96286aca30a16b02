"""Microtome's desktop application: main window, wiring, the engine thread, settings."""
