"""RP3beta: a three-step random walk user → item → user → item with a popularity penalty (Paudel et al., ACM TiiS
2017), in the item-kNN form of Dacrema et al.'s implementation (RecSys 2019), where it was among the strongest
baselines.

P_ui = binary train rows normalised to sum 1 (user → item), P_iu = the same for items (item → user); both are
raised elementwise to the power α (α < 1 flattens the transition probabilities). W = P_iu @ P_ui is item → item
after two steps; column j is divided by popularity(j)^β so that popular targets do not dominate, the diagonal is
dropped, each row keeps its top `neighbours` entries and is optionally normalised to sum 1. A playlist scores
`history @ W`.

Cold items (no training interactions) have no walk into them: score 0, recommended only by the popularity fill.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from src.recsys.base import row_normalize
from src.recsys.item_item import (
    ItemItemRecommender,
    binarize,
    build_rows,
    cooccurrence_bounds,
    popularity_order,
)
from src.recsys.tuning import GridTuned


def rp3beta_weights(
    x: sp.csr_matrix,
    alpha: float,
    beta: float,
    neighbours: int,
    normalize: bool = False,
    max_block_nnz: int = 10_000_000,
) -> sp.csr_matrix:
    """Sparse items × items RP3beta matrix of binary `x` (users × items), top-`neighbours` per row."""
    x = binarize(x)
    p_ui = row_normalize(x).astype(np.float64)
    p_iu = row_normalize(sp.csr_matrix(x.T)).astype(np.float64)
    if alpha != 1.0:
        p_ui = p_ui.power(alpha)
        p_iu = p_iu.power(alpha)
    p_ui, p_iu = sp.csr_matrix(p_ui), sp.csr_matrix(p_iu)
    popularity = np.asarray(x.sum(axis=0)).ravel().astype(np.float64)
    penalty = np.divide(1.0, popularity**beta, out=np.zeros_like(popularity), where=popularity > 0)

    def block(start: int, end: int) -> sp.csr_matrix:
        walk = sp.csr_matrix(p_iu[start:end] @ p_ui)
        walk.data *= penalty[walk.indices]
        return walk

    w = build_rows(x.shape[1], cooccurrence_bounds(x), block, neighbours, max_block_nnz)
    return row_normalize(w) if normalize else w


@dataclass
class RP3betaRecommender(GridTuned, ItemItemRecommender):
    """Graph-based item-kNN (RP3beta).

    Args:
        alpha: power applied to the transition probabilities (1 = plain random walk).
        beta: popularity penalty exponent (0 = P3alpha, no penalty).
        neighbours: items kept per row of W.
        normalize: divide each row of W by its sum after the top-k cut.
        grid: e.g. {"alpha": [0.5, 1.0], "beta": [0.0, 0.3, 0.6]} — chosen on validation, then refitted on
            train ∪ validation (see `src.recsys.tuning`). None: use the settings above as given.
        tune_metric: the validation metric the grid maximises.
        batch_size: history rows per sparse product when scoring.
        max_block_nnz: bound on the entries of one block of the walk computation (≈ 40 B each at peak: the product and its top-k sort; 10⁷ ≈ 400 MB).
    """

    alpha: float = 1.0
    beta: float = 0.3
    neighbours: int = 200
    normalize: bool = False
    grid: dict[str, list] | None = None
    tune_metric: str = "recall@100"
    batch_size: int = 1024
    max_block_nnz: int = 10_000_000
    name: str = "rp3beta"
    best_params: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)
    tuning_table: pd.DataFrame | None = field(default=None, init=False, repr=False, compare=False)

    def _fit(self, train: sp.csr_matrix, items: pd.DataFrame) -> RP3betaRecommender:
        self._n_items = train.shape[1]
        self.W = rp3beta_weights(
            train,
            float(self.alpha),
            float(self.beta),
            int(self.neighbours),
            bool(self.normalize),
            self.max_block_nnz,
        )
        self._order = popularity_order(train, items)
        return self
