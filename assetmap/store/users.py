"""User accounts, sign-in attempts, sessions and the audit log: their SQL, and nothing else.

Functions that take part in a larger write (the sign-in throttle's check and its count must be
one transaction) say so, and are run inside the caller's `transaction`; the others open their
own.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

from assetmap.store import assets, dialect
from assetmap.store.assets import now
from assetmap.store.connection import Busy, is_busy

if TYPE_CHECKING:
    import sqlite_utils

T = TypeVar("T")

_USER_COLUMNS = (
    "id, email, password_hash, role, active, session_version, created_at, "
    "password_changed_at, last_login_at"
)


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """A write transaction of accounts, sign-ins and sessions (this module's tables: users,
    sessions, login_attempts, audit_log), all of it kept or none of it.

    On SQLite it is the one write transaction (store.assets.transaction). On PostgreSQL it
    takes a lock of its own (postgres.ACCOUNTS_LOCK), not the assets' write lock, so a sign-in
    never waits behind an import's writes or an edit, only behind another account write. That
    is safe because nothing they do relies on the asset writers taking turns with them: no
    asset writer writes these tables, and no account writer writes any other (so neither ever
    waits for both locks, and they cannot deadlock); their own rules (the sign-in throttle's
    check and count, a session against its account's session_version) involve these tables
    alone, and their writers take turns on the accounts lock; an asset writer that reads an
    account (a plan's owner) reads it as committed, as it could a moment before anyway; and
    `assetmap copy --replace` empties these tables with TRUNCATE, whose table lock waits for
    an account write and makes the next wait for it.
    """
    if not dialect.is_postgresql(db):
        with assets.transaction(db):
            yield db
        return
    from assetmap.store.postgres import ACCOUNTS_LOCK

    db.conn.execute("BEGIN")
    try:
        db.conn.lock_for_writing(ACCOUNTS_LOCK)
        yield db
        db.conn.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise


def _user(row) -> dict | None:
    if row is None:
        return None
    user = dict(row)
    user["active"] = bool(user["active"])
    return user


def get_user(db: sqlite_utils.Database, user_id: int) -> dict | None:
    sql = f"SELECT {_USER_COLUMNS} FROM users WHERE id = ?"
    return _user(db.conn.execute(sql, [user_id]).fetchone())


def get_user_by_email(db: sqlite_utils.Database, email: str) -> dict | None:
    sql = f"SELECT {_USER_COLUMNS} FROM users WHERE email = ?"
    return _user(db.conn.execute(sql, [email]).fetchone())


def list_users(db: sqlite_utils.Database) -> list[dict]:
    sql = f"SELECT {_USER_COLUMNS} FROM users ORDER BY {dialect.by_name(db, 'email')}"
    return [_user(row) for row in db.conn.execute(sql)]


def _audit(db, actor: str, action: str, subject: str | None, details: dict | None, when: str):
    db.conn.execute(
        "INSERT INTO audit_log (at, actor, action, subject, details) VALUES (?, ?, ?, ?, ?)",
        [when, actor, action, subject, json.dumps(details) if details else None],
    )


def create_user(
    db: sqlite_utils.Database, email: str, password_hash: str, role: str, *, actor: str
) -> int:
    """Add an account and record who added it; the email must not be taken."""
    when = now()
    with transaction(db):
        new_id = db.conn.execute(
            "INSERT INTO users (email, password_hash, role, created_at, password_changed_at) "
            "VALUES (?, ?, ?, ?, ?) RETURNING id",
            [email, password_hash, role, when, when],
        ).fetchone()[0]
        _audit(db, actor, "account created", email, {"role": role}, when)
    return new_id


def _end_all_sessions(db, user_id: int, why: str, when: str, keep: str | None = None) -> None:
    """End every session of an account (but `keep`, a token hash), inside the caller's
    transaction. The session version is bumped too: a session signed in while the database was
    too busy to write its row carries the version instead, and is refused once it changes."""
    db.conn.execute(
        "UPDATE users SET session_version = session_version + 1 WHERE id = ?", [user_id]
    )
    db.conn.execute(
        "UPDATE sessions SET ended_at = ?, ended_why = ? "
        "WHERE user_id = ? AND ended_at IS NULL AND token_hash IS DISTINCT FROM ?",
        [when, why, user_id, keep],
    )


def set_password_hash(
    db: sqlite_utils.Database,
    user_id: int,
    password_hash: str,
    *,
    actor: str,
    keep_session: str | None = None,
):
    """Change a password and end the account's sessions, but `keep_session` (a token hash:
    the session of the person changing their own password carries on)."""
    when = now()
    with transaction(db):
        db.conn.execute(
            "UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id = ?",
            [password_hash, when, user_id],
        )
        _end_all_sessions(db, user_id, "password set", when, keep=keep_session)
        email = db.conn.execute("SELECT email FROM users WHERE id = ?", [user_id]).fetchone()[0]
        _audit(db, actor, "password set", email, None, when)


def set_active(db: sqlite_utils.Database, user_id: int, active: bool, *, actor: str):
    """Disable or re-enable an account; disabling ends its sessions."""
    when = now()
    with transaction(db):
        db.conn.execute("UPDATE users SET active = ? WHERE id = ?", [int(active), user_id])
        _end_all_sessions(db, user_id, "account enabled" if active else "account disabled", when)
        email = db.conn.execute("SELECT email FROM users WHERE id = ?", [user_id]).fetchone()[0]
        _audit(db, actor, "account enabled" if active else "account disabled", email, None, when)


def set_role(db: sqlite_utils.Database, user_id: int, role: str, *, actor: str):
    """Change an account's role; its sessions end so the new role applies at once."""
    when = now()
    with transaction(db):
        old = db.conn.execute("SELECT email, role FROM users WHERE id = ?", [user_id]).fetchone()
        db.conn.execute("UPDATE users SET role = ? WHERE id = ?", [role, user_id])
        _end_all_sessions(db, user_id, "role changed", when)
        _audit(db, actor, "role changed", old["email"], {"from": old["role"], "to": role}, when)


def write_now(db: sqlite_utils.Database, work: Callable[[sqlite_utils.Database], T]) -> T:
    """Run `work(db)` in one write transaction if the write lock is free at this moment, and
    return what it returns; Busy at once when it is not. For writes a request can do without
    (a session's last-seen time), which should not wait behind an import as real writes do."""
    if db.conn.in_transaction:
        raise Busy()
    if dialect.is_postgresql(db):
        from assetmap.store.postgres import ACCOUNTS_LOCK

        if not db.conn.begin_immediate_now(ACCOUNTS_LOCK):  # see `transaction`
            raise Busy()
        return _finish(db, work)
    timeout = db.conn.execute("PRAGMA busy_timeout").fetchone()[0]
    db.conn.execute("PRAGMA busy_timeout = 0")
    try:
        try:
            db.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if is_busy(error):
                raise Busy() from error
            raise
        return _finish(db, work)
    finally:
        db.conn.execute(f"PRAGMA busy_timeout = {int(timeout):d}")


def _finish(db: sqlite_utils.Database, work: Callable[[sqlite_utils.Database], T]) -> T:
    """`work(db)` in the write transaction just begun: committed, or rolled back if it raises."""
    try:
        result = work(db)
        db.conn.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    return result


def add_login_attempt(
    db: sqlite_utils.Database, email: str, address: str, when: str, succeeded: bool = False
) -> int:
    """Record a sign-in attempt (inside the caller's transaction). An attempt whose password
    is about to be checked is added as failed and marked as a success afterwards, so that a
    check under way counts against the throttle like a failure."""
    new_id = db.conn.execute(
        "INSERT INTO login_attempts (email, address, succeeded, attempted_at) "
        "VALUES (?, ?, ?, ?) RETURNING id",
        [email, address, int(succeeded), when],
    ).fetchone()[0]
    if succeeded:
        note_sign_in(db, email, when)
    return new_id


def mark_attempt_succeeded(db: sqlite_utils.Database, attempt_id: int, email: str, when: str):
    """The attempt's password was right (inside the caller's transaction)."""
    db.conn.execute("UPDATE login_attempts SET succeeded = 1 WHERE id = ?", [attempt_id])
    note_sign_in(db, email, when)


def note_sign_in(db: sqlite_utils.Database, email: str, when: str) -> None:
    db.conn.execute("UPDATE users SET last_login_at = ? WHERE email = ?", [when, email])


def failures_since(db: sqlite_utils.Database, since: str, *, email=None, address=None) -> list[str]:
    """Times of failed sign-ins since `since` for an email or an address, oldest first.

    For an email only failures after its last success count, so a person who gets in starts
    afresh; for an address every failure counts, so signing in to one account does not reset
    guessing at others.
    """
    if email is not None:
        sql = (
            "SELECT attempted_at FROM login_attempts WHERE email = ? AND succeeded = 0 "
            "AND attempted_at >= ? AND attempted_at > coalesce((SELECT max(attempted_at) "
            "FROM login_attempts WHERE email = ? AND succeeded = 1), '') ORDER BY attempted_at"
        )
        params = [email, since, email]
    else:
        sql = (
            "SELECT attempted_at FROM login_attempts WHERE address = ? AND succeeded = 0 "
            "AND attempted_at >= ? ORDER BY attempted_at"
        )
        params = [address, since]
    return [row[0] for row in db.conn.execute(sql, params)]


_SESSION_COLUMNS = "s.token_hash, s.user_id, s.started_at, s.last_seen_at, s.ended_at, s.ended_why"


def start_session(db: sqlite_utils.Database, user_id: int, token_hash: str, when: str) -> None:
    """A new session for the account (inside the caller's transaction)."""
    db.conn.execute(
        "INSERT INTO sessions (token_hash, user_id, started_at, last_seen_at) VALUES (?, ?, ?, ?)",
        [token_hash, user_id, when, when],
    )


def start_late_session(
    db: sqlite_utils.Database,
    user_id: int,
    session_version: int,
    token_hash: str,
    started: str,
    when: str,
) -> bool:
    """Write the row of a session signed in while the database was too busy to write it
    (inside the caller's transaction). Nothing is written, and False returned, when the account
    has been disabled or had its sessions ended since (its session version moved on), or when
    the session already has a row (ended by signing out, perhaps)."""
    cursor = db.conn.execute(
        "INSERT INTO sessions (token_hash, user_id, started_at, last_seen_at) "
        "SELECT ?, id, ?, ? FROM users WHERE id = ? AND session_version = ? AND active = 1 "
        "ON CONFLICT DO NOTHING",
        [token_hash, started, when, user_id, session_version],
    )
    return cursor.rowcount == 1


_SESSION_AND_USER = (
    f"SELECT {_SESSION_COLUMNS}, "
    + ", ".join(f"u.{column} AS user_{column}" for column in _USER_COLUMNS.split(", "))
    + " FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?"
)


def get_session(db: sqlite_utils.Database, token_hash: str) -> tuple[dict, dict] | None:
    """A session and its account, in one read (this is asked at every signed-in request)."""
    row = db.conn.execute(_SESSION_AND_USER, [token_hash]).fetchone()
    if row is None:
        return None
    found = dict(row)
    user = {key[5:]: found.pop(key) for key in list(found) if key.startswith("user_")}
    found["user_id"] = user["id"]
    return found, _user(user)


def touch_session(db: sqlite_utils.Database, token_hash: str, when: str) -> None:
    """Note that a session was used (inside the caller's transaction)."""
    db.conn.execute(
        "UPDATE sessions SET last_seen_at = ? WHERE token_hash = ? AND ended_at IS NULL",
        [when, token_hash],
    )


def end_session(
    db: sqlite_utils.Database, user_id: int, token_hash: str, why: str, when: str
) -> None:
    """End one session (inside the caller's transaction). A session with no row yet (signed in
    while the database was busy) gets an ended one, so it can never be written as live."""
    db.conn.execute(
        "INSERT INTO sessions (token_hash, user_id, started_at, last_seen_at, ended_at, ended_why) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (token_hash) DO UPDATE SET "
        "ended_at = coalesce(sessions.ended_at, excluded.ended_at), "
        "ended_why = coalesce(sessions.ended_why, excluded.ended_why)",
        [token_hash, user_id, when, when, when, why],
    )


def prune_sessions(db: sqlite_utils.Database, before: str) -> int:
    """Delete sessions that ended, or were last used, before `before` (inside the caller's
    transaction); returns how many."""
    cursor = db.conn.execute(
        "DELETE FROM sessions WHERE coalesce(ended_at, last_seen_at) < ?", [before]
    )
    return cursor.rowcount


def prune_login_attempts(db: sqlite_utils.Database, before: str) -> int:
    """Delete sign-in attempts made before `before` (inside the caller's transaction); returns
    how many."""
    return db.conn.execute("DELETE FROM login_attempts WHERE attempted_at < ?", [before]).rowcount


def live_sessions(db: sqlite_utils.Database, user_id: int) -> list[dict]:
    """An account's sessions that have not ended, oldest first."""
    rows = db.conn.execute(
        f"SELECT {_SESSION_COLUMNS} FROM sessions s "
        "WHERE s.user_id = ? AND s.ended_at IS NULL ORDER BY s.id",
        [user_id],
    )
    return [dict(row) for row in rows]


def audit_entries(db: sqlite_utils.Database, limit: int = 200) -> list[dict]:
    rows = db.conn.execute(
        "SELECT at, actor, action, subject, details FROM audit_log ORDER BY id DESC LIMIT ?",
        [limit],
    )
    entries = []
    for row in rows:
        entry = dict(row)
        entry["details"] = json.loads(entry["details"]) if entry["details"] else None
        entries.append(entry)
    return entries
