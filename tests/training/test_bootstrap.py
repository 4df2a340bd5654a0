"""Game-level bootstrap intervals: the estimate, the pairing and the direction of a gain."""

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

from training.ml.bootstrap import paired_gain, score_interval


def _games(seed=1, games=300, shots=40):
    rng = np.random.default_rng(seed)
    game_ids = np.repeat([f"00{g:05d}" for g in range(games)], shots)
    skill = rng.normal(0, 1, len(game_ids))
    truth = 1 / (1 + np.exp(-skill))
    y = (rng.random(len(game_ids)) < truth).astype(int)
    return game_ids, y, truth


@pytest.mark.parametrize(("metric", "reference"), [
    ("log_loss", lambda y, p: log_loss(y, p)),
    ("brier", brier_score_loss),
    ("roc_auc", roc_auc_score),
    ("accuracy", lambda y, p: float(((p >= 0.5) == y).mean())),
])
def test_the_estimate_is_the_plain_score_and_lies_in_its_interval(metric, reference):
    game_ids, y, truth = _games()
    interval = score_interval(metric=metric, y_true=y, proba=truth, game_ids=game_ids, resamples=300)
    assert interval.estimate == pytest.approx(reference(y, truth), abs=1e-12)
    assert interval.low < interval.estimate < interval.high
    assert interval.games == 300


def test_a_better_model_has_a_positive_significant_gain_and_the_sign_follows_the_metric():
    game_ids, y, truth = _games()
    blurred = 0.5 + 0.3 * (truth - 0.5)  # the same ranking, worse probabilities
    for metric in ("log_loss", "brier"):
        gain = paired_gain(metric=metric, y_true=y, proba=truth, reference_proba=blurred, game_ids=game_ids)
        assert gain.estimate > 0, (metric, gain)
        assert gain.low > 0, (metric, gain)
        back = paired_gain(metric=metric, y_true=y, proba=blurred, reference_proba=truth, game_ids=game_ids)
        assert back.estimate == pytest.approx(-gain.estimate)
        assert back.high < 0


def test_a_model_against_itself_gains_exactly_nothing():
    game_ids, y, truth = _games()
    gain = paired_gain(metric="log_loss", y_true=y, proba=truth, reference_proba=truth, game_ids=game_ids)
    assert gain.estimate == gain.low == gain.high == 0.0
    assert not gain.excludes_zero()


def test_pairing_makes_the_interval_of_a_gain_narrower_than_unpaired_scores():
    game_ids, y, truth = _games()
    noisy = np.clip(truth + np.random.default_rng(5).normal(0, 0.05, len(truth)), 0.01, 0.99)
    gain = paired_gain(metric="log_loss", y_true=y, proba=truth, reference_proba=noisy, game_ids=game_ids)
    alone = score_interval(metric="log_loss", y_true=y, proba=truth, game_ids=game_ids)
    assert gain.high - gain.low < (alone.high - alone.low) / 2


def test_resampling_games_is_wider_than_resampling_shots_when_games_differ():
    rng = np.random.default_rng(3)
    games = 200
    game_effect = np.repeat(rng.normal(0, 1.5, games), 50)
    y = (rng.random(games * 50) < 1 / (1 + np.exp(-game_effect))).astype(int)
    p = np.full(len(y), y.mean())
    by_game = score_interval(metric="brier", y_true=y, proba=p, game_ids=np.repeat(np.arange(games), 50))
    by_shot = score_interval(metric="brier", y_true=y, proba=p, game_ids=np.arange(len(y)))
    assert by_game.high - by_game.low > 1.5 * (by_shot.high - by_shot.low)


def test_mismatched_lengths_and_unknown_metrics_are_refused():
    with pytest.raises(ValueError, match="same length"):
        paired_gain(metric="brier", y_true=[1, 0], proba=[0.5, 0.5], reference_proba=[0.5], game_ids=["a", "b"])
    with pytest.raises(ValueError, match="unknown metric"):
        score_interval(metric="ece", y_true=[1], proba=[0.5], game_ids=["a"])
