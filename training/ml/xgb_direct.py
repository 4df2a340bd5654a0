"""XGBoost predictions on a dense matrix by one call into libxgboost, without the per-call Python.

``Booster.inplace_predict`` is the fastest public way to score a numpy matrix, but for the one row
a serving request carries most of its time is Python around the C call: it checks the input's
type against a dozen formats, serialises its arguments and the array's interface to JSON, builds
a ctypes class per call and wraps the output. With the 400-tree model of ``bench/request_cost.py``
that is about 90 µs of Python around 65 µs of tree walking (thread time, one row).

``predict`` makes the call ``inplace_predict`` makes for a C-ordered float matrix
(``XGBoosterPredictFromDense``) with the arguments' JSON built once per booster, and hands it a
proxy matrix kept per thread. Without one, libxgboost builds a proxy per call, and building one
reads the CPU quota from cgroup files (three ``stat``, two ``open``/``read``/``close``): half the
cost of a one-row call (about 60 -> 33 µs, whatever the number of trees). It reaches into
``xgboost.core`` (``_LIB``, ``_check_call``), which is not public API, so a ``DensePredictor`` is
used only after it has given exactly ``inplace_predict``'s numbers on probe rows when it is built.
If it cannot be built or disagrees (another xgboost release changed something), ``predict`` uses
``inplace_predict`` for that booster from then on and logs why once.
"""

from __future__ import annotations

import ctypes
import json
import logging
import threading
import weakref
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

PROBE_ROWS = 16


class DensePredictor:
    """One booster and iteration range: P(make) (the booster's output) of dense float rows."""

    def __init__(self, booster: Any, iteration_range: tuple[int, int]) -> None:
        from xgboost import core

        # No reference to the booster itself: predictors live in a WeakKeyDictionary keyed by it, and a
        # value that held its key would keep every booster ever scored alive. ``predict``'s caller
        # holds the booster, so the handle is valid for the call.
        self.iteration_range = iteration_range
        self._call = core._LIB.XGBoosterPredictFromDense
        self._check = core._check_call
        self._handle = booster.handle
        self._args = json.dumps({
            "type": 0, "training": False, "iteration_begin": int(iteration_range[0]),
            "iteration_end": int(iteration_range[1]), "missing": float("nan"), "strict_shape": False,
            "cache_id": 0,
        }).encode()  # fmt: skip
        self._features = booster.num_features()
        self._local = threading.local()

    def _proxy(self) -> ctypes.c_void_p:
        """This thread's proxy matrix: the call points it at the input, so threads never share one."""
        proxy = getattr(self._local, "proxy", None)
        if proxy is None:
            proxy = self._local.proxy = _Proxy()
        return proxy.handle

    def __call__(self, features: np.ndarray) -> np.ndarray:
        matrix = np.ascontiguousarray(features)
        if matrix.dtype not in (np.float32, np.float64):
            matrix = matrix.astype(np.float32)
        rows, columns = matrix.shape
        if columns != self._features:
            raise ValueError(f"feature shape mismatch: the model takes {self._features} columns, got {columns}")
        interface = json.dumps({"data": (matrix.ctypes.data, True), "shape": (rows, columns), "strides": None,
                                "typestr": matrix.dtype.str, "version": 3}).encode()  # fmt: skip
        shape = ctypes.POINTER(ctypes.c_uint64)()
        dims = ctypes.c_uint64()
        output = ctypes.POINTER(ctypes.c_float)()
        self._check(self._call(self._handle, interface, self._args, self._proxy(), ctypes.byref(shape),
                               ctypes.byref(dims), ctypes.byref(output)))  # fmt: skip
        if dims.value != 1 or shape[0] != rows:
            raise RuntimeError(f"libxgboost answered shape {[shape[i] for i in range(dims.value)]} for {rows} rows")
        # The output lives in the booster's per-thread buffer: copied before anything else predicts.
        return np.ctypeslib.as_array(output, shape=(rows,)).astype(np.float64)


class _Proxy:
    """A libxgboost proxy matrix (``XGProxyDMatrixCreate``), freed with its owner."""

    def __init__(self) -> None:
        from xgboost import core

        self._free = core._LIB.XGDMatrixFree
        self.handle = ctypes.c_void_p()
        core._check_call(core._LIB.XGProxyDMatrixCreate(ctypes.byref(self.handle)))

    def __del__(self) -> None:
        if self.handle:
            self._free(self.handle)
            self.handle = ctypes.c_void_p()


_PREDICTORS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()  # DensePredictor or None
_UNBUILT = object()
_LOCK = threading.Lock()


def _probe(booster: Any) -> np.ndarray:
    rng = np.random.default_rng(0)
    rows = rng.normal(scale=10.0, size=(PROBE_ROWS, booster.num_features())).astype(np.float32)
    rows[0, :] = 0.0
    rows[1, ::3] = np.nan
    return rows


def _built(booster: Any, iteration_range: tuple[int, int]) -> DensePredictor | None:
    try:
        predictor = DensePredictor(booster, iteration_range)
        probe = _probe(booster)
        expected = np.asarray(booster.inplace_predict(probe, iteration_range=iteration_range), dtype=np.float64)
        got = predictor(probe)
    except Exception as error:  # any failure means: use the public API
        logger.warning("direct XGBoost prediction unavailable (%s: %s): inplace_predict is used",
                       type(error).__name__, error)
        return None
    if got.shape != expected.shape or not np.array_equal(got, expected):
        logger.warning("direct XGBoost prediction disagrees with inplace_predict on probe rows: "
                       "inplace_predict is used")
        return None
    return predictor


def predict(booster: Any, features: np.ndarray, *, iteration_range: tuple[int, int]) -> np.ndarray:
    """The booster's output for ``features`` (float64), as ``inplace_predict`` gives it."""
    predictor = _PREDICTORS.get(booster, _UNBUILT)
    if predictor is _UNBUILT or (predictor is not None and predictor.iteration_range != iteration_range):
        with _LOCK:
            predictor = _built(booster, iteration_range)
            _PREDICTORS[booster] = predictor
    if predictor is None:
        return np.asarray(booster.inplace_predict(features, iteration_range=iteration_range), dtype=np.float64)
    return predictor(features)
