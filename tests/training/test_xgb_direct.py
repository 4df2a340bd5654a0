"""The direct XGBoost call gives inplace_predict's numbers, or is not used."""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np
import pytest
from xgboost import XGBClassifier

from training.ml import xgb_direct


@pytest.fixture(scope="module")
def booster():
    rng = np.random.default_rng(3)
    features = rng.normal(size=(2_000, 12)).astype(np.float32)
    features[rng.random(features.shape) < 0.05] = np.nan
    labels = (features[:, 0] + rng.normal(size=2_000) > 0).astype(int)
    model = XGBClassifier(n_estimators=60, max_depth=4, n_jobs=1).fit(features, labels)
    return model.get_booster()


def rows(n: int, dtype: type[np.floating] = np.float32, seed: int = 5) -> np.ndarray:
    matrix: np.ndarray = np.random.default_rng(seed).normal(size=(n, 12)).astype(dtype)
    matrix[::4, 2] = np.nan
    return matrix


@pytest.mark.parametrize("n", [1, 7, 500])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("iteration_range", [(0, 0), (0, 25)])
def test_the_direct_call_gives_exactly_inplace_predicts_numbers(booster, n, dtype, iteration_range):
    matrix = rows(n, dtype)
    expected = booster.inplace_predict(matrix, iteration_range=iteration_range)
    got = xgb_direct.predict(booster, matrix, iteration_range=iteration_range)
    assert got.dtype == np.float64
    assert got.shape == (n,)
    np.testing.assert_array_equal(got, np.asarray(expected, dtype=np.float64))
    assert isinstance(xgb_direct._PREDICTORS[booster], xgb_direct.DensePredictor)


def test_a_column_slice_is_read_as_the_slice(booster):
    wide = rows(40, seed=9)
    both = np.concatenate([wide, wide], axis=1)[:, 12:]  # not C-ordered: copied first
    np.testing.assert_array_equal(xgb_direct.predict(booster, both, iteration_range=(0, 0)),
                                  booster.inplace_predict(np.ascontiguousarray(both)).astype(np.float64))


def test_a_matrix_of_the_wrong_width_is_refused_by_name(booster):
    with pytest.raises(ValueError, match="12 columns, got 11"):
        xgb_direct.predict(booster, rows(3)[:, :11], iteration_range=(0, 0))


def test_threads_each_get_their_own_rows(booster):
    matrices = [rows(1 + i % 3, seed=i) for i in range(8)]
    expected = [booster.inplace_predict(m).astype(np.float64) for m in matrices]
    failures: list[int] = []

    def work(i: int) -> None:
        for _ in range(300):
            if not np.array_equal(xgb_direct.predict(booster, matrices[i], iteration_range=(0, 0)), expected[i]):
                failures.append(i)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_a_predictor_that_disagrees_is_never_used(booster, monkeypatch, caplog):
    real_call = xgb_direct.DensePredictor.__call__
    monkeypatch.setattr(xgb_direct.DensePredictor, "__call__", lambda self, m: real_call(self, m) + 1e-7)
    xgb_direct._PREDICTORS.pop(booster, None)
    matrix = rows(5)
    with caplog.at_level(logging.WARNING, logger="training.ml.xgb_direct"):
        got = xgb_direct.predict(booster, matrix, iteration_range=(0, 0))
    np.testing.assert_array_equal(got, booster.inplace_predict(matrix).astype(np.float64))
    assert xgb_direct._PREDICTORS[booster] is None
    assert "disagrees with inplace_predict" in caplog.text
    xgb_direct._PREDICTORS.pop(booster, None)


def test_a_library_without_the_private_call_falls_back_to_the_public_one(booster, monkeypatch, caplog):
    def renamed(self, matrix):
        raise AttributeError("module 'xgboost.core' has no attribute '_LIB'")

    monkeypatch.setattr(xgb_direct.DensePredictor, "__call__", renamed)
    xgb_direct._PREDICTORS.pop(booster, None)
    matrix = rows(5)
    with caplog.at_level(logging.WARNING, logger="training.ml.xgb_direct"):
        got = xgb_direct.predict(booster, matrix, iteration_range=(0, 0))
    np.testing.assert_array_equal(got, booster.inplace_predict(matrix).astype(np.float64))
    assert "direct XGBoost prediction unavailable (AttributeError" in caplog.text
    xgb_direct._PREDICTORS.pop(booster, None)


def test_a_booster_that_is_dropped_takes_its_predictor_with_it() -> None:
    import gc
    import weakref

    rng = np.random.default_rng(8)
    model = XGBClassifier(n_estimators=5, max_depth=2, n_jobs=1).fit(rng.normal(size=(200, 12)), rng.random(200) < 0.5)
    booster = model.get_booster()
    xgb_direct.predict(booster, rows(2), iteration_range=(0, 0))
    assert booster in xgb_direct._PREDICTORS
    gone = weakref.ref(booster)
    del model, booster
    gc.collect()
    assert gone() is None


def test_the_reused_proxy_never_answers_with_an_earlier_calls_numbers(booster):
    # One proxy per thread serves every call: each call must score its own rows, whatever came before.
    sizes = [1, 500, 1, 3, 1, 1, 64, 1]
    for index, n in enumerate(sizes):
        matrix = rows(n, seed=100 + index)
        np.testing.assert_array_equal(xgb_direct.predict(booster, matrix, iteration_range=(0, 0)),
                                      booster.inplace_predict(matrix).astype(np.float64))


def test_each_thread_keeps_one_proxy_of_its_own(booster):
    xgb_direct.predict(booster, rows(1), iteration_range=(0, 0))
    predictor = xgb_direct._PREDICTORS[booster]
    mine = predictor._proxy().value
    assert mine
    assert predictor._proxy().value == mine
    theirs: list[int | None] = []
    worker = threading.Thread(target=lambda: theirs.append(predictor._proxy().value))
    worker.start()
    worker.join()
    assert theirs[0]
    assert theirs[0] != mine


def test_a_proxy_is_freed_with_its_owner():
    freed: list[int] = []
    proxy = xgb_direct._Proxy()
    handle = proxy.handle.value
    real_free = proxy._free

    def free(h: Any) -> int:
        freed.append(h.value)
        return int(real_free(h))

    proxy._free = free  # type: ignore[assignment]
    del proxy
    assert freed == [handle]
