"""Spotify jobs without a person at the keyboard (cron, CI) against the Web API double: no saved sign-in ends in
exit 2 and one line saying how to sign in once; a sign-in made once from a terminal serves later unattended runs;
short client secrets neither shred the logs nor go unnoticed."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from spotify_double import SpotifyDouble, make_catalogue
from spotify_double.signin import (
    assert_no_secrets,
    sign_in,
    sign_in_at_the_prompt,
    spotify_env,
    spotify_overrides,
)

from helpers import ROOT, run_script
from src.spotify.redact import MIN_SECRET_CHARS, RedactSecrets, install_redaction
from src.spotify.signin import stdin_is_terminal


@pytest.fixture
def api():
    with SpotifyDouble(catalogue=make_catalogue(30)) as double:
        yield double


def unattended(api: SpotifyDouble, script: str, token: Path, run_dir: Path, *extra: str):
    """A script run the way cron runs it: stdin is /dev/null."""
    return run_script(
        script,
        *spotify_overrides(api, token),
        *extra,
        f"hydra.run.dir={run_dir}",
        env=spotify_env(api),
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def assert_sign_in_message(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 2, result.stderr[-3000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # one line, no traceback
    assert "Traceback" not in result.stdout + result.stderr and "EOFError" not in result.stderr
    assert "no terminal to sign in from" in lines[0]
    assert "python scripts/spotify_signin.py" in lines[0] and "spotify.open_browser=false" in lines[0]


def test_collect_without_terminal_or_token_exits_2_with_the_sign_in_command(api, tmp_path):
    pid = api.add_playlist("Mine", list(api.catalogue)[:5])
    token = tmp_path / "never" / "token.json"
    result = unattended(api, "spotify_collect.py", token, tmp_path / "run", f"source.playlists=[{pid}]")
    assert_sign_in_message(result)
    assert not token.exists() and api.count("GET", r"^/v1/") == 0


def test_publish_with_open_browser_and_no_terminal_fails_at_once_instead_of_waiting(api, tmp_path):
    run_dir = tmp_path / "run"
    (run_dir / "playlists").mkdir(parents=True)
    ids = list(api.catalogue)[:3]
    (run_dir / "playlists" / "playlists.json").write_text(
        json.dumps([{"playlist_id": "c0", "name": "x", "kind": "cluster", "track_ids": ids}])
    )
    start = time.monotonic()
    result = unattended(
        api,
        "spotify_publish.py",
        tmp_path / "none.json",
        tmp_path / "out",
        f"run_dir={run_dir}",
        "spotify.open_browser=true",  # would otherwise wait on a local callback server forever
    )
    assert_sign_in_message(result)
    assert time.monotonic() - start < 30 and api.writes() == []


def test_a_token_without_the_needed_scopes_is_not_usable_unattended(api, tmp_path):
    token = tmp_path / "token.json"
    sign_in(api, token)
    saved = json.loads(token.read_text())
    token.write_text(json.dumps({**saved, "scope": "user-library-read"}))  # signed in before scopes grew
    result = unattended(api, "spotify_collect.py", token, tmp_path / "run", "source.saved_tracks=true")
    assert_sign_in_message(result)


def test_sign_in_once_from_a_terminal_then_run_unattended(api, tmp_path):
    token = tmp_path / "home" / "token.json"
    code, out, err, _ = sign_in_at_the_prompt(
        api,
        "spotify_signin.py",
        *spotify_overrides(api, token)[:-1],  # no `progress` key in this config
        f"hydra.run.dir={tmp_path / 'signin'}",
    )
    assert code == 0, err[-3000:]
    assert f"signed in as Spotify user {api.user_id}" in out and str(token) in out

    api.saved = list(api.catalogue)[:7]
    api.expire_tokens()  # the scheduled run comes later: it refreshes the saved token by itself
    result = unattended(api, "spotify_collect.py", token, tmp_path / "run", "source.saved_tracks=true")
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads((tmp_path / "run" / "collect_report.json").read_text())["tracks"] == 7
    assert_no_secrets(api, [tmp_path / "signin", tmp_path / "run"], [out, err, result.stdout, result.stderr])


def test_stdin_is_terminal_is_false_for_closed_or_missing_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", None)
    assert stdin_is_terminal() is False
    closed = open(os.devnull)  # noqa: SIM115
    closed.close()
    monkeypatch.setattr(sys, "stdin", closed)
    assert stdin_is_terminal() is False


# -- secrets in logs --------------------------------------------------------------------------------------------
def test_short_secrets_are_not_redacted_letter_by_letter_and_draw_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="src.spotify.redact"):
        redactor = install_redaction(["y", None])
    try:
        assert "only 1 characters long" in caplog.text and "'y'" not in caplog.text
        assert redactor.redact("Spotify: app (client credentials), every key") == (
            "Spotify: app (client credentials), every key"
        )
    finally:
        for handler in logging.getLogger().handlers:
            handler.removeFilter(redactor)


def test_only_whole_secret_values_are_redacted():
    secret = "s3cretValue"
    assert len(secret) >= MIN_SECRET_CHARS
    redactor = RedactSecrets([secret])
    assert redactor.redact(f"secret={secret}, again '{secret}' end {secret}") == (
        "secret=***, again '***' end ***"
    )
    # inside a longer token it is not the secret: left alone (and nothing shredded around it)
    assert redactor.redact(f"xx{secret}yy and {secret}-2") == f"xx{secret}yy and {secret}-2"
    assert redactor.redact(f"it was {secret}.") == "it was ***."
    assert redactor.redact("Authorization: Bearer AT-abc") == "Authorization: Bearer ***"


def test_collect_with_a_short_client_secret_keeps_logs_readable(tmp_path):
    with SpotifyDouble(catalogue=make_catalogue(5), client_secret="y") as api:
        ids = list(api.catalogue)[:2]
        result = run_script(
            "spotify_collect.py",
            *spotify_overrides(api, tmp_path / "unused.json"),
            f"source.track_ids=[{','.join(ids)}]",
            f"hydra.run.dir={tmp_path / 'run'}",
            env=spotify_env(api),
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        log = (tmp_path / "run" / "spotify_collect.log").read_text()
        assert "Spotify: app (client credentials)" in log and "Spotif***" not in log
        assert "SPOTIPY_CLIENT_SECRET is only 1 characters long" in log
        config = (tmp_path / "run" / ".hydra" / "config.yaml").read_text()
        assert "SPOTIPY_CLIENT_SECRET" not in config and "client_secret" not in config
        for access in [t for t in api.issued if t.startswith("AT-")]:
            assert access not in log and access not in result.stdout


def test_credentials_and_tokens_stay_out_of_git():
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    for path in (".env", ".cache/playlist-lab/spotify-token.json"):
        ignored = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT, check=False)
        assert ignored.returncode == 0, f"{path} is not git-ignored"
    config = (ROOT / "configs" / "spotify" / "default.yaml").read_text()
    assert "SPOTIPY_CLIENT_SECRET=" not in config and "client_secret:" not in config
