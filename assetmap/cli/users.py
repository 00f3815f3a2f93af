"""`assetmap users ...`: accounts from the command line, and the demo accounts for `make run`."""

from __future__ import annotations

import getpass
import os
from pathlib import Path

import click

from assetmap.cli.db import database
from assetmap.people import permissions
from assetmap.store import users as store

users = click.Group("users", help="Manage user accounts (admin, coordinator, link_worker).")

DEMO_ACCOUNTS = (
    ("admin@demo.assetmap.invalid", permissions.ADMIN),
    ("coordinator@demo.assetmap.invalid", permissions.COORDINATOR),
    ("linkworker@demo.assetmap.invalid", permissions.LINK_WORKER),
)


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _password(ask: bool, email: str) -> tuple[str, bool]:
    """A password typed twice at the prompt, or a generated one (and whether it was)."""
    from assetmap.people import accounts

    if not ask:
        return accounts.generate_password(), True
    while True:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        problem = accounts.password_problem(password, email)
        if not problem:
            return password, False
        click.echo(problem, err=True)


def _user_or_fail(db, email: str) -> dict:
    user = store.get_user_by_email(db, email.strip())
    if user is None:
        raise click.ClickException(f"there is no account for {email}; see `assetmap users list`")
    return user


@users.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(sorted(permissions.ROLE_SLUGS)))
@click.option("--ask", is_flag=True, help="Type the password instead of generating one.")
def create_command(email: str, role: str, ask: bool):
    """Add an account. A strong password is generated and printed once unless --ask.

    Example: assetmap users create sam@council.example --role coordinator
    """
    from assetmap.people import accounts

    password, generated = _password(ask, email)
    with database() as db:
        try:
            accounts.create_account(db, email, role, password, actor=_actor())
        except accounts.AccountError as e:
            raise click.ClickException(str(e)) from None
    click.echo(f"created {email} ({role})")
    if generated:
        click.echo(f"password: {password}")


@users.command("list")
def list_command():
    """List accounts with role, state and last sign-in.

    Example: assetmap users list
    """
    with database() as db:
        rows = store.list_users(db)
    if not rows:
        click.echo("no accounts yet; add one with `assetmap users create EMAIL --role admin`")
    for user in rows:
        state = "active" if user["active"] else "disabled"
        click.echo(
            f"{user['email']}\t{user['role']}\t{state}\tlast sign-in: "
            f"{user['last_login_at'] or 'never'}"
        )


@users.command("disable")
@click.argument("email")
@click.option("--enable", is_flag=True, help="Enable a disabled account instead.")
def disable_command(email: str, enable: bool):
    """Disable an account (its sessions end at once), or --enable it again.

    Example: assetmap users disable sam@council.example
    """
    with database() as db:
        user = _user_or_fail(db, email)
        store.set_active(db, user["id"], enable, actor=_actor())
    click.echo(f"{'enabled' if enable else 'disabled'} {user['email']}")


@users.command("set-password")
@click.argument("email")
@click.option("--ask", is_flag=True, help="Type the password instead of generating one.")
def set_password_command(email: str, ask: bool):
    """Give an account a new password (generated and printed unless --ask); its sessions end.

    Example: assetmap users set-password sam@council.example --ask
    """
    from assetmap.people import accounts

    with database() as db:
        user = _user_or_fail(db, email)
        password, generated = _password(ask, user["email"])
        try:
            accounts.set_password(db, user, password, actor=_actor())
        except accounts.AccountError as e:
            raise click.ClickException(str(e)) from None
    click.echo(f"password set for {user['email']}")
    if generated:
        click.echo(f"password: {password}")


def address_to_open(host: str, port: int) -> str:
    """The address a person types into a browser for a server listening on host:port.

    A server listening on every address (0.0.0.0, ::) is opened at localhost on this machine;
    an IPv6 address is written in brackets, as URLs need.
    """
    if host in ("", "0.0.0.0", "::"):
        host = "localhost"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}/"


@users.command("demo")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="The address the server will listen on, for the address printed to open.",
)
@click.option(
    "--port",
    default=5000,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="The port the server will listen on, for the address printed to open.",
)
def demo_command(out: Path, host: str, port: int):
    """Make one demo account per role with random passwords, write them to OUT, print them
    with the address to open and the sign-in page.

    Run by `make run` (with its HOST and PORT). When OUT exists and its accounts do too, it is
    only printed again; otherwise the demo accounts get new random passwords. No password is
    fixed in code.

    Example: assetmap users demo instance/demo-accounts.txt --port 8080
    """
    from assetmap.people import accounts

    with database() as db:
        have = {email for email, _ in DEMO_ACCOUNTS if store.get_user_by_email(db, email)}
        if not (out.exists() and have == {email for email, _ in DEMO_ACCOUNTS}):
            lines = [
                "# Demo accounts for this assetmap instance (made by `make run`).",
                "# Random passwords; delete this file to make new ones.",
            ]
            for email, role in DEMO_ACCOUNTS:
                password = accounts.generate_password()
                user = store.get_user_by_email(db, email)
                if user is None:
                    accounts.create_account(db, email, role, password, actor="make run")
                else:
                    accounts.set_password(db, user, password, actor="make run")
                lines.append(f"{role}\t{email}\t{password}")
            out.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write("\n".join(lines) + "\n")
    click.echo(f"Demo accounts (also in {out}):")
    for line in out.read_text().splitlines():
        if not line.startswith("#"):
            role, email, password = line.split("\t")
            click.echo(f"  {role:<12} {email:<36} {password}")
    address = address_to_open(host, port)
    click.echo(f"Open {address} and sign in at {address}login with one of them.")


COMMANDS = (users,)
