"""Hyper-parameter choice on the validation part only: a small grid, fitted on train, judged on validation.

The protocol (Dacrema et al. 2019): every grid point is fitted on `train` and ranks each playlist's validation
tracks with its train tracks as context; the best point is then refitted on train ∪ validation. The test part is
never an argument here, so selection cannot read it. Grids are meant to be small (≤ 6 points): each point is a
full fit.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from src.evaluation.ranking import ranking_metrics, targets_of
from src.recsys.base import Recommender
from src.recsys.item_item import merge

log = logging.getLogger(__name__)


def metric_depth(metric: str) -> int:
    """The ranking depth a metric needs: `recall@100` → 100, `ndcg@500` → 500."""
    name, _, depth = metric.partition("@")
    if name not in ("recall", "ndcg") or not depth.isdigit() or int(depth) <= 0:
        raise ValueError(f"tuning metric {metric!r}: expected recall@K or ndcg@K (e.g. recall@100)")
    return int(depth)


def rank(model: Recommender, context: sp.csr_matrix, depth: int, batch_size: int = 1024) -> np.ndarray:
    """Top-`depth` item indices per context row (its own items excluded), through `recommend_batch` in batches."""
    parts = [
        model.recommend_batch(context[start : start + batch_size], depth)[0]
        for start in range(0, context.shape[0], batch_size)
    ]
    return np.vstack(parts) if parts else np.empty((0, depth), np.int64)


def grid_points(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, in the grid's order (the first best point wins ties)."""
    names = list(grid)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*(grid[n] for n in names))]


def validation_score(
    model: Recommender, train: sp.csr_matrix, val: sp.csr_matrix, depth: int, batch_size: int = 1024
) -> dict[str, float]:
    """recall@depth, ndcg@depth and r_precision of a fitted model continuing train rows into val rows."""
    users = np.flatnonzero(np.diff(sp.csr_matrix(val).indptr) > 0)
    ranked = rank(model, sp.csr_matrix(train)[users], depth, batch_size)
    return ranking_metrics(ranked, targets_of(sp.csr_matrix(val), users), ks=(depth,), ndcg_k=depth)


def tune(
    make: Callable[[dict[str, Any]], Recommender],
    grid: Mapping[str, Sequence[Any]],
    train: sp.csr_matrix,
    items: pd.DataFrame,
    val: sp.csr_matrix,
    metric: str = "recall@100",
    batch_size: int = 1024,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Fit `make(params)` on `train` for each grid point and score it on `val`; return the best params and the
    table of all points (one row each: params, validation metrics, fit seconds)."""
    depth = metric_depth(metric)
    points = grid_points(grid)
    if not points:
        raise ValueError("tuning grid is empty")
    rows = []
    for params in points:
        model = make(dict(params))
        started = time.perf_counter()
        model.fit(train, items)
        fit_s = time.perf_counter() - started
        scores = validation_score(model, train, val, depth, batch_size)
        rows.append({**params, **{f"val_{k}": v for k, v in scores.items()}, "fit_seconds": fit_s})
        log.info("tune %s %s: val %s %.4f (fit %.1fs)", model.name, params, metric, scores[metric], fit_s)
    table = pd.DataFrame(rows)
    best = int(np.nanargmax(table[f"val_{metric}"].to_numpy()))  # first of equals: grid order decides
    log.info(
        "tune: best %s = %s (val %s %.4f)", metric, points[best], metric, table[f"val_{metric}"].iloc[best]
    )
    return dict(points[best]), table


class GridTuned:
    """Mixin for dataclass recommenders: a non-empty `grid` makes `fit(train, items, val)` choose the settings
    on validation (`tune`), store them in `best_params` / `tuning_table`, then refit on train ∪ validation.

    Without a grid (or without validation) the model is fitted as configured on train ∪ validation.
    Subclasses implement `_fit(train, items)` and declare the fields `grid`, `tune_metric`, `best_params`,
    `tuning_table`.
    """

    grid: dict[str, list] | None
    tune_metric: str
    best_params: dict[str, Any] | None
    tuning_table: pd.DataFrame | None
    batch_size: int

    @property
    def uses_validation(self) -> bool:  # the evaluator then passes validation separately
        return bool(self.grid)

    def _fit(self, train: sp.csr_matrix, items: pd.DataFrame) -> Recommender:
        raise NotImplementedError

    def select(self, train: sp.csr_matrix, items: pd.DataFrame, val: sp.csr_matrix) -> dict[str, Any]:
        """Choose the grid point on validation (`tune`), set it, and drop the grid: a later `fit` fits exactly
        these settings on whatever it is given (a re-ranker fits them on train alone first)."""
        unknown = set(self.grid or {}) - {f.name for f in dataclasses.fields(self)}  # type: ignore[arg-type]
        if unknown:
            raise ValueError(f"{type(self).__name__}: grid names unknown settings {sorted(unknown)}")
        best, table = tune(
            lambda params: dataclasses.replace(self, grid=None, **params),  # type: ignore[type-var]
            self.grid or {},
            train,
            items,
            val,
            metric=self.tune_metric,
            batch_size=self.batch_size,
        )
        for key, value in best.items():
            setattr(self, key, value)
        self.best_params, self.tuning_table, self.grid = best, table, None
        return best

    def fit(self, train: sp.csr_matrix, items: pd.DataFrame, val: sp.csr_matrix | None = None) -> Recommender:
        if self.grid and val is not None and val.nnz > 0:
            self.select(train, items, val)
        elif self.grid:
            log.warning(
                "%s: a grid but no validation part; fitting the configured settings", type(self).__name__
            )
        return self._fit(merge(train, val), items)
