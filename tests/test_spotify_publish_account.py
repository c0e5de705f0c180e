"""Publishing is idempotent against the Spotify account (not only the run directory), and publishes one
recording per song: against the Web API double, with /me/playlists paged, a 429 + Retry-After on the way,
`null` entries and followed playlists in the library."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from spotify_double import Fault, SpotifyDouble, make_catalogue
from spotify_double.signin import assert_no_secrets, publish, sign_in, spotify_env, spotify_overrides

from helpers import run_script
from src.spotify.account import stable_id, tag_of
from src.spotify.versions import first_per_song, song_key_map


@pytest.fixture
def api():
    with SpotifyDouble(catalogue=make_catalogue(120), library_nulls=2) as double:
        yield double


@pytest.fixture
def token(api, tmp_path) -> Path:
    path = tmp_path / "home" / "token.json"
    sign_in(api, path)
    return path


def write_run(path: Path, playlists: list[dict], names: dict[str, tuple[str, str]] | None = None) -> Path:
    """A pipeline-like run directory: playlists.json, and playlists.csv with each track's name and artist."""
    (path / "playlists").mkdir(parents=True, exist_ok=True)
    (path / "playlists" / "playlists.json").write_text(json.dumps(playlists))
    rows = [
        {
            "playlist_id": p["playlist_id"],
            "track_id": t,
            **dict(zip(("name", "artist"), names[t], strict=True)),
        }
        for p in playlists
        for t in p["track_ids"]
        if names and t in names
    ]
    pd.DataFrame(rows, columns=["playlist_id", "track_id", "name", "artist"]).to_csv(
        path / "playlists" / "playlists.csv", index=False
    )
    return path


def generated(api: SpotifyDouble) -> list[dict]:
    ids = list(api.catalogue)
    return [
        {
            "playlist_id": "c00",
            "name": "Calm",
            "kind": "cluster",
            "track_ids": ids[:60],
            "description": "quiet",
        },
        {"playlist_id": "c01", "name": "Party", "kind": "cluster", "track_ids": ids[60:70]},
        {"playlist_id": "seed-x", "name": "More like Song 3", "kind": "seeded", "track_ids": ids[3:8]},
    ]


def ours(api: SpotifyDouble) -> dict[str, dict]:
    """The user's playlists that carry a Playlist Lab tag, by tag."""
    found: dict[str, dict] = {}
    for p in api.user_playlists():
        stable = tag_of(p["description"])
        if stable:
            assert stable not in found, f"two copies of {stable}"
            found[stable] = p
    return found


def test_two_run_directories_leave_one_copy_of_each_playlist(api, token, tmp_path):
    ids = list(api.catalogue)
    for i in range(55):  # more than one page of /me/playlists before ours
        api.add_playlist(f"Unrelated {i}", ids[i : i + 2])
    stranger = api.follow("Calm (a copy)", ids[:3], owner="someone", description="[playlist-lab:default/c00]")
    playlists = generated(api)
    first = write_run(tmp_path / "run_a", playlists)
    publish(api, token, first, tmp_path / "pub_a")
    made = ours(api)
    assert set(made) == {"default/c00", "default/c01", "default/seed-x"}

    # a second run directory (no manifest) with the same playlists: nothing created, nothing changed
    second = write_run(tmp_path / "run_b", playlists)
    writes = len(api.writes())
    api.faults.append(Fault("GET", r"^/v1/me/playlists$", 429, retry_after=1, skip=1, times=1))
    again = publish(api, token, second, tmp_path / "pub_b")
    assert "0 created, 0 updated, 3 unchanged" in again.stdout
    assert len(api.writes()) == writes and ours(api) == made
    listing = [r for r in api.requests if r.path == "/v1/me/playlists" and r.method == "GET"]
    # 2 nulls + 55 + 1 followed + 3 ours = 61 entries: two pages, the second one rate limited once
    assert [(r.query.get("offset", "0"), r.status) for r in listing[-3:]] == [
        ("0", 200),
        ("50", 429),
        ("50", 200),
    ]
    assert all(r.query.get("limit") == "50" for r in listing)
    assert api.playlists[stranger]["uris"] == [f"spotify:track:{t}" for t in ids[:3]]  # never touched

    # a third run directory with changed playlists: the same Spotify playlists are updated in place
    changed = [dict(p) for p in playlists]
    changed[0] = {**changed[0], "track_ids": ids[10:40], "description": "quieter now"}
    changed[1] = {**changed[1], "name": "Party hard"}
    third = write_run(tmp_path / "run_c", changed)
    updated = publish(api, token, third, tmp_path / "pub_c")
    assert "0 created, 2 updated, 1 unchanged" in updated.stdout
    now = ours(api)
    assert {k: v["id"] for k, v in now.items()} == {k: v["id"] for k, v in made.items()}
    assert now["default/c00"]["uris"] == [f"spotify:track:{t}" for t in ids[10:40]]
    assert now["default/c00"]["description"].startswith("quieter now · made by Playlist Lab")
    assert now["default/c01"]["name"] == "Playlist Lab · Party hard"
    assert len(api.user_playlists()) == 55 + 3
    assert_no_secrets(api, [tmp_path / d for d in ("run_a", "run_b", "run_c", "pub_a", "pub_b", "pub_c")], [])


def test_the_manifest_of_a_copied_run_directory_and_a_deleted_playlist(api, token, tmp_path):
    run_a = write_run(tmp_path / "run_a", generated(api))
    publish(api, token, run_a, tmp_path / "pub_a")
    gone = ours(api)["default/c01"]["id"]
    del api.playlists[gone]  # removed in the Spotify app
    run_b = tmp_path / "run_b"
    shutil.copytree(run_a, run_b)  # the manifest comes along and still names the removed playlist
    result = publish(api, token, run_b, tmp_path / "pub_b")
    assert "1 created, 0 updated, 2 unchanged" in result.stdout
    assert (
        set(ours(api)) == {"default/c00", "default/c01", "default/seed-x"} and len(api.user_playlists()) == 3
    )


def test_playlists_published_before_the_tag_are_adopted_not_duplicated(api, token, tmp_path):
    ids = list(api.catalogue)
    legacy = api.add_playlist("Playlist Lab · Party", ids[60:70], description="made by Playlist Lab")
    mine = api.add_playlist("Playlist Lab · Calm", ids[:5], description="my own, same name, not ours")
    result = publish(api, token, write_run(tmp_path / "run", generated(api)), tmp_path / "pub")
    assert "2 created, 1 updated, 0 unchanged" in result.stdout
    assert ours(api)["default/c01"]["id"] == legacy  # tagged on its update
    assert api.playlists[mine]["uris"] == [f"spotify:track:{t}" for t in ids[:5]]


def test_another_series_is_another_set_of_playlists(api, token, tmp_path):
    run_dir = write_run(tmp_path / "run", generated(api))
    publish(api, token, run_dir, tmp_path / "pub_a")
    result = publish(api, token, run_dir, tmp_path / "pub_b", "series=library")
    assert "3 created, 0 updated, 0 unchanged" in result.stdout
    assert len(ours(api)) == 6 and "default/c00" in ours(api) and "library/c00" in ours(api)


def test_two_versions_of_one_song_are_published_once(api, token, tmp_path):
    ids = list(api.catalogue)
    names = {t: (f"Song {i}", f"Artist {i}") for i, t in enumerate(ids[:10])}
    names[ids[4]] = ("Song 1 - Remastered 2011", "Artist 1")  # the same song as ids[1]
    names[ids[6]] = ("Song 1 (feat. Guest)", "Artist 1, Guest")  # and again
    names[ids[7]] = ("Song 1 - David Guetta Remix", "Artist 1")  # a different recording: kept
    playlists = [{"playlist_id": "c00", "name": "Mix", "kind": "cluster", "track_ids": ids[:10]}]
    run_dir = write_run(tmp_path / "run", playlists, names)
    dry = publish(api, token, run_dir, tmp_path / "dry", "--dry-run")
    assert "create  'Playlist Lab · Mix' with 8 tracks (2 other versions of a song left out)" in dry.stdout
    result = publish(api, token, run_dir, tmp_path / "pub")
    kept = [t for t in ids[:10] if t not in (ids[4], ids[6])]
    assert ours(api)["default/c00"]["uris"] == [f"spotify:track:{t}" for t in kept]
    report = json.loads((tmp_path / "pub" / "publish_report.json").read_text())
    assert report["same_song_left_out"] == {"c00": 2}
    assert f"2 later version(s) of a song already in it left out: {ids[4]}, {ids[6]}" in (
        result.stdout + result.stderr
    )
    # the collected track table (tracks=…) serves as well as the run's playlists.csv
    table = tmp_path / "tracks.csv"
    pd.DataFrame([{"track_id": t, "name": n, "artist": a} for t, (n, a) in names.items()]).to_csv(
        table, index=False
    )
    (run_dir / "playlists" / "playlists.csv").unlink()
    again = publish(api, token, run_dir, tmp_path / "pub2", f"tracks={table}")
    assert "0 created, 0 updated, 1 unchanged" in again.stdout


def test_without_a_track_table_publishing_warns_and_keeps_every_track(api, token, tmp_path):
    ids = list(api.catalogue)
    run_dir = write_run(tmp_path / "run", [{"playlist_id": "c00", "name": "Mix", "track_ids": ids[:4]}])
    (run_dir / "playlists" / "playlists.csv").unlink()
    result = publish(api, token, run_dir, tmp_path / "pub", "kinds=null")
    assert "versions of the same song cannot be recognised" in result.stdout + result.stderr
    assert len(ours(api)["default/c00"]["uris"]) == 4


def test_a_bad_track_table_is_a_clear_error(api, token, tmp_path):
    ids = list(api.catalogue)
    run_dir = write_run(tmp_path / "run", [{"playlist_id": "c00", "name": "Mix", "track_ids": ids[:4]}])
    bad = tmp_path / "bad.csv"
    bad.write_text("track_id,title\nx,y\n")
    result = run_script(
        "spotify_publish.py",
        *spotify_overrides(api, token),
        f"run_dir={run_dir}",
        f"tracks={bad}",
        "kinds=null",
        f"hydra.run.dir={tmp_path / 'pub'}",
        env=spotify_env(api),
        timeout=60,
    )
    assert result.returncode == 2 and "no name, artist column(s)" in result.stderr
    assert "Traceback" not in result.stderr and api.writes() == []


def test_first_per_song_and_stable_ids():
    tracks = pd.DataFrame(
        {
            "track_id": ["a", "b", "c", "d"],
            "name": ["Yesterday", "Yesterday - Remastered 2009", "Help!", "Yesterday - Live"],
            "artist": ["The Beatles", "The Beatles", "The Beatles", "The Beatles"],
        }
    )
    kept, dropped = first_per_song(["b", "c", "a", "c", "d", "zz"], song_key_map(tracks))
    assert kept == ["b", "c", "zz"] and dropped == ["a", "c", "d"]
    assert stable_id("my library", "seed-4uLU6hMCjMI75M1A2tKUQC") == "my-library/seed-4uLU6hMCjMI75M1A2tKUQC"
    assert tag_of("x · made by Playlist Lab [playlist-lab:default/c00]") == "default/c00"
    assert tag_of("no tag here") is None
