"""Analysis 'probes': linear probes at every layer, labels from a column of a prompt set.

For each layer's residual stream (after the block, at the last token or averaged over the
prompt) a logistic-regression probe and a difference-of-means probe are trained on one
split and scored on the other, beside a logistic probe trained on shuffled labels (the
control). The directions come back too: the app can steer along one or project it out,
the causal check on what the probe found."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..analysis import NO_JOB, Job, register
from ..errors import EngineError
from ..handle import as_handle
from ..probes import difference_of_means, logistic, split
from ..prompt_sets import PromptSet

MIN_PER_CLASS = 2


@dataclass(frozen=True)
class ProbeParams:
    column: str = "label"
    position: str = "last"  # last | mean
    test_share: float = 0.25
    seed: int = 0
    batch_tokens: int = 8192


@dataclass(frozen=True)
class Probes:
    components: tuple[str, ...]  # where each row was read: L0.resid_post, ...
    classes: tuple[str, ...]
    logistic: np.ndarray  # [L] held-out accuracy
    difference_of_means: np.ndarray  # [L]
    shuffled: np.ndarray  # [L] the control
    chance: float  # the held-out share of the most common class
    logistic_train: np.ndarray  # [L]
    directions: np.ndarray  # [L, d] difference-of-means, unit
    logistic_directions: np.ndarray  # [L, d]
    separations: np.ndarray  # [L] distance between the class means along each difference-of-means direction
    n_train: int
    n_test: int
    column: str

    def best_layer(self) -> int:
        return int(np.argmax(self.difference_of_means + self.logistic))


def labels_of(prompt_set: PromptSet, column: str) -> list[str]:
    if column == "label":
        return [r.label for r in prompt_set.rows]
    values = [dict(r.extra).get(column, "") for r in prompt_set.rows]
    if not any(values):
        raise EngineError(f"the set has no column '{column}'")
    return values


def residuals(handle, prompt_set: PromptSet, position: str, batch_tokens: int, job: Job) -> torch.Tensor:
    """[N, n_layers, d] the residual after each block, at the last token or the prompt's mean."""
    info = handle.info
    names = [f"blocks.{l}.hook_resid_post" for l in range(info.n_layers)]
    ids = [handle.tokenize(r.prompt) for r in prompt_set.rows]
    skip = len(handle.special_prefix)
    groups: dict[int, list[int]] = {}
    for i, row in enumerate(ids):
        groups.setdefault(len(row), []).append(i)
    out = torch.zeros(len(ids), info.n_layers, info.d_model, dtype=torch.float32)
    done = 0
    for length, rows in groups.items():
        per = max(1, batch_tokens // length)
        for start in range(0, len(rows), per):
            chunk = rows[start:start + per]
            cache = handle.forward(np.stack([ids[i] for i in chunk]), capture=names, logits_to_keep=1)
            stacked = torch.stack([cache[n].float() for n in names], dim=1)  # [B, L, S, d]
            out[chunk] = stacked[:, :, -1] if position == "last" or length <= skip else stacked[:, :, skip:].mean(2)
            done += len(chunk)
            job.step(done, len(ids))
    return out


class ProbeAnalysis:
    key = "probes"
    Params = ProbeParams
    version = 1

    def run(self, handle, inputs: PromptSet, params: ProbeParams, job: Job = NO_JOB) -> Probes:
        handle = as_handle(handle)
        if not isinstance(inputs, PromptSet):
            raise EngineError("probes are trained on a prompt set with labels")
        if params.position not in ("last", "mean") or not 0.05 <= params.test_share <= 0.9:
            raise EngineError("position is 'last' or 'mean', and the test share between 0.05 and 0.9")
        labels = labels_of(inputs, params.column)
        classes = tuple(sorted({v for v in labels if v != ""}))
        if len(classes) < 2:
            raise EngineError(f"column '{params.column}' needs at least two different labels")
        keep = [i for i, v in enumerate(labels) if v != ""]
        y = np.array([classes.index(labels[i]) for i in keep])
        counts = np.bincount(y, minlength=len(classes))
        if counts.min() < MIN_PER_CLASS:
            raise EngineError(f"every label needs at least {MIN_PER_CLASS} prompts "
                              f"('{classes[int(counts.argmin())]}' has {int(counts.min())})")
        job.step(0, len(inputs))
        x = residuals(handle, inputs, params.position, params.batch_tokens, job)[keep].numpy()
        train, test = split(len(y), params.test_share, params.seed)
        shuffled_y = np.random.default_rng(params.seed + 1).permutation(y)
        rows = []
        for layer in range(x.shape[1]):
            xl = x[:, layer]
            rows.append((logistic(xl, y, train, test), difference_of_means(xl, y, train, test),
                         logistic(xl, shuffled_y, train, test)))
        chance = float(np.bincount(y[test], minlength=len(classes)).max() / len(test))
        return Probes(
            components=tuple(f"L{l}.resid_post" for l in range(x.shape[1])), classes=classes,
            logistic=np.array([r[0].test_accuracy for r in rows]),
            difference_of_means=np.array([r[1].test_accuracy for r in rows]),
            shuffled=np.array([r[2].test_accuracy for r in rows]), chance=chance,
            logistic_train=np.array([r[0].train_accuracy for r in rows]),
            directions=np.stack([r[1].direction for r in rows]).astype(np.float32),
            logistic_directions=np.stack([r[0].direction for r in rows]).astype(np.float32),
            separations=np.array([r[1].separation for r in rows]),
            n_train=len(train), n_test=len(test), column=params.column)


register(ProbeAnalysis())
