"""Checks of assets, the checking schedule's overrides, and postcodes' wards: their SQL.

A check (someone confirmed the details by phone, e-mail, a visit, or the organiser did) is a
row of `asset_checks` beside the history entry that set the asset's `last_verified`; the rules
are in assetmap/freshness/checks.py. `check_intervals` holds the coordinators' "check every N
months" for a strand or a kind (assetmap/freshness/schedule.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assetmap.store.visibility import OPEN

if TYPE_CHECKING:
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
    new_id = db.conn.execute(
        "INSERT INTO asset_checks (asset_id, checked_at, checked_by, how, note, version_id) "
        "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        [asset_id, checked_at, checked_by, how, note, version_id],
    ).fetchone()[0]
    return new_id


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


# -- wards -------------------------------------------------------------------------------------


def save_wards(db: sqlite_utils.Database, rows: list[tuple[str, str, str]]) -> None:
    """Keep (postcode, ward code, ward name) rows, replacing a postcode's earlier ward."""
    db.conn.executemany(
        "INSERT INTO postcode_wards (postcode, ward_code, ward_name) VALUES (?, ?, ?) "
        "ON CONFLICT (postcode) DO UPDATE SET ward_code = excluded.ward_code, "
        "ward_name = excluded.ward_name",
        rows,
    )


def replace_wards(db: sqlite_utils.Database, rows: list[tuple[str, str, str]]) -> None:
    """Replace every postcode's ward with (postcode, ward code, ward name) rows; a postcode
    not among them has no ward. Call inside a transaction."""
    db.conn.execute("DELETE FROM postcode_wards")
    save_wards(db, rows)


def wards_in_use(db: sqlite_utils.Database) -> list[tuple[str, str]]:
    """(code, name) of every ward an open asset's postcode is in, by name."""
    sql = (
        "SELECT DISTINCT w.ward_code, w.ward_name FROM assets "
        "JOIN postcode_wards AS w ON w.postcode = assets.postcode "
        f"WHERE {OPEN} ORDER BY w.ward_name, w.ward_code"
    )
    return [(row[0], row[1]) for row in db.conn.execute(sql)]


def sources_in_use(db: sqlite_utils.Database) -> list[str]:
    """Every source (import or data set) an open asset came from, in order."""
    sql = f"SELECT DISTINCT source FROM assets WHERE {OPEN} AND source IS NOT NULL ORDER BY 1"
    return [row[0] for row in db.conn.execute(sql)]


# -- the review queue --------------------------------------------------------------------------

QUEUE_COLUMNS = (
    "id",
    "name",
    "strand",
    "kind",
    "status",
    "last_verified",
    "verified_by",
    "source",
    "postcode",
    "ward_code",
    "ward_name",
)


def queue_candidates(
    db: sqlite_utils.Database,
    *,
    strands: tuple[str, ...] = (),
    kinds: tuple[str, ...] = (),
    wards: tuple[str, ...] = (),
    sources: tuple[str, ...] = (),
    unknown_ward: str = "unknown",
) -> list[tuple]:
    """The open assets (not closed, not archived) matching the filters, with what the queue
    shows and the ward of their postcode (None when unknown), as tuples in QUEUE_COLUMNS
    order. Which are due is decided by
    the schedule (assetmap/freshness/schedule.py), in Python, so that it is said once.

    `wards` are ward codes; `unknown_ward` among them asks for assets with no ward known.
    """
    clauses, params = [OPEN], []
    for column, values in (("strand", strands), ("kind", kinds), ("source", sources)):
        if values:
            clauses.append(f"assets.{column} IN ({', '.join('?' for _ in values)})")
            params.extend(values)
    if wards:
        known = [ward for ward in wards if ward != unknown_ward]
        either = []
        if known:
            either.append(f"w.ward_code IN ({', '.join('?' for _ in known)})")
            params.extend(known)
        if unknown_ward in wards:
            either.append("w.ward_code IS NULL")
        clauses.append("(" + " OR ".join(either) + ")")
    sql = (
        "SELECT assets.id, assets.name, assets.strand, assets.kind, assets.status, "
        "assets.last_verified, assets.verified_by, assets.source, assets.postcode, "
        "w.ward_code, w.ward_name FROM assets "
        "LEFT JOIN postcode_wards AS w ON w.postcode = assets.postcode "
        f"WHERE {' AND '.join(clauses)}"
    )
    cursor = db.conn.cursor()
    cursor.row_factory = None  # plain tuples: thousands of rows, read by position
    return cursor.execute(sql, params).fetchall()


def recent_history(
    db: sqlite_utils.Database, asset_ids: list[str], *, per_asset: int = 3
) -> dict[str, list[dict]]:
    """The latest few history entries of each asset (who, when, what, why), newest first."""
    found: dict[str, list[dict]] = {asset_id: [] for asset_id in asset_ids}
    if not asset_ids:
        return found
    sql = (
        "SELECT asset_id, version_id, action, changed_by, changed_at, reason FROM ("
        "SELECT asset_id, version_id, action, changed_by, changed_at, reason, row_number() "
        "OVER (PARTITION BY asset_id ORDER BY version_id DESC) AS n FROM asset_history "
        f"WHERE asset_id IN ({', '.join('?' for _ in asset_ids)})) AS latest "
        "WHERE n <= ? ORDER BY asset_id, version_id DESC"
    )
    for row in db.conn.execute(sql, [*asset_ids, per_asset]):
        found[row["asset_id"]].append(dict(row))
    return found
