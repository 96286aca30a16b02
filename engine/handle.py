"""The model handle: the only door from an analysis to the model.

Analyses never touch the torch module, its adapter or its device: they ask the handle to
tokenise, to run a forward over a batch of token ids with edits and captures (optionally
from a layer on, optionally with gradients), or for the few readouts that need weights
(the final norm and unembedding, a head's output through W_O). Another backend (a remote
nnsight/NDIF model) can implement the same methods; `TorchHandle` is the local one.

A forward returns a `Cache`: logits plus the asked captures by canonical hook name, each
with its batch dimension."""

from __future__ import annotations

from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np
import torch

from .errors import EngineError, PromptError, UnknownTokenError
from .hooks import EditFn, hooks_attached, resolve_hook
from .loading import LoadedModel
from .resume import (after_prefix_hidden, base_model, fused_activations, layers_from, prefix_cache, resumed_hidden,
                     resumed_logits, row_logits, shared_prefix, two_logits)
from .results import ModelInfo
from .run_cache import CleanRunCache


@dataclass
class Cache:
    """What one forward produced: logits ([B, kept, V], or None) and captures by hook name."""

    logits: torch.Tensor | None
    acts: dict[str, torch.Tensor] = field(default_factory=dict)

    def __getitem__(self, name: str) -> torch.Tensor:
        return self.acts[name]

    def __contains__(self, name: str) -> bool:
        return name in self.acts

    def stack(self, names: Sequence[str], row: int = 0) -> torch.Tensor:
        """One batch row of several captures stacked on a new first axis, on the CPU as float32
        (device_map: the layers may sit on different devices)."""
        return torch.stack([self.acts[n][row].float().cpu() for n in names])


@contextmanager
def weights_present(module: torch.nn.Module) -> Iterator[None]:
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


def model_info(loaded: LoadedModel) -> ModelInfo:
    cfg = loaded.model.config
    return ModelInfo(
        source=loaded.source, family=loaded.adapter.family, model_type=cfg.model_type,
        n_layers=cfg.num_hidden_layers, n_heads=cfg.num_attention_heads, d_model=cfg.hidden_size,
        d_head=getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads,
        n_ctx=getattr(cfg, "max_position_embeddings", None) or getattr(cfg, "n_positions", 0),
        vocab_size=loaded.adapter.unembed_weight(loaded.model).shape[1],
        device=str(loaded.device), dtype=str(loaded.dtype).removeprefix("torch."), note=loaded.note)


class TorchHandle:
    """A loaded Hugging Face causal LM behind the handle interface (one thread uses it)."""

    def __init__(self, loaded: LoadedModel) -> None:
        self.loaded = loaded
        self.model, self.tokenizer, self.adapter = loaded.model, loaded.tokenizer, loaded.adapter
        self.info = model_info(loaded)
        # accelerate's offloading leaves weights on the meta device between calls; without it
        # (nearly always) the per-block checks of every readout are skipped
        self.offloaded = any(p.device.type == "meta" for p in self.model.parameters())
        self._token_strings: dict[int, str] = {}
        self.clean_run = CleanRunCache()  # the last run without interventions: edited runs resume from it
        self._ablation_values = None
        self._edges = None  # edge_forward.EdgeForward: weights copied per head; dropped with a weight swap
        self.special_prefix: list[int] = self._find_special_prefix()

    @property
    def ablation_values(self):
        """What mean and resample ablations put in place (engine.ablation_values), made on first use."""
        if self._ablation_values is None:
            from .ablation_values import AblationValues

            self._ablation_values = AblationValues(self)
        return self._ablation_values

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

    def tokenize_batch(self, prompts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Ids [B, S] right-padded, and the attention mask [B, S] (1 = a real token)."""
        rows = [self.tokenize(p) for p in prompts]
        width = max(len(r) for r in rows)
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        ids = np.full((len(rows), width), pad, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for b, row in enumerate(rows):
            ids[b, :len(row)], mask[b, :len(row)] = row, 1
        return ids, mask

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

    def decode_text(self, ids: Iterable[int]) -> str:
        """Ids as the tokenizer writes them as text (special tokens left out)."""
        return self.tokenizer.decode([int(i) for i in ids], skip_special_tokens=True)

    @property
    def end_token_id(self) -> int | None:
        """The tokenizer's end-of-text token (where generation stops), if it has one."""
        return self.tokenizer.eos_token_id

    def vocabulary(self) -> tuple[str, ...]:
        return tuple(self.decode_tokens(range(min(self.info.vocab_size, len(self.tokenizer)))))

    def token_id(self, token: str | int) -> int:
        """A target/foil given as one vocabulary token (e.g. ' Mary' for GPT-2) or an id."""
        if isinstance(token, (int, np.integer)):
            if not 0 <= int(token) < self.info.vocab_size:
                raise UnknownTokenError(f"token id {token} is outside the vocabulary (0..{self.info.vocab_size - 1})")
            return int(token)
        ids = self.tokenizer(token, add_special_tokens=False)["input_ids"]
        unk = self.tokenizer.unk_token_id
        if unk is not None and unk in ids and token.strip() != self.tokenizer.unk_token:
            raise UnknownTokenError(f"'{token}' is not in this model's vocabulary (it would be read as "
                                    f"{self.tokenizer.unk_token}){self._nearest(token)}")
        if len(ids) != 1:
            raise UnknownTokenError(f"'{token}' is {len(ids)} tokens for this model; target and foil must be one token"
                                    f"{self._nearest(token)}")
        return int(ids[0])

    def _nearest(self, token: str, n: int = 5) -> str:
        """'; nearest vocabulary tokens: ...' for a message (empty when none is close)."""
        import difflib

        vocabulary = [t for t in self.vocabulary() if t.strip()]
        close = difflib.get_close_matches(token, vocabulary, n=n, cutoff=0.6) or \
            difflib.get_close_matches(token.strip(), [t.strip() for t in vocabulary], n=n, cutoff=0.6)
        return f"; nearest vocabulary tokens: {', '.join(repr(t) for t in dict.fromkeys(close))}" if close else ""

    def unknown_words(self, prompt: str, ids: np.ndarray) -> tuple[tuple[int, ...], tuple[str, ...]]:
        """Positions the tokenizer could only read as its unknown token, and the words of the
        prompt they stand for (what the user typed, so the status bar can name them)."""
        unk = self.tokenizer.unk_token_id
        if unk is None or unk not in ids:
            return (), ()
        positions = tuple(int(i) for i in np.flatnonzero(np.asarray(ids) == unk))
        try:
            spans = self.tokenizer(prompt, return_offsets_mapping=True)["offset_mapping"]
            words = tuple(prompt[spans[p][0]:spans[p][1]] for p in positions)
        except (NotImplementedError, KeyError, IndexError, TypeError, ValueError):  # slow tokenizers: no offsets
            words = tuple(self.tokenizer.unk_token for _ in positions)
        return positions, words

    def ordinary_ids(self) -> np.ndarray:
        special = set(self.tokenizer.all_special_ids)
        return np.array([i for i in range(min(self.info.vocab_size, len(self.tokenizer))) if i not in special])

    def random_token_ids(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        """Random ordinary (non-special) token ids, for probes and benchmarks."""
        return rng.choice(self.ordinary_ids(), size=shape)

    # ------------------------------------------------------------------ shape facts
    @property
    def n_kv_heads(self) -> int:
        return int(getattr(self.model.config, "num_key_value_heads", None) or self.info.n_heads)

    def has_hook(self, name: str) -> bool:
        try:
            resolve_hook(self.adapter, name, self.info.n_layers)
        except EngineError:
            return False
        return True

    # ------------------------------------------------------------------ forwards
    def forward(self, ids: np.ndarray | torch.Tensor, edits: Mapping[str, list[EditFn]] | None = None,
                capture: Iterable[str] = (), start_layer: int = 0, grad: bool = False,
                attention_mask: np.ndarray | torch.Tensor | None = None, logits_to_keep: int = 0) -> Cache:
        """A forward of ids [B, S] with raw hook edits and captures. start_layer > 0 runs
        blocks[start_layer:] only: an edit of blocks.{start_layer}.hook_resid_pre must then
        supply what enters that block. grad=True keeps the autograd graph (attribution)."""
        ids = torch.as_tensor(np.atleast_2d(ids) if isinstance(ids, np.ndarray) else ids, dtype=torch.long)
        ids = ids.to(self.loaded.device)
        mask = torch.ones_like(ids) if attention_mask is None else torch.as_tensor(attention_mask).to(ids.device)
        grad_mode = torch.enable_grad() if grad else torch.inference_mode()
        with grad_mode, hooks_attached(self.model, self.adapter, self.info.n_layers, capture, edits or {}) as store, \
                layers_from(self.model, self.adapter.layers, start_layer):
            logits = self.model(input_ids=ids, attention_mask=mask, use_cache=False, logits_to_keep=logits_to_keep).logits
        return Cache(logits, store)

    def cached_forward(self, ids: np.ndarray | torch.Tensor, past: Any = None,
                       edits: Mapping[str, list[EditFn]] | None = None) -> tuple[torch.Tensor, Any]:
        """One step of generation: ids [B, S] after the tokens `past` (a KV cache, None at the
        start) holds, with hook edits. Returns the last position's logits [B, V] (float32)
        and the grown cache. Edits see only the new columns: compile them with the offset."""
        ids = torch.as_tensor(np.atleast_2d(ids) if isinstance(ids, np.ndarray) else ids, dtype=torch.long)
        ids = ids.to(self.loaded.device)
        with torch.inference_mode(), hooks_attached(self.model, self.adapter, self.info.n_layers, (), edits or {}):
            out = self.model(input_ids=ids, cache=past, use_cache=True, logits_to_keep=1)
        return out.logits[:, -1].float(), out.cache

    def metric_forward(self, ids: np.ndarray, token_ids: tuple[int, int], edits: Mapping[str, list[EditFn]] | None = None,
                       capture: Iterable[str] = (), grad: bool = False) -> Cache:
        """A forward that computes only two logits at the last position ([B, 2], float32):
        the metric of patching, attribution and circuits, without the vocabulary-sized unembed."""
        ids_t = torch.as_tensor(np.atleast_2d(ids), dtype=torch.long).to(self.loaded.device)
        grad_mode = torch.enable_grad() if grad else torch.inference_mode()
        with grad_mode, hooks_attached(self.model, self.adapter, self.info.n_layers, capture, edits or {}) as store:
            hidden = base_model(self.model, self.adapter.layers)(
                input_ids=ids_t, attention_mask=torch.ones_like(ids_t), use_cache=False).last_hidden_state
            logits = two_logits(self.model, self.adapter.unembed_weight(self.model), self.adapter.unembed_bias(self.model),
                                hidden[:, -1], token_ids)
        return Cache(logits, store)

    def staircase(self, base_ids: np.ndarray, joins: list[tuple[int, int]], base_resid: Mapping[int, torch.Tensor],
                  edits: Mapping[str, list[EditFn]], token_ids: tuple[int, int], capture: tuple[str, ...] = (),
                  prefix_kv: list | None = None) -> Cache:
        """Many variants of one prompt in one batch, each joining at its layer from the base
        residual there, only the metric's two logits computed (engine.resume.resumed_logits)."""
        logits, store = resumed_logits(self, torch.as_tensor(np.atleast_2d(base_ids)), joins, base_resid, edits,
                                       token_ids, capture, prefix_kv)
        return Cache(logits, store)

    def set_staircase(self, base_ids: np.ndarray, joins: list[tuple[int, int]], base_resid: Mapping[int, torch.Tensor],
                      edits: Mapping[str, list[EditFn]], token_ids: np.ndarray | None,
                      prefix_kv: list | None = None) -> Cache:
        """The staircase over R prompts of one length at once (a prompt set's base runs):
        base_ids [R, S], base_resid[layer] [R, S - P, d], prefix_kv from prefix_cache(base_ids, P).
        A join (layer, n) adds n variants of R rows; output row v * R + r is variant v on prompt
        r. Last-position logits (float32): each prompt's tokens (token_ids [R, k] -> [n R, k]),
        or the whole vocabulary (None -> [n R, V])."""
        ids = torch.as_tensor(np.atleast_2d(base_ids))
        hidden, store = resumed_hidden(self, ids, joins, base_resid, edits, (), prefix_kv)
        tokens = None
        if token_ids is not None:
            tokens = torch.as_tensor(np.asarray(token_ids), dtype=torch.long)
            tokens = tokens.repeat(hidden.shape[0] // tokens.shape[0], 1)
        return Cache(row_logits(self, hidden, tokens), store)

    def after_prefix(self, ids: np.ndarray, prefix_kv: list | None, capture: Iterable[str] = (),
                     token_ids: np.ndarray | None = None) -> Cache:
        """A forward of prompts ids [R, S] computing only the positions after the prefix whose
        keys/values prefix_kv holds (prefix_cache of prompts sharing it; None: all positions);
        captures hold those positions. Last-position logits as set_staircase gives them."""
        hidden, store = after_prefix_hidden(self, torch.as_tensor(np.atleast_2d(ids)), prefix_kv, tuple(capture))
        tokens = None if token_ids is None else torch.as_tensor(np.asarray(token_ids), dtype=torch.long)
        return Cache(row_logits(self, hidden, tokens), store)

    def shared_prefix(self, ids_a: np.ndarray, ids_b: np.ndarray) -> int:
        return shared_prefix(self, ids_a, ids_b)

    def prefix_cache(self, ids: np.ndarray, prefix: int) -> list:
        return prefix_cache(self, torch.as_tensor(np.atleast_2d(ids)), prefix)

    @contextmanager
    def weights_from(self, folder) -> Iterator[None]:
        """For the length of the block, compute with a checkpoint's weights (same architecture;
        engine.weight_swap). Caches made from the loaded weights are dropped on the way in and out."""
        from .weight_swap import weights_swapped

        self.clean_run, self._ablation_values, self._edges = CleanRunCache(), None, None
        try:
            with weights_swapped(self.model, folder):
                yield
        finally:
            self.clean_run, self._ablation_values, self._edges = CleanRunCache(), None, None

    @contextmanager
    def sweep_mode(self) -> Iterator[None]:
        """Settings for long batched sweeps (GPT-2's GELU as one fused kernel)."""
        with fused_activations(self.model):
            yield

    # ------------------------------------------------------------------ readouts that need weights
    def _final_norm(self) -> torch.nn.Module:
        return self.model.get_submodule(self.adapter.final_norm)

    def unembed_device(self) -> torch.device:
        return self.adapter.unembed_weight(self.model).device

    def _weights(self, module: torch.nn.Module):
        return weights_present(module) if self.offloaded else nullcontext()

    @contextmanager
    def _readout_weights(self) -> Iterator[None]:
        with self._weights(self.model.get_submodule(self.adapter.unembed)), self._weights(self._final_norm()):
            yield

    def lens_logits(self) -> Callable[[torch.Tensor], torch.Tensor]:
        """Residual rows [N, d] -> logits [N, V] as the model's own head computes them (final
        norm, unembedding, soft-capping). Use inside `readout()`."""
        norm, unembed = self._final_norm(), self.adapter.unembed_fn(self.model)
        device = self.unembed_device()
        return lambda x: unembed(norm(x.to(device)))

    @contextmanager
    def readout(self) -> Iterator[None]:
        """No gradients, and offloaded readout weights present, for the length of a readout."""
        with torch.inference_mode(), self._readout_weights():
            yield

    def head_outputs(self, layer: int, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """One position's per-head z [H, d_head] -> what each head adds [H, d_model], and the
        attention output bias [d_model] (None when there is none)."""
        with self._weights(self.model.get_submodule(self.adapter.layers)[layer]):
            out = self.adapter.head_outputs(self.model, layer, z, self.info.n_heads)
            bias = self.adapter.o_proj_bias(self.model, layer)
            return out, None if bias is None else bias.detach().clone()

    def head_out_weights(self, layer: int) -> torch.Tensor:
        """W_O split by head, [n_heads, d_head, d_model] (a copy): what each head writes per unit
        of its z, for analyses that split a head's write further (by key: info_flow)."""
        with self._weights(self.model.get_submodule(self.adapter.layers)[layer]):
            return self.adapter.o_proj_per_head(self.model, layer, self.info.n_heads).detach().clone()

    def edges(self):
        """The edge-level forward of circuit discovery (engine.edge_forward), made on first use."""
        if self._edges is None:
            from .edge_forward import EdgeForward

            self._edges = EdgeForward(self)
        return self._edges

    def unembed_weight(self) -> torch.Tensor:
        """W_U [d_model, vocab] (a copy): what a direction in the final residual stream says about tokens."""
        return self.adapter.unembed_weight(self.model).detach().clone()

    def logit_direction(self, target_id: int, foil_id: int) -> tuple[torch.Tensor, float]:
        """W_U[:, target] - W_U[:, foil] and b_U[target] - b_U[foil]."""
        w_u, b_u = self.adapter.unembed_weight(self.model), self.adapter.unembed_bias(self.model)
        return w_u[:, target_id] - w_u[:, foil_id], float(b_u[target_id] - b_u[foil_id]) if b_u is not None else 0.0

    def final_norm_params(self) -> tuple[str, torch.Tensor, torch.Tensor | None, float]:
        """(kind 'layernorm'|'rmsnorm', effective weight, bias or None, eps) of the final norm."""
        norm = self._final_norm()
        eps = float(getattr(norm, "eps", getattr(norm, "variance_epsilon", 1e-5)))
        return self.adapter.final_norm_kind, self.adapter.final_norm_weight(self.model), getattr(norm, "bias", None), eps

    def free_memory(self) -> int | None:
        """Free bytes where the model runs now (sweeps size their batches by it); None if unknown."""
        from .memory import available_memory

        try:
            return available_memory(self.loaded.device)
        except Exception:  # noqa: BLE001 - no reading: callers fall back to fixed bounds
            return None

    @property
    def per_head_dla_additive(self) -> bool:
        return self.adapter.per_head_dla_additive


def as_handle(source: Any) -> "TorchHandle":
    """A handle, or the handle of an Engine (the scriptable facade passes itself around)."""
    return getattr(source, "handle", source)


ModelHandle = TorchHandle  # the interface analyses program against; one backend today
