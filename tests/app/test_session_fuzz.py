"""Property-based fuzzing of the session loader: any text is either a valid Session or a
SessionError; nothing else is ever raised."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.session_file import SCHEMA_VERSION, Session, SessionError, parse_session

VALID = {
    "schema_version": SCHEMA_VERSION,
    "saved_by": "microtome test",
    "model": {"source": None, "weights_digest": "ab" * 32, "family": "GPT-2", "n_layers": 2, "n_heads": 8},
    "prompt": "When Mary and John went to the store , John gave a drink to",
    "corrupted": "",
    "target": "Mary",
    "foil": "John",
    "interventions": [{"kind": "ablation", "component": "L1.H2", "method": "zero", "positions": None,
                       "source_prompt": None},
                      {"kind": "scale", "component": "L0.mlp", "factor": 0.5, "positions": [3, 4]}],
    "view": {"focused_head": [1, 2], "focused_position": 4, "score_key": "induction", "window_state": ""},
    "results": {"device": "cpu", "tokens": ["a", "b"], "top_tokens": ["Mary"], "top_probs": [0.9],
                "logit_diff": 3.0, "target_prob": 0.9},
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20)


def load_or_reject(text: str) -> Session | None:
    try:
        return parse_session(text)
    except SessionError:
        return None


def test_the_valid_example_loads() -> None:
    session = parse_session(json.dumps(VALID))
    assert session.intervention_objects()[1].factor == 0.5


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.text(max_size=200))
def test_random_text_is_rejected_cleanly(text: str) -> None:
    load_or_reject(text)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(path=st.lists(st.sampled_from(["model", "view", "results", "interventions", 0, 1, "component", "factor",
                                      "n_layers", "focused_head", "top_probs", "schema_version", "prompt"]),
                     min_size=1, max_size=3),
       value=json_values, drop=st.booleans())
def test_mutated_files_load_or_are_rejected_cleanly(path, value, drop) -> None:
    data = json.loads(json.dumps(VALID))
    node = data
    for key in path[:-1]:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            break
    last = path[-1]
    try:
        if drop:
            del node[last]
        else:
            node[last] = value
    except (KeyError, IndexError, TypeError):
        pass  # the path does not exist in this file: the unmutated file is still a valid input
    session = load_or_reject(json.dumps(data, allow_nan=True))
    if session is not None:  # whatever loads is a usable, consistent session
        session.intervention_objects()
        assert session.schema_version == SCHEMA_VERSION
