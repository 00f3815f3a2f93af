"""docs/deploying.md and deploy/ stay true: every `assetmap` command and setting they name
exists, nginx accepts deploy/nginx.conf, gunicorn loads the app the systemd unit names with the
unit's own options, the units pass `systemd-analyze verify`, and the timers, the task script
and the doc agree on the tasks. Tools that are not installed (nginx, openssl,
systemd-analyze) skip their test, saying which and how to install it."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from assetmap import settings
from assetmap.cli import main
from assetmap.cli.assets import GUNICORN_LIMITS, gunicorn_arguments

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "deploying.md"
DEPLOY = ROOT / "deploy"
UNIT = DEPLOY / "assetmap.service"
NGINX_SITE = DEPLOY / "nginx.conf"
TASK_SCRIPT = DEPLOY / "assetmap-task"
ENV_EXAMPLE = DEPLOY / "assetmap.env.example"

# Commands the doc and deploy/ name that other parts of issue 20 are adding (item 7: backup and
# restore). Until they exist their test skips, saying so; once they do, they are checked.
COMING = {"backup": "issue 20, item 7", "restore": "issue 20, item 7"}

# An `assetmap` command in a code span or a line of a code block of the doc: the program (by
# path too, or deploy/assetmap-cli) then up to two lower-case words (a command, a subcommand).
_COMMAND = re.compile(r"(?<![\w@:.=-])(?:[\w./-]*/)?assetmap(?:-cli)?((?:[ \t]+[a-z][a-z-]*){1,2})")
# In deploy/ outside code spans only a program named by path or by the task script's variable.
_PROGRAM = re.compile(r'(?:bin/assetmap|"\$ASSETMAP")((?:[ \t]+[a-z][a-z-]*){1,2})')
_SETTING = re.compile(r"\b(?:ASSETMAP_[A-Z0-9_]*[A-Z0-9]|SECRET_KEY)\b")


def _code(markdown: str) -> list[str]:
    """The doc's code: fenced blocks and `spans` (which may run over a line break)."""
    fenced = re.findall(r"^```[^\n]*\n(.*?)^```", markdown, flags=re.M | re.S)
    rest = re.sub(r"^```[^\n]*\n.*?^```", "", markdown, flags=re.M | re.S)
    return fenced + re.findall(r"`([^`]+)`", rest)


def _deploy_files() -> list[Path]:
    return sorted(path for path in DEPLOY.iterdir() if path.is_file())


def named_commands() -> dict[tuple[str, ...], str]:
    """Each command named, as its words, with the first file that names it."""
    found: dict[tuple[str, ...], str] = {}
    sources = [(DOC, _code(DOC.read_text()), _COMMAND)]
    for path in _deploy_files():
        text = path.read_text()
        sources.append((path, re.findall(r"`([^`]+)`", text), _COMMAND))
        sources.append((path, [text], _PROGRAM))
    for path, pieces, pattern in sources:
        for piece in pieces:
            for match in pattern.finditer(piece):
                words = tuple(match.group(1).split())
                found.setdefault(words, path.relative_to(ROOT).as_posix())
    return found


COMMANDS = named_commands()


def _help(words: list[str]):
    return CliRunner().invoke(main, [*words, "--help"], env=_ENV)


_ENV = {"SECRET_KEY": "test-only-" + "0" * 40, "ASSETMAP_ENV": "production"}


def test_the_doc_and_deploy_name_commands_at_all():
    """The parsing finds what it should: a change that hid every command fails here."""
    assert ("init",) in COMMANDS
    assert ("join-requests", "purge") in COMMANDS
    assert ("feeds", "sync") in COMMANDS
    assert ("reminders", "send") in COMMANDS


@pytest.mark.parametrize("words", sorted(COMMANDS), ids=" ".join)
def test_every_assetmap_command_named_exists(words, tmp_path, monkeypatch):
    monkeypatch.setenv("ASSETMAP_DB", str(tmp_path / "assetmap.db"))
    first = _help([words[0]])
    if first.exit_code != 0 and words[0] in COMING:
        pytest.skip(f"`assetmap {words[0]}` is being built ({COMING[words[0]]})")
    where = COMMANDS[words]
    assert first.exit_code == 0, f"{where} names `assetmap {' '.join(words)}`: {first.output}"
    is_group = "Commands:" in first.output
    if is_group and len(words) == 2:
        second = _help(list(words))
        assert second.exit_code == 0, (
            f"{where} names `assetmap {' '.join(words)}`, not a command of "
            f"`assetmap {words[0]}`: {second.output}"
        )


def test_every_setting_named_is_a_real_setting():
    named = {}
    for path in [DOC, *_deploy_files()]:
        for name in _SETTING.findall(path.read_text()):
            named.setdefault(name, path.relative_to(ROOT).as_posix())
    assert "ASSETMAP_TRUSTED_PROXIES" in named
    known = settings.SETTINGS_BY_NAME
    unknown = {name: where for name, where in named.items() if name not in known}
    assert not unknown, f"not settings of assetmap (assetmap/settings.py): {unknown}"


def _environment_file(path: Path) -> dict[str, str]:
    """systemd's EnvironmentFile: NAME=value lines, # comments."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    return values


def test_the_example_settings_are_accepted_by_the_app():
    values = _environment_file(ENV_EXAMPLE)
    values["SECRET_KEY"] = _ENV["SECRET_KEY"]
    typed = settings.parse_all(values)
    assert typed["ASSETMAP_ENV"] == "production"
    assert typed["ASSETMAP_TRUSTED_PROXIES"] == 1


def _unit_command(key: str) -> list[str]:
    text = UNIT.read_text().replace("\\\n", " ")
    lines = [line for line in text.splitlines() if line.startswith(f"{key}=")]
    assert len(lines) == 1, f"{UNIT.name} should have one {key}="
    return shlex.split(lines[0].partition("=")[2])


def _option(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def test_the_unit_runs_gunicorn_as_assetmap_serve_does():
    args = _unit_command("ExecStart")
    serve = gunicorn_arguments("127.0.0.1", 5000, workers=2, timeout=300)
    joined = " ".join(args)
    assert " ".join(GUNICORN_LIMITS) in joined
    for flag in ("--no-control-socket", "--access-logfile"):
        assert flag in args
    assert _option(args, "--timeout") == _option(serve, "--timeout")
    assert args[-1] == serve[-1], "the unit serves another app object than `assetmap serve`"
    assert _unit_command("ExecStartPre")[1:] == ["init"]


def test_nginx_agrees_with_the_unit_and_the_settings():
    site = NGINX_SITE.read_text()
    bind = _option(_unit_command("ExecStart"), "--bind")
    assert f"server {bind} " in site, "nginx's upstream is not the unit's socket"
    limit = re.search(r"client_max_body_size (\d+)m;", site)
    default_mb = settings.parse("ASSETMAP_MAX_UPLOAD_MB", None)
    assert _environment_file(ENV_EXAMPLE)["ASSETMAP_MAX_UPLOAD_MB"] == f"{default_mb:g}"
    # A little above the app's limit, so the app's 413 page answers an upload just over it.
    assert limit and int(limit.group(1)) == default_mb + 1
    timeout = _option(_unit_command("ExecStart"), "--timeout")
    assert f"proxy_read_timeout {timeout}s;" in site
    assert "gzip off;" in site  # the app compresses


def test_gunicorn_loads_the_app_with_the_units_options(tmp_path):
    args = _unit_command("ExecStart")
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
    assert gunicorn, "gunicorn is a dependency of assetmap"
    args[0] = gunicorn
    args[args.index("--bind") + 1] = f"unix:{tmp_path / 'gunicorn.sock'}"
    environment = _environment_file(ENV_EXAMPLE) | _ENV
    environment |= {"ASSETMAP_DB": str(tmp_path / "assetmap.db"), "PYTHONPATH": str(ROOT)}
    environment["PATH"] = "/usr/bin:/bin"
    done = subprocess.run(
        [*args, "--check-config"], env=environment, cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]


def _installed(tool: str) -> str:
    found = shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/sbin")
    if not found:
        pytest.skip(f"{tool} is not installed here (Debian: apt-get install {tool})")
    return found


def _replace(text: str, old: str, new: str) -> str:
    assert old in text, f"{NGINX_SITE.name} no longer has {old!r}: update this test"
    return text.replace(old, new)


def test_nginx_accepts_the_config(tmp_path):
    nginx = _installed("nginx")
    openssl = _installed("openssl")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    site = NGINX_SITE.read_text()
    for old, new in [
        ("/etc/letsencrypt/live/directory.example.org/fullchain.pem", str(cert)),
        ("/etc/letsencrypt/live/directory.example.org/privkey.pem", str(key)),
        ("/var/cache/nginx/assetmap", str(tmp_path / "cache")),
    ]:
        site = _replace(site, old, new)
    (tmp_path / "site.conf").write_text(site)
    temp = " ".join(
        f"{kind}_temp_path {tmp_path / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'error.log'};\n"
        "events {}\n"
        f"http {{ access_log off; {temp} include {tmp_path / 'site.conf'}; }}\n"
    )
    done = subprocess.run(
        [nginx, "-t", "-c", str(tmp_path / "nginx.conf"), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr


def test_the_units_pass_systemd_analyze_verify(tmp_path):
    analyze = _installed("systemd-analyze")
    names = []
    for path in _deploy_files():
        if path.suffix in (".service", ".timer"):
            text = path.read_text().replace("/srv/assetmap/.venv", sys.prefix)
            (tmp_path / path.name).write_text(text.replace("/srv/assetmap", str(ROOT)))
            names.append(path.name)
    done = subprocess.run([analyze, "verify", *names], cwd=tmp_path, capture_output=True, text=True)
    # Unknown keys and bad values are only warnings: any message fails.
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr
    assert "assetmap.service" in names


def _tasks() -> set[str]:
    """The names deploy/assetmap-task runs (its case labels)."""
    return set(re.findall(r"^([a-z][a-z-]*)\)", TASK_SCRIPT.read_text(), flags=re.M))


def test_the_timers_the_task_script_and_the_doc_name_the_same_tasks():
    tasks = _tasks()
    assert {"backup", "restore-test", "purge", "reminders", "feeds", "prune"} <= tasks
    timers = sorted(DEPLOY.glob("assetmap-*.timer"))
    started = set()
    for timer in timers:
        (task,) = re.findall(r"^Unit=assetmap-task@([a-z-]+)\.service$", timer.read_text(), re.M)
        assert timer.name == f"assetmap-{task}.timer"
        started.add(task)
    assert started == tasks, "each task has its timer"
    doc = DOC.read_text()
    # The doc's table of tasks says when each runs, as its timer does.
    said = dict(
        re.findall(
            r"^\| ([a-z-]+) \|.*\| (daily \d\d:\d\d|monthly, the 1st at \d\d:\d\d) \|", doc, re.M
        )
    )
    assert set(said) == tasks
    for task, when in said.items():
        calendar = re.search(
            r"^OnCalendar=(.+)$", (DEPLOY / f"assetmap-{task}.timer").read_text(), re.M
        )
        time = when.split()[-1]
        expected = f"*-*-01 {time}" if when.startswith("monthly") else f"*-*-* {time}"
        assert calendar.group(1) == expected, f"{task}: the doc says {when}"
    for task in re.findall(r"assetmap-task@([a-z][a-z-]*)", doc):
        assert task in tasks, f"docs/deploying.md names a task assetmap-task does not run: {task}"
    subprocess.run(["sh", "-n", str(TASK_SCRIPT)], check=True)
    subprocess.run(["sh", "-n", str(DEPLOY / "assetmap-cli")], check=True)


def test_every_deploy_file_the_doc_names_exists():
    named = set(re.findall(r"\bdeploy/([\w.@*-]+)", DOC.read_text()))
    assert "nginx.conf" in named
    for name in named:
        assert list(DEPLOY.glob(name)), f"docs/deploying.md names deploy/{name}, not there"
