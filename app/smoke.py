"""`microtome --smoke`: open the bundled demo model in the real window and engine thread
(offscreen when there is no display), run the IOI prompt, ablate IOI head L0.H5 (the model card names it),
and check the numbers against a direct engine computation; then build a tiny random model of
every architecture that has an adapter through the auto classes and run it once (a trimmed
bundle must still hold their code). Exit 0 when all is well, 1 when a number is wrong, 2 when
the demo model cannot be opened, 3 when a supported architecture cannot be built. Used to
check an installed copy or a bundle."""

from __future__ import annotations

import os
import sys
import time

CHECK_TIMEOUT_S = 300
SMOKE_HEAD = "L0.H5"  # the demo model card: ablating it alone takes P(Mary) from 1.00 to 0.00 on the IOI prompt


def run_smoke() -> int:
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from engine.paths import demo_model_dir

    from .controller import Controller
    from .main_window import MainWindow
    from .settings import Settings
    from .teardown import shut_down

    if not (demo_model_dir() / "config.json").is_file():
        print(f"smoke test failed: the demo model is missing ({demo_model_dir()})", file=sys.stderr)
        return 2
    app = QApplication.instance() or QApplication(sys.argv[:1])
    controller = Controller()
    window = MainWindow(controller, Settings())
    window.files.ask = lambda *a: None
    window.show()
    errors: list[str] = []
    controller.error.connect(errors.append)

    def wait(condition) -> bool:
        end = time.monotonic() + CHECK_TIMEOUT_S
        while not condition() and not errors and time.monotonic() < end:
            app.processEvents()
            time.sleep(0.005)
        return condition()

    try:
        controller.load_model(None, "auto")
        if not wait(lambda: controller.last_result is not None):
            print(f"smoke test failed: no result ({'; '.join(errors) or 'timed out'})", file=sys.stderr)
            return 2
        clean = controller.last_result
        controller.ablate([SMOKE_HEAD])
        if not wait(lambda: controller.last_result.interventions != ()):
            print(f"smoke test failed: no ablated result ({'; '.join(errors) or 'timed out'})", file=sys.stderr)
            return 1
        ablated = controller.last_result
        from engine import Ablation, Engine

        direct = Engine(device="cpu").run(clean.prompt, [Ablation(SMOKE_HEAD)], want=(), target="Mary", foil="John")
        problems = []
        if not (clean.target_prob > 0.9 and clean.logit_diff > 5):
            problems.append(f"clean prediction is off (P(Mary) {clean.target_prob:.3f}, logit diff {clean.logit_diff:.2f})")
        if not ablated.target_prob < 0.1:
            problems.append(f"ablating {SMOKE_HEAD} did not break the prediction (P(Mary) {ablated.target_prob:.3f})")
        if abs(ablated.logit_diff - direct.logit_diff) > 1e-3:
            problems.append(f"window and engine disagree ({ablated.logit_diff:.4f} vs {direct.logit_diff:.4f})")
        if problems:
            print("smoke test failed: " + "; ".join(problems), file=sys.stderr)
            return 1
        broken = check_architectures()
        if broken:
            print("smoke test failed: cannot build " + "; ".join(broken), file=sys.stderr)
            return 3
        print(f"smoke test passed: P('Mary') {clean.target_prob:.3f} -> {ablated.target_prob:.3f} with {SMOKE_HEAD} "
              f"ablated; logit diff {clean.logit_diff:+.2f} -> {ablated.logit_diff:+.2f} on {clean.device}; "
              f"{len(supported_architectures())} architectures build")
        return 0
    finally:
        shut_down(app, window)


# Small enough for every family (extra keys a family does not know are ignored).
TINY_CONFIG = {"vocab_size": 64, "hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 4,
               "num_key_value_heads": 2, "intermediate_size": 64, "max_position_embeddings": 64, "head_dim": 8,
               "rotary_dim": 4, "bos_token_id": 0, "eos_token_id": 0, "pad_token_id": 0}
# Tokenizer classes the checkpoints of the supported families name in tokenizer_config.json.
TOKENIZER_CLASSES = ("GPT2Tokenizer", "GPT2TokenizerFast", "GPTNeoXTokenizerFast", "LlamaTokenizer", "LlamaTokenizerFast",
                     "Qwen2Tokenizer", "Qwen2TokenizerFast", "GemmaTokenizer", "GemmaTokenizerFast",
                     "PreTrainedTokenizerFast")


def supported_architectures() -> list[str]:
    from engine.adapters import supported_model_types

    return supported_model_types()


def check_architectures() -> list[str]:
    """What cannot be built: for each supported model_type, a tiny random model through the
    auto classes and one forward; the tokenizer classes those checkpoints name; and the config
    of an unsupported family, which must give the adapter's clear error (not an import error)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM
    from transformers.models.auto.tokenization_auto import tokenizer_class_from_name
    from transformers.utils import logging as hf_logging

    from engine.adapters import adapter_for
    from engine.errors import UnsupportedArchitectureError

    broken = []
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        for model_type in supported_architectures():
            try:
                model = AutoModelForCausalLM.from_config(AutoConfig.for_model(model_type, **TINY_CONFIG))
                with torch.no_grad():
                    logits = model(torch.arange(5)[None]).logits
                if tuple(logits.shape) != (1, 5, TINY_CONFIG["vocab_size"]):
                    broken.append(f"{model_type} (logits {tuple(logits.shape)})")
            except Exception as exc:  # noqa: BLE001 - any failure here means missing code
                broken.append(f"{model_type} ({type(exc).__name__}: {exc})")
        broken += [f"tokenizer {name}" for name in TOKENIZER_CLASSES if tokenizer_class_from_name(name) is None]
        try:
            adapter_for(AutoConfig.for_model("bert").model_type)
        except UnsupportedArchitectureError:
            pass  # the expected answer: the family's config is there, and we say it has no adapter
        except Exception as exc:  # noqa: BLE001
            broken.append(f"the config of an unsupported family ({type(exc).__name__}: {exc})")
    finally:
        hf_logging.set_verbosity(verbosity)
    return broken
