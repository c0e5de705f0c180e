"""Credentials from the environment / `.env` only, and the two spotipy auth managers we use.

Client credentials (app token, needs the client secret) serve catalogue reads; authorization code with PKCE
(user token, no secret needed) serves the user's library and playlist writes. The user token is cached in a
file created with 0600 permissions, outside any run directory and never in a saved config.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dotenv import load_dotenv
from spotipy.cache_handler import CacheHandler, MemoryCacheHandler
from spotipy.oauth2 import SpotifyClientCredentials, SpotifyPKCE

from src.data.errors import DataError
from src.spotify.signin import UnattendedSafePKCE

log = logging.getLogger(__name__)

ENV_CLIENT_ID = "SPOTIPY_CLIENT_ID"
ENV_CLIENT_SECRET = "SPOTIPY_CLIENT_SECRET"
ENV_REDIRECT_URI = "SPOTIPY_REDIRECT_URI"
ENV_TOKEN_CACHE = "SPOTIFY_TOKEN_CACHE"


@dataclass(frozen=True)
class Credentials:
    """What identifies the app; `repr` never shows the secret."""

    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    redirect_uri: str | None = None


def load_credentials(env_file: str | Path | None = None) -> Credentials:
    """Read SPOTIPY_* from the environment, filling gaps from `env_file` (the environment wins)."""
    if env_file and Path(env_file).is_file():
        load_dotenv(env_file, override=False)
    client_id = os.environ.get(ENV_CLIENT_ID, "").strip()
    if not client_id:
        raise DataError(
            f"{ENV_CLIENT_ID} is not set: create an app at https://developer.spotify.com/dashboard and put "
            f"{ENV_CLIENT_ID}, {ENV_CLIENT_SECRET} and {ENV_REDIRECT_URI} in the environment or in "
            f"{env_file or '.env'} (see README, 'Use your Spotify account')"
        )
    return Credentials(
        client_id=client_id,
        client_secret=os.environ.get(ENV_CLIENT_SECRET, "").strip() or None,
        redirect_uri=os.environ.get(ENV_REDIRECT_URI, "").strip() or None,
    )


def default_token_cache() -> Path:
    """$SPOTIFY_TOKEN_CACHE, else the user cache directory (never the repository or a run directory)."""
    if os.environ.get(ENV_TOKEN_CACHE):
        return Path(os.environ[ENV_TOKEN_CACHE]).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "playlist-lab" / "spotify-token.json"


class PrivateTokenFile(CacheHandler):
    """spotipy token cache written atomically to a file that is 0600 from its first byte.

    (spotipy's own CacheFileHandler writes first and chmods after, leaving a window where the token is
    readable by others.)
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()

    def get_cached_token(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, json.JSONDecodeError):
            log.warning("token cache %s is unreadable; signing in again", self.path)
            return None

    def save_token_to_cache(self, token_info: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)  # mkstemp: mode 0600
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(token_info, handle)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def app_auth(creds: Credentials, token_url: str, timeout_s: float) -> SpotifyClientCredentials:
    """Client-credentials manager (catalogue reads); the app token is kept in memory only."""
    if not creds.client_secret:
        raise DataError(
            f"{ENV_CLIENT_SECRET} is not set: reading the catalogue with the app's own token needs the client "
            "secret (or use spotify.auth=user to sign in with your account instead)"
        )
    manager = SpotifyClientCredentials(
        client_id=creds.client_id,
        client_secret=creds.client_secret,
        requests_timeout=timeout_s,
        cache_handler=MemoryCacheHandler(),
    )
    manager.OAUTH_TOKEN_URL = token_url
    return manager


def user_auth(
    creds: Credentials,
    auth_url: str,
    token_url: str,
    scopes: list[str],
    token_cache: str | Path,
    open_browser: bool,
    timeout_s: float,
) -> SpotifyPKCE:
    """Authorization code with PKCE for the user's library and playlist writes (no secret needed).

    Signing in needs a person; without one (no terminal) and without a usable saved token the first API call
    raises `signin.SignInNeeded` instead of waiting or crashing on `input()`.
    """
    if not creds.redirect_uri:
        raise DataError(
            f"{ENV_REDIRECT_URI} is not set: use the redirect URI registered for your app in the Spotify "
            "developer dashboard, e.g. http://127.0.0.1:8888/callback"
        )
    manager = UnattendedSafePKCE(
        client_id=creds.client_id,
        redirect_uri=creds.redirect_uri,
        scope=list(scopes),
        cache_handler=PrivateTokenFile(token_cache),
        open_browser=open_browser,
        requests_timeout=timeout_s,
    )
    manager.OAUTH_AUTHORIZE_URL = auth_url
    manager.OAUTH_TOKEN_URL = token_url
    return manager


def refresh(manager: Any) -> None:
    """Get a fresh access token after the server said the current one expired (401)."""
    if isinstance(manager, SpotifyPKCE):
        cached = manager.cache_handler.get_cached_token() or {}
        if cached.get("refresh_token"):
            manager.refresh_access_token(cached["refresh_token"])
            return
        manager.get_access_token(check_cache=False)
    else:
        manager.get_access_token(as_dict=False, check_cache=False)
