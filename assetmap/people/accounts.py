"""Accounts: password rules and hashing, the sign-in throttle, and sessions. No Flask import.

Passwords are hashed with scrypt (werkzeug.security), a memory-hard scheme with a random
salt per password. The throttle follows the usual guidance for a service holding personal
data: after a number of failed sign-ins in a window the account is locked until the window
has passed, and an address that fails too often is refused for a while, so guessing is slow
whichever way it is spread.

The throttle's check and its count are one write transaction: an attempt is recorded (as a
failure until its password proves right) before its password is checked, so twenty guesses
sent at once still get only five checks. The check itself, a tenth of a second of scrypt,
runs outside the transaction.

A session is a row in the `sessions` table; the browser's cookie holds only a random token
naming it, so signing out ends the session for good, even for a copy of the cookie. Changing
a password or a role, or disabling an account, ends all of its sessions.

When another writer (a long import) holds the database past every retry (the busy timeout
and pauses of store.connection), sign-in does not fail a right password for want of its
bookkeeping: the attempt is kept in memory (`UnrecordedAttempts`) and written later, and the
session is carried by the signed cookie until its row can be written (`LATE_SESSION_LIMIT`).
The throttle stays safe: while the database cannot record, each process checks at most one
password per account that it has not yet written, and a wrong one is answered "busy, try
again" (a Refusal for reason "busy"), as is any further attempt on that account.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING

from werkzeug.security import check_password_hash, generate_password_hash

from assetmap.people.permissions import ROLE_SLUGS
from assetmap.store import Busy
from assetmap.store import users as store
from assetmap.store.users import transaction  # accounts and sessions: their own lock

if TYPE_CHECKING:
    import sqlite_utils

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 12
HASH_METHOD = "scrypt"

# A session not used for this long has ended; ended ones are deleted this long after.
SESSION_IDLE_LIMIT = timedelta(days=30)
# How often a session's last-seen time is written (not at every request).
SESSION_TOUCH_INTERVAL = timedelta(minutes=5)
# Sign-in attempts are kept this long, for an investigation of guessing; the throttle needs
# only its window.
LOGIN_ATTEMPTS_KEPT = timedelta(days=90)
# How long a session signed in while the database was busy may go without its row.
LATE_SESSION_LIMIT = timedelta(hours=1)


@cache
def _dummy_hash() -> str:
    """Verifying against this makes a sign-in with an unknown email take as long as a wrong
    password, so timing does not tell which emails have accounts. Made on first use, since it
    costs a tenth of a second that every command would otherwise pay at start."""
    return generate_password_hash(secrets.token_urlsafe(16), method=HASH_METHOD)


class AccountError(ValueError):
    """Something about an account request that the person can fix; the message says how.

    `field` names the form field the message belongs beside, when there is one.
    """

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=HASH_METHOD)


def password_problem(password: str, email: str = "") -> str | None:
    """Why a new password is not acceptable, or None when it is."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return (
            f"Use at least {MIN_PASSWORD_LENGTH} characters; three random words "
            "make a strong password that is easy to remember."
        )
    if email and password.lower() == email.lower():
        return "Do not use your email address as your password."
    return None


def generate_password() -> str:
    """A random password of about 100 bits, for new and demo accounts."""
    return secrets.token_urlsafe(16)


def normalise_email(email: str) -> str:
    email = (email or "").strip()
    if "@" not in email or email.startswith("@") or email.endswith("@") or " " in email:
        raise AccountError(f"{email!r} is not an email address; enter one such as name@example.org")
    return email


def create_account(
    db: sqlite_utils.Database, email: str, role: str, password: str, *, actor: str
) -> int:
    """Add an account after checking the email, the role and the password."""
    email = normalise_email(email)
    if role not in ROLE_SLUGS:
        raise AccountError(f"{role!r} is not a role; use one of {', '.join(sorted(ROLE_SLUGS))}")
    problem = password_problem(password, email)
    if problem:
        raise AccountError(problem)
    if store.get_user_by_email(db, email):
        raise AccountError(f"There is already an account for {email}.")
    return store.create_user(db, email, hash_password(password), role, actor=actor)


def set_password(
    db, user: dict, new_password: str, *, actor: str, keep_session: str | None = None
) -> dict:
    """Give an account a new password, ending its sessions but `keep_session` (a session
    token); returns the fresh account."""
    problem = password_problem(new_password, user["email"])
    if problem:
        raise AccountError(problem, "new")
    store.set_password_hash(
        db,
        user["id"],
        hash_password(new_password),
        actor=actor,
        keep_session=token_hash(keep_session) if keep_session else None,
    )
    return store.get_user(db, user["id"])


def change_own_password(
    db, user: dict, current: str, new: str, confirm: str, *, session_token: str | None = None
) -> dict:
    """Change one's own password, which needs the current one; the session `session_token`
    carries on and the account's others end. Returns the fresh account."""
    if not check_password_hash(user["password_hash"], current):
        raise AccountError("That is not your current password.", "current")
    if new != confirm:
        raise AccountError("The two new passwords are not the same.", "confirm")
    return set_password(db, user, new, actor=user["email"], keep_session=session_token)


@dataclass(frozen=True)
class ThrottlePolicy:
    account_failures: int = 5
    address_failures: int = 20
    window: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class Refusal:
    """Why a sign-in is refused without its password being checked, and until when.

    `reason` is "account" or "address" (too many failures), or "busy": the database was too
    busy to record the attempt, so it could not be checked safely (or it was checked, kept in
    memory, and was wrong: it is answered the same way)."""

    reason: str
    until: datetime

    def message(self) -> str:
        when = self.until.strftime("%H:%M")
        if self.reason == "busy":
            return (
                "The service is busy just now, so you could not be signed in. "
                "Try again in a minute."
            )
        if self.reason == "account":
            return (
                "This account is locked for now after too many failed sign-ins. "
                f"Try again after {when} UTC, or ask an admin to set a new password."
            )
        return f"Too many failed sign-ins have come from your network. Try again after {when} UTC."


@dataclass(frozen=True)
class SignIn:
    """A right password: the account, and the token of the session it has started.

    `recorded` is False when the database was too busy to write the session's row: the caller
    keeps `late` in the signed session cookie, to vouch for the session until its row is
    written (see session_user)."""

    user: dict
    session_token: str
    started: str
    recorded: bool = True

    @property
    def late(self) -> dict | None:
        if self.recorded:
            return None
        return {
            "user": self.user["id"],
            "version": self.user["session_version"],
            "started": self.started,
        }


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


@dataclass
class _Unwritten:
    email: str
    address: str
    when: str
    succeeded: bool | None  # None while its password is being checked
    attempt_id: int | None = None  # a recorded attempt whose success is still to be written


class UnrecordedAttempts:
    """Sign-in attempts this process could not write because the database was busy.

    They count against the throttle here until written, and are written at the next sign-in
    that finds the database free. Each process keeps its own (one per app), so while the
    database stays locked an account gets at most one unwritten check per process.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._entries: list[_Unwritten] = []

    def failures(self, since: str, *, email=None, address=None) -> tuple[list[str], str]:
        """Times of unwritten failures (and checks under way) since `since` for an email or an
        address, and the time of the email's latest unwritten success ('' when none)."""
        with self._lock:
            if email is not None:
                mine = [e for e in self._entries if e.email.lower() == email.lower()]
            else:
                mine = [e for e in self._entries if e.address == address]
            failed = [e.when for e in mine if not e.succeeded and e.when >= since]
            succeeded = [e.when for e in mine if e.succeeded] if email is not None else []
        return failed, max(succeeded, default="")

    def begin(self, email: str, address: str, when: str, since: str) -> _Unwritten | None:
        """Note a check about to be made, or None when this account already has an unwritten
        failure (or check under way) in the window: then it must wait for the database."""
        with self._lock:
            for entry in self._entries:
                if (
                    entry.email.lower() == email.lower()
                    and not entry.succeeded
                    and entry.when >= since
                ):
                    return None
            entry = _Unwritten(email, address, when, None)
            self._entries.append(entry)
            return entry

    def settle(self, entry: _Unwritten, succeeded: bool) -> None:
        with self._lock:
            entry.succeeded = succeeded

    def note_success(self, attempt_id: int, email: str, address: str, when: str) -> None:
        """A recorded attempt whose password was right, when the database was too busy to
        mark it so (it counts as a failure until then)."""
        with self._lock:
            self._entries.append(_Unwritten(email, address, when, True, attempt_id))

    def to_write(self) -> list[_Unwritten]:
        with self._lock:
            return [e for e in self._entries if e.succeeded is not None]

    def written(self, entries: list[_Unwritten]) -> None:
        with self._lock:
            self._entries = [e for e in self._entries if all(e is not w for w in entries)]


# For callers that do not keep their own (the web app keeps one per app).
UNRECORDED = UnrecordedAttempts()


def _write_unrecorded(db: sqlite_utils.Database, entries: list[_Unwritten]) -> None:
    """Write attempts kept in memory (inside the caller's transaction)."""
    for entry in entries:
        if entry.attempt_id is not None:
            store.mark_attempt_succeeded(db, entry.attempt_id, entry.email, entry.when)
        else:
            store.add_login_attempt(db, entry.email, entry.address, entry.when, entry.succeeded)


def throttled(
    db: sqlite_utils.Database,
    email: str,
    address: str,
    policy: ThrottlePolicy,
    now: datetime | None = None,
    unrecorded: UnrecordedAttempts | None = None,
) -> Refusal | None:
    """A refusal when the account or the address has failed too often in the window
    (counting, with `unrecorded`, the failures not yet written)."""
    now = now or datetime.now(UTC)
    since = _stamp(now - policy.window)
    account = store.failures_since(db, since, email=email)
    by_address = store.failures_since(db, since, address=address)
    if unrecorded is not None:
        extra, last_success = unrecorded.failures(since, email=email)
        account = sorted(t for t in account + extra if t > last_success)
        by_address = sorted(by_address + unrecorded.failures(since, address=address)[0])
    for reason, failures, limit in (
        ("account", account, policy.account_failures),
        ("address", by_address, policy.address_failures),
    ):
        if len(failures) >= limit:
            # Locked until the oldest failure that still counts leaves the window.
            return Refusal(reason, _parse(failures[-limit]) + policy.window)
    return None


def _password_is_right(user: dict | None, password: str) -> bool:
    dummy = _dummy_hash()  # made before the check, so its first making times both cases alike
    if user is None:
        check_password_hash(dummy, password)
        return False
    return check_password_hash(user["password_hash"], password) and user["active"]


def authenticate(
    db: sqlite_utils.Database,
    email: str,
    password: str,
    address: str,
    policy: ThrottlePolicy,
    now: datetime | None = None,
    unrecorded: UnrecordedAttempts | None = None,
) -> SignIn | Refusal | None:
    """Sign in: a SignIn with a new session, None when the email or password is wrong (a
    disabled account too), or a Refusal: when throttled, or when the database was too busy to
    record the attempt and the password was not shown to be right.

    Every attempt is recorded, whatever its outcome, so the throttle and an investigation
    both see it; it is recorded before its password is checked, in one transaction with the
    throttle's count, so that parallel guesses cannot all pass the count before any is added.
    """
    now = now or datetime.now(UTC)
    when = _stamp(now)
    email = (email or "").strip()
    unrecorded = UNRECORDED if unrecorded is None else unrecorded
    pending = unrecorded.to_write()

    def reserve(db) -> tuple[int, dict | None] | Refusal:
        _write_unrecorded(db, pending)
        refusal = throttled(db, email, address, policy, now)
        if refusal:
            return refusal
        attempt_id = store.add_login_attempt(db, email, address, when)
        return attempt_id, store.get_user_by_email(db, email)

    try:
        with transaction(db):
            reserved = reserve(db)
    except Busy:
        return _authenticate_unrecorded(db, email, password, address, policy, now, unrecorded)
    unrecorded.written(pending)
    if isinstance(reserved, Refusal):
        return reserved
    attempt_id, user = reserved
    if not _password_is_right(user, password):
        return None  # the attempt is already recorded as a failure

    token = new_session_token()

    try:
        with transaction(db):
            store.mark_attempt_succeeded(db, attempt_id, email, when)
            store.start_session(db, user["id"], token_hash(token), when)
            store.prune_sessions(db, _stamp(now - SESSION_IDLE_LIMIT))
            store.prune_login_attempts(db, _stamp(now - LOGIN_ATTEMPTS_KEPT))
    except Busy:
        log.warning("database busy: a right sign-in is kept in memory, to be written later")
        unrecorded.note_success(attempt_id, email, address, when)
        return SignIn(user, token, when, recorded=False)
    return SignIn(user, token, when)


def _authenticate_unrecorded(
    db, email, password, address, policy, now, unrecorded
) -> SignIn | Refusal | None:
    """Sign-in while the database cannot record the attempt (reading still works)."""
    when, since = _stamp(now), _stamp(now - policy.window)
    refusal = throttled(db, email, address, policy, now, unrecorded)
    if refusal:
        return refusal
    busy = Refusal("busy", now + timedelta(minutes=1))
    entry = unrecorded.begin(email, address, when, since)
    if entry is None:
        return busy
    user = store.get_user_by_email(db, email)
    ok = _password_is_right(user, password)
    unrecorded.settle(entry, ok)
    log.warning(
        "database busy: a %s sign-in attempt is kept in memory, to be written later",
        "right" if ok else "wrong",
    )
    if not ok:
        return busy
    return SignIn(user, new_session_token(), when, recorded=False)


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the database keeps of a session token: enough to find it, not to use it."""
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(db: sqlite_utils.Database, user_id: int, now: datetime | None = None) -> str:
    """A new session for an account, outside of signing in (tests, tools); its token."""
    token = new_session_token()
    when = _stamp(now or datetime.now(UTC))
    with transaction(db):
        store.start_session(db, user_id, token_hash(token), when)
    return token


def end_session(db: sqlite_utils.Database, user_id: int, token: str, why: str = "signed out"):
    """End one session for good; Busy when the database stayed too busy to say so."""
    when = _stamp(datetime.now(UTC))
    with transaction(db):
        store.end_session(db, user_id, token_hash(token), why, when)


def session_user(
    db: sqlite_utils.Database, token: str, late: dict | None = None, now: datetime | None = None
) -> dict | None:
    """The account a session token signs in, or None when the session has ended, has been
    idle too long, or its account is disabled.

    `late` (SignIn.late, kept in the signed cookie) vouches for a session signed in while the
    database was too busy to write its row: the row is written now if it can be, and until
    then the session is accepted only while its account's session version is unchanged, and
    for at most LATE_SESSION_LIMIT. Once the session has a row (live or ended), the row decides.
    """
    now = now or datetime.now(UTC)
    hashed = token_hash(token)
    found = store.get_session(db, hashed)
    if found is None:
        return _late_session_user(db, hashed, late, now)
    row, user = found
    if row["ended_at"] or not user["active"]:
        return None
    last_seen = _parse(row["last_seen_at"])
    if last_seen < now - SESSION_IDLE_LIMIT:
        return None
    if last_seen < now - SESSION_TOUCH_INTERVAL:
        with suppress(Busy):  # worth a try, not worth a wait
            store.write_now(db, lambda db: store.touch_session(db, hashed, _stamp(now)))
    return user


def _late_session_user(db, hashed: str, late: dict | None, now: datetime) -> dict | None:
    if not late:
        return None
    try:
        started = late["started"]
        started_at = _parse(started)
        user = store.get_user(db, int(late["user"]))
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    if (
        user is None
        or not user["active"]
        or user["session_version"] != late.get("version")
        or not now - LATE_SESSION_LIMIT < started_at <= now
    ):
        return None
    try:
        store.write_now(
            db,
            lambda db: store.start_late_session(
                db, user["id"], user["session_version"], hashed, started, _stamp(now)
            ),
        )
    except Busy:
        return user  # still busy: the cookie carries it a while longer
    # Written now, or refused because a row appeared meanwhile (signed out, say): the row decides.
    found = store.get_session(db, hashed)
    return user if found and not found[0]["ended_at"] and found[1]["active"] else None
