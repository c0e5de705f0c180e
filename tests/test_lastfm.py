"""Last.fm HetRec 2011 → canonical tables on small .dat fixtures (tests/fixtures/lastfm)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from src.data.errors import DataError
from src.data.lastfm import LastFMSource

FIXTURES = Path(__file__).parent / "fixtures" / "lastfm"
REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "lastfm-hetrec2011-2k"


def test_reads_artists_plays_and_latin1_tags():
    catalog = LastFMSource(path=str(FIXTURES), weight="count").load()
    tracks, inter = catalog.tracks, catalog.interactions
    assert tracks["track_id"].is_unique and set(inter["track_id"]) <= set(tracks["track_id"])
    assert inter["user_id"].nunique() == 12 and (inter.groupby("user_id").size() == 6).all()
    assert "Motörhead" in set(tracks["name"])
    assert any("électronique" in t for t in tracks["tags"])  # latin-1 decoded
    assert tracks["danceability"].isna().all() and (tracks["has_audio"] == 0).all()
    assert tracks["popularity"].isna().all()  # no leak of interaction counts into content
    assert catalog.labels.empty


def test_weights():
    counts = LastFMSource(path=str(FIXTURES), weight="count").load().interactions["weight"].to_numpy()
    logs = LastFMSource(path=str(FIXTURES), weight="log").load().interactions["weight"].to_numpy()
    np.testing.assert_allclose(logs, 1 + np.log(counts), rtol=1e-5)
    assert (LastFMSource(path=str(FIXTURES), weight="binary").load().interactions["weight"] == 1).all()


def test_gzipped_files_and_errors(tmp_path):
    import gzip

    for f in FIXTURES.glob("*.dat"):
        with gzip.open(tmp_path / f"{f.name}.gz", "wb") as out:
            out.write(f.read_bytes())
    assert len(LastFMSource(path=str(tmp_path)).load().tracks) == 16
    with pytest.raises(DataError, match="unknown weight"):
        LastFMSource(path=str(tmp_path), weight="tfidf").load()
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="user_artists"):
        LastFMSource(path=str(empty)).load()
    broken = tmp_path / "broken"
    shutil.copytree(FIXTURES, broken)
    (broken / "user_artists.dat").write_text("user\tartist\n1\t2\n")
    with pytest.raises(DataError, match="missing column"):
        LastFMSource(path=str(broken)).load()


@pytest.mark.slow
@pytest.mark.skipif(not REAL.is_dir(), reason="real Last.fm HetRec data not present")
def test_real_lastfm_als_end_to_end():
    """Train → evaluate ALS on the real data (read only here, from a path given explicitly)."""
    from src.data.interactions import rec_data
    from src.data.split import split_interactions
    from src.recsys.als import ALSRecommender
    from src.recsys.evaluate import evaluate_recommender

    catalog = LastFMSource(path=str(REAL)).load()
    assert len(catalog.tracks) == 17632 and catalog.interactions["user_id"].nunique() == 1892
    data = rec_data(catalog.tracks, split_interactions(catalog.interactions, seed=0))
    metrics = evaluate_recommender(ALSRecommender(iterations=10), data)
    assert metrics["recall@100"] > 0.3 and metrics["recall@100_cold"] == 0.0
