"""Settings round-trip through their JSON file; a corrupt file falls back to defaults."""

from __future__ import annotations

from pathlib import Path

from app.settings import MAX_RECENT, Settings, load_settings, save_settings, settings_path


def test_round_trip_in_the_isolated_folder(isolated_config: Path) -> None:
    settings = Settings(window_state="abc")
    settings.add_recent("/models/a")
    settings.add_recent("/models/b")
    settings.add_recent("/models/a")
    save_settings(settings)
    assert settings_path().parent == isolated_config
    loaded = load_settings()
    assert loaded.recent_models == ["/models/a", "/models/b"] and loaded.window_state == "abc"


def test_recent_list_is_bounded() -> None:
    settings = Settings()
    for i in range(20):
        settings.add_recent(f"m{i}")
    assert len(settings.recent_models) == MAX_RECENT and settings.recent_models[0] == "m19"


def test_corrupt_file_gives_defaults() -> None:
    settings_path().parent.mkdir(parents=True, exist_ok=True)
    settings_path().write_text("{not json", encoding="utf-8")
    assert load_settings() == Settings()
