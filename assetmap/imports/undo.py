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
        conflicts = [{**c, "what": what_happened(c)} for c in blocked.conflicts]
        raise UndoRefused(_why(run_id, blocked, conflicts), conflicts) from None


def changed_since(db, run_id: int) -> list[dict]:
    """The assets that undoing the run would take later changes away from, each with `what`
    happened to it in words (for the run's page, before anyone presses undo)."""
    return [{**c, "what": what_happened(c)} for c in store.changed_since(db, run_id)]


def what_happened(change: dict) -> str:
    """What the latest change to an asset was, in words: "edited by jo@example.org on
    2026-12-06 11:40 UTC", "deleted by undoing run 12 on ...", "changed by import run 4
    (audit.csv) on ...". A coordinator deciding whether to undo anyway needs to know whose
    work would go, not only that something changed."""
    when = _when(change["changed_at"])
    who = change["changed_by"]
    done = {"delete": "deleted", "insert": "added"}.get(change["action"], "changed")
    if change.get("undo_of") is not None:
        return f"{done} by undoing run {change['undo_of']} on {when} ({who})"
    if change.get("by_run") is not None:
        return f"{done} by import run {change['by_run']} ({change['by_file']}) on {when} ({who})"
    if change["action"] == "update":
        return f"edited by {who} on {when}"
    return f"{done} by {who} on {when}"


def _when(stamp: str) -> str:
    """ "2026-12-06T11:40:03Z" as "2026-12-06 11:40 UTC"."""
    return f"{stamp[:10]} {stamp[11:16]} UTC" if len(stamp) >= 16 else stamp


def _why(run_id: int, blocked: store.UndoBlocked, conflicts: list[dict]) -> str:
    if blocked.reason == store.NO_RUN:
        return f"there is no import run {run_id}"
    if blocked.reason == store.ALREADY_UNDONE:
        run = blocked.run
        return f"import run {run_id} was already undone by {run['undone_by']} at {run['undone_at']}"
    shown = "; ".join(f"{c['asset_id']} {c['what']}" for c in conflicts[:10])
    more = f"; and {len(conflicts) - 10} more" if len(conflicts) > 10 else ""
    return (
        f"{len(conflicts)} of the assets this import added or changed "
        f"{'has' if len(conflicts) == 1 else 'have'} been changed since ({shown}{more}). "
        "Undoing the import would undo those changes too; check them, then undo anyway if "
        "that is what you want"
    )
