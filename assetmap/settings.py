"""Settings, declared once with a name, a default and a help line.

Each setting is read from the environment variable of the same name, so one deployment can
differ from another without code changes. The README's settings table is checked against this
list by a test, so a setting cannot be added without being documented.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    name: str
    default: str | None
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("ASSETMAP_DB", "instance/assetmap.db", "Path of the SQLite database file."),
    Setting(
        "SECRET_KEY",
        None,
        "Signs session cookies. Required in production; when unset, a random key is generated "
        "once into instance/secret_key and reused.",
    ),
    Setting(
        "ASSETMAP_ENV",
        "demo",
        "'production' refuses to start without SECRET_KEY; 'demo' generates one.",
    ),
    Setting(
        "ASSETMAP_MAX_UPLOAD_MB",
        "20",
        "Largest request body (form or uploaded file) accepted, in megabytes; larger gets a 413.",
    ),
    Setting(
        "ASSETMAP_IMPORT_MAX_ROWS",
        "200000",
        "Most rows (or GIS features) an import file may have; a longer one is refused, with a "
        "request to split it.",
    ),
    Setting(
        "ASSETMAP_IMPORT_MAX_COLUMNS",
        "300",
        "Most columns with something in them an import file may have.",
    ),
    Setting(
        "ASSETMAP_IMPORT_MAX_CELL_KB",
        "32",
        "Most one cell of an import file may hold, in kilobytes (thousands of characters); "
        "Excel's own limit is 32,767 characters.",
    ),
    Setting(
        "ASSETMAP_IMPORT_MAX_UNCOMPRESSED_MB",
        "200",
        "Most data an import file may hold, in megabytes, once unpacked: a workbook or zip "
        "is measured unpacked, a CSV, GeoJSON or GeoPackage as it is.",
    ),
    Setting(
        "ASSETMAP_IMPORT_MAX_RATIO",
        "100",
        "Most times a part of a workbook or zip may grow when unpacked; spreadsheets and GIS "
        "files grow 5 to 20 times, zip bombs a thousand.",
    ),
    Setting(
        "ASSETMAP_IMPORT_FILES_MB",
        "2048",
        "Most disk space, in megabytes, that import files kept beside the database may take "
        "(archived imports and uploads waiting for confirmation); an upload that would go over "
        "is refused. `assetmap imports prune` removes old archived imports.",
    ),
    Setting(
        "ASSETMAP_TRUSTED_PROXIES",
        "0",
        "How many reverse proxies sit in front of the app; their X-Forwarded-For/-Proto "
        "headers are then trusted (for https cookies and sign-in throttling by address).",
    ),
    Setting(
        "ASSETMAP_REFERRAL_RETENTION_DAYS",
        "180",
        "Days a resident's self-referral keeps their name and contact details; "
        "`assetmap referrals purge` (run it daily) removes them after that.",
    ),
    Setting(
        "ASSETMAP_REFERRALS_PER_HOUR",
        "5",
        "Self-referrals accepted from one address in an hour, against spam.",
    ),
    Setting(
        "ASSETMAP_SMTP_HOST",
        "",
        "Mail server for telling organisers of self-referrals; "
        "empty means no e-mail is sent (coordinators still see them in the inbox).",
    ),
    Setting("ASSETMAP_SMTP_PORT", "25", "Mail server port."),
    Setting("ASSETMAP_SMTP_USER", "", "Mail server user name, if it needs one."),
    Setting("ASSETMAP_SMTP_PASSWORD", "", "Mail server password, if it needs one."),
    Setting("ASSETMAP_SMTP_STARTTLS", "no", "'yes' to upgrade the mail connection with STARTTLS."),
    Setting("ASSETMAP_MAIL_FROM", "assetmap@localhost", "The From address of e-mail sent."),
    Setting(
        "ASSETMAP_PLAN_LINK_DAYS",
        "30",
        "Days a plan's share link works before it expires (a link worker can revoke it sooner).",
    ),
    Setting(
        "ASSETMAP_ALLOW_CLIENT_NAMES",
        "no",
        "'yes' lets link workers put a client's name on a plan; otherwise plans carry only a "
        "pseudonymous reference and anything that looks like an NHS number is refused.",
    ),
    Setting(
        "ASSETMAP_TILE_URL",
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "Map tile URL template (the only request a page makes to another server).",
    ),
    Setting(
        "ASSETMAP_TILE_ATTRIBUTION",
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
        "Attribution shown on maps for the tiles; HTML as the tile provider asks.",
    ),
    Setting(
        "ASSETMAP_BOUNDS",
        "uk",
        "Where asset coordinates may lie: 'uk', 'anywhere', or 'min_lon,min_lat,max_lon,max_lat'.",
    ),
    Setting(
        "ASSETMAP_MAP_CENTRE",
        "53.42,-2.35",
        "Latitude,longitude the maps open on when there is nothing to fit (Trafford).",
    ),
)

SETTINGS_BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


def from_environment(environ: dict[str, str] | None = None) -> dict[str, str | None]:
    """Each setting's value: the environment's when set and non-empty, else the default."""
    environ = os.environ if environ is None else environ
    return {s.name: (environ.get(s.name) or s.default) for s in SETTINGS}


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


def parse_bounds(value: str | None) -> tuple[float, float, float, float] | None:
    """Read ASSETMAP_BOUNDS into (min_lon, min_lat, max_lon, max_lat), or None for anywhere."""
    from assetmap.validation import UK_BOUNDS

    text = (value or "uk").strip().lower()
    if text == "uk":
        return UK_BOUNDS
    if text in {"anywhere", "none", "world"}:
        return None
    try:
        min_lon, min_lat, max_lon, max_lat = (float(p) for p in text.split(","))
    except ValueError:
        raise ValueError(
            f"ASSETMAP_BOUNDS: {value!r} is not 'uk', 'anywhere' or four numbers "
            "'min_lon,min_lat,max_lon,max_lat'"
        ) from None
    if not (min_lon < max_lon and min_lat < max_lat):
        raise ValueError("ASSETMAP_BOUNDS: the minimums must be below the maximums")
    return (min_lon, min_lat, max_lon, max_lat)


def parse_centre(value: str | None) -> tuple[float, float]:
    """Read ASSETMAP_MAP_CENTRE into (lat, lon)."""
    try:
        lat, lon = (float(p) for p in (value or "").split(","))
    except ValueError:
        raise ValueError(
            f"ASSETMAP_MAP_CENTRE: {value!r} is not 'latitude,longitude' such as 53.42,-2.35"
        ) from None
    return lat, lon
