"""scripts/mixes.py end to end: the three kinds of listener (a user of the data, track ids, a Spotify library
collected from the Web API double), with a run that saved a hybrid and with one that did not, and the exit-2
paths. The library case collects from the double, trains on the collected catalogue and publishes the mixes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from omegaconf import OmegaConf
from spotify_double import SpotifyDouble, make_catalogue
from spotify_double.signin import publish, sign_in, spotify_env, spotify_overrides

from conftest import TT_FAST
from helpers import TINY, run_script
from src.data.errors import DataError
from src.tasks.mixes import listener_tracks

MIX = ["mix.size=8", "tastes.min_size=4"]


def _data(path: Path) -> list[str]:
    return ["data=csv", f"data.path={path}", "data.user_column=playlist_id"]


@pytest.fixture(scope="module")
def trained(two_tower_run, playlists_csv) -> tuple[Path, Path]:
    """The shared embedding=two_tower run (it saves the hybrid) and its 300-track, 12-playlist catalogue."""
    return two_tower_run, playlists_csv


def make_mixes(run: Path, data: Path, out: Path, *listener: str):
    """scripts/mixes.py on run `run` (its catalogue `data`) for a listener, into `out`."""
    return run_script("mixes.py", f"run_dir={run}", *_data(data), *listener, *MIX, f"hydra.run.dir={out}")


def _mixes(out: Path) -> tuple[dict, list[dict]]:
    summary = json.loads((out / "mixes.json").read_text())
    return summary, json.loads((out / "mixes" / "playlists.json").read_text())


@pytest.mark.slow
def test_mixes_for_a_user_of_the_data(tmp_path, trained):
    run, path = trained
    out = tmp_path / "user"
    result = make_mixes(run, path, out, "listener.user=edm-0")
    assert result.returncode == 0, result.stderr[-3000:]
    summary, mixes = _mixes(out)
    frame = pd.read_csv(path)
    history = set(frame.loc[frame["playlist_id"] == "edm-0", "track_id"])
    assert summary["recommender"] == "hybrid" and summary["history_tracks"] == len(history)
    assert len(summary["tastes"]) == len(mixes) >= 1 and sum(t["tracks"] for t in summary["tastes"]) == len(
        history
    )
    chosen = [t for m in mixes for t in m["track_ids"]]
    assert len(chosen) == len(set(chosen)) and not history & set(chosen)
    assert all(len(m["track_ids"]) == 8 and m["kind"] == "mix" for m in mixes)
    assert len(list((out / "mixes").glob("*.m3u8"))) == len(mixes)
    assert (out / "figures" / "tastes_map.png").exists() and (out / "figures" / "mix_profiles.png").exists()
    html = (out / "report.html").read_text()
    assert "Your mixes" in html and all(m["name"] in html for m in mixes)


@pytest.mark.slow
def test_mixes_for_track_ids_and_for_a_run_without_a_recommender(tmp_path, trained):
    run, path = trained
    ids = [f"t{i:04d}" for i in range(0, 60, 3)]
    result = make_mixes(run, path, tmp_path / "ids", f"listener.tracks=[{','.join(ids)}]")
    assert result.returncode == 0, result.stderr[-3000:]
    summary, mixes = _mixes(tmp_path / "ids")
    assert summary["listener"]["matched_by_id"] == len(ids) and mixes
    assert not set(ids) & {t for m in mixes for t in m["track_ids"]}

    raw = tmp_path / "raw"  # an audio-only run: mixes come from its own embedding
    result = run_script("pipeline.py", *TINY, *_data(path), "cluster.k=3", f"hydra.run.dir={raw}")
    assert result.returncode == 0, result.stderr[-3000:]
    result = make_mixes(raw, path, tmp_path / "raw_mixes", f"listener.tracks=[{','.join(ids)}]")
    assert result.returncode == 0, result.stderr[-3000:]
    assert _mixes(tmp_path / "raw_mixes")[0]["recommender"].startswith("nearest tracks in")

    result = make_mixes(run, path, tmp_path / "bad", "listener.tracks=[nope]")
    assert (
        result.returncode == 2
        and "none of the listener" in result.stderr
        and "Traceback" not in result.stderr
    )
    assert not (tmp_path / "bad" / "mixes").exists()  # a failed run leaves no partial mixes


@pytest.mark.parametrize(
    ("listener", "message"),
    [
        ({}, "give exactly one listener"),
        ({"user": "p1", "tracks": ["t1"]}, "give exactly one listener"),
        ({"user": "nobody"}, "no such user"),
        ({"tracks": ["nope"]}, "none of the listener"),
    ],
)
def test_listener_errors_name_what_to_fix(listener, message):
    """The script exits 2 with these messages (one case runs end to end above); checked here in-process."""
    tracks = pd.DataFrame({"track_id": ["t1", "t2"], "track_name": ["a", "b"], "track_artist": ["x", "y"]})
    interactions = pd.DataFrame({"user_id": ["p1", "p1"], "track_id": ["t1", "t2"]})
    cfg = OmegaConf.create({"listener": {"user": None, "tracks": None, "library": None, **listener}})
    with pytest.raises(DataError, match=message):
        listener_tracks(cfg, tracks, interactions)


@pytest.mark.slow
def test_mixes_from_a_collected_spotify_library(tmp_path):
    with SpotifyDouble(catalogue=make_catalogue(240, seed=2)) as api:
        ids = list(api.catalogue)
        lists = [api.add_playlist(f"List {i}", ids[i * 40 : i * 40 + 60]) for i in range(5)]
        api.saved = ids[:12] + ids[100:112]  # the listener's liked tracks: two styles
        token = tmp_path / "home" / "token.json"
        sign_in(api, token)
        collect = lambda out, *source: run_script(  # noqa: E731
            "spotify_collect.py",
            *spotify_overrides(api, token),
            *source,
            f"hydra.run.dir={out}",
            env=spotify_env(api),
            timeout=120,
        )
        result = collect(tmp_path / "catalogue", f"source.playlists=[{','.join(lists)}]")
        assert result.returncode == 0, result.stderr[-3000:]
        result = collect(tmp_path / "library", "source.saved_tracks=true")
        assert result.returncode == 0, result.stderr[-3000:]

        catalogue = tmp_path / "catalogue" / "tracks.csv"
        run = tmp_path / "run"
        result = run_script(
            "pipeline.py",
            *TINY,
            *_data(catalogue),
            "embedding=two_tower",
            "cluster.k=3",
            *TT_FAST,
            f"hydra.run.dir={run}",
            timeout=600,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        out = tmp_path / "mixes"
        result = make_mixes(run, catalogue, out, f"listener.library={tmp_path / 'library'}")
        assert result.returncode == 0, result.stderr[-3000:]
        summary, mixes = _mixes(out)
        assert summary["listener"]["matched_by_id"] == 24 and summary["history_tracks"] == 24
        assert not set(api.saved) & {t for m in mixes for t in m["track_ids"]}

        # publish the mixes like any playlist; a second mixes run publishing again leaves one copy of each
        again = tmp_path / "mixes2"
        result = make_mixes(run, catalogue, again, f"listener.library={tmp_path / 'library'}")
        assert result.returncode == 0, result.stderr[-3000:]
        before = len(api.user_playlists())
        for n, run_dir in enumerate((out, again)):
            publish(api, token, run_dir, tmp_path / f"pub{n}", "kinds=[mix]")
        published = [p for p in api.user_playlists() if p["name"].startswith("Playlist Lab · Mix")]
        assert len(api.user_playlists()) == before + len(mixes) == before + len(published)
        assert sorted(p["name"] for p in published) == sorted(f"Playlist Lab · {m['name']}" for m in mixes)


def test_evaluate_mixes_writes_the_three_ways_side_by_side(tmp_path, playlists_csv):
    out = tmp_path / "ev"
    result = run_script(
        "evaluate_mixes.py",
        *_data(playlists_csv),
        "fill_with=rp3beta",
        "space=audio",
        "split_seeds=[0]",
        "n=20",
        "catalogue_k=4",
        "tastes.min_size=4",
        f"hydra.run.dir={out}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    for way in ("mixes", "chunked", "catalogue"):
        assert 0 <= metrics[f"{way}/mix_recall@20"] <= 1 and metrics[f"{way}/mix_coherence"] > 0
        assert metrics[f"{way}/novelty"] == 1.0 and 0 < metrics[f"{way}/artist_diversity"] <= 1
    assert metrics["listeners"] == 12 and metrics["mixes/mixes_per_listener"] >= 1
    table = (out / "mix_table.md").read_text()
    assert "| mixes |" in table and "| chunked |" in table and "| catalogue |" in table


def test_evaluate_mixes_validation_view_reuses_its_cached_fit(tmp_path, playlists_csv):
    args = (*_data(playlists_csv), "fill_with=rp3beta", "space=audio", "split_seeds=[0]", "n=20")
    args = (*args, "catalogue_k=4", "tastes.min_size=4", "part=val", f"model_cache={tmp_path / 'cache'}")
    runs = []
    for name in ("first", "second"):
        result = run_script("evaluate_mixes.py", *args, f"hydra.run.dir={tmp_path / name}")
        assert result.returncode == 0, result.stderr[-3000:]
        runs.append(json.loads((tmp_path / name / "metrics.json").read_text()))
    assert len(list((tmp_path / "cache").glob("rp3beta-seed0-val-*.joblib"))) == 1
    assert "model cache: loading" in (tmp_path / "second" / "evaluate_mixes.log").read_text()
    assert runs[0] == runs[1]  # the loaded model answers exactly like the fitted one
