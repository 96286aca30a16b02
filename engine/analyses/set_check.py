"""Analysis 'set_check': a prompt set read by the model's tokenizer, on the engine thread
(the UI never tokenises): per-row problems (corrupted prompt of another length, answers
that are not one token, words the tokenizer does not know) and the token counts."""

from __future__ import annotations

from dataclasses import dataclass

from ..analysis import NO_JOB, Job, register
from ..errors import EngineError
from ..handle import as_handle
from ..prompt_sets import Check, PromptSet, check


@dataclass(frozen=True)
class SetCheckParams:
    need_pairs: bool = True
    need_answers: bool = True


@dataclass(frozen=True)
class SetCheck:
    check: Check
    n: int
    shortest: int
    longest: int
    digest: str

    def summary(self) -> str:
        lengths = f"all {self.shortest} tokens" if self.shortest == self.longest else \
            f"{self.shortest}-{self.longest} tokens"
        problems = len(self.check.problems)
        return f"{self.n:,} prompts · {lengths} · {problems} problem{'s' if problems != 1 else ''}"


class SetCheckAnalysis:
    key = "set_check"
    Params = SetCheckParams
    version = 1

    def run(self, handle, inputs: PromptSet, params: SetCheckParams, job: Job = NO_JOB) -> SetCheck:
        handle = as_handle(handle)
        if not isinstance(inputs, PromptSet):
            raise EngineError("set check runs on a prompt set")
        counts: dict[str, int] = {}

        def count(text: str) -> int:
            if text not in counts:
                counts[text] = len(handle.tokenize(text))
            return counts[text]

        def one_token(answer: str) -> bool:
            try:
                handle.token_id(answer)
                return True
            except EngineError:
                return False

        def unknown(text: str):
            ids = handle.tokenize(text)
            return handle.unknown_words(text, ids)[1]

        job.step(0, 1)
        result = check(inputs, count, one_token, unknown, params.need_pairs, params.need_answers)
        lengths = [count(r.prompt) for r in inputs.rows]
        return SetCheck(result, len(inputs), min(lengths), max(lengths), inputs.digest)


register(SetCheckAnalysis())
