"""Analyses 'steering_vector' (make a vector) and 'steering_sweep' (what its strength does).

steering_vector: from contrast pairs (mean residual difference, engine.steering), from one
pair, from a dictionary feature's decoder row, or from a file. steering_sweep: the prompt's
next-token numbers (logit difference, P(target), the log-probability of a word list, the
top token) at each strength of one Steer, with the prompt's other interventions kept, so
the user sees where the behaviour flips."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..analysis import NO_JOB, Job, Prompt, register
from ..errors import EngineError, InterventionError
from ..handle import as_handle
from ..interventions import Steer, intervention_from_dict
from ..live import edits_for
from ..steering import contrast_vector, residual_at, vector_from_file

MAX_PAIRS = 1000
MAX_STRENGTHS = 101


@dataclass(frozen=True)
class VectorParams:
    component: str = "L0.resid_post"
    positives: tuple = ()  # prompts with the behaviour
    negatives: tuple = ()  # the same number without it
    position: str = "last"  # last | mean
    file: str = ""  # .safetensors / .npy instead of pairs
    feature_folder: str = ""  # a dictionary: its feature's decoder row instead of pairs
    feature: int = -1


@dataclass(frozen=True)
class SteeringVector:
    component: str
    vector: np.ndarray  # [d_model]
    source: str  # what it was made from, in words
    norm: float
    typical_norm: float  # mean norm of the residual there (on the pairs, else on the prompt; 0: unknown): a scale for strength

    def strength_bound(self) -> float:
        """A slider range ±bound in which the vector moves the residual by up to about twice its size."""
        if self.norm <= 0 or self.typical_norm <= 0:
            return 10.0
        raw = 2 * self.typical_norm / self.norm
        return float(min(max(1.0, float(f"{raw:.1g}")), 1e4))


class SteeringVectorAnalysis:
    key = "steering_vector"
    Params = VectorParams
    version = 1

    def run(self, handle, inputs, params: VectorParams, job: Job = NO_JOB) -> SteeringVector:
        handle = as_handle(handle)
        p = params
        d_model = handle.info.d_model
        typical = 0.0
        if p.file:
            vector, source = vector_from_file(p.file, d_model), f"file {p.file.rsplit('/', 1)[-1]}"
        elif p.feature_folder:
            vector, source = self._feature_row(handle, p)
        else:
            positives, negatives = [str(t) for t in p.positives], [str(t) for t in p.negatives]
            pairs = [(a, b) for a, b in zip(positives, negatives) if a.strip() and b.strip()]
            if len(positives) != len(negatives) or not pairs:
                raise EngineError("give as many prompts without the behaviour as with it (one pair at least)")
            if len(pairs) > MAX_PAIRS:
                raise EngineError(f"at most {MAX_PAIRS} pairs")
            job.step(0, 1)
            vector = contrast_vector(handle, pairs, p.component, p.position)
            typical = float(residual_at(handle, [a for a, _ in pairs[:16]], p.component, p.position).norm(dim=-1).mean())
            source = (f"the difference of two prompts at {p.component}" if len(pairs) == 1 else
                      f"{len(pairs)} contrast pairs at {p.component} ({p.position} token)")
        if not typical and isinstance(inputs, Prompt) and inputs.text.strip():  # the scale of the prompt's residual
            typical = float(residual_at(handle, [inputs.text], p.component, "last").norm(dim=-1).mean())
        return SteeringVector(p.component, vector.astype(np.float32), source, float(np.linalg.norm(vector)), typical)

    @staticmethod
    def _feature_row(handle, p: VectorParams) -> tuple[np.ndarray, str]:
        from ..dictionaries.fit import fits
        from ..dictionaries.open_cache import open_dictionary

        d = open_dictionary(p.feature_folder)
        fits(d, handle)
        if not 0 <= p.feature < d.d_sae:
            raise EngineError(f"the dictionary has {d.d_sae} features (0..{d.d_sae - 1})")
        return d.W_dec[p.feature].float().numpy(), f"feature #{p.feature}'s decoder row ({d.name})"


@dataclass(frozen=True)
class SweepParams:
    steer: dict | None = None  # Steer.to_dict(); its strength is replaced by each of `strengths`
    strengths: tuple = (-8.0, -4.0, -2.0, -1.0, 0.0, 1.0, 2.0, 4.0, 8.0)
    words: tuple = ()  # a word list: log P(next token is one of them)


@dataclass(frozen=True)
class SteeringSweep:
    strengths: np.ndarray  # [n]
    logit_diff: np.ndarray | None  # [n] target - foil
    target_prob: np.ndarray | None  # [n]
    words_logprob: np.ndarray | None  # [n] log sum of the words' probabilities
    top_tokens: tuple[str, ...]  # [n] the prediction at each strength
    component: str
    source: str
    words: tuple[str, ...] = ()

    def flips_at(self) -> float | None:
        """The first strength (in the order swept) where the logit difference changes sign."""
        if self.logit_diff is None:
            return None
        sign = np.sign(self.logit_diff)
        change = np.flatnonzero(sign[1:] != sign[:-1])
        return float(self.strengths[change[0] + 1]) if len(change) else None


def _word_id(handle, word: str) -> int:
    """A tracked word as one token: as typed, else with the leading space a word inside text
    has (' awful' for BPE models); otherwise the message names the word."""
    try:
        return handle.token_id(word)
    except EngineError:
        if word.startswith(" "):
            raise
        return handle.token_id(" " + word)


class SteeringSweepAnalysis:
    key = "steering_sweep"
    Params = SweepParams
    version = 1

    def run(self, handle, inputs: Prompt, params: SweepParams, job: Job = NO_JOB) -> SteeringSweep:
        handle = as_handle(handle)
        steer = intervention_from_dict(params.steer) if params.steer else None
        if not isinstance(steer, Steer):
            raise InterventionError("a sweep needs a steering vector (add one first)")
        strengths = np.array(sorted({float(s) for s in params.strengths}))
        if not 0 < len(strengths) <= MAX_STRENGTHS:
            raise EngineError(f"sweep 1..{MAX_STRENGTHS} strengths")
        ids = handle.tokenize(inputs.text)
        target = handle.token_id(inputs.target) if inputs.target else None
        foil = handle.token_id(inputs.foil) if inputs.foil else None
        words = tuple(str(w) for w in params.words if str(w).strip())
        word_ids = sorted({_word_id(handle, w) for w in words})
        others = tuple(i for i in inputs.interventions if not (isinstance(i, Steer) and i.component == steer.component
                                                               and i.vector == steer.vector))
        rows = []
        for n, strength in enumerate(strengths):
            job.step(n, len(strengths))
            chosen = others + (steer.with_strength(strength),)
            logits = handle.forward(ids, edits_for(handle, chosen, len(ids)), logits_to_keep=1).logits[0, -1].float()
            rows.append(torch.log_softmax(logits, -1))
        logp = torch.stack(rows)  # [n, V]
        return SteeringSweep(
            strengths=strengths,
            logit_diff=(logp[:, target] - logp[:, foil]).numpy() if target is not None and foil is not None else None,
            target_prob=logp[:, target].exp().numpy() if target is not None else None,
            words_logprob=torch.logsumexp(logp[:, word_ids], -1).numpy() if word_ids else None,
            top_tokens=tuple(handle.decode_tokens(logp.argmax(-1).tolist())), component=steer.component,
            source=steer.source, words=words)


register(SteeringVectorAnalysis())
register(SteeringSweepAnalysis())
