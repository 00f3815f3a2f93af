"""Checks of assets, the checking schedule's overrides, and postcodes' wards: their SQL.

A check (someone confirmed the details by phone, e-mail, a visit, or the organiser did) is a
row of `asset_checks` beside the history entry that set the asset's `last_verified`; the rules
are in assetmap/freshness/checks.py. `check_intervals` holds the coordinators' "check every N
months" for a strand or a kind (assetmap/freshness/schedule.py).
"""

from __future__ import annotations

import sqlite_utils


def insert_check(
    db: sqlite_utils.Database,
    *,
    asset_id: str,
    checked_at: str,
    checked_by: str,
    how: str,
    note: str | None,
    version_id: int | None,
) -> int:
    """Record one check (call inside the write transaction that wrote its history)."""
    cursor = db.conn.execute(
        "INSERT INTO asset_checks (asset_id, checked_at, checked_by, how, note, version_id) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [asset_id, checked_at, checked_by, how, note, version_id],
    )
    return cursor.lastrowid


def checks_of(db: sqlite_utils.Database, asset_id: str) -> list[dict]:
    """Every check of an asset, newest first."""
    sql = (
        "SELECT id, asset_id, checked_at, checked_by, how, note, version_id FROM asset_checks "
        "WHERE asset_id = ? ORDER BY checked_at DESC, id DESC"
    )
    return [dict(row) for row in db.conn.execute(sql, [asset_id])]


# -- the checking schedule's overrides ---------------------------------------------------------


def intervals(db: sqlite_utils.Database) -> dict[tuple[str, str], int]:
    """Every override: {(scope, value): months}, scope being "strand" or "kind"."""
    sql = "SELECT scope, value, months FROM check_intervals"
    return {(row["scope"], row["value"]): row["months"] for row in db.conn.execute(sql)}


def put_interval(
    db: sqlite_utils.Database, scope: str, value: str, months: int | None, *, who: str, when: str
) -> None:
    """Set an override, or remove it (months None). Call inside a write transaction."""
    if months is None:
        db.conn.execute("DELETE FROM check_intervals WHERE scope = ? AND value = ?", [scope, value])
        return
    db.conn.execute(
        "INSERT INTO check_intervals (scope, value, months, set_by, set_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (scope, value) DO UPDATE SET "
        "months = excluded.months, set_by = excluded.set_by, set_at = excluded.set_at",
        [scope, value, months, who, when],
    )
