"""Second stage: re-rank a retriever's candidates with a gradient-boosted model over pair features.

Features of (playlist, candidate): the retriever's score and rank, the heuristic's parts (share of the playlist's
tracks by the candidate's artist / on its album, audio cosine to the playlist centre, year distance, popularity)
and whether the candidate's artist occurs in training at all. The ranker is fitted on the *validation* part
(context = train, positives = validation tracks), which the retriever never trained on, so its scores there are
as honest as on test. Candidates = the retriever's top `n_candidates` ∪ the heuristic's top `n_candidates`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.ensemble import HistGradientBoostingClassifier

from src.recsys.base import Recommender, row_normalize, top_k
from src.recsys.heuristic import HeuristicRecommender

log = logging.getLogger(__name__)


@dataclass
class RerankedRecommender(Recommender):
    """`retriever` proposes, a HistGradientBoosting classifier orders; scores outside the candidates are −inf
    shifted retriever scores (so they still rank, below every candidate)."""

    retriever: Recommender = field(default_factory=HeuristicRecommender)
    n_candidates: int = 1000
    negatives_per_positive: int = 50
    max_iter: int = 300
    seed: int = 0
    fit_retriever: bool = True
    name: str = "reranked"
    uses_validation: bool = True

    def fit(
        self, train: sp.csr_matrix, items: pd.DataFrame, val: sp.csr_matrix | None = None
    ) -> RerankedRecommender:
        if val is None or val.nnz == 0:
            raise ValueError("the re-ranker needs a validation part to learn from")
        self._n_items = train.shape[1]
        if self.fit_retriever and self.retriever.uses_validation:
            self.retriever.fit(train, items, val=val)
        elif self.fit_retriever:
            self.retriever.fit(train, items)
        self._heuristic = HeuristicRecommender().fit(train, items)
        # how many training playlists hold the candidate's artist (0 for an artist never seen in training)
        playlists_per_artist = np.asarray(((train @ self._heuristic._artist) > 0).sum(axis=0)).ravel()
        self._artist_seen = np.log1p(self._heuristic._artist @ playlists_per_artist.astype(np.float32))
        users = np.flatnonzero((np.diff(val.indptr) > 0) & (np.diff(train.indptr) > 0))
        X, y = self._pairs(train[users], val[users], np.random.default_rng(self.seed))
        self._model = HistGradientBoostingClassifier(
            max_iter=self.max_iter, learning_rate=0.05, max_leaf_nodes=31, random_state=self.seed
        )
        self._model.fit(X, y)
        log.info(
            "re-ranker: %d pairs (%d positives) from %d validation playlists",
            len(y),
            int(y.sum()),
            len(users),
        )
        return self

    def _features(self, history: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(candidates n × c, features n × c × f, retriever scores n × items)."""
        base = np.asarray(self.retriever.score(history), dtype=np.float32)
        h = self._heuristic
        pool = row_normalize(sp.csr_matrix(history > 0, dtype=np.float32))
        artist = ((pool @ h._artist) @ h._artist.T).toarray()
        album = ((pool @ h._album) @ h._album.T).toarray()
        centre = np.asarray(pool @ h._audio)
        centre /= np.maximum(np.linalg.norm(centre, axis=1, keepdims=True), 1e-9)
        audio = centre @ h._audio.T
        year_pool = row_normalize(sp.csr_matrix(history > 0, dtype=np.float32).multiply(h._has_year[None, :]))
        year = np.abs(h._year[None, :] - np.asarray(year_pool @ h._year).ravel()[:, None])
        heur = h.w_artist * artist + h.w_album * album + h.w_audio * audio - h.w_year * year
        seen = history.toarray() > 0
        masked_base = np.where(seen, -np.inf, base)
        masked_heur = np.where(seen, -np.inf, heur)
        k = min(self.n_candidates, history.shape[1] - 1)
        cand = np.concatenate([top_k(masked_base, k)[0], top_k(masked_heur, k)[0]], axis=1)
        cand = np.stack(
            [
                np.unique(r)[: 2 * k]
                if len(np.unique(r)) >= 2 * k
                else np.pad(np.unique(r), (0, 2 * k - len(np.unique(r))), mode="edge")
                for r in cand
            ]
        )
        rank = np.argsort(np.argsort(-masked_base, axis=1), axis=1)
        rows = np.arange(len(cand))[:, None]
        feats = np.stack(
            [
                base[rows, cand],
                np.log1p(rank[rows, cand]),
                artist[rows, cand],
                album[rows, cand],
                audio[rows, cand],
                year[rows, cand],
                np.broadcast_to(h._popularity[cand], cand.shape),
                np.broadcast_to(self._artist_seen[cand], cand.shape),
                heur[rows, cand],
                np.broadcast_to(np.log1p(np.asarray(history.sum(axis=1))), cand.shape),
            ],
            axis=-1,
        ).astype(np.float32)
        return cand, feats, base

    def _pairs(
        self, context: sp.csr_matrix, targets: sp.csr_matrix, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        X, y = [], []
        for start in range(0, context.shape[0], 128):
            cand, feats, _ = self._features(context[start : start + 128])
            tgt = targets[start : start + 128]
            for i in range(len(cand)):
                pos = np.isin(cand[i], tgt.indices[tgt.indptr[i] : tgt.indptr[i + 1]])
                neg = np.flatnonzero(~pos)
                take = rng.choice(
                    neg, min(len(neg), max(1, int(pos.sum())) * self.negatives_per_positive), replace=False
                )
                keep = np.concatenate([np.flatnonzero(pos), take])
                X.append(feats[i, keep])
                y.append(pos[keep])
        return np.concatenate(X), np.concatenate(y).astype(np.int8)

    def score(self, history: sp.csr_matrix) -> np.ndarray:
        history = sp.csr_matrix(history)
        cand, feats, base = self._features(history)
        prob = self._model.predict_proba(feats.reshape(-1, feats.shape[-1]))[:, 1].reshape(cand.shape)
        finite = np.where(np.isfinite(base), base, 0.0)
        out = (finite - finite.max(axis=1, keepdims=True) - 10.0).astype(np.float32)  # below any candidate
        np.put_along_axis(out, cand, prob.astype(np.float32), axis=1)
        return out
