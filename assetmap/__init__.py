"""assetmap: a community asset map and social-prescribing directory.

`create_app(config=None)` builds the Flask app. Settings come from environment variables
(see assetmap.settings); `config` overrides them, which is how the tests point the app at a
temporary database.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from assetmap import settings

PACKAGE_DIR = Path(__file__).resolve().parent


def _templates_folder() -> str:
    """The top-level templates/ folder: inside the package in a wheel, beside it in a checkout."""
    packaged = PACKAGE_DIR / "templates"
    return str(packaged if packaged.is_dir() else PACKAGE_DIR.parent / "templates")


def create_app(config: dict | None = None) -> Flask:
    """Build the app: settings, security, the blueprints and the CLI commands.

    The database is not touched here: `assetmap init` creates or migrates it, so that several
    gunicorn workers never race to migrate and `assetmap --help` writes nothing.
    """
    app = Flask(__name__, template_folder=_templates_folder())
    app.config.from_mapping(settings.from_environment())
    if config:
        app.config.from_mapping(config)
    db_path = Path(app.config["ASSETMAP_DB"])
    if not app.config.get("SECRET_KEY"):
        if app.config["ASSETMAP_ENV"] == "production":
            raise RuntimeError("SECRET_KEY must be set when ASSETMAP_ENV is production")
        app.config["SECRET_KEY"] = settings.instance_secret_key(db_path.parent)
    app.config["ASSETMAP_BOUNDS_PARSED"] = settings.parse_bounds(app.config["ASSETMAP_BOUNDS"])
    app.config["ASSETMAP_CENTRE_PARSED"] = settings.parse_centre(app.config["ASSETMAP_MAP_CENTRE"])
    app.config["MAX_CONTENT_LENGTH"] = int(float(app.config["ASSETMAP_MAX_UPLOAD_MB"]) * 1024**2)
    # Read once, so a bad value stops the app at start, naming the setting.
    from assetmap.imports.limits import ImportLimits

    app.config["ASSETMAP_IMPORT_LIMITS"] = ImportLimits.from_settings(app.config)
    app.json.sort_keys = False

    from assetmap.web import (
        admin,
        api,
        auth,
        db,
        errors,
        guard,
        imports,
        join_requests,
        manage,
        plans,
        public,
        search,
        security,
    )

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
    ):
        app.register_blueprint(blueprint)

    from assetmap.cli import register

    register(app)
    return app
