"""The architecture part of `microtome --smoke`: what tells a trimmed bundle apart from one
that lost code an adapter needs (exit code 3)."""

from __future__ import annotations

from app import smoke


def test_every_supported_architecture_builds_from_source() -> None:
    assert smoke.check_architectures() == []


def test_a_missing_architecture_is_reported(monkeypatch) -> None:
    monkeypatch.setattr(smoke, "supported_architectures", lambda: ["gpt2", "no_such_family"])
    monkeypatch.setattr(smoke, "TOKENIZER_CLASSES", ("GPT2Tokenizer", "NoSuchTokenizer"))
    broken = smoke.check_architectures()
    assert len(broken) == 2
    assert broken[0].startswith("no_such_family (") and broken[1] == "tokenizer NoSuchTokenizer"
