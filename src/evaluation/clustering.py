"""Clustering metrics of docs/evaluation.md over cluster labels that are already computed: agreement with the
evaluation labels, internal quality, stability across seeds, co-playlist lift. Nothing here fits a model; the
task layer computes the clusterings (once per k) and passes their labels."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations

import numpy as np
import pandas as pd
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    normalized_mutual_info_score,
    silhouette_score,
)


def in_sample_metric(name: str) -> bool:
    """Whether a metric is partly in-sample for an embedding that learned from playlist membership: agreement
    with the playlist-derived labels over all tracks (`nmi_*`, `ari_*` without `_cold`) and `coplaylist_lift*`
    (every within-playlist pair, training pairs included). `heldout_lift`, `val_lift`, the `_cold` label metrics
    and the recommendation metrics are not (docs/evaluation.md "In-sample and held-out")."""
    if name.startswith(("nmi_", "ari_")):
        return "_cold" not in name
    return name.startswith("coplaylist_lift")


def silhouette_sample(X: np.ndarray, labels: np.ndarray, sample: int = 10_000, seed: int = 0) -> float:
    """Silhouette on a seeded sample (full silhouette is O(N²)); NaN when fewer than 2 clusters."""
    if len(np.unique(labels)) < 2 or len(X) < 3:
        return float("nan")
    n = min(sample, len(X))
    return float(silhouette_score(X, labels, sample_size=n if n < len(X) else None, random_state=seed))


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
    """Silhouette (seeded sample), Davies–Bouldin and Calinski–Harabasz in the clustered space.

    Defined for 2 ≤ clusters ≤ points − 1 only; outside that (one cluster, every point its own) none is written.
    """
    if not 2 <= len(np.unique(labels)) <= len(labels) - 1:
        return {}
    return {
        "silhouette": silhouette_sample(X, labels, silhouette_size, seed),
        "davies_bouldin": float(davies_bouldin_score(X, labels)),
        "calinski_harabasz": float(calinski_harabasz_score(X, labels)),
    }


def stability_ari(labelings: Sequence[np.ndarray]) -> float:
    """Mean pairwise ARI between labelings of the same points (e.g. k-means from different seeds)."""
    scores = [adjusted_rand_score(a, b) for a, b in combinations(labelings, 2)]
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


def lift_metrics(
    clusters: pd.Series, interactions: pd.DataFrame, split: pd.DataFrame | None, k: int
) -> dict[str, float]:
    """`coplaylist_lift@k` over all playlist pairs, `heldout_lift@k` over pairs with a test track and
    `val_lift@k` (the model-selection criterion, `val_lift`) over pairs with a validation track and no test
    track."""
    if interactions.empty:
        return {}
    out = {f"coplaylist_lift@{k}": coplaylist_lift(clusters, interactions)}
    if split is not None:
        out[f"heldout_lift@{k}"] = coplaylist_lift(clusters, interactions, split[split["part"] == "test"])
        if (split["part"] == "val").any():
            out[f"val_lift@{k}"] = val_lift(clusters, split)
    return out


def val_lift(clusters: pd.Series, split: pd.DataFrame) -> float:
    """The lift over within-playlist pairs that hold at least one validation track, read from the split's train
    and validation rows only: a test row (which playlist holds which test track) is never read, so no pair with
    a test track counts and moving, adding or dropping test rows cannot change the value. The criterion for
    choosing settings (docs/evaluation.md "Choosing settings")."""
    known = split.loc[split["part"] != "test", ["user_id", "track_id", "part"]]
    return coplaylist_lift(clusters, known, known[known["part"] == "val"])


def fixed_k_scores(
    clusterings: Mapping[int, np.ndarray],
    track_ids: np.ndarray,
    labels: pd.DataFrame,
    interactions: pd.DataFrame,
    split: pd.DataFrame | None = None,
) -> dict[str, float]:
    """The comparison points at fixed k (one labeling per k, rows aligned with `track_ids`):
    `nmi_<label>@k<k>`, `ari_<label>@k<k>`, the lifts at k and, with a split, `nmi_<label>_cold@k<k>` /
    `ari_<label>_cold@k<k>` over the tracks in no training playlist (placed without their playlists: not
    in-sample for interaction-trained embeddings). The same scorer serves the pipeline's fixed-k points and the
    side-by-side embedding comparison, so both report the same numbers for the same labels."""
    out: dict[str, float] = {}
    ids = np.asarray(track_ids).astype(str)
    cold = None
    if split is not None:
        cold = ~pd.Index(ids).isin(split.loc[split["part"] == "train", "track_id"].astype(str))
    for k, assignment in clusterings.items():
        series = pd.Series(assignment, index=ids)
        if not labels.empty:
            out.update({f"{name}@k{k}": v for name, v in label_metrics(labels, series).items()})
            if cold is not None and cold.any():
                cold_metrics = label_metrics(labels, series[cold], suffix="_cold")
                out.update({f"{name}@k{k}": v for name, v in cold_metrics.items()})
        out.update(lift_metrics(series, interactions, split, k))
    return out
