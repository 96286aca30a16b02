"""The analyses that ship with the engine; importing this package registers each one
(engine.analysis.get(key) imports it on first use). A new technique is a module here plus
one line below."""

from . import dla, feature_card, feature_search, features, head_scores, live_run, logit_lens, patterns, prediction, resid, sweep, training_timeline  # noqa: F401
