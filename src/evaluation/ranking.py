"""Ranking metrics of docs/evaluation.md over rankings that are already made: one module for every recommender.

Candidates for a playlist are all catalogue tracks not in its known part; metrics are averaged over playlists:
`recall@K` (hits in top K / |test|), `r_precision` (hits in top |test| / |test|), `ndcg@500` (binary relevance,
ideal DCG over min(|test|, 500) hits), each also with `_cold` — the same ranking scored against the playlist's
cold test tracks only, averaged over the playlists that have any. Nothing here fits or calls a model.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

KS: tuple[int, ...] = (10, 50, 100, 500)
NDCG_K = 500


def _dcg_weights(n: int) -> np.ndarray:
    return 1.0 / np.log2(np.arange(2, n + 2))


def ranking_metrics(
    ranked: np.ndarray,
    relevant: Sequence[np.ndarray],
    ks: Sequence[int] = KS,
    ndcg_k: int = NDCG_K,
    suffix: str = "",
) -> dict[str, float]:
    """Mean recall@K, r_precision and ndcg@ndcg_k over rows with ≥ 1 relevant item.

    `ranked[i]` are item indices best first (at least max(ks, ndcg_k) long, or the whole candidate set);
    `relevant[i]` the held-out items of row i.
    """
    weights = _dcg_weights(max(ndcg_k, ranked.shape[1]))
    sums: dict[str, float] = {f"recall@{k}{suffix}": 0.0 for k in ks}
    sums[f"r_precision{suffix}"] = 0.0
    sums[f"ndcg@{ndcg_k}{suffix}"] = 0.0
    n = 0
    for row, rel in zip(ranked, relevant, strict=True):
        if len(rel) == 0:
            continue
        n += 1
        hits = np.isin(row, rel)
        cum = np.cumsum(hits)
        for k in ks:
            sums[f"recall@{k}{suffix}"] += cum[min(k, len(row)) - 1] / len(rel)
        sums[f"r_precision{suffix}"] += cum[min(len(rel), len(row)) - 1] / len(rel)
        top = hits[:ndcg_k]
        ideal = weights[: min(len(rel), ndcg_k)].sum()
        sums[f"ndcg@{ndcg_k}{suffix}"] += float(weights[: len(top)][top].sum() / ideal)
    return {name: (value / n if n else float("nan")) for name, value in sums.items()}


def targets_of(targets: sp.csr_matrix, users: np.ndarray) -> list[np.ndarray]:
    """The item indices of each of `users`' rows of a sparse targets matrix."""
    return [targets.indices[targets.indptr[u] : targets.indptr[u + 1]] for u in users]


def score_ranking(
    ranked: np.ndarray,
    relevant: Sequence[np.ndarray],
    cold: np.ndarray,
    ks: Sequence[int] = KS,
    ndcg_k: int = NDCG_K,
) -> dict[str, float]:
    """All metrics of `ranked` rows against `relevant` items, plus `_cold` (only items where `cold` is True) and
    `cold_share` (the share of relevant items that are cold)."""
    relevant_cold = [r[cold[r]] for r in relevant]
    metrics = ranking_metrics(ranked, relevant, ks, ndcg_k)
    metrics.update(ranking_metrics(ranked, relevant_cold, ks, ndcg_k, suffix="_cold"))
    n_test = sum(len(r) for r in relevant)
    metrics["cold_share"] = sum(len(r) for r in relevant_cold) / n_test if n_test else float("nan")
    return metrics
