"""The measurements behind `scripts/benchmark_recsys.py`: two-tower scoring at catalogue scale, new path vs the
dense reference, side by side.

Data: synthetic L2-normalised item vectors (a mixture of Gaussians on the sphere: `n_items // cluster_size`
random unit centres, each item = its centre + isotropic noise, renormalised) and playlists whose histories
(heavy-tailed lengths) are drawn mostly from one or two clusters, plus a few uniform tracks.

Methods, both through one `TwoTowerModule` (`lse` pooling) on the same item vectors:
  new    `TwoTowerModule.retrieve` over a FAISS `InnerProductIndex`: candidates from the mean direction and the
         per-history-track neighbours, exact `lse` scores over their union only (never batch × catalogue).
  dense  the reference: `TwoTowerModule.score_histories` (batch × catalogue block), history → -inf,
         `np.argpartition` top-k. Exact by definition.
  new_ivf (optional) the same `retrieve`, with an approximate FAISS IVF index in place of the flat one.

Timing runs in this process, interleaved batch by batch (the order alternates), on the same playlists; the
dense reference may run on a subset of them (its own row count is reported). Peak memory is measured per
(method, catalogue) in a fresh child process (multiprocessing spawn) as the kernel's per-process high-water
mark `VmHWM` (/proc/self/status), with the RSS just before scoring, so the scoring's own increase is reported
next to the whole-process peak. Not `getrusage(RUSAGE_SELF).ru_maxrss`: Linux carries it across fork and
execve, so a spawned child reports the parent's peak whenever that is higher. Not tracemalloc: FAISS's and
torch's allocations bypass it.
"""

from __future__ import annotations

import cProfile
import io
import logging
import math
import multiprocessing
import os
import pstats
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from omegaconf import DictConfig, OmegaConf
from tqdm.auto import tqdm

from src.models.retrieval import InnerProductIndex
from src.models.two_tower import TwoTowerModule

log = logging.getLogger(__name__)

METHODS = ("new", "dense", "new_ivf")


# -- memory ---------------------------------------------------------------------------------------------------
def _proc_status_mib(field: str) -> float | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0  # kB
    except OSError:
        pass
    return None


def peak_rss_mib() -> float:
    """Peak resident memory of this process (VmHWM; without /proc, ru_maxrss, which a child inherits)."""
    hwm = _proc_status_mib("VmHWM")
    return hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def current_rss_mib() -> float:
    """Resident memory of this process now (VmRSS; NaN without /proc)."""
    rss = _proc_status_mib("VmRSS")
    return float("nan") if rss is None else rss


def set_threads(threads: int | None) -> None:
    """Intra-op threads of torch and FAISS (None: leave the libraries' defaults)."""
    if threads:
        import faiss

        torch.set_num_threads(int(threads))
        faiss.omp_set_num_threads(int(threads))


# -- data -----------------------------------------------------------------------------------------------------
def make_items(
    n: int, d: int, cluster_size: int, noise: float, seed: int, chunk_rows: int = 262_144
) -> tuple[np.ndarray, np.ndarray]:
    """Unit item vectors (n × d float32) from `n // cluster_size` clusters, and each item's cluster label.

    Item = centre + noise · N(0, I/d), renormalised: with noise 0.8 an item's cosine to its centre is ≈ 0.78 and
    to another item of its cluster ≈ 0.6, while items of different clusters are ≈ 0 ± 1/√d apart.
    """
    rng = np.random.default_rng(seed)
    n_clusters = max(1, n // cluster_size)
    centres = rng.standard_normal((n_clusters, d)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    labels = rng.integers(0, n_clusters, n)
    gen = torch.Generator().manual_seed(seed)
    X = np.empty((n, d), dtype=np.float32)
    scale = np.float32(noise / math.sqrt(d))
    for start in range(0, n, chunk_rows):
        block = X[start : start + chunk_rows]
        torch.randn(block.shape, generator=gen, out=torch.from_numpy(block))
        block *= scale
        block += centres[labels[start : start + len(block)]]
        block /= np.linalg.norm(block, axis=1, keepdims=True)
    return X, labels


def make_histories(
    n_playlists: int,
    labels: np.ndarray,
    min_len: int,
    max_len: int,
    tail: float,
    two_cluster_share: float,
    primary_share: float,
    noise_share: float,
    seed: int,
) -> sp.csr_matrix:
    """Binary playlists × items histories: lengths min_len · (1 + Pareto(tail)) clipped to [min_len, max_len];
    tracks from one cluster (or, for `two_cluster_share` of playlists, two: `primary_share` from the first),
    each track uniform over the catalogue with probability `noise_share`."""
    rng = np.random.default_rng(seed + 1)
    n_items = len(labels)
    n_clusters = int(labels.max()) + 1
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(n_clusters + 1))
    lengths = np.clip(np.round(min_len * (1 + rng.pareto(tail, n_playlists))), min_len, max_len).astype(int)
    rows = []
    for length in lengths:
        n_noise = int(rng.binomial(length, noise_share))
        first = int(rng.integers(n_clusters))
        rest = length - n_noise
        plan = [(first, rest)]
        if n_clusters > 1 and rng.random() < two_cluster_share:
            second = (first + 1 + int(rng.integers(n_clusters - 1))) % n_clusters
            n_first = int(rng.binomial(rest, primary_share))
            plan = [(first, n_first), (second, rest - n_first)]
        picks = [rng.integers(0, n_items, n_noise)]
        for cluster, count in plan:
            members = order[bounds[cluster] : bounds[cluster + 1]]
            picks.append(rng.choice(members, min(count, len(members)), replace=False))
        rows.append(np.unique(np.concatenate(picks)))
    indptr = np.concatenate([[0], np.cumsum([len(r) for r in rows])])
    indices = np.concatenate(rows).astype(np.int32)
    data = np.ones(len(indices), dtype=np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(n_playlists, n_items))


def make_module(pooling: str, pool_temperature: float) -> TwoTowerModule:
    """A two-tower module with tiny tables: the benchmark passes its own item vectors to every call."""
    return TwoTowerModule(
        n_items=1,
        n_id_buckets=2,
        n_artists=2,
        n_albums=2,
        n_tags=2,
        max_tags=1,
        n_dense=0,
        features=["id"],
        pooling=pooling,
        pool_temperature=pool_temperature,
    ).eval()


# -- methods --------------------------------------------------------------------------------------------------
class IVFIndex:
    """Approximate inner-product search (FAISS `IndexIVFFlat`), duck-typed for `TwoTowerModule.retrieve`'s
    `lse` path (which only calls `search`). Not part of the project: it measures a suggested change."""

    def __init__(self, vectors: np.ndarray, nlist: int, nprobe: int, train_points: int, seed: int) -> None:
        import faiss

        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        d = self.vectors.shape[1]
        nlist = max(1, min(nlist, len(self.vectors) // 39))
        self.quantizer = faiss.IndexFlatIP(d)
        self.index = faiss.IndexIVFFlat(self.quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(seed)
        sample = self.vectors[
            np.sort(rng.choice(len(self.vectors), min(train_points, len(self.vectors)), False))
        ]
        self.index.cp.max_points_per_centroid = max(39, train_points // nlist + 1)
        self.index.train(sample)
        self.index.add(self.vectors)
        self.index.nprobe = nprobe

    @property
    def n_items(self) -> int:
        return self.vectors.shape[0]

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, self.n_items)
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if len(queries) == 0 or k == 0:
            return np.empty((len(queries), k), np.int64), np.empty((len(queries), k), np.float32)
        scores, idx = self.index.search(queries, k)
        scores[idx < 0] = -np.inf
        return idx.astype(np.int64), scores


def build_index(method: str, items: np.ndarray, cfg: dict[str, Any]) -> Any:
    if method == "new":
        return InnerProductIndex(items)
    if method == "new_ivf":
        ivf = cfg["ivf"]
        return IVFIndex(
            items, int(ivf["nlist"]), int(ivf["nprobe"]), int(ivf["train_points"]), int(cfg["seed"])
        )
    return None


def dense_reference(
    module: TwoTowerModule, history: sp.csr_matrix, items: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The old dense scorer: the batch × catalogue `lse` block, history → -inf, argpartition top-k (sorted).
    Returns (indices, scores, block)."""
    block = module.score_histories(history, items)
    block[history.nonzero()] = -np.inf
    k = min(k, block.shape[1])
    part = np.argpartition(-block, k - 1, axis=1)[:, :k]
    vals = np.take_along_axis(block, part, axis=1)
    order = np.argsort(-vals, axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1), np.take_along_axis(vals, order, axis=1), block


def run_method(
    method: str, module: TwoTowerModule, history: sp.csr_matrix, items: np.ndarray, index: Any, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    if method == "dense":
        return dense_reference(module, history, items, k)
    idx, vals = module.retrieve(history, k, items, index)
    return idx, vals, None


# -- agreement ------------------------------------------------------------------------------------------------
def agreement(
    exact: np.ndarray, found: np.ndarray, found_scores: np.ndarray, block: np.ndarray, at: int
) -> dict[str, Any]:
    """Sums over rows (divide by rows): how much of the exact top-`at` / top-k the retrieved lists hold, and
    the largest difference between a retrieved item's score and its dense score (both exact `lse`)."""
    k = exact.shape[1]
    out = {f"recall{at}_in_top{at}": 0.0, f"recall{at}_in_top{k}": 0.0, f"recall{k}_in_top{k}": 0.0}
    for e, f in zip(exact, found, strict=True):
        out[f"recall{at}_in_top{at}"] += len(np.intersect1d(e[:at], f[:at])) / at
        out[f"recall{at}_in_top{k}"] += len(np.intersect1d(e[:at], f)) / at
        out[f"recall{k}_in_top{k}"] += len(np.intersect1d(e, f)) / k
    valid = found >= 0
    dense_scores = np.take_along_axis(block, np.where(valid, found, 0), axis=1)
    diff = np.abs(np.where(valid, dense_scores - found_scores, 0.0))
    out["max_abs_score_diff"] = float(diff.max(initial=0.0))
    out["pad_slots"] = int((~valid).sum())
    return out


# -- memory child ---------------------------------------------------------------------------------------------
def _catalogue(cfg: dict[str, Any], n_items: int, n_playlists: int) -> tuple[np.ndarray, sp.csr_matrix]:
    it, hi = cfg["items"], cfg["histories"]
    seed = int(cfg["seed"]) + n_items
    items, labels = make_items(
        n_items, int(it["dim"]), int(it["cluster_size"]), float(it["noise"]), seed, int(it["chunk_rows"])
    )
    history = make_histories(
        n_playlists,
        labels,
        int(hi["min_len"]),
        int(hi["max_len"]),
        float(hi["tail"]),
        float(hi["two_cluster_share"]),
        float(hi["primary_share"]),
        float(hi["noise_share"]),
        seed,
    )
    return items, history


def memory_child(
    cfg: dict[str, Any], n_items: int, n_playlists: int, method: str, rows: int
) -> dict[str, Any]:
    """In a fresh process: the same data, then one batch of `rows` playlists through `method`.
    Returns peak RSS (VmHWM), the RSS before the index / before scoring, and (new paths) a cProfile."""
    set_threads(cfg.get("threads"))
    items, history = _catalogue(cfg, n_items, n_playlists)
    history = history[:rows]
    module = make_module(cfg["model"]["pooling"], float(cfg["model"]["pool_temperature"]))
    out: dict[str, Any] = {"rows": rows, "rss_before_index_mib": current_rss_mib()}
    index = build_index(method, items, cfg)
    out["rss_before_scoring_mib"] = current_rss_mib()
    out["peak_before_scoring_mib"] = peak_rss_mib()
    out["index_mib"] = out["rss_before_scoring_mib"] - out["rss_before_index_mib"]
    prof = cProfile.Profile() if cfg["memory"]["profile"] and method != "dense" else None
    t0 = time.perf_counter()
    if prof is not None:
        prof.enable()
    run_method(method, module, history, items, index, int(cfg["k"]))
    if prof is not None:
        prof.disable()
    out["seconds"] = time.perf_counter() - t0
    out["peak_rss_mib"] = peak_rss_mib()
    out["scoring_increase_mib"] = out["peak_rss_mib"] - out["rss_before_scoring_mib"]
    # ru_maxrss is a high-water mark: if data generation peaked higher than scoring, the increase is a bound.
    out["peak_reached_while_scoring"] = out["peak_rss_mib"] > out["peak_before_scoring_mib"]
    if prof is not None:
        text = io.StringIO()
        stats = pstats.Stats(prof, stream=text).sort_stats("tottime")
        stats.print_stats(int(cfg["memory"]["profile_top"]))
        out["profile_tottime"] = text.getvalue()
        out["profile_total_seconds"] = stats.total_tt
        out["profile_faiss_seconds"] = sum(
            row[2] for key, row in stats.stats.items() if "faiss._swigfaiss" in key[2]
        )
        out["search_breakdown"] = search_breakdown(module, history, items, index, int(cfg["k"]))
    return out


def search_breakdown(
    module: TwoTowerModule, history: sp.csr_matrix, items: np.ndarray, index: Any, k: int
) -> dict[str, Any]:
    """The two searches of `TwoTowerModule.retrieve`'s `lse` path, timed apart: the mean direction of each row
    (k + longest history) and every distinct history track of the batch (deepest per-track depth + 1). The
    arguments repeat retrieve's (src/models/two_tower.py) by hand; it runs after the memory was read."""
    lengths = np.diff(history.indptr)
    tracks = np.unique(history.indices)
    shortest = int(lengths[lengths > 0].min())
    depth = int(np.clip(np.ceil(2 * k / shortest), 10, 100))
    queries = module.queries(history, items)
    t0 = time.perf_counter()
    index.search(queries, k + int(lengths.max()))
    mean_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    index.search(items[tracks], depth + 1)
    return {
        "mean_queries": int(history.shape[0]),
        "mean_k": k + int(lengths.max()),
        "mean_seconds": mean_seconds,
        "track_queries": len(tracks),
        "track_k": depth + 1,
        "track_seconds": time.perf_counter() - t0,
    }


def measure_memory(cfg: dict[str, Any], n_items: int, n_playlists: int, method: str, rows: int) -> dict:
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        return pool.submit(memory_child, cfg, n_items, n_playlists, method, rows).result()


# -- one catalogue size ---------------------------------------------------------------------------------------
def bench_catalogue(cfg: dict[str, Any], size: dict[str, Any], progress: bool) -> dict[str, Any]:
    n_items = int(size["n_items"])
    n_playlists = int(size["playlists"])
    batch = int(cfg["batch_size"])
    k, at = int(cfg["k"]), int(cfg["agreement_k"])
    methods = [m for m in cfg["methods"] if m != "dense"]
    out: dict[str, Any] = {"n_items": n_items, "playlists": n_playlists}
    t0 = time.perf_counter()
    items, history = _catalogue(cfg, n_items, n_playlists)
    out["data_seconds"] = time.perf_counter() - t0
    out["n_clusters"] = max(1, n_items // int(cfg["items"]["cluster_size"]))
    lengths = np.diff(history.indptr)
    out["history_length"] = {
        "mean": float(lengths.mean()),
        "median": float(np.median(lengths)),
        "max": int(lengths.max()),
    }
    module = make_module(cfg["model"]["pooling"], float(cfg["model"]["pool_temperature"]))
    indexes = {}
    for method in methods:
        t0 = time.perf_counter()
        indexes[method] = build_index(method, items, cfg)
        out.setdefault(method, {})["index_seconds"] = time.perf_counter() - t0

    n_batches = math.ceil(n_playlists / batch)
    dense_total = min(n_playlists, int(size.get("dense_playlists") or n_playlists))
    dense_per_batch = math.ceil(dense_total / n_batches)
    # Warm-up (thread pools, page faults): a few rows of each method, not timed.
    for method in methods:
        run_method(method, module, history[:4], items, indexes[method], k)
    if "dense" in cfg["methods"]:
        run_method("dense", module, history[:1], items, None, k)

    times: dict[str, list[float]] = {m: [] for m in cfg["methods"]}
    rows_done: dict[str, int] = {m: 0 for m in cfg["methods"]}
    sums: dict[str, dict[str, float]] = {m: {} for m in methods}
    dense_rows = 0
    bar = tqdm(total=n_batches, desc=f"{n_items:,} items", disable=not progress, leave=True)
    for b, start in enumerate(range(0, n_playlists, batch)):
        rows = history[start : start + batch]
        m_dense = min(dense_per_batch, rows.shape[0], dense_total - dense_rows)
        order = list(cfg["methods"]) if b % 2 == 0 else list(reversed(cfg["methods"]))
        results = {}
        for method in order:
            part = rows[:m_dense] if method == "dense" else rows
            if part.shape[0] == 0:
                continue
            t0 = time.perf_counter()
            results[method] = run_method(method, module, part, items, indexes.get(method), k)
            times[method].append(time.perf_counter() - t0)
            rows_done[method] += part.shape[0]
        if "dense" in results:
            exact, _, block = results.pop("dense")
            for method, (idx, vals, _) in results.items():
                for key, value in agreement(exact, idx[:m_dense], vals[:m_dense], block, at).items():
                    sums[method][key] = sums[method].get(key, 0.0) + value
            dense_rows += m_dense
            del block
        bar.update(1)
    bar.close()
    for method in cfg["methods"]:
        seconds = float(sum(times[method]))
        row = out.setdefault(method, {})
        row.update(
            {
                "seconds": seconds,
                "rows": rows_done[method],
                "batch_seconds": times[method],
                "seconds_per_1000": 1000.0 * seconds / max(1, rows_done[method]),
            }
        )
    for method in methods:
        if dense_rows:
            agree = {
                key: (value if key in ("max_abs_score_diff", "pad_slots") else value / dense_rows)
                for key, value in sums[method].items()
            }
            agree["rows"] = dense_rows
            out[method]["agreement"] = agree
        if "dense" in cfg["methods"]:
            out[method]["dense_over_this"] = (
                out["dense"]["seconds_per_1000"] / out[method]["seconds_per_1000"]
            )
    del items, history, indexes
    if cfg["memory"]["enabled"]:
        for method in cfg["methods"]:
            rows = min(batch, dense_per_batch if method == "dense" else n_playlists)
            log.info("memory: %s at %d items, %d rows (child process)", method, n_items, rows)
            out[method]["memory"] = measure_memory(cfg, n_items, n_playlists, method, rows)
    return out


def run_benchmark(cfg: DictConfig) -> dict[str, Any]:
    """Every catalogue size of `cfg.catalogues`, one after the other; JSON-ready."""
    t_start = time.perf_counter()
    plain = OmegaConf.to_container(cfg, resolve=True)
    unknown = [m for m in plain["methods"] if m not in METHODS]
    if unknown:
        raise KeyError(f"unknown benchmark method(s) {unknown}: choose from {list(METHODS)}")
    plain.pop("paths", None)
    set_threads(plain.get("threads"))
    result: dict[str, Any] = {
        "config": {k: v for k, v in plain.items() if k != "hydra"},
        "machine": {
            "cpus": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "load_average_start": os.getloadavg(),
        },
        "memory_method": "VmHWM and VmRSS (/proc/self/status) of a fresh spawned child per (method, catalogue); "
        "not ru_maxrss, which Linux carries from the parent across fork + execve",
    }
    try:
        import faiss

        result["machine"]["faiss_threads"] = faiss.omp_get_max_threads()
    except Exception:  # noqa: BLE001 — informational only
        pass
    result["catalogues"] = []
    for size in plain["catalogues"]:
        result["catalogues"].append(bench_catalogue(plain, size, bool(plain["progress"])))
        log.info("%s", format_table(result))
    result["machine"]["load_average_end"] = os.getloadavg()
    result["total_seconds"] = time.perf_counter() - t_start
    result["peak_rss_mib"] = peak_rss_mib()
    return result


# -- tables ---------------------------------------------------------------------------------------------------
def _fmt(value: Any, spec: str) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, spec)


def markdown_table(result: dict[str, Any]) -> str:
    """One row per (catalogue, method): time per 1000 playlists, ratio, memory, agreement with dense."""
    cfg = result["config"]
    at, k = cfg["agreement_k"], cfg["k"]
    head = [
        "catalogue",
        "method",
        "playlists timed",
        "s / 1000 playlists",
        "dense / method",
        "index build s",
        "memory rows",
        "peak RSS MiB",
        "scoring Δ RSS MiB",
        f"recall@{at} in top-{at}",
        f"recall@{at} in top-{k}",
        f"recall@{k} in top-{k}",
        "max |Δ score|",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for cat in result["catalogues"]:
        for method in cfg["methods"]:
            row = cat.get(method, {})
            mem = row.get("memory", {})
            agree = row.get("agreement", {})
            delta = _fmt(mem.get("scoring_increase_mib"), ".0f")
            if mem and not mem.get("peak_reached_while_scoring", True):
                delta = f"≤ {_fmt(mem.get('peak_rss_mib', 0) - mem.get('rss_before_scoring_mib', 0), '.0f')}"
            cells = [
                f"{cat['n_items']:,}",
                method,
                str(row.get("rows", "–")),
                _fmt(row.get("seconds_per_1000"), ".2f"),
                _fmt(row.get("dense_over_this"), ".2f") + ("×" if "dense_over_this" in row else ""),
                _fmt(row.get("index_seconds"), ".2f"),
                str(mem.get("rows", "–")),
                _fmt(mem.get("peak_rss_mib"), ".0f"),
                delta,
                _fmt(agree.get(f"recall{at}_in_top{at}"), ".4f"),
                _fmt(agree.get(f"recall{at}_in_top{k}"), ".4f"),
                _fmt(agree.get(f"recall{k}_in_top{k}"), ".4f"),
                _fmt(agree.get("max_abs_score_diff"), ".1e"),
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def profile_table(result: dict[str, Any]) -> str:
    """Where the retrieval paths' time goes (memory child, one batch): FAISS's share under cProfile and the
    mean-direction vs per-track searches timed apart."""
    head = [
        "catalogue",
        "method",
        "batch rows",
        "retrieve s (profiled)",
        "in FAISS search s",
        "mean-direction search: queries × k, s",
        "per-track search: queries × k, s",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for cat in result["catalogues"]:
        for method in result["config"]["methods"]:
            mem = cat.get(method, {}).get("memory", {})
            b = mem.get("search_breakdown")
            if not b:
                continue
            share = mem["profile_faiss_seconds"] / max(mem["profile_total_seconds"], 1e-12)
            lines.append(
                f"| {cat['n_items']:,} | {method} | {mem['rows']} | {mem['profile_total_seconds']:.2f} | "
                f"{mem['profile_faiss_seconds']:.2f} ({100 * share:.0f}%) | "
                f"{b['mean_queries']:,} × {b['mean_k']}: {b['mean_seconds']:.2f} | "
                f"{b['track_queries']:,} × {b['track_k']}: {b['track_seconds']:.2f} |"
            )
    return "\n".join(lines) if len(lines) > 2 else ""


def format_table(result: dict[str, Any]) -> str:
    """The markdown table plus a summary line per catalogue, for the terminal."""
    lines = [markdown_table(result), profile_table(result)]
    for cat in result["catalogues"]:
        for method in result["config"]["methods"]:
            row = cat.get(method, {})
            if "dense_over_this" in row:
                lines.append(
                    f"{cat['n_items']:,} items: dense / {method} time ratio {row['dense_over_this']:.2f} "
                    f"(agreement on {row.get('agreement', {}).get('rows', 0)} playlists)"
                )
    if "total_seconds" in result:
        lines.append(
            f"total {result['total_seconds']:.1f}s, parent peak RSS {result['peak_rss_mib']:.0f} MiB"
        )
    return "\n".join(lines)
