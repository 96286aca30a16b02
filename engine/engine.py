"""The scriptable facade: `Engine(model_source).run(prompt, interventions=..., want=...)`.

One Engine owns one model. It is not thread-safe by design: the app gives it to exactly
one worker thread. Every run attaches its hooks inside a context manager, so the model is
never left edited."""

from __future__ import annotations

import os
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import torch

from .analyses.dla import direct_logit_attribution
from .analyses.head_scores import head_scores_from_patterns
from .analyses.logit_lens import logit_lens
from .components import Component
from .errors import EngineError, PromptError, UnknownTokenError
from .hooks import hooks_attached
from .intervening import build_edits, hook_for
from .interventions import Ablation, Intervention
from .loading import LoadedModel, load_model
from .paths import demo_model_dir
from .resume import layers_from
from .run_cache import CleanRunCache
from .results import DirectLogitAttribution, HeadScores, LogitLens, ModelInfo, RunResult

WANTS = frozenset({"patterns", "resid", "logit_lens", "dla"})
REFERENCE_FILE = "microtome_reference_prompts.txt"
GENERIC_REFERENCE = (
    "The quick brown fox jumps over the lazy dog.",
    "When Mary and John went to the store, John gave a drink to Mary.",
    "It was a bright cold day in April, and the clocks were striking thirteen.",
    "The results of the experiment were recorded in the notebook every morning.",
    "She opened the door, looked around the room and sat down by the window.",
)


@contextmanager
def weights_present(module: torch.nn.Module):
    """A block whose weights accelerate offloaded (meta device between calls) gets them for
    the length of the block; anything else is left as it is."""
    if any(p.device.type == "meta" for p in module.parameters()):
        from accelerate.utils import align_module_device, has_offloaded_params

        with ExitStack() as stack:  # accelerate may hook the block itself or each of its modules
            for sub in module.modules():
                if has_offloaded_params(sub):
                    stack.enter_context(align_module_device(sub))
            yield
    else:
        yield


class Engine:
    """Load a causal LM and run it with captures, interventions and analyses."""

    def __init__(self, source: str | os.PathLike | LoadedModel | None = None, device: str = "auto",
                 dtype: str = "float32", allow_pickle: bool = False, trust_remote_code: bool = False,
                 reference_prompts: Sequence[str] | None = None, device_map: str | dict | None = None) -> None:
        loaded = source if isinstance(source, LoadedModel) else load_model(
            source if source is not None else demo_model_dir(), device=device, dtype=dtype,
            allow_pickle=allow_pickle, trust_remote_code=trust_remote_code, device_map=device_map)
        self.loaded = loaded
        self.model, self.tokenizer, self.adapter = loaded.model, loaded.tokenizer, loaded.adapter
        cfg = self.model.config
        self.info = ModelInfo(
            source=loaded.source, family=loaded.adapter.family, model_type=cfg.model_type,
            n_layers=cfg.num_hidden_layers, n_heads=cfg.num_attention_heads, d_model=cfg.hidden_size,
            d_head=getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads,
            n_ctx=getattr(cfg, "max_position_embeddings", None) or getattr(cfg, "n_positions", 0),
            vocab_size=self.adapter.unembed_weight(self.model).shape[1],
            device=str(loaded.device), dtype=str(loaded.dtype).removeprefix("torch."))
        self._token_strings: dict[int, str] = {}
        self._special_prefix = self._find_special_prefix()
        self._reference = tuple(reference_prompts) if reference_prompts else self._default_reference()
        self._means: dict[str, torch.Tensor] | None = None
        self._resample_cache: dict[str, dict[str, torch.Tensor]] = {}
        self._clean_run = CleanRunCache()

    # ------------------------------------------------------------------ tokens
    def _find_special_prefix(self) -> list[int]:
        """Ids the tokenizer itself puts before the text (e.g. BOS), kept as they are."""
        with_special = self.tokenizer("a")["input_ids"]
        plain = self.tokenizer("a", add_special_tokens=False)["input_ids"]
        return list(with_special[: len(with_special) - len(plain)]) if with_special[-len(plain):] == plain else []

    def tokenize(self, prompt: str) -> np.ndarray:
        """Token ids of a prompt as the model sees them; rejects empty and over-long prompts."""
        if not prompt or not prompt.strip():
            raise PromptError("The prompt is empty: type some text to run the model on")
        ids = self.tokenizer(prompt)["input_ids"]
        if len(ids) > self.info.n_ctx:
            raise PromptError(f"The prompt has {len(ids)} tokens; this model reads at most {self.info.n_ctx}")
        return np.asarray(ids, dtype=np.int64)

    def decode_tokens(self, ids: Iterable[int]) -> list[str]:
        """Each id as its own string (what a token chip shows); cached per id."""
        cache = self._token_strings
        out = []
        for i in ids:
            i = int(i)
            if i not in cache:
                cache[i] = self.tokenizer.decode([i])
            out.append(cache[i])
        return out

    def token_id(self, token: str | int) -> int:
        """A target/foil given as one vocabulary token (e.g. ' Mary' for GPT-2) or an id."""
        if isinstance(token, (int, np.integer)):
            if not 0 <= int(token) < self.info.vocab_size:
                raise UnknownTokenError(f"token id {token} is outside the vocabulary (0..{self.info.vocab_size - 1})")
            return int(token)
        ids = self.tokenizer(token, add_special_tokens=False)["input_ids"]
        if len(ids) != 1:
            raise UnknownTokenError(f"'{token}' is {len(ids)} tokens for this model; target and foil must be one token")
        return int(ids[0])

    def _ordinary_ids(self) -> np.ndarray:
        special = set(self.tokenizer.all_special_ids)
        return np.array([i for i in range(min(self.info.vocab_size, len(self.tokenizer))) if i not in special])

    def random_token_ids(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        """Random ordinary (non-special) token ids, for probes and benchmarks."""
        return rng.choice(self._ordinary_ids(), size=shape)

    # ------------------------------------------------------------------ forward
    def _forward(self, ids: torch.Tensor, interventions: Sequence[Intervention], capture: Iterable[str],
                 logits_to_keep: int = 0) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        edits = build_edits(interventions, self.info.n_layers, self.info.n_heads, ids.shape[-1], self._replacement)
        return self._forward_edits(ids, edits, capture, logits_to_keep)

    def _forward_edits(self, ids: torch.Tensor, edits: dict, capture: Iterable[str] = (), logits_to_keep: int = 0,
                       start: int = 0) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """A forward with raw hook edits (interventions compile to these; batched patching builds
        its own). start > 0 runs blocks[start:] only: an edit of blocks.{start}.hook_resid_pre
        must then supply what enters that block."""
        with torch.inference_mode(), hooks_attached(self.model, self.adapter, self.info.n_layers, capture, edits) as store, \
                layers_from(self.model, self.adapter.layers, start):
            ids = ids.to(self.loaded.device)
            logits = self.model(input_ids=ids, attention_mask=torch.ones_like(ids), use_cache=False,
                                logits_to_keep=logits_to_keep).logits
        return logits, store

    def run(self, prompt: str, interventions: Sequence[Intervention] = (),
            want: Iterable[str] = ("patterns", "logit_lens"), target: str | int | None = None,
            foil: str | int | None = None, top_k: int = 10, lens_k: int = 5,
            lens_positions: Sequence[int] | None = None) -> RunResult:
        """One forward pass on `prompt` with `interventions`, plus the analyses in `want`.

        lens_positions limits the logit lens to some positions (None = all): with a large
        vocabulary, final norm + unembed at every layer x position costs several forwards."""
        start = time.perf_counter()
        want = frozenset(want)
        if unknown := want - WANTS:
            raise EngineError(f"unknown analyses {sorted(unknown)} (choose from {sorted(WANTS)})")
        if "dla" in want and (target is None or foil is None):
            raise EngineError("direct logit attribution needs a target and a foil token")
        ids = self.tokenize(prompt)
        target_id = self.token_id(target) if target is not None else None
        foil_id = self.token_id(foil) if foil is not None else None
        n_layers = self.info.n_layers
        capture: set[str] = set()
        if "patterns" in want:
            capture |= {f"blocks.{l}.attn.hook_pattern" for l in range(n_layers)}
        if want & {"logit_lens", "resid"}:
            capture |= {"blocks.0.hook_resid_pre", *(f"blocks.{l}.hook_resid_post" for l in range(n_layers))}
        if "dla" in want:
            capture |= {"hook_embed", f"blocks.{n_layers - 1}.hook_resid_post",
                        *(f"blocks.{l}.attn.hook_z" for l in range(n_layers)),
                        *(f"blocks.{l}.hook_mlp_out" for l in range(n_layers))}
            if self.adapter.pos_embed:
                capture.add("hook_pos_embed")
        logits, store = self._run_forward(ids, tuple(interventions), capture)

        last = logits[0, -1].float()
        probs = torch.softmax(last, -1)
        top_p, top_i = probs.topk(min(top_k, probs.shape[-1]))
        patterns = None
        if "patterns" in want:
            # .cpu() per layer: with device_map the layers may sit on different devices
            patterns = torch.stack([store[f"blocks.{l}.attn.hook_pattern"][0].float().cpu() for l in range(n_layers)]).numpy()
        return RunResult(
            prompt=prompt, token_ids=ids, tokens=tuple(self.decode_tokens(ids)), interventions=tuple(interventions),
            top_ids=top_i.cpu().numpy(), top_tokens=tuple(self.decode_tokens(top_i.tolist())),
            top_probs=top_p.cpu().numpy(), target_id=target_id, foil_id=foil_id,
            target_prob=float(probs[target_id]) if target_id is not None else None,
            logit_diff=float(last[target_id] - last[foil_id]) if target_id is not None and foil_id is not None else None,
            patterns=patterns,
            resid=self._resid_stack(store).float().cpu().numpy() if "resid" in want else None,
            logit_lens=self._logit_lens(store, len(ids), lens_k, target_id, lens_positions) if "logit_lens" in want else None,
            dla=self._dla(store, len(ids) - 1, target_id, foil_id) if "dla" in want else None,
            device=self.info.device, elapsed_ms=(time.perf_counter() - start) * 1e3)

    def _run_forward(self, ids: np.ndarray, interventions: tuple, capture: set[str]
                     ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """run()'s forward: resumed from the first edited layer when the clean run of the same
        tokens is cached (engine.run_cache); a clean run refreshes that cache."""
        n_layers, cache = self.info.n_layers, self._clean_run
        batch = torch.from_numpy(ids)[None]
        if not interventions:
            logits, store = self._forward(batch, (), capture | cache.resid_names(n_layers), logits_to_keep=1)
            cache.remember(ids, store)
            return logits, store
        start = cache.start_layer(ids, interventions, capture, n_layers, self.info.n_heads)
        if start == 0:
            return self._forward(batch, interventions, capture, logits_to_keep=1)
        cache.hits += 1
        edits = build_edits(interventions, n_layers, self.info.n_heads, len(ids), self._replacement)
        entering = cache.entering(start)
        name = f"blocks.{start}.hook_resid_pre"
        edits[name] = [lambda act: entering.to(act.dtype), *edits.get(name, [])]
        early = cache.early(capture, start)
        logits, store = self._forward_edits(batch, edits, capture - early.keys(), logits_to_keep=1, start=start)
        return logits, {**early, **store}

    def token_losses(self, ids: np.ndarray, interventions: Sequence[Intervention] = ()) -> np.ndarray:
        """Cross-entropy of each next token, [batch, S-1], for a batch of equal-length id rows."""
        batch = torch.as_tensor(np.atleast_2d(ids), dtype=torch.long)
        logits, _ = self._forward(batch, interventions, ())
        logp = torch.log_softmax(logits[:, :-1].float(), -1)
        target = batch[:, 1:].to(logp.device)
        return (-logp.gather(-1, target[..., None])[..., 0]).cpu().numpy()

    # ------------------------------------------------------------------ analyses
    def _final_norm(self) -> torch.nn.Module:
        return self.model.get_submodule(self.adapter.final_norm)

    def _resid_stack(self, store: dict[str, torch.Tensor]) -> torch.Tensor:
        """[n_layers + 1, S, d]: the input to layer 0, then the stream after each layer."""
        rows = [store["blocks.0.hook_resid_pre"][0]]
        device = self.adapter.unembed_weight(self.model).device  # where the lens reads it (device_map: may differ)
        return torch.stack([r.to(device) for r in rows + [store[f"blocks.{l}.hook_resid_post"][0]
                                                         for l in range(self.info.n_layers)]])

    def _logit_lens(self, store: dict[str, torch.Tensor], seq_len: int, k: int, target_id: int | None,
                    positions: Sequence[int] | None) -> LogitLens:
        n_layers = self.info.n_layers
        unembed = self.adapter.unembed_fn(self.model)  # soft-capped like the model's own logits (Gemma 2)
        cols = np.arange(seq_len) if positions is None else np.unique([p % seq_len for p in positions
                                                                       if -seq_len <= p < seq_len])
        with torch.inference_mode(), weights_present(self.model.get_submodule(self.adapter.unembed)), \
                weights_present(self._final_norm()):
            resid = self._resid_stack(store)[:, torch.from_numpy(cols)]
            return logit_lens(resid, self._final_norm(), unembed, self.decode_tokens,
                              ["embed", *(f"L{l}" for l in range(n_layers))], cols, self.info.vocab_size, k, target_id)

    def _dla(self, store: dict[str, torch.Tensor], pos: int, target_id: int, foil_id: int) -> DirectLogitAttribution:
        n_layers, n_heads, model = self.info.n_layers, self.info.n_heads, self.model
        parts: dict[str, torch.Tensor] = {"embed": store["hook_embed"][0, pos]}
        if "hook_pos_embed" in store:
            parts["pos_embed"] = store["hook_pos_embed"][0, pos]
        with torch.inference_mode():
            for l in range(n_layers):
                z = store[f"blocks.{l}.attn.hook_z"][0, pos].view(n_heads, -1)  # [H, dh]
                with weights_present(model.get_submodule(self.adapter.layers)[l]):  # offloaded blocks too
                    head_out = self.adapter.head_outputs(model, l, z, n_heads)  # [H, d]: through W_O (and Gemma 2's post-norm)
                    b_o = self.adapter.o_proj_bias(model, l)
                    b_o = None if b_o is None else b_o.detach().clone()
                for h in range(n_heads):
                    parts[f"L{l}.H{h}"] = head_out[h]
                if b_o is not None:
                    parts[f"L{l}.attn_bias"] = b_o
                parts[f"L{l}.mlp"] = store[f"blocks.{l}.hook_mlp_out"][0, pos]
            with weights_present(model.get_submodule(self.adapter.unembed)), weights_present(self._final_norm()):
                return self._dla_sum(parts, store[f"blocks.{n_layers - 1}.hook_resid_post"][0, pos], target_id, foil_id, pos)

    def _dla_sum(self, parts: dict[str, torch.Tensor], resid: torch.Tensor, target_id: int, foil_id: int,
                 pos: int) -> DirectLogitAttribution:
        """The final norm (frozen scale) and the unembedding difference applied to every part."""
        model, n_layers, n_heads = self.model, self.info.n_layers, self.info.n_heads
        w_u = self.adapter.unembed_weight(model)
        b_u = self.adapter.unembed_bias(model)
        norm = self._final_norm()
        parts = {name: part.to(w_u.device) for name, part in parts.items()}  # device_map: gather them
        eps = float(getattr(norm, "eps", getattr(norm, "variance_epsilon", 1e-5)))
        return direct_logit_attribution(
            parts, resid.to(w_u.device), self.adapter.final_norm_kind, self.adapter.final_norm_weight(model),
            getattr(norm, "bias", None), eps, w_u[:, target_id] - w_u[:, foil_id],
            float(b_u[target_id] - b_u[foil_id]) if b_u is not None else 0.0, n_layers, n_heads, pos)

    def head_scores(self, seg_len: int = 20, n_sequences: int = 16, seed: int = 0,
                    token_pool: Sequence[int] | None = None) -> HeadScores:
        """Previous-token, induction and duplicate-token scores of every head on
        [special prefix] + random segment + the same segment again. Tokens are drawn from
        token_pool (default: every ordinary token), without repeats inside a segment."""
        rng = np.random.default_rng(seed)
        pool = self._ordinary_ids() if token_pool is None else np.asarray(token_pool, dtype=np.int64)
        if len(pool) < seg_len:
            raise PromptError(f"seg_len {seg_len} needs at least that many distinct tokens; the pool has {len(pool)}")
        segment = np.stack([rng.choice(pool, size=seg_len, replace=False) for _ in range(n_sequences)])
        prefix = np.tile(np.asarray(self._special_prefix, dtype=np.int64), (n_sequences, 1))
        ids = np.concatenate([prefix, segment, segment], axis=1)
        if ids.shape[1] > self.info.n_ctx:
            raise PromptError(f"seg_len {seg_len} is too long for a context of {self.info.n_ctx}")
        names = [f"blocks.{l}.attn.hook_pattern" for l in range(self.info.n_layers)]
        _, store = self._forward(torch.from_numpy(ids), (), names, logits_to_keep=1)
        patterns = torch.stack([store[n].float().cpu() for n in names], dim=1).numpy()  # [B, L, H, S, S]
        scores = head_scores_from_patterns(patterns, start=len(self._special_prefix), seg_len=seg_len)
        return HeadScores(seg_len=seg_len, n_sequences=n_sequences, **scores)

    # ------------------------------------------------------------------ ablation values
    def _default_reference(self) -> tuple[str, ...]:
        path = Path(self.loaded.source) / REFERENCE_FILE
        if path.is_file():
            lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            if lines:
                return tuple(lines)
        return GENERIC_REFERENCE

    @property
    def reference_prompts(self) -> tuple[str, ...]:
        return self._reference

    def set_reference_prompts(self, prompts: Sequence[str]) -> None:
        """Change the set mean ablation averages over (the cached means are dropped)."""
        if not prompts:
            raise EngineError("the reference set for mean ablation needs at least one prompt")
        self._reference, self._means = tuple(prompts), None

    def _ablatable_hooks(self) -> list[str]:
        return [hook_for(Component(kind, l, 0)) for l in range(self.info.n_layers) for kind in ("head", "mlp")]

    def mean_activations(self) -> dict[str, torch.Tensor]:
        """Mean of every head's z and every MLP's output over the reference prompts'
        positions (the tokenizer's own prefix such as BOS left out). Cached."""
        if self._means is None:
            names = self._ablatable_hooks()
            sums: dict[str, torch.Tensor] = {}
            count = 0
            skip = len(self._special_prefix)
            for prompt in self._reference:
                ids = self.tokenize(prompt)
                _, store = self._forward(torch.from_numpy(ids)[None], (), names, logits_to_keep=1)
                for name in names:
                    acts = store[name][0, skip:].double().sum(0)
                    sums[name] = sums[name] + acts if name in sums else acts
                count += len(ids) - skip
            if count == 0:
                raise EngineError("the reference prompts have no tokens beyond the special prefix")
            self._means = {name: (total / count).to(self.loaded.dtype) for name, total in sums.items()}
        return self._means

    def _source_activations(self, prompt: str) -> dict[str, torch.Tensor]:
        if prompt not in self._resample_cache:
            names = self._ablatable_hooks()
            _, store = self._forward(torch.from_numpy(self.tokenize(prompt))[None], (), names, logits_to_keep=1)
            if len(self._resample_cache) >= 8:
                self._resample_cache.pop(next(iter(self._resample_cache)))
            self._resample_cache[prompt] = {name: store[name][0] for name in names}
        return self._resample_cache[prompt]

    def _replacement(self, ablation: Ablation, comp: Component) -> torch.Tensor:
        """[d] mean, or [S_src, d] activation of the resample source, for one component."""
        hook = hook_for(comp)
        act = self.mean_activations()[hook] if ablation.method == "mean" else self._source_activations(ablation.source_prompt)[hook]
        if comp.kind == "head":
            act = act.view(*act.shape[:-1], self.info.n_heads, -1)[..., comp.head, :]
        return act
