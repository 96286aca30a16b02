"""Will this model fit? An estimate from the Hugging Face config alone, before any weight is read.

Parameters are counted from config fields per family (embeddings, attention with grouped-query
key/value heads, gated or plain MLPs, biases, norms, an untied lm_head), so the app can warn
"needs ~X GiB, Y GiB free" instead of swapping or dying halfway through loading. Activation
bytes are what the panels keep (attention patterns, the residual stream, in float32) plus the
transient working memory of one forward."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch

DTYPE_BYTES = {"float32": 4, "bfloat16": 2, "float16": 2}
CAPTURES = frozenset({"patterns", "resid", "logit_lens", "dla"})
LENS_CHUNK_ELEMENTS = 16_000_000  # engine.analyses.logit_lens computes the lens in chunks of this many logits
GIB = 1024 ** 3
MEMINFO = "/proc/meminfo"


@dataclass(frozen=True)
class MemoryEstimate:
    n_params: int
    exact: bool  # False: an unknown family, counted as a Llama-like decoder
    weight_bytes: int
    capture_bytes: Mapping[str, int]  # per panel capture, float32
    workspace_bytes: int  # one forward's transient tensors (attention scores, MLP hidden, ...)
    dtype: str
    prompt_tokens: int

    @property
    def total_bytes(self) -> int:
        return self.weight_bytes + sum(self.capture_bytes.values()) + self.workspace_bytes


def estimate_memory(config_or_folder: Any, dtype: str = "float32", prompt_tokens: int = 128,
                    captures: Iterable[str] = ("patterns", "resid")) -> MemoryEstimate:
    """Bytes needed to load the model in `dtype` and run a `prompt_tokens` prompt with `captures`."""
    if dtype not in DTYPE_BYTES:
        raise ValueError(f"unknown dtype '{dtype}' (use {', '.join(DTYPE_BYTES)})")
    if unknown := set(captures) - CAPTURES:
        raise ValueError(f"unknown captures {sorted(unknown)} (choose from {sorted(CAPTURES)})")
    cfg = load_config(config_or_folder)
    n_params, exact = count_parameters(cfg)
    s, dims = prompt_tokens, _dims(cfg)
    L, H, d, hd, ff, V = dims["L"], dims["H"], dims["d"], dims["hd"], dims["ff"], dims["V"]
    resid = (L + 1) * s * d * 4
    sizes = {
        "patterns": L * H * s * s * 4,
        "resid": resid,
        "logit_lens": resid + 2 * 4 * min(LENS_CHUNK_ELEMENTS, (L + 1) * s * V),  # logits + probs of one chunk
        "dla": (L * s * H * hd + L * s * d + s * d) * 4,
    }
    b = DTYPE_BYTES[dtype]
    workspace = b * (2 * H * s * s + 2 * s * ff + 6 * s * d) + 4 * V  # scores + softmax, MLP, residual copies, logits
    return MemoryEstimate(n_params, exact, n_params * b, {c: sizes[c] for c in captures}, workspace, dtype, s)


def load_config(config_or_folder: Any) -> Any:
    """A config object from a PretrainedConfig, a config.json dict, or a local folder / hub id."""
    if isinstance(config_or_folder, (str, os.PathLike)):
        from transformers import AutoConfig

        return AutoConfig.from_pretrained(str(Path(config_or_folder).expanduser()))
    if isinstance(config_or_folder, Mapping):
        from transformers import AutoConfig

        fields = dict(config_or_folder)
        try:
            return AutoConfig.for_model(fields.pop("model_type"), **fields)
        except (KeyError, ValueError):
            return SimpleNamespace(**config_or_folder)
    return config_or_folder


# ------------------------------------------------------------------ parameter count
def _get(cfg: Any, *names: str, default: Any = None) -> Any:
    for name in names:
        value = getattr(cfg, name, None)
        if value is not None:
            return value
    return default


def _dims(cfg: Any) -> dict[str, int]:
    d = _get(cfg, "hidden_size", "n_embd", "d_model")
    H = _get(cfg, "num_attention_heads", "n_head")
    return {"V": cfg.vocab_size, "d": d, "L": _get(cfg, "num_hidden_layers", "n_layer"), "H": H,
            "kv": _get(cfg, "num_key_value_heads", default=H), "hd": _get(cfg, "head_dim", default=d // H),
            "ff": _get(cfg, "intermediate_size", "n_inner", "ffn_dim", default=4 * d),
            "P": _get(cfg, "max_position_embeddings", "n_positions", default=0)}


def _linear(n_in: int, n_out: int, bias: bool) -> int:
    return n_in * n_out + (n_out if bias else 0)


def _tied(cfg: Any) -> bool:
    return bool(getattr(cfg, "tie_word_embeddings", False))


def _rotary_decoder(cfg: Any, qkv_bias: bool, o_bias: bool, mlp_bias: bool, norms_per_layer: int) -> int:
    """Llama-shaped: RMSNorms, q/k/v (grouped-query), o, gated MLP (gate, up, down), final norm.
    Fused projections (Phi-3's qkv_proj, gate_up_proj) have the same count as separate ones."""
    m = _dims(cfg)
    d, H, kv, hd, ff = m["d"], m["H"], m["kv"], m["hd"], m["ff"]
    attn = _linear(d, (H + 2 * kv) * hd, qkv_bias) + _linear(H * hd, d, o_bias)
    mlp = _linear(d, 2 * ff, mlp_bias) + _linear(ff, d, mlp_bias)
    layer = attn + mlp + norms_per_layer * d
    return m["V"] * d + m["L"] * layer + d + (0 if _tied(cfg) else m["V"] * d)


def _gpt2(cfg: Any) -> int:
    m = _dims(cfg)
    d, ff = m["d"], _get(cfg, "n_inner", default=4 * m["d"])
    layer = 4 * d + _linear(d, 3 * d, True) + _linear(d, d, True) + _linear(d, ff, True) + _linear(ff, d, True)
    return m["V"] * d + m["P"] * d + m["L"] * layer + 2 * d + (0 if _tied(cfg) else m["V"] * d)


def _neox(cfg: Any) -> int:
    m = _dims(cfg)
    d, ff, bias = m["d"], m["ff"], bool(getattr(cfg, "attention_bias", True))
    layer = 4 * d + _linear(d, 3 * d, bias) + _linear(d, d, bias) + _linear(d, ff, True) + _linear(ff, d, True)
    return m["V"] * d + m["L"] * layer + 2 * d + (0 if _tied(cfg) else m["V"] * d)


def _opt(cfg: Any) -> int:
    m = _dims(cfg)
    d, ff, bias = m["d"], m["ff"], bool(getattr(cfg, "enable_bias", True))
    wep = _get(cfg, "word_embed_proj_dim", default=d)
    ln = 2 * d if getattr(cfg, "layer_norm_elementwise_affine", True) else 0
    layer = 2 * ln + 4 * _linear(d, d, bias) + _linear(d, ff, bias) + _linear(ff, d, bias)
    final = ln if getattr(cfg, "do_layer_norm_before", True) and not getattr(cfg, "_remove_final_layer_norm", False) else 0
    projections = 2 * wep * d if wep != d else 0
    return m["V"] * wep + (m["P"] + 2) * d + projections + m["L"] * layer + final + (0 if _tied(cfg) else m["V"] * wep)


def _gptj(cfg: Any) -> int:
    m = _dims(cfg)
    d, inner = m["d"], _get(cfg, "n_inner", default=4 * m["d"])
    layer = 2 * d + 4 * _linear(d, d, False) + _linear(d, inner, True) + _linear(inner, d, True)
    return m["V"] * d + m["L"] * layer + 2 * d + (0 if _tied(cfg) else m["V"] * d) + m["V"]  # lm_head bias


def _llama(cfg: Any) -> int:
    bias = bool(getattr(cfg, "attention_bias", False))
    return _rotary_decoder(cfg, bias, bias, bool(getattr(cfg, "mlp_bias", False)), 2)


COUNTERS: dict[str, Callable[[Any], int]] = {
    "gpt2": _gpt2,
    "gpt_neox": _neox,
    "llama": _llama,
    "mistral": lambda c: _rotary_decoder(c, False, False, False, 2),
    "qwen2": lambda c: _rotary_decoder(c, True, False, False, 2),
    "gemma": lambda c: _rotary_decoder(c, *(2 * [bool(getattr(c, "attention_bias", False))]), False, 2),
    "gemma2": lambda c: _rotary_decoder(c, *(2 * [bool(getattr(c, "attention_bias", False))]), False, 4),
    "phi3": lambda c: _rotary_decoder(c, False, False, False, 2),
    "opt": _opt,
    "gptj": _gptj,
}


def count_parameters(config: Any) -> tuple[int, bool]:
    """(parameter count, exact?) from a config; unknown families are counted as Llama-like."""
    counter = COUNTERS.get(getattr(config, "model_type", ""))
    return (counter(config), True) if counter else (_llama(config), False)


# ------------------------------------------------------------------ what is free
def available_memory(device: str | torch.device = "cpu") -> int | None:
    """Free bytes on `device`: CUDA from the driver, CPU from /proc/meminfo's MemAvailable
    (psutil when that file is missing and psutil happens to be installed); None if unknown."""
    device = torch.device(device)
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0]) if torch.cuda.is_available() else None
    if device.type != "cpu":
        return None
    try:
        with open(MEMINFO, encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024  # kB
    except OSError:
        pass  # no /proc (not Linux): psutil below, if installed
    try:
        import psutil  # type: ignore[import-not-found]
    except ImportError:
        return None
    return int(psutil.virtual_memory().available)


def fit_message(estimate: MemoryEstimate, available: int | None) -> str | None:
    """'needs ~X GiB, Y GiB free' when the estimate exceeds what is free, else None."""
    if available is None or estimate.total_bytes <= available:
        return None
    return (f"This model needs ~{estimate.total_bytes / GIB:.1f} GiB in {estimate.dtype} "
            f"({estimate.n_params / 1e9:.2f} B parameters), {available / GIB:.1f} GiB free")


def check_fits(estimate: MemoryEstimate, device: str | torch.device = "cpu") -> str | None:
    """fit_message against what `device` has free right now."""
    return fit_message(estimate, available_memory(device))
