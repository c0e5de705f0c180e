"""Sources → canonical tables: variants accepted, duplicates merged, bad input rejected with a clear message."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import BUNDLED, synthetic_tracks
from src.data.errors import DataError
from src.data.schema import AUDIO_FEATURES
from src.data.sources import CsvSource, ParquetSource


def _write(tmp_path: Path, frame: pd.DataFrame, name: str = "t.csv") -> Path:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def test_bundled_catalogue_matches_provenance():
    catalog = CsvSource(
        path=str(BUNDLED),
        user_column="playlist_id",
        label_columns={"genre": "playlist_genre", "subgenre": "playlist_subgenre"},
    ).load()
    assert catalog.report.rows_read == 32_833
    assert len(catalog.tracks) == 28_356
    assert catalog.tracks["track_id"].is_unique
    assert len(catalog.interactions) == 32_251
    assert catalog.interactions["user_id"].nunique() == 471
    assert set(catalog.labels["genre"].dropna()) == {"edm", "rap", "pop", "r&b", "latin", "rock"}
    assert catalog.labels["subgenre"].nunique() == 24
    assert catalog.report.duplicate_rows_merged == 32_833 - 28_356
    assert catalog.tracks["release_year"].between(1950, 2021).all()


def test_duplicates_merged_memberships_kept(tmp_path):
    frame = synthetic_tracks(20)
    dup = frame.iloc[:3].assign(playlist_id="p-extra", playlist_genre="rock")
    path = _write(tmp_path, pd.concat([frame, dup]))
    catalog = CsvSource(path=str(path), user_column="playlist_id", label_columns=["playlist_genre"]).load()
    assert len(catalog.tracks) == 20
    assert catalog.report.duplicate_rows_merged == 3
    extra = catalog.interactions[catalog.interactions["user_id"] == "p-extra"]
    assert sorted(extra["track_id"]) == sorted(frame["track_id"].iloc[:3])


def test_label_majority_ties_alphabetical(tmp_path):
    frame = synthetic_tracks(4)
    rows = pd.concat(
        [
            frame.iloc[[0]].assign(playlist_id=p, playlist_genre=g)
            for p, g in [("a", "rock"), ("b", "pop"), ("c", "rock"), ("d", "edm"), ("e", "edm")]
        ]
    )
    path = _write(tmp_path, pd.concat([rows, frame.iloc[1:]]))
    catalog = CsvSource(
        path=str(path), user_column="playlist_id", label_columns={"genre": "playlist_genre"}
    ).load()
    label = catalog.labels.set_index("track_id").loc[frame["track_id"].iloc[0], "genre"]
    assert label == "edm"  # edm and rock both twice: alphabetical first wins


def test_messy_variants_are_parsed_and_reported(tmp_path):
    text = (
        "instance_id,artist_name,track_name,popularity,acousticness,danceability,duration_ms,energy,"
        "instrumentalness,key,liveness,loudness,mode,speechiness,tempo,valence,music_genre\n"
        "1,A,x,10,0.5,0.6,200000,0.7,0,C#,0.1,-5,Major,0.05,120,0.5,Jazz\n"
        "2,B,y,20,1.2e-3,0.5,-1,0.6,0,Db,0.1,-6,Minor,0.04,?,0.4,Rock\n"
        "3,C,z,30,0.2,0.4,180000,0.5,0,A,0.2,-7,Minor,0.03,0,0.3,Jazz\n"
        "4,D,w,40,0.3,0.3,210000,NaN,0,Bb,0.3,-8,major,0.02,98,0.2,Rock\n"
    )
    path = tmp_path / "music_genre.csv"
    path.write_text(text)
    catalog = CsvSource(path=str(path), id_column="instance_id", label_columns=["music_genre"]).load()
    tracks = catalog.tracks.set_index("track_id")
    assert tracks.loc["1", "key"] == 1 and tracks.loc["2", "key"] == 1 and tracks.loc["4", "key"] == 10
    assert list(tracks["mode"]) == [1, 0, 0, 1]
    assert tracks.loc["2", "acousticness"] == pytest.approx(1.2e-3)
    assert not tracks[list(AUDIO_FEATURES)].isna().any().any()
    assert catalog.report.imputed == {"energy": 1, "tempo": 2, "duration_ms": 1}
    assert catalog.report.parsed["key note names → pitch class"] == 4
    assert catalog.labels.set_index("track_id")["music_genre"].to_dict() == {
        "1": "Jazz",
        "2": "Rock",
        "3": "Jazz",
        "4": "Rock",
    }


def test_drop_policy_counts_rows(tmp_path):
    frame = synthetic_tracks(30)
    frame["tempo"] = frame["tempo"].astype(object)
    frame.loc[[2, 5], "tempo"] = "?"
    frame.loc[7, "duration_ms"] = -5
    path = _write(tmp_path, frame)
    catalog = CsvSource(path=str(path), missing_policy="drop").load()
    assert len(catalog.tracks) == 27
    assert sum(catalog.report.dropped.values()) == 3


def test_ids_from_row_order_and_spotify_uris(tmp_path):
    frame = synthetic_tracks(5).drop(columns=["track_id"])
    catalog = CsvSource(path=str(_write(tmp_path, frame))).load()
    assert list(catalog.tracks["track_id"]) == [f"row-{i}" for i in range(5)]
    frame = synthetic_tracks(5).rename(columns={"track_id": "uri"})
    frame["uri"] = "spotify:track:" + frame["uri"]
    catalog = CsvSource(path=str(_write(tmp_path, frame, "u.csv"))).load()
    assert catalog.tracks["track_id"].iloc[0] == "t0000"


def test_parquet_source(tmp_path):
    path = tmp_path / "t.parquet"
    synthetic_tracks(40).astype({"key": str}).to_parquet(path)
    catalog = ParquetSource(path=str(path), user_column="playlist_id").load()
    assert len(catalog.tracks) == 40 and not catalog.interactions.empty


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"danceability,energy\n0.5,0.6\n", "missing required column(s) 'key'"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a text table"),
    ],
)
def test_bad_files_give_clear_messages(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match="bad.csv") as err:
        CsvSource(path=str(path)).load()
    assert message in str(err.value)


def test_header_only_and_missing_column_named(tmp_path):
    frame = synthetic_tracks(3)
    path = _write(tmp_path, frame.iloc[:0])
    with pytest.raises(DataError, match="no data rows"):
        CsvSource(path=str(path)).load()
    path = _write(tmp_path, frame.drop(columns=["valence"]), "nov.csv")
    with pytest.raises(DataError, match="'valence'"):
        CsvSource(path=str(path)).load()


def test_non_numeric_column_names_rows(tmp_path):
    frame = synthetic_tracks(10)
    frame["energy"] = "loud"
    with pytest.raises(DataError, match=r"column 'energy' is not numeric .*rows 2, 3"):
        CsvSource(path=str(_write(tmp_path, frame))).load()


def test_not_parquet(tmp_path):
    path = tmp_path / "x.parquet"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="not a readable parquet"):
        ParquetSource(path=str(path)).load()


def test_sampling_users_is_seeded(tmp_path):
    path = _write(tmp_path, synthetic_tracks(200))
    a = CsvSource(path=str(path), user_column="playlist_id", sample_users=4, seed=1).load()
    b = CsvSource(path=str(path), user_column="playlist_id", sample_users=4, seed=1).load()
    assert a.interactions["user_id"].nunique() == 4
    pd.testing.assert_frame_equal(a.tracks, b.tracks)
    assert np.array_equal(a.tracks["track_id"], b.tracks["track_id"])
