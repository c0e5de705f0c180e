"""Fill each of a listener's tastes with tracks they do not have, asking the recommender once per taste.

For a listener with tastes T_1..T_k (a partition of their history H) the recommender answers k + 1 queries:
the whole history H (the context: what suits this listener at all) and each taste alone (what continues that
taste). A candidate's rank in each answer becomes a score in [0, 1] (1 = first, 0 = absent), so any recommender
works, whatever its score scale. A candidate belongs to the taste that ranks it highest (ties and candidates
only the context found go to the nearest taste centre in the embedding) and is ordered inside it by
`context_weight · r_H + (1 - context_weight) · r_T`.

Each mix then takes its best candidates under the listener's rules: never a track or another version of a
song the listener has or another mix already took, at most `max_per_artist` tracks per artist, at least
`cold_share` of the mix from tracks no training history holds (new releases) when there are such candidates.
A taste that runs short borrows the best remaining candidates of the others, so every mix is full.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from tqdm.auto import tqdm

from src.data.content import category_codes
from src.data.songs import song_keys
from src.recsys.base import Recommender


@dataclass
class ItemInfo:
    """Per catalogue item: song identity, artist, never-played flag and length (what the mix rules read), and
    the known histories (histories × items, CSC) that say which tracks people keep together."""

    song: np.ndarray  # int codes; versions of one song share a code
    artist: np.ndarray  # int codes; -1 = unknown artist (never capped)
    cold: np.ndarray  # bool: no known history holds the item
    minutes: np.ndarray  # float
    histories: sp.csc_matrix | None = None

    @classmethod
    def from_tracks(cls, tracks: pd.DataFrame, histories: sp.spmatrix | None = None) -> ItemInfo:
        """`histories`: users × items known interactions (None: every item counts as played)."""
        song = pd.factorize(song_keys(tracks))[0].astype(np.int64)
        artist = category_codes(tracks, "artist")[0]
        ms = pd.to_numeric(tracks.get("duration_ms", pd.Series(np.nan, index=tracks.index)), errors="coerce")
        ms = ms.fillna(ms.median() if ms.notna().any() else 210_000.0)
        binary = None if histories is None else sp.csc_matrix(histories > 0, dtype=np.float32)
        return cls(
            song=song,
            artist=artist,
            cold=np.zeros(len(tracks), bool) if binary is None else np.diff(binary.indptr) == 0,
            minutes=ms.to_numpy(dtype=np.float64) / 60_000.0,
            histories=binary,
        )


@dataclass
class MixSpec:
    """The rules of one listener's mixes (sizes come per call: equal parts of a total, or `size` each)."""

    size: int = 30
    minutes: float | None = None  # when set, each mix is cut to the length closest to this many minutes
    max_per_artist: int = 3
    cold_share: float = 0.0
    context_weight: float = 0.5
    depth: int = 300  # candidates asked of the recommender per query
    assign: str = (
        "score"  # a candidate joins the taste that ranks it highest (score) or is nearest (embedding)
    )
    cohesion_window: int = 8  # each played track is chosen among the next this-many by how often people keep
    # it with the mix's played tracks so far (0 = plain rank order); never-played tracks keep their places


@dataclass
class Listener:
    """Item indices of a listener's history and the taste label of each."""

    history: np.ndarray
    tastes: np.ndarray

    @property
    def n_tastes(self) -> int:
        return int(self.tastes.max()) + 1 if len(self.tastes) else 0


def query_rows(listeners: Sequence[Listener], n_items: int) -> sp.csr_matrix:
    """Per listener: its whole history, then each taste alone (k + 1 rows)."""
    rows: list[np.ndarray] = []
    for listener in listeners:
        rows.append(listener.history)
        rows += [listener.history[listener.tastes == t] for t in range(listener.n_tastes)]
    indptr = np.concatenate([[0], np.cumsum([len(r) for r in rows])])
    indices = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    return sp.csr_matrix((np.ones(len(indices), np.float32), indices, indptr), shape=(len(rows), n_items))


def ask(
    recommender: Recommender, rows: sp.csr_matrix, depth: int, batch_size: int = 256, progress: bool = False
) -> np.ndarray:
    """Top-`depth` item indices per query row (PAD = -1), in row batches (bounded memory)."""
    out = []
    starts = range(0, rows.shape[0], batch_size)
    for start in tqdm(starts, desc="mix queries", disable=not progress, leave=False):
        out.append(recommender.recommend_batch(rows[start : start + batch_size], depth)[0][:, :depth])
    width = max((o.shape[1] for o in out), default=0)
    return np.vstack([np.pad(o, ((0, 0), (0, width - o.shape[1])), constant_values=-1) for o in out])


def rank_scores(lists: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """(rows × pool) score in [0, 1]: 1 for a row's first item, falling linearly, 0 when absent."""
    depth = lists.shape[1]
    out = np.zeros((len(lists), len(pool)), dtype=np.float64)
    where = {int(item): j for j, item in enumerate(pool)}
    for i, row in enumerate(lists):
        for r, item in enumerate(row):
            if item >= 0 and (j := where.get(int(item))) is not None:
                out[i, j] = 1.0 - r / depth
    return out


def nearest_taste(vectors: np.ndarray | None, listener: Listener, items: np.ndarray) -> np.ndarray:
    """The taste whose centre (mean unit vector) is closest in cosine to each item; 0 without vectors."""
    if vectors is None or listener.n_tastes <= 1 or not len(items):
        return np.zeros(len(items), dtype=np.int64)
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    centres = np.stack(
        [unit[listener.history[listener.tastes == t]].mean(0) for t in range(listener.n_tastes)]
    )
    return np.argmax(unit[items] @ centres.T, axis=1)


def _take(
    order: np.ndarray,
    want: int,
    info: ItemInfo,
    used_songs: set[int],
    artists: dict[int, int],
    cap: int,
    cold_only: bool = False,
) -> list[int]:
    picked: list[int] = []
    for item in order:
        if len(picked) >= want:
            break
        item = int(item)
        if cold_only and not info.cold[item]:
            continue
        song, artist = int(info.song[item]), int(info.artist[item])
        if song in used_songs or (artist >= 0 and artists.get(artist, 0) >= cap):
            continue
        picked.append(item)
        used_songs.add(song)
        if artist >= 0:
            artists[artist] = artists.get(artist, 0) + 1
    return picked


def cohesive_order(order: np.ndarray, info: ItemInfo, window: int, horizon: int) -> np.ndarray:
    """`order` with its first `horizon` played tracks re-sequenced greedily: the next one is, among the next
    `window` by rank, the one sharing a known history with the most tracks already placed (ties by rank).
    Never-played tracks keep their slots, so the mix's share of new releases does not change."""
    if window <= 1 or info.histories is None:
        return order
    slots = np.flatnonzero(~info.cold[order])[:horizon]
    warm = order[slots]
    if len(warm) < 3:
        return order
    sub = info.histories[:, warm]
    together = ((sub.T @ sub).toarray() > 0).astype(np.float32)
    np.fill_diagonal(together, 0.0)
    remaining, placed = list(range(len(warm))), []
    while remaining:
        near = remaining[:window]
        gain = together[np.ix_(near, placed)].sum(axis=1) if placed else np.zeros(len(near))
        best = near[int(np.argmax(gain))]
        placed.append(best)
        remaining.remove(best)
    out = order.copy()
    out[slots] = warm[placed]
    return out


def cut_to_minutes(items: list[int], minutes: np.ndarray, target: float) -> list[int]:
    """The prefix of `items` whose total length is closest to `target` minutes (at least one track)."""
    total = np.cumsum(minutes[items]) if items else np.zeros(0)
    if not len(total):
        return items
    n = int(np.argmin(np.abs(total - target))) + 1
    return items[:n]


def assemble(
    listener: Listener,
    lists: np.ndarray,
    sizes: Sequence[int],
    info: ItemInfo,
    spec: MixSpec,
    vectors: np.ndarray | None = None,
) -> list[np.ndarray]:
    """The listener's mixes (item indices, best first) from its k + 1 answer lists (context first)."""
    k = listener.n_tastes
    pool = np.unique(lists[lists >= 0])
    pool = pool[~np.isin(pool, listener.history)]
    used_songs = {int(s) for s in info.song[listener.history]}
    pool = pool[~np.isin(info.song[pool], list(used_songs))]
    scores = rank_scores(lists, pool)
    context, tastes = scores[0], scores[1 : k + 1]
    owner = np.argmax(tastes, axis=0)
    unclaimed = tastes.max(axis=0) <= 0 if spec.assign == "score" else np.ones(len(pool), bool)
    owner[unclaimed] = nearest_taste(vectors, listener, pool[unclaimed])
    w = spec.context_weight
    taken: set[int] = set()
    mixes = []
    for t in range(k):
        blended = w * context + (1 - w) * tastes[t]
        mine = owner == t
        order = np.lexsort((pool, -blended, ~mine))  # own candidates first, each part best first
        order = pool[order]
        order = order[~np.isin(order, list(taken))] if taken else order
        want = sizes[t] if spec.minutes is None else max(sizes[t], math.ceil(spec.minutes / 2.0))
        order = cohesive_order(order, info, spec.cohesion_window, horizon=3 * want)
        artists: dict[int, int] = {}
        n_cold = math.ceil(spec.cold_share * want) if spec.cold_share > 0 else 0
        cold = _take(order, n_cold, info, used_songs, artists, spec.max_per_artist, cold_only=True)
        rest = _take(
            order[~np.isin(order, cold)], want - len(cold), info, used_songs, artists, spec.max_per_artist
        )
        picked = sorted(cold + rest, key=lambda i, rank={int(x): r for r, x in enumerate(order)}: rank[i])
        if spec.minutes is not None:
            dropped = picked[len(cut_to_minutes(picked, info.minutes, spec.minutes)) :]
            picked = picked[: len(picked) - len(dropped)]
            used_songs.difference_update(int(info.song[i]) for i in dropped)
        taken.update(picked)
        mixes.append(np.asarray(picked, dtype=np.int64))
    return mixes


def equal_sizes(total: int, k: int) -> list[int]:
    """`total` slots in `k` parts differing by at most one (earlier parts larger)."""
    base, extra = divmod(total, max(k, 1))
    return [base + (i < extra) for i in range(k)]


def fill_mixes(
    recommender: Recommender,
    listeners: Sequence[Listener],
    info: ItemInfo,
    spec: MixSpec,
    sizes: Sequence[Sequence[int]],
    vectors: np.ndarray | None = None,
    progress: bool = False,
) -> list[list[np.ndarray]]:
    """Mixes of every listener (`sizes[i]`: the length of each of listener i's mixes)."""
    rows = query_rows(listeners, recommender.n_items)
    lists = ask(recommender, rows, spec.depth, progress=progress)
    out, start = [], 0
    for listener, size in zip(listeners, sizes, strict=True):
        end = start + 1 + listener.n_tastes
        out.append(assemble(listener, lists[start:end], size, info, spec, vectors))
        start = end
    return out
