"""The scriptable facade: `Engine(model_source).run(prompt, interventions=..., want=...)`.

One Engine owns one model handle (engine.handle), the only door to the model. `run` is
"run these registered readouts on this prompt" (engine.live); `analyse(key, inputs,
params)` runs any registered analysis. Not thread-safe by design: the app gives it to
exactly one worker thread. Hooks live only for one forward, so the model is never left
edited."""

from __future__ import annotations

import os
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from . import analysis as registry
from .analysis import NO_JOB, Job, Prompt, params_from_dict
from .handle import Cache, TorchHandle
from .interventions import Intervention
from .live import edits_for
from .loading import LoadedModel, load_model
from .paths import demo_model_dir
from .results import HeadScores, RunResult



class Engine:
    """Load a causal LM and run it with captures, interventions and analyses."""

    def __init__(self, source: str | os.PathLike | LoadedModel | None = None, device: str = "auto",
                 dtype: str = "float32", allow_pickle: bool = False, trust_remote_code: bool = False,
                 reference_prompts: Sequence[str] | None = None, device_map: str | dict | None = None) -> None:
        loaded = source if isinstance(source, LoadedModel) else load_model(
            source if source is not None else demo_model_dir(), device=device, dtype=dtype,
            allow_pickle=allow_pickle, trust_remote_code=trust_remote_code, device_map=device_map)
        self.handle = TorchHandle(loaded)
        self.info = self.handle.info
        if reference_prompts:
            self.handle.ablation_values.set_reference(reference_prompts)

    # ---- the handle's parts, for scripts and tests that look inside (analyses never do)
    @property
    def loaded(self) -> LoadedModel:
        return self.handle.loaded

    @property
    def model(self):
        return self.handle.model

    @property
    def tokenizer(self):
        return self.handle.tokenizer

    @property
    def adapter(self):
        return self.handle.adapter

    @adapter.setter
    def adapter(self, value) -> None:  # tests swap in a broken adapter to see the badge turn red
        self.handle.adapter = value

    @property
    def _special_prefix(self) -> list[int]:
        return self.handle.special_prefix

    @property
    def _clean_run(self):
        return self.handle.clean_run

    # ------------------------------------------------------------------ tokens
    def tokenize(self, prompt: str) -> np.ndarray:
        return self.handle.tokenize(prompt)

    def decode_tokens(self, ids: Iterable[int]) -> list[str]:
        return self.handle.decode_tokens(ids)

    def token_id(self, token: str | int) -> int:
        return self.handle.token_id(token)

    def random_token_ids(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return self.handle.random_token_ids(shape, rng)

    # ------------------------------------------------------------------ running
    def analyse(self, key: str, inputs: Any = None, params: Any = None, job: Job = NO_JOB) -> Any:
        """Run the registered analysis `key`; params: its Params, a dict of them, or None (defaults)."""
        analysis = registry.get(key)
        if params is None or isinstance(params, Mapping):
            params = params_from_dict(analysis.Params, params or {})
        return analysis.run(self.handle, inputs, params, job)

    def run(self, prompt: str, interventions: Sequence[Intervention] = (),
            want: Iterable[str] = ("patterns", "logit_lens"), target: str | int | None = None,
            foil: str | int | None = None, top_k: int = 10, lens_k: int = 5,
            lens_positions: Sequence[int] | None = None, readouts: Mapping[str, Any] | None = None,
            job: Job = NO_JOB) -> RunResult:
        """One forward pass on `prompt` with `interventions`, plus the readouts in `want`
        (and any other registered readouts in `readouts`: {key: params}).

        lens_positions limits the logit lens to some positions (None = all): with a large
        vocabulary, final norm + unembed at every layer x position costs several forwards."""
        from .analyses.live_run import RunParams

        params = RunParams(tuple(want), top_k, lens_k, tuple(lens_positions) if lens_positions is not None else None,
                           dict(readouts) if readouts else None)
        return registry.get("run").run(self.handle, Prompt(prompt, target, foil, tuple(interventions)), params, job)

    def head_scores(self, seg_len: int = 20, n_sequences: int = 16, seed: int = 0,
                    token_pool: Sequence[int] | None = None) -> HeadScores:
        """Previous-token, induction and duplicate-token scores of every head on
        [special prefix] + random segment + the same segment again (engine.analyses.head_scores)."""
        return self.analyse("head_scores", None, registry.get("head_scores").Params(
            seg_len, n_sequences, seed, tuple(int(t) for t in token_pool) if token_pool is not None else None))

    def _forward(self, ids, interventions: Sequence[Intervention], capture: Iterable[str],
                 logits_to_keep: int = 0):
        """A forward of ids [B, S] with interventions: (logits, captures)."""
        ids = np.asarray(ids)
        cache = self.handle.forward(ids, edits_for(self.handle, tuple(interventions), ids.shape[-1]), capture,
                                    logits_to_keep=logits_to_keep)
        return cache.logits, cache.acts

    def _forward_edits(self, ids, edits: dict, capture: Iterable[str] = (), logits_to_keep: int = 0,
                       start: int = 0):
        cache = self.handle.forward(np.asarray(ids), edits, capture, start_layer=start, logits_to_keep=logits_to_keep)
        return cache.logits, cache.acts

    def token_losses(self, ids: np.ndarray, interventions: Sequence[Intervention] = ()) -> np.ndarray:
        """Cross-entropy of each next token, [batch, S-1], for a batch of equal-length id rows."""
        import torch

        batch = np.atleast_2d(ids)
        logits, _ = self._forward(batch, interventions, ())
        logp = torch.log_softmax(logits[:, :-1].float(), -1)
        target = torch.as_tensor(batch[:, 1:], dtype=torch.long).to(logp.device)
        return (-logp.gather(-1, target[..., None])[..., 0]).cpu().numpy()

    # ------------------------------------------------------------------ ablation values
    @property
    def reference_prompts(self) -> tuple[str, ...]:
        return self.handle.ablation_values.reference

    def set_reference_prompts(self, prompts: Sequence[str]) -> None:
        """Change the set mean ablation averages over (the cached means are dropped)."""
        self.handle.ablation_values.set_reference(prompts)

    def mean_activations(self) -> dict:
        return self.handle.ablation_values.means()


__all__ = ["Cache", "Engine"]
