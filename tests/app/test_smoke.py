"""`microtome --smoke` passes on the demo model and fails clearly without it; the resource
helper finds the demo model from source, in a frozen bundle, and where the override points."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def smoke(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", "--smoke"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={"QT_QPA_PLATFORM": "offscreen", "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin",
                                            "MICROTOME_CONFIG_DIR": str(tmp_path / "cfg"), **env})


def test_smoke_passes_on_the_demo_model(tmp_path) -> None:
    proc = smoke(tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "smoke test passed" in proc.stdout


def test_smoke_fails_clearly_without_the_demo_model(tmp_path) -> None:
    proc = smoke(tmp_path, MICROTOME_RESOURCES=str(tmp_path / "nowhere"))
    assert proc.returncode == 2
    assert "demo model is missing" in proc.stderr and "Traceback" not in proc.stderr


def test_smoke_fails_when_the_numbers_are_wrong(tmp_path) -> None:
    """A demo model whose weights were replaced by random ones does not copy, so its numbers fail."""
    import shutil

    from training.tiny_models import save_random_gpt2

    resources = tmp_path / "resources"
    shutil.copytree(ROOT / "resources", resources)
    demo = resources / "demo_model"
    from transformers import AutoTokenizer

    words = [w for w in AutoTokenizer.from_pretrained(demo).get_vocab() if w not in ("<|endoftext|>", "[UNK]")]
    random_model = save_random_gpt2(tmp_path / "random", sorted(words), n_layer=2, n_head=8, n_embd=128, n_positions=128)
    shutil.copy(random_model / "model.safetensors", demo / "model.safetensors")
    shutil.copy(random_model / "config.json", demo / "config.json")
    proc = smoke(tmp_path, MICROTOME_RESOURCES=str(resources))
    assert proc.returncode == 1, proc.stdout + proc.stderr[-2000:]
    assert "smoke test failed" in proc.stderr


def test_resource_helper_from_source_bundle_and_override(monkeypatch, tmp_path) -> None:
    from engine import paths

    assert (paths.demo_model_dir() / "config.json").is_file()  # from the source tree
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert paths.demo_model_dir() == tmp_path / "resources" / "demo_model"
    monkeypatch.setenv("MICROTOME_RESOURCES", str(tmp_path / "elsewhere"))
    assert paths.demo_model_dir() == tmp_path / "elsewhere" / "demo_model"
