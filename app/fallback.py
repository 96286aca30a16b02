"""At start-up, a model or session named on the command line that cannot be opened must not
leave an empty window: the demo model opens instead, and the window says why."""

from __future__ import annotations


def open_demo_if_nothing_opens(window, device: str = "auto") -> None:
    """Until the first model is in: a failed load or session opens the demo model, and the
    reason stays in the status bar once the demo model is shown."""
    controller, reason = window.controller, {}

    def failed(message: str) -> None:
        if controller.loaded is not None or controller.client.running("load") or reason:
            return  # a model is in, another load is on its way (a picked model), or we already fell back
        reason["text"] = f"{message} — the demo model was opened instead."
        controller.load_model(None, device)

    def loaded(_loaded) -> None:
        controller.load_failed.disconnect(failed)
        window.files.sessions.failed.disconnect(failed)
        controller.model_loaded.disconnect(loaded)
        if "text" in reason:
            window.show_verdict(reason["text"], False)  # kept until the user changes something (not cleared by the first result)

    controller.load_failed.connect(failed)
    window.files.sessions.failed.connect(failed)
    controller.model_loaded.connect(loaded)
