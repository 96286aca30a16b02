"""Microtome's version: the one place it is written.

pyproject.toml reads it statically (`[tool.setuptools.dynamic] version = {attr = ...}`), so the
package metadata, `microtome --version`, the window title/about text and the bundle all agree.
The app reads this module, never `importlib.metadata`: a PyInstaller bundle carries no
`microtome` distribution metadata, and a source checkout may not be installed at all.
Keep it a plain string literal (setuptools parses it without importing `app`)."""

__version__ = "0.1.0"

APP_NAME = "Microtome"
APP_ID = "microtome"  # desktop file, icon name, executable
