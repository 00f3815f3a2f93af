"""Organisers' links, reminders and proposed changes: the SQL behind
assetmap/freshness/organisers.py and assetmap/freshness/moderation.py.

A link row is what a signed token in an e-mail points at: the token carries the row's id, and
the row says which listing it is for, until when, and whether it was used. Reminders record
each e-mail sent (stage 1 and 2) and the coordinators being told (stage 3). A proposal keeps
the listing as the organiser saw it and as they want it, until a coordinator decides.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from assetmap.store.visibility import OPEN

if TYPE_CHECKING:
    import sqlite_utils

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
_json = json.JSONEncoder(ensure_ascii=False, default=str).encode


# Links ------------------------------------------------------------------------------------


def add_link(
    db: sqlite_utils.Database, asset_id: str, email: str, *, created_at: str, expires_at: str
) -> int:
    """A new link for an asset's organiser; returns its id (which the token carries)."""
    new_id = db.conn.execute(
        "INSERT INTO organiser_links (asset_id, email, created_at, expires_at) "
        "VALUES (?, ?, ?, ?) RETURNING id",
        [asset_id, email, created_at, expires_at],
    ).fetchone()[0]
    return new_id


def delete_link(db: sqlite_utils.Database, link_id: int) -> None:
    """Forget a link whose e-mail could not be sent (so the one before it still works)."""
    db.conn.execute("DELETE FROM organiser_links WHERE id = ? AND used_at IS NULL", [link_id])


def get_link(db: sqlite_utils.Database, link_id: int) -> dict | None:
    row = db.conn.execute("SELECT * FROM organiser_links WHERE id = ?", [link_id]).fetchone()
    return dict(row) if row else None


def newest_link_id(db: sqlite_utils.Database, asset_id: str) -> int | None:
    """The id of the last link sent for an asset: the only one of its links still honoured."""
    row = db.conn.execute(
        "SELECT max(id) FROM organiser_links WHERE asset_id = ?", [asset_id]
    ).fetchone()
    return row[0]


def use_link(db: sqlite_utils.Database, link_id: int, used_for: str, when: str) -> bool:
    """Mark a link used; False when it already was (two tabs submitting at once)."""
    cursor = db.conn.execute(
        "UPDATE organiser_links SET used_at = ?, used_for = ? WHERE id = ? AND used_at IS NULL",
        [when, used_for, link_id],
    )
    return cursor.rowcount == 1


# Reminders --------------------------------------------------------------------------------


def assets_with_organisers(db: sqlite_utils.Database) -> list[str]:
    """Ids of open listings (not closed, not archived) that hold an organiser's e-mail."""
    sql = (
        f"SELECT id FROM assets WHERE {OPEN} AND organiser_email IS NOT NULL "
        "AND organiser_email != '' ORDER BY id"
    )
    return [row[0] for row in db.conn.execute(sql)]


def add_reminder(
    db: sqlite_utils.Database,
    asset_id: str,
    stage: int,
    *,
    sent_at: str,
    sent_to: str,
    link_id: int | None,
) -> None:
    db.conn.execute(
        "INSERT INTO organiser_reminders (asset_id, stage, sent_at, sent_to, link_id) "
        "VALUES (?, ?, ?, ?, ?)",
        [asset_id, stage, sent_at, sent_to, link_id],
    )


def reminders_since(db: sqlite_utils.Database, asset_id: str, since: str | None) -> list[dict]:
    """An asset's reminders sent after `since` (a date or time; all when None), oldest first."""
    sql, params = "SELECT * FROM organiser_reminders WHERE asset_id = ?", [asset_id]
    if since is not None:
        sql, params = sql + " AND sent_at > ?", [*params, since]
    rows = db.conn.execute(sql + " ORDER BY id", params)
    return [dict(row) for row in rows]


def escalated_asset_ids(db: sqlite_utils.Database) -> list[tuple[str, str]]:
    """(asset id, when coordinators were told) for every asset ever escalated, newest first."""
    sql = (
        "SELECT asset_id, max(sent_at) AS told_at FROM organiser_reminders WHERE stage = 3 "
        "GROUP BY asset_id ORDER BY told_at DESC, asset_id"
    )
    return [(row[0], row[1]) for row in db.conn.execute(sql)]


# Proposals --------------------------------------------------------------------------------


def _proposal(row) -> dict | None:
    if row is None:
        return None
    proposal = dict(row)
    proposal["base"] = json.loads(proposal["base"])
    proposal["proposed"] = json.loads(proposal["proposed"])
    return proposal


def add_proposal(
    db: sqlite_utils.Database,
    asset_id: str,
    *,
    link_id: int | None,
    organiser_email: str,
    base: dict,
    proposed: dict,
    when: str,
) -> int:
    new_id = db.conn.execute(
        "INSERT INTO change_proposals (asset_id, link_id, organiser_email, base, proposed, "
        "submitted_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        [asset_id, link_id, organiser_email, _json(base), _json(proposed), when],
    ).fetchone()[0]
    return new_id


def get_proposal(db: sqlite_utils.Database, proposal_id: int) -> dict | None:
    row = db.conn.execute("SELECT * FROM change_proposals WHERE id = ?", [proposal_id]).fetchone()
    return _proposal(row)


def proposals(db: sqlite_utils.Database, status: str = PENDING, limit: int = 200) -> list[dict]:
    """Proposals in one status: pending ones oldest first (the queue), decided newest first."""
    order = "submitted_at, id" if status == PENDING else "decided_at DESC, id DESC"
    sql = f"SELECT * FROM change_proposals WHERE status = ? ORDER BY {order} LIMIT ?"
    return [_proposal(row) for row in db.conn.execute(sql, [status, limit])]


def has_pending(db: sqlite_utils.Database, asset_id: str) -> bool:
    sql = "SELECT 1 FROM change_proposals WHERE asset_id = ? AND status = 'pending' LIMIT 1"
    return db.conn.execute(sql, [asset_id]).fetchone() is not None


def decide(
    db: sqlite_utils.Database,
    proposal_id: int,
    status: str,
    *,
    by: str,
    when: str,
    reason: str | None = None,
    version_id: int | None = None,
) -> bool:
    """Record a coordinator's decision; False when the proposal was no longer pending."""
    cursor = db.conn.execute(
        "UPDATE change_proposals SET status = ?, decided_by = ?, decided_at = ?, reason = ?, "
        "version_id = ? WHERE id = ? AND status = 'pending'",
        [status, by, when, reason, version_id, proposal_id],
    )
    return cursor.rowcount == 1
