"""What every entry point shares: user errors become one line on stderr and a non-zero exit."""
from __future__ import annotations

import sys
from collections.abc import Callable

from .errors import UserError

EXIT_USER_ERROR = 2


def run_task(task: Callable, *args):
    try:
        return task(*args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(EXIT_USER_ERROR)
