"""Interpretation: profiles, names, archetypes, distance summary."""

from __future__ import annotations

import numpy as np
import pandas as pd

from conftest import synthetic_tracks
from src.cluster.interpret import ARCHETYPES, closest_archetype, interpret_clusters, name_from_profile
from src.data.schema import AUDIO_FEATURES
from src.data.sources import CsvSource


def test_names_from_strongest_traits():
    z = pd.Series({"energy": 1.2, "danceability": 0.8, "acousticness": -0.9, "tempo": 0.1, "mode": 0.0})
    assert name_from_profile(z) == "high energy · low acousticness · danceable"
    assert name_from_profile(z * 0.01).startswith("slightly ")


def test_archetypes_match_their_own_direction():
    for name, direction in ARCHETYPES.items():
        z = pd.Series(0.0, index=[f for f in AUDIO_FEATURES if f != "key"])  # key is cyclic, no z-score
        for f, w in direction.items():
            z[f] = w
        best, score, _ = closest_archetype(z)
        assert best == name and score > 0.99


def test_interpret_profiles_and_summary(synthetic_csv):
    catalog = CsvSource(path=str(synthetic_csv)).load()
    raw = pd.read_csv(synthetic_csv)
    style = raw["playlist_genre"].map({"edm": 0, "jazz": 1, "pop": 2}).to_numpy()
    result = interpret_clusters(catalog.tracks, style)
    profiles = result.profiles.set_index("cluster")
    assert profiles["size"].sum() == len(catalog.tracks)
    assert profiles.loc[0, "z_energy"] > 0.5 and profiles.loc[1, "z_acousticness"] > 0.5
    assert profiles.loc[1, "archetype"] in {"jazz-like", "acoustic ballad", "chill / ambient"}
    assert profiles["name"].is_unique
    assert {"year_min", "year_max", "top_artists"} <= set(profiles.columns)
    assert result.distances.shape == (3, 3) and np.allclose(np.diag(result.distances), 0)
    assert result.summary[0].startswith("Most different") and result.summary[1].startswith("Most similar")
    assert result.names()[0] == profiles.loc[0, "name"]


def test_interpret_single_cluster():
    frame = synthetic_tracks(20)
    frame = frame.rename(columns={"track_artist": "artist"})
    result = interpret_clusters(frame, np.zeros(20, int))
    assert result.summary == ["only one cluster"]
