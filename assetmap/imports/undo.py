"""Undoing an import run, with the words a coordinator is told when it cannot be done.

The work (every asset back as it was just before the run, in one transaction, kept in
history) is assetmap.store.imports.undo_run; this module turns its reasons into messages
that say what happened and what to do, for the import page and `assetmap imports undo` alike.
"""

from __future__ import annotations

from assetmap.store import imports as store


class UndoRefused(Exception):
    """An undo that was not done; the message says why and what to do. `conflicts` lists the
    assets changed since the run, when that is why."""

    def __init__(self, message: str, conflicts: list[dict] | None = None):
        super().__init__(message)
        self.conflicts = conflicts or []


def undo_run(db, run_id: int, *, who: str, force: bool = False) -> store.UndoReport:
    """Undo a run (see store.imports.undo_run); UndoRefused, changing nothing, when it
    cannot be done as asked."""
    try:
        return store.undo_run(db, run_id, who=who, force=force)
    except store.UndoBlocked as blocked:
        raise UndoRefused(_why(run_id, blocked), blocked.conflicts) from None


def _why(run_id: int, blocked: store.UndoBlocked) -> str:
    if blocked.reason == store.NO_RUN:
        return f"there is no import run {run_id}"
    if blocked.reason == store.ALREADY_UNDONE:
        run = blocked.run
        return f"import run {run_id} was already undone by {run['undone_by']} at {run['undone_at']}"
    conflicts = blocked.conflicts
    names = ", ".join(c["asset_id"] for c in conflicts[:10])
    more = f" and {len(conflicts) - 10} more" if len(conflicts) > 10 else ""
    return (
        f"{len(conflicts)} of the assets this import added or changed "
        f"{'has' if len(conflicts) == 1 else 'have'} been changed again since "
        f"({names}{more}). Undoing the import would undo those changes too; check "
        "them, then undo anyway if that is what you want"
    )
