"""Plans for clients and the activities on them: their SQL and nothing else.

A link worker's referral records (made from a plan) are in assetmap.store.referrals.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assetmap.store.assets import get_assets, now, transaction

if TYPE_CHECKING:
    import sqlite_utils

_PLAN = (
    "id, client_ref, client_name, intro, created_by, created_at, updated_at, "
    "share_token_hash, share_expires_at, share_revoked_at, walk_from"
)


def create_plan(
    db: sqlite_utils.Database, owner: int, client_ref: str, client_name: str | None
) -> int:
    when = now()
    with transaction(db):
        new_id = db.conn.execute(
            "INSERT INTO plans (client_ref, client_name, created_by, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?) RETURNING id",
            [client_ref, client_name, owner, when, when],
        ).fetchone()[0]
    return new_id


def plans_of(db: sqlite_utils.Database, owner: int) -> list[dict]:
    """A link worker's plans, most recently changed first, with how many activities each has."""
    sql = (
        f"SELECT {_PLAN}, (SELECT count(*) FROM plan_items i WHERE i.plan_id = plans.id) "
        "AS item_count FROM plans WHERE created_by = ? ORDER BY updated_at DESC, id DESC"
    )
    return [dict(row) for row in db.conn.execute(sql, [owner])]


def get_plan(db: sqlite_utils.Database, plan_id: int) -> dict | None:
    row = db.conn.execute(f"SELECT {_PLAN} FROM plans WHERE id = ?", [plan_id]).fetchone()
    return dict(row) if row else None


def plan_by_token_hash(db: sqlite_utils.Database, token_hash: str) -> dict | None:
    row = db.conn.execute(
        f"SELECT {_PLAN} FROM plans WHERE share_token_hash = ?", [token_hash]
    ).fetchone()
    return dict(row) if row else None


def items(db: sqlite_utils.Database, plan_id: int) -> list[dict]:
    """The plan's items in order, each with its asset (archived assets are left out)."""
    rows = [
        dict(r)
        for r in db.conn.execute(
            "SELECT id, asset_id, note, position FROM plan_items WHERE plan_id = ? "
            "ORDER BY position, id",
            [plan_id],
        )
    ]
    assets = get_assets(db, [r["asset_id"] for r in rows])
    return [
        {**row, "asset": assets[row["asset_id"]]}
        for row in rows
        if row["asset_id"] in assets and not assets[row["asset_id"]]["archived"]
    ]


def _touch(db, plan_id: int) -> None:
    db.conn.execute("UPDATE plans SET updated_at = ? WHERE id = ?", [now(), plan_id])


def add_item(db: sqlite_utils.Database, plan_id: int, asset_id: str, note: str | None) -> bool:
    """Add an asset to the end of a plan; False when it is already there (its note is kept
    unless a new one is given)."""
    with transaction(db):
        exists = db.conn.execute(
            "SELECT id FROM plan_items WHERE plan_id = ? AND asset_id = ?", [plan_id, asset_id]
        ).fetchone()
        if exists:
            if note:
                db.conn.execute("UPDATE plan_items SET note = ? WHERE id = ?", [note, exists[0]])
            _touch(db, plan_id)
            return False
        position = db.conn.execute(
            "SELECT coalesce(max(position), 0) + 1 FROM plan_items WHERE plan_id = ?", [plan_id]
        ).fetchone()[0]
        db.conn.execute(
            "INSERT INTO plan_items (plan_id, asset_id, note, position) VALUES (?, ?, ?, ?)",
            [plan_id, asset_id, note, position],
        )
        _touch(db, plan_id)
    return True


def set_note(db: sqlite_utils.Database, plan_id: int, item_id: int, note: str | None) -> None:
    with transaction(db):
        db.conn.execute(
            "UPDATE plan_items SET note = ? WHERE id = ? AND plan_id = ?", [note, item_id, plan_id]
        )
        _touch(db, plan_id)


def remove_item(db: sqlite_utils.Database, plan_id: int, item_id: int) -> None:
    with transaction(db):
        db.conn.execute("DELETE FROM plan_items WHERE id = ? AND plan_id = ?", [item_id, plan_id])
        _touch(db, plan_id)


def set_share(db: sqlite_utils.Database, plan_id: int, token_hash: str, expires: str) -> None:
    """A new share link: the old one, if any, stops working."""
    with transaction(db):
        db.conn.execute(
            "UPDATE plans SET share_token_hash = ?, share_expires_at = ?, share_revoked_at = NULL "
            "WHERE id = ?",
            [token_hash, expires, plan_id],
        )


def set_walk_from(db: sqlite_utils.Database, plan_id: int, postcode: str | None) -> None:
    """The postcode the plan's walking times are measured from (None: no walking times)."""
    with transaction(db):
        db.conn.execute("UPDATE plans SET walk_from = ? WHERE id = ?", [postcode, plan_id])
        _touch(db, plan_id)


def revoke_share(db: sqlite_utils.Database, plan_id: int) -> None:
    with transaction(db):
        db.conn.execute("UPDATE plans SET share_revoked_at = ? WHERE id = ?", [now(), plan_id])


def delete_plan(db: sqlite_utils.Database, plan_id: int) -> None:
    """Delete a plan and its items; referrals made from it stay, detached from the plan."""
    with transaction(db):
        db.conn.execute("UPDATE referrals SET plan_id = NULL WHERE plan_id = ?", [plan_id])
        db.conn.execute("DELETE FROM plan_items WHERE plan_id = ?", [plan_id])
        db.conn.execute("DELETE FROM plans WHERE id = ?", [plan_id])
