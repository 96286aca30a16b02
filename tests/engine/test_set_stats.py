"""Set statistics (engine/set_stats.py) against direct numpy computations: the bootstrap
interval contains the mean and shrinks with more prompts, and the sign share is exact."""

from __future__ import annotations

import numpy as np

from engine.set_stats import spread


def test_spread_matches_numpy_and_the_interval_holds_the_mean() -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(loc=[[1.0, -0.5, 0.0]], scale=1.0, size=(400, 1, 3))
    s = spread(values, n_boot=2000, seed=1)
    np.testing.assert_allclose(s.mean, values.mean(0))
    np.testing.assert_allclose(s.std, values.std(0, ddof=1))
    assert np.all(s.ci_low <= s.mean) and np.all(s.mean <= s.ci_high)
    # a 95% interval of a mean is about ±1.96 standard errors
    np.testing.assert_allclose(s.ci_high - s.ci_low, 2 * 1.96 * s.std / np.sqrt(400), rtol=0.15)
    np.testing.assert_allclose(s.same_sign, (np.sign(values) == np.sign(values.mean(0))).mean(0))
    small = spread(values[:25], n_boot=2000, seed=1)
    assert np.all(small.view("ci_width") > s.view("ci_width"))


def test_one_prompt_has_no_spread() -> None:
    s = spread(np.array([[2.0, -1.0]]))
    assert s.n == 1 and np.all(s.std == 0) and np.all(s.ci_low == s.mean) and np.all(s.same_sign == 1)
