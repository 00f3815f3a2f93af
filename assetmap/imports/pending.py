"""Uploaded files waiting for a coordinator to confirm their import.

The import page previews a file in one request and imports it in another, perhaps minutes
later and on another server process. So the upload is kept on disk under
instance/imports/pending/<token>, with what the preview needs beside it (who uploaded it, its
SHA-256, the options chosen, the preview report and the rejected rows), and the pipeline runs
again on confirm, refusing the file if its SHA-256 is no longer the one previewed. Tokens are
random and checked against a strict pattern, so a token can never name another file. Nothing
here knows about Flask.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

MAX_AGE_SECONDS = 24 * 3600
_TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")


@dataclass
class Pending:
    """One uploaded file and what its preview found."""

    token: str
    directory: Path
    file_name: str
    sha256: str
    size: int
    uploaded_by: str
    uploaded_at: float
    options: dict = field(default_factory=dict)
    report: dict | None = None

    @property
    def path(self) -> Path:
        return self.directory / self.token

    @property
    def mapping_path(self) -> Path:
        return self.directory / f"{self.token}.mapping"

    @property
    def rejected_path(self) -> Path:
        return self.directory / f"{self.token}.rejected.csv"

    @property
    def meta_path(self) -> Path:
        return self.directory / f"{self.token}.json"

    def save(self) -> None:
        """Write what is known about the upload (atomically, so a reader never sees half)."""
        meta = {
            "file_name": self.file_name,
            "sha256": self.sha256,
            "size": self.size,
            "uploaded_by": self.uploaded_by,
            "uploaded_at": self.uploaded_at,
            "options": self.options,
            "report": self.report,
        }
        partial = self.meta_path.with_name(self.meta_path.name + ".partial")
        partial.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        partial.replace(self.meta_path)


class PendingUploads:
    """The pending/ folder: save an upload, find it by token, throw it away."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)

    def save(
        self, stream: IO[bytes], file_name: str, *, uploaded_by: str, options: dict
    ) -> Pending:
        """Copy an upload to disk in chunks, hashing it on the way."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.discard_old()
        token = secrets.token_urlsafe(16)
        digest = hashlib.sha256()
        size = 0
        target = self.directory / token
        with target.open("wb") as out:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        pending = Pending(
            token,
            self.directory,
            Path(file_name).name or "upload",
            digest.hexdigest(),
            size,
            uploaded_by,
            time.time(),
            options,
        )
        pending.save()
        return pending

    def save_mapping(self, pending: Pending, stream: IO[bytes]) -> Path:
        with pending.mapping_path.open("wb") as out:
            shutil.copyfileobj(stream, out)
        return pending.mapping_path

    def get(self, token: str, *, uploaded_by: str) -> Pending | None:
        """The pending upload with this token, if it is this person's and has not expired."""
        if not _TOKEN.fullmatch(token or ""):
            return None
        meta_path = self.directory / f"{token}.json"
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if meta.get("uploaded_by") != uploaded_by:
            return None
        if time.time() - meta.get("uploaded_at", 0) > MAX_AGE_SECONDS:
            self.discard(token)
            return None
        return Pending(token, self.directory, **meta)

    def discard(self, token: str) -> None:
        """Remove an upload and everything kept beside it."""
        if not _TOKEN.fullmatch(token or ""):
            return
        for suffix in ("", ".json", ".mapping", ".rejected.csv", ".json.partial"):
            (self.directory / f"{token}{suffix}").unlink(missing_ok=True)

    def discard_old(self) -> None:
        """Remove uploads nobody confirmed within a day."""
        if not self.directory.is_dir():
            return
        cutoff = time.time() - MAX_AGE_SECONDS
        for entry in os.scandir(self.directory):
            name = entry.name.split(".")[0]
            if _TOKEN.fullmatch(name) and entry.stat().st_mtime < cutoff:
                Path(entry.path).unlink(missing_ok=True)
