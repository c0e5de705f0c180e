"""Clustering metrics of EVALUATION.md: agreement with labels, internal quality, stability, co-playlist lift."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    normalized_mutual_info_score,
)

from src.cluster.choose_k import silhouette_sample
from src.cluster.kmeans import fit_kmeans


def label_metrics(labels: pd.DataFrame, clusters: pd.Series, suffix: str = "") -> dict[str, float]:
    """`nmi_<label>`, `ari_<label>` for each label column; `labels` has track_id + label columns."""
    out: dict[str, float] = {}
    joined = labels.set_index("track_id").join(clusters.rename("_cluster"), how="inner")
    for column in labels.columns:
        if column == "track_id":
            continue
        known = joined.dropna(subset=[column])
        if known.empty:
            continue
        out[f"nmi_{column}{suffix}"] = float(normalized_mutual_info_score(known[column], known["_cluster"]))
        out[f"ari_{column}{suffix}"] = float(adjusted_rand_score(known[column], known["_cluster"]))
    return out


def internal_metrics(X: np.ndarray, labels: np.ndarray, silhouette_size: int = 10_000, seed: int = 0) -> dict:
    """Silhouette (seeded sample), Davies–Bouldin and Calinski–Harabasz in the clustered space."""
    if len(np.unique(labels)) < 2:
        return {}
    return {
        "silhouette": silhouette_sample(X, labels, silhouette_size, seed),
        "davies_bouldin": float(davies_bouldin_score(X, labels)),
        "calinski_harabasz": float(calinski_harabasz_score(X, labels)),
    }


def stability_ari(X: np.ndarray, k: int, seeds: int = 5, engine: str = "auto", **kwargs) -> float:
    """Mean pairwise ARI between k-means labelings from `seeds` different seeds."""
    runs = [fit_kmeans(X, k, engine=engine, seed=s, **kwargs).labels for s in range(seeds)]
    scores = [adjusted_rand_score(a, b) for a, b in combinations(runs, 2)]
    return float(np.mean(scores)) if scores else float("nan")


def _pairs(n: pd.Series | np.ndarray) -> np.ndarray:
    n = np.asarray(n, dtype=np.float64)
    return n * (n - 1) / 2.0


def coplaylist_lift(
    clusters: pd.Series, interactions: pd.DataFrame, test_pairs: pd.DataFrame | None = None
) -> float:
    """P(same cluster | two tracks share a playlist) / P(same cluster | random pair).

    With `test_pairs` (user_id, track_id of held-out test tracks) only pairs with at least one test track of
    that playlist count (`heldout_lift`). The random-pair probability is Σ p_c² over cluster sizes.
    """
    frame = interactions[["user_id", "track_id"]].drop_duplicates()
    frame = frame.assign(cluster=frame["track_id"].map(clusters)).dropna(subset=["cluster"])
    if frame.empty:
        return float("nan")
    n_uc = frame.groupby(["user_id", "cluster"]).size()
    n_u = frame.groupby("user_id").size()
    same, total = _pairs(n_uc).sum(), _pairs(n_u).sum()
    if test_pairs is not None:
        test_keys = set(zip(test_pairs["user_id"], test_pairs["track_id"], strict=True))
        is_test = np.fromiter(
            (k in test_keys for k in zip(frame["user_id"], frame["track_id"], strict=True)), bool, len(frame)
        )
        rest = frame.loc[~is_test]
        same -= _pairs(rest.groupby(["user_id", "cluster"]).size()).sum()
        total -= _pairs(rest.groupby("user_id").size()).sum()
    if total <= 0:
        return float("nan")
    shares = clusters.value_counts(normalize=True).to_numpy()
    return float((same / total) / np.sum(shares**2))
