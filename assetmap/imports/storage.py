"""The files imports keep beside the database, in instance/imports: the archived copy of each
imported file (so a run can be checked against what was sent), and the uploads waiting in
pending/ for a coordinator to confirm (assetmap.imports.pending).

Everything kept there counts against one quota (ASSETMAP_IMPORT_FILES_MB), checked before an
upload is kept, so uploads cannot fill the disk the database lives on. Archived copies go with
their run: `prune` forgets the copies of runs older than a number of days, and a copy that no
run refers to (left by an import killed before it committed) is removed by the next import.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from assetmap.store import imports as store
from assetmap.store.assets import transaction

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_ARCHIVED_NAME = re.compile(r"[0-9a-f]{16}-")  # as `archive` names them


class NoRoom(Exception):
    """The import files kept here would go over the quota; the message says what to do."""


class AnotherImport(Exception):
    """Another import is being checked or saved on this server; the message says so."""

    def __init__(self):
        super().__init__(
            "Another import is being checked or saved just now, and this server takes one at "
            "a time so that searches stay quick. Nothing was imported; try again in a minute."
        )


@contextmanager
def one_at_a_time(directory: Path) -> Iterator[None]:
    """Hold the server's one import place (a lock on a file in the folder) for the block.

    Reading and checking a large file takes a core for a minute; two or more at once left no
    web worker free for searches. The lock is the operating system's, so it is released
    however the process ends. AnotherImport at once if it is taken: nobody waits minutes.
    """
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".importing", "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AnotherImport() from None
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@dataclass
class Pruned:
    """Files removed, and the bytes they took."""

    files: int = 0
    freed: int = 0

    def add(self, size: int) -> None:
        self.files += 1
        self.freed += size

    def summary(self) -> str:
        return f"{self.files} {'file' if self.files == 1 else 'files'} removed, {_mb(self.freed)}"


def archive(
    path: Path, sha256: str, file_name: str, archive_dir: Path | None
) -> tuple[Path | None, bool]:
    """Keep the original file, named by its hash; returns it and whether this call made it."""
    if archive_dir is None:
        return None, False
    archive_dir.mkdir(parents=True, exist_ok=True)
    safe = _UNSAFE_NAME.sub("-", Path(file_name).name).strip("-.")[:80] or "import"
    target = archive_dir / f"{sha256[:16]}-{safe}"
    if target.exists():
        return target, False
    partial = target.with_name(target.name + ".partial")
    shutil.copyfile(path, partial)
    partial.replace(target)
    return target, True


def remove_unclaimed(archive_dir: Path, claimed: set[str]) -> Pruned:
    """Remove archived copies (and half-made ones) that no run refers to.

    Call it only while holding the database's write lock: an import makes its copy inside its
    write transaction, so no import is then between making a copy and committing its run.
    """
    pruned = Pruned()
    if not archive_dir.is_dir():
        return pruned
    for entry in os.scandir(archive_dir):
        if _ARCHIVED_NAME.match(entry.name) and entry.is_file() and entry.name not in claimed:
            pruned.add(entry.stat().st_size)
            Path(entry.path).unlink(missing_ok=True)
    return pruned


def used_bytes(directory: Path) -> int:
    """The size of every file kept under the folder."""
    total = 0
    for root, _, files in os.walk(directory):
        for name in files:
            with suppress(FileNotFoundError):  # removed meanwhile by another request
                total += os.stat(os.path.join(root, name)).st_size
    return total


def check_room(directory: Path, incoming: int, quota_bytes: int) -> None:
    """NoRoom when `incoming` more bytes would take the folder over its quota."""
    used = used_bytes(directory)
    if used + incoming <= quota_bytes:
        return
    raise NoRoom(
        f"There is no room for this file: import files kept on the server (archived imports "
        f"and previews waiting) take {_mb(used)} of the {_mb(quota_bytes)} allowed, and this "
        f"upload is {_mb(incoming)}. Cancel previews you no longer need, or ask an admin to "
        "remove old archived imports with `assetmap imports prune` or to raise "
        "ASSETMAP_IMPORT_FILES_MB. Nothing was imported."
    )


def _mb(size: int) -> str:
    return f"{size / 1024**2:,.1f} MB"


def remove_archives(archive_dir: Path, names: set[str], claimed: set[str]) -> Pruned:
    """Remove the archived copies named (those still claimed by a run are kept)."""
    pruned = Pruned()
    for name in names - claimed:
        if not _ARCHIVED_NAME.match(name) or "/" in name:
            continue
        target = archive_dir / name
        if target.is_file():
            pruned.add(target.stat().st_size)
            target.unlink(missing_ok=True)
    return pruned


def prune(db, archive_dir: Path, *, keep_days: int, now: datetime | None = None) -> Pruned:
    """Remove the archived copies of runs older than `keep_days` (the runs, their history
    and their undo stay; only the copy of the file goes) and copies no run refers to."""
    now = now or datetime.now(UTC)
    before = (now - timedelta(days=keep_days)).replace(microsecond=0).isoformat()
    before = before.replace("+00:00", "Z")
    with transaction(db):  # the write lock: no import is between its copy and its commit
        names = store.forget_archives(db, before)
        claimed = store.archived_names(db)
        pruned = remove_archives(archive_dir, names, claimed)
        orphans = remove_unclaimed(archive_dir, claimed)
    return Pruned(pruned.files + orphans.files, pruned.freed + orphans.freed)
