"""Startup time, from source and from the bundle: process start -> window shown -> first paint
-> model loaded -> first result, and which thread imports torch/transformers.

    .venv/bin/python bench/startup.py [--runs 3] [--bundle dist/microtome/microtome] [--no-source]

Each run starts the app on the demo model with MICROTOME_STARTUP_TIMING=exit (see
app/startup_timing.py: the app prints its milestones and quits after the first result), a
fresh config folder and no display (offscreen Qt), and measures from just before the process
is spawned. One warm-up run per variant is discarded (it fills the page cache: a first start
after a reboot or a fresh build is slower, mostly reading libtorch from disk); the table shows
the median of the rest, in seconds."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from app.startup_timing import (  # after the sys.path line; imports no Qt, no torch
    ENV,
    PREFIX,
)

MILESTONES = ("main() entered", "UI modules imported", "window shown", "first paint", "import torch starts",
              "import transformers starts", "model loaded", "first result", "process exited")


def run_once(command: list[str]) -> tuple[dict[str, float], dict[str, str]]:
    with tempfile.TemporaryDirectory() as cfg:
        env = {**os.environ, ENV: "exit", "QT_QPA_PLATFORM": "offscreen", "HF_HUB_OFFLINE": "1",
               "MICROTOME_CONFIG_DIR": cfg}
        start = time.time()
        proc = subprocess.run(command, check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        ended = time.time()
    times, threads = {}, {}
    for line in proc.stderr.splitlines():
        parts = line.split("\t")
        if parts[0] == PREFIX and len(parts) == 5:
            event = parts[1].replace(" ON THE UI THREAD", "")
            times.setdefault(event, float(parts[2]) - start)
            threads.setdefault(event, parts[4])
    if proc.returncode != 0 or "first result" not in times:
        raise SystemExit(f"{' '.join(command)} failed (rc {proc.returncode}):\n{proc.stderr[-3000:]}")
    times["process exited"] = ended - start
    return times, threads


def measure(command: list[str], runs: int) -> tuple[dict[str, float], dict[str, str]]:
    run_once(command)  # warm-up: page cache, .pyc files
    samples = [run_once(command) for _ in range(runs)]
    medians = {m: statistics.median(s[0][m] for s in samples) for m in MILESTONES if all(m in s[0] for s in samples)}
    return medians, samples[-1][1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--bundle", default=str(ROOT / "dist" / "microtome" / "microtome"))
    parser.add_argument("--no-source", action="store_true")
    args = parser.parse_args()
    variants: dict[str, list[str]] = {}
    if not args.no_source:
        variants["source"] = [sys.executable, "-m", "app"]
    if Path(args.bundle).is_file():
        variants["bundle"] = [args.bundle]
    else:
        print(f"(no bundle at {args.bundle}: `make bundle` first to compare)")
    results = {name: measure(cmd, args.runs) for name, cmd in variants.items()}
    names = list(results)
    print(f"\nstartup, seconds from spawning the process (median of {args.runs} runs after a warm-up; "
          f"offscreen Qt, {os.cpu_count()} cores)\n")
    print(f"{'milestone':<28}" + "".join(f"{n:>10}" for n in names) + "   thread")
    for milestone in MILESTONES:
        if not any(milestone in results[n][0] for n in names):
            continue
        cells = "".join(f"{results[n][0][milestone]:>10.2f}" if milestone in results[n][0] else f"{'-':>10}"
                        for n in names)
        thread = next((results[n][1][milestone] for n in names if milestone in results[n][1]), "")
        print(f"{milestone:<28}{cells}   {thread}")
    ui_imports = [f"{n}: {m}" for n in names for m, t in results[n][1].items() if m.startswith("import ") and t == "UI thread"]
    print("\ntorch/transformers imported on the UI thread: " + ("; ".join(ui_imports) if ui_imports else "no"))
    return 1 if ui_imports else 0


if __name__ == "__main__":
    sys.exit(main())
