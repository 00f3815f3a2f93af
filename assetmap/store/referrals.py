"""Link workers' referral records and the demand counts made from them: their SQL only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from assetmap.people.referrals import WENT, DemandRow
from assetmap.store.assets import now, transaction

if TYPE_CHECKING:
    import sqlite_utils

_COLUMNS = (
    "r.id, r.asset_id, r.plan_id, r.client_ref, r.route, r.referred_on, r.outcome, "
    "r.outcome_reason, r.outcome_on, r.recorded_by, r.created_at, r.updated_at"
)


def add(
    db: sqlite_utils.Database,
    *,
    asset_id: str,
    client_ref: str,
    route: str,
    referred_on: str,
    recorded_by: int,
    plan_id: int | None = None,
) -> int:
    when = now()
    with transaction(db):
        new_id = db.conn.execute(
            "INSERT INTO referrals (asset_id, plan_id, client_ref, route, referred_on, "
            "recorded_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            [asset_id, plan_id, client_ref, route, referred_on, recorded_by, when, when],
        ).fetchone()[0]
    return new_id


def get(db: sqlite_utils.Database, referral_id: int) -> dict | None:
    row = db.conn.execute(
        f"SELECT {_COLUMNS} FROM referrals r WHERE r.id = ?", [referral_id]
    ).fetchone()
    return dict(row) if row else None


def recorded_by(db: sqlite_utils.Database, user_id: int, plan_id: int | None = None) -> list:
    """A link worker's referrals (of one plan, if given), newest first, with asset names."""
    where, params = "r.recorded_by = ?", [user_id]
    if plan_id is not None:
        where += " AND r.plan_id = ?"
        params.append(plan_id)
    sql = (
        f"SELECT {_COLUMNS}, a.name AS asset_name FROM referrals r "
        f"LEFT JOIN assets a ON a.id = r.asset_id WHERE {where} "
        "ORDER BY r.referred_on DESC, r.id DESC"
    )
    return [dict(row) for row in db.conn.execute(sql, params)]


def set_outcome(
    db: sqlite_utils.Database, referral_id: int, outcome: str, reason: str | None, outcome_on: str
) -> None:
    with transaction(db):
        db.conn.execute(
            "UPDATE referrals SET outcome = ?, outcome_reason = ?, outcome_on = ?, "
            "updated_at = ? WHERE id = ?",
            [outcome, reason, outcome_on, now(), referral_id],
        )


def demand(db: sqlite_utils.Database) -> list[DemandRow]:
    """Referrals per asset per month, with outcomes known and how many went: counts only."""
    went = ", ".join(f"'{o}'" for o in sorted(WENT))
    sql = (
        "SELECT r.asset_id, coalesce(a.name, r.asset_id) AS asset_name, "
        "substr(r.referred_on, 1, 7) AS month, count(*) AS referrals, "
        "count(r.outcome) AS with_outcome, "
        f"sum(CASE WHEN r.outcome IN ({went}) THEN 1 ELSE 0 END) AS went "
        "FROM referrals r LEFT JOIN assets a ON a.id = r.asset_id "
        "GROUP BY r.asset_id, a.name, month ORDER BY month DESC, referrals DESC, asset_name"
    )
    return [DemandRow(**dict(row)) for row in db.conn.execute(sql)]
