"""The intervention registry: kind -> edit compiler, positions resolved when the edit runs.

The same compiled edit must work on prompts of any length and on the tail of a sequence a
resumed run computes (EditContext.offset), and a new kind of intervention must plug in with
one dataclass and one compiler, without touching any dispatch code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Iterator

import numpy as np
import pytest
import torch

from engine import Ablation, Engine, InterventionError, Scale, intervention_from_dict
from engine import intervening, interventions
from engine.addresses import Address
from engine.intervening import EditContext, compile_edits, edit_compiler, resolve_positions
from engine.interventions import register_intervention

PROMPT_10 = "When Mary and John went to the store ,"  # BOS + 9 words
PROMPT_14 = "When Mary and John went to the store , John gave a drink"  # BOS + 13 words
Z1 = "blocks.1.attn.hook_z"


@pytest.fixture(scope="module")
def demo() -> Engine:
    return Engine(device="cpu")  # 2 layers, 8 heads of 16 dimensions


def no_replacement(intervention: Any, address: Address) -> torch.Tensor:
    raise AssertionError("zero ablation and scaling must not ask for a replacement value")


def head_slice(head: int, d_head: int) -> slice:
    return slice(head * d_head, (head + 1) * d_head)


# ------------------------------------------------------------------ (a) positions resolved at run time
def test_one_compiled_ablation_zeroes_the_last_position_of_prompts_of_any_length(demo: Engine) -> None:
    """Compiled once; -1 must mean position 9 on the 10-token prompt and 13 on the 14-token one."""
    info, handle = demo.info, demo.handle
    edits = compile_edits([Ablation("L1.H4", positions=(-1,))], EditContext(info.n_layers, info.n_heads, no_replacement))
    assert set(edits) == {Z1}
    cols = head_slice(4, info.d_head)
    for prompt, length in ((PROMPT_10, 10), (PROMPT_14, 14)):
        ids = demo.tokenize(prompt)
        assert len(ids) == length
        plain = handle.forward(ids, capture=[Z1])
        edited = handle.forward(ids, edits, capture=[Z1])
        expected = plain[Z1].clone()
        expected[0, length - 1, cols] = 0.0
        assert plain[Z1][0, length - 1, cols].abs().max() > 0  # the slice was not zero to begin with
        torch.testing.assert_close(edited[Z1], expected, rtol=0, atol=0)
        assert not torch.equal(edited.logits[0, -1], plain.logits[0, -1])  # and the edit reached the output


def test_build_edits_checks_positions_against_the_prompt_before_any_forward(demo: Engine) -> None:
    info = demo.info
    with pytest.raises(InterventionError):
        intervening.build_edits([Ablation("L1.H4", positions=(10,))], info.n_layers, info.n_heads, 10, no_replacement)
    with pytest.raises(InterventionError):
        intervening.build_edits([Ablation("L1.H4", positions=(-11,))], info.n_layers, info.n_heads, 10, no_replacement)


def test_a_position_past_the_activation_is_refused_when_the_edit_runs() -> None:
    edit = compile_edits([Ablation("L1.H4", positions=(20,))], EditContext(2, 8, no_replacement))[Z1][0]
    with pytest.raises(InterventionError):
        edit(torch.randn(1, 12, 8 * 16))


# ------------------------------------------------------------------ (b) the offset of a resumed tail
@pytest.mark.parametrize("offset", [0, 3, 5])
def test_offset_edits_the_right_absolute_positions(offset: int) -> None:
    """The edit sees columns offset..S-1 of a 12-token sequence: absolute 0 is not there
    (unless offset is 0), 6 is column 6-offset, and -1 is the last column."""
    n_heads, d_head, total = 8, 16, 12
    width = total - offset
    edit = compile_edits([Ablation("L1.H4", positions=(0, 6, -1))],
                         EditContext(2, n_heads, no_replacement, offset=offset))[Z1][0]
    act = torch.randn(1, width, n_heads * d_head, generator=torch.Generator().manual_seed(offset))
    out = edit(act)
    expected = act.clone()
    for absolute in sorted({0, 6, total - 1}):
        if absolute >= offset:
            expected[0, absolute - offset, head_slice(4, d_head)] = 0.0
    torch.testing.assert_close(out, expected, rtol=0, atol=0)
    assert torch.equal(act, torch.randn(1, width, n_heads * d_head, generator=torch.Generator().manual_seed(offset)))


def test_offset_scales_only_the_asked_columns() -> None:
    n_heads, d_head, offset = 4, 8, 4
    act = torch.randn(2, 6, n_heads * d_head)
    edit = compile_edits([Scale("L0.H1", 3.0, positions=(5, 9))], EditContext(1, n_heads, no_replacement, offset))
    out = edit["blocks.0.attn.hook_z"][0](act)
    expected = act.clone()
    expected[:, [1, 5], d_head:2 * d_head] *= 3.0
    torch.testing.assert_close(out, expected)


def test_positions_all_before_the_offset_leave_the_activation_alone() -> None:
    act = torch.randn(1, 4, 32)
    edit = compile_edits([Ablation("L0.mlp", positions=(0, 1))], EditContext(1, 4, no_replacement, offset=2))
    assert torch.equal(edit["blocks.0.hook_mlp_out"][0](act), act)


def test_per_position_replacement_is_read_at_absolute_positions() -> None:
    """Resample values [S, d_head] are indexed by absolute position, not by column of the tail."""
    n_heads, d_head, total, offset = 4, 8, 10, 6
    source = torch.arange(total * d_head, dtype=torch.float32).view(total, d_head)
    asked: list[tuple[str, str]] = []

    def replacement(intervention: Any, address: Address) -> torch.Tensor:
        asked.append((intervention.component, address.name))
        return source

    ablation = Ablation("L0.H2", "resample", positions=(7, -1), source_prompt="another prompt")
    edit = compile_edits([ablation], EditContext(1, n_heads, replacement, offset))["blocks.0.attn.hook_z"][0]
    act = torch.randn(1, total - offset, n_heads * d_head)
    out = edit(act)
    expected = act.clone()
    expected[0, 7 - offset, head_slice(2, d_head)] = source[7]
    expected[0, 9 - offset, head_slice(2, d_head)] = source[9]
    torch.testing.assert_close(out, expected, rtol=0, atol=0)
    assert asked == [("L0.H2", "L0.H2")]


def test_a_too_short_resample_source_is_an_intervention_error() -> None:
    ablation = Ablation("L0.mlp", "resample", positions=(-1,), source_prompt="short")
    edit = compile_edits([ablation], EditContext(1, 4, lambda i, a: torch.zeros(3, 16)))["blocks.0.hook_mlp_out"][0]
    with pytest.raises(InterventionError):
        edit(torch.randn(1, 8, 16))


# ------------------------------------------------------------------ (c) a new kind plugs in
@dataclass(frozen=True)
class Negate:
    """A test-only kind: multiply a head's or MLP's output by -1 at some positions."""

    component: str
    positions: tuple[int, ...] | None = None
    kind: ClassVar[str] = "test_negate"

    def __post_init__(self) -> None:
        if self.positions is not None:
            object.__setattr__(self, "positions", tuple(int(p) for p in self.positions))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "component": self.component,
                "positions": list(self.positions) if self.positions is not None else None}


def compile_negate(intervention: Negate, address: Address, ctx: EditContext):
    """Written against the public pieces only (resolve_positions), as a plug-in module would be."""
    def edit(act: torch.Tensor) -> torch.Tensor:
        index = resolve_positions(intervention.positions, ctx.offset, act.shape[1], None, intervention.component)
        if index is None:
            return act
        out = act.clone()
        view = out.view(*out.shape[:-1], ctx.n_heads, -1)[..., address.head, :] if address.kind == "head" else out
        view[:, index] = -view[:, index]
        return out
    return edit


@pytest.fixture
def negate_kind() -> Iterator[type]:
    """Register the kind for one test and always take it out again."""
    register_intervention(Negate)
    edit_compiler("test_negate")(compile_negate)
    try:
        yield Negate
    finally:
        intervening._COMPILERS.pop("test_negate", None)
        interventions._KINDS.pop("test_negate", None)


def test_a_registered_kind_round_trips_through_its_dict(negate_kind: type) -> None:
    import json

    item = negate_kind("L1.H2", positions=(2, -1))
    assert intervention_from_dict(json.loads(json.dumps(item.to_dict()))) == item
    assert intervention_from_dict(negate_kind("L0.mlp").to_dict()) == negate_kind("L0.mlp")


def test_a_registered_kind_runs_through_the_engine_like_the_same_raw_edit(demo: Engine, negate_kind: type) -> None:
    """Engine._forward with Negate equals a forward with a hand-written edit negating the same slice."""
    ids = demo.tokenize(PROMPT_14)
    cols = head_slice(3, demo.info.d_head)
    z0 = "blocks.0.attn.hook_z"

    def raw_negate(act: torch.Tensor) -> torch.Tensor:
        out = act.clone()
        out[:, [2, len(ids) - 1], cols] = -act[:, [2, len(ids) - 1], cols]
        return out

    logits, acts = demo._forward(ids[None], [negate_kind("L0.H3", positions=(2, -1))], [z0])
    reference = demo.handle.forward(ids, {z0: [raw_negate]}, capture=[z0])
    plain = demo.handle.forward(ids, capture=[z0])
    torch.testing.assert_close(logits, reference.logits, rtol=0, atol=0)
    torch.testing.assert_close(acts[z0], reference[z0], rtol=0, atol=0)
    assert not torch.allclose(logits, plain.logits, atol=1e-3)  # the edit matters


def test_a_registered_kind_runs_through_engine_run_resumed_from_its_layer(demo: Engine, negate_kind: type) -> None:
    """Engine.run resumes from the clean run's residual at layer 1 for an L1 edit; the logit
    difference must still equal a full forward with the raw edit."""
    ids = demo.tokenize(PROMPT_14)
    t, f = demo.token_id("Mary"), demo.token_id("John")
    cols = head_slice(5, demo.info.d_head)

    def raw_negate(act: torch.Tensor) -> torch.Tensor:
        out = act.clone()
        out[:, :, cols] = -act[:, :, cols]
        return out

    demo.run(PROMPT_14, want=())  # fills the clean-run cache, so the edited run can resume
    hits = demo._clean_run.hits
    result = demo.run(PROMPT_14, [negate_kind("L1.H5")], want=(), target="Mary", foil="John")
    assert demo._clean_run.hits == hits + 1
    reference = demo.handle.forward(ids, {Z1: [raw_negate]}).logits[0, -1]
    assert result.logit_diff == pytest.approx(float(reference[t] - reference[f]), abs=1e-4)


def test_a_registered_kind_still_gets_its_component_checked_against_the_model(demo: Engine,
                                                                            negate_kind: type) -> None:
    with pytest.raises(InterventionError):
        demo._forward(demo.tokenize(PROMPT_10)[None], [negate_kind("L2.H0")], [])
    with pytest.raises(InterventionError):
        demo._forward(demo.tokenize(PROMPT_10)[None], [negate_kind("L0.H8")], [])


def test_the_fixture_takes_the_kind_out_again(negate_kind: type) -> None:
    """Run the finalizer by hand: afterwards the kind is unknown to both registries."""
    assert "test_negate" in intervening._COMPILERS and "test_negate" in interventions._KINDS
    intervening._COMPILERS.pop("test_negate")
    interventions._KINDS.pop("test_negate")
    with pytest.raises(InterventionError):
        intervention_from_dict(Negate("L0.H1").to_dict())
    with pytest.raises(InterventionError):
        compile_edits([Negate("L0.H1")], EditContext(1, 2, no_replacement))


# ------------------------------------------------------------------ (d) unknown kinds
@dataclass(frozen=True)
class Unknown:
    component: str = "L0.H0"
    positions: tuple[int, ...] | None = None
    kind: ClassVar[str] = "no_such_kind"


def test_an_unknown_kind_raises_intervention_error(demo: Engine) -> None:
    with pytest.raises(InterventionError, match="no_such_kind"):
        compile_edits([Unknown()], EditContext(2, 8, no_replacement))
    with pytest.raises(InterventionError):
        intervention_from_dict({"kind": "no_such_kind", "component": "L0.H0"})
    with pytest.raises(InterventionError):
        demo._forward(np.asarray(demo.tokenize(PROMPT_10))[None], [Unknown()], [])
