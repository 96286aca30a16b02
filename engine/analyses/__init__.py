"""The analyses that ship with the engine; importing this package registers each one
(engine.analysis.get(key) imports it on first use). A new technique is a module here plus
one line below."""

from . import (dla, feature_card, feature_search, features, generation, head_scores, info_flow, live_run, logit_lens,  # noqa: F401
               circuits, patterns, prediction, probes, resid, set_check, set_dla, set_effects, set_head_scores, set_patching, set_reference, steering, sweep, training_timeline)
