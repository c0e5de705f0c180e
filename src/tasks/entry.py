"""Shared start-up for the Hydra entry scripts: project root, clean error messages, run directory."""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from omegaconf.errors import MissingMandatoryValue

from src.data.errors import DataError

log = logging.getLogger("playlist_lab")

PROJECT_ROOT = Path(__file__).resolve().parents[2]
os.environ.setdefault("PROJECT_ROOT", str(PROJECT_ROOT))


def run_dir() -> Path:
    """The Hydra run (or sweep job) directory, created if needed."""
    path = Path(HydraConfig.get().runtime.output_dir)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _fail(message: str) -> None:
    log.error("error: %s", message)
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def clean_errors(task: Callable[..., Any]) -> Callable[..., Any]:
    """Turn bad-input errors into one clear message and exit code 2, instead of a traceback."""

    @functools.wraps(task)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return task(*args, **kwargs)
        except (DataError, FileNotFoundError, KeyError) as exc:
            _fail(exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc))
        except MissingMandatoryValue as exc:
            key = getattr(exc, "full_key", "") or "a required value"
            _fail(f"'{key}' must be set on the command line, e.g. {key}=VALUE")

    return wrapper
