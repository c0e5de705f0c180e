"""Playlists: Camelot wheel, ordering, length targets, seeded playlists and exports."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from src.data.sources import CsvSource
from src.playlists.build import cluster_playlists, select_by_length
from src.playlists.export import export_playlists, slug
from src.playlists.order import camelot_distance, camelot_label, order_playlist, transition_smoothness
from src.playlists.seeded import default_seeds, seeded_playlists


@pytest.mark.parametrize(
    ("key", "mode", "label"),
    [(0, 1, "8B"), (9, 0, "8A"), (7, 1, "9B"), (4, 0, "9A"), (11, 1, "1B"), (5, 1, "7B"), (1, 0, "12A")],
)
def test_camelot_labels(key, mode, label):
    assert camelot_label(key, mode) == label


@given(st.integers(0, 11), st.integers(0, 1), st.integers(0, 11), st.integers(0, 1))
def test_camelot_distance_is_a_metric(k1, m1, k2, m2):
    d = int(camelot_distance(np.array(k1), np.array(m1), np.array(k2), np.array(m2)))
    assert d == int(camelot_distance(np.array(k2), np.array(m2), np.array(k1), np.array(m1)))
    assert 0 <= d <= 7
    assert (d == 0) == (k1 == k2 and m1 == m2)


def _tracks(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "track_id": [f"t{i}" for i in range(n)],
            "tempo": rng.uniform(70, 170, n),
            "energy": rng.uniform(0, 1, n),
            "key": rng.integers(0, 12, n),
            "mode": rng.integers(0, 2, n),
            "duration_ms": rng.integers(150_000, 260_000, n),
            "name": [f"S{i}" for i in range(n)],
            "artist": [f"A{i}" for i in range(n)],
            "popularity": rng.integers(0, 100, n),
        }
    )


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 60), st.integers(0, 1000))
def test_order_is_a_permutation_and_smoother(n, seed):
    tracks = _tracks(n, seed)
    order = order_playlist(tracks)
    assert sorted(order.tolist()) == list(range(n))
    if n >= 8:
        before, after = transition_smoothness(tracks), transition_smoothness(tracks.iloc[order])
        assert after["tempo_bpm"] / 10 + after["energy"] / 0.1 + after["camelot"] <= (
            before["tempo_bpm"] / 10 + before["energy"] / 0.1 + before["camelot"] + 1e-9
        )


def test_order_is_deterministic():
    tracks = _tracks(40)
    assert np.array_equal(order_playlist(tracks), order_playlist(tracks))


def test_select_by_minutes():
    tracks = _tracks(50).assign(duration_ms=180_000)
    assert len(select_by_length(tracks, 10, None)) == 10
    assert len(select_by_length(tracks, 10, 30)) == 10  # 30 min of 3-min tracks
    assert len(select_by_length(tracks, 10, 31.4)) == 10
    assert len(select_by_length(tracks, 10, 31.6)) == 11


def test_cluster_and_seeded_playlists_export(tmp_path, synthetic_csv):
    catalog = CsvSource(path=str(synthetic_csv)).load()
    tracks = catalog.tracks
    X = np.random.default_rng(0).normal(size=(len(tracks), 4)).astype(np.float32)
    clusters = pd.DataFrame(
        {
            "track_id": tracks["track_id"],
            "cluster": np.arange(len(tracks)) % 2,
            "subcluster": (np.arange(len(tracks)) // 2) % 2,
            "distance": np.linspace(0, 1, len(tracks)),
        }
    )
    playlists = cluster_playlists(tracks, X, clusters, {0: "zero", 1: "one"}, {(0, 0): "a"}, max_tracks=12)
    assert [p.playlist_id for p in playlists] == ["c00", "c00s00", "c00s01", "c01", "c01s00", "c01s01"]
    assert playlists[1].name == "zero / a" and playlists[2].name == "zero / part 1"
    assert all(len(p.track_ids) == 12 for p in playlists)
    members0 = set(clusters.loc[clusters["cluster"] == 0, "track_id"])
    assert set(playlists[0].track_ids) <= members0
    seeds = default_seeds(tracks, 2)
    seeded = seeded_playlists(tracks, X, seeds, size=8)
    assert len(seeded) == 2 and seeded[0].track_ids[0:8] and seeds[0] in seeded[0].track_ids
    assert len(set(seeded[0].track_ids)) == 8
    with pytest.raises(KeyError, match="nope"):
        seeded_playlists(tracks, X, ["nope"])
    table = export_playlists(playlists + seeded, tracks, tmp_path)
    data = json.loads((tmp_path / "playlists.json").read_text())
    assert len(data) == 8 and data[0]["track_ids"] == playlists[0].track_ids
    csv = pd.read_csv(tmp_path / "playlists.csv")
    assert len(csv) == len(table) == 6 * 12 + 2 * 8
    m3u = sorted(tmp_path.glob("*.m3u8"))
    assert len(m3u) == 8
    text = (tmp_path / f"c00-{slug('zero')}.m3u8").read_text()
    assert text.startswith("#EXTM3U\n#PLAYLIST:zero\n#EXTINF:")
    assert text.count("spotify:track:") == 12


def _versions_catalogue(n: int = 40) -> pd.DataFrame:
    """A catalogue where tracks 0-5 are six versions of one song (remaster, radio edit, …), nearest the centre."""
    tracks = pd.DataFrame(
        {
            "track_id": [f"t{i:02d}" for i in range(n)],
            "name": ["Dynamite", "Dynamite - Radio Edit", "Dynamite - Remastered 2011", "Dynamite (feat. X)"]
            + ["Dynamite - Single Version", "DYNAMITE"]
            + [f"Song {i}" for i in range(6, n)],
            "artist": ["Gareth Emery"] * 6 + [f"Artist {i}" for i in range(6, n)],
            "popularity": [10, 80, 5, 20, 30, 40] + [50] * (n - 6),
            "tempo": np.linspace(90, 130, n),
            "energy": np.linspace(0.2, 0.9, n),
            "key": np.arange(n) % 12,
            "mode": np.arange(n) % 2,
            "duration_ms": np.full(n, 180_000),
        }
    )
    return tracks


def test_playlists_hold_each_song_once_and_keep_their_length():
    from src.data.songs import duplicate_song_rate, song_keys

    tracks = _versions_catalogue()
    X = np.r_[np.zeros((6, 2)), np.arange(1, 35)[:, None] * np.ones((34, 2))].astype(np.float32)
    clusters = pd.DataFrame(
        {
            "track_id": tracks["track_id"],
            "cluster": 0,
            "subcluster": np.arange(40) % 2,
            "distance": np.linalg.norm(X, axis=1),
        }
    )
    keys = song_keys(tracks)
    key_of = dict(zip(tracks["track_id"], keys, strict=True))
    playlists = cluster_playlists(tracks, X, clusters, {0: "zero"}, {}, max_tracks=10, keys=keys)
    whole = playlists[0]
    assert len(whole.track_ids) == 10  # the length is kept: de-duplicated before the cut
    assert duplicate_song_rate([p.track_ids for p in playlists], key_of) == 0.0
    assert "t01" in whole.track_ids  # the most popular version of the song
    assert not {"t00", "t02", "t03", "t04", "t05"} & set(whole.track_ids)
    assert whole.versions_skipped == 5
    by_minutes = cluster_playlists(tracks, X, clusters, {0: "zero"}, {}, target_minutes=30, keys=keys)
    assert len(by_minutes[0].track_ids) == 10 and by_minutes[0].minutes == 30.0
    seeded = seeded_playlists(tracks, X, ["t00", "t20"], size=8, keys=keys)
    for p in seeded:
        assert len(p.track_ids) == 8 and duplicate_song_rate([p.track_ids], key_of) == 0.0
    assert seeded[0].track_ids.count("t00") == 1 and not {"t01", "t02"} & set(seeded[0].track_ids)
    assert seeded[0].versions_skipped == 5


def test_bundled_demo_size_playlists_have_no_repeated_song(bundled_tracks):
    """The whole bundled catalogue, clustered at the demo's scale: no playlist repeats a song, and without the
    song keys (every track its own song) the same playlists would (so the check has teeth)."""
    from src.cluster import fit_kmeans
    from src.data.features import FeatureConfig, FeatureTransformer
    from src.data.songs import duplicate_song_rate, song_keys

    tracks = bundled_tracks
    X = FeatureTransformer(FeatureConfig()).fit_transform(tracks)
    result = fit_kmeans(X, 12, engine="sklearn", seed=0, n_init=1)
    sub = fit_kmeans(X, 24, engine="sklearn", seed=0, n_init=1).labels % 3
    clusters = pd.DataFrame(
        {
            "track_id": tracks["track_id"],
            "cluster": result.labels,
            "subcluster": sub,
            "distance": np.linalg.norm(X - result.centroids[result.labels], axis=1),
        }
    )
    names = {c: f"c{c}" for c in range(12)}
    keys = song_keys(tracks)
    key_of = dict(zip(tracks["track_id"], keys, strict=True))
    seeds = default_seeds(tracks, 3)
    playlists = cluster_playlists(tracks, X, clusters, names, {}, max_tracks=30, keys=keys)
    playlists += seeded_playlists(tracks, X, seeds, size=25, keys=keys)
    assert duplicate_song_rate([p.track_ids for p in playlists], key_of) == 0.0
    for p in playlists:
        if p.kind == "seeded":
            continue
        members = (clusters["cluster"] == p.cluster).to_numpy()
        if p.subcluster is not None:
            members = members & (clusters["subcluster"] == p.subcluster).to_numpy()
        assert len(p.track_ids) == min(30, keys[members].nunique()), p.playlist_id  # full length kept
    assert all(len(p.track_ids) == 25 for p in playlists if p.kind == "seeded")
    naive_keys = tracks["track_id"].astype(str).map(lambda t: f"id:{t}")
    naive_keys.index = tracks.index
    naive = cluster_playlists(tracks, X, clusters, names, {}, max_tracks=30, keys=naive_keys)
    assert duplicate_song_rate([p.track_ids for p in naive], key_of) > 0.0
    assert sum(p.versions_skipped for p in playlists) > 0
