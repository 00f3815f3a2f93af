"""assetmap: a community asset map and social-prescribing directory.

`create_app(config=None)` builds the Flask app. Settings come from environment variables
(see assetmap.settings); `config` overrides them, which is how the tests point the app at a
temporary database. Either way each is parsed when the app starts, and app.config holds the
typed values.

Importing this module imports no Flask (create_app does, and assetmap/app.py holds the Flask
classes), so that the `assetmap` command, whose commands read their settings from `app_config`
without making an app, starts at once (issue 19).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from assetmap import settings

if TYPE_CHECKING:
    from flask import Flask

PACKAGE_DIR = Path(__file__).resolve().parent
# Loaded by create_app for the site, not for a command (see create_app).
PAGE_LIBRARIES = ("folium", "folium.plugins", "shapely", "rapidfuzz", "sqlite_utils")


def _templates_folder() -> str:
    """The top-level templates/ folder: inside the package in a wheel, beside it in a checkout."""
    packaged = PACKAGE_DIR / "templates"
    return str(packaged if packaged.is_dir() else PACKAGE_DIR.parent / "templates")


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
    files folder (ASSETMAP_FILES_DIR) when none is set, the upload limit in bytes and the
    import limits.

    One function for both, so that a command and the site never see different values.
    SettingError as `configuration`.
    """
    values = configuration(config)
    if not values.get("SECRET_KEY"):
        values["SECRET_KEY"] = settings.instance_secret_key(settings.files_folder(values))
    values["MAX_CONTENT_LENGTH"] = int(values["ASSETMAP_MAX_UPLOAD_MB"] * 1024**2)
    from assetmap.imports.limits import ImportLimits

    values["ASSETMAP_IMPORT_LIMITS"] = ImportLimits.from_settings(values)
    return values


def create_app(config: dict | None = None, *, pages: bool = True) -> Flask:
    """Build the app: settings, security, the blueprints and the CLI commands.

    `pages=False` is an app with the same settings and commands, without the site's pages and
    all they import (maps, forms, the API): the app a command makes when it needs one
    (cli/context.py), which adds the pages with `add_pages` when it links to them
    (`reminders send`).

    Every setting is parsed here, once (`app_config`): from the environment, then `config`
    (whose values may be text, as in the environment, or typed). A bad value stops the app with
    settings.SettingError, naming each setting that is wrong, its value and what it expects.

    The database is not touched here: `assetmap init` creates or migrates it, so that several
    gunicorn workers never race to migrate and `assetmap --help` writes nothing.
    """
    from assetmap.app import App

    app = App(__name__, template_folder=_templates_folder())
    app.config.from_mapping(app_config(config))
    app.json.sort_keys = False

    from assetmap.cli import register

    register(app)
    if pages:
        add_pages(app)
        # The pages' libraries, which their modules import where they are used (so that a
        # command need not): a server loads them as it starts, so that no visitor waits.
        for library in PAGE_LIBRARIES:
            importlib.import_module(library)
    return app


def add_pages(app: Flask) -> None:
    """The site: security, the sign-in guard, error pages, every blueprint and the import
    worker. create_app adds them; a command's app (pages=False) only when it needs them. A
    second call changes nothing."""
    if app.blueprints:
        return

    from assetmap.web import (
        admin,
        api,
        auth,
        coverage,
        db,
        delivery,
        errors,
        feeds,
        freshness,
        guard,
        health,
        import_jobs,
        import_mapping,
        imports,
        join_requests,
        manage,
        moderation,
        openreferral,
        organisers,
        plans,
        problem_reports,
        public,
        review,
        search,
        security,
    )

    # First, so that its after_request runs last: it compresses the body the others made.
    delivery.init_app(app)
    db.init_app(app)
    security.init_app(app)
    guard.init_app(app)
    errors.init_app(app)
    for blueprint in (
        public.bp,
        api.bp,
        auth.bp,
        manage.bp,
        admin.bp,
        join_requests.bp,
        plans.bp,
        search.bp,
        imports.bp,
        import_mapping.bp,
        openreferral.bp,
        problem_reports.bp,
        review.bp,
        organisers.bp,
        moderation.bp,
        feeds.bp,
        freshness.bp,
        coverage.bp,
        health.bp,
    ):
        app.register_blueprint(blueprint)
    # Large imports run in a worker thread, started in each server process when it has a job
    # (not here: gunicorn forks after loading the app, and threads do not survive a fork).
    import_jobs.init_app(app)
