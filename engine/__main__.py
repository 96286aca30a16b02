"""`python -m engine [MODEL] --prompt TEXT [--target T --foil F] [--ablate L1.H2 ...]`"""

from __future__ import annotations

import argparse
import sys

from .errors import EngineError

DEFAULT_PROMPT = "When Mary and John went to the store , John gave a drink to"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine", description="Print a short interpretability report for a prompt.")
    parser.add_argument("model", nargs="?", default=None, help="local folder, .gguf file or hub id (default: the bundled demo model)")
    parser.add_argument("--prompt", default=DEFAULT_PROMPT)
    parser.add_argument("--target", help="target token for the logit difference (one token, e.g. ' Mary' for GPT-2)")
    parser.add_argument("--foil", help="foil token for the logit difference")
    parser.add_argument("--ablate", nargs="*", default=[], metavar="COMPONENT", help="zero-ablate these (L1.H2, L0.mlp)")
    parser.add_argument("--method", choices=["zero", "mean"], default="zero", help="ablation method for --ablate")
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--allow-pickle", action="store_true", help="allow pickle checkpoints (runs code from the file!)")
    args = parser.parse_args(argv)

    from .engine import Engine  # imported here so --help is instant
    from .interventions import Ablation
    from .report import report

    try:
        engine = Engine(args.model, device=args.device, allow_pickle=args.allow_pickle)
        ablations = tuple(Ablation(c, args.method) for c in args.ablate)
        print(report(engine, args.prompt, args.target, args.foil, ablations, args.top_k))
    except EngineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
