"""Playlist-affinity vectors: place every track by how strongly the two-tower recommender would add it to each
known playlist, instead of by its raw item-tower vector.

Why: the item tower is trained for retrieval with a soft-maximum query (a track only has to sit near *one* track
of a playlist), so its space is multi-modal and k-means on it cuts playlists apart. Scoring each track against
every playlist's own history and turning the scores into a distribution over playlists (softmax with
temperature τ) gives a space where tracks the recommender would put into the same playlists lie together — cold
tracks included, since their scores come from content. Rows are `sqrt(p)` (Hellinger embedding: unit length,
Euclidean distance ≈ Hellinger distance between the distributions), optionally projected onto their top singular directions
(uncentred: an orthogonal projection of the unit rows; the share of their energy kept is logged — 44 % at 64
dims on the bundled data — and `hybrid` re-normalises each part before weighting it).

Only the playlists' train tracks are used by default (`context=known` adds validation ones), so test pairs —
and by default validation pairs, the criterion for choosing τ — stay unseen.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD

from src.data.errors import DataError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AffinitySettings:
    """`embedding.affinity`: softmax temperature τ, SVD dims (None = all), playlist cap, and which tracks of each
    playlist form its history (`train`, or `known` = train ∪ validation). Checked when the config is built, so a
    bad value fails before any training."""

    temperature: float = 0.025
    dim: int | None = 64
    max_playlists: int = 20_000
    context: str = "train"

    def __post_init__(self) -> None:
        if self.context not in ("train", "known"):
            raise DataError(f"embedding.affinity.context must be 'train' or 'known', not {self.context!r}")
        if self.temperature <= 0:
            raise DataError(f"embedding.affinity.temperature must be > 0, got {self.temperature}")

    def history(self, train: sp.csr_matrix, known: sp.csr_matrix) -> sp.csr_matrix:
        """The playlists' histories the scores are taken against: `train`, or `known` (train ∪ validation).
        Never a test part."""
        return train if self.context == "train" else known


def softmax_rows(scores: np.ndarray, temperature: float) -> np.ndarray:
    """Row-wise softmax of `scores / temperature` (numerically stable, float64)."""
    if temperature <= 0:
        raise ValueError(f"affinity temperature must be > 0, got {temperature}")
    logits = np.asarray(scores, dtype=np.float64) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    return p


def hellinger_rows(p: np.ndarray) -> np.ndarray:
    """sqrt of each probability row: unit-length rows whose Euclidean distances are Hellinger distances (×√2)."""
    return np.sqrt(np.clip(p, 0.0, None))


def affinity_vectors(
    scores: np.ndarray,
    temperature: float = AffinitySettings.temperature,
    dim: int | None = AffinitySettings.dim,
    seed: int = 0,
) -> np.ndarray:
    """Tracks × playlists scores (N × P) → N × min(dim, P) Hellinger affinity vectors (float32).

    `dim=None` keeps all P coordinates; otherwise a truncated SVD (fitted on these rows) projects them, which
    preserves distances up to the discarded energy and keeps the embedding small.
    """
    if scores.ndim != 2 or scores.shape[1] < 2:
        raise DataError(f"playlist affinity needs scores against ≥ 2 playlists, got shape {scores.shape}")
    rows = hellinger_rows(softmax_rows(scores, temperature))
    if dim is not None and dim < rows.shape[1] and dim < rows.shape[0]:
        full = float(np.square(rows).sum())
        rows = TruncatedSVD(n_components=int(dim), random_state=seed).fit_transform(rows)
        log.info(
            "playlist affinity: %d playlists → %d SVD dims (%.1f%% of the energy)",
            scores.shape[1],
            dim,
            100 * float(np.square(rows).sum()) / full,
        )
    return np.ascontiguousarray(rows, dtype=np.float32)


def playlist_scores(
    score_histories: Callable[[sp.csr_matrix], np.ndarray],
    history: sp.csr_matrix,
    max_playlists: int = AffinitySettings.max_playlists,
) -> np.ndarray:
    """Items × playlists score matrix from a `score_histories(history) -> playlists × items` callable.

    Playlists with an empty history are left out (they carry no signal); the matrix is dense, so the number of
    playlists is capped (`max_playlists`) with a clear message instead of exhausting memory.
    """
    history = sp.csr_matrix(history)
    keep = np.flatnonzero(np.diff(history.indptr) > 0)
    if len(keep) > max_playlists:
        raise DataError(
            f"playlist affinity: {len(keep)} playlists exceed embedding.affinity.max_playlists={max_playlists} "
            "(the tracks × playlists matrix is dense); raise the cap or use embedding.space=item"
        )
    if len(keep) < 2:
        raise DataError("playlist affinity needs at least 2 playlists with known tracks")
    return np.asarray(score_histories(history[keep]), dtype=np.float32).T


def affinity_space(
    score_histories: Callable[[sp.csr_matrix], np.ndarray],
    train: sp.csr_matrix,
    known: sp.csr_matrix,
    settings: AffinitySettings,
    seed: int = 0,
) -> np.ndarray:
    """Scores against each playlist's history (`settings.context` picks `train` or `known`) → affinity vectors."""
    scores = playlist_scores(score_histories, settings.history(train, known), settings.max_playlists)
    log.info("playlist affinity: %d tracks × %d playlists, τ=%g", *scores.shape, settings.temperature)
    return affinity_vectors(scores, settings.temperature, settings.dim, seed=seed)
