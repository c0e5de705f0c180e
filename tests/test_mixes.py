"""Personalised mixes: tastes found per listener, filled under the listener's rules, and the mix metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from src.evaluation.mixes import CoOccurrence, PairStats, mix_metrics
from src.mixes.fill import (
    ItemInfo,
    Listener,
    MixSpec,
    assemble,
    equal_sizes,
    fill_mixes,
    peeled_order,
    query_rows,
    swap_between,
)
from src.mixes.tastes import find_tastes, k_range
from src.recsys.baselines import EmbeddingRecommender


def blobs(centres: int, per: int, dim: int = 8, seed: int = 0, spread: float = 0.05) -> np.ndarray:
    rng = np.random.default_rng(seed)
    means = rng.normal(size=(centres, dim)) * 3
    return np.vstack([m + spread * rng.normal(size=(per, dim)) for m in means]).astype(np.float32)


def test_k_grows_with_the_history():
    assert k_range(12, min_size=5, max_size=200, max_tastes=6) == (1, 2)
    assert k_range(4, 5, 200, 6) == (1, 1)
    assert k_range(2000, 5, 200, 6) == (6, 6)  # no taste above 200 tracks: as many as allowed
    assert k_range(600, 5, 200, 8)[0] == 3


def test_separated_tastes_are_found_and_noise_is_one_taste():
    labels = find_tastes(blobs(3, 20), min_size=5)
    assert len(np.unique(labels)) == 3
    assert all((labels[i * 20 : (i + 1) * 20] == labels[i * 20]).all() for i in range(3))
    assert np.bincount(labels).tolist() == sorted(np.bincount(labels), reverse=True)  # 0 = the largest
    noise = np.random.default_rng(1).normal(size=(12, 8))
    assert len(np.unique(find_tastes(noise, min_size=5))) <= 2


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 80), st.integers(2, 10), st.integers(0, 3))
def test_every_taste_is_big_enough(n, min_size, seed):
    vectors = np.random.default_rng(seed).normal(size=(n, 4))
    labels = find_tastes(vectors, min_size=min_size, seed=seed)
    counts = np.bincount(labels)
    assert labels.shape == (n,) and (counts > 0).all()
    assert len(counts) == 1 or counts.min() >= min_size


def catalogue(n_per: int = 40, seed: int = 0) -> tuple[np.ndarray, pd.DataFrame]:
    vectors = blobs(3, n_per, seed=seed)
    n = len(vectors)
    tracks = pd.DataFrame(
        {
            "track_id": [f"t{i}" for i in range(n)],
            "name": [f"song {i}" for i in range(n)],
            "artist": [f"artist {i % 7}" for i in range(n)],
            "popularity": np.arange(n) % 50,
            "duration_ms": 200_000,
        }
    )
    return vectors, tracks


def test_mixes_follow_the_listener_rules():
    vectors, tracks = catalogue()
    tracks.loc[41, "name"] = tracks.loc[40, "name"]  # another version of a song the listener has
    tracks.loc[41, "artist"] = tracks.loc[40, "artist"]
    held = np.ones(len(tracks))
    held[[45, 46, 47, 90, 91]] = 0  # never played
    info = ItemInfo.from_tracks(tracks, sp.csr_matrix(held[None, :]))
    history = np.array([0, 1, 2, 3, 4, 5, 40, 42, 43, 44, 48, 49])
    listener = Listener(history, find_tastes(vectors[history], min_size=5))
    assert listener.n_tastes == 2
    spec = MixSpec(max_per_artist=2, cold_share=0.2, depth=60, cohesion_slack=0.0)
    [mixes] = fill_mixes(EmbeddingRecommender(vectors), [listener], info, spec, [[10, 10]], vectors=vectors)
    everything = np.concatenate(mixes)
    assert [len(m) for m in mixes] == [10, 10]
    assert not np.isin(everything, history).any() and len(np.unique(everything)) == len(everything)
    assert 41 not in everything  # same song as a history track
    assert len(np.unique(info.song[everything])) == len(everything)
    for mix in mixes:
        assert np.bincount(info.artist[mix]).max() <= 2
        assert info.cold[mix].sum() >= 2 or not info.cold.any()
    # each mix continues its own taste: its tracks come from the blob of that taste
    blob = lambda items: set(np.asarray(items) // 40)  # noqa: E731
    taste_blobs = [blob(history[listener.tastes == t]) for t in range(2)]
    for mix, own in zip(mixes, taste_blobs, strict=True):
        assert np.mean([i // 40 in own for i in mix]) >= 0.8


def test_minutes_sizing_and_equal_parts():
    vectors, tracks = catalogue()
    info = ItemInfo.from_tracks(tracks)
    history = np.arange(6)
    listener = Listener(history, np.zeros(6, dtype=np.int64))
    lists = EmbeddingRecommender(vectors).recommend_batch(query_rows([listener], len(vectors)), 60)[0]
    [mix] = assemble(listener, lists, [5], info, MixSpec(minutes=20.0, max_per_artist=10))
    assert len(mix) == 6  # 6 × 3.33 min is closest to 20 minutes
    assert equal_sizes(10, 3) == [4, 3, 3] and sum(equal_sizes(100, 7)) == 100


def test_cooccurrence_leaves_the_listener_out():
    # histories: 0 holds {0,1,2}, 1 holds {0,1}, 2 holds {3}, 3 holds {0,1}
    known = sp.csr_matrix(
        np.array([[1, 1, 1, 0, 0], [1, 1, 0, 0, 0], [0, 0, 0, 1, 0], [1, 1, 0, 0, 0]], dtype=np.float32)
    )
    judge = CoOccurrence(known)
    assert judge.pairs(np.array([0, 1, 2]), own_row=None) == PairStats(
        5, 3, 3, 3
    )  # (0,1) in 3 histories, (0,2) and (1,2) in 1
    assert judge.pairs(np.array([0, 1, 2]), own_row=0) == PairStats(2, 1, 1, 3)  # 2 is only in the listener's
    assert judge.pairs(np.array([0, 4]), own_row=None) == PairStats(0, 0, 0, 1)  # 4 never played: no evidence
    random = judge.random_pairs(n_pairs=4000, seed=0)
    assert random.played == random.pairs == 4000 and 0 < random.together < 4000
    metrics = mix_metrics(
        [[np.array([0, 1]), np.array([3, 4])]],
        histories=[np.array([2])],
        targets=[np.array([1, 3])],
        rows=[None],
        judge=judge,
        random=PairStats(shared=2, together=1, played=4, pairs=4),
        artist=np.array([0, 0, 1, 2, -1]),
        held=np.asarray(known.sum(axis=0)).ravel(),
        n=4,
    )
    assert metrics["mix_recall@4"] == 1.0
    # one played pair (0, 1), held together by 3 of the 3 other histories vs 2 / 4 / 4 for random pairs
    assert metrics["pair_cooccurrence"] == 1.0 and metrics["mix_coherence_any"] == 4.0
    assert metrics["mix_coherence"] == (3 / 1 / 3) / (2 / 4 / 4)
    assert metrics["played_pair_share"] == 0.5
    assert metrics["novelty"] == 1.0 and metrics["cold_share"] == 0.25
    assert metrics["artist_diversity"] == 0.5 * (1 / 2 + 1 / 2)


def test_peeling_drops_the_track_nobody_keeps_with_the_others():
    _, tracks = catalogue()
    # histories: items 0-5 are kept together by many people; item 2 only ever alone; 7 is never played
    rows = [[0, 1, 3, 4, 5, 6]] * 5 + [[2]] * 5 + [[0, 1, 3, 4, 5]] * 3
    histories = sp.lil_matrix((len(rows), len(tracks)), dtype=np.float32)
    for r, items in enumerate(rows):
        histories[r, items] = 1.0
    info = ItemInfo.from_tracks(tracks, histories.tocsr())
    order = np.array([0, 1, 2, 7, 3, 4, 5, 6, 8])
    out = peeled_order(order, info, want=5, slack=0.2)
    assert sorted(out.tolist()) == sorted(order.tolist()) and out[3] == 7  # a permutation; new release stays
    assert 2 not in out[:6] and list(out[:3]) == [0, 1, 3]  # kept ones in rank order, then the peeled one
    assert list(peeled_order(order, info, want=5, slack=0.0)) == list(order)


def test_swaps_regroup_tracks_people_keep_together_and_keep_sizes_and_caps():
    _, tracks = catalogue()
    # two groups people keep together: {0, 1, 2, 3} and {10, 11, 12, 13}; 20 is never played
    rows = [[0, 1, 2, 3]] * 4 + [[10, 11, 12, 13]] * 4
    histories = sp.lil_matrix((len(rows), len(tracks)), dtype=np.float32)
    for r, items in enumerate(rows):
        histories[r, items] = 1.0
    info = ItemInfo.from_tracks(tracks, histories.tocsr())
    mixes = [np.array([0, 1, 10, 20]), np.array([11, 12, 2, 3])]
    out = swap_between(mixes, info, caps=[4, 4], gain="count")
    assert [len(m) for m in out] == [4, 4] and sorted(np.concatenate(out)) == sorted(np.concatenate(mixes))
    assert (
        set(out[0]) == {0, 1, 2, 20}
        and set(out[1]) == {10, 11, 12, 3}
        or (set(out[0]) == {0, 1, 3, 20} and set(out[1]) == {10, 11, 12, 2})
    )
    assert 20 in out[0]  # a new release stays in its mix
    assert list(out[0][:2]) == [0, 1]  # untouched tracks keep their places
    # both exchanges that would reunite the groups put a second track of one artist into a mix
    tracks.loc[[0, 1, 8, 10, 11, 15], "artist"] = ["a", "b", "b", "c", "d", "a"]
    info = ItemInfo.from_tracks(tracks, histories.tocsr())
    apart = [np.array([0, 10, 8]), np.array([11, 1, 15])]
    assert [list(m) for m in swap_between(apart, info, caps=[1, 1])] == [[0, 10, 8], [11, 1, 15]]
    together = swap_between(apart, info, caps=[2, 2])
    assert {frozenset(m[:2]) for m in together} == {frozenset({0, 1}), frozenset({10, 11})}
    assert swap_between(mixes, info, caps=[4, 4], max_swaps=0) is mixes
