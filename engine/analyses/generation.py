"""Analysis 'generation': what the model writes after the prompt, without and with the
prompt's interventions, side by side, streamed token by token (engine.generation).

Both continuations advance in lock step, and after each step a partial result is handed
over (job.emit), so the two columns fill together and a stop keeps what was written. The
result says where they first differ, and each token's probability and the alternatives."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import zip_longest

import numpy as np

from ..analysis import NO_JOB, Job, Prompt, register
from ..errors import PromptError
from ..generation import Sampling, Step, stream
from ..handle import as_handle


@dataclass(frozen=True)
class GenerationParams:
    n_new: int = 24
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0
    apply_to: str = "all"  # prompt | new | all
    stop_at_end: bool = True


@dataclass(frozen=True)
class Continuation:
    token_ids: np.ndarray  # [n]
    tokens: tuple[str, ...]  # [n] each token as it reads after the prompt (with its space), joined = text
    probs: np.ndarray  # [n] the model's probability of each chosen token
    top_tokens: tuple[tuple[str, ...], ...]  # [n][k] the likeliest tokens at each step
    top_probs: np.ndarray  # [n, k]

    @property
    def text(self) -> str:
        return "".join(self.tokens)


class _Column:
    """One continuation as it grows: the steps, and each token's piece of the text decoded
    after the prompt (so a word-level tokenizer's spaces and a byte-level one's merged
    characters come out as the model's tokenizer writes them)."""

    def __init__(self, handle, prompt_ids: np.ndarray) -> None:
        self.handle, self.steps, self.pieces = handle, [], []
        self.prompt_ids = [int(i) for i in prompt_ids]
        self.written = self._decode([])

    def _decode(self, new: list[int]) -> str:
        return self.handle.decode_text(self.prompt_ids + new)

    def add(self, step: Step) -> None:
        self.steps.append(step)
        text = self._decode([s.token for s in self.steps])
        grew = text.startswith(self.written)  # else a byte-level token split a character: show it alone
        piece = text[len(self.written):] if grew else self.handle.decode_tokens([step.token])[0]
        self.written = text if grew else self.written + piece
        self.pieces.append(piece)

    def continuation(self) -> Continuation:
        steps = self.steps
        k = len(steps[0].top_ids) if steps else 0
        return Continuation(
            token_ids=np.array([s.token for s in steps], dtype=np.int64), tokens=tuple(self.pieces),
            probs=np.array([s.prob for s in steps]),
            top_tokens=tuple(tuple(self.handle.decode_tokens(s.top_ids.tolist())) for s in steps),
            top_probs=np.array([s.top_probs for s in steps]).reshape(len(steps), k))


@dataclass(frozen=True)
class Generation:
    prompt: str
    plain: Continuation
    edited: Continuation | None  # None: no interventions, one column
    interventions: tuple[dict, ...] = ()  # what produced the edited column (to_dict of each)
    params: dict = field(default_factory=dict)
    complete: bool = True  # False while streaming

    @property
    def diverges_at(self) -> int | None:
        """The first step where the two columns chose different tokens (None: they agree so far)."""
        if self.edited is None:
            return None
        a, b = self.plain.token_ids, self.edited.token_ids
        n = min(len(a), len(b))
        differ = np.flatnonzero(a[:n] != b[:n])
        return int(differ[0]) if len(differ) else (n if len(a) != len(b) and self.complete else None)

    def to_json(self) -> dict:
        """The export: texts, tokens and their probabilities, and what made them."""
        def column(c: Continuation | None) -> dict | None:
            return None if c is None else {"text": c.text, "tokens": list(c.tokens), "probs": c.probs.round(6).tolist()}
        return {"prompt": self.prompt, "parameters": self.params, "interventions": list(self.interventions),
                "without_interventions": column(self.plain), "with_interventions": column(self.edited),
                "diverges_at": self.diverges_at}


class GenerationAnalysis:
    key = "generation"
    Params = GenerationParams
    version = 1

    def run(self, handle, inputs: Prompt, params: GenerationParams, job: Job = NO_JOB) -> Generation:
        handle = as_handle(handle)
        if not isinstance(inputs, Prompt) or not inputs.text.strip():
            raise PromptError("type a prompt to continue")
        p = params
        sampling = Sampling(p.n_new, p.temperature, p.top_p, p.seed, p.apply_to, p.stop_at_end)
        ids = handle.tokenize(inputs.text)
        edited = tuple(inputs.interventions)
        streams = [stream(handle, ids, (), sampling)] + ([stream(handle, ids, edited, sampling)] if edited else [])
        written = [_Column(handle, ids) for _ in streams]
        meta = {"interventions": tuple(i.to_dict() for i in edited),
                "params": {"n_new": p.n_new, "temperature": p.temperature, "top_p": p.top_p, "seed": p.seed,
                           "apply_to": p.apply_to}}

        def result(complete: bool) -> Generation:
            columns = [column.continuation() for column in written]
            return Generation(inputs.text, columns[0], columns[1] if edited else None, complete=complete, **meta)

        job.step(0, p.n_new)
        for n, steps in enumerate(zip_longest(*streams), start=1):
            for column, step in zip(written, steps):
                if step is not None:
                    column.add(step)
            if job.emit is not None and n < p.n_new:
                job.emit(self.key, result(False))
            job.step(n, p.n_new)
        return result(True)


register(GenerationAnalysis())
