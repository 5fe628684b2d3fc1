"""Peak memory of this process, as summary.json and the benchmarks record it."""

from __future__ import annotations

import re
import resource
from pathlib import Path


def peak_rss_mib() -> int:
    """The most resident memory this process image has held, in MiB.

    Linux's ``VmHWM`` starts afresh at exec. ``ru_maxrss`` does not: a process started by a larger
    parent (a benchmark that encoded the data first, a launcher) reports the parent's peak instead.
    """
    try:
        status = Path("/proc/self/status").read_text()
        return int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)[1]) // 1024
    except (OSError, TypeError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024  # KiB on Linux; elsewhere a fallback
