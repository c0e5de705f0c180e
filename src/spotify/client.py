"""The spotipy client we use: configurable API prefix and auth URLs, retries with backoff, timeouts, and a
cap on Retry-After (spotipy would otherwise sleep through whatever the server asks, even an hour).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import requests
import spotipy
from requests.adapters import HTTPAdapter
from spotipy.exceptions import SpotifyException
from urllib3.util.retry import Retry

from src.spotify.auth import refresh
from src.spotify.cache import CachingSession, ResponseCache

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRY_STATUSES = (429, 500, 502, 503, 504)


@dataclass
class SpotifySettings:
    """The `spotify` config group.

    Args:
        api_prefix: Web API base (spotipy's `prefix`), ending in `/`.
        auth_url: OAuth authorize endpoint.
        token_url: OAuth token endpoint.
        auth: `auto` (user sign-in when the task needs it, else the app token), `user` or `app`.
        scopes: user scopes requested at sign-in (one set for collect and publish, so one sign-in serves both).
        token_cache: user token file (0600); null: $SPOTIFY_TOKEN_CACHE or ~/.cache/playlist-lab/.
        env_file: `.env` read for SPOTIPY_* when they are not in the environment.
        open_browser: open the sign-in page in a browser (else print the URL and ask for the redirect).
        timeout_s: per-request timeout.
        retries: retries for 5xx, 429 and connection errors (each with backoff).
        backoff_factor: exponential backoff base in seconds for 5xx / connection retries.
        max_retry_after_s: longest Retry-After honoured; a longer one stops the run (data kept).
    """

    api_prefix: str = "https://api.spotify.com/v1/"
    auth_url: str = "https://accounts.spotify.com/authorize"
    token_url: str = "https://accounts.spotify.com/api/token"
    auth: str = "auto"
    scopes: list[str] = field(default_factory=list)
    token_cache: str | None = None
    env_file: str | None = None
    open_browser: bool = True
    timeout_s: float = 10.0
    retries: int = 5
    backoff_factor: float = 0.5
    max_retry_after_s: float = 60.0


class RetryAfterTooLong(RuntimeError):
    """The API asked us to wait longer than the configured cap."""

    def __init__(self, retry_after: float, cap: float, url: str) -> None:
        super().__init__(
            f"Spotify rate limit: asked to wait {retry_after:.0f} s before {url}, more than the cap "
            f"spotify.max_retry_after_s={cap:g} s"
        )
        self.retry_after = retry_after
        self.cap = cap


class CappedRetry(Retry):
    """urllib3 Retry that honours Retry-After up to `max_retry_after` seconds and stops beyond it."""

    def __init__(self, *args: Any, max_retry_after: float = 60.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_retry_after = max_retry_after

    def new(self, **kw: Any) -> CappedRetry:
        retry = super().new(**kw)
        retry.max_retry_after = self.max_retry_after
        return retry

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        *args: Any,
        **kwargs: Any,
    ) -> CappedRetry:
        if response is not None and response.status == 429:
            wait = self.get_retry_after(response)
            if wait is not None and wait > self.max_retry_after:
                raise RetryAfterTooLong(wait, self.max_retry_after, url or "?")
            log.warning("Spotify rate limit (429): waiting %s s as asked (Retry-After)", f"{wait or 0:g}")
        elif response is not None and response.status >= 500:
            log.warning("Spotify server error %d on %s: retrying with backoff", response.status, url)
        error = kwargs.get("error", args[0] if args else None)
        if error is not None and self._is_read_error(error):
            if method == "POST":  # the server may have acted on it (e.g. created a playlist): never resend
                raise error
            log.warning("Spotify did not answer %s in time: retrying", url)
        return super().increment(method, url, response, *args, **kwargs)


def make_session(settings: SpotifySettings, cache: ResponseCache | None = None) -> requests.Session:
    """A requests session with our retry policy (and the response cache when given)."""
    session = CachingSession(cache) if cache is not None else requests.Session()
    retry = CappedRetry(
        total=settings.retries,
        connect=settings.retries,
        read=settings.retries,
        status=settings.retries,
        backoff_factor=settings.backoff_factor,
        backoff_max=30,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET", "POST", "PUT", "DELETE"}),
        respect_retry_after_header=True,
        max_retry_after=settings.max_retry_after_s,
    )
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def make_client(
    auth_manager: Any, settings: SpotifySettings, cache: ResponseCache | None = None
) -> spotipy.Spotify:
    """The real spotipy client, pointed at `settings.api_prefix` and using our session."""
    client = spotipy.Spotify(
        auth_manager=auth_manager,
        requests_session=make_session(settings, cache),
        requests_timeout=settings.timeout_s,
        retries=settings.retries,
        status_retries=settings.retries,
        backoff_factor=settings.backoff_factor,
    )
    client.prefix = settings.api_prefix if settings.api_prefix.endswith("/") else settings.api_prefix + "/"
    return client


def call(client: spotipy.Spotify, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one API call; on 401 (token expired server-side) refresh the token once and try again."""
    try:
        return fn(*args, **kwargs)
    except SpotifyException as exc:
        if exc.http_status != 401 or client.auth_manager is None:
            raise
        log.info("access token rejected (401): refreshing it and retrying")
        refresh(client.auth_manager)
        return fn(*args, **kwargs)


def next_page(client: spotipy.Spotify, page: dict[str, Any]) -> dict[str, Any] | None:
    """The following page of a paging object, or None."""
    return call(client, client.next, page) if page.get("next") else None
