#!/usr/bin/env bash
# Creates the separate TransformerLens venv used by bench/tl_sweep.py (never the project's .venv).
# Idempotent: exits 0 at once if the venv already has the pinned versions.
# torch stays pinned to the local CPU wheel (unpinned, pip may fetch a multi-GB CUDA build);
# transformers is pinned to the project's version so both sides run the same model code.
# Usage: bash bench/tl_setup.sh            (TL_VENV=/other/path to put it elsewhere)
set -euo pipefail

VENV="${TL_VENV:-/work/tl-venv}"
TORCH="2.13.0"
TRANSFORMERS="5.24.0"
TL="4.3.0"

check() {
    "$VENV/bin/python" - "$TORCH" "$TRANSFORMERS" "$TL" <<'EOF' 2>/dev/null
import sys
from importlib.metadata import version
want_torch, want_tf, want_tl = sys.argv[1:4]
ok = (version("torch").split("+")[0] == want_torch and version("transformers") == want_tf
      and version("transformer-lens") == want_tl)
import transformer_lens.patching  # noqa: F401  (imports cleanly)
from transformer_lens.model_bridge import TransformerBridge  # noqa: F401
sys.exit(0 if ok else 1)
EOF
}

if [ -x "$VENV/bin/python" ] && check; then
    echo "TL venv already set up at $VENV (torch $TORCH, transformers $TRANSFORMERS, transformer-lens $TL)"
    exit 0
fi

[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
constraints="$(mktemp)"
trap 'rm -f "$constraints"' EXIT
printf 'torch==%s\ntransformers==%s\n' "$TORCH" "$TRANSFORMERS" > "$constraints"

"$VENV/bin/pip" install -q "torch==$TORCH"
"$VENV/bin/pip" install -q -c "$constraints" "transformer-lens==$TL"

check || { echo "TL venv at $VENV failed its check" >&2; exit 1; }
echo "TL venv ready at $VENV (torch $TORCH, transformers $TRANSFORMERS, transformer-lens $TL)"
