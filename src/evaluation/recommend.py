"""Playlist-continuation evaluation of EVALUATION.md: one evaluator for every recommender.

Candidates for a playlist are all catalogue tracks not in its known part (train ∪ validation); metrics are
averaged over playlists: `recall@K` (hits in top K / |test|), `r_precision` (hits in top |test| / |test|),
`ndcg@500` (binary relevance, ideal DCG over min(|test|, 500) hits), each also with `_cold` — the same ranking
scored against the playlist's cold test tracks only (tracks that never occur in train ∪ validation), averaged
over the playlists that have any.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from tqdm.auto import tqdm

from src.data.errors import DataError
from src.recsys.base import Recommender, top_k

log = logging.getLogger(__name__)

KS: tuple[int, ...] = (10, 50, 100, 500)
NDCG_K = 500


@dataclass
class RecData:
    """The split as sparse users × items matrices over the catalogue's item order."""

    items: pd.DataFrame
    user_ids: np.ndarray
    train: sp.csr_matrix
    val: sp.csr_matrix
    test: sp.csr_matrix

    @property
    def known(self) -> sp.csr_matrix:
        """What a playlist holds at test time: its train and validation tracks."""
        return sp.csr_matrix(((self.train + self.val) > 0).astype(np.float32))

    @property
    def n_items(self) -> int:
        return len(self.items)

    def cold_items(self, context: sp.csr_matrix | None = None) -> np.ndarray:
        """Items that never occur in `context` (default: train ∪ validation) — only content can place them."""
        context = self.known if context is None else context
        return np.asarray(context.sum(axis=0)).ravel() == 0


def _matrix(pairs: pd.DataFrame, users: pd.Index, items: pd.Index) -> sp.csr_matrix:
    rows = users.get_indexer(pairs["user_id"])
    cols = items.get_indexer(pairs["track_id"])
    keep = (rows >= 0) & (cols >= 0)
    data = np.ones(int(keep.sum()), dtype=np.float32)
    return sp.csr_matrix((data, (rows[keep], cols[keep])), shape=(len(users), len(items)))


def rec_data(tracks: pd.DataFrame, split: pd.DataFrame) -> RecData:
    """Matrices of a saved split (`user_id, track_id, part`) over `tracks` (row order = item index)."""
    missing = {"user_id", "track_id", "part"} - set(split.columns)
    if missing:
        raise DataError(f"split table lacks column(s) {sorted(missing)}")
    items = pd.Index(tracks["track_id"].astype(str))
    if not items.is_unique:
        raise DataError("tracks table: track_id is not unique")
    split = split.assign(track_id=split["track_id"].astype(str), user_id=split["user_id"].astype(str))
    unknown = ~split["track_id"].isin(items)
    if unknown.any():
        raise DataError(
            f"split: {int(unknown.sum())} rows name tracks missing from the catalogue "
            f"(e.g. {split.loc[unknown, 'track_id'].iloc[0]!r})"
        )
    users = pd.Index(np.sort(split["user_id"].unique()))
    parts = {p: _matrix(split[split["part"] == p], users, items) for p in ("train", "val", "test")}
    return RecData(
        tracks.reset_index(drop=True), users.to_numpy(), parts["train"], parts["val"], parts["test"]
    )


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


def rank_items(
    model: Recommender, context: sp.csr_matrix, depth: int, batch_size: int = 256, progress: bool = False
) -> np.ndarray:
    """Top-`depth` item indices per context row, the row's own items excluded (scored in batches)."""
    out = np.empty((context.shape[0], min(depth, context.shape[1])), dtype=np.int64)
    starts = range(0, context.shape[0], batch_size)
    for start in tqdm(starts, desc=f"rank {model.name}", disable=not progress, leave=False):
        rows = context[start : start + batch_size]
        scores = np.asarray(model.score(rows), dtype=np.float32).copy()
        scores[rows.nonzero()] = -np.inf
        out[start : start + len(scores)] = top_k(scores, depth)[0]
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
    relevant = [targets.indices[targets.indptr[u] : targets.indptr[u + 1]] for u in users]
    relevant_cold = [r[cold[r]] for r in relevant]
    metrics = ranking_metrics(ranked, relevant, ks, ndcg_k)
    metrics.update(ranking_metrics(ranked, relevant_cold, ks, ndcg_k, suffix="_cold"))
    n_test = sum(len(r) for r in relevant)
    metrics["cold_share"] = sum(len(r) for r in relevant_cold) / n_test if n_test else float("nan")
    return metrics


def fit_model(model: Recommender, data: RecData) -> Recommender:
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
        fit_model(model, data)
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
