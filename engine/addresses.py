"""Addresses: the one parser and the one type for every place a user can point at.

    embed, pos_embed, unembed                 the model's ends
    L3.H2                                     an attention head's output (its z slice through W_O)
    L3.mlp                                    an MLP's output
    L3.attn_bias                              the attention output bias (no head owns it)
    L3.resid_pre / L3.resid_mid / L3.resid_post   the residual stream around block 3
    L3.attn_out                               the attention block's output (all heads + bias)
    L3.resid_post/sae:123                     feature 123 of a dictionary read at that place

Names are ASCII and canonical (no leading zeros, no other digits): `L01.H04` or `L١.H4`
are refused, so a name that parses is exactly the name the graph and sessions show.
Everything that reads a component name calls `parse_address`; nothing splits strings."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import InterventionError

_NUM = r"(0|[1-9][0-9]*)"
_LAYERED = re.compile(rf"^L{_NUM}\.(H{_NUM}|mlp|attn_bias|attn_out|resid_pre|resid_mid|resid_post)$", re.ASCII)
_FEATURE = re.compile(rf"^([a-z_]+):{_NUM}$", re.ASCII)
ENDS = ("embed", "pos_embed", "unembed")
RESID_POINTS = ("resid_pre", "resid_mid", "resid_post")
ABLATABLE = ("head", "mlp")


@dataclass(frozen=True)
class Feature:
    """One unit of a dictionary (SAE, transcoder) read at an address: `sae:123`."""

    dictionary: str
    index: int


@dataclass(frozen=True)
class Address:
    """kind: 'head', 'mlp', 'attn_bias', 'attn_out', 'resid_pre', 'resid_mid', 'resid_post',
    or one of ENDS (layer None). head is set for 'head' only."""

    kind: str
    layer: int | None = None
    head: int | None = None
    feature: Feature | None = None

    @property
    def name(self) -> str:
        if self.layer is None:
            base = self.kind
        elif self.kind == "head":
            base = f"L{self.layer}.H{self.head}"
        else:
            base = f"L{self.layer}.{self.kind}"
        return base if self.feature is None else f"{base}/{self.feature.dictionary}:{self.feature.index}"

    def __str__(self) -> str:
        return self.name

    @property
    def ablatable(self) -> bool:
        """Heads and MLPs: what the ablation bin and patching cells act on."""
        return self.kind in ABLATABLE and self.feature is None

    @property
    def hook(self) -> str:
        """The canonical (TransformerLens) hook point this address is read and edited at."""
        l = self.layer
        return {
            "head": f"blocks.{l}.attn.hook_z", "mlp": f"blocks.{l}.hook_mlp_out",
            "attn_out": f"blocks.{l}.hook_attn_out", "resid_pre": f"blocks.{l}.hook_resid_pre",
            "resid_mid": f"blocks.{l}.hook_resid_mid", "resid_post": f"blocks.{l}.hook_resid_post",
            "embed": "hook_embed", "pos_embed": "hook_pos_embed",
        }.get(self.kind) or _no_hook(self)

    @property
    def first_layer(self) -> int:
        """The first block an edit here can change (runs may resume from there)."""
        if self.layer is None:
            return 0
        return self.layer + 1 if self.kind == "resid_post" else self.layer


def _no_hook(address: Address) -> str:
    raise InterventionError(f"{address.name} has no hook point to read or edit")


def head_address(layer: int, head: int) -> Address:
    return Address("head", layer, head)


def mlp_address(layer: int) -> Address:
    return Address("mlp", layer)


def parse_address(text: str, n_layers: int | None = None, n_heads: int | None = None) -> Address:
    """Parse a canonical name; with the model's shape, also check that it exists there."""
    if not isinstance(text, str) or len(text) > 200:
        raise InterventionError(f"{text!r:.60} is not a component name")
    base, slash, feature_text = text.partition("/")
    feature = None
    if slash:
        m = _FEATURE.fullmatch(feature_text)
        if m is None:
            raise InterventionError(f"'{text}': a feature is written like L3.resid_post/sae:123")
        feature = Feature(m.group(1), int(m.group(2)))
    if base in ENDS:
        address = Address(base, feature=feature)
    elif m := _LAYERED.fullmatch(base):
        part = m.group(2)
        if part.startswith("H"):
            address = Address("head", int(m.group(1)), int(m.group(3)), feature)
        else:
            address = Address(part, int(m.group(1)), feature=feature)
    else:
        raise InterventionError(f"'{text}' is not a component name (expected L<layer>.H<head>, L<layer>.mlp, "
                                "L<layer>.resid_pre/mid/post, embed or unembed, in plain digits without leading zeros)")
    if n_layers is not None and address.layer is not None and not 0 <= address.layer < n_layers:
        raise InterventionError(f"{text}: the model has layers 0..{n_layers - 1}")
    if n_heads is not None and address.head is not None and not 0 <= address.head < n_heads:
        raise InterventionError(f"{text}: the model has heads 0..{n_heads - 1} per layer")
    return address


def parse_ablatable(text: str, n_layers: int | None = None, n_heads: int | None = None) -> Address:
    """A head or an MLP (what ablation and scaling act on); anything else is refused."""
    address = parse_address(text, n_layers, n_heads)
    if not address.ablatable:
        raise InterventionError(f"'{text}' cannot be ablated or scaled: choose a head (L<layer>.H<head>) "
                                "or an MLP (L<layer>.mlp)")
    return address
