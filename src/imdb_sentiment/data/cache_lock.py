"""One builder per cache entry, across processes and nodes that share a filesystem.

The lock is a file created with ``O_CREAT | O_EXCL``, which is atomic on local filesystems and on
NFS v3 and later (unlike ``flock``, which some NFS setups ignore). It holds the owner's host and
pid, and the owner touches it every ``HEARTBEAT`` seconds while it builds. A waiter takes over a
lock whose owner is gone: a dead pid on the same host, or no heartbeat for ``STALE_AFTER`` seconds
from another host (a job killed on another node).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from pathlib import Path

log = logging.getLogger(__name__)
HEARTBEAT = 10.0
STALE_AFTER = 120.0


class BuildLock:
    """``with BuildLock(path):`` waits until this process holds the lock, and releases it on exit."""

    def __init__(self, path: Path, poll: float = 0.5):
        self.path, self.poll = Path(path), poll
        self.owner = {"host": socket.gethostname(), "pid": os.getpid(), "token": uuid.uuid4().hex}
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def __enter__(self) -> BuildLock:
        said = False
        while not self._try_create():
            holder = self._read()
            if holder is not None and self._is_stale(holder):
                log.warning("Taking over %s: its owner %s:%s is gone", self.path, holder.get("host"), holder.get("pid"))
                self._break(holder)
                continue
            if not said:
                log.info(
                    "Waiting for %s:%s, which is encoding this cache entry (%s)",
                    (holder or {}).get("host"),
                    (holder or {}).get("pid"),
                    self.path,
                )
                said = True
            time.sleep(self.poll)
        self._beat = threading.Thread(target=self._heartbeat, daemon=True)
        self._beat.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join()
        if (self._read() or {}).get("token") == self.owner["token"]:
            self.path.unlink(missing_ok=True)

    def _try_create(self) -> bool:
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w") as f:
            json.dump(self.owner, f)
        return True

    def _read(self) -> dict | None:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):  # gone, or created but not written yet
            return None

    def _is_stale(self, holder: dict) -> bool:
        if holder.get("host") == self.owner["host"]:
            return not _alive(holder.get("pid"))
        try:
            return time.time() - self.path.stat().st_mtime > STALE_AFTER
        except FileNotFoundError:
            return False

    def _break(self, holder: dict) -> None:
        """Remove the stale lock, unless it changed hands since it was read (then another waiter broke it)."""
        aside = self.path.with_name(f"{self.path.name}.stale-{uuid.uuid4().hex}")
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return
        try:
            moved = json.loads(aside.read_text())
        except (OSError, ValueError):
            moved = None
        if moved is not None and moved.get("token") != holder.get("token"):
            # A fresh owner's lock, taken between our read and the rename: give it back if we can.
            try:
                os.link(aside, self.path)
            except OSError:
                pass
        aside.unlink(missing_ok=True)

    def _heartbeat(self) -> None:
        while not self._stop.wait(HEARTBEAT):
            try:
                os.utime(self.path)
            except OSError:
                return


def _alive(pid) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True
