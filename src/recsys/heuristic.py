"""The non-learned heuristic of docs/evaluation.md: same artist + same album + audio cosine + year + popularity.

For a playlist P and candidate i:
    score = w_artist · share of P's tracks by i's artist + w_album · share on i's album
          + w_audio · cos(audio_i, mean audio of P) − w_year · |year_i − mean year of P| / σ_year
          + w_popularity · z(popularity_i)
A floor for learned models (reference recall@100 ≈ 0.31); it needs no training beyond the z-scores.
Ranking scores only candidates (tracks sharing an artist or album with the playlist, the nearest by audio cosine
and by year), which is exact for every track with an artist/album share and close for the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from src.data.content import album_key, audio_matrix, category_codes, numeric_column, one_hot, zscore
from src.recsys.base import Recommender, row_normalize
from src.recsys.retrieval import InnerProductIndex, sparse_lookup, top_of_candidates, union_candidates


@dataclass
class HeuristicRecommender(Recommender):
    """Weighted sum of artist/album overlap, audio cosine, year closeness and popularity."""

    # Weights picked by coordinate search on the validation part of split seed 0 (never on test).
    w_artist: float = 3.0
    w_album: float = 3.0
    w_audio: float = 0.03
    w_year: float = 0.1
    w_popularity: float = 0.0
    name: str = "heuristic"

    def fit(
        self, train: sp.csr_matrix, items: pd.DataFrame, val: sp.csr_matrix | None = None
    ) -> HeuristicRecommender:
        self._n_items = len(items)
        artist, n_artist = category_codes(items, "artist")
        album, n_album = category_codes(items.assign(album=album_key(items)), "album")
        self._artist, self._artist_code = one_hot(artist, n_artist), np.asarray(artist)
        self._album, self._album_code = one_hot(album, n_album), np.asarray(album)
        audio = audio_matrix(items)
        norms = np.linalg.norm(audio, axis=1, keepdims=True)
        self._audio = (audio / np.where(norms > 0, norms, 1.0)).astype(np.float32)
        self._audio_index = InnerProductIndex(self._audio)
        year = numeric_column(items, "release_year")
        self._has_year = np.isfinite(year)
        std = np.nanstd(year) if self._has_year.sum() > 1 else 1.0
        self._year = np.nan_to_num((year - np.nanmean(year)) / (std or 1.0), nan=0.0).astype(np.float32)
        self._popularity = zscore(numeric_column(items, "popularity"))
        self._year_order = np.argsort(self._year, kind="stable")
        self._year_sorted = self._year[self._year_order]
        return self

    def parts(self, history: sp.csr_matrix, candidates: np.ndarray) -> dict[str, np.ndarray]:
        """The score's unweighted parts (n × c each) for each row's candidates: artist / album share, audio
        cosine to the playlist centre, year distance (z units), popularity z-score."""
        pool = row_normalize(sp.csr_matrix(history > 0, dtype=np.float32))
        safe = np.where(candidates >= 0, candidates, 0)
        out = {
            "artist": sparse_lookup(
                pool @ self._artist, np.where(candidates >= 0, self._artist_code[safe], -1)
            ),
            "album": sparse_lookup(pool @ self._album, np.where(candidates >= 0, self._album_code[safe], -1)),
        }
        centre = np.asarray(pool @ self._audio)
        centre /= np.maximum(np.linalg.norm(centre, axis=1, keepdims=True), 1e-12)
        out["audio"] = np.einsum("nd,ncd->nc", centre, self._audio[safe])
        out["year"] = np.abs(self._year[safe] - self._mean_year(history)[:, None])
        out["popularity"] = self._popularity[safe]
        return {key: value.astype(np.float32) for key, value in out.items()}

    def _mean_year(self, history: sp.csr_matrix) -> np.ndarray:
        year_pool = row_normalize(
            sp.csr_matrix(history > 0, dtype=np.float32).multiply(self._has_year[None, :]).tocsr()
        )
        return np.asarray(year_pool @ self._year).ravel()

    def combine(self, parts: dict[str, np.ndarray]) -> np.ndarray:
        """The weighted sum of `parts` (the heuristic's score)."""
        return (
            self.w_artist * parts["artist"]
            + self.w_album * parts["album"]
            + self.w_audio * parts["audio"]
            - self.w_year * parts["year"]
            + self.w_popularity * parts["popularity"]
        ).astype(np.float32)

    def score_items(self, history: sp.csr_matrix, candidates: np.ndarray) -> np.ndarray:
        out = self.combine(self.parts(history, candidates))
        out[candidates < 0] = -np.inf
        return out

    def candidates(self, history: sp.csr_matrix, k: int) -> np.ndarray:
        """Every track by the playlist's artists or on its albums (the only ones with a non-zero share), the
        `k` + history nearest by audio cosine and by year: the exact score then ranks this union."""
        history = sp.csr_matrix(history > 0, dtype=np.float32)
        pool = row_normalize(history)
        shared = ((pool @ self._artist) @ self._artist.T + (pool @ self._album) @ self._album.T).tocsr()
        by_share = [shared.indices[shared.indptr[i] : shared.indptr[i + 1]] for i in range(history.shape[0])]
        depth = k + int(np.diff(history.indptr).max(initial=0))
        centre = np.asarray(pool @ self._audio)
        by_audio = self._audio_index.search(centre, depth)[0]
        pos = np.searchsorted(self._year_sorted, self._mean_year(history))
        lo = np.clip(pos - 4 * depth, 0, max(0, len(self._year_order) - 8 * depth))
        by_year = [self._year_order[a : a + 8 * depth] for a in lo]
        return union_candidates([by_share, by_audio, by_year], history)

    def recommend_batch(self, history: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
        cand = self.candidates(history, k)
        return top_of_candidates(cand, self.score_items(history, cand), k)
