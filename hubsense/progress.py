"""Progress bars for long batch jobs (replay, simulate, imports): tqdm on a terminal only.

A bar is drawn when the output stream is a TTY, or when asked for (``--progress``); never
into logs, pipes or files unless forced.  tqdm is a collector dependency; where it is
missing (an agent-only install) the iterable is returned unchanged.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from typing import IO, TypeVar

T = TypeVar("T")


def progress(iterable: Iterable[T], *, total: int | float | None = None, desc: str = "", unit: str = "it",
             enabled: bool | None = None, stream: IO[str] | None = None) -> Iterable[T]:
    """``iterable`` wrapped in a tqdm bar if ``enabled`` (None: only if ``stream`` is a TTY)."""
    stream = stream if stream is not None else sys.stderr
    if enabled is None:
        enabled = _isatty(stream)
    if not enabled:
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, total=total, desc=desc, unit=unit, file=stream, dynamic_ncols=True, mininterval=0.5)


def add_progress_argument(parser: argparse.ArgumentParser) -> None:
    """``--progress`` / ``--no-progress``; default: a bar only on a terminal."""
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="show a progress bar (default: only when stderr is a terminal)")


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real stream
        return False
