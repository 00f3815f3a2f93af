"""docs/deploying.md and deploy/ stay true: every `assetmap` command and setting they name
exists, nginx accepts deploy/nginx.conf, gunicorn loads the app the systemd unit names with the
unit's own options, the units pass `systemd-analyze verify`, and the timers, the task script
and the doc agree on the tasks. Tools that are not installed (nginx, openssl,
systemd-analyze) skip their test, saying which and how to install it."""

from __future__ import annotations

import http.client
import os
import re
import shlex
import shutil
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner

from assetmap import settings
from assetmap.cli import main
from assetmap.cli.assets import GUNICORN_LIMITS, gunicorn_arguments
from tests.conftest import ROLE_EMAILS, TEST_PASSWORD, add_user

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


# The site served as deploy/ serves it: the unit's gunicorn command on a socket, nginx with
# deploy/nginx.conf in front on free loopback ports with a throwaway certificate, and requests
# over TLS as a browser would send them. What docs/deploying.md says was tried by hand, kept.


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _certificate(folder: Path) -> tuple[Path, Path]:
    openssl = _installed("openssl")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"]
        + ["-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


def _site(folder: Path, cert: Path, key: Path, socket_path: Path, http: int, https: int) -> str:
    site = NGINX_SITE.read_text()
    for old, new in [
        ("/etc/letsencrypt/live/directory.example.org/fullchain.pem", str(cert)),
        ("/etc/letsencrypt/live/directory.example.org/privkey.pem", str(key)),
        ("/var/cache/nginx/assetmap", str(folder / "cache")),
        ("unix:/run/assetmap/gunicorn.sock", f"unix:{socket_path}"),
        ("listen 80;", f"listen 127.0.0.1:{http};"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https} ssl http2;"),
        ("listen [::]:80;", ""),
        ("listen [::]:443 ssl http2;", ""),
        ("directory.example.org", "localhost"),
    ]:
        site = _replace(site, old, new)
    return site


def _nginx_conf(folder: Path, site: str) -> Path:
    (folder / "site.conf").write_text(site)
    temp = " ".join(
        f"{kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # As root, nginx's workers would run as nobody, who cannot reach a socket in a private
    # temporary folder; on a server they run as www-data, in the service's group.
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = folder / "nginx.conf"
    conf.write_text(
        f"{user}pid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'};\n"
        "events {}\n"
        f"http {{ access_log off; {temp} include {folder / 'site.conf'}; }}\n"
    )
    return conf


class Site:
    """The served site: requests over TLS to nginx, and gunicorn's access log."""

    def __init__(self, cert: Path, http: int, https: int, access_log: Path):
        self.context = ssl.create_default_context(cafile=str(cert))
        self.http, self.https, self.access_log = http, https, access_log

    @property
    def origin(self) -> str:
        return f"https://localhost:{self.https}"

    def fetch(self, path, method="GET", headers=None, body=None, source="127.0.0.1"):
        """(status, headers, body) of one request over TLS from the address `source`."""
        connection = http.client.HTTPSConnection(
            "localhost", self.https, context=self.context, source_address=(source, 0), timeout=60
        )
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.headers, response.read()
        finally:
            connection.close()

    def logged(self, needle: str, deadline: float = 20.0) -> str:
        """The access log's line holding `needle`, once gunicorn has written it."""
        start = time.monotonic()
        while time.monotonic() - start < deadline:
            for line in self.access_log.read_text().splitlines():
                if needle in line:
                    return line
            time.sleep(0.05)
        raise AssertionError(f"gunicorn logged no request with {needle!r}")


class Gunicorn:
    """gunicorn started with the unit's own command line, on a socket in a temporary folder."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.socket = folder / "gunicorn.sock"
        self.log = folder / "gunicorn.log"
        database = folder / "assetmap.db"
        self.database = database
        args = _unit_command("ExecStart")
        args[0] = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
        args[args.index("--bind") + 1] = f"unix:{self.socket}"
        args[args.index("--workers") + 1] = "1"  # one is enough here; the unit's 4 for a server
        environment = _environment_file(ENV_EXAMPLE) | _ENV
        environment |= {"ASSETMAP_DB": str(database), "PYTHONPATH": str(ROOT)}
        environment["PATH"] = "/usr/bin:/bin"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(args, env=environment, cwd=ROOT, stdout=log, stderr=log)

    def get(self, path: str) -> int:
        """The status of a GET sent straight to the socket, as nginx sends it."""
        with socket.socket(socket.AF_UNIX) as client:
            client.settimeout(30)
            client.connect(str(self.socket))
            client.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
            return int(client.recv(64).split()[1])

    def wait_until(self, ready, what: str, deadline: float = 60.0) -> None:
        """Poll `ready()` (OSError counting as not yet) while gunicorn runs."""
        start = time.monotonic()
        while True:
            assert self.process.poll() is None, self.log.read_text()[-2000:]
            try:
                if ready():
                    return
            except OSError:
                pass
            assert time.monotonic() - start < deadline, f"{what}: {self.log.read_text()[-2000:]}"
            time.sleep(0.1)


@pytest.fixture(scope="module")
def gunicorn(request, tmp_path_factory, sample_template):
    if request.config.getoption("--engine", "sqlite") == "postgresql":
        pytest.skip("one machine's deployment, tried here, is SQLite's (a copy of the sample file)")
    folder = tmp_path_factory.mktemp("deployed")
    shutil.copyfile(sample_template, folder / "assetmap.db")
    add_user(folder / "assetmap.db", "coordinator")
    server = Gunicorn(folder)
    try:
        server.wait_until(lambda: server.get("/api/v1/taxonomy") == 200, "gunicorn serving")
        yield server
    finally:
        server.process.terminate()
        server.process.wait(timeout=30)


def test_gunicorn_serves_the_app_with_the_units_options(gunicorn):
    """The unit's command line as it is (only the socket's place and one worker changed), with
    the example settings: the app object loads and answers on the socket nginx is given."""
    assert gunicorn.get("/") == 200
    assert gunicorn.socket.is_socket()
    assert oct(gunicorn.socket.stat().st_mode & 0o777) == "0o770"  # --umask 007


@pytest.fixture(scope="module")
def served(gunicorn):
    nginx = _installed("nginx")
    folder = gunicorn.folder
    cert, key = _certificate(folder)
    http_port, https_port = _free_port(), _free_port()
    conf = _nginx_conf(folder, _site(folder, cert, key, gunicorn.socket, http_port, https_port))
    proxy = subprocess.Popen(
        [nginx, "-c", str(conf), "-e", str(folder / "error.log"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    site = Site(cert, http_port, https_port, gunicorn.log)
    try:

        def answers() -> bool:
            assert proxy.poll() is None, (folder / "error.log").read_text()[-2000:]
            return site.fetch("/api/v1/taxonomy")[0] == 200

        gunicorn.wait_until(answers, "nginx in front")
        yield site
    finally:
        proxy.terminate()
        proxy.wait(timeout=30)


def test_through_nginx_plain_http_is_sent_to_https(served):
    connection = http.client.HTTPConnection("127.0.0.1", served.http, timeout=30)
    connection.request("GET", "/map", headers={"Host": "localhost"})
    response = connection.getresponse()
    assert response.status == 301
    assert response.headers["Location"] == "https://localhost/map"
    connection.close()


def test_through_nginx_pages_come_compressed_by_the_app_and_marked_https_only(served):
    status, headers, body = served.fetch("/", headers={"Accept-Encoding": "br"})
    assert status == 200
    assert headers["Content-Encoding"] == "br"
    assert "Accept-Encoding" in headers["Vary"]
    assert headers["Strict-Transport-Security"] == "max-age=31536000"  # the app saw https
    plain = served.fetch("/", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain[1] and len(body) < len(plain[2]) / 2


def test_through_nginx_hashed_static_files_are_kept_by_nginx(served):
    page = served.fetch("/", headers={"Accept-Encoding": "identity"})[2].decode()
    url = re.search(r"/static/css/app\.[0-9a-f]{12}\.css", page).group(0)
    first = served.fetch(url, headers={"Accept-Encoding": "gzip"})[1]
    second = served.fetch(url, headers={"Accept-Encoding": "gzip"})[1]
    assert first["Cache-Control"] == "public, max-age=31536000, immutable"
    assert (first["X-Cache-Status"], second["X-Cache-Status"]) == ("MISS", "HIT")
    assert second["Content-Encoding"] == "gzip"
    plain_name = served.fetch("/static/css/app.css")[1]
    assert plain_name["Cache-Control"] == "no-cache"
    assert plain_name["X-Cache-Status"] != "HIT"


def test_through_nginx_a_coordinator_signs_in_with_the_forms_csrf_token(served):
    status, headers, body = served.fetch("/login")
    cookie = headers["Set-Cookie"].split(";")[0]
    assert "Secure" in headers["Set-Cookie"]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', body.decode()).group(1)
    form = urlencode(
        {"csrf_token": token, "email": ROLE_EMAILS["coordinator"], "password": TEST_PASSWORD}
    )
    sent = {
        "Cookie": cookie,
        "Content-Type": "application/x-www-form-urlencoded",
        "Referer": f"{served.origin}/login",  # as a browser sends it, with the port
    }
    status, headers, _ = served.fetch("/login", "POST", sent, form)
    assert status == 302, "the form was refused: does nginx pass the port in Host?"
    assert headers["Location"] in ("/manage/assets", f"{served.origin}/manage/assets")


def test_through_nginx_an_upload_over_the_limit_gets_the_apps_message(served):
    limit = settings.parse("ASSETMAP_MAX_UPLOAD_MB", None)
    body = b"x=" + b"a" * int(limit * 1024**2)  # just over the app's limit, within nginx's
    sent = {"Content-Type": "application/x-www-form-urlencoded"}
    status, _, page = served.fetch("/login", "POST", sent, body)
    assert status == 413
    assert f"The largest file or form accepted is {limit:g} MB" in page.decode()


def test_through_nginx_the_app_sees_the_clients_address_not_what_it_claims(served):
    claims = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "http"}
    status, headers, _ = served.fetch("/?from=claims", headers=claims, source="127.0.0.5")
    assert status == 200
    assert "Strict-Transport-Security" in headers  # still https to the app
    line = served.logged("GET /?from=claims")
    assert line.startswith("127.0.0.5 "), line
