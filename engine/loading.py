"""Load a Hugging Face causal LM from a local folder or a hub id, safely.

Safetensors only unless the user opts in to pickle checkpoints; never remote code unless
asked; eager attention so attention patterns exist. Every failure a user can cause becomes
a typed EngineError with a message that says what to do."""

from __future__ import annotations

import hashlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .adapters import ArchitectureAdapter, adapter_for
from .errors import (EngineError, HubUnreachableError, ModelNotFoundError, NoSafetensorsError)

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


@dataclass
class LoadedModel:
    """A model ready for the engine: eval mode, no grads, on its device."""

    model: torch.nn.Module
    tokenizer: Any
    adapter: ArchitectureAdapter
    source: str
    device: torch.device
    dtype: torch.dtype
    note: str = ""  # what the user should know about these weights (e.g. dequantised from GGUF)


def pick_device(device: str = "auto") -> torch.device:
    """'auto' -> CUDA when present, else CPU. Asking for CUDA without one is an error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise EngineError("CUDA was asked for but no CUDA device is available; use --device cpu")
    return torch.device(device)


def _looks_local(source: str) -> bool:
    """A path (existing, or written like one) rather than a hub id like 'org/name'."""
    return (Path(source).expanduser().exists() or source.startswith((".", "/", "~"))
            or source.count("/") > 1 or "\\" in source)


def _check_local_folder(folder: Path, allow_pickle: bool) -> None:
    if not folder.is_dir():
        raise ModelNotFoundError(f"Model folder not found: {folder}")
    if not (folder / "config.json").is_file():
        raise ModelNotFoundError(f"{folder} has no config.json: not a Hugging Face model folder")
    if any(folder.glob("*.safetensors")):
        return
    pickles = [p.name for p in folder.iterdir() if p.suffix in PICKLE_SUFFIXES]
    if pickles and not allow_pickle:
        raise NoSafetensorsError(
            f"{folder} has only pickle checkpoints ({', '.join(sorted(pickles))}). Pickle files can run "
            "arbitrary code when loaded, so they are refused by default. Convert them to safetensors, "
            "or opt in explicitly if you trust the source (File → Open model → Allow pickle checkpoints, "
            "microtome --allow-pickle, or allow_pickle=True in Python).")
    if not pickles:
        raise NoSafetensorsError(f"{folder} has no weight files (*.safetensors)")


def _hub_error(source: str, exc: Exception) -> EngineError:
    text = f"{type(exc).__name__}: {exc}"
    lowered = text.lower()
    if "offline" in lowered or "connect" in lowered or "resolve" in lowered or "timed out" in lowered \
            or "network" in lowered or "cannot find the requested files" in lowered:
        return HubUnreachableError(
            f"'{source}' is not a local folder and the Hugging Face hub cannot be reached "
            "(offline?). Download it on a connected machine, or open a local folder.")
    if "not found" in lowered or "repository" in lowered or "does not appear to have" in lowered \
            or "is not a valid model identifier" in lowered or "404" in lowered:
        if "safetensors" in lowered:
            return NoSafetensorsError(f"'{source}' has no safetensors weights on the hub; pickle weights are refused by default")
        return ModelNotFoundError(f"No model '{source}' locally or on the Hugging Face hub")
    return EngineError(f"Could not load '{source}': {text}")


def load_model(source: str | os.PathLike, device: str = "auto", dtype: str = "float32",
               allow_pickle: bool = False, trust_remote_code: bool = False,
               device_map: str | dict[str, Any] | None = None,
               offload_folder: str | os.PathLike | None = None) -> LoadedModel:
    """Load config, check the architecture is supported, then weights and tokenizer.

    device_map ('auto' or {module path: device, 'disk'}) is passed to from_pretrained to
    spread a model over devices; it replaces `device`; offload_folder is where 'disk' parts
    go. transformers 5 needs `accelerate` for any device_map, which is not a dependency:
    without it this is a clear EngineError."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer  # lazy: ~3 s import
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # the app shows its own progress; keep stderr clean

    source = str(source)
    if dtype not in DTYPES:
        raise EngineError(f"unknown dtype '{dtype}' (use {', '.join(DTYPES)})")
    if device_map is not None and importlib.util.find_spec("accelerate") is None:
        raise EngineError("device_map needs the 'accelerate' package (pip install accelerate); "
                          "without it, load the model on one device")
    torch_device = pick_device(device) if device_map is None else None
    if Path(source).expanduser().is_file() or source.lower().endswith(".gguf"):
        return _load_gguf(Path(source).expanduser(), torch_device, dtype, device_map, offload_folder)
    local = _looks_local(source)
    if local:
        folder = Path(source).expanduser()
        _check_local_folder(folder, allow_pickle)
        source = str(folder)
    try:
        config = AutoConfig.from_pretrained(source, trust_remote_code=trust_remote_code)
    except EngineError:
        raise
    except (OSError, ValueError) as exc:
        raise (_hub_error(source, exc) if not local else ModelNotFoundError(f"Cannot read {source}: {exc}")) from exc
    adapter = adapter_for(getattr(config, "model_type", "?"), config)
    try:
        model = AutoModelForCausalLM.from_pretrained(
            source, config=config, dtype=DTYPES[dtype], attn_implementation="eager",
            use_safetensors=None if allow_pickle else True, trust_remote_code=trust_remote_code,
            **({} if device_map is None else {"device_map": device_map, "offload_folder": offload_folder}))
        tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=trust_remote_code)
    except EngineError:
        raise
    except (OSError, ValueError) as exc:
        raise _hub_error(source, exc) from exc
    return LoadedModel(model, tokenizer, adapter, source, _ready(model, torch_device), DTYPES[dtype],
                       note=_folder_note(Path(source)) if local else "")


def _ready(model: torch.nn.Module, torch_device: torch.device | None) -> torch.device:
    """Eval mode, no gradients, on its device; returns where inputs go (with a device_map,
    spread over devices: where the embedding runs)."""
    model.eval().requires_grad_(False)
    if torch_device is None:
        return _input_device(model)
    model.to(torch_device)
    return torch_device


def _folder_note(folder: Path) -> str:
    """A folder converted from a GGUF file by `make real-model` says so (microtome_source.json)."""
    import json

    try:
        return str(json.loads((folder / "microtome_source.json").read_text()).get("note", ""))[:200]
    except (OSError, ValueError, AttributeError):
        return ""


def _load_gguf(path: Path, torch_device: torch.device | None, dtype: str,
               device_map: str | dict[str, Any] | None, offload_folder: str | os.PathLike | None) -> LoadedModel:
    """A llama.cpp-style GGUF file: header checked first (architecture, quantisation), then
    transformers dequantises the weights to `dtype` and builds the tokenizer from the file."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    from .gguf_files import check_supported, is_gguf, read_header

    if not path.is_file():
        raise ModelNotFoundError(f"GGUF file not found: {path}")
    if not is_gguf(path):
        raise EngineError(f"{path.name} is a file but not a GGUF model file; open a model folder "
                          "(config.json + *.safetensors) or a .gguf file")
    header = read_header(path)
    check_supported(header)
    folder, name = str(path.parent), path.name
    try:
        config = AutoConfig.from_pretrained(folder, gguf_file=name)
        adapter = adapter_for(getattr(config, "model_type", "?"), config)
        model = AutoModelForCausalLM.from_pretrained(
            folder, gguf_file=name, config=config, dtype=DTYPES[dtype], attn_implementation="eager",
            **({} if device_map is None else {"device_map": device_map, "offload_folder": offload_folder}))
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    except EngineError:
        raise
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise EngineError(f"Could not read the model in {name}: {type(exc).__name__}: {exc}") from exc
    return LoadedModel(model, tokenizer, adapter, str(path), _ready(model, torch_device), DTYPES[dtype],
                       note=header.note)


def _input_device(model: torch.nn.Module) -> torch.device:
    """Where input ids must go: the embedding's device, or where accelerate runs it when
    its weights are offloaded (then they sit on the meta device between calls)."""
    embed = model.get_input_embeddings()
    device = getattr(getattr(embed, "_hf_hook", None), "execution_device", None)
    return torch.device(device) if device is not None else embed.weight.device


def weights_digest(folder: str | os.PathLike) -> str:
    """sha256 over the safetensors files of a local folder (names and bytes), or of a GGUF
    file, so a session can tell whether it is reopened on the same weights."""
    if Path(folder).is_file():
        from .gguf_files import file_digest

        return file_digest(folder)
    digest = hashlib.sha256()
    for path in sorted(Path(folder).glob("*.safetensors")):
        digest.update(path.name.encode())
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()
