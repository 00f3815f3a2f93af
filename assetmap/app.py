"""The Flask classes of the app that `assetmap.create_app` makes.

Apart from assetmap/__init__.py so that importing the package, as every `assetmap` command
does, imports no Flask (a sixth of a second, issue 19): create_app imports this module.
"""

from __future__ import annotations

import flask

from assetmap import settings


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


class App(flask.Flask):
    config_class = Config
