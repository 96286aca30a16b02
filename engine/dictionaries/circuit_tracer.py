"""circuit-tracer transcoder sets: `config.yaml` (or `config.json`) + `layer_{i}.safetensors`
-> one Dictionary per layer file.

Orientation (circuit_tracer/transcoder/single_layer_transcoder.py): W_enc is stored
[d_transcoder, d_model] and applied as F.linear(x, W_enc, b_enc) = x @ W_enc.T + b_enc,
so it is transposed here; W_dec [d_transcoder, d_model] is already ours; W_skip is applied
as x @ W_skip.T, so it is transposed too. The activation follows load_transcoder_set /
load_transcoder: config `activation: topk` (k from the config or the file's `k` tensor;
its TopK keeps negative values), `relu`, or otherwise JumpReLU when the file has a
threshold and ReLU when it does not. Its JumpReLU is pre * [pre > threshold], with no ReLU.
The hooks are relative to each block (`mlp.hook_in` -> `blocks.{i}.mlp.hook_in`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..errors import EngineError
from .dictionary import Dictionary
from .files import WeightFile, read_json, sha256_file
from .hook_names import canonical_hook
from .simple_yaml import read_simple_yaml

CONFIG_FILES = ("config.yaml", "config.yml", "config.json")
LAYER_FILE = re.compile(r"^layer_(0|[1-9][0-9]*)\.safetensors$", re.ASCII)
THRESHOLD_KEYS = ("activation_function.threshold", "threshold")


def config_file(folder: Path) -> Path | None:
    return next((folder / n for n in CONFIG_FILES if (folder / n).is_file()), None)


def layer_files(folder: Path) -> dict[int, Path]:
    """layer index -> its file, for every `layer_{i}.safetensors` in the folder."""
    found = {int(m.group(1)): p for p in folder.iterdir() if (m := LAYER_FILE.match(p.name)) and p.is_file()}
    return dict(sorted(found.items()))


def load_circuit_tracer(folder: Path) -> list[Dictionary]:
    folder = Path(folder)
    path = config_file(folder)
    if path is None:
        raise EngineError(f"{folder} has no config.yaml (or config.json) naming the transcoders' hooks")
    cfg = read_json(path) if path.suffix == ".json" else read_simple_yaml(path)
    kind = cfg.get("model_kind") or "transcoder_set"
    if kind != "transcoder_set":
        raise EngineError(f"{path.name}: model_kind '{kind}' is not supported (only per-layer 'transcoder_set'; "
                          "cross-layer transcoders are not)")
    hooks = {key: cfg.get(key) for key in ("feature_input_hook", "feature_output_hook")}
    for key, value in hooks.items():
        if not isinstance(value, str) or not value:
            raise EngineError(f"{path.name}: '{key}' is missing; it says where the transcoders read and write")
    files = layer_files(folder)
    if not files:
        raise EngineError(f"{folder} has {path.name} but no layer_<i>.safetensors files")
    return [_load_layer(file, layer, cfg, hooks["feature_input_hook"], hooks["feature_output_hook"], folder.name)
            for layer, file in files.items()]


def _load_layer(path: Path, layer: int, cfg: dict[str, Any], hook_in: str, hook_out: str, name: str) -> Dictionary:
    weights = WeightFile(path)
    d_sae = _vector_length(weights, "b_enc", "[d_transcoder]")
    d_model = _vector_length(weights, "b_dec", "[d_model]")
    weights.require("W_enc", (d_sae, d_model), "[d_transcoder, d_model]")
    weights.require("W_dec", (d_sae, d_model), "[d_transcoder, d_model]")
    keys = ["W_enc", "W_dec", "b_enc", "b_dec"]
    if weights.has("W_skip"):
        weights.require("W_skip", (d_model, d_model), "[d_model, d_model]")
        keys.append("W_skip")
    threshold_key = next((k for k in THRESHOLD_KEYS if weights.has(k)), None)
    architecture, k = _activation(cfg, weights, threshold_key, d_sae)
    if architecture == "jumprelu":
        weights.require(threshold_key, (d_sae,), "[d_transcoder]")
        keys.append(threshold_key)
    t = weights.load(keys)
    return Dictionary(
        name=f"{name}/layer_{layer}", kind="transcoder", architecture=architecture,
        site_in=canonical_hook(hook_in, layer), site_out=canonical_hook(hook_out, layer),
        W_enc=t["W_enc"].T.contiguous(), W_dec=t["W_dec"], b_enc=t["b_enc"], b_dec=t["b_dec"],
        threshold=t.get(threshold_key) if threshold_key else None,
        W_skip=t["W_skip"].T.contiguous() if "W_skip" in t else None,
        k=k, topk_relu=False, apply_b_dec_to_input=False, source=path, digest=sha256_file(path),
        model_name=cfg.get("model_name"), hooks_in_file=(hook_in, hook_out))


def _vector_length(weights: WeightFile, key: str, names: str) -> int:
    shape = weights.shape(key, names)
    if len(shape) != 1 or shape[0] == 0:
        raise EngineError(f"{weights.path.name}: '{key}' has shape {list(shape)}, expected a vector {names}")
    return shape[0]


def _activation(cfg: dict[str, Any], weights: WeightFile, threshold_key: str | None,
                d_sae: int) -> tuple[str, int | None]:
    activation = cfg.get("activation")
    if activation == "topk":
        k = cfg.get("k")
        if k is None and weights.has("k"):
            if (shape := weights.shape("k")) not in ((), (1,)):
                raise EngineError(f"{weights.path.name}: 'k' should be a single number, has shape {list(shape)}")
            k = int(weights.load(["k"])["k"].reshape(-1)[0])
        if not isinstance(k, int) or isinstance(k, bool) or not 0 < k <= d_sae:
            raise EngineError(f"{weights.path.name}: activation topk needs k in 1..{d_sae} (config 'k' or the file's "
                              f"'k'), got {k!r}")
        return "topk", k
    if activation == "relu":
        if threshold_key:
            raise EngineError(f"{weights.path.name}: the config says activation relu but the file has "
                              f"'{threshold_key}'; which one is meant is unclear")
        return "standard", None
    if activation in ("jumprelu", "jump_relu"):
        if not threshold_key:
            weights.shape("activation_function.threshold", "[d_transcoder], the JumpReLU threshold")  # raises
        return "jumprelu", None
    if activation is not None:
        raise EngineError(f"activation '{activation}' in the config is not supported (topk, relu, jumprelu)")
    return ("jumprelu", None) if threshold_key else ("standard", None)
