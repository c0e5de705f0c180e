"""Helpers to drive the scripts against the double: a real PKCE sign-in, env and Hydra overrides."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import requests
from omegaconf import OmegaConf

from src.spotify.auth import Credentials, user_auth

from .server import SpotifyDouble

ROOT = Path(__file__).resolve().parents[2]
REDIRECT_URI = "http://127.0.0.1:8765/callback"
SCOPES = list(OmegaConf.load(ROOT / "configs" / "spotify" / "default.yaml").scopes)


def sign_in(api: SpotifyDouble, token_cache: Path) -> None:
    """Authorization code with PKCE against the double, exactly as a browser would do it."""
    manager = user_auth(
        Credentials(api.client_id, None, REDIRECT_URI),
        api.auth_url,
        api.token_url,
        SCOPES,
        token_cache,
        open_browser=False,
        timeout_s=5,
    )
    answer = requests.get(manager.get_authorize_url(), allow_redirects=False, timeout=5)
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    manager.get_access_token(code=code, check_cache=False)


def spotify_env(api: SpotifyDouble) -> dict[str, str]:
    return {
        "SPOTIPY_CLIENT_ID": api.client_id,
        "SPOTIPY_CLIENT_SECRET": api.client_secret,
        "SPOTIPY_REDIRECT_URI": REDIRECT_URI,
    }


def spotify_overrides(api: SpotifyDouble, token_cache: Path, cap: float = 2.0) -> list[str]:
    return [
        f"spotify.api_prefix={api.api_prefix}",
        f"spotify.auth_url={api.auth_url}",
        f"spotify.token_url={api.token_url}",
        f"spotify.token_cache={token_cache}",
        "spotify.env_file=null",
        "spotify.open_browser=false",
        "spotify.backoff_factor=0.01",
        "spotify.retries=3",
        f"spotify.max_retry_after_s={cap}",
        "spotify.timeout_s=5",
        "progress=false",
    ]


def secrets_of(api: SpotifyDouble) -> list[str]:
    """Everything that must never be written down: the client secret and every token or code issued."""
    return [api.client_secret, *api.issued]


def assert_no_secrets(api: SpotifyDouble, directories: list[Path], texts: list[str]) -> int:
    """No secret in any file under `directories` (configs, logs, caches, tables) nor in `texts`; returns
    the number of files checked."""
    secrets = secrets_of(api)
    checked = 0
    for directory in directories:
        for path in directory.rglob("*"):
            if path.is_file():
                content = path.read_bytes()
                checked += 1
                for secret in secrets:
                    assert secret.encode() not in content, f"secret found in {path}"
    for text in texts:
        for secret in secrets:
            assert secret not in text, "secret found in script output"
    return checked


def sign_in_at_the_prompt(
    api: SpotifyDouble, script: str, *overrides: str, timeout: float = 60
) -> tuple[int, str, str, str]:
    """Run `scripts/<script>` as a person at a terminal would: read the sign-in URL it prints, follow it in
    "the browser" (the double), paste the redirect back. Returns (exit code, stdout, stderr, the redirect)."""
    command = [sys.executable, str(ROOT / "scripts" / script), *overrides]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **spotify_env(api)}
    with subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    ) as proc:
        line = proc.stdout.readline()
        while line and "Go to the following URL:" not in line:
            line = proc.stdout.readline()
        url = line.split("Go to the following URL:", 1)[1].strip()
        redirect = requests.get(url, allow_redirects=False, timeout=5).headers["Location"]
        out, err = proc.communicate(redirect + "\n", timeout=timeout)
    return proc.returncode, out, err, redirect


def publish(api: SpotifyDouble, token: Path, run_dir: Path, out_dir: Path, *extra: str):
    """scripts/spotify_publish.py for `run_dir` against the double, signed in with `token`; must succeed."""
    from helpers import run_script  # the tests' runner (tests/ is on the path whenever the double is)

    result = run_script(
        "spotify_publish.py",
        *spotify_overrides(api, token),
        f"run_dir={run_dir}",
        f"hydra.run.dir={out_dir}",
        *extra,
        env=spotify_env(api),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result
