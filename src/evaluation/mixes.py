"""Metrics of personalised mixes on the playlist-continuation split (docs/evaluation.md, "Mixes").

A listener's mixes are lists of item indices. Judged against the listener's held-out tracks and the other
listeners' known (train ∪ validation) histories — never against a test track of anyone else:
- `mix_recall@N`: share of the held-out tracks found anywhere in the mixes (total length N);
- `mix_coherence`: P(two tracks of one mix appear together in some other listener's history) divided by the
  same probability for two random catalogue tracks (1 = no better than chance). Only pairs of *played* tracks
  (held by some other history) count, in the mixes and in the random baseline alike: a never-played track (a
  new release) cannot appear in any history, so a pair holding one is evidence neither way. The same ratio over
  all pairs, never-played included, is `mix_coherence_all`;
- `novelty`: share of mix tracks the listener never had; `novelty_bits`: mean self-information
  −log2(share of histories holding the track), higher = less popular;
- `artist_diversity`: distinct artists / tracks, averaged over mixes;
- `cold_share`: share of mix tracks no known history holds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp


class CoOccurrence:
    """Which item pairs share a known history, with one listener's own history left out."""

    def __init__(self, known: sp.csr_matrix) -> None:
        binary = sp.csr_matrix(known, dtype=np.float32, copy=True)
        binary.data[:] = 1.0
        self.rows = binary
        self.cols = binary.tocsc()

        self.held = np.diff(self.cols.indptr)

    def pairs(self, items: np.ndarray, own_row: int | None) -> tuple[int, int, int]:
        """Among `items`: (pairs held together by another history, pairs of played tracks, all pairs)."""
        items = np.unique(items[items >= 0])
        m = len(items)
        if m < 2:
            return 0, 0, 0
        sub = self.cols[:, items]
        together = (sub.T @ sub).toarray()
        held = self.held[items].astype(np.int64)
        if own_row is not None:
            own = np.isin(items, self.rows.indices[self.rows.indptr[own_row] : self.rows.indptr[own_row + 1]])
            together -= np.outer(own, own)
            held -= own
        upper = np.triu_indices(m, k=1)
        played = (held[:, None] > 0) & (held[None, :] > 0)
        return int((together[upper] > 0).sum()), int(played[upper].sum()), m * (m - 1) // 2

    def random_rate(self, n_pairs: int = 200_000, seed: int = 0, played: bool = True) -> float:
        """P(two distinct random items share a history), estimated on `n_pairs` sampled pairs of played items
        (`played`) or of any catalogue items."""
        rng = np.random.default_rng(seed)
        pool = np.flatnonzero(self.held > 0) if played else np.arange(self.cols.shape[1])
        if len(pool) < 2:
            return float("nan")
        a = rng.integers(0, len(pool), n_pairs)
        b = (a + rng.integers(1, len(pool), n_pairs)) % len(pool)  # never the same item
        a, b = pool[a], pool[b]
        hits = 0
        for start in range(0, n_pairs, 20_000):
            sa, sb = a[start : start + 20_000], b[start : start + 20_000]
            hits += int(
                (np.asarray(self.cols[:, sa].multiply(self.cols[:, sb]).sum(axis=0)).ravel() > 0).sum()
            )
        return hits / n_pairs


def recall(mixes: Sequence[np.ndarray], targets: np.ndarray) -> float:
    """Share of `targets` found in any mix."""
    if not len(targets):
        return float("nan")
    found = np.concatenate(list(mixes)) if mixes else np.zeros(0, np.int64)
    return float(np.isin(targets, found).mean())


def mix_metrics(
    listeners_mixes: Sequence[Sequence[np.ndarray]],
    histories: Sequence[np.ndarray],
    targets: Sequence[np.ndarray],
    rows: Sequence[int | None],
    judge: CoOccurrence,
    random_rate: tuple[float, float],
    artist: np.ndarray,
    held: np.ndarray,
    n: int,
) -> dict[str, float]:
    """All mix metrics over listeners (`rows[i]`: listener i's row in the judge's matrix, to leave out;
    `random_rate`: the judge's rate over played pairs and over all pairs)."""
    recalls, novel, slots, bits, diversity, cold = [], 0, 0, [], [], 0
    coherent = played = pairs = 0
    n_histories = max(int((np.diff(judge.rows.indptr) > 0).sum()), 1)
    for mixes, history, target, row in zip(listeners_mixes, histories, targets, rows, strict=True):
        recalls.append(recall(mixes, target))
        for mix in mixes:
            if not len(mix):
                continue
            c, w, p = judge.pairs(mix, row)
            coherent, played, pairs = coherent + c, played + w, pairs + p
            novel += int((~np.isin(mix, history)).sum())
            slots += len(mix)
            bits.extend(-np.log2(np.maximum(held[mix], 1) / n_histories))
            known_artist = artist[mix][artist[mix] >= 0]
            diversity.append(len(np.unique(known_artist)) / len(mix) if len(known_artist) else 1.0)
            cold += int((held[mix] == 0).sum())
    within = coherent / played if played else float("nan")
    within_all = coherent / pairs if pairs else float("nan")
    return {
        f"mix_recall@{n}": float(np.nanmean(recalls)) if recalls else float("nan"),
        "mix_coherence": within / random_rate[0] if random_rate[0] > 0 else float("nan"),
        "mix_coherence_all": within_all / random_rate[1] if random_rate[1] > 0 else float("nan"),
        "pair_cooccurrence": within,
        "played_pair_share": played / pairs if pairs else float("nan"),
        "novelty": novel / slots if slots else float("nan"),
        "novelty_bits": float(np.mean(bits)) if bits else float("nan"),
        "artist_diversity": float(np.mean(diversity)) if diversity else float("nan"),
        "cold_share": cold / slots if slots else float("nan"),
        "mixes_per_listener": float(np.mean([sum(len(m) > 0 for m in mixes) for mixes in listeners_mixes])),
    }
