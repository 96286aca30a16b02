"""The user's feature labels, kept with the dictionary: by the digest of its weights, in one
JSON file beside the settings, so a label written once is there in every session and the
features panel can search by it. Sessions also carry the labels they used (a session opened
on another machine brings them along). A corrupt file is set aside, never fatal."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from .atomic import atomic_write_text
from .settings import config_dir

log = logging.getLogger(__name__)


def labels_path() -> Path:
    return config_dir() / "feature_labels.json"


class FeatureLabels:
    """digest -> {feature: label}, read once and written through on every change."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or labels_path()
        self._labels: dict[str, dict[int, str]] = self._read()

    def _read(self) -> dict[str, dict[int, str]]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            return {str(d): {int(f): str(t) for f, t in per.items() if str(t)} for d, per in raw.items()}
        except FileNotFoundError:
            return {}
        except (ValueError, AttributeError, TypeError) as e:
            log.warning("feature labels in %s are unreadable (%s); starting empty", self.path, e)
            return {}

    def get(self, digest: str, feature: int) -> str:
        return self._labels.get(digest, {}).get(int(feature), "")

    def set(self, digest: str, feature: int, text: str) -> None:
        """Keep (or, with empty text, forget) one label and write the file."""
        per = self._labels.setdefault(digest, {})
        if text.strip():
            per[int(feature)] = text.strip()
        else:
            per.pop(int(feature), None)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.path, json.dumps(
                {d: {str(f): t for f, t in sorted(p.items())} for d, p in self._labels.items() if p}, indent=1))
        except OSError as e:  # the label stays in memory and in the session
            log.warning("could not save feature labels to %s: %s", self.path, e)

    def of(self, digest: str) -> dict[int, str]:
        return dict(self._labels.get(digest, {}))

    def search(self, digest: str, text: str) -> list[tuple[int, str]]:
        """Features of this dictionary whose label contains `text` (any case), by feature number."""
        needle = text.strip().casefold()
        return sorted((f, t) for f, t in self._labels.get(digest, {}).items() if needle and needle in t.casefold())
