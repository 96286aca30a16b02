"""Prompt sets (engine/prompt_sets.py): templates fill every slot combination with distinct
names, a corrupted template swaps or brings a third name, files in CSV / JSONL round-trip,
and checking a set against a tokenizer names each bad row."""

from __future__ import annotations

import json

import pytest

from engine import EngineError
from engine.prompt_sets import PromptSet, SetRow, check, from_file, from_prompts, from_template, write_jsonl

NAMES = ["Mary", "John", "Anna", "Bob"]
IOI = "When {A} and {B} went to the store , {B} gave a drink to"


def test_a_template_fills_every_pair_of_distinct_names() -> None:
    s = from_template(IOI, {"A": NAMES, "B": NAMES}, target=" {A}", foil=" {B}",
                      corrupted="When {A} and {B} went to the store , {A} gave a drink to")
    assert len(s) == 4 * 3  # ordered pairs, A != B
    row = next(r for r in s.rows if dict(r.extra) == {"A": "Mary", "B": "John"})
    assert row.prompt == "When Mary and John went to the store , John gave a drink to"
    assert row.corrupted == "When Mary and John went to the store , Mary gave a drink to"
    assert (row.target, row.foil) == (" Mary", " John")


def test_a_third_name_is_one_the_prompt_does_not_use_and_sampling_repeats() -> None:
    s = from_template(IOI, {"A": NAMES, "B": NAMES, "C": NAMES}, target="{A}", foil="{B}",
                      corrupted="When {A} and {C} went to the store , {C} gave a drink to", limit=5, seed=3)
    assert len(s) == 5
    for r in s.rows:
        a, b = dict(r.extra)["A"], dict(r.extra)["B"]
        c = r.corrupted.split(" and ")[1].split(" ")[0]
        assert c not in (a, b)
    again = from_template(IOI, {"A": NAMES, "B": NAMES, "C": NAMES}, target="{A}", foil="{B}",
                          corrupted="When {A} and {C} went to the store , {C} gave a drink to", limit=5, seed=3)
    assert again.digest == s.digest and from_template(IOI, {"A": NAMES, "B": NAMES}, limit=5, seed=4).digest != s.digest


def test_files_round_trip_and_bad_files_say_why(tmp_path) -> None:
    s = from_template(IOI, {"A": NAMES, "B": NAMES}, target="{A}", foil="{B}", label="{A}")
    write_jsonl(s, tmp_path / "set.jsonl")
    again = from_file(tmp_path / "set.jsonl")
    assert [r.to_dict() for r in again.rows] == [r.to_dict() for r in s.rows]
    (tmp_path / "set.csv").write_text("prompt,target,foil,label,kind\nThe cat sat,Mary,John,x,animal\n")
    row = from_file(tmp_path / "set.csv").rows[0]
    assert (row.prompt, row.target, row.label, dict(row.extra)) == ("The cat sat", "Mary", "x", {"kind": "animal"})
    for name, text, why in [("a.csv", "text\nhello\n", "'prompt'"), ("b.jsonl", '{"prompt": "x"}\nnot json\n', "line 2"),
                            ("c.jsonl", '{"prompt": ""}\n', "no prompt"), ("d.txt", "x", ".csv, .tsv or .jsonl"),
                            ("e.csv", "prompt\n", "at least one prompt")]:
        (tmp_path / name).write_text(text)
        with pytest.raises(EngineError, match=why):
            from_file(tmp_path / name)
    with pytest.raises(EngineError, match="no file"):
        from_file(tmp_path / "missing.csv")
    assert PromptSet.from_dict(json.loads(json.dumps(s.to_dict()))).digest == s.digest


def test_too_many_prompts_are_refused() -> None:
    with pytest.raises(EngineError, match="at most 10,000"):
        PromptSet(tuple(SetRow(f"p{i}") for i in range(10_001)))
    with pytest.raises(EngineError, match="no filler list for {B}"):
        from_template(IOI, {"A": NAMES})


def test_checking_names_each_bad_row() -> None:
    s = PromptSet((SetRow("a b c", "a b d", "x", "y"), SetRow("a b c", "a b", "xy", "y"), SetRow("a zz", "", "x", "y")))
    result = check(s, count=lambda t: len(t.split()), one_token=lambda t: len(t.strip()) == 1,
                   unknown=lambda t: [w for w in t.split() if w == "zz"], need_pairs=True)
    messages = {(p.row, p.message) for p in result.problems}
    assert (1, "the corrupted prompt has 2 tokens, the prompt 3") in messages
    assert (1, "'xy' is not one token") in messages
    assert (2, "no corrupted prompt") in messages and (2, "unknown words: zz") in messages
    assert not any(p.row == 0 for p in result.problems) and not result.aligned and not result.pairs_match
    assert from_prompts(["a", " ", "b"]).rows == (SetRow("a"), SetRow("b"))
