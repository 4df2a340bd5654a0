"""The model card builder: plain facts in, a card dict out, Markdown and HTML renderings (no I/O)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from tests.training.factories import shots_frame
from training.ml.bootstrap import score_interval
from training.ml.card import (
    POOR_ECE,
    calibration_by_family,
    card_build,
    card_html,
    card_markdown,
    holdout_evaluation,
)

GENERATED = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def holdout() -> pd.DataFrame:
    return shots_frame(players=20, days=40, shots_per_day=50, seed=9)


def honest_proba(frame: pd.DataFrame) -> np.ndarray:
    """The generator's own make rate by distance (roughly calibrated, no player skill)."""
    return 1 / (1 + np.exp(-(1.0 - 0.09 * frame["distance_ft"].to_numpy())))


def full_card(**overrides):
    facts = {
        "version": 7, "algorithm": "xgboost", "generated_at": GENERATED, "run_id": "abc123", "source": "warehouse shots",
        "fingerprint": "f00d", "seasons": ["2023-24"], "features": ["distance_ft", "is_three"],
        "slices": [{"name": "train", "rows": 5000, "first_date": "2023-10-24", "last_date": "2024-01-10"},
                {"name": "holdout (test)", "rows": 1200, "first_date": "2024-01-11", "last_date": "2024-02-01"}],
        "evaluation": {"rows": 1200, "games": 40, "confidence": 0.95, "first_date": "2024-01-11",
                    "last_date": "2024-02-01", "made_rate": 0.46,
                    "scores": [{"metric": "log_loss", "estimate": 0.651, "low": 0.64, "high": 0.662, "resamples": 1000}],
                    "calibration": [{"group": "shot type", "family": "3PT", "shots": 400, "predicted": 0.36,
                                     "observed": 0.35, "ece": 0.01}]},
        "promotions": [{"when": "2024-02-02T10:00", "kind": "Pipeline comparison", "role": "challenger",
                     "other_version": 6, "promoted": True, "reason": "beats v6", "triggered_by": "pipeline run #3",
                     "metric": "log_loss", "challenger_score": 0.651, "champion_score": 0.66,
                     "gain_low": 0.001, "gain_high": 0.012, "confidence": 0.95}],
    }  # fmt: skip
    facts.update(overrides)
    return card_build(**facts)


def test_holdout_evaluation_uses_the_game_level_bootstrap_for_every_metric(holdout):
    proba = honest_proba(holdout)
    evaluation = holdout_evaluation(frame=holdout, proba=proba, resamples=200)

    assert evaluation["rows"] == len(holdout)
    assert evaluation["games"] == holdout["game_id"].nunique() == 40
    assert [s["metric"] for s in evaluation["scores"]] == ["log_loss", "brier", "roc_auc", "accuracy"]
    direct = score_interval(metric="brier", y_true=holdout["made"], proba=proba, game_ids=holdout["game_id"],
                            resamples=200)
    brier = next(s for s in evaluation["scores"] if s["metric"] == "brier")
    assert brier["estimate"] == pytest.approx(direct.estimate, abs=1e-5)
    assert (brier["low"], brier["high"]) == (pytest.approx(direct.low, abs=1e-5), pytest.approx(direct.high, abs=1e-5))
    for score in evaluation["scores"]:
        assert score["low"] < score["estimate"] < score["high"], score


def test_calibration_by_family_splits_by_shot_type_and_by_range(holdout):
    proba = honest_proba(holdout)
    rows = calibration_by_family(frame=holdout, proba=proba)

    by_type = {r["family"]: r for r in rows if r["group"] == "shot type"}
    by_range = {r["family"]: r for r in rows if r["group"] == "range"}
    assert set(by_type) == {"2PT", "3PT"}
    assert set(by_range) == {"close 2PT (< 10 ft)", "mid-range 2PT", "3PT"}
    assert sum(r["shots"] for r in by_type.values()) == len(holdout)
    assert sum(r["shots"] for r in by_range.values()) == len(holdout)
    threes = holdout["shot_type"] == "3PT"
    assert by_type["3PT"]["observed"] == pytest.approx(holdout.loc[threes, "made"].mean(), abs=1e-4)
    assert by_type["3PT"]["predicted"] == pytest.approx(proba[threes.to_numpy()].mean(), abs=1e-4)
    assert by_range["close 2PT (< 10 ft)"]["observed"] > by_range["3PT"]["observed"]


def test_a_miscalibrated_family_is_named_in_the_known_limits(holdout):
    proba = honest_proba(holdout)
    proba[(holdout["shot_type"] == "3PT").to_numpy()] = 0.9  # wildly optimistic on threes only
    card = full_card(evaluation=holdout_evaluation(frame=holdout, proba=proba, resamples=100))

    poor = [limit for limit in card["limits"] if limit.startswith("Calibration is poor")]
    assert len([limit for limit in poor if "on 3PT shots" in limit]) == 1  # a family of both groupings, once
    assert not any("close 2PT" in limit for limit in poor)
    three = next(r for r in card["holdout"]["calibration"] if r["family"] == "3PT")
    assert three["ece"] > POOR_ECE


def test_the_card_holds_every_section_and_both_renderings_show_them():
    card = full_card()

    assert card["data"]["window"] == ["2023-10-24", "2024-02-01"]
    assert card["features"] == ["distance_ft", "is_three"]
    markdown, html = card_markdown(card), card_html(card)
    for text in (markdown, html):
        assert "Model card: v7 (xgboost)" in text
        assert "2023-10-24 to 2024-02-01" in text
        assert "0.6510" in text
        assert "0.6400 to 0.6620" in text
        assert "promoted over v6" in text
        assert "gain 95% interval 0.0010 to 0.0120" in text
        assert "Walk-forward evaluation" in text
        assert "Not run for this version." in text
        assert "No drift report" in text
    assert "| Log loss | 0.6510 | 0.6400 to 0.6620 | lower is better |" in markdown
    assert html.startswith("<!doctype html>")


def test_missing_parts_render_as_not_available_and_become_limits():
    card = card_build(version=3, algorithm="random_forest", generated_at=GENERATED)

    assert card["holdout"] is None
    assert card["drift"] is None
    assert card["walkforward"] is None
    assert card["promotions"] == []
    assert card["data"]["window"] is None
    limits = " ".join(card["limits"])
    assert "seasons behind the training data were not recorded" in limits
    assert "No holdout evaluation" in limits
    assert "No walk-forward evaluation" in limits
    markdown = card_markdown(card)
    assert "Window: not recorded" in markdown
    assert "Not available: the holdout could not be scored" in markdown
    assert "No promotion decision about this version yet." in markdown
    assert "Features\n\nNot recorded." in markdown


def test_walkforward_and_drift_are_rendered_when_present():
    card = full_card(walkforward={"folds": 4, "mean_log_loss": 0.655, "worst_fold": "2024-01"},
                     drift={"share_drifted": 0.25, "dataset_drift": True, "target_drift": False,
                            "drifted_columns": ["distance_ft"], "reference": {"rows": 900}, "current": {"rows": 300},
                            "against_version": 6})  # fmt: skip
    markdown = card_markdown(card)

    assert "- folds: 4" in markdown
    assert "- mean log loss: 0.6550" in markdown
    assert "- worst fold: 2024-01" in markdown
    assert "(v6): 25.0% of inputs drifted; dataset drift yes; target drift no" in markdown
    assert "Drifted inputs: distance_ft" in markdown
    assert any("drifted from the previous champion's training data (distance_ft)" in x for x in card["limits"])
    assert not any("No walk-forward" in x for x in card["limits"])


def test_a_small_holdout_is_a_known_limit():
    evaluation = {"rows": 300, "games": 8, "confidence": 0.95, "scores": [], "calibration": []}
    card = full_card(evaluation=evaluation)
    assert any(limit.startswith("Small holdout: 8 games") for limit in card["limits"])
    assert not any(limit.startswith("Small holdout") for limit in full_card()["limits"])  # 40 games


def test_html_escapes_everything_that_comes_from_users():
    hostile = '<script>alert("x")</script> & "quoted"'
    card = full_card(source=hostile, features=["<b>f</b>"],
                     promotions=[{"when": "2024-02-02T10:00", "kind": "Manual promotion", "role": "challenger",
                                  "other_version": None, "promoted": True, "reason": hostile,
                                  "triggered_by": "<img src=x onerror=alert(1)>"}])  # fmt: skip
    html = card_html(card)

    assert "<script>" not in html
    assert "<img" not in html
    assert "<b>f</b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;quoted&quot;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "promoted (first champion)" in html


def test_markdown_table_cells_cannot_be_broken_by_pipes_or_newlines():
    card = full_card(promotions=[{"when": "2024-02-02T10:00", "kind": "Manual promotion", "role": "replaced",
                                  "other_version": 9, "promoted": True, "reason": "a | b\nc",
                                  "triggered_by": "ops"}])  # fmt: skip
    markdown = card_markdown(card)
    row = next(line for line in markdown.splitlines() if "replaced as champion by v9" in line)
    assert "a \\| b c" in row
    assert row.count(" | ") == 5  # six cells, their separators only
