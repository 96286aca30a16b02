"""Statistics of one effect over the prompts of a set: mean, spread, a bootstrap interval
and how consistent its sign is. numpy only; seeded, so a session reproduces its intervals.

The bootstrap draws prompts with replacement as multinomial counts ([n_boot, N] @ values
[N, cells]), so it never materialises [n_boot, N, cells] (1,000 prompts x 1,000 draws x
270 heads would be a gigabyte)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Spread:
    mean: np.ndarray  # [...cells]
    std: np.ndarray  # sample standard deviation (ddof 1; 0 for one prompt)
    ci_low: np.ndarray  # bootstrap 2.5th percentile of the mean
    ci_high: np.ndarray  # 97.5th
    same_sign: np.ndarray  # fraction of prompts whose value has the mean's sign
    n: int

    def view(self, which: str) -> np.ndarray:
        """What a heatmap shows: 'mean', 'std', 'same_sign', 'ci_low', 'ci_high' or 'ci_width'."""
        if which == "ci_width":
            return self.ci_high - self.ci_low
        return getattr(self, which)


def spread(values: np.ndarray, n_boot: int = 1000, seed: int = 0, level: float = 0.95) -> Spread:
    """values [N, ...cells] -> Spread over the first axis (NaN cells stay NaN)."""
    values = np.asarray(values, dtype=np.float64)
    n = values.shape[0]
    flat = values.reshape(n, -1)
    mean = flat.mean(0)
    std = flat.std(0, ddof=1) if n > 1 else np.zeros_like(mean)
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(np.float64)  # [n_boot, N]
    boot = counts @ np.nan_to_num(flat) / n  # [n_boot, cells]
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(boot, [tail, 100 - tail], axis=0)
    sign = np.sign(mean)
    same = (np.sign(flat) == sign).mean(0)
    shape = values.shape[1:]
    nan = np.isnan(flat).any(0)
    low, high = np.where(nan, np.nan, low), np.where(nan, np.nan, high)
    return Spread(*(a.reshape(shape) for a in (mean, std, low, high, same)), n=n)
