"""The panels that ship with Microtome; importing this module registers them. A new
technique's panel is one file in this package plus one name below."""

from . import (attention_text, components, head_detail, head_finder, heads, logit_lens, patching, prompt,  # noqa: F401
               circuits, feature_card, features, generation, info_flow, probes, prompt_sets, set_results, steering,
               training_timeline)
