"""assetmap: a community asset map and social-prescribing directory.

`create_app(config=None)` builds the Flask app (assetmap/app.py). Settings come from
environment variables (see assetmap.settings); `config` overrides them, which is how the tests
point the app at a temporary database. Either way each is parsed when the app starts, and
app.config holds the typed values.

This module imports no Flask: `create_app` and the rest of assetmap/app.py load on first use
(the module `__getattr__` below), so that the `assetmap` command, whose commands read their
settings from `app_config` and need no app, starts at once (issue 19).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from assetmap import settings

if TYPE_CHECKING:
    from assetmap.app import PAGE_LIBRARIES, App, Config, add_pages, create_app

PACKAGE_DIR = Path(__file__).resolve().parent
# What assetmap/app.py gives, loaded (with Flask) the first time one of them is asked for.
_FROM_THE_APP = ("create_app", "add_pages", "App", "Config", "PAGE_LIBRARIES")

__all__ = [
    "PACKAGE_DIR",
    "PAGE_LIBRARIES",
    "App",
    "Config",
    "add_pages",
    "app_config",
    "configuration",
    "create_app",
]


def __getattr__(name: str) -> Any:
    if name in _FROM_THE_APP:
        from assetmap import app

        return getattr(app, name)
    raise AttributeError(f"module 'assetmap' has no attribute {name!r}")


def configuration(config: dict | None = None) -> dict:
    """The settings the app is made with: each parsed, from the environment, then `config`.

    settings.SettingError names each bad one, and a SECRET_KEY missing in production. Also
    what `assetmap --help` checks, so that it stops on a bad setting without writing anything.
    """
    overrides = dict(config or {})
    values = {**overrides, **settings.parse_all(settings.from_environment() | overrides)}
    if not values.get("SECRET_KEY") and values["ASSETMAP_ENV"] == "production":
        raise settings.SettingError(
            "SECRET_KEY: not set, and it must be when ASSETMAP_ENV is production"
        )
    return values


def app_config(config: dict | None = None) -> dict:
    """What create_app puts in app.config, and what a command reads (cli/context.py): the
    settings (`configuration`), and the values made from them: a SECRET_KEY kept in the
    database's folder when none is set, the upload limit in bytes and the import limits.

    One function for both, so that a command and the site it serves never see different
    values. SettingError as `configuration`.
    """
    values = configuration(config)
    if not values.get("SECRET_KEY"):
        db_path = Path(values["ASSETMAP_DB"])
        values["SECRET_KEY"] = settings.instance_secret_key(db_path.parent)
    values["MAX_CONTENT_LENGTH"] = int(values["ASSETMAP_MAX_UPLOAD_MB"] * 1024**2)
    from assetmap.imports.limits import ImportLimits

    values["ASSETMAP_IMPORT_LIMITS"] = ImportLimits.from_settings(values)
    return values
