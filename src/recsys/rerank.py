"""Second stage: re-rank the union of several retrievers' candidates with gradient boosting over pair features.

Candidates of a playlist = the union of each retriever's top `n_candidates` (the first retriever contributes at
least as many as are asked for, so the answer is always full). Features of (playlist, candidate):
- per retriever: its exact score of the candidate (`score_items`), the gap to the row's best candidate score
  under that retriever, and log(1 + its rank in that retriever's list, or `n_candidates` + 1 when absent):
  collaborative scores where the item is warm, content where it is cold;
- the heuristic's parts (share of the playlist's tracks by the candidate's artist / on its album, audio cosine to
  the playlist centre, year distance) and its weighted sum;
- the item: log share of training playlists holding it, warm (held by any training playlist), log share of
  training playlists holding its artist, catalogue popularity z-score; the playlist: log(1 + its length).

The ranker is fitted on the *validation* part (context = train, positives = validation tracks). Every retriever
that learns from interactions is fitted on train alone for that, so its scores on validation are as honest as on
test (a retriever with a hyper-parameter grid first chooses its settings on validation, then is fitted with them
on train alone); retrievers that merge train and validation are then refitted on train ∪ validation for test time
(`refit`), as they would be alone; the two-tower is not (validation only chose its epoch). Nothing is ever scored
over the whole catalogue.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.ensemble import HistGradientBoostingClassifier
from tqdm.auto import tqdm

from src.recsys.base import Recommender
from src.recsys.heuristic import HeuristicRecommender
from src.recsys.retrieval import top_of_candidates, union_candidates

log = logging.getLogger(__name__)

HEURISTIC_PARTS = ("artist", "album", "audio", "year")


def rank_lookup(lists: np.ndarray, candidates: np.ndarray, missing: int) -> np.ndarray:
    """Position (0-based) of each candidate in its row's ranked list, `missing` when absent or `PAD`."""
    out = np.full(candidates.shape, missing, dtype=np.float32)
    for i in range(len(candidates)):
        row = lists[i]
        valid = np.flatnonzero(row >= 0)
        if not len(valid):
            continue
        order = np.argsort(row[valid], kind="stable")
        keys = row[valid][order]
        pos = np.searchsorted(keys, candidates[i]).clip(max=len(keys) - 1)
        hit = (keys[pos] == candidates[i]) & (candidates[i] >= 0)
        out[i, hit] = valid[order[pos[hit]]]
    return out


@dataclass
class RerankedRecommender(Recommender):
    """Retrievers propose, a HistGradientBoosting classifier orders the union of their candidates.

    Args:
        retrievers: name → recommender; candidate sources and features (the first is the primary).
        n_candidates: candidates taken from each retriever's top list.
        negatives_per_positive: negatives sampled per validation positive to fit the ranker.
        max_playlists: at most this many validation playlists (a fixed sample) to fit the ranker on.
        prefitted: names of retrievers that arrive already fitted on (train, validation) — a two-tower
            trained by the same evaluation — and are neither fitted nor refitted here.
        refit: refit retrievers that do not use validation on train ∪ validation after the ranker is fitted.
        item_stats: include the item's training popularity, warm flag and artist familiarity (an ablation
            switch: on a catalogue made only of the playlists' own tracks, "never in a known playlist" means
            "held out somewhere", which these features can learn).
        batch_size: playlists per feature batch (memory ∝ batch × candidates).
    """

    retrievers: Mapping[str, Recommender] = field(
        default_factory=lambda: {"heuristic": HeuristicRecommender()}
    )
    n_candidates: int = 300
    negatives_per_positive: int = 30
    max_playlists: int = 3000
    max_iter: int = 300
    prefitted: tuple[str, ...] = ()
    refit: bool = True
    item_stats: bool = True
    batch_size: int = 128
    seed: int = 0
    progress: bool = False
    name: str = "reranked"
    uses_validation: bool = True

    def fit(
        self, train: sp.csr_matrix, items: pd.DataFrame, val: sp.csr_matrix | None = None
    ) -> RerankedRecommender:
        if val is None or val.nnz == 0:
            raise ValueError("the re-ranker needs a validation part to learn from")
        if not self.retrievers:
            raise ValueError("the re-ranker needs at least one retriever")
        self._n_items = train.shape[1]
        self.retrievers = dict(self.retrievers)
        for name, model in self.retrievers.items():
            if name in self.prefitted:
                continue
            if getattr(model, "grid", None) and hasattr(model, "select"):
                model.select(train, items, val)  # settings chosen on validation, then fitted on train alone
                model.fit(train, items)
            elif model.uses_validation:
                model.fit(train, items, val=val)  # e.g. the two-tower: validation only picks its epoch
            else:
                model.fit(train, items)
        self._heuristic = HeuristicRecommender().fit(train, items)
        self._item_stats(train)
        users = np.flatnonzero((np.diff(val.indptr) > 0) & (np.diff(train.indptr) > 0))
        rng = np.random.default_rng(self.seed)
        if 0 < self.max_playlists < len(users):
            users = np.sort(rng.choice(users, self.max_playlists, replace=False))
        X, y = self._pairs(train[users], val[users], rng)
        self._model = HistGradientBoostingClassifier(
            max_iter=self.max_iter, learning_rate=0.05, max_leaf_nodes=31, random_state=self.seed
        )
        self._model.fit(X, y)
        log.info(
            "%s: ranker fitted on %d pairs (%d positives) from %d validation playlists; features %s",
            self.name,
            len(y),
            int(y.sum()),
            len(users),
            ", ".join(self.feature_names),
        )
        if self.refit:
            known = sp.csr_matrix(((train + val) > 0).astype(np.float32))
            for name, model in self.retrievers.items():
                if name not in self.prefitted and not model.uses_validation:
                    model.fit(known, items)
            self._item_stats(known)
        return self

    def _item_stats(self, interactions: sp.csr_matrix) -> None:
        """Item popularity among the playlists the retrievers learned from (train; train ∪ val at test time)."""
        held = np.asarray((interactions > 0).sum(axis=0), dtype=np.float32).ravel()
        artist = self._heuristic._artist
        per_artist = np.asarray(((interactions > 0).astype(np.float32) @ artist > 0).sum(axis=0)).ravel()
        rows = np.log1p(float((np.diff(sp.csr_matrix(interactions).indptr) > 0).sum()))
        # shares of the playlists, not counts: the same scale on train (ranker fitting) and train ∪ validation
        self._log_pop = (np.log1p(held) - rows).astype(np.float32)
        self._warm = (held > 0).astype(np.float32)
        self._artist_seen = (np.log1p(artist @ per_artist.astype(np.float32)) - rows).astype(np.float32)

    @property
    def feature_names(self) -> list[str]:
        names = [f"{r}_{kind}" for r in self.retrievers for kind in ("score", "gap", "rank")]
        return names + [
            *HEURISTIC_PARTS,
            "heuristic",
            "log_pop",
            "warm",
            "artist_seen",
            "popularity",
            "log_len",
        ]

    def _candidates(self, history: sp.csr_matrix, k: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        lists = {}
        for i, (name, model) in enumerate(self.retrievers.items()):
            depth = max(k, self.n_candidates) if i == 0 else self.n_candidates
            lists[name] = model.recommend_batch(history, depth)[0]
        return union_candidates(list(lists.values()), history), lists

    def _features(self, history: sp.csr_matrix, cand: np.ndarray, lists: dict[str, np.ndarray]) -> np.ndarray:
        """n × c × f features of each row's candidates."""
        cols = []
        for name, model in self.retrievers.items():
            score = np.where(np.isfinite(s := model.score_items(history, cand)), s, np.nan)
            top = np.nanmax(np.where(cand >= 0, score, np.nan), axis=1, initial=-np.inf, keepdims=True)
            cols.append(score)
            cols.append(score - np.where(np.isfinite(top), top, 0.0))  # scale-free: refits shift raw scores
            cols.append(np.log1p(rank_lookup(lists[name], cand, self.n_candidates + 1)))
        parts = self._heuristic.parts(history, cand)
        cols += [parts[p] for p in HEURISTIC_PARTS]
        cols.append(self._heuristic.combine(parts))
        safe = np.where(cand >= 0, cand, 0)
        if self.item_stats:
            cols += [self._log_pop[safe], self._warm[safe], self._artist_seen[safe]]
        cols.append(parts["popularity"])
        length = np.log1p(np.diff(sp.csr_matrix(history).indptr)).astype(np.float32)
        cols.append(np.broadcast_to(length[:, None], cand.shape))
        return np.stack(cols, axis=-1).astype(np.float32)

    def _pairs(
        self, context: sp.csr_matrix, targets: sp.csr_matrix, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        X, y = [], []
        starts = range(0, context.shape[0], self.batch_size)
        for start in tqdm(starts, desc=f"{self.name} pairs", disable=not self.progress, leave=False):
            rows = context[start : start + self.batch_size]
            tgt = targets[start : start + self.batch_size]
            cand, lists = self._candidates(rows, self.n_candidates)
            feats = self._features(rows, cand, lists)
            for i in range(len(cand)):
                valid = np.flatnonzero(cand[i] >= 0)
                pos = np.isin(cand[i, valid], tgt.indices[tgt.indptr[i] : tgt.indptr[i + 1]])
                neg = valid[~pos]
                n_neg = min(len(neg), max(1, int(pos.sum())) * self.negatives_per_positive)
                keep = np.concatenate([valid[pos], rng.choice(neg, n_neg, replace=False)])
                X.append(feats[i, keep])
                y.append(np.isin(cand[i, keep], tgt.indices[tgt.indptr[i] : tgt.indptr[i + 1]]))
        return np.concatenate(X), np.concatenate(y).astype(np.int8)

    def _prob(self, history: sp.csr_matrix, cand: np.ndarray, lists: dict[str, np.ndarray]) -> np.ndarray:
        feats = self._features(history, cand, lists)
        prob = self._model.predict_proba(feats.reshape(-1, feats.shape[-1]))[:, 1].reshape(cand.shape)
        return np.where(cand >= 0, prob, -np.inf).astype(np.float32)

    def recommend_batch(self, history: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
        history = sp.csr_matrix(history)
        cand, lists = self._candidates(history, k)
        return top_of_candidates(cand, self._prob(history, cand, lists), k)

    def score_items(self, history: sp.csr_matrix, candidates: np.ndarray) -> np.ndarray:
        history = sp.csr_matrix(history)
        lists = {
            name: model.recommend_batch(history, self.n_candidates)[0]
            for name, model in self.retrievers.items()
        }
        return self._prob(history, candidates, lists)

    def feature_importance(self) -> pd.Series:
        """Share of the split gain each feature carries over all trees: which signals the ranker leans on
        (read from scikit-learn's fitted trees; empty if their layout changes)."""
        model = self._model
        if not hasattr(model, "_predictors"):
            return pd.Series(dtype=float)
        gains = np.zeros(len(self.feature_names))
        try:
            for trees in model._predictors:
                for tree in trees:
                    inner = tree.nodes[tree.nodes["is_leaf"] == 0]
                    np.add.at(gains, inner["feature_idx"], inner["gain"])
        except (KeyError, ValueError, AttributeError):  # pragma: no cover - a future scikit-learn layout
            return pd.Series(dtype=float)
        return pd.Series(gains / max(gains.sum(), 1e-12), index=self.feature_names).sort_values(
            ascending=False
        )

    def detached(self, name: str) -> RerankedRecommender:
        """A copy without retriever `name` (saved elsewhere, e.g. a checkpoint); `attach` puts it back."""
        out = copy.copy(self)
        out.retrievers = {key: (None if key == name else model) for key, model in self.retrievers.items()}
        return out

    def attach(self, name: str, model: Recommender) -> None:
        """Put back retriever `name` (already fitted) in its place."""
        if name not in self.retrievers:
            raise KeyError(f"{self.name}: no retriever named {name!r} (have {list(self.retrievers)})")
        self.retrievers[name] = model
