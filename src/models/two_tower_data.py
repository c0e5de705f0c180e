"""Inputs of the two-tower model: per-item feature tables and (playlist context → target track) batches.

Items are the catalogue's tracks in table order. Each item is read as: a hashed track id, its artist, its album
(artist + album name), its tags (Last.fm) and a dense vector (the fitted `FeatureTransformer` over the audio
features, release year and popularity). Artist/album/tag vocabularies hold only values seen on *training*
tracks; anything else maps to 0 (unknown), so a cold track is placed by the content it shares with training data
and never by an untrained embedding row.

A training example is one train (playlist, track) pair: the query is a random subset (≤ `max_context`) of the
playlist's *other* train tracks, the target is the track — the same task as continuing a playlist.
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from torch.utils.data import DataLoader, RandomSampler

from src.data.content import album_key
from src.data.errors import DataError
from src.data.features import FeatureConfig, FeatureTransformer
from src.data.interactions import RecData, rec_data
from src.data.schema import AUDIO_FEATURES
from src.data.split import split_interactions
from src.utils.io import write_parquet

log = logging.getLogger(__name__)


def _norm(values: pd.Series) -> pd.Series:
    return values.astype("string").str.strip().str.lower()


def stable_hash(ids: np.ndarray, buckets: int) -> np.ndarray:
    """Bucket 1..buckets-1 per id (crc32, stable across runs and machines); 0 is reserved for 'no id'."""
    return np.array([1 + zlib.crc32(str(i).encode()) % (buckets - 1) for i in ids], dtype=np.int64)


@dataclass
class ItemVocab:
    """Category → code maps fitted on training tracks (code 0 = unknown / missing)."""

    artist: dict[str, int] = field(default_factory=dict)
    album: dict[str, int] = field(default_factory=dict)
    tag: dict[str, int] = field(default_factory=dict)
    id_buckets: int = 2
    max_tags: int = 10

    @classmethod
    def fit(cls, tracks: pd.DataFrame, known: np.ndarray, id_buckets: int, max_tags: int = 10) -> ItemVocab:
        seen = tracks.loc[known]

        def codes(values: pd.Series) -> dict[str, int]:
            uniq = sorted(set(values.dropna().tolist()))
            return {v: i + 1 for i, v in enumerate(uniq)}

        artist = codes(_norm(seen["artist"])) if "artist" in seen else {}
        album = codes(_norm(album_key(seen))) if "album" in seen else {}
        tags: dict[str, int] = {}
        if "tags" in seen:
            bag = sorted({t for row in seen["tags"].fillna("") for t in str(row).split("|") if t})
            tags = {t: i + 1 for i, t in enumerate(bag)}
        return cls(artist, album, tags, int(id_buckets), int(max_tags))

    def encode(self, tracks: pd.DataFrame, dense: np.ndarray) -> dict[str, np.ndarray]:
        """Model inputs for any tracks table (new tracks included): unknown values map to 0."""
        n = len(tracks)

        def lookup(values: pd.Series | None, table: dict[str, int]) -> np.ndarray:
            if values is None:
                return np.zeros(n, dtype=np.int64)
            return np.array(
                [table.get(v, 0) if isinstance(v, str) else 0 for v in values.tolist()], dtype=np.int64
            )

        tags = np.zeros((n, self.max_tags), dtype=np.int64)
        if "tags" in tracks and self.tag:
            for row, text in enumerate(tracks["tags"].fillna("").astype(str)):
                found = [self.tag[t] for t in text.split("|") if t in self.tag][: self.max_tags]
                tags[row, : len(found)] = found
        return {
            "id": stable_hash(tracks["track_id"].astype(str).to_numpy(), self.id_buckets),
            "artist": lookup(_norm(tracks["artist"]) if "artist" in tracks else None, self.artist),
            "album": lookup(_norm(album_key(tracks)) if "album" in tracks else None, self.album),
            "tags": tags,
            "dense": np.ascontiguousarray(dense, dtype=np.float32),
        }


def fit_dense(
    tracks: pd.DataFrame, extra: tuple[str, ...] = ("release_year", "popularity")
) -> tuple[FeatureTransformer | None, np.ndarray]:
    """The dense content vector: audio features (+ year, popularity) through a fitted FeatureTransformer.

    Sources without audio features (Last.fm, MPD without a features table) get a 0-wide matrix.
    """
    usable = [
        c for c in AUDIO_FEATURES if c in tracks and pd.to_numeric(tracks[c], errors="coerce").notna().any()
    ]
    if len(usable) < len(AUDIO_FEATURES):
        return None, np.zeros((len(tracks), 0), dtype=np.float32)
    extra = tuple(c for c in extra if c in tracks and pd.to_numeric(tracks[c], errors="coerce").notna().any())
    transformer = FeatureTransformer(FeatureConfig(extra=list(extra)))
    return transformer, transformer.fit_transform(tracks)


def _rows(matrix: sp.csr_matrix) -> list[np.ndarray]:
    return [matrix.indices[matrix.indptr[u] : matrix.indptr[u + 1]] for u in range(matrix.shape[0])]


class TwoTowerDataModule(pl.LightningDataModule):
    """Playlist-continuation batches for the two-tower model.

    Args:
        source: a catalogue source (the `data` group) — used by `scripts/train.py`.
        split_seed: seed of the docs/evaluation.md split (the run's `seed`); the split is saved to `output_dir`.
        batch_size: playlists per step; the targets of the other playlists are in-batch negatives.
        max_context: at most this many of the playlist's context tracks form a query.
        holdout: share of a playlist's train tracks held out as targets in each training epoch.
        id_buckets: size of the hashed track-id table.
        max_tags: tags kept per item (Last.fm).
        num_workers: DataLoader workers.
        max_playlists_per_epoch: at most this many training playlists per epoch, a fresh random subset each
            epoch (null = all): keeps an epoch's cost fixed on large collections, so that the epoch count means
            the same training budget everywhere.
        seed: seed of shuffling and context sampling.
        output_dir: where `split.parquet` and the fitted transformer (`features.joblib`) go.
    """

    def __init__(
        self,
        source: Any = None,
        split_seed: int = 0,
        batch_size: int = 64,
        max_context: int = 50,
        holdout: float = 0.2,
        id_buckets: int = 20_000,
        max_tags: int = 10,
        num_workers: int = 0,
        max_playlists_per_epoch: int | None = None,
        seed: int = 0,
        output_dir: str | Path | None = None,
    ) -> None:
        super().__init__()
        self.source = source
        self.split_seed = int(split_seed)
        self.batch_size = int(batch_size)
        self.max_context = int(max_context)
        self.holdout = float(holdout)
        self.id_buckets = int(id_buckets)
        self.max_tags = int(max_tags)
        self.num_workers = int(num_workers)
        self.max_playlists_per_epoch = int(max_playlists_per_epoch) if max_playlists_per_epoch else None
        self.seed = int(seed)
        self.output_dir = Path(output_dir) if output_dir else None
        self.data: RecData | None = None
        self.transformer: FeatureTransformer | None = None

    @classmethod
    def from_data(cls, data: RecData, **kwargs: Any) -> TwoTowerDataModule:
        """A datamodule over ready split matrices (the recommender wrapper and the pipeline embedder)."""
        dm = cls(**kwargs)
        dm.data = data
        return dm

    # -- setup -------------------------------------------------------------------------------------------------
    def setup(self, stage: str | None = None) -> None:
        if getattr(self, "items", None) is not None:
            return
        if self.data is None:
            if self.source is None:
                raise DataError("TwoTowerDataModule needs a source or ready split data")
            catalog = self.source.load()
            if catalog.interactions.empty:
                raise DataError(
                    f"{catalog.report.source}: no interactions (user/playlist column) — the two-tower "
                    "model learns from playlists; set data.user_column"
                )
            split = split_interactions(catalog.interactions, seed=self.split_seed)
            if self.output_dir is not None:
                write_parquet(self.output_dir / "split.parquet", split)
            self.data = rec_data(catalog.tracks, split)
        data = self.data
        tracks = data.items
        self.transformer, dense = fit_dense(tracks)
        known = np.asarray(data.train.sum(axis=0)).ravel() > 0
        self.vocab = ItemVocab.fit(tracks, known, self.id_buckets, self.max_tags)
        self.items = self.vocab.encode(tracks, dense)
        self.track_ids = tracks["track_id"].astype(str).to_numpy()
        self.train_rows = _rows(data.train)
        self.val_rows = _rows(data.val)
        sizes = np.array([len(r) for r in self.train_rows])
        self.train_users = np.flatnonzero(sizes >= 2)
        self.val_users = np.flatnonzero((sizes >= 1) & (np.array([len(r) for r in self.val_rows]) > 0))
        self.n_train_pairs = int(sizes[self.train_users].sum())
        self.targets_per_epoch = int(np.maximum(1, np.floor(self.holdout * sizes[self.train_users])).sum())
        if self.max_playlists_per_epoch and self.max_playlists_per_epoch < len(self.train_users):
            share = self.max_playlists_per_epoch / len(self.train_users)
            self.targets_per_epoch = int(round(self.targets_per_epoch * share))
        counts = np.asarray(data.train.sum(axis=0)).ravel().astype(np.float64)
        self.target_logq = np.log(np.maximum(counts, 1.0) / max(counts.sum(), 1.0)).astype(np.float32)
        log.info(
            "two-tower data: %d items (%d artists, %d albums, %d tags known), %d train playlists "
            "(%d pairs), %d validation playlists",
            len(tracks),
            len(self.vocab.artist),
            len(self.vocab.album),
            len(self.vocab.tag),
            len(self.train_users),
            self.n_train_pairs,
            len(self.val_users),
        )

    def model_kwargs(self) -> dict[str, Any]:
        """Sizes the model's tables need (the values are copied into the model by `TwoTowerModule.setup`)."""
        return {
            "n_items": len(self.track_ids),
            "n_id_buckets": self.vocab.id_buckets,
            "n_artists": len(self.vocab.artist) + 1,
            "n_albums": len(self.vocab.album) + 1,
            "n_tags": len(self.vocab.tag) + 1,
            "max_tags": self.vocab.max_tags,
            "n_dense": int(self.items["dense"].shape[1]),
        }

    # -- batches -----------------------------------------------------------------------------------------------
    def _collate(self, users: list[int], rng: np.random.Generator, train: bool) -> dict[str, torch.Tensor]:
        """Playlist batches: in training each playlist's train tracks are split afresh into context and
        max(1, floor(holdout · n)) targets — the evaluation task itself; in validation the context is all
        train tracks and the targets the validation tracks."""
        context = np.full((len(users), self.max_context), -1, dtype=np.int64)
        targets, owners = [], []
        for i, user in enumerate(users):
            row = self.train_rows[user]
            if train:
                row = rng.permutation(row)
                n_out = max(1, int(np.floor(self.holdout * len(row))))
                held, row = row[:n_out], row[n_out:]
            else:
                held = self.val_rows[user]
            if len(row) > self.max_context:
                row = rng.choice(row, self.max_context, replace=False)
            context[i, : len(row)] = row
            targets.append(held)
            owners.append(np.full(len(held), i, dtype=np.int64))
        return {
            "context": torch.from_numpy(context),
            "target": torch.from_numpy(np.concatenate(targets)),
            "owner": torch.from_numpy(np.concatenate(owners)),
        }

    def train_dataloader(self) -> DataLoader:
        epoch = self.trainer.current_epoch if self.trainer is not None else 0
        rng = np.random.default_rng([self.seed, epoch])
        gen = torch.Generator().manual_seed(self.seed * 100_003 + epoch)
        users = self.train_users.tolist()
        cap = self.max_playlists_per_epoch
        sampler = RandomSampler(users, num_samples=cap, generator=gen) if cap and cap < len(users) else None
        return DataLoader(
            users,
            batch_size=self.batch_size,
            shuffle=sampler is None,
            sampler=sampler,
            generator=gen if sampler is None else None,
            num_workers=self.num_workers,
            collate_fn=lambda b: self._collate(b, rng, train=True),
        )

    def val_dataloader(self) -> DataLoader:
        rng = np.random.default_rng(self.seed)
        return DataLoader(
            self.val_users.tolist(),
            batch_size=self.batch_size,
            shuffle=False,
            num_workers=self.num_workers,
            collate_fn=lambda b: self._collate(b, rng, train=False),
        )

    def predict_dataloader(self) -> DataLoader:
        """Item indices of the whole catalogue, in order (→ `predict_step` → item embeddings)."""
        return DataLoader(torch.arange(len(self.track_ids)), batch_size=8192, shuffle=False)
