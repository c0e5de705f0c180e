"""Metrics of personalised mixes on the playlist-continuation split (docs/evaluation.md, "Mixes").

A listener's mixes are lists of item indices. Judged against the listener's held-out tracks and the other
listeners' known (train ∪ validation) histories — never against a test track of anyone else:
- `mix_recall@N`: share of the held-out tracks found anywhere in the mixes (total length N);
- `mix_coherence`: P(another listener, drawn at random, holds both tracks of a pair from one mix) divided by
  the same probability for two random catalogue tracks (1 = no better than chance). `mix_coherence_any` is the
  same lift for "at least one other history holds both"; it saturates on dense collections (on Last.fm 73 % of
  the pairs of any recommended list already pass it, which caps every ratio between lists near 1.4), which is
  why the per-history probability is the primary one. Only pairs of *played* tracks (held by some other
  history) count, in the mixes and in the random baseline alike: a never-played track (a new release) cannot
  appear in any history, so a pair holding one is evidence neither way (`played_pair_share` says how many);
- `novelty`: share of mix tracks the listener never had; `novelty_bits`: mean self-information
  −log2(share of histories holding the track), higher = less popular;
- `artist_diversity`: distinct artists / tracks, averaged over mixes;
- `cold_share`: share of mix tracks no known history holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


@dataclass
class PairStats:
    """Co-occurrence evidence over a set of track pairs (pairs with a never-played track carry none)."""

    shared: int = 0  # sum over played pairs of how many other histories hold both
    together: int = 0  # played pairs held together by at least one other history
    played: int = 0  # pairs of two played tracks
    pairs: int = 0  # all pairs

    def __add__(self, other: PairStats) -> PairStats:
        return PairStats(
            *(getattr(self, f) + getattr(other, f) for f in ("shared", "together", "played", "pairs"))
        )


class CoOccurrence:
    """How often item pairs share a known history, with one listener's own history left out."""

    def __init__(self, known: sp.csr_matrix) -> None:
        binary = sp.csr_matrix(known, dtype=np.float32, copy=True)
        binary.data[:] = 1.0
        self.rows = binary
        self.cols = binary.tocsc()
        self.held = np.diff(self.cols.indptr)
        self.histories = max(int((np.diff(binary.indptr) > 0).sum()), 1)

    def pairs(self, items: np.ndarray, own_row: int | None) -> PairStats:
        """The evidence among the pairs of `items`."""
        items = np.unique(items[items >= 0])
        m = len(items)
        if m < 2:
            return PairStats()
        sub = self.cols[:, items]
        together = (sub.T @ sub).toarray()
        held = self.held[items].astype(np.int64)
        if own_row is not None:
            own = np.isin(items, self.rows.indices[self.rows.indptr[own_row] : self.rows.indptr[own_row + 1]])
            together -= np.outer(own, own)
            held -= own
        upper = np.triu_indices(m, k=1)
        played = ((held[:, None] > 0) & (held[None, :] > 0))[upper]
        counts = together[upper]
        return PairStats(
            int(counts[played].sum()), int((counts > 0).sum()), int(played.sum()), m * (m - 1) // 2
        )

    def random_pairs(self, n_pairs: int = 200_000, seed: int = 0) -> PairStats:
        """The evidence among `n_pairs` random pairs of distinct played catalogue items."""
        rng = np.random.default_rng(seed)
        pool = np.flatnonzero(self.held > 0)
        if len(pool) < 2:
            return PairStats()
        a = rng.integers(0, len(pool), n_pairs)
        b = (a + rng.integers(1, len(pool), n_pairs)) % len(pool)  # never the same item
        a, b = pool[a], pool[b]
        out = PairStats(played=n_pairs, pairs=n_pairs)
        for start in range(0, n_pairs, 20_000):
            sa, sb = a[start : start + 20_000], b[start : start + 20_000]
            counts = np.asarray(self.cols[:, sa].multiply(self.cols[:, sb]).sum(axis=0)).ravel()
            out.shared += int(counts.sum())
            out.together += int((counts > 0).sum())
        return out


def recall(mixes: Sequence[np.ndarray], targets: np.ndarray) -> float:
    """Share of `targets` found in any mix."""
    if not len(targets):
        return float("nan")
    found = np.concatenate(list(mixes)) if mixes else np.zeros(0, np.int64)
    return float(np.isin(targets, found).mean())


def coherence(stats: PairStats, random: PairStats, histories: int) -> dict[str, float]:
    """Lifts over random pairs: per other history (`mix_coherence`) and at least one history (`_any`)."""
    nan = float("nan")
    if not stats.played or not random.played:
        return {"mix_coherence": nan, "mix_coherence_any": nan, "pair_cooccurrence": nan}
    per_history = stats.shared / stats.played / max(histories - 1, 1)
    random_per_history = random.shared / random.played / histories
    any_rate, random_any = stats.together / stats.played, random.together / random.played
    return {
        "mix_coherence": per_history / random_per_history if random_per_history else nan,
        "mix_coherence_any": any_rate / random_any if random_any else nan,
        "pair_cooccurrence": any_rate,
    }


def mix_metrics(
    listeners_mixes: Sequence[Sequence[np.ndarray]],
    histories: Sequence[np.ndarray],
    targets: Sequence[np.ndarray],
    rows: Sequence[int | None],
    judge: CoOccurrence,
    random: PairStats,
    artist: np.ndarray,
    held: np.ndarray,
    n: int,
) -> dict[str, float]:
    """All mix metrics over listeners (`rows[i]`: listener i's row in the judge's matrix, to leave out;
    `random`: the judge's evidence over random played pairs)."""
    recalls, novel, slots, bits, diversity, cold = [], 0, 0, [], [], 0
    stats = PairStats()
    for mixes, history, target, row in zip(listeners_mixes, histories, targets, rows, strict=True):
        recalls.append(recall(mixes, target))
        for mix in mixes:
            if not len(mix):
                continue
            stats = stats + judge.pairs(mix, row)
            novel += int((~np.isin(mix, history)).sum())
            slots += len(mix)
            bits.extend(-np.log2(np.maximum(held[mix], 1) / judge.histories))
            known_artist = artist[mix][artist[mix] >= 0]
            diversity.append(len(np.unique(known_artist)) / len(mix) if len(known_artist) else 1.0)
            cold += int((held[mix] == 0).sum())
    return {
        f"mix_recall@{n}": float(np.nanmean(recalls)) if recalls else float("nan"),
        **coherence(stats, random, judge.histories),
        "played_pair_share": stats.played / stats.pairs if stats.pairs else float("nan"),
        "novelty": novel / slots if slots else float("nan"),
        "novelty_bits": float(np.mean(bits)) if bits else float("nan"),
        "artist_diversity": float(np.mean(diversity)) if diversity else float("nan"),
        "cold_share": cold / slots if slots else float("nan"),
        "mixes_per_listener": float(np.mean([sum(len(m) > 0 for m in mixes) for mixes in listeners_mixes])),
    }
