"""Linear probes: logistic regression (softmax for more than two classes, L2-regularised,
fitted with L-BFGS) and a difference-of-means probe, each with held-out accuracy, and a
shuffled-label control trained the same way (it should sit at chance: a probe that beats
its control by little has learnt the split, not the model).

The difference-of-means probe classifies by the nearest class mean along the directions
between them: for two classes, the direction mean(1) - mean(0), thresholded halfway. Its
direction is the one steering and ablation use (Marks & Tegmark 2023 found it the more
causal of the two)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class ProbeFit:
    train_accuracy: float
    test_accuracy: float
    direction: np.ndarray  # [d] unit vector (two classes: towards class 1; more: the first class's weight)
    separation: float = 0.0  # distance between the class means along it (a natural steering strength)


def split(n: int, test_share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    n_test = max(1, int(round(n * test_share)))
    return order[n_test:], order[:n_test]


def _standardise(x_train: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    mean, std = x_train.mean(0), x_train.std(0).clamp_min(1e-6)
    return (x - mean) / std


def logistic(x: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray, l2: float = 1e-2,
             steps: int = 100) -> ProbeFit:
    """x [N, d], y [N] int classes 0..K-1."""
    X = torch.as_tensor(x, dtype=torch.float64)
    Y = torch.as_tensor(y, dtype=torch.long)
    k = int(Y.max()) + 1
    Z = _standardise(X[train], X)
    w = torch.zeros(Z.shape[1], k, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(k, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=steps, line_search_fn="strong_wolfe")
    tr = torch.as_tensor(train)

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(Z[tr] @ w + b, Y[tr]) + l2 * (w ** 2).sum()
        loss.backward()
        return loss
    opt.step(closure)
    with torch.no_grad():
        pred = (Z @ w + b).argmax(-1)
        scale = X[train].std(0).clamp_min(1e-6)
        raw = (w[:, 1] - w[:, 0]) / scale if k == 2 else w[:, 0] / scale  # back in the model's coordinates
    return ProbeFit(_accuracy(pred, Y, train), _accuracy(pred, Y, test), (raw / raw.norm()).numpy())


def difference_of_means(x: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray) -> ProbeFit:
    X = torch.as_tensor(x, dtype=torch.float64)
    Y = torch.as_tensor(y, dtype=torch.long)
    k = int(Y.max()) + 1
    means = torch.stack([X[train][Y[train] == c].mean(0) if (Y[train] == c).any() else torch.zeros(X.shape[1],
                                                                                                     dtype=X.dtype)
                         for c in range(k)])
    if k == 2:
        direction = means[1] - means[0]
        threshold = (means[0] + means[1]) @ direction / 2
        pred = (X @ direction > threshold).long()
    else:
        pred = torch.cdist(X, means).argmin(-1)
        direction = means[0] - means[1:].mean(0)
    unit = direction / direction.norm().clamp_min(1e-12)
    return ProbeFit(_accuracy(pred, Y, train), _accuracy(pred, Y, test), unit.numpy(),
                    float((means[1] - means[0]) @ unit) if k == 2 else float(direction.norm()))


def _accuracy(pred: torch.Tensor, y: torch.Tensor, rows: np.ndarray) -> float:
    rows_t = torch.as_tensor(rows)
    return float((pred[rows_t] == y[rows_t]).double().mean())
