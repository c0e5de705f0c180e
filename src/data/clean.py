"""Parse the usual variants of Spotify feature dumps into canonical numeric columns.

Accepted: key as 0–11 or note names (C, C#, Db, …), mode as 0/1 or Major/Minor, missing markers
(`?`, empty, `NA`, `NaN`), exponent notation, `duration_ms <= 0` and `tempo = 0` as missing. Values that are not
finite (`inf`) or outside a feature's plausible range (`1e308`) are unusable too: missing, counted and logged.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from src.data.errors import DataError, format_rows
from src.data.report import DataReport
from src.data.schema import AUDIO_FEATURES, PLAUSIBLE_RANGES, UNIT_INTERVAL_FEATURES

log = logging.getLogger(__name__)
MISSING_MARKERS = ["?", "", "NA", "N/A", "NaN", "nan", "null", "NULL", "None", "-"]

_NOTE_TO_PITCH = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def parse_key(value: object) -> float:
    """Pitch class 0–11 from an int-like value or a note name such as 'C#', 'Db', 'F♯'; NaN if unusable."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return np.nan
    text = str(value).strip().replace("♯", "#").replace("♭", "b")
    if not text:
        return np.nan
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is not None:
        if number == -1:  # Spotify's "no key detected"
            return np.nan
        return float(number) if number in range(12) else np.nan
    letter = text[0].upper()
    if letter not in _NOTE_TO_PITCH:
        return np.nan
    pitch = _NOTE_TO_PITCH[letter]
    for accidental in text[1:]:
        if accidental == "#":
            pitch += 1
        elif accidental == "b":
            pitch -= 1
        else:
            return np.nan
    return float(pitch % 12)


def parse_mode(value: object) -> float:
    """1 for major, 0 for minor, from 0/1 or 'Major'/'Minor' (any case); NaN if unusable."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return np.nan
    text = str(value).strip().lower()
    if text in {"1", "1.0", "major", "maj"}:
        return 1.0
    if text in {"0", "0.0", "minor", "min"}:
        return 0.0
    return np.nan


def parse_release_year(values: pd.Series) -> pd.Series:
    """Year from 'YYYY', 'YYYY-MM', 'YYYY-MM-DD' or a number; NaN when absent or implausible."""
    text = values.astype("string").str.strip().str.extract(r"^(\d{4})", expand=False)
    years = pd.to_numeric(text, errors="coerce")
    return years.where((years >= 1800) & (years <= 2100)).astype("float64")


def coerce_audio_features(frame: pd.DataFrame, source: str, report: DataReport) -> pd.DataFrame:
    """Turn every audio-feature column numeric; unusable values become NaN and are counted.

    Raises DataError when a column is mostly text that is not a number (a wrong file or a shifted column).
    """
    out = frame.copy()
    for column in AUDIO_FEATURES:
        raw = out[column]
        if column == "key":
            numeric = raw.map(parse_key).astype("float64")
            notes = raw.notna() & pd.to_numeric(raw, errors="coerce").isna() & numeric.notna()
            report.parse("key note names → pitch class", int(notes.sum()))
        elif column == "mode":
            numeric = raw.map(parse_mode).astype("float64")
            words = raw.notna() & pd.to_numeric(raw, errors="coerce").isna() & numeric.notna()
            report.parse("mode Major/Minor → 1/0", int(words.sum()))
        else:
            numeric = pd.to_numeric(raw, errors="coerce").astype("float64")
        bad_text = raw.notna() & numeric.isna()
        if column not in {"key", "mode"} and bad_text.any() and bad_text.mean() > 0.5:
            rows = (np.flatnonzero(bad_text.to_numpy()) + 2).tolist()
            example = raw[bad_text].iloc[0]
            raise DataError(
                f"{source}: column '{column}' is not numeric ({int(bad_text.sum())} of {len(raw)} values, "
                f"e.g. {example!r} at rows {format_rows(rows)})"
            )
        out[column] = usable_values(numeric, column, source, report, raw.notna())
    return out


def valid_range(column: str) -> tuple[float, float] | None:
    """The inclusive range of usable values of a numeric column, if it has one."""
    if column in UNIT_INTERVAL_FEATURES:
        return 0.0, 1.0
    return PLAUSIBLE_RANGES.get(column)


def usable_values(
    numeric: pd.Series, column: str, source: str, report: DataReport, given: pd.Series | None = None
) -> pd.Series:
    """`numeric` with unusable values (text, ±inf, out of range, duration/tempo ≤ 0) set missing.

    `given` marks the cells that held a value in the file; those now missing are counted in the report and
    logged with their file line numbers, so a user can find them.
    """
    numeric = numeric.where(np.isfinite(numeric))
    bounds = valid_range(column)
    if bounds is not None:
        low, high = bounds
        numeric = numeric.where((numeric >= low) & (numeric <= high))
    if column in {"duration_ms", "tempo"}:
        numeric = numeric.where(numeric > 0)
    if given is not None:
        lost = (given & numeric.isna()).to_numpy()
        if lost.any():
            rows = (np.flatnonzero(lost) + 2).tolist()
            reason = "not numeric or not finite"
            if bounds is not None:
                reason += f" or outside [{bounds[0]:g}, {bounds[1]:g}]"
            if column in {"duration_ms", "tempo"}:
                reason += " or not positive"
            log.warning(
                "%s: column '%s': %d values %s → missing (rows %s)",
                source,
                column,
                len(rows),
                reason,
                format_rows(rows),
            )
            report.unusable_values(column, len(rows))
    return numeric


def apply_missing_policy(
    tracks: pd.DataFrame, source: str, policy: str, report: DataReport, max_missing: int = 6
) -> pd.DataFrame:
    """Drop or median-impute rows with missing/unusable audio features; every change is counted.

    `policy="drop"` removes any row with a missing feature; `policy="impute"` fills with the column median but
    still drops rows missing more than `max_missing` features (nothing left to impute from).
    """
    if policy not in {"drop", "impute"}:
        raise DataError(f"unknown missing-value policy {policy!r}: use 'drop' or 'impute'")
    features = list(AUDIO_FEATURES)
    missing = tracks[features].isna()
    for column in features:
        if missing[column].all():
            raise DataError(f"{source}: column '{column}' has no usable values in any of {len(tracks)} rows")
    n_missing = missing.sum(axis=1)
    if policy == "drop":
        keep = n_missing == 0
        report.drop("missing or unusable audio features (policy=drop)", int((~keep).sum()))
        return tracks.loc[keep].reset_index(drop=True)
    too_sparse = n_missing > max_missing
    report.drop(f"more than {max_missing} audio features missing", int(too_sparse.sum()))
    out = tracks.loc[~too_sparse].reset_index(drop=True)
    for column in features:
        gaps = out[column].isna()
        if gaps.any():
            out[column] = out[column].fillna(float(out[column].median()))
            report.impute(column, int(gaps.sum()))
    return out
