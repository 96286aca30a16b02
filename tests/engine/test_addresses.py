"""Addresses: one parser for every place a user can point at, and names that round-trip.

A name that parses must be exactly the name the graph and session files show, so anything
non-canonical (leading zeros, other scripts' digits, stray whitespace, lowercase) is refused
rather than quietly normalised: two spellings of one component would split its history."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.addresses import ABLATABLE, Address, Feature, parse_ablatable, parse_address
from engine.errors import InterventionError

DOCUMENTED: list[tuple[str, Address]] = [
    ("embed", Address("embed")),
    ("pos_embed", Address("pos_embed")),
    ("unembed", Address("unembed")),
    ("L3.H2", Address("head", 3, 2)),
    ("L0.H0", Address("head", 0, 0)),
    ("L10.H15", Address("head", 10, 15)),
    ("L3.mlp", Address("mlp", 3)),
    ("L3.attn_bias", Address("attn_bias", 3)),
    ("L3.attn_out", Address("attn_out", 3)),
    ("L3.resid_pre", Address("resid_pre", 3)),
    ("L3.resid_mid", Address("resid_mid", 3)),
    ("L3.resid_post", Address("resid_post", 3)),
    ("L3.resid_post/sae:123", Address("resid_post", 3, feature=Feature("sae", 123))),
    ("L0.mlp/transcoder:0", Address("mlp", 0, feature=Feature("transcoder", 0))),
]


@pytest.mark.parametrize("text, expected", DOCUMENTED, ids=[t for t, _ in DOCUMENTED])
def test_every_documented_form_parses_to_its_address_and_its_name_round_trips(text: str, expected: Address) -> None:
    """The parser and `.name` are inverses on every documented form (checked against hand-written Addresses)."""
    address = parse_address(text)
    assert address == expected
    assert address.name == text
    assert str(address) == text
    assert parse_address(expected.name) == expected


REFUSED: list[Any] = [
    "L01.H04", "L0.H01", "L00.mlp", "L3.resid_post/sae:0123",  # leading zeros
    "L\u0661.H4", "L3.H\u0664",  # Arabic-Indic digits
    "L\uff13.H2", "L3.H\uff12",  # fullwidth digits
    "L3.H\u00b2",  # superscript two
    "L3. H2", " L3.H2", "L3.H2 ", "L3 .H2", "L3.H2\n", "embed\n", "L3.resid_post/sae:1\n",
    "\tL3.mlp", "L3.H2\r",  # whitespace anywhere
    "l3.h2", "L3.h2", "l3.H2", "L3.MLP", "Embed", "L3.Resid_post",  # case
    "", ".", "L", "L3", "L3.", "L.H2", "L3.H", "H2", "L3.H2.", "L3..H2", "L3.H2/", "L3.H2/sae",
    "L3.H2/sae:", "L3.H2/SAE:1", "L3.resid", "L3.attn", "L-1.H2", "L3.H-2", "L+3.H2", "3.H2",
    "L3.H2/sae:1/sae:2", "embed/", "unembed.L3",
    "L" + "1" * 300 + ".H2", "x" * 10_000, "L3.H2" * 50,  # very long
    None, 3, 3.0, b"L3.H2", ["L3.H2"], ("L", 3), Address("head", 3, 2),  # not a str
]


@pytest.mark.parametrize("text", REFUSED, ids=[repr(t)[:40] for t in REFUSED])
def test_non_canonical_names_are_refused(text: Any) -> None:
    with pytest.raises(InterventionError):
        parse_address(text)


@pytest.mark.parametrize("text, n_layers, n_heads", [
    ("L2.H0", 2, 8), ("L12.mlp", 12, None), ("L5.resid_post", 3, None), ("L0.H8", 2, 8), ("L1.H99", 2, 8),
    ("L2.resid_post/sae:1", 2, 8),
])
def test_layer_or_head_outside_the_model_is_refused(text: str, n_layers: int, n_heads: int | None) -> None:
    with pytest.raises(InterventionError):
        parse_address(text, n_layers, n_heads)


@pytest.mark.parametrize("text, n_layers, n_heads", [
    ("L1.H7", 2, 8), ("L0.H0", 1, 1), ("L11.mlp", 12, 1), ("embed", 1, 1), ("unembed", 1, 1),
    ("L3.H2", None, None), ("L3.H40", 4, None), ("L40.H3", None, 4),
])
def test_names_inside_the_model_pass_the_shape_check(text: str, n_layers: int | None, n_heads: int | None) -> None:
    """The last edges of the ranges are allowed, and an unknown dimension is not checked."""
    assert parse_address(text, n_layers, n_heads).name == text


@pytest.mark.parametrize("text", ["L3.H2", "L0.mlp"])
def test_heads_and_mlps_are_ablatable(text: str) -> None:
    address = parse_ablatable(text, 4, 4)
    assert address.ablatable and address.kind in ABLATABLE


@pytest.mark.parametrize("text", [
    "embed", "pos_embed", "unembed", "L3.resid_pre", "L3.resid_mid", "L3.resid_post", "L3.attn_out",
    "L3.attn_bias", "L3.H2/sae:5", "L3.mlp/transcoder:1",
])
def test_parse_ablatable_refuses_everything_but_plain_heads_and_mlps(text: str) -> None:
    assert not parse_address(text).ablatable
    with pytest.raises(InterventionError):
        parse_ablatable(text)


def test_parse_ablatable_still_checks_the_shape_and_the_spelling() -> None:
    with pytest.raises(InterventionError):
        parse_ablatable("L4.H0", 4, 4)
    with pytest.raises(InterventionError):
        parse_ablatable("L03.H0")


@pytest.mark.parametrize("text, hook", [
    ("L3.H2", "blocks.3.attn.hook_z"),
    ("L3.mlp", "blocks.3.hook_mlp_out"),
    ("L3.attn_out", "blocks.3.hook_attn_out"),
    ("L3.resid_pre", "blocks.3.hook_resid_pre"),
    ("L3.resid_mid", "blocks.3.hook_resid_mid"),
    ("L3.resid_post", "blocks.3.hook_resid_post"),
    ("L3.resid_post/sae:123", "blocks.3.hook_resid_post"),
    ("embed", "hook_embed"),
    ("pos_embed", "hook_pos_embed"),
])
def test_hook_is_the_transformer_lens_name(text: str, hook: str) -> None:
    assert parse_address(text).hook == hook


@pytest.mark.parametrize("text", ["unembed", "L3.attn_bias"])
def test_places_without_a_hook_point_say_so(text: str) -> None:
    with pytest.raises(InterventionError):
        parse_address(text).hook


@pytest.mark.parametrize("text, first", [
    ("L3.resid_post", 4), ("L3.resid_pre", 3), ("L3.resid_mid", 3), ("L3.H2", 3), ("L3.mlp", 3),
    ("L3.attn_out", 3), ("L0.resid_post", 1), ("embed", 0), ("pos_embed", 0), ("L3.resid_post/sae:1", 4),
])
def test_first_layer_an_edit_can_change(text: str, first: int) -> None:
    assert parse_address(text).first_layer == first


LAYERED_KINDS = ("head", "mlp", "attn_bias", "attn_out", "resid_pre", "resid_mid", "resid_post")
addresses = st.one_of(
    st.sampled_from(["embed", "pos_embed", "unembed"]).map(Address),
    st.builds(lambda kind, layer, head: Address(kind, layer, head if kind == "head" else None),
              st.sampled_from(LAYERED_KINDS), st.integers(0, 10**9), st.integers(0, 10**9)),
)
features = st.none() | st.builds(Feature, st.from_regex(r"[a-z_]{1,12}", fullmatch=True), st.integers(0, 10**9))


@settings(max_examples=300, deadline=None, database=None)
@given(addresses, features)
def test_property_parse_of_name_is_the_address(address: Address, feature: Feature | None) -> None:
    address = Address(address.kind, address.layer, address.head, feature)
    assert parse_address(address.name) == address


NEAR_MISSES = ["0", "00", "07", " ", "\n", "\t", "\r", "\u0661", "\uff13", "\u00b2", "l", "h", "L", "H", ".", "/",
               ":", "_", "sae", "-", "+"]


@st.composite
def mutated_names(draw: st.DrawFn) -> str:
    """A canonical name with a near-miss (another digit, whitespace, case, punctuation) inserted somewhere."""
    address, feature = draw(addresses), draw(features)
    name = Address(address.kind, address.layer, address.head, feature).name
    at = draw(st.sampled_from([0, len(name)]) | st.integers(0, len(name)))  # the ends most often
    return name[:at] + draw(st.sampled_from(NEAR_MISSES)) + name[at:]


@settings(max_examples=500, deadline=None, database=None)
@given(st.one_of(mutated_names(), st.text(max_size=30)))
def test_property_whatever_parses_is_already_canonical(text: str) -> None:
    """Any string either is refused or is exactly the name of what it parses to."""
    try:
        address = parse_address(text)
    except InterventionError:
        return
    assert address.name == text
