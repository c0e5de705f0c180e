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
