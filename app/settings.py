"""User settings (window layout, recent models) as a typed pydantic model in a JSON file
under the platform's config folder. MICROTOME_CONFIG_DIR overrides the folder, which is
how tests keep away from the user's real settings. A corrupt file falls back to defaults."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import platformdirs
from pydantic import BaseModel, Field, ValidationError

from .atomic import atomic_write_text

log = logging.getLogger(__name__)
MAX_RECENT = 8


class Settings(BaseModel):
    window_geometry: str = ""  # base64 of QMainWindow.saveGeometry()
    window_state: str = ""  # base64 of QMainWindow.saveState() (dock layout)
    recent_models: list[str] = Field(default_factory=list)
    recent_sessions: list[str] = Field(default_factory=list)
    autosave_seconds: float = Field(default=3.0, ge=0.5, le=3600)  # after the last change
    last_folder: str = ""  # where the last session or export was saved: file dialogs start there

    def add_recent(self, source: str) -> None:
        self.recent_models = [source] + [s for s in self.recent_models if s != source][: MAX_RECENT - 1]


def config_dir() -> Path:
    return Path(os.environ.get("MICROTOME_CONFIG_DIR") or platformdirs.user_config_dir("microtome", appauthor=False))


def settings_path() -> Path:
    return config_dir() / "settings.json"


def load_settings() -> Settings:
    path = settings_path()
    try:
        return Settings.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Settings()
    except (OSError, ValidationError, ValueError) as exc:
        log.warning("ignoring unreadable settings %s: %s", path, exc)
        return Settings()


def save_settings(settings: Settings) -> None:
    atomic_write_text(settings_path(), settings.model_dump_json(indent=2))
