"""The features panel: which features of a dictionary (an SAE) fire on each token, live.

Opening a dictionary first runs the 'features' readout once as a job: a folder that is not a
dictionary, or one made for another model, fails there with the engine's reason and changes
nothing. Once it passes, the readout joins every live run (controller.live_readouts), so the
strip follows each edit from the same forward. A new model drops it until it is checked
against that model again."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMenu, QWidget

from engine.analysis import Prompt
from widgets.feature_strip import FeatureStrip

from .. import intervention_edits as edits
from ..feature_labels import FeatureLabels
from .base import Panel, register_panel

KEY = "features"


def written_at(site: str) -> tuple[int, str] | None:
    """'blocks.3.hook_mlp_out' -> (3, 'mlp_out'); None for a site that is not a block's hook."""
    m = re.fullmatch(r"blocks\.(\d+)\.hook_(\w+)", site)
    return (int(m.group(1)), m.group(2)) if m else None


@register_panel
class FeaturesPanel(Panel):
    key, title, area, order = "features", "Features", "bottom", 37
    beside = ("tab", "lens")

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.folder: str | None = None  # the dictionary in use (checked against the loaded model)
        self._asked: str | None = None  # a folder being checked
        self.shown = None  # the FeatureActivations on display
        self._expected_digest: str | None = None  # the weights a restored session was saved with

    def create(self) -> QWidget:
        return FeatureStrip()

    def connect(self) -> None:
        c, w, results = self.controller, self.widget, self.ctx.results
        w.open_requested.connect(self._ask_folder)
        w.position_chosen.connect(c.focus_position)
        w.feature_chosen.connect(self._feature_menu)
        w.search_requested.connect(self.search)
        results.on("feature_search", self.guard(self._found))
        results.failed.connect(lambda key, message: key == "feature_search" and w.set_status(message))
        results.on(KEY, self.guard(self._checked))
        results.failed.connect(lambda key, message: key == KEY and self._refused(message))
        c.result_ready.connect(self.guard(lambda result: self.show(result.readouts.get(KEY) if result else None)))
        c.pending_changed.connect(lambda pending: w.set_stale(bool(pending) and self.folder is not None))
        self.ctx.document.on("focused_position", lambda _: self.guard(self._show_focus)())
        w.set_dictionary(None)

    # ------------------------------------------------------------------ opening
    def _ask_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.widget, "Dictionary folder (SAELens cfg.json or circuit-tracer config)")
        if folder:
            self.open(folder)

    def open(self, folder: str) -> int | None:
        """Check `folder` against the loaded model (a one-off run of the readout)."""
        s = self.controller.state
        self._asked = str(folder)
        self.widget.set_status(f"opening {Path(folder).name}…")
        return self.controller.analyse(KEY, Prompt(s.prompt, s.target or None, s.foil or None), {"folder": str(folder)})

    def _checked(self, features) -> None:
        if self._asked is None or features.folder != self._asked:
            return
        self.folder, self._asked = self._asked, None
        self.controller.live_readouts[KEY] = {"folder": self.folder}
        self.widget.set_dictionary(features.label)
        expected, self._expected_digest = self._expected_digest, None
        if expected and expected != features.digest:  # a session made with other weights in that folder
            self.widget.set_status("⚠ this dictionary's weights differ from the ones the session was saved with")
            self.ctx.show_error(f"Features: the dictionary in {Path(self.folder).name} changed since the session was saved")
        else:
            self.widget.set_status("")
        self.show(features)

    def _refused(self, message: str) -> None:
        self._asked = None
        self.widget.set_status(message)
        self.ctx.show_error(f"Dictionary not opened: {message}")

    def on_model_loaded(self, loaded) -> None:
        self.controller.live_readouts.pop(KEY, None)
        self.shown = None
        if self.folder is not None:  # check it against the new model; gone if it does not fit
            folder, self.folder = self.folder, None
            self.widget.set_dictionary(None)
            self.open(folder)

    # ------------------------------------------------------------------ showing
    def show(self, features) -> None:
        if features is None or self.folder is None:
            return
        self.shown = features
        focus = self.controller.state.focused_position
        self.widget.set_features(list(features.tokens), features.shown_ids, features.shown_values,
                                 focus if focus is not None else len(features.tokens) - 1)
        self._show_focus()

    def _show_focus(self) -> None:
        f = self.shown
        if f is None:
            return
        focus = self.controller.state.focused_position
        pos = focus if focus is not None and 0 <= focus < len(f.tokens) else len(f.tokens) - 1
        keep = f.top_ids[pos] >= 0
        self.widget.set_focus_list(pos, f.tokens[pos], [int(i) for i in f.top_ids[pos][keep]],
                                   [float(v) for v in f.top_values[pos][keep]], FeatureLabels().of(f.digest))

    def _describe(self, feature: int) -> str:
        f = self.shown
        if f is None:
            return f"feature #{feature}"
        column = list(f.shown_ids).index(feature) if feature in f.shown_ids else None
        where = ""
        if column is not None:
            pos = int(f.shown_values[:, column].argmax())
            where = f": strongest on '{f.tokens[pos]}' (position {pos}, {f.shown_values[pos, column]:.2f})"
        return f"feature #{feature} of {f.label}{where}"

    # ------------------------------------------------------------------ editing features
    def component(self, feature: int) -> str | None:
        """The feature's address where the dictionary writes, e.g. 'L0.resid_post/sae:1199' or, for a
        transcoder, 'L1.mlp/transcoder:42' (None when that place has no short name)."""
        if self.shown is None:
            return None
        site = self.shown.site_out or self.shown.site
        where = written_at(site)
        if where is None or where[1] not in ("resid_pre", "resid_mid", "resid_post", "mlp_out", "attn_out"):
            return None
        layer, point = where
        kind = "mlp" if point == "mlp_out" else point
        unit = "sae" if site == self.shown.site else "transcoder"
        return f"L{layer}.{kind}/{unit}:{feature}"

    def edit_feature(self, feature: int, mode: str, value: float = 0.0) -> None:
        """Ablate / clamp / scale / restore a feature: an undoable intervention like a head's."""
        component = self.component(feature)
        if component is None or self.folder is None:
            self.ctx.show_error("This dictionary's site cannot be edited from here")
            return
        folder = self.folder
        words = {"ablate": "ablate", "clamp": f"clamp to {value:g}", "scale": f"scale ×{value:g}", "restore": "restore"}
        self.controller.edit(lambda items: edits.edit_feature(items, component, folder, mode, value),
                             f"{words[mode]} feature #{feature}")

    def _feature_menu(self, feature: int) -> None:
        self.ctx.show_status(self._describe(feature), 8000)
        menu = QMenu(self.widget)
        menu.addAction(f"Show card of feature #{feature}", lambda: self.show_card(feature))
        menu.addSeparator()
        menu.addAction(f"Ablate feature #{feature}", lambda: self.edit_feature(feature, "ablate"))
        menu.addAction(f"Clamp feature #{feature} to…", lambda: self._ask(feature, "clamp", "Clamp to activation"))
        menu.addAction(f"Scale feature #{feature} by…", lambda: self._ask(feature, "scale", "Scale by"))
        if any(getattr(i, "component", "") == self.component(feature) for i in self.controller.state.interventions):
            menu.addAction(f"Restore feature #{feature}", lambda: self.edit_feature(feature, "restore"))
        menu.addSeparator()
        menu.addAction(f"Steer with feature #{feature}'s direction", lambda: self.steer_with(feature))
        menu.exec(QCursor.pos())

    def steer_with(self, feature: int) -> int | None:
        """Ask for a steering vector from the feature's decoder row, in the residual stream
        where the dictionary writes (analysis 'steering_vector'; the steering panel shows it)."""
        if self.shown is None or self.folder is None:
            return None
        where = written_at(self.shown.site_out or self.shown.site)
        if where is None:
            self.ctx.show_error("This dictionary's features cannot steer from here")
            return None
        layer, point = where
        point = point if point in ("resid_pre", "resid_mid", "resid_post") else "resid_post"  # after the block
        s = self.controller.state
        return self.controller.analyse("steering_vector", Prompt(s.prompt, s.target or None, s.foil or None),
                                       {"component": f"L{layer}.{point}", "feature_folder": self.folder,
                                        "feature": int(feature)})

    def show_card(self, feature: int) -> int | None:
        """Ask for the feature's card over the dictionary's corpus (shown by the feature card panel)."""
        if self.folder is None:
            return None
        self.ctx.show_status(f"reading feature #{feature} over the corpus…", 5000)
        return self.controller.analyse("feature_card", None, {"folder": self.folder, "feature": int(feature)})

    def search(self, token: str) -> int | None:
        """The features whose label contains the text, shown at once; when no label does, the
        features that fire on it as a token across the corpus (analysis 'feature_search')."""
        if self.folder is None:
            self.widget.set_status("Open a dictionary first")
            return None
        labelled = FeatureLabels().search(self.shown.digest, token) if self.shown is not None else []
        if labelled:
            self.widget.set_label_matches(token.strip(), labelled)
            return None
        self.widget.set_status(f"finding the features on {token!r}…")
        return self.controller.analyse("feature_search", None, {"folder": self.folder, "token": token})

    def _found(self, found) -> None:
        self.widget.set_status("")
        self.widget.set_search_results(found.token, [int(i) for i in found.feature_ids], [float(v) for v in found.means],
                                       f"mean over {found.averaged} of its {found.occurrences} occurrences")

    def _ask(self, feature: int, mode: str, label: str) -> None:
        value, ok = QInputDialog.getDouble(self.widget, f"Feature #{feature}", label, 2.0 if mode == "scale" else 10.0,
                                           -1e4, 1e4, 3)
        if ok:
            self.edit_feature(feature, mode, value)

    # ------------------------------------------------------------------ sessions and export
    def session_state(self) -> dict | None:
        if not self.folder:
            return None
        return {"folder": self.folder, **({"digest": self.shown.digest} if self.shown is not None else {})}

    @classmethod
    def validate_session(cls, data: Any, version: int) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("folder"), str):
            raise ValueError("features: 'folder' must be a path")
        if not isinstance(data.get("digest", ""), str):
            raise ValueError("features: 'digest' must be a string")
        return data

    def restore_session(self, data: Any | None) -> None:
        if data is None:
            return
        if Path(data["folder"]).is_dir():
            self._expected_digest = data.get("digest")
            self.open(data["folder"])
        else:
            self.widget.set_status(f"The session's dictionary {data['folder']} is not there any more: open it again")
            self.ctx.show_error(f"Features: the session's dictionary folder {data['folder']} is missing")

    def export_tables(self) -> dict[str, Any]:
        import numpy as np

        f = self.shown
        if f is None:
            return {}
        rows = [(pos, f.tokens[pos], int(i), float(v)) for pos in range(len(f.tokens))
                for i, v in zip(f.top_ids[pos], f.top_values[pos]) if i >= 0]
        arrays = {"top_ids": f.top_ids, "top_values": f.top_values, "shown_ids": f.shown_ids,
                  "shown_values": f.shown_values, "l0": f.l0, "site": np.array(f.site), "digest": np.array(f.digest)}
        return {"features": (rows, ("position", "token", "feature", "activation"), arrays)}
