"""One dictionary (SAE or transcoder) in the engine's orientation, with its exact math.

Every file format is converted to this one shape on loading, so the math below is the
only place an architecture is computed:

    W_enc [d_in, d_sae]   W_dec [d_sae, d_out]   b_enc [d_sae]   b_dec [d_out]
    threshold [d_sae] (jumprelu)   W_skip [d_in, d_out] (skip transcoders)
    b_gate, r_mag, b_mag [d_sae] (gated; no b_enc)

It follows SAELens (sae_lens/saes/{standard,topk,jumprelu,gated}_sae.py, transcoder.py)
and circuit-tracer (circuit_tracer/transcoder/single_layer_transcoder.py,
activation_functions.py). Where they differ the loader records it rather than the math
guessing: circuit-tracer's TopK keeps negative values (`topk_relu=False`), and its
JumpReLU is pre·[pre > t] while SAELens's is relu(pre)·[pre > t]; the two agree once
t is clamped at 0, which the SAELens loader does (see saelens.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Literal

import torch

from ..errors import EngineError

ARCHITECTURES = ("standard", "topk", "jumprelu", "gated")
KINDS = ("sae", "transcoder")
NORMALIZATIONS = ("none", "expected_average_only_in")


@dataclass(frozen=True, eq=False, repr=False)
class Dictionary:
    """Weights plus where they read and write. Frozen: a new one comes from `to()`."""

    name: str
    kind: Literal["sae", "transcoder"]
    architecture: Literal["standard", "topk", "jumprelu", "gated"]
    site_in: str  # canonical hook name the input is read at
    site_out: str  # canonical hook name the output replaces (= site_in for an SAE)
    W_enc: torch.Tensor
    W_dec: torch.Tensor
    b_enc: torch.Tensor | None  # None for gated, which has b_gate / b_mag instead
    b_dec: torch.Tensor
    threshold: torch.Tensor | None = None
    W_skip: torch.Tensor | None = None
    b_gate: torch.Tensor | None = None
    r_mag: torch.Tensor | None = None
    b_mag: torch.Tensor | None = None
    k: int | None = None
    topk_relu: bool = True  # SAELens applies ReLU to the k kept values; circuit-tracer does not
    apply_b_dec_to_input: bool = False
    normalize_activations: str = "none"
    norm_scaling_factor: float | None = None  # expected_average_only_in: inputs are multiplied by it
    source: Path | None = None  # the weight file
    digest: str = ""  # sha256 of the weight file
    model_name: str | None = None  # the model the file says it was trained on (informative only)
    hooks_in_file: tuple[str, str] = ("", "")  # (in, out) as the file wrote them, for messages and fits

    def __post_init__(self) -> None:
        _check(self)

    # ------------------------------------------------------------------ shape
    @property
    def d_in(self) -> int:
        return self.W_enc.shape[0]

    @property
    def d_sae(self) -> int:
        return self.W_enc.shape[1]

    @property
    def d_out(self) -> int:
        return self.W_dec.shape[1]

    @property
    def dtype(self) -> torch.dtype:
        return self.W_enc.dtype

    @property
    def device(self) -> torch.device:
        return self.W_enc.device

    def to(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> "Dictionary":
        """The same dictionary with its tensors moved or cast (itself when nothing would change:
        every live run asks for the dictionary on the activation's device)."""
        same_device = device is None or torch.device(device) == self.W_enc.device
        if same_device and (dtype is None or dtype == self.W_enc.dtype):
            return self
        moved = {f.name: getattr(self, f.name).to(device=device, dtype=dtype)
                 for f in fields(self) if isinstance(getattr(self, f.name), torch.Tensor)}
        return replace(self, **moved)

    def __repr__(self) -> str:
        extra = f", k={self.k}" if self.k is not None else ""
        return (f"Dictionary({self.name!r}, {self.kind}, {self.architecture}{extra}, {self.site_in}"
                f"{'' if self.site_out == self.site_in else ' -> ' + self.site_out}, "
                f"d_in={self.d_in}, d_sae={self.d_sae}, d_out={self.d_out})")

    # ------------------------------------------------------------------ math
    def _scale(self) -> float | None:
        return self.norm_scaling_factor if self.normalize_activations == "expected_average_only_in" else None

    def sae_input(self, x: torch.Tensor) -> torch.Tensor:
        """What the encoder multiplies: x cast to the weights, times the norm scaling factor,
        minus b_dec when the SAE was trained that way (SAELens's process_sae_in)."""
        x = x.to(self.W_enc)
        if (scale := self._scale()) is not None:
            x = x * scale
        return x - self.b_dec if self.apply_b_dec_to_input else x

    def pre_acts(self, x: torch.Tensor) -> torch.Tensor:
        """x @ W_enc + b_enc (for gated: the magnitude path's pre-activation)."""
        return self._pre(self.sae_input(x))

    def _pre(self, x_in: torch.Tensor) -> torch.Tensor:
        if self.architecture == "gated":
            return x_in @ (self.W_enc * self.r_mag.exp()) + self.b_mag
        return x_in @ self.W_enc + self.b_enc

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Feature activations [..., d_sae] of inputs [..., d_in]."""
        if x.shape[-1] != self.d_in:
            raise EngineError(f"{self.name} reads vectors of width {self.d_in}, got shape {list(x.shape)}")
        x_in = self.sae_input(x)
        pre = self._pre(x_in)
        if self.architecture == "standard":
            return torch.relu(pre)
        if self.architecture == "jumprelu":
            return pre * (pre > self.threshold).to(pre.dtype)
        if self.architecture == "gated":  # the gate shares W_enc; r_mag rescales it for the magnitude
            gate = (x_in @ self.W_enc + self.b_gate) > 0
            return torch.relu(pre) * gate.to(pre.dtype)
        values, indices = pre.topk(self.k, dim=-1)
        return torch.zeros_like(pre).scatter(-1, indices, torch.relu(values) if self.topk_relu else values)

    def skip(self, x: torch.Tensor) -> torch.Tensor:
        """A skip transcoder's linear term x @ W_skip [..., d_out] (on the raw input)."""
        if self.W_skip is None:
            raise EngineError(f"{self.name} has no skip connection")
        return x.to(self.W_skip) @ self.W_skip

    def decode(self, acts: torch.Tensor, x: torch.Tensor | None = None) -> torch.Tensor:
        """Output [..., d_out] of activations [..., d_sae]; a skip transcoder also needs its
        input x for the skip term (asked for rather than silently left out)."""
        if acts.shape[-1] != self.d_sae:
            raise EngineError(f"{self.name} has {self.d_sae} features, got activations of shape {list(acts.shape)}")
        out = acts.to(self.W_dec) @ self.W_dec + self.b_dec
        if (scale := self._scale()) is not None:
            out = out / scale
        if self.W_skip is not None:
            if x is None:
                raise EngineError(f"{self.name} has a skip connection: decode needs the input x as well")
            out = out + self.skip(x)
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """decode(encode(x)): the reconstruction (SAE) or the predicted output (transcoder)."""
        return self.decode(self.encode(x), x)

    __call__ = forward


def _check(d: Dictionary) -> None:
    """The invariants every Dictionary holds, however it was made (loaders check files first,
    with the file's names in the message; this catches anything built by hand)."""
    def bad(why: str) -> EngineError:
        return EngineError(f"dictionary {d.name!r}: {why}")

    if d.kind not in KINDS:
        raise bad(f"kind {d.kind!r} is not one of {', '.join(KINDS)}")
    if d.architecture not in ARCHITECTURES:
        raise bad(f"architecture {d.architecture!r} is not one of {', '.join(ARCHITECTURES)}")
    if d.normalize_activations not in NORMALIZATIONS:
        raise bad(f"normalize_activations {d.normalize_activations!r} is not one of {', '.join(NORMALIZATIONS)}")
    if d.normalize_activations == "expected_average_only_in" and not (
            isinstance(d.norm_scaling_factor, (int, float)) and math.isfinite(d.norm_scaling_factor)
            and d.norm_scaling_factor > 0):
        raise bad("expected_average_only_in needs a positive norm scaling factor")
    if d.W_enc.ndim != 2 or d.W_dec.ndim != 2:
        raise bad("W_enc and W_dec must be matrices")
    d_in, d_sae, d_out = d.W_enc.shape[0], d.W_enc.shape[1], d.W_dec.shape[1]
    expected = {"W_dec": (d_sae, d_out), "b_dec": (d_out,)}
    if d.architecture == "gated":
        expected.update(b_gate=(d_sae,), r_mag=(d_sae,), b_mag=(d_sae,))
    else:
        expected["b_enc"] = (d_sae,)
    if d.architecture == "jumprelu":
        expected["threshold"] = (d_sae,)
    if d.W_skip is not None:
        expected["W_skip"] = (d_in, d_out)
    for key, shape in expected.items():
        value = getattr(d, key)
        if value is None:
            raise bad(f"{d.architecture} needs {key}")
        if tuple(value.shape) != shape:
            raise bad(f"{key} has shape {list(value.shape)}, expected {list(shape)}")
    if d.architecture == "topk" and not (isinstance(d.k, int) and 0 < d.k <= d_sae):
        raise bad(f"topk needs an integer k in 1..{d_sae}, got {d.k!r}")
    if d.kind == "sae" and (d_out != d_in or d.site_out != d.site_in or d.W_skip is not None):
        raise bad("an SAE writes where it reads, with d_out = d_in and no skip connection")
    if d.apply_b_dec_to_input and d_out != d_in:
        raise bad("apply_b_dec_to_input needs d_out = d_in")
