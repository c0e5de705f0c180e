"""MPD slices → canonical tables on a small slice in the official format (tests/fixtures/mpd)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from src.data.errors import DataError
from src.data.mpd import MPDSource

FIXTURES = Path(__file__).parent / "fixtures" / "mpd"


def test_reads_playlists_tracks_and_features():
    catalog = MPDSource(path=str(FIXTURES), features_path=str(FIXTURES / "features.csv")).load()
    tracks, inter = catalog.tracks, catalog.interactions
    assert tracks["track_id"].is_unique and tracks["track_id"].str.startswith("mpdtrack").all()
    assert set(inter.columns) == {"user_id", "track_id", "weight"}
    assert not inter.duplicated(["user_id", "track_id"]).any()  # the duplicate entry of pid 3 merged
    assert "mpd-8" not in set(inter["user_id"])  # a one-track playlist is below min_tracks
    assert inter["user_id"].nunique() == 8 and (inter.groupby("user_id").size() == 8).all()
    assert catalog.report.dropped["MPD track without track_uri"] == 1
    with_audio = tracks[tracks["has_audio"] == 1]
    assert len(with_audio) == tracks["danceability"].notna().sum() > 0
    assert tracks.loc[tracks["has_audio"] == 0, "energy"].isna().all()
    assert tracks["artist"].notna().all() and tracks["album"].notna().all()  # content without audio
    row = tracks.set_index("track_id").loc["mpdtrack001"]
    assert row["release_year"] == 1991 and row["tempo"] == 121


def test_without_features_only_ids_and_artists(tmp_path):
    catalog = MPDSource(path=str(FIXTURES / "mpd.slice.*.json")).load()
    assert (catalog.tracks["has_audio"] == 0).all()
    assert catalog.tracks["danceability"].isna().all() and catalog.tracks["duration_ms"].notna().all()


def test_bad_slices_raise_clear_errors(tmp_path):
    with pytest.raises(DataError, match="no MPD slice"):
        MPDSource(path=str(tmp_path / "nothing*.json")).load()
    bad = tmp_path / "mpd.slice.0-1.json"
    bad.write_text(json.dumps({"info": {}, "items": []}))
    with pytest.raises(DataError, match="not an MPD slice"):
        MPDSource(path=str(bad)).load()
    bad.write_text("{not json")
    with pytest.raises(DataError, match="not a JSON file"):
        MPDSource(path=str(bad)).load()


def test_split_and_evaluator_run_on_mpd():
    from src.data.interactions import rec_data
    from src.data.split import split_interactions
    from src.recsys.baselines import PopularityRecommender
    from src.recsys.evaluate import evaluate_recommender

    catalog = MPDSource(path=str(FIXTURES), features_path=str(FIXTURES / "features.csv")).load()
    data = rec_data(catalog.tracks, split_interactions(catalog.interactions, seed=0))
    metrics = evaluate_recommender(PopularityRecommender(), data)
    assert 0.0 <= metrics["recall@10"] <= metrics["recall@100"] <= 1.0 and np.isfinite(metrics["ndcg@500"])
