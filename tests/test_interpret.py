"""Interpretation: profiles, names, archetypes, distance summary."""

from __future__ import annotations

import numpy as np
import pandas as pd

from conftest import synthetic_tracks
from src.cluster.archetypes import (
    ARCHETYPE_RULES,
    ARCHETYPES,
    NO_ARCHETYPE,
    RULES,
    Condition,
    choose_archetype,
    passes,
)
from src.cluster.interpret import closest_archetype, interpret_clusters, name_from_profile
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
        assert choose_archetype(z)[0] == name  # each archetype's own direction meets its own rule


def _profile(**values: float) -> pd.Series:
    z = pd.Series(0.0, index=[f for f in AUDIO_FEATURES if f != "key"])
    for f, v in values.items():
        z[f] = v
    return z


def test_rules_are_a_readable_table():
    assert set(ARCHETYPE_RULES) == set(ARCHETYPES)  # every archetype has a rule and a ranking direction
    assert Condition.parse("energy > 0.3") == Condition("energy", ">", 0.3)
    for conditions in RULES.values():
        assert all(c.feature in AUDIO_FEATURES for c in conditions)


def test_no_chill_with_high_energy_and_party_needs_dance_and_energy():
    # the cluster 0 (EDM: energy +0.65 z) used to be called "chill / ambient"
    edm = _profile(
        energy=0.65, danceability=0.1, loudness=0.5, instrumentalness=0.9, valence=-0.6, tempo=-0.3
    )
    assert not passes("chill / ambient", edm) and choose_archetype(edm)[0] != "chill / ambient"
    for energy in (0.31, 0.5, 2.0):
        assert not passes("chill / ambient", _profile(energy=energy, loudness=-2.0, instrumentalness=2.0))
    party = _profile(danceability=0.8, energy=0.6, valence=0.5, acousticness=-0.4)
    assert choose_archetype(party)[0] == "party-like"
    assert not passes("party-like", _profile(danceability=-0.1, energy=0.9, valence=0.5, acousticness=-0.4))
    assert not passes("party-like", _profile(danceability=0.9, energy=-0.1, valence=0.5, acousticness=-0.4))
    name, score, why = choose_archetype(party)
    assert "danceability +0.80 > +0.00" in why and score > 0


def test_no_archetype_when_no_rule_holds():
    assert choose_archetype(_profile()) == (NO_ARCHETYPE, 0.0, "")
    assert choose_archetype(_profile(tempo=0.2, duration_ms=0.4))[0] == NO_ARCHETYPE
    assert passes(NO_ARCHETYPE, _profile(energy=3.0))


def test_demo_clusters_archetypes_pass_their_rules(bundled_tracks):
    """The demo's clustering (`make demo`: raw features, sklearn k-means, seed 0, n_init 10, its elbow's k=11)
    and a finer one: every cluster's archetype meets its rule on the cluster's own profile, and most clusters
    get an archetype. The demo's EDM cluster (energy +0.65 z) used to be "chill / ambient"."""
    from src.cluster import fit_kmeans
    from src.data.features import FeatureConfig, FeatureTransformer

    X = FeatureTransformer(FeatureConfig()).fit_transform(bundled_tracks)
    for k in (8, 16):
        profiles = interpret_clusters(
            bundled_tracks, fit_kmeans(X, k, engine="sklearn", seed=0).labels
        ).profiles
        for row in profiles.itertuples():
            z = pd.Series({f[2:]: getattr(row, f) for f in profiles.columns if f.startswith("z_")})
            assert passes(row.archetype, z), (k, row.cluster, row.archetype, z.round(2).to_dict())
            assert not (row.archetype == "chill / ambient" and z["energy"] > 0.3)
        assert (profiles["archetype"] != NO_ARCHETYPE).mean() >= 0.5, profiles["archetype"].tolist()
        if k == 11:
            edm = profiles.loc[profiles["top_artists"].str.startswith("Dimitri Vegas & Like Mike")].iloc[0]
            assert edm["z_energy"] > 0.6 and edm["archetype"] == "instrumental / electronic"


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
