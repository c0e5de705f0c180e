"""Last.fm HetRec 2011 (`hetrec2011-lastfm-2k`) → canonical tables; items are artists, users are people.

Files (tab-separated, header row, optionally gzipped): `user_artists.dat` (`userID artistID weight` = play
count), `artists.dat` (`id name url pictureURL`, UTF-8), `tags.dat` (`tagID tagValue`, latin-1) and
`user_taggedartists.dat` (`userID artistID tagID day month year`). Tags are item *features* (a `tags` column:
an artist's most used tags joined by `|`), so they are not evaluation labels. There are no audio features:
those columns stay NaN (`has_audio = 0`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from src.data.errors import DataError
from src.data.report import DataReport
from src.data.schema import AUDIO_FEATURES, TRACK_COLUMNS
from src.data.sources import Catalog

log = logging.getLogger(__name__)

WEIGHTS = {"count", "log", "binary"}


def read_dat(
    folder: Path, name: str, columns: list[str], encoding: str = "utf-8", required: bool = True
) -> pd.DataFrame | None:
    """`<name>.dat` or `<name>.dat.gz` from `folder`, checked for the expected columns."""
    for candidate in (folder / f"{name}.dat", folder / f"{name}.dat.gz"):
        if candidate.is_file():
            try:
                frame = pd.read_csv(
                    candidate, sep="\t", encoding=encoding, dtype=str, quoting=3, keep_default_na=False
                )
            except (pd.errors.ParserError, UnicodeDecodeError, OSError, EOFError) as exc:
                raise DataError(f"{candidate}: not a readable tab-separated file ({exc})") from exc
            missing = [c for c in columns if c not in frame.columns]
            if missing:
                raise DataError(f"{candidate}: missing column(s) {missing}; found {list(frame.columns)}")
            return frame
    if required:
        raise DataError(f"{folder}: no {name}.dat(.gz) — expected the Last.fm HetRec 2011 files here")
    return None


@dataclass
class LastFMSource:
    """Read the HetRec 2011 Last.fm folder.

    Args:
        path: the folder holding the `.dat` / `.dat.gz` files.
        weight: interaction weight: `count` (plays), `log` (1 + log plays) or `binary` (1).
        top_tags: how many of an artist's most used tags to keep as its `tags` feature.
        min_users: artists listened to by fewer users are dropped (1 keeps all).
    """

    path: str
    weight: str = "log"
    top_tags: int = 10
    min_users: int = 1

    def load(self) -> Catalog:
        folder = Path(self.path)
        if not folder.is_dir():
            raise DataError(f"{folder}: not a folder (expected the Last.fm HetRec 2011 files)")
        if self.weight not in WEIGHTS:
            raise DataError(f"unknown weight {self.weight!r}: use one of {sorted(WEIGHTS)}")
        report = DataReport(source=str(folder))
        plays = read_dat(folder, "user_artists", ["userID", "artistID", "weight"])
        artists = read_dat(folder, "artists", ["id", "name"])
        report.rows_read = len(plays)
        plays["weight"] = pd.to_numeric(plays["weight"], errors="coerce")
        bad = plays["weight"].isna() | (plays["weight"] <= 0)
        if bad.any():
            rows = (np.flatnonzero(bad.to_numpy()) + 2)[:8].tolist()
            log.warning(
                "%s/user_artists: %d rows with a non-positive or non-numeric weight dropped (rows %s)",
                folder,
                int(bad.sum()),
                rows,
            )
            report.drop("user_artists: weight not a positive number", int(bad.sum()))
        plays = plays.loc[~bad]
        known = plays["artistID"].isin(set(artists["id"]))
        report.drop("user_artists: artist not in artists.dat", int((~known).sum()))
        plays = plays.loc[known]
        if self.min_users > 1:
            users_per_artist = plays.groupby("artistID")["userID"].transform("nunique")
            report.drop(
                f"artists with fewer than {self.min_users} users",
                int((users_per_artist < self.min_users).sum()),
            )
            plays = plays.loc[users_per_artist >= self.min_users]
        if plays.empty:
            raise DataError(f"{folder}/user_artists: no usable user–artist rows")
        interactions = (
            pd.DataFrame(
                {
                    "user_id": "lfm-" + plays["userID"].astype(str),
                    "track_id": plays["artistID"].astype(str),
                    "weight": self._weights(plays["weight"].to_numpy(dtype=np.float64)),
                }
            )
            .groupby(["user_id", "track_id"], as_index=False, sort=True)["weight"]
            .sum()
        )
        used = artists[artists["id"].isin(set(interactions["track_id"]))]
        tracks = pd.DataFrame(
            {
                "track_id": used["id"].astype(str).to_numpy(),
                "name": used["name"].to_numpy(),
                "artist": used["name"].to_numpy(),
            }
        )
        tracks["album"] = pd.NA
        for column in ("release_year", "popularity", *AUDIO_FEATURES):
            tracks[column] = np.nan
        # popularity stays NaN: listener counts come from the interactions and would leak the test part.
        tracks["tags"] = tracks["track_id"].map(self._tags(folder)).fillna("")
        tracks["has_audio"] = np.int8(0)
        tracks = tracks[[*TRACK_COLUMNS, "tags", "has_audio"]].reset_index(drop=True)
        report.tracks, report.interactions = len(tracks), len(interactions)
        report.notes.append("Last.fm: items are artists, tags are item features, no audio features")
        report.log()
        labels = pd.DataFrame({"track_id": pd.Series(dtype="string")})
        return Catalog(tracks=tracks, interactions=interactions, labels=labels, report=report)

    def _weights(self, plays: np.ndarray) -> np.ndarray:
        if self.weight == "binary":
            return np.ones_like(plays, dtype=np.float32)
        if self.weight == "log":
            return (1.0 + np.log(plays)).astype(np.float32)
        return plays.astype(np.float32)

    def _tags(self, folder: Path) -> pd.Series:
        """artistID → its `top_tags` most assigned tag names joined by '|' (ties alphabetical)."""
        tags = read_dat(folder, "tags", ["tagID", "tagValue"], encoding="latin-1", required=False)
        assigned = read_dat(folder, "user_taggedartists", ["userID", "artistID", "tagID"], required=False)
        if tags is None or assigned is None or self.top_tags <= 0:
            return pd.Series(dtype="string")
        names = tags.set_index("tagID")["tagValue"].str.strip().str.lower()
        counts = assigned.groupby(["artistID", "tagID"]).size().rename("n").reset_index()
        counts["tag"] = counts["tagID"].map(names)
        counts = counts.dropna(subset=["tag"]).sort_values(
            ["artistID", "n", "tag"], ascending=[True, False, True]
        )
        top = counts.groupby("artistID").head(self.top_tags)
        return top.groupby("artistID")["tag"].agg("|".join)
