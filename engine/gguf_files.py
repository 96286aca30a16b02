"""GGUF files (llama.cpp, Ollama, LM Studio) as a model source.

transformers reads a GGUF file through the `gguf` package and dequantises its weights to
float: the model analysed is the quantised model's weights in float32, not the original
float checkpoint. That is worth saying in the UI, so the header is read first: the
architecture (refused with a clear message when no adapter or no transformers loader
exists) and the quantisation the weights were stored in."""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from .errors import EngineError, ModelNotFoundError, UnsupportedArchitectureError

GGUF_MAGIC = b"GGUF"
# GGUF architecture name -> transformers model_type, where they differ
GGUF_MODEL_TYPES = {"mistral": "llama", "gemma": "gemma"}


@dataclass(frozen=True)
class GgufHeader:
    """What the file says about itself, before any weight is read."""

    architecture: str  # GGUF's general.architecture ('llama', 'gpt2', ...)
    name: str  # general.name, or the file name
    quantisation: str  # e.g. 'Q4_1' (the most common tensor type), 'F16'

    @property
    def note(self) -> str:
        """The line the UI shows beside the model name."""
        return f"weights dequantised to float from the file's {self.quantisation} quantisation"


def is_gguf(path: str | Path) -> bool:
    """A file (not a folder) whose first four bytes are the GGUF magic."""
    path = Path(path).expanduser()
    if not path.is_file():
        return False
    with path.open("rb") as fh:
        return fh.read(4) == GGUF_MAGIC


def _require_gguf_package() -> None:
    if importlib.util.find_spec("gguf") is None:
        raise EngineError("Opening GGUF files needs the 'gguf' package (pip install gguf)")


def read_header(path: str | Path) -> GgufHeader:
    """Architecture, name and quantisation from the file's metadata (memory-mapped, ~1 s)."""
    _require_gguf_package()
    from collections import Counter

    import gguf

    path = Path(path).expanduser()
    if not path.is_file():
        raise ModelNotFoundError(f"GGUF file not found: {path}")
    try:
        reader = gguf.GGUFReader(str(path))
    except Exception as exc:  # noqa: BLE001 - any parse failure means the file is damaged
        raise EngineError(f"{path.name} is not a readable GGUF file ({type(exc).__name__}: {exc})") from exc

    def field(key: str) -> object:
        value = reader.fields.get(key)
        return value.contents() if value is not None else None

    architecture = str(field("general.architecture") or "?")
    kinds = Counter(t.tensor_type.name for t in reader.tensors if t.tensor_type.name not in ("F32",))
    quantisation = kinds.most_common(1)[0][0] if kinds else "F32"
    return GgufHeader(architecture, str(field("general.name") or path.stem), quantisation)


def check_supported(header: GgufHeader) -> str:
    """The transformers model_type for this file, or UnsupportedArchitectureError saying
    whether transformers or Microtome lacks it."""
    from transformers.integrations.ggml import GGUF_CONFIG_MAPPING

    from .adapters import adapter_for, supported_model_types

    if header.architecture not in GGUF_CONFIG_MAPPING:
        readable = sorted(k for k in GGUF_CONFIG_MAPPING if k not in ("general", "tokenizer"))
        raise UnsupportedArchitectureError(
            f"This GGUF file holds a '{header.architecture}' model, which transformers cannot read from GGUF "
            f"(it reads: {', '.join(readable)}).")
    model_type = GGUF_MODEL_TYPES.get(header.architecture, header.architecture)
    try:
        adapter_for(model_type)
    except UnsupportedArchitectureError as exc:
        raise UnsupportedArchitectureError(
            f"This GGUF file holds a '{header.architecture}' model; Microtome has no adapter for it yet "
            f"(supported: {', '.join(supported_model_types())}).") from exc
    return model_type


def file_digest(path: str | Path) -> str:
    """sha256 of the file, so a session can tell it is reopened on the same weights."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
