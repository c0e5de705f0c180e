"""Nearest centroid per row in one pass: a small compiled kernel that fuses the distance GEMM with the argmin.

Why: on the BLAS path every row's distances to all k centroids are written to memory and `np.argmin` reads
them back; at case (a)'s shape (1M × 32, K = 256) that argmin is about a quarter of a Lloyd iteration. The
kernel (`fused_argmin.c`) keeps a tile of distances in vector registers and folds it into a running minimum.
It is compiled once per machine and source with the system C compiler (``$CC``, else ``cc``/``gcc``/``clang``,
``-O3 -march=native``) into a user cache and loaded with ctypes, which releases the GIL, so worker threads run
it in parallel. Without a compiler, or with ``PLAYLIST_LAB_NATIVE=0``, `load` returns None and the BLAS path
is used; whether the kernel is used at all is decided by timing it against BLAS on the fit's own shape
(`src.cluster.gemm_kmeans.fastest_assign`), so a machine where it is slower keeps BLAS.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import logging
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

SOURCE = Path(__file__).with_name("fused_argmin.c")
FLAG_SETS = (["-O3", "-march=native"], ["-O3"])  # the second for compilers without -march=native


def cache_dir() -> Path:
    """Where built kernels live: ``$PLAYLIST_LAB_CACHE``, else ``$XDG_CACHE_HOME`` or ``~/.cache``."""
    if os.environ.get("PLAYLIST_LAB_CACHE"):
        return Path(os.environ["PLAYLIST_LAB_CACHE"]) / "native"
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "playlist-lab" / "native"


def find_compiler() -> list[str] | None:
    """The compiler command: ``$CC`` when set and found (``ccache gcc`` and the like allowed), else the first of
    cc, gcc, clang on the PATH."""
    if os.environ.get("CC"):
        command = shlex.split(os.environ["CC"])
        path = shutil.which(command[0]) if command else None
        return [path, *command[1:]] if path else None
    return next(([path] for name in ("cc", "gcc", "clang") if (path := shutil.which(name))), None)


def _cpu_signature() -> str:
    """What -march=native depends on: the CPU model and flags (Linux), else the platform string."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        return "\n".join(sorted({ln for ln in lines if ln.startswith(("model name", "flags", "Features"))}))
    except OSError:
        return platform.platform() + platform.processor()


# What `_works` runs in a child process: this file as a script (stdlib and numpy only, no package import).
SELF_TEST_SCRIPT = Path(__file__)


def _works(library: str) -> bool:
    """Whether `library` loads and answers a small problem correctly (`self_test`), tried in a child process
    before it is kept: an instruction the CPU or the OS does not actually support (a VM that hides AVX-512 state)
    kills the child with SIGILL instead of this process, and a miscompile is caught here, not in a fit."""
    try:
        command = [sys.executable, str(SELF_TEST_SCRIPT), library]
        done = subprocess.run(command, capture_output=True, timeout=120)
    except (OSError, subprocess.SubprocessError) as err:
        log.info("fused argmin kernel: self-test could not run: %s", err)
        return False
    if done.returncode != 0:
        log.info("fused argmin kernel: self-test failed (exit %d): %s", done.returncode, done.stderr[-500:])
    return done.returncode == 0


def _build(compiler: list[str], target: Path) -> bool:
    """Compile the kernel to `target` and keep it only if it passes the self-test, atomically (temp file +
    rename): a concurrent build never leaves half a library, and a failed one leaves nothing."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for flags in FLAG_SETS:
        fd, tmp = tempfile.mkstemp(suffix=".so", dir=target.parent)
        os.close(fd)
        cmd = [*compiler, *flags, "-std=gnu11", "-shared", "-fPIC", str(SOURCE), "-o", tmp]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.SubprocessError) as err:
            done = None
            log.info("fused argmin kernel: %s failed: %s", " ".join(cmd), err)
        if done is not None and done.returncode == 0 and _works(tmp):
            os.replace(tmp, target)
            return True
        Path(tmp).unlink(missing_ok=True)
        if done is not None:
            log.info("fused argmin kernel: %s failed: %s", " ".join(cmd), done.stderr.strip()[:500])
    return False


@dataclass(frozen=True)
class Prepared:
    """Centroids in the kernel's layout: ``-2Cᵀ`` (d × kp) and ``‖c‖²`` (kp), padded to whole tiles."""

    ct: np.ndarray
    bias: np.ndarray
    k: int


class FusedArgmin:
    """The loaded kernel: `prepare` the centroids once per iteration, then call it on row ranges."""

    def __init__(self, lib: ctypes.CDLL, path: Path) -> None:
        self.path = path
        self._fn = lib.fused_argmin
        ptr, i64 = ctypes.c_void_p, ctypes.c_int64
        self._fn.argtypes = [ptr, i64, i64, ptr, ptr, i64, ptr]
        self._fn.restype = None
        self.tile = int(lib.fused_tile())

    def prepare(self, C: np.ndarray) -> Prepared:
        k, d = C.shape
        kp = -(-k // self.tile) * self.tile
        C64 = np.asarray(C, dtype=np.float64)
        ct = np.zeros((d, kp), dtype=np.float32)
        ct[:, :k] = (-2.0 * C64).T
        bias = np.full(kp, np.inf, dtype=np.float32)  # a padded centroid is never the nearest
        bias[:k] = np.einsum("ij,ij->i", C64, C64)
        return Prepared(ct, bias, k)

    def __call__(self, X: np.ndarray, centroids: Prepared, labels: np.ndarray, lo: int, hi: int) -> None:
        """labels[lo:hi] = nearest centroid of X[lo:hi] (X float32 and labels int64, both C-contiguous)."""
        if not (X.dtype == np.float32 and X.flags.c_contiguous and X.ndim == 2):
            raise ValueError("fused_argmin needs a C-contiguous float32 matrix")
        if not (labels.dtype == np.int64 and labels.flags.c_contiguous and len(labels) >= hi):
            raise ValueError("fused_argmin needs a C-contiguous int64 label array covering the rows")
        if X.shape[1] != centroids.ct.shape[0] or not 0 <= lo <= hi <= len(X):
            raise ValueError(
                f"fused_argmin: rows {lo}:{hi} of {X.shape} against {centroids.ct.shape[0]}-d centroids"
            )
        d = X.shape[1]
        self._fn(
            X.ctypes.data + lo * d * X.itemsize,
            hi - lo,
            d,
            centroids.ct.ctypes.data,
            centroids.bias.ctypes.data,
            centroids.ct.shape[1],
            labels.ctypes.data + lo * labels.itemsize,
        )


@functools.cache
def load() -> FusedArgmin | None:
    """The kernel for this machine, built on first use; None when it cannot be built (logged once)."""
    if os.environ.get("PLAYLIST_LAB_NATIVE", "1") == "0":
        return None
    compiler = find_compiler()
    if compiler is None:
        log.info("fused argmin kernel: no C compiler found; k-means uses the BLAS path")
        return None
    key = hashlib.sha256(
        b"\0".join(
            [
                SOURCE.read_bytes(),
                repr(compiler).encode(),
                _cpu_signature().encode(),
                repr(FLAG_SETS).encode(),
            ]
        )
    ).hexdigest()[:16]
    error: OSError | None = None
    for folder in (cache_dir(), Path(tempfile.gettempdir()) / "playlist-lab-native"):  # a read-only home
        path = folder / f"fused_argmin-{key}.so"
        try:
            if not path.exists() and not _build(compiler, path):
                return None
            return FusedArgmin(ctypes.CDLL(str(path)), path)
        except OSError as err:
            error = err
    log.info("fused argmin kernel unavailable (%s); k-means uses the BLAS path", error)
    return None


def self_test(library: str) -> bool:
    """Whether the kernel in `library` gives the exact nearest centroids on a small problem whose shape is not a
    multiple of any tile."""
    kernel = FusedArgmin(ctypes.CDLL(library), Path(library))
    rng = np.random.default_rng(0)
    X = rng.standard_normal((203, 13)).astype(np.float32)
    C = rng.standard_normal((70, 13)).astype(np.float32)
    labels = np.empty(len(X), dtype=np.int64)
    kernel(X, kernel.prepare(C), labels, 0, len(X))
    D = ((X[:, None, :].astype(np.float64) - C[None]) ** 2).sum(-1)
    return bool(np.allclose(D[np.arange(len(X)), labels], D.min(axis=1), rtol=1e-5, atol=1e-5))


if __name__ == "__main__":  # `_works`'s child process
    sys.exit(0 if self_test(sys.argv[1]) else 3)
