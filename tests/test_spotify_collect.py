"""scripts/spotify_collect.py end to end against the Web API double: pagination, the audio-features 403 and
CSV fallback, 429 within and beyond the Retry-After cap (stop, keep, resume without refetching), app vs user
sign-in, and clear errors."""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd
import pytest
from spotify_double import Fault, SpotifyDouble, make_catalogue
from spotify_double.signin import (
    assert_no_secrets,
    sign_in,
    sign_in_at_the_prompt,
    spotify_env,
    spotify_overrides,
)

from helpers import run_script
from src.data.sources import CsvSource, ParquetSource
from src.spotify.items import EPISODE, LOCAL_FILE, OTHER, REMOVED, SKIP_KINDS, skip_kind

FEATURES = [
    "danceability",
    "energy",
    "key",
    "loudness",
    "mode",
    "speechiness",
    "acousticness",
    "instrumentalness",
    "liveness",
    "valence",
    "tempo",
]


@pytest.fixture
def api():
    with SpotifyDouble(catalogue=make_catalogue(300)) as double:
        yield double


@pytest.fixture
def token(api, tmp_path) -> Path:
    path = tmp_path / "secrets" / "token.json"
    sign_in(api, path)
    return path


def collect(
    api: SpotifyDouble,
    token: Path,
    run_dir: Path,
    *overrides: str,
    cap: float = 2.0,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess:
    return run_script(
        "spotify_collect.py",
        *spotify_overrides(api, token, cap),
        *overrides,
        f"hydra.run.dir={run_dir}",
        env={**spotify_env(api), **(env or {})},
        timeout=120,
    )


def item_pages(api: SpotifyDouble, pid: str) -> list[tuple[str, int]]:
    return [
        (r.query.get("offset", "0"), r.status) for r in api.requests if r.path == f"/v1/playlists/{pid}/items"
    ]


def test_pagination_and_403_fallback_to_features_csv(api, token, tmp_path):
    ids = list(api.catalogue)
    big = api.add_playlist("Two hundred sixty", ids[:260])
    api.saved = ids[240:300]
    api.audio_features_allowed = False
    rows = [
        {"track_id": f"spotify:track:{t}", **{c: api.catalogue[t]["features"][c] for c in FEATURES}}
        for t in ids[:250]
    ]
    rows.append({"track_id": "NotCollected1", **{c: 0.5 for c in FEATURES}})
    csv = tmp_path / "features.csv"
    pd.DataFrame(rows).to_csv(csv, index=False)
    run_dir = tmp_path / "collect"
    result = collect(
        api,
        token,
        run_dir,
        f"source.playlists=['https://open.spotify.com/playlist/{big}?si=x']",
        "source.saved_tracks=true",
        f"features.csv={csv}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    log = result.stdout + result.stderr
    assert "27 Nov 2024" in log and "403 Forbidden" in log
    assert "features CSV matched 250 of 300 tracks" in result.stdout
    assert item_pages(api, big) == [(str(o), 200) for o in range(0, 260, 50)]  # 6 pages of ≤ 50
    assert all(r.query.get("limit") == "50" for r in api.requests if r.path.endswith("/items"))
    assert api.count("GET", r"^/v1/audio-features") == 1  # the 403 ends the API attempt

    table = pd.read_csv(run_dir / "tracks.csv")
    assert len(table) == 320 and table["track_id"].nunique() == 300
    assert table.loc[table["playlist_id"] == big, "position"].tolist() == list(range(260))
    first = table.iloc[0]
    assert (first["name"], first["artist"], first["album"]) == ("Song 0", "Artist 0, Guest", "Album 0")
    assert first["release_year"] == 1975
    report = json.loads((run_dir / "collect_report.json").read_text())
    assert report["features_from_csv"] == 250 and report["features_missing"] == 50
    assert report["audio_features_forbidden"] is True and report["status"] == "complete"
    interactions = pd.read_csv(run_dir / "interactions.csv")
    assert list(interactions.columns) == ["user_id", "track_id", "weight"] and len(interactions) == 320

    for source in (
        CsvSource(str(run_dir / "tracks.csv"), user_column="playlist_id"),
        ParquetSource(str(run_dir / "tracks.parquet"), user_column="playlist_id"),
    ):
        catalog = source.load()
        # the 50 tracks without features are dropped by the data layer, and reported
        assert len(catalog.tracks) == 250 and catalog.report.dropped == {
            "more than 6 audio features missing": 50
        }
        assert len(catalog.interactions) == 250 + 10
        assert set(catalog.interactions["user_id"]) == {big, "saved"}
    assert_no_secrets(api, [run_dir], [result.stdout, result.stderr])


def test_my_playlists_with_a_429_within_the_cap_and_an_unreadable_playlist(api, token, tmp_path):
    ids = list(api.catalogue)
    pid = api.add_playlist("Rate limited", ids[:120])
    small = api.add_playlist("Small", ids[100:130])
    followed = api.add_playlist("Someone else's", ids[200:210], owner="someone")
    api.faults.append(Fault("GET", rf"/playlists/{pid}/items", 429, retry_after=1, skip=1, times=1))
    result = collect(api, token, tmp_path / "run", "source.my_playlists=true")
    assert result.returncode == 0, result.stderr[-3000:]
    log = result.stdout + result.stderr
    assert "rate limit (429): waiting 1 s" in log
    assert f"playlist {followed} skipped: 403" in log
    assert item_pages(api, pid) == [("0", 200), ("50", 429), ("50", 200), ("100", 200)]
    table = pd.read_csv(tmp_path / "run" / "tracks.csv")
    assert table["track_id"].nunique() == 130
    assert table.groupby("playlist_id").size().to_dict() == {pid: 120, small: 30}
    report = json.loads((tmp_path / "run" / "collect_report.json").read_text())
    assert report["playlists"] == 2 and report["skipped"] == {"playlists unreadable (403)": 1}


def test_retry_after_beyond_cap_stops_keeps_data_and_resumes_without_refetching(api, token, tmp_path):
    pid = api.add_playlist("Long wait", list(api.catalogue)[:260])
    api.faults.append(Fault("GET", rf"/playlists/{pid}/items", 429, retry_after=3600, skip=3, times=1))
    run_dir = tmp_path / "run"
    stopped = collect(api, token, run_dir, f"source.playlists=[{pid}]", cap=5)
    assert stopped.returncode == 3, stopped.stderr[-3000:]
    assert "asked to wait 3600 s" in stopped.stderr and f"hydra.run.dir={run_dir}" in stopped.stderr
    assert "Traceback" not in stopped.stderr
    assert not (run_dir / "tracks.csv").exists()
    report = json.loads((run_dir / "collect_report.json").read_text())
    assert report["status"].startswith("stopped") and report["cached_responses"] == 4  # playlist + 3 pages
    assert item_pages(api, pid) == [("0", 200), ("50", 200), ("100", 200), ("150", 429)]

    resumed = collect(api, token, run_dir, f"source.playlists=[{pid}]", cap=5)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    pages = item_pages(api, pid)
    assert pages[4:] == [("150", 200), ("200", 200), ("250", 200)]  # only what was missing
    assert api.count("GET", rf"^/v1/playlists/{pid}$") == 1
    report = json.loads((run_dir / "collect_report.json").read_text())
    assert report["status"] == "complete" and report["responses_from_cache"] == 4 and report["tracks"] == 260
    assert pd.read_csv(run_dir / "tracks.csv")["position"].tolist() == list(range(260))


def test_track_ids_use_the_app_token_and_survive_a_401(api, tmp_path):
    ids = list(api.catalogue)[:6]
    api.faults.append(Fault("GET", r"^/v1/tracks/", 401, skip=2, times=1))
    token = tmp_path / "never-created.json"
    wanted = [
        ids[0],
        f"'spotify:track:{ids[1]}'",
        f"'https://open.spotify.com/track/{ids[2]}'",
        *ids[3:],
        "Unknown9",
    ]
    result = collect(api, token, tmp_path / "run", f"source.track_ids=[{','.join(wanted)}]")
    assert result.returncode == 0, result.stderr[-3000:]
    assert not token.exists()  # the app token stays in memory
    assert [r.status for r in api.requests if r.path == "/api/token"] == [200, 200]  # initial + after the 401
    tracks = pd.read_csv(tmp_path / "run" / "tracks.csv")
    assert tracks["track_id"].tolist() == ids and tracks["playlist_id"].isna().all()
    assert json.loads((tmp_path / "run" / "collect_report.json").read_text())["skipped"] == {
        "tracks not found (404)": 1
    }
    assert_no_secrets(api, [tmp_path / "run"], [result.stdout, result.stderr])


def test_first_run_signs_in_through_the_browser_flow(api, tmp_path):
    pid = api.add_playlist("Mine", list(api.catalogue)[:10])
    token = tmp_path / "fresh" / "token.json"
    code, out, err, redirect = sign_in_at_the_prompt(
        api,
        "spotify_collect.py",
        *spotify_overrides(api, token),
        f"source.playlists=[{pid}]",
        f"hydra.run.dir={tmp_path / 'run'}",
        timeout=120,
    )
    assert parse_qs(urlsplit(redirect).query)["code"]
    assert code == 0, err[-3000:]
    assert stat.S_IMODE(token.stat().st_mode) == 0o600
    assert pd.read_csv(tmp_path / "run" / "tracks.csv")["track_id"].nunique() == 10
    assert_no_secrets(api, [tmp_path / "run"], [out, err])


def test_clear_errors_for_nothing_to_collect_and_missing_credentials(api, token, tmp_path):
    empty = collect(api, token, tmp_path / "a")
    assert empty.returncode == 2 and "nothing to collect" in empty.stderr and "Traceback" not in empty.stderr
    no_id = collect(api, token, tmp_path / "b", "source.track_ids=[abc]", env={"SPOTIPY_CLIENT_ID": ""})
    assert no_id.returncode == 2 and "SPOTIPY_CLIENT_ID is not set" in no_id.stderr


def test_skipped_entries_by_kind_duplicates_per_playlist_and_numeric_parquet(api, token, tmp_path):
    t = list(api.catalogue)
    for tid in t[:3]:
        api.catalogue[tid]["track"]["popularity"] = 40
    mixed = api.add_playlist(
        "Mixed bag",
        [t[0], t[1], None, "spotify:local:Me:Demo:Take 1:180", "spotify:episode:E1", t[0], t[2], t[1], t[0]],
    )
    other = api.add_playlist("Podcast and repeats", [t[3], "spotify:episode:E2", t[3]])
    clean = api.add_playlist("Clean", t[4:8])
    api.audio_features_allowed = False
    csv = tmp_path / "features.csv"  # text as in public dumps: note names, Major/Minor, exponents, gaps
    rows = [{"track_id": tid, **{c: api.catalogue[tid]["features"][c] for c in FEATURES}} for tid in t[:8]]
    rows[0].update(key="C#", mode="Major", tempo="1.2e2")
    rows[1].update(mode="Minor", energy="?")
    pd.DataFrame(rows).to_csv(csv, index=False)
    run_dir = tmp_path / "run"
    result = collect(
        api, token, run_dir, f"source.playlists=[{mixed},{other},{clean}]", f"features.csv={csv}"
    )
    assert result.returncode == 0, result.stderr[-3000:]

    report = json.loads((run_dir / "collect_report.json").read_text())
    assert report["skipped_items"] == {"removed_or_unavailable": 1, "local_file": 1, "episode": 2, "other": 0}
    assert report["skipped_items_by_playlist"] == {
        mixed: {"removed_or_unavailable": 1, "local_file": 1, "episode": 1},
        other: {"episode": 1},
    }
    assert report["skipped"] == {}
    assert report["duplicates_in_playlists"] == [
        {"playlist_id": mixed, "playlist_name": "Mixed bag", "duplicate_slots": 3, "track_ids": [t[0], t[1]]},
        {
            "playlist_id": other,
            "playlist_name": "Podcast and repeats",
            "duplicate_slots": 1,
            "track_ids": [t[3]],
        },
    ]
    assert "'Mixed bag'" in result.stdout + result.stderr and "3 extra slots" in result.stdout + result.stderr

    table = pd.read_parquet(run_dir / "tracks.parquet")
    dtypes = table.dtypes.astype(str).to_dict()
    for column in ("danceability", "energy", "loudness", "speechiness", "acousticness", "instrumentalness"):
        assert dtypes[column] == "float64", column
    for column in ("liveness", "valence", "tempo"):
        assert dtypes[column] == "float64", column
    for column in ("key", "mode", "time_signature", "duration_ms", "popularity", "release_year", "position"):
        assert dtypes[column] == "Int64", column
    first = table.loc[table["track_id"] == t[0]].iloc[0]
    assert (first["key"], first["mode"], first["tempo"], first["popularity"]) == (1, 1, 120.0, 40)
    second = table.loc[table["track_id"] == t[1]].iloc[0]
    assert second["mode"] == 0 and np.isnan(second["energy"])
    assert table.loc[table["track_id"] == t[5], "popularity"].isna().all()  # not sent: missing, not 0
    assert table["release_year"].between(1975, 2020).all()
    # the data layer reads the typed parquet back without complaint
    catalog = ParquetSource(str(run_dir / "tracks.parquet"), user_column="playlist_id").load()
    assert len(catalog.tracks) == 8


def test_skip_kind_names_every_kind():
    assert skip_kind(None) == REMOVED
    assert skip_kind({"type": "track", "id": None}) == REMOVED
    assert skip_kind({"type": "track", "id": None, "is_local": True}) == LOCAL_FILE
    assert skip_kind({"type": "track", "id": "x"}, {"is_local": True}) == LOCAL_FILE
    assert skip_kind({"type": "episode", "id": "e"}) == EPISODE
    assert skip_kind({"type": "track", "id": "e", "episode": True}) == EPISODE
    assert skip_kind({"type": "chapter", "id": "c"}) == OTHER
    assert skip_kind({"type": "track", "id": "ok"}) is None
    assert set(SKIP_KINDS) == {REMOVED, LOCAL_FILE, EPISODE, OTHER}
