"""Song identity: which catalogue rows are the same recording under different track ids.

Catalogues list one song many times (single, album, compilation, "- Remastered 2009", "(feat. …)", "- Radio
Edit"). A listener never wants two of them in one playlist, so every playlist builder keeps one row per song key.
The key is the normalised primary artist plus the title with version qualifiers and featured-artist credits
removed. A qualifier that names something else (a remixer: "- David Guetta Remix", "- Human Nature Radio Mix")
marks a different recording and is kept.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache

import numpy as np
import pandas as pd

# Words that only say which release or edit of a song this is. A qualifier made only of these (and years,
# numbers, punctuation) is dropped from the title; one with any other word ("remix" by someone) is kept.
_VERSION_WORDS = frozenset(
    {
        "remaster",
        "remastered",
        "remasterizado",
        "remasterizada",
        "remasterise",
        "remasterizzato",
        "digitally",
        "digital",
        "version",
        "versao",
        "edit",
        "edited",
        "radio",
        "single",
        "album",
        "original",
        "mix",
        "explicit",
        "clean",
        "mono",
        "stereo",
        "live",
        "ao",
        "vivo",
        "en",
        "directo",
        "extended",
        "club",
        "main",
        "ep",
        "lp",
        "deluxe",
        "edition",
        "bonus",
        "track",
        "bit",
        "the",
        "from",
        "anniversary",
        "expanded",
        "special",
        "cut",
        "video",
    }
)
_FEAT = re.compile(r"^(feat|ft|featuring|with|con|avec)\b\.?")
_INLINE_FEAT = re.compile(r"\s+(feat\.?|ft\.|featuring)\s.*$")
_BRACKETED = re.compile(r"\s*[(\[]([^()\[\]]*)[)\]]")
_NON_WORD = re.compile(r"[\W_]+")
_ARTIST_SPLIT = re.compile(r"\s*(?:[,;/]|\s(?:feat\.?|ft\.|featuring|with)\s)\s*")
_SEPARATOR = "\x1f"


def _fold(text: str) -> str:
    """Lower case without accents (NFKD, combining marks dropped); other scripts are kept as they are."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _is_qualifier(segment: str) -> bool:
    """True for a featured-artist credit or a segment that only names a release/edit of the same song."""
    segment = segment.strip()
    if not segment or _FEAT.match(segment):
        return True
    words = [w for w in _NON_WORD.split(segment) if w]
    return all(w in _VERSION_WORDS or w.isdigit() for w in words)


@lru_cache(maxsize=1 << 18)
def title_key(title: str) -> str:
    """The title with version qualifiers and featured-artist credits removed, folded and de-punctuated."""
    text = _fold(title)
    previous = None
    while previous != text:  # "(feat. joan) (feat. joan)", "[Remix] (Remastered 2013)": innermost first
        previous = text
        text = _BRACKETED.sub(lambda m: "" if _is_qualifier(m.group(1)) else m.group(0), text)
    head, *tail = text.split(" - ")
    kept = [head] + [part for part in tail if not _is_qualifier(part)]
    text = _INLINE_FEAT.sub("", " ".join(kept))
    return _NON_WORD.sub(" ", text).strip()


@lru_cache(maxsize=1 << 18)
def artist_key(artist: str) -> str:
    """The first credited artist, folded and de-punctuated ("Drake, Rick Ross" and "Drake feat. X" → "drake")."""
    first = _ARTIST_SPLIT.split(_fold(artist).strip(), maxsplit=1)[0]
    return _NON_WORD.sub(" ", first).strip()


def song_key(artist: object, title: object, track_id: object = "") -> str:
    """One string per song; a row without a usable title is its own song (keyed by its track id)."""
    title_part = title_key(title) if isinstance(title, str) else ""
    if not title_part:
        return f"id:{track_id}"
    artist_part = artist_key(artist) if isinstance(artist, str) else ""
    return f"{artist_part}{_SEPARATOR}{title_part}"


def song_keys(tracks: pd.DataFrame) -> pd.Series:
    """The song key of every row of a track table (columns `name`, `artist`, `track_id`), index aligned."""
    names = tracks["name"] if "name" in tracks else pd.Series(None, index=tracks.index, dtype=object)
    artists = tracks["artist"] if "artist" in tracks else pd.Series(None, index=tracks.index, dtype=object)
    ids = tracks["track_id"].astype(str) if "track_id" in tracks else pd.Series(tracks.index.astype(str))
    keys = [song_key(a, n, t) for a, n, t in zip(artists.tolist(), names.tolist(), ids.tolist(), strict=True)]
    return pd.Series(keys, index=tracks.index, dtype=object, name="song_key")


def one_per_song(ranked: pd.DataFrame, keys: pd.Series | None = None) -> pd.DataFrame:
    """Keep one row per song: the most popular version, at the rank of the song's best-ranked version.

    `ranked` is in preference order (nearest first, best score first). Versions without a popularity rank
    below those with one; among equals the better-ranked version wins.
    """
    if ranked.empty:
        return ranked
    keys = song_keys(ranked) if keys is None else keys.reindex(ranked.index)
    position = np.arange(len(ranked))
    popularity = (
        pd.to_numeric(ranked["popularity"], errors="coerce").fillna(-np.inf).to_numpy()
        if "popularity" in ranked
        else np.zeros(len(ranked))
    )
    frame = pd.DataFrame({"key": keys.to_numpy(), "pos": position, "pop": popularity})
    first_rank = frame.groupby("key", sort=False)["pos"].transform("min").to_numpy()
    best = frame.sort_values(["key", "pop", "pos"], ascending=[True, False, True]).drop_duplicates("key")
    chosen = best.assign(rank=first_rank[best["pos"].to_numpy()]).sort_values("rank")["pos"].to_numpy()
    return ranked.iloc[chosen]


def duplicate_song_rate(playlists: Iterable[Sequence[str]], key_of: Mapping[str, str]) -> float:
    """Share of playlist slots holding a song already earlier in the same playlist (0 = no repeats)."""
    slots = repeats = 0
    for track_ids in playlists:
        seen: set[str] = set()
        for track_id in track_ids:
            key = key_of.get(str(track_id), f"id:{track_id}")
            slots += 1
            repeats += key in seen
            seen.add(key)
    return repeats / slots if slots else 0.0
