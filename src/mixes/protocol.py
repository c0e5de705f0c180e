"""Mixes on the playlist-continuation split: every test listener's mixes against two baselines.

A listener is a row of the split with held-out test tracks: their known (train ∪ validation) tracks are the
history, the test tracks are what a good mix finds. Three ways to give that listener N tracks in k lists, k the
number of tastes found in their history:
- `mixes`: tastes filled by the recommender (`src.mixes.fill`);
- `chunked`: the recommender's single top-N list for the whole history, cut into k equal chunks in rank order
  (its recall is the single list's recall — the reference mixes must keep);
- `catalogue`: the catalogue's own clusters (the same playlists for everyone) intersected with the listener —
  the k clusters holding most of their tracks, each giving its members nearest the centre they do not have.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from src.cluster.kmeans import fit_kmeans
from src.data.interactions import RecData
from src.evaluation.mixes import CoOccurrence, mix_metrics
from src.mixes.fill import ItemInfo, Listener, MixSpec, ask, equal_sizes, fill_mixes
from src.mixes.tastes import TasteSpec, find_tastes
from src.recsys.base import Recommender

log = logging.getLogger(__name__)


def listeners_of(
    known: sp.csr_matrix,
    vectors: np.ndarray,
    tastes: TasteSpec,
    seed: int = 0,
    rows: np.ndarray | None = None,
) -> list[Listener]:
    """A Listener (history + taste labels) per row of `known` (or the given `rows`)."""
    rows = np.arange(known.shape[0]) if rows is None else rows
    out = []
    for row in rows:
        history = known.indices[known.indptr[row] : known.indptr[row + 1]].astype(np.int64)
        labels = find_tastes(vectors[history], **vars(tastes), seed=seed)
        out.append(Listener(history, labels))
    return out


def chunked(lists: np.ndarray, ks: Sequence[int]) -> list[list[np.ndarray]]:
    """Each listener's single list cut into k equal chunks in rank order."""
    out = []
    for row, k in zip(lists, ks, strict=True):
        row = row[row >= 0]
        bounds = np.cumsum([0, *equal_sizes(len(row), k)])
        out.append([row[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)])
    return out


@dataclass
class CatalogueClusters:
    """The catalogue's clusters, each member list sorted nearest the centre first."""

    labels: np.ndarray
    members: list[np.ndarray]

    @classmethod
    def fit(cls, vectors: np.ndarray, k: int, seed: int = 0) -> CatalogueClusters:
        result = fit_kmeans(vectors, k, engine="faiss", seed=seed)
        distance = ((vectors - result.centroids[result.labels]) ** 2).sum(axis=1)
        members = []
        for c in range(result.k):
            idx = np.flatnonzero(result.labels == c)
            members.append(idx[np.argsort(distance[idx], kind="stable")])
        return cls(result.labels, members)

    def mixes(self, history: np.ndarray, sizes: Sequence[int]) -> list[np.ndarray]:
        """The clusters holding most of `history`, each cut to its size, tracks the listener has removed."""
        counts = np.bincount(self.labels[history], minlength=len(self.members))
        top = np.lexsort((np.arange(len(counts)), -counts))[: len(sizes)]
        out = []
        for c, size in zip(top, sizes, strict=False):
            members = self.members[c]
            out.append(members[~np.isin(members, history)][:size])
        return out


def evaluate_mixes(
    recommender: Recommender,
    data: RecData,
    vectors: np.ndarray,
    n: int = 100,
    spec: MixSpec | None = None,
    tastes: TasteSpec | None = None,
    catalogue_k: int = 24,
    max_listeners: int | None = None,
    seed: int = 0,
    progress: bool = False,
) -> dict[str, float]:
    """Metrics of mixes, chunked single lists and catalogue clusters for the split's test listeners.

    `recommender` is fitted; `vectors` (items × d) is the space tastes are found in.
    """
    spec, tastes = spec or MixSpec(), tastes or TasteSpec()
    known = data.known
    rows = np.flatnonzero((np.diff(data.test.indptr) > 0) & (np.diff(known.indptr) > 0))
    if max_listeners and len(rows) > max_listeners:
        rows = np.sort(np.random.default_rng(seed).choice(rows, max_listeners, replace=False))
    listeners = listeners_of(known, vectors, tastes, seed=seed, rows=rows)
    ks = [max(1, listener.n_tastes) for listener in listeners]
    sizes = [equal_sizes(n, k) for k in ks]
    held = np.asarray(known.sum(axis=0)).ravel()
    info = ItemInfo.from_tracks(data.items, known)
    log.info(
        "mixes: %d listeners, tastes per listener %.2f (max %d), N=%d", len(rows), np.mean(ks), max(ks), n
    )
    mixes = fill_mixes(recommender, listeners, info, spec, sizes, vectors=vectors, progress=progress)
    single = ask(recommender, known[rows], n, progress=progress)
    catalogue = CatalogueClusters.fit(vectors, min(catalogue_k, len(vectors)), seed=seed)
    judge = CoOccurrence(known)
    random = judge.random_pairs(seed=seed)
    histories = [listener.history for listener in listeners]
    targets = [data.test.indices[data.test.indptr[r] : data.test.indptr[r + 1]] for r in rows]
    common = dict(
        histories=histories, targets=targets, rows=list(rows), judge=judge, random=random, held=held, n=n
    )
    out: dict[str, float] = {
        "listeners": float(len(rows)),
        "random_pair_cooccurrence": random.together / max(random.played, 1),
    }
    for name, lists in (
        ("mixes", mixes),
        ("chunked", chunked(single, ks)),
        ("catalogue", [catalogue.mixes(h, s) for h, s in zip(histories, sizes, strict=True)]),
    ):
        metrics = mix_metrics(lists, artist=info.artist, **common)
        out.update({f"{name}/{key}": value for key, value in metrics.items()})
    out["mixes/recall_kept"] = out[f"mixes/mix_recall@{n}"] / max(out[f"chunked/mix_recall@{n}"], 1e-12)
    out["mixes/coherence_ratio"] = out["mixes/mix_coherence"] / max(out["chunked/mix_coherence"], 1e-12)
    return out
