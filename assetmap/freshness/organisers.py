"""Organisers keep their own listing: signed links and the reminders that carry them. No Flask.

An organiser has no account. A reminder e-mails them a link to "Is this still right?" for their
one listing. The link is a token signed with the app's secret (itsdangerous) that carries the
id of a row in `organiser_links`; the row says which listing, until when, and whether it was
used. So a link opens one listing only, once, until it expires, and only while it is the
newest sent for that listing: a second reminder's link replaces the first's.

Reminders escalate: the first when a listing falls due for its check, a second after
`SECOND_AFTER_DAYS` without an answer, and after as long again the coordinators are told.
A listing without an organiser's e-mail is never reminded; one with a change waiting for a
coordinator counts as answered.
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from itsdangerous import BadSignature, URLSafeSerializer

from assetmap.freshness import schedule as checking
from assetmap.people import mail, permissions
from assetmap.store import assets as asset_store
from assetmap.store import proposals as store
from assetmap.store import users as user_store

if TYPE_CHECKING:
    import sqlite_utils

SALT = "assetmap.organiser-link"
SECOND_AFTER_DAYS = 14  # a second reminder this long after the first without an answer
TELL_COORDINATORS_AFTER_DAYS = 14  # and the coordinators this long after the second
CONFIRMED, PROPOSED = "confirmed", "proposed"  # what a link was used for

# Why a link is refused, with what the organiser reads on the page that says so.
TAMPERED, EXPIRED, USED, SUPERSEDED = "tampered", "expired", "used", "superseded"
REFUSALS: dict[str, tuple[str, str]] = {
    TAMPERED: (
        "This link is not complete",
        "The address is not one we sent: part of it may be missing or changed. Open the link "
        "from the e-mail again, or copy the whole address into your browser.",
    ),
    EXPIRED: (
        "This link has expired",
        "Links in our reminders work for a limited time. We will send a new one when the "
        "listing is next due for a check; or reply to the e-mail and a coordinator will help.",
    ),
    USED: (
        "This link has already been used",
        "Thank you: we have your answer. Each link works once. If something else has changed, "
        "reply to the e-mail and a coordinator will help.",
    ),
    SUPERSEDED: (
        "A newer link was sent",
        "We have sent a newer e-mail about this listing since this one: please use the link "
        "in the latest e-mail.",
    ),
}


class LinkRefused(Exception):
    """A link that opens nothing; `reason` is one of REFUSALS."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason

    @property
    def title(self) -> str:
        return REFUSALS[self.reason][0]

    @property
    def explanation(self) -> str:
        return REFUSALS[self.reason][1]


def _serializer(secret_key: str | bytes) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=SALT)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def new_link(
    db: sqlite_utils.Database, asset: dict, secret_key: str | bytes, *, days: int, now: datetime
) -> tuple[int, str]:
    """Make a link for the asset's organiser (replacing any earlier one); (its id, the token).

    Call inside a write transaction with the e-mail that carries it, or delete it with
    `store.delete_link` when the e-mail cannot be sent.
    """
    link_id = store.add_link(
        db,
        asset["id"],
        asset["organiser_email"],
        created_at=_iso(now),
        expires_at=_iso(now + timedelta(days=days)),
    )
    return link_id, _serializer(secret_key).dumps({"link": link_id, "asset": asset["id"]})


def open_link(
    db: sqlite_utils.Database, token: str, secret_key: str | bytes, *, now: datetime
) -> tuple[dict, dict]:
    """The link row and the asset a token opens; LinkRefused saying why when it opens nothing.

    Checked in the order an organiser can act on: a changed address first, then a link already
    used (their answer is in), then one replaced by a newer e-mail, then an expired one.
    """
    try:
        payload = _serializer(secret_key).loads(token)
        link = store.get_link(db, int(payload["link"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        raise LinkRefused(TAMPERED) from None
    if link is None or link["asset_id"] != payload.get("asset"):
        raise LinkRefused(TAMPERED)
    asset = asset_store.get_asset(db, link["asset_id"])
    if asset is None or asset["archived"]:
        raise LinkRefused(EXPIRED)
    if link["used_at"]:
        raise LinkRefused(USED)
    if store.newest_link_id(db, link["asset_id"]) != link["id"]:
        raise LinkRefused(SUPERSEDED)
    if link["expires_at"] <= _iso(now):
        raise LinkRefused(EXPIRED)
    return link, asset


# Reminders --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reminder:
    """One thing `reminders send` does: e-mail an organiser (stage 1 or 2), or tell the
    coordinators about a listing whose organiser has not answered (stage 3)."""

    asset: dict
    stage: int
    since: str | None  # when the first reminder of this round went, for the second's words

    @property
    def to(self) -> str:
        return self.asset["organiser_email"]

    @property
    def what(self) -> str:
        return {
            1: "first reminder to the organiser",
            2: "second reminder to the organiser",
            3: "tell the coordinators: the organiser has not answered",
        }[self.stage]


def due_with_organiser(
    db: sqlite_utils.Database, *, now: datetime, schedule: checking.Schedule
) -> list[tuple[dict, date | None]]:
    """The open listings due for their check that hold an organiser's e-mail, with the day
    each fell due (None: never checked)."""
    today = now.astimezone(UTC).date()
    found = []
    for asset in asset_store.get_assets(db, store.assets_with_organisers(db)).values():
        due = checking.due_date(asset, schedule)
        if due is None or due <= today:
            found.append((asset, due))
    return found


def plan_reminders(
    db: sqlite_utils.Database, *, now: datetime, schedule: checking.Schedule
) -> list[Reminder]:
    """What is due today: each listing with an organiser's e-mail that is due for its check,
    at the next stage of its round of reminders (none when that stage is not due yet).

    A round is the reminders sent since the listing fell due; a check ends it (the listing is
    no longer due). Running this twice in a day finds nothing new the second time, because
    each stage waits for the one before it by days.
    """
    planned = []
    for asset, due in due_with_organiser(db, now=now, schedule=schedule):
        if store.has_pending(db, asset["id"]):
            continue  # they answered; a coordinator has their change
        sent = store.reminders_since(db, asset["id"], due.isoformat() if due else None)
        stages = {r["stage"]: r for r in sent}
        first = stages.get(1)
        if first is None:
            planned.append(Reminder(asset, 1, None))
        elif 2 not in stages:
            if _days_since(first["sent_at"], now) >= SECOND_AFTER_DAYS:
                planned.append(Reminder(asset, 2, first["sent_at"]))
        elif 3 not in stages and (
            _days_since(stages[2]["sent_at"], now) >= TELL_COORDINATORS_AFTER_DAYS
        ):
            planned.append(Reminder(asset, 3, first["sent_at"]))
    return sorted(planned, key=lambda r: (r.stage, r.asset["name"].casefold(), r.asset["id"]))


def _days_since(stamp: str, now: datetime) -> int:
    sent = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return (now.astimezone(UTC) - sent).days


def coordinator_addresses(db: sqlite_utils.Database, config) -> list[str]:
    """Who is told when organisers do not answer: active coordinators, else the From address."""
    found = [
        user["email"]
        for user in user_store.list_users(db)
        if user["active"] and user["role"] == permissions.COORDINATOR
    ]
    return found or [config["ASSETMAP_MAIL_FROM"]]


@dataclass
class Outcome:
    """What a run did: each reminder sent, and each that failed with the reason."""

    sent: list[Reminder]
    failed: list[tuple[Reminder, str]]
    told: list[str]  # the coordinators' addresses, when any were told


def send_reminders(
    db: sqlite_utils.Database,
    config,
    planned: list[Reminder],
    *,
    now: datetime,
    link_url: Callable[[str], str],
    queue_url: str,
    send: Callable[[str, str, str], None] | None = None,
) -> Outcome:
    """Send what `plan_reminders` planned, recording each as it goes.

    Each organiser's e-mail gets a new link (replacing the one before); when the e-mail cannot
    be sent the link is forgotten and nothing is recorded, so the next run tries again and the
    earlier link still works. The coordinators get one e-mail listing every listing escalated.
    """
    send = send or (lambda to, subject, body: mail.send(config, to, subject, body))
    secret, days = config["SECRET_KEY"], config["ASSETMAP_ORGANISER_LINK_DAYS"]
    outcome = Outcome([], [], [])
    for reminder in [r for r in planned if r.stage in (1, 2)]:
        with asset_store.transaction(db):
            link_id, token = new_link(db, reminder.asset, secret, days=days, now=now)
        expires = (now + timedelta(days=days)).date()
        subject, body = reminder_email(reminder, link_url(token), expires)
        try:
            send(reminder.to, subject, body)
        except (OSError, smtplib.SMTPException) as error:
            with asset_store.transaction(db):
                store.delete_link(db, link_id)
            outcome.failed.append((reminder, str(error) or error.__class__.__name__))
            continue
        with asset_store.transaction(db):
            store.add_reminder(
                db,
                reminder.asset["id"],
                reminder.stage,
                sent_at=_iso(now),
                sent_to=reminder.to,
                link_id=link_id,
            )
        outcome.sent.append(reminder)
    escalations = [r for r in planned if r.stage == 3]
    if escalations:
        told = coordinator_addresses(db, config)
        subject, body = coordinators_email(escalations, queue_url)
        try:
            for address in told:
                send(address, subject, body)
        except (OSError, smtplib.SMTPException) as error:
            reason = str(error) or error.__class__.__name__
            outcome.failed.extend((r, reason) for r in escalations)
            return outcome
        with asset_store.transaction(db):
            for reminder in escalations:
                store.add_reminder(
                    db,
                    reminder.asset["id"],
                    3,
                    sent_at=_iso(now),
                    sent_to=", ".join(told),
                    link_id=None,
                )
        outcome.sent.extend(escalations)
        outcome.told = told
    return outcome


def reminder_email(reminder: Reminder, url: str, expires: date) -> tuple[str, str]:
    """The subject and body of an organiser's reminder, in plain words."""
    name = reminder.asset["name"]
    lines = ["Hello,", ""]
    if reminder.stage == 2:
        subject = f"Reminder: is the listing for {name} still right?"
        lines += [
            f"We wrote on {_day(reminder.since)} to ask whether the listing for {name} in the "
            "community directory is still right, and have not heard back.",
            "This e-mail's link replaces the one in that e-mail.",
            "",
        ]
    else:
        subject = f"Is the listing for {name} still right?"
        lines += [
            f"{name} is listed in the community directory that link workers and residents use "
            "to find activities near them. It is time to check that the listing is still right.",
            "",
        ]
    lines += [
        "Please open this link: it shows the listing as the public sees it.",
        url,
        "",
        "Choose 'Yes, still right' if nothing has changed, or 'Something has changed' to "
        "correct it; a coordinator looks at changes before they appear. You do not need an "
        f"account. The link works once, until {expires.strftime('%-d %B %Y')}.",
        "",
        f"If you no longer run {name}, or this e-mail reached the wrong person, please reply "
        "and tell us.",
    ]
    return subject, "\n".join(lines)


def coordinators_email(escalations: list[Reminder], queue_url: str) -> tuple[str, str]:
    """One e-mail to the coordinators listing every organiser who has not answered."""
    count = len(escalations)
    subject = (
        "An organiser has not answered two reminders"
        if count == 1
        else f"{count} organisers have not answered two reminders"
    )
    lines = [
        "These listings are due for their check, and their organisers have not answered two "
        "reminders. Please check them another way (phone, e-mail or a visit):",
        "",
    ]
    for reminder in escalations:
        lines.append(
            f"- {reminder.asset['name']} ({reminder.asset['id']}): first reminder sent "
            f"{_day(reminder.since)}"
        )
    lines += ["", f"They are listed in the moderation queue: {queue_url}"]
    return subject, "\n".join(lines)


def _day(stamp: str | None) -> str:
    if not stamp:
        return "an earlier day"
    return date.fromisoformat(stamp[:10]).strftime("%-d %B %Y")


def unanswered(db: sqlite_utils.Database) -> list[tuple[dict, str]]:
    """(asset, when the coordinators were told) for each listing whose organiser did not
    answer two reminders and which nobody has checked since: the moderation queue shows them."""
    told = store.escalated_asset_ids(db)
    found = asset_store.get_assets(db, (asset_id for asset_id, _ in told))
    return [
        (found[asset_id], told_at)
        for asset_id, told_at in told
        if asset_id in found
        and not found[asset_id]["archived"]
        and (found[asset_id]["last_verified"] or "") < told_at[:10]
    ]
