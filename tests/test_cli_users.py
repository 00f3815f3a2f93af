"""`assetmap users`: create, list, disable and set passwords; demo accounts for make run."""

from __future__ import annotations

import stat

from werkzeug.security import check_password_hash

from assetmap.store import connect
from assetmap.store import users as store


def user(app, email):
    db = connect(app.config["ASSETMAP_DB"])
    try:
        return store.get_user_by_email(db, email)
    finally:
        db.close()


def test_create_generates_a_password_and_prints_it_once(app, runner):
    result = runner.invoke(args=["users", "create", "sam@council.example", "--role", "coordinator"])
    assert result.exit_code == 0, result.output
    password = result.output.split("password: ")[1].strip()
    assert check_password_hash(user(app, "sam@council.example")["password_hash"], password)


def test_create_can_ask_for_the_password(app, runner):
    result = runner.invoke(
        args=["users", "create", "jo@council.example", "--role", "admin", "--ask"],
        input="too short\ntoo short\na long enough passphrase\na long enough passphrase\n",
    )
    assert "at least 12 characters" in result.output
    assert "password:" not in result.output.replace("Password:", "")
    assert check_password_hash(
        user(app, "jo@council.example")["password_hash"], "a long enough passphrase"
    )


def test_create_refuses_a_bad_role_or_a_taken_email(runner):
    assert runner.invoke(args=["users", "create", "a@b.example", "--role", "boss"]).exit_code == 2
    runner.invoke(args=["users", "create", "a@b.example", "--role", "admin"])
    again = runner.invoke(args=["users", "create", "a@b.example", "--role", "admin"])
    assert again.exit_code == 1 and "There is already an account for a@b.example." in again.output


def test_list_disable_and_set_password(app, runner):
    runner.invoke(args=["users", "create", "w@b.example", "--role", "link_worker"])
    assert "w@b.example\tlink_worker\tactive" in runner.invoke(args=["users", "list"]).output
    assert runner.invoke(args=["users", "disable", "w@b.example"]).exit_code == 0
    assert "w@b.example\tlink_worker\tdisabled" in runner.invoke(args=["users", "list"]).output
    runner.invoke(args=["users", "disable", "w@b.example", "--enable"])
    result = runner.invoke(args=["users", "set-password", "w@b.example"])
    password = result.output.split("password: ")[1].strip()
    assert check_password_hash(user(app, "w@b.example")["password_hash"], password)
    missing = runner.invoke(args=["users", "disable", "nobody@b.example"])
    assert missing.exit_code == 1 and "there is no account for nobody@b.example" in missing.output


def test_demo_accounts_are_random_written_privately_and_printed(app, runner, tmp_path):
    out = tmp_path / "demo-accounts.txt"
    first = runner.invoke(args=["users", "demo", str(out)])
    assert first.exit_code == 0, first.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    lines = [line.split("\t") for line in out.read_text().splitlines() if "\t" in line]
    assert [role for role, _, _ in lines] == ["admin", "coordinator", "link_worker"]
    for _, email, password in lines:
        assert password in first.output
        assert check_password_hash(user(app, email)["password_hash"], password)
    again = runner.invoke(args=["users", "demo", str(out)])
    assert again.output == first.output  # printed again, not changed
    out.unlink()
    fresh = runner.invoke(args=["users", "demo", str(out)])
    assert fresh.output != first.output  # new random passwords once the file is gone
