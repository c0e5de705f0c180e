"""Our CF baselines (item_knn_cf, rp3beta, ease) against irspack's, same hyper-parameters, same split and protocol.

Protocol of `scripts/evaluate_recsys.py`: fit on train ∪ validation (`data.known`), rank every catalogue item
not in a playlist's known part, judge against its test tracks; recall@100 and ndcg@500 from
`src.evaluation.ranking`. Ours ranks through `recommend_batch`; irspack scores all items
(`get_score_cold_user`, the known rows as profiles) and `peer_ranked` ranks them with our tie rule (equal non-zero
scores by `tie_key` of the item index, zero scores in our popularity order).

Conventions that differ (so identical numbers are expected only where they coincide):
- irspack's item-kNN keeps top_k per row *including* the item itself and then drops the diagonal: it gets
  top_k = neighbours + 1.
- irspack's RP3beta keeps top_k per *column* (ours per row, as in Dacrema et al.'s code) and raises the raw
  weights to α before normalising (a no-op on binary data; ours, as Dacrema et al., after): compare at α = 1,
  and with `--rp3-neighbours 0` (no truncation) for the exact match.
- irspack's EASE is the dense primal over every column it is given; it gets the columns our model keeps.
- Ties at the neighbour cut: irspack keeps the lower column index, ours `tie_key` order, so truncated
  models keep different neighbours wherever equal similarities straddle the cut.
- Our EASE ranks exact score ties by `tie_key` of the position among its kept columns (not of the item index),
  and ranks the items outside the model (score 0, popularity order) before its kept items scored exactly 0
  (all of them when a history holds no kept item); here every zero-scored item is ranked in popularity order.

    python -m benchmarks.recsys_peer --data bundled --seed 0
    python -m benchmarks.recsys_peer --data lastfm --path /path/to/hetrec2011-lastfm-2k --seed 0

Needs the optional extra: pip install -e ".[peer]".
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from src.data.interactions import RecData, rec_data
from src.data.split import split_interactions
from src.evaluation.ranking import ranking_metrics, targets_of
from src.recsys.base import Recommender, tie_key
from src.recsys.ease import EASERecommender
from src.recsys.item_item import popularity_order
from src.recsys.knn import ItemKNNCFRecommender
from src.recsys.rp3beta import RP3betaRecommender
from src.recsys.tuning import rank

ROOT = Path(__file__).resolve().parents[1]
DEPTH = 500
log = logging.getLogger("recsys_peer")


def load(data: str, path: str | None, seed: int) -> RecData:
    """The split of a catalogue as `src.tasks.evaluate_recsys` makes it."""
    if data == "bundled":
        from src.data.sources import CsvSource

        catalog = CsvSource(
            path=path or str(ROOT / "data" / "spotify_songs.csv.gz"), user_column="playlist_id"
        ).load()
    elif data == "lastfm":
        from src.data.lastfm import LastFMSource

        if not path:
            raise SystemExit("--data lastfm needs --path (the hetrec2011-lastfm-2k folder)")
        catalog = LastFMSource(path=path).load()
    else:
        raise SystemExit(f"unknown --data {data!r}")
    return rec_data(catalog.tracks, split_interactions(catalog.interactions, seed=seed))


def metrics(ranked: np.ndarray, data: RecData, users: np.ndarray) -> dict[str, float]:
    m = ranking_metrics(ranked, targets_of(data.test, users), ks=(100,), ndcg_k=DEPTH)
    return {"recall@100": m["recall@100"], "ndcg@500": m["ndcg@500"]}


def peer_ranked(
    peer: Any, context: sp.csr_matrix, columns: np.ndarray, pop_rank: np.ndarray, batch: int = 512
) -> np.ndarray:
    """irspack's top-DEPTH per context row over the full catalogue (its model sees `columns` only; the rest
    score 0). Ties in the final ranking are broken as ours breaks them — equal non-zero scores by the fixed hash
    `tie_key` of the item index, zero scores in our popularity order (the fill) — so that the comparison is
    about the models, not about how ties fall. (Index order would leak playlist membership: the bundled
    catalogue is stored playlist by playlist.) irspack's own neighbour cut (item-kNN, RP3beta top_k) keeps its
    own tie order; ours cuts ties by `tie_key` too, so truncated models may differ where ties straddle the cut."""
    hashed = tie_key(np.arange(len(pop_rank))).astype(np.int64)  # non-zero scores only (not the fill)
    out = []
    for start in range(0, context.shape[0], batch):
        rows = context[start : start + batch]
        scores = np.zeros((rows.shape[0], len(pop_rank)), dtype=np.float32)
        scores[:, columns] = peer.get_score_cold_user(sp.csr_matrix(rows[:, columns]))
        scores[rows.nonzero()] = -np.inf
        tie = np.where(scores != 0, hashed, len(pop_rank) + pop_rank)
        order = np.lexsort((tie, -scores), axis=-1)
        out.append(order[:, :DEPTH].astype(np.int64))
    return np.vstack(out)


def pairs(n_items: int, args: argparse.Namespace) -> list[tuple[Recommender, Any]]:
    """(ours, a function known → irspack model, the columns irspack is given) with the same settings."""
    import irspack

    rp3_k = args.rp3_neighbours or n_items
    return [
        (
            ItemKNNCFRecommender(neighbours=args.knn_neighbours, shrink=args.knn_shrink),
            lambda x: irspack.CosineKNNRecommender(
                x,
                shrinkage=args.knn_shrink,
                normalize=True,
                top_k=args.knn_neighbours + 1,
                n_threads=args.threads,
            ),
        ),
        (
            RP3betaRecommender(neighbours=rp3_k, alpha=1.0, beta=args.rp3_beta),
            lambda x: irspack.RP3betaRecommender(
                x, alpha=1.0, beta=args.rp3_beta, top_k=args.rp3_neighbours or None, n_threads=args.threads
            ),
        ),
        (
            EASERecommender(regularization=args.ease_lambda, min_count=args.ease_min_count),
            lambda x: irspack.DenseSLIMRecommender(x, reg=args.ease_lambda),
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", default="bundled", choices=["bundled", "lastfm"])
    parser.add_argument("--path", default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", nargs="*", default=["item_knn_cf", "rp3beta", "ease"])
    parser.add_argument("--knn-neighbours", type=int, default=200)
    parser.add_argument("--knn-shrink", type=float, default=10.0)
    parser.add_argument("--rp3-neighbours", type=int, default=200, help="0 = no truncation")
    parser.add_argument("--rp3-beta", type=float, default=0.3)
    parser.add_argument("--ease-lambda", type=float, default=200.0)
    parser.add_argument("--ease-min-count", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1, help="irspack threads (ours are single-threaded)")
    parser.add_argument("--out", default=None, help="write the rows as JSON here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    data = load(args.data, args.path, args.seed)
    known = data.known
    users = np.flatnonzero(np.diff(data.test.indptr) > 0)
    log.info(
        "%s seed %d: %d users, %d items, %d known, %d test",
        args.data,
        args.seed,
        *known.shape,
        known.nnz,
        data.test.nnz,
    )
    pop_rank = np.empty(data.n_items, dtype=np.int64)
    pop_rank[popularity_order(known, data.items)] = np.arange(data.n_items)
    rows = []
    for ours, make_peer in pairs(data.n_items, args):
        if ours.name not in args.models:
            continue
        started = time.perf_counter()
        ours.fit(known, data.items)
        fit_ours = time.perf_counter() - started
        ranked_ours = rank(ours, known[users], DEPTH)
        columns = getattr(ours, "kept", np.arange(data.n_items))
        started = time.perf_counter()
        peer = make_peer(sp.csr_matrix(known[:, columns]))
        peer.learn()
        fit_peer = time.perf_counter() - started
        ranked_peer = peer_ranked(peer, known[users], columns, pop_rank)
        m_ours, m_peer = metrics(ranked_ours, data, users), metrics(ranked_peer, data, users)
        same = float(np.mean(ranked_ours[:, :100] == ranked_peer[:, :100]))
        row = {
            "data": args.data,
            "seed": args.seed,
            "model": ours.name,
            "params": {
                k: v
                for k, v in vars(ours).items()
                if k in ("neighbours", "shrink", "alpha", "beta", "regularization", "min_count")
            },
            **{f"ours_{k}": v for k, v in m_ours.items()},
            **{f"peer_{k}": v for k, v in m_peer.items()},
            "ratio_recall@100": m_ours["recall@100"] / m_peer["recall@100"]
            if m_peer["recall@100"]
            else float("nan"),
            "ratio_ndcg@500": m_ours["ndcg@500"] / m_peer["ndcg@500"] if m_peer["ndcg@500"] else float("nan"),
            "same_top100_slots": same,
            "ours_fit_seconds": fit_ours,
            "peer_fit_seconds": fit_peer,
        }
        rows.append(row)
        print(
            f"{args.data} seed {args.seed} {ours.name:12s} recall@100 ours {m_ours['recall@100']:.4f} "
            f"irspack {m_peer['recall@100']:.4f} (×{row['ratio_recall@100']:.3f}) | ndcg@500 ours "
            f"{m_ours['ndcg@500']:.4f} irspack {m_peer['ndcg@500']:.4f} (×{row['ratio_ndcg@500']:.3f}) | "
            f"same top-100 slots {same:.3f} | fit ours {fit_ours:.1f}s irspack {fit_peer:.1f}s",
            flush=True,
        )
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
