"""scripts/spotify_publish.py on a hand-made run directory against the double (fast; the full
collect → pipeline → publish round trip is in test_spotify_e2e.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from spotify_double import Fault, SpotifyDouble, make_catalogue
from spotify_double.signin import assert_no_secrets, sign_in, spotify_env, spotify_overrides

from helpers import run_script


@pytest.fixture
def api():
    with SpotifyDouble(catalogue=make_catalogue(250)) as double:
        yield double


@pytest.fixture
def token(api, tmp_path) -> Path:
    path = tmp_path / "home" / "token.json"
    sign_in(api, path)
    return path


def make_run(api: SpotifyDouble, path: Path) -> list[dict]:
    ids = list(api.catalogue)
    playlists = [
        {
            "playlist_id": "c00",
            "name": "Calm acoustic",
            "kind": "cluster",
            "track_ids": ids[:230],
            "description": "Cluster 0 · 230 tracks\nquiet & calm",
        },
        {"playlist_id": "c01", "name": "Party", "kind": "cluster", "track_ids": ids[230:], "description": ""},
        {"playlist_id": "seed-1", "name": "More like Song 3", "kind": "seeded", "track_ids": ids[3:13]},
    ]
    (path / "playlists").mkdir(parents=True)
    (path / "playlists" / "playlists.json").write_text(json.dumps(playlists))
    return playlists


def publish(api, token, run_dir, out_dir, *extra):
    return run_script(
        "spotify_publish.py",
        *spotify_overrides(api, token),
        f"run_dir={run_dir}",
        f"hydra.run.dir={out_dir}",
        *extra,
        env=spotify_env(api),
        timeout=120,
    )


def test_publish_twice_creates_once_in_order_and_batches(api, token, tmp_path):
    run_dir = tmp_path / "run"
    playlists = make_run(api, run_dir)
    dry = publish(api, token, run_dir, tmp_path / "dry", "--dry-run")
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert "create  'Playlist Lab · Calm acoustic' with 230 tracks" in dry.stdout
    assert api.writes() == [] and api.user_playlists() == []

    first = publish(api, token, run_dir, tmp_path / "one", "kinds=[cluster]")
    assert first.returncode == 0, first.stderr[-3000:]
    made = api.user_playlists()
    assert sorted(p["name"] for p in made) == ["Playlist Lab · Calm acoustic", "Playlist Lab · Party"]
    calm = next(p for p in made if p["name"].endswith("Calm acoustic"))
    assert calm["uris"] == [f"spotify:track:{t}" for t in playlists[0]["track_ids"]]
    assert (
        calm["description"]
        == "Cluster 0 · 230 tracks quiet & calm · made by Playlist Lab [playlist-lab:default/c00]"
        and not calm["public"]
    )
    assert api.count("POST", rf"^/v1/playlists/{calm['id']}/items$") == 3  # 100 + 100 + 30

    second = publish(api, token, run_dir, tmp_path / "two", "kinds=[cluster]")
    assert second.returncode == 0 and "0 created, 0 updated, 2 unchanged" in second.stdout
    assert len(api.user_playlists()) == 2
    report = json.loads((tmp_path / "two" / "publish_report.json").read_text())
    assert report["planned"] == {"create": 0, "update": 0, "unchanged": 2}
    assert_no_secrets(api, [run_dir, tmp_path / "one", tmp_path / "two"], [first.stdout, second.stdout])


def test_a_playlist_deleted_on_spotify_is_created_again_and_updates_retry_5xx(api, token, tmp_path):
    run_dir = tmp_path / "run"
    make_run(api, run_dir)
    assert publish(api, token, run_dir, tmp_path / "one").returncode == 0
    manifest = json.loads((run_dir / "playlists" / "spotify_manifest.json").read_text())["users"]["tester"]
    del api.playlists[manifest["c01"]["spotify_id"]]
    api.faults.append(Fault("POST", r"^/v1/me/playlists$", 502, times=1))
    again = publish(api, token, run_dir, tmp_path / "two")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "1 created, 0 updated, 2 unchanged" in again.stdout
    assert len(api.user_playlists()) == 3


def test_publish_errors_are_clear(api, token, tmp_path):
    missing = publish(api, token, tmp_path / "nowhere", tmp_path / "a")
    assert missing.returncode == 2 and "playlists.json: not found" in missing.stderr
    run_dir = tmp_path / "run"
    (run_dir / "playlists").mkdir(parents=True)
    (run_dir / "playlists" / "playlists.json").write_text(
        json.dumps([{"playlist_id": "c0", "name": "x", "track_ids": ["row-1", "ok1"]}])
    )
    bad = publish(api, token, run_dir, tmp_path / "b")
    assert (
        bad.returncode == 2 and "not Spotify ids, e.g. row-1" in bad.stderr and "Traceback" not in bad.stderr
    )
