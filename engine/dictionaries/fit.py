"""Does a dictionary fit a model? Checked before it is used, so a mismatch is a sentence
("this SAE reads blocks.40.hook_resid_post but the model has 30 layers") and not a shape
error deep in a forward, or worse, a silent read of the wrong place."""

from __future__ import annotations

from typing import Any, Callable

from ..errors import EngineError
from ..results import ModelInfo
from .dictionary import Dictionary
from .hook_names import MLP_INPUT, names_mlp_module_output, split_hook

# families whose hook_mlp_out is taken after a norm that follows the MLP (engine/adapters/gemma2.py):
# there, a file's "MLP module output" is a different place
POST_MLP_NORM_FAMILIES = ("Gemma 2",)


def fits(dictionary: Dictionary, model: Any) -> None:
    """Raise EngineError unless the dictionary's sites exist in this model with its widths.
    `model`: an Engine, a handle (then hook existence is checked by the adapter) or a ModelInfo."""
    handle = getattr(model, "handle", model)
    info: ModelInfo = getattr(handle, "info", handle)
    has_hook: Callable[[str], bool] | None = getattr(handle, "has_hook", None)
    what = "SAE" if dictionary.kind == "sae" else "transcoder"
    places = [("reads", dictionary.site_in, dictionary.d_in, "d_in", dictionary.hooks_in_file[0])]
    if dictionary.kind == "transcoder":
        places.append(("writes", dictionary.site_out, dictionary.d_out, "d_out", dictionary.hooks_in_file[1]))
    for verb, site, width, width_name, as_written in places:
        layer, point = split_hook(site)
        if not 0 <= layer < info.n_layers:
            raise EngineError(f"this {what} {verb} {site} but the model has {info.n_layers} layers")
        if has_hook is not None and not has_hook(site):
            why = " (the MLP's input): the model's adapter has no hook there yet" if point == MLP_INPUT else ""
            raise EngineError(f"this {what} {verb} {site}, which this {info.family} model has no hook for{why}")
        if as_written and names_mlp_module_output(as_written) and info.family in POST_MLP_NORM_FAMILIES:
            raise EngineError(f"this {what} {verb} the MLP module's output ('{as_written}'), but in {info.family} "
                              f"{site} is after the post-MLP norm: a different place")
        expected = info.n_heads * info.d_head if point == "attn.hook_z" else info.d_model
        if width != expected:
            raise EngineError(f"this {what} {verb} {site} with {width_name} {width}, but the model's width there "
                              f"is {expected}")
