"""Sources: read one file format each and return the canonical tables (tracks, interactions, labels).

The bundled TidyTuesday catalogue is a CSV source configured with its playlist and genre columns, so a
user's own CSV goes through exactly the same validation.
"""

from __future__ import annotations

import csv
import gzip
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from src.data.clean import (
    MISSING_MARKERS,
    apply_missing_policy,
    coerce_audio_features,
    parse_release_year,
    usable_values,
)
from src.data.errors import DataError, format_rows
from src.data.report import DataReport
from src.data.schema import AUDIO_FEATURES, COLUMN_ALIASES, INTERACTION_COLUMNS, TRACK_COLUMNS

log = logging.getLogger(__name__)


@dataclass
class Catalog:
    """The canonical tables one source produced."""

    tracks: pd.DataFrame
    interactions: pd.DataFrame
    labels: pd.DataFrame
    report: DataReport = field(default_factory=DataReport)


def isin(values: pd.Series, allowed: pd.Series | pd.Index) -> np.ndarray:
    """`values.isin(allowed)` as a boolean array, through one hash table over Python objects.

    pandas' `isin` on arrow-backed strings (the default `str` dtype of pandas ≥ 3) turns every allowed value
    into a pyarrow scalar first: seconds for 100k+ track ids, even when `values` is empty.
    """
    return (
        pd.Series(values.to_numpy(dtype=object), dtype=object).isin(allowed.to_numpy(dtype=object)).to_numpy()
    )


def _check_not_binary(path: Path) -> None:
    with path.open("rb") as handle:
        head = handle.read(4096)
    if path.suffix == ".gz" or head[:2] == b"\x1f\x8b":
        return
    if b"\x00" in head:
        raise DataError(f"{path}: not a text table (binary content); expected a CSV file with a header row")


_SEPARATORS = (",", ";", "\t", "|")


def _header_line(path: Path) -> str:
    """The first line of a (possibly gzipped) text file, without a UTF-8 byte-order mark."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", errors="replace", newline="") as handle:
            return handle.readline()
    except (OSError, EOFError) as exc:
        raise DataError(f"{path}: not a readable CSV table ({type(exc).__name__}: {exc})") from exc


def sniff_separator(header: str) -> str:
    """The field separator of a header line: the most frequent of `,` `;` tab `|` (`,` when none or a tie)."""
    counts = {sep: header.count(sep) for sep in _SEPARATORS}
    best = max(_SEPARATORS, key=lambda sep: (counts[sep], sep == ","))
    return best if counts[best] else ","


def read_csv_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV (optionally .gz) as strings; unreadable or empty files raise DataError.

    Accepts a UTF-8 byte-order mark and `;`, tab or `|` separators (European spreadsheet exports). Column names
    are kept as written, duplicates included (pandas would rename the second `energy` to `energy.1`), so the
    source can tell the user.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    _check_not_binary(path)
    header = _header_line(path)
    sep = sniff_separator(header)
    try:
        frame = pd.read_csv(
            path,
            dtype=str,
            sep=sep,
            na_values=MISSING_MARKERS,
            keep_default_na=True,
            skipinitialspace=True,
            encoding="utf-8-sig",
        )
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path}: the file is empty (no header, no rows)") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, EOFError, ValueError) as exc:
        raise DataError(f"{path}: not a readable CSV table ({type(exc).__name__}: {exc})") from exc
    names = next(csv.reader([header.rstrip("\r\n")], delimiter=sep), [])
    if len(names) == frame.shape[1]:
        frame.columns = [name.strip() for name in names]
    return frame


def read_csv_batches(path: str | Path, rows: int) -> Iterator[pd.DataFrame]:
    """`read_csv_table` `rows` rows at a time (bounded memory whatever the file's size)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    _check_not_binary(path)
    try:
        yield from pd.read_csv(
            path,
            dtype=str,
            na_values=MISSING_MARKERS,
            keep_default_na=True,
            skipinitialspace=True,
            chunksize=int(rows),
        )
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path}: the file is empty (no header, no rows)") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, EOFError) as exc:
        raise DataError(f"{path}: not a readable CSV table ({type(exc).__name__}: {exc})") from exc


def read_parquet_table(path: str | Path) -> pd.DataFrame:
    """Read a parquet file; anything that is not parquet raises DataError."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise DataError(f"{path}: not a readable parquet table ({type(exc).__name__}: {exc})") from exc


def _majority(frame: pd.DataFrame, column: str) -> pd.Series:
    """Most frequent value of `column` per track_id; ties broken alphabetically (docs/evaluation.md)."""
    counts = frame.dropna(subset=[column]).groupby(["track_id", column]).size().rename("n").reset_index()
    counts = counts.sort_values(["track_id", "n", column], ascending=[True, False, True])
    return counts.drop_duplicates("track_id").set_index("track_id")[column]


@dataclass
class TableSource:
    """A table of tracks with Spotify-style audio features (one row per track or per playlist entry).

    Args:
        path: the file to read.
        id_column: column holding the track id (default: `track_id` or an alias; else row order).
        user_column: optional playlist/user column; each (user, track) pair becomes an interaction.
        label_columns: evaluation-only labels; a list keeps names, a mapping renames `{label: column}`.
            Tracks listed several times get the most frequent value (ties alphabetical).
        missing_policy: `impute` (median) or `drop` for rows with missing/unusable audio features.
        sample_users: keep only this many users (random, seeded) and their tracks — for quick runs.
        max_tracks: keep at most this many tracks (random, seeded) — for quick runs.
        seed: seed of the sampling above.
    """

    path: str
    id_column: str | None = None
    user_column: str | None = None
    label_columns: Sequence[str] | Mapping[str, str] | None = None
    missing_policy: str = "impute"
    sample_users: int | None = None
    max_tracks: int | None = None
    seed: int = 0

    def read(self) -> pd.DataFrame:
        return read_csv_table(self.path)

    def read_batches(self, rows: int) -> Iterator[pd.DataFrame]:
        """The raw table `rows` rows at a time, parsed like `read`."""
        yield from read_csv_batches(self.path, rows)

    def load(self) -> Catalog:
        return self._build(self.read())

    def iter_catalogs(self, rows: int = 100_000) -> Iterator[Catalog]:
        """The catalogue `rows` input rows at a time, each batch validated like `load` (bounded memory; a
        track listed in two batches is not merged, and imputation uses each batch's own medians)."""
        first = 0
        for frame in self.read_batches(rows):
            yield self._build(frame.reset_index(drop=True), first)
            first += len(frame)

    def _build(self, frame: pd.DataFrame, first_row: int = 0) -> Catalog:
        source = str(self.path)
        report = DataReport(source=source, rows_read=len(frame))
        if frame.empty:
            raise DataError(f"{source}: the table has a header but no data rows")
        frame = self._canonical_columns(frame, source, report, first_row)
        frame = self._sample(frame)
        frame = coerce_audio_features(frame, source, report)
        if "release_year" in frame:
            frame["release_year"] = parse_release_year(frame["release_year"])
        elif "release_date" in frame:
            frame["release_year"] = parse_release_year(frame["release_date"])
        else:
            frame["release_year"] = np.nan
        if "popularity" in frame:
            given = frame["popularity"].notna()
            numeric = pd.to_numeric(frame["popularity"], errors="coerce").astype("float64")
            frame["popularity"] = usable_values(numeric, "popularity", source, report, given)
        else:
            frame["popularity"] = np.nan
        for column in ("name", "artist", "album"):
            if column not in frame:
                frame[column] = pd.NA
        if "time_signature" in frame:
            numeric = pd.to_numeric(frame["time_signature"], errors="coerce").astype("float64")
            frame["time_signature"] = usable_values(numeric, "time_signature", source, report)

        interactions = self._interactions(frame)
        labels = self._labels(frame)
        keep = [c for c in TRACK_COLUMNS if c in frame] + (
            ["time_signature"] if "time_signature" in frame else []
        )
        tracks = frame[keep].groupby("track_id", sort=False).first().reset_index()
        report.duplicate_rows_merged = len(frame) - len(tracks)
        tracks = apply_missing_policy(tracks, source, self.missing_policy, report)
        if tracks.empty:
            raise DataError(f"{source}: no usable tracks left after validation ({report.dropped})")
        kept = tracks["track_id"]
        interactions = interactions[isin(interactions["track_id"], kept)].reset_index(drop=True)
        labels = labels[isin(labels["track_id"], kept)].reset_index(drop=True)
        report.tracks = len(tracks)
        report.interactions = len(interactions)
        report.log()
        return Catalog(tracks=tracks, interactions=interactions, labels=labels, report=report)

    # -- steps -------------------------------------------------------------------------------------------------
    def _canonical_columns(
        self, frame: pd.DataFrame, source: str, report: DataReport, first_row: int = 0
    ) -> pd.DataFrame:
        frame.columns = [str(c).strip().lower() for c in frame.columns]
        id_column = self.id_column.lower() if self.id_column else None
        protected = {id_column, (self.user_column or "").lower()} | set(self._label_sources().values())
        frame = self._unique_columns(frame, source, report, protected - {None, ""})
        renames = {
            c: COLUMN_ALIASES[c]
            for c in frame.columns
            if c in COLUMN_ALIASES and c not in protected and COLUMN_ALIASES[c] not in frame.columns
        }
        frame = frame.rename(columns=renames)
        if id_column:
            if id_column not in frame.columns:
                raise DataError(
                    f"{source}: id column '{self.id_column}' not found; columns are: {', '.join(frame.columns)}"
                )
            frame["track_id"] = frame[id_column]
        elif "track_id" not in frame.columns:
            frame["track_id"] = [f"row-{i}" for i in range(first_row, first_row + len(frame))]
            report.notes.append("no track_id column: ids taken from row order (row-0, row-1, …)")
        ids = frame["track_id"].astype("string").str.strip()
        ids = ids.str.replace(r"^spotify:track:", "", regex=True)
        frame["track_id"] = ids
        no_id = ids.isna() | (ids == "")
        if no_id.any():
            rows = (np.flatnonzero(no_id.to_numpy()) + 2).tolist()
            log.warning(
                "%s: %d rows without a track id dropped (rows %s)", source, len(rows), format_rows(rows)
            )
            report.drop("missing track id", len(rows))
            frame = frame.loc[~no_id].reset_index(drop=True)
        missing = [c for c in AUDIO_FEATURES if c not in frame.columns]
        if missing:
            raise DataError(
                f"{source}: missing required column(s) {', '.join(repr(c) for c in missing)}; "
                f"columns found: {', '.join(map(str, frame.columns))}"
            )
        for label, column in self._label_sources().items():
            if column not in frame.columns:
                raise DataError(f"{source}: label column '{column}' (for '{label}') not found")
        if self.user_column and self.user_column.lower() not in frame.columns:
            raise DataError(f"{source}: user/playlist column '{self.user_column}' not found")
        return frame

    @staticmethod
    def _unique_columns(
        frame: pd.DataFrame, source: str, report: DataReport, protected: set[str]
    ) -> pd.DataFrame:
        """One column per name (case-insensitive). A repeated column this loader reads is ambiguous (which
        `energy` is right?) and raises DataError; a repeated column it ignores keeps its first copy."""
        repeated = frame.columns[frame.columns.duplicated()].unique()
        if repeated.empty:
            return frame
        used = set(TRACK_COLUMNS) | set(COLUMN_ALIASES) | {"release_date", "time_signature"} | protected
        for name in repeated:
            positions = [i + 1 for i, c in enumerate(frame.columns) if c == name]
            where = ", ".join(map(str, positions))
            if name in used:
                raise DataError(
                    f"{source}: column '{name}' appears {len(positions)} times (columns {where}); "
                    "keep one of them or rename the others"
                )
            note = f"column '{name}' appears {len(positions)} times (columns {where}): the first is used"
            log.warning("%s: %s", source, note)
            report.notes.append(note)
        return frame.loc[:, ~frame.columns.duplicated()]

    def _label_sources(self) -> dict[str, str]:
        if not self.label_columns:
            return {}
        if isinstance(self.label_columns, Mapping):
            return {str(k): str(v).lower() for k, v in self.label_columns.items()}
        return {str(c): str(c).lower() for c in self.label_columns}

    def _sample(self, frame: pd.DataFrame) -> pd.DataFrame:
        rng = np.random.default_rng(self.seed)
        if self.sample_users and self.user_column:
            users = np.sort(frame[self.user_column.lower()].dropna().unique())
            if self.sample_users < len(users):
                chosen = set(rng.choice(users, size=self.sample_users, replace=False))
                frame = frame[frame[self.user_column.lower()].isin(chosen)].reset_index(drop=True)
        if self.max_tracks:
            ids = frame["track_id"].unique()
            if self.max_tracks < len(ids):
                chosen = set(rng.choice(ids, size=self.max_tracks, replace=False))
                frame = frame[frame["track_id"].isin(chosen)].reset_index(drop=True)
        return frame

    def _interactions(self, frame: pd.DataFrame) -> pd.DataFrame:
        if not self.user_column:
            return pd.DataFrame(
                {c: pd.Series(dtype="string" if c != "weight" else "float32") for c in INTERACTION_COLUMNS}
            )
        pairs = frame[[self.user_column.lower(), "track_id"]].dropna()
        pairs.columns = ["user_id", "track_id"]
        out = pairs.groupby(["user_id", "track_id"], sort=True).size().rename("weight").reset_index()
        out["weight"] = out["weight"].astype("float32").clip(upper=1.0)
        return out

    def _labels(self, frame: pd.DataFrame) -> pd.DataFrame:
        sources = self._label_sources()
        labels = pd.DataFrame({"track_id": pd.unique(frame["track_id"])})
        if not sources:
            return labels.iloc[:0]
        base = frame
        if self.user_column:  # one vote per (playlist, track), not per duplicated row
            base = frame.drop_duplicates([self.user_column.lower(), "track_id"])
        for label, column in sources.items():
            labels[label] = labels["track_id"].map(_majority(base, column))
        return labels


@dataclass
class CsvSource(TableSource):
    """A CSV (or .csv.gz) file."""


@dataclass
class ParquetSource(TableSource):
    """A parquet file with the same columns as the CSV variant."""

    def read(self) -> pd.DataFrame:
        return _missing_markers(read_parquet_table(self.path))

    def read_batches(self, rows: int) -> Iterator[pd.DataFrame]:
        import pyarrow.parquet as pq

        path = Path(self.path)
        if not path.is_file():
            raise DataError(f"{path}: file not found")
        try:
            parquet = pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises several unrelated types for a bad file
            raise DataError(f"{path}: not a readable parquet table ({type(exc).__name__}: {exc})") from exc
        for batch in parquet.iter_batches(batch_size=int(rows)):
            yield _missing_markers(batch.to_pandas())


def _missing_markers(frame: pd.DataFrame) -> pd.DataFrame:
    """Treat the same textual missing markers as in CSVs for object columns."""
    for column in frame.columns:
        if frame[column].dtype == object:
            frame[column] = frame[column].replace(MISSING_MARKERS, np.nan)
    return frame
