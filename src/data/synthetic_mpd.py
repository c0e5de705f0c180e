"""Synthetic Million Playlist Dataset slices with a realistic shape, for measuring the pipeline at scale.

Writes `mpd.slice.<start>-<end>.json` files in the official format (1000 playlists per slice, the last one
shorter; `info`, and per playlist `pid`, `name`, `num_tracks`, … and `tracks` with `pos`, `track_uri`,
`artist_name`, `artist_uri`, `track_name`, `album_name`, `album_uri`, `duration_ms`) that `MPDSource`
(`data=mpd data.path=DIR`) reads like the real dump, a `features.csv` (`track_id`, the audio features,
`release_year`) for `data.features_path`, and `synthetic_mpd.json` (the parameters and the achieved shape).

The generative model (every draw from one `numpy.random.Generator(seed)`: same parameters and seed, same
bytes):

1. **Genres.** `n_genres` latent genres (artist communities) with Zipf(`genre_zipf`) popularity: a few big
   ones, a long tail. Each genre has a centre in audio-feature space: the unit-interval features in logit
   space (spread `genre_spread`), loudness, tempo, duration, P(major) and a release era.
2. **Catalogue.** `n_artists` artists, each in one genre drawn by genre popularity, with
   1 + Poisson(`mean_albums` − 1) albums of 1 + Poisson(`mean_album_tracks` − 1) tracks. Artist popularity is
   Zipf(`artist_zipf`) over a random ranking of the artists; within an artist, a track's share is
   Zipf(`track_zipf`) over a random ranking of its tracks; a track's weight is the product. Track popularity
   is therefore power-law: the top 1% of the tracks hold far more than 1% of the rows, and most of the
   catalogue is drawn once or never. Audio features: genre centre + artist offset + track noise, so they
   carry the genre, noisily.
3. **Playlists.** Length: a log-normal (σ = `length_sigma`) truncated to [`min_length`, `max_length`], its μ
   solved so that the mean is `mean_length` (right-skewed: median < mean). Topic: 1 + Poisson
   (`mean_extra_genres`) genres drawn by genre popularity, mixed with Dirichlet(1) weights. Each position is,
   independently,
   - with probability `p_popular` a global hit (drawn by track weight over the whole catalogue),
   - with probability `p_same_artist` another track of an artist already drawn for the playlist,
   - otherwise a track of one of the playlist's genres (drawn by track weight within the genre).
   Tracks are unique within a playlist; a topic too small for its length is filled up with global hits.

So the collaborative signal (co-occurrence within genres and artists) and the content signal (audio
features follow the genre; artists and albums are shared across playlists) both exist, and since most tracks
are rare, a held-out track is often cold (never in training). With the defaults, 5,000 playlists give
≈ 0.5M rows and ≈ 170k distinct tracks, the shape of the held-out MPD collection the synthetic set stands in
for (5,365 playlists, 170k tracks, 0.5M rows, a quarter of the test rows cold); `shape()` and `cold_share()`
measure a set. docs/scale.md has the numbers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import log_ndtr, ndtr, ndtri
from tqdm.auto import tqdm

from src.data.errors import DataError
from src.data.schema import AUDIO_FEATURES
from src.data.sources import isin
from src.data.split import split_interactions
from src.utils.io import atomic_path, write_csv, write_json

_BASE62 = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
# Word lists for names (split at run time; ruff's SIM905 would spread them one word per line).
_SYLLABLES = str.split(
    "ka ra mi lo ne vo ta si den mor lan bel cor fin gal hul jas kel lum nor pax quin rus sol tem ul "
    "vin wes yor zan bri cha dro fle gra kri plo sta tre vel"
)
_WORDS = str.split(
    "love night heart fire summer blue gold wild dream light rain city river road home girl boy baby time "
    "way sky sun moon star stone ocean echo ghost shadow paper glass silver young lost free high low slow "
    "fast sweet bitter electric golden broken hollow neon velvet midnight morning"
)
_GENRE_WORDS = str.split(
    "pop rock rap edm country indie jazz r&b latin metal folk classical reggae punk soul blues house techno "
    "trap k-pop disco funk gospel ambient grunge emo ska dubstep trance drill afrobeat bossa swing lo-fi "
    "synthwave hardcore bluegrass opera salsa reggaeton garage"
)
_MOODS = str.split(
    "chill vibes mix party workout throwback feels jams hits favorites road-trip summer late-night"
)
# Unit-interval audio features, drawn in logit space around the genre centre.
_UNIT = ("danceability", "energy", "speechiness", "acousticness", "instrumentalness", "liveness", "valence")
# Typical means of the unit features in public Spotify dumps (the genre centres scatter around them).
_UNIT_MEAN = np.array([0.62, 0.64, 0.09, 0.25, 0.08, 0.18, 0.5])
FEATURES_FILE = "features.csv"


@dataclass
class SyntheticMPDParams:
    """Parameters of the generator; the defaults give ≈ 5k playlists, 170k distinct tracks, 0.5M rows."""

    n_playlists: int = 5000
    """Number of playlists (pids first_pid … first_pid + n_playlists − 1)."""
    slice_size: int = 1000
    """Playlists per slice file (the official dump has 1000)."""
    first_pid: int = 0
    """pid of the first playlist; slice names follow the pids (`mpd.slice.0-999.json`, …)."""
    seed: int = 0
    """Seed of every draw: same parameters + seed → identical files."""
    min_length: int = 5
    """Shortest playlist (the MPD has 5 … 250 tracks per playlist)."""
    max_length: int = 250
    """Longest playlist."""
    mean_length: float = 100.0
    """Mean playlist length (of the truncated log-normal); 100 × 5,000 playlists ≈ 0.5M rows."""
    length_sigma: float = 1.0
    """σ of the log-normal before truncation (larger: more short and more long playlists)."""
    n_genres: int = 40
    """Latent genres (artist communities); they shape co-occurrence and audio features."""
    genre_zipf: float = 0.8
    """Zipf exponent of genre popularity (how many artists and playlists each genre gets)."""
    genre_spread: float = 1.5
    """SD of the genre centres of the unit-interval audio features, in logit space (artist offsets have SD 0.5,
    track noise 0.6): how strongly audio features carry the genre."""
    n_artists: int = 40000
    """Artists in the catalogue (most are never drawn)."""
    mean_albums: float = 2.0
    """Mean albums per artist (1 + Poisson)."""
    mean_album_tracks: float = 8.0
    """Mean tracks per album (1 + Poisson)."""
    artist_zipf: float = 0.9
    """Zipf exponent of artist popularity."""
    track_zipf: float = 1.0
    """Zipf exponent of a track's share within its artist's tracks (hits vs. deep cuts)."""
    mean_extra_genres: float = 1.0
    """A playlist mixes 1 + Poisson(mean_extra_genres) genres."""
    p_popular: float = 0.15
    """Probability that a position is a global hit (drawn by popularity over the whole catalogue)."""
    p_same_artist: float = 0.25
    """Probability that a position is another track of an artist already in the playlist."""
    features: bool = True
    """Also write `features.csv` (track_id, audio features, release_year) for the tracks in the slices."""
    features_coverage: float = 1.0
    """Share of those tracks that get a row in `features.csv` (a random subset; 1.0 = all)."""
    json_indent: int | None = 4
    """Indentation of the slice JSON (the official slices are pretty-printed); None writes compact files."""

    def __post_init__(self) -> None:
        if self.n_playlists < 1 or self.slice_size < 1:
            raise DataError("n_playlists and slice_size must be ≥ 1")
        if not 1 <= self.min_length <= self.max_length:
            raise DataError(f"need 1 ≤ min_length ≤ max_length, got {self.min_length}, {self.max_length}")
        if not self.min_length < self.mean_length < self.max_length:
            raise DataError(f"mean_length must lie strictly between {self.min_length} and {self.max_length}")
        if self.p_popular < 0 or self.p_same_artist < 0 or self.p_popular + self.p_same_artist > 1:
            raise DataError("p_popular and p_same_artist must be ≥ 0 and sum to ≤ 1")
        if not 0.0 <= self.features_coverage <= 1.0:
            raise DataError("features_coverage must be in [0, 1]")
        if self.n_genres < 1 or self.n_artists < self.n_genres:
            raise DataError("need n_genres ≥ 1 and n_artists ≥ n_genres")


# -- the catalogue ---------------------------------------------------------------------------------------------
@dataclass
class Catalogue:
    """Tracks sorted by genre, then artist (so each genre and each artist is a contiguous range)."""

    track_uri: np.ndarray  # str, 22 base62 chars
    track_name: np.ndarray
    artist: np.ndarray  # int artist index (artists sorted by genre)
    album: np.ndarray  # int album index
    genre: np.ndarray  # int genre of the track's artist
    duration_ms: np.ndarray
    weight: np.ndarray  # popularity weight, sums to 1
    artist_name: np.ndarray
    artist_uri: np.ndarray
    album_name: np.ndarray
    album_uri: np.ndarray
    album_year: np.ndarray
    genre_name: list[str]
    genre_weight: np.ndarray
    global_cdf: np.ndarray  # cumulative weight over all tracks
    genre_key: np.ndarray  # genre + cumulative weight within the genre (searchsorted key)
    artist_key: np.ndarray  # artist + cumulative weight within the artist
    features: pd.DataFrame  # audio features per track (same order)


def _zipf(n: int, exponent: float, rng: np.random.Generator) -> np.ndarray:
    """Weights ∝ rank^-exponent over a random ranking of n items (sum 1)."""
    weights = np.arange(1, n + 1, dtype=np.float64) ** -exponent
    return rng.permutation(weights / weights.sum())


def _base62_ids(n: int, rng: np.random.Generator) -> np.ndarray:
    """n distinct 22-character base62 ids (the form of Spotify ids)."""
    codes = rng.integers(0, 62, size=(n, 22), dtype=np.uint8)
    ids = np.frombuffer(_BASE62[codes].tobytes(), dtype="S22").astype(str)
    while len(np.unique(ids)) < n:  # practically never (62^22 ids); keeps the ids unique regardless
        _, first = np.unique(ids, return_index=True)
        dup = np.setdiff1d(np.arange(n), first)
        ids[dup] = np.frombuffer(_BASE62[rng.integers(0, 62, (len(dup), 22), np.uint8)].tobytes(), "S22")
    return ids


def _names(n: int, rng: np.random.Generator, parts: list[str], k: int, sep: str) -> np.ndarray:
    """n title-case names of k random parts joined by `sep`."""
    pick = np.asarray(parts)[rng.integers(0, len(parts), size=(n, k))]
    return np.array([sep.join(row).title() for row in pick.tolist()], dtype=object)


def _unique(names: np.ndarray) -> np.ndarray:
    """Number repeated names ('Kara Velsi', 'Kara Velsi 2'): downstream, an artist is identified by its name."""
    seen: dict[str, int] = {}
    out = names.copy()
    for i, name in enumerate(names):
        count = seen.get(name, 0) + 1
        seen[name] = count
        if count > 1:
            out[i] = f"{name} {count}"
    return out


def _cumulative_key(group: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """group + cumulative share of `weight` within the group (group sorted): searchsorted(key, g + u) draws
    an item of group g with probability ∝ weight, for u uniform in [0, 1)."""
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    ends = np.r_[starts[1:], len(group)]
    cum = np.cumsum(weight)
    before = np.repeat(np.r_[0.0, cum[starts[1:] - 1]], ends - starts)
    totals = np.repeat(cum[ends - 1] - np.r_[0.0, cum[starts[1:] - 1]], ends - starts)
    share = (cum - before) / totals
    share[ends - 1] = 1.0
    return group + share


def _genre_names(n: int) -> list[str]:
    words = len(_GENRE_WORDS)
    return [_GENRE_WORDS[g % words] + (f" {g // words + 1}" if g >= words else "") for g in range(n)]


def make_catalogue(params: SyntheticMPDParams, rng: np.random.Generator) -> Catalogue:
    """Genres → artists → albums → tracks, with popularity weights and audio features (model steps 1-2)."""
    g_n = params.n_genres
    genre_weight = np.sort(_zipf(g_n, params.genre_zipf, rng))[::-1].copy()
    # Genre centres: unit features in logit space, loudness, tempo, log duration, P(major), era.
    logit_mean = np.log(_UNIT_MEAN / (1 - _UNIT_MEAN))
    centre_unit = logit_mean + rng.normal(0, params.genre_spread, (g_n, len(_UNIT)))
    centre_loud = rng.uniform(-12, -4, g_n)
    centre_tempo = rng.uniform(80, 160, g_n)
    centre_logdur = np.log(rng.uniform(170_000, 260_000, g_n))
    p_major = rng.uniform(0.4, 0.8, g_n)
    era = rng.uniform(1975, 2015, g_n)

    artist_genre = np.sort(rng.choice(g_n, size=params.n_artists, p=genre_weight))
    genre_weight = genre_weight * (np.bincount(artist_genre, minlength=g_n) > 0)  # genres without artists
    genre_weight /= genre_weight.sum()
    artist_pop = _zipf(params.n_artists, params.artist_zipf, rng)
    n_albums = 1 + rng.poisson(params.mean_albums - 1, params.n_artists)
    album_artist = np.repeat(np.arange(params.n_artists), n_albums)
    n_album_tracks = 1 + rng.poisson(params.mean_album_tracks - 1, len(album_artist))
    track_album = np.repeat(np.arange(len(album_artist)), n_album_tracks)
    track_artist = album_artist[track_album]
    n_tracks = len(track_album)
    if n_tracks < params.max_length:
        raise DataError(f"the catalogue has {n_tracks} tracks, fewer than max_length={params.max_length}")

    # Within-artist Zipf share over a random ranking of the artist's tracks.
    order = np.lexsort((rng.random(n_tracks), track_artist))  # random rank within artist
    starts = np.flatnonzero(np.r_[True, track_artist[1:] != track_artist[:-1]])
    rank = np.empty(n_tracks, dtype=np.int64)
    rank[order] = np.arange(n_tracks) - np.repeat(starts, np.diff(np.r_[starts, n_tracks]))
    share = (rank + 1.0) ** -params.track_zipf
    share /= np.bincount(track_artist, weights=share)[track_artist]
    weight = artist_pop[track_artist] * share
    weight /= weight.sum()

    first = _names(params.n_artists, rng, _SYLLABLES, 2, "")
    last = _names(params.n_artists, rng, _SYLLABLES, 2, "")
    artist_name = _unique(np.array([f"{a} {b}" for a, b in zip(first, last, strict=True)], dtype=object))
    album_name = _names(len(album_artist), rng, _WORDS, 2, " ")
    album_year = np.clip(
        np.round(era[artist_genre[album_artist]] + rng.normal(0, 8, len(album_artist))), 1950, 2017
    )
    genre = artist_genre[track_artist]
    features = _audio_features(
        rng,
        genre,
        track_artist,
        params.n_artists,
        centre_unit,
        centre_loud,
        centre_tempo,
        centre_logdur,
        p_major,
    )
    features["release_year"] = album_year[track_album].astype(np.int64)
    global_cdf = np.cumsum(weight)
    global_cdf[-1] = 1.0
    return Catalogue(
        track_uri=_base62_ids(n_tracks, rng),
        track_name=_names(n_tracks, rng, _WORDS, 2, " "),
        artist=track_artist,
        album=track_album,
        genre=genre,
        duration_ms=features["duration_ms"].to_numpy(),
        weight=weight,
        artist_name=artist_name,
        artist_uri=_base62_ids(params.n_artists, rng),
        album_name=album_name,
        album_uri=_base62_ids(len(album_artist), rng),
        album_year=album_year,
        genre_name=_genre_names(g_n),
        genre_weight=genre_weight,
        global_cdf=global_cdf,
        genre_key=_cumulative_key(genre, weight),
        artist_key=_cumulative_key(track_artist, weight),
        features=features,
    )


def _audio_features(
    rng: np.random.Generator,
    genre: np.ndarray,
    artist: np.ndarray,
    n_artists: int,
    centre_unit: np.ndarray,
    centre_loud: np.ndarray,
    centre_tempo: np.ndarray,
    centre_logdur: np.ndarray,
    p_major: np.ndarray,
) -> pd.DataFrame:
    """Genre centre + artist offset + track noise (unit features in logit space)."""
    n = len(genre)
    artist_offset = rng.normal(0, 0.5, (n_artists, len(_UNIT)))
    logits = centre_unit[genre] + artist_offset[artist] + rng.normal(0, 0.6, (n, len(_UNIT)))
    unit = 1.0 / (1.0 + np.exp(-logits))
    frame = pd.DataFrame(np.round(unit, 4), columns=list(_UNIT))
    frame["key"] = rng.integers(0, 12, n)
    frame["loudness"] = np.round(np.minimum(centre_loud[genre] + rng.normal(0, 2.0, n), 0.0), 3)
    frame["mode"] = (rng.random(n) < p_major[genre]).astype(np.int64)
    frame["tempo"] = np.round(np.clip(centre_tempo[genre] + rng.normal(0, 12.0, n), 50, 220), 3)
    duration = np.exp(centre_logdur[genre] + rng.normal(0, 0.25, n))
    frame["duration_ms"] = np.clip(np.round(duration), 30_000, 900_000).astype(np.int64)
    return frame[list(AUDIO_FEATURES)]


# -- playlists -------------------------------------------------------------------------------------------------
def _log_normal_mass(a: float, b: float) -> float:
    """log(Φ(b) − Φ(a)) for a < b, accurate far in either tail."""
    if a > 0:  # upper tail: Φ(b) − Φ(a) = Φ(−a) − Φ(−b)
        a, b = -b, -a
    log_b = float(log_ndtr(b))
    return log_b + math.log1p(-math.exp(float(log_ndtr(a)) - log_b))


def _truncated_normal(a: float, b: float, size: int, rng: np.random.Generator) -> np.ndarray:
    """Standard normal draws truncated to [a, b] by inverse CDF; a range in the upper tail is mirrored into the
    lower one, where Φ keeps its relative precision."""
    flip = a > 0
    if flip:
        a, b = -b, -a
    lo, hi = ndtr(a), ndtr(b)
    z = np.clip(ndtri(lo + rng.random(size) * (hi - lo)), a, b)
    return -z if flip else z


def _truncated_lognormal_mu(mean: float, sigma: float, low: float, high: float) -> float:
    """μ such that a log-normal(μ, σ) truncated to [low, high] has the given mean (bisection; the truncated
    mean grows with μ from `low` to `high`)."""

    def truncated_mean(mu: float) -> float:
        a, b = (math.log(low) - mu) / sigma, (math.log(high) - mu) / sigma
        return math.exp(mu + sigma**2 / 2 + _log_normal_mass(a - sigma, b - sigma) - _log_normal_mass(a, b))

    lo, hi = math.log(low) - 50 * sigma - 10, math.log(high) + 50 * sigma + 10
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if truncated_mean(mid) < mean else (lo, mid)
    return (lo + hi) / 2


def playlist_lengths(params: SyntheticMPDParams, rng: np.random.Generator) -> np.ndarray:
    """Lengths in [min_length, max_length]: a log-normal truncated there (by inverse CDF, so any truncation
    works), with mean ≈ mean_length."""
    low, high = params.min_length - 0.5, params.max_length + 0.5
    sigma = params.length_sigma
    mu = _truncated_lognormal_mu(params.mean_length, sigma, low, high)
    a, b = (math.log(low) - mu) / sigma, (math.log(high) - mu) / sigma
    z = _truncated_normal(a, b, params.n_playlists, rng)
    lengths = np.round(np.exp(mu + sigma * z))
    return np.clip(lengths, params.min_length, params.max_length).astype(np.int64)


def _mixture_draws(
    cat: Catalogue,
    m: int,
    genres: np.ndarray,
    mix: np.ndarray,
    chosen: np.ndarray,
    params: SyntheticMPDParams,
    rng: np.random.Generator,
) -> np.ndarray:
    """m candidate tracks: global hits, tracks of artists already drawn, tracks of the playlist's genres."""
    source = rng.random(m)
    genre = genres[rng.choice(len(genres), size=m, p=mix)]
    cand = np.searchsorted(cat.genre_key, genre + rng.random(m), side="right")
    popular = source < params.p_popular
    cand[popular] = np.searchsorted(cat.global_cdf, rng.random(popular.sum()), side="right")
    same = ~popular & (source < params.p_popular + params.p_same_artist)
    pool = np.r_[cat.artist[chosen], cat.artist[cand[~same]]]
    if same.any() and len(pool):
        artists = pool[rng.integers(0, len(pool), same.sum())]
        cand[same] = np.searchsorted(cat.artist_key, artists + rng.random(same.sum()), side="right")
    return cand


def sample_playlist(
    cat: Catalogue, length: int, params: SyntheticMPDParams, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Track indices of one playlist (unique, in playlist order) and its genres (model step 3)."""
    n_genres = min(1 + rng.poisson(params.mean_extra_genres), int((cat.genre_weight > 0).sum()))
    genres = rng.choice(len(cat.genre_weight), size=n_genres, replace=False, p=cat.genre_weight)
    mix = rng.dirichlet(np.ones(n_genres))
    chosen = np.empty(0, dtype=np.int64)
    attempt = 0
    while len(chosen) < length:
        need = length - len(chosen)
        m = int(need * 1.3) + 8
        if attempt < 10:
            cand = _mixture_draws(cat, m, genres, mix, chosen, params, rng)
        elif attempt < 20:  # the topic cannot fill this playlist: global hits, then anything
            cand = np.searchsorted(cat.global_cdf, rng.random(m), side="right")
        else:
            cand = rng.integers(0, len(cat.weight), m)
        cand = cand[~np.isin(cand, chosen)]
        _, first = np.unique(cand, return_index=True)
        chosen = np.r_[chosen, cand[np.sort(first)][:need]]
        attempt += 1
    return chosen, genres


def _playlist_doc(pid: int, tracks: np.ndarray, name: str, cat: Catalogue, rng: np.random.Generator) -> dict:
    album, artist = cat.album[tracks], cat.artist[tracks]
    duration = cat.duration_ms[tracks]
    entries = [
        {
            "pos": pos,
            "artist_name": cat.artist_name[a],
            "track_uri": f"spotify:track:{cat.track_uri[t]}",
            "artist_uri": f"spotify:artist:{cat.artist_uri[a]}",
            "track_name": cat.track_name[t],
            "album_uri": f"spotify:album:{cat.album_uri[b]}",
            "duration_ms": int(d),
            "album_name": cat.album_name[b],
        }
        for pos, (t, a, b, d) in enumerate(
            zip(tracks.tolist(), artist.tolist(), album.tolist(), duration.tolist(), strict=True)
        )
    ]
    return {
        "name": name,
        "collaborative": "true" if rng.random() < 0.02 else "false",
        "pid": pid,
        "modified_at": int(1_400_000_000 + rng.integers(0, 109_000_000)),
        "num_tracks": len(entries),
        "num_albums": len(np.unique(album)),
        "num_followers": int(rng.geometric(0.3)),
        "num_edits": int(1 + rng.poisson(5)),
        "duration_ms": int(duration.sum()),
        "num_artists": len(np.unique(artist)),
        "tracks": entries,
    }


def _playlist_name(cat: Catalogue, genres: np.ndarray, rng: np.random.Generator) -> str:
    mood = _MOODS[rng.integers(0, len(_MOODS))]
    return f"{cat.genre_name[genres[0]]} {mood}" if rng.random() < 0.7 else mood


# -- writing ---------------------------------------------------------------------------------------------------
def _slice_ranges(params: SyntheticMPDParams) -> Iterator[tuple[int, int]]:
    start, end = params.first_pid, params.first_pid + params.n_playlists
    for first in range(start, end, params.slice_size):
        yield first, min(first + params.slice_size, end) - 1


def generate(
    params: SyntheticMPDParams, out_dir: str | Path, progress: bool = True, split_seed: int | None = 0
) -> dict:
    """Write the slices (and `features.csv`) into `out_dir`; return `shape()` of what was written.

    `out_dir/synthetic_mpd.json` records the parameters and the shape. With `split_seed`, the shape also has
    the share of cold test rows under the playlist-continuation split with that seed.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(params.seed)
    cat = make_catalogue(params, rng)
    lengths = playlist_lengths(params, rng)
    parts: list[np.ndarray] = []
    bar = tqdm(total=params.n_playlists, desc="synthetic MPD playlists", unit="pl", disable=not progress)
    for first, last in _slice_ranges(params):
        playlists = []
        for pid in range(first, last + 1):
            tracks, genres = sample_playlist(cat, int(lengths[len(parts)]), params, rng)
            playlists.append(_playlist_doc(pid, tracks, _playlist_name(cat, genres, rng), cat, rng))
            parts.append(tracks)
            bar.update(1)
        doc = {
            "info": {
                "generated_on": "synthetic (playlist-lab src/data/synthetic_mpd.py)",
                "slice": f"{first}-{last}",
                "version": "v1",
                "seed": params.seed,
            },
            "playlists": playlists,
        }
        with atomic_path(out_dir / f"mpd.slice.{first}-{last}.json") as tmp:
            tmp.write_text(json.dumps(doc, indent=params.json_indent, ensure_ascii=False), encoding="utf-8")
    bar.close()
    rows = np.concatenate(parts)
    if params.features:
        used = np.unique(rows)
        if params.features_coverage < 1.0:
            used = used[rng.random(len(used)) < params.features_coverage]
        table = cat.features.iloc[used].reset_index(drop=True)
        table.insert(0, "track_id", cat.track_uri[used])
        write_csv(out_dir / FEATURES_FILE, table)
    lengths_out = np.array([len(p) for p in parts])
    result = shape(rows, lengths_out, cat)
    if split_seed is not None:
        pids = np.repeat(np.arange(params.first_pid, params.first_pid + params.n_playlists), lengths_out)
        result.update(cold_share(np.char.add("mpd-", pids.astype(str)), cat.track_uri[rows], split_seed))
    write_json(out_dir / "synthetic_mpd.json", {"params": asdict(params), "shape": result})
    return result


def cold_share(user_ids: np.ndarray, track_ids: np.ndarray, split_seed: int = 0) -> dict:
    """`cold_share` as the recommender evaluation reports it: the share of test rows whose track is in neither
    the train nor the validation part of the playlist-continuation split (`data/split.py`). With the ids
    `MPDSource` gives (`mpd-<pid>`, the bare track id) it is the split `evaluate_recsys.py data=mpd
    split_seeds=[SEED]` scores."""
    split = split_interactions(pd.DataFrame({"user_id": user_ids, "track_id": track_ids}), seed=split_seed)
    test = split["part"] == "test"
    known = split.loc[~test, "track_id"]
    return {"cold_share": float((~isin(split.loc[test, "track_id"], known)).mean())}


def shape(rows: np.ndarray, lengths: np.ndarray, cat: Catalogue | None = None) -> dict:
    """Playlists, distinct tracks, rows, mean/median length, share of tracks seen once, top-1% row share."""
    counts = np.bincount(rows)
    counts = np.sort(counts[counts > 0])[::-1]
    top = max(1, len(counts) // 100)
    out = {
        "playlists": len(lengths),
        "rows": int(len(rows)),
        "distinct_tracks": len(counts),
        "mean_length": float(lengths.mean()),
        "median_length": float(np.median(lengths)),
        "min_length": int(lengths.min()),
        "max_length": int(lengths.max()),
        "tracks_seen_once": float((counts == 1).mean()),
        "rows_of_tracks_seen_once": float((counts == 1).sum() / len(rows)),
        "top1pct_tracks_row_share": float(counts[:top].sum() / len(rows)),
    }
    if cat is not None:
        out["distinct_artists"] = len(np.unique(cat.artist[rows]))
        out["distinct_albums"] = len(np.unique(cat.album[rows]))
        out["catalogue_tracks"] = len(cat.track_uri)
    return out
