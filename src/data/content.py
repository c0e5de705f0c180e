"""Content of the catalogue's items as arrays (audio z-scores, year, popularity, artist/album codes).

Shared by the content baselines and the two-tower data module, so every model reads items the same way.
Missing values become 0 after z-scoring (the mean), plus an indicator where it matters.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from src.data.schema import AUDIO_FEATURES


def zscore(values: pd.Series | np.ndarray) -> np.ndarray:
    """Z-scores with NaN → 0 (the mean); a constant or empty column gives zeros."""
    x = pd.to_numeric(pd.Series(np.asarray(values)), errors="coerce").to_numpy(dtype=np.float64)
    finite = np.isfinite(x)
    if finite.sum() < 2:
        return np.zeros(len(x), dtype=np.float32)
    mean, std = x[finite].mean(), x[finite].std()
    out = np.where(finite, (x - mean) / (std if std > 0 else 1.0), 0.0)
    return out.astype(np.float32)


def audio_matrix(items: pd.DataFrame, columns: tuple[str, ...] = AUDIO_FEATURES) -> np.ndarray:
    """Z-scored audio features (items × features); columns absent from the table are left out."""
    present = [c for c in columns if c in items.columns]
    if not present:
        return np.zeros((len(items), 0), dtype=np.float32)
    return np.column_stack([zscore(items[c]) for c in present]).astype(np.float32)


def numeric_column(items: pd.DataFrame, column: str) -> np.ndarray:
    """A numeric column as float64 with NaN where missing or absent."""
    if column not in items.columns:
        return np.full(len(items), np.nan)
    return pd.to_numeric(items[column], errors="coerce").to_numpy(dtype=np.float64)


def category_codes(items: pd.DataFrame, column: str) -> tuple[np.ndarray, int]:
    """Integer codes 0..n-1 for a categorical column (missing → -1) and the number of categories."""
    if column not in items.columns:
        return np.full(len(items), -1, dtype=np.int64), 0
    text = items[column].astype("string").str.strip().str.lower()
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    return codes.astype(np.int64), len(uniques)


def one_hot(codes: np.ndarray, n: int) -> sp.csr_matrix:
    """Items × categories indicator matrix (rows with code -1 stay empty)."""
    rows = np.flatnonzero(codes >= 0)
    data = np.ones(len(rows), dtype=np.float32)
    return sp.csr_matrix((data, (rows, codes[rows])), shape=(len(codes), max(n, 1)))


def album_key(items: pd.DataFrame) -> pd.Series:
    """Albums are identified by artist + album name (many albums share generic names like 'Greatest Hits')."""
    if "album" not in items.columns:
        return pd.Series(pd.NA, index=items.index, dtype="string")
    artist = items["artist"].astype("string") if "artist" in items.columns else ""
    key = artist.fillna("") + " — " + items["album"].astype("string")
    return key.where(items["album"].notna())
