"""The two Spotify jobs behind `scripts/spotify_collect.py` and `scripts/spotify_publish.py`.

Connection set-up is shared: credentials from env/.env, the auth manager the task needs, the spotipy client
pointed at the configured API, and secret redaction on every log handler. Faults end in one clear message:
a Retry-After beyond the cap exits with code 3 (collected data kept, re-run to resume), API and sign-in
errors with code 2.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
import spotipy
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf
from spotipy.exceptions import SpotifyException
from spotipy.oauth2 import SpotifyOauthError

from src.data.errors import DataError
from src.spotify import collect as collect_mod
from src.spotify import publish as publish_mod
from src.spotify import tables
from src.spotify.auth import app_auth, default_token_cache, load_credentials, user_auth
from src.spotify.cache import ResponseCache
from src.spotify.client import RetryAfterTooLong, SpotifySettings, call, make_client
from src.spotify.features import gather_features
from src.spotify.items import duplicate_slots
from src.spotify.redact import install_redaction
from src.spotify.signin import SIGN_IN_COMMAND
from src.spotify.versions import load_song_keys
from src.utils.io import write_csv, write_json, write_parquet

log = logging.getLogger("playlist_lab")

EXIT_RATE_LIMITED = 3


def settings_from_cfg(cfg: DictConfig) -> SpotifySettings:
    values = OmegaConf.to_container(cfg.spotify, resolve=True)
    return SpotifySettings(**values)  # type: ignore[arg-type]


def connect(
    settings: SpotifySettings, needs_user: bool, cache: ResponseCache | None = None
) -> spotipy.Spotify:
    """A spotipy client with the auth the task needs (`settings.auth`: auto | user | app)."""
    creds = load_credentials(settings.env_file)
    install_redaction([creds.client_secret])
    mode = settings.auth if settings.auth != "auto" else ("user" if needs_user else "app")
    if mode == "app":
        manager = app_auth(creds, settings.token_url, settings.timeout_s)
    elif mode == "user":
        cache_path = (
            Path(settings.token_cache).expanduser() if settings.token_cache else default_token_cache()
        )
        manager = user_auth(
            creds,
            settings.auth_url,
            settings.token_url,
            settings.scopes,
            cache_path,
            settings.open_browser,
            settings.timeout_s,
        )
    else:
        raise DataError(f"spotify.auth={settings.auth!r}: expected auto, user or app")
    log.info(
        "Spotify: %s sign-in, API %s",
        "user (PKCE)" if mode == "user" else "app (client credentials)",
        settings.api_prefix,
    )
    return make_client(manager, settings, cache)


def spotify_errors(task: Callable[..., Any]) -> Callable[..., Any]:
    """One clear line for rate limits, API and sign-in failures instead of a traceback."""

    @functools.wraps(task)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return task(*args, **kwargs)
        except RetryAfterTooLong as exc:
            _fail(
                f"{exc}. Stopped; everything fetched so far is kept in {_here()}. Re-run the same command with "
                f"hydra.run.dir={_here()} later to resume without refetching, or raise "
                "spotify.max_retry_after_s.",
                EXIT_RATE_LIMITED,
            )
        except SpotifyOauthError as exc:
            _fail(
                f"Spotify sign-in failed: {exc.error} {exc.error_description or ''}. Check SPOTIPY_CLIENT_ID / "
                "SPOTIPY_CLIENT_SECRET / SPOTIPY_REDIRECT_URI; if the saved sign-in was revoked, delete the token "
                "cache (spotify.token_cache, default ~/.cache/playlist-lab/spotify-token.json) and sign in again "
                f"from a terminal with `{SIGN_IN_COMMAND}`",
                2,
            )
        except SpotifyException as exc:
            detail = str(exc.msg).splitlines()[-1].strip() if exc.msg else ""
            hint = (
                " (after the configured retries)" if exc.http_status == 429 or "Max Retries" in detail else ""
            )
            _fail(f"Spotify API error {exc.http_status}{hint}: {detail}", 2)
        except requests.exceptions.RequestException as exc:
            _fail(f"Spotify API unreachable ({type(exc).__name__}): {exc}. Re-run to resume.", 2)

    return wrapper


def _here() -> str:
    """The Hydra run directory (what a resumed run must reuse)."""
    return str(Path(HydraConfig.get().runtime.output_dir).resolve()) if HydraConfig.initialized() else "."


def _fail(message: str, code: int) -> None:
    log.error("error: %s", message)
    print(f"error: {message}", file=sys.stderr)
    sys.exit(code)


# -- sign in --------------------------------------------------------------------------------------------------
def run_signin(cfg: DictConfig, out_dir: Path) -> dict[str, Any]:
    """Sign in once from a terminal so scheduled jobs (no terminal) can reuse and refresh the saved token."""
    settings = settings_from_cfg(cfg)
    settings.auth = "user"
    client = connect(settings, needs_user=True)
    user = call(client, client.me)["id"]
    token_cache = settings.token_cache or default_token_cache()
    print(
        f"signed in as Spotify user {user}; the token is saved in {token_cache} (readable by you only). "
        "Scheduled runs with the same spotify.token_cache reuse it and refresh it themselves."
    )
    return {"user": user}


# -- collect ----------------------------------------------------------------------------------------------------
def run_collect(cfg: DictConfig, out_dir: Path) -> dict[str, Any]:
    """Collect → `tracks.csv`/`tracks.parquet` (one row per playlist entry), `interactions.csv`, a report."""
    spec = collect_mod.CollectSpec(**OmegaConf.to_container(cfg.source, resolve=True))  # type: ignore[arg-type]
    if spec.empty:
        raise DataError(
            "nothing to collect: set source.playlists=[...], source.my_playlists=true, "
            "source.saved_tracks=true or source.track_ids=[...]"
        )
    settings = settings_from_cfg(cfg)
    cache = ResponseCache(cfg.response_cache) if cfg.response_cache else None
    client = connect(settings, spec.needs_user, cache)
    progress = bool(cfg.get("progress", True))
    report: dict[str, Any] = {"status": "running", "source": OmegaConf.to_container(cfg.source, resolve=True)}
    try:
        collection = collect_mod.collect_catalogue(client, spec, progress)
        if not collection.tracks:
            raise DataError("no tracks found in what was asked for (empty playlists or unreadable items)")
        features = gather_features(
            client,
            list(collection.tracks),
            bool(cfg.features.fetch),
            cfg.features.csv,
            int(cfg.features.batch_size),
            progress,
        )
    except (RetryAfterTooLong, SpotifyException, requests.exceptions.RequestException) as exc:
        reason = "rate limited" if isinstance(exc, RetryAfterTooLong) else type(exc).__name__
        report.update(status=f"stopped: {reason}", cached_responses=len(cache) if cache else 0)
        write_json(out_dir / "collect_report.json", report)
        raise
    have_features = bool(features.by_id)
    tracks = tables.tracks_table(collection, features.by_id if have_features else None)
    table = tables.catalogue_table(tracks, collection)
    write_csv(out_dir / "tracks.csv", table)
    write_parquet(out_dir / "tracks.parquet", table)
    write_csv(out_dir / "interactions.csv", tables.interactions_table(collection))
    duplicates = duplicate_slots(collection.entries)
    for found in duplicates:
        log.warning(
            "playlist '%s' (%s) lists %d track(s) more than once (%d extra slots)",
            found["playlist_name"],
            found["playlist_id"],
            len(found["track_ids"]),
            found["duplicate_slots"],
        )
    skipped_items = collection.skipped_items.to_dict()
    report.update(
        status="complete",
        tracks=len(tracks),
        playlists=len(collection.playlists),
        entries=len(collection.entries),
        features_source=features.source,
        features_from_api=features.matched_api,
        features_from_csv=features.matched_csv,
        features_missing=len(tracks) - len(features.by_id),
        audio_features_forbidden=features.forbidden,
        skipped=dict(collection.skipped),
        skipped_items=skipped_items["total"],
        skipped_items_by_playlist=skipped_items["by_playlist"],
        duplicates_in_playlists=duplicates,
        responses_from_cache=cache.hits if cache else 0,
        responses_fetched=cache.misses if cache else None,
    )
    write_json(out_dir / "collect_report.json", report)
    log.info(
        "collected %d tracks in %d playlists; features: %s (api %d, csv %d, missing %d); responses: %s "
        "from cache, %s fetched",
        len(tracks),
        len(collection.playlists),
        features.source,
        features.matched_api,
        features.matched_csv,
        report["features_missing"],
        report["responses_from_cache"],
        report["responses_fetched"],
    )
    if any(skipped_items["total"].values()):
        log.info(
            "skipped entries: %s",
            ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in skipped_items["total"].items() if n),
        )
    if features.matched_csv:
        print(f"features CSV matched {features.matched_csv} of {len(tracks) - features.matched_api} tracks")
    user_column = " data.user_column=playlist_id" if collection.entries else ""
    print(f"tracks: {out_dir.resolve() / 'tracks.csv'}")
    if have_features:
        print(
            f"next: python scripts/pipeline.py data=csv data.path={out_dir.resolve() / 'tracks.csv'}{user_column}"
        )
    return report


# -- publish ----------------------------------------------------------------------------------------------------
def run_publish(cfg: DictConfig, out_dir: Path) -> dict[str, Any]:
    """Publish a pipeline run's playlists (or, with dry_run, only show what would change)."""
    run_dir = Path(cfg.run_dir)
    playlists = publish_mod.load_playlists(run_dir, list(cfg.kinds) if cfg.kinds else None)
    if not playlists:
        raise DataError(f"{run_dir}: no playlists of kinds {list(cfg.kinds)} to publish")
    manifest = publish_mod.Manifest(cfg.manifest or publish_mod.export_dir(run_dir) / "spotify_manifest.json")
    client = connect(settings_from_cfg(cfg), needs_user=True)
    user = call(client, client.me)["id"]
    song_keys = load_song_keys(run_dir, cfg.get("tracks"))
    series = str(cfg.get("series") or "default")
    changes = publish_mod.plan(client, playlists, manifest, user, str(cfg.name_prefix), series, song_keys)
    print(f"{'dry run: ' if cfg.dry_run else ''}{len(changes)} playlists for Spotify user {user}:")
    for change in changes:
        print(f"  {change.summary()}")
    counts = {a: sum(c.action == a for c in changes) for a in ("create", "update", "unchanged")}
    result: dict[str, Any] = {
        "dry_run": bool(cfg.dry_run),
        "user": user,
        "planned": counts,
        "changes": [c.summary() for c in changes],
        "series": series,
        "same_song_left_out": {c.local_id: len(c.same_song) for c in changes if c.same_song},
    }
    if not cfg.dry_run:
        result["done"] = publish_mod.apply(
            client, changes, manifest, user, bool(cfg.public), bool(cfg.get("progress", True))
        )
        result["playlists"] = {c.local_id: c.spotify_id for c in changes}
        print(
            f"published: {result['done']['created']} created, {result['done']['updated']} updated, "
            f"{result['done']['unchanged']} unchanged; manifest {manifest.path}"
        )
    else:
        print("dry run: nothing was changed")
    write_json(out_dir / "publish_report.json", result)
    return result
