"""SAELens folders: `cfg.json` + `sae_weights.safetensors` -> one Dictionary.

SAELens already stores the engine's orientation (W_enc [d_in, d_sae], W_dec [d_sae, d_out])
except W_skip, which it keeps as [d_out, d_in] (skip_out = x @ W_skip.T, transcoder.py) and
which is transposed here. Config spellings of several SAELens versions are read: metadata
under `metadata` or `meta` or at the top level, old `activation_fn_str: topk` with
`activation_fn_kwargs.k`. Whatever changes the math and is not implemented is refused
rather than ignored."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..errors import EngineError
from .dictionary import Dictionary
from .files import WeightFile, read_json, sha256_file
from .hook_names import MLP_INPUT, canonical_hook, split_hook

CFG_FILE = "cfg.json"
WEIGHTS_FILE = "sae_weights.safetensors"
SCALER_FILE = "activation_scaler.json"

# SAELens architecture -> (our architecture, kind, has a skip connection)
_ARCHITECTURES = {
    "standard": ("standard", "sae", False),
    "topk": ("topk", "sae", False),
    "jumprelu": ("jumprelu", "sae", False),
    "gated": ("gated", "sae", False),
    "transcoder": ("standard", "transcoder", False),
    "skip_transcoder": ("standard", "transcoder", True),
    "jumprelu_transcoder": ("jumprelu", "transcoder", False),
    "topk_transcoder": ("topk", "transcoder", False),  # what training/train_sae.py writes for `L{n}.mlp`
}


def load_saelens(folder: Path) -> Dictionary:
    folder = Path(folder)
    cfg = read_json(folder / CFG_FILE)
    meta = {**cfg, **(cfg.get("meta") or {}), **(cfg.get("metadata") or {})}
    architecture, kind, has_skip = _architecture(cfg)
    d_in, d_sae = _positive_int(cfg, "d_in"), _positive_int(cfg, "d_sae")
    d_out = _positive_int(cfg, "d_out") if kind == "transcoder" else d_in
    k = _topk_k(cfg, d_sae) if architecture == "topk" else None
    _refuse_unsupported_options(cfg, meta)
    normalize, factor = _normalization(cfg, folder)

    hook_in = meta.get("hook_name")
    if not isinstance(hook_in, str):
        raise EngineError(f"{CFG_FILE}: no hook_name (at the top level or under metadata): where does it read?")
    site_in = canonical_hook(hook_in)
    hook_out = meta.get("hook_name_out") if kind == "transcoder" else None
    site_out = canonical_hook(hook_out) if isinstance(hook_out, str) and hook_out else _default_out(site_in, kind)

    weights = WeightFile(folder / WEIGHTS_FILE)
    needed = {"W_enc": ((d_in, d_sae), "[d_in, d_sae]"), "W_dec": ((d_sae, d_out), "[d_sae, d_out]"),
              "b_dec": ((d_out,), "[d_out]")}
    if architecture == "gated":
        needed.update({key: ((d_sae,), "[d_sae]") for key in ("b_gate", "r_mag", "b_mag")})
    else:
        needed["b_enc"] = ((d_sae,), "[d_sae]")
    if architecture == "jumprelu":
        needed["threshold"] = ((d_sae,), "[d_sae]")
    if has_skip:
        needed["W_skip"] = ((d_out, d_in), "[d_out, d_in]")
    for key, (shape, names) in needed.items():
        weights.require(key, shape, names)
    t = weights.load(needed)
    if architecture == "jumprelu":
        # SAELens computes relu(pre) * [pre > t] = pre * [pre > max(t, 0)]: one formula for both formats
        t["threshold"] = t["threshold"].clamp(min=0)

    apply_b_dec = bool(cfg.get("apply_b_dec_to_input", True)) and kind == "sae"  # transcoders never do
    return Dictionary(
        name=folder.name, kind=kind, architecture=architecture, site_in=site_in, site_out=site_out,
        W_enc=t["W_enc"], W_dec=t["W_dec"], b_enc=t.get("b_enc"), b_dec=t["b_dec"], threshold=t.get("threshold"),
        W_skip=t["W_skip"].T.contiguous() if has_skip else None,
        b_gate=t.get("b_gate"), r_mag=t.get("r_mag"), b_mag=t.get("b_mag"), k=k, topk_relu=True,
        apply_b_dec_to_input=apply_b_dec, normalize_activations=normalize, norm_scaling_factor=factor,
        source=weights.path, digest=sha256_file(weights.path), model_name=meta.get("model_name"),
        hooks_in_file=(hook_in, hook_out if isinstance(hook_out, str) and hook_out else ""))


def _architecture(cfg: dict[str, Any]) -> tuple[str, str, bool]:
    name = cfg.get("architecture") or "standard"  # configs before SAELens 4 have no architecture
    activation = cfg.get("activation_fn_str")
    if name == "standard" and activation == "topk":
        name = "topk"
    elif activation not in (None, "relu", "topk"):
        raise EngineError(f"{CFG_FILE}: activation_fn_str '{activation}' is not supported (relu or topk)")
    if name not in _ARCHITECTURES:
        raise EngineError(f"{CFG_FILE}: architecture '{name}' is not supported; supported: "
                          f"{', '.join(_ARCHITECTURES)}")
    return _ARCHITECTURES[name]


def _positive_int(cfg: dict[str, Any], key: str) -> int:
    value = cfg.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise EngineError(f"{CFG_FILE}: '{key}' should be a positive integer, got {value!r}")
    return value


def _topk_k(cfg: dict[str, Any], d_sae: int) -> int:
    k = cfg.get("k", (cfg.get("activation_fn_kwargs") or {}).get("k"))
    if not isinstance(k, int) or isinstance(k, bool) or not 0 < k <= d_sae:
        raise EngineError(f"{CFG_FILE}: a topk SAE needs an integer k in 1..d_sae ({d_sae}), got {k!r}")
    return k


def _refuse_unsupported_options(cfg: dict[str, Any], meta: dict[str, Any]) -> None:
    """Options that change the math and are not implemented: refused, not ignored."""
    if meta.get("hook_head_index") is not None:
        raise EngineError(f"{CFG_FILE}: hook_head_index {meta['hook_head_index']} (an SAE on one head's slice) "
                          "is not supported")
    for key in ("finetuning_scaling_factor", "rescale_acts_by_decoder_norm"):
        if cfg.get(key):
            raise EngineError(f"{CFG_FILE}: '{key}' is set; that variant is not supported")


def _normalization(cfg: dict[str, Any], folder: Path) -> tuple[str, float | None]:
    """('none', None) or ('expected_average_only_in', factor). The factor is not part of a
    SAELens cfg.json (SAELens keeps it in its release table), so it is looked for as
    `norm_scaling_factor` / `scaling_factor` in cfg.json or in activation_scaler.json."""
    mode = cfg.get("normalize_activations") or "none"
    if mode == "none":
        return "none", None
    if mode != "expected_average_only_in":
        raise EngineError(f"{CFG_FILE}: normalize_activations '{mode}' is not supported (it rescales each input by "
                          "its own statistics, which a decoded feature edit cannot undo); supported: none, "
                          "expected_average_only_in with a scaling factor")
    factor = cfg.get("norm_scaling_factor", cfg.get("scaling_factor"))
    if factor is None and (folder / SCALER_FILE).is_file():
        factor = read_json(folder / SCALER_FILE).get("scaling_factor")
    if not isinstance(factor, (int, float)) or isinstance(factor, bool) or not math.isfinite(factor) or factor <= 0:
        raise EngineError(f"{CFG_FILE}: normalize_activations is expected_average_only_in but no scaling factor is "
                          f"given (got {factor!r}); add \"norm_scaling_factor\": <float> to {CFG_FILE} (SAELens keeps "
                          "it in pretrained_saes.yaml for its releases)")
    return mode, float(factor)


def _default_out(site_in: str, kind: str) -> str:
    """Where a transcoder writes when its cfg does not say: a transcoder reading the MLP's
    input replaces that MLP. An SAE writes where it reads."""
    if kind == "sae":
        return site_in
    layer, point = split_hook(site_in)
    if point in (MLP_INPUT, "hook_resid_mid"):
        return f"blocks.{layer}.hook_mlp_out"
    raise EngineError(f"{CFG_FILE}: a transcoder reading {site_in} must say where it writes (hook_name_out)")
