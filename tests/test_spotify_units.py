"""Spotify building blocks against the double over real HTTP: retry policy (429 cap, 5xx backoff), 401
refresh, the response cache, the private token file, secret redaction, ids and the features CSV."""

from __future__ import annotations

import logging
import stat
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from spotify_double import Fault, SpotifyDouble, make_catalogue
from spotify_double.signin import REDIRECT_URI, SCOPES, sign_in
from spotipy.exceptions import SpotifyException

from src.data.errors import DataError
from src.spotify.auth import (
    Credentials,
    PrivateTokenFile,
    app_auth,
    load_credentials,
    user_auth,
)
from src.spotify.cache import ResponseCache, cache_key
from src.spotify.client import RetryAfterTooLong, SpotifySettings, call, make_client
from src.spotify.features import gather_features, read_features_csv
from src.spotify.ids import parse_id
from src.spotify.redact import RedactSecrets


@pytest.fixture
def api():
    with SpotifyDouble(catalogue=make_catalogue(40)) as double:
        yield double


def _settings(api: SpotifyDouble, cap: float = 2.0) -> SpotifySettings:
    return SpotifySettings(
        api_prefix=api.api_prefix,
        auth_url=api.auth_url,
        token_url=api.token_url,
        retries=3,
        backoff_factor=0.01,
        max_retry_after_s=cap,
        timeout_s=5,
    )


def _app_client(api: SpotifyDouble, cap: float = 2.0, cache: ResponseCache | None = None):
    creds = Credentials(api.client_id, api.client_secret, None)
    return make_client(app_auth(creds, api.token_url, 5), _settings(api, cap), cache)


def test_retry_after_within_cap_is_honoured_then_succeeds(api):
    tid = next(iter(api.catalogue))
    api.faults.append(Fault("GET", r"/tracks/", 429, retry_after=1, times=2))
    client = _app_client(api)
    start = time.monotonic()
    track = call(client, client.track, tid)
    assert track["id"] == tid
    assert time.monotonic() - start >= 2.0  # waited Retry-After twice
    statuses = [r.status for r in api.requests if r.path.startswith("/v1/tracks/")]
    assert statuses == [429, 429, 200]


def test_retry_after_beyond_cap_stops_at_once(api):
    api.faults.append(Fault("GET", r"/tracks/", 429, retry_after=3600, times=5))
    client = _app_client(api, cap=5)
    start = time.monotonic()
    with pytest.raises(RetryAfterTooLong, match="3600 s"):
        call(client, client.track, next(iter(api.catalogue)))
    assert time.monotonic() - start < 3
    assert api.count("GET", r"^/v1/tracks/") == 1


def test_server_errors_are_retried_with_backoff(api):
    api.faults.append(Fault("GET", r"/tracks/", 503, times=2))
    client = _app_client(api)
    assert call(client, client.track, next(iter(api.catalogue)))["name"] == "Song 0"
    assert [r.status for r in api.requests if r.path.startswith("/v1/tracks/")] == [503, 503, 200]


def test_persistent_server_errors_raise_after_the_retries(api):
    api.faults.append(Fault("GET", r"/tracks/", 500, times=99))
    client = _app_client(api)
    with pytest.raises(SpotifyException):
        call(client, client.track, next(iter(api.catalogue)))
    assert api.count("GET", r"^/v1/tracks/") == 4  # first try + 3 retries


def test_expired_user_token_is_refreshed_once(api, tmp_path):
    cache = tmp_path / "token.json"
    sign_in(api, cache)
    manager = user_auth(
        Credentials(api.client_id, None, REDIRECT_URI),
        api.auth_url,
        api.token_url,
        SCOPES,
        cache,
        open_browser=False,
        timeout_s=5,
    )
    client = make_client(manager, _settings(api))
    assert call(client, client.me)["id"] == api.user_id
    before = PrivateTokenFile(cache).get_cached_token()["access_token"]
    api.expire_tokens()
    assert call(client, client.me)["id"] == api.user_id
    after = PrivateTokenFile(cache).get_cached_token()["access_token"]
    assert after != before
    assert [r.status for r in api.requests if r.path.rstrip("/") == "/v1/me"] == [200, 401, 200]
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600


def test_wrong_client_secret_is_refused(api):
    creds = Credentials(api.client_id, "not-the-secret", None)
    client = make_client(app_auth(creds, api.token_url, 5), _settings(api))
    with pytest.raises(Exception, match="invalid_client"):
        client.track(next(iter(api.catalogue)))


def test_response_cache_answers_repeated_gets_from_disk(api, tmp_path):
    cache = ResponseCache(tmp_path / "responses")
    tid = next(iter(api.catalogue))
    first = call(c := _app_client(api, cache=cache), c.track, tid)
    again = _app_client(api, cache=ResponseCache(tmp_path / "responses"))
    assert call(again, again.track, tid) == first
    assert api.count("GET", r"^/v1/tracks/") == 1
    assert again._session.cache.hits == 1 and len(cache) == 1
    stored = next((tmp_path / "responses").glob("*.json")).read_text()
    assert "AT-" not in stored and api.client_secret not in stored


def test_cache_key_ignores_host_order_and_none_params():
    a = cache_key("http://127.0.0.1:1/v1/me/tracks?offset=50&limit=50", {"market": None})
    b = cache_key("https://api.spotify.com/v1/me/tracks", {"limit": 50, "offset": 50})
    assert a == b == "/v1/me/tracks?limit=50&offset=50"


def test_token_file_is_private_from_the_first_byte(tmp_path):
    handler = PrivateTokenFile(tmp_path / "sub" / "token.json")
    handler.save_token_to_cache({"access_token": "x", "expires_at": 1})
    assert stat.S_IMODE((tmp_path / "sub" / "token.json").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "sub").stat().st_mode) & 0o077 == 0
    assert handler.get_cached_token()["access_token"] == "x"
    assert not [p for p in (tmp_path / "sub").iterdir() if p.name != "token.json"]


def test_credentials_from_env_file_with_environment_winning(tmp_path, monkeypatch):
    for name in ("SPOTIPY_CLIENT_ID", "SPOTIPY_CLIENT_SECRET", "SPOTIPY_REDIRECT_URI"):
        monkeypatch.delenv(name, raising=False)
    env = tmp_path / ".env"
    env.write_text("SPOTIPY_CLIENT_ID=from-file\nSPOTIPY_CLIENT_SECRET=s3cret-file\n")
    monkeypatch.setenv("SPOTIPY_REDIRECT_URI", "http://127.0.0.1:8888/callback")
    monkeypatch.setenv("SPOTIPY_CLIENT_ID", "from-env")
    creds = load_credentials(env)
    assert (creds.client_id, creds.client_secret) == ("from-env", "s3cret-file")
    assert "s3cret-file" not in repr(creds)
    monkeypatch.delenv("SPOTIPY_CLIENT_ID")
    monkeypatch.delenv("SPOTIPY_CLIENT_SECRET")
    with pytest.raises(DataError, match="SPOTIPY_CLIENT_ID is not set"):
        load_credentials(tmp_path / "missing.env")


def test_redaction_removes_tokens_and_secrets(caplog):
    redactor = RedactSecrets(["literal-secret"])
    logger = logging.getLogger("test_redaction")
    logger.addFilter(redactor)
    with caplog.at_level(logging.DEBUG, logger="test_redaction"):
        logger.debug(
            "Headers: %s body %s",
            {"Authorization": "Bearer AT-abc.def"},
            {"refresh_token": "RT-xyz", "client_id": "id"},
        )
        logger.debug("Basic ZGVmOmdoaQ== and literal-secret and code_verifier=abc123")
    text = caplog.text
    for secret in ("AT-abc.def", "RT-xyz", "ZGVmOmdoaQ==", "literal-secret", "abc123"):
        assert secret not in text
    assert "client_id" in text and "Bearer ***" in text


@given(
    st.text(
        alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=30
    )
)
def test_parse_id_accepts_ids_uris_and_urls(ident):
    for text in (
        ident,
        f"spotify:playlist:{ident}",
        f"https://open.spotify.com/playlist/{ident}?si=abc",
        f"open.spotify.com/intl-de/playlist/{ident}",
    ):
        assert parse_id("playlist", text) == ident


def test_parse_id_rejects_other_kinds_and_junk():
    with pytest.raises(DataError, match="is a Spotify track"):
        parse_id("playlist", "spotify:track:abc")
    with pytest.raises(DataError, match="not a Spotify playlist"):
        parse_id("playlist", "https://example.com/x y")


def test_features_csv_accepts_dump_variants(tmp_path):
    path = tmp_path / "f.csv"
    header = "uri,danceability,energy,key,loudness,mode,speechiness,acousticness,instrumentalness,liveness,valence,tempo"
    path.write_text(
        f"{header}\nspotify:track:AAA,0.5,0.6,C#,-5,Major,0.1,0.2,0,0.1,0.5,120\n"
        f"https://open.spotify.com/track/BBB?si=1,0.4,0.3,2,-7,0,0.1,0.2,0,0.1,0.5,99\n"
    )
    table = read_features_csv(path)
    assert list(table.index) == ["AAA", "BBB"] and table.loc["AAA", "key"] == "C#"
    (tmp_path / "bad.csv").write_text("track_id,energy\nAAA,0.5\n")
    with pytest.raises(DataError, match="missing audio-feature column"):
        read_features_csv(tmp_path / "bad.csv")


def test_a_read_timeout_on_a_get_is_retried(api):
    api.faults.append(Fault("GET", r"/tracks/", delay=1.5, times=1))
    creds = Credentials(api.client_id, api.client_secret, None)
    settings = _settings(api)
    settings.timeout_s = 0.5
    client = make_client(app_auth(creds, api.token_url, 5), settings)
    assert call(client, client.track, next(iter(api.catalogue)))["name"] == "Song 0"
    time.sleep(1.2)  # let the late first answer finish so the log is complete
    assert api.count("GET", r"^/v1/tracks/") == 2


def test_features_in_batches_of_100_with_the_csv_filling_gaps(api, tmp_path):
    ids = [*api.catalogue, "Unknown1", *(f"Extra{i}" for i in range(80))]  # 121 ids: batches of 100 + 21
    csv = tmp_path / "f.csv"
    columns = [
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
    csv.write_text(
        "id,"
        + ",".join(columns)
        + "\n"
        + "".join(f"Extra{i}," + ",".join(["0.5"] * 11) + "\n" for i in range(0, 80, 2))
    )
    client = _app_client(api)
    result = gather_features(client, ids, fetch=True, csv=csv, progress=False)
    assert (result.matched_api, result.matched_csv, result.source) == (40, 40, "api+csv")
    sizes = [len(r.query["ids"].split(",")) for r in api.requests if r.path.startswith("/v1/audio-features")]
    assert sizes == [100, 21]
    api.audio_features_allowed = False
    forbidden = gather_features(client, ids, fetch=True, csv=None, progress=False)
    assert forbidden.forbidden and forbidden.by_id == {} and forbidden.source == "none"
