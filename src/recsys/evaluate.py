"""Fit a recommender on a split and score its rankings of the test part (docs/evaluation.md protocol).

Fitting and ranking live here, beside the recommenders; the metrics themselves come from
`src.evaluation.ranking`, which only reads rankings.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from tqdm.auto import tqdm

from src.data.interactions import RecData
from src.evaluation.ranking import KS, NDCG_K, score_ranking, targets_of
from src.recsys.base import Recommender

log = logging.getLogger(__name__)


def rank_items(
    model: Recommender, context: sp.csr_matrix, depth: int, batch_size: int = 256, progress: bool = False
) -> np.ndarray:
    """Top-`depth` item indices per context row, the row's own items excluded (`PAD` = an empty slot).

    The model answers batch by batch (`recommend_batch`), so memory is bounded by `batch_size` × candidates.
    """
    depth = min(depth, context.shape[1])
    out = np.empty((context.shape[0], depth), dtype=np.int64)
    starts = range(0, context.shape[0], batch_size)
    for start in tqdm(starts, desc=f"rank {model.name}", disable=not progress, leave=False):
        rows = sp.csr_matrix(context[start : start + batch_size])
        idx, _ = model.recommend_batch(rows, depth)
        out[start : start + rows.shape[0]] = idx[:, :depth]
    return out


def evaluate_ranking(
    model: Recommender,
    context: sp.csr_matrix,
    targets: sp.csr_matrix,
    cold: np.ndarray,
    ks: Sequence[int] = KS,
    ndcg_k: int = NDCG_K,
    progress: bool = False,
) -> dict[str, float]:
    """All metrics (and `_cold`) of `model` continuing `context` rows, judged against `targets` rows."""
    users = np.flatnonzero(np.diff(targets.indptr) > 0)
    ranked = rank_items(model, context[users], max(max(ks), ndcg_k), progress=progress)
    return score_ranking(ranked, targets_of(targets, users), cold, ks, ndcg_k)


def fit_recommender(model: Recommender, data: RecData) -> Recommender:
    """Fit on train (+ validation passed separately, or merged when the model does not use it)."""
    if model.uses_validation:
        return model.fit(data.train, data.items, val=data.val)
    return model.fit(data.known, data.items)


def evaluate_recommender(
    model: Recommender, data: RecData, fit: bool = True, progress: bool = False
) -> dict[str, float]:
    """Fit (optionally) and evaluate on the test part with train ∪ validation as each playlist's context."""
    started = time.perf_counter()
    if fit:
        fit_recommender(model, data)
    fit_s = time.perf_counter() - started
    metrics = evaluate_ranking(model, data.known, data.test, data.cold_items(), progress=progress)
    metrics["fit_seconds"] = fit_s
    log.info(
        "%s: recall@100 %.4f (cold %.4f), ndcg@500 %.4f, fit %.1fs",
        model.name,
        metrics["recall@100"],
        metrics["recall@100_cold"],
        metrics["ndcg@500"],
        fit_s,
    )
    return metrics
