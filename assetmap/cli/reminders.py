"""`assetmap reminders send`: e-mail organisers whose listings are due for their check."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from assetmap.cli import context
from assetmap.cli.db import database

reminders = click.Group("reminders", help="Reminders to organisers to check their listings.")


@reminders.command("send")
@click.option("--dry-run", is_flag=True, help="List what would be sent, and send nothing.")
def send_command(dry_run: bool):
    """E-mail each organiser whose listing is due for its check a link to "Is this still
    right?" (due: ASSETMAP_CHECK_EVERY_MONTHS after its last check, or the shorter period set
    for its strand or kind); a second reminder after 14 days without an answer; after 14 more,
    tell the coordinators. Listings without an organiser's e-mail are left alone.

    Run it daily, for example from cron:
    `30 8 * * * cd /srv/assetmap && .venv/bin/assetmap reminders send`. Running it twice on a
    day sends nothing the second time. Links start with ASSETMAP_SITE_URL.

    Example: assetmap reminders send --dry-run
    """
    from assetmap.freshness import organisers
    from assetmap.freshness import schedule as checking
    from assetmap.people import mail

    config = context.settings()
    now = datetime.now(UTC)
    with database() as db:
        schedule = checking.load(db, config[checking.SETTING])
        planned = organisers.plan_reminders(db, now=now, schedule=schedule)
        if dry_run:
            for reminder in planned:
                to = "the coordinators" if reminder.stage == 3 else reminder.to
                click.echo(f"would send: {reminder.what}, {reminder.asset['name']}, to {to}")
            click.echo(f"{len(planned)} to send; nothing was sent (dry run)")
            click.echo(_why(db, schedule, now, planned))
            return
        if planned and not mail.smtp_configured(config):
            raise click.ClickException(
                f"{len(planned)} reminder(s) are due, but e-mail is not set up: set "
                "ASSETMAP_SMTP_HOST (and ASSETMAP_MAIL_FROM). Nothing was sent."
            )
        # The links are the site's pages' addresses: url_for, in an app with the pages.
        from flask import url_for

        from assetmap import add_pages

        app = context.app()
        add_pages(app)
        with app.test_request_context(base_url=config["ASSETMAP_SITE_URL"]):
            outcome = organisers.send_reminders(
                db,
                config,
                planned,
                now=now,
                link_url=lambda token: url_for(
                    "organisers.still_right", token=token, _external=True
                ),
                queue_url=url_for("moderation.queue", _external=True),
            )
    for reminder in outcome.sent:
        to = ", ".join(outcome.told) if reminder.stage == 3 else reminder.to
        click.echo(f"sent: {reminder.what}, {reminder.asset['name']}, to {to}")
    for reminder, reason in outcome.failed:
        click.echo(f"not sent ({reason}): {reminder.what}, {reminder.asset['name']}", err=True)
    click.echo(f"{len(outcome.sent)} sent, {len(outcome.failed)} not sent")
    with database() as db:
        click.echo(_why(db, schedule, now, planned))
    if outcome.failed:
        raise click.exceptions.Exit(1)


COMMANDS = (reminders,)


def _why(db, schedule, now: datetime, planned: list) -> str:
    """Why the count is what it is: how many listings are due, how many of those have an
    organiser's e-mail (reminders go only to those), and how many of those wait for their
    next stage, so that "0 to send" on a directory full of due listings explains itself."""
    from assetmap.freshness import organisers, queue

    due = queue.summary(db, schedule, now.astimezone(UTC).date()).total
    with_email = len(organisers.due_with_organiser(db, now=now, schedule=schedule))
    waiting = with_email - len(planned)
    return (
        f"{due:,} listing(s) are due a check; {with_email:,} of them have an organiser's "
        f"e-mail (reminders go only to those: add one on the listing's form or in an "
        f"import); {max(waiting, 0):,} of those were reminded already and wait for the next "
        "stage or a coordinator"
    )
