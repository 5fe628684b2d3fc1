"""What every entry point shares: user errors become one line on stderr and a non-zero exit."""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable

from imdb_sentiment.errors import UserError

EXIT_USER_ERROR = 2


def run_task(task: Callable, *args):
    try:
        return task(*args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)
    except BrokenPipeError:  # `report.py ... | head` closed the pipe: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes
        sys.exit(0)
    except OSError as exc:  # a full disk or quota: one line, like a config mistake
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            raise
        where = f" writing {exc.filename}" if exc.filename else ""
        print(
            f"error: {exc.strerror}{where}: make room, or point paths.log_dir / paths.cache_dir at a disk that has it",
            file=sys.stderr,
        )
        sys.exit(EXIT_USER_ERROR)


def parse_assignments(
    argv: list[str], usage: str, keys: tuple[str, ...], repeatable: tuple[str, ...] = (), prefixes: tuple[str, ...] = ()
) -> dict:
    """``key=value`` arguments, split at the first ``=`` and taken as they are.

    Unlike Hydra's override grammar, no quoting rules: review text with commas and apostrophes,
    and multirun folder names (``.../data.batch_size=16,seed=1/...``), pass unchanged. ``keys``
    may be given once, ``repeatable`` ones many times (a list), and any key starting with one of
    ``prefixes``.
    """
    if any(a in ("-h", "--help") for a in argv):
        print(usage)
        sys.exit(0)
    out: dict = {k: [] for k in repeatable}
    for arg in argv:
        key, sep, value = arg.partition("=")
        if not sep or not key:
            raise UserError(f"{arg!r}: arguments are key=value ({usage})")
        if key in repeatable:
            out[key].append(value)
        elif key in keys or key.startswith(prefixes):
            if key in out:
                raise UserError(f"{key} given twice")
            out[key] = value
        else:
            allowed = ", ".join([*keys, *repeatable, *(f"{p}*" for p in prefixes)])
            raise UserError(f"{key}: unknown argument; allowed: {allowed}")
    return out
