"""Synthetic MPD slices (src/data/synthetic_mpd.py): format, shape, determinism, the MPD loader's fast path and
the entry script."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import ROOT, run_script
from src.data.errors import DataError
from src.data.mpd import MPDSource
from src.data.schema import AUDIO_FEATURES, TRACK_COLUMNS
from src.data.synthetic_mpd import (
    SyntheticMPDParams,
    generate,
    make_catalogue,
    playlist_lengths,
    sample_playlist,
)

# A small catalogue so a few hundred playlists take well under a second.
SMALL = {"n_artists": 400, "n_genres": 8, "mean_length": 40.0, "max_length": 120}
TRACK_URI = re.compile(r"^spotify:track:[0-9A-Za-z]{22}$")
OFFICIAL_TRACK_FIELDS = {
    "pos",
    "track_uri",
    "artist_name",
    "artist_uri",
    "track_name",
    "album_name",
    "album_uri",
    "duration_ms",
}


@pytest.fixture(scope="module")
def small_set(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("synth")
    params = SyntheticMPDParams(n_playlists=120, slice_size=50, seed=3, **SMALL)
    return out, generate(params, out, progress=False)


def _playlists(out: Path) -> list[dict]:
    return [
        p for path in sorted(out.glob("mpd.slice.*.json")) for p in json.loads(path.read_text())["playlists"]
    ]


def test_official_format_and_round_trip_through_mpd_source(small_set):
    out, shape = small_set
    names = sorted(p.name for p in out.glob("mpd.slice.*.json"))
    assert names == ["mpd.slice.0-49.json", "mpd.slice.100-119.json", "mpd.slice.50-99.json"]
    doc = json.loads((out / "mpd.slice.0-49.json").read_text())
    assert doc["info"]["slice"] == "0-49" and len(doc["playlists"]) == 50
    playlists = _playlists(out)
    assert sorted(p["pid"] for p in playlists) == list(range(120))
    for playlist in playlists:
        assert playlist["num_tracks"] == len(playlist["tracks"]) and playlist["name"]
        assert [t["pos"] for t in playlist["tracks"]] == list(range(playlist["num_tracks"]))
        assert all(
            set(t) == OFFICIAL_TRACK_FIELDS and TRACK_URI.match(t["track_uri"]) for t in playlist["tracks"]
        )
        assert len({t["track_uri"] for t in playlist["tracks"]}) == playlist["num_tracks"]

    catalog = MPDSource(path=str(out), features_path=str(out / "features.csv")).load()
    tracks, inter = catalog.tracks, catalog.interactions
    assert len(inter) == shape["rows"] and inter["user_id"].nunique() == shape["playlists"] == 120
    assert len(tracks) == shape["distinct_tracks"] and not catalog.report.dropped
    assert (tracks["has_audio"] == 1).all() and tracks[list(AUDIO_FEATURES)].notna().all().all()
    assert tracks["artist"].notna().all() and tracks["album"].notna().all()
    assert tracks["release_year"].between(1950, 2017).all()
    saved = json.loads((out / "synthetic_mpd.json").read_text())
    assert saved["shape"] == shape and saved["params"]["seed"] == 3


def test_shape_heavy_tailed_popularity_and_shared_artists(small_set):
    out, shape = small_set
    playlists = _playlists(out)
    lengths = np.array([p["num_tracks"] for p in playlists])
    assert lengths.min() >= 5 and lengths.max() <= 120
    rows = pd.DataFrame(
        [(p["pid"], t["track_uri"], t["artist_uri"]) for p in playlists for t in p["tracks"]],
        columns=["pid", "track", "artist"],
    )
    counts = rows["track"].value_counts()
    top = counts.iloc[: max(1, len(counts) // 100)].sum() / len(rows)
    assert top > 0.05 and shape["top1pct_tracks_row_share"] == pytest.approx(top)  # ≫ 1% of the rows
    assert (counts == 1).mean() == pytest.approx(shape["tracks_seen_once"]) and (counts == 1).mean() > 0.2
    playlists_per_artist = rows.drop_duplicates(["pid", "artist"]).groupby("artist").size()
    assert (playlists_per_artist >= 2).mean() > 0.3 and playlists_per_artist.max() > 10
    assert (rows.groupby("pid")["artist"].nunique() < lengths).mean() > 0.5  # artist runs within playlists


def test_audio_features_follow_the_playlist_topic(small_set):
    """Content signal: tracks of one playlist are closer in audio features than random tracks."""
    out, _ = small_set
    features = pd.read_csv(out / "features.csv").set_index("track_id")
    rows = [(p["pid"], t["track_uri"].rsplit(":", 1)[1]) for p in _playlists(out) for t in p["tracks"]]
    columns = ["danceability", "energy", "acousticness", "valence", "tempo"]
    frame = features.loc[[track for _, track in rows], columns]
    frame["pid"] = [pid for pid, _ in rows]
    ratio = frame.groupby("pid").std().mean() / frame[columns].std()
    assert ratio.mean() < 0.9 and (ratio < 1.0).all()


def test_same_seed_same_files_other_seed_other_files(tmp_path):
    params = SyntheticMPDParams(n_playlists=30, slice_size=1000, seed=5, **SMALL)
    for name in ("a", "b"):
        generate(params, tmp_path / name, progress=False)
    generate(SyntheticMPDParams(n_playlists=30, seed=6, **SMALL), tmp_path / "c", progress=False)
    files = ["mpd.slice.0-29.json", "features.csv", "synthetic_mpd.json"]
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert (tmp_path / "a" / files[0]).read_bytes() != (tmp_path / "c" / files[0]).read_bytes()


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_playlists=st.integers(1, 40),
    min_length=st.integers(1, 20),
    span=st.integers(10, 200),
    mean_frac=st.floats(0.05, 0.9),
    sigma=st.floats(0.2, 1.5),
    p_popular=st.floats(0.0, 0.5),
    p_same_artist=st.floats(0.0, 0.5),
)
def test_playlists_are_unique_tracks_within_the_length_bounds(
    seed, n_playlists, min_length, span, mean_frac, sigma, p_popular, p_same_artist
):
    max_length = min_length + span
    params = SyntheticMPDParams(
        n_playlists=n_playlists,
        seed=seed,
        min_length=min_length,
        max_length=max_length,
        mean_length=min_length + 0.5 + mean_frac * (span - 1),
        length_sigma=sigma,
        p_popular=p_popular,
        p_same_artist=p_same_artist,
        n_artists=60,
        n_genres=5,
    )
    rng = np.random.default_rng(seed)
    cat = make_catalogue(params, rng)
    lengths = playlist_lengths(params, rng)
    assert len(lengths) == n_playlists and lengths.min() >= min_length and lengths.max() <= max_length
    for length in lengths[:5]:
        tracks, genres = sample_playlist(cat, int(length), params, rng)
        assert len(tracks) == length == len(np.unique(tracks)) and 0 <= tracks.min() <= tracks.max() < len(
            cat.weight
        )
        assert len(genres) >= 1


@settings(max_examples=15, deadline=None)
@given(mean=st.floats(8.0, 200.0), sigma=st.floats(0.3, 1.3), seed=st.integers(0, 1000))
def test_length_mean_hits_the_target(mean, sigma, seed):
    params = SyntheticMPDParams(n_playlists=20_000, mean_length=mean, length_sigma=sigma)
    lengths = playlist_lengths(params, np.random.default_rng(seed))
    assert lengths.min() >= 5 and lengths.max() <= 250
    assert lengths.mean() == pytest.approx(mean, rel=0.05, abs=0.6)


def test_bad_parameters_raise_clear_errors():
    with pytest.raises(DataError, match="mean_length"):
        SyntheticMPDParams(mean_length=300)
    with pytest.raises(DataError, match="p_popular"):
        SyntheticMPDParams(p_popular=0.8, p_same_artist=0.5)
    with pytest.raises(DataError, match="fewer than max_length"):
        make_catalogue(
            SyntheticMPDParams(n_artists=10, n_genres=2, mean_album_tracks=1.0, mean_albums=1.0),
            np.random.default_rng(0),
        )


def test_config_lists_every_parameter_with_its_default():
    from dataclasses import fields

    from omegaconf import OmegaConf

    config = OmegaConf.load(ROOT / "configs" / "make_synthetic_mpd.yaml")
    defaults = {f.name: f.default for f in fields(SyntheticMPDParams)}
    assert OmegaConf.to_container(config.params) == defaults


# -- the MPD loader's fast path gives the tables of the loader it replaced ---------------------------------
def _reference_load(source: MPDSource):
    """src/data/mpd.py `MPDSource.load` before the fast path (one dict per row, pandas `isin`/`.loc` on
    arrow strings), kept verbatim as the reference the fast path must reproduce."""
    from src.data.mpd import _TRACK_FIELDS, _slice_paths, _strip_uri, read_slice
    from src.data.report import DataReport
    from src.data.sources import Catalog, CsvSource, ParquetSource

    paths = _slice_paths(source.path)
    report = DataReport(source=", ".join(map(str, paths[:3])) + (" …" if len(paths) > 3 else ""))
    rows: list[dict] = []
    for path in paths:
        for playlist in read_slice(path):
            pid = playlist.get("pid")
            tracks = playlist.get("tracks") or []
            if pid is None:
                raise DataError(f"{path}: a playlist has no 'pid'")
            for entry in tracks:
                report.rows_read += 1
                track_id = _strip_uri(entry.get("track_uri"))
                if track_id is None:
                    report.drop("MPD track without track_uri", 1)
                    continue
                row = {"user_id": f"mpd-{pid}", "track_id": track_id}
                row.update({canon: entry.get(field) for field, canon in _TRACK_FIELDS.items()})
                rows.append(row)
    if not rows:
        raise DataError(f"{report.source}: the slices hold no playlist tracks")
    frame = pd.DataFrame(rows)
    pairs = frame[["user_id", "track_id"]].drop_duplicates()
    sizes = pairs.groupby("user_id")["track_id"].transform("size")
    short = sizes < source.min_tracks
    report.drop(
        f"playlists with fewer than {source.min_tracks} tracks", int(pairs.loc[short, "user_id"].nunique())
    )
    pairs = pairs.loc[~short]
    interactions = pairs.assign(weight=np.float32(1.0)).reset_index(drop=True)
    tracks = frame.drop(columns="user_id").drop_duplicates("track_id").reset_index(drop=True)
    tracks = tracks[tracks["track_id"].isin(set(pairs["track_id"]))].reset_index(drop=True)
    report.duplicate_rows_merged = len(frame) - len(tracks)
    # _with_features
    tracks["duration_ms"] = pd.to_numeric(tracks["duration_ms"], errors="coerce")
    tracks.loc[tracks["duration_ms"] <= 0, "duration_ms"] = np.nan
    for column in ("release_year", "popularity"):
        tracks[column] = np.nan
    for column in AUDIO_FEATURES:
        if column not in tracks:
            tracks[column] = np.nan
    tracks["has_audio"] = np.int8(0)
    if source.features_path:
        source_cls = ParquetSource if str(source.features_path).endswith(".parquet") else CsvSource
        features = source_cls(path=source.features_path).load().tracks.set_index("track_id")
        known = tracks["track_id"].isin(features.index)
        idx = tracks.loc[known, "track_id"]
        for column in (*AUDIO_FEATURES, "release_year", "popularity"):
            if column in features:
                tracks.loc[known, column] = features.loc[idx, column].to_numpy()
        tracks.loc[known, "has_audio"] = np.int8(1)
        report.notes.append(
            f"audio features for {int(known.sum())} of {len(tracks)} tracks from {source.features_path}"
        )
    else:
        report.notes.append("no features_path: MPD tracks have no audio features (id, artist, album only)")
    tracks = tracks[[c for c in TRACK_COLUMNS if c in tracks] + ["has_audio"]]
    report.tracks, report.interactions = len(tracks), len(interactions)
    labels = pd.DataFrame({"track_id": pd.Series(dtype="string")})
    return Catalog(tracks=tracks, interactions=interactions, labels=labels, report=report)


def _messy_copy(src: Path, dst: Path) -> None:
    """The generated slices with what real dumps hold: missing/blank/odd uris, repeats, a too-short playlist,
    odd durations and missing names."""
    dst.mkdir()
    for path in sorted(src.glob("mpd.slice.*.json")):
        doc = json.loads(path.read_text())
        playlists = sorted(doc["playlists"], key=lambda p: -p["num_tracks"])
        long = playlists[0]["tracks"]
        long[0].pop("track_uri")
        long[1]["track_uri"] = "   "
        long[2]["track_uri"] = None
        long[3]["track_uri"] = " spotify:track:" + long[4]["track_uri"].rsplit(":", 1)[1] + " "  # a repeat
        long[5]["duration_ms"] = 0
        long[6]["duration_ms"] = "n/a"
        long[7].pop("album_name")
        long.append(dict(long[8]))  # the same entry twice
        playlists[1]["tracks"] = playlists[1]["tracks"][:1]  # below min_tracks
        playlists[2]["tracks"] = []
        (dst / path.name).write_text(json.dumps(doc))


@pytest.mark.parametrize("features", [False, True])
def test_fast_loader_gives_the_reference_tables(small_set, tmp_path, features):
    out, _ = small_set
    _messy_copy(out, tmp_path / "messy")
    partial = tmp_path / "features.csv"
    table = pd.read_csv(out / "features.csv")
    table.sample(frac=0.7, random_state=0).to_csv(partial, index=False)  # some tracks without audio
    for path in (out, tmp_path / "messy"):
        source = MPDSource(path=str(path), features_path=str(partial) if features else None)
        fast, reference = source.load(), _reference_load(source)
        assert bool(fast.report.dropped) == (path != out)  # the messy copy exercises the drop paths
        pd.testing.assert_frame_equal(fast.tracks, reference.tracks)
        pd.testing.assert_frame_equal(fast.interactions, reference.interactions)
        pd.testing.assert_frame_equal(fast.labels, reference.labels)
        assert fast.report.to_dict() == reference.report.to_dict()


# -- the entry script ------------------------------------------------------------------------------------------
def test_script_writes_the_slices_and_prints_the_shape(tmp_path):
    out = tmp_path / "mpd"
    result = run_script(
        "make_synthetic_mpd.py",
        "params.n_playlists=40",
        "params.slice_size=25",
        "params.n_artists=300",
        "params.mean_length=30",
        "progress=false",
        f"out_dir={out}",
        f"hydra.run.dir={tmp_path / 'run'}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "40 playlists" in result.stdout and "tracks seen once" in result.stdout and "cold" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == [
        "features.csv",
        "mpd.slice.0-24.json",
        "mpd.slice.25-39.json",
        "synthetic_mpd.json",
    ]
    shape = json.loads((out / "synthetic_mpd.json").read_text())["shape"]
    assert f"{shape['distinct_tracks']} distinct tracks, {shape['rows']} rows" in result.stdout
    bad = run_script(
        "make_synthetic_mpd.py",
        "params.mean_length=1000",
        f"out_dir={out}",
        f"hydra.run.dir={tmp_path / 'b'}",
    )
    assert bad.returncode == 2 and "mean_length" in bad.stderr and "Traceback" not in bad.stderr
