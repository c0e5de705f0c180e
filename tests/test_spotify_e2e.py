"""collect → scripts/pipeline.py → publish against the Web API double, the way a user runs them: playlists
land in the account in order and in batches of ≤ 100, re-publishing never duplicates, a dry run changes
nothing, and no secret reaches any file of any run directory or any log (even at DEBUG level)."""

from __future__ import annotations

import json

import pytest
from spotify_double import SpotifyDouble, make_catalogue
from spotify_double.signin import assert_no_secrets, publish, sign_in, spotify_env, spotify_overrides

from helpers import run_script

PIPELINE = [
    "logger=none",
    "progress=false",
    "cluster.k=2",
    "cluster.k_max=4",
    "cluster.n_init=2",
    "cluster.recluster.min_size=40",
    "cluster.recluster.k_max=2",
    "evaluation.fixed_k=[]",
    "evaluation.stability_seeds=0",
    "evaluation.silhouette_size=300",
    "playlists.max_tracks=120",
    "playlists.n_auto_seeds=1",
    "playlists.seeded_size=8",
]


def remote(api: SpotifyDouble) -> dict[str, tuple[str, list[str]]]:
    return {p["id"]: (p["name"], [u.rsplit(":", 1)[1] for u in p["uris"]]) for p in api.user_playlists()}


@pytest.mark.slow
def test_collect_pipeline_publish_round_trip(tmp_path):
    with SpotifyDouble(catalogue=make_catalogue(300, seed=1)) as api:
        ids = list(api.catalogue)
        first, second = api.add_playlist("Road trip", ids[:260]), api.add_playlist("Evening", ids[200:])
        token = tmp_path / "home" / "token.json"
        sign_in(api, token)
        outputs: list[str] = []

        # 1. collect (DEBUG logging on: spotipy then logs request headers, which must come out redacted)
        collect_dir = tmp_path / "collect"
        result = run_script(
            "spotify_collect.py",
            *spotify_overrides(api, token),
            "hydra.verbose=true",
            f"source.playlists=[{first},{second}]",
            f"hydra.run.dir={collect_dir}",
            env=spotify_env(api),
            timeout=120,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        outputs += [result.stdout, result.stderr]
        assert "Bearer ***" in (collect_dir / "spotify_collect.log").read_text()

        # 2. the pipeline reads the collected catalogue, playlists as users
        run_dir = tmp_path / "pipeline"
        result = run_script(
            "pipeline.py",
            *PIPELINE,
            "data=csv",
            f"data.path={collect_dir / 'tracks.csv'}",
            "data.user_column=playlist_id",
            f"hydra.run.dir={run_dir}",
            timeout=300,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        metrics = json.loads((run_dir / "metrics.json").read_text())
        assert metrics["n_tracks"] == 300 and "coplaylist_lift" in metrics
        generated = json.loads((run_dir / "playlists" / "playlists.json").read_text())
        assert any(len(p["track_ids"]) > 100 for p in generated)  # exercises batches of 100

        # 3. dry run: reads only
        result = publish(api, token, run_dir, tmp_path / "dry", "--dry-run")
        outputs += [result.stdout, result.stderr]
        assert result.stdout.count("create  '") == len(generated) and "nothing was changed" in result.stdout
        assert api.writes() == [] and len(api.user_playlists()) == 2
        assert not (run_dir / "playlists" / "spotify_manifest.json").exists()

        # 4. publish: one Spotify playlist per generated one, items in order, ≤ 100 per request
        result = publish(api, token, run_dir, tmp_path / "pub1")
        outputs += [result.stdout, result.stderr]
        assert f"published: {len(generated)} created, 0 updated, 0 unchanged" in result.stdout
        made = {k: v for k, v in remote(api).items() if k not in (first, second)}
        assert sorted(made.values()) == sorted(
            (f"Playlist Lab · {p['name']}", p["track_ids"]) for p in generated
        )
        manifest = json.loads((run_dir / "playlists" / "spotify_manifest.json").read_text())["users"][
            "tester"
        ]
        assert {m["spotify_id"] for m in manifest.values()} == set(made)
        big = next(p for p in generated if len(p["track_ids"]) > 100)
        big_id = manifest[big["playlist_id"]]["spotify_id"]
        assert api.count("POST", rf"^/v1/playlists/{big_id}/items$") == -(-len(big["track_ids"]) // 100)
        writes = len(api.writes())

        # 5. publish again: nothing to do, no duplicates
        result = publish(api, token, run_dir, tmp_path / "pub2")
        outputs += [result.stdout, result.stderr]
        assert f"0 created, 0 updated, {len(generated)} unchanged" in result.stdout
        assert len(api.writes()) == writes and len(api.user_playlists()) == len(generated) + 2

        # 6. the run's playlists change (reordered, renamed): dry run shows it, publish updates in place
        generated[0]["track_ids"] = generated[0]["track_ids"][::-1]
        generated[1]["name"] = "Renamed"
        (run_dir / "playlists" / "playlists.json").write_text(json.dumps(generated))
        before_manifest = (run_dir / "playlists" / "spotify_manifest.json").read_bytes()
        result = publish(api, token, run_dir, tmp_path / "dry2", "dry_run=true")
        assert result.stdout.count("update  '") == 2 and "reordered" in result.stdout
        assert "name changes" in result.stdout
        assert len(api.writes()) == writes
        assert (run_dir / "playlists" / "spotify_manifest.json").read_bytes() == before_manifest
        result = publish(api, token, run_dir, tmp_path / "pub3")
        outputs += [result.stdout, result.stderr]
        assert f"0 created, 2 updated, {len(generated) - 2} unchanged" in result.stdout
        now = remote(api)
        assert len(now) == len(generated) + 2
        assert now[manifest[generated[0]["playlist_id"]]["spotify_id"]][1] == generated[0]["track_ids"]
        assert now[manifest[generated[1]["playlist_id"]]["spotify_id"]][0] == "Playlist Lab · Renamed"

        # 7. no secret anywhere: every file of every run directory, every output
        dirs = [collect_dir, run_dir, *(tmp_path / d for d in ("dry", "pub1", "pub2", "dry2", "pub3"))]
        assert assert_no_secrets(api, dirs, outputs) > 20
        assert token.is_file() and not any(token.is_relative_to(d) for d in dirs)
