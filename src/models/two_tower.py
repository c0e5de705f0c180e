"""Two-tower retrieval model (Lightning): a playlist query tower and a track item tower in one space.

Item tower: concatenated embeddings of the hashed track id (dropped out in training, so a track with an unseen id
falls back to its content), artist, album, tags (mean bag) and an MLP over the dense audio/year/popularity vector
→ MLP → L2-normalised vector. Which inputs are used is one list (`features`): `[id]` is the ID-only ablation,
`[artist, album, tags, dense]` content-only, all of them the hybrid.

Query tower: the item-tower vectors of the playlist's tracks, pooled — `mean` (+ residual MLP, L2-normalised: one
query vector) or `lse` (a soft maximum of the candidate's cosine to each playlist track) — so a new playlist is
embedded from its tracks with no retraining.

Loss: per held-out target of a playlist, sampled softmax over in-batch targets plus `n_negatives` uniform catalogue tracks (mixed negatives; the
uniform ones include tracks never seen in training, which teaches the tower where cold tracks do *not* belong),
each logit corrected by −log Q(sampled) (logQ correction) and divided by a temperature; accidental hits masked.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import lightning.pytorch as pl
import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from torch import nn

from src.evaluation.ranking import ranking_metrics
from src.models.retrieval import PAD, InnerProductIndex, row_mean, top_of_candidates, union_candidates

log = logging.getLogger(__name__)

FEATURES = ("id", "artist", "album", "tags", "dense")


def _mlp(sizes: Sequence[int], dropout: float) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers += [nn.GELU(), nn.Dropout(dropout)]
    return nn.Sequential(*layers)


class TwoTowerModule(pl.LightningModule):
    """Playlist → track retrieval; `predict_step` returns item embeddings (the `two_tower` embedding).

    Args:
        n_items, n_id_buckets, n_artists, n_albums, n_tags, max_tags, n_dense: table sizes (from the datamodule).
        features: item inputs used (subset of id, artist, album, tags, dense).
        dim: output dimension of both towers.
        emb_dim: width of each categorical embedding.
        hidden: width of the item-tower MLP.
        id_dropout: probability of zeroing a track's id embedding in training (cold-start robustness).
        dropout: dropout inside the MLPs.
        temperature: softmax temperature on cosine logits.
        n_negatives: uniform catalogue negatives per batch, on top of the in-batch ones.
        pooling: `lse` (soft maximum over the playlist's tracks) or `mean` (one pooled query vector).
        pool_temperature: sharpness of the `lse` pooling (→ 0: max, → ∞: mean).
        logq: apply the logQ correction.
        lr, weight_decay: AdamW.
        eval_every: compute `val/recall@100` over the whole catalogue every this many epochs (0 = never).
        val_playlists: at most this many validation playlists (a fixed sample) in that pass (0 = all).
        name: embedding name.
    """

    # The metric whose best epoch the training path keeps (ModelCheckpoint); computed every `eval_every` epochs.
    monitor: str = "val/recall@100"
    monitor_mode: str = "max"

    @property
    def monitor_every(self) -> int:
        return int(self.hparams.eval_every)

    def __init__(
        self,
        n_items: int,
        n_id_buckets: int,
        n_artists: int,
        n_albums: int,
        n_tags: int,
        max_tags: int,
        n_dense: int,
        features: Sequence[str] = FEATURES,
        dim: int = 64,
        emb_dim: int = 32,
        hidden: int = 128,
        id_dropout: float = 0.5,
        dropout: float = 0.1,
        temperature: float = 0.05,
        n_negatives: int = 2048,
        logq: bool = True,
        pooling: str = "lse",
        pool_temperature: float = 0.1,
        lr: float = 2e-3,
        weight_decay: float = 1e-5,
        eval_every: int = 5,
        val_playlists: int = 2000,
        name: str = "two_tower",
    ) -> None:
        super().__init__()
        if pooling not in ("mean", "lse"):
            raise ValueError(f"two-tower: pooling must be 'mean' or 'lse', not {pooling!r}")
        features = [
            f
            for f in features
            if f in FEATURES and not (f == "dense" and n_dense == 0) and not (f == "tags" and n_tags <= 1)
        ]
        if not features:
            raise ValueError(f"two-tower: no usable item features among {FEATURES}")
        self.save_hyperparameters()
        self.features = list(features)
        self.name = name
        self.embeds = nn.ModuleDict()
        if "id" in features:
            self.embeds["id"] = nn.Embedding(n_id_buckets, emb_dim, padding_idx=0)
        if "artist" in features:
            self.embeds["artist"] = nn.Embedding(n_artists, emb_dim, padding_idx=0)
        if "album" in features:
            self.embeds["album"] = nn.Embedding(n_albums, emb_dim, padding_idx=0)
        if "tags" in features:
            self.embeds["tags"] = nn.EmbeddingBag(n_tags, emb_dim, mode="mean", padding_idx=0)
        width = emb_dim * len(self.embeds)
        if "dense" in features:
            self.dense = _mlp([n_dense, hidden, emb_dim], dropout)
            width += emb_dim
        self.item_mlp = _mlp([width, hidden, dim], dropout)
        self.query_mlp = _mlp([dim, hidden, dim], dropout)
        # Per-item inputs of the whole catalogue (filled by `setup` from the datamodule, saved in checkpoints).
        self.register_buffer("item_id", torch.zeros(n_items, dtype=torch.long))
        self.register_buffer("item_artist", torch.zeros(n_items, dtype=torch.long))
        self.register_buffer("item_album", torch.zeros(n_items, dtype=torch.long))
        self.register_buffer("item_tags", torch.zeros(n_items, max_tags, dtype=torch.long))
        self.register_buffer("item_dense", torch.zeros(n_items, n_dense))
        self.register_buffer("item_logq", torch.zeros(n_items))
        self.vocab: Any = None

    # -- catalogue ---------------------------------------------------------------------------------------------
    def set_items(
        self, items: dict[str, np.ndarray], logq: np.ndarray | None = None, vocab: Any = None
    ) -> None:
        """Copy the catalogue's item inputs (and the vocabularies that map new tracks) into the model."""
        for key in ("id", "artist", "album", "tags", "dense"):
            getattr(self, f"item_{key}").copy_(torch.as_tensor(items[key]))
        if logq is not None:
            self.item_logq.copy_(torch.as_tensor(logq))
        self.vocab = vocab

    def setup(self, stage: str) -> None:
        dm = getattr(self.trainer, "datamodule", None) if self._trainer is not None else None
        if dm is not None and getattr(dm, "items", None) is not None and self.vocab is None:
            self.set_items(dm.items, dm.target_logq, dm.vocab)

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["item_vocab"] = self.vocab

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        self.vocab = checkpoint.get("item_vocab")

    # -- towers ------------------------------------------------------------------------------------------------
    def encode_inputs(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        """Item tower on raw inputs (`id, artist, album, tags, dense`) → L2-normalised vectors."""
        parts = []
        for key, table in self.embeds.items():
            vec = table(inputs[key])
            if key == "id" and self.training and self.hparams.id_dropout > 0:
                keep = (torch.rand(vec.shape[0], 1, device=vec.device) >= self.hparams.id_dropout).to(
                    vec.dtype
                )
                vec = vec * keep
            parts.append(vec)
        if "dense" in self.features:
            parts.append(self.dense(inputs["dense"]))
        return F.normalize(self.item_mlp(torch.cat(parts, dim=-1)), dim=-1)

    def item_vectors(self, idx: torch.Tensor) -> torch.Tensor:
        """Item tower for catalogue items by index."""
        return self.encode_inputs(
            {
                "id": self.item_id[idx],
                "artist": self.item_artist[idx],
                "album": self.item_album[idx],
                "tags": self.item_tags[idx],
                "dense": self.item_dense[idx],
            }
        )

    def pool(self, item_vecs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Query tower: masked mean of the playlist's item vectors + residual MLP, L2-normalised."""
        weights = mask.to(item_vecs.dtype)
        mean = (item_vecs * weights.unsqueeze(-1)).sum(1) / weights.sum(1, keepdim=True).clamp(min=1.0)
        return F.normalize(mean + self.query_mlp(mean), dim=-1)

    # -- training ----------------------------------------------------------------------------------------------
    def context_scores(
        self, cand_vecs: torch.Tensor, ctx_vecs: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        """Playlist × candidate cosine-scale scores (P × C) from context vectors (P × L × d).

        `mean`: pooled query (a single vector per playlist, the classic two-tower).
        `lse`: a soft maximum over the context, τ_p · log mean_j exp(cos(c, j) / τ_p) — a candidate close to
        *any* of the playlist's tracks scores high, which a single averaged vector cannot express.
        """
        if self.hparams.pooling == "mean":
            return self.pool(ctx_vecs, mask) @ cand_vecs.T
        tau = self.hparams.pool_temperature
        sims = torch.einsum("pld,cd->pcl", ctx_vecs, cand_vecs) / tau
        sims = sims.masked_fill(~mask.unsqueeze(1), float("-inf"))
        count = mask.sum(1, keepdim=True).clamp(min=1).to(sims.dtype)
        return tau * (torch.logsumexp(sims, dim=-1) - torch.log(count))

    def _loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        owner = batch["owner"]
        context = batch["context"]
        target = batch["target"]
        n = self.hparams.n_items
        negatives = torch.randint(0, n, (self.hparams.n_negatives,), device=target.device)
        candidates = torch.cat([target, negatives])
        mask = context >= 0
        ctx_vecs = self.item_vectors(context.clamp(min=0).reshape(-1)).reshape(*context.shape, -1)
        scores = self.context_scores(self.item_vectors(candidates), ctx_vecs, mask)
        logits = scores[owner] / self.hparams.temperature
        if self.hparams.logq:
            batch_q = np.log(len(target)) + self.item_logq[target]
            uniform_q = torch.full_like(negatives, np.log(self.hparams.n_negatives / n), dtype=logits.dtype)
            logits = logits - torch.cat([batch_q, uniform_q])
        # Accidental hits: the same track elsewhere in the batch, or another target of the same playlist.
        hits = target.unsqueeze(1) == candidates.unsqueeze(0)
        hits[:, : len(target)] |= owner.unsqueeze(1) == owner.unsqueeze(0)
        hits[:, : len(target)].fill_diagonal_(False)
        logits = logits.masked_fill(hits, float("-inf"))
        return F.cross_entropy(logits, torch.arange(len(target), device=target.device))

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss = self._loss(batch)
        self.log("train/loss", loss, prog_bar=True, batch_size=len(batch["target"]))
        return loss

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        self.log("val/loss", self._loss(batch), prog_bar=True, batch_size=len(batch["target"]))

    def on_validation_epoch_end(self) -> None:
        """`val/recall@100` (and ndcg@500) over the whole catalogue: the metric `ModelCheckpoint` monitors.

        Ranked by the same retrieval as at test time (`retrieve`), over at most `val_playlists` validation
        playlists (a fixed sample), so one validation pass costs the same on a catalogue of any size.
        """
        dm = getattr(self.trainer, "datamodule", None)
        every = self.hparams.eval_every
        if dm is None or getattr(dm, "data", None) is None or not every or self.trainer.sanity_checking:
            return
        if (self.current_epoch + 1) % every:
            return
        data = dm.data
        users = np.flatnonzero((np.diff(data.val.indptr) > 0) & (np.diff(data.train.indptr) > 0))
        cap = int(self.hparams.val_playlists or 0)
        if 0 < cap < len(users):
            users = np.sort(np.random.default_rng(0).choice(users, cap, replace=False))
        ranked = self.rank(data.train[users], 500)
        relevant = [data.val.indices[data.val.indptr[u] : data.val.indptr[u + 1]] for u in users]
        m = ranking_metrics(ranked, relevant, ks=(100,), ndcg_k=500)
        self.log("val/recall@100", float(m["recall@100"]), prog_bar=True)
        self.log("val/ndcg@500", float(m["ndcg@500"]))

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.AdamW(
            self.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay
        )

    # -- inference ---------------------------------------------------------------------------------------------
    def predict_step(self, batch: torch.Tensor, batch_idx: int = 0) -> torch.Tensor:
        return self.item_vectors(batch)

    @torch.no_grad()
    def all_item_vectors(self, batch_size: int = 8192) -> np.ndarray:
        was = self.training
        self.eval()
        n = self.hparams.n_items
        out = [
            self.item_vectors(torch.arange(i, min(i + batch_size, n), device=self.device)).cpu().numpy()
            for i in range(0, n, batch_size)
        ]
        self.train(was)
        return np.concatenate(out).astype(np.float32)

    @torch.no_grad()
    def score_histories(self, history: sp.csr_matrix, items: np.ndarray | None = None) -> np.ndarray:
        """Dense scores of *every* catalogue item for each history row (rows × catalogue).

        Only for callers that need a whole row by definition and cap the rows themselves (the affinity
        embedding over at most `max_playlists` playlists); ranking goes through `rank` / `retrieve`.
        """
        items = self.all_item_vectors() if items is None else items
        history = sp.csr_matrix(history)
        out = np.full((history.shape[0], items.shape[0]), 0.0, dtype=np.float32)
        everything = np.arange(items.shape[0])
        for row in range(history.shape[0]):
            if history.indptr[row + 1] > history.indptr[row]:
                out[row] = self.score_candidates(history[row], everything[None, :], items)[0]
        return out

    def score_candidates(
        self, history: sp.csr_matrix, candidates: np.ndarray, items: np.ndarray
    ) -> np.ndarray:
        """Exact scores (n × c) of each row's candidate items (`PAD` = -1 → -inf) under the model's pooling.

        `lse`: τ_p · log mean_j exp(cos(c, j) / τ_p) over the row's history tracks j; `mean`: cosine to the
        pooled query. Work per row is candidates × history, never the catalogue; plain NumPy, because these
        small per-row products run many times slower through torch's thread pool on a busy machine.
        """
        history = sp.csr_matrix(history)
        vecs = np.ascontiguousarray(items, dtype=np.float32)
        safe = np.where(candidates >= 0, candidates, 0)
        if self.hparams.pooling == "mean":
            out = np.einsum("nd,ncd->nc", self.queries(history, vecs), vecs[safe])
            return np.where(candidates >= 0, out, -np.inf).astype(np.float32)
        out = np.full(candidates.shape, -np.inf, dtype=np.float32)
        tau = float(self.hparams.pool_temperature)
        for row in range(history.shape[0]):
            own = history.indices[history.indptr[row] : history.indptr[row + 1]]
            valid = candidates[row] >= 0
            if not len(own) or not valid.any():
                continue
            sims = (vecs[candidates[row][valid]] @ vecs[own].T) / tau
            top = sims.max(axis=1, keepdims=True)
            lse = top[:, 0] + np.log(np.exp(sims - top).sum(axis=1)) - np.log(len(own))
            out[row, valid] = tau * lse
        return out

    @torch.no_grad()
    def queries(self, history: sp.csr_matrix, items: np.ndarray) -> np.ndarray:
        """One query vector per history row: the pooled query (`mean`) or the mean of its track vectors, the
        direction whose inner-product top-k seeds the `lse` candidates."""
        mean = row_mean(history, items)
        if self.hparams.pooling != "mean":
            return mean
        was = self.training
        self.eval()
        q = torch.from_numpy(mean).to(self.device)  # the module may sit on a GPU (trainer=gpu validation)
        out = F.normalize(q + self.query_mlp(q), dim=-1).cpu().numpy()
        self.train(was)
        return np.where(np.asarray(history.sum(axis=1)) > 0, out, 0.0).astype(np.float32)

    def retrieve(
        self,
        history: sp.csr_matrix,
        k: int,
        items: np.ndarray,
        index: InnerProductIndex,
        per_track: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k items per history row (history excluded) and their exact scores.

        `mean` pooling: one exact FAISS inner-product search per row. `lse`: candidates = the top (k + history)
        of the row's mean direction ∪ the `per_track` nearest neighbours of each of its tracks (FAISS, once per
        distinct track of the batch; default 2k / history length, clipped to [10, 100]), then exact scores on
        that union — a candidate close to any one track of the playlist is found through that track.
        """
        history = sp.csr_matrix(history)
        if self.hparams.pooling == "mean":
            return index.top_k(self.queries(history, items), history, k)
        lengths = np.diff(history.indptr)
        longest = int(lengths.max(initial=0))
        by_mean = index.search(self.queries(history, items), k + longest)[0]
        tracks = np.unique(history.indices)
        shortest = int(lengths[lengths > 0].min()) if (lengths > 0).any() else 1
        deepest = per_track or int(np.clip(np.ceil(12 * k / shortest), 30, 200))
        neigh = index.search(items[tracks], deepest + 1)[0] if len(tracks) else np.empty((0, 0), np.int64)
        where = {t: i for i, t in enumerate(tracks.tolist())}
        sources = []
        for row in range(history.shape[0]):
            own = history.indices[history.indptr[row] : history.indptr[row + 1]]
            depth = per_track or int(np.clip(np.ceil(12 * k / max(1, len(own))), 30, 200))
            near = neigh[[where[t] for t in own.tolist()], : depth + 1].ravel() if len(own) else np.empty(0)
            sources.append(np.concatenate([by_mean[row], near]))
        cand = union_candidates([sources], history)
        return top_of_candidates(cand, self.score_candidates(history, cand, items), k)

    def rank(self, history: sp.csr_matrix, k: int, batch_size: int = 256) -> np.ndarray:
        """Top-k item indices per history row with the current weights (validation and quick evaluation)."""
        items = self.all_item_vectors()
        index = InnerProductIndex(items)
        history = sp.csr_matrix(history)
        out = np.full((history.shape[0], min(k, items.shape[0])), PAD, dtype=np.int64)
        for start in range(0, history.shape[0], batch_size):
            rows = history[start : start + batch_size]
            out[start : start + rows.shape[0]] = self.retrieve(rows, k, items, index)[0][:, : out.shape[1]]
        return out

    @torch.no_grad()
    def encode_tracks(self, tracks: pd.DataFrame, dense: np.ndarray) -> np.ndarray:
        """Item vectors for new tracks (cold start): their id/artist/album/tags through the saved vocabularies,
        `dense` = the run's fitted transformer applied to them."""
        if self.vocab is None:
            raise RuntimeError("this two-tower model has no item vocabularies (not trained through setup)")
        inputs = self.vocab.encode(tracks, dense if self.hparams.n_dense else np.zeros((len(tracks), 0)))
        was = self.training
        self.eval()
        tensors = {k: torch.as_tensor(v, device=self.device) for k, v in inputs.items()}
        vecs = self.encode_inputs(tensors).cpu().numpy()
        self.train(was)
        return vecs

    def encode(self, X: torch.Tensor) -> torch.Tensor:
        """Content-only item vectors from dense features alone (ids, artists, albums unknown)."""
        n = X.shape[0]
        zeros = torch.zeros(n, dtype=torch.long, device=X.device)
        return self.encode_inputs(
            {
                "id": zeros,
                "artist": zeros,
                "album": zeros,
                "tags": torch.zeros(n, self.hparams.max_tags, dtype=torch.long, device=X.device),
                "dense": X,
            }
        )
