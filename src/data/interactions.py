"""Interactions as sparse users × items matrices: the split's train / validation / test parts over the catalogue.

Items are rows of the `tracks` table (in its order); users (playlists, people, sessions) are sorted ids. Every
recommender, the two-tower data module and the ranking evaluation read the split through this one structure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from src.data.errors import DataError
from src.data.split import hold_out


@dataclass
class RecData:
    """The split as sparse users × items matrices over the catalogue's item order."""

    items: pd.DataFrame
    user_ids: np.ndarray
    train: sp.csr_matrix
    val: sp.csr_matrix
    test: sp.csr_matrix

    @property
    def known(self) -> sp.csr_matrix:
        """What a playlist holds at test time: its train and validation tracks."""
        return sp.csr_matrix(((self.train + self.val) > 0).astype(np.float32))

    @property
    def n_items(self) -> int:
        return len(self.items)

    def cold_items(self, context: sp.csr_matrix | None = None) -> np.ndarray:
        """Items that never occur in `context` (default: train ∪ validation) — only content can place them."""
        context = self.known if context is None else context
        return np.asarray(context.sum(axis=0)).ravel() == 0


def _matrix(pairs: pd.DataFrame, users: pd.Index, items: pd.Index) -> sp.csr_matrix:
    rows = users.get_indexer(pairs["user_id"])
    cols = items.get_indexer(pairs["track_id"])
    keep = (rows >= 0) & (cols >= 0)
    data = np.ones(int(keep.sum()), dtype=np.float32)
    return sp.csr_matrix((data, (rows[keep], cols[keep])), shape=(len(users), len(items)))


def rec_data(tracks: pd.DataFrame, split: pd.DataFrame) -> RecData:
    """Matrices of a saved split (`user_id, track_id, part`) over `tracks` (row order = item index)."""
    missing = {"user_id", "track_id", "part"} - set(split.columns)
    if missing:
        raise DataError(f"split table lacks column(s) {sorted(missing)}")
    items = pd.Index(tracks["track_id"].astype(str))
    if not items.is_unique:
        raise DataError("tracks table: track_id is not unique")
    split = split.assign(track_id=split["track_id"].astype(str), user_id=split["user_id"].astype(str))
    unknown = ~split["track_id"].isin(items)
    if unknown.any():
        raise DataError(
            f"split: {int(unknown.sum())} rows name tracks missing from the catalogue "
            f"(e.g. {split.loc[unknown, 'track_id'].iloc[0]!r})"
        )
    users = pd.Index(np.sort(split["user_id"].unique()))
    parts = {p: _matrix(split[split["part"] == p], users, items) for p in ("train", "val", "test")}
    return RecData(
        tracks.reset_index(drop=True), users.to_numpy(), parts["train"], parts["val"], parts["test"]
    )


def validation_view(data: RecData, seed: int = 0, fraction: float = 0.2) -> RecData:
    """The split seen from validation, for choosing settings without reading a test row.

    The validation part becomes the targets (test); a fresh validation part is carved out of train the way the
    protocol carves it (per row with ≥ 2 train tracks, max(1, floor(fraction · n)) chosen uniformly), so a model
    that early-stops or fits a ranker on validation (the hybrid) still has one. Test rows are dropped; a row's
    history (`known`) is exactly its train tracks.
    """
    train = sp.csr_matrix(data.train, dtype=np.float32, copy=True)
    train.sum_duplicates()
    rows = np.repeat(np.arange(train.shape[0]), np.diff(train.indptr))
    pairs = pd.DataFrame({"user_id": rows, "track_id": train.indices})
    eligible = np.flatnonzero(np.diff(train.indptr)[rows] >= 2)
    held = np.zeros(train.nnz, dtype=bool)
    held[eligible[hold_out(pairs.iloc[eligible], fraction, np.random.default_rng(seed))]] = True
    inner_val, inner_train = (
        sp.csr_matrix(
            (train.data * mask, train.indices.copy(), train.indptr.copy()),
            shape=train.shape,
            dtype=np.float32,
        )
        for mask in (held, ~held)
    )
    for part in (inner_val, inner_train):
        part.eliminate_zeros()
    targets = sp.csr_matrix(data.val, dtype=np.float32, copy=True)
    return RecData(data.items, data.user_ids, inner_train, inner_val, targets)
