"""The component graph's geometry as plain numbers: layout choice, fit, header thinning, search."""

from __future__ import annotations

from widgets.graph_layout import (choose_kind, fit_scale_and_centre, layout_for, nice_ceiling, parse_query,
                                  visible_labels)


def test_small_models_get_columns_and_real_ones_a_matrix() -> None:
    assert choose_kind(2, 4) == "columns" and choose_kind(2, 8) == "columns"
    assert choose_kind(30, 9) == "matrix" and choose_kind(48, 25) == "matrix"


def test_matrix_cells_do_not_overlap_and_turning_swaps_rows_and_columns() -> None:
    for transposed in (False, True):
        lay = layout_for(30, 9, transposed)
        cells = [(s.x, s.y, s.x + s.w, s.y + s.h) for s in lay.slots]
        for i, a in enumerate(cells):
            for b in cells[i + 1:]:
                assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
    plain = {s.name: s for s in layout_for(30, 9).slots}
    turned = {s.name: s for s in layout_for(30, 9, True).slots}
    shift = turned["L0.H0"].x - plain["L0.H0"].y  # only the (thicker) embed bar differs
    for name in ("L0.H8", "L29.H0", "L29.mlp", "L7.H4"):
        assert turned[name].y == plain[name].x and turned[name].x - plain[name].y == shift


def test_fit_puts_the_grid_and_its_pixel_margins_inside_the_viewport() -> None:
    s, cx, cy = fit_scale_and_centre((0, 0, 1000, 2000), (40, 20, 8, 8), (560, 700))
    left_px = 280 + (0 - cx) * s
    top_px = 350 + (0 - cy) * s
    assert left_px >= 40 - 1e-6 and left_px + 1000 * s <= 560 - 8 + 1e-6
    assert top_px >= 20 - 1e-6 and top_px + 2000 * s <= 700 - 8 + 1e-6


def test_headers_thin_out_without_overlapping_and_keep_the_last() -> None:
    centres = [i * 10.0 for i in range(26)]
    shown = visible_labels(centres, [22.0] * 26, 3)
    assert shown[-1] and shown[0]
    kept = [c for c, v in zip(centres, shown) if v]
    assert all(b - a >= 25 for a, b in zip(kept, kept[1:]))


def test_search_reads_canonical_addresses_and_says_what_is_wrong() -> None:
    assert parse_query("L23.H3", 48, 25) == (["L23.H3"], "")
    assert parse_query(" l23.mlp ", 48, 25) == (["L23.mlp"], "")
    assert parse_query("Embed", 48, 25) == (["embed"], "")
    assert parse_query("L1", 2, 2) == (["L1.H0", "L1.H1", "L1.mlp"], "")
    assert parse_query("L48.H0", 48, 25)[1].startswith("no layer 48")
    assert parse_query("L3.H25", 48, 25)[1].startswith("no head 25")
    assert parse_query("L03.H1", 48, 25)[0] == [] and parse_query("head 3", 48, 25)[0] == []


def test_the_colour_scale_is_a_round_number_at_or_above_the_largest_value() -> None:
    assert nice_ceiling(1.7) == 2.0 and nice_ceiling(4.5) == 5.0 and nice_ceiling(0.23) == 0.25
    assert nice_ceiling(2.0) == 2.0 and nice_ceiling(0.0) == 1.0
