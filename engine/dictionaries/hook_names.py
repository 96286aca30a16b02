"""Hook names as dictionary files write them -> the engine's canonical hook names.

SAELens writes TransformerLens names (`blocks.7.hook_resid_post`), circuit-tracer writes
names relative to a block (`mlp.hook_in`, then `blocks.{layer}.` is prepended), and some
files name Hugging Face modules (`model.layers.7`). Everything is turned into one
canonical name here, so the rest of the engine never sees the other spellings.

The canonical names are the adapters' (engine/adapters/base.py), including
`blocks.{l}.ln2.hook_normalized`, the MLP's input after its norm, which is where most
transcoders read: the GPT-2 and Llama adapters define it; `fits` refuses it, by name, on a
model whose adapter does not (yet)."""

from __future__ import annotations

import re

from ..errors import EngineError

MLP_INPUT = "ln2.hook_normalized"

# point (after `blocks.{l}.`) as written -> canonical point
_POINTS = {
    "hook_resid_pre": "hook_resid_pre",
    "hook_resid_mid": "hook_resid_mid",
    "hook_resid_post": "hook_resid_post",
    "hook_attn_out": "hook_attn_out",
    "hook_mlp_out": "hook_mlp_out",
    "attn.hook_z": "attn.hook_z",
    MLP_INPUT: MLP_INPUT,
    "mlp.hook_in": MLP_INPUT,  # circuit-tracer: the MLP module's input, i.e. after ln2
    "hook_mlp_in": "hook_resid_mid",  # TransformerLens: the stream before ln2 (sequential blocks)
    "mlp.hook_out": "hook_mlp_out",  # circuit-tracer: the MLP module's output (see MLP_MODULE_OUTPUT)
}
_HF_BLOCKS = ("model.layers", "transformer.h", "gpt_neox.layers", "model.decoder.layers")
_TL = re.compile(r"^blocks\.([0-9]+)\.(.+)$", re.ASCII)
_HF = re.compile(rf"^({'|'.join(re.escape(p) for p in _HF_BLOCKS)})\.([0-9]+)(\.mlp)?$", re.ASCII)
_CANONICAL = re.compile(r"^blocks\.(0|[1-9][0-9]*)\.(.+)$", re.ASCII)

ACCEPTED_FORMS = (
    "blocks.<L>.hook_resid_pre | hook_resid_mid | hook_resid_post | hook_attn_out | hook_mlp_out | attn.hook_z "
    "| ln2.hook_normalized | hook_mlp_in | mlp.hook_in | mlp.hook_out (TransformerLens)",
    "the same points without 'blocks.<L>.' plus a layer (circuit-tracer's config.yaml)",
    f"{' | '.join(p + '.<L>' for p in _HF_BLOCKS)} (a block's output = hook_resid_post), "
    "or the same followed by .mlp (= hook_mlp_out) (Hugging Face module paths)",
)


def canonical_hook(name: str, layer: int | None = None) -> str:
    """The canonical hook name for a name as a file writes it. `layer` is needed for
    block-relative names (circuit-tracer's `feature_input_hook`); a `{layer}` template is
    filled in too. Unknown names are refused with the list of accepted forms."""
    if not isinstance(name, str) or not name or len(name) > 200:
        raise EngineError(f"{name!r:.80} is not a hook name")
    text = name.strip()
    if layer is not None:
        text = text.replace("{layer}", str(layer)).replace("{l}", str(layer))
    if m := _TL.match(text):
        point = _POINTS.get(m.group(2))
        if point is not None:
            return f"blocks.{int(m.group(1))}.{point}"
    elif m := _HF.match(text):
        return f"blocks.{int(m.group(2))}.{'hook_mlp_out' if m.group(3) else 'hook_resid_post'}"
    elif layer is not None and text in _POINTS:
        return f"blocks.{layer}.{_POINTS[text]}"
    raise EngineError(f"hook '{name}' is not one Microtome can place"
                      f"{'' if layer is None else f' (layer {layer})'}; accepted forms: " + "; ".join(ACCEPTED_FORMS))


def names_mlp_module_output(name: str) -> bool:
    """True for names meaning the MLP *module's* output (`mlp.hook_out`, `model.layers.7.mlp`).
    That equals hook_mlp_out except where a norm follows the MLP (Gemma 2), so `fits` needs to know."""
    text = name.strip()
    return text.endswith("mlp.hook_out") or bool((m := _HF.match(text)) and m.group(3))


def split_hook(canonical: str) -> tuple[int, str]:
    """`blocks.7.hook_resid_post` -> (7, 'hook_resid_post')."""
    m = _CANONICAL.match(canonical)
    if m is None:
        raise EngineError(f"'{canonical}' is not a canonical per-layer hook name")
    return int(m.group(1)), m.group(2)
