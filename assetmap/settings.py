"""Settings, declared once with a name, a type, a default and a help line.

Each setting is read from the environment variable of the same name, so one deployment can
differ from another without code changes. Every value is parsed once, when the app starts
(`create_app`, and so every `assetmap` command): a value that is not what its setting expects
stops the app with a message naming the setting, the value and what was expected, rather than
failing later in the request that first uses it. The code reads the typed values from
app.config under the settings' names. `assetmap settings` prints them all, and a test checks
the README's table against this list, so a setting cannot be added without being documented.
"""

from __future__ import annotations

import math
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class SettingError(ValueError):
    """A setting's value is not what the setting expects; the message names both."""


class Why(ValueError):
    """What is wrong with a value beyond its not being of the type, added to the message."""


# The types of setting. Each says what it expects in words, reads a value from the text of an
# environment variable (or checks one already of its type, as code and tests may set), and
# writes a value back as text, as it would be set.


@dataclass(frozen=True)
class Text:
    expects: str = "text"

    def parse(self, value: Any) -> Any:
        if isinstance(value, (str, bytes)):  # bytes: Flask takes a SECRET_KEY as either
            return value
        if isinstance(value, os.PathLike):
            return os.fspath(value)
        raise ValueError

    def text(self, value: Any) -> str:
        return str(value)


@dataclass(frozen=True)
class Whole:
    minimum: int
    maximum: int | None = None

    @property
    def expects(self) -> str:
        if self.maximum is None:
            return f"a whole number of at least {self.minimum}"
        return f"a whole number from {self.minimum} to {self.maximum}"

    def parse(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ValueError
        number = int(value.strip()) if isinstance(value, str) else value
        if number < self.minimum or (self.maximum is not None and number > self.maximum):
            raise ValueError
        return number

    def text(self, value: Any) -> str:
        return str(value)


@dataclass(frozen=True)
class Number:
    """A number such as 20 or 0.5; whole ones are kept as int, so that 20 MB reads as 20."""

    minimum: float = 0
    above_minimum: bool = True

    @property
    def expects(self) -> str:
        if self.above_minimum:
            return f"a number above {self.minimum:g}"
        return f"a number of at least {self.minimum:g}"

    def parse(self, value: Any) -> int | float:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValueError
        number = float(value) if isinstance(value, str) else value
        if not math.isfinite(number) or number < self.minimum:
            raise ValueError
        if self.above_minimum and number == self.minimum:
            raise ValueError
        return int(number) if float(number).is_integer() else float(number)

    def text(self, value: Any) -> str:
        return str(value)


@dataclass(frozen=True)
class YesNo:
    expects: str = "'yes' or 'no'"

    YES = frozenset({"yes", "y", "true", "on", "1"})
    NO = frozenset({"no", "n", "false", "off", "0"})

    def parse(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in self.YES | self.NO:
            return value.strip().lower() in self.YES
        raise ValueError

    def text(self, value: Any) -> str:
        return "yes" if value else "no"


@dataclass(frozen=True)
class Choice:
    options: tuple[str, ...]

    @property
    def expects(self) -> str:
        quoted = [f"'{option}'" for option in self.options]
        either = ", ".join(quoted[:-1]) + " or " + quoted[-1]
        return either if len(quoted) == 2 else "one of " + either

    def parse(self, value: Any) -> str:
        if isinstance(value, str) and value.strip().lower() in self.options:
            return value.strip().lower()
        raise ValueError

    def text(self, value: Any) -> str:
        return str(value)


Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Bounds:
    """Where asset coordinates may lie: (min_lon, min_lat, max_lon, max_lat), or None for
    anywhere."""

    expects: str = "'uk', 'anywhere' or four numbers 'min_lon,min_lat,max_lon,max_lat'"

    def parse(self, value: Any) -> Box | None:
        from assetmap.record.validation import UK_BOUNDS

        if value is None or isinstance(value, (tuple, list)):
            box = value
        elif not isinstance(value, str):
            raise ValueError
        elif value.strip().lower() == "uk":
            return UK_BOUNDS
        elif value.strip().lower() in {"anywhere", "none", "world"}:
            return None
        else:
            box = tuple(float(part) for part in value.split(","))
        if box is None:
            return None
        if len(box) != 4 or not all(math.isfinite(n) for n in box):
            raise ValueError
        min_lon, min_lat, max_lon, max_lat = box
        if not (min_lon < max_lon and min_lat < max_lat):
            raise Why("the minimums must be below the maximums")
        return (min_lon, min_lat, max_lon, max_lat)

    def text(self, value: Any) -> str:
        from assetmap.record.validation import UK_BOUNDS

        if value is None:
            return "anywhere"
        return "uk" if tuple(value) == UK_BOUNDS else ",".join(f"{n:g}" for n in value)


@dataclass(frozen=True)
class Centre:
    """Where the maps open: (latitude, longitude)."""

    expects: str = "'latitude,longitude' such as 53.42,-2.35"

    def parse(self, value: Any) -> tuple[float, float]:
        parts = value.split(",") if isinstance(value, str) else value
        if not isinstance(parts, (list, tuple)) or len(parts) != 2:
            raise ValueError
        lat, lon = (float(part) for part in parts)
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise Why("the latitude must be within ±90 and the longitude within ±180")
        return lat, lon

    def text(self, value: Any) -> str:
        return f"{value[0]:g},{value[1]:g}"


Type = Text | Whole | Number | YesNo | Choice | Bounds | Centre


@dataclass(frozen=True)
class Setting:
    """One setting: its name (the environment variable), its type, its default as it would be
    written in the environment, and a help line. A secret's value is never printed."""

    name: str
    type: Type
    default: str | None
    help: str
    secret: bool = False

    def parse(self, value: Any) -> Any:
        """The typed value of `value` (text, or a value already of the type); the default's
        when `value` is None, or empty for a setting that is not text. SettingError, naming
        the setting, the value and what is expected, when it is not one."""
        if value is None or (value == "" and not isinstance(self.type, Text)):
            if self.default is None:
                return None
            value = self.default
        try:
            return self.type.parse(value)
        except (ValueError, TypeError) as error:
            why = f" ({error})" if isinstance(error, Why) else ""
            raise SettingError(f"{self.name}: {value!r} is not {self.type.expects}{why}") from None

    def text(self, value: Any) -> str:
        """A value as `assetmap settings` shows it."""
        if self.secret:
            return "(set)" if value else "(not set)"
        words = self.type.text(value)
        return words if words else "(empty)"

    @property
    def default_words(self) -> str:
        """The default as the README and `assetmap settings` give it. None means the app makes
        a value when it starts (SECRET_KEY's is generated)."""
        if self.default is None:
            return "(generated)"
        return self.default if self.default else "(empty)"


POSITIVE = Number(minimum=0, above_minimum=True)

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "ASSETMAP_DB",
        Text(),
        "instance/assetmap.db",
        "The database: a SQLite file's path (or sqlite:///path), or a PostgreSQL URL "
        "(postgresql://user@host/name, PostGIS installed: docs/deploying.md).",
    ),
    Setting(
        "ASSETMAP_FILES_DIR",
        Text(),
        "",
        "Folder for the files kept beside the database: the generated secret key, imported "
        "files and uploads waiting for their preview. Empty: the SQLite database's folder, or "
        "instance/ with PostgreSQL. Several app servers need one shared folder.",
    ),
    Setting(
        "SECRET_KEY",
        Text(),
        None,
        "Signs session cookies. Required in production; when unset, a random key is generated "
        "once into instance/secret_key and reused.",
        secret=True,
    ),
    Setting(
        "ASSETMAP_ENV",
        Choice(("demo", "production")),
        "demo",
        "'production' refuses to start without SECRET_KEY; 'demo' generates one.",
    ),
    Setting(
        "ASSETMAP_MAX_UPLOAD_MB",
        POSITIVE,
        "20",
        "Largest request body (form or uploaded file) accepted, in megabytes; larger gets a 413.",
    ),
    Setting(
        "ASSETMAP_IMPORT_MAX_ROWS",
        Whole(minimum=1),
        "200000",
        "Most rows (or GIS features) an import file may have; a longer one is refused, with a "
        "request to split it.",
    ),
    Setting(
        "ASSETMAP_IMPORT_MAX_COLUMNS",
        Whole(minimum=1),
        "300",
        "Most columns with something in them an import file may have.",
    ),
    Setting(
        "ASSETMAP_IMPORT_MAX_CELL_KB",
        POSITIVE,
        "32",
        "Most one cell of an import file may hold, in kilobytes (thousands of characters); "
        "Excel's own limit is 32,767 characters.",
    ),
    Setting(
        "ASSETMAP_IMPORT_MAX_UNCOMPRESSED_MB",
        POSITIVE,
        "200",
        "Most data an import file may hold, in megabytes, once unpacked: a workbook or zip "
        "is measured unpacked, a CSV, GeoJSON or GeoPackage as it is.",
    ),
    Setting(
        "ASSETMAP_IMPORT_MAX_RATIO",
        POSITIVE,
        "100",
        "Most times a part of a workbook or zip may grow when unpacked; spreadsheets and GIS "
        "files grow 5 to 20 times, zip bombs a thousand.",
    ),
    Setting(
        "ASSETMAP_IMPORT_FILES_MB",
        Number(minimum=0, above_minimum=False),
        "2048",
        "Most disk space, in megabytes, that import files kept beside the database may take "
        "(archived imports and uploads waiting for confirmation); an upload that would go over "
        "is refused. `assetmap imports prune` removes old archived imports.",
    ),
    Setting(
        "ASSETMAP_IMPORT_BACKGROUND_ROWS",
        Whole(minimum=0),
        "5000",
        "An upload of more rows than this is previewed and imported in the background, with "
        "a progress bar, so that no request runs long (checking 5,000 rows takes about 2 s of a "
        "core; 0 sends every upload to the background).",
    ),
    Setting(
        "ASSETMAP_TRUSTED_PROXIES",
        Whole(minimum=0),
        "0",
        "How many reverse proxies sit in front of the app; their X-Forwarded-For/-Proto "
        "headers are then trusted (for https cookies and sign-in throttling by address).",
    ),
    Setting(
        "ASSETMAP_REFERRAL_RETENTION_DAYS",
        Whole(minimum=0),
        "180",
        "Days a resident's request to join keeps their name and contact details; "
        "`assetmap join-requests purge` (run it daily) removes them after that.",
    ),
    Setting(
        "ASSETMAP_REFERRALS_PER_HOUR",
        Whole(minimum=1),
        "5",
        "Requests to join and problem reports accepted from one address in an hour, "
        "both forms together, against spam.",
    ),
    Setting(
        "ASSETMAP_SMTP_HOST",
        Text(),
        "",
        "Mail server for telling organisers of requests to join; "
        "empty means no e-mail is sent (coordinators still see them in the inbox).",
    ),
    Setting("ASSETMAP_SMTP_PORT", Whole(minimum=1, maximum=65535), "25", "Mail server port."),
    Setting("ASSETMAP_SMTP_USER", Text(), "", "Mail server user name, if it needs one."),
    Setting(
        "ASSETMAP_SMTP_PASSWORD", Text(), "", "Mail server password, if it needs one.", secret=True
    ),
    Setting(
        "ASSETMAP_SMTP_STARTTLS",
        YesNo(),
        "no",
        "'yes' to upgrade the mail connection with STARTTLS.",
    ),
    Setting("ASSETMAP_MAIL_FROM", Text(), "assetmap@localhost", "The From address of e-mail sent."),
    Setting(
        "ASSETMAP_PLAN_LINK_DAYS",
        Whole(minimum=1),
        "30",
        "Days a plan's share link works before it expires (a link worker can revoke it sooner).",
    ),
    Setting(
        "ASSETMAP_ALLOW_CLIENT_NAMES",
        YesNo(),
        "no",
        "'yes' lets link workers put a client's name on a plan; otherwise plans carry only a "
        "pseudonymous reference and anything that looks like an NHS number is refused.",
    ),
    Setting(
        "ASSETMAP_TILE_URL",
        Text(),
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "Map tile URL template (the only request a page makes to another server).",
    ),
    Setting(
        "ASSETMAP_TILE_ATTRIBUTION",
        Text(),
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
        "Attribution shown on maps for the tiles; HTML as the tile provider asks.",
    ),
    Setting(
        "ASSETMAP_BOUNDS",
        Bounds(),
        "uk",
        "Where asset coordinates may lie (a box of longitudes and latitudes); a record placed "
        "outside is refused.",
    ),
    Setting(
        "ASSETMAP_MAP_CENTRE",
        Centre(),
        "53.42,-2.35",
        "Where the maps open when there is nothing to fit (Trafford).",
    ),
    Setting(
        "ASSETMAP_COVERAGE_WALK_MINUTES",
        Whole(minimum=1),
        "15",
        "Coverage counts the assets within this many minutes' walk of each postcode, by the "
        "search's own walking formula (15 minutes is 923 m in a straight line).",
    ),
    Setting(
        "ASSETMAP_CHECK_EVERY_MONTHS",
        Whole(minimum=1, maximum=120),
        "6",
        "Months between checks of a listing; a coordinator may set a shorter period for a "
        "strand or a kind on the review queue's page.",
    ),
    Setting(
        "ASSETMAP_ORGANISER_LINK_DAYS",
        Whole(minimum=1, maximum=365),
        "30",
        "Days the link in an organiser's reminder works (to confirm or change their listing).",
    ),
    Setting(
        "ASSETMAP_SITE_URL",
        Text(),
        "http://localhost:5000",
        "The address people reach the site at, for links in e-mails sent by commands "
        "(organisers' reminders) and the stable URIs of the Open Referral taxonomy terms "
        "(the same however the site is reached).",
    ),
    Setting(
        "ASSETMAP_STALE_AFTER_MONTHS",
        Whole(minimum=1),
        "12",
        "Months after its last check that a listing says 'Not checked for over a year' (or "
        "that many months) and comes after fresh ones at a similar distance in search.",
    ),
    Setting(
        "ASSETMAP_HIDE_UNCHECKED_AFTER_MONTHS",
        Whole(minimum=0),
        "0",
        "Search leaves out listings not checked for longer than this many months, and those "
        "never checked; 0 (the default) hides none.",
    ),
    Setting(
        "ASSETMAP_SQL_TIME_LIMIT_MS",
        Whole(minimum=0),
        "2000",
        "Milliseconds one SQL statement of a web page or API request may run before it is "
        "stopped and the visitor told it took too long (a 503, nothing saved), so that no "
        "request holds a worker; 0 means no limit. Imports (the import and feed pages, and "
        "background import jobs), commands and `assetmap serve`'s start-up have none.",
    ),
)

SETTINGS_BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """Each setting's text: the environment's when set and non-empty, else the default."""
    environ = os.environ if environ is None else environ
    return {s.name: (environ.get(s.name) or s.default) for s in SETTINGS}


def parse(name: str, value: Any) -> Any:
    """The typed value of the setting `name` (see Setting.parse)."""
    return SETTINGS_BY_NAME[name].parse(value)


def parse_all(values: Mapping[str, Any]) -> dict[str, Any]:
    """Every setting's typed value, from `values` (text or typed; a missing one is the
    default's). SettingError listing every bad value, one a line, when there is one."""
    typed, problems = {}, []
    for setting in SETTINGS:
        try:
            typed[setting.name] = setting.parse(values.get(setting.name))
        except SettingError as error:
            problems.append(str(error))
    if problems:
        raise SettingError("\n".join(problems))
    return typed


def files_folder(config) -> Path:
    """Where the files kept beside the database go (ASSETMAP_FILES_DIR): the secret key when
    none is set, imported files (imports/), uploads waiting for their preview."""
    if config.get("ASSETMAP_FILES_DIR"):
        return Path(config["ASSETMAP_FILES_DIR"]).resolve()
    target = str(config["ASSETMAP_DB"])
    if target.startswith(("postgresql://", "postgres://")):
        return Path("instance").resolve()
    return Path(target.removeprefix("sqlite:///")).resolve().parent


def instance_secret_key(instance_path: str | Path) -> str:
    """A secret key kept in the instance folder, generated on first use.

    This lets the demo run without configuration while never putting a fixed key in code.
    The file is created with owner-only permissions.
    """
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    return key
