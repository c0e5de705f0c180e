"""All-or-nothing run directories: a run writes into a hidden staging folder that joins the run directory only
when the run succeeds.

Each artifact is already written atomically (`src/utils/io.py`), but a run that fails half-way (bad input found
by a later stage, an interrupted job) would still leave some artifacts and not others, next to (or over) those
of an earlier run in the same directory. Staging makes the run directory hold either a whole run or what was
there before; Hydra's own `.hydra/` and the log (with the error) are written by Hydra outside the stage.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

STAGE_PREFIX = ".incomplete-"


@contextmanager
def staged(run_dir: str | Path) -> Iterator[Path]:
    """Yield a fresh folder inside `run_dir` to write the run into; on success its files move into `run_dir`
    (replacing same-named files, keeping others), on any error it is removed and the error propagates."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=STAGE_PREFIX, dir=run_dir))
    try:
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    for path in sorted(stage.rglob("*")):
        if path.is_dir() and not path.is_symlink():
            continue
        target = run_dir / path.relative_to(stage)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
    shutil.rmtree(stage, ignore_errors=True)
