"""Linear probes (engine/probes.py, analysis 'probes'): a planted linear feature is found by
both probes and its direction recovered, the shuffled-label control stays at chance, and on
the demo model the IOI answer (Mary or John) is read from the residual stream at the last
layer."""

from __future__ import annotations

import numpy as np
import pytest

from engine import Engine, EngineError
from engine.analysis import get, params_from_dict
from engine.probes import difference_of_means, logistic, split
from engine.prompt_sets import PromptSet, SetRow, from_template

NAMES = ["Mary", "John", "Anna", "Ruby", "Hugo", "James", "Jane", "Rose"]


def planted(n: int = 600, d: int = 32, seed: int = 0):
    rng = np.random.default_rng(seed)
    direction = rng.normal(size=d)
    direction /= np.linalg.norm(direction)
    y = rng.integers(0, 2, n)
    x = rng.normal(size=(n, d)) + np.outer(2.0 * y - 1.0, direction) * 1.5
    return x, y, direction


def test_a_planted_feature_is_found_and_the_control_stays_at_chance() -> None:
    x, y, direction = planted()
    train, test = split(len(y), 0.25, 0)
    for fit in (logistic(x, y, train, test), difference_of_means(x, y, train, test)):
        assert fit.test_accuracy > 0.9
        assert abs(float(fit.direction @ direction)) > 0.9  # the direction itself is recovered
    shuffled = np.random.default_rng(1).permutation(y)
    control = logistic(x, shuffled, train, test)
    assert abs(control.test_accuracy - 0.5) < 0.12


def test_a_split_is_disjoint_and_seeded() -> None:
    train, test = split(100, 0.2, 3)
    assert len(test) == 20 and not set(train) & set(test) and len(set(train) | set(test)) == 100
    assert np.array_equal(split(100, 0.2, 3)[1], test) and not np.array_equal(split(100, 0.2, 4)[1], test)


def answer_set() -> PromptSet:
    """IOI prompts whose answer (the indirect object) is Mary or John, the other name any other."""
    from training import demo_data

    return from_template("When {A} and {B} went to the {P} , {B} gave a {O} to",
                         {"A": ["Mary", "John"], "B": NAMES[2:], "P": demo_data.PLACES, "O": demo_data.OBJECTS},
                         label="{A}", limit=240, seed=0)


def test_the_demo_model_holds_the_answer_at_the_last_layer() -> None:
    """The label (which name the model will answer) is read from the last position's residual
    after the last block by both probes, far above the shuffled control."""
    engine = Engine(device="cpu")
    analysis = get("probes")
    result = analysis.run(engine.handle, answer_set(), params_from_dict(analysis.Params, {}))
    last = len(result.components) - 1
    assert result.classes == ("John", "Mary") and result.n_test == 60
    assert result.difference_of_means[last] >= 0.95 and result.logistic[last] >= 0.95
    assert result.shuffled[last] <= 0.7 and abs(result.chance - 0.5) < 0.15
    assert result.directions.shape == (len(result.components), 192)
    np.testing.assert_allclose(np.linalg.norm(result.directions, axis=1), 1.0, atol=1e-5)


def test_bad_labels_say_why() -> None:
    engine = Engine(device="cpu")
    analysis = get("probes")
    params = params_from_dict(analysis.Params, {})
    with pytest.raises(EngineError, match="at least two different labels"):
        analysis.run(engine.handle, PromptSet((SetRow("a", label="x"), SetRow("b", label="x"))), params)
    with pytest.raises(EngineError, match="at least 2 prompts"):
        analysis.run(engine.handle, PromptSet((SetRow("a", label="x"), SetRow("b", label="x"), SetRow("c", label="y"))),
                     params)
    with pytest.raises(EngineError, match="no column 'kind'"):
        analysis.run(engine.handle, PromptSet((SetRow("a", label="x"),)), params_from_dict(analysis.Params, {"column": "kind"}))
