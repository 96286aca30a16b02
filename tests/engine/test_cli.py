"""`python -m engine` prints a report, and a clear one-line error for bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "engine", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"})


def test_report_has_every_section(tiny_gpt2_dir: Path) -> None:
    out = run_cli(str(tiny_gpt2_dir), "--prompt", "When Mary and John went to the store", "--target", "Mary",
                  "--foil", "John", "--ablate", "L1.H2")
    assert out.returncode == 0, out.stderr
    for heading in ("Top predictions:", "Logit lens at the last position", "Logit difference 'Mary' - 'John'",
                    "Top heads by direct logit attribution:", "Top heads by induction score",
                    "Interventions: ablation L1.H2"):
        assert heading in out.stdout
    assert "  L1.H2  +0.000" in out.stdout  # an ablated head contributes nothing directly


def test_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    out = run_cli(str(tmp_path / "missing"))
    assert out.returncode == 2
    assert out.stderr.startswith("error: Model folder not found") and "Traceback" not in out.stderr
