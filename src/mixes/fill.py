"""Fill each of a listener's tastes with tracks they do not have, asking the recommender once per taste.

For a listener with tastes T_1..T_k (a partition of their history H) the recommender answers k + 1 queries:
the whole history H (the context: what suits this listener at all) and each taste alone (what continues that
taste). A candidate's rank in each answer becomes a score in [0, 1] (1 = first, 0 = absent), so any recommender
works, whatever its score scale. A candidate belongs to the taste that ranks it highest (ties and candidates
only the context found go to the nearest taste centre in the embedding) and is ordered inside it by
`context_weight · r_H + (1 - context_weight) · r_T`.

Each mix then takes its best candidates under the listener's rules: never a track or another version of a
song the listener has or another mix already took, at most `max_artist_share` of the mix per artist, at least
`cold_share` of the mix from tracks no training history holds (new releases) when there are such candidates.
A taste that runs short borrows the best remaining candidates of the others, so every mix is full.

Cohesion (what people keep together, read from the known histories; new releases keep their places):
- peeling: a mix's best `(1 + cohesion_slack)`× as many played candidates as it takes are peeled down to the
  ones that belong together most, each weighed by `cohesion_weight` · (histories it shares with the others) +
  (1 − `cohesion_weight`) · (its ranking value, a 1/log2(rank + 2) discount: the head of the ranking is
  protected, its tail is cheap to exchange);
- swaps: then tracks are exchanged between the listener's mixes while that keeps more of them together
  (the same tracks, the same sizes, so what the mixes find does not change).
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
    max_per_artist: int | None = None  # at most this many tracks of one artist in a mix (None: by share)
    max_artist_share: float = 0.2  # ... and at most this share of the mix (at least one track)
    cold_share: float = 0.0  # at least this share of a mix from never-played tracks, when there are some
    context_weight: float = 0.5
    depth: int = 300  # candidates asked of the recommender per query
    assign: str = "score"  # a candidate joins the taste ranking it highest (score) or the nearest (embedding)
    cohesion_slack: float = 1.0  # peeling looks this much further than the mix takes (0: plain rank order)
    cohesion_weight: float = 0.15  # peeling: weight of togetherness against the ranking value, in [0, 1]
    cohesion_swaps: int = 20  # exchanges between the listener's mixes, at most (0: none)
    cohesion_gain: str = "count"  # togetherness of two tracks: histories holding both (count) or whether one
    # does (shared)


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


def rank_positions(lists: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """(rows × pool) position of each pool item in each answer list, -1 where absent."""
    out = np.full((len(lists), len(pool)), -1, dtype=np.int64)
    if not len(pool):
        return out
    sorter = np.argsort(pool, kind="stable")
    rows, ranks = np.nonzero(lists >= 0)
    items = lists[rows, ranks]
    at = np.minimum(np.searchsorted(pool, items, sorter=sorter), len(pool) - 1)
    found = pool[sorter[at]] == items
    out[rows[found], sorter[at[found]]] = ranks[found]
    return out


def rank_scores(positions: np.ndarray, depth: int, discount: str = "linear") -> np.ndarray:
    """Scores in [0, 1] from `rank_positions`: 1 for a list's first item, 0 when absent, falling linearly over
    the depth (`linear`) or as 1/log2(rank + 2) (`log`: steep at the head, flat in the tail)."""
    r = positions.astype(np.float64)
    score = 1.0 - r / depth if discount == "linear" else 1.0 / np.log2(np.maximum(r, 0.0) + 2.0)
    return np.where(positions >= 0, score, 0.0)


def together_counts(info: ItemInfo, items: np.ndarray, gain: str) -> np.ndarray:
    """(items × items) togetherness from the known histories: how many hold both (`count`) or whether one
    does (`shared`); zero diagonal."""
    if gain not in ("count", "shared"):
        raise ValueError(f"cohesion_gain={gain!r}: use count or shared")
    sub = info.histories[:, items]
    together = (sub.T @ sub).toarray().astype(np.float64)
    if gain == "shared":
        together = (together > 0).astype(np.float64)
    np.fill_diagonal(together, 0.0)
    return together


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


def peeled_order(
    order: np.ndarray,
    info: ItemInfo,
    want: int,
    slack: float,
    gain: str = "count",
    value: np.ndarray | None = None,
    weight: float = 1.0,
) -> np.ndarray:
    """`order` with its best `want · (1 + slack)` played tracks peeled down to `want`: one at a time, the track
    with the least `weight · togetherness with the others still in + (1 − weight) · value` (each over its
    mean; `value` per entry of `order`, default 1) leaves, ties by rank — the greedy densest-subgraph
    heuristic, held to the ranking by `value`. Kept tracks come first in rank order, then the peeled ones;
    never-played tracks keep their slots."""
    if slack <= 0 or info.histories is None:
        return order
    warm_slots = np.flatnonzero(~info.cold[order])
    top = warm_slots[: int(math.ceil(want * (1 + slack)))]
    if len(top) <= want or want < 2:
        return order
    warm = order[top]
    together = together_counts(info, warm, gain)
    alive = np.ones(len(warm), dtype=bool)
    degree = together.sum(axis=1)
    removed = []
    worth = np.ones(len(warm)) if value is None else np.asarray(value, dtype=np.float64)[top]
    for _ in range(len(warm) - want):
        candidates = np.flatnonzero(alive)
        d, v = degree[candidates], worth[candidates]
        keep_score = weight * d / max(d.mean(), 1e-12) + (1 - weight) * v / max(v.mean(), 1e-12)
        # weakest first; among equals the lowest ranked (largest position) leaves
        worst = candidates[np.lexsort((-candidates, keep_score))[0]]
        alive[worst] = False
        removed.append(worst)
        degree -= together[:, worst]
    kept = np.flatnonzero(alive)
    out = order.copy()
    out[top] = warm[np.concatenate([kept, np.asarray(sorted(removed), dtype=np.int64)])]
    return out


def swap_between(
    mixes: list[np.ndarray], info: ItemInfo, caps: Sequence[int], gain: str = "count", max_swaps: int = 20
) -> list[np.ndarray]:
    """One listener's mixes with tracks exchanged between them while that keeps more of each mix's played
    tracks together: the best swap (a track of mix A kept more with B's tracks, and one of B more with A's)
    goes first, up to `max_swaps`. Sizes, the set of tracks and the per-artist caps (`caps[m]`) are kept;
    each mix keeps its order, a swapped-in track taking the place of the one it replaced (Kernighan–Lin)."""
    if len(mixes) < 2 or max_swaps <= 0 or info.histories is None:
        return mixes
    items = np.concatenate(mixes)
    label = np.concatenate([np.full(len(m), i) for i, m in enumerate(mixes)])
    together = together_counts(info, items, gain)
    artist = info.artist[items]
    warm = ~info.cold[items]  # new releases stay where the cold-share floor put them
    for _ in range(max_swaps):
        to_mix = np.stack([together[:, label == m].sum(axis=1) for m in range(len(mixes))], axis=1)
        move = to_mix - to_mix[np.arange(len(items)), label][:, None]  # gain of i joining mix m
        best = (0.0, -1, -1)
        for a in range(len(mixes)):
            for b in range(a + 1, len(mixes)):
                ia, ib = np.flatnonzero((label == a) & warm), np.flatnonzero((label == b) & warm)
                if not len(ia) or not len(ib):
                    continue
                g = move[ia, b][:, None] + move[ib, a][None, :] - 2 * together[np.ix_(ia, ib)]
                same = artist[ia][:, None] == artist[ib][None, :]
                fits_b = (
                    _artist_room(artist, label, b, caps[b])[ia][:, None] | same | (artist[ia] < 0)[:, None]
                )
                fits_a = (
                    _artist_room(artist, label, a, caps[a])[ib][None, :] | same | (artist[ib] < 0)[None, :]
                )
                g = np.where(fits_a & fits_b, g, -np.inf)
                x, y = np.unravel_index(int(np.argmax(g)), g.shape)
                if g[x, y] > best[0] + 1e-9:
                    best = (float(g[x, y]), int(ia[x]), int(ib[y]))
        if best[1] < 0:
            break
        _, i, j = best
        items[[i, j]] = items[[j, i]]  # each takes the other's place (and mix); both are played
        together[[i, j]] = together[[j, i]]
        together[:, [i, j]] = together[:, [j, i]]
        artist[[i, j]] = artist[[j, i]]
    return [items[label == m] for m in range(len(mixes))]


def _artist_room(artist: np.ndarray, label: np.ndarray, mix: int, cap: int) -> np.ndarray:
    """Per track: whether its artist has room for one more track in `mix`."""
    counts = np.bincount(artist[(label == mix) & (artist >= 0)], minlength=int(artist.max(initial=0)) + 1)
    return np.where(artist >= 0, counts[np.maximum(artist, 0)] < cap, True)


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
    positions = rank_positions(lists, pool)
    scores = rank_scores(positions, lists.shape[1])
    context, tastes = scores[0], scores[1 : k + 1]
    owner = np.argmax(tastes, axis=0)
    unclaimed = tastes.max(axis=0) <= 0 if spec.assign == "score" else np.ones(len(pool), bool)
    owner[unclaimed] = nearest_taste(vectors, listener, pool[unclaimed])
    w = spec.context_weight
    steep = rank_scores(positions, lists.shape[1], discount="log")
    value = w * steep[0] + (1 - w) * steep[1 : k + 1]  # what peeling protects, per taste
    taken: set[int] = set()
    mixes, caps = [], []
    for t in range(k):
        blended = w * context + (1 - w) * tastes[t]
        mine = owner == t
        order = np.lexsort((pool, -blended, ~mine))  # own candidates first, each part best first
        order = pool[order]
        order = order[~np.isin(order, list(taken))] if taken else order
        want = sizes[t] if spec.minutes is None else max(sizes[t], math.ceil(spec.minutes / 2.0))
        n_cold = math.ceil(spec.cold_share * want) if spec.cold_share > 0 else 0
        n_new = min(n_cold, int(info.cold[order].sum()))
        n_played = min(want - n_new, int((~info.cold[order[:want]]).sum()))  # played tracks the mix takes
        order = peeled_order(
            order,
            info,
            n_played,
            spec.cohesion_slack,
            spec.cohesion_gain,
            value=value[t][np.searchsorted(pool, order)],  # pool is sorted (np.unique)
            weight=spec.cohesion_weight,
        )
        artists: dict[int, int] = {}
        cap = artist_cap(spec, sizes[t])
        caps.append(cap)
        cold = _take(order, n_cold, info, used_songs, artists, cap, cold_only=True)
        rest = _take(order[~np.isin(order, cold)], want - len(cold), info, used_songs, artists, cap)
        picked = sorted(cold + rest, key=lambda i, rank={int(x): r for r, x in enumerate(order)}: rank[i])
        if spec.minutes is not None:
            dropped = picked[len(cut_to_minutes(picked, info.minutes, spec.minutes)) :]
            picked = picked[: len(picked) - len(dropped)]
            used_songs.difference_update(int(info.song[i]) for i in dropped)
        taken.update(picked)
        mixes.append(np.asarray(picked, dtype=np.int64))
    return swap_between(mixes, info, caps, spec.cohesion_gain, spec.cohesion_swaps)


def artist_cap(spec: MixSpec, size: int) -> int:
    """Most tracks of one artist a mix of `size` tracks may hold."""
    cap = max(1, int(math.floor(spec.max_artist_share * size)))
    return cap if spec.max_per_artist is None else min(cap, int(spec.max_per_artist))


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
