"""Label thinning shared by the head grid and the graph: the smallest nice stride that fits."""

from __future__ import annotations

from widgets.graph_layout import label_step
from widgets.ticks import label_stride


def test_label_stride_is_the_smallest_that_fits() -> None:
    assert label_stride(20, 15) == 1
    assert label_stride(10, 15) == 2
    assert label_stride(4, 15) == 5
    assert label_stride(1, 15) == 20


def test_graph_headers_thin_by_the_same_strides_with_a_margin() -> None:
    assert label_step(20, 17) == 1  # 17 + 3 px fits in 20
    assert label_step(20, 18) == 2
    assert label_step(7, 20) == 5  # every 3rd would fit; the views agree on 5
