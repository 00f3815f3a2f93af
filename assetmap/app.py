"""The Flask app: `create_app` and `add_pages` (re-exported by the package as
`assetmap.create_app` and `assetmap.add_pages`).

Kept apart from assetmap/__init__.py so that importing the package, as every `assetmap` command
does, does not import Flask (a sixth of a second, issue 19): only the site and the commands
that need an app (`reminders send`, which builds page addresses) import this module.
"""

from __future__ import annotations

import importlib

import flask
from flask import Flask

from assetmap import PACKAGE_DIR, app_config, settings

# Loaded by create_app for the site, not for a command (see create_app).
PAGE_LIBRARIES = ("folium", "folium.plugins", "shapely", "rapidfuzz", "sqlite_utils")


def _templates_folder() -> str:
    """The top-level templates/ folder: inside the package in a wheel, beside it in a checkout."""
    packaged = PACKAGE_DIR / "templates"
    return str(packaged if packaged.is_dir() else PACKAGE_DIR.parent / "templates")


class Config(flask.Config):
    """The app's config, in which every declared setting holds its typed value.

    Setting one parses it (assetmap.settings), whoever sets it and whenever: create_app, or a
    test's `app.config["ASSETMAP_REFERRALS_PER_HOUR"] = "2"`. So the code never meets the text
    of an environment variable, and a bad value fails where it is set, naming the setting.
    """

    def __setitem__(self, key, value):
        if key in settings.SETTINGS_BY_NAME:
            value = settings.parse(key, value)
        super().__setitem__(key, value)

    def update(self, *args, **kwargs):
        for key, value in dict(*args, **kwargs).items():
            self[key] = value


class App(Flask):
    config_class = Config


def create_app(config: dict | None = None, *, pages: bool = True) -> Flask:
    """Build the app: settings, security, the blueprints and the CLI commands.

    `pages=False` is an app with the same settings and commands, without the site's pages and
    all they import (maps, forms, the API). A command that links to pages (`reminders send`)
    adds them with `add_pages`.

    Every setting is parsed here, once (assetmap.app_config): from the environment, then
    `config` (whose values may be text, as in the environment, or typed). A bad value stops
    the app with settings.SettingError, naming each setting that is wrong, its value and what
    it expects.

    The database is not touched here: `assetmap init` creates or migrates it, so that several
    gunicorn workers never race to migrate and `assetmap --help` writes nothing.
    """
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
    ):
        app.register_blueprint(blueprint)
    # Large imports run in a worker thread, started in each server process when it has a job
    # (not here: gunicorn forks after loading the app, and threads do not survive a fork).
    import_jobs.init_app(app)
