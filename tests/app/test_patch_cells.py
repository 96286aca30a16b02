"""What a clicked heatmap cell applies: the component and positions of that cell, the
query heads sharing a key/value head under GQA, and a message where no component exists."""

from __future__ import annotations

import numpy as np
import pytest

from app.patch_cells import cell_patch
from engine.results import PatchingResult

TOKENS = ("0:<bos>", "1:When", "2:Mary")


def result(sweep: str, rows, columns, mode: str = "noise", method: str = "activation") -> PatchingResult:
    return PatchingResult(sweep, np.zeros((len(rows), len(columns))), tuple(rows), tuple(columns), 1.0, 0.0, mode,
                          method=method)


def test_head_and_position_cells() -> None:
    heads = tuple(f"H{h}" for h in range(4))
    assert cell_patch(result("head", ("L0", "L1"), heads), 1, 2, 4).names == ("L1.H2",)
    pos = cell_patch(result("head_pos", ("L0.H0", "L0.H1"), TOKENS), 1, 2, 4)
    assert (pos.names, pos.positions) == (("L0.H1",), (2,))
    mlp = cell_patch(result("mlp_out", ("L0", "L1"), TOKENS), 1, 1, 4)
    assert (mlp.names, mlp.positions) == (("L1.mlp",), (1,))
    attn = cell_patch(result("attn_out", ("L0", "L1"), TOKENS), 0, 2, 4)
    assert attn.names == ("L0.H0", "L0.H1", "L0.H2", "L0.H3") and attn.positions == (2,)


def test_grouped_key_value_cells_apply_every_query_head_of_the_group() -> None:
    cell = cell_patch(result("head_k", ("L0", "L1"), ("KV0", "KV1")), 1, 1, 4)
    assert cell.names == ("L1.H2", "L1.H3") and "key only" in cell.note


def test_notes_say_what_the_graph_shows() -> None:
    heads = tuple(f"H{h}" for h in range(4))
    assert "own patch" in cell_patch(result("head", ("L0",), heads, mode="noise"), 0, 1, 4).note
    assert "noising patch" in cell_patch(result("head", ("L0",), heads, mode="denoise"), 0, 1, 4).note
    path = cell_patch(result("path to L1.H0.q", ("L0",), heads, method="path"), 0, 3, 4)
    assert path.names == ("L0.H3",) and "all its paths" in path.note


def test_residual_cells_have_no_component() -> None:
    with pytest.raises(ValueError, match="residual stream"):
        cell_patch(result("resid", ("L0", "final"), TOKENS), 0, 0, 4)
