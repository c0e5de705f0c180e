"""Item-based collaborative filtering with shrunk cosine similarity (the `ItemKNNCF` baseline of Dacrema et al.,
RecSys 2019, which most neural recommenders of its time failed to beat).

sim(i, j) = |U(i) ∩ U(j)| / (‖i‖ ‖j‖ + shrink) on the binary train users × items matrix (‖i‖ = √|U(i)|).
Shrinkage pulls similarities resting on few co-occurrences towards 0. Each item keeps its `neighbours` most
similar items (one row of a sparse `W`, diagonal excluded); a playlist scores `history @ W`, i.e. the summed
similarity of a candidate to the playlist's tracks among their neighbour lists.

Cold items (no training interactions) have no neighbours: score 0, recommended only by the popularity fill.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from src.recsys.item_item import (
    ItemItemRecommender,
    binarize,
    build_rows,
    cooccurrence_bounds,
    popularity_order,
)
from src.recsys.tuning import GridTuned


def cosine_neighbours(
    x: sp.csr_matrix, neighbours: int, shrink: float, max_block_nnz: int = 10_000_000
) -> sp.csr_matrix:
    """Sparse items × items shrunk-cosine matrix of binary `x` (users × items), top-`neighbours` per row."""
    x = binarize(x)
    xt = sp.csr_matrix(x.T)
    norms = np.sqrt(np.asarray(x.sum(axis=0)).ravel().astype(np.float64))

    def block(start: int, end: int) -> sp.csr_matrix:
        co = sp.csr_matrix(xt[start:end] @ x, dtype=np.float64)
        rows = np.repeat(np.arange(end - start) + start, np.diff(co.indptr))
        co.data /= norms[rows] * norms[co.indices] + shrink
        return co

    return build_rows(x.shape[1], cooccurrence_bounds(x), block, neighbours, max_block_nnz)


@dataclass
class ItemKNNCFRecommender(GridTuned, ItemItemRecommender):
    """Item-kNN on co-occurrence (collaborative), cosine with shrinkage.

    Args:
        neighbours: similar items kept per item (row of W).
        shrink: added to the cosine denominator; 0 = plain cosine.
        grid: e.g. {"neighbours": [50, 200], "shrink": [0, 10, 100]} — chosen on validation, then refitted on
            train ∪ validation (see `src.recsys.tuning`). None: use the settings above as given.
        tune_metric: the validation metric the grid maximises.
        batch_size: history rows per sparse product when scoring.
        max_block_nnz: bound on the entries of one block of the similarity computation (≈ 40 B each at peak: the product and its top-k sort; 10⁷ ≈ 400 MB).
    """

    neighbours: int = 200
    shrink: float = 10.0
    grid: dict[str, list] | None = None
    tune_metric: str = "recall@100"
    batch_size: int = 1024
    max_block_nnz: int = 10_000_000
    name: str = "item_knn_cf"
    best_params: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)
    tuning_table: pd.DataFrame | None = field(default=None, init=False, repr=False, compare=False)

    def _fit(self, train: sp.csr_matrix, items: pd.DataFrame) -> ItemKNNCFRecommender:
        self._n_items = train.shape[1]
        self.W = cosine_neighbours(train, int(self.neighbours), float(self.shrink), self.max_block_nnz)
        self._order = popularity_order(train, items)
        return self
