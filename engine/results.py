"""Frozen results the engine hands out: numpy arrays and plain values, never torch tensors,
so they can cross into the UI thread and into files unchanged."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class ModelInfo:
    """Shape and identity of the loaded model."""

    source: str
    family: str
    model_type: str
    n_layers: int
    n_heads: int
    d_model: int
    d_head: int
    n_ctx: int
    vocab_size: int
    device: str
    dtype: str
    note: str = ""  # e.g. 'weights dequantised to float from the file's Q4_1 quantisation'

    def head_names(self) -> list[str]:
        return [f"L{l}.H{h}" for l in range(self.n_layers) for h in range(self.n_heads)]


@dataclass(frozen=True)
class LogitLens:
    """Final norm + unembed applied to the residual stream after each layer.

    Rows: 'embed' (the input to layer 0), then 'L0'..'L{n-1}' (after each block); the
    last row is the model's own output distribution. Columns: prompt positions."""

    layer_labels: tuple[str, ...]
    positions: np.ndarray  # [P] prompt positions the columns stand for
    top_ids: np.ndarray  # [R, P, k] int64
    top_tokens: np.ndarray  # [R, P, k] str
    top_probs: np.ndarray  # [R, P, k] float32
    target_id: int | None = None
    target_probs: np.ndarray | None = None  # [R, P]
    target_ranks: np.ndarray | None = None  # [R, P], 0 = most likely


@dataclass(frozen=True)
class DirectLogitAttribution:
    """Each component's direct contribution to logit(target) - logit(foil) at one position,
    through the final norm frozen at its actual scale (so the parts sum to the total)."""

    position: int
    labels: tuple[str, ...]  # 'embed', 'pos_embed', 'L0.H0'.., 'L0.attn_bias', 'L0.mlp', .., 'final_bias'
    contributions: np.ndarray  # [len(labels)]
    heads: np.ndarray  # [n_layers, n_heads]
    mlps: np.ndarray  # [n_layers]
    total: float  # the model's actual logit difference

    def as_dict(self) -> dict[str, float]:
        return dict(zip(self.labels, self.contributions.tolist()))


@dataclass(frozen=True)
class HeadScores:
    """Per-head scores on repeated random token sequences (BOS + segment + same segment)."""

    previous_token: np.ndarray  # [n_layers, n_heads]
    induction: np.ndarray  # [n_layers, n_heads]
    duplicate_token: np.ndarray  # [n_layers, n_heads]
    seg_len: int
    n_sequences: int


@dataclass(frozen=True)
class RunResult:
    """Everything one forward pass produced for the panels."""

    prompt: str
    token_ids: np.ndarray  # [S]
    tokens: tuple[str, ...]
    interventions: tuple  # the Intervention objects applied
    top_ids: np.ndarray  # [k] next-token predictions after the last position
    top_tokens: tuple[str, ...]
    top_probs: np.ndarray  # [k]
    target_id: int | None
    foil_id: int | None
    target_prob: float | None
    logit_diff: float | None  # logit(target) - logit(foil) at the last position
    patterns: np.ndarray | None  # [n_layers, n_heads, S, S]
    resid: np.ndarray | None  # [n_layers + 1, S, d_model]: input to layer 0, then after each layer
    logit_lens: LogitLens | None
    dla: DirectLogitAttribution | None
    device: str
    elapsed_ms: float
    readouts: dict = field(default_factory=dict)  # key -> result of every readout run (new techniques' too)
    unknown_positions: tuple[int, ...] = ()  # prompt positions read as the unknown token
    unknown_words: tuple[str, ...] = ()  # the words typed there
    answer_hint: str = ""  # e.g. the target typed without the leading space its likely token has
    # a progressive result names the asked readouts still to come (None until then)
    pending: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        """Every asked readout is in (a progressive result is not)."""
        return not self.pending


@dataclass(frozen=True)
class Prediction:
    """The next-token distribution after the last position, and the logit difference."""

    token_ids: np.ndarray  # [S] the prompt's ids
    tokens: tuple[str, ...]
    top_ids: np.ndarray  # [k]
    top_tokens: tuple[str, ...]
    top_probs: np.ndarray  # [k]
    target_id: int | None
    foil_id: int | None
    target_prob: float | None
    logit_diff: float | None
    unknown_positions: tuple[int, ...] = ()  # prompt positions read as the unknown token
    unknown_words: tuple[str, ...] = ()  # the words typed there
    answer_hint: str = ""  # e.g. the target typed without the leading space its likely token has


@dataclass(frozen=True)
class PatchingResult:
    """One patching sweep (activation, attribution or path): a grid of effects."""

    sweep: str
    values: np.ndarray  # normalised metric (clean 1, corrupted 0): [rows, columns]
    row_labels: tuple[str, ...]
    column_labels: tuple[str, ...]
    clean_metric: float
    corrupted_metric: float
    mode: str  # 'denoise' (clean into corrupted) or 'noise' (corrupted into clean)
    raw: np.ndarray | None = None  # the logit differences themselves
    method: str = "activation"  # 'activation', 'attribution' or 'path'
    details: dict = field(default_factory=dict)  # e.g. the receiver of a path-patching sweep


@dataclass(frozen=True)
class PatchingRun:
    """What the 'patching' analysis returns: the sweep, and the attribution estimate of the
    same grid with its correlation when the analysis added one."""

    main: PatchingResult
    estimate: PatchingResult | None = None
    correlation: float | None = None
    elapsed_ms: float = 0.0
